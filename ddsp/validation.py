"""Argument and audio validation: one gate, one error type (no TensorFlow).

Every entry point of the library (constructors of processors and losses,
spectral features, the data pipeline, audio loading) checks its arguments
here first, so bad input fails at once, in the caller's terms, with one error
type (`ParameterError`, a `ValueError`) and a message that says what was
received and what was expected, e.g.

  Received an invalid value for `n_samples`, expected a positive integer.
  Received: n_samples=-5

Only numpy is used, so TensorFlow-free code (audio loading, the data
pipeline's checks, the on-device runtime) can validate too.
"""

import math
import numbers
from typing import Any, Iterable, Sequence

import numpy as np

# A 2-D array with at most this many columns, and more rows than columns, is
# taken for [n_samples, n_channels] file audio rather than [batch, n_samples].
MAX_CHANNELS = 16


class ParameterError(ValueError):
  """An argument of a ddsp function or constructor is not usable."""


def invalid(name: str, expected: str, value: Any) -> ParameterError:
  """The error for an argument `name` that is not `expected`."""
  return ParameterError(f'Received an invalid value for `{name}`, expected '
                        f'{expected}. Received: {name}={value!r}')


def _is_integer(value: Any) -> bool:
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
  return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(value: Any, name: str) -> int:
  """Checks that `value` is an integer (of any sign); returns it as an int."""
  if not _is_integer(value):
    raise invalid(name, 'an integer', value)
  return int(value)


def positive_int(value: Any, name: str) -> int:
  """Checks that `value` is an integer > 0; returns it as an int."""
  if not _is_integer(value) or value <= 0:
    raise invalid(name, 'a positive integer', value)
  return int(value)


def non_negative_int(value: Any, name: str) -> int:
  """Checks that `value` is an integer >= 0; returns it as an int."""
  if not _is_integer(value) or value < 0:
    raise invalid(name, 'a non-negative integer', value)
  return int(value)


def positive_number(value: Any, name: str) -> float:
  """Checks that `value` is a finite real number > 0."""
  if not _is_real(value) or not math.isfinite(value) or value <= 0:
    raise invalid(name, 'a positive number', value)
  return value


def non_negative_number(value: Any, name: str) -> float:
  """Checks that `value` is a finite real number >= 0."""
  if not _is_real(value) or not math.isfinite(value) or value < 0:
    raise invalid(name, 'a non-negative number', value)
  return value


def number_in_range(value: Any, name: str, low: float, high: float,
                    high_inclusive: bool = False) -> float:
  """Checks that `low <= value < high` (or `<= high`)."""
  if (not _is_real(value) or not math.isfinite(value) or value < low or
      (value > high if high_inclusive else value >= high)):
    bracket = ']' if high_inclusive else ')'
    raise invalid(name, f'a number in [{low:g}, {high:g}{bracket}', value)
  return value


def one_of(value: Any, name: str, options: Iterable[Any]) -> Any:
  """Checks that `value` is one of `options`."""
  options = tuple(options)
  if value not in options:
    raise invalid(name, f'one of {options}', value)
  return value


def optional_callable(value: Any, name: str) -> Any:
  """Checks that `value` is a function (e.g. a scaling function) or None."""
  if value is not None and not callable(value):
    raise invalid(name, 'a function or None', value)
  return value


def audio_shape(shape: Sequence[Any],
                name: str = 'audio',
                ndims: Sequence[int] = (1, 2),
                layout: str = 'batch',
                min_samples: int = 1) -> None:
  """Checks the shape of audio samples (see `valid_audio`).

  Unknown dimensions (None, as in a traced TensorFlow graph) pass.

  Raises:
    ParameterError: if the rank is not one of `ndims`, a 'batch' array looks
      like [n_samples, n_channels], a 3-D array has more than one channel,
      or there are fewer than `min_samples` samples.
  """
  shape = tuple(shape)
  known = all(d is not None for d in shape)
  if len(shape) not in ndims:
    layouts = {1: '[n_samples] mono audio',
               2: ('[batch, n_samples]' if layout == 'batch' else
                   '[n_samples, n_channels]'),
               3: '[batch, n_samples, 1]'}
    expected = ' or '.join(layouts.get(n, f'{n}-D') for n in ndims)
    raise ParameterError(f'`{name}` has shape {list(shape)}; expected '
                         f'{expected}.')
  if (layout == 'batch' and len(shape) == 2 and known and
      shape[1] <= MAX_CHANNELS and shape[0] > shape[1]):
    raise ParameterError(
        f'`{name}` has shape {list(shape)}, which looks like [n_samples, '
        f'n_channels] multi-channel audio; expected [batch, n_samples] or '
        f'[n_samples] mono audio. Downmix first (e.g. `audio.mean(axis=1)`).')
  if len(shape) == 3 and layout == 'batch' and shape[2] not in (1, None):
    raise ParameterError(f'`{name}` has shape {list(shape)}; expected '
                         '[batch, n_samples, 1].')
  time_axis = 0 if (len(shape) == 1 or layout == 'channels') else 1
  n_samples = shape[time_axis] if shape else 0
  empty = known and 0 in shape
  if empty or (n_samples is not None and n_samples < min_samples):
    raise ParameterError(f'`{name}` holds {n_samples} samples (shape '
                         f'{list(shape)}); expected at least {min_samples}.')


def valid_audio(audio: Any,
                name: str = 'audio',
                ndims: Sequence[int] = (1, 2),
                layout: str = 'batch',
                min_samples: int = 1) -> np.ndarray:
  """Checks that an array holds usable audio; returns it as float32.

  Args:
    audio: Array-like samples (numpy, lists, eager tensors).
    name: How to call the array in error messages.
    ndims: Allowed numbers of dimensions.
    layout: How 2-D arrays are laid out: 'batch' ([batch, n_samples], the
      layout of every spectral function; arrays that look like
      [n_samples, n_channels] are rejected) or 'channels' ([n_samples,
      n_channels], the layout of audio files).
    min_samples: Fewest samples (along the time axis) accepted.

  Returns:
    The samples as a float32 array (no copy if they already are).

  Raises:
    ParameterError: if the shape is wrong (`audio_shape`), the values are
      not real numbers, or some are NaN or infinite.
  """
  audio = np.asarray(audio)
  audio_shape(audio.shape, name, ndims, layout, min_samples)
  if not (np.issubdtype(audio.dtype, np.floating) or
          np.issubdtype(audio.dtype, np.integer)):
    raise ParameterError(f'`{name}` has dtype {audio.dtype}; expected real '
                         'numbers.')
  audio = audio.astype(np.float32, copy=False)
  if not np.isfinite(audio).all():
    raise non_finite_audio(name, int(audio.size - np.isfinite(audio).sum()))
  return audio


def non_finite_audio(name: str, n_bad: int) -> ParameterError:
  """The error for audio holding NaN or infinite samples."""
  return ParameterError(f'`{name}` contains {n_bad} NaN or infinite '
                        'samples; expected finite audio.')


def whole_count(seconds: float, rate: float, name: str, rate_name: str,
                tolerance: float = 1e-6) -> int:
  """`seconds * rate` as an int; raises unless it is a whole number.

  Args:
    seconds: A duration, e.g. `example_secs`.
    rate: Samples or frames per second.
    name: Name of the duration argument.
    rate_name: Name of the rate (e.g. 'frame_rate=250').
    tolerance: Allowed distance from a whole number.
  """
  count = seconds * rate
  if abs(count - round(count)) > tolerance:
    raise ParameterError(
        f'{name}={seconds:g} s is {count:g} samples or frames at {rate_name}, '
        f'not a whole number; choose {name} as a multiple of 1/{rate:g} s.')
  return int(round(count))

