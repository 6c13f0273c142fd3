r"""Prepares a TFRecord dataset of training examples from audio files.

Usage:
  ddsp_prepare_tfrecord \
    --input_audio_filepatterns=/path/to/wavs/*wav,/path/to/mp3s/*mp3 \
    --output_tfrecord_path=/path/to/output.tfrecord \
    --num_shards=10

Prints one line per file and a summary (`--verbose` adds TensorFlow's and
Beam's logs). Settings are checked before anything runs; a problem is
reported in one line with its fix, and the exit code is non-zero. Runs on
Beam's DirectRunner with one worker thread per CPU core unless
`--pipeline_options` says otherwise (see data_pipeline/README.md for Flink,
Spark and Dataflow). Files that could not be prepared are listed in
`failed-<output name>.jsonl` next to the output.
"""
import contextlib
import io
import logging
import os
import re
import sys

from absl import flags
from absl import logging as absl_logging

from ddsp import cli
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
    'parallelization and to enable non-overlapping examples. The last chunk '
    'is what is left (no padding; joined to the one before if shorter than '
    'an example).')
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
    '--direct_num_workers, one worker thread per CPU core is used.')
flags.DEFINE_boolean(
    'verbose', False,
    'Also print the logs of TensorFlow, Beam and its workers (by default: '
    'one line per file and a summary).')


@contextlib.contextmanager
def _stderr_to_devnull():
  """Sends file descriptor 2 to /dev/null for the block.

  TensorFlow's C++ libraries log at load time, before any setting applies
  (e.g. "All log messages before absl::InitializeLog() ..."), and Beam warns
  about optional Google Cloud clients on import. Python exceptions still
  show: they are printed after the block has restored stderr.
  """
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  os.dup2(devnull, 2)
  try:
    yield
  finally:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


@contextlib.contextmanager
def _stderr_kept_on_success():
  """Holds back what the block prints to stderr; prints it if the block
  succeeds. Beam's workers print the traceback of each failing task to
  stderr before the run fails; the failure is then reported in one line.
  """
  held = io.StringIO()
  with contextlib.redirect_stderr(held):
    yield
  sys.stderr.write(held.getvalue())


def _configure_output(verbose: bool) -> None:
  """Default: one line per file, warnings, the summary. Verbose: all logs."""
  absl_logging.get_absl_handler().setFormatter(
      logging.Formatter(f'{_NAME}: %(levelname)s: %(message)s'))
  if verbose:
    absl_logging.set_verbosity(absl_logging.INFO)
    return
  absl_logging.set_verbosity(absl_logging.WARNING)
  # Beam logs each worker error with its traceback; the run's error is
  # reported once, in one line, at the end.
  logging.getLogger('apache_beam').setLevel(logging.CRITICAL)
  # TensorFlow's C++ logs (e.g. "failed call to cuInit" on machines without
  # a GPU driver), here and in any Beam worker process (they inherit it).
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def _glob_inputs(filepatterns):
  """Expands the patterns; if some match, warns about those that do not."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  matches = {pattern: tf.io.gfile.glob(pattern) for pattern in filepatterns}
  paths = [path for found in matches.values() for path in found]
  if paths:
    for pattern, found in matches.items():
      if not found:
        print(f'{_NAME}: warning: --input_audio_filepatterns: {pattern!r} '
              'matches no files.')
  return paths


def _fail(message: str, exit_code: int) -> None:
  cli.fail(_NAME, message, exit_code)


def _pipeline_failure(error: Exception, output_dir: str) -> str:
  """One line for an error of the pipeline's workers.

  Beam wraps worker errors (with their tracebacks) in its own; the cause is
  on the last line. A disk error there names a temporary file, so the
  output directory is named instead.
  """
  message = str(error).strip()
  cause = message.splitlines()[-1] if message else repr(error)
  code = re.search(r'\[Errno (\d+)\]', cause)
  if code:
    number = int(code.group(1))
    return cli.os_error_message(OSError(number, os.strerror(number),
                                        output_dir or '.'))
  return (f'the pipeline failed: {cause} (run with --verbose for the full '
          'traceback)')


def _import_lib(verbose: bool):
  """The pipeline library (imports Beam and TensorFlow, quietly)."""
  try:
    with contextlib.nullcontext() if verbose else _stderr_to_devnull():
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
  _configure_output(verbose)
  lib = _import_lib(verbose)
  if not FLAGS.output_tfrecord_path:
    _fail('--output_tfrecord_path is required, e.g. '
          '--output_tfrecord_path=/data/violin/train.tfrecord', EXIT_USAGE)
  input_audio_paths = _glob_inputs(FLAGS.input_audio_filepatterns)
  if not input_audio_paths:
    _fail('No audio files found: --input_audio_filepatterns='
          f'{",".join(FLAGS.input_audio_filepatterns)!r} matches nothing.',
          EXIT_USAGE)
  try:
    pipeline_options = lib.options.with_default_parallelism(
        FLAGS.pipeline_options)
    if not verbose:
      pipeline_options = lib.options.with_quiet_workers(pipeline_options)
    with contextlib.nullcontext() if verbose else _stderr_kept_on_success():
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
  except OSError:
    raise  # ddsp.cli names the path and the fix.
  except Exception as e:  # pylint: disable=broad-except
    if verbose:
      raise
    _fail(_pipeline_failure(e, os.path.dirname(FLAGS.output_tfrecord_path)),
          EXIT_FAILED)
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
    with contextlib.suppress(BrokenPipeError):  # e.g. `--help | head`.
      print(_usage())
    sys.exit(0)
  cli.run(main, _NAME)


if __name__ == '__main__':
  console_entry_point()
