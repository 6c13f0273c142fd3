"""Checkpoint discovery and the ddsp 3.7.0 checkpoint layout.

Discovery: `get_latest_checkpoint` resolves a directory or checkpoint prefix
to the newest checkpoint (shared by `Model.restore`, the trainer and the
training loop; `train_util` re-exports these functions).

Layout: a `tf.train.Checkpoint` names every object by the path of edges that
leads to it from the root (`model/decoder/dense_out/kernel`). ddsp 3.7.0
checkpoints were written by Keras 2, whose edge names differ from Keras 3's:

| object | Keras 2 (3.7.0) | Keras 3 |
|---|---|---|
| a variable | its `add_weight` name (`kernel`, `ir`) | its attribute (`_kernel`, `_ir`) |
| layers in a list attribute | `<attribute>/<index>` | not saved at all |
| layers of a Sequential | `layer_with_weights-<j>` (layers with weights) and `layer-<i>` | `_functional/_operations/<i>` (after build) |

`Keras2Checkpoint` (a mixin for ddsp's training layers and models) and
`keras2_trackable` (a view of any other layer) present a layer's children
under the Keras 2 names, so checkpoints written here have the 3.7.0 keys and
3.7.0 checkpoints restore here. Only checkpoints change; Keras' own
`save_weights` / `.keras` files and SavedModels keep Keras 3 names.
"""

import os
import re
from typing import Any, Dict, Text

import keras
import tensorflow as tf

_Trackable = tf.__internal__.tracking.Trackable


# ------------------------------------------------------------------------------
# Finding checkpoints
# ------------------------------------------------------------------------------
def expand_path(file_path: Text) -> Text:
  """Expands `~` and environment variables in a path."""
  return os.path.expanduser(os.path.expandvars(file_path))


def get_latest_file(dir_path: Text, prefix: Text = 'operative_config-',
                    suffix: Text = '.gin') -> Text:
  """The file `<dir_path>/<prefix><n><suffix>` with the largest integer n.

  Raises:
    FileNotFoundError: If no file matches, or a match has no integer n.
  """
  pattern = os.path.join(dir_path, f'{prefix}*{suffix}')
  files = tf.io.gfile.glob(pattern)
  if not files:
    raise FileNotFoundError(f'No files match {pattern}.')

  def number(path):
    middle = os.path.basename(path)[len(prefix):]
    middle = middle[:len(middle) - len(suffix)] if suffix else middle
    try:
      return abs(int(middle))
    except ValueError:
      raise FileNotFoundError(
          f'{path} matches {pattern} but "{middle}" is not an integer.'
      ) from None

  return max(files, key=number)


def get_latest_checkpoint(checkpoint_path: Text) -> Text:
  """Resolves a checkpoint prefix or directory to the latest checkpoint.

  Args:
    checkpoint_path: A checkpoint prefix (`dir/ckpt-300`, the path without
      `.index`) or a directory. `~` and environment variables are expanded.

  Returns:
    The prefix itself if `<prefix>.index` exists; else the latest checkpoint
    listed in the directory's `checkpoint` state file; else (state file
    missing, unreadable or stale) the `ckpt-<n>` with the largest n.

  Raises:
    FileNotFoundError: If no checkpoint is found.
  """
  checkpoint_path = expand_path(checkpoint_path)
  if tf.io.gfile.exists(checkpoint_path + '.index'):
    return checkpoint_path
  if tf.io.gfile.isdir(checkpoint_path):
    latest = tf.train.latest_checkpoint(checkpoint_path)
    if latest is not None:
      return latest
    try:
      latest_index = get_latest_file(checkpoint_path, 'ckpt-', '.index')
      return latest_index[:-len('.index')]
    except FileNotFoundError:
      pass
  raise FileNotFoundError(f'No checkpoint found at {checkpoint_path}: expected '
                          f'a checkpoint prefix (with a .index file) or a '
                          f'directory holding ckpt-<step>.index files.')


# ------------------------------------------------------------------------------
# Keras 2 names in checkpoints
# ------------------------------------------------------------------------------
def _variable_name(variable) -> Text:
  """The `add_weight` name of a Keras or TF variable (`kernel`)."""
  if isinstance(variable, keras.Variable):
    return variable.name
  return re.sub(r':\d+$', '', variable.name).split('/')[-1]


def _is_variable(obj) -> bool:
  return isinstance(obj, (keras.Variable, tf.Variable))


def _contains_trackables(value) -> bool:
  if isinstance(value, dict):
    return any(_contains_trackables(v) for v in value.values())
  if isinstance(value, (list, tuple, set)):
    return any(_contains_trackables(v) for v in value)
  return isinstance(value, _Trackable)


def _cached(owner, attribute: Text, make) -> Any:
  """A checkpoint node cached on `owner` (checkpointing needs stable nodes).

  Set with `object.__setattr__`, so Keras and TF do not track it; a cached
  node that wraps another object (after a copy) is replaced.
  """
  node = owner.__dict__.get(attribute)
  if node is None or node.owner is not owner:
    node = make()
    object.__setattr__(owner, attribute, node)
  return node


class _ContainerNode(_Trackable):
  """A list/tuple (children '0', '1', ...) or dict attribute of a layer."""

  def __init__(self, owner, get_value):
    self._maybe_initialize_trackable()
    self.owner = owner
    self._get_value = get_value
    self._items = {}

  def _trackable_children(self, save_type='checkpoint', **kwargs):
    value = self._get_value()
    items = value.items() if isinstance(value, dict) else enumerate(value)
    children = {}
    for key, item in items:
      if not _contains_trackables(item):
        continue
      if isinstance(item, (list, tuple, dict)):
        if key not in self._items:
          self._items[key] = _ContainerNode(
              self.owner, lambda k=key: self._get_value()[k])
        children[str(key)] = self._items[key]
      else:
        children[str(key)] = keras2_trackable(item)
    return children


def _container_node(owner, name: Text) -> _ContainerNode:
  nodes = owner.__dict__.get('_keras2_checkpoint_containers')
  if nodes is None or nodes.get('owner') is not owner:
    nodes = {'owner': owner}
    object.__setattr__(owner, '_keras2_checkpoint_containers', nodes)
  if name not in nodes:
    nodes[name] = _ContainerNode(owner, lambda: getattr(owner, name))
  return nodes[name]


def sequential_layers(obj) -> Any:
  """The layers of a Keras Sequential or `Keras2Checkpoint` stack, else None."""
  if isinstance(obj, keras.Sequential):
    return obj.layers
  if isinstance(obj, Keras2Checkpoint) and obj.keras2_sequential:
    return obj.layers
  return None


def keras2_children(obj, children: Dict[Text, Any]) -> Dict[Text, Any]:
  """Renames a layer's Keras 3 checkpoint children to their Keras 2 names.

  Args:
    obj: A Keras layer (or model).
    children: Its Keras 3 `_trackable_children()`.

  Returns:
    Ordered dict of Keras 2 children: variables under their `add_weight`
    names, sublayers (as `keras2_trackable` views) under their attribute
    names, list/dict attributes of layers as nodes, Sequential layers as
    `layer_with_weights-<j>` then `layer-<i>`.
  """
  layers = sequential_layers(obj)
  result = {}
  if layers is not None:
    with_weights = [layer for layer in layers if layer.weights]
    for j, layer in enumerate(with_weights):
      result[f'layer_with_weights-{j}'] = keras2_trackable(layer)
    for i, layer in enumerate(layers):
      result[f'layer-{i}'] = keras2_trackable(layer)
  variable_names = [_variable_name(c) for c in children.values()
                    if _is_variable(c)]
  for name, child in children.items():
    if layers is not None and name == '_functional':
      continue
    if _is_variable(child):
      variable_name = _variable_name(child)
      unique = variable_names.count(variable_name) == 1
      result[variable_name if unique else name] = child
    else:
      result[name] = keras2_trackable(child)
  for name in getattr(obj, '_tracked', ()):
    if name in result or name == getattr(obj, 'keras2_layers_attribute', None):
      continue
    if _contains_trackables(getattr(obj, name, None)):
      result[name] = _container_node(obj, name)
  return result


class _Keras2View(_Trackable):
  """A checkpoint node presenting a Keras 3 layer's children as Keras 2 did."""

  def __init__(self, layer):
    self._maybe_initialize_trackable()
    self.owner = layer

  def _trackable_children(self, save_type='checkpoint', **kwargs):
    children = self.owner._trackable_children(save_type, **kwargs)  # pylint: disable=protected-access
    if save_type != 'checkpoint':
      return children
    return keras2_children(self.owner, children)


def keras2_trackable(obj) -> Any:
  """`obj` as a checkpoint node with Keras 2 child names.

  Use it when building a checkpoint of a part of a model
  (`tf.train.Checkpoint(decoder=keras2_trackable(model.decoder))`) so its keys
  match those of a full checkpoint.

  Returns:
    `obj` itself if it already names its children the Keras 2 way (a
    `Keras2Checkpoint`) or is not a Keras layer; else a view of it (the same
    view object on every call).
  """
  if isinstance(obj, Keras2Checkpoint) or not isinstance(obj, keras.layers.Layer):
    return obj
  return _cached(obj, '_keras2_checkpoint_view', lambda: _Keras2View(obj))


class Keras2Checkpoint:
  """Mixin for Keras layers: checkpoint children under Keras 2 names.

  Put it before the Keras base class (`class Fc(Keras2Checkpoint,
  keras.layers.Layer)`). A subclass that holds an ordered stack of layers in
  `.layers` (like a Keras Sequential) sets `keras2_sequential = True` and
  names the attribute that stores them in `keras2_layers_attribute`.
  """

  keras2_sequential = False
  keras2_layers_attribute = None

  def _trackable_children(self, save_type='checkpoint', **kwargs):
    children = super()._trackable_children(save_type, **kwargs)  # pytype: disable=attribute-error
    if save_type != 'checkpoint':
      return children
    return keras2_children(self, children)
