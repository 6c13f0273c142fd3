"""FIR design (frequency sampling, windowed sinc) and FFT convolution.

Part of the implementation of `ddsp.core`, which re-exports every public name.
"""

from typing import List, Optional, Text

import numpy as np
import scipy.fft
import tensorflow as tf

from ddsp.dsp.utils import tf_float32


def _irfft_of_real(spectrum) -> tf.Tensor:
  """Inverse real FFT of a real (zero-phase) spectrum [..., K] -> [..., 2(K-1)].

  Written as a cosine synthesis (a matmul), which needs no complex tensors,
  so the same graph runs as builtin ops in TFLite.
  """
  spectrum = tf_float32(spectrum)
  n_bins = int(spectrum.shape[-1])
  fft_size = 2 * (n_bins - 1)
  k = np.arange(n_bins)[:, None]
  n = np.arange(fft_size)[None, :]
  weights = np.full([n_bins, 1], 2.0)
  weights[0] = weights[-1] = 1.0
  basis = weights * np.cos(2.0 * np.pi * k * n / fft_size) / fft_size
  return tf.tensordot(spectrum, basis.astype(np.float32), axes=1)


def get_fft_size(frame_size: int, ir_size: int, power_of_2: bool = True) -> int:
  """FFT length for convolving a frame with an IR without time aliasing."""
  convolved_frame_size = ir_size + frame_size - 1
  if power_of_2:
    return int(2**np.ceil(np.log2(convolved_frame_size)))
  return int(scipy.fft.next_fast_len(convolved_frame_size, real=True))


def crop_and_compensate_delay(audio, audio_size: int, ir_size: int,
                              padding: Text,
                              delay_compensation: int) -> tf.Tensor:
  """Crops a full convolution to 'same' or 'valid' length, removing delay.

  Args:
    audio: [B, n] full convolution.
    audio_size: Length of the original audio.
    ir_size: Length of the impulse response.
    padding: 'same' (output audio_size) or 'valid' (audio_size + ir_size - 1).
    delay_compensation: Samples to drop from the start; < 0 means the group
      delay of a linear-phase IR, `(ir_size - 1) // 2 - 1`.

  Returns:
    [B, crop_size] audio.
  """
  if padding == 'valid':
    crop_size = ir_size + audio_size - 1
  elif padding == 'same':
    crop_size = audio_size
  else:
    raise ValueError(f'Received an invalid value for `padding`, expected '
                     f"'same' or 'valid'. Received: padding={padding!r}")
  start = ((ir_size - 1) // 2 - 1
           if delay_compensation < 0 else delay_compensation)
  return audio[:, start:start + crop_size]


def fft_convolve(audio,
                 impulse_response,
                 padding: Text = 'same',
                 delay_compensation: int = -1) -> tf.Tensor:
  """Filters audio with one IR, or a time-varying IR per block, via FFT.

  The audio is cut into F non-overlapping blocks of `ceil(N / F)` samples;
  block k is convolved with IR k and the results overlap-added.

  Args:
    audio: [B, N].
    impulse_response: [B, L] or [B, F, L] (a batch of 1 broadcasts).
    padding: 'same' or 'valid' (see `crop_and_compensate_delay`).
    delay_compensation: Samples to drop from the start; -1 compensates the
      group delay of a linear-phase IR.

  Returns:
    Filtered audio [B, N] ('same') or [B, N + L - 1] ('valid').
  """
  impulse_response = tf_float32(impulse_response)
  if len(impulse_response.shape) == 2:
    impulse_response = impulse_response[:, tf.newaxis, :]
  if len(impulse_response.shape) != 3:
    raise ValueError(f'fft_convolve expects an impulse response of shape '
                     f'[batch, ir_size] or [batch, n_frames, ir_size]; '
                     f'received shape {impulse_response.shape}.')
  return _block_convolve(
      audio, impulse_response.shape.as_list(),
      lambda fft_size: tf.signal.rfft(impulse_response, [fft_size]),
      padding, delay_compensation)


def _block_convolve(audio, ir_shape: List[int], ir_spectrum_fn,
                    padding: Text, delay_compensation: int) -> tf.Tensor:
  """Block-wise FFT convolution behind `fft_convolve` and `frequency_filter`.

  Args:
    audio: [B, N].
    ir_shape: [B_ir, F, L], the shape of the (time-varying) IR.
    ir_spectrum_fn: fft_size -> complex [B_ir, F, fft_size // 2 + 1] spectra
      of the IRs zero-padded to fft_size.
    padding: 'same' or 'valid'.
    delay_compensation: See `crop_and_compensate_delay`.

  Returns:
    Filtered audio.
  """
  audio = tf_float32(audio)
  if padding not in ('same', 'valid'):
    raise ValueError(f'Received an invalid value for `padding`, expected '
                     f"'same' or 'valid'. Received: padding={padding!r}")
  if len(audio.shape) != 2:
    raise ValueError(f'Expected audio of shape [batch, n_samples]; received '
                     f'shape {audio.shape}.')
  batch_size, audio_size = audio.shape.as_list()
  batch_size_ir, n_ir_frames, ir_size = ir_shape
  if (batch_size and batch_size_ir and batch_size_ir != 1 and
      batch_size_ir != batch_size):
    raise ValueError(f'Batch size of audio ({batch_size}) and impulse '
                     f'response ({batch_size_ir}) must match.')
  frame_size = int(np.ceil(audio_size / n_ir_frames))
  n_audio_frames = int(np.ceil(audio_size / frame_size))
  if n_audio_frames != n_ir_frames:
    raise ValueError(
        f'Number of audio blocks ({n_audio_frames}, of {frame_size} samples '
        f'each for {audio_size} samples) and impulse response frames '
        f'({n_ir_frames}) do not match. For small hop sizes, ceil('
        f'audio_size / frame_size) may not equal n_ir_frames; choose n_frames '
        f'that divides the audio length.')
  audio_frames = tf.signal.frame(audio, frame_size, frame_size, pad_end=True)
  # Any FFT of at least frame_size + ir_size - 1 points gives the same linear
  # convolution; a 5-smooth size is up to 25% cheaper than ddsp 3.7.0's power
  # of two, and the output is cropped by position, so it is unchanged.
  fft_size = get_fft_size(frame_size, ir_size, power_of_2=False)
  audio_fft = tf.signal.rfft(audio_frames, [fft_size])
  audio_frames_out = tf.signal.irfft(audio_fft * ir_spectrum_fn(fft_size),
                                     [fft_size])
  audio_out = tf.signal.overlap_and_add(audio_frames_out, frame_size)
  return crop_and_compensate_delay(audio_out, audio_size, ir_size, padding,
                                   delay_compensation)


def apply_window_to_impulse_response(impulse_response,
                                     window_size: int = 0,
                                     causal: bool = False) -> tf.Tensor:
  """Windows a zero-phase IR with a periodic Hann window and makes it causal.

  Args:
    impulse_response: [..., S] zero-phase IR (lag 0 at index 0, negative lags
      at the end), or causal (centred) IR if `causal`.
    window_size: Window length; <= 0 or > S means S.
    causal: Whether the input IR is already causal.

  Returns:
    Causal IR. If window_size == S: length S, lag 0 at index S // 2.
    Otherwise length `2 * ((window_size + 1) // 2) - 1`, lag 0 at index
    `(window_size + 1) // 2 - 2`.
  """
  impulse_response = tf.convert_to_tensor(impulse_response)
  if impulse_response.dtype.is_complex:
    impulse_response = tf.math.real(impulse_response)
  impulse_response = tf_float32(impulse_response)
  if causal:
    impulse_response = tf.signal.fftshift(impulse_response, axes=-1)
  ir_size = int(impulse_response.shape[-1])
  if window_size <= 0 or window_size > ir_size:
    window_size = ir_size
  window = tf.signal.hann_window(window_size)
  padding = ir_size - window_size
  if padding > 0:
    half_idx = (window_size + 1) // 2
    window = tf.concat([window[half_idx:], tf.zeros([padding]),
                        window[:half_idx]], axis=0)
  else:
    window = tf.signal.fftshift(window, axes=-1)
  impulse_response = impulse_response * window
  if padding > 0:
    first_half_start = (ir_size - (half_idx - 1)) + 1
    second_half_end = half_idx + 1
    return tf.concat([impulse_response[..., first_half_start:],
                      impulse_response[..., :second_half_end]], axis=-1)
  return tf.signal.fftshift(impulse_response, axes=-1)


def frequency_impulse_response(magnitudes, window_size: int = 0) -> tf.Tensor:
  """Linear-phase FIR from real magnitude responses (0 Hz to Nyquist).

  Args:
    magnitudes: [B, F, K] or [B, K] magnitudes at K evenly spaced frequencies.
    window_size: Hann window length (see `apply_window_to_impulse_response`).

  Returns:
    Causal IR [B, F, L] or [B, L].
  """
  impulse_response = _irfft_of_real(magnitudes)
  return apply_window_to_impulse_response(impulse_response, window_size)


def frequency_filter(audio,
                     magnitudes,
                     window_size: int = 0,
                     padding: Text = 'same') -> tf.Tensor:
  """Filters audio [B, N] with time-varying magnitude responses [B, F, K].

  Equal to `fft_convolve(audio, frequency_impulse_response(magnitudes,
  window_size), padding)`. Group delay is compensated exactly for windowed
  IRs; with window_size <= 0 or >= 2 (K - 1) the output lags by 2 samples, as
  in ddsp 3.7.0.
  """
  magnitudes = tf_float32(magnitudes)
  if len(magnitudes.shape) == 2:
    magnitudes = magnitudes[:, tf.newaxis, :]
  n_bins = int(magnitudes.shape[-1])
  # The IR is linear in the magnitudes, so its spectrum is `magnitudes @
  # rfft(basis)`, with basis[k] the IR of the k-th unit response: one small
  # matmul instead of an inverse and a forward FFT per frame.
  basis = frequency_impulse_response(tf.eye(n_bins), window_size)
  ir_shape = magnitudes.shape.as_list()[:2] + [int(basis.shape[-1])]

  def ir_spectrum(fft_size):
    basis_fft = tf.signal.rfft(basis, [fft_size])
    return tf.complex(
        tf.tensordot(magnitudes, tf.math.real(basis_fft), axes=1),
        tf.tensordot(magnitudes, tf.math.imag(basis_fft), axes=1))

  return _block_convolve(audio, ir_shape, ir_spectrum, padding,
                         delay_compensation=-1)


def sinc(x, threshold: float = 1e-20) -> tf.Tensor:
  """Normalised sinc, `sin(pi x) / (pi x)`, with |x| < threshold -> threshold."""
  x = tf_float32(x)
  x = tf.where(tf.abs(x) < threshold, threshold * tf.ones_like(x), x)
  x = np.pi * x
  return tf.sin(x) / x


def sinc_impulse_response(cutoff_frequency,
                          window_size: int = 512,
                          sample_rate: Optional[int] = None,
                          high_pass: bool = False) -> tf.Tensor:
  """Windowed-sinc low-pass (or high-pass) FIR with unity DC gain.

  Args:
    cutoff_frequency: [B, T, 1] cutoff, in Hz if `sample_rate` is given, else
      as a fraction of Nyquist.
    window_size: IR length is `2 * (window_size // 2) + 1` (always odd).
    sample_rate: Audio sample rate in Hz, or None.
    high_pass: Spectral inversion `delta - h` of the low-pass.

  Returns:
    [B, T, 2 * (window_size // 2) + 1] causal IR, lag 0 at the centre.
  """
  cutoff_frequency = tf_float32(cutoff_frequency)
  if sample_rate is not None:
    cutoff_frequency *= 2.0 / float(sample_rate)
  half_size = window_size // 2
  full_size = 2 * half_size + 1
  idx = tf.range(-half_size, half_size + 1.0, 1.0)[tf.newaxis, tf.newaxis, :]
  impulse_response = sinc(cutoff_frequency * idx)
  impulse_response *= tf.signal.hamming_window(full_size)
  impulse_response /= tf.abs(
      tf.reduce_sum(impulse_response, axis=-1, keepdims=True))
  if high_pass:
    delta = np.zeros(full_size, np.float32)
    delta[half_size] = 1.0
    impulse_response = delta - impulse_response
  return impulse_response


def sinc_filter(audio,
                cutoff_frequency,
                window_size: int = 512,
                sample_rate: Optional[int] = None,
                padding: Text = 'same',
                high_pass: bool = False) -> tf.Tensor:
  """Filters audio [B, N] with time-varying windowed-sinc FIRs (1 sample late)."""
  impulse_response = sinc_impulse_response(cutoff_frequency,
                                           window_size=window_size,
                                           sample_rate=sample_rate,
                                           high_pass=high_pass)
  return fft_convolve(audio, impulse_response, padding=padding)
