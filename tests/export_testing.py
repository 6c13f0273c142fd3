"""Helpers for the export tests: decoders and bundles with random weights,
and `ddsp_run`-like save dirs of gin models."""

import pathlib

import keras
import numpy as np
import tensorflow as tf

from ddsp import synths
from ddsp.export import bundle
from ddsp.export import control_model
from ddsp.export import streaming_synth
from ddsp.training import decoders
from ddsp.training import models
import gin

# models/vst/vst.gin's decoder.
VST_DECODER = dict(rnn_channels=512, rnn_type='gru', ch=256,
                   layers_per_stack=1,
                   output_splits=(('amps', 1), ('harmonic_distribution', 60),
                                  ('noise_magnitudes', 65)))


def build(input_keys=('pw_scaled', 'f0_scaled'), seed=0):
  """A built `RnnFcDecoder(stateless=True)` of vst.gin's sizes, random
  weights (seeded)."""
  keras.utils.set_random_seed(seed)
  decoder = decoders.RnnFcDecoder(stateless=True, input_keys=input_keys,
                                  **VST_DECODER)
  features = {k: tf.zeros([1, 1, 1]) for k in input_keys}
  features['state'] = tf.zeros([1, decoder.rnn_channels])
  decoder(features)
  return decoder


def control_function(input_keys=('f0_scaled', 'pw_scaled'), seed=0):
  """Control model `tf.function` of `build()` (vst.gin sizes, random)."""
  decoder = build(input_keys=tuple(reversed(input_keys)), seed=seed)
  return control_model.control_function(
      decoder, decoder.rnn_channels, synths.Harmonic(sample_rate=16000),
      synths.FilteredNoise(), input_keys)


def build_bundle(save_dir, input_keys=('f0_scaled', 'pw_scaled'), seed=0,
                 **synth_kwargs):
  """A bundle of `build()`'s decoder; `synth_kwargs` go to SynthConfig,
  except 'quantization' and 'calibration_audio'."""
  options = {k: synth_kwargs.pop(k) for k in ('quantization',
                                              'calibration_audio')
             if k in synth_kwargs}
  return bundle.build_bundle(
      save_dir, control_function(input_keys, seed), input_keys, 512,
      streaming_synth.SynthConfig(**synth_kwargs), **options)


GIN_DIR = pathlib.Path(__file__).resolve().parents[1] / 'gin'


def make_run(save_dir, gin_file, features, bindings=()):
  """A `ddsp_run`-like save dir: a checkpoint and the operative config of a
  model built from `gin_file` (in the repository's gin/) by one call on
  `features`. Gin's bindings are cleared afterwards.

  Returns:
    The model (weights as saved).
  """
  save_dir = pathlib.Path(save_dir)
  save_dir.mkdir(parents=True, exist_ok=True)
  gin.clear_config()
  gin.add_config_file_search_path(str(GIN_DIR))
  try:
    gin.parse_config_files_and_bindings([str(GIN_DIR / gin_file)],
                                        list(bindings))
    model = models.get_model()
    model(features, training=False)
    tf.train.Checkpoint(model=model).save(str(save_dir / 'ckpt'))
    (save_dir / 'operative_config-0.gin').write_text(
        gin.operative_config_str())
  finally:
    gin.clear_config()
  return model


def write_tfrecord(path, n_examples=2, seconds=4, frame_rate=250,
                   centered=False):
  """Examples as `TFRecordProvider(example_secs=seconds, frame_rate=...,
  centered=...)` reads them (its defaults: 4 s, 250 Hz, not centred): a
  220 Hz tone, f0 220 Hz, confidence 0.9, loudness -20 dB."""
  n_samples = 16000 * seconds
  n_frames = frame_rate * seconds + int(centered)
  t = np.arange(n_samples) / 16000
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(n_examples):
      audio = (0.3 * np.sin(2 * np.pi * 220 * t + i)).astype(np.float32)
      feature = {
          'audio': audio, 'audio_16k': audio,
          'f0_hz': np.full(n_frames, 220.0), 'f0_confidence':
          np.full(n_frames, 0.9), 'loudness_db': np.full(n_frames, -20.0)}
      example = tf.train.Example(features=tf.train.Features(feature={
          k: tf.train.Feature(float_list=tf.train.FloatList(value=v))
          for k, v in feature.items()}))
      writer.write(example.SerializeToString())
