"""Tests for ddsp.training.postprocessing: notes, quantiles, dataset stats."""
import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import postprocessing


def test_smooth_is_a_zero_padded_box_filter_with_extra_tap_on_the_right():
  x = np.array([0., 0., 3., 0., 0., 6.])
  # Size 3: mean of x[i-1..i+1]; size 2: mean of x[i..i+1] (TF 'SAME').
  np.testing.assert_allclose(postprocessing.smooth(x, 3),
                             [0., 1., 1., 1., 2., 2.])
  np.testing.assert_allclose(postprocessing.smooth(x, 2),
                             [0., 1.5, 1.5, 0., 3., 3.])


def test_smooth_filters_each_row_of_a_batch():
  x = np.stack([np.ones(5), np.arange(5.0)])
  out = postprocessing.smooth(x, 3)
  assert out.shape == (2, 5) and out.dtype == np.float32
  np.testing.assert_allclose(out[0], [2 / 3, 1, 1, 1, 2 / 3])
  np.testing.assert_allclose(out[1], [1 / 3, 1, 2, 3, 7 / 3])


def test_detect_notes_finds_the_loud_confident_segment():
  n = 400
  loudness = np.full(n, -80.0)
  confidence = np.full(n, 0.1)
  loudness[100:300] = -20.0
  confidence[100:300] = 0.95
  mask_on, ratio = postprocessing.detect_notes(loudness, confidence)
  assert ratio.shape == (n,)
  # Smoothing over 40 frames blurs the edges by up to 20 frames.
  assert np.all(mask_on[125:275])
  assert not np.any(mask_on[:80]) and not np.any(mask_on[320:])


def test_detect_notes_threshold_follows_the_formula():
  loudness = np.array([-40.0, -60.0, -20.0])
  confidence = np.ones(3)
  _, ratio = postprocessing.detect_notes(loudness, confidence, smoothing=1)
  # mean -40 dB -> threshold (80 - 40) * 0.7**2 = 19.6.
  np.testing.assert_allclose(ratio, np.array([40., 20., 60.]) / 19.6,
                             rtol=1e-6)


def test_quantile_transform_maps_data_to_its_uniform_rank():
  np.random.seed(0)
  x = np.random.randn(5000, 1) * 10 - 30
  qt = postprocessing.QuantileTransformer(n_quantiles=1000)
  u = qt.fit_transform(x)
  assert qt.n_quantiles_ == 1000
  assert u.min() == 0.0 and u.max() == 1.0
  # The uniform output equals the empirical CDF (rank / (n - 1)).
  ranks = np.argsort(np.argsort(x[:, 0])) / (len(x) - 1)
  np.testing.assert_allclose(u[:, 0], ranks, atol=2e-3)
  np.testing.assert_allclose(np.mean(u), 0.5, atol=1e-3)


def test_quantile_transform_round_trip_recovers_the_data():
  np.random.seed(1)
  x = np.random.uniform(-80, 0, size=(3000, 2))
  qt = postprocessing.QuantileTransformer(n_quantiles=3000).fit(x)
  np.testing.assert_allclose(qt.inverse_transform(qt.transform(x)), x,
                             atol=1e-9)


def test_quantile_transform_normal_output_is_standard_normal():
  np.random.seed(2)
  x = np.random.exponential(size=(20000, 1))
  z = postprocessing.QuantileTransformer(
      output_distribution='normal').fit_transform(x)
  assert abs(np.mean(z)) < 0.05 and abs(np.std(z) - 1) < 0.1
  assert np.all(np.isfinite(z))


def test_quantile_transform_uses_fewer_quantiles_than_samples():
  qt = postprocessing.QuantileTransformer().fit(np.arange(10.0)[:, None])
  assert qt.n_quantiles_ == 10
  np.testing.assert_allclose(qt.quantiles_[:, 0], np.arange(10.0))


def test_quantile_transform_rejects_bad_arguments():
  with pytest.raises(ValueError, match='output_distribution'):
    postprocessing.QuantileTransformer(output_distribution='cauchy')
  with pytest.raises(ValueError, match='not fitted'):
    postprocessing.QuantileTransformer().transform(np.zeros((2, 1)))
  with pytest.raises(ValueError, match='2-D'):
    postprocessing.QuantileTransformer().fit(np.zeros(3))


def test_fit_quantile_transform_maps_notes_onto_another_distribution():
  np.random.seed(3)
  loudness = np.random.uniform(-60, -40, size=(4, 50))
  mask = np.zeros((4, 50), bool)
  mask[:, 10:40] = True
  target = postprocessing.QuantileTransformer().fit(
      np.random.uniform(-30, -10, size=(2000, 1)))
  qt, loudness_norm = postprocessing.fit_quantile_transform(
      loudness, mask, inv_quantile=target)
  assert isinstance(qt, postprocessing.QuantileTransformer)
  assert loudness_norm.shape == loudness.shape
  # Note frames move into the target's range, keeping their order.
  assert np.all((loudness_norm[mask] >= -30.5) & (loudness_norm[mask] <= -9.5))
  order = np.argsort(loudness[mask])
  assert np.all(np.diff(loudness_norm[mask][order]) >= 0)
  np.testing.assert_array_equal(loudness_norm[~mask], loudness[~mask])


def test_get_stats_without_and_with_mask():
  x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
  stats = postprocessing.get_stats(x, 'x')
  assert stats == pytest.approx({
      'mean_x': 3.5, 'max_x': 6.0, 'min_x': 1.0, 'mean_max_x': 4.5,
      'mean_min_x': 2.5, 'std_x': np.std(x)})
  mask = np.array([[False, True, True], [False, False, False]])
  stats = postprocessing.get_stats(x, 'x_note', mask)
  assert stats == pytest.approx({
      'mean_x_note': 2.5, 'max_x_note': 3.0, 'min_x_note': 2.0,
      'mean_max_x_note': 3.0, 'mean_min_x_note': 2.0, 'std_x_note': 0.5})


class _ListProvider:
  """A minimal data provider over in-memory examples."""

  sample_rate = 16000
  frame_rate = 250

  def __init__(self, examples):
    self._examples = examples

  def get_batch(self, batch_size, shuffle=True, repeats=-1,
                drop_remainder=True):
    del shuffle
    dataset = tf.data.Dataset.from_tensor_slices(self._examples)
    return dataset.repeat(repeats).batch(batch_size, drop_remainder)


def test_compute_dataset_statistics_keys_and_pitch_values():
  n_examples, n_frames = 3, 250
  t = np.arange(16000) / 16000
  audio = np.stack([0.5 * np.sin(2 * np.pi * 440 * t)] * n_examples)
  f0_hz = np.full((n_examples, n_frames), 440.0)
  f0_hz[:, :100] = 220.0
  examples = {
      'audio_16k': audio.astype(np.float32),
      'f0_hz': f0_hz.astype(np.float32),
      'f0_confidence': np.full((n_examples, n_frames), 0.9, np.float32),
      'loudness_db': np.full((n_examples, n_frames), -30.0, np.float32),
  }
  stats = postprocessing.compute_dataset_statistics(_ListProvider(examples),
                                                    batch_size=2)
  expected_keys = {f'{stat}_{prefix}'
                   for stat in ('mean', 'max', 'min', 'mean_max', 'mean_min',
                                'std')
                   for prefix in ('pitch', 'power', 'loudness', 'pitch_note',
                                  'power_note', 'loudness_note')}
  assert set(stats) == expected_keys | {'quantile_transform'}
  # 100 of the 230 frames left after trimming 20 are at MIDI 57, others 69.
  assert stats['min_pitch'] == pytest.approx(57.0, abs=1e-4)
  assert stats['max_pitch'] == pytest.approx(69.0, abs=1e-4)
  assert stats['mean_pitch'] == pytest.approx((100 * 57 + 130 * 69) / 230,
                                              abs=1e-3)
  assert stats['mean_loudness'] == pytest.approx(-30.0)
  # A -6 dBFS sine has a mean square of 1/8: about -9 dB power.
  assert stats['mean_power_note'] == pytest.approx(-9.03, abs=0.5)
  assert isinstance(stats['quantile_transform'],
                    postprocessing.QuantileTransformer)
