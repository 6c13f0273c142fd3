"""Apache Beam pipeline that turns audio files into TFRecord training examples.

The chain of transforms (`prepare_tfrecord` builds it):

  ListFiles -> LoadAudio -> ChunkAudio -> ComputeFeatures -> SplitExamples
    -> SpillToTempFiles -> [Partition train/eval] -> Reshuffle -> ReadSpilled
    -> WriteToTFRecord
  failures of LoadAudio and ComputeFeatures -> ToJsonLines -> WriteToText

* Audio is decoded once (`ddsp.audio_io`: any libsndfile format, any rate,
  stereo downmixed by channel mean) and resampled with soxr to `sample_rate`
  (`audio`) and to 16 kHz (`audio_16k`, the rate of every feature).
* Long files are cut into `chunk_secs` chunks (the last one zero-padded, as in
  ddsp 3.7.0); f0/confidence (CREPE) and loudness are computed on whole
  chunks, then every chunk is cut into `example_secs` windows every
  `hop_secs`. Windows that lie entirely inside the zero padding of the last
  chunk hold none of the file's audio and are dropped.
* Bad input never stops the job: a file that cannot be decoded, holds no
  samples, is shorter than `example_secs`, or whose features fail goes to the
  dead-letter file `failed-<name>.jsonl` next to the output
  (`{"path": ..., "reason": ...}` per line) and is counted. Digital silence is
  kept (its frames come out unvoiced, at the -80 dB loudness floor) and
  counted as `silent-files`.
* Memory does not grow with the dataset: examples are appended to temporary
  files as they are made and only (file, offset, length) pointers are
  shuffled, so even Beam's in-memory DirectRunner holds pointers, not audio.
* Output shards appear whole or not at all (Beam writes them to a temporary
  directory and renames them), as do the dead-letter file and the dataset
  statistics pickle (`dataset_statistics-<name>.pkl`, train split). Side
  files are named with a prefix so that a reading pattern like
  `train.tfrecord*` never matches them.
"""
import dataclasses
import hashlib
import json
import logging
import os
import pickle
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union
import uuid

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
import numpy as np

from ddsp import audio_io
from ddsp import spectral_ops
from ddsp.training import data
from ddsp.training import postprocessing

CREPE_MODELS = ('tiny', 'small', 'medium', 'large', 'full')
# Rate of `audio_16k` and of every feature computation.
FEATURE_SAMPLE_RATE = 16000
# FFT size of the loudness feature (samples at 16 kHz).
LOUDNESS_N_FFT = 512

METRICS_NAMESPACE = 'prepare-tfrecord'
_FAILED = 'failed'
_LOG = logging.getLogger(__name__)
_AUDIO_KEYS = ('audio', 'audio_16k')
_FEATURE_KEYS = ('f0_hz', 'f0_confidence', 'loudness_db')


@dataclasses.dataclass
class AudioPiece:
  """A whole file, or one chunk of it, with its features.

  Attributes:
    path: The source file.
    features: 'audio' [n_samples at sample_rate], 'audio_16k' [n_samples at
      16 kHz] and, once computed, 'f0_hz', 'f0_confidence', 'loudness_db'
      [n_frames].
    audio_secs: Seconds of the file's own audio in this piece (the rest of
      a final chunk is zero padding).
    index: Chunk number within the file (0 for whole files).
    n_pieces: Number of chunks the file was cut into.
  """
  path: str
  features: Dict[str, np.ndarray]
  audio_secs: float
  index: int = 0
  n_pieces: int = 1

  def describe(self) -> str:
    """Names the piece for logs and error reports."""
    if self.n_pieces == 1:
      return self.path
    return f'{self.path} (chunk {self.index + 1}/{self.n_pieces})'


@dataclasses.dataclass(frozen=True)
class PrepareSummary:
  """What a `prepare_tfrecord` run did (from the pipeline's metrics).

  Attributes:
    files_ok: Files that loaded.
    files_failed: Files that did not load (listed in the dead-letter file).
    chunks_failed: Chunks of loaded files whose features failed (also listed
      in the dead-letter file).
    examples: Examples written per output ('train'/'eval' with an eval split,
      else 'all').
    audio_secs: Seconds of audio in the files that loaded.
    wall_secs: Wall-clock seconds of the whole run.
    failed_path: The dead-letter JSONL file.
    statistics_path: The dataset statistics pickle, or None if not computed.
  """
  files_ok: int
  files_failed: int
  chunks_failed: int
  examples: Dict[str, int]
  audio_secs: float
  wall_secs: float
  failed_path: str
  statistics_path: Optional[str]

  @property
  def realtime_factor(self) -> float:
    """Audio seconds prepared per wall-clock second."""
    return self.audio_secs / max(self.wall_secs, 1e-9)

  def __str__(self) -> str:
    examples = ', '.join(f'{n} {name}' for name, n in self.examples.items())
    chunks = (f', {self.chunks_failed} chunks failed' if self.chunks_failed
              else '')
    return (f'{self.files_ok} files ok, {self.files_failed} failed{chunks} '
            f'(see {self.failed_path}); examples written: {examples}; '
            f'{self.audio_secs / 3600:.3f} h of audio in {self.wall_secs:.1f} s '
            f'wall time ({self.realtime_factor:.2f} audio s per wall s)')


def _counter(name: str) -> Any:
  return beam.metrics.Metrics.counter(METRICS_NAMESPACE, name)


def side_file_path(output_tfrecord_path: str, kind: str, extension: str) -> str:
  """`<dir>/<kind>-<basename><extension>`: never matched by `<output>*`."""
  directory, basename = os.path.split(output_tfrecord_path)
  return os.path.join(directory, f'{kind}-{basename}{extension}')


# ------------------------------------------------------------------------------
# Stages: small functions and DoFns, one per named transform
# ------------------------------------------------------------------------------
def _open(path: str) -> audio_io.AudioSource:
  """Local paths go to libsndfile directly; other URLs through Beam's I/O."""
  if '://' not in path:
    return path
  return FileSystems.open(path)


class LoadAudioFn(beam.DoFn):
  """Decodes a file to `audio` at `sample_rate` and `audio_16k`.

  Outputs an `AudioPiece`, or a dead-letter record on the 'failed' tag for
  files that cannot be loaded or are shorter than `min_secs`.
  """

  def __init__(self, sample_rate: int, min_secs: float):
    self._sample_rate = sample_rate
    self._min_secs = min_secs

  def process(self, path: str) -> Iterator[Any]:
    try:
      audio, file_rate = audio_io.read_audio(_open(path))
    except audio_io.AudioLoadError as e:
      yield _failure(path, e.reason, 'files-failed')
      return
    secs = audio.shape[0] / file_rate
    if secs < self._min_secs:
      yield _failure(path, f'too short: {secs:.2f} s < example_secs '
                     f'{self._min_secs:g} s', 'files-failed')
      return
    if not np.any(audio):
      _LOG.warning('%s is digital silence; kept (unvoiced, loudness at the '
                      'floor).', path)
      _counter('silent-files').inc()
    _LOG.info('Loaded %s: %.2f s at %d Hz.', path, secs, file_rate)
    _counter('load-audio').inc()
    _counter('audio-ms').inc(int(round(secs * 1000)))
    features = {
        'audio': audio_io.resample(audio, file_rate, self._sample_rate),
        'audio_16k': audio_io.resample(audio, file_rate, FEATURE_SAMPLE_RATE),
    }
    yield AudioPiece(path, features, secs)


def _failure(path: str, reason: str,
             counter_name: str) -> beam.pvalue.TaggedOutput:
  """A dead-letter record on the 'failed' output, logged and counted."""
  _LOG.warning('Skipping %s: %s', path, reason)
  _counter(counter_name).inc()
  return beam.pvalue.TaggedOutput(_FAILED, {'path': path, 'reason': reason})


def chunk_audio(piece: AudioPiece, sample_rate: int,
                chunk_secs: float) -> Iterator[AudioPiece]:
  """Cuts a file into `chunk_secs` chunks, zero-padding the last one.

  The chunk count comes from `audio_16k`; `audio` is cut into as many chunks.
  """
  chunk_16k = int(chunk_secs * FEATURE_SAMPLE_RATE)
  n_chunks, _ = spectral_ops.get_framed_lengths(
      piece.features['audio_16k'].shape[0], chunk_16k, chunk_16k, 'same')
  chunked = {}
  for key, rate in (('audio', sample_rate),
                    ('audio_16k', FEATURE_SAMPLE_RATE)):
    chunk_length = int(chunk_secs * rate)
    x = piece.features[key][:n_chunks * chunk_length]
    x = np.pad(x, (0, n_chunks * chunk_length - x.shape[0]))
    chunked[key] = x.reshape(n_chunks, chunk_length)
  for i in range(n_chunks):
    yield AudioPiece(
        path=piece.path,
        features={key: chunked[key][i] for key in _AUDIO_KEYS},
        audio_secs=min(chunk_secs, piece.audio_secs - i * chunk_secs),
        index=i,
        n_pieces=n_chunks)


class ComputeFeaturesFn(beam.DoFn):
  """Adds CREPE `f0_hz`, `f0_confidence` and `loudness_db` to a piece.

  Features come from `audio_16k` at `frame_rate`, with 'same' padding
  (`ceil(n / hop)` frames) or 'center' padding (`n / hop + 1` frames).
  Pieces whose features fail go to the 'failed' tag.
  """

  def __init__(self, frame_rate: int, center: bool, viterbi: bool,
               crepe_model: str):
    self._frame_rate = frame_rate
    self._padding = 'center' if center else 'same'
    self._viterbi = viterbi
    self._crepe_model = crepe_model

  def _features(self, audio_16k: np.ndarray) -> Tuple[Any, Any, Any]:
    f0_hz, f0_confidence = spectral_ops.compute_f0(
        audio_16k, self._frame_rate, viterbi=self._viterbi,
        padding=self._padding, model_capacity=self._crepe_model)
    loudness_db = spectral_ops.compute_loudness(
        audio_16k, FEATURE_SAMPLE_RATE, self._frame_rate, LOUDNESS_N_FFT,
        padding=self._padding)
    return f0_hz, f0_confidence, loudness_db

  def setup(self):
    # A failure on one second of silence is a setup problem (e.g. missing
    # CREPE weights), not bad input: stop the job instead of dead-lettering
    # every chunk. This also loads the CREPE model once per worker.
    self._features(np.zeros(FEATURE_SAMPLE_RATE, np.float32))

  def process(self, piece: AudioPiece) -> Iterator[Any]:
    start = time.perf_counter()
    audio_16k = piece.features['audio_16k']
    try:
      f0_hz, f0_confidence, loudness_db = self._features(audio_16k)
    except Exception as e:  # pylint: disable=broad-except
      # One bad chunk must not stop a long job; the traceback goes to the log
      # and the reason to the dead-letter file.
      _LOG.exception('Feature extraction failed for %s', piece.describe())
      yield _failure(
          piece.path, f'feature extraction failed on chunk {piece.index + 1}/'
          f'{piece.n_pieces}: {type(e).__name__}: {e}', 'chunks-failed')
      return
    features = dict(piece.features)
    features['f0_hz'] = np.asarray(f0_hz, np.float32)
    features['f0_confidence'] = np.asarray(f0_confidence, np.float32)
    features['loudness_db'] = np.asarray(loudness_db, np.float32)
    secs = time.perf_counter() - start
    _LOG.info('Features for %s: %.1f s of audio in %.1f s (%.1fx real '
                 'time).', piece.describe(), audio_16k.shape[0] /
                 FEATURE_SAMPLE_RATE, secs,
                 audio_16k.shape[0] / FEATURE_SAMPLE_RATE / max(secs, 1e-9))
    yield dataclasses.replace(piece, features=features)


def _window(x: np.ndarray, window: int, hop: int) -> List[np.ndarray]:
  """Frames a sequence without end padding (partial tail windows dropped)."""
  n_windows, _ = spectral_ops.get_framed_lengths(x.shape[0], window, hop,
                                                 'valid')
  return [x[i * hop:i * hop + window] for i in range(max(n_windows, 0))]


def split_example(piece: AudioPiece, sample_rate: int, frame_rate: int,
                  example_secs: float, hop_secs: float,
                  center: bool) -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
  """Cuts a piece into `example_secs` windows every `hop_secs`.

  Audio windows hold `example_secs * rate` samples; feature windows
  `example_secs * frame_rate` frames (+1 when `center`). Windows starting at
  or after the end of the file's own audio (in the zero padding of a last
  chunk) are dropped.

  Yields:
    (piece_key, example) pairs; all examples of a piece share its key.
  """
  rates = {'audio': sample_rate, 'audio_16k': FEATURE_SAMPLE_RATE}
  windows = {}
  for key, sequence in piece.features.items():
    rate = rates.get(key, frame_rate)
    extra_frame = int(center and key in _FEATURE_KEYS)
    windows[key] = _window(sequence, int(example_secs * rate) + extra_frame,
                           int(hop_secs * rate))
  n_examples = min(len(w) for w in windows.values())
  n_kept = sum(1 for i in range(n_examples) if i * hop_secs < piece.audio_secs)
  if n_kept < n_examples:
    _counter('padding-windows-dropped').inc(n_examples - n_kept)
  key = piece_key(piece)
  for i in range(n_kept):
    yield key, {k: w[i] for k, w in windows.items()}


def piece_key(piece: AudioPiece) -> str:
  """Content hash of a piece's audio: decides its train/eval split."""
  return hashlib.blake2b(piece.features['audio'].tobytes(),
                         digest_size=16).hexdigest()


def _varint(value: int) -> bytes:
  """Protocol-buffer base-128 varint."""
  out = bytearray()
  while value > 0x7F:
    out.append(value & 0x7F | 0x80)
    value >>= 7
  out.append(value)
  return bytes(out)


def _length_delimited(field_number: int, payload: bytes) -> bytes:
  """A protocol-buffer field of wire type 2 (bytes, string or message)."""
  return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def to_tf_example(features: Dict[str, np.ndarray]) -> bytes:
  """Serializes float features as a `tf.train.Example` of FloatLists.

  The wire format is written directly: `Example.features` (1) ->
  `Features.feature` map entries (1: key, 2: value) -> `Feature.float_list`
  (2) -> packed `FloatList.value` (1) as little-endian float32. Building
  `tf.train.FloatList` from Python instead costs ~40 ms per 4 s example,
  as much as every other step of the pipeline except CREPE together.
  """
  entries = b''.join(
      _length_delimited(1, _length_delimited(1, key.encode()) +
                        _length_delimited(2, _length_delimited(
                            2, _length_delimited(
                                1, np.asarray(value, '<f4').tobytes()))))
      for key, value in features.items())
  return _length_delimited(1, entries)


class SpillToTempFilesFn(beam.DoFn):
  """Appends records to one temporary file per bundle.

  Emits `(key, (file, offset, length))`: shuffling these pointers instead of
  the records keeps the runner's memory independent of the dataset size.
  """

  def __init__(self, temp_dir: str):
    self._temp_dir = temp_dir

  def start_bundle(self):
    self._path = FileSystems.join(self._temp_dir, uuid.uuid4().hex)
    self._file = None
    self._offset = 0

  def process(self, keyed_record: Tuple[str, bytes]) -> Iterator[Any]:
    key, record = keyed_record
    if self._file is None:
      self._file = FileSystems.create(self._path)
    self._file.write(record)
    yield key, (self._path, self._offset, len(record))
    self._offset += len(record)

  def finish_bundle(self):
    if self._file is not None:
      self._file.close()


class ReadSpilledFn(beam.DoFn):
  """Reads back records written by `SpillToTempFilesFn` and counts them."""

  _MAX_OPEN_FILES = 64

  def __init__(self, counter_name: str):
    self._counter_name = counter_name

  def start_bundle(self):
    self._files = {}

  def process(self, pointer: Tuple[str, int, int]) -> Iterator[bytes]:
    path, offset, length = pointer
    if path not in self._files:
      if len(self._files) >= self._MAX_OPEN_FILES:
        self.finish_bundle()
        self._files = {}
      self._files[path] = FileSystems.open(path)
    spill_file = self._files[path]
    spill_file.seek(offset)
    _counter(self._counter_name).inc()
    yield spill_file.read(length)

  def finish_bundle(self):
    for spill_file in self._files.values():
      spill_file.close()


class WriteShuffledTFRecord(beam.PTransform):
  """Shuffles spilled-record pointers and writes the records as TFRecords."""

  def __init__(self, path: str, num_shards: Optional[int], counter_name: str):
    super().__init__()
    self._path = path
    self._num_shards = num_shards
    self._counter_name = counter_name

  def expand(self, pointers):
    return (pointers
            | 'Reshuffle' >> beam.Reshuffle()
            | 'ReadSpilled' >> beam.ParDo(ReadSpilledFn(self._counter_name))
            | 'WriteToTFRecord' >> beam.io.WriteToTFRecord(
                self._path, num_shards=self._num_shards or 0))


def _eval_keys(keys: List[str], eval_split_fraction: float) -> frozenset:
  """The first `int(n * fraction)` piece keys in sorted (hash) order."""
  return frozenset(sorted(keys)[:int(len(keys) * eval_split_fraction)])


def _whole_piece(piece: AudioPiece) -> Tuple[str, Dict[str, np.ndarray]]:
  return piece_key(piece), piece.features


def _serialize(key: str, features: Dict[str, np.ndarray]) -> Tuple[str, bytes]:
  return key, to_tf_example(features)


def _in_train_split(keyed_pointer: Tuple[str, Any], n_partitions: int,
                    eval_keys: frozenset) -> int:
  del n_partitions
  return int(keyed_pointer[0] not in eval_keys)


# ------------------------------------------------------------------------------
# Pipeline
# ------------------------------------------------------------------------------
def parse_pipeline_options(
    pipeline_options: Union[str, Sequence[str], None]
) -> beam.options.pipeline_options.PipelineOptions:
  """Builds Beam options from a comma-separated string or a list of flags.

  Empty strings are dropped (Beam rejects them). Without a `--runner`, Beam's
  DirectRunner is used.
  """
  return beam.options.pipeline_options.PipelineOptions(
      _option_list(pipeline_options))


def _option_list(pipeline_options: Union[str, Sequence[str], None]
                 ) -> List[str]:
  if isinstance(pipeline_options, str):
    pipeline_options = pipeline_options.split(',')
  return [flag.strip() for flag in pipeline_options or () if flag.strip()]


def shard_pattern(prefix: str) -> str:
  """Glob of the shards Beam writes for `prefix` (`-SSSSS-of-NNNNN`)."""
  return f'{prefix}-?????-of-?????'


def _warn_about_existing_shards(prefixes: Sequence[str]) -> None:
  existing = [metadata.path
              for match in FileSystems.match([shard_pattern(p)
                                              for p in prefixes])
              for metadata in match.metadata_list]
  if existing:
    _LOG.warning(
        '%d shard(s) from an earlier run already exist (e.g. %s); shards with '
        'the same names will be replaced, others would be read together with '
        'this run\'s output. Delete them or choose another '
        'output_tfrecord_path.', len(existing), existing[0])


def with_default_parallelism(
    pipeline_options: Union[str, Sequence[str], None]) -> List[str]:
  """Adds one DirectRunner worker process per CPU core unless told otherwise.

  Options that name another runner, or already set `--direct_num_workers`,
  are returned unchanged (as a list without empty entries).
  """
  given = _option_list(pipeline_options)
  runner = parse_pipeline_options(given).get_all_options()['runner']
  if runner not in (None, 'DirectRunner', 'direct'):
    return given
  if any(flag.startswith('--direct_num_workers') for flag in given):
    return given
  return given + [f'--direct_num_workers={os.cpu_count() or 1}',
                  '--direct_running_mode=multi_processing']


def _write_atomically(path: str, payload: bytes) -> None:
  """Writes a file under a temporary name, then renames it into place."""
  temp_path = f'{path}.tmp-{uuid.uuid4().hex}'
  with FileSystems.create(temp_path) as f:
    f.write(payload)
  FileSystems.rename([temp_path], [path])


def _counter_values(result: beam.runners.runner.PipelineResult
                    ) -> Dict[str, int]:
  query = result.metrics().query(MetricsFilter().with_namespace(
      METRICS_NAMESPACE))
  values = {}
  for counter in query['counters']:
    value = counter.committed
    if value is None:
      value = counter.attempted
    name = counter.key.metric.name
    values[name] = values.get(name, 0) + value
  return values


def _save_dataset_statistics(train_pattern: str, stats_path: str,
                             example_secs: float, sample_rate: int,
                             frame_rate: int, center: bool) -> Optional[str]:
  """Computes and pickles the train split's statistics; returns the path."""
  provider = data.TFRecordProvider(train_pattern, example_secs=example_secs,
                                   sample_rate=sample_rate,
                                   frame_rate=frame_rate, centered=center)
  try:
    stats = postprocessing.compute_dataset_statistics(provider, batch_size=64)
  except ValueError as e:
    _LOG.warning('Dataset statistics not saved: %s', e)
    return None
  _write_atomically(stats_path, pickle.dumps(stats))
  _LOG.info('Saved dataset statistics to %s.', stats_path)
  return stats_path


def prepare_tfrecord(input_audio_paths: Sequence[str],
                     output_tfrecord_path: str,
                     num_shards: Optional[int] = None,
                     sample_rate: int = 16000,
                     frame_rate: int = 250,
                     example_secs: float = 4,
                     hop_secs: float = 1,
                     eval_split_fraction: float = 0.0,
                     chunk_secs: float = 20.0,
                     center: bool = False,
                     viterbi: bool = True,
                     pipeline_options: Union[str, Sequence[str]] = '',
                     crepe_model: str = 'full') -> PrepareSummary:
  """Prepares a TFRecord dataset of training examples from audio files.

  Args:
    input_audio_paths: Audio files (local paths or URLs Beam can read).
    output_tfrecord_path: Output prefix; shards are
      `<prefix>-SSSSS-of-NNNNN`, or `<prefix>-train-...` and
      `<prefix>-eval-...` with an eval split.
    num_shards: Shards per output; None lets Beam decide.
    sample_rate: Rate of the `audio` feature in Hz (`audio_16k` and all
      features are at 16 kHz).
    frame_rate: Feature frames per second; 0 or None writes audio only.
    example_secs: Example length in seconds; 0 or None writes whole files
      (or chunks).
    hop_secs: Seconds between the starts of consecutive examples.
    eval_split_fraction: Fraction of chunks (whole files without chunking)
      that go to the eval output; 0 writes a single output.
    chunk_secs: Files are cut into chunks of this many seconds before
      features are computed (the last chunk zero-padded); 0 or None computes
      features on whole files.
    center: Centred feature frames (`example_secs * frame_rate + 1` frames
      per example) instead of 'same' framing.
    viterbi: Viterbi decoding of the CREPE pitch.
    pipeline_options: Beam flags, comma-separated or a list, e.g.
      '--runner=DirectRunner,--direct_num_workers=2,'
      '--direct_running_mode=multi_processing'. Empty is fine.
    crepe_model: CREPE capacity: 'tiny', 'small', 'medium', 'large' or
      'full'.

  Returns:
    A `PrepareSummary` of the run.

  Raises:
    ValueError: for invalid arguments (before anything runs).
  """
  if crepe_model not in CREPE_MODELS:
    raise ValueError(f'Received an invalid value for `crepe_model`, expected '
                     f'one of {CREPE_MODELS}. Received: crepe_model='
                     f'{crepe_model!r}')
  if example_secs and hop_secs <= 0:
    raise ValueError(f'hop_secs must be positive; received {hop_secs}.')
  if not 0.0 <= eval_split_fraction < 1.0:
    raise ValueError('eval_split_fraction must be in [0, 1); received '
                     f'{eval_split_fraction}.')
  if not input_audio_paths:
    raise ValueError('No input audio files were given.')
  start = time.perf_counter()
  output_dir = os.path.dirname(output_tfrecord_path)
  failed_path = side_file_path(output_tfrecord_path, 'failed', '.jsonl')
  temp_dir = FileSystems.join(output_dir or '.',
                              f'.ddsp-prepare-temp-{uuid.uuid4().hex}')
  if eval_split_fraction:
    splits = {'train': f'{output_tfrecord_path}-train',
              'eval': f'{output_tfrecord_path}-eval'}
  else:
    splits = {'all': output_tfrecord_path}
  _warn_about_existing_shards(list(splits.values()))

  pipeline = beam.Pipeline(options=parse_pipeline_options(pipeline_options))
  loaded = (pipeline
            | 'ListFiles' >> beam.Create(list(input_audio_paths))
            | 'LoadAudio' >> beam.ParDo(
                LoadAudioFn(sample_rate, example_secs or 0)).with_outputs(
                    _FAILED, main='ok'))
  failures = [loaded[_FAILED]]
  pieces = loaded.ok
  if chunk_secs:
    pieces = pieces | 'ChunkAudio' >> beam.FlatMap(chunk_audio, sample_rate,
                                                   chunk_secs)
  if frame_rate:
    with_features = pieces | 'ComputeFeatures' >> beam.ParDo(
        ComputeFeaturesFn(frame_rate, center, viterbi, crepe_model)
    ).with_outputs(_FAILED, main='ok')
    failures.append(with_features[_FAILED])
    pieces = with_features.ok
  if example_secs:
    examples = pieces | 'SplitExamples' >> beam.FlatMap(
        split_example, sample_rate, frame_rate, example_secs, hop_secs, center)
  else:
    examples = pieces | 'WholeExamples' >> beam.Map(_whole_piece)
  pointers = (examples
              | 'ToTFExample' >> beam.MapTuple(_serialize)
              | 'SpillToTempFiles' >> beam.ParDo(SpillToTempFilesFn(temp_dir)))
  if eval_split_fraction:
    eval_keys = (pointers
                 | 'PieceKeys' >> beam.Keys()
                 | 'DistinctKeys' >> beam.Distinct()
                 | 'AllKeys' >> beam.combiners.ToList()
                 | 'ChooseEvalKeys' >> beam.Map(_eval_keys,
                                                eval_split_fraction))
    eval_pointers, train_pointers = pointers | 'SplitTrainEval' >> (
        beam.Partition(_in_train_split, 2,
                       eval_keys=beam.pvalue.AsSingleton(eval_keys)))
    by_split = {'train': train_pointers, 'eval': eval_pointers}
  else:
    by_split = {'all': pointers}
  for name, split_pointers in by_split.items():
    _ = (split_pointers
         | f'DropKeys{name}' >> beam.Values()
         | f'Write{name.capitalize()}' >> WriteShuffledTFRecord(
             splits[name], num_shards, f'examples-{name}'))
  _ = (failures
       | 'AllFailures' >> beam.Flatten()
       | 'ToJsonLines' >> beam.Map(json.dumps)
       | 'WriteFailures' >> beam.io.WriteToText(
           failed_path, shard_name_template='', num_shards=1))

  try:
    result = pipeline.run()
    result.wait_until_finish()
  finally:
    if FileSystems.exists(temp_dir):
      FileSystems.delete([temp_dir])
  counters = _counter_values(result)

  stats_path = None
  train_split = 'train' if eval_split_fraction else 'all'
  if frame_rate and example_secs and counters.get(f'examples-{train_split}'):
    stats_path = _save_dataset_statistics(
        shard_pattern(splits[train_split]),
        side_file_path(output_tfrecord_path, 'dataset_statistics', '.pkl'),
        example_secs, sample_rate, frame_rate, center)
  return PrepareSummary(
      files_ok=counters.get('load-audio', 0),
      files_failed=counters.get('files-failed', 0),
      chunks_failed=counters.get('chunks-failed', 0),
      examples={name: counters.get(f'examples-{name}', 0) for name in splits},
      audio_secs=counters.get('audio-ms', 0) / 1000,
      wall_secs=time.perf_counter() - start,
      failed_path=failed_path,
      statistics_path=stats_path)
