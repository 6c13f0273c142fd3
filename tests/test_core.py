"""Tests of ddsp.core against closed-form signals and numpy re-derivations."""

import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from ddsp import core
from ddsp import test_util

SAMPLE_RATE = 16000


# ------------------------------------------------------------------------------
# Conversions and math
# ------------------------------------------------------------------------------
def test_midi_to_hz_matches_equal_temperament_formula():
  notes = np.arange(128, dtype=np.float32)
  np.testing.assert_allclose(core.midi_to_hz(notes),
                             440.0 * 2.0**((notes - 69.0) / 12.0), rtol=1e-5)
  assert float(core.midi_to_hz(69.0)) == pytest.approx(440.0)


def test_midi_to_hz_zero_silence_maps_note_zero_to_zero_hz():
  hz = core.midi_to_hz([0.0, 69.0], midi_zero_silence=True).numpy()
  np.testing.assert_allclose(hz, [0.0, 440.0], rtol=1e-6)


def test_hz_to_midi_inverts_midi_to_hz_and_maps_zero_hz_to_midi_zero():
  hz = np.array([0.0, -5.0, 27.5, 440.0, 4186.01, 20000.0], np.float32)
  midi = core.hz_to_midi(hz).numpy()
  expected = 12.0 * np.log2(np.maximum(hz, 1e-5) / 440.0) + 69.0
  expected[hz <= 0] = 0.0
  np.testing.assert_allclose(midi, expected, atol=1e-4)


@pytest.mark.parametrize('clip', [False, True])
def test_unit_midi_maps_are_linear_inverses(clip):
  unit = np.linspace(-0.5, 1.5, 9).astype(np.float32)
  midi = core.unit_to_midi(unit, 20.0, 90.0, clip=clip)
  expected = 20.0 + 70.0 * (np.clip(unit, 0, 1) if clip else unit)
  np.testing.assert_allclose(midi, expected, rtol=1e-6)
  back = core.midi_to_unit(midi, 20.0, 90.0, clip=clip)
  np.testing.assert_allclose(back, np.clip(unit, 0, 1) if clip else unit,
                             atol=1e-6)


def test_unit_to_hz_is_log_spaced_and_inverted_by_hz_to_unit():
  unit = np.linspace(0.0, 1.0, 11).astype(np.float32)
  hz = core.unit_to_hz(unit, 20.0, 1000.0).numpy()
  np.testing.assert_allclose(hz, np.geomspace(20.0, 1000.0, 11), rtol=1e-4)
  np.testing.assert_allclose(core.hz_to_unit(hz, 20.0, 1000.0), unit,
                             atol=1e-5)


def test_power_to_db_floors_at_minus_range_and_subtracts_reference():
  power = np.array([1.0, 0.1, 1e-12, 0.0], np.float32)
  db = core.power_to_db(power, ref_db=0.0, range_db=80.0).numpy()
  np.testing.assert_allclose(db, [0.0, -10.0, -80.0, -80.0], atol=1e-4)
  db_np = core.power_to_db(power, ref_db=-10.0, range_db=80.0, use_tf=False)
  np.testing.assert_allclose(db_np, [10.0, 0.0, -70.0, -70.0], atol=1e-4)


def test_amplitude_db_round_trip():
  amplitude = np.array([1.0, 0.5, 0.01], np.float32)
  db = core.amplitude_to_db(amplitude).numpy()
  np.testing.assert_allclose(db, 20.0 * np.log10(amplitude), atol=1e-4)
  np.testing.assert_allclose(core.db_to_amplitude(db), amplitude, rtol=1e-5)
  np.testing.assert_allclose(core.db_to_power(db), amplitude**2, rtol=1e-5)


def test_safe_log_and_safe_divide_replace_only_bad_values():
  np.testing.assert_allclose(core.safe_log([0.0, -1.0, 2.0, 1e-9]),
                             np.log([1e-5, 1e-5, 2.0, 1e-9]), rtol=1e-5)
  np.testing.assert_allclose(core.safe_divide([1.0, 1.0], [0.0, 4.0]),
                             [1e7, 0.25], rtol=1e-6)


def test_mel_bark_conversions_invert():
  hz = np.array([100.0, 1000.0, 7000.0], np.float32)
  np.testing.assert_allclose(core.mel_to_hz(core.hz_to_mel(hz)), hz, rtol=1e-4)
  np.testing.assert_allclose(core.hz_to_mel(hz),
                             2595.0 * np.log10(1.0 + hz / 700.0), rtol=1e-5)
  np.testing.assert_allclose(core.bark_to_hz(core.hz_to_bark(hz)), hz,
                             rtol=1e-4)


def test_exp_sigmoid_matches_formula_and_range():
  x = np.linspace(-20, 20, 41).astype(np.float32)
  expected = 2.0 / (1.0 + np.exp(-x.astype(np.float64)))**np.log(10.0) + 1e-7
  np.testing.assert_allclose(core.exp_sigmoid(x), expected, rtol=1e-5)
  assert float(tf.reduce_min(core.exp_sigmoid(-100.0))) >= 1e-7


def test_gradient_reversal_negates_gradient_but_not_value():
  x = tf.constant([1.5, -2.0])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = core.gradient_reversal(x)
    total = tf.reduce_sum(y)
  np.testing.assert_allclose(y, x)
  np.testing.assert_allclose(tape.gradient(total, x), [-1.0, -1.0])


def test_diff_is_forward_difference_along_axis():
  x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)**2
  for axis in range(3):
    np.testing.assert_allclose(core.diff(x, axis=axis), np.diff(x, axis=axis))
  with pytest.raises(ValueError):
    core.diff(x, axis=3)


def test_nested_lookup_finds_paths_and_lists_keys_when_missing():
  nested = {'a': {'b': 1, 'c': {'d': 2}}, 'e': 3}
  assert core.nested_keys(nested) == ['a/b', 'a/c/d', 'e']
  assert core.nested_lookup('a/c/d', nested) == 2
  with pytest.raises(KeyError, match='a/c/d'):
    core.nested_lookup('a/x', nested)


def test_to_dict_zips_values_and_checks_count():
  assert core.to_dict([1, 2], ['x', 'y']) == {'x': 1, 'y': 2}
  tensor = tf.ones([3, 2])
  assert core.to_dict(tensor, ['x'])['x'] is tensor
  with pytest.raises(ValueError):
    core.to_dict([1, 2], ['x'])


def test_frequencies_sigmoid_is_bounded_by_hz_range():
  logits = np.random.default_rng(0).normal(size=[2, 5, 40]) * 10
  hz = core.frequencies_sigmoid(logits.astype(np.float32), depth=10,
                                hz_min=0.0, hz_max=8000.0).numpy()
  assert hz.shape == (2, 5, 4)
  assert hz.min() >= 0.0 and hz.max() <= 8000.0


def test_frequencies_softmax_maps_one_hot_depth_to_bin_frequency():
  logits = np.full([1, 1, 1, 3], -100.0, np.float32)
  logits[..., 2] = 100.0  # All weight on the top bin -> hz_max.
  hz = core.frequencies_softmax(logits, hz_min=20.0, hz_max=8000.0)
  np.testing.assert_allclose(hz, [[[8000.0]]], rtol=1e-4)


def test_frequencies_critical_bands_stay_within_range():
  logits = np.zeros([1, 2, 8], np.float32)
  hz = core.frequencies_critical_bands(logits, hz_min=20.0,
                                       hz_max=8000.0).numpy()
  assert hz.shape == (1, 2, 8)
  assert np.all(np.diff(hz[0, 0]) > 0)
  assert hz.min() >= 20.0 and hz.max() <= 8000.0


def _np_hz_to_midi(hz):
  hz = np.asarray(hz, np.float64)
  return np.where(hz <= 0, 0.0, 12 * np.log2(np.maximum(hz, 1e-30) / 440) + 69)


def _np_unit_to_hz(unit, hz_min, hz_max):
  """Log-frequency interpolation between hz_min and hz_max (MIDI 0 at 0 Hz)."""
  midi_min, midi_max = _np_hz_to_midi(hz_min), _np_hz_to_midi(hz_max)
  return 440.0 * 2**((midi_min + (midi_max - midi_min) * unit - 69) / 12)


def test_frequencies_sigmoid_sums_log_interpolated_bands():
  logits = np.random.default_rng(1).normal(size=[2, 3, 4 * 5]).astype(
      np.float32)
  hz = core.frequencies_sigmoid(logits, depth=5, hz_min=30.0,
                                hz_max=8000.0).numpy()
  probs = 1 / (1 + np.exp(-logits.reshape(2, 3, 4, 5).astype(np.float64)))
  # Bands split the range geometrically; the last one starts at hz_min.
  remainder = 8000.0 - 30.0
  scale_factor = remainder**(1 / 5)
  expected = 0.0
  for i in range(5):
    if i < 4:
      band_min, band_max = 0.0, remainder * (1 - 1 / scale_factor)
      remainder -= band_max
    else:
      band_min, band_max = 30.0, remainder
    expected = expected + _np_unit_to_hz(probs[..., i], band_min, band_max)
  np.testing.assert_allclose(hz, expected, rtol=1e-5)


def test_frequencies_softmax_is_expected_depth_position_on_a_log_scale():
  logits = np.random.default_rng(2).normal(size=[2, 3, 4, 5]).astype(
      np.float32)
  hz = core.frequencies_softmax(logits, hz_min=20.0, hz_max=8000.0).numpy()
  probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  unit = (probs * np.linspace(0, 1, 5)).sum(-1)
  np.testing.assert_allclose(hz, _np_unit_to_hz(unit, 20.0, 8000.0),
                             rtol=1e-5)
  # A 3-D input is split into `depth` logits per sinusoid.
  np.testing.assert_allclose(
      core.frequencies_softmax(logits.reshape(2, 3, 20), depth=5,
                               hz_min=20.0, hz_max=8000.0), hz, rtol=1e-6)


@pytest.mark.parametrize('scale', ['bark', 'mel'])
def test_frequencies_critical_bands_modulate_band_centres_by_erb(scale):
  logits = np.random.default_rng(3).normal(size=[1, 2, 4, 3]).astype(
      np.float32)
  hz = core.frequencies_critical_bands(logits, depth=3, hz_min=20.0,
                                       hz_max=8000.0, scale=scale).numpy()
  if scale == 'bark':
    to_scale = lambda f: 26.81 / (1 + 1960 / f) - 0.53
    from_scale = lambda b: 1960 / (26.81 / (b + 0.53) - 1)
  else:
    to_scale = lambda f: 2595 * np.log10(1 + f / 700)
    from_scale = lambda m: 700 * (10**(m / 2595) - 1)
  centres = from_scale(np.linspace(to_scale(20.0), to_scale(8000.0), 4))
  modifier = sum(np.tanh(logits[..., d].astype(np.float64)) * 10.0**-d
                 for d in range(3))
  x = centres + (0.108 * centres + 24.7) * modifier
  softplus = lambda v: np.logaddexp(0, v)
  expected = softplus(x) + 20.0 - softplus(x - (8000.0 - 20.0))
  np.testing.assert_allclose(hz, expected, rtol=1e-5)


def test_small_scaling_formulas():
  x = np.linspace(-3, 3, 7).astype(np.float32)
  sigmoid = lambda v: 1 / (1 + np.exp(-v))
  np.testing.assert_allclose(
      core.sym_exp_sigmoid(x),
      2 * sigmoid(8 * (np.abs(x) / 2 - 1))**np.log(10) + 1e-7, rtol=1e-5)
  np.testing.assert_allclose(core.log_scale([-1.0, 0.0, 1.0], 20.0, 8000.0),
                             [20.0, 400.0, 8000.0], rtol=1e-5)
  np.testing.assert_allclose(
      core.soft_limit(x, 1.0, 2.0),
      np.logaddexp(0, x) + 1.0 - np.logaddexp(0, x - 1.0), rtol=1e-5)
  assert float(core.hz_to_erb(1000.0)) == pytest.approx(132.7)
  assert float(core.hz_to_bark(1000.0)) == pytest.approx(
      26.81 / (1 + 1.96) - 0.53)


def test_nested_dict_and_tensor_utilities():
  assert core.make_iterable(None) == []
  assert len(core.make_iterable(np.ones([3, 2]))) == 1
  assert len(core.make_iterable(tf.ones([3, 2]))) == 1
  assert core.make_iterable((1, 2)) == (1, 2)
  assert core.make_iterable(3) == [3]
  features = {'a': 1}
  assert core.copy_if_tf_function(features) is features  # Eager: no copy.
  copied = tf.function(lambda d: tf.constant(core.copy_if_tf_function(d)
                                             is not d))(features)
  assert bool(copied)
  assert core.leaf_key('harmonic/controls/f0_hz') == 'f0_hz'
  assert core.map_shape({'x': tf.ones([2, 3])}) == {'x': [2, 3]}
  padded = core.pad_axis(tf.ones([2, 3]), (1, 2), axis=1).numpy()
  np.testing.assert_array_equal(padded[0], [0, 1, 1, 1, 0, 0])
  np.testing.assert_array_equal(
      core.nan_to_num(tf.constant([np.nan, 1.0]), 5.0), [5.0, 1.0])


# ------------------------------------------------------------------------------
# Resampling
# ------------------------------------------------------------------------------
LEGACY_RESIZE = {
    'linear': tf.raw_ops.ResizeBilinear,
    'cubic': tf.raw_ops.ResizeBicubic,
    'nearest': tf.raw_ops.ResizeNearestNeighbor,
}


@pytest.mark.parametrize('method', ['linear', 'cubic', 'nearest'])
@pytest.mark.parametrize('add_endpoint', [True, False])
@pytest.mark.parametrize('n_in,n_out', [(5, 1600), (100, 6400), (201, 64320),
                                        (1001, 1000), (13, 7)])
def test_resample_matches_tf1_legacy_image_resize(method, add_endpoint, n_in,
                                                  n_out):
  x = np.random.default_rng(n_in).normal(size=[2, n_in, 3]).astype(np.float32)
  expected = LEGACY_RESIZE[method](images=x[:, :, np.newaxis, :],
                                   size=[n_out, 1],
                                   align_corners=not add_endpoint,
                                   half_pixel_centers=False)[:, :, 0]
  actual = core.resample(x, n_out, method=method, add_endpoint=add_endpoint)
  np.testing.assert_allclose(actual, expected, atol=2e-6)


def test_resample_puts_frame_k_on_sample_k_hop_and_holds_the_last_frame():
  frames = np.array([0.0, 1.0, 4.0, 2.0], np.float32)
  out = core.resample(frames, 16).numpy()
  np.testing.assert_allclose(out[::4], frames)
  np.testing.assert_allclose(out[1:4], [0.25, 0.5, 0.75])
  np.testing.assert_allclose(out[-4:], [2.0] * 4)


@pytest.mark.parametrize('shape', [[5], [2, 5], [2, 5, 3], [2, 5, 4, 3]])
def test_resample_keeps_rank_and_replaces_time_axis(shape):
  out = core.resample(np.ones(shape, np.float32), 40)
  expected = list(shape)
  expected[0 if len(shape) == 1 else 1] = 40
  assert out.shape.as_list() == expected


@pytest.mark.parametrize('method', ['', 'bilinear'])
def test_resample_rejects_unknown_methods(method):
  with pytest.raises(ValueError, match='method'):
    core.resample(np.ones([1, 5, 1]), 10, method=method)


def test_window_upsampling_is_a_raised_cosine_crossfade_between_frames():
  frames = np.array([[[1.0], [3.0], [-2.0]]], np.float32)
  hop = 8
  out = core.upsample_with_windows(frames, 3 * hop).numpy()[0, :, 0]
  m = np.arange(hop)
  fade_in = 0.5 - 0.5 * np.cos(np.pi * m / hop)
  expected = np.concatenate([
      1.0 * (1 - fade_in) + 3.0 * fade_in,
      3.0 * (1 - fade_in) - 2.0 * fade_in,
      np.full(hop, -2.0),
  ])
  np.testing.assert_allclose(out, expected, atol=1e-6)
  np.testing.assert_allclose(core.resample(frames, 3 * hop, 'window'),
                             out[np.newaxis, :, np.newaxis])


@pytest.mark.parametrize('n_frames,add_endpoint,valid', [
    (5, True, True), (6, False, True), (6, True, False), (7, False, False)])
def test_window_upsampling_requires_integer_hops(n_frames, add_endpoint, valid):
  frames = np.ones([1, n_frames, 2], np.float32)
  if valid:
    out = core.upsample_with_windows(frames, 16000, add_endpoint=add_endpoint)
    assert out.shape == (1, 16000, 2)
  else:
    with pytest.raises(ValueError, match='multiple'):
      core.upsample_with_windows(frames, 16000, add_endpoint=add_endpoint)


def test_window_upsampling_rejects_downsampling_and_non_3d_inputs():
  with pytest.raises(ValueError, match='only upsamples'):
    core.upsample_with_windows(np.ones([1, 10, 1]), 5)
  with pytest.raises(ValueError, match='3 dimensions'):
    core.upsample_with_windows(np.ones([1, 10]), 100)
  with pytest.raises(ValueError):
    core.resample(np.ones([1, 5, 2, 2]), 100, method='window')


# ------------------------------------------------------------------------------
# Oscillators
# ------------------------------------------------------------------------------
def test_oscillator_bank_matches_numpy_inclusive_phase_accumulation():
  rng = np.random.default_rng(1)
  n = 4000
  freqs = rng.uniform(50, 3000, size=[2, 1, 3]) * np.ones([1, n, 1])
  amps = rng.uniform(0.1, 1.0, size=[2, 1, 3]) * np.ones([1, n, 1])
  freqs = freqs.astype(np.float32)
  phases = np.cumsum(2 * np.pi * freqs.astype(np.float64) / SAMPLE_RATE, axis=1)
  expected = np.sum(amps * np.sin(phases), axis=-1)
  out = core.oscillator_bank(freqs, amps.astype(np.float32))
  np.testing.assert_allclose(out, expected, atol=1e-4)
  # angular_cumsum sums in float32 within chunks of 1000 samples (ddsp 3.7.0),
  # so it is less precise for constant high frequencies.
  out = core.oscillator_bank(freqs, amps.astype(np.float32),
                             use_angular_cumsum=True)
  np.testing.assert_allclose(out, expected, atol=0.05)


@pytest.mark.parametrize('sample_rate', [4000, 16000, 44100])
def test_oscillator_bank_is_silent_at_and_above_nyquist(sample_rate):
  n = 1000
  freqs = np.linspace(1.0, 2.0, 8) * sample_rate / 2
  freqs = np.tile(freqs[np.newaxis, np.newaxis, :], [1, n, 1])
  out = core.oscillator_bank(freqs.astype(np.float32), np.ones_like(freqs),
                             sample_rate=sample_rate)
  np.testing.assert_array_equal(out, 0.0)


def test_angular_cumsum_equals_float64_cumsum_modulo_two_pi():
  omegas = np.random.default_rng(2).uniform(0, np.pi, size=[2, 4321, 2])
  out = core.angular_cumsum(omegas.astype(np.float32), chunk_size=1000).numpy()
  expected = np.mod(np.cumsum(omegas.astype(np.float32).astype(np.float64),
                              axis=1), 2 * np.pi)
  distance = np.abs(np.angle(np.exp(1j * (out - expected))))
  assert distance.max() < 2e-3
  assert out.min() >= 0.0 and out.max() < 2 * np.pi


def test_harmonic_synthesis_single_harmonic_is_a_sine_of_requested_frequency():
  n_frames, n_samples = 100, 16000
  f0 = np.full([1, n_frames, 1], 440.0, np.float32)
  amplitude = np.full([1, n_frames, 1], 0.5, np.float32)
  audio = core.harmonic_synthesis(f0, amplitude,
                                  harmonic_distribution=np.ones(
                                      [1, n_frames, 1], np.float32),
                                  n_samples=n_samples).numpy()[0]
  frequency, peak_amplitude = test_util.spectral_peak(audio, SAMPLE_RATE)
  assert frequency == pytest.approx(440.0, abs=1.0)
  assert peak_amplitude == pytest.approx(0.5, rel=0.02)


def test_harmonic_synthesis_4s_440hz_tone_stays_in_phase_to_the_end():
  n_samples = 64000
  f0 = np.full([1, 1000, 1], 440.0, np.float32)
  audio = core.harmonic_synthesis(f0, np.ones([1, 1000, 1], np.float32),
                                  harmonic_distribution=np.ones([1, 1000, 1]),
                                  n_samples=n_samples).numpy()[0]
  # Inclusive cumsum: sample n has phase 2 pi f (n + 1) / sr.
  expected = np.sin(2 * np.pi * 440.0 * (np.arange(n_samples) + 1) /
                    SAMPLE_RATE)
  np.testing.assert_allclose(audio[-1600:], expected[-1600:], atol=1e-4)


def test_harmonic_synthesis_sums_harmonics_with_their_distribution():
  n_frames, n_samples = 50, 8000
  f0 = np.full([1, n_frames, 1], 200.0, np.float32)
  distribution = np.tile(np.array([0.5, 0.0, 0.25], np.float32),
                         [1, n_frames, 1])
  audio = core.harmonic_synthesis(f0, np.ones([1, n_frames, 1]),
                                  harmonic_distribution=distribution,
                                  n_samples=n_samples).numpy()[0]
  n = np.arange(n_samples) + 1
  expected = (0.5 * np.sin(2 * np.pi * 200 * n / SAMPLE_RATE) +
              0.25 * np.sin(2 * np.pi * 600 * n / SAMPLE_RATE))
  np.testing.assert_allclose(audio, expected, atol=1e-4)


@pytest.mark.parametrize('method', ['window', 'linear', 'cubic', 'nearest'])
def test_harmonic_synthesis_equals_oscillator_bank_on_upsampled_envelopes(
    method):
  rng = np.random.default_rng(3)
  n_frames, n_harmonics, n_samples = 20, 30, 4000
  f0 = rng.uniform(100, 700, size=[2, n_frames, 1]).astype(np.float32)
  amps = rng.uniform(0, 1, size=[2, n_frames, 1]).astype(np.float32)
  dist = rng.uniform(0, 1, size=[2, n_frames, n_harmonics]).astype(np.float32)
  audio = core.harmonic_synthesis(f0, amps, harmonic_distribution=dist,
                                  n_samples=n_samples,
                                  amp_resample_method=method)
  freq_env = core.resample(core.get_harmonic_frequencies(f0, n_harmonics),
                           n_samples)
  amp_env = core.resample(amps * dist, n_samples, method=method)
  expected = core.oscillator_bank(freq_env, amp_env)
  np.testing.assert_allclose(audio, expected, atol=2e-3)


def test_harmonic_synthesis_silences_harmonics_above_nyquist():
  f0 = np.full([1, 10, 1], SAMPLE_RATE / 2.0, np.float32)
  audio = core.harmonic_synthesis(f0, np.ones([1, 10, 1]),
                                  harmonic_distribution=np.ones([1, 10, 5]),
                                  n_samples=1000)
  np.testing.assert_array_equal(audio, 0.0)


def test_harmonic_synthesis_gradients_match_finite_differences():
  rng = np.random.default_rng(4)
  n_frames, n_samples = 4, 64
  f0 = tf.constant(rng.uniform(500, 1500, [1, n_frames, 1]), tf.float64)
  dist = tf.constant(rng.uniform(0, 1, [1, n_frames, 3]), tf.float64)
  amps = np.ones([1, n_frames, 1], np.float32)

  def loss(f0, dist):
    audio = core.harmonic_synthesis(f0, amps, harmonic_distribution=dist,
                                    n_samples=n_samples,
                                    amp_resample_method='linear')
    return tf.reduce_sum(audio * np.linspace(-1, 1, n_samples))

  with tf.GradientTape() as tape:
    tape.watch([f0, dist])
    value = loss(f0, dist)
  grad_dist = tape.gradient(value, dist).numpy()
  eps = 1e-2
  for index in [(0, 0, 0), (0, 2, 1), (0, 3, 2)]:
    delta = np.zeros(dist.shape)
    delta[index] = eps
    numeric = (loss(f0, dist + delta) - loss(f0, dist - delta)) / (2 * eps)
    assert grad_dist[index] == pytest.approx(float(numeric), rel=1e-2,
                                             abs=1e-3)


def test_harmonic_oscillator_bank_streams_blocks_with_carried_phase():
  n = 640
  f0 = np.full([1, 2 * n, 1], 330.0, np.float32)
  amps = np.tile(np.array([[[1.0, 0.5, 0.25]]], np.float32), [1, 2 * n, 1])
  # angular_cumsum sums in float32 within chunks (ddsp 3.7.0): looser bound.
  for angular, atol in [(False, 1e-4), (True, 1e-2)]:
    whole, _ = core.harmonic_oscillator_bank(f0, amps,
                                             use_angular_cumsum=angular)
    first, phase = core.harmonic_oscillator_bank(f0[:, :n], amps[:, :n],
                                                 use_angular_cumsum=angular)
    second, _ = core.harmonic_oscillator_bank(f0[:, n:], amps[:, n:],
                                              initial_phase=phase,
                                              use_angular_cumsum=angular)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole,
                               atol=atol)


def test_normalize_harmonics_drops_harmonics_above_nyquist_and_sums_to_one():
  dist = np.ones([1, 2, 4], np.float32)
  f0 = np.array([[[1000.0], [3000.0]]], np.float32)
  out = core.normalize_harmonics(dist, f0, SAMPLE_RATE).numpy()
  np.testing.assert_allclose(out[0, 0], [0.25] * 4)
  np.testing.assert_allclose(out[0, 1], [0.5, 0.5, 0.0, 0.0])


def test_harmonic_to_sinusoidal_removes_harmonics_and_renormalises():
  harm_amp = np.array([[[1.0], [1.0], [1.0]]], np.float32)
  harm_dist = np.ones([1, 3, 3], np.float32) / 3.0
  f0 = np.array([[[1000.0], [3001.0], [8001.0]]], np.float32)
  amps, freqs = core.harmonic_to_sinusoidal(harm_amp, harm_dist, f0)
  np.testing.assert_allclose(freqs[0, 0], [1000.0, 2000.0, 3000.0])
  np.testing.assert_allclose(amps[0], [[1 / 3] * 3, [0.5, 0.5, 0.0],
                                       [0.0] * 3], atol=1e-6)


def test_sinusoidal_to_harmonic_recovers_harmonic_controls():
  f0 = np.full([1, 1, 1], 200.0, np.float32)
  sin_freqs = np.array([[[200.0, 400.0, 600.0]]], np.float32)
  sin_amps = np.array([[[0.5, 0.3, 0.2]]], np.float32)
  harm_amp, harm_dist = core.sinusoidal_to_harmonic(sin_amps, sin_freqs, f0,
                                                    n_harmonics=4)
  np.testing.assert_allclose(harm_amp, [[[1.0]]], atol=1e-5)
  np.testing.assert_allclose(harm_dist, [[[0.5, 0.3, 0.2, 0.0]]], atol=1e-5)


def test_harmonic_synthesis_shifts_each_harmonic_frequency():
  f0 = np.full([1, 5, 1], 100.0, np.float32)
  shifts = np.tile(np.float32([[[0.0, 0.5]]]), [1, 5, 1])
  distribution = np.full([1, 5, 2], 0.5, np.float32)
  audio = core.harmonic_synthesis(f0, np.ones([1, 5, 1], np.float32),
                                  harmonic_shifts=shifts,
                                  harmonic_distribution=distribution,
                                  n_samples=1600,
                                  amp_resample_method='linear').numpy()[0]
  n = np.arange(1, 1601)  # Inclusive phase accumulation.
  expected = (0.5 * np.sin(2 * np.pi * 100 * n / SAMPLE_RATE) +
              0.5 * np.sin(2 * np.pi * 300 * n / SAMPLE_RATE))
  np.testing.assert_allclose(audio, expected, atol=1e-5)


# ------------------------------------------------------------------------------
# Wavetables and delays
# ------------------------------------------------------------------------------
def test_linear_lookup_matches_numpy_interpolation_with_wrap():
  rng = np.random.default_rng(5)
  table = rng.normal(size=[2, 16]).astype(np.float32)
  phase = rng.uniform(0, 1, size=[2, 50]).astype(np.float32)
  phase[:, 0] = 1.0
  out = core.linear_lookup(phase, table).numpy()
  grid = np.arange(17) / 16
  for b in range(2):
    expected = np.interp(phase[b], grid, np.append(table[b], table[b, 0]))
    np.testing.assert_allclose(out[b], expected, atol=1e-5)


def test_linear_lookup_reads_per_sample_tables():
  tables = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
  phase = np.array([[0.0, 0.25, 0.625], [0.5, 0.75, 0.125]], np.float32)
  out = core.linear_lookup(phase, tables).numpy()
  expected = [[tables[0, 0, 0], tables[0, 1, 1],
               0.5 * (tables[0, 2, 2] + tables[0, 2, 3])],
              [tables[1, 0, 2], tables[1, 1, 3],
               0.5 * (tables[1, 2, 0] + tables[1, 2, 1])]]
  np.testing.assert_allclose(out, expected, atol=1e-5)


def test_wavetable_synthesis_of_a_sine_table_is_a_sine():
  n_samples = 8000
  table = np.sin(np.linspace(0, 2 * np.pi, 2048, endpoint=False))
  table = np.tile(table[np.newaxis, np.newaxis, :], [1, 5, 1]).astype(
      np.float32)
  f0 = np.full([1, 5, 1], 250.0, np.float32)
  audio = core.wavetable_synthesis(f0, np.ones([1, 5, 1], np.float32), table,
                                   n_samples=n_samples).numpy()[0]
  expected = np.sin(2 * np.pi * 250.0 * np.arange(n_samples) / SAMPLE_RATE)
  np.testing.assert_allclose(audio, expected, atol=1e-4)


def test_harmonic_distribution_to_wavetable_is_cosine_sum():
  dist = np.array([[[0.5, 0.0, 0.25]]], np.float32)
  table = core.harmonic_distribution_to_wavetable(dist, 64).numpy()[0, 0]
  n = np.arange(64)
  expected = (0.5 * np.cos(2 * np.pi * n / 64) +
              0.25 * np.cos(2 * np.pi * 3 * n / 64))
  np.testing.assert_allclose(table, expected, atol=1e-5)


@pytest.mark.parametrize('phase,sign', [(0.0, 1.0), (0.5, -1.0), (1.0, 1.0)])
def test_variable_length_delay_shifts_sine_by_phase_of_max_length(phase, sign):
  max_length = 64
  n = 1000
  audio = np.sin(2 * np.pi * np.arange(n) / max_length)[np.newaxis].astype(
      np.float32)
  out = core.variable_length_delay(np.full([1, n, 1], phase, np.float32),
                                   audio, max_length=max_length).numpy()
  np.testing.assert_allclose(out[:, max_length:], sign * audio[:, max_length:],
                             atol=1e-5)


def test_variable_length_delay_integer_delay_is_a_shift_with_zeros():
  audio = np.random.default_rng(6).normal(size=[1, 200]).astype(np.float32)
  out = core.variable_length_delay(np.full([1, 200], 10 / 32, np.float32),
                                   audio, max_length=32).numpy()
  np.testing.assert_allclose(out[0, 10:], audio[0, :-10], atol=1e-6)
  np.testing.assert_array_equal(out[0, :10], 0.0)


def test_linear_lookup_does_not_wrap_phases_outside_zero_to_one():
  table = np.float32([[0.0, 1.0, 2.0, 3.0]])
  phase = np.float32([[-0.1, 0.125, 0.9, 1.0, 1.1, 1.3]])
  # Triangular weights on points j/4 of [0, 1, 2, 3, table[0]]: a phase
  # below 0 or above 1 only reaches the end points partly or not at all.
  np.testing.assert_allclose(core.linear_lookup(phase, table),
                             [[0.0, 0.5, 1.2, 0.0, 0.0, 0.0]], atol=1e-6)


# ------------------------------------------------------------------------------
# FIR filtering
# ------------------------------------------------------------------------------
@pytest.mark.parametrize('audio_size,ir_size', [(1000, 100), (100, 1000)])
def test_fft_convolve_matches_numpy_full_convolution(audio_size, ir_size):
  rng = np.random.default_rng(7)
  audio = rng.normal(size=[2, audio_size]).astype(np.float32)
  ir = rng.normal(size=[2, ir_size]).astype(np.float32)
  out = core.fft_convolve(audio, ir, padding='valid', delay_compensation=0)
  expected = [np.convolve(audio[b], ir[b]) for b in range(2)]
  np.testing.assert_allclose(out, expected, atol=1e-3)


def test_fft_convolve_time_varying_filters_each_block_with_its_ir():
  rng = np.random.default_rng(8)
  audio = rng.normal(size=[1, 120]).astype(np.float32)
  irs = rng.normal(size=[1, 3, 9]).astype(np.float32)
  out = core.fft_convolve(audio, irs, padding='valid', delay_compensation=0)
  expected = np.zeros(120 + 9 - 1)
  for k in range(3):
    block = np.zeros(120)
    block[40 * k:40 * (k + 1)] = audio[0, 40 * k:40 * (k + 1)]
    expected += np.convolve(block, irs[0, k])
  np.testing.assert_allclose(out[0], expected, atol=1e-4)


def test_fft_convolve_checks_batch_padding_and_frames():
  with pytest.raises(ValueError, match='Batch size'):
    core.fft_convolve(np.ones([2, 100]), np.ones([3, 10]))
  with pytest.raises(ValueError, match='padding'):
    core.fft_convolve(np.ones([1, 100]), np.ones([1, 10]), padding='full')
  for n_frames in (1010, 999):
    with pytest.raises(ValueError, match='do not match'):
      core.fft_convolve(np.ones([1, 1000]), np.ones([1, n_frames, 10]))
  assert core.fft_convolve(np.ones([1, 1000]),
                           np.ones([1, 13, 10])).shape == (1, 1000)


@pytest.mark.parametrize('gain', [1.0, 0.1])
def test_frequency_filter_compensates_group_delay_of_windowed_irs(gain):
  audio = np.random.default_rng(9).normal(size=[1, 1000]).astype(np.float32)
  magnitudes = np.full([1, 10, 1025], gain, np.float32)
  out = core.frequency_filter(audio, magnitudes, window_size=257)
  # A flat response is a delta at lag 0, where the zero-phase Hann window of
  # 257 samples is w[129] (ddsp 3.7.0 centres it one sample off; TF's
  # 'periodic' Hann of odd length has denominator 256).
  lag0_gain = 0.5 - 0.5 * np.cos(2 * np.pi * 129 / 256)
  np.testing.assert_allclose(out, gain * lag0_gain * audio, atol=1e-5)


def test_frequency_filter_with_full_window_lags_by_two_samples():
  audio = np.random.default_rng(10).normal(size=[1, 1000]).astype(np.float32)
  magnitudes = np.ones([1, 10, 65], np.float32)
  out = core.frequency_filter(audio, magnitudes, window_size=0).numpy()
  # A flat response has a delta IR, so only the documented 2-sample lag is
  # left (ddsp 3.7.0 behaviour); Hann windowing scales lag 0 by 1.
  np.testing.assert_allclose(out[0, 2:], audio[0, :-2], atol=1e-4)


def test_frequency_filter_attenuates_bands_with_zero_magnitude():
  n = 16000
  t = np.arange(n) / SAMPLE_RATE
  low = np.sin(2 * np.pi * 500 * t)
  high = np.sin(2 * np.pi * 6000 * t)
  magnitudes = np.zeros([1, 1, 513], np.float32)
  magnitudes[..., :129] = 1.0  # Pass 0 .. 2 kHz.
  out = core.frequency_filter((low + high)[np.newaxis].astype(np.float32),
                              magnitudes, window_size=257).numpy()[0]
  segment = slice(1000, -1000)
  np.testing.assert_allclose(out[segment], low[segment], atol=0.02)


@pytest.mark.parametrize('window_size,ir_size,expected', [
    (257, 2048, 257), (22, 2048, 21), (0, 2048, 2048), (2048, 1024, 1024)])
def test_windowed_impulse_response_lengths(window_size, ir_size, expected):
  magnitudes = np.ones([1, 2, ir_size // 2 + 1], np.float32)
  ir = core.frequency_impulse_response(magnitudes, window_size=window_size)
  assert ir.shape[-1] == expected


def test_frequency_impulse_response_of_flat_magnitudes_is_centred_delta():
  ir = core.frequency_impulse_response(np.ones([1, 1, 33], np.float32),
                                       window_size=0).numpy()[0, 0]
  expected = np.zeros(64)
  expected[32] = 1.0
  np.testing.assert_allclose(ir, expected, atol=1e-6)


def test_sinc_filter_passes_low_and_removes_high_frequencies():
  n = 16000
  t = np.arange(n) / SAMPLE_RATE
  audio = (np.sin(2 * np.pi * 300 * t) + np.sin(2 * np.pi * 5000 * t))
  cutoff = np.full([1, 1, 1], 2000.0, np.float32)
  out = core.sinc_filter(audio[np.newaxis].astype(np.float32), cutoff,
                         window_size=256, sample_rate=SAMPLE_RATE).numpy()[0]
  low = np.sin(2 * np.pi * 300 * t)
  # Output lags by one sample (documented ddsp 3.7.0 behaviour).
  np.testing.assert_allclose(out[1001:-1000], low[1000:-1001], atol=0.01)


@pytest.mark.parametrize('high_pass,window_size', [(True, 257), (False, 256)])
def test_sinc_impulse_response_has_odd_length_and_unity_dc_gain(
    high_pass, window_size):
  ir = core.sinc_impulse_response(np.full([1, 1, 1], 0.25, np.float32),
                                  window_size=window_size,
                                  high_pass=high_pass).numpy()[0, 0]
  assert len(ir) == 257
  assert ir.sum() == pytest.approx(0.0 if high_pass else 1.0, abs=1e-5)
  lowpass = core.sinc_impulse_response(np.full([1, 1, 1], 0.25, np.float32),
                                       window_size=window_size).numpy()[0, 0]
  expected = scipy.signal.firwin(257, 0.25, window='hamming')
  # Periodic vs symmetric Hamming differ slightly; the responses agree.
  np.testing.assert_allclose(np.abs(np.fft.rfft(lowpass, 1024)),
                             np.abs(np.fft.rfft(expected, 1024)), atol=0.02)


def test_get_fft_size_pads_to_powers_of_two_or_fast_lengths():
  assert core.get_fft_size(64, 128) == 256
  assert core.get_fft_size(1000, 1000, power_of_2=False) == 2000
  assert core.get_fft_size(1000, 1002, power_of_2=False) == 2025


def test_crop_and_compensate_delay_selects_same_and_valid_windows():
  audio = np.arange(20, dtype=np.float32)[np.newaxis]
  same = core.crop_and_compensate_delay(audio, 10, 7, 'same', -1)
  np.testing.assert_array_equal(same[0], np.arange(2, 12))
  valid = core.crop_and_compensate_delay(audio, 10, 7, 'valid', 0)
  np.testing.assert_array_equal(valid[0], np.arange(0, 16))
  with pytest.raises(ValueError, match='padding'):
    core.crop_and_compensate_delay(audio, 10, 7, 'causal', 0)


def test_sinc_impulse_response_is_a_hamming_windowed_sinc():
  # An odd-length `tf.signal.hamming_window` is symmetric (TF's "periodic"
  # only changes even lengths), i.e. numpy's np.hamming.
  impulse_response = core.sinc_impulse_response(np.float32([[[0.25]]]),
                                                window_size=8).numpy()[0, 0]
  expected = np.sinc(0.25 * np.arange(-4, 5)) * np.hamming(9)
  np.testing.assert_allclose(impulse_response, expected / expected.sum(),
                             atol=1e-6)
  high_pass = core.sinc_impulse_response(np.float32([[[4000.0]]]), 8,
                                         sample_rate=SAMPLE_RATE,
                                         high_pass=True).numpy()[0, 0]
  low_pass = np.sinc(0.5 * np.arange(-4, 5)) * np.hamming(9)
  np.testing.assert_allclose(high_pass,
                             np.eye(9)[4] - low_pass / low_pass.sum(),
                             atol=1e-6)


def test_center_crop_removes_half_a_frame_at_each_end():
  audio = np.arange(20, dtype=np.float32)[np.newaxis]
  np.testing.assert_array_equal(core.center_crop(audio, 8),
                                audio[:, 4:-4])


def test_exp_sigmoid_inverse_round_trips_and_rejects_unreachable_values():
  y = np.array([2e-7, 1e-4, 0.01, 0.4, 1.0, 1.9], np.float32)
  x = core.exp_sigmoid_inverse(y)
  np.testing.assert_allclose(core.exp_sigmoid(x), y, rtol=1e-4)
  # The closed form at the midpoint: exp_sigmoid(0) = 2 * 0.5**ln(10).
  np.testing.assert_allclose(
      core.exp_sigmoid_inverse(2 * 0.5**np.log(10.0) + 1e-7), 0.0, atol=1e-5)
  x = np.linspace(-8.0, 8.0, 17).astype(np.float32)
  np.testing.assert_allclose(
      core.exp_sigmoid_inverse(core.exp_sigmoid(x, 5.0, 3.0, 1e-4), 5.0, 3.0,
                               1e-4), x, atol=2e-3)
  for bad in (0.0, 1e-7, 2.0000001 + 1e-7, -1.0):
    with pytest.raises(ValueError, match='exp_sigmoid_inverse'):
      core.exp_sigmoid_inverse([0.5, bad])
