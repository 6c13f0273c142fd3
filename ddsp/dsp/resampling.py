"""Resampling along time: frame rate -> sample rate (frame-to-sample alignment).

Part of the implementation of `ddsp.core`, which re-exports every public name.

Frame-to-sample alignment (shared by every upsampling path): frame k of T
frames lands on sample `k * N / T` and the last frame is held for one hop
(`add_endpoint=True`), exactly as the TF1 legacy image resize used by ddsp
3.7.0. The alignment and interpolation kernels live once, in
`_resampling_taps`, and every resampler reads them from there.
"""

from typing import Any, Text, Tuple

import numpy as np
import tensorflow as tf

from ddsp import validation
from ddsp.dsp.utils import tf_float32


RESAMPLE_METHODS = ('nearest', 'linear', 'cubic', 'window')
_CUBIC_TABLE_SIZE = 1024
_CUBIC_A = -0.75


def _cubic_table_weights(frac: np.ndarray) -> np.ndarray:
  """Keys cubic weights (a = -0.75) for taps at offsets -1, 0, 1, 2.

  As in the legacy TF bicubic kernel, the fractional position is quantised to
  1/1024 (round half to even) before the kernel is evaluated.
  """
  a = _CUBIC_A
  t = np.rint(frac * _CUBIC_TABLE_SIZE) / _CUBIC_TABLE_SIZE
  near = lambda x: ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
  far = lambda x: ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
  return np.stack([far(1.0 + t), near(t), near(1.0 - t), far(2.0 - t)], -1)


def _interpolation_kernel(method: Text,
                          frac: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Tap offsets and per-position weights of an interpolation kernel.

  Args:
    method: One of 'nearest', 'linear', 'cubic', 'window'.
    frac: Fractional positions in [0, 1) between frame `floor(s)` and the next.

  Returns:
    offsets: [n_taps] int frame offsets relative to `floor(s)`.
    weights: [len(frac), n_taps] float32 weights.
  """
  frac = np.asarray(frac, np.float64)
  if method == 'nearest':
    return np.array([0]), np.ones([len(frac), 1], np.float32)
  if method == 'linear':
    weights = np.stack([1.0 - frac, frac], -1)
    return np.array([0, 1]), weights.astype(np.float32)
  if method == 'window':
    # Periodic Hann crossfade over one hop: `0.5 +- 0.5 cos(pi * frac)`.
    fade_in = 0.5 - 0.5 * np.cos(np.pi * frac)
    weights = np.stack([1.0 - fade_in, fade_in], -1)
    return np.array([0, 1]), weights.astype(np.float32)
  if method == 'cubic':
    return np.array([-1, 0, 1, 2]), _cubic_table_weights(frac).astype(
        np.float32)
  raise validation.invalid('method', f'one of {RESAMPLE_METHODS}', method)


def _resampling_taps(n_in: int, n_out: int, method: Text,
                     add_endpoint: bool) -> Tuple[np.ndarray, np.ndarray]:
  """Which input frames (and weights) make each output sample.

  This is the single home of the frame-to-sample alignment. Source position of
  output index t (TF1 legacy resize, `half_pixel_centers=False`, float32):
  `s = t * n_in / n_out` with `add_endpoint=True` (frame k lands on sample
  `k * n_out / n_in`, the last frame is held), else `s = t * (n_in - 1) /
  (n_out - 1)` (first and last frames land on the first and last samples).
  'window' uses exact integer hops (`upsample_with_windows` checks them).

  Returns:
    indices: [n_out, n_taps] int32 input indices, clamped to [0, n_in - 1].
    weights: [n_out, n_taps] float32 interpolation weights.
  """
  t = np.arange(n_out)
  if method == 'window':
    hop = n_out // (n_in if add_endpoint else n_in - 1)
    base, frac = t // hop, (t % hop) / hop
  else:
    align_corners = not add_endpoint
    if align_corners and n_out > 1:
      scale = np.float32(n_in - 1) / np.float32(n_out - 1)
    else:
      scale = np.float32(n_in) / np.float32(n_out)
    positions = t.astype(np.float32) * scale
    if method == 'nearest' and align_corners:
      base = np.floor(positions + np.float32(0.5))  # Round half away from 0.
    else:
      base = np.floor(positions)
    frac = (positions - base).astype(np.float64)
    base = base.astype(np.int64)
  offsets, weights = _interpolation_kernel(method, frac)
  indices = np.clip(base[:, None] + offsets[None, :], 0, n_in - 1)
  return indices.astype(np.int32), weights


def _interpolate_time(x: tf.Tensor, indices: np.ndarray,
                      weights: np.ndarray) -> tf.Tensor:
  """Applies resampling taps along axis 1 of x [B, T, C] -> [B, N, C].

  Two-tap kernels use the lerp form `x0 + (x1 - x0) w1` of the legacy TF
  kernel, which reproduces constant signals exactly.
  """
  taps = [tf.gather(x, indices[:, i], axis=1) for i in range(indices.shape[1])]
  if len(taps) == 1:
    return taps[0]
  if len(taps) == 2:
    return taps[0] + (taps[1] - taps[0]) * weights[None, :, 1, None]
  return tf.add_n([tap * weights[None, :, i, None]
                   for i, tap in enumerate(taps)])


def _to_3d(x: tf.Tensor) -> Tuple[tf.Tensor, Any]:
  """Reshapes a [T], [B, T], [B, T, C] or [B, T, F, C] tensor to [B, T, C].

  Returns the 3-D tensor and a function that restores the original rank for a
  tensor with a new time length.
  """
  rank = len(x.shape)
  if rank == 1:
    return x[tf.newaxis, :, tf.newaxis], lambda y: y[0, :, 0]
  if rank == 2:
    return x[:, :, tf.newaxis], lambda y: y[:, :, 0]
  if rank == 3:
    return x, lambda y: y
  if rank == 4:
    shape = tf.shape(x)
    static = x.shape.as_list()
    x3 = tf.reshape(x, [shape[0], shape[1], shape[2] * shape[3]])

    def restore(y):
      y = tf.reshape(y, [shape[0], tf.shape(y)[1], shape[2], shape[3]])
      y.set_shape([static[0], None, static[2], static[3]])
      return y

    return x3, restore
  raise ValueError(f'Expected inputs of rank 1 [n_frames], 2 [batch, n_frames],'
                   f' 3 [batch, n_frames, channels] or 4 [batch, n_frames, '
                   f'freq, channels]; received shape {x.shape}.')


def _n_frames(x: tf.Tensor) -> int:
  """Static length of the time axis (axis 1) of a [B, T, ...] tensor."""
  n_frames = x.shape[1]
  if n_frames is None:
    raise ValueError('Resampling needs a static number of frames (axis 1); '
                     f'received shape {x.shape}.')
  return int(n_frames)


def resample(inputs,
             n_timesteps: int,
             method: Text = 'linear',
             add_endpoint: bool = True) -> tf.Tensor:
  """Interpolates a signal along its time axis (axis 0 of 1-D, else axis 1).

  Args:
    inputs: [n_frames], [batch, n_frames], [batch, n_frames, channels] or
      [batch, n_frames, freq, channels].
    n_timesteps: Output length of the time axis.
    method: 'nearest', 'linear', 'cubic' (Keys, a = -0.75) or 'window'
      (periodic-Hann crossfade; integer upsampling of 1-D to 3-D inputs only).
    add_endpoint: If True, frame k lands on output index `k * n_timesteps /
      n_frames` and the last frame is held for one hop. If False, the first
      and last frames land on the first and last output samples.

  Returns:
    Interpolated tensor with the same rank, time axis of length n_timesteps.
  """
  validation.one_of(method, 'method', RESAMPLE_METHODS)
  inputs = tf_float32(inputs)
  if method == 'window' and len(inputs.shape) == 4:
    raise ValueError('Resample method "window" supports inputs of rank 1 to 3; '
                     f'received shape {inputs.shape}.')
  x, restore = _to_3d(inputs)
  if method == 'window':
    return restore(upsample_with_windows(x, n_timesteps, add_endpoint))
  indices, weights = _resampling_taps(_n_frames(x), int(n_timesteps), method,
                                      add_endpoint)
  return restore(_interpolate_time(x, indices, weights))


def _check_window_upsampling(n_frames: int, n_timesteps: int,
                             add_endpoint: bool) -> int:
  """Validates an upsampling by overlapping windows; returns the hop size."""
  n_intervals = n_frames if add_endpoint else n_frames - 1
  if n_intervals + 1 >= n_timesteps:
    raise ValueError(f'Upsampling by windows only upsamples: received '
                     f'{n_frames} frames for n_timesteps={n_timesteps}.')
  if n_intervals < 1 or n_timesteps % n_intervals != 0:
    raise ValueError(
        f'Upsampling by windows needs n_timesteps ({n_timesteps}) to be a '
        f'multiple of the number of frame intervals ({n_intervals} for '
        f'{n_frames} frames with add_endpoint={add_endpoint}).')
  return n_timesteps // n_intervals


def upsample_with_windows(inputs, n_timesteps: int,
                          add_endpoint: bool = True) -> tf.Tensor:
  """Upsamples [B, T, C] by crossfading frames with overlapping Hann windows.

  Frame k is centred on sample `k * hop`; between frames k and k+1 the value
  crossfades as `x_k (0.5 + 0.5 cos(pi m / hop)) + x_k+1 (0.5 - 0.5 cos(pi m /
  hop))` for m in [0, hop). Alignment matches `resample(..., 'linear')`.

  Args:
    inputs: [batch, n_frames, channels].
    n_timesteps: Output length; a multiple of the number of frame intervals.
    add_endpoint: Hold the last frame for one hop (True), or end on it.

  Returns:
    [batch, n_timesteps, channels].
  """
  inputs = tf_float32(inputs)
  if len(inputs.shape) != 3:
    raise ValueError('Upsample_with_windows() only supports 3 dimensions '
                     f'[batch, n_frames, channels]; received shape '
                     f'{inputs.shape}.')
  n_frames = _n_frames(inputs)
  _check_window_upsampling(n_frames, int(n_timesteps), add_endpoint)
  indices, weights = _resampling_taps(n_frames, int(n_timesteps), 'window',
                                      add_endpoint)
  return _interpolate_time(inputs, indices, weights)


def control_envelopes(frequencies, amplitudes, n_samples: int,
                      amp_resample_method: Text = 'window'
                      ) -> Tuple[tf.Tensor, tf.Tensor]:
  """Upsamples frame-rate oscillator controls to sample-rate envelopes.

  The one "resample, then oscillate" step of every oscillator: frequencies
  are interpolated linearly (a linear phase ramp), amplitudes with
  `amp_resample_method`, both with the shared alignment of `resample`.

  Args:
    frequencies: [B, T, K] frequencies in Hz.
    amplitudes: [B, T, K'] amplitudes.
    n_samples: Output length in samples.
    amp_resample_method: 'window', 'linear', 'cubic' or 'nearest'.

  Returns:
    (frequency_envelopes [B, n_samples, K], amplitude_envelopes
    [B, n_samples, K']).
  """
  return (resample(frequencies, n_samples),
          resample(amplitudes, n_samples, method=amp_resample_method))


def center_crop(audio, frame_size: int) -> tf.Tensor:
  """Removes `frame_size // 2` samples from both ends of [B, N] audio."""
  pad_amount = int(frame_size // 2)
  return audio[:, pad_amount:-pad_amount]
