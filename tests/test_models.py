"""Tests of ddsp.training.models: Model, Autoencoder and experimental models."""

import gin
import keras
import numpy as np
import pytest
import tensorflow as tf

import ddsp
from ddsp.training import decoders
from ddsp.training import encoders
from ddsp.training import models
from ddsp.training import nn
from ddsp.training import preprocessing

RNG = np.random.default_rng(5)
N_SAMPLES = 8000
N_FRAMES = 125


def _autoencoder(rnn_channels=8, reverb=True, encoder=None, **kwargs):
  """A small solo_instrument-like autoencoder (0.5 s at 16 kHz)."""
  dag = [
      (ddsp.synths.Harmonic(n_samples=N_SAMPLES),
       ['amps', 'harmonic_distribution', 'f0_hz']),
      (ddsp.synths.FilteredNoise(n_samples=N_SAMPLES, window_size=0),
       ['noise_magnitudes']),
      (ddsp.processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
  ]
  if reverb:
    dag.append((ddsp.effects.Reverb(trainable=True, reverb_length=1000),
                ['add/signal']))
  input_keys = ('ld_scaled', 'f0_scaled') + (('z',) if encoder else ())
  return models.Autoencoder(
      preprocessor=preprocessing.F0LoudnessPreprocessor(time_steps=N_FRAMES),
      encoder=encoder,
      decoder=decoders.RnnFcDecoder(
          rnn_channels=rnn_channels, ch=6, layers_per_stack=1,
          input_keys=input_keys,
          output_splits=(('amps', 1), ('harmonic_distribution', 10),
                         ('noise_magnitudes', 5))),
      processor_group=ddsp.processors.ProcessorGroup(dag=dag),
      losses=[ddsp.losses.SpectralLoss(logmag_weight=1.0)], **kwargs)


def _batch(batch_size=2):
  t = np.arange(N_SAMPLES) / 16000.0
  audio = 0.3 * np.sin(2 * np.pi * 220.0 * t)
  return {
      'audio': np.tile(audio, [batch_size, 1]).astype(np.float32),
      'f0_hz': np.full([batch_size, N_FRAMES], 220.0, np.float32),
      'loudness_db': np.full([batch_size, N_FRAMES], -20.0, np.float32),
      'f0_confidence': np.ones([batch_size, N_FRAMES], np.float32),
  }


# ------------------------------------------------------------------------------
# Autoencoder outputs and losses
# ------------------------------------------------------------------------------
def test_autoencoder_outputs_every_feature_control_and_signal():
  model = _autoencoder()
  outputs = model(_batch(), training=False)
  feature_keys = {'audio', 'f0_hz', 'loudness_db', 'f0_confidence',
                  'f0_scaled', 'ld_scaled', 'amps', 'harmonic_distribution',
                  'noise_magnitudes'}
  processor_keys = {'harmonic', 'filtered_noise', 'add', 'reverb'}
  assert set(outputs) == feature_keys | processor_keys | {
      'inputs', 'out', 'audio_synth'}
  assert set(outputs['inputs']) == feature_keys
  assert outputs['f0_hz'].shape == (2, N_FRAMES, 1)
  assert outputs['f0_confidence'].shape == (2, N_FRAMES)  # Untouched.
  assert outputs['harmonic_distribution'].shape == (2, N_FRAMES, 10)
  assert set(outputs['harmonic']['controls']) == {
      'amplitudes', 'harmonic_distribution', 'f0_hz'}
  assert set(outputs['add']['controls']) == {'signal_one', 'signal_two'}
  assert set(outputs['reverb']['controls']) == {'audio', 'ir'}
  assert outputs['audio_synth'].shape == (2, N_SAMPLES)
  np.testing.assert_array_equal(outputs['audio_synth'],
                                outputs['reverb']['signal'])
  assert outputs['out'] is outputs['reverb']
  np.testing.assert_array_equal(model.get_audio_from_outputs(outputs),
                                outputs['audio_synth'])


def test_autoencoder_losses_only_in_training():
  model = _autoencoder()
  _, losses = model(_batch(), return_losses=True, training=True)
  assert set(losses) == {'spectral_loss', 'total_loss'}
  assert losses['spectral_loss'] > 0
  np.testing.assert_allclose(losses['total_loss'], losses['spectral_loss'])
  _, losses = model(_batch(), return_losses=True, training=False)
  assert set(losses) == {'total_loss'}
  assert float(losses['total_loss']) == 0.0
  _, losses = model(_batch(), return_losses=True)  # training defaults True.
  assert set(losses) == {'spectral_loss', 'total_loss'}


def test_autoencoder_loss_is_spectral_loss_of_input_and_synthesized_audio():
  model = _autoencoder(reverb=False)
  features = _batch()
  outputs, losses = model(features, return_losses=True, training=True)
  expected = model.loss_objs[0](features['audio'], outputs['audio_synth'])
  np.testing.assert_allclose(losses['spectral_loss'], expected, rtol=1e-6)


def test_gradients_reach_every_trainable_variable():
  encoder = encoders.MfccTimeDistributedRnnEncoder(rnn_channels=4, z_dims=3,
                                                   z_time_steps=125)
  model = _autoencoder(encoder=encoder)
  model(_batch())
  variables = model.trainable_variables
  # Decoder (input stacks, rnn, out stack, dense), encoder, reverb IR.
  assert len(variables) > 20
  assert any(v.name == 'ir' for v in variables)
  with tf.GradientTape() as tape:
    _, losses = model(_batch(), return_losses=True, training=True)
  grads = tape.gradient(losses['total_loss'], variables)
  missing = [v.path for v, g in zip(variables, grads)
             if g is None or not np.any(g.numpy())]
  assert not missing


def test_eager_call_adds_model_features_to_the_callers_dict():
  model = _autoencoder()
  features = _batch()
  model(features)
  assert {'f0_scaled', 'ld_scaled', 'amps'} <= set(features)
  assert features['f0_hz'].shape == (2, N_FRAMES, 1)

  @tf.function
  def call(features):
    return model(features)['audio_synth']

  features = {k: tf.constant(v) for k, v in _batch().items()}
  call(features)
  assert set(features) == set(_batch())  # Copied inside tf.function.


def test_autoencoder_trains_in_tf_function():
  model = _autoencoder(reverb=False)
  optimizer = keras.optimizers.Adam(1e-2)
  batch = {k: tf.constant(v) for k, v in _batch().items()}

  @tf.function
  def step(batch):
    with tf.GradientTape() as tape:
      _, losses = model(batch, return_losses=True, training=True)
    grads = tape.gradient(losses['total_loss'], model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return losses['total_loss']

  first = float(step(batch))
  for _ in range(15):
    last = float(step(batch))
  assert last < first


def test_base_model_call_is_abstract_and_sums_losses():
  with pytest.raises(NotImplementedError):
    models.Model()(np.zeros(1))
  np.testing.assert_allclose(
      models.Model.sum_losses({'a': 1.0, 'b': 2.5}), 3.5)
  assert float(models.Model.sum_losses({})) == 0.0


# ------------------------------------------------------------------------------
# Checkpoints and restore
# ------------------------------------------------------------------------------
def _checkpoint_keys(path):
  return {k for k, _ in tf.train.list_variables(path)}


def test_checkpoint_keys_follow_the_3_7_0_layout(tmp_path):
  encoder = encoders.MfccTimeDistributedRnnEncoder(rnn_channels=4, z_dims=3,
                                                   z_time_steps=125)
  model = _autoencoder(encoder=encoder)
  model(_batch())
  path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
  keys = _checkpoint_keys(path)
  value = '/.ATTRIBUTES/VARIABLE_VALUE'
  expected = [
      'model/decoder/input_stacks/0/layer_with_weights-0/'
      'layer_with_weights-0/kernel',
      'model/decoder/input_stacks/2/layer_with_weights-0/'
      'layer_with_weights-1/gamma',
      'model/decoder/rnn/rnn/cell/kernel',
      'model/decoder/rnn/rnn/cell/recurrent_kernel',
      'model/decoder/rnn/rnn/cell/bias',
      'model/decoder/out_stack/layer_with_weights-0/layer_with_weights-1/beta',
      'model/decoder/dense_out/kernel',
      'model/decoder/dense_out/bias',
      'model/encoder/z_norm/scale',
      'model/encoder/z_norm/shift',
      'model/encoder/rnn/rnn/cell/kernel',
      'model/encoder/dense_out/kernel',
      'model/processor_group/reverb/ir',
  ]
  for key in expected:
    assert key + value in keys
  model_keys = {k for k in keys if k.startswith('model/')}
  assert len(model_keys) == len(_state_variables(model))


def _state_variables(model):
  """Model variables without Keras' random seed states (not checkpointed)."""
  return [v for v in model.variables if 'seed_generator' not in v.path]


def _weights(model):
  return [v.numpy().copy() for v in _state_variables(model)]


def test_restore_round_trip_restores_exact_weights(tmp_path):
  model = _autoencoder()
  model(_batch())
  saved = _weights(model)
  manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model),
                                       str(tmp_path), max_to_keep=2)
  manager.save(checkpoint_number=300)
  restored = _autoencoder()
  restored(_batch())
  assert not all(np.array_equal(a, b)
                 for a, b in zip(saved, _weights(restored)))
  restored.restore(str(tmp_path))
  for expected, actual in zip(saved, _weights(restored)):
    np.testing.assert_array_equal(actual, expected)


def test_restore_ignores_optimizer_values_in_training_checkpoints(tmp_path):
  model = _autoencoder(reverb=False)
  model(_batch())
  optimizer = keras.optimizers.Adam()
  optimizer.build(model.trainable_variables)
  path = tf.train.Checkpoint(model=model, optimizer=optimizer).save(
      str(tmp_path / 'ckpt'))
  restored = _autoencoder(reverb=False)
  restored(_batch())
  restored.restore(path, verbose=False)
  for expected, actual in zip(_weights(model), _weights(restored)):
    np.testing.assert_array_equal(actual, expected)


def test_restore_raises_on_an_unbuilt_model(tmp_path):
  model = _autoencoder()
  model(_batch())
  path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
  with pytest.raises(ValueError, match='call it on a batch'):
    _autoencoder().restore(path)


def test_restore_raises_on_a_mismatched_model(tmp_path):
  model = _autoencoder(rnn_channels=8)
  model(_batch())
  path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
  wider = _autoencoder(rnn_channels=16)
  wider(_batch())
  with pytest.raises(ValueError):
    wider.restore(path)
  without_reverb = _autoencoder(reverb=False)
  without_reverb(_batch())
  without_reverb.restore(path)  # A subset of the checkpoint is fine.
  subset_path = tf.train.Checkpoint(model=without_reverb).save(
      str(tmp_path / 'subset'))
  with pytest.raises(AssertionError, match='does not match'):
    model.restore(subset_path)  # The reverb IR is not in the checkpoint.
  with pytest.raises(FileNotFoundError):
    model.restore(str(tmp_path / 'missing'))


def test_restore_keys_restores_only_those_attributes(tmp_path):
  model = _autoencoder()
  model(_batch())
  path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
  restored = _autoencoder()
  restored(_batch())
  reverb_before = restored.processor_group.reverb.trainable_variables[0].numpy()
  restored.restore(path, restore_keys=['decoder'])
  for expected, actual in zip(model.decoder.get_weights(),
                              restored.decoder.get_weights()):
    np.testing.assert_array_equal(actual, expected)
  np.testing.assert_array_equal(
      restored.processor_group.reverb.trainable_variables[0], reverb_before)
  restored.restore(path, restore_keys=['processor_group'])
  np.testing.assert_array_equal(
      restored.processor_group.reverb.trainable_variables[0],
      model.processor_group.reverb.trainable_variables[0])


# ------------------------------------------------------------------------------
# Gin and serialization
# ------------------------------------------------------------------------------
def test_models_are_gin_configurable_and_subclasses_get_bindings():
  registry = gin.config._REGISTRY  # pylint: disable=protected-access
  for name in ('Autoencoder', 'InverseSynthesis', 'MidiAutoencoder',
               'ZMidiAutoencoder', 'get_model'):
    assert registry.get_match(f'models.{name}').module == (
        'ddsp.training.models')

  class Subclass(models.Autoencoder):
    pass

  gin.clear_config()
  gin.parse_config('Autoencoder.encoder = @nn.Identity()')
  with gin.unlock_config():
    model = Subclass()
  gin.clear_config()
  assert isinstance(model.encoder, nn.Identity)


def test_get_model_returns_the_gin_bound_model():
  gin.clear_config()
  gin.parse_config('get_model.model = @models.Autoencoder()\n'
                   'Autoencoder.decoder = @decoders.RnnFcDecoder()')
  model = models.get_model()
  gin.clear_config()
  assert isinstance(model, models.Autoencoder)
  assert isinstance(model.decoder, decoders.RnnFcDecoder)


def test_autoencoder_round_trips_through_keras_serialization():
  model = _autoencoder()
  clone = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(model))
  assert isinstance(clone, models.Autoencoder)
  assert clone.decoder.get_config() == model.decoder.get_config()
  assert clone.processor_group.module_names == ['harmonic', 'filtered_noise',
                                                'add', 'reverb']
  outputs = clone(_batch())
  assert outputs['audio_synth'].shape == (2, N_SAMPLES)


# ------------------------------------------------------------------------------
# Experimental models
# ------------------------------------------------------------------------------
def _synthetic_notes(batch_size=1, frames=16):
  return {
      'sin_amps': RNG.uniform(0, 0.01, [batch_size, frames, 6]),
      'sin_freqs': RNG.uniform(100, 4000, [batch_size, frames, 6]),
      'noise_magnitudes': RNG.uniform(0, 0.01, [batch_size, frames, 5]),
      'harm_amp': RNG.uniform(0, 1, [batch_size, frames, 1]),
      'harm_dist': RNG.dirichlet(np.ones(6), [batch_size, frames]),
      'f0_hz': np.full([batch_size, frames, 1], 220.0),
  }


def _inverse_synthesis(harmonic=True):
  sinusoidal_encoder = encoders.ResnetSinusoidalEncoder(
      output_splits=(('frequencies', 6 * 64), ('amplitudes', 6),
                     ('noise_magnitudes', 5)),
      spectral_fn=lambda audio: ddsp.spectral_ops.compute_logmel(
          audio, bins=32))
  harmonic_encoder = encoders.SinusoidalToHarmonicEncoder(
      net=nn.FcStack(8, 1), n_harmonics=6) if harmonic else None
  return models.InverseSynthesis(
      sinusoidal_encoder=sinusoidal_encoder,
      harmonic_encoder=harmonic_encoder,
      losses=[ddsp.losses.SpectralLoss()],
      harmonic_consistency_losses=[ddsp.losses.HarmonicConsistencyLoss()],
      filtered_noise_consistency_loss=(
          ddsp.losses.FilteredNoiseConsistencyLoss()),
      reverb=False, n_samples=N_SAMPLES)


def test_inverse_synthesis_self_supervised_and_zipped_batches():
  model = _inverse_synthesis()
  synthetic = _synthetic_notes()
  outputs, losses = model(dict(synthetic), return_losses=True, training=False)
  assert outputs['sin_audio'].shape == (1, N_SAMPLES)
  assert outputs['harm_audio'].shape == (1, N_SAMPLES)
  assert outputs['sin_freqs'].shape == (1, 16, 6)
  assert set(losses) == {
      'sin_spectral_loss', 'harm_spectral_loss',
      'ss_filtered_noise_consistency_loss', 'ss_harm_amp_loss',
      'ss_harm_dist_loss', 'ss_f0_hz_loss', 'total_loss'}
  real = {'audio': RNG.standard_normal([2, N_SAMPLES]).astype(np.float32)}
  outputs, zipped_losses = model((synthetic, real), return_losses=True)
  assert outputs['audio'].shape == (3, N_SAMPLES)
  assert set(zipped_losses) == set(losses)
  np.testing.assert_array_equal(model.get_audio_from_outputs(outputs),
                                outputs['harm_audio'])


def test_inverse_synthesis_without_harmonic_encoder_on_real_audio():
  model = _inverse_synthesis(harmonic=False)
  audio = RNG.standard_normal([1, N_SAMPLES]).astype(np.float32)
  outputs, losses = model({'audio': audio}, return_losses=True)
  assert set(losses) == {'sin_spectral_loss', 'total_loss'}
  np.testing.assert_array_equal(model.get_audio_from_outputs(outputs),
                                outputs['sin_audio'])
  synthetic = _synthetic_notes()
  rendered = model.generate_synthetic_audio(synthetic)
  assert rendered.shape == (1, N_SAMPLES)


def _midi_features(batch_size=1, frames=N_FRAMES):
  pianoroll = np.zeros([batch_size, frames, 128], np.float32)
  pianoroll[:, 10:60, 57] = 100.0
  pianoroll[:, 70:110, 60] = 80.0
  f0_hz = np.where(pianoroll.max(-1) > 0, ddsp.core.midi_to_hz(
      np.argmax(pianoroll, -1).astype(np.float32)), 0.0)
  t = np.arange(N_SAMPLES) / 16000.0
  return {
      'audio': np.tile(0.1 * np.sin(2 * np.pi * 220.0 * t),
                       [batch_size, 1]).astype(np.float32),
      'f0_hz': f0_hz.astype(np.float32),
      'loudness_db': np.full([batch_size, frames], -30.0, np.float32),
      'note_active_velocities': pianoroll,
  }


def _midi_autoencoder(model_class=models.MidiAutoencoder, midi_decoder=True,
                      **kwargs):
  synthcoder = decoders.RnnFcDecoder(
      rnn_channels=8, ch=6, layers_per_stack=1,
      input_keys=('ld_scaled', 'f0_scaled'),
      output_splits=(('amplitudes', 1), ('harmonic_distribution', 8),
                     ('magnitudes', 5)))
  return model_class(
      synthcoder=synthcoder,
      midi_encoder=encoders.HarmonicToMidiEncoder(net=nn.FcStack(4, 1)),
      midi_decoder=decoders.MidiDecoder(net=nn.FcStack(4, 1)) if (
          midi_decoder) else None,
      reverb=False,
      reconstruction_losses=ddsp.losses.LossGroup(dag=[
          (ddsp.losses.SpectralLoss(name='synth_loss'),
           ['audio', 'synth_audio'])]),
      pitch_qpitch_loss=ddsp.losses.ParamLoss(),
      midi_slowness_loss=ddsp.losses.ParamLoss(),
      qpitch_f0rec_loss=ddsp.losses.ParamLoss(), **kwargs)


def _with_n_samples(model):
  for synth in model.processor_group.processors[:2]:
    synth.n_samples = N_SAMPLES
  return model


def test_midi_autoencoder_outputs_and_losses():
  model = _with_n_samples(_midi_autoencoder())
  outputs, losses = model(_midi_features(), return_losses=True)
  for key in ('synth_audio', 'midi_audio'):
    assert outputs[key].shape == (1, N_SAMPLES)
  for key in ('q_pitch', 'z_pitch', 'z_vel', 'f0_midi_pred', 'f0_hz_pred',
              'amps', 'amps_pred', 'loudness_db_pred', 'f0_loss_weights'):
    assert outputs[key].shape == (1, N_FRAMES, 1)
  np.testing.assert_array_equal(outputs['q_pitch'],
                                np.round(outputs['z_pitch']))
  np.testing.assert_array_equal(outputs['q_vel'], 0.0)
  assert outputs['pianoroll'].shape == (1, N_FRAMES, 128)
  assert {'harmonic', 'filtered_noise', 'note_active_velocities'} <= set(
      outputs)
  assert set(losses) == {'synth_loss', 'pitch_qpitch_loss',
                         'midi_slowness_loss', 'qpitch_f0rec_loss',
                         'total_loss'}
  np.testing.assert_array_equal(model.get_audio_from_outputs(outputs),
                                outputs['midi_audio'])


def test_midi_autoencoder_without_decoder_returns_synth_audio():
  # ddsp 3.7.0 failed on undefined locals and returned 'midi_audio' here.
  model = _with_n_samples(_midi_autoencoder(midi_decoder=False))
  outputs = model(_midi_features())
  assert 'midi_audio' not in outputs
  np.testing.assert_array_equal(model.get_audio_from_outputs(outputs),
                                outputs['synth_audio'])


def test_midi_autoencoder_uses_ground_truth_notes_without_encoder():
  model = _with_n_samples(_midi_autoencoder())
  model.midi_encoder = None
  features = _midi_features()
  outputs = model(features)
  assert 'z_pitch' not in outputs
  expected = np.zeros([1, N_FRAMES, 1], np.float32)
  expected[:, 10:60] = 57
  expected[:, 70:110] = 60
  np.testing.assert_array_equal(outputs['q_pitch'], expected)
  pianoroll = models.MidiAutoencoder.midi_to_pianoroll(outputs['q_pitch'],
                                                       outputs['q_vel'])
  np.testing.assert_array_equal(np.argmax(pianoroll, -1), expected[..., 0])


def test_z_midi_autoencoder_conditions_decoder_on_global_and_note_z():
  model = _with_n_samples(_midi_autoencoder(
      models.ZMidiAutoencoder,
      preprocessor=preprocessing.F0LoudnessPreprocessor(time_steps=N_FRAMES),
      z_global_encoders=[encoders.AggregateFeaturesEncoder(ch=3)],
      z_note_encoder=encoders.MfccRnnEncoder(rnn_channels=4, z_dims=2)))
  model.midi_decoder = decoders.MidiDecoder(net=nn.DilatedConvStack(
      ch=4, layers_per_stack=1, stacks=1, norm_type='layer',
      conditional=True))
  features = _midi_features()
  outputs = model(features)
  assert outputs['z_global'].shape == (1, 1, 3)
  assert outputs['z_notes'].shape == (1, N_FRAMES, 2)
  assert outputs['midi_audio'].shape == (1, N_SAMPLES)


def test_restores_a_checkpoint_written_by_another_object_graph(tmp_path):
  # A checkpoint of plain tf.Modules named like Keras 2 (3.7.0) layers:
  # restoring matches by names only, as for checkpoints of ddsp 3.7.0.
  model = _autoencoder()
  model(_batch())
  path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'own'))
  suffix = '/.ATTRIBUTES/VARIABLE_VALUE'
  root = tf.Module()
  expected = {}
  for key, shape in tf.train.list_variables(path):
    if not key.startswith('model/'):
      continue
    *parents, leaf = key[:-len(suffix)].split('/')
    node = root
    for name in parents:
      if not hasattr(node, name):
        setattr(node, name, tf.Module())
      node = getattr(node, name)
    value = RNG.standard_normal(shape).astype(np.float32)
    setattr(node, leaf, tf.Variable(value))
    expected[key] = value
  other = tf.train.Checkpoint(model=root.model).save(
      str(tmp_path / 'other'))
  model.restore(other)
  restored = tf.train.Checkpoint(model=model).save(str(tmp_path / 'check'))
  for key, value in expected.items():
    np.testing.assert_array_equal(tf.train.load_variable(restored, key),
                                  value)
