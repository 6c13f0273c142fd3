"""Tests of ddsp.training.nn: dict layers, stacks, norms, resampling, VQ."""

import gin
import keras
import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import nn

RNG = np.random.default_rng(0)


def _random(*shape):
  return RNG.standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------------------
# DictLayer
# ------------------------------------------------------------------------------
class AnnotatedSum(nn.DictLayer):

  def call(self, x1, x2) -> ['y']:
    return x1 + x2


class ExplicitSum(nn.DictLayer):

  def __init__(self, **kwargs):
    super().__init__(input_keys=['x1', 'x2'], output_keys=['y'], **kwargs)

  def call(self, x1, x2):
    return x1 + x2


class WeightedOptional(nn.DictLayer):

  def call(self, x1, x2=None, x3=None) -> ['y']:
    y = x1
    if x2 is not None:
      y += 2.0 * x2
    if x3 is not None:
      y += 3.0 * x3
    return y


class TwoOutputs(nn.DictLayer):

  def call(self, a) -> ['sum', 'diff']:
    return a + 1.0, a - 1.0


@pytest.mark.parametrize('layer_class', [AnnotatedSum, ExplicitSum])
def test_dict_layer_accepts_positional_dict_and_keyword_inputs(layer_class):
  layer = layer_class()
  x1, x2 = np.float32(1.0), np.float32(2.0)
  expected = {'y': 3.0}
  for outputs in (layer(x1, x2), layer({'x1': x1, 'x2': x2}),
                  layer({'x1': x1}, {'x2': x2}), layer(x1=x1, x2=x2),
                  layer({'x1': x1}, x2=x2), layer({'x1': x1, 'x2': x2,
                                                   'other': 5.0})):
    assert list(outputs) == ['y']
    np.testing.assert_allclose(outputs['y'], expected['y'])


def test_dict_layer_later_dicts_win():
  outputs = AnnotatedSum()({'x1': 1.0, 'x2': 1.0}, {'x2': 10.0})
  np.testing.assert_allclose(outputs['y'], 11.0)


@pytest.mark.parametrize('layer_class', [AnnotatedSum, ExplicitSum])
def test_dict_layer_keys_from_signature_or_arguments(layer_class):
  layer = layer_class()
  assert layer.input_keys == ['x1', 'x2']
  assert layer.output_keys == ['y']
  assert layer.all_input_keys == ['x1', 'x2']
  assert layer.n_inputs == 2


@pytest.mark.parametrize('inputs', [
    ({'x1': 1.0},),  # A required key is missing.
    ({'x1': 1.0, 'x3': 2.0},),  # Unknown key instead of x2.
    (np.float32(1.0), {'x1': 1.0, 'x2': 2.0}),  # 3 inputs for 2 arguments.
])
def test_dict_layer_raises_type_error_for_wrong_number_of_inputs(inputs):
  with pytest.raises(TypeError, match='expects 2 inputs'):
    AnnotatedSum()(*inputs)


def test_dict_layer_renames_input_and_output_keys():
  layer = AnnotatedSum(input_keys=['a', 'b/c'], output_keys=['total'])
  outputs = layer({'a': 1.0, 'b': {'c': 4.0}})
  np.testing.assert_allclose(outputs['total'], 5.0)


def test_dict_layer_default_arguments_become_optional_keys():
  layer = WeightedOptional()
  assert layer.input_keys == ['x1']
  assert layer.default_input_keys == ['x2', 'x3']
  assert layer.default_input_values == [None, None]
  np.testing.assert_allclose(layer({'x1': 1.0})['y'], 1.0)
  np.testing.assert_allclose(layer({'x1': 1.0, 'x2': 1.0})['y'], 3.0)
  np.testing.assert_allclose(layer(1.0, 1.0, 1.0)['y'], 6.0)


def test_dict_layer_optional_arguments_are_read_in_order():
  outputs = WeightedOptional()({'x1': 1.0, 'x3': 1.0})
  np.testing.assert_allclose(outputs['y'], 1.0 + 3.0)


def test_dict_layer_zips_multiple_outputs_and_checks_their_count():
  outputs = TwoOutputs()({'a': 2.0})
  assert list(outputs) == ['sum', 'diff']
  np.testing.assert_allclose([outputs['sum'], outputs['diff']], [3.0, 1.0])
  with pytest.raises(ValueError, match='returned 2 outputs'):
    TwoOutputs(output_keys=['only_one'])({'a': 2.0})


def test_split_to_dict_splits_last_axis_in_order():
  x = np.arange(12, dtype=np.float32).reshape(1, 2, 6)
  outputs = nn.split_to_dict(x, (('amps', 1), ('hd', 3), ('noise', 2)))
  assert list(outputs) == ['amps', 'hd', 'noise']
  np.testing.assert_array_equal(outputs['hd'], x[..., 1:4])
  np.testing.assert_array_equal(outputs['noise'], x[..., 4:])


# ------------------------------------------------------------------------------
# Fully connected and recurrent stacks
# ------------------------------------------------------------------------------
def _numpy_fc(x, kernel, bias, gamma, beta, slope=0.2, eps=1e-3):
  h = x @ kernel + bias
  mean = h.mean(-1, keepdims=True)
  var = h.var(-1, keepdims=True)
  h = (h - mean) / np.sqrt(var + eps) * gamma + beta
  return np.where(h > 0, h, slope * h)


def test_fc_is_dense_layer_norm_and_leaky_relu_with_slope_0_2():
  fc = nn.Fc(ch=8)
  x = _random(2, 5, 3)
  fc(x)
  dense, norm, _ = fc.layers
  gamma = _random(8)
  beta = _random(8)
  norm.gamma.assign(gamma)
  norm.beta.assign(beta)
  expected = _numpy_fc(x, dense.kernel.numpy(), dense.bias.numpy(), gamma,
                       beta)
  np.testing.assert_allclose(fc(x), expected, rtol=1e-4, atol=1e-5)
  assert (expected < 0).any()


@pytest.mark.parametrize('nonlinearity', ['leaky_relu', 'tanh'])
def test_fc_gradients_match_autodiff_of_keras_layers(nonlinearity):
  fc = nn.Fc(ch=6, nonlinearity=nonlinearity)
  x = tf.constant(_random(2, 5, 3) * 3.0)
  fc(x)
  fc.layers[1].gamma.assign(_random(6))
  fc.layers[1].beta.assign(_random(6))
  weights = tf.constant(_random(2, 5, 6))

  def gradients(fn):
    with tf.GradientTape() as tape:
      tape.watch(x)
      loss = tf.reduce_sum(fn(x) * weights)
    return tape.gradient(loss, [x] + fc.trainable_variables)

  def keras_layers(x):
    for layer in fc.layers:
      x = layer(x)
    return x

  for actual, expected in zip(gradients(fc), gradients(keras_layers)):
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_get_nonlinearity_leaky_relu_slope_and_tf_nn_fallback():
  leaky_relu = nn.get_nonlinearity('leaky_relu')
  np.testing.assert_allclose(leaky_relu(np.float32([-1.0, 2.0])), [-0.2, 2.0])
  crelu = nn.get_nonlinearity('crelu')  # Only in tf.nn.
  assert crelu is tf.nn.crelu


def test_fc_stack_with_zero_layers_is_identity():
  x = _random(2, 4, 3)
  np.testing.assert_array_equal(nn.FcStack(ch=8, layers=0)(x), x)
  assert nn.FcStack(ch=8, layers=3)(x).shape == (2, 4, 8)


def test_rnn_gru_keras_defaults_and_bidirectional_channels():
  rnn = nn.Rnn(6, 'gru')
  assert rnn(_random(2, 7, 3)).shape == (2, 7, 6)
  assert rnn.rnn.cell.reset_after
  assert nn.Rnn(6, 'lstm', bidir=True)(_random(2, 7, 3)).shape == (2, 7, 12)
  assert nn.Rnn(6, 'gru', return_sequences=False)(
      _random(2, 7, 3)).shape == (2, 6)
  with pytest.raises(ValueError, match='rnn_type'):
    nn.Rnn(6, 'transformer')


def test_stateless_rnn_chains_state_like_one_sequence():
  rnn = nn.StatelessRnn(5, 'gru')
  x = _random(2, 6, 3)
  state = np.zeros([2, 5], np.float32)
  y_all, state_all = rnn(x, state)
  y_first, mid_state = rnn(x[:, :3], state)
  y_second, end_state = rnn(x[:, 3:], mid_state)
  np.testing.assert_allclose(np.concatenate([y_first, y_second], axis=1),
                             y_all, atol=1e-6)
  np.testing.assert_allclose(end_state, state_all, atol=1e-6)


def test_rnn_fc_returns_sequences_for_default_bidir_false():
  # ddsp 3.7.0 passed bidir=False into return_sequences.
  assert nn.RnnFc(4, 3)(_random(2, 6, 2)).shape == (2, 6, 3)
  assert nn.RnnFc(4, 3, bidir=True, n_rnn=2)(_random(2, 6, 2)).shape == (
      2, 6, 3)


def test_rnn_sandwich_single_gru_and_fc_stack_out_shapes():
  x = _random(2, 6, 3)
  assert nn.RnnSandwich(fc_stack_ch=8, fc_stack_layers=1, rnn_ch=4)(
      x).shape == (2, 6, 8)
  y = nn.SingleGru(gru_dim=5)(x)
  assert y.shape == (2, 6, 5)
  np.testing.assert_allclose(np.mean(y, -1), 0.0, atol=1e-4)  # Layer norm.
  assert nn.FcStackOut(ch=8, layers=2, n_out=3)(x).shape == (2, 6, 3)
  np.testing.assert_array_equal(nn.Identity()(x), x)


# ------------------------------------------------------------------------------
# Normalization
# ------------------------------------------------------------------------------
def _numpy_norm(x, axes, eps=1e-5):
  mean = x.mean(axis=axes, keepdims=True)
  var = x.var(axis=axes, keepdims=True)
  return (x - mean) / np.sqrt(var + eps)


def test_normalize_layer_normalizes_time_and_channels_jointly():
  x = _random(2, 10, 6) * 3.0 + 1.0
  expected = _numpy_norm(x, axes=(1, 2))
  np.testing.assert_allclose(nn.Normalize('layer')(x), expected, atol=1e-5)


def test_normalize_instance_normalizes_each_channel_over_time():
  x = _random(2, 10, 6) * 3.0 + 1.0
  expected = _numpy_norm(x, axes=1)
  np.testing.assert_allclose(nn.Normalize('instance')(x), expected, atol=1e-5)


def test_normalize_group_uses_32_groups_of_channels():
  x = _random(2, 5, 1, 64)
  grouped = x.reshape(2, 5, 1, 32, 2)
  expected = _numpy_norm(grouped, axes=(1, 2, 4)).reshape(x.shape)
  np.testing.assert_allclose(nn.normalize_op(x, 'group'), expected, atol=1e-5)


def test_normalize_none_applies_only_learned_scale_and_shift():
  norm = nn.Normalize(None)
  x = _random(2, 4, 3)
  norm(x)
  norm.scale.assign(np.full([1, 1, 1, 3], 2.0, np.float32))
  norm.shift.assign(np.full([1, 1, 1, 3], 1.0, np.float32))
  np.testing.assert_allclose(norm(x), 2.0 * x + 1.0, rtol=1e-6)
  assert norm(_random(2, 3)).shape == (2, 3)


def test_normalize_op_rejects_unknown_type():
  with pytest.raises(ValueError, match='norm_type'):
    nn.normalize_op(_random(1, 2, 1, 4), 'batch')


def test_conditional_norm_scales_and_shifts_by_dense_of_z():
  norm = nn.ConditionalNorm(norm_type='instance', shift_only=True)
  x = _random(2, 8, 4)
  z = _random(2, 3)
  norm([x, z])
  dense = norm.conditional_scale_shift.dense
  dense.kernel.assign(np.zeros_like(dense.kernel))
  dense.bias.assign(np.full([4], 0.5, np.float32))
  np.testing.assert_allclose(norm([x, z]), _numpy_norm(x, axes=1) + 0.5,
                             atol=1e-5)
  scaled = nn.ConditionalNorm(norm_type='layer')
  assert scaled([x, z]).shape == x.shape
  assert scaled.conditional_scale_shift.dense.units == 8  # scale and shift.


# ------------------------------------------------------------------------------
# Resampling and convolutional stacks
# ------------------------------------------------------------------------------
@pytest.mark.parametrize('shape,stride', [((2, 16, 3), 2), ((2, 15, 3), 4),
                                          ((1, 12, 1, 5), 3)])
def test_polyphase_down_then_up_is_lossless(shape, stride):
  x = _random(*shape)
  down = nn.PolyphaseResample(stride, 'down')(x)
  assert down.shape[1] == -(-shape[1] // stride)
  up = nn.polyphase_resample(down, stride, 'up')
  np.testing.assert_array_equal(up[:, :shape[1]], x)
  np.testing.assert_array_equal(up[:, shape[1]:], 0.0)  # Zero padding.


def test_polyphase_trim_and_invalid_type():
  down = nn.polyphase_resample(_random(1, 7, 2), 2, 'down', 'trim')
  assert down.shape == (1, 3, 4)
  with pytest.raises(ValueError, match='resample_type'):
    nn.polyphase_resample(_random(1, 4, 2), 2, 'sideways')


def test_resnet_strides_along_frequency_only():
  x = _random(1, 5, 64, 1)
  y = nn.ResNet(size='small', norm_type='layer')(x)
  # Frequency 64: /2 conv, /2 pool, /4 first stack, /2 second -> 2.
  # Channels: 4 * (8 * 32) from the last bottleneck.
  assert y.shape == (1, 5, 2, 1024)
  with pytest.raises(KeyError):
    nn.ResNet(size='tiny')


def test_dilated_conv_stack_dilations_and_resampling_shapes():
  stack = nn.DilatedConvStack(ch=8, layers_per_stack=3, stacks=2,
                              kernel_size=3, dilation=2)
  assert stack(_random(2, 20, 3)).shape == (2, 20, 8)
  rates = [layer.layers[1].dilation_rate[0] for layer in stack.layers]
  assert rates == [1, 2, 4, 1, 2, 4]
  reverse = nn.DilatedConvStack(ch=4, layers_per_stack=3, stacks=1,
                                dilation=-2)
  assert [l.layers[1].dilation_rate[0] for l in reverse.layers] == [4, 2, 1]
  down = nn.DilatedConvStack(ch=4, layers_per_stack=1, stacks=2,
                             resample_type='downsample', resample_stride=2)
  assert down(_random(2, 20, 3)).shape == (2, 5, 4)
  up = nn.DilatedConvStack(ch=4, layers_per_stack=1, stacks=2,
                           resample_type='upsample', resample_stride=2,
                           stacks_per_resample=2)
  assert up(_random(2, 10, 3)).shape == (2, 20, 4)
  conditional = nn.DilatedConvStack(ch=4, layers_per_stack=1, stacks=1,
                                    norm_type='layer', conditional=True)
  assert conditional([_random(2, 10, 3), _random(2, 10, 2)]).shape == (2, 10,
                                                                        4)


# ------------------------------------------------------------------------------
# Straight-through estimators and vector quantization
# ------------------------------------------------------------------------------
def test_straight_through_int_quantization_rounds_half_to_even():
  x = tf.constant([0.5, 1.5, 2.4, -0.6])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = nn.straight_through_int_quantization(x)
  np.testing.assert_array_equal(y, [0.0, 2.0, 2.0, -1.0])
  np.testing.assert_array_equal(tape.gradient(y, x), np.ones(4))


def test_straight_through_softmax_samples_one_hot_with_probs_gradient():
  logits = tf.constant([[10.0, -10.0, -10.0]] * 4)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    sample, probs = nn.straight_through_softmax(logits)
    chosen = tf.reduce_sum(sample * [1.0, 2.0, 3.0])
  np.testing.assert_array_equal(sample, [[1.0, 0.0, 0.0]] * 4)
  np.testing.assert_allclose(probs, tf.nn.softmax(logits), rtol=1e-6)
  assert np.abs(tape.gradient(chosen, logits)).sum() > 0
  values = tf.constant([[5.0, 6.0, 7.0]] * 4)
  np.testing.assert_array_equal(nn.straight_through_choice(logits, values),
                                [[5.0]] * 4)


def test_vector_quantization_picks_nearest_centroid_with_identity_gradient():
  vq = nn.VectorQuantization(k=4, num_heads=2)
  x = tf.constant(_random(3, 5, 6))
  vq(x)
  centroids = vq.centroids.numpy()
  with tf.GradientTape() as tape:
    tape.watch(x)
    z_q, codes = vq(x)
  assert codes.dtype == tf.int64 and codes.shape == (3, 5, 2)
  flat = x.numpy().reshape(-1, 3)
  distances = ((flat[:, None, :] - centroids[None]) ** 2).sum(-1)
  np.testing.assert_array_equal(codes.numpy().reshape(-1),
                                distances.argmin(-1))
  np.testing.assert_allclose(z_q.numpy().reshape(-1, 3),
                             centroids[distances.argmin(-1)], atol=1e-6)
  np.testing.assert_allclose(tape.gradient(z_q, x), np.ones(x.shape))
  np.testing.assert_allclose(vq.unquantize(codes), z_q, atol=1e-6)


def test_vector_quantization_updates_centroids_by_ema_only_in_training():
  vq = nn.VectorQuantization(k=2, gamma=0.5)
  x = np.float32([[1.0, 1.0], [1.2, 1.0], [-3.0, -3.0]])
  vq(x)
  vq.sums.assign(np.float32([[1.0, 1.0], [-1.0, -1.0]]))
  vq.counts.assign(np.float32([1.0, 1.0]))
  vq(x, training=False)
  np.testing.assert_array_equal(vq.counts, [1.0, 1.0])
  vq(x, training=True)
  # Counts 0.5 * 1 + 0.5 * [2, 1]; sums 0.5 * old + 0.5 * assigned sums.
  np.testing.assert_allclose(vq.counts, [1.5, 1.0])
  np.testing.assert_allclose(vq.sums, [[0.5 + 1.1, 0.5 + 1.0],
                                       [-0.5 - 1.5, -0.5 - 1.5]], rtol=1e-6)
  assert not vq.trainable_variables


def test_vector_quantization_commitment_loss_and_depth_check():
  vq = nn.VectorQuantization(k=3, commitment_loss_weight=0.5, name='vq')
  z = _random(2, 4)
  z_q = _random(2, 4)
  losses = vq.get_losses_dict(z, z_q)
  np.testing.assert_allclose(losses['vq_commitment_loss'],
                             0.5 * np.mean((z - z_q) ** 2), rtol=1e-6)
  with pytest.raises(ValueError, match='divisible'):
    nn.VectorQuantization(k=3, num_heads=3)(_random(2, 4))


# ------------------------------------------------------------------------------
# Registration and serialization
# ------------------------------------------------------------------------------
NN_GIN_NAMES = [
    'split_to_dict', 'Normalize', 'PolyphaseResample', 'NormReluConv',
    'ResidualLayer', 'ResidualStack', 'ResNet', 'Fc', 'FcStack', 'Rnn',
    'StatelessRnn', 'RnnFc', 'RnnSandwich', 'Identity', 'Dense',
    'ConditionalNorm', 'SingleGru', 'DilatedConvStack', 'FcStackOut',
    'VectorQuantization'
]


@pytest.mark.parametrize('name', NN_GIN_NAMES)
def test_nn_gin_names_are_registered_under_ddsp_training_nn(name):
  configurable = gin.config._REGISTRY.get_match(f'nn.{name}')  # pylint: disable=protected-access
  assert configurable is not None
  assert configurable.module == 'ddsp.training.nn'


def test_keras_layers_are_gin_configurable_under_tf_keras():
  registry = gin.config._REGISTRY  # pylint: disable=protected-access
  assert registry.get_match('tf.keras.layers.Dense') is not None
  assert registry.get_match('tf.keras.layers.GRU') is not None
  assert registry.get_match('tf.keras.Sequential') is not None
  assert registry.get_match('nn.DictLayer') is None  # Not registered.
  gin.clear_config()
  gin.parse_config('nn.RnnSandwich.rnn_ch = 7\nFc.ch = 3')
  sandwich = gin.get_configurable('nn.RnnSandwich')()
  gin.clear_config()
  assert sandwich.rnn_ch == 7


@pytest.mark.parametrize('layer', [
    nn.Fc(ch=4, nonlinearity='tanh'),
    nn.FcStack(ch=4, layers=3),
    nn.Normalize('instance'),
    nn.Rnn(5, 'lstm', bidir=True),
    nn.RnnFc(4, 3, n_rnn=2),
    nn.DilatedConvStack(ch=8, stacks=3, dilation=-2, norm_type='layer'),
    nn.VectorQuantization(k=5, num_heads=2),
    nn.ResNet(size='medium'),
    nn.FcStackOut(ch=4, layers=1, n_out=2),
    nn.LayerStack([nn.Fc(3), keras.layers.Dense(2)]),
    nn.ConditionalScaleAndShift(shift_only=True),
])
def test_layers_round_trip_through_keras_serialization(layer):
  config = layer.get_config()
  clone = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(layer))
  assert type(clone) is type(layer)
  assert clone.get_config() == config


def test_gin_bound_arguments_are_serialized():
  gin.clear_config()
  gin.parse_config('FcStack.ch = 3\nFcStack.layers = 1')
  stack = gin.get_configurable('nn.FcStack')()
  gin.clear_config()
  config = stack.get_config()
  assert (config['ch'], config['layers']) == (3, 1)
