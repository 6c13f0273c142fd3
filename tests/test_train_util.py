"""Tests for ddsp.training.train_util: the loop, files, failures, workers."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
import training_fixtures as fx

from ddsp.training import data
from ddsp.training import train_util
import gin

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def _train(save_dir, trainer=None, provider=None, **kwargs):
  kwargs = {'batch_size': 2, 'num_steps': 5, 'steps_per_summary': 100,
            'steps_per_save': 2, 'steps_per_log': 1, **kwargs}
  trainer = trainer or fx.make_trainer()
  step = train_util.train(provider or fx.TinyProvider(), trainer,
                          save_dir=str(save_dir), restore_dir=str(save_dir),
                          **kwargs)
  return trainer, step


def _record_losses(trainer):
  """Wraps train_step to keep each step's losses."""
  recorded, train_step = [], trainer.train_step

  def recording_step(inputs):
    losses = train_step(inputs)
    recorded.append({k: float(v) for k, v in losses.items()})
    return losses

  trainer.train_step = recording_step
  return recorded




def _ckpt_steps(directory):
  return sorted(int(f[len('ckpt-'):-len('.index')])
                for f in os.listdir(directory)
                if f.startswith('ckpt-') and f.endswith('.index'))


# ------------------------------------------------------------------------------
# The loop
# ------------------------------------------------------------------------------
def test_train_writes_checkpoints_and_config_at_post_update_steps(tmp_path):
  _, step = _train(tmp_path)
  assert step == 5
  assert _ckpt_steps(tmp_path) == [2, 4, 5]
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith('ckpt-5')
  config = (tmp_path / 'operative_config-0.gin').read_text()
  assert 'Trainer.lr_decay_rate = 0.98' in config
  assert os.listdir(tmp_path / 'summaries' / 'train')


def test_summaries_hold_window_means_learning_rate_and_audio(tmp_path):
  trainer = fx.make_trainer(learning_rate=0.01, lr_decay_steps=2,
                            lr_decay_rate=0.5)
  recorded = _record_losses(trainer)
  _train(tmp_path, trainer, num_steps=4, steps_per_summary=2)
  events = fx.read_events(tmp_path / 'summaries' / 'train')
  tags = set(events.Tags()['tensors'])
  assert {'losses/l1', 'losses/total_loss', 'steps_per_sec', 'learning_rate',
          'audio_generated', 'audio_original',
          'gin/operative_config-0'} <= tags
  assert 'spectrogram/1' in events.Tags()['images']

  def values(tag):
    return {e.step: float(tf.make_ndarray(e.tensor_proto))
            for e in events.Tensors(tag)}

  totals = [r['total_loss'] for r in recorded]
  assert values('losses/total_loss') == pytest.approx(
      {2: np.mean(totals[:2]), 4: np.mean(totals[2:])}, rel=1e-6)
  assert values('learning_rate') == pytest.approx({2: 0.005, 4: 0.0025})
  audio = tf.make_ndarray(events.Tensors('audio_original')[0].tensor_proto)
  assert audio.shape[0] == 1  # One generated example per summary step.


def test_resume_restores_step_and_writes_operative_config_of_start_step(
    tmp_path):
  _train(tmp_path)
  trainer, step = _train(tmp_path, num_steps=8)
  assert step == 8
  assert _ckpt_steps(tmp_path) == [2, 4, 5, 6, 8]
  assert (tmp_path / 'operative_config-5.gin').exists()


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
  # Two examples and batch 2: every batch is the same, whatever the restart.
  provider = fx.TinyProvider(n_examples=2)
  straight, _ = _train(tmp_path / 'a', provider=provider, num_steps=6)
  _train(tmp_path / 'b', provider=provider, num_steps=3)
  resumed, _ = _train(tmp_path / 'b', provider=provider, num_steps=6)
  for a, b in zip(straight.model.weights, resumed.model.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_xla_training_matches_the_default_graph(tmp_path):
  provider = fx.TinyProvider(n_examples=2)
  graph, _ = _train(tmp_path / 'graph', provider=provider, num_steps=3)
  xla, _ = _train(tmp_path / 'xla', provider=provider, num_steps=3,
                  jit_compile=True)
  assert xla._gradient_fn._jit_compile  # pylint: disable=protected-access
  for a, b in zip(graph.model.weights, xla.model.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)


class BitcastModel(fx.TinyModel):
  """TinyModel behind a complex bitcast, which XLA cannot compile."""

  def call(self, features, training=False):
    pairs = tf.bitcast(tf.complex(features['audio'], 0.0), tf.float32)
    return super().call({'audio': pairs[..., 0]}, training)


def test_model_that_xla_cannot_compile_is_explained(tmp_path):
  strategy = train_util.get_strategy()
  with strategy.scope():
    trainer = fx.trainers.Trainer(BitcastModel(), strategy)
  with pytest.raises(ValueError, match='XLA cannot compile this model'):
    _train(tmp_path, trainer, jit_compile=True)


def test_early_stop_saves_the_step_reached(tmp_path):
  _, step = _train(tmp_path, early_stop_loss_value=1e6)
  assert step == 1
  assert _ckpt_steps(tmp_path) == [1]


def test_nan_loss_stops_with_its_step_and_keeps_the_last_checkpoint(tmp_path):
  # The first batch builds the model; steps 1, 2, 3 get examples 2-3, 4-5, 6-7.
  provider = fx.TinyProvider(n_examples=8, nan_example=6)
  with pytest.raises(FloatingPointError, match='step 3') as error:
    _train(tmp_path, provider=provider, num_steps=10)
  assert 'step 2' in str(error.value)  # The intact checkpoint.
  assert _ckpt_steps(tmp_path) == [2]
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith('ckpt-2')


def test_unwritable_save_dir_fails_before_any_step(tmp_path):
  (tmp_path / 'file').write_text('not a directory')
  trainer = fx.make_trainer()
  recorded = _record_losses(trainer)
  with pytest.raises(OSError, match='not writable'):
    _train(tmp_path / 'file' / 'run', trainer)
  assert not recorded


def test_file_pattern_matching_nothing_fails_in_one_line_before_any_step(
    tmp_path):
  trainer = fx.make_trainer()
  recorded = _record_losses(trainer)
  provider = data.TFRecordProvider(str(tmp_path / 'missing*.tfrecord'))
  with pytest.raises(ValueError) as error:
    _train(tmp_path / 'run', trainer, provider=provider)
  message = str(error.value).splitlines()[0]
  assert message.startswith('Cannot read the data of TFRecordProvider: '
                            'No files matched pattern')
  assert not recorded


# ------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------
def test_get_latest_file_picks_the_largest_number(tmp_path):
  for n in (5, 300, 40):
    (tmp_path / f'operative_config-{n}.gin').write_text('')
  assert train_util.get_latest_file(str(tmp_path)).endswith(
      'operative_config-300.gin')
  (tmp_path / 'operative_config-x.gin').write_text('')
  with pytest.raises(FileNotFoundError):
    train_util.get_latest_file(str(tmp_path))
  with pytest.raises(FileNotFoundError):
    train_util.get_latest_file(str(tmp_path / 'empty'))


def test_latest_operative_config_falls_back_to_the_parent(tmp_path):
  (tmp_path / 'operative_config-7.gin').write_text('')
  (tmp_path / 'eval').mkdir()
  assert train_util.get_latest_operative_config(
      str(tmp_path / 'eval')).endswith('operative_config-7.gin')


def test_get_latest_checkpoint_accepts_prefix_dir_or_env_var(
    tmp_path, monkeypatch):
  _train(tmp_path)
  prefix = str(tmp_path / 'ckpt-4')
  assert train_util.get_latest_checkpoint(prefix) == prefix
  monkeypatch.setenv('RUN_DIR', str(tmp_path))
  assert train_util.get_latest_checkpoint('$RUN_DIR') == str(
      tmp_path / 'ckpt-5')
  os.remove(tmp_path / 'checkpoint')  # No state file: largest ckpt-<n>.
  assert train_util.get_latest_checkpoint(str(tmp_path)) == str(
      tmp_path / 'ckpt-5')


def test_operative_config_markdown_for_tensorboard():
  config = ('# Parameters for train:\n'
            '# =====\n'
            'train.num_steps = 5\n'
            '# None.\n')
  assert train_util._markdown_from_gin(config).splitlines() == [
      '#### Parameters for train:', '', '    train.num_steps = 5',
      '    # None.']


def test_write_gin_config_writes_the_operative_config(tmp_path):

  @gin.configurable
  def configured(value=1):
    return value

  with gin.unlock_config():
    gin.parse_config('configured.value = 3')
  try:
    configured()
    writer = tf.summary.create_noop_writer()
    path = train_util.write_gin_config(writer, str(tmp_path), 12)
    assert path == str(tmp_path / 'operative_config-12.gin')
    assert 'configured.value = 3' in (tmp_path /
                                      'operative_config-12.gin').read_text()
    assert os.listdir(tmp_path) == ['operative_config-12.gin']
  finally:
    gin.clear_config()


def test_get_strategy_rejects_a_malformed_cluster_config():
  with pytest.raises(ValueError, match='cluster_config'):
    train_util.get_strategy(cluster_config='{"cluster": {}}')


# ------------------------------------------------------------------------------
# Separate processes: signals, SIGKILL, full disk, multi-worker
# ------------------------------------------------------------------------------
def _start(save_dir, *args, log_path=None):
  log = open(log_path or f'{save_dir}.log', 'w')
  process = subprocess.Popen(
      [sys.executable, os.path.join(TESTS_DIR, 'training_fixtures.py'),
       f'--save_dir={save_dir}', *args],
      stdout=log, stderr=subprocess.STDOUT, cwd=TESTS_DIR,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  process.log_path = log.name
  return process


def _wait_for(process, predicate, timeout=120):
  deadline = time.time() + timeout
  while time.time() < deadline:
    text = open(process.log_path).read()
    if predicate(text):
      return text
    if process.poll() is not None:
      break
    time.sleep(0.2)
  process.kill()
  raise AssertionError('condition not met; log:\n' +
                       open(process.log_path).read()[-3000:])


def _trainer_restored_from(save_dir):
  trainer = fx.make_trainer(seed=1)
  trainer.build(next(iter(fx.TinyProvider().get_batch(2))))
  trainer.restore(str(save_dir))
  return trainer


def test_sigterm_saves_current_step_and_exits_zero(tmp_path):
  save_dir = tmp_path / 'run'
  process = _start(save_dir, '--step_sleep=0.05', '--steps_per_save=1000')
  _wait_for(process, lambda text: 'step: 7\t' in text)
  process.send_signal(signal.SIGTERM)
  assert process.wait(timeout=60) == 0
  log = open(process.log_path).read()
  stopped = int(log.split('Stopped at step ')[1].split(' ')[0])
  assert stopped >= 7
  assert 'SIGTERM' in log
  assert _ckpt_steps(save_dir) == [stopped]
  assert _trainer_restored_from(save_dir).current_step() == stopped


def _signal_at_steps(trainer, signals_by_step):
  """Sends SIGINT to this process right after the given steps."""
  train_step = trainer.train_step

  def signalling_step(inputs):
    losses = train_step(inputs)
    if trainer.current_step() in signals_by_step:
      os.kill(os.getpid(), signal.SIGINT)
    return losses

  trainer.train_step = signalling_step


def test_ctrl_c_stops_after_the_step_with_a_checkpoint(tmp_path):
  trainer = fx.make_trainer()
  _signal_at_steps(trainer, {3})
  handler = signal.getsignal(signal.SIGINT)
  _, step = _train(tmp_path, trainer, num_steps=100, steps_per_save=100)
  assert step == 3
  assert _ckpt_steps(tmp_path) == [3]
  assert signal.getsignal(signal.SIGINT) is handler  # Restored.


def test_second_ctrl_c_quits_at_once(tmp_path):
  trainer = fx.make_trainer()
  _signal_at_steps(trainer, {3})
  train_step = trainer.train_step

  def interrupted_save(save_dir):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C again while saving.
    raise AssertionError('not reached')

  trainer.train_step = train_step
  trainer.save = interrupted_save
  with pytest.raises(KeyboardInterrupt):
    _train(tmp_path, trainer, num_steps=100, steps_per_save=100)
  assert not _ckpt_steps(tmp_path)


def test_sigkill_resumes_from_the_last_save_with_its_exact_weights(tmp_path):
  save_dir = tmp_path / 'run'
  process = _start(save_dir, '--step_sleep=0.02', '--steps_per_save=5')
  _wait_for(process, lambda text: 'step: 12\t' in text)
  process.kill()
  process.wait()
  latest = train_util.get_latest_checkpoint(str(save_dir))
  saved_step = int(latest.split('-')[-1])
  assert saved_step >= 10 and saved_step % 5 == 0
  reader = tf.train.load_checkpoint(latest)
  trainer = _trainer_restored_from(save_dir)
  assert trainer.current_step() == saved_step
  for layer in ('hidden', 'out'):
    for name, variable in (('kernel', getattr(trainer.model, layer).kernel),
                           ('bias', getattr(trainer.model, layer).bias)):
      key = f'model/{layer}/{name}/.ATTRIBUTES/VARIABLE_VALUE'
      np.testing.assert_array_equal(variable.numpy(), reader.get_tensor(key))
  _, step = _train(save_dir, trainer, num_steps=saved_step + 2,
                   steps_per_save=100)
  assert step == saved_step + 2


def test_full_disk_gives_a_clear_error_and_no_partial_checkpoint(tmp_path):
  save_dir = tmp_path / 'run'
  # A 1.5 MB checkpoint cannot be written under a 256 kB file size limit.
  process = _start(save_dir, '--hidden=40000', '--max_file_bytes=262144',
                   '--steps_per_save=2', '--num_steps=4')
  assert process.wait(timeout=120) == 1
  log = open(process.log_path).read()
  assert 'ERROR CheckpointError: Could not write checkpoint' in log
  assert str(save_dir / 'ckpt-2') in log
  assert not [f for f in os.listdir(save_dir) if f.startswith('ckpt-')]
  assert not (save_dir / 'checkpoint').exists()


def _free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_workers_apply_the_same_updates_and_stop_together(tmp_path):
  ports = ','.join(str(p) for p in _free_ports(2))
  save_dir = tmp_path / 'run'
  workers = [_start(save_dir, f'--worker={i}', f'--ports={ports}',
                    '--steps_per_save=3', '--step_sleep=0.05',
                    log_path=str(tmp_path / f'worker{i}.log'))
             for i in range(2)]
  # SIGTERM to the non-chief worker only: both stop at the same step.
  _wait_for(workers[1], lambda text: 'step: 4\t' in text, timeout=240)
  workers[1].send_signal(signal.SIGTERM)
  weights, stopped = [], []
  for worker in workers:
    assert worker.wait(timeout=120) == 0, open(worker.log_path).read()[-3000:]
    log = open(worker.log_path).read()
    stopped.append(int(log.split('Stopped at step ')[1].split(' ')[0]))
    line = [x for x in log.splitlines() if x.startswith('WEIGHTS ')][0]
    weights.append(json.loads(line[len('WEIGHTS '):]))
  assert stopped[0] == stopped[1] >= 4
  for a, b in zip(*weights):
    np.testing.assert_array_equal(np.array(a), np.array(b))
  assert _ckpt_steps(save_dir)[-1] == stopped[0]  # Written by the chief.
