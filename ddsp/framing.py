"""Framing arithmetic: hops, frame counts and padding (no TensorFlow).

The one home of the framing conventions of ddsp 3.7.0, shared by
`spectral_ops` (loudness, power, STFT padding), `crepe` (pitch frames), the
data pipeline and `TFRecordProvider`:

- hop: `hop_size(sample_rate, frame_rate) = sample_rate // frame_rate`
  samples. When `frame_rate` does not divide `sample_rate` the hop is rounded
  down and frame k sits at `k * hop` samples, not at `k / frame_rate`
  seconds (e.g. 300 Hz at 16 kHz: hop 53, so 4 s give 1208 frames, not
  1200). `exact_hop_size` rejects such rates for code that must align frames
  with time (datasets).
- padding: 'valid' (none), 'same' (zeros at the end so that there are
  `ceil(N / hop)` frames) or 'center' (`frame_size // 2` zeros on both
  sides, frame k centred on sample `k * hop`).
- frames: `floor((padded_length - frame_size) / hop) + 1`.
"""

import math
from typing import Tuple

from ddsp import validation

PADDINGS = ('valid', 'same', 'center')


def hop_size(sample_rate: float, frame_rate: float) -> int:
  """Samples between frames, `sample_rate // frame_rate` (as ddsp 3.7.0).

  Args:
    sample_rate: Samples per second (Hz).
    frame_rate: Frames per second (Hz).

  Returns:
    The hop in whole samples (rounded down).

  Raises:
    ParameterError: if a rate is not positive, or the frame rate exceeds the
      sample rate (a hop below one sample).
  """
  validation.positive_number(sample_rate, 'sample_rate')
  validation.positive_number(frame_rate, 'frame_rate')
  hop = int(sample_rate // frame_rate)
  if hop < 1:
    raise validation.invalid(
        'frame_rate', f'at most the sample rate ({sample_rate:g} Hz)',
        frame_rate)
  return hop


def exact_hop_size(sample_rate: float, frame_rate: float) -> int:
  """Samples between frames when `frame_rate` divides `sample_rate` exactly.

  Raises:
    ParameterError: naming `frame_rate`, when the hop is not a whole number
      of samples (features would drift from the time axis by up to a hop
      per second).
  """
  hop = hop_size(sample_rate, frame_rate)
  if hop * frame_rate != sample_rate:
    divisors = [r for r in (1000, 500, 250, 200, 125, 100, 50)
                if sample_rate % r == 0]
    raise validation.ParameterError(
        f'Received an invalid value for `frame_rate`: {frame_rate:g} frames '
        f'per second is a hop of {sample_rate / frame_rate:.3f} samples at '
        f'{sample_rate:g} Hz, not a whole number, so frames would not line '
        f'up with time. Choose a frame_rate that divides {sample_rate:g} '
        f'(e.g. {", ".join(map(str, divisors[:4]))}). Received: '
        f'frame_rate={frame_rate!r}')
  return hop


def get_framed_lengths(input_length: int, frame_size: int, hop_size: float,
                       padding: str = 'center') -> Tuple[int, int]:
  """Number of frames and padded length for framing a signal.

  Args:
    input_length: Samples in the signal.
    frame_size: Samples per frame.
    hop_size: Samples between frame starts (may be a float, as in ddsp
      3.7.0's `TFRecordProvider`).
    padding: 'valid' (no padding), 'same' (pad the end so there are
      `ceil(N / hop)` frames) or 'center' (pad `frame_size // 2` both sides;
      the padded length counts `frame_size`, as in ddsp 3.7.0).

  Returns:
    (n_frames, padded_length).

  Raises:
    ParameterError: for an unknown padding or non-positive sizes.
  """
  validation.one_of(padding, 'padding', PADDINGS)
  validation.positive_int(frame_size, 'frame_size')
  validation.positive_number(hop_size, 'hop_size')

  def frames_in(length):
    return int(math.floor((length - frame_size) / hop_size)) + 1

  if padding == 'valid':
    return frames_in(input_length), input_length
  if padding == 'center':
    padded_length = input_length + frame_size
    return frames_in(padded_length), padded_length
  n_frames = int(math.ceil(input_length / hop_size))
  return n_frames, int((n_frames - 1) * hop_size + frame_size)


def padding_amounts(input_length: int, frame_size: int, hop_size: int,
                    padding: str = 'center') -> Tuple[int, int]:
  """Zeros to add (before, after) a signal before framing it.

  Args:
    input_length: Samples in the signal.
    frame_size: Samples per frame.
    hop_size: Samples between frames (at most frame_size).
    padding: 'valid', 'same' or 'center' (see `get_framed_lengths`).

  Returns:
    (n_before, n_after) samples.

  Raises:
    ParameterError: for an unknown padding, non-positive sizes, or a hop
      larger than the frame (samples would be skipped).
  """
  validation.one_of(padding, 'padding', PADDINGS)
  validation.positive_int(frame_size, 'frame_size')
  if padding == 'valid':
    return 0, 0
  if hop_size > frame_size:
    raise validation.ParameterError(
        f'hop_size ({hop_size}) must not exceed frame_size ({frame_size}); '
        'samples between frames would be skipped.')
  if padding == 'center':
    return frame_size // 2, frame_size // 2
  _, padded_length = get_framed_lengths(input_length, frame_size, hop_size,
                                        padding)
  return 0, padded_length - input_length
