"""`ddsp_timbre_transfer`: the notebook's controls, both backends, errors."""

import json
import pickle
import subprocess
import sys

import export_testing
import numpy as np
import pytest
import soundfile as sf

from ddsp import audio_io
from ddsp.export import runtime
from ddsp.export import timbre_transfer as tt
from ddsp.training import postprocessing

SR = 16000


def _tone(seconds, f0=220.0, amplitude=0.5, silence_from=None):
  """A harmonic tone (3 partials), optionally silent from `silence_from` s."""
  t = np.arange(int(seconds * SR)) / SR
  audio = sum(amplitude / k * np.sin(2 * np.pi * k * f0 * t)
              for k in (1, 2, 3))
  if silence_from is not None:
    audio[t >= silence_from] = 0.0
  return audio.astype(np.float32)


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
  """A random-weight bundle whose controls read loudness (as
  solo_instrument.gin's decoder)."""
  path = export_testing.build_bundle(
      tmp_path_factory.mktemp('b') / 'bundle',
      input_keys=('f0_scaled', 'ld_scaled'), hop_size=64)
  return runtime.Bundle(path)


def _capture_render(monkeypatch):
  """Records the controls `render_controls` receives."""
  calls = []
  original = runtime.render_controls

  def render(bundle, f0_hz, amplitudes, harmonic_distribution,
             noise_magnitudes, **kwargs):
    calls.append({'f0_hz': np.array(f0_hz), 'amps': np.array(amplitudes),
                  'noise_magnitudes': np.array(noise_magnitudes)})
    return original(bundle, f0_hz, amplitudes, harmonic_distribution,
                    noise_magnitudes, **kwargs)

  monkeypatch.setattr(runtime, 'render_controls', render)
  return calls


def test_numpy_midi_conversions_match_core():
  from ddsp import core  # pylint: disable=g-import-not-at-top
  f0 = np.array([0.0, 27.5, 220.0, 440.0, 1234.5], np.float32)
  np.testing.assert_allclose(tt.hz_to_midi(f0), core.hz_to_midi(f0),
                             atol=1e-4)
  midi = np.array([21.0, 57.0, 69.0, 110.0])
  np.testing.assert_allclose(tt.midi_to_hz(midi), core.midi_to_hz(midi),
                             rtol=1e-6)


@pytest.mark.parametrize('octaves', [1.0, -1.0, 0.5])
def test_octave_shift_scales_the_f0_fed_to_the_synth(bundle, monkeypatch,
                                                     octaves):
  audio = _tone(1.0)
  tracked = runtime.extract_features(bundle, audio)['f0_hz']
  calls = _capture_render(monkeypatch)
  tt.transfer_with_bundle(bundle, audio, tt.Settings(
      octave_shift=octaves, auto_adjust=False))
  np.testing.assert_allclose(calls[0]['f0_hz'], tracked * 2.0**octaves,
                             rtol=1e-5)
  # And the tracker heard 220 Hz on the steady part (sanity of `tracked`).
  assert abs(np.median(tracked) - 220.0) < 220.0 * (2**(50 / 1200) - 1)


def test_f0_is_clipped_at_midi_110(bundle, monkeypatch):
  calls = _capture_render(monkeypatch)
  tt.transfer_with_bundle(bundle, _tone(0.5, f0=2000.0),
                          tt.Settings(octave_shift=2, auto_adjust=False))
  assert calls[0]['f0_hz'].max() <= 440.0 * 2**((110 - 69) / 12) * 1.0001


def test_loudness_shift_moves_the_loudness_fed_to_the_controls(bundle):
  audio = _tone(0.5)
  plain = tt.transfer_with_bundle(bundle, audio,
                                  tt.Settings(auto_adjust=False))
  shifted = tt.transfer_with_bundle(bundle, audio, tt.Settings(
      auto_adjust=False, loudness_shift_db=-12.0))
  np.testing.assert_allclose(shifted['adjusted']['loudness_db'],
                             plain['features']['loudness_db'] - 12.0,
                             atol=1e-4)


def test_confidence_threshold_mutes_unvoiced_frames(bundle, monkeypatch):
  # 1 s of tone then 1 s of silence: CREPE is confident only on the tone.
  audio = _tone(2.0, silence_from=1.0)
  calls = _capture_render(monkeypatch)
  result = tt.transfer_with_bundle(bundle, audio, tt.Settings(
      auto_adjust=False, f0_confidence_threshold=0.5))
  confidence = result['features']['f0_confidence']
  mute = confidence < 0.5
  np.testing.assert_array_equal(result['mute'], mute)
  hop = bundle.hop_size
  n_frames = len(confidence)
  frames = np.arange(n_frames)
  # The tone is voiced, the silence (away from the edge) is not.
  assert not mute[(frames * hop < 0.9 * SR)][10:].any()
  assert mute[frames * hop > 1.1 * SR].all()
  assert np.all(calls[0]['amps'][mute] == 0.0)
  assert np.all(calls[0]['noise_magnitudes'][mute] == 0.0)
  unmuted = tt.transfer_with_bundle(bundle, audio, tt.Settings(
      auto_adjust=False))
  assert np.all(calls[1]['amps'][mute] > 0.0)  # Random weights: not silent.
  # The muted region renders silence (after the noise filter's tail).
  quiet = slice(int(1.2 * SR), int(1.9 * SR))
  assert np.sqrt(np.mean(result['audio'][quiet]**2)) < 1e-6
  assert np.sqrt(np.mean(unmuted['audio'][quiet]**2)) > 1e-4
  assert len(result['audio']) == n_frames * hop


def test_auto_adjust_octaves_follow_the_notebook_rounding():
  pitch = np.full(100, 57.0)  # A3.
  mask = np.ones(100, bool)
  assert tt.octave_shift_for(pitch, mask, 57.0 + 24) == 2.0
  assert tt.octave_shift_for(pitch, mask, 57.0 + 6) == 1.0  # ceil(0.5).
  assert tt.octave_shift_for(pitch, mask, 57.0 - 12) == -1.0
  assert tt.octave_shift_for(pitch, mask, 57.0 + 20) == 1.0  # floor(1.67).


def _stats(mean_pitch, note_loudness):
  """Statistics as the pipeline pickles them (only what transfer reads)."""
  transform = postprocessing.QuantileTransformer().fit(
      np.asarray(note_loudness)[:, np.newaxis])
  return {'mean_pitch': mean_pitch, 'quantile_transform': transform}


def test_auto_adjust_maps_pitch_and_loudness_to_the_dataset():
  rng = np.random.default_rng(0)
  n = 2000
  features = {'f0_hz': np.full(n, 220.0, np.float32),  # MIDI 57.
              'f0_confidence': np.full(n, 0.95, np.float32),
              'loudness_db': rng.uniform(-70, -50, n).astype(np.float32)}
  # Dataset: an octave higher (MIDI 69), louder (-40..-20 dB, median -30).
  stats = _stats(69.0, rng.uniform(-40, -20, 5000))
  # note_threshold 0: every frame is a note (none turned down by `quiet`).
  adjusted, mute = tt.adjust_features(features,
                                      tt.Settings(note_threshold=0.0), stats)
  np.testing.assert_allclose(adjusted['f0_hz'], 440.0, rtol=1e-5)
  assert float(adjusted['octave_shift']) == 1.0
  assert abs(np.median(adjusted['loudness_db']) - (-30.0)) < 0.5
  assert adjusted['loudness_db'].min() > -40.5
  assert not mute.any()
  # Monotonic: louder input frames stay louder.
  order = np.argsort(features['loudness_db'])
  assert np.all(np.diff(adjusted['loudness_db'][order]) >= -1e-4)
  # With the default threshold, frames outside notes are turned down by at
  # most `quiet_db` (20 dB) and stay below the mapped notes.
  default, _ = tt.adjust_features(features, tt.Settings(), stats)
  on, _ = postprocessing.detect_notes(features['loudness_db'],
                                      features['f0_confidence'])
  assert 0 < on.sum() < n
  drop = features['loudness_db'][~on] - default['loudness_db'][~on]
  assert np.all((drop > 0) & (drop <= 20.0 + 1e-4))
  assert default['loudness_db'][on].min() > -40.5
  # With auto_adjust off nothing moves.
  same, _ = tt.adjust_features(features, tt.Settings(auto_adjust=False),
                               stats)
  np.testing.assert_array_equal(same['loudness_db'], features['loudness_db'])
  np.testing.assert_array_equal(same['f0_hz'], features['f0_hz'])


def test_file_api_any_rate_and_channels(bundle, tmp_path, monkeypatch):
  # 1.5 s stereo at 44.1 kHz, as FLAC.
  t = np.arange(int(1.5 * 44100)) / 44100
  stereo = 0.3 * np.stack([np.sin(2 * np.pi * 330 * t),
                           np.sin(2 * np.pi * 330 * t + 0.1)], axis=1)
  source = tmp_path / 'in.flac'
  sf.write(source, stereo, 44100)
  calls = _capture_render(monkeypatch)
  output = tmp_path / 'out.wav'
  result = tt.timbre_transfer_file(bundle.dir, source, output,
                                   tt.Settings(auto_adjust=False))
  info = sf.info(output)
  assert info.samplerate == SR and info.channels == 1
  n_in = round(1.5 * SR)
  expected = runtime.n_frames_for(n_in, bundle.hop_size) * bundle.hop_size
  assert info.frames == expected == len(result['audio'])
  assert n_in <= info.frames < n_in + bundle.hop_size
  assert abs(np.median(calls[0]['f0_hz']) - 330.0) < 330.0 * 0.03
  assert result['statistics'] is None


def test_errors_name_the_cause_and_write_nothing(bundle, tmp_path):
  output = tmp_path / 'out.wav'
  with pytest.raises(audio_io.AudioLoadError, match='missing.wav'):
    tt.timbre_transfer_file(bundle.dir, tmp_path / 'missing.wav', output)
  corrupt = tmp_path / 'corrupt.wav'
  corrupt.write_bytes(b'RIFF\x00\x00\x00\x00WAVEnot really audio')
  with pytest.raises(audio_io.AudioLoadError, match='corrupt.wav'):
    tt.timbre_transfer_file(bundle.dir, corrupt, output)
  with pytest.raises(tt.TransferError, match='neither bundle.json'):
    tt.timbre_transfer_file(tmp_path, corrupt, output)
  with pytest.raises(tt.TransferError, match='not a directory'):
    tt.timbre_transfer_file(tmp_path / 'nope', corrupt, output)
  bad_stats = tmp_path / 'stats.pkl'
  bad_stats.write_bytes(b'not a pickle')
  sf.write(tmp_path / 'ok.wav', _tone(0.3), SR)
  with pytest.raises(tt.TransferError, match='not a dataset statistics'):
    tt.timbre_transfer_file(bundle.dir, tmp_path / 'ok.wav', output,
                            statistics=bad_stats)
  assert list(tmp_path.glob('out*')) == []
  assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []


def test_cli_one_line_errors_and_success(bundle, tmp_path):
  def run(*flags):
    return subprocess.run(
        [sys.executable, '-m', 'ddsp.export.timbre_transfer', *flags],
        capture_output=True, text=True, timeout=300)

  missing = run(f'--model={bundle.dir}', f'--input={tmp_path / "x.wav"}',
                f'--output={tmp_path / "y.wav"}')
  assert missing.returncode != 0
  assert missing.stderr.strip().splitlines() == [
      f"ddsp_timbre_transfer: error: Could not load audio file "
      f"'{tmp_path / 'x.wav'}': file not found"], missing.stderr
  assert not (tmp_path / 'y.wav').exists()
  sf.write(tmp_path / 'in.wav', _tone(0.5), SR)
  wrong_model = run(f'--model={tmp_path}', f'--input={tmp_path / "in.wav"}',
                    f'--output={tmp_path / "y.wav"}')
  assert wrong_model.returncode != 0
  assert len(wrong_model.stderr.strip().splitlines()) == 1
  assert 'neither bundle.json' in wrong_model.stderr
  ok = run(f'--model={bundle.dir}', f'--input={tmp_path / "in.wav"}',
           f'--output={tmp_path / "y.wav"}', '--octave_shift=-1',
           '--noauto_adjust')
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert 'octave shift -1' in ok.stdout
  assert sf.info(tmp_path / 'y.wav').samplerate == SR


def test_checkpoint_backend_mutes_and_shifts(tmp_path):
  n_frames = 250
  features = {'audio': np.zeros([1, 64000], np.float32),
              'f0_hz': np.full([1, n_frames * 4], 220.0, np.float32),
              'loudness_db': np.full([1, n_frames * 4], -30.0, np.float32)}
  export_testing.make_run(tmp_path / 'run', 'models/solo_instrument.gin',
                          features, ['RnnFcDecoder.rnn_channels = 64',
                                     'RnnFcDecoder.ch = 32',
                                     'Reverb.reverb_length = 1600'])
  audio = _tone(2.0, silence_from=1.0)
  result = tt.transfer_with_checkpoint(
      tmp_path / 'run', audio, tt.Settings(
          auto_adjust=False, octave_shift=1.0, f0_confidence_threshold=0.5))
  assert len(result['audio']) == len(audio)
  mute = result['mute']
  assert mute[-100:].all() and not mute[50:200].any()
  np.testing.assert_allclose(result['adjusted']['f0_hz'],
                             result['features']['f0_hz'] * 2, rtol=1e-5)
  amps = result['controls']['amps']
  assert np.all(amps[mute] <= 1e-6)
  assert np.all(amps[~mute] > 1e-6)
  assert np.all(result['controls']['noise_magnitudes'][mute] <= 1e-6)


def test_statistics_pickles_name_the_3_7_0_module_and_load_without_tf(
    tmp_path):
  rng = np.random.default_rng(0)
  loudness = rng.uniform(-60, -10, [1, 500]).astype(np.float32)
  transform, _ = postprocessing.fit_quantile_transform(
      loudness, np.ones_like(loudness, bool))
  path = tmp_path / 'dataset_statistics.pkl'
  path.write_bytes(pickle.dumps({'mean_pitch': 60.0,
                                 'quantile_transform': transform}))
  assert b'ddsp.training.postprocessing' in path.read_bytes()
  probe = np.array([[-50.0], [-30.0], [-15.0]])
  script = (
      'import sys, numpy as np\n'
      'from ddsp.export import timbre_transfer as tt\n'
      f'stats = tt.load_statistics({str(path)!r})\n'
      f'print(stats["quantile_transform"].transform(np.array({probe.tolist()})'
      ').ravel().tolist())\n'
      'print("tensorflow" in sys.modules)\n')
  result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=120, check=True)
  values, tf_imported = result.stdout.strip().splitlines()
  assert tf_imported == 'False'
  np.testing.assert_allclose(json.loads(values),
                             transform.transform(probe).ravel(), atol=1e-7)
