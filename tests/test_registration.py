"""Gin names and Keras serialization of ddsp layers and functions."""

import keras
import numpy as np
import pytest

import ddsp
from ddsp import registration
import gin

# Gin names used by ddsp 3.7.0 configs, resolvable with their module prefix.
REGISTERED = [
    'synths.TensorToAudio', 'synths.Harmonic', 'synths.FilteredNoise',
    'synths.Wavetable', 'synths.Sinusoidal', 'effects.Reverb',
    'effects.ExpDecayReverb', 'effects.FilteredNoiseReverb',
    'effects.FIRFilter', 'processors.ProcessorGroup', 'processors.Add',
    'processors.Mix', 'processors.Crop', 'dags.DAGLayer', 'losses.LossGroup',
    'losses.SpectralLoss', 'losses.EmbeddingLoss',
    'losses.PretrainedCREPEEmbeddingLoss', 'losses.ParamLoss',
    'losses.FilteredNoiseConsistencyLoss', 'losses.HarmonicConsistencyLoss',
    'losses.WassersteinConsistencyLoss', 'losses.KDEConsistencyLoss',
    'losses.TWMLoss', 'losses.HmmTranscriber', 'core.exp_sigmoid',
    'core.sym_exp_sigmoid', 'core.frequencies_softmax',
    'core.frequencies_sigmoid', 'core.frequencies_critical_bands',
    'core.oscillator_bank', 'core.harmonic_oscillator_bank',
    'core.angular_cumsum', 'spectral_ops.compute_mag',
    'spectral_ops.compute_logmag', 'spectral_ops.compute_mel',
    'spectral_ops.compute_logmel', 'spectral_ops.compute_mfcc',
    'spectral_ops.compute_loudness', 'run_dag',
]


@pytest.mark.parametrize('name', REGISTERED)
def test_reference_gin_names_are_registered(name):
  assert gin.config._REGISTRY.get_match(name) is not None  # pylint: disable=protected-access


def test_mod_delay_is_not_gin_registered_as_in_3_7():
  assert gin.config._REGISTRY.get_match('effects.ModDelay') is None  # pylint: disable=protected-access


def test_registered_layers_take_bindings_only_when_gin_constructs_them():
  gin.clear_config()
  gin.parse_config('synths.Harmonic.n_samples = 1234')
  assert ddsp.synths.Harmonic().n_samples == 64000
  assert gin.get_configurable('synths.Harmonic')().n_samples == 1234
  gin.clear_config()


def test_gin_binds_function_defaults_like_3_7():
  gin.clear_config()
  gin.parse_config('oscillator_bank.use_angular_cumsum = True')
  freqs = np.full([1, 100, 1], 440.0, np.float32)
  with gin.unlock_config():
    audio = ddsp.core.oscillator_bank(freqs, np.ones_like(freqs))
  gin.clear_config()
  assert audio.shape == (1, 100)


def test_configurable_keeps_keras_constructor_signature():

  @registration.configurable
  class Scale(keras.layers.Layer):

    def __init__(self, factor=2.0, **kwargs):
      super().__init__(**kwargs)
      self.factor = factor

    def call(self, x):
      return x * self.factor

  gin.clear_config()
  gin.parse_config('Scale.factor = 3.0')
  layer = Scale()
  gin.clear_config()
  np.testing.assert_allclose(layer(np.ones(2, np.float32)), [3.0, 3.0])


def test_scale_functions_serialize_by_name():
  config = keras.saving.serialize_keras_object(ddsp.core.exp_sigmoid)
  assert keras.saving.deserialize_keras_object(config) is ddsp.core.exp_sigmoid
