"""Tests of ddsp.synths against spectra of closed-form signals."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ddsp import core
from ddsp import synths
from ddsp import test_util

SAMPLE_RATE = 16000


def test_harmonic_with_one_harmonic_is_a_sine_at_f0_with_scaled_amplitude():
  n_frames = 100
  amps_raw = np.zeros([1, n_frames, 1], np.float32)  # exp_sigmoid(0) ~ 0.4
  synth = synths.Harmonic(n_samples=16000)
  audio = synth(amps_raw, np.zeros([1, n_frames, 1], np.float32),
                np.full([1, n_frames, 1], 440.0, np.float32)).numpy()[0]
  frequency, amplitude = test_util.spectral_peak(audio, SAMPLE_RATE)
  assert frequency == pytest.approx(440.0, abs=1.0)
  assert amplitude == pytest.approx(float(core.exp_sigmoid(0.0)), rel=0.02)


def test_harmonic_normalises_distribution_below_nyquist():
  synth = synths.Harmonic(n_samples=16000, scale_fn=None)
  dist = np.ones([1, 10, 4], np.float32)
  controls = synth.get_controls(np.ones([1, 10, 1]), dist,
                                np.full([1, 10, 1], 3000.0, np.float32))
  np.testing.assert_allclose(controls['harmonic_distribution'][0, 0],
                             [0.5, 0.5, 0.0, 0.0])


def test_harmonic_with_f0_at_sample_rate_is_silent():
  synth = synths.Harmonic(n_samples=16000)
  audio = synth(np.ones([2, 100, 1]), np.ones([2, 100, 20]),
                np.full([2, 100, 1], 16000.0))
  assert audio.shape == (2, 16000)
  np.testing.assert_array_equal(audio, 0.0)


def test_harmonic_checks_control_shapes():
  synth = synths.Harmonic(n_samples=1000)
  with pytest.raises(ValueError, match=r'`f0_hz` must have shape'):
    synth(np.ones([1, 10, 1]), np.ones([1, 10, 5]), np.ones([1, 10]))
  with pytest.raises(ValueError, match='same number of frames'):
    synth(np.ones([1, 10, 1]), np.ones([1, 12, 5]), np.ones([1, 10, 1]))


def test_filtered_noise_spectrum_follows_magnitudes():
  n_bands = 65
  magnitudes = np.zeros([4, 250, n_bands], np.float32)
  magnitudes[..., 10:20] = 1.0  # Pass ~1.2 kHz .. 2.4 kHz.
  synth = synths.FilteredNoise(n_samples=64000, scale_fn=None, window_size=0)
  audio = synth(magnitudes).numpy()
  power = np.mean(np.abs(np.fft.rfft(audio, axis=-1))**2, axis=0)
  freqs = np.fft.rfftfreq(64000, 1 / SAMPLE_RATE)
  band_hz = np.arange(n_bands) * SAMPLE_RATE / 2 / (n_bands - 1)
  inside = (freqs > band_hz[11]) & (freqs < band_hz[18])
  outside = (freqs < band_hz[7]) | (freqs > band_hz[23])
  assert power[inside].mean() > 1000 * power[outside].mean()
  # Unit passband gain: uniform noise in [-1, 1) has variance 1/3.
  expected_power = 64000 / 3.0
  assert power[inside].mean() == pytest.approx(expected_power, rel=0.1)


def test_filtered_noise_shapes_and_bias():
  synth = synths.FilteredNoise(n_samples=16000)
  controls = synth.get_controls(np.zeros([1, 16000, 5], np.float32))
  np.testing.assert_allclose(controls['magnitudes'],
                             core.exp_sigmoid(np.full([1, 16000, 5], -5.0)))
  assert synth.get_signal(**controls).shape == (1, 16000)


def test_wavetable_with_sine_table_plays_its_frequency():
  table = np.sin(np.linspace(0, 2 * np.pi, 64, endpoint=False))
  tables = np.tile(table[np.newaxis, np.newaxis], [1, 20, 1]).astype(
      np.float32)
  synth = synths.Wavetable(n_samples=16000, scale_fn=None)
  audio = synth(np.ones([1, 20, 1]), tables,
                np.full([1, 20, 1], 500.0, np.float32)).numpy()[0]
  frequency, amplitude = test_util.spectral_peak(audio, SAMPLE_RATE)
  assert frequency == pytest.approx(500.0, abs=1.0)
  assert amplitude == pytest.approx(1.0, rel=0.02)


def test_sinusoidal_plays_given_frequencies_and_drops_those_above_nyquist():
  synth = synths.Sinusoidal(n_samples=16000, amp_scale_fn=None,
                            freq_scale_fn=lambda f: f)
  freqs = np.tile(np.array([[[300.0, 9000.0]]], np.float32), [1, 10, 1])
  audio = synth(np.ones([1, 10, 2]), freqs).numpy()[0]
  frequency, amplitude = test_util.spectral_peak(audio, SAMPLE_RATE)
  assert frequency == pytest.approx(300.0, abs=1.0)
  assert amplitude == pytest.approx(1.0, rel=0.02)
  spectrum = np.abs(np.fft.rfft(audio))
  assert spectrum[7000:].max() < 1e-3 * spectrum.max()


def test_tensor_to_audio_squeezes_channel():
  np.testing.assert_array_equal(synths.TensorToAudio()(np.ones([2, 7, 1])),
                                np.ones([2, 7]))


@pytest.mark.parametrize('synth', [
    synths.Harmonic(n_samples=1000, amp_resample_method='linear'),
    synths.FilteredNoise(n_samples=1000, window_size=0, initial_bias=-2.0),
    synths.Wavetable(n_samples=1000, sample_rate=8000),
    synths.Sinusoidal(n_samples=1000, freq_scale_fn=core.frequencies_softmax),
])
def test_synth_config_round_trip(synth):
  restored = type(synth).from_config(synth.get_config())
  assert restored.get_config() == synth.get_config()


def test_harmonic_gradients_flow_to_every_control():
  amps = tf.Variable(np.zeros([1, 10, 1], np.float32))
  dist = tf.Variable(np.zeros([1, 10, 5], np.float32))
  f0 = tf.Variable(np.full([1, 10, 1], 200.0, np.float32))
  with tf.GradientTape() as tape:
    audio = synths.Harmonic(n_samples=1000)(amps, dist, f0)
    loss = tf.reduce_sum(audio * np.linspace(-1, 1, 1000))
  for grad in tape.gradient(loss, [amps, dist, f0]):
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


def test_synths_save_and_load_in_a_keras_model(tmp_path):
  inputs = [keras.Input([10, 1]), keras.Input([10, 5]), keras.Input([10, 1])]
  model = keras.Model(inputs, synths.Harmonic(n_samples=1000)(*inputs))
  path = str(tmp_path / 'harmonic.keras')
  model.save(path)
  restored = keras.models.load_model(path)
  args = [np.zeros([1, 10, 1]), np.zeros([1, 10, 5]), np.full([1, 10, 1], 300.)]
  np.testing.assert_allclose(restored(args), model(args), atol=1e-6)


@pytest.mark.parametrize('make, message', [
    (lambda: synths.Harmonic(amp_resample_method='foo', n_samples=-5),
     'Received an invalid value for `n_samples`, expected a positive integer. '
     'Received: n_samples=-5'),
    (lambda: synths.Harmonic(amp_resample_method='foo'),
     "`amp_resample_method`, expected one of ('nearest', 'linear', 'cubic', "
     "'window'). Received: amp_resample_method='foo'"),
    (lambda: synths.Harmonic(sample_rate=0), '`sample_rate`'),
    (lambda: synths.Harmonic(scale_fn='exp_sigmoid'), '`scale_fn`'),
    (lambda: synths.FilteredNoise(n_samples=0), '`n_samples`'),
    (lambda: synths.FilteredNoise(window_size=257.0), '`window_size`'),
    (lambda: synths.Wavetable(sample_rate=-1), '`sample_rate`'),
    (lambda: synths.Sinusoidal(amp_resample_method='bilinear'),
     '`amp_resample_method`'),
    (lambda: synths.Sinusoidal(freq_scale_fn=3), '`freq_scale_fn`'),
])
def test_constructors_reject_invalid_arguments_in_the_callers_terms(make,
                                                                    message):
  with pytest.raises(ValueError) as info:
    make()
  assert message in str(info.value)
