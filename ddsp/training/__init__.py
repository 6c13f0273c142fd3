"""Training library for ddsp: data providers and dataset statistics."""

# Gin files start with `import ddsp.training`; since `import ddsp` is lazy,
# importing the ddsp 3.7.0 top-level modules here registers their gin
# configurables (synths.Harmonic, core.exp_sigmoid, ...) as 3.7.0 did.
from ddsp import core
from ddsp import dags
from ddsp import effects
from ddsp import losses
from ddsp import processors
from ddsp import spectral_ops
from ddsp import synths
from ddsp.training import data
from ddsp.training import postprocessing
