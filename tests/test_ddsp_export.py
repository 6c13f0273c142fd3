"""`ddsp_export` and the inference models, from save dirs of gin models."""

import json
import os
import shutil
import subprocess
import sys

from conftest import SHARED_DIR
from conftest import TEST_DATA_DIR
import export_testing
import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ddsp import core
from ddsp.export import inference
from ddsp.export import metadata
from ddsp.export import runtime
from ddsp.export import tflite_check
from ddsp.export import tflite_convert
import gin

TFLITE291_CHECK = SHARED_DIR / 'tools' / 'tflite291-check'
T = 201  # Frames of 4 s at 50 Hz, centred (vst.gin).


@pytest.fixture(autouse=True)
def clean_gin():
  yield
  gin.clear_config()


@pytest.fixture(scope='module')
def vst_run(tmp_path_factory):
  """A vst.gin model's save dir, its model, and a dataset for statistics."""
  root = tmp_path_factory.mktemp('vst')
  t = np.arange(64000) / 16000
  features = {'audio': (0.3 * np.sin(2 * np.pi * 220 * t))[None]
                       .astype(np.float32),
              'f0_hz': np.full([1, T], 220.0, np.float32),
              'f0_confidence': np.ones([1, T], np.float32)}
  model = export_testing.make_run(root / 'run', 'models/vst/vst.gin',
                                  features)
  export_testing.write_tfrecord(root / 'data.tfrecord')
  return root / 'run', model, root / 'data.tfrecord'


def _export(*flags):
  return subprocess.run(
      [sys.executable, '-m', 'ddsp.export.ddsp_export', '--tfjs=false',
       *flags], capture_output=True, text=True, timeout=600)


def _expected_controls(model, f0_scaled, pw_scaled):
  """Controls of the trained (Keras) decoder over the whole sequence."""
  outputs = model.decoder({'f0_scaled': f0_scaled[None, :, None],
                           'pw_scaled': pw_scaled[None, :, None]})
  harmonic = model.processor_group.harmonic.get_controls(
      outputs['amps'], outputs['harmonic_distribution'],
      core.midi_to_hz(f0_scaled[None, :, None] * 127.0))
  noise = model.processor_group.filtered_noise.get_controls(
      outputs['noise_magnitudes'])
  return [harmonic['amplitudes'][0, :, 0].numpy(),
          harmonic['harmonic_distribution'][0].numpy(),
          noise['magnitudes'][0].numpy()]


def test_plugin_model_export(vst_run, tmp_path):
  run, model, dataset = vst_run
  save_dir = tmp_path / 'export'
  result = _export(f'--model_path={run}', f'--save_dir={save_dir}',
                   '--inference_model=vst_stateless_predict_controls',
                   f'--dataset_path={dataset}', '--name=Violin')
  assert result.returncode == 0, result.stderr[-3000:]
  path = save_dir / 'tflite' / 'Violin.tflite'
  # What the plugin checks, and runs.
  assert tflite_check.vst_control_problems(path) == []
  # metadata.json: ddsp 3.7.0's keys and format, also inside the .tflite.
  text = (save_dir / 'metadata.json').read_text()
  info = json.loads(text)
  assert list(info) == list(metadata.METADATA_KEYS)
  assert text == json.dumps(info)
  assert metadata.read_from_tflite(path) == info
  assert (info['num_harmonics'], info['num_noise_amps'], info['frame_rate'],
          info['frame_size'], info['sample_rate']) == (60, 65, 50, 1024,
                                                       16000)
  assert info['mean_min_pitch_note_hz'] == pytest.approx(220.0, rel=1e-3)
  # The reverb's impulse response, at the model's rate and resampled.
  ir, rate = sf.read(save_dir / 'reverb_ir_16000_hz.wav')
  assert rate == 16000 and len(ir) == 24000
  assert sf.info(save_dir / 'reverb_ir_44100_hz.wav').frames == 66150
  # The SavedModel's signature, as ddsp 3.7.0's.
  signature = tf.saved_model.load(str(save_dir)).signatures['call']
  assert set(signature.structured_input_signature[1]) == {
      'f0_scaled', 'pw_scaled', 'state'}
  assert set(signature.structured_outputs) == {
      f'output_{k}' for k in range(4)}
  # The trained weights: frame by frame with the state fed back equals the
  # Keras decoder over the sequence.
  rng = np.random.default_rng(0)
  f0_scaled = rng.uniform(0.4, 0.7, 20).astype(np.float32)
  pw_scaled = rng.uniform(0.2, 0.9, 20).astype(np.float32)
  lite = runtime.TFLiteModel(path)
  state = np.zeros(512, np.float32)
  outputs = []
  for f0, pw in zip(f0_scaled, pw_scaled):
    out = lite(f0_scaled=[f0], pw_scaled=[pw], state=state)
    state = out['output_3']
    outputs.append(out)
  expected = _expected_controls(model, f0_scaled, pw_scaled)
  for k in range(3):
    got = np.stack([o[f'output_{k}'] for o in outputs]).reshape(
        expected[k].shape)
    np.testing.assert_allclose(got, expected[k], atol=1e-5)
  if TFLITE291_CHECK.exists():
    check = subprocess.run([str(TFLITE291_CHECK), str(path)],
                           capture_output=True, text=True, timeout=600)
    if check.returncode != 2:  # 2: no Python 3.9 / TFLite 2.9.1 here.
      assert check.returncode == 0, check.stdout


def test_ddsp_run_model_exports_and_renders_without_tensorflow(tmp_path):
  # Two training steps of models/vst/vst.gin with `ddsp_run`.
  data = tmp_path / 'data.tfrecord'
  export_testing.write_tfrecord(data, n_examples=2, frame_rate=50,
                                centered=True)
  run = tmp_path / 'run'
  train = subprocess.run(
      [sys.executable, '-m', 'ddsp.training.ddsp_run', '--mode=train',
       f'--save_dir={run}', '--gin_file=models/vst/vst.gin',
       '--gin_file=datasets/tfrecord.gin',
       f"--gin_param=TFRecordProvider.file_pattern='{data}'",
       '--gin_param=TFRecordProvider.frame_rate=50',
       '--gin_param=TFRecordProvider.centered=True',
       '--gin_param=batch_size=2', '--gin_param=train_util.train.num_steps=2',
       '--gin_param=train_util.train.steps_per_save=2',
       '--gin_param=train_util.train.steps_per_summary=2'],
      capture_output=True, text=True, timeout=900)
  assert train.returncode == 0, train.stderr[-3000:]
  # Default export (streaming_f0_pw); statistics from the training data.
  result = _export(f'--model_path={run}', '--reverb=false')
  assert result.returncode == 0, result.stderr[-3000:]
  bundle_dir = run / 'export' / 'tflite'
  bundle = runtime.Bundle(bundle_dir)
  assert bundle.config['controls']['inputs'] == ['f0_scaled', 'pw_scaled']
  assert bundle.config['metadata']['num_harmonics'] == 60
  assert tflite_check.vst_control_problems(
      bundle_dir / 'controls.tflite') == []
  # Rendering a WAV loads no TensorFlow.
  output = tmp_path / 'out.wav'
  render = subprocess.run([sys.executable, '-c', f"""
import sys
from ddsp.export import render
render.render_file({str(bundle_dir)!r},
                   {str(TEST_DATA_DIR / 'violin_excerpt.flac')!r},
                   {str(output)!r})
print(sorted(m for m in sys.modules
             if m.split('.')[0] in ('tensorflow', 'keras')))"""],
                          capture_output=True, text=True, timeout=300)
  assert render.returncode == 0, render.stderr[-3000:]
  assert render.stdout.strip() == '[]'
  audio, rate = sf.read(output)
  assert rate == 16000 and len(audio) == 64000
  assert np.isfinite(audio).all() and np.abs(audio).max() > 0


def test_vst_synth_and_feature_models(vst_run):
  run, _, _ = vst_run
  harmonic = inference.VSTSynthesizeHarmonic(str(run))
  assert harmonic.hop_size == 320
  flatbuffer = tflite_convert.convert(harmonic.tflite_function())
  assert tflite_check.non_builtin_ops(flatbuffer) == []
  rng = np.random.default_rng(1)
  hd, prev_hd = rng.uniform(0, 1, (2, 60)).astype(np.float32)
  args = dict(amps=[0.5], prev_amps=[0.3], hd=hd, prev_hd=prev_hd,
              f0=[330.0], prev_f0=[320.0], prev_phase=[1.0])
  audio, phase = harmonic(*[np.asarray(v, np.float32) for v in args.values()])
  with gin.unlock_config():  # The reference in float64, not angular_cumsum.
    gin.bind_parameter('harmonic_oscillator_bank.use_angular_cumsum', False)
  expected, final = core.streaming_harmonic_synthesis(
      np.array([320.0, 330.0], np.float32)[None, :, None],
      np.array([0.3, 0.5], np.float32)[None, :, None],
      np.stack([prev_hd, hd])[None], initial_phase=np.full([1, 1, 1], 1.0),
      n_samples=320, amp_resample_method='linear')
  np.testing.assert_allclose(audio, expected[0], atol=5e-5)
  assert np.cos(phase[0] - final.numpy().ravel()[0]) == pytest.approx(1.0)

  noise = inference.VSTSynthesizeNoise(str(run))
  silent = noise(np.zeros(65, np.float32)).numpy()
  flat = noise(np.ones(65, np.float32)).numpy()
  assert silent.shape == (320,) and not silent.any()
  # A flat response passes white noise: uniform in [-1, 1), variance 1/3.
  assert np.abs(flat).max() <= 1.0 and 0.25 < flat.var() < 0.42

  features = inference.VSTExtractFeatures(str(run))
  path = run.parent / 'extract_features.tflite'
  path.write_bytes(tflite_convert.convert(features.tflite_function()))
  assert tflite_check.vst_feature_problems(path) == []

  predict = inference.VSTPredictControls(str(run))
  first = [x.numpy() for x in predict._call([0.5], [0.6])]
  again = [x.numpy() for x in predict._call([0.5], [0.6])]
  assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_autoencoder_export(tmp_path):
  n_frames = 1000
  t = np.arange(64000) / 16000
  features = {'audio': (0.3 * np.sin(2 * np.pi * 220 * t))[None]
                       .astype(np.float32),
              'f0_hz': np.full([1, n_frames], 220.0, np.float32),
              'loudness_db': np.full([1, n_frames], -30.0, np.float32)}
  export_testing.make_run(tmp_path / 'run', 'models/solo_instrument.gin',
                          features, ['RnnFcDecoder.rnn_channels = 64',
                                     'RnnFcDecoder.ch = 32'])
  result = _export(f'--model_path={tmp_path / "run"}', '--metadata=false',
                   '--inference_model=autoencoder',
                   '--gin_param=AutoencoderInference.length_seconds = 1')
  assert result.returncode == 0, result.stderr[-3000:]
  save_dir = tmp_path / 'run' / 'export'
  signature = tf.saved_model.load(str(save_dir)).signatures[
      'serving_default']
  f0 = np.full(250, 220.0, np.float32)
  loudness = np.linspace(-60, -10, 250).astype(np.float32)
  expected = signature(f0_hz=f0, loudness_db=loudness)
  assert expected['audio_synth'].shape == (1, 16000)
  lite = runtime.TFLiteModel(save_dir / 'tflite' / 'model.tflite')
  assert tflite_check.non_builtin_ops(lite.path) == []
  out = lite(f0_hz=f0, loudness_db=loudness)
  for key in ('harmonic_controls_amplitudes',
              'harmonic_controls_harmonic_distribution',
              'filtered_noise_controls_magnitudes', 'f0_scaled', 'ld_scaled'):
    np.testing.assert_allclose(out[key], np.squeeze(expected[key]),
                               atol=1e-5, err_msg=key)
  # Same harmonic audio; the noise is another draw of the same filter.
  difference = out['audio_synth'] - expected['audio_synth'][0]
  noise_rms = np.sqrt(np.mean(expected['filtered_noise_signal']**2))
  assert np.sqrt(np.mean(difference**2)) == pytest.approx(
      np.sqrt(2) * noise_rms, rel=0.15)


def test_failed_export_leaves_nothing(vst_run, tmp_path):
  run, _, _ = vst_run
  save_dir = tmp_path / 'export'
  result = _export(f'--model_path={run}', f'--save_dir={save_dir}',
                   f'--dataset_path={tmp_path / "missing*.tfrecord"}')
  assert result.returncode != 0
  assert not save_dir.exists()
  assert os.listdir(tmp_path) == []
  result = _export(f'--model_path={tmp_path}')
  assert 'operative_config' in result.stderr
  assert os.listdir(tmp_path) == []
  shutil.rmtree(tmp_path, ignore_errors=True)


def test_saved_model_to_tflite_converts_a_saved_model_directory(vst_run,
                                                                 tmp_path):
  run, _, _ = vst_run
  model = inference.VSTStatelessPredictControls(str(run))
  model.save_model(str(tmp_path / 'saved_model'))
  # ddsp_export.saved_model_to_tflite is this with the command's flags; the
  # command module is not imported here (its flags clash with ddsp_run's).
  from_dir = tflite_convert.write_tflite(
      tmp_path / 'saved_model', tmp_path / 'tflite', name='from_dir')
  assert tflite_check.non_builtin_ops(from_dir.read_bytes()) == []
  assert tflite_check.vst_control_problems(from_dir,
                                          require_metadata=False) == []
  state = np.random.default_rng(0).uniform(-0.5, 0.5, 512).astype(np.float32)
  args = {'f0_scaled': np.array([69 / 127], np.float32),
          'pw_scaled': np.array([0.625], np.float32), 'state': state}
  expected = [x.numpy() for x in model._call(*args.values())]
  outputs = runtime.TFLiteModel(from_dir)(**args)
  for k, want in enumerate(expected):
    np.testing.assert_allclose(outputs[f'output_{k}'], want, atol=1e-5)
  # The command converts a SavedModel directory in place.
  result = _export(f'--model_path={tmp_path / "saved_model"}')
  assert result.returncode == 0, result.stderr
  assert tflite_check.non_builtin_ops(
      tmp_path / 'saved_model' / 'tflite' / 'model.tflite') == []


def test_damaged_or_foreign_checkpoint_is_one_line_and_leaves_nothing(
    vst_run, tmp_path):
  run, _, _ = vst_run
  damaged = tmp_path / 'damaged'
  shutil.copytree(run, damaged)
  (data_file,) = damaged.glob('ckpt-*.data-*')
  data_file.write_bytes(data_file.read_bytes()[:100])  # Truncated.
  foreign = tmp_path / 'foreign'
  shutil.copytree(run, foreign)
  # The operative config of a smaller decoder: the weights do not fit it.
  config = foreign / 'operative_config-0.gin'
  config.write_text(config.read_text().replace(
      'RnnFcDecoder.rnn_channels = 512', 'RnnFcDecoder.rnn_channels = 64'))
  for model_path in (damaged, foreign):
    save_dir = tmp_path / f'export-{model_path.name}'
    result = _export(f'--model_path={model_path}', f'--save_dir={save_dir}',
                     '--metadata=false', '--reverb=false')
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines()
              if line.startswith('ddsp_export: error: ')]
    assert len(errors) == 1 and 'Traceback' not in result.stderr
    assert f'Cannot export {model_path}: ' in errors[0]
    assert 'operative_config' in errors[0]
    assert not save_dir.exists()
  assert sorted(os.listdir(tmp_path)) == ['damaged', 'foreign']
