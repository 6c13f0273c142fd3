"""Tests of ddsp.processors: the Processor contract, groups and routing."""

import gin
import keras
import numpy as np
import pytest
import tensorflow as tf

from ddsp import core
from ddsp import effects
from ddsp import processors
from ddsp import synths

N_FRAMES, N_SAMPLES = 50, 8000


def synth_inputs(batch=2):
  rng = np.random.default_rng(0)
  return {
      'amps': rng.normal(size=[batch, N_FRAMES, 1]).astype(np.float32),
      'harmonic_distribution': rng.normal(
          size=[batch, N_FRAMES, 10]).astype(np.float32),
      'f0_hz': np.full([batch, N_FRAMES, 1], 220.0, np.float32),
      'noise_magnitudes': rng.normal(size=[batch, N_FRAMES, 33]).astype(
          np.float32),
  }


def make_group():
  return processors.ProcessorGroup(dag=[
      (synths.Harmonic(n_samples=N_SAMPLES),
       ['amps', 'harmonic_distribution', 'f0_hz']),
      (synths.FilteredNoise(n_samples=N_SAMPLES), ['noise_magnitudes']),
      (processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
      (effects.Reverb(trainable=True, reverb_length=1000), ['add/signal']),
  ])


def test_processor_group_outputs_every_node_and_the_last_signal():
  group = make_group()
  inputs = synth_inputs()
  outputs = group(inputs, return_outputs_dict=True)
  controls = outputs['controls']
  expected_keys = [
      'harmonic/controls/amplitudes',
      'harmonic/controls/harmonic_distribution', 'harmonic/controls/f0_hz',
      'harmonic/signal', 'filtered_noise/controls/magnitudes',
      'filtered_noise/signal', 'add/signal', 'reverb/controls/ir',
      'reverb/signal', 'out/signal', 'inputs/f0_hz', 'f0_hz'
  ]
  keys = core.nested_keys(controls)
  for key in expected_keys:
    assert key in keys
  np.testing.assert_allclose(outputs['signal'], controls['reverb']['signal'])
  np.testing.assert_allclose(
      controls['add']['signal'],
      controls['harmonic']['signal'] + controls['filtered_noise']['signal'])
  assert outputs['signal'].shape == (2, N_SAMPLES)
  assert len(group.trainable_variables) == 1


def test_processor_separates_controls_from_signal():
  harmonic = synths.Harmonic(n_samples=N_SAMPLES)
  inputs = synth_inputs()
  controls = harmonic.get_controls(inputs['amps'],
                                   inputs['harmonic_distribution'],
                                   inputs['f0_hz'])
  signal = harmonic.get_signal(**controls)
  np.testing.assert_allclose(
      harmonic(inputs['amps'], inputs['harmonic_distribution'],
               inputs['f0_hz']), signal, atol=1e-6)


def test_processor_group_runs_inside_tf_function():
  group = make_group()
  inputs = synth_inputs()
  eager = group(inputs)
  graph = tf.function(group)(inputs)
  assert graph.shape == eager.shape


def test_processor_group_is_gin_configurable_like_ddsp_3_7():
  gin.clear_config()
  gin.parse_config("""
      processors.ProcessorGroup.dag = [
          (@synths.Harmonic(), ['amps', 'harmonic_distribution', 'f0_hz'])]
      synths.Harmonic.n_samples = 4000
  """)
  group = processors.ProcessorGroup()  # Bindings apply to direct calls too.
  audio = group(synth_inputs())
  gin.clear_config()
  assert audio.shape == (2, 4000)


def test_processor_group_config_round_trip_keeps_processors():
  group = make_group()
  restored = processors.ProcessorGroup.from_config(
      keras.saving.serialize_keras_object(group)['config'])
  assert restored.processor_names == group.processor_names
  assert restored.harmonic.n_samples == N_SAMPLES
  assert restored.harmonic.scale_fn is core.exp_sigmoid
  assert restored.reverb.trainable


def test_add_sums_signals():
  np.testing.assert_allclose(processors.Add()(np.ones(3), 2 * np.ones(3)),
                             [3.0, 3.0, 3.0])


def test_mix_crossfades_with_sqrt_gains():
  one = np.ones([1, 100], np.float32)
  two = 2.0 * np.ones([1, 100], np.float32)
  logits = np.zeros([1, 10, 1], np.float32)  # mix = 0.5 everywhere.
  mixed = processors.Mix()(one, two, logits).numpy()
  expected = np.sqrt(0.5) * 1.0 + (1.0 - np.sqrt(0.5)) * 2.0
  np.testing.assert_allclose(mixed, np.full([1, 100], expected), rtol=1e-6)
  with pytest.raises(ValueError, match='same length'):
    processors.Mix()(one, np.ones([1, 50]), logits)


@pytest.mark.parametrize('location,expected', [
    ('front', np.arange(4, 20)), ('center', np.arange(2, 18)),
    ('back', np.arange(0, 16))])
def test_crop_removes_frame_size_samples(location, expected):
  audio = np.arange(20, dtype=np.float32)[np.newaxis]
  cropped = processors.Crop(frame_size=5, crop_location=location)(audio)
  np.testing.assert_array_equal(cropped[0], expected)


def test_crop_rejects_unknown_location():
  with pytest.raises(ValueError, match='crop_location'):
    processors.Crop(frame_size=4, crop_location='middle')(np.ones([1, 10]))


def test_crop_checks_its_arguments_at_construction():
  with pytest.raises(ValueError, match='`crop_location`.*Received: '
                     "crop_location='middle'"):
    processors.Crop(frame_size=4, crop_location='middle')
  with pytest.raises(ValueError, match='`frame_size`'):
    processors.Crop(frame_size=0)


def test_crop_of_one_sample_frames_keeps_the_audio():
  audio = np.arange(6, dtype=np.float32)[np.newaxis]
  for location in ('front', 'center', 'back'):
    cropped = processors.Crop(frame_size=1, crop_location=location)(audio)
    np.testing.assert_array_equal(cropped, audio)


def test_mix_of_saturated_levels_uses_3_7_0_gains():
  # Gains sqrt(m) and 1 - sqrt(1 - m): m = 1 sums both signals, m = 0 mutes.
  one = np.ones([1, 4], np.float32)
  two = 2.0 * one
  levels = np.array([[[200.0], [200.0]]], np.float32)  # sigmoid == 1.0
  np.testing.assert_allclose(processors.Mix()(one, two, levels), 3.0 * one)
  np.testing.assert_allclose(processors.Mix()(one, two, -levels), 0.0 * one)
