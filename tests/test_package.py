"""Tests of the package itself: lazy, TensorFlow-free imports and no shadowing."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO_DIR = pathlib.Path(__file__).resolve().parents[1]
LIGHT_MODULES = ('ddsp', 'ddsp.audio_io', 'ddsp.validation', 'ddsp.framing',
                 'ddsp.file_io', 'ddsp.dataset_schema', 'ddsp.version')


def _python(code: str, cwd=None) -> str:
  """Runs `code` in a fresh interpreter; returns its stdout."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  env.pop('PYTHONPATH', None)
  result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120, check=False, cwd=cwd,
                          env=env)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout


def test_light_modules_do_not_import_tensorflow():
  out = _python(
      f'import sys\n'
      f'for name in {LIGHT_MODULES!r}:\n'
      f'  __import__(name)\n'
      f'heavy = sorted(m for m in ("tensorflow", "keras", "apache_beam")\n'
      f'               if m in sys.modules)\n'
      f'print(heavy)')
  assert out.strip() == '[]'


def test_submodules_load_on_attribute_access_and_from_import():
  out = _python(
      'import sys, ddsp\n'
      'assert "ddsp.synths" not in sys.modules\n'
      'harmonic = ddsp.synths.Harmonic\n'
      'from ddsp import effects, core\n'
      'assert {"synths", "core", "losses", "spectral_ops"} <= set(dir(ddsp))\n'
      'print(harmonic.__name__, effects.Reverb.__name__, ddsp.__version__)')
  assert out.split() == ['Harmonic', 'Reverb', '3.7.0']


def test_unknown_attribute_is_an_attribute_error():
  out = _python('import ddsp\n'
                'try:\n'
                '  ddsp.not_a_module\n'
                'except AttributeError as e:\n'
                '  print(e)')
  assert "has no attribute 'not_a_module'" in out


def test_import_ddsp_training_registers_every_gin_name():
  out = _python(
      'import gin, ddsp.training\n'
      'gin.parse_config("""\n'
      'synths.Harmonic.n_samples = 100\n'
      'effects.Reverb.reverb_length = 10\n'
      'core.oscillator_bank.use_angular_cumsum = True\n'
      'spectral_ops.compute_loudness.n_fft = 1024\n'
      'losses.SpectralLoss.fft_sizes = (64,)\n'
      'processors.ProcessorGroup.dag = []\n'
      'exp_sigmoid.max_value = 2.0\n'
      '""")\n'
      'print("ok")')
  assert out.strip() == 'ok'


def test_a_checkout_named_ddsp_in_the_working_directory_does_not_shadow(
    tmp_path):
  # From the parent folder of a checkout called `ddsp`, that folder (no
  # __init__.py) must not be imported as an empty namespace package.
  (tmp_path / 'ddsp').symlink_to(REPO_DIR, target_is_directory=True)
  out = _python('import ddsp, ddsp.core, ddsp.data_pipeline\n'
                'print(ddsp.__file__)', cwd=tmp_path)
  assert out.strip().endswith(os.path.join('ddsp', '__init__.py'))


@pytest.mark.parametrize('cwd', [REPO_DIR, REPO_DIR.parent])
def test_repository_folders_do_not_shadow_dependencies(cwd):
  # gin/ holds configs; it must never be imported instead of gin-config.
  out = _python('import gin\nprint(callable(gin.parse_config))', cwd=cwd)
  assert out.strip() == 'True'
