"""Tests for ddsp.training.data providers."""
import sys

import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import data
import gin


def _write_examples(path, n_examples, audio_length, feature_length,
                    with_audio_16k=True):
  """Writes TFRecord examples whose values encode (example, position)."""
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(n_examples):
      features = {
          'audio': np.full(audio_length, i, np.float32),
          'f0_hz': np.arange(feature_length, dtype=np.float32) + 100 * i,
          'f0_confidence': np.full(feature_length, 0.5, np.float32),
          'loudness_db': np.full(feature_length, -i, np.float32),
      }
      if with_audio_16k:
        features['audio_16k'] = np.full(64000, i, np.float32)
      example = tf.train.Example(features=tf.train.Features(feature={
          k: tf.train.Feature(float_list=tf.train.FloatList(value=v))
          for k, v in features.items()}))
      writer.write(example.SerializeToString())


@pytest.mark.parametrize('centered, n_frames', [(False, 1000), (True, 1001)])
def test_tfrecord_provider_reads_examples_with_expected_shapes(
    tmp_path, centered, n_frames):
  _write_examples(tmp_path / 'train.tfrecord-00000-of-00001', 3, 4 * 48000,
                  n_frames)
  provider = data.TFRecordProvider(str(tmp_path / 'train.tfrecord*'),
                                   sample_rate=48000, centered=centered)
  batch = next(iter(provider.get_batch(2, shuffle=False)))
  assert set(batch) == {'audio', 'audio_16k', 'f0_hz', 'f0_confidence',
                        'loudness_db'}
  assert batch['audio'].shape == (2, 192000)
  assert batch['audio_16k'].shape == (2, 64000)
  assert batch['f0_hz'].shape == (2, n_frames)
  assert batch['loudness_db'].dtype == tf.float32


def test_get_batch_repeats_and_keeps_remainder_when_asked(tmp_path):
  _write_examples(tmp_path / 'x.tfrecord', 3, 64000, 1000)
  provider = data.TFRecordProvider(str(tmp_path / 'x.tfrecord'))
  sizes = [int(b['audio'].shape[0]) for b in provider.get_batch(
      2, shuffle=False, repeats=2, drop_remainder=False)]
  assert sizes == [2, 2, 2]
  sizes = [int(b['audio'].shape[0]) for b in provider.get_batch(
      2, shuffle=False, repeats=1, drop_remainder=True)]
  assert sizes == [2]


def test_legacy_provider_reads_files_without_audio_16k(tmp_path):
  _write_examples(tmp_path / 'old.tfrecord', 2, 64000, 1000,
                  with_audio_16k=False)
  provider = data.LegacyTFRecordProvider(str(tmp_path / 'old.tfrecord'))
  example = next(iter(provider.get_dataset(shuffle=False)))
  assert 'audio_16k' not in example
  assert example['audio'].shape == (64000,)


def test_tfrecord_provider_without_pattern_raises():
  with pytest.raises(NotImplementedError, match='file_pattern'):
    data.TFRecordProvider()


def test_gin_config_builds_tfrecord_provider():

  @gin.configurable
  def make_provider(data_provider):
    return data_provider

  with gin.unlock_config():
    gin.parse_config("""
        make_provider.data_provider = @data.TFRecordProvider()
        TFRecordProvider.file_pattern = '/data/train.tfrecord*'
        TFRecordProvider.example_secs = 2
        TFRecordProvider.centered = True
    """)
  try:
    provider = make_provider()  # pylint: disable=no-value-for-parameter
  finally:
    gin.clear_config()
  assert isinstance(provider, data.TFRecordProvider)
  assert provider.features_dict['audio'].shape == [32000]
  assert provider.features_dict['f0_hz'].shape == [501]


def test_urmp_builds_file_patterns():
  assert data.Urmp('/u', 'vn', 'test').default_file_pattern == (
      '/u/urmp_vn_solo_ddsp_conditioning_test.tfrecord*')
  assert data.Urmp('/u', 'all', suffix='batched').default_file_pattern == (
      '/u/all_instruments_train_batched.tfrecord*')


def test_multi_providers_check_rates_and_ratios(tmp_path):
  _write_examples(tmp_path / 'a.tfrecord', 4, 64000, 1000)
  a = data.TFRecordProvider(str(tmp_path / 'a.tfrecord'))
  b = data.TFRecordProvider(str(tmp_path / 'a.tfrecord'), sample_rate=48000)
  with pytest.raises(ValueError, match='sample_rate'):
    data.ZippedProvider([a, b])
  with pytest.raises(ValueError, match='batch_size_ratios'):
    data.ZippedProvider([a, a], batch_size_ratios=[1.0])
  zipped = data.ZippedProvider([a, a], batch_size_ratios=[3, 1])
  first, second = next(iter(zipped.get_batch(4, shuffle=False)))
  assert first['audio'].shape == (3, 64000)
  assert second['audio'].shape == (1, 64000)
  mixed = data.MixedProvider([a, a])
  assert mixed.get_dataset(shuffle=False).element_spec['audio'].shape == [
      64000]


def test_tfds_provider_names_the_missing_package(monkeypatch):
  monkeypatch.setitem(sys.modules, 'tensorflow_datasets', None)
  provider = data.NSynthTfds(data_dir='/tmp/tfds')
  with pytest.raises(ImportError, match='pip install tensorflow-datasets'):
    provider.get_dataset()


def test_frame_rates_that_do_not_divide_16_khz_are_rejected():
  # 3.7.0 expected 1200 frames at 300 Hz while features had 1208 (hop 53).
  with pytest.raises(ValueError, match=r'`frame_rate`: 300 frames per second '
                     r'is a hop of 53\.333 samples'):
    data.TFRecordProvider('/data/x*', frame_rate=300)
  assert data.TFRecordProvider('/data/x*', frame_rate=200).features_dict[
      'f0_hz'].shape == [800]


def test_examples_of_other_settings_are_named_before_parsing(tmp_path):
  # 1 s examples (no metadata record, e.g. written by ddsp 3.7.0) read with
  # the default 4 s settings.
  path = tmp_path / 'train.tfrecord-00000-of-00001'
  with tf.io.TFRecordWriter(str(path)) as writer:
    features = {'audio': np.zeros(16000), 'audio_16k': np.zeros(16000),
                'f0_hz': np.zeros(250), 'f0_confidence': np.zeros(250),
                'loudness_db': np.zeros(250)}
    writer.write(tf.train.Example(features=tf.train.Features(feature={
        k: tf.train.Feature(float_list=tf.train.FloatList(value=v))
        for k, v in features.items()})).SerializeToString())
  provider = data.TFRecordProvider(str(tmp_path / 'train.tfrecord*'))
  with pytest.raises(ValueError) as info:
    provider.get_dataset()
  message = str(info.value)
  assert '`audio` has 16000 values, expected 64000' in message
  assert '`f0_hz` has 250 values, expected 1000' in message
  assert ('prepared with example_secs=1, sample_rate=16000, frame_rate=250, '
          'centered=False') in message
  provider = data.TFRecordProvider(str(tmp_path / 'train.tfrecord*'),
                                   example_secs=1)
  assert next(iter(provider.get_dataset()))['f0_hz'].shape == (250,)
