"""A Keras GRU whose CPU recurrence runs as one loop with a hand-written gradient.

Keras' GRU (reset_after=True, the Keras default and what ddsp 3.7.0 trained)
computes, per step t with gates ordered [z, r, h] in the kernels:

    x_z, x_r, x_h = split(x_t @ kernel + bias[0])
    i_z, i_r, i_h = split(h_{t-1} @ recurrent_kernel + bias[1])
    z = sigmoid(x_z + i_z);  r = sigmoid(x_r + i_r)
    c = tanh(x_h + r * i_h)
    h_t = z * h_{t-1} + (1 - z) * c

(Cho et al. 2014, with the reset gate applied after the recurrent matmul as
in cuDNN.) On CPU Keras runs that step, input matmul included, in a
`while_loop` that autodiff differentiates step by step. `GRU` here computes
the same function: the input projection of all steps as one matmul, the
recurrence as one loop, and a backward loop that carries only `dh`; the
recurrent-kernel gradient is one matmul over all steps after the loop. About
1.5-2x faster for a training step of a 512-unit GRU over 1000 frames.

The fast path is taken on CPU for the default configuration (no masks,
dropout, go_backwards, stateful or unroll); otherwise, and when a GPU is
visible (cuDNN), Keras' own implementation runs. Weights, their names and
serialization are those of `keras.layers.GRU`.
"""

from typing import Tuple

import keras
import tensorflow as tf


def gru_step(x_projected: tf.Tensor, h: tf.Tensor, recurrent_kernel: tf.Tensor,
             recurrent_bias: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """One GRU step (formula in the module docstring).

  Args:
    x_projected: [batch, 3 * units] `x_t @ kernel + bias[0]`.
    h: [batch, units] previous state.
    recurrent_kernel: [units, 3 * units].
    recurrent_bias: [3 * units].

  Returns:
    The new state [batch, units] and the gate activations [batch, 4 * units]
    `[z, r, c, i_h]`, which the backward pass needs.
  """
  inner = tf.matmul(h, recurrent_kernel) + recurrent_bias
  x_z, x_r, x_h = tf.split(x_projected, 3, axis=-1)
  i_z, i_r, i_h = tf.split(inner, 3, axis=-1)
  z = tf.sigmoid(x_z + i_z)
  r = tf.sigmoid(x_r + i_r)
  c = tf.tanh(x_h + r * i_h)
  h_new = c + z * (h - c)
  return h_new, tf.concat([z, r, c, i_h], axis=-1)


@tf.function(autograph=False)
def _forward(x_projected, h0, recurrent_kernel, recurrent_bias):
  """States [T, B, U] and gate activations [T, B, 4U] of a time-major sequence."""
  n_steps = tf.shape(x_projected)[0]
  inputs = tf.TensorArray(x_projected.dtype, size=n_steps).unstack(x_projected)
  states = tf.TensorArray(h0.dtype, size=n_steps)
  gates = tf.TensorArray(h0.dtype, size=n_steps)

  def body(t, h, states, gates):
    h, step_gates = gru_step(inputs.read(t), h, recurrent_kernel,
                             recurrent_bias)
    return t + 1, h, states.write(t, h), gates.write(t, step_gates)

  _, _, states, gates = tf.while_loop(lambda t, *_: t < n_steps, body,
                                      (0, h0, states, gates))
  return states.stack(), gates.stack()


@tf.function(autograph=False)
def _backward(d_states, states, gates, h0, recurrent_kernel):
  """Gradients w.r.t. x_projected, h0, recurrent_kernel and recurrent_bias."""
  n_steps = tf.shape(d_states)[0]
  d_states_ta = tf.TensorArray(d_states.dtype, size=n_steps).unstack(d_states)
  gates_ta = tf.TensorArray(gates.dtype, size=n_steps).unstack(gates)
  previous = tf.concat([h0[tf.newaxis], states[:-1]], axis=0)
  previous_ta = tf.TensorArray(states.dtype, size=n_steps).unstack(previous)
  d_projected = tf.TensorArray(d_states.dtype, size=n_steps)
  recurrent_kernel_t = tf.transpose(recurrent_kernel)

  def body(i, dh_next, d_projected):
    t = n_steps - 1 - i
    dh = d_states_ta.read(t) + dh_next
    z, r, c, i_h = tf.split(gates_ta.read(t), 4, axis=-1)
    da_c = dh * (1.0 - z) * (1.0 - c * c)
    da_z = dh * (previous_ta.read(t) - c) * z * (1.0 - z)
    da_r = da_c * i_h * r * (1.0 - r)
    d_inner = tf.concat([da_z, da_r, da_c * r], axis=-1)
    dh_previous = dh * z + tf.matmul(d_inner, recurrent_kernel_t)
    return i + 1, dh_previous, d_projected.write(t, tf.concat(
        [da_z, da_r, da_c], axis=-1))

  _, dh0, d_projected = tf.while_loop(lambda i, *_: i < n_steps, body,
                                      (0, tf.zeros_like(h0), d_projected))
  d_projected = d_projected.stack()
  # d inner = d x_projected with the candidate block scaled by r.
  _, r, _, _ = tf.split(gates, 4, axis=-1)
  d_z, d_r, d_c = tf.split(d_projected, 3, axis=-1)
  d_inner = tf.concat([d_z, d_r, d_c * r], axis=-1)
  units = tf.shape(h0)[-1]
  d_recurrent_kernel = tf.matmul(tf.reshape(previous, [-1, units]),
                                 tf.reshape(d_inner, [-1, 3 * units]),
                                 transpose_a=True)
  d_recurrent_bias = tf.reduce_sum(d_inner, axis=[0, 1])
  return d_projected, dh0, d_recurrent_kernel, d_recurrent_bias


@tf.custom_gradient
def gru_recurrence(x_projected, h0, recurrent_kernel, recurrent_bias):
  """Runs the GRU recurrence over a time-major sequence.

  Args:
    x_projected: [n_steps, batch, 3 * units] `x @ kernel + bias[0]`.
    h0: [batch, units] initial state.
    recurrent_kernel: [units, 3 * units].
    recurrent_bias: [3 * units].

  Returns:
    States [n_steps, batch, units] (the last one is the final state).
  """
  states, gates = _forward(x_projected, h0, recurrent_kernel, recurrent_bias)

  def grad(d_states):
    return _backward(d_states, states, gates, h0, recurrent_kernel)

  return states, grad


def _gpu_visible() -> bool:
  return bool(tf.config.list_logical_devices('GPU'))


@keras.saving.register_keras_serializable('ddsp')
class GRU(keras.layers.GRU):
  """`keras.layers.GRU` with a faster CPU path (see the module docstring)."""

  def _fast_path_applies(self, mask) -> bool:
    cell = self.cell
    return (mask is None and not self.go_backwards and not self.stateful and
            not self.unroll and cell.reset_after and cell.use_bias and
            cell.dropout == 0 and cell.recurrent_dropout == 0 and
            cell.activation is keras.activations.tanh and
            cell.recurrent_activation is keras.activations.sigmoid and
            not _gpu_visible())

  def call(self, sequences, initial_state=None, mask=None, training=False):
    if not self._fast_path_applies(mask):
      return super().call(sequences, initial_state=initial_state, mask=mask,
                          training=training)
    cell = self.cell
    sequences = tf.convert_to_tensor(sequences, self.compute_dtype)
    if initial_state is None:
      h0 = tf.zeros([tf.shape(sequences)[0], cell.units], sequences.dtype)
    else:
      h0 = tf.convert_to_tensor(
          tf.nest.flatten(initial_state)[0], sequences.dtype)
    kernel = tf.convert_to_tensor(cell.kernel)
    bias = tf.convert_to_tensor(cell.bias)
    recurrent_kernel = tf.convert_to_tensor(cell.recurrent_kernel)
    time_major = tf.transpose(sequences, [1, 0, 2])
    x_projected = tf.tensordot(time_major, kernel, 1) + bias[0]
    if sequences.shape[1] == 1:
      # One step (streaming): plain ops, no loop, for on-device export.
      h_last, _ = gru_step(x_projected[0], h0, recurrent_kernel, bias[1])
      states = h_last[tf.newaxis]
    else:
      states = gru_recurrence(x_projected, h0, recurrent_kernel, bias[1])
      h_last = states[-1]
    output = tf.transpose(states, [1, 0, 2]) if self.return_sequences else (
        h_last)
    if self.return_state:
      return output, h_last
    return output
