"""Audio effects: processors that transform audio [batch, n_samples].

Reverbs convolve with an impulse response (IR) that is either given as a
control, or learned (`trainable=True`) as a variable shared by the batch.
"""

from typing import Callable, Optional, Text

import keras
import tensorflow as tf

from ddsp import core
from ddsp import processors
from ddsp import registration
from ddsp import synths
from ddsp import validation


def _tile_to_batch(ir: tf.Tensor, audio: tf.Tensor) -> tf.Tensor:
  """Repeats a [1, ...] IR along the batch axis of `audio`."""
  multiples = tf.concat([tf.shape(audio)[:1],
                         tf.ones([len(ir.shape) - 1], tf.int32)], 0)
  return tf.tile(ir, multiples)


@registration.register
class Reverb(processors.Processor):
  """Convolutional reverb with a given or learned impulse response.

  The IR's first tap is zeroed (the dry path is added separately, if
  `add_dry`); the convolution is causal (no delay compensation).
  """

  _config_args = ('reverb_length', 'add_dry', 'ir_scale')

  def __init__(self,
               trainable: bool = False,
               reverb_length: int = 48000,
               add_dry: bool = True,
               name: Text = 'reverb',
               ir_scale: float = 1.0,
               **kwargs):
    """Constructor.

    Args:
      trainable: Learn the IR as a variable (else the IR is a control).
      reverb_length: Samples in the learned IR.
      add_dry: Add the input (dry) signal to the reverberated (wet) signal.
      name: Layer name.
      ir_scale: A learned IR is `ir_scale * variable` (the variable starts at
        N(0, (1e-6 / ir_scale)**2), so the initial IR does not depend on
        it). Adam moves every tap of the variable by about the learning rate
        per step whatever its gradient, so with 1.0 (ddsp 3.7.0) the wet
        signal of 48000 taps outgrows the dry one within tens of steps;
        1e-3 (`models/solo_instrument.gin`) lets it grow 1000x slower. See
        the README, "Learning quality".
      **kwargs: Keras layer keywords.

    Raises:
      ParameterError: if `ir_scale` is not positive.
    """
    super().__init__(name=name, trainable=trainable, **kwargs)
    self.reverb_length = validation.positive_int(reverb_length,
                                                 'reverb_length')
    self.add_dry = add_dry
    self.ir_scale = validation.positive_number(ir_scale, 'ir_scale')

  def build(self, unused_input_shape=None):
    if self.trainable:
      self._ir = self.add_weight(
          name='ir', shape=[self.reverb_length],
          initializer=keras.initializers.RandomNormal(
              mean=0.0, stddev=1e-6 / self.ir_scale))
    self.built = True

  def _build_learned_variables(self):
    """Builds the learned variables on first use (also outside `__call__`)."""
    if not self.built:
      self.build()

  def _mask_dry_ir(self, ir: tf.Tensor) -> tf.Tensor:
    """Zeroes the first tap of a [B, L] IR (the dry path is added apart)."""
    return tf.concat([tf.zeros_like(ir[:, 0:1]), ir[:, 1:]], axis=1)

  def get_controls(self, audio, ir=None) -> processors.TensorDict:
    """Args: audio [B, N]; ir [B, L] (only when not trainable)."""
    audio = core.check_rank(audio, 2, 'audio', '[batch, n_samples]')
    if self.trainable:
      self._build_learned_variables()
      ir = _tile_to_batch(self.ir_scale * self._ir[tf.newaxis, :], audio)
    elif ir is None:
      raise ValueError('Must provide "ir" tensor if Reverb trainable=False.')
    return {'audio': audio, 'ir': ir}

  def get_signal(self, audio, ir) -> tf.Tensor:
    """Convolves audio [B, N] with ir [L], [B, L] or [B, L, 1] -> [B, N]."""
    ir = core.tf_float32(ir)
    if len(ir.shape) == 1:
      ir = ir[tf.newaxis, :]
    elif len(ir.shape) == 3:
      ir = ir[:, :, 0]
    ir = self._mask_dry_ir(ir)
    wet = core.fft_convolve(audio, ir, padding='same', delay_compensation=0)
    return wet + audio if self.add_dry else wet


@registration.register
class ExpDecayReverb(Reverb):
  """Reverb whose IR is exponentially decaying uniform noise.

  `ir = scale_fn(gain) * exp(-(2 + exp(decay)) * t) * noise` with t in [0, 1]
  over the IR; the noise is redrawn on every call.
  """

  _config_args = ('reverb_length', 'scale_fn', 'add_dry')
  _function_args = ('scale_fn',)

  def __init__(self,
               trainable: bool = False,
               reverb_length: int = 48000,
               scale_fn: Optional[Callable] = core.exp_sigmoid,
               add_dry: bool = True,
               name: Text = 'exp_decay_reverb',
               **kwargs):
    super().__init__(trainable=trainable, reverb_length=reverb_length,
                     add_dry=add_dry, name=name, **kwargs)
    self.scale_fn = validation.optional_callable(scale_fn, 'scale_fn')

  def build(self, unused_input_shape=None):
    if self.trainable:
      self._gain = self.add_weight(
          name='gain', shape=[1],
          initializer=keras.initializers.Constant(2.0))
      self._decay = self.add_weight(
          name='decay', shape=[1],
          initializer=keras.initializers.Constant(4.0))
    self.built = True

  def _get_ir(self, gain: tf.Tensor, decay: tf.Tensor) -> tf.Tensor:
    """IR [B, reverb_length] from gain and decay [B, 1]."""
    gain = self.scale_fn(gain) if self.scale_fn is not None else gain
    decay_exponent = 2.0 + tf.exp(decay)
    time = tf.linspace(0.0, 1.0, self.reverb_length)[tf.newaxis, :]
    noise = tf.random.uniform([1, self.reverb_length], minval=-1.0,
                              maxval=1.0)
    return gain * tf.exp(-decay_exponent * time) * noise

  def get_controls(self, audio, gain=None,
                   decay=None) -> processors.TensorDict:
    """Args: audio [B, N]; gain, decay [B, 1] raw (only when not trainable)."""
    audio = core.check_rank(audio, 2, 'audio', '[batch, n_samples]')
    if self.trainable:
      self._build_learned_variables()
      ir = _tile_to_batch(
          self._get_ir(self._gain[tf.newaxis, :], self._decay[tf.newaxis, :]),
          audio)
    else:
      if gain is None or decay is None:
        raise ValueError('Must provide "gain" and "decay" tensors if '
                         'ExpDecayReverb trainable=False.')
      ir = self._get_ir(core.tf_float32(gain), core.tf_float32(decay))
    return {'audio': audio, 'ir': ir}


@registration.register
class FilteredNoiseReverb(Reverb):
  """Reverb whose IR is time-varying filtered noise (a `FilteredNoise` synth).

  The noise is redrawn on every call.
  """

  _config_args = ('reverb_length', 'window_size', 'n_frames',
                  'n_filter_banks', 'scale_fn', 'initial_bias', 'add_dry')
  _function_args = ('scale_fn',)

  def __init__(self,
               trainable: bool = False,
               reverb_length: int = 48000,
               window_size: int = 257,
               n_frames: int = 1000,
               n_filter_banks: int = 16,
               scale_fn: Optional[Callable] = core.exp_sigmoid,
               initial_bias: float = -3.0,
               add_dry: bool = True,
               name: Text = 'filtered_noise_reverb',
               **kwargs):
    """Constructor.

    Args:
      trainable: Learn the noise magnitudes (else they are a control).
      reverb_length: Samples in the IR.
      window_size: FIR window of the noise filter.
      n_frames: Frames of learned magnitudes over the IR.
      n_filter_banks: Frequency bands of learned magnitudes.
      scale_fn: Scaling of raw magnitudes.
      initial_bias: Added to raw magnitudes before `scale_fn`.
      add_dry: Add the dry signal.
      name: Layer name.
      **kwargs: Keras layer keywords.
    """
    super().__init__(trainable=trainable, reverb_length=reverb_length,
                     add_dry=add_dry, name=name, **kwargs)
    self.window_size = validation.integer(window_size, 'window_size')
    self.n_frames = validation.positive_int(n_frames, 'n_frames')
    self.n_filter_banks = validation.positive_int(n_filter_banks,
                                                  'n_filter_banks')
    self.scale_fn = validation.optional_callable(scale_fn, 'scale_fn')
    self.initial_bias = initial_bias
    self._synth = synths.FilteredNoise(n_samples=reverb_length,
                                       window_size=window_size,
                                       scale_fn=scale_fn,
                                       initial_bias=initial_bias)

  def build(self, unused_input_shape=None):
    if self.trainable:
      self._magnitudes = self.add_weight(
          name='magnitudes', shape=[self.n_frames, self.n_filter_banks],
          initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.01))
    self.built = True

  def get_controls(self, audio, magnitudes=None) -> processors.TensorDict:
    """Args: audio [B, N]; magnitudes [B, F, K] raw (when not trainable)."""
    audio = core.check_rank(audio, 2, 'audio', '[batch, n_samples]')
    if self.trainable:
      self._build_learned_variables()
      ir = _tile_to_batch(self._synth(self._magnitudes[tf.newaxis, :, :]),
                          audio)
    else:
      if magnitudes is None:
        raise ValueError('Must provide "magnitudes" tensor if '
                         'FilteredNoiseReverb trainable=False.')
      ir = self._synth(magnitudes)
    return {'audio': audio, 'ir': ir}


@registration.register
class FIRFilter(processors.Processor):
  """Linear-phase FIR filter with time-varying magnitude responses."""

  _config_args = ('window_size', 'scale_fn')
  _function_args = ('scale_fn',)

  def __init__(self,
               window_size: int = 257,
               scale_fn: Optional[Callable] = core.exp_sigmoid,
               name: Text = 'fir_filter',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.window_size = validation.integer(window_size, 'window_size')
    self.scale_fn = validation.optional_callable(scale_fn, 'scale_fn')

  def get_controls(self, audio, magnitudes) -> processors.TensorDict:
    """Args: audio [B, N]; magnitudes [B, T, n_bands] raw."""
    audio = core.check_rank(audio, 2, 'audio', '[batch, n_samples]')
    magnitudes = core.check_rank(magnitudes, 3, 'magnitudes',
                                 '[batch, n_frames, n_bands]')
    if self.scale_fn is not None:
      magnitudes = self.scale_fn(magnitudes)
    return {'audio': audio, 'magnitudes': magnitudes}

  def get_signal(self, audio, magnitudes) -> tf.Tensor:
    """Filtered audio [B, N]."""
    return core.frequency_filter(audio, magnitudes,
                                 window_size=self.window_size)


@keras.saving.register_keras_serializable('ddsp')
class ModDelay(processors.Processor):
  """Modulated delay (chorus, flanger, vibrato).

  Not gin-registered (as in ddsp 3.7.0). The delay spans `center_ms` to `center_ms + depth_ms` as the scaled phase
  goes from 0 to 1 (not center +- depth, as in ddsp 3.7.0).
  """

  _config_args = ('center_ms', 'depth_ms', 'sample_rate', 'gain_scale_fn',
                  'phase_scale_fn', 'add_dry')
  _function_args = ('gain_scale_fn', 'phase_scale_fn')

  def __init__(self,
               center_ms: float = 15.0,
               depth_ms: float = 10.0,
               sample_rate: int = 16000,
               gain_scale_fn: Optional[Callable] = core.exp_sigmoid,
               phase_scale_fn: Optional[Callable] = tf.nn.sigmoid,
               add_dry: bool = True,
               name: Text = 'mod_delay',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.center_ms = validation.non_negative_number(center_ms, 'center_ms')
    self.depth_ms = validation.non_negative_number(depth_ms, 'depth_ms')
    self.sample_rate = validation.positive_number(sample_rate, 'sample_rate')
    if int(sample_rate / 1000.0 * (center_ms + depth_ms)) < 1:
      raise validation.invalid(
          'depth_ms', 'a delay range (center_ms + depth_ms) of at least one '
          f'sample at {sample_rate:g} Hz', depth_ms)
    self.gain_scale_fn = validation.optional_callable(gain_scale_fn,
                                                      'gain_scale_fn')
    self.phase_scale_fn = validation.optional_callable(phase_scale_fn,
                                                       'phase_scale_fn')
    self.add_dry = add_dry

  def get_controls(self, audio, gain, phase) -> processors.TensorDict:
    """Args: audio [B, N]; gain [B, N, 1] and phase [B, N, 1] raw."""
    audio = core.check_rank(audio, 2, 'audio', '[batch, n_samples]')
    gain = core.tf_float32(gain)
    phase = core.tf_float32(phase)
    if self.gain_scale_fn is not None:
      gain = self.gain_scale_fn(gain)
    if self.phase_scale_fn is not None:
      phase = self.phase_scale_fn(phase)
    return {'audio': audio, 'gain': gain, 'phase': phase}

  def get_signal(self, audio, gain, phase) -> tf.Tensor:
    """Delayed (and dry) audio [B, N]."""
    max_delay_ms = self.center_ms + self.depth_ms
    max_length_samples = int(self.sample_rate / 1000.0 * max_delay_ms)
    depth_phase = self.depth_ms / max_delay_ms
    center_phase = self.center_ms / max_delay_ms
    phase = phase * depth_phase + center_phase
    wet_audio = core.variable_length_delay(audio=audio, phase=phase,
                                           max_length=max_length_samples)
    if len(gain.shape) == 3:
      gain = gain[..., 0]
    wet_audio *= gain
    return wet_audio + audio if self.add_dry else wet_audio
