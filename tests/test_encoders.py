"""Tests of ddsp.training.encoders."""

import gin
import numpy as np
import pytest
import tensorflow as tf

from ddsp import core
from ddsp.training import encoders
from ddsp.training import nn

RNG = np.random.default_rng(3)


def _audio(batch=2, seconds=1.0):
  return (0.1 * RNG.standard_normal([batch, int(16000 * seconds)])).astype(
      np.float32)


def _features(batch=2, seconds=1.0, frames=250):
  return {'audio': _audio(batch, seconds),
          'f0_scaled': RNG.uniform(size=[batch, frames, 1]).astype(np.float32),
          'ld_scaled': RNG.uniform(size=[batch, frames, 1]).astype(np.float32)}


ENCODER_NAMES = [
    'MfccTimeDistributedRnnEncoder', 'MfccEncoder', 'MfccRnnEncoder',
    'AggregateFeaturesEncoder', 'OneHotEncoder', 'ExpressionEncoder',
    'ResnetSinusoidalEncoder', 'SinusoidalToHarmonicEncoder', 'MidiEncoder',
    'HarmonicToMidiEncoder'
]


@pytest.mark.parametrize('name', ENCODER_NAMES)
def test_encoders_are_gin_registered(name):
  configurable = gin.config._REGISTRY.get_match(f'encoders.{name}')  # pylint: disable=protected-access
  assert configurable.module == 'ddsp.training.encoders'


def test_zencoder_is_not_registered():
  assert gin.config._REGISTRY.get_match('encoders.ZEncoder') is None  # pylint: disable=protected-access


def test_mfcc_time_distributed_rnn_encoder_z_at_f0_frames():
  encoder = encoders.MfccTimeDistributedRnnEncoder(
      rnn_channels=8, z_dims=4, z_time_steps=125)
  assert encoder.input_keys == ['audio', 'f0_scaled']
  features = _features(seconds=4.0, frames=1000)
  assert encoder(features)['z'].shape == (2, 1000, 4)
  # 4 s of MFCCs with fft 1024 / overlap 0.5: ceil(64000 / 512) = 125 frames
  # of 30 coefficients.
  assert encoder.compute_z(features['audio']).shape == (2, 125, 4)
  assert encoder.z_norm.scale.shape == (1, 1, 1, 30)
  with pytest.raises(ValueError, match='z_time_steps'):
    encoders.MfccTimeDistributedRnnEncoder(z_time_steps=100)


def test_zencoder_resamples_z_linearly_to_f0_frames():

  class Ramp(encoders.ZEncoder):

    def compute_z(self, audio):
      del audio
      return tf.constant([[[0.0], [10.0]]])

  z = Ramp()({'audio': np.zeros([1, 8]),
              'f0_scaled': np.zeros([1, 4, 1])})['z']
  np.testing.assert_allclose(z[0, :, 0], core.resample([[[0.0], [10.0]]],
                                                       4)[0, :, 0])


def test_mfcc_encoder_normalizes_concatenated_multiresolution_mfccs():
  # ddsp 3.7.0 raised AttributeError (self.nom_out).
  encoder = encoders.MfccEncoder(fft_sizes=(1024, 512), mel_bins=(64, 32),
                                 mfcc_bins=(10, 5), time_steps=50)
  z = encoder(_features())['z'].numpy()
  assert z.shape == (2, 250, 15)
  # Before resampling to f0's frames, each coefficient is standardized over
  # time (instance norm with unit scale, zero shift).
  raw = encoder.compute_z(_features()['audio']).numpy()
  np.testing.assert_allclose(raw.mean(axis=1), 0.0, atol=1e-4)
  np.testing.assert_allclose(raw.std(axis=1), 1.0, atol=1e-2)


def test_mfcc_rnn_encoder_keeps_batch_items_apart():
  # ddsp 3.7.0 concatenated batch items along features without mean_aggregate.
  encoder = encoders.MfccRnnEncoder(rnn_channels=6, z_dims=3)
  features = _features()
  z = encoder(features)['z'].numpy()
  assert z.shape == (2, 250, 3)
  assert np.std(z[0], axis=0).max() > 0  # Varies over time.
  features['audio'] = features['audio'].copy()
  features['audio'][1] *= 5.0
  z_changed = encoder(features)['z'].numpy()
  np.testing.assert_allclose(z_changed[0], z[0], atol=1e-6)
  assert not np.allclose(z_changed[1], z[1])
  pooled = encoders.MfccRnnEncoder(rnn_channels=6, z_dims=3,
                                   mean_aggregate=True)(features)['z']
  np.testing.assert_allclose(np.std(pooled, axis=1), 0.0, atol=1e-6)


def test_aggregate_features_encoder_is_constant_over_time():
  encoder = encoders.AggregateFeaturesEncoder(ch=5)
  features = _features()
  z = encoder(features)['z'].numpy()
  assert z.shape == (2, 250, 5)
  inputs = np.concatenate([features['f0_scaled'], features['ld_scaled']], -1)
  dense = encoder.dense_z
  expected = (inputs @ dense.kernel.numpy() + dense.bias.numpy()).mean(1)
  np.testing.assert_allclose(z, np.repeat(expected[:, None], 250, 1),
                             rtol=1e-5, atol=1e-6)


def test_one_hot_encoder_looks_up_embedding_rows():
  encoder = encoders.OneHotEncoder(vocab_size=10, n_dims=4)
  features = {'instrument': np.int64([3, 7]), 'f0_scaled': np.zeros([2, 20, 1])}
  z = encoder(features)['z'].numpy()
  assert z.shape == (2, 1, 4)  # skip_expand: broadcasts over time.
  table = encoder.embedding.embeddings.numpy()
  np.testing.assert_allclose(z[:, 0], table[[3, 7]])
  expanded = encoders.OneHotEncoder(vocab_size=10, n_dims=4,
                                    skip_expand=False)(features)['z']
  assert expanded.shape == (2, 20, 4)


def test_expression_encoder_with_audio_key():
  # ddsp 3.7.0 popped from a tuple (TypeError) when 'audio' was a key.
  encoder = encoders.ExpressionEncoder(
      net=nn.FcStack(8, 1), z_dims=3,
      input_keys=('f0_scaled', 'audio', 'ld_scaled'), mfcc_bins=20)
  z = encoder(_features())['z'].numpy()
  assert z.shape == (2, 250, 3)
  np.testing.assert_allclose(np.std(z, axis=1), 0.0, atol=1e-6)  # pool_time.
  frames = encoders.ExpressionEncoder(z_dims=3, pool_time=False)(
      _features())['z']
  assert frames.shape == (2, 250, 3)


def test_resnet_sinusoidal_encoder_default_size_and_splits():
  # ddsp 3.7.0's default size 'tiny' raised KeyError.
  encoder = encoders.ResnetSinusoidalEncoder(
      output_splits=(('frequencies', 12), ('amplitudes', 3)))
  assert encoder.resnet.size == 'small'
  outputs = encoder({'audio': _audio(1)})
  # compute_logmel defaults: fft 2048, hop 512, pad_end -> 32 frames per s.
  assert outputs['frequencies'].shape == (1, 32, 12)
  assert outputs['amplitudes'].shape == (1, 32, 3)


def test_sinusoidal_to_harmonic_encoder_normalizes_below_nyquist():
  encoder = encoders.SinusoidalToHarmonicEncoder(net=nn.FcStack(8, 1),
                                                 n_harmonics=20)
  outputs = encoder({'sin_freqs': RNG.uniform(0, 8000, [2, 6, 5]),
                     'sin_amps': RNG.uniform(0, 1, [2, 6, 5])})
  f0_hz = outputs['f0_hz'].numpy()
  assert f0_hz.shape == (2, 6, 1)
  assert np.all((f0_hz >= 20.0) & (f0_hz <= 1200.0))
  harm_dist = outputs['harm_dist'].numpy()
  above = f0_hz * np.arange(1, 21) >= 8000.0
  np.testing.assert_array_equal(harm_dist[above], 0.0)
  np.testing.assert_allclose(harm_dist.sum(-1), 1.0, rtol=1e-5)
  assert np.all(outputs['harm_amp'].numpy() > 0.0)


def test_midi_encoders_add_f0_residual():
  encoder = encoders.MidiEncoder()
  f0_midi = RNG.uniform(40, 80, [2, 5, 1]).astype(np.float32)
  loudness = RNG.uniform(-60, 0, [2, 5, 1]).astype(np.float32)
  encoder({'f0_midi': f0_midi, 'loudness': loudness})
  encoder.dense_out.kernel.assign(np.zeros([2, 2], np.float32))
  encoder.dense_out.bias.assign(np.float32([0.5, -1.0]))
  outputs = encoder({'f0_midi': f0_midi, 'loudness': loudness})
  np.testing.assert_allclose(outputs['z_pitch'], f0_midi + 0.5, rtol=1e-6)
  np.testing.assert_allclose(outputs['z_vel'], -1.0)
  harmonic = encoders.HarmonicToMidiEncoder(f0_residual=False)
  assert harmonic.input_keys == ['f0_midi', 'amps', 'hd', 'noise']
  outputs = harmonic({'f0_midi': f0_midi, 'amps': loudness,
                      'hd': RNG.uniform(size=[2, 5, 4]),
                      'noise': RNG.uniform(size=[2, 5, 3])})
  assert outputs['z_pitch'].shape == (2, 5, 1)


def test_encoders_round_trip_through_config():
  encoder = encoders.ExpressionEncoder(net=nn.FcStack(8, 1), z_dims=3,
                                       input_keys=('f0_scaled', 'audio'))
  clone = encoders.ExpressionEncoder.from_config(encoder.get_config())
  assert clone.input_keys == encoder.input_keys == ['f0_scaled', 'audio',
                                                    'f0_scaled']
  assert clone.net.get_config() == encoder.net.get_config()
  harmonic = encoders.SinusoidalToHarmonicEncoder()
  clone = encoders.SinusoidalToHarmonicEncoder.from_config(
      harmonic.get_config())
  assert clone.freq_scale_fn.keywords == {'depth': 64, 'hz_min': 20.0,
                                          'hz_max': 1200.0}
