"""Apache Beam pipeline that turns audio files into TFRecord training examples.

The chain of transforms (`prepare_tfrecord` builds it):

  ListFiles -> LoadAudio -> ChunkAudio -> ComputeFeatures -> SplitExamples
    -> ToTFExample -> SpillToTempFiles -> [train/eval filters]
    -> RandomShard -> GroupByShard -> WriteShard (shuffled TFRecord shards)
  failures of LoadAudio and ComputeFeatures -> WriteFailures (JSON lines)
  everything written -> AllWritten

Only transforms every Beam runner handles are used, so the pipeline also
runs on Beam's `DaskRunner` (a `dask.distributed` cluster): failures are
plain elements split off by type with `Filter` (the DaskRunner hands every
output of a multi-output ParDo to each consumer), the train/eval split is two
filters rather than a `Partition`, and the last transform flattens what each
sink wrote (the DaskRunner computes the last transform and what it depends
on). Runners that report no metrics (the DaskRunner) get their counts from
the written shards and the dead-letter file.

* Settings are checked before anything runs (`check_settings`): feature
  rates that do not give whole frames, an output path that is a directory
  or not writable, missing CREPE weights and misspelt Beam options stop the
  run at once with the cause and the fix.
* Audio is decoded once (`ddsp.audio_io`: any libsndfile format, any rate,
  stereo downmixed by channel mean) and resampled with soxr to `sample_rate`
  (`audio`) and to 16 kHz (`audio_16k`, the rate of every feature).
* Long files are cut into `chunk_secs` chunks; the last chunk holds what is
  left (joining the one before if it is shorter than an example). Nothing is
  zero-padded, so CREPE and loudness run on real audio only (ddsp 3.7.0
  padded a 5 s file to a 20 s chunk). f0/confidence (CREPE)
  and loudness are computed per chunk, then every chunk is cut into
  `example_secs` windows every `hop_secs` (`ddsp.dataset_schema` gives the
  lengths, shared with `TFRecordProvider`).
* Bad input never stops the job: a file that cannot be decoded, holds no
  samples, is shorter than `example_secs`, or whose features fail goes to the
  dead-letter file `failed-<name>.jsonl` next to the output
  (`{"path": ..., "reason": ...}` per line) and is counted. Digital silence is
  kept (its frames come out unvoiced, at the -80 dB loudness floor).
* Memory does not grow with the dataset (see `records`).
* Outputs appear whole or not at all, and replace those of an earlier run
  at the same path (see `outputs`); a metadata record
  `schema-<name>.json` and the dataset statistics
  `dataset_statistics-<name>.pkl` (train split) are written next to them.
  Side files are named with a prefix so that a reading pattern like
  `train.tfrecord*` never matches them.
"""
import dataclasses
import functools
import hashlib
import json
import logging
import os
import pickle
import sys
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
import numpy as np

from ddsp import audio_io
from ddsp import crepe
from ddsp import dataset_schema
from ddsp import file_io
from ddsp import spectral_ops
from ddsp import validation
from ddsp.data_pipeline import options
from ddsp.data_pipeline import outputs
from ddsp.data_pipeline import records
from ddsp.data_pipeline.outputs import shard_pattern
from ddsp.data_pipeline.outputs import side_file_path
from ddsp.data_pipeline.records import to_tf_example

CREPE_MODELS = crepe.MODEL_CAPACITIES
FEATURE_SAMPLE_RATE = dataset_schema.FEATURE_SAMPLE_RATE
# FFT size of the loudness feature (samples at 16 kHz).
LOUDNESS_N_FFT = 512
METRICS_NAMESPACE = records.METRICS_NAMESPACE
with_default_parallelism = options.with_default_parallelism

# Default shards: about one per this many bytes of input files.
_BYTES_PER_SHARD = 256 * 2**20
# Reasons of dead-letter records for chunks whose features failed start so.
_CHUNK_FAILURE = 'feature extraction failed on chunk'
_LOG = logging.getLogger(__name__)


class PrepareError(ValueError):
  """A run finished but its result is unusable (e.g. an empty eval split)."""


@dataclasses.dataclass
class AudioPiece:
  """A whole file, or one chunk of it, with its features.

  Attributes:
    path: The source file.
    features: 'audio' [n_samples at sample_rate], 'audio_16k' [n_samples at
      16 kHz] and, once computed, 'f0_hz', 'f0_confidence', 'loudness_db'
      [n_frames].
    audio_secs: Seconds of audio in this piece.
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
    audio_secs: Seconds of audio in the files that loaded; None from
      runners that report no metrics (Beam's DaskRunner).
    wall_secs: Wall-clock seconds of the whole run.
    failed_path: The dead-letter JSONL file (written only if a file or
      chunk failed).
    statistics_path: The dataset statistics pickle, or None if not computed.
    file_patterns: Reading pattern of each output ('all', or 'train' and
      'eval'), e.g. for `TFRecordProvider.file_pattern`.
    metadata_path: The schema record written next to the shards.
  """
  files_ok: int
  files_failed: int
  chunks_failed: int
  examples: Dict[str, int]
  audio_secs: Optional[float]
  wall_secs: float
  failed_path: str
  statistics_path: Optional[str]
  file_patterns: Dict[str, str] = dataclasses.field(default_factory=dict)
  metadata_path: Optional[str] = None

  @property
  def realtime_factor(self) -> Optional[float]:
    """Audio seconds prepared per wall-clock second (None: unknown)."""
    if self.audio_secs is None:
      return None
    return self.audio_secs / max(self.wall_secs, 1e-9)

  def __str__(self) -> str:
    examples = ', '.join(f'{n} {name}' for name, n in self.examples.items())
    chunks = (f', {self.chunks_failed} chunks failed' if self.chunks_failed
              else '')
    if self.audio_secs is None:
      speed = f'{self.wall_secs:.1f} s wall time'
    else:
      speed = (f'{self.audio_secs / 3600:.3f} h of audio in '
               f'{self.wall_secs:.1f} s wall time ({self.realtime_factor:.2f} '
               'audio s per wall s)')
    see = (f' (see {self.failed_path})'
           if self.files_failed or self.chunks_failed else '')
    return (f'{self.files_ok} files ok, {self.files_failed} failed{chunks}'
            f'{see}; examples written: {examples}; {speed}')


# ------------------------------------------------------------------------------
# Stages: small functions and DoFns, one per named transform
# ------------------------------------------------------------------------------
def _open(path: str) -> audio_io.AudioSource:
  """Local paths go to libsndfile directly; other URLs through Beam's I/O."""
  if not file_io.is_url(path):
    return path
  return FileSystems.open(path)


_REPORT_LOCK = threading.Lock()


def _report(line: str) -> None:
  """One line of progress on stdout (the CLI's one line per file).

  Workers are threads: one locked write per line keeps lines whole (`print`
  writes the text and the newline separately, so lines could interleave).
  """
  with _REPORT_LOCK:
    sys.stdout.write(f'ddsp_prepare_tfrecord: {line}\n')
    sys.stdout.flush()


class LoadAudioFn(beam.DoFn):
  """Decodes a file to `audio` at `sample_rate` and `audio_16k`.

  Outputs an `AudioPiece`, or a dead-letter record (a dict) for files that cannot be loaded or are shorter than `min_secs`. With
  `progress`, prints one line per file.
  """

  def __init__(self, sample_rate: int, min_secs: float,
               progress: bool = False):
    self._sample_rate = sample_rate
    self._min_secs = min_secs
    self._progress = progress

  def _fail(self, path: str, reason: str) -> Dict[str, str]:
    if self._progress:
      _report(f'{path}: skipped, {reason}')
    return _failure(path, reason, 'files-failed')

  def process(self, path: str) -> Iterator[Any]:
    try:
      audio, file_rate = audio_io.read_audio(_open(path))
    except audio_io.AudioLoadError as e:
      yield self._fail(path, e.reason)
      return
    secs = audio.shape[0] / file_rate
    if secs < self._min_secs:
      yield self._fail(path, f'too short: {secs:.2f} s < example_secs '
                       f'{self._min_secs:g} s')
      return
    silent = not np.any(audio)
    if silent:
      _LOG.info('%s is digital silence; kept (unvoiced, loudness at the '
                'floor).', path)
      records.counter('silent-files').inc()
    if self._progress:
      _report(f'{path}: {secs:.2f} s at {file_rate} Hz'
              f'{" (digital silence)" if silent else ""}')
    _LOG.info('Loaded %s: %.2f s at %d Hz.', path, secs, file_rate)
    records.counter('load-audio').inc()
    records.counter('audio-ms').inc(int(round(secs * 1000)))
    features = {
        'audio': audio_io.resample(audio, file_rate, self._sample_rate),
        'audio_16k': audio_io.resample(audio, file_rate, FEATURE_SAMPLE_RATE),
    }
    yield AudioPiece(path, features, secs)


def _failure(path: str, reason: str, counter_name: str) -> Dict[str, str]:
  """A dead-letter record `{'path', 'reason'}`, logged and counted."""
  _LOG.info('Skipping %s: %s', path, reason)
  records.counter(counter_name).inc()
  return {'path': path, 'reason': reason}


def _is_piece(element: Any) -> bool:
  return isinstance(element, AudioPiece)


def _is_failure(element: Any) -> bool:
  return isinstance(element, dict)


def _pieces_and_failures(stage: beam.PCollection, label: str):
  """(pieces, dead-letter records) of a stage that outputs both."""
  return (stage | f'{label}Ok' >> beam.Filter(_is_piece),
          stage | f'{label}Failed' >> beam.Filter(_is_failure))


def chunk_audio(piece: AudioPiece, sample_rate: int, chunk_secs: float,
                min_secs: float = 0.0) -> Iterator[AudioPiece]:
  """Cuts a file into `chunk_secs` chunks without padding.

  Chunks start every `chunk_secs`, as in ddsp 3.7.0, but the last one is
  only as long as the audio that is left (3.7.0 zero-padded it to
  `chunk_secs`). A remainder shorter than `min_secs` (one example) could
  not make an example on its own, so it joins the chunk before it: no audio
  is lost. Chunk boundaries fall on the same instants at both rates
  (`check_settings` makes chunk_secs whole samples at each).
  """
  n_16k = piece.features['audio_16k'].shape[0]
  chunk_16k = int(round(chunk_secs * FEATURE_SAMPLE_RATE))
  n_chunks = -(-n_16k // chunk_16k)
  remainder = n_16k - (n_chunks - 1) * chunk_16k
  if n_chunks > 1 and remainder < min_secs * FEATURE_SAMPLE_RATE:
    n_chunks -= 1
  rates = {'audio': sample_rate, 'audio_16k': FEATURE_SAMPLE_RATE}
  for i in range(n_chunks):
    features = {}
    for key, rate in rates.items():
      chunk_length = int(round(chunk_secs * rate))
      end = (i + 1) * chunk_length if i < n_chunks - 1 else None
      features[key] = piece.features[key][i * chunk_length:end]
    yield AudioPiece(
        path=piece.path,
        features=features,
        audio_secs=features['audio_16k'].shape[0] / FEATURE_SAMPLE_RATE,
        index=i,
        n_pieces=n_chunks)


class ComputeFeaturesFn(beam.DoFn):
  """Adds CREPE `f0_hz`, `f0_confidence` and `loudness_db` to a piece.

  Features come from `audio_16k` at `frame_rate`, with 'same' padding
  (`ceil(n / hop)` frames) or 'center' padding (`n / hop + 1` frames).
  Pieces whose features fail become dead-letter records.
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
          piece.path, f'{_CHUNK_FAILURE} {piece.index + 1}/'
          f'{piece.n_pieces}: {type(e).__name__}: {e}', 'chunks-failed')
      return
    features = dict(piece.features)
    features['f0_hz'] = np.asarray(f0_hz, np.float32)
    features['f0_confidence'] = np.asarray(f0_confidence, np.float32)
    features['loudness_db'] = np.asarray(loudness_db, np.float32)
    secs = time.perf_counter() - start
    _LOG.info('Features for %s: %.1f s of audio in %.1f s (%.1fx real time).',
              piece.describe(), piece.audio_secs, secs,
              piece.audio_secs / max(secs, 1e-9))
    yield dataclasses.replace(piece, features=features)


def split_example(piece: AudioPiece, schema: dataset_schema.ExampleSchema,
                  hop_secs: float
                  ) -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
  """Cuts a piece into `example_secs` windows every `hop_secs`.

  Window lengths are `schema.lengths()` (those `TFRecordProvider` reads);
  windows that would run past the end of the piece are dropped.

  Yields:
    (piece_key, example) pairs; all examples of a piece share its key.
  """
  windows = {}
  for key, sequence in piece.features.items():
    length, hop = schema.window(key, hop_secs)
    n_windows = max(0, (sequence.shape[0] - length) // hop + 1)
    windows[key] = [sequence[i * hop:i * hop + length]
                    for i in range(n_windows)]
  key = piece_key(piece)
  for i in range(min(len(w) for w in windows.values())):
    yield key, {k: w[i] for k, w in windows.items()}


def piece_key(piece: AudioPiece) -> str:
  """Content hash of a piece's audio: decides its train/eval split."""
  return hashlib.blake2b(piece.features['audio'].tobytes(),
                         digest_size=16).hexdigest()


def _eval_keys(keys: List[str], eval_split_fraction: float) -> frozenset:
  """Piece keys of the eval split: a fraction of the sorted (hash) keys.

  At least one piece goes to eval and one to train whenever there are two
  or more pieces (ddsp 3.7.0's `int(n * fraction)` gave small datasets no
  eval data at all); a single piece stays in train.
  """
  n_eval = int(len(keys) * eval_split_fraction)
  if len(keys) >= 2:
    n_eval = min(max(n_eval, 1), len(keys) - 1)
  return frozenset(sorted(keys)[:n_eval])


def _whole_piece(piece: AudioPiece) -> Tuple[str, Dict[str, np.ndarray]]:
  return piece_key(piece), piece.features


def _serialize(key: str, features: Dict[str, np.ndarray]) -> Tuple[str, bytes]:
  return key, to_tf_example(features)


def _write_failures(failures: List[Dict[str, str]], path: str) -> str:
  """Writes the dead-letter records as JSON lines (an empty file if none)."""
  with FileSystems.create(path) as f:
    f.write(''.join(json.dumps(r) + '\n' for r in failures).encode())
  return path


def _in_split(keyed_pointer: Tuple[str, Any], eval_keys: frozenset,
              is_eval: bool) -> bool:
  return (keyed_pointer[0] in eval_keys) == is_eval


# ------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------
def check_settings(input_audio_paths: Sequence[str],
                   output_tfrecord_path: str,
                   sample_rate: int = 16000,
                   frame_rate: int = 250,
                   example_secs: float = 4,
                   hop_secs: float = 1,
                   eval_split_fraction: float = 0.0,
                   chunk_secs: float = 20.0,
                   center: bool = False,
                   pipeline_options: options.PipelineOptionsArg = '',
                   crepe_model: str = 'full'
                   ) -> dataset_schema.ExampleSchema:
  """Checks every setting of `prepare_tfrecord` before anything runs.

  Returns:
    The example schema of the output.

  Raises:
    ParameterError: for invalid arguments, frame rates or durations that do
      not give whole samples and frames, an unusable output path, or unknown
      Beam options; each message names the setting and the fix.
    FileNotFoundError: if the CREPE weights of `crepe_model` are missing.
  """
  if not input_audio_paths:
    raise validation.ParameterError('No input audio files were given.')
  validation.one_of(crepe_model, 'crepe_model', CREPE_MODELS)
  validation.number_in_range(eval_split_fraction, 'eval_split_fraction', 0.0,
                             1.0)
  schema = dataset_schema.ExampleSchema(example_secs or 0, sample_rate,
                                        frame_rate or 0, bool(center))
  if example_secs:
    validation.positive_number(hop_secs, 'hop_secs')
    for key in schema.keys:
      schema.window(key, hop_secs)
  if chunk_secs:
    validation.positive_number(chunk_secs, 'chunk_secs')
    for key in dataset_schema.AUDIO_KEYS:
      validation.whole_count(chunk_secs, schema.rate(key), 'chunk_secs',
                             schema.rate_name(key))
    if example_secs and chunk_secs < example_secs:
      raise validation.ParameterError(
          f'chunk_secs={chunk_secs:g} is shorter than example_secs='
          f'{example_secs:g}: no chunk could hold an example. Use a '
          'chunk_secs of at least example_secs (or 0 for whole files).')
  outputs.check_output_path(output_tfrecord_path)
  options.parse(pipeline_options)
  if frame_rate:
    crepe.weights_path(crepe_model)
  return schema


def _counter_values(result: beam.runners.runner.PipelineResult
                    ) -> Optional[Dict[str, int]]:
  """The pipeline's counters; None from runners without metrics (Dask)."""
  try:
    query = result.metrics().query(MetricsFilter().with_namespace(
        METRICS_NAMESPACE))
  except NotImplementedError:
    return None
  values = {}
  for counter in query['counters']:
    value = counter.committed
    if value is None:
      value = counter.attempted
    name = counter.key.metric.name
    values[name] = values.get(name, 0) + value
  return values


def _counts_from_outputs(n_files: int, run_prefixes: Dict[str, str],
                         failed_path: str) -> Dict[str, int]:
  """The counters, re-derived from what a run wrote (no audio length)."""
  with FileSystems.open(failed_path) as f:
    reasons = [json.loads(line)['reason'] for line in f.read().splitlines()
               if line.strip()]
  chunks_failed = sum(r.startswith(_CHUNK_FAILURE) for r in reasons)
  counts = {'files-failed': len(reasons) - chunks_failed,
            'chunks-failed': chunks_failed}
  counts['load-audio'] = n_files - counts['files-failed']
  for split, prefix in run_prefixes.items():
    shards = FileSystems.match([shard_pattern(prefix)])[0].metadata_list
    counts[f'examples-{split}'] = sum(records.count_records(shard.path)
                                      for shard in shards)
  return counts


def default_num_shards(input_audio_paths: Sequence[str]) -> int:
  """About one shard per 256 MB of input files (at least one)."""
  sizes = [m.size_in_bytes for result in FileSystems.match(
      list(input_audio_paths)) for m in result.metadata_list]
  return max(1, -(-sum(sizes) // _BYTES_PER_SHARD))


def _save_dataset_statistics(train_pattern: str, stats_path: str,
                             schema: dataset_schema.ExampleSchema
                             ) -> Optional[str]:
  """Computes and pickles the train split's statistics; returns the path."""
  from ddsp.training import data  # pylint: disable=g-import-not-at-top
  from ddsp.training import postprocessing  # pylint: disable=g-import-not-at-top
  provider = data.TFRecordProvider(
      train_pattern, example_secs=schema.example_secs,
      sample_rate=schema.sample_rate, frame_rate=schema.frame_rate,
      centered=schema.centered)
  try:
    stats = postprocessing.compute_dataset_statistics(provider, batch_size=64)
  except ValueError as e:
    _LOG.warning('Dataset statistics not saved: %s', e)
    return None
  file_io.write_bytes(stats_path, pickle.dumps(stats))
  _LOG.info('Saved dataset statistics to %s.', stats_path)
  return stats_path


# ------------------------------------------------------------------------------
# Pipeline
# ------------------------------------------------------------------------------
def _build(pipeline: beam.Pipeline, input_audio_paths: Sequence[str],
           run_prefixes: Dict[str, str], failed_path: str, spill_dir: str,
           schema: dataset_schema.ExampleSchema, num_shards: int,
           hop_secs: float, eval_split_fraction: float, chunk_secs: float,
           viterbi: bool, crepe_model: str, progress: bool) -> None:
  """Adds the transforms of `prepare_tfrecord` to `pipeline`."""
  loaded = (pipeline
            | 'ListFiles' >> beam.Create(list(input_audio_paths))
            | 'LoadAudio' >> beam.ParDo(
                LoadAudioFn(schema.sample_rate, schema.example_secs,
                            progress)))
  pieces, failed = _pieces_and_failures(loaded, 'Load')
  failures = [failed]
  if chunk_secs:
    pieces = pieces | 'ChunkAudio' >> beam.FlatMap(
        chunk_audio, schema.sample_rate, chunk_secs, schema.example_secs)
  if schema.frame_rate:
    with_features = pieces | 'ComputeFeatures' >> beam.ParDo(
        ComputeFeaturesFn(schema.frame_rate, schema.centered, viterbi,
                          crepe_model))
    pieces, failed = _pieces_and_failures(with_features, 'Features')
    failures.append(failed)
  if schema.example_secs:
    examples = pieces | 'SplitExamples' >> beam.FlatMap(
        split_example, schema, hop_secs)
  else:
    examples = pieces | 'WholeExamples' >> beam.Map(_whole_piece)
  pointers = (examples
              | 'ToTFExample' >> beam.MapTuple(_serialize)
              | 'SpillToTempFiles' >> beam.ParDo(
                  records.SpillToTempFilesFn(spill_dir)))
  if eval_split_fraction:
    eval_keys = (pointers
                 | 'PieceKeys' >> beam.Keys()
                 | 'DistinctKeys' >> beam.Distinct()
                 | 'AllKeys' >> beam.combiners.ToList()
                 | 'ChooseEvalKeys' >> beam.Map(_eval_keys,
                                                eval_split_fraction))
    by_split = {
        name: pointers | f'Select{name.capitalize()}' >> beam.Filter(
            _in_split, beam.pvalue.AsSingleton(eval_keys), name == 'eval')
        for name in ('train', 'eval')}
  else:
    by_split = {'all': pointers}
  written = [
      split_pointers
      | f'DropKeys{name}' >> beam.Values()
      | f'Write{name.capitalize()}' >> records.WriteShuffledTFRecord(
          run_prefixes[name], num_shards, f'examples-{name}')
      for name, split_pointers in by_split.items()]
  written.append(failures
                 | 'AllFailures' >> beam.Flatten()
                 | 'CollectFailures' >> beam.combiners.ToList()
                 | 'WriteFailures' >> beam.Map(_write_failures, failed_path))
  _ = written | 'AllWritten' >> beam.Flatten()


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
                     pipeline_options: options.PipelineOptionsArg = '',
                     crepe_model: str = 'full',
                     progress: bool = False) -> PrepareSummary:
  """Prepares a TFRecord dataset of training examples from audio files.

  Args:
    input_audio_paths: Audio files (local paths or URLs Beam can read).
    output_tfrecord_path: Output prefix; shards are
      `<prefix>-SSSSS-of-NNNNN`, or `<prefix>-train-...` and
      `<prefix>-eval-...` with an eval split. Shards of an earlier run at the
      same prefix are replaced.
    num_shards: Shards per output; None: about one per 256 MB of input
      files (ddsp 3.7.0 let Beam decide).
    sample_rate: Rate of the `audio` feature in Hz (`audio_16k` and all
      features are at 16 kHz).
    frame_rate: Feature frames per second, a divisor of 16000 (250 gives a
      hop of 64 samples); 0 or None writes audio only.
    example_secs: Example length in seconds; 0 or None writes whole files
      (or chunks).
    hop_secs: Seconds between the starts of consecutive examples.
    eval_split_fraction: Fraction of chunks (whole files without chunking)
      that go to the eval output, at least one when there are two or more;
      0 writes a single output.
    chunk_secs: Files are cut into chunks of this many seconds before
      features are computed (the last chunk is what is left, joined to the
      one before if shorter than an example; nothing is padded); 0 or None
      computes features on whole files.
    center: Centred feature frames (`example_secs * frame_rate + 1` frames
      per example) instead of 'same' framing.
    viterbi: Viterbi decoding of the CREPE pitch.
    pipeline_options: Beam flags, comma-separated or a list, e.g.
      '--runner=DirectRunner,--direct_num_workers=2,'
      '--direct_running_mode=multi_threading'. Empty is fine.
    crepe_model: CREPE capacity: 'tiny', 'small', 'medium', 'large' or
      'full'.
    progress: Print one line per file to stdout (the CLI does).

  Returns:
    A `PrepareSummary` of the run.

  Raises:
    ParameterError: for invalid settings, before anything runs (see
      `check_settings`).
    FileNotFoundError: if the CREPE weights are not installed.
    PrepareError: if an eval split was asked for but got no examples (the
      run's outputs are then removed).
  """
  schema = check_settings(input_audio_paths, output_tfrecord_path,
                          sample_rate, frame_rate, example_secs, hop_secs,
                          eval_split_fraction, chunk_secs, center,
                          pipeline_options, crepe_model)
  start = time.perf_counter()
  splits = (('train', '-train'), ('eval', '-eval')) if eval_split_fraction \
      else (('all', ''),)
  run_dir = outputs.new_run_dir(output_tfrecord_path)
  name = os.path.basename(output_tfrecord_path)
  run_prefixes = {split: FileSystems.join(run_dir, name + suffix)
                  for split, suffix in splits}
  final_prefixes = {split: output_tfrecord_path + suffix
                    for split, suffix in splits}
  failed_path = side_file_path(output_tfrecord_path, 'failed', '.jsonl')
  run_failed_path = FileSystems.join(run_dir, os.path.basename(failed_path))
  num_shards = num_shards or default_num_shards(input_audio_paths)
  try:
    pipeline = options.pipeline(options.parse(pipeline_options))
    _build(pipeline, input_audio_paths, run_prefixes, run_failed_path,
           FileSystems.join(run_dir, 'spill'), schema, num_shards, hop_secs,
           eval_split_fraction, chunk_secs, viterbi, crepe_model, progress)
    result = pipeline.run()
    try:
      result.wait_until_finish()
    finally:
      options.close_client(result)
    counters = _counter_values(result)
    if counters is None:
      counters = _counts_from_outputs(len(input_audio_paths), run_prefixes,
                                      run_failed_path)
    examples = {split: counters.get(f'examples-{split}', 0)
                for split, _ in splits}
    if eval_split_fraction and not examples['eval']:
      raise PrepareError(
          f'eval_split_fraction={eval_split_fraction:g} put no examples in '
          f'the eval split: the {examples["train"]} examples come from a '
          'single file or chunk, which cannot be split. Add audio, use a '
          'smaller --chunk_secs, or set --eval_split_fraction=0. Nothing was '
          'written.')
    failures = (counters.get('files-failed', 0) +
                counters.get('chunks-failed', 0))
    # An earlier run's dead letters never describe this run's data.
    outputs.remove(failed_path)
    if any(examples.values()):
      for split, prefix in run_prefixes.items():
        if examples[split]:
          records.write_empty_shards(prefix, num_shards)
      outputs.publish(run_dir, output_tfrecord_path, run_prefixes, examples,
                      {failed_path: run_failed_path} if failures else {})
    elif failures:  # Keep an earlier run's data; report what failed.
      FileSystems.rename([run_failed_path], [failed_path])
  finally:
    outputs.remove(run_dir)

  summary = functools.partial(
      PrepareSummary,
      files_ok=counters.get('load-audio', 0),
      files_failed=counters.get('files-failed', 0),
      chunks_failed=counters.get('chunks-failed', 0),
      examples=examples,
      audio_secs=(counters['audio-ms'] / 1000 if 'audio-ms' in counters
                  else None),
      failed_path=failed_path)
  if not any(examples.values()):
    return summary(wall_secs=time.perf_counter() - start,
                   statistics_path=None)
  metadata_path = dataset_schema.metadata_path(output_tfrecord_path)
  file_io.write_text(metadata_path, schema.to_json(
      [final_prefixes[split] for split, n in examples.items() if n],
      examples))
  stats_path = side_file_path(output_tfrecord_path, 'dataset_statistics',
                              '.pkl')
  outputs.remove(stats_path)  # Never leave statistics of an earlier run.
  train_split = 'train' if eval_split_fraction else 'all'
  saved_stats = None
  if schema.frame_rate and schema.example_secs and examples[train_split]:
    saved_stats = _save_dataset_statistics(
        shard_pattern(final_prefixes[train_split]), stats_path, schema)
  return summary(
      wall_secs=time.perf_counter() - start,
      statistics_path=saved_stats,
      file_patterns={split: prefix + '-*' for split, prefix in
                     final_prefixes.items()},
      metadata_path=metadata_path)
