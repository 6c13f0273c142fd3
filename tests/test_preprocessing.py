"""Tests of ddsp.training.preprocessing: scaling and preprocessors."""

import numpy as np
import pytest

from ddsp import core
from ddsp import spectral_ops
from ddsp.training import preprocessing

RNG = np.random.default_rng(2)


def _sine(freq_hz=440.0, seconds=1.0, sample_rate=16000, amplitude=0.5):
  t = np.arange(int(seconds * sample_rate)) / sample_rate
  return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_constants_and_scaling_formulas():
  assert preprocessing.F0_RANGE == 127.0
  assert preprocessing.DB_RANGE == 80.0
  db = np.float32([-80.0, -40.0, 0.0])
  np.testing.assert_allclose(preprocessing.scale_db(db), [0.0, 0.5, 1.0])
  np.testing.assert_allclose(
      preprocessing.inv_scale_db(np.float32([0.0, 0.5, 1.0])), db)
  f0_hz = np.float32([0.0, 440.0, 880.0])
  np.testing.assert_allclose(preprocessing.scale_f0_hz(f0_hz),
                             [0.0, 69.0 / 127.0, 81.0 / 127.0], rtol=1e-6)
  np.testing.assert_allclose(
      preprocessing.inv_scale_f0_hz(np.float32([69.0 / 127.0])), [440.0],
      rtol=1e-5)


@pytest.mark.parametrize('shape,expected', [((), (1, 1, 1)), ((5,), (1, 5, 1)),
                                            ((2, 5), (2, 5, 1)),
                                            ((2, 5, 3), (2, 5, 3))])
def test_at_least_3d(shape, expected):
  assert preprocessing.at_least_3d(np.zeros(shape)).shape == expected


def test_f0_loudness_preprocessor_recomputes_loudness_and_resamples():
  audio = np.stack([_sine(seconds=4.0), 0.1 * _sine(seconds=4.0)])
  f0_hz = np.full([2, 1000], 440.0, np.float32)
  dataset_loudness = np.full([2, 1000], -20.0, np.float32)
  outputs = preprocessing.F0LoudnessPreprocessor()(
      {'audio': audio, 'f0_hz': f0_hz, 'loudness_db': dataset_loudness})
  assert list(outputs) == ['f0_hz', 'loudness_db', 'f0_scaled', 'ld_scaled']
  for value in outputs.values():
    assert value.shape == (2, 1000, 1)
  loudness = spectral_ops.compute_loudness(audio, 16000, 250)
  assert loudness.shape == (2, 1001)
  expected = core.resample(loudness[..., np.newaxis], 1000)
  np.testing.assert_allclose(outputs['loudness_db'], expected, rtol=1e-6)
  np.testing.assert_allclose(outputs['ld_scaled'],
                             expected / 80.0 + 1.0, rtol=1e-6)
  np.testing.assert_allclose(outputs['f0_scaled'], 69.0 / 127.0, rtol=1e-6)
  # The sine at a tenth of the amplitude is 20 dB softer.
  difference = outputs['loudness_db'][0] - outputs['loudness_db'][1]
  np.testing.assert_allclose(difference[5:-5], 20.0, atol=0.01)


def test_f0_loudness_preprocessor_uses_dataset_loudness_when_asked():
  layer = preprocessing.F0LoudnessPreprocessor(time_steps=4,
                                               compute_loudness=False)
  outputs = layer({'f0_hz': np.float32([[100, 200]]),
                   'loudness_db': np.float32([[-80, -40]])})
  np.testing.assert_allclose(outputs['loudness_db'][0, :, 0],
                             [-80, -60, -40, -40])
  f0_hz, loudness_db = layer.invert_scaling(outputs['f0_scaled'],
                                            outputs['ld_scaled'])
  np.testing.assert_allclose(f0_hz, outputs['f0_hz'], rtol=1e-4)
  np.testing.assert_allclose(loudness_db, outputs['loudness_db'], atol=1e-4)
  with pytest.raises(ValueError, match='audio'):
    preprocessing.F0LoudnessPreprocessor()({'f0_hz': np.ones([1, 10]),
                                            'loudness_db': np.ones([1, 10])})


@pytest.mark.parametrize('keys', [('audio',), ('power_db',),
                                  ('audio', 'power_db')])
def test_f0_power_preprocessor_reads_power_or_computes_it(keys):
  audio = _sine()[np.newaxis]
  power_db = np.full([1, 250], -33.0, np.float32)
  features = {'f0_hz': np.full([1, 250], 440.0, np.float32), 'audio': audio,
              'power_db': power_db}
  features = {k: v for k, v in features.items()
              if k == 'f0_hz' or k in keys}
  outputs = preprocessing.F0PowerPreprocessor(time_steps=250)(features)
  assert outputs['pw_db'].shape == (1, 250, 1)
  if 'power_db' in keys:
    expected = power_db[..., np.newaxis]
  else:
    expected = core.resample(spectral_ops.compute_power(
        audio, 16000, 250, 64)[..., np.newaxis], 250)
    # A 0.5-amplitude sine has power 0.125: -9 dB.
    np.testing.assert_allclose(np.median(expected), -9.03, atol=0.1)
  np.testing.assert_allclose(outputs['pw_db'], expected, rtol=1e-6)
  np.testing.assert_allclose(outputs['pw_scaled'], expected / 80 + 1,
                             rtol=1e-6)


def test_f0_power_preprocessor_needs_power_or_audio():
  with pytest.raises(ValueError, match='power_db'):
    preprocessing.F0PowerPreprocessor()({'f0_hz': np.ones([1, 10])})


def _online(**kwargs):
  kwargs.setdefault('compute_f0', False)
  kwargs.setdefault('crepe_saved_model_path', None)
  return preprocessing.OnlineF0PowerPreprocessor(frame_rate=50, **kwargs)


def test_online_preprocessor_frames_power_and_passes_features_through():
  audio = _sine(seconds=4.0)[np.newaxis]
  f0_hz = np.full([1, 201], 440.0, np.float32)
  confidence = np.ones([1, 201], np.float32)
  outputs = _online()({'audio': audio, 'f0_hz': f0_hz,
                       'f0_confidence': confidence})
  assert list(outputs) == ['f0_hz', 'pw_db', 'f0_scaled', 'pw_scaled',
                           'f0_confidence']
  assert outputs['pw_db'].shape == (1, 201, 1)
  expected = spectral_ops.compute_power(audio, 16000, 50, 1024,
                                        padding='center')
  np.testing.assert_allclose(outputs['pw_db'][..., 0], expected, rtol=1e-6)
  assert outputs['f0_confidence'].shape == (1, 201)  # Passed through.


def test_online_preprocessor_prefers_audio_16k():
  audio_16k = _sine(seconds=1.0)[np.newaxis]
  outputs = _online()({'audio': np.zeros([1, 48000], np.float32),
                       'audio_16k': audio_16k,
                       'f0_hz': np.ones([1, 51], np.float32),
                       'f0_confidence': np.ones([1, 51], np.float32)})
  assert np.all(outputs['pw_db'].numpy()[0, 2:-2] > -12.0)


def test_online_preprocessor_uses_dataset_power_without_compute_power():
  # ddsp 3.7.0 failed with a NameError here (quirk 30).
  power_db = np.linspace(-60, -10, 51, dtype=np.float32)[np.newaxis]
  outputs = _online(compute_power=False)({
      'audio': np.zeros([1, 16000], np.float32), 'power_db': power_db,
      'f0_hz': np.ones([1, 51], np.float32),
      'f0_confidence': np.ones([1, 51], np.float32)})
  np.testing.assert_allclose(outputs['pw_db'][..., 0], power_db)
  with pytest.raises(ValueError, match='power_db'):
    _online(compute_power=False)({
        'audio': np.zeros([1, 16000], np.float32),
        'f0_hz': np.ones([1, 51], np.float32),
        'f0_confidence': np.ones([1, 51], np.float32)})


def test_online_preprocessor_checks_frame_counts_and_features():
  features = {'audio': np.zeros([1, 16000], np.float32),
              'f0_hz': np.ones([1, 50], np.float32),
              'f0_confidence': np.ones([1, 50], np.float32)}
  with pytest.raises(ValueError, match='51 frames'):
    _online()(features)
  with pytest.raises(ValueError, match='f0_hz'):
    _online()({'audio': np.zeros([1, 16000], np.float32)})
  with pytest.raises(ValueError, match='crepe_saved_model_path'):
    preprocessing.OnlineF0PowerPreprocessor(compute_f0=True,
                                            crepe_saved_model_path=None)


def test_online_preprocessor_computes_f0_with_crepe():
  layer = preprocessing.OnlineF0PowerPreprocessor(
      frame_rate=50, crepe_saved_model_path='tiny')
  assert layer.crepe_model.hop_size == 320
  outputs = layer({'audio': _sine(440.0)[np.newaxis]})
  f0_hz = outputs['f0_hz'].numpy()[0, 5:-5, 0]
  assert outputs['f0_hz'].shape == (1, 51, 1)
  np.testing.assert_allclose(np.median(f0_hz), 440.0, rtol=0.01)
  assert np.median(outputs['f0_confidence'].numpy()) > 0.5
