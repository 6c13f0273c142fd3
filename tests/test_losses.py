"""Tests of ddsp.losses against numpy re-derivations."""

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from ddsp import losses
from ddsp import spectral_ops


def noise(shape, seed=0):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize('loss_type,fn', [
    ('L1', lambda d, w: np.mean(np.abs(d * w))),
    ('l2', lambda d, w: np.mean(d**2 * w))])
def test_mean_difference_matches_numpy(loss_type, fn):
  target, value = noise([3, 4]), noise([3, 4], 1)
  weights = np.abs(noise([3, 1], 2))
  expected = fn(target - value, weights)
  assert float(losses.mean_difference(target, value, loss_type,
                                      weights)) == pytest.approx(expected,
                                                                 rel=1e-5)


def test_mean_difference_cosine_is_one_minus_dot_product_of_unit_vectors():
  target = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
  value = np.array([[0.6, 0.8], [0.0, 1.0]], np.float32)
  loss = losses.mean_difference(target, value, 'COSINE')
  assert float(loss) == pytest.approx(((1 - 0.6) + 0.0) / 2, rel=1e-6)


def test_mean_difference_rejects_unknown_type():
  with pytest.raises(ValueError, match='loss_type'):
    losses.mean_difference(1.0, 2.0, 'L3')


def test_spectral_loss_of_identical_audio_is_zero_and_positive_otherwise():
  audio = noise([2, 8000])
  loss = losses.SpectralLoss(logmag_weight=1.0, delta_time_weight=1.0,
                             delta_freq_weight=1.0, cumsum_freq_weight=1.0,
                             loudness_weight=1.0)
  assert float(loss(audio, audio)) == 0.0
  assert float(loss(audio, 0.5 * audio)) > 0.0


def test_spectral_loss_sums_l1_magnitude_and_logmag_distances_over_scales():
  target, value = noise([2, 4000]), noise([2, 4000], 1)
  loss = losses.SpectralLoss(fft_sizes=(256, 64), mag_weight=1.0,
                             logmag_weight=0.5)
  expected = 0.0
  for size in (256, 64):
    t = np.abs(spectral_ops.stft_np(target, size, 0.75))
    v = np.abs(spectral_ops.stft_np(value, size, 0.75))
    expected += np.mean(np.abs(t - v))
    expected += 0.5 * np.mean(np.abs(np.log(t) - np.log(v)))
  assert float(loss(target, value)) == pytest.approx(expected, rel=1e-3)


def test_spectral_loss_gradient_points_towards_the_target():
  target = noise([1, 4000])
  audio = tf.Variable(0.5 * target)
  loss_fn = losses.SpectralLoss(fft_sizes=(512, 128))
  with tf.GradientTape() as tape:
    loss = loss_fn(target, audio)
  grad = tape.gradient(loss, audio)
  step = audio - 0.01 * grad / tf.norm(grad)
  assert float(loss_fn(target, step)) < float(loss)


def test_loss_group_merges_named_losses():
  group = losses.LossGroup(dag=[
      (losses.SpectralLoss(fft_sizes=(256,)), ['audio', 'audio_synth']),
      (losses.ParamLoss(weight=2.0, name='amp_loss'), ['amps', 'amps_target']),
  ])
  outputs = {'audio': noise([1, 2000]), 'audio_synth': noise([1, 2000], 1),
             'amps': np.ones([1, 4], np.float32),
             'amps_target': np.zeros([1, 4], np.float32)}
  loss_dict = group(outputs)
  assert sorted(loss_dict) == ['amp_loss', 'spectral_loss']
  assert float(loss_dict['amp_loss']) == pytest.approx(2.0)


@pytest.mark.parametrize('weighted', [False, True])
def test_wasserstein_distance_matches_scipy(weighted):
  u, v = noise([5]), noise([7], 1) + 1.0
  u_w = np.abs(noise([5], 2)) if weighted else None
  v_w = np.abs(noise([7], 3)) if weighted else None
  expected = scipy.stats.wasserstein_distance(u, v, u_w, v_w)
  actual = losses.wasserstein_distance(u[np.newaxis], v[np.newaxis],
                                       None if u_w is None else u_w[None],
                                       None if v_w is None else v_w[None])
  assert float(actual[0]) == pytest.approx(expected, rel=1e-4)


def test_wasserstein_consistency_loss_is_zero_for_identical_sets():
  amps, freqs = np.abs(noise([1, 3, 4])), np.abs(noise([1, 3, 4], 1)) * 1000
  loss = losses.WassersteinConsistencyLoss()
  assert float(loss(amps, freqs, amps, freqs)) == pytest.approx(0.0, abs=1e-6)
  assert float(loss(amps, freqs, amps, 2 * freqs)) > 1.0  # ~12 semitones.


def test_harmonic_consistency_loss_masks_quiet_frames():
  amp = np.array([[[1.0], [0.0]]], np.float32)
  dist = np.array([[[1.0, 0.0], [1.0, 0.0]]], np.float32)
  dist_target = np.array([[[1.0, 0.0], [0.0, 1.0]]], np.float32)
  f0 = np.full([1, 2, 1], 440.0, np.float32)
  loss = losses.HarmonicConsistencyLoss()(amp, amp, dist, dist_target, f0, f0)
  # The second frame's target amplitude (0) is below threshold: no dist loss.
  assert float(loss['harm_dist_loss']) == 0.0
  assert float(loss['harm_amp_loss']) == 0.0
  assert float(loss['f0_hz_loss']) == 0.0


def test_kde_consistency_prefers_matching_sinusoids():
  amps = np.ones([1, 2, 3], np.float32)
  freqs = np.tile(np.array([[[220.0, 440.0, 660.0]]], np.float32), [1, 2, 1])
  loss = losses.KDEConsistencyLoss()
  same = float(loss(amps, freqs, amps, freqs))
  shifted = float(loss(amps, freqs, amps, freqs * 1.06))  # One semitone.
  assert same < shifted


def test_twm_loss_predicts_the_fundamental_of_harmonic_sinusoids():
  f0 = 220.0
  freqs = np.array([[[f0 * k for k in range(1, 6)]]], np.float32)
  amps = np.ones_like(freqs)
  candidates = np.array([[[110.0, 220.0, 330.0, 440.0]]], np.float32)
  twm = losses.TWMLoss()
  np.testing.assert_allclose(twm.predict_f0(candidates, freqs, amps),
                             [[[220.0]]])
  assert np.isfinite(float(twm(candidates, freqs, amps)))


def test_hmm_transcriber_holds_a_steady_note_and_detects_silence():
  hmm = losses.HmmTranscriber(n_timesteps=20)
  pitch = np.concatenate([np.full(10, 60.2), np.zeros(10)])[np.newaxis]
  amps = np.concatenate([np.full(10, 1.5), np.zeros(10)])[np.newaxis]
  midi = hmm.predict_midi(pitch, amps).numpy()[0, :, 0]
  np.testing.assert_array_equal(midi[:10], 60.0)
  np.testing.assert_array_equal(midi[10:], 0.0)
  assert np.isfinite(float(hmm.nll(pitch, amps)))


def test_pretrained_crepe_activations_have_one_frame_per_1024_samples():
  crepe_layer = losses.PretrainedCREPE(model_capacity='tiny',
                                       activation_layer='classifier')
  activations = crepe_layer(noise([2, 16000])).numpy()
  assert activations.shape == (2, 16, 360)
  assert activations.min() >= 0.0 and activations.max() <= 1.0
  with pytest.raises(ValueError, match='not a layer'):
    losses.PretrainedCREPE(model_capacity='tiny', activation_layer='conv9')


def test_crepe_embedding_loss_is_zero_for_identical_audio_and_scaled():
  audio = noise([1, 16000])
  loss = losses.PretrainedCREPEEmbeddingLoss(model_capacity='tiny')
  assert loss.weight == pytest.approx(20 * 130)
  assert float(loss(audio, audio)) == 0.0
  assert float(loss(audio, np.ones_like(audio))) > 0.0


def test_loss_group_with_spectral_and_crepe_losses():
  group = losses.LossGroup(dag=[
      (losses.SpectralLoss(fft_sizes=(256,)), ['audio', 'audio_synth']),
      (losses.PretrainedCREPEEmbeddingLoss(name='crepe_loss',
                                           model_capacity='tiny'),
       ['audio', 'audio_synth']),
  ])
  loss_dict = group({'audio': noise([1, 8000]),
                     'audio_synth': noise([1, 8000], 1)})
  assert sorted(loss_dict) == ['crepe_loss', 'spectral_loss']
  assert all(np.isfinite(float(v)) for v in loss_dict.values())


@pytest.mark.parametrize('make, name', [
    (lambda: losses.SpectralLoss(fft_sizes=()), 'fft_sizes'),
    (lambda: losses.SpectralLoss(fft_sizes=(2048, 0)), 'fft_sizes'),
    (lambda: losses.SpectralLoss(loss_type='L3'), 'loss_type'),
    (lambda: losses.SpectralLoss(logmag_weight=-1.0), 'logmag_weight'),
    (lambda: losses.EmbeddingLoss(loss_type='huber'), 'loss_type'),
    (lambda: losses.ParamLoss(loss_type=None), 'loss_type'),
    (lambda: losses.PretrainedCREPEEmbeddingLoss(activation_layer='conv9'),
     'activation_layer'),
])
def test_constructors_reject_invalid_arguments(make, name):
  with pytest.raises(ValueError,
                     match=f'Received an invalid value for `{name}`'):
    make()


def test_loss_types_are_case_insensitive():
  assert losses.SpectralLoss(loss_type='l2').loss_type == 'l2'
  assert float(losses.mean_difference(np.ones(2), np.full(2, 3.0),
                                      'l2')) == 4.0
