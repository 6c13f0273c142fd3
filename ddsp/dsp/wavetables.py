"""Wavetable lookup and synthesis, and variable-length delays.

Part of the implementation of `ddsp.core`, which re-exports every public name.
"""

from typing import Optional

import numpy as np
import tensorflow as tf

from ddsp.dsp.filters import _irfft_of_real
from ddsp.dsp.oscillators import _wrapped_cumsum
from ddsp.dsp.resampling import _n_frames
from ddsp.dsp.resampling import _resampling_taps
from ddsp.dsp.resampling import control_envelopes
from ddsp.dsp.utils import pad_axis
from ddsp.dsp.utils import tf_float32


def _linear_taps(position: tf.Tensor, size: int):
  """Neighbouring integer points of `position` on a grid 0..size.

  Weights are `relu(1 - |position - i|)` for the two neighbours, and points
  outside [0, size] get weight 0 (so positions off the grid fade out rather
  than wrap, as with a dense triangular-kernel lookup).

  Returns:
    (lower, upper) int32 indices clipped to [0, size] and their weights.
  """
  lower = tf.floor(position)
  upper = lower + 1.0
  taps = []
  for point in (lower, upper):
    weight = tf.nn.relu(1.0 - tf.abs(position - point))
    weight *= tf.cast((point >= 0.0) & (point <= size), tf.float32)
    taps.append((tf.cast(tf.clip_by_value(point, 0.0, size), tf.int32), weight))
  return taps


def _lookup_rows(phase: tf.Tensor, tables: tf.Tensor,
                 rows: Optional[np.ndarray]) -> tf.Tensor:
  """Linear-interpolation lookup of phase [B, N] in table rows.

  Args:
    phase: [B, N] phase in cycles; table sample j sits at phase j / W and
      phase 1 wraps to sample 0.
    tables: [B, W] one table, or [B, R, W] several.
    rows: [N] row of `tables` read by each sample, or None for one table.

  Returns:
    [B, N] values.
  """
  n_wavetable = int(tables.shape[-1])
  tables = tf.concat([tables, tables[..., 0:1]], axis=-1)
  if rows is None:
    flat_tables, row_starts = tables, 0
  else:
    flat_tables = tf.reshape(tables, [tf.shape(tables)[0], -1])
    row_starts = tf.constant(rows * (n_wavetable + 1), tf.int32)
  output = 0.0
  for index, weight in _linear_taps(phase * n_wavetable, n_wavetable):
    output += tf.gather(flat_tables, row_starts + index, batch_dims=1) * weight
  return output


def linear_lookup(phase, wavetables) -> tf.Tensor:
  """Reads wavetables at `phase` (cycles in [0, 1]) with linear interpolation.

  Table sample j sits at phase j / W, and phase 1 wraps to table sample 0.
  Phases outside [0, 1] fade towards zero rather than wrap.

  Args:
    phase: [B, N] or [B, N, 1] phase in cycles.
    wavetables: [B, W] (or [B, 1, W]) static tables, or [B, N, W] one per
      sample.

  Returns:
    [B, N] looked-up values.
  """
  phase = tf_float32(phase)
  wavetables = tf_float32(wavetables)
  if len(phase.shape) == 3:
    phase = phase[:, :, 0]
  if len(wavetables.shape) == 3 and wavetables.shape[1] == 1:
    wavetables = wavetables[:, 0]
  rows = None
  if len(wavetables.shape) == 3:
    rows = np.arange(_n_frames(wavetables))
  return _lookup_rows(phase, wavetables, rows)


def harmonic_distribution_to_wavetable(harmonic_distribution,
                                       n_wavetable: int = 2048) -> tf.Tensor:
  """Cosine-phase wavetables [B, T, n_wavetable] from [B, T, H] harmonic weights.

  `table[n] = sum_k d_k cos(2 pi k n / n_wavetable)` for k = 1..H.
  """
  harmonic_distribution = tf_float32(harmonic_distribution)
  n_harmonics = int(harmonic_distribution.shape[-1])
  n_pad = int(n_wavetable / 2 - n_harmonics)
  spectrum = tf.concat([tf.zeros_like(harmonic_distribution[..., :1]),
                        harmonic_distribution], axis=-1)
  spectrum = pad_axis(spectrum, (0, n_pad), axis=-1)
  return _irfft_of_real(spectrum) * (n_wavetable / 2)


def wavetable_synthesis(frequencies,
                        amplitudes,
                        wavetables,
                        n_samples: int = 64000,
                        sample_rate: int = 16000) -> tf.Tensor:
  """Wavetable oscillator with frame-rate (or static) tables.

  Phase (cycles) is the exclusive cumulative sum of `f / sample_rate`, so the
  first sample reads phase 0. Time-varying tables are interpolated linearly
  between frames like every other control, without building a [B, N, W]
  tensor.

  Args:
    frequencies: [B, T, 1] in Hz.
    amplitudes: [B, T, 1] (upsampled with 'window').
    wavetables: [B, W], [B, 1, W] or [B, T, W].
    n_samples: Output length.
    sample_rate: Audio sample rate in Hz.

  Returns:
    Audio [B, n_samples].
  """
  frequencies = tf_float32(frequencies)
  amplitudes = tf_float32(amplitudes)
  wavetables = tf_float32(wavetables)
  frequency_envelope, amplitude_envelope = control_envelopes(
      frequencies, amplitudes, n_samples, 'window')
  frequency_envelope = frequency_envelope[:, :, 0]
  amplitude_envelope = amplitude_envelope[:, :, 0]
  phase = _wrapped_cumsum(frequency_envelope, 1.0 / sample_rate, 1.0,
                          exclusive=True)
  if len(wavetables.shape) == 3 and wavetables.shape[1] > 1:
    # Lookup is linear in the table, so interpolating the looked-up values
    # equals looking up in interpolated tables.
    indices, weights = _resampling_taps(
        _n_frames(wavetables), n_samples, 'linear', add_endpoint=True)
    audio = tf.add_n([
        _lookup_rows(phase, wavetables, indices[:, i]) * weights[:, i]
        for i in range(indices.shape[1])])
  else:
    audio = linear_lookup(phase, wavetables)
  return audio * amplitude_envelope


def variable_length_delay(phase, audio, max_length: int = 512) -> tf.Tensor:
  """Delays audio by a time-varying `phase * max_length` samples.

  Delay d reads the sample d steps back (zeros before the start). As in ddsp
  3.7.0, phases in ((max_length - 1) / max_length, 1] interpolate towards zero
  delay: phase 1 is no delay.

  Args:
    phase: [B, N] or [B, N, 1] delay as a fraction of max_length, in [0, 1].
    audio: [B, N].
    max_length: Longest delay in samples.

  Returns:
    Delayed audio [B, N].
  """
  phase = tf_float32(phase)
  audio = tf_float32(audio)
  if len(phase.shape) == 3:
    phase = phase[:, :, 0]
  padded = pad_axis(audio, (max_length - 1, 0), axis=1)
  sample_index = tf.range(tf.shape(audio)[1])[tf.newaxis, :] + max_length - 1
  output = 0.0
  for delay, weight in _linear_taps(phase * max_length, max_length):
    delay = tf.where(delay == max_length, 0, delay)  # Table wraps to d = 0.
    value = tf.gather(padded, sample_index - delay, batch_dims=1)
    output += value * weight
  return output
