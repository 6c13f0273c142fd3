"""Data providers: `tf.data` pipelines of training examples.

A `DataProvider` knows its `sample_rate` and `frame_rate` and builds a dataset
of feature dicts; `get_batch` repeats, batches and prefetches it. Providers
are gin-registered (`train.data_provider = @data.TFRecordProvider()`).

Shuffling is file-order only (as in ddsp 3.7.0): datasets written by
`ddsp_prepare_tfrecord` are already shuffled inside their shards.
"""
import dataclasses
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from ddsp import dataset_schema
from ddsp import validation
import gin

_AUTOTUNE = tf.data.AUTOTUNE
# Files read concurrently by TFRecord providers.
_INTERLEAVE_CYCLE_LENGTH = 40


class DataProvider:
  """Base class: a dataset of feature dicts at known audio and frame rates."""

  def __init__(self, sample_rate: int, frame_rate: int):
    """Creates the provider.

    Args:
      sample_rate: Sample rate of the `audio` feature in Hz.
      frame_rate: Frames per second of frame-wise features (f0, loudness).
    """
    self._sample_rate = sample_rate
    self._frame_rate = frame_rate

  @property
  def sample_rate(self) -> int:
    """Sample rate of the `audio` feature in Hz."""
    return self._sample_rate

  @property
  def frame_rate(self) -> int:
    """Frames per second of frame-wise features."""
    return self._frame_rate

  def get_dataset(self, shuffle: bool) -> tf.data.Dataset:
    """A dataset of unbatched examples (dicts of tensors)."""
    raise NotImplementedError

  def get_batch(self, batch_size: int, shuffle: bool = True,
                repeats: int = -1,
                drop_remainder: bool = True) -> tf.data.Dataset:
    """Repeated, batched and prefetched examples.

    Args:
      batch_size: Examples per batch.
      shuffle: Shuffle the file order (see `get_dataset`).
      repeats: Passes over the data; -1 repeats forever.
      drop_remainder: Drop the last batch if it is smaller than `batch_size`.

    Returns:
      A dataset of dicts of [batch_size, ...] tensors.
    """
    dataset = self.get_dataset(shuffle)
    dataset = dataset.repeat(repeats)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(buffer_size=_AUTOTUNE)


@gin.register
class ExperimentalDataProvider(DataProvider):
  """A dataset saved with `tf.data.Dataset.save` (EXPERIMENTAL)."""

  def __init__(self, data_dir: str, sample_rate: int, frame_rate: int):
    """Creates the provider.

    Args:
      data_dir: Directory written by `tf.data.Dataset.save`.
      sample_rate: Sample rate of the audio in Hz.
      frame_rate: Frames per second of frame-wise features.
    """
    super().__init__(sample_rate, frame_rate)
    self.data_dir = data_dir

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """The saved dataset, in its saved order (`shuffle` is ignored)."""
    del shuffle
    return tf.data.Dataset.load(self.data_dir)


class TfdsProvider(DataProvider):
  """A TensorFlow Datasets dataset (needs `tensorflow-datasets`)."""

  def __init__(self, name: str, split: str, data_dir: Optional[str],
               sample_rate: int, frame_rate: int):
    """Creates the provider.

    Args:
      name: TFDS name, e.g. 'nsynth/gansynth_subset.f0_and_loudness:2.3.0'.
      split: Split name, e.g. 'train'.
      data_dir: Where the prepared dataset lives (nothing is downloaded).
      sample_rate: Sample rate of the audio in Hz.
      frame_rate: Frames per second of frame-wise features.
    """
    super().__init__(sample_rate, frame_rate)
    self._name = name
    self._split = split
    self._data_dir = data_dir

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """The TFDS split, with shuffled files if `shuffle`."""
    try:
      import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      raise ImportError(
          f'{type(self).__name__} reads TensorFlow Datasets, which is not '
          'installed; run `pip install tensorflow-datasets`.') from e
    return tfds.load(self._name, data_dir=self._data_dir, split=self._split,
                     shuffle_files=shuffle, download=False)


@gin.register
class NSynthTfds(TfdsProvider):
  """NSynth from TFDS, with features renamed to the ddsp keys."""

  def __init__(self,
               name: str = 'nsynth/gansynth_subset.f0_and_loudness:2.3.0',
               split: str = 'train',
               data_dir: Optional[str] = 'gs://tfds-data/datasets',
               sample_rate: int = 16000,
               frame_rate: int = 250,
               include_note_labels: bool = True):
    """Creates the provider.

    Args:
      name: TFDS name of an NSynth config with f0 and loudness.
      split: Split name.
      data_dir: Where the prepared dataset lives.
      sample_rate: Sample rate of the audio in Hz (NSynth: 16000).
      frame_rate: Frames per second of f0/loudness (NSynth config: 250).
      include_note_labels: Also output `pitch` and instrument labels.
    """
    if data_dir == 'gs://tfds-data/datasets':
      logging.warning(
          'Reading NSynth from the public TFDS bucket; copying it to your own '
          'bucket is faster and avoids egress costs.')
    super().__init__(name, split, data_dir, sample_rate, frame_rate)
    self._include_note_labels = include_note_labels

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """Examples with `audio`, `f0_hz`, `f0_confidence`, `loudness_db`."""

    def preprocess_ex(ex):
      ex_out = {
          'audio': ex['audio'],
          'f0_hz': ex['f0']['hz'],
          'f0_confidence': ex['f0']['confidence'],
          'loudness_db': ex['loudness']['db'],
      }
      if self._include_note_labels:
        ex_out.update({
            'pitch': ex['pitch'],
            'instrument_source': ex['instrument']['source'],
            'instrument_family': ex['instrument']['family'],
            'instrument': ex['instrument']['label'],
        })
      return ex_out

    dataset = super().get_dataset(shuffle)
    return dataset.map(preprocess_ex, num_parallel_calls=_AUTOTUNE)


@gin.register
class TFRecordProvider(DataProvider):
  """TFRecord files written by `ddsp_prepare_tfrecord`."""

  def __init__(self,
               file_pattern: Optional[str] = None,
               example_secs: float = 4,
               sample_rate: int = 16000,
               frame_rate: int = 250,
               centered: bool = False):
    """Creates the provider.

    Args:
      file_pattern: Glob of the TFRecord files (e.g. '/data/train.tfrecord*');
        None uses `default_file_pattern`.
      example_secs: Seconds per example (`--example_secs` of the pipeline).
      sample_rate: Sample rate of `audio` in Hz (`--sample_rate`).
      frame_rate: Frames per second of the features (`--frame_rate`).
      centered: Whether features were computed with `--center` (one more
        frame per example).
    """
    validation.positive_number(example_secs, 'example_secs')
    validation.positive_number(frame_rate, 'frame_rate')
    super().__init__(sample_rate, frame_rate)
    self._file_pattern = file_pattern or self.default_file_pattern
    self._schema = dataset_schema.ExampleSchema(example_secs, sample_rate,
                                                frame_rate, centered)
    lengths = self._schema.lengths()
    self._audio_length = lengths['audio']
    self._audio_16k_length = lengths['audio_16k']
    self._feature_length = lengths['f0_hz']

  def get_feature_length(self, centered: bool) -> int:
    """Frames per example: 1000 for 4 s at 250 Hz ('same'), 1001 centred."""
    return dataclasses.replace(self._schema, centered=centered).lengths()[
        'f0_hz']

  @property
  def default_file_pattern(self) -> str:
    """File pattern used when none is given; subclasses override it."""
    raise NotImplementedError(
        'You must pass a "file_pattern" argument to TFRecordProvider.')

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """Parsed examples, reading up to 40 files at once.

    Args:
      shuffle: Shuffle the order of the files (examples inside a file keep
        their order).

    Returns:
      A dataset of dicts of float32 tensors (see `features_dict`).
    """

    self.check_files()

    def parse_tfexample(record):
      return tf.io.parse_single_example(record, self.features_dict)

    filenames = tf.data.Dataset.list_files(self._file_pattern,
                                           shuffle=shuffle)
    dataset = filenames.interleave(
        map_func=tf.data.TFRecordDataset,
        cycle_length=_INTERLEAVE_CYCLE_LENGTH,
        num_parallel_calls=_AUTOTUNE)
    return dataset.map(parse_tfexample, num_parallel_calls=_AUTOTUNE)

  def check_files(self) -> None:
    """Checks that the files hold examples this provider can parse.

    Called by `get_dataset`, so that a mismatch fails at once with a message
    instead of "Can't parse serialized Example" deep inside tf.data. Data
    written by `ddsp_prepare_tfrecord` carry a metadata record
    (`dataset_schema`) whose settings are compared with this provider's;
    other data are checked on their first example.

    Raises:
      ParameterError: naming each feature whose length differs (found vs
        expected) and the settings (example_secs, sample_rate, frame_rate,
        centered) that read the data.
    """
    paths = sorted(tf.io.gfile.glob(self._file_pattern))
    if not paths:
      return  # tf.data names the pattern that matches no files.
    records = dataset_schema.match_metadata(paths, _metadata_files)
    for record in records:
      if len({_split_of(path, record) for path in record['shards']}) > 1:
        logging.warning(
            'file_pattern %r matches the shards of several splits (%s) of '
            '%s; use one split per provider, e.g. %r.', self._file_pattern,
            ', '.join(record['shard_prefixes']), record['path'],
            os.path.join(os.path.dirname(record['path']),
                         record['shard_prefixes'][-1] + '*'))
      if not record['features']:
        raise validation.ParameterError(
            f'{record["path"]}: these shards hold whole files or chunks of '
            'varying length (prepared with example_secs=0); '
            f'{type(self).__name__} reads examples of a fixed length. '
            'Prepare the data with --example_secs > 0.')
      if record['schema'] != self._schema:
        self._raise_mismatch(record['path'], record['features'],
                             record['schema'])
    owned = {path for record in records for path in record['shards']}
    unchecked = [path for path in paths if path not in owned]
    if unchecked:
      lengths = _first_example_lengths(unchecked[0])
      if lengths is not None:
        self._raise_mismatch(unchecked[0], lengths,
                             dataset_schema.infer(lengths))

  def _raise_mismatch(self, path: str, lengths: Dict[str, int],
                      written_with: Optional[dataset_schema.ExampleSchema]
                      ) -> None:
    """Raises if `lengths` do not fit `features_dict` (see `check_files`)."""
    problems = []
    for key, spec in self.features_dict.items():
      if not isinstance(spec, tf.io.FixedLenFeature):
        continue
      expected = int(np.prod(spec.shape))
      if key not in lengths:
        problems.append(f'`{key}` is missing')
      elif lengths[key] != expected:
        problems.append(f'`{key}` has {lengths[key]} values, expected '
                        f'{expected}')
    if not problems:
      return
    fix = ('Read them with the example_secs, sample_rate, frame_rate and '
           'centered they were prepared with.')
    if written_with is not None:
      fix = (f'They were prepared with {written_with.settings()}: read them '
             'with the same settings.')
    raise validation.ParameterError(
        f'{path} does not hold examples that {type(self).__name__}('
        f'{self._schema.settings()}) can read: {"; ".join(problems)}. {fix}')

  @property
  def features_dict(self) -> Dict[str, tf.io.FixedLenFeature]:
    """Feature spec: `audio`, `audio_16k`, `f0_hz`, `f0_confidence`, `loudness_db`."""
    return {
        'audio': tf.io.FixedLenFeature([self._audio_length], tf.float32),
        'audio_16k': tf.io.FixedLenFeature([self._audio_16k_length],
                                           tf.float32),
        'f0_hz': tf.io.FixedLenFeature([self._feature_length], tf.float32),
        'f0_confidence': tf.io.FixedLenFeature([self._feature_length],
                                               tf.float32),
        'loudness_db': tf.io.FixedLenFeature([self._feature_length],
                                             tf.float32),
    }


def _metadata_files(directory: str) -> List[Tuple[str, str]]:
  """(path, text) of the dataset metadata records in `directory`."""
  pattern = os.path.join(directory,
                         f'{dataset_schema.METADATA_KIND}-*.json')
  files = []
  for path in tf.io.gfile.glob(pattern):
    with tf.io.gfile.GFile(path) as f:
      files.append((path, f.read()))
  return files


def _split_of(shard_path: str, record: Dict[str, Any]) -> str:
  """The shard prefix (split) of a shard listed in a metadata record."""
  name = os.path.basename(shard_path)
  return max((p for p in record['shard_prefixes']
              if name.startswith(p + '-')), key=len)


def _first_example_lengths(path: str) -> Optional[Dict[str, int]]:
  """Number of values of each feature of the first example in `path`."""
  record = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
  if record is None:
    return None
  example = tf.train.Example.FromString(record.numpy())
  lengths = {}
  for key, feature in example.features.feature.items():
    kind = feature.WhichOneof('kind')
    lengths[key] = len(getattr(feature, kind).value) if kind else 0
  return lengths


@gin.register
class LegacyTFRecordProvider(TFRecordProvider):
  """TFRecords from ddsp versions before `audio_16k` was added."""

  @property
  def features_dict(self) -> Dict[str, tf.io.FixedLenFeature]:
    """Feature spec without `audio_16k`."""
    features = dict(super().features_dict)
    del features['audio_16k']
    return features


# ------------------------------------------------------------------------------
# Multiple datasets
# ------------------------------------------------------------------------------
@gin.register
class BaseMultiProvider(DataProvider):
  """Combines several providers that share sample and frame rates."""

  def __init__(self, data_providers: Sequence[DataProvider],
               batch_size_ratios: Sequence[float] = ()):
    """Creates the provider.

    Args:
      data_providers: Providers to combine.
      batch_size_ratios: Relative share of each provider (normalised to sum
        to 1); empty for equal shares.

    Raises:
      ValueError: if the ratios and providers differ in number, or the
        providers' sample or frame rates differ.
    """
    if batch_size_ratios:
      if len(batch_size_ratios) != len(data_providers):
        raise ValueError(
            f'Received {len(batch_size_ratios)} batch_size_ratios for '
            f'{len(data_providers)} data_providers; expected one per provider.')
      batch_size_ratios = np.array(batch_size_ratios, np.float64)
      batch_size_ratios = batch_size_ratios / np.sum(batch_size_ratios)
    for attribute in ('sample_rate', 'frame_rate'):
      rates = {getattr(dp, attribute) for dp in data_providers}
      if len(rates) != 1:
        raise ValueError(f'All data_providers must share one {attribute}; '
                         f'received {sorted(rates)}.')
    super().__init__(data_providers[0].sample_rate,
                     data_providers[0].frame_rate)
    self._data_providers = list(data_providers)
    self._batch_size_ratios = batch_size_ratios


@gin.register
class ZippedProvider(BaseMultiProvider):
  """Tuples with one example from each provider."""

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """`Dataset.zip` of the providers' datasets."""
    return tf.data.Dataset.zip(
        tuple(dp.get_dataset(shuffle) for dp in self._data_providers))

  def get_batch(self, batch_size: int, shuffle: bool = True,
                repeats: int = -1,
                drop_remainder: bool = False) -> tf.data.Dataset:
    """Zipped batches; with ratios, provider i gives `int(batch_size * r_i)`."""
    if not len(self._batch_size_ratios):  # pylint: disable=g-explicit-length-test
      return super().get_batch(batch_size, shuffle, repeats, drop_remainder)
    batch_sizes = [int(batch_size * ratio)
                   for ratio in self._batch_size_ratios]
    datasets = tuple(
        dp.get_dataset(shuffle).batch(size, drop_remainder=drop_remainder)
        for dp, size in zip(self._data_providers, batch_sizes))
    dataset = tf.data.Dataset.zip(datasets).repeat(repeats)
    return dataset.prefetch(buffer_size=_AUTOTUNE)


@gin.register
class MixedProvider(BaseMultiProvider):
  """Examples drawn at random from the providers, weighted by the ratios."""

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """`Dataset.sample_from_datasets` of the providers' datasets."""
    weights = (list(self._batch_size_ratios)
               if len(self._batch_size_ratios) else None)
    return tf.data.Dataset.sample_from_datasets(
        [dp.get_dataset(shuffle) for dp in self._data_providers],
        weights=weights)


# ------------------------------------------------------------------------------
# Synthetic and URMP datasets
# ------------------------------------------------------------------------------
@gin.register
class SyntheticNotes(TFRecordProvider):
  """Synthetic notes from `ddsp_generate_synthetic_dataset`."""

  def __init__(self, n_timesteps: int, n_harmonics: int, n_mags: int,
               file_pattern: Optional[str] = None, sample_rate: int = 16000):
    """Creates the provider.

    Args:
      n_timesteps: Frames per example.
      n_harmonics: Harmonics (and sinusoids) per frame.
      n_mags: Noise filter magnitudes per frame.
      file_pattern: Glob of the TFRecord files.
      sample_rate: Sample rate of the rendered audio in Hz.
    """
    self._n_timesteps = n_timesteps
    self._n_harmonics = n_harmonics
    self._n_mags = n_mags
    super().__init__(file_pattern=file_pattern, sample_rate=sample_rate)

  @property
  def features_dict(self) -> Dict[str, tf.io.FixedLenFeature]:
    """Synthesizer controls, each [n_timesteps, depth] float32."""
    depths = {
        'f0_hz': 1,
        'harm_amp': 1,
        'harm_dist': self._n_harmonics,
        'sin_amps': self._n_harmonics,
        'sin_freqs': self._n_harmonics,
        'noise_magnitudes': self._n_mags,
    }
    return {key: tf.io.FixedLenFeature([self._n_timesteps, depth], tf.float32)
            for key, depth in depths.items()}


@gin.register
class Urmp(TFRecordProvider):
  """URMP solo-instrument datasets (4 s examples, 16 kHz, 250 Hz frames)."""

  def __init__(self, base_dir: str, instrument_key: str = 'tpt',
               split: str = 'train', suffix: Optional[str] = None):
    """Creates the provider.

    Args:
      base_dir: Directory holding the URMP TFRecords.
      instrument_key: Instrument code (e.g. 'tpt', 'vn') or 'all'.
      split: 'train' or 'test'.
      suffix: Optional file-name suffix after the split.
    """
    self.instrument_key = instrument_key
    self.split = split
    self.base_dir = base_dir
    self.suffix = '' if suffix is None else '_' + suffix
    super().__init__()

  @property
  def default_file_pattern(self) -> str:
    """`all_instruments_<split><suffix>.tfrecord*` or the per-instrument name."""
    if self.instrument_key == 'all':
      file_pattern = f'all_instruments_{self.split}{self.suffix}.tfrecord*'
    else:
      file_pattern = (f'urmp_{self.instrument_key}_solo_ddsp_conditioning_'
                      f'{self.split}{self.suffix}.tfrecord*')
    return os.path.join(self.base_dir, file_pattern)


# Index of each URMP instrument code in `instrument_id`; unknown codes are -1.
URMP_INSTRUMENTS = ('vn', 'va', 'vc', 'db', 'fl', 'ob', 'cl', 'sax', 'bn',
                    'tpt', 'hn', 'tbn', 'tba')
_NOTE_KEYS = ('note_active_velocities', 'note_active_frame_indices',
              'note_onsets', 'note_offsets')


def _urmp_midi_features(ex: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
  """Reshapes URMP note features to [n_frames, 128] and adds MIDI labels."""
  ex = dict(ex)
  for key in _NOTE_KEYS:
    ex[key] = tf.reshape(ex[key], [-1, 128])
  instruments = tf.constant(URMP_INSTRUMENTS)
  matches = tf.where(tf.equal(instruments, ex['instrument_id']))
  ex['instrument_id'] = tf.cond(
      tf.size(matches) > 0, lambda: matches[0, 0],
      lambda: tf.constant(-1, tf.int64))
  ex['midi'] = tf.argmax(ex['note_active_frame_indices'], axis=-1)
  ex['onsets'] = tf.cast(tf.reduce_max(ex['note_onsets'], axis=-1) > 0,
                         tf.int64)
  ex['offsets'] = tf.cast(tf.reduce_max(ex['note_offsets'], axis=-1) > 0,
                          tf.int64)
  ex['f0_hz'] = ex['f0_hz'][:, tf.newaxis]
  ex['loudness_db'] = ex['loudness_db'][:, tf.newaxis]
  return ex


@gin.register
class UrmpMidi(Urmp):
  """URMP with frame-wise MIDI note annotations.

  Adds `note_active_velocities`, `note_active_frame_indices`, `note_onsets`,
  `note_offsets` ([n_frames, 128]), `power_db` [n_frames], `recording_id`
  (string), `instrument_id` (index in `URMP_INSTRUMENTS`, -1 if unknown),
  `midi` (argmax note per frame) and `onsets`/`offsets` (int64 flags);
  `f0_hz` and `loudness_db` get a channel axis ([n_frames, 1]).
  """

  @property
  def features_dict(self) -> Dict[str, Any]:
    """Base features plus the note, power and id features."""
    n_frames = self._feature_length
    features = dict(super().features_dict)
    for key in _NOTE_KEYS:
      features[key] = tf.io.FixedLenFeature([n_frames * 128], tf.float32)
    features.update({
        'power_db': tf.io.FixedLenFeature([n_frames], tf.float32),
        'instrument_id': tf.io.FixedLenFeature([], tf.string),
        'recording_id': tf.io.FixedLenFeature([], tf.string),
    })
    return features

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """Parsed examples with MIDI labels (see class docstring)."""
    return super().get_dataset(shuffle).map(_urmp_midi_features,
                                            num_parallel_calls=_AUTOTUNE)


class UrmpMidiUnsegmented(Urmp):
  """Whole (variable-length) URMP recordings with MIDI annotations."""

  @property
  def features_dict(self) -> Dict[str, Any]:
    """The `UrmpMidi` features as variable-length features."""
    float_keys = ('audio', 'audio_16k', 'f0_hz', 'f0_confidence',
                  'loudness_db', 'power_db') + _NOTE_KEYS
    features = {key: tf.io.VarLenFeature(tf.float32) for key in float_keys}
    features.update({
        'instrument_id': tf.io.FixedLenFeature([], tf.string),
        'recording_id': tf.io.FixedLenFeature([], tf.string),
    })
    return features

  def get_dataset(self, shuffle: bool = True) -> tf.data.Dataset:
    """Parsed whole recordings with MIDI labels (dense tensors)."""

    def densify(ex):
      return {key: tf.sparse.to_dense(value)
              if isinstance(value, tf.SparseTensor) else value
              for key, value in ex.items()}

    dataset = super().get_dataset(shuffle).map(densify,
                                               num_parallel_calls=_AUTOTUNE)
    return dataset.map(_urmp_midi_features, num_parallel_calls=_AUTOTUNE)
