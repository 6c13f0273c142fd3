"""Training library for ddsp: data providers and dataset statistics."""

# Gin files start with `import ddsp.training`; since `import ddsp` is lazy,
# importing the ddsp 3.7.0 top-level modules here registers their gin
# configurables (synths.Harmonic, core.exp_sigmoid, ...) as 3.7.0 did.
from ddsp import core, dags, effects, losses, processors, spectral_ops, synths  # noqa: F401,I001
from ddsp.training import data
from ddsp.training import postprocessing
