"""TFLite bundles: builtin ops, parity with the TF/Keras models, streaming."""

import os
import shutil
import subprocess

from conftest import SHARED_DIR
from conftest import TEST_DATA_DIR
import export_testing
import numpy as np
import pytest
import soundfile as sf

from ddsp import core
from ddsp import crepe
from ddsp import spectral_ops
from ddsp import synths
from ddsp.export import bundle
from ddsp.export import feature_model
from ddsp.export import runtime
from ddsp.export import streaming_synth
from ddsp.export import tflite_check

HOP = 320
TFLITE291_CHECK = SHARED_DIR / 'tools' / 'tflite291-check'


@pytest.fixture(scope='module')
def violin():
  audio, sample_rate = sf.read(TEST_DATA_DIR / 'violin_excerpt.flac',
                               dtype='float32')
  assert sample_rate == 16000
  return audio


@pytest.fixture(scope='module')
def vst_bundle(tmp_path_factory):
  return runtime.Bundle(export_testing.build_bundle(
      tmp_path_factory.mktemp('bundles') / 'vst'))


@pytest.fixture(scope='module')
def clip_bundle(tmp_path_factory):
  return runtime.Bundle(export_testing.build_bundle(
      tmp_path_factory.mktemp('bundles') / 'clip', alignment='clip',
      amp_resample_method='window'))


def _controls(n_frames, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(n_frames) / 50.0
  f0 = 196.0 * 2.0**(np.sin(2 * np.pi * 1.3 * t) / 4.0)
  amps = 0.4 + 0.3 * np.sin(2 * np.pi * 0.5 * t)
  hd = rng.uniform(0.0, 1.0, (n_frames, 60))
  mags = rng.uniform(0.0, 0.1, (n_frames, 65))
  return [x.astype(np.float32) for x in (f0, amps, hd, mags)]


def test_every_model_has_builtin_ops_only(vst_bundle):
  ops = {}
  for name in runtime.MODEL_NAMES:
    path = vst_bundle.dir / vst_bundle.config['models'][name]
    assert tflite_check.non_builtin_ops(path) == []
    ops[name] = {op.name for op in tflite_check.operator_codes(path)}
  # The op lists are real: the graphs' key ops are there.
  assert {'CONV_2D', 'ARG_MAX'} <= ops['features']
  assert 'FULLY_CONNECTED' in ops['controls']
  assert {'SIN', 'DEPTHWISE_CONV_2D', 'BATCH_MATMUL'} <= ops['synth']
  assert 'CUMSUM' in ops['synth_chunk']


def test_feature_model_matches_reference_features(vst_bundle, violin):
  features = runtime.extract_features(vst_bundle, violin)
  n_frames = runtime.n_frames_for(len(violin), HOP)
  assert features['f0_hz'].shape == (n_frames,)
  # Power: spectral_ops.compute_power over 1024-sample centred frames.
  power = spectral_ops.compute_power(violin, 16000, 50, 1024)[:n_frames]
  np.testing.assert_allclose(features['pw_db'], power, atol=1e-3)
  np.testing.assert_allclose(features['pw_scaled'], power / 80.0 + 1.0,
                             atol=1e-5)
  # f0: CREPE tiny without Viterbi (crepe.predict_f0's own fast network).
  padded = np.pad(violin, 512)
  f0, confidence = crepe.predict_f0(padded, 50, viterbi=False,
                                    model_capacity='tiny')
  cents = 1200 * np.abs(np.log2(features['f0_hz'] / f0[:n_frames]))
  assert cents.max() < 1.0
  np.testing.assert_allclose(features['f0_confidence'],
                             confidence[:n_frames], atol=1e-4)
  np.testing.assert_allclose(features['f0_scaled'],
                             core.hz_to_midi(features['f0_hz']) / 127.0,
                             atol=1e-6)


def test_loudness_feature_matches_compute_loudness(violin):
  frames = crepe.frame_audio(np.pad(violin, 512), HOP)[:40]
  fn = feature_model.feature_function(outputs=('loudness_db',))
  loudness = np.concatenate([fn(f)['loudness_db'].numpy() for f in frames])
  # compute_loudness frames 512 samples centred on multiples of the hop.
  expected = spectral_ops.compute_loudness(violin, 16000, 50, 512)[:40]
  np.testing.assert_allclose(loudness, expected, atol=1e-3)


def test_control_model_matches_keras(vst_bundle):
  control_fn = export_testing.control_function()
  model = vst_bundle.model('controls')
  state_tf = state_lite = np.zeros(512, np.float32)
  rng = np.random.default_rng(1)
  worst = 0.0
  for _ in range(20):
    f0_scaled, pw_scaled = rng.uniform(0.3, 0.8, (2, 1)).astype(np.float32)
    expected = [x.numpy() for x in control_fn(f0_scaled, pw_scaled,
                                              state_tf)]
    lite = model(f0_scaled=f0_scaled, pw_scaled=pw_scaled, state=state_lite)
    for k, value in enumerate(expected):
      worst = max(worst, np.abs(lite[f'output_{k}'] - value).max())
    state_tf, state_lite = expected[3], lite['output_3']
  assert worst < 1e-5


def test_synth_model_matches_tf_graph(vst_bundle):
  f0, amps, hd, mags = _controls(40)
  config = streaming_synth.SynthConfig()
  synth_fn = streaming_synth.synth_function(config)
  noise = vst_bundle.noise(np.random.default_rng(0), 40)
  state = config.initial_state(f0[0])
  worst = 0.0
  for j in range(40):
    args = dict(f0_hz=f0[j:j + 1], amplitudes=amps[j:j + 1],
                harmonic_distribution=hd[j:j + 1],
                noise_magnitudes=mags[j:j + 1], noise=noise[j:j + 1],
                state=state)
    expected = synth_fn(**args)
    lite = vst_bundle.model('synth')(**args)
    worst = max(worst, np.abs(lite['audio'] - expected['audio']).max())
    state = expected['state'].numpy()
  assert worst < 1e-5


def test_whole_clip_render_matches_keras_synths(clip_bundle):
  n_frames = 150  # 3 s.
  f0, amps, hd, mags = _controls(n_frames)
  noise = clip_bundle.noise(np.random.default_rng(3), n_frames)
  audio = runtime.render_controls(clip_bundle, f0, amps, hd, mags,
                                  noise=noise)
  harmonic = synths.Harmonic(n_samples=n_frames * HOP, scale_fn=None)(
      amps[None, :, None], hd[None], f0[None, :, None])[0]
  filtered = core.frequency_filter(noise.reshape(1, -1), mags[None],
                                   window_size=0)[0]
  # ~2e-4 here, growing slowly over the clip: Harmonic interpolates f0 at
  # float32 frame positions (t * fl(1 / hop)), this synth at exact ones.
  np.testing.assert_allclose(audio, harmonic + filtered, atol=1e-3)


@pytest.mark.parametrize('bundle_name', ['vst_bundle', 'clip_bundle'])
def test_hop_by_hop_streaming_equals_whole_clip_render(bundle_name, request):
  bundle = request.getfixturevalue(bundle_name)
  n_frames = 120
  f0, amps, hd, mags = _controls(n_frames, seed=2)
  noise = bundle.noise(np.random.default_rng(4), n_frames)
  whole = runtime.render_controls(bundle, f0, amps, hd, mags, noise=noise)
  # The same controls one hop per call, as a streaming host would.
  synth = bundle.model('synth')
  state = bundle.initial_synth_state(f0[0])
  hops = []
  clip = bundle.config['synth']['alignment'] == 'clip'
  frames = list(range(n_frames)) + ([n_frames - 1] if clip else [])
  for call, j in enumerate(frames):
    out = synth(f0_hz=f0[j:j + 1], amplitudes=amps[j:j + 1],
                harmonic_distribution=hd[j:j + 1],
                noise_magnitudes=mags[j:j + 1],
                noise=noise[j:j + 1] * (call < n_frames), state=state)
    state = out['state']
    if clip and call == 0:
      state[bundle.state_slice('phase')] = 0.0
      continue
    hops.append(out['audio'])
  np.testing.assert_allclose(np.concatenate(hops), whole, atol=2e-5)


def test_streamed_audio_joins_without_clicks(vst_bundle, violin):
  audio = runtime.timbre_transfer(vst_bundle, violin)[HOP:]
  jumps = np.abs(np.diff(audio))
  at_seams = jumps[HOP - 1::HOP]
  inside = np.delete(jumps, np.arange(HOP - 1, len(jumps), HOP))
  assert at_seams.max() <= inside.max()
  assert np.percentile(at_seams, 90) < 2 * np.percentile(inside, 90)


def test_streaming_equals_offline_render_shifted_by_latency(vst_bundle,
                                                            violin):
  audio = violin[:16000 * 2]
  synth = runtime.StreamingSynth(vst_bundle, seed=5)
  assert synth.latency == 511
  rng = np.random.default_rng(0)
  blocks, start = [], 0
  while start < len(audio):
    size = int(rng.integers(1, 900))
    blocks.append(synth.process(audio[start:start + size]))
    assert len(blocks[-1]) == len(audio[start:start + size])
    start += size
  streamed = np.concatenate(blocks)
  offline = runtime.timbre_transfer(vst_bundle, audio, seed=5)
  np.testing.assert_array_equal(streamed[:synth.latency], 0.0)
  n = len(audio) - synth.latency
  np.testing.assert_array_equal(streamed[synth.latency:], offline[:n])


@pytest.mark.parametrize('quantization, max_size_ratio', [
    ('float16', 0.51), ('dynamic_range', 0.27)])
def test_quantized_bundles_are_smaller_and_close(quantization, max_size_ratio,
                                                 vst_bundle, violin,
                                                 tmp_path):
  small = runtime.Bundle(export_testing.build_bundle(
      tmp_path / quantization, quantization=quantization))
  for name in bundle.QUANTIZABLE:
    size = (small.dir / small.config['models'][name]).stat().st_size
    full = (vst_bundle.dir / vst_bundle.config['models'][name]).stat().st_size
    assert size < max_size_ratio * full, name
  excerpt = violin[:16000]
  features = runtime.extract_features(small, excerpt)
  expected = runtime.extract_features(vst_bundle, excerpt)
  voiced = expected['f0_confidence'] > 0.5
  cents = 1200 * np.abs(np.log2(features['f0_hz'] / expected['f0_hz']))
  assert np.median(cents[voiced]) < 5.0
  controls = runtime.predict_controls(small, expected)
  reference = runtime.predict_controls(vst_bundle, expected)
  error = max(np.abs(controls[k] - reference[k]).max() for k in reference)
  assert error < (1e-3 if quantization == 'float16' else 5e-2)


@pytest.mark.skipif(not TFLITE291_CHECK.exists(),
                    reason='../shared/tools/tflite291-check not found')
def test_plugin_bound_models_run_in_tflite_2_9_1(vst_bundle, tmp_path):
  for name in ('controls', 'features'):
    shutil.copy(vst_bundle.dir / vst_bundle.config['models'][name], tmp_path)
  result = subprocess.run([str(TFLITE291_CHECK), str(tmp_path)],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ))
  if result.returncode == 2:
    pytest.skip(f'TFLite 2.9.1 unavailable: {result.stdout.strip()}')
  assert result.returncode == 0, result.stdout + result.stderr
  assert '2/2 models run' in result.stdout
