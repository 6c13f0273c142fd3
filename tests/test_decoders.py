"""Tests of ddsp.training.decoders."""

import numpy as np
import pytest

from ddsp import core
from ddsp import synths
from ddsp.training import decoders
from ddsp.training import nn
import gin

RNG = np.random.default_rng(4)
SPLITS = (('amps', 1), ('harmonic_distribution', 10), ('noise_magnitudes', 5))


def _features(batch=2, frames=12):
  return {'f0_scaled': RNG.uniform(size=[batch, frames, 1]).astype(np.float32),
          'ld_scaled': RNG.uniform(size=[batch, frames, 1]).astype(np.float32),
          'z': RNG.standard_normal([batch, frames, 3]).astype(np.float32)}


@pytest.mark.parametrize('name', ['RnnFcDecoder', 'MidiDecoder',
                                  'MidiToHarmonicDecoder',
                                  'DilatedConvDecoder'])
def test_decoders_are_gin_registered(name):
  configurable = gin.config._REGISTRY.get_match(f'decoders.{name}')  # pylint: disable=protected-access
  assert configurable.module == 'ddsp.training.decoders'


def test_rnn_fc_decoder_output_splits_and_shapes():
  decoder = decoders.RnnFcDecoder(rnn_channels=8, ch=6, layers_per_stack=2,
                                  output_splits=SPLITS)
  assert decoder.input_keys == ['ld_scaled', 'f0_scaled', 'z']
  outputs = decoder(_features())
  assert list(outputs) == ['amps', 'harmonic_distribution', 'noise_magnitudes']
  assert [v.shape for v in outputs.values()] == [(2, 12, 1), (2, 12, 10),
                                                 (2, 12, 5)]
  assert len(decoder.input_stacks) == 3


def test_rnn_fc_decoder_skip_connects_input_stacks_to_output_stack():
  decoder = decoders.RnnFcDecoder(rnn_channels=8, ch=6, layers_per_stack=1,
                                  input_keys=('ld_scaled', 'f0_scaled'))
  decoder(_features())
  # Output stack sees [h_ld, h_f0, rnn] = 6 + 6 + 8 channels.
  first_dense = decoder.out_stack.layers[0].layers[0]
  assert first_dense.kernel.shape == (20, 6)


def test_rnn_fc_decoder_with_no_stack_layers_feeds_inputs_directly():
  decoder = decoders.RnnFcDecoder(rnn_channels=4, layers_per_stack=0,
                                  input_keys=('ld_scaled', 'f0_scaled'))
  decoder(_features())
  assert decoder.rnn.rnn.cell.kernel.shape == (2, 12)  # Two raw inputs.


def test_stateless_decoder_streams_frames_like_the_full_sequence():
  kwargs = dict(rnn_channels=8, ch=6, layers_per_stack=1,
                input_keys=('ld_scaled', 'f0_scaled'), output_splits=SPLITS)
  stateful = decoders.RnnFcDecoder(**kwargs)
  stateless = decoders.RnnFcDecoder(stateless=True, **kwargs)
  assert stateless.input_keys == ['ld_scaled', 'f0_scaled', 'state']
  assert stateless.output_keys[-1] == 'state'
  features = _features(frames=5)
  expected = stateful(features)
  stateless({**features, 'state': np.zeros([2, 8], np.float32)})
  stateless.set_weights(stateful.get_weights())
  state = np.zeros([2, 8], np.float32)
  frames = []
  for t in range(5):
    outputs = stateless({'ld_scaled': features['ld_scaled'][:, t:t + 1],
                         'f0_scaled': features['f0_scaled'][:, t:t + 1],
                         'state': state})
    assert outputs['state'].shape == (2, 8)
    assert not np.allclose(outputs['state'], state)
    state = outputs['state']
    frames.append(outputs['amps'])
  np.testing.assert_allclose(np.concatenate(frames, 1), expected['amps'],
                             atol=1e-5)


def test_rnn_fc_decoder_round_trips_through_config():
  decoder = decoders.RnnFcDecoder(rnn_channels=8, stateless=True,
                                  input_keys=('pw_scaled', 'f0_scaled'),
                                  output_splits=SPLITS)
  clone = decoders.RnnFcDecoder.from_config(decoder.get_config())
  assert clone.input_keys == decoder.input_keys
  assert clone.output_keys == decoder.output_keys
  assert clone.output_splits == list(SPLITS)


def test_midi_decoder_residual_pitch_and_centered_loudness():
  decoder = decoders.MidiDecoder(net=nn.FcStack(4, 1))
  z_pitch = RNG.uniform(40, 80, [2, 6, 1]).astype(np.float32)
  decoder({'z_pitch': z_pitch})
  decoder.dense_out.kernel.assign(np.zeros([4, 2], np.float32))
  decoder.dense_out.bias.assign(np.float32([1.0, 0.5]))
  outputs = decoder({'z_pitch': z_pitch, 'z_vel': np.zeros_like(z_pitch)})
  np.testing.assert_allclose(outputs['f0_midi'], z_pitch + 1.0, rtol=1e-6)
  np.testing.assert_allclose(outputs['loudness'], 0.5 * 30.0 - 70.0)


def test_midi_to_harmonic_decoder_adds_f0_hz():
  decoder = decoders.MidiToHarmonicDecoder(
      output_splits=(('f0_midi', 1), ('amplitudes', 1),
                     ('harmonic_distribution', 4), ('magnitudes', 3)))
  z_pitch = np.float32([[[0.0], [60.0], [69.0]]])
  outputs = decoder({'z_pitch': z_pitch})
  assert list(outputs) == ['f0_midi', 'amplitudes', 'harmonic_distribution',
                           'magnitudes', 'f0_hz']
  np.testing.assert_allclose(
      outputs['f0_hz'], core.midi_to_hz(outputs['f0_midi'],
                                        midi_zero_silence=True), rtol=1e-6)


def test_dilated_conv_decoder_shapes_with_and_without_conditioning():
  plain = decoders.DilatedConvDecoder(ch=8, layers_per_stack=2, stacks=1,
                                      conditioning_keys=None,
                                      output_splits=SPLITS)
  assert plain.input_keys == ['ld_scaled', 'f0_scaled']
  assert plain(_features())['noise_magnitudes'].shape == (2, 12, 5)
  conditioned = decoders.DilatedConvDecoder(ch=8, layers_per_stack=2,
                                            stacks=1, resample_stride=2)
  assert conditioned.input_keys == ['ld_scaled', 'f0_scaled', 'z']
  outputs = conditioned(_features())
  assert outputs['harmonic_distribution'].shape == (2, 24, 60)
  with pytest.raises(ValueError, match='precondition_stack'):
    decoders.DilatedConvDecoder(conditioning_keys=(),
                                precondition_stack=nn.FcStack(4, 1))


@pytest.mark.parametrize('rolloff_db', [6.0, 12.0])
def test_rnn_fc_decoder_initial_harmonic_rolloff_measured_in_the_audio(
    rolloff_db):
  splits = (('amps', 1), ('harmonic_distribution', 16),
            ('noise_magnitudes', 5))
  decoder = decoders.RnnFcDecoder(rnn_channels=8, ch=6, layers_per_stack=1,
                                  input_keys=('ld_scaled', 'f0_scaled'),
                                  output_splits=splits,
                                  initial_harmonic_rolloff_db=rolloff_db)
  features = {k: v[:1, :, :] for k, v in _features(frames=100).items()}
  decoder(features)
  kernel, bias = decoder.dense_out.get_weights()
  decoder.dense_out.set_weights([np.zeros_like(kernel), bias])
  outputs = decoder(features)  # Now exactly the initial bias.
  f0_hz = np.full([1, 100, 1], 250.0, np.float32)
  audio = synths.Harmonic(n_samples=16000, sample_rate=16000)(
      outputs['amps'], outputs['harmonic_distribution'], f0_hz).numpy()[0]
  spectrum = np.abs(np.fft.rfft(audio[4000:12000] * np.hanning(8000)))
  # 8000-point FFT at 16 kHz: 2 Hz bins, harmonic k at bin 125 k.
  level_db = {k: 20 * np.log10(spectrum[125 * k - 2:125 * k + 3].max())
              for k in (1, 2, 4, 8, 16)}
  for k in (2, 4, 8, 16):
    octaves = np.log2(k)
    assert level_db[1] - level_db[k] == pytest.approx(rolloff_db * octaves,
                                                      abs=0.2)
  # The other splits keep Keras's zero bias; 3.7.0's default is all zeros.
  np.testing.assert_array_equal(bias[:1], 0.0)
  np.testing.assert_array_equal(bias[17:], 0.0)
  default = decoders.RnnFcDecoder(rnn_channels=8, ch=6, layers_per_stack=1,
                                  output_splits=splits)
  default(_features())
  np.testing.assert_array_equal(default.dense_out.get_weights()[1], 0.0)


def test_harmonic_rolloff_bias_and_output_bias_reject_bad_values():
  with pytest.raises(ValueError, match='rolloff'):
    decoders.harmonic_rolloff_bias(10, -3.0)
  with pytest.raises(ValueError, match='unknown splits'):
    nn.OutputSplitsLayer(input_keys=['x'], output_splits=SPLITS,
                         output_bias={'amplitudes': [0.0]})
  with pytest.raises(ValueError, match='has 3 values'):
    nn.OutputSplitsLayer(input_keys=['x'], output_splits=SPLITS,
                         output_bias={'noise_magnitudes': [0.0, 1.0, 2.0]})
