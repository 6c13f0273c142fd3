"""Tests of ddsp.training.gru: the fast CPU path equals Keras' GRU."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import gru

RNG = np.random.default_rng(1)


def _layers(units, **kwargs):
  """A Keras GRU and a ddsp GRU with the same random weights (and biases)."""
  reference = keras.layers.GRU(units, **kwargs)
  fast = gru.GRU(units, **kwargs)
  x = np.zeros([1, 2, 3], np.float32)
  reference(x)
  fast(x)
  weights = [RNG.standard_normal(w.shape).astype(np.float32) * 0.5
             for w in reference.get_weights()]
  reference.set_weights(weights)
  fast.set_weights(weights)
  return reference, fast


def _outputs_and_gradients(layer, x, h0):
  x = tf.constant(x)
  h0 = tf.constant(h0)
  with tf.GradientTape() as tape:
    tape.watch([x, h0])
    outputs = layer(x, initial_state=h0)
    y = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    weights = tf.range(tf.size(y), dtype=tf.float32)
    loss = tf.reduce_sum(tf.reshape(y, [-1]) * tf.sin(weights))
  grads = tape.gradient(loss, [x, h0] + layer.trainable_variables)
  return [np.asarray(o) for o in tf.nest.flatten(outputs)], grads


@pytest.mark.parametrize('return_sequences,return_state', [
    (True, False), (False, False), (True, True)])
def test_fast_gru_matches_keras_outputs_and_gradients(return_sequences,
                                                      return_state):
  reference, fast = _layers(4, return_sequences=return_sequences,
                            return_state=return_state)
  x = RNG.standard_normal([2, 9, 3]).astype(np.float32)
  h0 = RNG.standard_normal([2, 4]).astype(np.float32)
  ref_outputs, ref_grads = _outputs_and_gradients(reference, x, h0)
  fast_outputs, fast_grads = _outputs_and_gradients(fast, x, h0)
  for expected, actual in zip(ref_outputs, fast_outputs):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
  for expected, actual in zip(ref_grads, fast_grads):
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_fast_gru_gradient_matches_finite_differences():
  x = tf.constant(RNG.standard_normal([1, 5, 2]), tf.float64)
  h0 = tf.constant(RNG.standard_normal([1, 3]), tf.float64)
  kernel = tf.constant(RNG.standard_normal([2, 9]) * 0.5, tf.float64)
  recurrent_kernel = tf.constant(RNG.standard_normal([3, 9]) * 0.5, tf.float64)
  recurrent_bias = tf.constant(RNG.standard_normal([9]) * 0.5, tf.float64)

  def states(x, h0, recurrent_kernel, recurrent_bias):
    projected = tf.tensordot(tf.transpose(x, [1, 0, 2]), kernel, 1)
    return gru.gru_recurrence(projected, h0, recurrent_kernel, recurrent_bias)

  theoretical, numerical = tf.test.compute_gradient(
      states, [x, h0, recurrent_kernel, recurrent_bias])
  for t, n in zip(theoretical, numerical):
    np.testing.assert_allclose(t, n, rtol=1e-6, atol=1e-7)


def test_single_step_path_equals_loop_and_chains_state():
  _, fast = _layers(4, return_sequences=True, return_state=True)
  x = RNG.standard_normal([2, 3, 3]).astype(np.float32)
  h = np.zeros([2, 4], np.float32)
  y_all, h_all = fast(x, initial_state=h)
  steps = []
  for t in range(3):
    y, h = fast(x[:, t:t + 1], initial_state=h)
    steps.append(y)
  np.testing.assert_allclose(np.concatenate(steps, 1), y_all, atol=1e-6)
  np.testing.assert_allclose(h, h_all, atol=1e-6)


def test_unsupported_options_fall_back_to_keras():
  reference, fast = _layers(3, go_backwards=True, return_sequences=True)
  x = RNG.standard_normal([2, 5, 3]).astype(np.float32)
  np.testing.assert_allclose(fast(x), reference(x), rtol=1e-6)
  assert not fast._fast_path_applies(None)  # pylint: disable=protected-access
