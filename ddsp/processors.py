"""The Processor contract, DAGs of processors, and routing processors.

A processor turns raw network outputs into audio in two steps that stay
apart (so each can be tested and exported on its own):
- `get_controls(*inputs)`: scale and normalise raw inputs into physically
  meaningful controls (amplitudes, Hz, magnitudes), returned as a dict.
- `get_signal(**controls)`: render the controls into a signal.
"""

from typing import Any, Callable, Dict, Optional, Sequence, Text, Tuple, Union

import keras
import tensorflow as tf

from ddsp import core
from ddsp import dags
from ddsp import registration
from ddsp import validation

TensorDict = Dict[Text, tf.Tensor]


def serialize_function(fn: Optional[Callable]) -> Any:
  """Config entry for a scaling function (registered ddsp fn, activation, None)."""
  return None if fn is None else keras.saving.serialize_keras_object(fn)


def deserialize_function(config: Any) -> Optional[Callable]:
  """Inverse of `serialize_function`."""
  return None if config is None else keras.saving.deserialize_keras_object(
      config)


def check_matching_frames(**controls: tf.Tensor) -> None:
  """Raises if control tensors [B, T, ...] have different static frame counts."""
  n_frames = {k: v.shape[1] for k, v in controls.items()
              if v.shape[1] is not None}
  if len(set(n_frames.values())) > 1:
    raise ValueError(f'Controls must have the same number of frames (axis 1); '
                     f'received {n_frames}.')


class Processor(keras.layers.Layer):
  """Base class: `call` = `get_signal(**get_controls(*inputs))`.

  Subclasses implement `get_controls` (raw inputs -> dict of controls) and
  `get_signal` (controls -> signal). Processors do not autocast: DSP runs in
  float32 whatever the network's precision policy.

  Serialization: subclasses list their constructor arguments (stored as
  attributes of the same name) in `_config_args`, and those that hold
  functions (scaling functions) also in `_function_args`.
  """

  _config_args: Tuple[Text, ...] = ()
  _function_args: Tuple[Text, ...] = ()

  def __init__(self, name: Text, trainable: bool = False, **kwargs):
    super().__init__(name=name, trainable=trainable, autocast=False, **kwargs)

  def get_config(self) -> Dict[Text, Any]:
    config = super().get_config()
    for arg in self._config_args:
      value = getattr(self, arg)
      if arg in self._function_args:
        value = serialize_function(value)
      config[arg] = value
    return config

  @classmethod
  def from_config(cls, config: Dict[Text, Any]):
    config = dict(config)
    for arg in cls._function_args:
      config[arg] = deserialize_function(config[arg])
    return cls(**config)

  def call(self, *args, return_outputs_dict: bool = False,
           **kwargs) -> Union[tf.Tensor, TensorDict]:
    """Computes controls, then the signal.

    Args:
      *args: Inputs of `get_controls`.
      return_outputs_dict: Return `{'signal': ..., 'controls': ...}` instead
        of the signal alone.
      **kwargs: Keyword inputs of `get_controls`.

    Returns:
      The signal, or a dict with the signal and the controls.
    """
    kwargs.pop('training', None)
    kwargs.pop('mask', None)
    controls = self.get_controls(*args, **kwargs)
    signal = self.get_signal(**controls)
    if return_outputs_dict:
      return {'signal': signal, 'controls': controls}
    return signal

  def get_controls(self, *args: tf.Tensor, **kwargs: Any) -> TensorDict:
    """Converts raw inputs into a dict of controls for `get_signal`."""
    raise NotImplementedError

  def get_signal(self, *args: tf.Tensor, **kwargs: Any) -> tf.Tensor:
    """Renders controls into a signal."""
    raise NotImplementedError


@registration.configurable
class ProcessorGroup(dags.DAGLayer):
  """A DAG of processors whose last node's signal is the output.

  Example:
    ProcessorGroup(dag=[
        (synths.Harmonic(), ['amps', 'harmonic_distribution', 'f0_hz']),
        (synths.FilteredNoise(), ['noise_magnitudes']),
        (processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
    ])
  """

  def __init__(self, dag: dags.DAG, **kwarg_processors):
    super().__init__(dag, **kwarg_processors)
    self.processor_names = self.module_names

  @property
  def processors(self) -> Sequence[Processor]:
    """The processors of the group."""
    return self.modules

  def call(self, inputs: TensorDict, return_outputs_dict: bool = False,
           **kwargs) -> Union[tf.Tensor, TensorDict]:
    """Runs the DAG; returns the last signal (or signal and all outputs)."""
    controls = self.get_controls(inputs, **kwargs)
    signal = self.get_signal(controls)
    if return_outputs_dict:
      return {'signal': signal, 'controls': controls}
    return signal

  def get_controls(self, inputs: TensorDict, **kwargs) -> TensorDict:
    """The full nested dict of DAG outputs (every node's signal/controls)."""
    self.built = True
    return self.run_dag(inputs, **kwargs)

  def get_signal(self, dag_outputs: TensorDict) -> tf.Tensor:
    """The signal of the last node."""
    return dag_outputs['out']['signal']


# ------------------------------------------------------------------------------
# Routing processors
# ------------------------------------------------------------------------------
@registration.register
class Add(Processor):
  """Sums two signals."""

  def __init__(self, name: Text = 'add', **kwargs):
    super().__init__(name=name, **kwargs)

  def get_controls(self, signal_one, signal_two) -> TensorDict:
    return {'signal_one': signal_one, 'signal_two': signal_two}

  def get_signal(self, signal_one, signal_two) -> tf.Tensor:
    return signal_one + signal_two


@registration.register
class Mix(Processor):
  """Crossfades two signals with a time-varying mix level.

  Gains are `sqrt(mix)` and `1 - sqrt(1 - mix)` (as in ddsp 3.7.0; not an
  equal-power law), with `mix = sigmoid(nn_out_mix_level)` resampled to the
  signal length.
  """

  def __init__(self, name: Text = 'mix', **kwargs):
    super().__init__(name=name, **kwargs)

  def get_controls(self, signal_one, signal_two,
                   nn_out_mix_level) -> TensorDict:
    """Args: signals [B, N] or [B, N, C]; nn_out_mix_level [B, T, 1] logits."""
    signal_one = core.tf_float32(signal_one)
    signal_two = core.tf_float32(signal_two)
    n_time = signal_one.shape[1]
    if n_time != signal_two.shape[1]:
      raise ValueError(f'Mix signals must have the same length; received '
                       f'{signal_one.shape[1]} and {signal_two.shape[1]}.')
    mix_level = tf.nn.sigmoid(nn_out_mix_level)
    mix_level = core.resample(mix_level, n_time)
    if len(signal_one.shape) == 2:
      mix_level = mix_level[:, :, 0]  # Audio [B, N]: mix [B, N], not [B, N, 1].
    return {'signal_one': signal_one, 'signal_two': signal_two,
            'mix_level': mix_level}

  def get_signal(self, signal_one, signal_two, mix_level) -> tf.Tensor:
    # safe_sqrt: a saturated sigmoid gives exactly 0 or 1, where tf.sqrt's
    # gradient would be inf (NaN after the chain rule).
    mix_level_one = core.safe_sqrt(tf.abs(mix_level))
    mix_level_two = 1.0 - core.safe_sqrt(tf.abs(mix_level - 1.0))
    return mix_level_one * signal_one + mix_level_two * signal_two


@registration.register
class Crop(Processor):
  """Removes `2 * (frame_size // 2)` samples at the front, back or both ends."""

  _LOCATIONS = ('front', 'center', 'back')
  _config_args = ('frame_size', 'crop_location')

  def __init__(self, frame_size: int, crop_location: Text = 'back',
               name: Text = 'crop', **kwargs):
    super().__init__(name=name, **kwargs)
    self.frame_size = validation.positive_int(frame_size, 'frame_size')
    self.crop_location = validation.one_of(crop_location, 'crop_location',
                                           self._LOCATIONS)

  def get_controls(self, audio) -> TensorDict:
    return {'audio': audio}

  def get_signal(self, audio) -> tf.Tensor:
    half = self.frame_size // 2
    if not half:  # frame_size 1: nothing to crop (audio[:, :-0] is empty).
      return audio
    if self.crop_location == 'front':
      return audio[:, 2 * half:]
    if self.crop_location == 'center':
      return audio[:, half:-half]
    return audio[:, :-2 * half]
