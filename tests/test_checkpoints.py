"""Tests of ddsp.training.checkpoints: discovery and 3.7.0 (Keras 2) names."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import checkpoints
from ddsp.training import nn


def _save(tmp_path, name='ckpt', number=None):
  checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
  manager = tf.train.CheckpointManager(checkpoint, str(tmp_path),
                                       max_to_keep=5, checkpoint_name=name)
  return manager.save(checkpoint_number=number)


def test_get_latest_checkpoint_resolves_prefix_and_directory(tmp_path):
  _save(tmp_path, number=3)
  latest = _save(tmp_path, number=20)
  assert checkpoints.get_latest_checkpoint(str(tmp_path)) == latest
  first = os.path.join(str(tmp_path), 'ckpt-3')
  assert checkpoints.get_latest_checkpoint(first) == first


def test_get_latest_checkpoint_expands_variables_and_user(tmp_path,
                                                          monkeypatch):
  latest = _save(tmp_path, number=7)
  monkeypatch.setenv('DDSP_TEST_DIR', str(tmp_path))
  assert checkpoints.get_latest_checkpoint('$DDSP_TEST_DIR') == latest


def test_get_latest_checkpoint_survives_a_garbage_state_file(tmp_path):
  _save(tmp_path, number=2)
  latest = _save(tmp_path, number=10)
  (tmp_path / 'checkpoint').write_text('not a checkpoint state\x00')
  assert checkpoints.get_latest_checkpoint(str(tmp_path)) == latest


def test_get_latest_checkpoint_raises_without_checkpoints(tmp_path):
  with pytest.raises(FileNotFoundError, match='No checkpoint'):
    checkpoints.get_latest_checkpoint(str(tmp_path))
  with pytest.raises(FileNotFoundError):
    checkpoints.get_latest_checkpoint(str(tmp_path / 'missing' / 'ckpt-1'))


def test_get_latest_file_picks_largest_number_and_rejects_non_integers(
    tmp_path):
  for name in ('operative_config-0.gin', 'operative_config-300.gin',
               'operative_config-45.gin'):
    (tmp_path / name).write_text('')
  latest = checkpoints.get_latest_file(str(tmp_path))
  assert os.path.basename(latest) == 'operative_config-300.gin'
  (tmp_path / 'operative_config-final.gin').write_text('')
  with pytest.raises(FileNotFoundError, match='not an integer'):
    checkpoints.get_latest_file(str(tmp_path))
  with pytest.raises(FileNotFoundError):
    checkpoints.get_latest_file(str(tmp_path), prefix='none-')


def _keys(path):
  return sorted(k for k, _ in tf.train.list_variables(path)
                if not k.startswith(('_CHECKPOINTABLE', 'save_counter')))


class Holder(nn.Layer):
  """A layer holding Keras layers in attributes and lists."""

  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(2)
    self.stacks = [keras.layers.Dense(3), [keras.layers.Embedding(4, 2)]]
    self.sequential = keras.Sequential([keras.layers.Activation('relu'),
                                        keras.layers.Dense(2)])

  def call(self, x):
    self.stacks[1][0](tf.zeros([1, 1], tf.int32))
    return self.sequential(self.stacks[0](self.dense(x)))


def test_keras2_names_for_variables_lists_and_sequentials(tmp_path):
  holder = Holder()
  holder(np.zeros([1, 3], np.float32))
  path = tf.train.Checkpoint(model=holder).save(str(tmp_path / 'ckpt'))
  assert _keys(path) == [
      'model/dense/bias/.ATTRIBUTES/VARIABLE_VALUE',
      'model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE',
      'model/sequential/layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE',
      'model/sequential/layer_with_weights-0/kernel/.ATTRIBUTES/'
      'VARIABLE_VALUE',
      'model/stacks/0/bias/.ATTRIBUTES/VARIABLE_VALUE',
      'model/stacks/0/kernel/.ATTRIBUTES/VARIABLE_VALUE',
      'model/stacks/1/0/embeddings/.ATTRIBUTES/VARIABLE_VALUE',
  ]


def test_keras2_view_of_a_plain_keras_layer_round_trips(tmp_path):
  dense = keras.layers.Dense(2)
  dense(np.ones([1, 3], np.float32))
  view = checkpoints.keras2_trackable(dense)
  assert view is checkpoints.keras2_trackable(dense)  # Stable node.
  path = tf.train.Checkpoint(layer=view).save(str(tmp_path / 'ckpt'))
  assert _keys(path) == ['layer/bias/.ATTRIBUTES/VARIABLE_VALUE',
                         'layer/kernel/.ATTRIBUTES/VARIABLE_VALUE']
  saved = dense.get_weights()
  dense.set_weights([np.zeros_like(w) for w in saved])
  status = tf.train.Checkpoint(layer=checkpoints.keras2_trackable(
      dense)).restore(path)
  status.assert_existing_objects_matched()
  for expected, actual in zip(saved, dense.get_weights()):
    np.testing.assert_array_equal(actual, expected)
