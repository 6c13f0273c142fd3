"""ddsp 3.7.0's `ddsp.training.inference`: the inference and export model
classes, which live in `ddsp.export.inference` (names resolve there on
access, so the two modules can import each other's packages in any order)."""
from ddsp.export import inference as _inference


def __getattr__(name):
  return getattr(_inference, name)


def __dir__():
  return dir(_inference)
