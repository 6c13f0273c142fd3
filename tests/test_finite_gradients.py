"""Finite gradients at silence, exact zeros and f0 = 0, for every custom
gradient and every sqrt / log / divide in spectral ops, losses, synths,
processors and effects.

Training on real data meets digital silence, f0 = 0 rests, saturated
sigmoids and identical target/prediction pairs; one NaN in a gradient ruins
every weight. Each case below builds a scalar from variables that sit at such
a point and asserts that every gradient is finite; where a safe reference
exists (e.g. `tf.abs(stft)` for magnitudes), the gradient must equal its
autodiff.
"""
import numpy as np
import pytest
import tensorflow as tf

from ddsp import core
from ddsp import crepe
from ddsp import effects
from ddsp import losses
from ddsp import processors
from ddsp import spectral_ops
from ddsp import synths

N_FRAMES = 125
N_SAMPLES = 16000


def _gradients(fn, *values):
  """Gradients of `fn(*variables)` with respect to variables at `values`."""
  variables = [tf.Variable(np.asarray(v, np.float32)) for v in values]
  with tf.GradientTape() as tape:
    output = fn(*variables)
  return [g.numpy() if g is not None else None
          for g in tape.gradient(output, variables)]


def _f0_with_rest():
  """f0 [1, 125, 1]: 220 Hz with a rest (f0 = 0) in the middle."""
  f0 = np.full([1, N_FRAMES, 1], 220.0, np.float32)
  f0[:, 40:80] = 0.0
  return f0


def _harmonic_audio(amps, distribution, f0):
  return synths.Harmonic(n_samples=N_SAMPLES)(amps, distribution, f0)


SILENCE = np.zeros([1, N_SAMPLES], np.float32)
# A target with sound, against which a silent prediction is compared.
TARGET = np.random.default_rng(0).normal(size=[1, N_SAMPLES]).astype(
    np.float32) * 0.1
ALL_TERMS = dict(mag_weight=1.0, delta_time_weight=1.0, delta_freq_weight=1.0,
                 cumsum_freq_weight=1.0, logmag_weight=1.0, loudness_weight=1.0)

CASES = {
    # Spectral ops on digital silence.
    'compute_mag': (lambda a: tf.reduce_sum(
        spectral_ops.compute_mag(a, size=64)), [np.zeros([1, 64])]),
    'compute_logmag': (lambda a: tf.reduce_sum(
        spectral_ops.compute_logmag(a, size=256)), [SILENCE]),
    'compute_mel': (lambda a: tf.reduce_sum(
        spectral_ops.compute_mel(a, fft_size=256)), [SILENCE]),
    'compute_logmel': (lambda a: tf.reduce_sum(
        spectral_ops.compute_logmel(a, fft_size=256)), [SILENCE]),
    'compute_mfcc': (lambda a: tf.reduce_sum(
        spectral_ops.compute_mfcc(a, fft_size=256)), [SILENCE]),
    'compute_rms_energy': (lambda a: tf.reduce_sum(
        spectral_ops.compute_rms_energy(a)), [SILENCE]),
    'compute_power': (lambda a: tf.reduce_sum(
        spectral_ops.compute_power(a)), [SILENCE]),
    'compute_loudness': (lambda a: tf.reduce_sum(
        spectral_ops.compute_loudness(a)), [SILENCE]),
    # Losses: a silent prediction against a target with sound, and silence
    # against silence (every distance exactly 0).
    'SpectralLoss_mag': (lambda a: losses.SpectralLoss(fft_sizes=(64,))(
        TARGET[:, :64], a), [np.zeros([1, 64])]),
    'SpectralLoss_all_terms': (lambda a: losses.SpectralLoss(
        fft_sizes=(2048, 64), **ALL_TERMS)(TARGET, a), [SILENCE]),
    'SpectralLoss_L2': (lambda a: losses.SpectralLoss(
        fft_sizes=(256,), loss_type='L2', **ALL_TERMS)(TARGET, a),
                        [SILENCE]),
    'SpectralLoss_silence_vs_silence': (lambda a: losses.SpectralLoss(
        fft_sizes=(256,), **ALL_TERMS)(SILENCE, a), [SILENCE]),
    'PretrainedCREPEEmbeddingLoss_silence': (
        lambda a: losses.PretrainedCREPEEmbeddingLoss()(TARGET, a),
        [SILENCE]),
    'mean_difference_cosine': (lambda a: losses.mean_difference(
        a, a, 'COSINE'), [np.zeros([2, 8])]),
    'amp_loss_log': (lambda a: losses.amp_loss(a, a * 0.0, log=True),
                     [np.zeros([1, 10, 1])]),
    'freq_loss_f0_zero': (lambda f: losses.freq_loss(f, f * 0.0),
                          [np.zeros([1, 10, 1])]),
    'wasserstein_p1': (lambda v: tf.reduce_sum(losses.wasserstein_distance(
        v, v, v * 0.0 + 1.0, v * 0.0 + 1.0, p=1.0)), [np.zeros([1, 4, 3])]),
    'wasserstein_p2': (lambda v: tf.reduce_sum(losses.wasserstein_distance(
        v, v, p=2.0)), [np.zeros([1, 4, 3])]),
    'wasserstein_p3': (lambda v: tf.reduce_sum(losses.wasserstein_distance(
        v, v, p=3.0)), [np.zeros([1, 4, 3])]),
    'WassersteinConsistencyLoss': (lambda a, f: losses.WassersteinConsistencyLoss()(
        a, f, a, f), [np.zeros([1, 4, 3]), np.zeros([1, 4, 3])]),
    'KDEConsistencyLoss': (lambda a, f: losses.KDEConsistencyLoss()(
        a, f + 440.0, a, f + 440.0), [np.zeros([1, 4, 3]), np.zeros([1, 4, 3])]),
    'HarmonicConsistencyLoss': (lambda a, d, f: tf.add_n(list(
        losses.HarmonicConsistencyLoss()(a, a, d, d, f, f).values())),
                                [np.zeros([1, 4, 1]), np.zeros([1, 4, 5]),
                                 np.zeros([1, 4, 1])]),
    'TWMLoss_f0_zero': (lambda c, f, a: losses.TWMLoss()(c, f, a),
                        [np.zeros([1, 4, 2]), np.zeros([1, 4, 3]),
                         np.zeros([1, 4, 3])]),
    'PretrainedCREPE_silence': (lambda a: tf.reduce_sum(
        losses.PretrainedCREPE(activation_layer='conv1-BN')(a)), [SILENCE]),
    'crepe_normalize_frames_constant': (lambda x: tf.reduce_sum(
        crepe.normalize_frames(x)), [np.ones([2, 1024])]),
    # Synths at f0 = 0, zero amplitudes and zero distributions.
    'Harmonic_f0_rest_spectral_loss': (
        lambda amps, f0: losses.SpectralLoss(fft_sizes=(2048, 64),
                                             logmag_weight=1.0)(
            TARGET, _harmonic_audio(amps, tf.zeros([1, N_FRAMES, 8]), f0)),
        [np.full([1, N_FRAMES, 1], -20.0), _f0_with_rest()]),
    'Harmonic_all_controls': (
        lambda amps, hd, f0: tf.reduce_sum(_harmonic_audio(amps, hd, f0)**2),
        [np.zeros([1, N_FRAMES, 1]), np.zeros([1, N_FRAMES, 8]),
         _f0_with_rest()]),
    'Harmonic_no_scale_fn_zeros': (
        lambda amps, hd, f0: tf.reduce_sum(synths.Harmonic(
            n_samples=N_SAMPLES, scale_fn=None)(amps, hd, f0)**2),
        [np.zeros([1, N_FRAMES, 1]), np.zeros([1, N_FRAMES, 8]),
         np.zeros([1, N_FRAMES, 1])]),
    'harmonic_synthesis_shifts': (
        lambda f0, amps: tf.reduce_sum(core.harmonic_synthesis(
            f0, amps, harmonic_shifts=tf.zeros([1, 10, 3]),
            n_samples=1000)**2),
        [np.zeros([1, 10, 1]), np.zeros([1, 10, 1])]),
    'streaming_harmonic_synthesis': (
        lambda f0, amps, hd: tf.reduce_sum(core.streaming_harmonic_synthesis(
            f0, amps, hd, n_samples=64)[0]**2),
        [np.zeros([1, 2, 1]), np.zeros([1, 2, 1]), np.zeros([1, 2, 4])]),
    'Sinusoidal_zeros': (lambda a, f: tf.reduce_sum(synths.Sinusoidal(
        n_samples=N_SAMPLES)(a, f)**2),
                         [np.zeros([1, N_FRAMES, 4]), np.zeros([1, N_FRAMES, 4])]),
    'Wavetable_zeros': (lambda a, w, f: tf.reduce_sum(synths.Wavetable(
        n_samples=N_SAMPLES)(a, w, f)**2),
                        [np.zeros([1, N_FRAMES, 1]), np.zeros([1, N_FRAMES, 64]),
                         np.zeros([1, N_FRAMES, 1])]),
    'FilteredNoise_zeros': (lambda m: tf.reduce_sum(synths.FilteredNoise(
        n_samples=N_SAMPLES, scale_fn=None)(m)**2),
                            [np.zeros([1, N_FRAMES, 16])]),
    'sinusoidal_to_harmonic_f0_zero': (
        lambda a, f, f0: tf.add_n([tf.reduce_sum(x) for x in
                                   core.sinusoidal_to_harmonic(a, f, f0)]),
        [np.zeros([1, 4, 3]), np.zeros([1, 4, 3]), np.zeros([1, 4, 1])]),
    # Processors: saturated mix levels (sigmoid exactly 0 and 1).
    'Mix_saturated': (lambda s, m: tf.reduce_sum(processors.Mix()(s, s, m)),
                      [np.ones([1, 100]), np.array([[[-200.0], [200.0]]])]),
    # Effects on silence.
    'Reverb_silence': (lambda a, ir: tf.reduce_sum(effects.Reverb()(a, ir)**2),
                       [SILENCE, np.zeros([1, 4000])]),
    'ExpDecayReverb_silence': (lambda a, g, d: tf.reduce_sum(
        effects.ExpDecayReverb(reverb_length=4000)(a, g, d)**2),
                               [SILENCE, np.zeros([1, 1]), np.zeros([1, 1])]),
    'FilteredNoiseReverb_silence': (lambda a, m: tf.reduce_sum(
        effects.FilteredNoiseReverb(reverb_length=4000, n_frames=10)(a, m)**2),
                                    [SILENCE, np.zeros([1, 10, 16])]),
    'FIRFilter_silence': (lambda a, m: tf.reduce_sum(
        effects.FIRFilter()(a, m)**2), [SILENCE, np.zeros([1, 100, 16])]),
    'ModDelay_silence': (lambda a, g, p: tf.reduce_sum(
        effects.ModDelay()(a, g, p)**2),
                         [SILENCE, np.zeros([1, N_SAMPLES, 1]),
                          np.zeros([1, N_SAMPLES, 1])]),
    # Core math at its edge points.
    'power_to_db_zero': (lambda p: tf.reduce_sum(core.power_to_db(p)),
                         [np.zeros(4)]),
    'amplitude_to_db_zero': (lambda a: tf.reduce_sum(core.amplitude_to_db(a)),
                             [np.zeros(4)]),
    'hz_to_midi_zero': (lambda f: tf.reduce_sum(core.hz_to_midi(f)),
                        [np.zeros(4)]),
    'safe_divide_by_zero': (lambda x: tf.reduce_sum(core.safe_divide(x, x)),
                            [np.zeros(4)]),
    'safe_sqrt_zero': (lambda x: tf.reduce_sum(core.safe_sqrt(x)),
                       [np.zeros(4)]),
    'normalize_harmonics_zeros': (lambda d, f: tf.reduce_sum(
        core.normalize_harmonics(d, f, 16000)), [np.zeros([1, 4, 5]),
                                                 np.zeros([1, 4, 1])]),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_gradients_are_finite(name):
  fn, values = CASES[name]
  for i, gradient in enumerate(_gradients(fn, *values)):
    if gradient is None:
      continue
    n_bad = int(np.sum(~np.isfinite(gradient)))
    assert n_bad == 0, (f'{name}: {n_bad} of {gradient.size} gradient values '
                        f'of input {i} are not finite')


def test_magnitude_gradient_at_silence_is_that_of_abs_stft():
  (ours,) = _gradients(lambda v: tf.reduce_sum(
      spectral_ops.compute_mag(v, size=64)), np.zeros([1, 64]))
  (reference,) = _gradients(lambda v: tf.reduce_sum(tf.abs(
      tf.signal.stft(v, 64, 16, pad_end=True))), np.zeros([1, 64]))
  np.testing.assert_array_equal(reference, 0.0)
  np.testing.assert_array_equal(ours, reference)


@pytest.mark.parametrize('size', [64, 256, 1000])
def test_magnitude_gradient_equals_autodiff_of_abs_stft(size):
  rng = np.random.default_rng(size)
  audio = rng.normal(size=[2, 3000]).astype(np.float32)
  # Some silent stretches, so that some frames are exactly zero.
  audio[:, 1000:2000] = 0.0
  weights = rng.normal(size=[1, 1, 2**int(np.ceil(np.log2(size))) // 2 + 1])
  weights = tf.constant(weights, tf.float32)
  (ours,) = _gradients(lambda v: tf.reduce_sum(
      spectral_ops.compute_mag(v, size=size) * weights), audio)
  (reference,) = _gradients(lambda v: tf.reduce_sum(tf.abs(
      spectral_ops.stft(v, size)) * weights), audio)
  np.testing.assert_allclose(ours, reference, rtol=1e-3,
                             atol=1e-4 * np.abs(reference).max())


def test_rms_gradient_equals_autodiff_of_sqrt_away_from_silence():
  audio = np.random.default_rng(0).normal(size=[1, 4000]).astype(np.float32)
  (ours,) = _gradients(lambda a: tf.reduce_sum(
      spectral_ops.compute_rms_energy(a)), audio)
  (reference,) = _gradients(lambda a: tf.reduce_sum(tf.sqrt(tf.reduce_mean(
      tf.signal.frame(spectral_ops.pad(a, 512, 64), 512, 64)**2, -1))), audio)
  np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-9)


def test_safe_sqrt_value_and_gradient():
  (gradient,) = _gradients(lambda x: tf.reduce_sum(core.safe_sqrt(x)),
                           np.array([0.0, 0.25, 4.0]))
  np.testing.assert_allclose(gradient, [0.0, 1.0, 0.25])
  np.testing.assert_array_equal(core.safe_sqrt([0.0, 0.25, 4.0]),
                                [0.0, 0.5, 2.0])


def test_harmonic_amplitude_gradients_through_a_rest_are_finite_and_live():
  amps = np.full([1, N_FRAMES, 1], 0.5, np.float32)
  (gradient,) = _gradients(
      lambda a: losses.SpectralLoss(fft_sizes=(512, 64), logmag_weight=1.0)(
          TARGET,
          _harmonic_audio(a, tf.zeros([1, N_FRAMES, 8]), _f0_with_rest())),
      amps)
  assert np.all(np.isfinite(gradient))
  assert np.all(np.abs(gradient[0, :38, 0]) > 0)
  assert np.all(np.abs(gradient[0, 82:, 0]) > 0)
