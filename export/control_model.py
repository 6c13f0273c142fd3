"""Control model: one frame of features + recurrent state -> synth controls.

`control_function` wraps a stateless decoder (an `RnnFcDecoder` with
`stateless=True`, or anything with its interface) into the `tf.function` that
ddsp 3.7.0's `VSTStatelessPredictControls` saves and the DDSP-VST plugin
loads: inputs `f0_scaled` [1], `pw_scaled` (or `ld_scaled`) [1] and `state`
[rnn_channels]; outputs the tuple (amps [1], harmonic_distribution
[n_harmonics], noise_magnitudes [n_noise_bands], state [rnn_channels]).

The outputs are the synths' controls, not raw network outputs: the decoder's
outputs go through `Harmonic.get_controls` (exp_sigmoid, then the distribution
Nyquist-masked at f0 and normalised) and `FilteredNoise.get_controls`
(exp_sigmoid(x - 5) by default), so the scaling is exactly the trained
model's processors'.
"""

from typing import Callable, Dict, Sequence, Text

import tensorflow as tf

from ddsp import synths
from ddsp.training import preprocessing

CONTROL_OUTPUTS = ('amps', 'harmonic_distribution', 'noise_magnitudes',
                   'state')

Decoder = Callable[[Dict[Text, tf.Tensor]], Dict[Text, tf.Tensor]]


def synth_controls(outputs: Dict[Text, tf.Tensor], f0_scaled: tf.Tensor,
                   harmonic: synths.Harmonic,
                   filtered_noise: synths.FilteredNoise):
  """(amps [1], harmonic_distribution [H], noise_magnitudes [N]) of one
  frame of raw decoder outputs, scaled by the synths' `get_controls`.

  Args:
    outputs: Raw 'amps', 'harmonic_distribution', 'noise_magnitudes', each
      [1, 1, size].
    f0_scaled: [1, 1, 1] f0 as MIDI / 127; harmonics >= Nyquist are masked.
    harmonic, filtered_noise: The model's synths.
  """
  f0_hz = preprocessing.inv_scale_f0_hz(f0_scaled)
  harmonic_controls = harmonic.get_controls(
      outputs['amps'], outputs['harmonic_distribution'], f0_hz)
  noise_controls = filtered_noise.get_controls(outputs['noise_magnitudes'])
  return (tf.reshape(harmonic_controls['amplitudes'], [1]),
          tf.reshape(harmonic_controls['harmonic_distribution'], [-1]),
          tf.reshape(noise_controls['magnitudes'], [-1]))


def control_function(decoder: Decoder,
                     state_size: int,
                     harmonic: synths.Harmonic,
                     filtered_noise: synths.FilteredNoise,
                     input_keys: Sequence[Text] = ('f0_scaled', 'pw_scaled'),
                     ) -> tf.types.experimental.GenericFunction:
  """`tf.function` of one frame of features and state -> controls and state.

  Args:
    decoder: Maps a dict of [1, 1, 1] features (keys `input_keys`) and
      'state' [1, state_size] to a dict with raw 'amps' [1, 1, 1],
      'harmonic_distribution' [1, 1, H], 'noise_magnitudes' [1, 1, N] and the
      new 'state' [1, state_size].
    state_size: Recurrent state size (`RnnFcDecoder.rnn_channels` for a GRU).
    harmonic: The model's harmonic synth (its `get_controls` scales).
    filtered_noise: The model's noise synth (its `get_controls` scales).
    input_keys: Feature inputs, in signature order; must include
      'f0_scaled' (the harmonic distribution is masked at its f0).

  Returns:
    A `tf.function` with input signature `(*input_keys, state)`, each [1]
    except state [state_size], returning the tuple `CONTROL_OUTPUTS`
    (amps [1], harmonic_distribution [H], noise_magnitudes [N], state).
  """
  input_keys = list(input_keys)
  if 'f0_scaled' not in input_keys:
    raise ValueError(f'The control model needs `f0_scaled` among its inputs; '
                     f'received input_keys={input_keys}.')
  if state_size < 1:
    raise ValueError(f'Received an invalid value for `state_size`, expected a '
                     f'positive integer. Received: state_size={state_size}')
  specs = [tf.TensorSpec([1], tf.float32, name=key) for key in input_keys]
  specs.append(tf.TensorSpec([state_size], tf.float32, name='state'))

  def call(*inputs):
    features = {key: tf.reshape(x, [1, 1, 1])
                for key, x in zip(input_keys, inputs)}
    features['state'] = tf.reshape(inputs[-1], [1, state_size])
    outputs = decoder(features)
    return synth_controls(outputs, features['f0_scaled'], harmonic,
                          filtered_noise) + (
                              tf.reshape(outputs['state'], [state_size]),)

  return tf.function(call, input_signature=specs, autograph=False)
