"""Tensor and nested-dict utilities shared by the DSP modules.

Part of the implementation of `ddsp.core`, which re-exports every public name.
"""

import copy
from typing import Any, Dict, Iterable, List, Sequence, Text

import numpy as np
import tensorflow as tf


def tf_float32(x) -> tf.Tensor:
  """Casts a tensor to float32, or converts anything else to a float32 tensor."""
  if isinstance(x, tf.Tensor):
    return tf.cast(x, dtype=tf.float32)
  return tf.convert_to_tensor(x, tf.float32)


def make_iterable(x) -> Any:
  """Wraps `x` in a list unless it is already an iterable container.

  Arrays and tensors are wrapped too, so that a batch is never iterated over.
  """
  if x is None:
    return []
  if isinstance(x, (np.ndarray, tf.Tensor, tf.Variable)):
    return [x]
  if isinstance(x, (str, bytes)):
    return [x]
  return x if isinstance(x, Iterable) else [x]


def to_dict(x, keys: Sequence[Text]) -> Dict[Text, Any]:
  """Zips a single value or a sequence of values with `keys` into a dict."""
  if isinstance(x, dict):
    return x
  values = list(make_iterable(x))
  if len(values) != len(keys):
    raise ValueError(f'Received {len(values)} values but {len(keys)} keys '
                     f'{list(keys)}; expected one value per key.')
  return dict(zip(keys, values))


def copy_if_tf_function(x):
  """Shallow-copies `x` inside a tf.function (where inputs must not mutate)."""
  return x if tf.executing_eagerly() else copy.copy(x)


def nested_keys(nested_dict: Dict[Text, Any],
                delimiter: Text = '/',
                prefix: Text = '') -> List[Text]:
  """Lists the `a/b/c` paths of every non-dict leaf, in insertion order."""
  keys = []
  for k, v in nested_dict.items():
    key = k if not prefix else f'{prefix}{delimiter}{k}'
    if isinstance(v, dict):
      keys.extend(nested_keys(v, delimiter=delimiter, prefix=key))
    else:
      keys.append(key)
  return keys


def nested_lookup(nested_key: Text,
                  nested_dict: Dict[Text, Any],
                  delimiter: Text = '/') -> Any:
  """Looks up `a/b/c` in a nested dict; KeyError lists the available keys."""
  value = nested_dict
  for key in nested_key.split(delimiter):
    try:
      value = value[key]
    except (KeyError, TypeError, IndexError):
      raise KeyError(
          f'Key "{nested_key}" not found. Available keys: '
          f'{nested_keys(nested_dict, delimiter=delimiter)}') from None
  return value


def leaf_key(nested_key: Text, delimiter: Text = '/') -> Text:
  """Returns the last component of a nested key (`a/b/c` -> `c`)."""
  return nested_key.split(delimiter)[-1]


def map_shape(x) -> Any:
  """Returns the nested structure of `x` with each tensor replaced by its shape."""
  return tf.nest.map_structure(lambda t: list(tf.shape(t).numpy()), x)


def check_rank(x, rank: int, name: Text, layout: Text) -> tf.Tensor:
  """Converts `x` to a float32 tensor and checks its rank.

  Args:
    x: Array-like input.
    rank: Expected number of dimensions.
    name: Argument name used in the error message.
    layout: Expected layout, e.g. '[batch, n_frames, 1]'.

  Returns:
    `x` as a float32 tensor.

  Raises:
    ValueError: Naming the argument, the expected layout and the shape received.
  """
  x = tf_float32(x)
  if len(x.shape) != rank:
    raise ValueError(f'`{name}` must have shape {layout}; received shape '
                     f'{x.shape.as_list()}.')
  return x


def pad_axis(x, padding=(0, 0), axis=0, **pad_kwargs) -> tf.Tensor:
  """Pads `x` with `padding = (before, after)` along `axis` only."""
  x = tf.convert_to_tensor(x)
  n_dims = len(x.shape)
  axis = axis % n_dims
  paddings = [(0, 0)] * n_dims
  paddings[axis] = tuple(padding)
  return tf.pad(x, paddings, **pad_kwargs)


def diff(x, axis=-1) -> tf.Tensor:
  """Forward difference `x[i+1] - x[i]` along `axis`; the axis shrinks by one."""
  x = tf.convert_to_tensor(x)
  shape = x.shape.as_list()
  if axis >= len(shape):
    raise ValueError(f'Invalid axis index: {axis} for tensor with only '
                     f'{len(shape)} axes.')
  begin_back = [0] * len(shape)
  begin_front = [0] * len(shape)
  begin_front[axis] = 1
  size = [-1] * len(shape)
  size[axis] = tf.shape(x)[axis] - 1
  return tf.slice(x, begin_front, size) - tf.slice(x, begin_back, size)
