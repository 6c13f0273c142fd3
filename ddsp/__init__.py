"""Differentiable Digital Signal Processing: DSP building blocks as Keras layers."""
from ddsp import core
from ddsp import dags
from ddsp import effects
from ddsp import losses
from ddsp import processors
from ddsp import spectral_ops
from ddsp import synths
from ddsp.version import __version__
