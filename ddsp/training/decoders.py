"""Decoders: networks from conditioning features to synthesizer controls.

Outputs are raw (unscaled) network outputs [batch, n_frames, size]; the
synthesizers apply their scale functions (e.g. `exp_sigmoid`).
"""

from typing import Optional, Sequence, Text, Tuple

import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import registration
from ddsp.training import nn

tfkl = nn.tfkl
Splits = Sequence[Tuple[Text, int]]


# Floor of the initial harmonic amplitudes (exp_sigmoid's range starts at its
# threshold, 1e-7).
_MIN_INITIAL_HARMONIC = 1e-6


def harmonic_rolloff_bias(n_harmonics: int,
                          rolloff_db_per_octave: float) -> np.ndarray:
  """Raw harmonic-distribution values whose spectrum rolls off per octave.

  `exp_sigmoid(bias[k-1]) = exp_sigmoid(0) * 10**(-rolloff * log2(k) / 20)`
  for harmonics k = 1..n (floored at 1e-6): a falling spectrum like that of
  most instruments (12 dB/octave gives amplitudes of about 1/k**2) rather
  than the flat one of zero raw values.

  Args:
    n_harmonics: Size of the distribution.
    rolloff_db_per_octave: Fall of the harmonic amplitudes in dB per octave
      (>= 0).

  Returns:
    float32 [n_harmonics] raw values for `core.exp_sigmoid`.

  Raises:
    ValueError: for a negative roll-off or non-positive size.
  """
  if n_harmonics < 1 or rolloff_db_per_octave < 0:
    raise ValueError('harmonic_rolloff_bias needs n_harmonics >= 1 and '
                     f'rolloff_db_per_octave >= 0; got {n_harmonics}, '
                     f'{rolloff_db_per_octave}.')
  k = np.arange(1, n_harmonics + 1)
  amplitudes = float(core.exp_sigmoid(0.0)) * 10.0**(
      -rolloff_db_per_octave * np.log2(k) / 20.0)
  amplitudes = np.maximum(amplitudes, _MIN_INITIAL_HARMONIC)
  return core.exp_sigmoid_inverse(amplitudes).numpy()


@registration.register
class RnnFcDecoder(nn.OutputSplitsLayer):
  """Per-input FC stacks, an RNN, and an FC stack over [stacks, RNN].

  `h_i = FcStack_i(x_i)`; `r = rnn(concat(h))`;
  `out = dense_out(FcStack(concat(h + [r])))` split into `output_splits`
  (ddsp paper, Engel et al. 2020, Fig. 2).

  Inputs: one [B, T, C_i] tensor per input key (f0/loudness [B, T, 1], z
  [B, T, z_dims]). Outputs: [B, T, size] per split. With `stateless=True` the
  RNN state is an explicit input and output `state` ([B, rnn_channels] for a
  GRU), for streaming one frame at a time (on-device export).

  `initial_harmonic_rolloff_db` (dB per octave; None: ddsp 3.7.0's zero
  bias) initialises the bias of the 'harmonic_distribution' split so that,
  through `exp_sigmoid`, harmonic k starts `rolloff * log2(k)` dB below the
  first (`harmonic_rolloff_bias`), instead of every harmonic at the same
  level; see the README, "Learning quality".
  """

  _config_args = ('rnn_channels', 'rnn_type', 'ch', 'layers_per_stack',
                  'stateless', 'input_keys', 'output_splits',
                  'initial_harmonic_rolloff_db')

  def __init__(self,
               rnn_channels: int = 512,
               rnn_type: Text = 'gru',
               ch: int = 512,
               layers_per_stack: int = 3,
               stateless: bool = False,
               input_keys: Sequence[Text] = ('ld_scaled', 'f0_scaled', 'z'),
               output_splits: Splits = (('amps', 1),
                                        ('harmonic_distribution', 40)),
               initial_harmonic_rolloff_db: Optional[float] = None,
               **kwargs):
    input_keys = [k for k in input_keys if k != 'state']
    n_stacks = len(input_keys)
    if stateless:
      input_keys.append('state')
    sizes = dict((name, size) for name, size in output_splits)
    output_bias = None
    if (initial_harmonic_rolloff_db is not None and
        'harmonic_distribution' in sizes):
      output_bias = {'harmonic_distribution': harmonic_rolloff_bias(
          sizes['harmonic_distribution'], initial_harmonic_rolloff_db)}
    super().__init__(input_keys=input_keys, output_splits=output_splits,
                     output_bias=output_bias, **kwargs)
    self.initial_harmonic_rolloff_db = initial_harmonic_rolloff_db
    if stateless:
      self.output_keys.append('state')
    self.rnn_channels, self.rnn_type, self.ch = rnn_channels, rnn_type, ch
    self.layers_per_stack, self.stateless = layers_per_stack, stateless

    def stack():
      return nn.FcStack(ch, layers_per_stack)

    self.input_stacks = [stack() for _ in range(n_stacks)]
    rnn_class = nn.StatelessRnn if stateless else nn.Rnn
    self.rnn = rnn_class(rnn_channels, rnn_type)
    self.out_stack = stack()

  def get_config(self):
    config = super().get_config()
    config['input_keys'] = [k for k in self.input_keys if k != 'state']
    return config

  def call(self, *inputs, **unused_kwargs):
    if not self.stateless:
      return super().call(*inputs)
    outputs, state = self.compute_output(*inputs)
    outputs = nn.split_to_dict(self.dense_out(outputs), self.output_splits)
    outputs['state'] = state
    return outputs

  def compute_output(self, *inputs):
    if self.stateless:
      inputs, state = inputs[:-1], inputs[-1]
    hidden = [stack(x) for stack, x in zip(self.input_stacks, inputs)]
    x = tf.concat(hidden, axis=-1)
    if self.stateless:
      x, new_state = self.rnn(x, state)
    else:
      x = self.rnn(x)
    x = self.out_stack(tf.concat(hidden + [x], axis=-1))
    return (x, new_state) if self.stateless else x


def _trunk(net, norm: bool):
  """Default `net` (identity) and optional layer norm of a MIDI decoder."""
  return (net if net is not None else nn.Identity(),
          nn.Normalize('layer') if norm else None)


@registration.register
class MidiDecoder(nn.DictLayer):
  """Decodes MIDI-like latents to f0 (MIDI) and loudness (dB).

  `net(z_pitch)` (or `net([z_pitch, z])`), optional layer norm, Dense(2) ->
  (f0_midi, loudness); f0_midi += z_pitch if `f0_residual`; loudness =
  30 * loudness - 70 if `center_loudness`. Inputs and outputs [B, T, 1].
  """

  _config_args = ('net', 'f0_residual', 'center_loudness', 'norm')

  def __init__(self, net=None, f0_residual: bool = True,
               center_loudness: bool = True, norm: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.net, self.norm_layer = _trunk(net, norm)
    self.f0_residual = f0_residual
    self.center_loudness = center_loudness
    self.norm = norm
    self.dense_out = tfkl.Dense(2)

  def call(self, z_pitch, z_vel=None, z=None) -> ['f0_midi', 'loudness']:  # noqa: F821
    del z_vel
    x = self.net(z_pitch if z is None else [z_pitch, z])
    x = x['out'] if isinstance(x, dict) else x
    if self.norm_layer is not None:
      x = self.norm_layer(x)
    f0_midi, loudness = tf.split(self.dense_out(x), 2, axis=-1)
    if self.f0_residual:
      f0_midi += z_pitch
    if self.center_loudness:
      loudness = loudness * 30.0 - 70.0
    return f0_midi, loudness


@registration.register
class MidiToHarmonicDecoder(nn.DictLayer):
  """Decodes MIDI-like latents to harmonic synthesizer controls.

  `net(z_pitch)` (or with z), optional layer norm, Dense split into
  `output_splits`; f0_midi += z_pitch if `f0_residual`; adds
  `f0_hz = midi_to_hz(f0_midi, midi_zero_silence)`.
  """

  _config_args = ('net', 'f0_residual', 'norm', 'output_splits',
                  'midi_zero_silence')

  def __init__(self, net=None, f0_residual: bool = True, norm: bool = True,
               output_splits: Splits = (('f0_midi', 1), ('amplitudes', 1),
                                        ('harmonic_distribution', 60),
                                        ('magnitudes', 65)),
               midi_zero_silence: bool = True, **kwargs):
    output_keys = [name for name, _ in output_splits] + ['f0_hz']
    super().__init__(output_keys=output_keys, **kwargs)
    self.net, self.norm_layer = _trunk(net, norm)
    self.f0_residual = f0_residual
    self.norm = norm
    self.output_splits = [tuple(split) for split in output_splits]
    self.midi_zero_silence = midi_zero_silence
    self.dense_out = tfkl.Dense(sum(size for _, size in output_splits))

  def call(self, z_pitch, z=None):
    x = self.net(z_pitch if z is None else [z_pitch, z])
    x = x['out'] if isinstance(x, dict) else x
    if self.norm_layer is not None:
      x = self.norm_layer(x)
    outputs = nn.split_to_dict(self.dense_out(x), self.output_splits)
    if self.f0_residual:
      outputs['f0_midi'] += z_pitch
    outputs['f0_hz'] = core.midi_to_hz(outputs['f0_midi'],
                                       midi_zero_silence=self.midi_zero_silence)
    return outputs


@registration.register
class DilatedConvDecoder(nn.OutputSplitsLayer):
  """Dilated convolution stack (optionally upsampling and conditioned on z).

  Inputs `input_keys` are concatenated into x [B, T, C]; if any
  `conditioning_keys`, they are concatenated into z (after an optional
  `precondition_stack`) and condition the norms. A `resample_stride` > 1
  upsamples time. Output [B, T * stride, size] per split.

  Raises:
    ValueError: If `precondition_stack` is given without conditioning keys.
  """

  _config_args = ('ch', 'kernel_size', 'layers_per_stack', 'stacks',
                  'dilation', 'norm_type', 'resample_stride',
                  'stacks_per_resample', 'resample_after_convolve',
                  'input_keys', 'output_splits', 'conditioning_keys',
                  'precondition_stack', 'spectral_norm', 'ortho_init')

  def __init__(self,
               ch: int = 256,
               kernel_size: int = 3,
               layers_per_stack: int = 5,
               stacks: int = 2,
               dilation: int = 2,
               norm_type: Optional[Text] = 'layer',
               resample_stride: int = 1,
               stacks_per_resample: int = 1,
               resample_after_convolve: bool = True,
               input_keys: Sequence[Text] = ('ld_scaled', 'f0_scaled'),
               output_splits: Splits = (('amps', 1),
                                        ('harmonic_distribution', 60)),
               conditioning_keys: Sequence[Text] = ('z'),
               precondition_stack=None,
               spectral_norm: bool = False,
               ortho_init: bool = False,
               **kwargs):
    # ('z') is the string 'z', i.e. the keys ['z'] (as in ddsp 3.7.0).
    conditioning_keys = list(core.make_iterable(conditioning_keys or []))
    if precondition_stack is not None and not conditioning_keys:
      raise ValueError('DilatedConvDecoder: `precondition_stack` needs '
                       '`conditioning_keys` to condition on.')
    own_input_keys = [k for k in input_keys if k not in conditioning_keys]
    super().__init__(input_keys=own_input_keys + conditioning_keys,
                     output_splits=output_splits, **kwargs)
    self.ch, self.kernel_size = ch, kernel_size
    self.layers_per_stack, self.stacks, self.dilation = (layers_per_stack,
                                                         stacks, dilation)
    self.norm_type, self.resample_stride = norm_type, resample_stride
    self.stacks_per_resample = stacks_per_resample
    self.resample_after_convolve = resample_after_convolve
    self.conditioning_keys = conditioning_keys
    self.n_conditioning = len(conditioning_keys)
    self.precondition_stack = precondition_stack
    self.spectral_norm, self.ortho_init = spectral_norm, ortho_init
    self.conditional = bool(conditioning_keys)
    self.dilated_conv_stack = nn.DilatedConvStack(
        ch=ch, kernel_size=kernel_size, layers_per_stack=layers_per_stack,
        stacks=stacks, dilation=dilation, norm_type=norm_type,
        resample_type='upsample' if resample_stride > 1 else None,
        resample_stride=resample_stride,
        stacks_per_resample=stacks_per_resample,
        resample_after_convolve=resample_after_convolve,
        spectral_norm=spectral_norm, ortho_init=ortho_init,
        conditional=self.conditional)

  def get_config(self):
    config = super().get_config()
    config['input_keys'] = self.input_keys[:len(self.input_keys) -
                                           self.n_conditioning]
    return config

  def compute_output(self, *inputs):
    n_inputs = len(inputs) - self.n_conditioning
    x = tf.concat(inputs[:n_inputs], axis=-1)
    if not self.conditional:
      return self.dilated_conv_stack(x)
    z = tf.concat(inputs[n_inputs:], axis=-1)
    if self.precondition_stack is not None:
      z = self.precondition_stack(z)
    return self.dilated_conv_stack([x, z])
