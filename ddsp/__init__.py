"""Differentiable Digital Signal Processing: DSP building blocks as Keras layers.

Submodules are imported on first use (PEP 562), so `import ddsp` and the
TensorFlow-free modules (`ddsp.audio_io`, `ddsp.validation`, `ddsp.framing`,
`ddsp.file_io`, `ddsp.dataset_schema`, `ddsp.version`) load without
TensorFlow, e.g. in the on-device runtime. `ddsp.synths`, `from ddsp import
core` and the other ddsp 3.7.0 spellings work as before.

Gin: a configurable is registered when its module is imported. Gin files
start with `import ddsp.training`, which imports every layer, loss and
function; code that parses gin bindings itself should import the modules it
binds (e.g. `import ddsp.synths`) or `ddsp.training` first.
"""
import importlib as _importlib

from ddsp.version import __version__

# The submodules that `import ddsp` exposed eagerly in ddsp 3.7.0, and the
# other top-level modules, all loaded on first attribute access.
# `from ddsp import *` gives the modules that 3.7.0's `import ddsp` loaded.
__all__ = ['core', 'dags', 'effects', 'losses', 'processors', 'spectral_ops',
           'synths']
_SUBMODULES = ('audio_io', 'core', 'crepe', 'dags', 'data_pipeline',
               'dataset_schema', 'dsp', 'effects', 'export', 'file_io',
               'framing', 'losses', 'processors', 'registration',
               'spectral_ops', 'synths', 'test_util', 'training',
               'validation')


def __getattr__(name):
  if name in _SUBMODULES:
    return _importlib.import_module(f'{__name__}.{name}')
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
  return sorted(set(globals()) | set(_SUBMODULES))
