"""Layers that run a directed acyclic graph (DAG) of modules over a nested dict.

A DAG is a list of nodes `(module_or_name, [input_keys], [output_keys])`.
Input keys are `/`-separated paths into the dict of everything computed so
far (`'inputs/f0_hz'`, or the top-level copy `'f0_hz'`, or
`'harmonic/signal'`); each node's outputs are stored under the module's name.
"""

from typing import Any, Dict, List, Optional, Sequence, Text, Tuple, Union

from absl import logging
import keras
import tensorflow as tf

from ddsp import core
from ddsp import registration
import gin

Node = Union[Tuple[Any, Sequence[Text]], Tuple[Any, Sequence[Text],
                                                Sequence[Text]]]
DAG = Sequence[Node]

# Constructor keywords that configure the Keras layer itself, not a module.
_KERAS_KWARGS = ('training', 'mask', 'name', 'trainable', 'dtype', 'autocast')


def is_processor(module) -> bool:
  """Duck typing: a processor turns raw inputs into controls and a signal."""
  return hasattr(module, 'get_controls') and hasattr(module, 'get_signal')


def is_loss(module) -> bool:
  """Duck typing: a loss returns a dict of named scalar losses."""
  return hasattr(module, 'get_losses_dict')


def is_module(module) -> bool:
  """Whether `module` is a trackable layer or module that a DAG can run."""
  return isinstance(module, (tf.Module, keras.layers.Layer))


@gin.configurable('run_dag', allowlist=['verbose'])
def _run_dag_options(verbose: bool = False) -> bool:
  """Gin binding `run_dag.verbose` (as in ddsp 3.7.0).

  Kept outside `DAGLayer.run_dag` so that errors raised while running a DAG
  (e.g. a missing key) reach the caller with their own type.
  """
  return verbose


def split_keras_kwargs(kwargs: Dict[Text, Any]) -> Dict[Text, Any]:
  """Pops the Keras layer keywords (name, training, ...) out of `kwargs`.

  Returns:
    The popped keywords whose values are not None.
  """
  keras_kwargs = {}
  for key in _KERAS_KWARGS:
    value = kwargs.pop(key, None)
    if value is not None:
      keras_kwargs[key] = value
  return keras_kwargs


@registration.register
class DAGLayer(keras.layers.Layer):
  """Runs a DAG of modules (layers, processors, losses) over a nested dict.

  Modules can be given as keyword arguments and referred to by name in the
  DAG, or placed in the DAG directly (they are then stored under their
  `.name`).
  """

  def __init__(self, dag: DAG, **kwarg_modules):
    """Constructor.

    Args:
      dag: List of nodes `(module_or_name, [input_keys], [output_keys])`;
        output keys are only needed for modules that do not return a dict.
      **kwarg_modules: Modules referred to by name in the DAG, plus Keras
        layer keywords (`name`, `trainable`, ...).
    """
    keras_kwargs = split_keras_kwargs(kwarg_modules)
    super().__init__(**keras_kwargs)
    self.module_names = []
    for name, module in kwarg_modules.items():
      if not is_module(module):
        raise ValueError(f'Keyword argument `{name}` of {type(self).__name__} '
                         f'must be a Keras layer or tf.Module; received '
                         f'{type(module).__name__}.')
      self._add_module(name, module)
    self.dag = self.format_dag(dag)

  def _add_module(self, name: Text, module) -> None:
    if name not in self.module_names:
      self.module_names.append(name)
    setattr(self, name, module)

  def format_dag(self, dag: DAG) -> List[List[Any]]:
    """Stores modules placed in the DAG and replaces them by their names."""
    formatted = []
    for node in dag:
      node = list(node)
      if len(node) not in (2, 3):
        raise ValueError(f'Each DAG node must be (module, [input_keys]) or '
                         f'(module, [input_keys], [output_keys]); received '
                         f'{node}.')
      module = node[0]
      if is_module(module):
        self._add_module(module.name, module)
        node[0] = module.name
      elif node[0] not in self.module_names:
        raise ValueError(f'DAG node refers to module "{node[0]}", which was '
                         f'not given; available: {self.module_names}.')
      node[1] = list(core.make_iterable(node[1]))
      if len(node) == 3:
        node[2] = list(core.make_iterable(node[2]))
      formatted.append(node)
    return formatted

  def build(self, unused_input_shape=None):
    # Modules build themselves on their first call with real inputs.
    self.built = True

  @property
  def modules(self) -> List[Any]:
    """The modules of the DAG, in order of `module_names`."""
    return [getattr(self, name) for name in self.module_names]

  def call(self, inputs: Dict[Text, Any], **kwargs) -> Dict[Text, Any]:
    """Runs the DAG; see `run_dag`."""
    return self.run_dag(inputs, **kwargs)

  def run_dag(self, inputs: Dict[Text, Any], verbose: Optional[bool] = None,
              **kwargs) -> Dict[Text, Any]:
    """Runs every node in order over a nested dict of tensors.

    Args:
      inputs: Dict of input tensors, available as `inputs/<key>` and `<key>`.
      verbose: Log the shape of every node's inputs and outputs; None reads
        the gin binding `run_dag.verbose` (default False).
      **kwargs: Passed on to every module (e.g. `training`).

    Returns:
      Nested dict: `inputs`, the input keys, each module's outputs under its
      name, and `out` (the last module's outputs).
    """
    if verbose is None:
      verbose = _run_dag_options()
    outputs = {'inputs': inputs}
    outputs.update(inputs)
    module_outputs = None
    for node in self.dag:
      name, input_keys = node[0], node[1]
      output_keys = node[2] if len(node) == 3 else None
      module = getattr(self, name)
      module_inputs = [core.nested_lookup(key, outputs) for key in input_keys]
      if is_processor(module):
        module_outputs = module(*module_inputs, return_outputs_dict=True,
                                **kwargs)
      elif is_loss(module):
        module_outputs = module.get_losses_dict(*module_inputs, **kwargs)
      else:
        module_outputs = module(*module_inputs, **kwargs)
      if not isinstance(module_outputs, dict):
        if output_keys is None:
          raise ValueError(f'Module "{name}" does not return a dict, so its '
                           f'DAG node needs output keys.')
        module_outputs = core.to_dict(module_outputs, output_keys)
      if verbose:
        logging.info('%s: inputs %s -> outputs %s', name,
                     core.map_shape(module_inputs),
                     core.map_shape(module_outputs))
      outputs[name] = module_outputs
    outputs['out'] = module_outputs
    return outputs

  def get_config(self) -> Dict[Text, Any]:
    config = super().get_config()
    config['dag'] = self.dag
    config['modules'] = {
        name: keras.saving.serialize_keras_object(getattr(self, name))
        for name in self.module_names
    }
    return config

  @classmethod
  def from_config(cls, config: Dict[Text, Any]):
    config = dict(config)
    modules = {
        name: keras.saving.deserialize_keras_object(module_config)
        for name, module_config in config.pop('modules').items()
    }
    return cls(config.pop('dag'), **modules, **config)

