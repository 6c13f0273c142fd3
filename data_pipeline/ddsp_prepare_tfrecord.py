r"""Prepares a TFRecord dataset of training examples from audio files.

Usage:
  ddsp_prepare_tfrecord \
    --input_audio_filepatterns=/path/to/wavs/*wav,/path/to/mp3s/*mp3 \
    --output_tfrecord_path=/path/to/output.tfrecord \
    --num_shards=10

Prints one line per file and a summary (`--verbose` adds TensorFlow's and
Beam's logs). Settings are checked before anything runs; a problem is
reported in one line with its fix, and the exit code is non-zero. Runs on
Beam's DirectRunner with one worker process per CPU core unless
`--pipeline_options` says otherwise (see data_pipeline/README.md for Flink,
Spark and Dataflow). Files that could not be prepared are listed in
`failed-<output name>.jsonl` next to the output.
"""
import contextlib
import logging
import os
import sys

from absl import app
from absl import flags

from ddsp import validation

FLAGS = flags.FLAGS
_NAME = 'ddsp_prepare_tfrecord'
# Error exit codes: settings (usage) errors, and failed runs.
EXIT_USAGE, EXIT_FAILED = 2, 1

flags.DEFINE_list('input_audio_filepatterns', [],
                  'List of filepatterns to glob for input audio files.')
flags.DEFINE_string(
    'output_tfrecord_path', None,
    'The prefix path to the output TFRecord. Shard numbers will be added to '
    'actual path(s).')
flags.DEFINE_integer(
    'num_shards', None,
    'The number of shards to use for the TFRecord. If None, this number will '
    'be determined automatically.')
flags.DEFINE_integer('sample_rate', 16000,
                     'The sample rate to use for the audio.')
flags.DEFINE_integer(
    'frame_rate', 250,
    'The frame rate to use for f0 and loudness features; it must divide '
    '16000 (e.g. 250, 200, 100, 50). If set to 0, these features will not be '
    'computed.')
flags.DEFINE_float(
    'example_secs', 4,
    'The length of each example in seconds. Input audio will be split to this '
    'length using a sliding window. If 0, each full piece of audio will be '
    'used as an example.')
flags.DEFINE_float(
    'hop_secs', 1,
    'The hop size between example start points (in seconds), when splitting '
    'audio into constant-length examples.')
flags.DEFINE_float(
    'eval_split_fraction', 0.0,
    'Fraction of the dataset to reserve for eval split (at least one chunk '
    'or file). If set to 0, no eval split is created.')
flags.DEFINE_float(
    'chunk_secs', 20.0,
    'Chunk size in seconds used to split the input audio files. This is used '
    'to split large audio files into manageable chunks for better '
    'parallelization and to enable non-overlapping examples. The remainder '
    'joins the last chunk (no padding).')
flags.DEFINE_boolean(
    'center', False,
    'Add padding to audio such that frame timestamps are centered. Increases '
    'number of frames by one.')
flags.DEFINE_boolean('viterbi', True,
                     'Use viterbi decoding of pitch.')
flags.DEFINE_enum('crepe_model', 'full',
                  ['tiny', 'small', 'medium', 'large', 'full'],
                  'CREPE model capacity used for f0 estimation: tiny is '
                  'about 30x faster than full and less accurate. Sizes other '
                  'than tiny need `pip install ddsp[crepe-<size>]` '
                  '(ddsp[data-pipeline] includes full).')
flags.DEFINE_list(
    'pipeline_options', '--runner=DirectRunner',
    'A comma-separated list of command line arguments to be used as options '
    'for the Beam Pipeline. With the DirectRunner and no '
    '--direct_num_workers, one worker process per CPU core is used.')
flags.DEFINE_boolean(
    'verbose', False,
    'Also print the logs of TensorFlow, Beam and its workers (by default: '
    'one line per file and a summary).')


def _quiet_environment() -> None:
  """Silences TensorFlow's C++ logs (e.g. cuInit errors on machines without
  a GPU driver) here and in Beam's worker processes, which inherit it."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


@contextlib.contextmanager
def _root_log_level(level: int):
  """Sets the root logging level for the block (imports that log)."""
  root = logging.getLogger()
  previous = root.level
  root.setLevel(level)
  try:
    yield
  finally:
    root.setLevel(previous)


def _glob_inputs(filepatterns):
  """Expands the patterns; warns about patterns that match nothing."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  paths = []
  for filepattern in filepatterns:
    matches = tf.io.gfile.glob(filepattern)
    if not matches:
      print(f'{_NAME}: warning: --input_audio_filepatterns: {filepattern!r} '
            'matches no files.')
    paths.extend(matches)
  return paths


def _fail(message: str, exit_code: int) -> None:
  print(f'{_NAME}: error: {message}', file=sys.stderr)
  sys.exit(exit_code)


def _import_lib():
  """The pipeline library (imports Beam and TensorFlow)."""
  try:
    from ddsp.data_pipeline import prepare_tfrecord_lib  # pylint: disable=g-import-not-at-top
  except ModuleNotFoundError as e:
    if e.name != 'apache_beam':
      raise
    _fail("Apache Beam is not installed: run `pip install "
          "'ddsp[data-pipeline]'` (it also brings the default CREPE model).",
          EXIT_USAGE)
  return prepare_tfrecord_lib


def run():
  """Globs the inputs, runs the pipeline and prints its summary."""
  verbose = FLAGS.verbose
  if not verbose:
    _quiet_environment()
    logging.getLogger('apache_beam').setLevel(logging.ERROR)
  with _root_log_level(logging.INFO if verbose else logging.ERROR):
    lib = _import_lib()
  if not FLAGS.output_tfrecord_path:
    _fail('--output_tfrecord_path is required, e.g. '
          '--output_tfrecord_path=/data/violin/train.tfrecord', EXIT_USAGE)
  input_audio_paths = _glob_inputs(FLAGS.input_audio_filepatterns)
  if not input_audio_paths:
    _fail('No audio files found: --input_audio_filepatterns='
          f'{",".join(FLAGS.input_audio_filepatterns)!r} matches nothing.',
          EXIT_USAGE)
  pipeline_options = lib.options.with_default_parallelism(
      FLAGS.pipeline_options)
  if not verbose:
    pipeline_options = lib.options.with_quiet_workers(pipeline_options)
  try:
    summary = lib.prepare_tfrecord(
        input_audio_paths,
        FLAGS.output_tfrecord_path,
        num_shards=FLAGS.num_shards,
        sample_rate=FLAGS.sample_rate,
        frame_rate=FLAGS.frame_rate,
        example_secs=FLAGS.example_secs,
        hop_secs=FLAGS.hop_secs,
        eval_split_fraction=FLAGS.eval_split_fraction,
        chunk_secs=FLAGS.chunk_secs,
        center=FLAGS.center,
        viterbi=FLAGS.viterbi,
        pipeline_options=pipeline_options,
        crepe_model=FLAGS.crepe_model,
        progress=True)
  except (validation.ParameterError, FileNotFoundError) as e:
    _fail(str(e), EXIT_USAGE)
  except lib.PrepareError as e:
    _fail(str(e), EXIT_FAILED)
  except Exception as e:  # pylint: disable=broad-except
    if verbose:
      raise
    # Beam wraps worker errors in long tracebacks; the cause is at the end.
    cause = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
    _fail(f'the pipeline failed: {cause} (run with --verbose for the full '
          'traceback)', EXIT_FAILED)
  print(f'{_NAME}: {summary}')
  if not sum(summary.examples.values()):
    _fail(f'no examples were written; see {summary.failed_path}.',
          EXIT_FAILED)
  for split, pattern in summary.file_patterns.items():
    if summary.examples.get(split):
      print(f'{_NAME}: {split} data: TFRecordProvider.file_pattern = '
            f"'{pattern}'")
  if summary.statistics_path:
    print(f'{_NAME}: dataset statistics: {summary.statistics_path} (copy it '
          'to your model directory as dataset_statistics.pkl for timbre '
          'transfer).')


def main(unused_argv):
  """From command line."""
  run()


def _usage() -> str:
  return (f'{__doc__}\nFlags:\n' +
          FLAGS.module_help(__name__) + '\n')


def console_entry_point():
  """From pip installed script."""
  if any(arg in ('-h', '--help', '--helpshort', '-?')
         for arg in sys.argv[1:]):
    print(_usage())
    sys.exit(0)
  app.run(main)


if __name__ == '__main__':
  console_entry_point()
