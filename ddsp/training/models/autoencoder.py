"""Autoencoder: features -> (encoder) -> decoder -> synthesizers -> audio."""

from typing import Any, Dict, Text

import keras
import tensorflow as tf

from ddsp import core
from ddsp.training.models import model

TensorDict = Dict[Text, tf.Tensor]


class Autoencoder(model.Model):
  """The DDSP autoencoder (Engel et al., ICLR 2020).

  `preprocessor` scales the conditioning (f0, loudness), the optional
  `encoder` adds a latent `z`, the `decoder` predicts synthesizer controls
  and the `processor_group` renders audio from them. Losses (e.g.
  `SpectralLoss`, named `spectral_loss`) compare `features['audio']` with the
  synthesized audio, in training only.

  Outputs of `call`: the processor group's full DAG dict (every feature fed
  to it, also under `inputs`; each processor's `{'signal', 'controls'}` under
  its name; `out`, the last processor's) plus `audio_synth` [B, n_samples].
  """

  def __init__(self, preprocessor=None, encoder=None, decoder=None,
               processor_group=None, losses=None, **kwargs):
    super().__init__(**kwargs)
    self.preprocessor = preprocessor
    self.encoder = encoder
    self.decoder = decoder
    self.processor_group = processor_group
    self.loss_objs = list(core.make_iterable(losses))

  def encode(self, features: TensorDict, training: bool = True) -> TensorDict:
    """Adds preprocessor and encoder outputs to `features` (in place)."""
    if self.preprocessor is not None:
      features.update(self.preprocessor(features, training=training))
    if self.encoder is not None:
      features.update(self.encoder(features))
    return features

  def decode(self, features: TensorDict, training: bool = True) -> tf.Tensor:
    """Adds decoder outputs to `features`; returns the synthesized audio."""
    features.update(self.decoder(features, training=training))
    return self.processor_group(features)

  def get_audio_from_outputs(self, outputs: TensorDict) -> tf.Tensor:
    return outputs['audio_synth']

  def call(self, features: TensorDict, training: bool = True) -> TensorDict:
    features = self.encode(features, training=training)
    features.update(self.decoder(features, training=training))
    processor_outputs = self.processor_group(features,
                                             return_outputs_dict=True)
    outputs = processor_outputs['controls']
    outputs['audio_synth'] = processor_outputs['signal']
    if training:
      self._update_losses_dict(self.loss_objs, features['audio'],
                               outputs['audio_synth'])
    return outputs

  def get_config(self) -> Dict[Text, Any]:
    config = super().get_config()
    serialize = keras.saving.serialize_keras_object
    config.update(preprocessor=serialize(self.preprocessor),
                  encoder=serialize(self.encoder),
                  decoder=serialize(self.decoder),
                  processor_group=serialize(self.processor_group),
                  losses=[serialize(loss) for loss in self.loss_objs])
    return config

  @classmethod
  def from_config(cls, config: Dict[Text, Any]):
    config = dict(config)
    deserialize = keras.saving.deserialize_keras_object
    for key in ('preprocessor', 'encoder', 'decoder', 'processor_group'):
      config[key] = deserialize(config[key])
    config['losses'] = [deserialize(loss) for loss in config['losses']]
    return cls(**config)
