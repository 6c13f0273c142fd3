"""Tests for ddsp.training.trainers (Adam, schedule, clipping, checkpoints)."""
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
import training_fixtures as fx

from ddsp.training import train_util
from ddsp.training import trainers

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def _batch(batch_size=2):
  return next(iter(fx.TinyProvider().get_batch(batch_size)))


def _built_trainer(**kwargs):
  trainer = fx.make_trainer(**kwargs)
  trainer.build(_batch())
  return trainer


def _numpy_adam_steps(weights, gradient_fn, lrs, clip_norm, n_steps):
  """Keras/Kingma-Ba Adam with global-norm clipping, in numpy."""
  beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7
  weights = [w.copy() for w in weights]
  m = [np.zeros_like(w) for w in weights]
  v = [np.zeros_like(w) for w in weights]
  for t in range(1, n_steps + 1):
    grads = gradient_fn(weights)
    norm = np.sqrt(sum(np.sum(g.astype(np.float64)**2) for g in grads))
    grads = [g * min(1.0, clip_norm / norm) for g in grads]
    alpha = lrs[t - 1] * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    for i, g in enumerate(grads):
      m[i] = beta_1 * m[i] + (1 - beta_1) * g
      v[i] = beta_2 * v[i] + (1 - beta_2) * g * g
      weights[i] = weights[i] - alpha * m[i] / (np.sqrt(v[i]) + epsilon)
  return weights


@pytest.mark.parametrize('clip_norm', [0.01, 1000.0])
def test_train_steps_match_numpy_adam_with_decay_and_clipping(clip_norm):
  trainer = _built_trainer(learning_rate=0.05, lr_decay_steps=1,
                           lr_decay_rate=0.5, grad_clip_norm=clip_norm)
  model = trainer.model
  batch = _batch()
  initial = [v.numpy() for v in model.trainable_variables]

  def gradient_fn(weights):
    for variable, value in zip(model.trainable_variables, weights):
      variable.assign(value)
    with tf.GradientTape() as tape:
      _, losses = model(batch, return_losses=True, training=True)
    return [g.numpy() for g in tape.gradient(losses['total_loss'],
                                             model.trainable_variables)]

  expected = _numpy_adam_steps(initial, gradient_fn, [0.05, 0.025],
                               clip_norm, n_steps=2)
  for variable, value in zip(model.trainable_variables, initial):
    variable.assign(value)
  for _ in range(2):
    trainer.train_step(batch)
  assert trainer.current_step() == 2
  for variable, value in zip(model.trainable_variables, expected):
    np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4,
                               atol=1e-6)


def test_learning_rate_follows_smooth_exponential_decay():
  trainer = fx.make_trainer(learning_rate=3e-4, lr_decay_steps=10000,
                            lr_decay_rate=0.98)
  for step in (0, 5000, 10000, 25000):
    assert trainer.learning_rate(step) == pytest.approx(
        3e-4 * 0.98**(step / 10000), rel=1e-6)


def test_learning_rate_warmup_ramps_linearly_then_follows_the_decay():
  trainer = fx.make_trainer(learning_rate=3e-4, lr_decay_steps=10000,
                            lr_decay_rate=0.98, lr_warmup_steps=4)
  for step, ramp in ((0, 0.25), (1, 0.5), (3, 1.0), (5000, 1.0)):
    assert trainer.learning_rate(step) == pytest.approx(
        3e-4 * 0.98**(step / 10000) * ramp, rel=1e-6)
  with pytest.raises(ValueError, match='lr_warmup_steps'):
    fx.make_trainer(lr_warmup_steps=-2)


def test_defaults_are_those_of_ddsp_3_7_0():
  trainer = trainers.Trainer(fx.TinyModel(), tf.distribute.get_strategy())
  assert trainer.checkpoints_to_keep == 100
  assert trainer.grad_clip_norm == 3.0
  assert trainer.restore_keys is None
  assert trainer.learning_rate(10000) == pytest.approx(0.001 * 0.98)
  assert trainers.get_trainer_class() is trainers.Trainer


def test_save_writes_ckpt_at_step_with_model_and_optimizer_keys(tmp_path):
  trainer = _built_trainer()
  for _ in range(3):
    trainer.train_step(_batch())
  path = trainer.save(str(tmp_path))
  assert path == str(tmp_path / 'ckpt-3')
  assert tf.train.latest_checkpoint(str(tmp_path)) == path
  keys = {name for name, _ in tf.train.list_variables(path)}
  n_vars = len(trainer.model.trainable_variables)
  assert 'optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE' in keys
  assert {f'optimizer/_variables/{n}/.ATTRIBUTES/VARIABLE_VALUE'
          for n in range(1, 2 * n_vars + 1)} <= keys
  model_keys = {k for k in keys if k.startswith('model/')}
  assert len(model_keys) == n_vars  # Each model variable saved under model/.


class NestedModel(fx.TinyModel):
  """TinyModel with an extra Sequential: weights four levels deep."""

  def __init__(self):
    super().__init__()
    self.block = keras.Sequential([keras.layers.Dense(1)])

  def call(self, features, training=False):
    outputs = super().call(features, training)
    outputs['block'] = self.block(outputs['audio_synth'][..., tf.newaxis])
    return outputs


def test_deep_model_weights_keep_their_model_keys(tmp_path):
  strategy = tf.distribute.get_strategy()
  trainer = trainers.Trainer(NestedModel(), strategy)
  trainer.build(_batch())
  keys = {name for name, _ in tf.train.list_variables(
      trainer.save(str(tmp_path)))}
  assert ('model/block/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE'
          in keys)
  assert not [k for k in keys if '_trainable_variables' in k]


def test_restore_brings_back_weights_slots_and_step(tmp_path):
  trainer = _built_trainer()
  for _ in range(3):
    trainer.train_step(_batch())
  trainer.save(str(tmp_path))
  saved = [v.numpy() for v in trainer.model.variables + trainer.optimizer.variables]

  restored = _built_trainer(seed=1)  # Other initial weights.
  restored.restore(str(tmp_path))
  assert restored.current_step() == 3
  for value, variable in zip(
      saved, restored.model.variables + restored.optimizer.variables):
    np.testing.assert_array_equal(variable.numpy(), value)


def test_restore_keys_restore_only_those_model_parts(tmp_path):
  trainer = _built_trainer()
  trainer.train_step(_batch())
  trainer.save(str(tmp_path))
  other = _built_trainer(seed=1, restore_keys=['hidden'])
  out_before = other.model.out.kernel.numpy()
  other.restore(str(tmp_path))
  np.testing.assert_array_equal(other.model.hidden.kernel.numpy(),
                                trainer.model.hidden.kernel.numpy())
  np.testing.assert_array_equal(other.model.out.kernel.numpy(), out_before)
  assert other.current_step() == 1  # The optimizer is restored too.


def test_restore_without_checkpoint_raises_file_not_found(tmp_path):
  with pytest.raises(FileNotFoundError):
    _built_trainer().restore(str(tmp_path))


def _saved_checkpoint(tmp_path):
  trainer = _built_trainer()
  trainer.train_step(_batch())
  return trainer.save(str(tmp_path))


@pytest.mark.parametrize('damage', ['truncate_data', 'corrupt_data',
                                    'delete_index', 'corrupt_index'])
def test_damaged_checkpoint_is_reported_by_path_and_left_in_place(
    tmp_path, damage):
  path = _saved_checkpoint(tmp_path)
  data_path = path + '.data-00000-of-00001'
  if damage == 'truncate_data':
    with open(data_path, 'r+b') as f:
      f.truncate(os.path.getsize(data_path) // 2)
  elif damage == 'corrupt_data':
    with open(data_path, 'r+b') as f:
      f.write(b'\xff' * os.path.getsize(data_path))
  elif damage == 'delete_index':
    os.remove(path + '.index')
  else:
    with open(path + '.index', 'wb') as f:
      f.write(b'not an index')
  files_before = sorted(os.listdir(tmp_path))
  with pytest.raises(train_util.CheckpointError, match='ckpt-1'):
    _built_trainer(seed=1).restore(str(tmp_path))
  assert sorted(os.listdir(tmp_path)) == files_before


@pytest.mark.parametrize('state', ['garbage {{{', ''])
def test_unreadable_state_file_is_an_error_not_a_fresh_start(tmp_path, state):
  _saved_checkpoint(tmp_path)
  (tmp_path / 'checkpoint').write_text(state)
  with pytest.raises(train_util.CheckpointError, match='checkpoint'):
    _built_trainer(seed=1).restore(str(tmp_path))


def test_checkpoint_of_another_model_is_reported(tmp_path):
  _saved_checkpoint(tmp_path)
  with pytest.raises(train_util.CheckpointError, match='does not match'):
    _built_trainer(hidden=3).restore(str(tmp_path))


class ListModel(keras.Model):
  """A plain Keras 3 model holding a layer in a list (not a ddsp Model)."""

  def __init__(self):
    super().__init__(name='list_model')
    self.stack = [keras.layers.Dense(1)]

  def call(self, features):
    return self.stack[0](features['audio'][..., tf.newaxis])


def test_build_rejects_variables_missing_from_checkpoints():
  strategy = tf.distribute.get_strategy()
  trainer = trainers.Trainer(ListModel(), strategy)
  with pytest.raises(ValueError, match='not reachable.*dense'):
    trainer.build(_batch())


_TWO_REPLICAS = textwrap.dedent('''
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import training_fixtures as fx
    weights = {}
    for devices in (['/cpu:0'], ['/cpu:0', '/cpu:1']):
      strategy = tf.distribute.MirroredStrategy(devices)
      trainer = fx.make_trainer(strategy, grad_clip_norm=1000.0,
                                ema_momentum=0.5)
      data = strategy.experimental_distribute_dataset(
          fx.TinyProvider().get_batch(4))
      iterator = iter(data)
      trainer.build(next(iterator))
      for _ in range(3):
        losses = trainer.train_step(iterator)
      with trainer.averaged_weights():
        averaged = [v.numpy() for v in trainer.model.weights]
      weights[len(devices)] = [v.numpy() for v in trainer.model.weights]
      weights[len(devices)] += averaged
      print(len(devices), 'replicas, loss', float(losses['total_loss']))
    for a, b in zip(weights[1], weights[2]):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    print('EQUAL')
''')


def test_two_replicas_update_like_one_device_on_the_global_batch():
  result = subprocess.run(
      [sys.executable, '-c', _TWO_REPLICAS], capture_output=True, text=True,
      timeout=300, cwd=TESTS_DIR,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert 'EQUAL' in result.stdout, result.stdout + result.stderr[-3000:]


def test_ema_checkpoint_holds_the_numpy_average_and_resume_the_training_weights(
    tmp_path):
  momentum = 0.8
  trainer = _built_trainer(learning_rate=0.05, ema_momentum=momentum)
  model = trainer.model
  initial = [v.numpy() for v in model.trainable_variables]
  with trainer.averaged_weights():  # Before any step: the initial weights.
    for variable, expected in zip(model.trainable_variables, initial):
      np.testing.assert_array_equal(variable.numpy(), expected)
  average = None
  for _ in range(4):
    trainer.train_step(_batch())
    weights = [v.numpy() for v in model.trainable_variables]
    # Keras starts the average at the weights after the first step.
    average = weights if average is None else [
        momentum * a + (1 - momentum) * w for a, w in zip(average, weights)]
  with trainer.averaged_weights():
    for variable, expected in zip(model.trainable_variables, average):
      np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5,
                                 atol=1e-7)
  for variable, expected in zip(model.trainable_variables, weights):
    np.testing.assert_array_equal(variable.numpy(), expected)  # Back.
  trainer.save(str(tmp_path))
  for variable, expected in zip(model.trainable_variables, weights):
    np.testing.assert_array_equal(variable.numpy(), expected)

  # What evaluation, sampling and export restore: the average.
  evaluated = fx.make_trainer(seed=1).model
  evaluated(_batch())
  evaluated.restore(str(tmp_path))
  for variable, expected in zip(evaluated.trainable_variables, average):
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5,
                               atol=1e-7)
  # Resuming continues from the training weights, with the same average and
  # Adam slots (keys as without averaging).
  resumed = _built_trainer(seed=1, learning_rate=0.05, ema_momentum=momentum)
  resumed.restore(str(tmp_path))
  assert resumed.current_step() == 4
  for variable, expected in zip(resumed.model.trainable_variables, weights):
    np.testing.assert_array_equal(variable.numpy(), expected)
  for a, b in zip(resumed.optimizer.variables, trainer.optimizer.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  names = [name for name, _ in tf.train.list_variables(str(tmp_path / 'ckpt-4'))]
  assert sum(n.startswith('training_weights/') for n in names) == len(weights)


def test_ema_trainer_resumes_a_checkpoint_written_without_averaging(tmp_path):
  plain = _built_trainer()
  plain.train_step(_batch())
  plain.save(str(tmp_path))
  weights = [v.numpy() for v in plain.model.trainable_variables]
  averaging = _built_trainer(seed=1, ema_momentum=0.9)
  averaging.restore(str(tmp_path))
  with averaging.averaged_weights():
    for variable, expected in zip(averaging.model.trainable_variables, weights):
      np.testing.assert_array_equal(variable.numpy(), expected)
  with pytest.raises(ValueError, match='ema_momentum'):
    fx.make_trainer(ema_momentum=1.0)
