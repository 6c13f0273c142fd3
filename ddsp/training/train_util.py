"""The training loop, distribution strategies and checkpoint files.

`train` runs `Trainer.train_step` until `num_steps`, as in ddsp 3.7.0: the
step is read after each update, so summaries and checkpoints land on steps
300, 600, ... (`ckpt-300`), a final checkpoint is always written, and the
operative gin config is saved as `operative_config-<start step>.gin`.
Added for watching and robustness:
- a log line every `steps_per_log` steps with the losses, steps/s and ETA;
  TensorBoard scalars `losses/<name>`, `learning_rate`, `steps_per_sec` and,
  at each summary step, audio and spectrogram summaries of one generated
  example (`summaries/train`);
- SIGINT/SIGTERM stop after the current step with a checkpoint (a second
  SIGINT quits at once); multi-worker runs agree on the stopping step;
- a NaN or infinite loss stops with its step number, without saving;
- an unreadable checkpoint or state file raises `CheckpointError` naming the
  file instead of silently training from scratch; a checkpoint that cannot
  be written leaves no partial files behind;
- `save_dir` is checked to be writable and the data to be readable before
  any step runs.
"""
import json
import os
import re
import signal
import threading
import time
from typing import Any, Dict, List, Optional, Union
import uuid

from absl import logging
import numpy as np
import tensorflow as tf

from ddsp import file_io
from ddsp.training import checkpoints
from ddsp.training import cloud
from ddsp.training import summaries
import gin


class CheckpointError(RuntimeError):
  """A checkpoint or checkpoint state file is unreadable or unwritable."""


def first_line(error: BaseException) -> str:
  """The first line of an exception's message (TF errors span many lines).

  For a failed TF assertion, only its summarized data (the actual cause,
  e.g. "No files matched pattern: data/*.tfrecord").
  """
  message = getattr(error, 'message', None) or str(error) or repr(error)
  summarized = re.search(r"Summarized data: b'(.*?)'", message)
  if summarized:
    return summarized.group(1)
  return message.strip().splitlines()[0]


# ------------------------------------------------------------------------------
# Strategies
# ------------------------------------------------------------------------------
def _parse_cluster_config(cluster_config: Union[str, Dict[str, Any]]):
  """JSON string or dict -> (cluster dict, task type, task index)."""
  try:
    config = (json.loads(cluster_config)
              if isinstance(cluster_config, str) else cluster_config)
    return (config['cluster'], config['task']['type'],
            int(config['task']['index']))
  except (ValueError, KeyError, TypeError) as e:
    raise ValueError(
        'cluster_config must be TF_CONFIG-style JSON: {"cluster": {"worker": '
        '["host:port", ...]}, "task": {"type": "worker", "index": 0}}; '
        f'received {cluster_config!r} ({first_line(e)}).') from e


def get_strategy(tpu: str = '',
                 cluster_config: Union[str, Dict[str, Any]] = ''
                 ) -> tf.distribute.Strategy:
  """The distribution strategy for this process.

  Args:
    tpu: Address of a TPU ('grpc://...'); uses `TPUStrategy`.
    cluster_config: TF_CONFIG-style dict or JSON string (`cluster`,
      `task.type`, `task.index`); uses `MultiWorkerMirroredStrategy` over
      gRPC. Without it, a `TF_CONFIG` environment variable listing more than
      one task does the same.

  Returns:
    `TPUStrategy`, `MultiWorkerMirroredStrategy`, or `MirroredStrategy` (all
    local GPUs, else the CPU).

  Raises:
    ValueError: if `cluster_config` is malformed.
  """
  if tpu:
    logging.info('Using a TPU at %s.', tpu)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  if cluster_config:
    cluster, task_type, task_index = _parse_cluster_config(cluster_config)
    logging.info('Multi-worker training as %s %d of %s.', task_type,
                 task_index, cluster)
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        cluster_spec=tf.train.ClusterSpec(cluster),
        task_type=task_type,
        task_id=task_index,
        num_accelerators={'GPU': len(tf.config.list_physical_devices('GPU'))},
        rpc_layer='grpc')
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
  if _tf_config_tasks() > 1:
    logging.info('Multi-worker training from TF_CONFIG.')
    return tf.distribute.MultiWorkerMirroredStrategy()
  return tf.distribute.MirroredStrategy()


def _tf_config_tasks() -> int:
  """Number of tasks in the TF_CONFIG environment variable (0 if none)."""
  try:
    cluster = json.loads(os.environ.get('TF_CONFIG', '{}')).get('cluster', {})
    return sum(len(tasks) for tasks in cluster.values())
  except (ValueError, AttributeError, TypeError):
    return 0


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this worker writes checkpoints, summaries and configs."""
  return bool(strategy.extended.should_checkpoint)


def _is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
  return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


# ------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------
expand_path = checkpoints.expand_path
# The signal ('SIGINT', 'SIGTERM') that stopped the last `train` call, or
# None: commands exit with 128 + its number after the checkpoint is saved.
last_stop_signal = None
get_latest_file = checkpoints.get_latest_file


def _check_state_file(checkpoint_dir: str) -> None:
  """Raises CheckpointError if the `checkpoint` state file is unusable."""
  state_path = os.path.join(checkpoint_dir, 'checkpoint')
  if not tf.io.gfile.exists(state_path):
    return
  try:
    state = tf.train.get_checkpoint_state(checkpoint_dir)
  except ValueError:
    state = None
  if state is None:
    raise CheckpointError(
        f'The checkpoint state file {state_path} is unreadable. Fix it or '
        'delete it (the latest ckpt-<n> is then used).')
  if tf.train.latest_checkpoint(checkpoint_dir) is None:
    raise CheckpointError(
        f'{state_path} names {state.model_checkpoint_path}, whose files are '
        'missing. Fix or delete the state file.')


def get_latest_checkpoint(checkpoint_path: str) -> str:
  """Resolves a checkpoint prefix or directory to a checkpoint prefix.

  See `checkpoints.get_latest_checkpoint`; in addition, a `checkpoint` state
  file that is unreadable or names missing files is an error (3.7.0 then
  silently trained from scratch).

  Raises:
    FileNotFoundError: if there is no checkpoint.
    CheckpointError: if the directory's state file is unusable.
  """
  checkpoint_path = expand_path(checkpoint_path)
  if not tf.io.gfile.exists(checkpoint_path + '.index'):
    _check_state_file(checkpoint_path)
  return checkpoints.get_latest_checkpoint(checkpoint_path)


def get_latest_operative_config(restore_dir: str) -> str:
  """The latest `operative_config-<n>.gin` in `restore_dir` or its parent.

  Raises:
    FileNotFoundError: if neither directory has one.
  """
  try:
    return get_latest_file(restore_dir)
  except FileNotFoundError:
    return get_latest_file(os.path.dirname(expand_path(restore_dir)))


def check_writable(directory: str) -> None:
  """Creates `directory` and checks that a file can be written in it.

  Raises:
    OSError: with the directory and the cause, if it cannot be written.
  """
  probe = os.path.join(directory, f'.write_test-{uuid.uuid4().hex}')
  try:
    tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(probe, 'w') as f:
      f.write('ok')
    tf.io.gfile.remove(probe)
  except (tf.errors.OpError, OSError) as e:
    raise OSError(f'save_dir {directory} is not writable: '
                  f'{first_line(e)}') from e


def _markdown_from_gin(config_str: str) -> str:
  """The operative config as markdown for a TensorBoard text summary."""

  def convert(line):
    if not line.startswith('#'):
      return '    ' + line
    line = line[2:]
    if line.startswith('===='):
      return ''
    if line.startswith('None'):
      return '    # None.'
    if line.endswith(':'):
      return '#### ' + line
    return line

  return '\n'.join(convert(line) for line in config_str.splitlines())


def write_gin_config(summary_writer, save_dir: str, step: int) -> str:
  """Saves the operative gin config and adds it to TensorBoard as text.

  Args:
    summary_writer: A `tf.summary` writer.
    save_dir: Where `operative_config-<step>.gin` is written (atomically,
      `ddsp.file_io`).
    step: Training step at the start of this run.

  Returns:
    Path of the written file.
  """
  config_str = gin.operative_config_str()
  base_name = f'operative_config-{step}'
  path = os.path.join(save_dir, base_name + '.gin')
  file_io.write_text(path, config_str)
  with summary_writer.as_default():
    tf.summary.text(f'gin/{base_name}', _markdown_from_gin(config_str),
                    step=step)
  summary_writer.flush()
  return path


# ------------------------------------------------------------------------------
# Checkpoint checks
# ------------------------------------------------------------------------------
def restore_checkpoint(checkpoint: tf.train.Checkpoint, path: str,
                       partial: bool = False) -> None:
  """Restores `checkpoint` from `path`, checking that values were restored.

  Args:
    checkpoint: Objects to restore; their variables must already exist.
    path: Checkpoint prefix.
    partial: Accept objects missing from the file (no check).

  Raises:
    CheckpointError: if the files are unreadable (corrupt, truncated) or do
      not match the objects (missing values, other shapes).
  """
  try:
    status = checkpoint.restore(path)
    if not partial:
      status.assert_existing_objects_matched()
    status.expect_partial()
  except (tf.errors.OpError, IndexError) as e:
    raise CheckpointError(
        f'Checkpoint {path} is unreadable (corrupt or truncated): '
        f'{first_line(e)}. It was left untouched; move it away to resume '
        'from an earlier checkpoint.') from e
  except (AssertionError, ValueError) as e:
    # Keras appends the variable's values to a shape mismatch: keep its path.
    cause = re.sub(r', shape=.*', '>.', first_line(e))
    raise CheckpointError(
        f'Checkpoint {path} does not match the model: {cause} Train with the '
        'gin config it was written with (the operative_config-*.gin next to '
        'it) or start a new --save_dir.') from e


def remove_partial_checkpoint(prefix: str) -> None:
  """Deletes the files of an incompletely written checkpoint `prefix`."""
  for path in (tf.io.gfile.glob(prefix + '.*') +
               tf.io.gfile.glob(prefix + '_temp*')):
    if tf.io.gfile.isdir(path):
      tf.io.gfile.rmtree(path)
    else:
      tf.io.gfile.remove(path)


def untracked_variables(model) -> List[str]:
  """Paths of the model's variables that `Checkpoint(model=model)` misses.

  Keras 3 layers held in plain Python containers are not dependencies of the
  TF object graph; their variables would silently be left out of a
  model-only checkpoint. Random seed states (`keras.random.SeedGenerator`,
  e.g. of noise synthesizers) are not model weights and are ignored.
  """
  model_checkpoint = tf.train.Checkpoint(model=model)  # The view's weak root.
  reachable = {id(obj) for obj in
               tf.train.TrackableView(model_checkpoint).descendants()}
  return [v.path for v in model.variables
          if id(v) not in reachable and v.name != 'seed_generator_state']


# ------------------------------------------------------------------------------
# Watching a run
# ------------------------------------------------------------------------------
class _StopSignals:
  """Turns SIGINT/SIGTERM into a stop request checked between steps.

  A TensorFlow step cannot be interrupted; Python runs the handler when the
  step returns. A second SIGINT raises KeyboardInterrupt (quit now).
  """

  SIGNALS = (signal.SIGINT, signal.SIGTERM)

  def __init__(self):
    self.received = None
    self._previous = {}

  def _handle(self, signum, frame):
    del frame
    if self.received is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.received = signal.Signals(signum).name
    logging.warning('Received %s: stopping after this step and saving a '
                    'checkpoint (Ctrl-C again quits without saving).',
                    self.received)

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in self.SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)


class _Progress:
  """Steps/s over the last window and time left to `num_steps`."""

  def __init__(self, step: int, num_steps: int):
    self.num_steps = num_steps
    self._step = step
    self._time = time.time()

  def rate(self, step: int) -> float:
    """Steps per second since the last call; starts a new window."""
    now = time.time()
    rate = (step - self._step) / max(now - self._time, 1e-9)
    self._step, self._time = step, now
    return rate

  def eta(self, step: int, rate: float) -> str:
    seconds = int((self.num_steps - step) / rate) if rate > 0 else 0
    return time.strftime('%H:%M:%S', time.gmtime(seconds)) if seconds < 86400 \
        else f'{seconds / 86400:.1f} days'


def _format_losses(losses: Dict[str, float]) -> str:
  return '\t'.join(f'{k}: {v:.2f}' for k, v in losses.items())


def _example_batch(data_provider) -> Optional[Dict[str, tf.Tensor]]:
  """One example (batch of 1) with 'audio' for summaries, if available."""
  example = next(iter(data_provider.get_batch(1, shuffle=False, repeats=1)))
  return example if isinstance(example, dict) and 'audio' in example else None


def _generated_audio_summary(model, example, step: int,
                             sample_rate: int) -> None:
  """Audio and spectrogram summaries of the model's output for `example`."""
  outputs = model(dict(example), training=False)
  audio_gen = model.get_audio_from_outputs(outputs)
  audio = example['audio']
  summaries.audio_summary(audio_gen, step, sample_rate, 'audio_generated')
  summaries.audio_summary(audio, step, sample_rate, 'audio_original')
  summaries.spectrogram_summary(audio, audio_gen, step)


def get_batches(data_provider, batch_size: int, shuffle: bool = True,
                repeats: int = -1) -> tf.data.Dataset:
  """`data_provider.get_batch` with a one-line error if it cannot be read.

  Raises:
    ValueError: if the dataset cannot be created (e.g. a file pattern that
      matches no file), with the provider's name and the cause.
  """
  try:
    return data_provider.get_batch(batch_size, shuffle=shuffle,
                                   repeats=repeats)
  except tf.errors.OpError as e:
    raise ValueError(f'Cannot read the data of '
                     f'{type(data_provider).__name__}: {first_line(e)}') from e


# ------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------
@gin.configurable
def train(data_provider,
          trainer,
          batch_size: int = 32,
          num_steps: int = 1000000,
          steps_per_summary: int = 300,
          steps_per_save: int = 300,
          save_dir: str = '/tmp/ddsp',
          restore_dir: str = '/tmp/ddsp',
          early_stop_loss_value: Optional[float] = None,
          report_loss_to_hypertune: bool = False,
          steps_per_log: int = 10,
          jit_compile: bool = False) -> int:
  """Trains until `num_steps` updates, a stop signal or early stopping.

  Args:
    data_provider: A `ddsp.training.data.DataProvider`.
    trainer: A `trainers.Trainer`.
    batch_size: Global batch size (split across replicas).
    num_steps: Stop when the step (number of updates) reaches this.
    steps_per_summary: TensorBoard summaries every this many steps.
    steps_per_save: Checkpoint every this many steps.
    save_dir: Checkpoints, operative config and `summaries/train`; '' saves
      nothing.
    restore_dir: Resume from the latest checkpoint here, if any.
    early_stop_loss_value: Stop once the total loss is at or below this.
    report_loss_to_hypertune: Report the total loss to AI Platform
      hyperparameter tuning every step.
    steps_per_log: A log line (losses, steps/s, ETA) every this many steps.
    jit_compile: Compile the forward and backward pass with XLA (measure
      first: on CPU it was slower, see the README).

  Returns:
    The step reached.

  Raises:
    ValueError: if the data cannot be read.
    FloatingPointError: if the total loss becomes NaN or infinite.
    OSError: if `save_dir` is not writable.
    CheckpointError: if a checkpoint cannot be read or written.
  """
  chief = is_chief(trainer.strategy)
  if save_dir and chief:
    check_writable(save_dir)
  dataset = get_batches(data_provider, batch_size)
  example = _example_batch(data_provider) if save_dir and chief else None
  dataset_iter = iter(trainer.distribute_dataset(dataset))

  trainer.jit_compile = jit_compile
  trainer.build(next(dataset_iter))
  try:
    trainer.restore(restore_dir)
  except FileNotFoundError:
    logging.info('No checkpoint in %r; training from scratch.', restore_dir)

  step = trainer.current_step()
  if save_dir and chief:
    writer = tf.summary.create_file_writer(
        os.path.join(save_dir, 'summaries', 'train'))
    write_gin_config(writer, save_dir, step)
  else:
    writer = tf.summary.create_noop_writer()

  start_step = last_saved_step = step
  loss_sums, loss_count = {}, 0
  log_progress = _Progress(step, num_steps)
  summary_progress = _Progress(step, num_steps)
  global last_stop_signal
  last_stop_signal = None
  stop_reason = None
  with _StopSignals() as signals, writer.as_default():
    while step < num_steps:
      losses = {k: float(v.numpy())
                for k, v in _train_step(trainer, dataset_iter).items()}
      step = trainer.current_step()
      total_loss = losses['total_loss']
      if not np.isfinite(total_loss):
        raise FloatingPointError(
            f'total_loss is {total_loss} at step {step}; stopped without '
            f'saving. The last checkpoint (step {last_saved_step}) is intact; '
            'lower the learning rate or check the data.')
      for k, v in losses.items():
        loss_sums[k] = loss_sums.get(k, 0.0) + v
      loss_count += 1

      if step % steps_per_log == 0 or step == start_step + 1:
        rate = log_progress.rate(step)
        logging.info('step: %d\t%s\tsteps/s: %.2f\tETA: %s', step,
                     _format_losses(losses), rate,
                     log_progress.eta(step, rate))

      if step % steps_per_summary == 0 and save_dir:
        tf.summary.scalar('steps_per_sec', summary_progress.rate(step),
                          step=step)
        tf.summary.scalar('learning_rate', trainer.learning_rate(step),
                          step=step)
        for k, v in loss_sums.items():
          tf.summary.scalar(f'losses/{k}', v / loss_count, step=step)
        loss_sums, loss_count = {}, 0
        if example is not None:
          _generated_audio_summary(trainer.model, example, step,
                                   data_provider.sample_rate)

      if report_loss_to_hypertune:
        cloud.report_metric_to_hypertune(total_loss, step)

      if (early_stop_loss_value is not None and
          total_loss <= early_stop_loss_value):
        stop_reason = (f'total_loss {total_loss:.4f} <= early_stop_loss_value '
                       f'{early_stop_loss_value}')
        break

      if step % steps_per_save == 0 and save_dir:
        trainer.save(save_dir)
        last_saved_step = step
        writer.flush()

      if _stop_requested(trainer, signals.received is not None):
        stop_reason = signals.received or 'a stop request on another worker'
        last_stop_signal = signals.received
        break

    if save_dir and last_saved_step != step:
      trainer.save(save_dir)
    writer.flush()
  if stop_reason:
    logging.warning('Stopped at step %d (%s); checkpoint saved in %s. Run '
                    'the same command to resume.', step, stop_reason,
                    save_dir or '(nowhere: no save_dir)')
  else:
    logging.info('Training done at step %d.', step)
  return step


def _train_step(trainer, dataset_iter) -> Dict[str, tf.Tensor]:
  """`trainer.train_step`, explaining a model that XLA cannot compile."""
  try:
    return trainer.train_step(dataset_iter)
  except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError) as e:
    if not trainer.jit_compile or 'tf2xla' not in str(e):
      raise
    node = re.search(r'Detected at node (\S+)', str(e))
    causes = [line.strip() for line in str(e).splitlines()
              if 'not supported' in line or 'unsupported' in line.lower()]
    raise ValueError(
        'train.jit_compile=True: XLA cannot compile this model '
        f'({causes[0] if causes else first_line(e)}'
        f'{f" at {node.group(1)}" if node else ""}); train without it.'
    ) from e


def _stop_requested(trainer, local_request: bool) -> bool:
  """Whether to stop now; all workers of a multi-worker run agree."""
  if not _is_multi_worker(trainer.strategy):
    return local_request
  votes = trainer.run(lambda: tf.constant(float(local_request)))
  return float(trainer.psum(votes).numpy()) > 0

