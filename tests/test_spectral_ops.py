"""Tests of ddsp.spectral_ops: STFT conventions, framing, energy, loudness."""

import numpy as np
import pytest
import tensorflow as tf

from ddsp import spectral_ops

SAMPLE_RATE = 16000


def sine(frequency, seconds=1.0, amplitude=1.0, sample_rate=SAMPLE_RATE):
  t = np.arange(int(seconds * sample_rate)) / sample_rate
  return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_stft_matches_numpy_dft_of_periodic_hann_frames():
  audio = np.random.default_rng(0).normal(size=[2, 3000]).astype(np.float32)
  out = spectral_ops.stft(audio, frame_size=256, overlap=0.75).numpy()
  hop = 64
  n_frames = int(np.ceil(3000 / hop))
  padded = np.pad(audio, [(0, 0), (0, (n_frames - 1) * hop + 256 - 3000)])
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256)
  frames = np.stack([padded[:, i * hop:i * hop + 256] for i in range(n_frames)],
                    axis=1)
  expected = np.fft.rfft(frames * window, axis=-1)
  assert out.shape == (2, n_frames, 129)
  np.testing.assert_allclose(out, expected, atol=1e-3)


def test_stft_pads_non_power_of_two_frames_to_next_power_of_two_fft():
  out = spectral_ops.stft(np.zeros([1, 8000], np.float32), frame_size=6144,
                          overlap=0.75)
  assert out.shape[-1] == 8192 // 2 + 1


def test_stft_satisfies_parseval_for_a_single_frame():
  audio = np.random.default_rng(1).normal(size=[1, 512]).astype(np.float32)
  spectrum = spectral_ops.stft(audio, frame_size=512, overlap=0.0,
                               pad_end=False).numpy()[0, 0]
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(512) / 512)
  energy = np.sum((audio[0] * window)**2)
  # One-sided spectrum: DC and Nyquist once, other bins twice.
  spectral_energy = (np.abs(spectrum[0])**2 + np.abs(spectrum[-1])**2 +
                     2 * np.sum(np.abs(spectrum[1:-1])**2)) / 512
  assert spectral_energy == pytest.approx(energy, rel=1e-4)


def test_stft_np_agrees_with_stft():
  audio = np.random.default_rng(2).normal(size=[2, 16000]).astype(np.float32)
  tf_mag = np.abs(spectral_ops.stft(audio, 2048, 0.75).numpy())
  np_mag = np.abs(spectral_ops.stft_np(audio, 2048, 0.75))
  np.testing.assert_allclose(tf_mag, np_mag, atol=1e-3)


def test_pad_same_then_unpadded_stft_equals_pad_end_stft():
  audio = np.random.default_rng(3).normal(size=[1, 1000]).astype(np.float32)
  padded = spectral_ops.pad(audio, 256, 64, padding='same')
  np.testing.assert_allclose(
      spectral_ops.stft(padded, 256, 0.75, pad_end=False),
      spectral_ops.stft(audio, 256, 0.75, pad_end=True), atol=1e-4)


@pytest.mark.parametrize('padding,expected', [
    ('valid', (985, 64000)), ('same', (1000, 64960)), ('center', (1001, 65024))])
def test_get_framed_lengths(padding, expected):
  assert spectral_ops.get_framed_lengths(64000, 1024, 64, padding) == expected


@pytest.mark.parametrize('padding', ['valid', 'same', 'center'])
@pytest.mark.parametrize('hop_size', [180, 200])
def test_pad_gives_the_framed_number_of_frames(padding, hop_size):
  audio = np.ones([2, 5000], np.float32)
  padded = spectral_ops.pad(audio, 1024, hop_size, padding=padding)
  frames = tf.signal.frame(padded, 1024, hop_size, pad_end=False)
  n_frames, _ = spectral_ops.get_framed_lengths(5000, 1024, hop_size, padding)
  assert frames.shape[1] == n_frames


def test_unknown_padding_raises_value_error():
  with pytest.raises(ValueError, match='padding'):
    spectral_ops.get_framed_lengths(100, 10, 5, 'causal')
  with pytest.raises(ValueError, match='hop_size'):
    spectral_ops.pad(np.ones(100), 10, 20)


@pytest.mark.parametrize('use_tf', [False, True])
@pytest.mark.parametrize('shape', [[100], [2, 100]])
def test_pad_or_trim_to_expected_length(use_tf, shape):
  vector = np.ones(shape, np.float32)
  longer = spectral_ops.pad_or_trim_to_expected_length(vector, 110,
                                                       use_tf=use_tf)
  shorter = spectral_ops.pad_or_trim_to_expected_length(vector, 95,
                                                        use_tf=use_tf)
  assert np.asarray(longer).shape[-1] == 110
  assert np.asarray(longer)[..., -10:].sum() == 0
  assert np.asarray(shorter).shape[-1] == 95
  with pytest.raises(ValueError):
    spectral_ops.pad_or_trim_to_expected_length(vector, 200)


def test_compute_power_of_full_scale_sine_is_minus_3_db():
  power = spectral_ops.compute_power(sine(500.0), frame_size=1024,
                                     frame_rate=50).numpy()
  np.testing.assert_allclose(power[2:-2], 10 * np.log10(0.5), atol=0.05)


def test_compute_rms_energy_of_constant_is_its_magnitude():
  rms = spectral_ops.compute_rms_energy(np.full([16000], -0.25, np.float32),
                                        padding='valid').numpy()
  np.testing.assert_allclose(rms, 0.25, rtol=1e-6)


def test_loudness_of_full_scale_1khz_sine_matches_a_weighted_formula():
  loudness = spectral_ops.compute_loudness(sine(1000.0)).numpy()
  # 1 kHz sits on bin 32 of a 512-point FFT at 16 kHz: the periodic Hann
  # window gives |X| = 128 there and 64 on bins 31 and 33.
  frequencies = np.array([968.75, 1000.0, 1031.25])
  power = np.array([64.0, 128.0, 64.0])**2
  weights = 10**(spectral_ops.a_weighting(frequencies) / 10)
  expected = 10 * np.log10(np.sum(power * weights) / 257)
  np.testing.assert_allclose(loudness[10:-10], expected, atol=0.01)


def test_a_weighting_is_zero_db_at_1khz_and_floored_at_dc():
  weights = spectral_ops.a_weighting([0.0, 100.0, 1000.0])
  np.testing.assert_allclose(weights[[0, 2]], [-80.0, 0.0], atol=0.01)
  assert weights[1] == pytest.approx(-19.1, abs=0.1)


def test_loudness_of_silence_is_the_floor_without_nans():
  loudness = spectral_ops.compute_loudness(np.zeros([2, 8000],
                                                    np.float32)).numpy()
  np.testing.assert_array_equal(loudness, -80.0)


@pytest.mark.parametrize('sample_rate', [16000, 24000, 44100])
@pytest.mark.parametrize('seconds', [1.0, 2.5])
def test_loudness_frame_counts_follow_framed_lengths(sample_rate, seconds):
  audio = np.random.default_rng(4).normal(
      size=[int(seconds * sample_rate)]).astype(np.float32) * 0.1
  loudness = spectral_ops.compute_loudness(audio, sample_rate=sample_rate)
  hop = sample_rate // 250
  assert loudness.shape[0] == spectral_ops.get_framed_lengths(
      len(audio), 512, hop, 'center')[0]


@pytest.mark.parametrize('padding', ['valid', 'same', 'center'])
def test_loudness_tf_and_numpy_paths_agree(padding):
  audio = np.random.default_rng(5).normal(size=[2, 16000]).astype(np.float32)
  tf_loudness = spectral_ops.compute_loudness(audio, n_fft=2048,
                                              padding=padding).numpy()
  np_loudness = spectral_ops.compute_loudness(audio, n_fft=2048,
                                              use_tf=False, padding=padding)
  np.testing.assert_allclose(tf_loudness, np_loudness, atol=1e-3)


def test_loudness_is_differentiable():
  audio = tf.constant(sine(440.0, 0.25)[np.newaxis])
  with tf.GradientTape() as tape:
    tape.watch(audio)
    loudness = tf.reduce_mean(spectral_ops.compute_loudness(audio))
  gradient = tape.gradient(loudness, audio).numpy()
  assert np.all(np.isfinite(gradient)) and np.abs(gradient).sum() > 0


def test_mel_spectrogram_of_a_sine_peaks_at_its_mel_band():
  mel = spectral_ops.compute_mel(sine(1000.0)[np.newaxis], bins=64).numpy()
  mel_edges = np.linspace(0, 2595 * np.log10(1 + 8000 / 700), 66)
  target = 2595 * np.log10(1 + 1000 / 700)
  expected_band = int(np.argmin(np.abs(mel_edges[1:-1] - target)))
  assert abs(int(np.argmax(mel[0, 10])) - expected_band) <= 1


def test_mfcc_of_log_mel_is_scaled_dct_ii():
  audio = np.random.default_rng(6).normal(size=[1, 8000]).astype(np.float32)
  mfcc = spectral_ops.compute_mfcc(audio, mfcc_bins=13).numpy()
  logmel = spectral_ops.compute_logmel(audio, lo_hz=20.0, hi_hz=8000.0,
                                       bins=128, fft_size=1024).numpy()
  m = 128
  n = np.arange(m)
  basis = np.cos(np.pi * np.arange(13)[:, None] * (2 * n + 1) / (2 * m))
  expected = np.sqrt(2.0 / m) * logmel @ basis.T
  np.testing.assert_allclose(mfcc, expected, atol=1e-3)


def test_logmag_replaces_zeros_with_log_of_1e_minus_5():
  logmag = spectral_ops.compute_logmag(np.zeros([1, 4096], np.float32))
  np.testing.assert_allclose(logmag, np.log(1e-5), rtol=1e-6)


@pytest.mark.parametrize('padding', ['center', 'same', 'valid'])
@pytest.mark.parametrize('seconds', [0.21, 0.4])
def test_compute_f0_frame_counts_follow_framed_lengths(padding, seconds):
  audio = sine(440.0, seconds)
  f0_hz, confidence = spectral_ops.compute_f0(audio, 250, padding=padding,
                                              model_capacity='tiny')
  n_frames = spectral_ops.get_framed_lengths(len(audio), 1024, 64, padding)[0]
  assert f0_hz.shape == confidence.shape == (n_frames,)
  assert f0_hz.dtype == np.float32
  assert np.all(np.isfinite(f0_hz)) and np.all(np.isfinite(confidence))


def test_compute_f0_of_a_sine_is_its_frequency():
  f0_hz, confidence = spectral_ops.compute_f0(sine(330.0), 100,
                                              model_capacity='tiny')
  cents = 1200 * np.log2(f0_hz[5:-5] / 330.0)
  assert np.max(np.abs(cents)) < 25
  assert np.median(confidence) > 0.8


def test_compute_f0_rejects_multichannel_audio():
  with pytest.raises(ValueError, match='mono'):
    spectral_ops.compute_f0(np.zeros([2, 16000]), 250)


@pytest.mark.parametrize('shape,size,overlap,pad_end', [
    ([2, 3000], 256, 0.75, True), ([2, 3000], 256, 0.75, False),
    ([3000], 64, 0.75, True), ([1, 3001, 1], 2304, 0.75, True),
    ([2, 2500], 512, 0.5, False)])
def test_compute_mag_gradient_equals_autodiff_of_tf_stft(shape, size, overlap,
                                                         pad_end):
  rng = np.random.default_rng(7)
  audio = tf.constant(rng.normal(size=shape), tf.float32)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(audio)
    mag = spectral_ops.compute_mag(audio, size, overlap, pad_end)
    weights = tf.constant(rng.normal(size=mag.shape), tf.float32)
    loss = tf.reduce_sum(mag * weights)
    reference_mag = tf.abs(tf.signal.stft(
        tf.reshape(audio, [-1, shape[1] if len(shape) > 1 else shape[0]]),
        size, int(size * (1 - overlap)), pad_end=pad_end))
    reference = tf.reduce_sum(tf.reshape(reference_mag, mag.shape) * weights)
  np.testing.assert_allclose(mag, tf.reshape(reference_mag, mag.shape),
                             atol=1e-4)
  gradient = tape.gradient(loss, audio).numpy()
  expected = tape.gradient(reference, audio).numpy()
  np.testing.assert_allclose(gradient, expected,
                             atol=1e-6 * np.abs(expected).max())


def test_loudness_gradient_matches_finite_differences():
  rng = np.random.default_rng(8)
  audio = tf.constant(rng.normal(size=[1, 1024]) * 0.1, tf.float64)
  weights = rng.normal(size=[16])

  def loss(x):
    return tf.reduce_sum(tf.cast(spectral_ops.compute_loudness(
        tf.cast(x, tf.float32), padding='same'), tf.float64) * weights)

  with tf.GradientTape() as tape:
    tape.watch(audio)
    value = loss(audio)
  gradient = tape.gradient(value, audio).numpy()
  eps = 1e-3
  for index in [(0, 5), (0, 500), (0, 1000)]:
    delta = np.zeros(audio.shape)
    delta[index] = eps
    numeric = (loss(audio + delta) - loss(audio - delta)) / (2 * eps)
    assert gradient[index] == pytest.approx(float(numeric), rel=2e-2,
                                            abs=1e-2)


@pytest.mark.parametrize('call, message', [
    (lambda: spectral_ops.compute_loudness(np.zeros([16000, 2])),
     r'shape \[16000, 2\].*looks like \[n_samples, n_channels\]'),
    (lambda: spectral_ops.compute_loudness(np.full(16000, np.nan)),
     '16000 NaN or infinite samples'),
    (lambda: spectral_ops.compute_loudness(tf.fill([1, 4000], np.inf)),
     '4000 NaN or infinite samples'),
    (lambda: spectral_ops.compute_loudness(np.zeros(16000), frame_rate=0),
     'Received an invalid value for `frame_rate`, expected a positive number. '
     'Received: frame_rate=0'),
    (lambda: spectral_ops.compute_loudness(np.zeros(16000), sample_rate=-1),
     '`sample_rate`'),
    (lambda: spectral_ops.compute_loudness(np.zeros(16000), padding='full'),
     '`padding`'),
    (lambda: spectral_ops.compute_rms_energy(np.zeros(16000), frame_rate=0),
     '`frame_rate`'),
    (lambda: spectral_ops.compute_power(np.zeros([3, 4, 5])), r'\[3, 4, 5\]'),
    (lambda: spectral_ops.compute_mag(np.zeros([1, 4000]), size=0),
     'Received an invalid value for `size`, expected a positive integer. '
     'Received: size=0'),
    (lambda: spectral_ops.compute_mag(np.zeros([1, 4000]), overlap=1.0),
     '`overlap`'),
    (lambda: spectral_ops.stft(np.zeros([1, 4000]), frame_size=64,
                               overlap=0.999), '`overlap`'),
    (lambda: spectral_ops.compute_mel(np.zeros([1, 4000, 2])),
     r'\[batch, n_samples, 1\]'),
    (lambda: spectral_ops.compute_f0(np.zeros(16000), 0), '`frame_rate`'),
    (lambda: spectral_ops.compute_f0(np.full(16000, np.nan), 250),
     'NaN or infinite'),
])
def test_spectral_functions_reject_what_they_cannot_handle(call, message):
  with pytest.raises(ValueError, match=message):
    call()


def test_loudness_validation_passes_inside_tf_function():

  @tf.function(input_signature=[tf.TensorSpec([None, 16000], tf.float32)])
  def loudness(audio):
    return spectral_ops.compute_loudness(audio)

  assert loudness(tf.zeros([2, 16000])).shape == (2, 251)


def test_loudness_keeps_3_7_0_frame_counts_at_rates_that_do_not_divide():
  # 16000 // 300 = 53 samples: the 3.7.0 numerics are kept for the library
  # function; datasets reject such rates (see test_data / prepare tests).
  loudness = spectral_ops.compute_loudness(np.zeros(64000), 16000, 300,
                                           padding='same')
  assert loudness.shape == (1208,)
