"""Training library for ddsp: data providers and dataset statistics."""

from ddsp.training import data
from ddsp.training import postprocessing
