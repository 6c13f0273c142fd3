"""Oscillator banks, phase accumulation and harmonic synthesis.

Part of the implementation of `ddsp.core`, which re-exports every public name.
Includes the fused block harmonic synthesiser (`_harmonic_sum_by_frames`)
and its memory-saving custom gradient.
"""

from typing import Text

import numpy as np
import tensorflow as tf

from ddsp.dsp.conversions import safe_divide
from ddsp.dsp.resampling import _check_window_upsampling
from ddsp.dsp.resampling import _interpolation_kernel
from ddsp.dsp.resampling import control_envelopes
from ddsp.dsp.resampling import resample
from ddsp.dsp.utils import pad_axis
from ddsp.dsp.utils import tf_float32
import gin


def remove_above_nyquist(frequency_envelopes, amplitude_envelopes,
                         sample_rate: int = 16000) -> tf.Tensor:
  """Zeroes amplitudes wherever the frequency is >= sample_rate / 2."""
  frequency_envelopes = tf_float32(frequency_envelopes)
  amplitude_envelopes = tf_float32(amplitude_envelopes)
  return tf.where(frequency_envelopes >= sample_rate / 2.0, 0.0,
                  amplitude_envelopes)


def get_harmonic_frequencies(frequencies, n_harmonics: int) -> tf.Tensor:
  """Integer multiples [B, T, n_harmonics] of fundamentals [B, T, 1]."""
  frequencies = tf_float32(frequencies)
  f_ratios = tf.linspace(1.0, float(n_harmonics), int(n_harmonics))
  return frequencies * f_ratios


def normalize_harmonics(harmonic_distribution, f0_hz=None,
                        sample_rate=None) -> tf.Tensor:
  """Zeroes harmonics >= Nyquist (if f0 and rate given), then sums to one.

  Args:
    harmonic_distribution: [B, T, n_harmonics].
    f0_hz: Fundamental [B, T, 1] in Hz, or None.
    sample_rate: Audio sample rate in Hz, or None.

  Returns:
    [B, T, n_harmonics] distribution summing to 1 per frame (0 if all zero).
  """
  harmonic_distribution = tf_float32(harmonic_distribution)
  if f0_hz is not None and sample_rate is not None:
    n_harmonics = int(harmonic_distribution.shape[-1])
    harmonic_frequencies = get_harmonic_frequencies(f0_hz, n_harmonics)
    harmonic_distribution = remove_above_nyquist(
        harmonic_frequencies, harmonic_distribution, sample_rate)
  total = tf.reduce_sum(harmonic_distribution, axis=-1, keepdims=True)
  return safe_divide(harmonic_distribution, total)


def _angular_frequency(frequency_envelopes, sample_rate) -> tf.Tensor:
  """Radians per sample, `2 pi f / sample_rate` (float32)."""
  return frequency_envelopes * (2.0 * np.pi) / float(sample_rate)


def _wrapped_cumsum(values: tf.Tensor, scale: float, period: float,
                    exclusive: bool = False) -> tf.Tensor:
  """`cumsum(values * scale) mod period` along axis 1, without drift.

  Products and the running sum are float64, so a 4 s tone keeps its phase to
  ~1e-6 rad; a float32 running sum drifts by several cents as its ulp grows.
  """
  increments = tf.cast(values, tf.float64) * scale
  total = tf.cumsum(increments, axis=1, exclusive=exclusive)
  return tf.cast(tf.math.floormod(total, period), tf.float32)


def _accumulate_phase(frequency_envelopes: tf.Tensor, sample_rate: int,
                      use_angular_cumsum: bool) -> tf.Tensor:
  """Inclusive phase accumulation (radians) of frequencies (Hz) along axis 1."""
  if use_angular_cumsum:
    return angular_cumsum(_angular_frequency(frequency_envelopes,
                                             sample_rate))
  return _wrapped_cumsum(frequency_envelopes, 2.0 * np.pi / sample_rate,
                         2.0 * np.pi)


@gin.configurable(module='ddsp.core')
def oscillator_bank(frequency_envelopes,
                    amplitude_envelopes,
                    sample_rate: int = 16000,
                    sum_sinusoids: bool = True,
                    use_angular_cumsum: bool = False) -> tf.Tensor:
  """Sums sinusoids with sample-rate frequency and amplitude envelopes.

  Phase is the inclusive cumulative sum of `2 pi f / sample_rate`, so the
  first sample is `sin(omega[0])`. Amplitudes at or above Nyquist are zeroed.

  Args:
    frequency_envelopes: [B, N, n_sinusoids] in Hz.
    amplitude_envelopes: [B, N, n_sinusoids] linear amplitudes.
    sample_rate: Audio sample rate in Hz.
    sum_sinusoids: Sum over sinusoids ([B, N]) or not ([B, N, n_sinusoids]).
    use_angular_cumsum: Accumulate phase chunk-wise modulo 2 pi
      (`angular_cumsum`) instead of a float64 running sum; equal values.

  Returns:
    Audio [B, N] or [B, N, n_sinusoids].
  """
  frequency_envelopes = tf_float32(frequency_envelopes)
  amplitude_envelopes = tf_float32(amplitude_envelopes)
  amplitude_envelopes = remove_above_nyquist(frequency_envelopes,
                                             amplitude_envelopes, sample_rate)
  phases = _accumulate_phase(frequency_envelopes, sample_rate,
                             use_angular_cumsum)
  audio = amplitude_envelopes * tf.sin(phases)
  return tf.reduce_sum(audio, axis=-1) if sum_sinusoids else audio


@gin.configurable(module='ddsp.core')
def angular_cumsum(angular_frequency, chunk_size: int = 1000) -> tf.Tensor:
  """Inclusive cumulative sum along axis 1, modulo 2 pi, computed chunk-wise.

  Equal to `cumsum(angular_frequency) mod 2 pi`, but float32 precision never
  degrades: sums run inside chunks of `chunk_size` samples and only the chunk
  offsets (each wrapped to [0, 2 pi)) are carried across chunks.

  Args:
    angular_frequency: [B, N, ...] radians per sample.
    chunk_size: Samples per chunk.

  Returns:
    Phase [B, N, ...] in [0, 2 pi).
  """
  angular_frequency = tf_float32(angular_frequency)
  two_pi = 2.0 * np.pi
  n_samples = tf.shape(angular_frequency)[1]
  pad = (-n_samples) % chunk_size
  rest_shape = tf.shape(angular_frequency)[2:]
  x = pad_axis(angular_frequency, (0, pad), axis=1)
  n_chunks = (n_samples + pad) // chunk_size
  x = tf.reshape(x, tf.concat([[tf.shape(x)[0], n_chunks, chunk_size],
                               rest_shape], 0))
  chunk_sums = tf.cumsum(x, axis=2)
  chunk_ends = tf.math.floormod(chunk_sums[:, :, -1:], two_pi)
  offsets = tf.math.floormod(tf.cumsum(chunk_ends, axis=1, exclusive=True),
                             two_pi)
  phase = tf.math.floormod(chunk_sums + offsets, two_pi)
  phase = tf.reshape(phase, tf.concat([[tf.shape(x)[0], n_samples + pad],
                                       rest_shape], 0))
  phase = phase[:, :n_samples]
  phase.set_shape(angular_frequency.shape)
  return phase


@gin.configurable(module='ddsp.core')
def harmonic_oscillator_bank(frequency,
                             amplitude_envelopes,
                             initial_phase=None,
                             sample_rate: int = 16000,
                             use_angular_cumsum: bool = True):
  """Harmonic synthesis from one fundamental phase, for streaming.

  No Nyquist masking here: callers mask harmonics at frame level.

  Args:
    frequency: Fundamental [B, N, 1] in Hz at the audio rate.
    amplitude_envelopes: [B, N, n_harmonics] amplitude of each harmonic.
    initial_phase: [B, 1, 1] phase (radians) before the first sample, or None.
    sample_rate: Audio sample rate in Hz.
    use_angular_cumsum: Accumulate with `angular_cumsum` (else float64 sum).

  Returns:
    audio: [B, N].
    final_phase: [B, 1, 1] phase of the last sample, for the next block:
      `initial_phase` plus the accumulated phase in [0, 2 pi) (not wrapped
      again). Either way of accumulating wraps; 3.7.0's plain cumsum
      (`use_angular_cumsum=False`) returned the unwrapped float32 sum, equal
      modulo 2 pi.
  """
  frequency = tf_float32(frequency)
  amplitude_envelopes = tf_float32(amplitude_envelopes)
  n_harmonics = int(amplitude_envelopes.shape[-1])
  phases = _accumulate_phase(frequency, sample_rate, use_angular_cumsum)
  if initial_phase is None:
    initial_phase = tf.zeros([tf.shape(frequency)[0], 1, 1])
  phases += tf_float32(initial_phase)
  final_phase = phases[:, -1:, 0:1]
  harmonic_numbers = tf.range(1, n_harmonics + 1, dtype=tf.float32)
  audio = amplitude_envelopes * tf.sin(phases * harmonic_numbers)
  return tf.reduce_sum(audio, axis=-1), final_phase


# Elements of one [batch, frames, hop, harmonics] block in the fused harmonic
# synthesiser: small enough to stay in cache, large enough to amortise ops.
_HARMONIC_BLOCK_ELEMENTS = 2**20


def _frame_blocks(n_frames: int, frame_elements: int) -> int:
  """How many frames make one cache-sized block of the fused synthesiser."""
  return int(np.clip(_HARMONIC_BLOCK_ELEMENTS // max(frame_elements, 1), 1,
                     n_frames))


def _harmonic_sum_by_frames(f0_env: tf.Tensor, frame_amplitudes: tf.Tensor,
                            method: Text, sample_rate: int) -> tf.Tensor:
  """`sum_k a_k[n] sin(k phi[n])` without materialising [B, N, K] envelopes.

  The sample-rate amplitude of harmonic k at sample `j * hop + m` is a fixed
  set of taps over frames `j + offset` (`_interpolation_kernel`), so each
  frame's hop of audio is `sin(k phi) @ [a_j+o1, a_j+o2, ...]` weighted per
  sample. Frames are processed in cache-sized blocks.

  Args:
    f0_env: [B, N] fundamental in Hz at the audio rate, N = T * hop.
    frame_amplitudes: [B, T, K] harmonic amplitudes at the frame rate.
    method: Amplitude interpolation method (see `resample`).
    sample_rate: Audio sample rate in Hz.

  Returns:
    Audio [B, N].
  """
  batch = tf.shape(f0_env)[0]
  n_frames, n_harmonics = frame_amplitudes.shape.as_list()[1:]
  n_samples = int(f0_env.shape[1])
  hop = n_samples // n_frames
  offsets, tap_weights = _interpolation_kernel(method, np.arange(hop) / hop)
  pad_front, pad_back = max(0, -offsets.min()), max(0, offsets.max())
  static_batch = f0_env.shape[0] or 16
  block = _frame_blocks(n_frames, static_batch * hop * n_harmonics)
  n_blocks = -(-n_frames // block)
  frames_padded = n_blocks * block

  phase = _accumulate_phase(f0_env, sample_rate, use_angular_cumsum=False)
  # Edge frames repeat, as index clamping does in `_resampling_taps`.
  amps = tf.concat(
      [tf.repeat(frame_amplitudes[:, :1], pad_front, axis=1), frame_amplitudes,
       tf.repeat(frame_amplitudes[:, -1:], pad_back + frames_padded - n_frames,
                 axis=1)], axis=1)
  phase = pad_axis(tf.reshape(phase, [batch, n_frames, hop]),
                   (0, frames_padded - n_frames), axis=1)
  f0_env = pad_axis(tf.reshape(f0_env, [batch, n_frames, hop]),
                    (0, frames_padded - n_frames), axis=1)
  blocks = _synthesize_blocks(phase, f0_env, amps, tf.constant(tap_weights),
                              tuple(int(s) for s in offsets + pad_front),
                              block, n_blocks, sample_rate / 2.0)
  audio = tf.reshape(tf.transpose(blocks, [1, 0, 2, 3]),
                     [batch, frames_padded * hop])
  return audio[:, :n_samples]


@tf.function(reduce_retracing=True, autograph=False)
def _synthesize_blocks(phase, f0_env, amps, tap_weights, tap_starts, block,
                       n_blocks, nyquist):
  """Blocks [n_blocks, B, block, hop] of `_harmonic_sum_by_frames`.

  A tf.function so that eager callers also run the block loop as a graph.
  The gradient recomputes each block's sines instead of storing them, so
  training memory stays O(block) rather than O(batch * samples * harmonics).

  Args:
    phase: [B, n_blocks * block, hop] fundamental phase (radians).
    f0_env: [B, n_blocks * block, hop] fundamental (Hz); only masks harmonics.
    amps: [B, frames + padding, K] edge-padded frame amplitudes.
    tap_weights: [hop, n_taps] interpolation weights per sample offset.
    tap_starts: Frame offset of each tap into `amps`.
    block: Frames per block.
    n_blocks: Number of blocks.
    nyquist: Harmonics at or above this frequency (Hz) are silent.
  """
  harmonic_numbers = tf.cast(tf.range(1, tf.shape(amps)[-1] + 1), tf.float32)

  def block_inputs(phase, f0_env, amps, i):
    """Harmonic phases, Nyquist mask [B, block, hop, K], taps [.., K, n_taps]."""
    start = i * block
    phi = phase[:, start:start + block, :, tf.newaxis] * harmonic_numbers
    below_nyquist = (f0_env[:, start:start + block, :, tf.newaxis] *
                     harmonic_numbers) < nyquist
    taps = tf.stack(
        [amps[:, start + s:start + s + block] for s in tap_starts], axis=-1)
    return phi, below_nyquist, taps

  def map_blocks(fn, signature):
    return tf.map_fn(fn, tf.range(n_blocks), fn_output_signature=signature,
                     parallel_iterations=2)

  @tf.custom_gradient
  def synthesize(phase, f0_env, amps):

    def forward_block(i):
      phi, below_nyquist, taps = block_inputs(phase, f0_env, amps, i)
      sines = tf.where(below_nyquist, tf.sin(phi), 0.0)
      return tf.reduce_sum(tf.matmul(sines, taps) * tap_weights, axis=-1)

    def gradient(d_blocks):

      def backward_block(i):
        phi, below_nyquist, taps = block_inputs(phase, f0_env, amps, i)
        d_taps_per_sample = d_blocks[i][..., tf.newaxis] * tap_weights
        sines = tf.where(below_nyquist, tf.sin(phi), 0.0)
        d_taps = tf.matmul(sines, d_taps_per_sample, transpose_a=True)
        slopes = tf.where(below_nyquist, tf.cos(phi) * harmonic_numbers, 0.0)
        d_phase = tf.reduce_sum(tf.matmul(slopes, taps) * d_taps_per_sample,
                                axis=-1)
        return d_phase, d_taps

      d_phase, d_taps = map_blocks(backward_block, (tf.float32, tf.float32))
      d_phase = tf.reshape(tf.transpose(d_phase, [1, 0, 2, 3]),
                           tf.shape(phase))
      d_taps = tf.transpose(d_taps, [1, 0, 2, 3, 4])  # [B, n, block, K, taps]
      d_taps = tf.reshape(d_taps, tf.concat(
          [tf.shape(phase)[:2], tf.shape(d_taps)[-2:]], 0))
      n_amps = tf.shape(amps)[1]
      d_amps = tf.add_n([
          pad_axis(d_taps[..., t], (s, n_amps - s - tf.shape(phase)[1]),
                   axis=1) for t, s in enumerate(tap_starts)])
      return d_phase, None, d_amps

    return map_blocks(forward_block, tf.float32), gradient

  return synthesize(phase, f0_env, amps)


def harmonic_synthesis(frequencies,
                       amplitudes,
                       harmonic_shifts=None,
                       harmonic_distribution=None,
                       n_samples: int = 64000,
                       sample_rate: int = 16000,
                       amp_resample_method: Text = 'window',
                       use_angular_cumsum: bool = False) -> tf.Tensor:
  """Synthesises audio from frame-rate harmonic controls.

  Frequencies are upsampled linearly and amplitudes with
  `amp_resample_method`; amplitudes of harmonics at or above Nyquist are
  zeroed sample by sample. Phase accumulates in float64 (no drift).

  Args:
    frequencies: Fundamental [B, T, 1] in Hz.
    amplitudes: Overall amplitude [B, T, 1].
    harmonic_shifts: Optional [B, T, K] relative detuning of each harmonic.
    harmonic_distribution: Optional [B, T, K] amplitude share of each harmonic.
    n_samples: Output length in samples.
    sample_rate: Audio sample rate in Hz.
    amp_resample_method: 'window', 'linear', 'cubic' or 'nearest'.
    use_angular_cumsum: Accumulate phase with `angular_cumsum` where the
      harmonics need separate phases (with `harmonic_shifts`, or when
      n_samples is not a multiple of the number of frames); the block
      synthesiser always accumulates one float64 phase, with equal values.

  Returns:
    Audio [B, n_samples].
  """
  frequencies = tf_float32(frequencies)
  amplitudes = tf_float32(amplitudes)
  if harmonic_distribution is not None:
    harmonic_distribution = tf_float32(harmonic_distribution)
    n_harmonics = int(harmonic_distribution.shape[-1])
  elif harmonic_shifts is not None:
    harmonic_shifts = tf_float32(harmonic_shifts)
    n_harmonics = int(harmonic_shifts.shape[-1])
  else:
    n_harmonics = 1
  if harmonic_distribution is not None:
    harmonic_amplitudes = amplitudes * harmonic_distribution
  else:
    harmonic_amplitudes = amplitudes * tf.ones([n_harmonics])

  n_frames = frequencies.shape[1]
  if harmonic_shifts is None and n_frames and n_samples % n_frames == 0:
    # Every harmonic shares the fundamental's phase: synthesise in blocks.
    f0_env = resample(frequencies, n_samples)[:, :, 0]
    if amp_resample_method == 'window':
      _check_window_upsampling(n_frames, n_samples, add_endpoint=True)
    return _harmonic_sum_by_frames(f0_env, harmonic_amplitudes,
                                   amp_resample_method, sample_rate)

  harmonic_frequencies = get_harmonic_frequencies(frequencies, n_harmonics)
  if harmonic_shifts is not None:
    harmonic_frequencies *= (1.0 + harmonic_shifts)
  frequency_envelopes, amplitude_envelopes = control_envelopes(
      harmonic_frequencies, harmonic_amplitudes, n_samples,
      amp_resample_method)
  return oscillator_bank(frequency_envelopes, amplitude_envelopes,
                         sample_rate=sample_rate,
                         use_angular_cumsum=use_angular_cumsum)


def streaming_harmonic_synthesis(frequencies,
                                 amplitudes,
                                 harmonic_distribution=None,
                                 initial_phase=None,
                                 n_samples: int = 64000,
                                 sample_rate: int = 16000,
                                 amp_resample_method: Text = 'linear'):
  """Harmonic synthesis of one block, carrying phase across blocks.

  Args:
    frequencies: Fundamental [B, T, 1] in Hz.
    amplitudes: Overall amplitude [B, T, 1].
    harmonic_distribution: Optional [B, T, K]; normalised below Nyquist here.
    initial_phase: [B, 1, 1] phase at the start of the block, or None.
    n_samples: Samples in the block.
    sample_rate: Audio sample rate in Hz.
    amp_resample_method: Interpolation of amplitudes (see `resample`).

  Returns:
    audio: [B, n_samples].
    final_phase: [B, 1, 1].
  """
  frequencies = tf_float32(frequencies)
  amplitudes = tf_float32(amplitudes)
  if harmonic_distribution is not None:
    harmonic_distribution = normalize_harmonics(harmonic_distribution,
                                                frequencies, sample_rate)
    amplitudes = amplitudes * harmonic_distribution
  frequency_envelope, amplitude_envelopes = control_envelopes(
      frequencies, amplitudes, n_samples, amp_resample_method)
  return harmonic_oscillator_bank(frequency_envelope, amplitude_envelopes,
                                  initial_phase=initial_phase,
                                  sample_rate=sample_rate)


def sinusoidal_to_harmonic(sin_amps,
                           sin_freqs,
                           f0_hz,
                           harmonic_width=0.1,
                           n_harmonics=100,
                           sample_rate=16000,
                           normalize=False):
  """Projects sinusoids onto harmonics of f0 with Gaussian weights.

  Args:
    sin_amps: [B, T, S] sinusoid amplitudes.
    sin_freqs: [B, T, S] sinusoid frequencies in Hz.
    f0_hz: [B, T, 1] fundamental in Hz.
    harmonic_width: Std of the Gaussian in units of f0.
    n_harmonics: Number of harmonics.
    sample_rate: Audio sample rate in Hz.
    normalize: Divide each harmonic's weights by their sum where it exceeds 1.

  Returns:
    harm_amp: [B, T, 1]; harm_dist: [B, T, n_harmonics].
  """
  sin_amps = tf_float32(sin_amps)
  sin_freqs = tf_float32(sin_freqs)
  f0_hz = tf_float32(f0_hz)
  harm_freqs = get_harmonic_frequencies(f0_hz, n_harmonics)
  freqs_diff = sin_freqs[:, :, tf.newaxis, :] - harm_freqs[..., tf.newaxis]
  freqs_ratio = tf.abs(safe_divide(freqs_diff, f0_hz[..., tf.newaxis]))
  weights = tf.math.exp(-(freqs_ratio / harmonic_width)**2.0)
  if normalize:
    weights_sum = tf.reduce_sum(weights, axis=-1, keepdims=True)
    weights = tf.where(weights_sum > 1.0, safe_divide(weights, weights_sum),
                       weights)
  harm_amps = tf.reduce_sum(weights * sin_amps[:, :, tf.newaxis, :], axis=-1)
  harm_amps = remove_above_nyquist(harm_freqs, harm_amps, sample_rate)
  harm_amp = tf.reduce_sum(harm_amps, axis=-1, keepdims=True)
  harm_dist = safe_divide(harm_amps, harm_amp)
  return harm_amp, harm_dist


def harmonic_to_sinusoidal(harm_amp, harm_dist, f0_hz, sample_rate=16000):
  """Converts harmonic controls to sinusoid amplitudes and frequencies.

  Args:
    harm_amp: [B, T, 1]; harm_dist: [B, T, K]; f0_hz: [B, T, 1] in Hz.
    sample_rate: Harmonics at or above Nyquist are dropped and the rest renormalised.

  Returns:
    amps: [B, T, K]; freqs: [B, T, K] in Hz.
  """
  harm_amp = tf_float32(harm_amp)
  harm_dist = tf_float32(harm_dist)
  n_harmonics = int(harm_dist.shape[-1])
  freqs = get_harmonic_frequencies(f0_hz, n_harmonics)
  harm_dist = normalize_harmonics(harm_dist, f0_hz, sample_rate)
  return harm_amp * harm_dist, freqs
