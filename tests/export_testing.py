"""Helpers for the export tests: a stand-in decoder and test bundles.

`StandInDecoder` stands in for `RnnFcDecoder(stateless=True)` with
models/vst/vst.gin sizes: the same structure (an FC stack per input, a GRU on
their concatenation, an FC stack on [stacks, GRU output], a dense layer split
into the controls) and dict interface, with random weights, until the training
package's decoder is merged.
"""

import keras
import tensorflow as tf

from ddsp import synths
from ddsp.export import bundle
from ddsp.export import control_model
from ddsp.export import streaming_synth

VST_SPLITS = (('amps', 1), ('harmonic_distribution', 60),
              ('noise_magnitudes', 65))


def _fc_stack(ch: int, layers: int) -> keras.Sequential:
  stack = []
  for _ in range(layers):
    stack += [keras.layers.Dense(ch), keras.layers.LayerNormalization(),
              keras.layers.Activation(lambda x: tf.nn.leaky_relu(x, 0.2))]
  return keras.Sequential(stack)


class StandInDecoder(keras.layers.Layer):
  """dict of [B, T, 1] features and 'state' [B, rnn_channels] -> raw controls
  [B, T, size] per split and the new 'state'."""

  def __init__(self, input_keys=('pw_scaled', 'f0_scaled'), rnn_channels=512,
               ch=256, layers_per_stack=1, output_splits=VST_SPLITS, seed=0,
               **kwargs):
    super().__init__(**kwargs)
    keras.utils.set_random_seed(seed)
    self.input_keys = tuple(input_keys)
    self.rnn_channels = rnn_channels
    self.output_splits = tuple(output_splits)
    self.stacks = [_fc_stack(ch, layers_per_stack) for _ in input_keys]
    self.rnn = keras.layers.GRU(rnn_channels, return_sequences=True,
                                return_state=True)
    self.out_stack = _fc_stack(ch, layers_per_stack)
    self.dense_out = keras.layers.Dense(sum(s for _, s in output_splits))

  def call(self, inputs):
    hidden = [stack(inputs[k]) for stack, k in zip(self.stacks,
                                                   self.input_keys)]
    rnn_out, state = self.rnn(tf.concat(hidden, -1),
                              initial_state=inputs['state'])
    y = self.dense_out(self.out_stack(tf.concat(hidden + [rnn_out], -1)))
    outputs = dict(zip([k for k, _ in self.output_splits],
                       tf.split(y, [s for _, s in self.output_splits], -1)))
    outputs['state'] = state
    return outputs


def build(input_keys=('pw_scaled', 'f0_scaled'), seed=0, **kwargs):
  """A built StandInDecoder (one call on zeros)."""
  decoder = StandInDecoder(input_keys, seed=seed, **kwargs)
  features = {k: tf.zeros([1, 1, 1]) for k in input_keys}
  features['state'] = tf.zeros([1, decoder.rnn_channels])
  decoder(features)
  return decoder


def control_function(input_keys=('f0_scaled', 'pw_scaled'), seed=0):
  """Control model `tf.function` of a stand-in decoder (vst.gin sizes)."""
  decoder = build(input_keys=tuple(reversed(input_keys)), seed=seed)
  return control_model.control_function(
      decoder, decoder.rnn_channels, synths.Harmonic(sample_rate=16000),
      synths.FilteredNoise(), input_keys)


def build_bundle(save_dir, input_keys=('f0_scaled', 'pw_scaled'), seed=0,
                 **synth_kwargs):
  """A bundle of the stand-in decoder; `synth_kwargs` go to SynthConfig,
  except 'quantization' and 'calibration_audio'."""
  options = {k: synth_kwargs.pop(k) for k in ('quantization',
                                              'calibration_audio')
             if k in synth_kwargs}
  return bundle.build_bundle(
      save_dir, control_function(input_keys, seed), input_keys, 512,
      streaming_synth.SynthConfig(**synth_kwargs), **options)
