"""Neural network layers and helpers for ddsp models.

Layers take and return tensors shaped [batch, n_frames, channels] unless
stated otherwise. `DictLayer` lets a layer read its inputs from a dict of
features by name and return a dict of named outputs; encoders, decoders and
preprocessors build on it.

Registration (as in ddsp 3.7.0): the layers below are gin-registered under
`ddsp.training.nn` (gin files write `@nn.FcStack()`), as is `keras.layers.Dense`
(`nn.Dense`); every Keras layer is also available to gin as
`tf.keras.layers.<Name>`, and `keras.Sequential` as `tf.keras.Sequential`.

Checkpoints use the Keras 2 names of ddsp 3.7.0 (see
`ddsp.training.checkpoints`): stacks of layers (`Fc`, `FcStack`, ...) save
their layers as `layer_with_weights-<j>`, variables under their weight names.
"""

import functools
import inspect
from typing import Any, Callable, Dict, List, Optional, Sequence, Text, Tuple

import keras
import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import losses
from ddsp import registration
from ddsp.training import checkpoints
from ddsp.training import gru
from ddsp.training import note_masks
import gin

tfkl = keras.layers

# Note masks live in their own module; `nn.get_note_mask` etc. as in 3.7.0.
get_note_mask = note_masks.get_note_mask
get_note_mask_from_onset = note_masks.get_note_mask_from_onset
get_note_lengths = note_masks.get_note_lengths
get_note_moments = note_masks.get_note_moments
pool_over_notes = note_masks.pool_over_notes
get_short_note_loss_mask = note_masks.get_short_note_loss_mask
TensorDict = Dict[Text, tf.Tensor]


def _register_keras_layers() -> None:
  """Gin names `tf.keras.layers.<Name>`, `tf.keras.Sequential`, `nn.Dense`."""
  gin.external_configurable(keras.Sequential, name='Sequential',
                            module='tf.keras')
  for name in dir(tfkl):
    obj = getattr(tfkl, name)
    if inspect.isclass(obj) and issubclass(obj, tfkl.Layer):
      gin.external_configurable(obj, name=name, module='tf.keras.layers')
  gin.register(tfkl.Dense, module='ddsp.training.nn')


_register_keras_layers()

# Keras' port of the TF-Addons wrapper (ddsp 3.7.0 kept a copy of the latter):
# u ~ TruncatedNormal(0.02), one power iteration per training call, kernel
# reassigned to W / sigma.
SpectralNormalization = tfkl.SpectralNormalization


# ------------------------------------------------------------------------------
# Utilities
# ------------------------------------------------------------------------------
def ensure_4d(x: tf.Tensor) -> tf.Tensor:
  """[B, C] -> [B, 1, 1, C]; [B, T, C] -> [B, T, 1, C]; 4-D unchanged."""
  if len(x.shape) == 2:
    return x[:, tf.newaxis, tf.newaxis, :]
  if len(x.shape) == 3:
    return x[:, :, tf.newaxis, :]
  return x


def inv_ensure_4d(x: tf.Tensor, n_dims: int) -> tf.Tensor:
  """Inverse of `ensure_4d` for an input that had `n_dims` dimensions."""
  if n_dims == 2:
    return x[:, 0, 0, :]
  if n_dims == 3:
    return x[:, :, 0, :]
  return x


@registration.register
def split_to_dict(tensor: tf.Tensor,
                  tensor_splits: Sequence[Tuple[Text, int]]) -> TensorDict:
  """Splits the last axis into named parts: [('amps', 1), ('hd', 60)]."""
  labels, sizes = zip(*tensor_splits)
  return dict(zip(labels, tf.split(tensor, sizes, axis=-1)))


def get_nonlinearity(nonlinearity) -> Callable:
  """A Keras activation by name (or callable), else `tf.nn.<nonlinearity>`.

  'leaky_relu' has a negative slope of 0.2 (Keras' activation function and
  `tf.nn.leaky_relu`; not the 0.3 of Keras 2's LeakyReLU layer).
  """
  try:
    return keras.activations.get(nonlinearity)
  except ValueError:
    return getattr(tf.nn, nonlinearity)


# ------------------------------------------------------------------------------
# Straight-through estimators
# ------------------------------------------------------------------------------
def straight_through_softmax(logits: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Samples a one-hot vector from softmax(logits), differentiably.

  Returns:
    (sample, probs), both [..., n_classes]: the forward value of `sample` is
    one-hot; its gradient is that of `probs * sample`.
  """
  probs = tf.nn.softmax(logits)
  n_classes = tf.shape(logits)[-1]
  flat_logits = tf.reshape(logits, [-1, n_classes])
  indices = tf.random.categorical(flat_logits, 1)[:, 0]
  sample = tf.reshape(tf.one_hot(indices, n_classes, dtype=probs.dtype),
                      tf.shape(probs))
  probs_sample = probs * sample
  sample = tf.stop_gradient(sample - probs_sample) + probs_sample
  return sample, probs


def straight_through_choice(logits: tf.Tensor, values: tf.Tensor) -> tf.Tensor:
  """One of `values` [..., n] chosen by a straight-through softmax sample."""
  choice, _ = straight_through_softmax(logits)
  return tf.reduce_sum(choice * values, axis=-1, keepdims=True)


def straight_through_int_quantization(x: tf.Tensor) -> tf.Tensor:
  """Rounds (half to even) with an identity gradient."""
  return x + tf.stop_gradient(tf.round(x) - x)


# ------------------------------------------------------------------------------
# Base layers
# ------------------------------------------------------------------------------
def _positional_parameters(fn: Callable) -> List[inspect.Parameter]:
  kinds = (inspect.Parameter.POSITIONAL_ONLY,
           inspect.Parameter.POSITIONAL_OR_KEYWORD)
  return [p for p in inspect.signature(fn).parameters.values()
          if p.kind in kinds]


def positional_argument_names(fn: Callable) -> List[Text]:
  """Names of the positional arguments of `fn` (bound methods: without self).

  The default input keys of DictLayers built on `compute_*` methods.
  """
  return [p.name for p in _positional_parameters(fn)]


def _serialize(value):
  """Config entry: layers and functions as Keras configs, lists as lists.

  A `functools.partial` (e.g. a scale function with bound arguments) becomes
  `{'partial': <function config>, 'keywords': {...}}`.
  """
  if isinstance(value, functools.partial):
    return {'partial': _serialize(value.func), 'keywords': value.keywords}
  if isinstance(value, tfkl.Layer) or callable(value):
    return keras.saving.serialize_keras_object(value)
  if isinstance(value, (list, tuple)):
    return [_serialize(v) for v in value]
  return value


def _deserialize(value):
  """Inverse of `_serialize`."""
  if isinstance(value, dict) and 'partial' in value:
    return functools.partial(_deserialize(value['partial']),
                             **value['keywords'])
  if isinstance(value, dict) and 'class_name' in value and 'config' in value:
    return keras.saving.deserialize_keras_object(value)
  if isinstance(value, list):
    return [_deserialize(v) for v in value]
  return value


class Layer(checkpoints.Keras2Checkpoint, tfkl.Layer):
  """Keras layer with 3.7.0 checkpoint names whose sublayers build on call.

  `build` only marks the layer built: sublayers create their weights on their
  first call (saving Keras a symbolic trace of `call` to build them).

  Serialization: subclasses list their constructor arguments, stored as
  attributes of the same name, in `_config_args` (the values actually used,
  including those bound by gin).
  """

  _config_args: Tuple[Text, ...] = ()

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    # Inputs may include None (optional features) or Python values.
    self._allow_non_tensor_positional_args = True

  def build(self, input_shape=None):
    del input_shape
    self.built = True

  def get_config(self) -> Dict[Text, Any]:
    config = super().get_config()
    config.update({arg: _serialize(getattr(self, arg))
                   for arg in self._config_args})
    return config

  @classmethod
  def from_config(cls, config: Dict[Text, Any]):
    return cls(**{k: _deserialize(v) for k, v in config.items()})


@keras.saving.register_keras_serializable('ddsp')
class LayerStack(Layer):
  """Layers applied in order, saved like a Keras 2 Sequential.

  Checkpoint children are `layer_with_weights-<j>` (layers with weights)
  and `layer-<i>` (all layers), as for the Sequentials of ddsp 3.7.0.
  """

  _config_args = ('layers',)
  keras2_sequential = True
  keras2_layers_attribute = 'stack_layers'

  def __init__(self, layers: Sequence[tfkl.Layer] = (), **kwargs):
    super().__init__(**kwargs)
    self.stack_layers = list(layers)

  @property
  def layers(self) -> List[tfkl.Layer]:
    """The layers, in order."""
    return list(self.stack_layers)

  def call(self, x, training=None):
    for layer in self.stack_layers:
      x = layer(x, training=training)
    return x


class DictLayer(Layer):
  """A layer that reads named inputs from dicts and returns a dict.

  Input keys default to the required arguments of `call` (arguments with
  defaults become optional keys); output keys default to the return
  annotation of `call`: `def call(self, a, b=None) -> ['x', 'y']`.

  Calling: `layer(*inputs, **kwargs)`; every dict among `inputs` is merged
  (later dicts win), other positional inputs are kept in order, and keyword
  arguments named like an input key join the dict. Then each required key
  is looked up (`a/b` paths into nested dicts), then each optional key: its
  dict value if present, else its default while inputs are still missing.
  The layer returns `call`'s dict, or its outputs zipped with the output
  keys.

  Raises:
    TypeError: If the number of inputs found differs from `n_inputs`.
    ValueError: If `call` returns a different number of outputs than keys.
  """

  def __init__(self, input_keys: Optional[Sequence[Text]] = None,
               output_keys: Optional[Sequence[Text]] = None, **kwargs):
    super().__init__(**kwargs)
    if input_keys:
      self.input_keys = list(input_keys)
      self.default_input_keys = []
      self.default_input_values = []
    else:
      self.input_keys = self.get_argument_names('call')
      self.default_input_keys = self.get_default_argument_names('call')
      self.default_input_values = self.get_default_argument_values('call')
    self.output_keys = list(output_keys or self.get_return_annotations('call'))

  @property
  def all_input_keys(self) -> List[Text]:
    """Required then optional input keys."""
    return list(self.input_keys) + list(self.default_input_keys)

  @property
  def n_inputs(self) -> int:
    """Number of inputs `call` receives."""
    return len(self.all_input_keys)

  def get_argument_names(self, method: Text) -> List[Text]:
    """Positional arguments of `method` without defaults."""
    return [p.name for p in _positional_parameters(getattr(self, method))
            if p.default is inspect.Parameter.empty]

  def get_default_argument_names(self, method: Text) -> List[Text]:
    """Positional arguments of `method` with defaults."""
    return [p.name for p in _positional_parameters(getattr(self, method))
            if p.default is not inspect.Parameter.empty]

  def get_default_argument_values(self, method: Text) -> List[Any]:
    """Default values of `get_default_argument_names(method)`."""
    return [p.default for p in _positional_parameters(getattr(self, method))
            if p.default is not inspect.Parameter.empty]

  def get_return_annotations(self, method: Text) -> List[Text]:
    """The return annotation of `method` (a list of output keys), or []."""
    annotation = inspect.signature(getattr(self, method)).return_annotation
    if annotation is inspect.Signature.empty:
      return []
    return list(annotation)

  def __call__(self, *inputs, **kwargs):
    input_dict = {}
    positional = []
    for x in inputs:
      if isinstance(x, dict):
        input_dict.update(x)
      else:
        positional.append(x)
    n_positional = len(positional)
    all_input_keys = self.all_input_keys
    for key in list(kwargs):
      if key in all_input_keys:
        input_dict[key] = kwargs.pop(key)

    n_inputs = len(all_input_keys)
    for key in self.input_keys:
      try:
        positional.append(core.nested_lookup(key, input_dict))
      except KeyError:
        pass
    for key, value in zip(self.default_input_keys, self.default_input_values):
      try:
        positional.append(core.nested_lookup(key, input_dict))
      except KeyError:
        if len(positional) < n_inputs:
          positional.append(value)
    if len(positional) != n_inputs:
      raise TypeError(
          f'{type(self).__name__} "{self.name}" expects {n_inputs} inputs '
          f'(keys {all_input_keys}) but received {len(positional)}: '
          f'{n_positional} positional input(s) and dict keys '
          f'{sorted(input_dict)}.')

    outputs = super().__call__(*positional, **kwargs)
    if isinstance(outputs, dict):
      return outputs
    outputs = core.make_iterable(outputs)
    if len(outputs) != len(self.output_keys):
      raise ValueError(
          f'{type(self).__name__} "{self.name}" returned {len(outputs)} '
          f'outputs but has {len(self.output_keys)} output keys '
          f'{list(self.output_keys)}.')
    return dict(zip(self.output_keys, outputs))


def _split_bias_initializer(output_splits, output_bias):
  """Keras bias initializer: `output_bias[name]` on each named split, else 0."""
  if not output_bias:
    return 'zeros'
  unknown = set(output_bias) - {name for name, _ in output_splits}
  if unknown:
    raise ValueError(f'output_bias names unknown splits {sorted(unknown)}; '
                     f'the splits are {[n for n, _ in output_splits]}.')
  parts = []
  for name, size in output_splits:
    values = np.zeros(size, np.float32)
    if name in output_bias:
      given = np.asarray(output_bias[name], np.float32).reshape(-1)
      if given.size != size:
        raise ValueError(f'output_bias[{name!r}] has {given.size} values; '
                         f'the split has {size}.')
      values = given
    parts.append(values)
  return keras.initializers.Constant(np.concatenate(parts))


class OutputSplitsLayer(DictLayer):
  """A DictLayer ending in one Dense whose output is split into named parts.

  Subclasses implement `compute_output(*inputs)` (whose arguments are the
  default input keys); `call` returns
  `split_to_dict(dense_out(compute_output(*inputs)), output_splits)`.
  `output_bias` ({split name: [size] values}) sets the initial bias of
  `dense_out` for those splits (others start at 0, the Keras default).

  Raises:
    ValueError: if `output_bias` names an unknown split or has a wrong size.
  """

  def __init__(self, input_keys: Optional[Sequence[Text]] = None,
               output_splits: Sequence[Tuple[Text, int]] = (
                   ('amps', 1), ('harmonic_distribution', 40)),
               output_bias: Optional[Dict[Text, Any]] = None,
               **kwargs):
    input_keys = list(input_keys or
                      positional_argument_names(self.compute_output))
    output_keys = [name for name, _ in output_splits]
    super().__init__(input_keys=input_keys, output_keys=output_keys, **kwargs)
    self.output_splits = [tuple(split) for split in output_splits]
    self.n_out = sum(size for _, size in output_splits)
    self.dense_out = tfkl.Dense(
        self.n_out, bias_initializer=_split_bias_initializer(
            self.output_splits, output_bias))

  def call(self, *inputs, **unused_kwargs) -> TensorDict:
    output = self.compute_output(*inputs)
    return split_to_dict(self.dense_out(output), self.output_splits)

  def compute_output(self, *inputs):
    """The features [B, T, C] that `dense_out` maps to the output splits."""
    raise NotImplementedError


# ------------------------------------------------------------------------------
# Normalization
# ------------------------------------------------------------------------------
_NORM_GROUPS = {'instance': None, 'layer': 1, 'group': 32}


def normalize_op(x: tf.Tensor, norm_type: Optional[Text] = 'layer',
                 eps: float = 1e-5) -> tf.Tensor:
  """Instance, layer or group normalization of [B, H, W, C] (no scale/shift).

  Moments over H, W and the channels of each group: 'instance' (one group
  per channel), 'layer' (one group), 'group' (32 groups); None is identity.
  `(x - mean) / sqrt(var + eps)`.
  """
  if norm_type is None:
    return x
  if norm_type not in _NORM_GROUPS:
    raise ValueError(f'Received an invalid value for `norm_type`, expected '
                     f'one of {list(_NORM_GROUPS)} or None. Received: '
                     f'norm_type={norm_type!r}')
  ch = int(x.shape[-1])
  n_groups = _NORM_GROUPS[norm_type] or ch
  shape = tf.shape(x)
  grouped = tf.reshape(x, [shape[0], shape[1], shape[2], n_groups,
                           ch // n_groups])
  mean, variance = tf.nn.moments(grouped, axes=[1, 2, 4], keepdims=True)
  grouped = (grouped - mean) * tf.math.rsqrt(variance + eps)
  return tf.reshape(grouped, shape)


@registration.register
class Normalize(Layer):
  """`normalize_op` then a learned per-channel `scale` and `shift`.

  Works on [B, C], [B, T, C] and [B, T, F, C] (via `ensure_4d`); for
  [B, T, C] 'layer' normalises over T and C jointly, not per frame.
  `norm_type=None` keeps only the learned scale and shift.
  """

  _config_args = ('norm_type',)

  def __init__(self, norm_type: Optional[Text] = 'layer', **kwargs):
    super().__init__(**kwargs)
    self.norm_type = norm_type

  def build(self, x_shape):
    ch = x_shape[-1]
    self.scale = self.add_weight(name='scale', shape=[1, 1, 1, ch],
                                 initializer='ones')
    self.shift = self.add_weight(name='shift', shape=[1, 1, 1, ch],
                                 initializer='zeros')
    self.built = True

  def call(self, x):
    n_dims = len(x.shape)
    x = normalize_op(ensure_4d(x), self.norm_type)
    return inv_ensure_4d(x * self.scale + self.shift, n_dims)


@keras.saving.register_keras_serializable('ddsp')
class ConditionalScaleAndShift(Layer):
  """`x * scale + shift` (or `x + shift`) with scale, shift = Dense(z).

  Inputs: `[x, z]`, x [B, T, C] (or 2-D/4-D), z broadcastable after
  `ensure_4d` ([B, C'], [B, T, C'] ...).
  """

  _config_args = ('shift_only',)

  def __init__(self, shift_only: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.shift_only = shift_only

  def build(self, inputs_shape):
    ch = inputs_shape[0][-1]
    self.dense = tfkl.Dense(ch if self.shift_only else 2 * ch)
    self.built = True

  def call(self, inputs):
    x, z = inputs
    n_dims = len(x.shape)
    x, z = ensure_4d(x), ensure_4d(z)
    z = self.dense(z)
    if self.shift_only:
      x = x + z
    else:
      scale, shift = tf.split(z, 2, axis=-1)
      x = x * scale + shift
    return inv_ensure_4d(x, n_dims)


@registration.register
class ConditionalNorm(Layer):
  """`normalize_op(x)` then `ConditionalScaleAndShift` on inputs `[x, z]`."""

  _config_args = ('norm_type', 'shift_only')

  def __init__(self, norm_type: Optional[Text] = 'instance',
               shift_only: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.norm_type = norm_type
    self.shift_only = shift_only
    self.conditional_scale_shift = ConditionalScaleAndShift(shift_only)

  def call(self, inputs):
    x, z = inputs
    n_dims = len(x.shape)
    x = normalize_op(ensure_4d(x), self.norm_type)
    return inv_ensure_4d(self.conditional_scale_shift([x, z]), n_dims)


def get_norm(norm_type: Optional[Text], conditional: bool,
             shift_only: bool) -> tfkl.Layer:
  """`ConditionalNorm(norm_type, shift_only)` or `Normalize(norm_type)`."""
  if conditional:
    return ConditionalNorm(norm_type=norm_type, shift_only=shift_only)
  return Normalize(norm_type=norm_type)


# ------------------------------------------------------------------------------
# Resampling
# ------------------------------------------------------------------------------
_RESAMPLE_TYPES = ('up', 'down')


def polyphase_resample(x: tf.Tensor, stride: int = 2,
                       resample_type: Text = 'down',
                       trim_or_pad: Text = 'pad') -> tf.Tensor:
  """Trades time for channels by reshaping (lossless).

  'down': [B, T, C] -> [B, T / stride, C * stride] (time padded with zeros
  or trimmed to a multiple of stride); 'up': [B, T, C] -> [B, T * stride,
  C / stride] (channels padded or trimmed). [B, T, 1, C] is supported.

  Raises:
    ValueError: For an unknown `resample_type` or `trim_or_pad`.
  """
  if resample_type not in _RESAMPLE_TYPES:
    raise ValueError(f'Received an invalid value for `resample_type`, '
                     f'expected one of {_RESAMPLE_TYPES}. Received: '
                     f'resample_type={resample_type!r}')
  if trim_or_pad not in ('trim', 'pad'):
    raise ValueError(f"Received an invalid value for `trim_or_pad`, expected "
                     f"'trim' or 'pad'. Received: trim_or_pad={trim_or_pad!r}")
  is_4d = len(x.shape) == 4
  x = x[:, :, 0, :] if is_4d else x
  axis = 1 if resample_type == 'down' else 2
  length = int(x.shape[axis])
  remainder = length % stride
  if remainder and trim_or_pad == 'pad':
    x = core.pad_axis(x, (0, stride - remainder), axis=axis)
  elif remainder:
    x = x[:, :length - remainder] if axis == 1 else x[..., :length - remainder]
  n_time, ch = int(x.shape[1]), int(x.shape[2])
  if resample_type == 'down':
    x = tf.reshape(x, [-1, n_time // stride, ch * stride])
  else:
    x = tf.reshape(x, [-1, n_time * stride, ch // stride])
  return x[:, :, tf.newaxis, :] if is_4d else x


@registration.register
class PolyphaseResample(Layer):
  """Layer form of `polyphase_resample`."""

  _config_args = ('stride', 'resample_type', 'trim_or_pad')

  def __init__(self, stride: int = 2, resample_type: Text = 'down',
               trim_or_pad: Text = 'pad', **kwargs):
    super().__init__(**kwargs)
    self.stride = stride
    self.resample_type = resample_type
    self.trim_or_pad = trim_or_pad

  def call(self, x):
    return polyphase_resample(x, self.stride, self.resample_type,
                              self.trim_or_pad)


# ------------------------------------------------------------------------------
# ResNet
# ------------------------------------------------------------------------------
@registration.register
class NormReluConv(LayerStack):
  """Normalize, ReLU, Conv2D(ch, (k, k), strides (1, s), 'same')."""

  _config_args = ('ch', 'k', 's', 'norm_type')

  def __init__(self, ch: int, k: int, s: int, norm_type: Optional[Text],
               **kwargs):
    super().__init__([Normalize(norm_type), tfkl.Activation('relu'),
                      tfkl.Conv2D(ch, (k, k), (1, s), padding='same')],
                     **kwargs)
    self.ch, self.k, self.s, self.norm_type = ch, k, s, norm_type


@registration.register
class ResidualLayer(Layer):
  """Pre-activation bottleneck residual block with 4 * ch output channels.

  `x = relu(norm(inputs))`; output = bottleneck(x) + shortcut, where the
  shortcut is Conv2D(4ch, 1x1, strides (1, stride)) of x if `shortcut`, else
  the raw input; bottleneck = Conv2D(ch, 1x1), NormReluConv(ch, 3, stride),
  NormReluConv(4ch, 1, 1). Conditional blocks take `[x, z]`.
  """

  _config_args = ('ch', 'stride', 'shortcut', 'norm_type', 'conditional',
                  'shift_only')

  def __init__(self, ch: int, stride: int, shortcut: bool,
               norm_type: Optional[Text], conditional: bool = False,
               shift_only: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.ch, self.stride, self.norm_type = ch, stride, norm_type
    self.shortcut = shortcut
    self.conditional = conditional
    self.shift_only = shift_only
    self.norm_input = get_norm(norm_type, conditional, shift_only)
    if shortcut:
      self.conv_proj = tfkl.Conv2D(4 * ch, (1, 1), (1, stride),
                                   padding='same')
    self.bottleneck = LayerStack([
        tfkl.Conv2D(ch, (1, 1), (1, 1), padding='same'),
        NormReluConv(ch, 3, stride, norm_type),
        NormReluConv(4 * ch, 1, 1, norm_type),
    ])

  def call(self, inputs):
    if self.conditional:
      x, z = inputs
      residual = x
      x = tf.nn.relu(self.norm_input([x, z]))
    else:
      x = residual = inputs
      x = tf.nn.relu(self.norm_input(x))
    if self.shortcut:
      residual = self.conv_proj(x)
    return self.bottleneck(x) + residual


@registration.register
class ResidualStack(Layer):
  """Groups of residual blocks, then a final norm and nonlinearity.

  For each (ch, n_blocks, stride): one shortcut block with the stride and
  n_blocks - 1 plain blocks.
  """

  _config_args = ('filters', 'block_sizes', 'strides', 'norm_type',
                  'conditional', 'shift_only', 'nonlinearity')

  def __init__(self, filters: Sequence[int], block_sizes: Sequence[int],
               strides: Sequence[int], norm_type: Optional[Text],
               conditional: bool = False, shift_only: bool = False,
               nonlinearity='relu', **kwargs):
    super().__init__(**kwargs)
    self.filters = list(filters)
    self.block_sizes = list(block_sizes)
    self.strides = list(strides)
    self.norm_type = norm_type
    self.conditional = conditional
    self.shift_only = shift_only
    self.nonlinearity = nonlinearity
    blocks = []
    for ch, n_blocks, stride in zip(filters, block_sizes, strides):
      blocks.append(ResidualLayer(ch, stride, True, norm_type, conditional,
                                  shift_only))
      blocks.extend(ResidualLayer(ch, 1, False, norm_type, conditional,
                                  shift_only) for _ in range(n_blocks - 1))
    self.residual_layers = blocks
    self.norm = get_norm(norm_type, conditional, shift_only)
    self.activation = get_nonlinearity(nonlinearity)

  def call(self, inputs):
    x, z = inputs if self.conditional else (inputs, None)
    for block in self.residual_layers:
      x = block([x, z] if self.conditional else x)
    x = self.norm([x, z] if self.conditional else x)
    return self.activation(x)


_RESNET_SIZES = {'small': (32, [2, 3, 4]), 'medium': (32, [3, 4, 6]),
                 'large': (64, [3, 4, 6])}


@registration.register
class ResNet(Layer):
  """2-D ResNet over [B, T, F, C] that strides along frequency (F) only.

  Conv2D(64, 7x7, strides (1, 2)), MaxPool (1, 3) / (1, 2), ResidualStack
  ([ch, 2ch, 4ch], blocks, strides [1, 2, 2]), ResidualStack([8ch], [3],
  [2]); sizes 'small' (ch 32, blocks [2, 3, 4]), 'medium' (32, [3, 4, 6]),
  'large' (64, [3, 4, 6]). Output channels 32 * ch.

  Raises:
    KeyError: For an unknown size.
  """

  _config_args = ('size', 'norm_type', 'conditional', 'shift_only')

  def __init__(self, size: Text = 'large', norm_type: Optional[Text] = 'layer',
               conditional: bool = False, shift_only: bool = False,
               **kwargs):
    super().__init__(**kwargs)
    self.size, self.norm_type, self.shift_only = size, norm_type, shift_only
    if size not in _RESNET_SIZES:
      raise KeyError(f'Unknown ResNet size {size!r}; expected one of '
                     f'{list(_RESNET_SIZES)}.')
    ch, blocks = _RESNET_SIZES[size]
    self.conditional = conditional
    self.conv_in = tfkl.Conv2D(64, (7, 7), (1, 2), padding='same')
    self.max_pool = tfkl.MaxPool2D((1, 3), (1, 2), padding='same')
    self.residual_stacks = [
        ResidualStack([ch, 2 * ch, 4 * ch], blocks, [1, 2, 2], norm_type,
                      conditional, shift_only),
        ResidualStack([8 * ch], [3], [2], norm_type, conditional, shift_only),
    ]

  def call(self, inputs):
    x, z = inputs if self.conditional else (inputs, None)
    x = self.max_pool(self.conv_in(x))
    for stack in self.residual_stacks:
      x = stack([x, z] if self.conditional else x)
    return x


# ------------------------------------------------------------------------------
# Fully connected and recurrent stacks
# ------------------------------------------------------------------------------
def layer_norm_activation(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor,
                          epsilon: float = 1e-3,
                          leaky_slope: Optional[float] = None) -> tf.Tensor:
  """Layer norm over the last axis, optionally followed by a leaky ReLU.

  `y = (x - mean) / sqrt(var + epsilon) * gamma + beta` (Ba et al. 2016, as
  `keras.layers.LayerNormalization`), then `max(y, leaky_slope * y)`. One op
  with a hand-written gradient (Ioffe & Szegedy's batch-norm gradient, over
  features): the backward pass keeps only the normalized input and the
  output, where autodiff of the Keras layers keeps four activations of the
  same size; Fc stacks over 1000 frames spend most of their memory there.

  Args:
    x: [..., channels].
    gamma, beta: [channels] scale and offset.
    epsilon: Added to the variance.
    leaky_slope: Negative slope of a leaky ReLU applied after, or None.

  Returns:
    Tensor shaped like `x`.
  """

  @tf.custom_gradient
  def forward(x, gamma, beta):
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    inv_std = tf.math.rsqrt(variance + epsilon)
    x_hat = (x - mean) * inv_std
    y = x_hat * gamma + beta
    output = y if leaky_slope is None else tf.nn.leaky_relu(y, leaky_slope)

    def gradient(d_output):
      d_y = d_output
      if leaky_slope is not None:  # output > 0 exactly where y > 0.
        d_y = d_output * tf.where(output > 0.0, 1.0, leaky_slope)
      batch_axes = list(range(len(x.shape) - 1))
      d_gamma = tf.reduce_sum(d_y * x_hat, axis=batch_axes)
      d_beta = tf.reduce_sum(d_y, axis=batch_axes)
      d_x_hat = d_y * gamma
      d_x = inv_std * (d_x_hat - tf.reduce_mean(d_x_hat, -1, keepdims=True) -
                       x_hat * tf.reduce_mean(d_x_hat * x_hat, -1,
                                              keepdims=True))
      return d_x, d_gamma, d_beta

    return output, gradient

  return forward(x, tf.convert_to_tensor(gamma), tf.convert_to_tensor(beta))


_LEAKY_RELUS = (tf.nn.leaky_relu, keras.activations.leaky_relu)


@registration.register
class Fc(LayerStack):
  """Dense(ch), LayerNormalization (per frame, eps 1e-3), nonlinearity.

  `leaky_relu(LN(x @ W + b))` with slope 0.2 by default. The three Keras
  layers hold the weights (and checkpoint names); `call` computes the norm
  and a leaky ReLU with `layer_norm_activation`.
  """

  _config_args = ('ch', 'nonlinearity')

  def __init__(self, ch: int = 128, nonlinearity='leaky_relu', **kwargs):
    activation = get_nonlinearity(nonlinearity)
    super().__init__([tfkl.Dense(ch), tfkl.LayerNormalization(),
                      tfkl.Activation(activation)], **kwargs)
    self.ch = ch
    self.nonlinearity = nonlinearity
    self._leaky_slope = 0.2 if activation in _LEAKY_RELUS else None

  def call(self, x, training=None):
    dense, norm, activation = self.stack_layers
    x = dense(x)
    if not norm.built:
      norm.build(x.shape)
    y = layer_norm_activation(x, norm.gamma, norm.beta, norm.epsilon,
                              self._leaky_slope)
    return y if self._leaky_slope is not None else activation(y)


@registration.register
class FcStack(LayerStack):
  """`layers` x Fc(ch) (0 layers: identity)."""

  def __init__(self, ch: int = 256, layers: int = 2,
               nonlinearity='leaky_relu', **kwargs):
    super().__init__([Fc(ch, nonlinearity) for _ in range(layers)], **kwargs)
    self.ch = ch
    self.n_layers = layers
    self.nonlinearity = nonlinearity

  def get_config(self):
    config = super().get_config()
    config.update(ch=self.ch, layers=self.n_layers,
                  nonlinearity=_serialize(self.nonlinearity))
    return config


_RNN_CLASSES = {'lstm': tfkl.LSTM, 'gru': gru.GRU}


def _rnn_class(rnn_type: Text):
  if rnn_type not in _RNN_CLASSES:
    raise ValueError(f'Received an invalid value for `rnn_type`, expected '
                     f"'lstm' or 'gru'. Received: rnn_type={rnn_type!r}")
  return _RNN_CLASSES[rnn_type]


@registration.register
class Rnn(Layer):
  """A Keras LSTM or GRU (Keras defaults; GRU reset_after=True), optionally
  bidirectional. [B, T, C] -> [B, T, dims] (or [B, dims] without
  return_sequences; 2 * dims if bidirectional)."""

  _config_args = ('dims', 'rnn_type', 'return_sequences', 'bidir')

  def __init__(self, dims: int, rnn_type: Text, return_sequences: bool = True,
               bidir: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.dims, self.rnn_type = dims, rnn_type
    self.return_sequences, self.bidir = return_sequences, bidir
    rnn = _rnn_class(rnn_type)(dims, return_sequences=return_sequences)
    self.rnn = tfkl.Bidirectional(rnn) if bidir else rnn

  def call(self, x):
    return self.rnn(x)


@registration.register
class StatelessRnn(Layer):
  """An RNN with explicit state: `call(x, state)` -> `(y, new_state)`.

  x [B, T, C]; for a GRU the state is [B, dims], for an LSTM `[h, c]`.
  """

  _config_args = ('dims', 'rnn_type')

  def __init__(self, dims: int, rnn_type: Text, **kwargs):
    super().__init__(**kwargs)
    self.dims, self.rnn_type = dims, rnn_type
    self.rnn = _rnn_class(rnn_type)(dims, return_sequences=True,
                                    return_state=True)

  def call(self, x, state):
    outputs = self.rnn(x, initial_state=state)
    y, new_state = outputs[0], list(outputs[1:])
    return y, new_state[0] if len(new_state) == 1 else new_state


@registration.register
class RnnFc(LayerStack):
  """`n_rnn` Rnn layers (returning sequences) then Fc(out_feat).

  Fixes ddsp 3.7.0, which passed `bidir` into `return_sequences` (so the
  default returned only the last frame).
  """

  _config_args = ('rnn_feat', 'out_feat', 'rnn_type', 'nonlinearity', 'bidir',
                  'n_rnn')

  def __init__(self, rnn_feat: int, out_feat: int, rnn_type: Text = 'lstm',
               nonlinearity='sigmoid', bidir: bool = False, n_rnn: int = 1,
               **kwargs):
    layers = [Rnn(rnn_feat, rnn_type, return_sequences=True, bidir=bidir)
              for _ in range(n_rnn)]
    super().__init__(layers + [Fc(out_feat, nonlinearity)], **kwargs)
    self.rnn_feat, self.out_feat, self.rnn_type = rnn_feat, out_feat, rnn_type
    self.nonlinearity, self.bidir, self.n_rnn = nonlinearity, bidir, n_rnn


@registration.register
class RnnSandwich(LayerStack):
  """FcStack, Rnn, FcStack."""

  _config_args = ('fc_stack_ch', 'fc_stack_layers', 'rnn_ch', 'rnn_type')

  def __init__(self, fc_stack_ch: int = 256, fc_stack_layers: int = 2,
               rnn_ch: int = 512, rnn_type: Text = 'gru', **kwargs):
    super().__init__([FcStack(fc_stack_ch, fc_stack_layers),
                      Rnn(rnn_ch, rnn_type),
                      FcStack(fc_stack_ch, fc_stack_layers)], **kwargs)
    self.fc_stack_ch, self.fc_stack_layers = fc_stack_ch, fc_stack_layers
    self.rnn_ch, self.rnn_type = rnn_ch, rnn_type


@registration.register
class SingleGru(LayerStack):
  """GRU(gru_dim) returning sequences, then LayerNormalization."""

  _config_args = ('gru_dim',)

  def __init__(self, gru_dim: int = 128, **kwargs):
    super().__init__([gru.GRU(gru_dim, return_sequences=True),
                      tfkl.LayerNormalization()], **kwargs)
    self.gru_dim = gru_dim


@registration.register
class FcStackOut(LayerStack):
  """FcStack(ch, layers) then Dense(n_out)."""

  def __init__(self, ch: int, layers: int, n_out: int, **kwargs):
    super().__init__([FcStack(ch, layers), tfkl.Dense(n_out)], **kwargs)
    self.ch, self.n_layers, self.n_out = ch, layers, n_out

  def get_config(self):
    config = super().get_config()
    config.update(ch=self.ch, layers=self.n_layers, n_out=self.n_out)
    return config


@registration.register
class Identity(Layer):
  """Returns its input."""

  def call(self, x):
    return x


# ------------------------------------------------------------------------------
# Dilated convolutions
# ------------------------------------------------------------------------------
@registration.register
class DilatedConvStack(Layer):
  """Stacks of residual dilated 1-D convolutions over time.

  Input [B, T, C] (or [B, T, 1, C]; conditional: `[x, z]`). `conv_in` maps
  to `ch` channels; then per stack, per layer j: `x += norm(conv_j(relu(x)))`
  with kernel (kernel_size, 1), 'same' padding and dilation `dilation**j`
  (or `(-dilation)**(layers_per_stack - j - 1)` for negative dilation).
  Optional resampling ('downsample': strided Conv2D; 'upsample':
  Conv2DTranspose(ch, (2s, 1), (s, 1))) every `stacks_per_resample` stacks,
  after (or before) convolving. Returns [B, T', ch].
  """

  _config_args = ('ch', 'layers_per_stack', 'stacks', 'kernel_size',
                  'dilation', 'norm_type', 'resample_type', 'resample_stride',
                  'stacks_per_resample', 'resample_after_convolve',
                  'spectral_norm', 'ortho_init', 'shift_only', 'conditional')

  def __init__(self, ch: int = 256, layers_per_stack: int = 5,
               stacks: int = 2, kernel_size: int = 3, dilation: int = 2,
               norm_type: Optional[Text] = None,
               resample_type: Optional[Text] = None, resample_stride: int = 1,
               stacks_per_resample: int = 1,
               resample_after_convolve: bool = True,
               spectral_norm: bool = False, ortho_init: bool = False,
               shift_only: bool = False, conditional: bool = False,
               **kwargs):
    super().__init__(**kwargs)
    if resample_type not in (None, 'downsample', 'upsample'):
      raise ValueError(f"Received an invalid value for `resample_type`, "
                       f"expected None, 'downsample' or 'upsample'. Received: "
                       f"resample_type={resample_type!r}")
    self.ch, self.layers_per_stack, self.stacks = ch, layers_per_stack, stacks
    self.kernel_size, self.dilation, self.norm_type = (kernel_size, dilation,
                                                       norm_type)
    self.resample_type, self.resample_stride = resample_type, resample_stride
    self.stacks_per_resample = stacks_per_resample
    self.resample_after_convolve = resample_after_convolve
    self.spectral_norm, self.ortho_init = spectral_norm, ortho_init
    self.shift_only, self.conditional = shift_only, conditional
    initializer = 'orthogonal' if ortho_init else 'glorot_uniform'

    def conv(n_ch, k, stride=1, dilation_rate=1, transpose=False):
      conv_class = tfkl.Conv2DTranspose if transpose else tfkl.Conv2D
      layer = conv_class(n_ch, (k, 1), (stride, 1), padding='same',
                         dilation_rate=(dilation_rate, 1),
                         kernel_initializer=initializer)
      return SpectralNormalization(layer) if spectral_norm else layer

    self.conv_in = conv(ch, kernel_size)
    self.layers = []
    self.norms = []
    for _ in range(stacks):
      for j in range(layers_per_stack):
        rate = (dilation**j if dilation > 0 else
                (-dilation)**(layers_per_stack - j - 1))
        self.layers.append(LayerStack([tfkl.Activation('relu'),
                                       conv(ch, kernel_size, 1, rate)]))
        self.norms.append(get_norm(norm_type, conditional, shift_only))
    self.resample_layers = []
    if resample_type:
      for _ in range(stacks // stacks_per_resample):
        if resample_type == 'downsample':
          layer = conv(ch, resample_stride, resample_stride)
        else:
          layer = conv(ch, 2 * resample_stride, resample_stride,
                       transpose=True)
        self.resample_layers.append(layer)

  def _resample(self, x, stack_index, after):
    """Resamples before the first / after the last stack of each group."""
    if not self.resample_layers or after != self.resample_after_convolve:
      return x
    boundary = stack_index + 1 if after else stack_index
    index = stack_index // self.stacks_per_resample
    if boundary % self.stacks_per_resample or index >= len(
        self.resample_layers):
      return x
    return self.resample_layers[index](x)

  def call(self, inputs):
    x, z = inputs if self.conditional else (inputs, None)
    x = self.conv_in(ensure_4d(x))
    z = ensure_4d(z) if self.conditional else None
    for i in range(self.stacks):
      x = self._resample(x, i, after=False)
      for j in range(self.layers_per_stack):
        k = i * self.layers_per_stack + j
        h = self.layers[k](x)
        x += self.norms[k]([h, z] if self.conditional else h)
      x = self._resample(x, i, after=True)
    return x[:, :, 0, :]


# ------------------------------------------------------------------------------
# Embeddings and vector quantization
# ------------------------------------------------------------------------------
def get_embedding(vocab_size: int = 1024, n_dims: int = 256) -> tfkl.Layer:
  """An Embedding layer (Keras 3 has no `input_length`; 3.7.0 used 1)."""
  return tfkl.Embedding(vocab_size, n_dims)


@registration.register
class VectorQuantization(Layer):
  """Vector quantization with EMA k-means centroids (van den Oord et al.).

  Centroids are `sums / counts` (non-trainable, MEAN-aggregated variables)
  updated by exponential moving averages (`gamma`) in training; centroids
  whose count falls below `restart_threshold` restart at a random input
  vector. The input's depth is split into `num_heads` heads quantized
  separately. Straight-through: the output's gradient passes to the input.

  `call(x, training=False)` -> `(z_q, codes)`: z_q shaped like x, codes int64
  `x.shape[:-1] + [num_heads]`.
  """

  _config_args = ('k', 'gamma', 'restart_threshold', 'num_heads',
                  'commitment_loss_weight')

  def __init__(self, k: int, gamma: float = 0.99,
               restart_threshold: float = 0.0, num_heads: int = 1,
               commitment_loss_weight: float = 0.2, **kwargs):
    super().__init__(**kwargs)
    self.k = k
    self.gamma = gamma
    self.restart_threshold = restart_threshold
    self.num_heads = num_heads
    self.commitment_loss_weight = commitment_loss_weight

  def build(self, x_shape):
    depth = int(x_shape[-1])
    if depth % self.num_heads:
      raise ValueError(f'Input depth {depth} is not divisible by num_heads '
                       f'{self.num_heads}.')
    self.depth = depth // self.num_heads
    self.counts = self.add_weight(name='counts', shape=[self.k],
                                  initializer='ones', trainable=False,
                                  aggregation='mean')
    self.sums = self.add_weight(name='sums', shape=[self.k, self.depth],
                                initializer='random_normal', trainable=False,
                                aggregation='mean')
    self.built = True

  @property
  def centroids(self) -> tf.Tensor:
    """[k, depth / num_heads] centroids."""
    return self.sums / self.counts[:, tf.newaxis]

  def call(self, x, training=False):
    x = core.tf_float32(x)
    flat = tf.reshape(x, [-1, self.depth])
    centroids = self.centroids
    distances = (tf.reduce_sum(flat**2, axis=1, keepdims=True) -
                 2.0 * tf.matmul(flat, centroids, transpose_b=True) +
                 tf.reduce_sum(centroids**2, axis=1)[tf.newaxis, :])
    codes = tf.argmin(distances, axis=1)
    if training:
      self._update_centroids(flat, codes)
    z_q = tf.reshape(tf.gather(self.centroids, codes), tf.shape(x))
    z_q = x + tf.stop_gradient(z_q - x)
    codes_shape = tf.concat([tf.shape(x)[:-1], [self.num_heads]], axis=0)
    return z_q, tf.reshape(codes, codes_shape)

  def _update_centroids(self, flat: tf.Tensor, codes: tf.Tensor) -> None:
    flat = tf.stop_gradient(flat)
    assignments = tf.one_hot(codes, self.k)
    counts = (self.gamma * self.counts +
              (1.0 - self.gamma) * tf.reduce_sum(assignments, axis=0))
    sums = (self.gamma * self.sums +
            (1.0 - self.gamma) * tf.matmul(assignments, flat, transpose_a=True))
    if self.restart_threshold > 0:
      dead = counts < self.restart_threshold
      restarts = tf.gather(flat, tf.random.uniform(
          [self.k], 0, tf.shape(flat)[0], dtype=tf.int32))
      sums = tf.where(dead[:, tf.newaxis], restarts, sums)
      counts = tf.where(dead, tf.ones_like(counts), counts)
    self.counts.assign(counts)
    self.sums.assign(sums)

  def unquantize(self, codes: tf.Tensor) -> tf.Tensor:
    """Centroid vectors [..., num_heads * depth] of codes [..., num_heads]."""
    z_q = tf.gather(self.centroids, codes)
    shape = tf.concat([tf.shape(codes)[:-1], [self.num_heads * self.depth]], 0)
    return tf.reshape(z_q, shape)

  def committment_loss(self, z: tf.Tensor, z_q: tf.Tensor) -> tf.Tensor:
    """`weight * mean((z - stop_gradient(z_q))**2)` (3.7.0 spelling)."""
    return self.commitment_loss_weight * losses.mean_difference(
        z, tf.stop_gradient(z_q), loss_type='L2')

  def get_losses_dict(self, z: tf.Tensor, z_q: tf.Tensor) -> TensorDict:
    """`{name + '_commitment_loss': committment_loss(z, z_q)}`."""
    return {self.name + '_commitment_loss': self.committment_loss(z, z_q)}
