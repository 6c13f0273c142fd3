r"""ddsp_run: train, evaluate or sample a gin-configured ddsp model.

Train (resumes from the latest checkpoint in --save_dir, if any):

  ddsp_run --mode=train --save_dir=runs/violin \
    --gin_file=models/solo_instrument.gin --gin_file=datasets/tfrecord.gin \
    --gin_param="TFRecordProvider.file_pattern='data/train.tfrecord*'" \
    --gin_param="batch_size=16" --gin_param="train.num_steps=30000"

Evaluate (losses and metrics) or sample (audio and plots) its checkpoints:

  ddsp_run --mode=eval --save_dir=runs/violin --run_once \
    --gin_file=datasets/tfrecord.gin \
    --gin_param="TFRecordProvider.file_pattern='data/test.tfrecord*'"

Gin files are looked up in the package's gin/ directory, then in each
--gin_search_path. Parsing order: optimization/base.gin, eval/basic.gin, the
latest operative_config-*.gin of --restore_dir (the settings of the run being
resumed or evaluated), then --gin_file and --gin_param in order; later
bindings win. Unlike 3.7.0, an unknown name in --gin_file/--gin_param is an
error, reported in one line before any step with exit status 2 (like a
missing gin file or a setting the model or trainer rejects); a missing file
pattern, unreadable data, a corrupt checkpoint, an unwritable or full
save_dir or a NaN loss end in one line with exit status 1; -v=1 adds the
traceback. Ctrl-C or SIGTERM stops after the current step with a checkpoint,
then exits with 130 (143); a second Ctrl-C quits at once (130).
"""
import contextlib
import difflib
import inspect
import logging as logging_lib
import os
import re
import signal
import time

from absl import flags
from absl import logging
import tensorflow as tf

from ddsp import cli
from ddsp.training import cloud
from ddsp.training import eval_util
from ddsp.training import models
from ddsp.training import train_util
from ddsp.training import trainers
import gin

FLAGS = flags.FLAGS

flags.DEFINE_enum('mode', 'train', ['train', 'eval', 'sample'],
                  'Whether to train, evaluate or sample from the model.')
flags.DEFINE_string('save_dir', '/tmp/ddsp',
                    'Where checkpoints, the operative config and summaries '
                    'are written.')
flags.DEFINE_string('restore_dir', '',
                    'Where checkpoints and the operative config are read; '
                    'defaults to --save_dir.')
flags.DEFINE_string('tpu', '', 'Address of a TPU (grpc://...), if any.')
flags.DEFINE_string('cluster_config', '',
                    'TF_CONFIG-style JSON for multi-worker training: '
                    '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                    '"task": {"type": "worker", "index": 0}}.')
flags.DEFINE_boolean('allow_memory_growth', False,
                     'Let GPU memory grow as needed instead of taking it all.')
flags.DEFINE_boolean('hypertune', False,
                     'Report the total loss to AI Platform hyperparameter '
                     'tuning.')
flags.DEFINE_float('early_stop_loss_value', None,
                   'Stop training once the total loss is at or below this.')
flags.DEFINE_multi_string('gin_search_path', [],
                          'Extra directories in which to look for gin files.')
flags.DEFINE_multi_string('gin_file', [],
                          'Gin files, relative to a search path or absolute.')
flags.DEFINE_multi_string('gin_param', [],
                          'Gin bindings, e.g. "train.num_steps=30000".')
flags.DEFINE_boolean('run_once', False,
                     'eval/sample: process the latest checkpoint and exit '
                     'instead of waiting for new ones.')
flags.DEFINE_integer('initial_delay_secs', None,
                     'eval/sample: seconds to wait before starting.')


def _package_gin_dir() -> str:
  """The shipped gin/ directory.

  Installed, it is `ddsp/training/gin` (package data `ddsp.training.gin`);
  in a source checkout or an editable install, `gin/` at the repository
  root (it has no `__init__.py`, so it cannot be found as a package).
  """
  training_dir = os.path.dirname(os.path.abspath(__file__))
  candidates = [os.path.join(training_dir, 'gin'),
                os.path.join(training_dir, os.pardir, os.pardir, 'gin')]
  for candidate in candidates:
    if os.path.isfile(os.path.join(candidate, 'optimization', 'base.gin')):
      return os.path.normpath(candidate)
  return candidates[0]


GIN_PATH = _package_gin_dir()


def delay_start() -> None:
  """Sleeps --initial_delay_secs (eval/sample jobs started with training)."""
  if FLAGS.initial_delay_secs:
    logging.info('Waiting %d s before starting.', FLAGS.initial_delay_secs)
    time.sleep(FLAGS.initial_delay_secs)


class _GinPackagePathFilter(logging_lib.Filter):
  """Drops gin's "Path not found" errors for files found on a search path.

  gin-config first tries each file name as a Python package path and logs
  an error when that fails, before looking in the search paths.
  """

  def filter(self, record: logging_lib.LogRecord) -> bool:
    return not (record.module == 'resource_reader' and
                record.msg == 'Path not found: %s')


def parse_gin(restore_dir: str) -> None:
  """Parses the default, operative and user gin configs (module docstring).

  Args:
    restore_dir: Directory of the run whose operative config is reused.

  Raises:
    IOError: if a gin file cannot be found.
    ValueError: for an unknown configurable or parameter, or a bad binding.
  """
  gin.config.register_file_reader(tf.io.gfile.GFile, tf.io.gfile.exists)
  quiet = _GinPackagePathFilter()
  logging_lib.getLogger().addFilter(quiet)
  try:
    _parse_gin_files(restore_dir)
  finally:
    logging_lib.getLogger().removeFilter(quiet)
  logging.info('Gin config:\n%s', gin.config_str())


def _parse_gin_files(restore_dir: str) -> None:
  with gin.unlock_config():
    for path in [GIN_PATH] + FLAGS.gin_search_path:
      gin.add_config_file_search_path(path)
    gin.parse_config_file('optimization/base_tpu.gin' if FLAGS.tpu
                          else 'optimization/base.gin')
    gin.parse_config_file('eval/basic.gin')
    try:
      operative_config = train_util.get_latest_operative_config(restore_dir)
    except FileNotFoundError:
      logging.info('No operative config in %s.', restore_dir)
    else:
      logging.info('Using operative config %s.', operative_config)
      operative_config = cloud.make_file_paths_local(operative_config,
                                                     GIN_PATH)
      gin.parse_config_file(operative_config, skip_unknown=True)
    gin_files = cloud.make_file_paths_local(FLAGS.gin_file, GIN_PATH)
    gin.parse_config_files_and_bindings(gin_files, FLAGS.gin_param)


def allow_memory_growth() -> None:
  """Lets each GPU allocate memory as needed."""
  for gpu in tf.config.list_physical_devices('GPU'):
    tf.config.experimental.set_memory_growth(gpu, True)


# Errors with a message that says what to fix; others keep their traceback.
_USER_ERRORS = (IOError, ValueError, FloatingPointError, RuntimeError,
                tf.errors.OpError)


class _SettingsError(Exception):
  """A gin file or binding that cannot be used (exit status 2)."""


@contextlib.contextmanager
def _settings_phase():
  """Reports errors of parsing gin and building the model as settings."""
  try:
    yield
  except (IOError, ValueError) as e:
    raise _SettingsError(e) from e


def _run(save_dir: str, restore_dir: str) -> None:
  """Parses gin and runs the selected mode."""
  with _settings_phase():
    parse_gin(restore_dir)
  if FLAGS.allow_memory_growth:
    allow_memory_growth()

  if FLAGS.mode == 'train':
    strategy = train_util.get_strategy(tpu=FLAGS.tpu,
                                       cluster_config=FLAGS.cluster_config)
    with strategy.scope(), _settings_phase():
      model = models.get_model()
      trainer = trainers.get_trainer_class()(model, strategy)
    kwargs = {}
    if FLAGS.early_stop_loss_value is not None:
      kwargs['early_stop_loss_value'] = FLAGS.early_stop_loss_value
    if FLAGS.hypertune:
      kwargs['report_loss_to_hypertune'] = True
    step = train_util.train(data_provider=gin.REQUIRED, trainer=trainer,
                            save_dir=save_dir, restore_dir=restore_dir,
                            **kwargs)
    if train_util.last_stop_signal:
      cli.fail('ddsp_run', f'stopped by {train_util.last_stop_signal} at '
               f'step {step} with a checkpoint in {save_dir}; run the same '
               'command to resume.',
               128 + signal.Signals[train_util.last_stop_signal].value)
  else:
    with _settings_phase():
      model = models.get_model()
    delay_start()
    run_mode = eval_util.evaluate if FLAGS.mode == 'eval' else eval_util.sample
    run_mode(data_provider=gin.REQUIRED, model=model, save_dir=save_dir,
             restore_dir=restore_dir, run_once=FLAGS.run_once)


def _gin_suggestion(message: str) -> str:
  """' Did you mean ...?' for a misspelt configurable or parameter, or ''."""
  unknown_parameter = re.search(
      r"Configurable '([\w.]+)' doesn't have a parameter named '(\w+)'",
      message)
  unknown_configurable = re.search(r"No configurable matching '([\w.]+)'",
                                   message)
  if unknown_parameter:
    configurable = gin.config._REGISTRY.get_match(unknown_parameter[1])  # pylint: disable=protected-access
    function = configurable.wrapped if configurable else None
    if inspect.isclass(function):
      function = function.__init__
    names = list(inspect.signature(function).parameters) if function else []
    word = unknown_parameter[2]
  elif unknown_configurable:
    names = sorted({selector.split('.')[-1] for selector, _ in
                    gin.config._REGISTRY.items()})  # pylint: disable=protected-access
    word = unknown_configurable[1].split('.')[-1]
  else:
    return ''
  close = difflib.get_close_matches(word, names, n=3)
  return f' Did you mean {" or ".join(repr(c) for c in close)}?' if close else ''


def _message(error: BaseException) -> str:
  """One line naming the cause and, for a full or read-only disk, the fix."""
  if isinstance(error, OSError) and error.errno is not None:
    return cli.os_error_message(error)
  message = cli.one_line(error).rstrip('.') + '.'
  message += _gin_suggestion(message)
  if 'No space left on device' in message:
    message += ' Free some space or choose another --save_dir.'
  elif 'Read-only file system' in message or 'Permission denied' in message:
    message += ' Choose a writable --save_dir.'
  return message


def main(unused_argv):
  """Runs --mode; errors end with a one-line cause and exit status 2 (the
  settings) or 1 (the run), a stop signal with 128 + its number after the
  checkpoint is saved."""
  save_dir = os.path.expanduser(FLAGS.save_dir)
  restore_dir = os.path.expanduser(FLAGS.restore_dir) or save_dir
  try:
    tf.io.gfile.makedirs(restore_dir)
    _run(save_dir, restore_dir)
  except _SettingsError as e:
    logging.debug('Traceback of the error below.', exc_info=True)
    cli.fail('ddsp_run', _message(e.__cause__), cli.EXIT_USAGE)
  except _USER_ERRORS as e:
    logging.debug('Traceback of the error below.', exc_info=True)
    raise SystemExit(f'ddsp_run: error: {_message(e)}') from None


def console_entry_point():
  """`ddsp_run` console script (Ctrl-C twice: exit 130 at once)."""
  cli.run(main, 'ddsp_run')


if __name__ == '__main__':
  console_entry_point()
