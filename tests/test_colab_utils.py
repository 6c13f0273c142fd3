"""Tests for ddsp.colab.colab_utils (the parts that run outside Colab)."""
import importlib.util
import io
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from ddsp.colab import colab_utils


def _wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
  buffer = io.BytesIO()
  sf.write(buffer, audio, sample_rate, format='WAV', subtype='PCM_16')
  return buffer.getvalue()


def test_module_loads_without_tensorflow_or_colab():
  code = ('import sys\n'
          'import ddsp.colab.colab_utils\n'
          'print(sorted(m for m in ("tensorflow", "google.colab") '
          'if m in sys.modules))')
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                       text=True, timeout=120, check=True, env=env).stdout
  assert out.strip() == '[]'


def test_audio_bytes_to_np_downmixes_resamples_and_sets_peak_headroom():
  t = np.arange(22050) / 22050
  left = 0.25 * np.sin(2 * np.pi * 440 * t)
  stereo = np.stack([left, 0.5 * left], axis=1)
  audio = colab_utils.audio_bytes_to_np(_wav_bytes(stereo, 22050),
                                        sample_rate=16000, normalize_db=1.0)
  assert audio.dtype == np.float32 and audio.shape == (16000,)
  np.testing.assert_allclose(np.abs(audio).max(), 10**(-1.0 / 20), rtol=1e-6)
  frequency = np.argmax(np.abs(np.fft.rfft(audio)))  # 1 Hz bins.
  assert frequency == 440


def test_audio_bytes_to_np_keeps_level_and_channels_when_asked():
  stereo = np.stack([np.full(100, 0.25), np.full(100, -0.5)], axis=1)
  audio = colab_utils.audio_bytes_to_np(_wav_bytes(stereo, 16000),
                                        normalize_db=None, mono=False)
  np.testing.assert_allclose(audio, stereo, atol=1 / 32767)


@pytest.mark.skipif(shutil.which('node') is None, reason='node not installed')
def test_browser_recorder_encodes_a_wav_that_decodes_to_its_samples():
  samples = np.sin(np.linspace(0, 20, 5000)) * 0.8
  chunks = [samples[:4096], samples[4096:]]
  script = (colab_utils._RECORD_JS +  # pylint: disable=protected-access
            'process.stdout.write(encodeWav([' +
            ','.join(f'new Float32Array({c.tolist()})' for c in chunks) +
            '], 48000));')
  wav_base64 = subprocess.run(['node', '-e', script], capture_output=True,
                              text=True, timeout=60, check=True).stdout
  import base64  # pylint: disable=g-import-not-at-top
  audio = colab_utils.audio_bytes_to_np(base64.b64decode(wav_base64),
                                        sample_rate=48000, normalize_db=None)
  # Float32 samples encoded as Math.round(x * 32767); libsndfile reads n/32768.
  as_float32 = samples.astype(np.float32).astype(np.float64)
  encoded = np.floor(as_float32 * 32767 + 0.5)
  np.testing.assert_allclose(audio, encoded / 32768, atol=1e-7)


@pytest.mark.skipif(importlib.util.find_spec('google.colab') is not None
                    if importlib.util.find_spec('google') else False,
                    reason='google.colab is installed')
@pytest.mark.parametrize('call', [
    lambda: colab_utils.record(),
    lambda: colab_utils.upload(),
    lambda: colab_utils.download('x.wav'),
])
def test_browser_helpers_explain_that_they_need_colab(call):
  with pytest.raises(ImportError, match='Colab'):
    call()


def test_plotting_aliases_are_the_training_plotting_functions():
  from ddsp.training import plotting  # pylint: disable=g-import-not-at-top
  for name in ('specplot', 'plot_impulse_responses', 'transfer_function'):
    assert getattr(colab_utils, name) is getattr(plotting, name)
  with pytest.raises(AttributeError):
    _ = colab_utils.not_a_helper


def test_tuning_factor_is_the_offset_of_the_played_notes():
  rng = np.random.default_rng(0)
  notes = rng.choice([60, 62, 64, 67], size=400)
  f0_midi = notes + 0.3 + rng.normal(0, 0.02, size=400)
  confidence = np.ones(400)
  # Unconfident frames far off the grid do not move the estimate.
  f0_midi[:50] += 0.2
  confidence[:50] = 0.0
  mask_on = np.ones(400, bool)
  assert colab_utils.get_tuning_factor(f0_midi, confidence, mask_on) == (
      pytest.approx(0.3, abs=0.011))
  assert colab_utils.get_tuning_factor(f0_midi, confidence,
                                       np.zeros(400, bool)) == 0.0


def test_auto_tune_snaps_chromatically_by_amount():
  f0_midi = np.array([60.4, 61.6, 64.1])
  mask_on = np.ones(3, bool)
  same = colab_utils.auto_tune(f0_midi, 0.0, mask_on, amount=0.0)
  np.testing.assert_allclose(same, f0_midi)
  snapped = colab_utils.auto_tune(f0_midi, 0.2, mask_on, amount=1.0,
                                  chromatic=True)
  np.testing.assert_allclose(snapped, [60.0, 61.0, 64.0])
  half = colab_utils.auto_tune(f0_midi, 0.2, mask_on, amount=0.5,
                               chromatic=True)
  np.testing.assert_allclose(half, [60.2, 61.3, 64.05])


def test_auto_tune_snaps_to_the_major_scale_of_the_notes():
  # Mostly D major (D E F# G A B C#); an off-scale 65.1 (F) goes to F# (66),
  # its nearest D-major pitch, and 60.9 (C#) stays on C# (61).
  f0_midi = np.array([62.0, 64.0, 66.0, 67.0, 69.0, 71.0, 73.0, 65.1, 60.9])
  mask_on = np.ones(9, bool)
  tuned = colab_utils.auto_tune(f0_midi, 0.0, mask_on, amount=1.0)
  np.testing.assert_allclose(tuned[-2:], [66.0, 61.0])
  np.testing.assert_allclose(tuned[:-2], f0_midi[:-2])


class _ListProvider:
  """A minimal data provider over in-memory examples."""

  sample_rate = 16000
  frame_rate = 250

  def __init__(self, examples):
    self._examples = examples

  def get_batch(self, batch_size, shuffle=True, repeats=-1,
                drop_remainder=True):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    del shuffle
    dataset = tf.data.Dataset.from_tensor_slices(self._examples)
    return dataset.repeat(repeats).batch(batch_size, drop_remainder)


def test_save_dataset_statistics_pickles_the_statistics(tmp_path):
  n_examples, n_frames = 2, 250
  t = np.arange(16000) / 16000
  examples = {
      'audio': np.stack([0.5 * np.sin(2 * np.pi * 440 * t)] *
                        n_examples).astype(np.float32),
      'f0_hz': np.full((n_examples, n_frames), 440.0, np.float32),
      'f0_confidence': np.full((n_examples, n_frames), 0.9, np.float32),
      'loudness_db': np.full((n_examples, n_frames), -30.0, np.float32),
  }
  path = tmp_path / 'dataset_statistics.pkl'
  # Power frames of 1024 samples: the default 256 is shorter than the 320
  # hop of 50 frames/s, which `compute_power` rejects (as 3.7.0 did).
  statistics = colab_utils.save_dataset_statistics(
      _ListProvider(examples), str(path), power_frame_size=1024)
  with open(path, 'rb') as f:
    loaded = pickle.load(f)
  assert set(loaded) == set(statistics)
  assert loaded['mean_pitch'] == pytest.approx(69.0, abs=1e-4)
  qt = loaded['quantile_transform']
  assert isinstance(qt.random_state, np.random.RandomState)
  np.testing.assert_allclose(
      qt.transform(np.array([[-30.0]])),
      statistics['quantile_transform'].transform(np.array([[-30.0]])))
