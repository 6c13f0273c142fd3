"""Tests for the ddsp_run CLI with the shipped gin configs (tiny sizes)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
import training_fixtures as fx

from ddsp.training import ddsp_run
import gin

EXAMPLE_SECS = 0.25
N_SAMPLES = 4000  # 0.25 s at 16 kHz.
N_FRAMES = 63  # ceil(4000 / 64): 250 Hz frames, 'same' padding.


def _write_tfrecord(path, n_examples=4):
  """0.25 s sines (220-385 Hz) in the ddsp_prepare_tfrecord schema."""
  t = np.arange(N_SAMPLES) / 16000
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(n_examples):
      f0_hz = 220.0 + 55.0 * i
      audio = (0.4 * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)
      features = {
          'audio': audio,
          'audio_16k': audio,
          'f0_hz': np.full(N_FRAMES, f0_hz, np.float32),
          'f0_confidence': np.ones(N_FRAMES, np.float32),
          'loudness_db': np.full(N_FRAMES, -20.0, np.float32),
      }
      example = tf.train.Example(features=tf.train.Features(feature={
          k: tf.train.Feature(float_list=tf.train.FloatList(value=v))
          for k, v in features.items()}))
      writer.write(example.SerializeToString())


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
  directory = tmp_path_factory.mktemp('data')
  _write_tfrecord(directory / 'train.tfrecord-00000-of-00001')
  return str(directory / 'train.tfrecord*')


def _tiny_params(pattern):
  """The solo-instrument model at 0.25 s with small layers."""
  return [
      f"TFRecordProvider.file_pattern='{pattern}'",
      f'TFRecordProvider.example_secs={EXAMPLE_SECS}',
      'F0LoudnessPreprocessor.time_steps=250',
      f'Harmonic.n_samples={N_SAMPLES}',
      f'FilteredNoise.n_samples={N_SAMPLES}',
      'RnnFcDecoder.rnn_channels=16',
      'RnnFcDecoder.ch=16',
      'RnnFcDecoder.layers_per_stack=1',
      ("RnnFcDecoder.output_splits=(('amps', 1), "
       "('harmonic_distribution', 8), ('noise_magnitudes', 8))"),
      'Reverb.reverb_length=400',
      'SpectralLoss.fft_sizes=(512, 256, 128, 64)',
      'batch_size=2',
      'train.steps_per_save=2',
      'train.steps_per_summary=2',
      'train.steps_per_log=1',
      'evaluate.batch_size=2',
      'evaluate.num_batches=1',
      'sample.batch_size=2',
  ]


def _flags(save_dir, mode='train', gin_files=('models/solo_instrument.gin',
                                              'datasets/tfrecord.gin'),
           params=(), extra=()):
  return ([f'--mode={mode}', f'--save_dir={save_dir}'] +
          [f'--gin_file={f}' for f in gin_files] +
          [f'--gin_param={p}' for p in params] + list(extra))


def _start(args, log_path):
  log = open(log_path, 'w')
  process = subprocess.Popen(
      [sys.executable, '-m', 'ddsp.training.ddsp_run', *args],
      stdout=log, stderr=subprocess.STDOUT,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  process.log_path = log_path
  return process


def _run(args, log_path, timeout=300):
  process = _start(args, log_path)
  returncode = process.wait(timeout=timeout)
  return returncode, open(log_path).read()




def _tags(directory):
  events = fx.read_events(directory)
  return set(events.Tags()['tensors']) | set(events.Tags()['images'])


def test_help_lists_the_flags():
  result = subprocess.run(
      [sys.executable, '-m', 'ddsp.training.ddsp_run', '--help'],
      capture_output=True, text=True, timeout=120)
  assert result.returncode in (0, 1)  # absl exits 1 after --help.
  for flag in ('--mode', '--save_dir', '--restore_dir', '--gin_search_path',
               '--gin_file', '--gin_param', '--[no]allow_memory_growth',
               '--[no]run_once', '--early_stop_loss_value',
               '--cluster_config', '--initial_delay_secs', '--[no]hypertune',
               '--tpu'):
    assert f'  {flag}:' in result.stdout


def test_train_interrupt_resume_eval_and_sample(tmp_path, tiny_data):
  save_dir = tmp_path / 'run'
  params = _tiny_params(tiny_data)

  # Train until SIGTERM: a checkpoint at the current step, exit status 143.
  process = _start(_flags(save_dir, params=params), str(tmp_path / 'a.log'))
  deadline = time.time() + 300
  while 'step: 3\t' not in open(process.log_path).read():
    assert process.poll() is None and time.time() < deadline, open(
        process.log_path).read()[-3000:]
    time.sleep(0.2)
  process.send_signal(signal.SIGTERM)
  assert process.wait(timeout=120) == 128 + signal.SIGTERM
  log = open(process.log_path).read()
  stopped = int(log.split('Stopped at step ')[1].split(' ')[0])
  assert (save_dir / f'ckpt-{stopped}.index').exists()
  assert (save_dir / 'operative_config-0.gin').exists()

  # Resume at the saved step.
  returncode, log = _run(
      _flags(save_dir, params=params + [f'train.num_steps={stopped + 2}']),
      str(tmp_path / 'b.log'))
  assert returncode == 0, log[-3000:]
  assert f'(step {stopped})' in log
  assert (save_dir / f'operative_config-{stopped}.gin').exists()
  assert (save_dir / f'ckpt-{stopped + 2}.index').exists()
  assert {'losses/spectral_loss', 'losses/total_loss', 'learning_rate',
          'steps_per_sec', 'audio_generated',
          'spectrogram/1'} <= _tags(save_dir / 'summaries' / 'train')

  # Evaluate: the model's settings come from the operative config.
  eval_params = [f"TFRecordProvider.file_pattern='{tiny_data}'",
                 'evaluate.batch_size=2', 'evaluate.num_batches=1',
                 'sample.batch_size=2']
  returncode, log = _run(
      _flags(save_dir, 'eval', gin_files=['datasets/tfrecord.gin'],
             params=eval_params, extra=['--run_once']),
      str(tmp_path / 'eval.log'))
  assert returncode == 0, log[-3000:]
  assert f'eval step: {stopped + 2}\tspectral_loss: ' in log
  assert {'losses/spectral_loss', 'losses/total_loss'} <= _tags(
      save_dir / 'summaries' / 'eval')

  # Sample: audio and plots.
  returncode, log = _run(
      _flags(save_dir, 'sample', gin_files=['datasets/tfrecord.gin'],
             params=eval_params, extra=['--run_once']),
      str(tmp_path / 'sample.log'))
  assert returncode == 0, log[-3000:]
  assert {'audio_generated', 'audio_original', 'waveform/full_1',
          'spectrogram/2'} <= _tags(save_dir / 'summaries' / 'eval')


@pytest.fixture
def run_main(capsys):
  """Calls ddsp_run.main with flags in this process; returns its error line
  (`run.exit_status` holds the exit status)."""

  def run(args):
    ddsp_run.FLAGS(['ddsp_run'] + args)
    with pytest.raises(SystemExit) as exit_info:
      ddsp_run.main([])
    code = exit_info.value.code
    if isinstance(code, str):  # SystemExit(message): status 1.
      run.exit_status = 1
      return code
    run.exit_status = code
    return capsys.readouterr().err.rstrip('\n')

  yield run
  ddsp_run.FLAGS.unparse_flags()
  gin.clear_config()


@pytest.mark.parametrize('bad_param, cause, exit_status', [
    ('NoSuchThing.value=1', "No configurable matching 'NoSuchThing'", 2),
    ('Trainr.learning_rate=0.1', "Did you mean 'Trainer'", 2),
    ('Trainer.learning_rat=0.1',
     "Trainer.learning_rat=0.1. Did you mean 'learning_rate'?", 2),
    ('Trainer.ema_momentum=1.5', 'ema_momentum must be in [0, 1)', 2),
    ('TFRecordProvider.file_pattern=\'/no/such/dir/*.tfrecord\'',
     'No files matched pattern: /no/such/dir/*.tfrecord', 1),
])
def test_configuration_errors_end_in_one_line_before_any_step(
    tmp_path, tiny_data, run_main, bad_param, cause, exit_status):
  message = run_main(_flags(tmp_path / 'run',
                            params=_tiny_params(tiny_data) + [bad_param]))
  assert run_main.exit_status == exit_status
  assert message.startswith('ddsp_run: error: ')
  assert cause in message
  assert '\n' not in message
  assert not [f for f in os.listdir(tmp_path / 'run') if 'ckpt' in f]


def test_missing_gin_file_is_named(tmp_path, run_main):
  message = run_main(_flags(tmp_path / 'run',
                            gin_files=['models/no_such_model.gin']))
  assert message.startswith('ddsp_run: error: ')
  assert 'models/no_such_model.gin' in message
  assert '\n' not in message


def test_gin_order_defaults_then_operative_config_then_flags(tmp_path):
  restore_dir = tmp_path / 'run'
  restore_dir.mkdir()
  (restore_dir / 'operative_config-5.gin').write_text(
      'train.num_steps = 77\nTrainer.learning_rate = 0.5\n')
  ddsp_run.FLAGS(['ddsp_run', '--gin_param=Trainer.learning_rate=0.25'])
  try:
    ddsp_run.parse_gin(str(restore_dir))
    assert gin.query_parameter('train.num_steps') == 77  # Over base.gin.
    assert gin.query_parameter('Trainer.learning_rate') == 0.25  # Flag wins.
    assert gin.query_parameter('train.steps_per_save') == 300  # base.gin.
    assert gin.query_parameter('evaluate.evaluator_classes')  # eval/basic.
  finally:
    ddsp_run.FLAGS.unparse_flags()
    gin.clear_config()
