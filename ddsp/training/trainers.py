"""Trainer: Adam with exponential learning-rate decay, clipping, checkpoints.

One `Trainer` owns a model, its optimizer and a `tf.distribute` strategy.
`train_step` runs one update on every replica; the training loop itself
(logging, summaries, cadence, signals) lives in `train_util.train`.

Keras 3 notes:
- `optimizer.apply_gradients` inside `strategy.run` sums the replicas'
  gradients, so each replica's loss is divided by `num_replicas_in_sync`
  before differentiation; the update then equals the single-device update on
  the global batch (clipping runs per replica on the scaled gradients).
- Restoring into an unbuilt model restores nothing and raises nothing, so
  `build` creates every model and optimizer variable first and `restore`
  asserts that each of them received a value.
"""
import contextlib
import os
import shutil
import tempfile
from typing import Dict, Optional, Sequence

from absl import logging
import keras
import tensorflow as tf

from ddsp import validation
from ddsp.training import checkpoints
from ddsp.training import train_util
import gin

TensorDict = Dict[str, tf.Tensor]


class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
  """`schedule(step) * min(1, (step + 1) / warmup_steps)`."""

  def __init__(self, schedule, warmup_steps: int):
    self.schedule = schedule
    self.warmup_steps = validation.positive_int(warmup_steps, 'lr_warmup_steps')

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    ramp = tf.minimum(1.0, (step + 1.0) / float(self.warmup_steps))
    return self.schedule(step) * ramp

  def get_config(self):
    return {'schedule': keras.optimizers.schedules.serialize(self.schedule),
            'warmup_steps': self.warmup_steps}

  @classmethod
  def from_config(cls, config):
    return cls(keras.optimizers.schedules.deserialize(config['schedule']),
               config['warmup_steps'])


@gin.configurable
class Trainer:
  """Trains a ddsp model with Adam, global-norm clipping and checkpoints."""

  def __init__(self,
               model,
               strategy: tf.distribute.Strategy,
               checkpoints_to_keep: int = 100,
               learning_rate: float = 0.001,
               lr_decay_steps: int = 10000,
               lr_decay_rate: float = 0.98,
               grad_clip_norm: float = 3.0,
               restore_keys: Optional[Sequence[str]] = None,
               lr_warmup_steps: int = 0,
               ema_momentum: Optional[float] = None):
    """Creates the optimizer inside the strategy's scope.

    Args:
      model: A `ddsp.training.models.Model`: `model(batch, return_losses=True,
        training=True)` returns `(outputs, losses)` with a 'total_loss'.
      strategy: The `tf.distribute.Strategy` the model was created under.
      checkpoints_to_keep: Most recent checkpoints kept in `save_dir`.
      learning_rate: Initial Adam learning rate.
      lr_decay_steps: Steps per decay period of the (smooth) exponential
        schedule `learning_rate * lr_decay_rate ** (step / lr_decay_steps)`.
      lr_decay_rate: Decay factor per period.
      grad_clip_norm: Gradients are rescaled to this global L2 norm at most.
      restore_keys: Model attributes to restore (e.g. `['encoder']`); None
        restores the whole model. The optimizer is restored in both cases.
      lr_warmup_steps: The learning rate rises linearly from
        `learning_rate / lr_warmup_steps` to the schedule's over this many
        first steps; 0 (ddsp 3.7.0) starts at the full rate. Adam's first
        updates move every weight by about the learning rate whatever its
        gradient, see the README, "Learning quality".
      ema_momentum: If set, Adam also keeps an exponential moving average of
        the weights (Polyak averaging, Keras `use_ema`): `average =
        ema_momentum * average + (1 - ema_momentum) * weights` after every
        step. Checkpoints then hold the average as the model's weights (what
        evaluation, sampling and export restore) and the training weights
        under `training_weights` (what resuming continues from); see
        `averaged_weights`. None (ddsp 3.7.0) keeps no average.

    Raises:
      ValueError: if `ema_momentum` is not in [0, 1).
    """
    self.model = model
    self.strategy = strategy
    self.checkpoints_to_keep = checkpoints_to_keep
    self.grad_clip_norm = grad_clip_norm
    self.restore_keys = restore_keys
    self.learning_rate_schedule = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=lr_decay_steps, decay_rate=lr_decay_rate)
    if lr_warmup_steps:
      self.learning_rate_schedule = LinearWarmup(self.learning_rate_schedule,
                                                 lr_warmup_steps)
    if ema_momentum is not None and not 0.0 <= ema_momentum < 1.0:
      raise ValueError(f'ema_momentum must be in [0, 1) or None; got '
                       f'{ema_momentum!r}.')
    self.ema_momentum = ema_momentum
    with self.strategy.scope():
      self.optimizer = keras.optimizers.Adam(
          self.learning_rate_schedule, use_ema=ema_momentum is not None,
          ema_momentum=0.99 if ema_momentum is None else ema_momentum)
    self._jit_compile = False
    self._gradient_fn = None

  # ---------------------------------------------------------------------------
  # State
  # ---------------------------------------------------------------------------
  @property
  def step(self):
    """Number of applied updates (the optimizer's iteration variable)."""
    return self.optimizer.iterations

  def current_step(self) -> int:
    """The step as a Python int (works for distributed variables)."""
    return int(self.step.numpy())

  def learning_rate(self, step: int) -> float:
    """Learning rate of the schedule at `step`."""
    return float(self.learning_rate_schedule(step))

  @property
  def jit_compile(self) -> bool:
    """Whether forward and backward passes are compiled with XLA."""
    return self._jit_compile

  @jit_compile.setter
  def jit_compile(self, value: bool) -> None:
    self._jit_compile = bool(value)
    self._gradient_fn = None

  def get_checkpoint(self, model=None) -> tf.train.Checkpoint:
    """Checkpoint of the model (or `model`) and the optimizer's state.

    Keys as in ddsp 3.7.0: `model/<attribute>/...`, `optimizer/_iterations`,
    `optimizer/_variables/<n>` (Adam's m and v per trainable variable, n >=
    1), `save_counter`. (3.7.0 also saved `optimizer/_current_learning_rate`,
    which Keras 3 does not have; it is ignored when restoring.) With
    `ema_momentum` also `training_weights/<n>`, one per trainable variable.
    """
    objects = dict(model=model or self.model,
                   optimizer=self._optimizer_state())
    if self._averages:
      objects['training_weights'] = list(self._averages)
    return tf.train.Checkpoint(**objects)

  @property
  def _averages(self):
    """Adam's moving averages of the trainable variables ([] without)."""
    return list(getattr(self.optimizer, '_model_variables_moving_average',
                        None) or [])

  def _start_averages(self) -> None:
    """Sets the moving averages to the model's current trainable weights."""
    for variable, average in zip(self.model.trainable_variables,
                                 self._averages):
      average.assign(variable)

  def _swap_averages(self) -> None:
    """Exchanges the model's trainable weights and their moving averages."""
    for variable, average in zip(self.model.trainable_variables,
                                 self._averages):
      weights = tf.identity(variable)
      variable.assign(average)
      average.assign(weights)

  @contextlib.contextmanager
  def averaged_weights(self):
    """Within the block the model holds the moving average of its weights.

    The training weights come back on exit. Without `ema_momentum` the model
    is left as it is. Used for saving (so checkpoints hold the average) and
    for evaluating a model while it trains.
    """
    if not self._averages:
      yield
      return
    self._swap_averages()
    try:
      yield
    finally:
      self._swap_averages()

  # ---------------------------------------------------------------------------
  # Checkpoints
  # ---------------------------------------------------------------------------
  def save(self, save_dir: str) -> str:
    """Writes `save_dir/ckpt-<step>` and updates the `checkpoint` state file.

    Keeps the newest `checkpoints_to_keep` checkpoints. TensorFlow writes the
    data under a temporary name and renames it, and rewrites the state file
    atomically; if writing fails (full disk, no permission) the partial
    files of this checkpoint are removed and earlier checkpoints stay valid.

    On a non-chief worker of a multi-worker strategy the checkpoint is
    written to a temporary directory and deleted (every worker must take
    part in saving distributed variables).

    Args:
      save_dir: Directory of the checkpoints.

    Returns:
      The checkpoint prefix written (e.g. '/runs/violin/ckpt-300').

    Raises:
      train_util.CheckpointError: if the checkpoint could not be written.
    """
    if not train_util.is_chief(self.strategy):
      temp_dir = tempfile.mkdtemp(prefix='ddsp_worker_ckpt_')
      try:
        return self._save(temp_dir)
      finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    return self._save(save_dir)

  def _save(self, save_dir: str) -> str:
    step = self.current_step()
    manager = tf.train.CheckpointManager(
        self.get_checkpoint(), directory=save_dir,
        max_to_keep=self.checkpoints_to_keep)
    prefix = os.path.join(save_dir, f'ckpt-{step}')
    try:
      with self.averaged_weights():
        path = manager.save(checkpoint_number=step)
    except (tf.errors.OpError, OSError) as e:
      train_util.remove_partial_checkpoint(prefix)
      raise train_util.CheckpointError(
          f'Could not write checkpoint {prefix}: '
          f'{train_util.first_line(e)}. Nothing was written for step {step}; '
          'earlier checkpoints are intact.') from e
    logging.info('Saved checkpoint %s.', path)
    return path

  def restore(self, checkpoint_path: str,
              restore_keys: Optional[Sequence[str]] = None) -> None:
    """Restores model (or the `restore_keys` parts of it) and optimizer.

    Call `build` first, so that every variable exists.

    Args:
      checkpoint_path: A checkpoint prefix or a directory of checkpoints
        (the latest one is used).
      restore_keys: Overrides the constructor's `restore_keys`.

    Raises:
      FileNotFoundError: if there is no checkpoint at `checkpoint_path`.
      train_util.CheckpointError: if the checkpoint is unreadable or does
        not match the model.
    """
    path = train_util.get_latest_checkpoint(checkpoint_path)
    restore_keys = restore_keys or self.restore_keys
    with self.strategy.scope():
      if restore_keys:
        model = tf.train.Checkpoint(
            **{key: checkpoints.keras2_trackable(getattr(self.model, key))
               for key in restore_keys})
        train_util.restore_checkpoint(
            tf.train.Checkpoint(model=model), path)
        train_util.restore_checkpoint(
            tf.train.Checkpoint(optimizer=self._optimizer_state()), path,
            partial=True)
      elif self._averages:
        self._restore_with_averages(path)
      else:
        train_util.restore_checkpoint(self.get_checkpoint(), path)
    logging.info('Restored %s (step %d).', path, self.current_step())

  def _restore_with_averages(self, path: str) -> None:
    """Restores a checkpoint into a trainer with `ema_momentum`.

    A checkpoint written with averaging holds the average as the model and
    the training weights apart: both come back in their places. One written
    without (e.g. by ddsp 3.7.0) holds the training weights as the model:
    the average starts from them.
    """
    names = {name for name, _ in tf.train.list_variables(path)}
    if any(name.startswith('training_weights/') for name in names):
      train_util.restore_checkpoint(self.get_checkpoint(), path)
      self._swap_averages()
      return
    train_util.restore_checkpoint(tf.train.Checkpoint(
        model=self.model, optimizer=self._optimizer_state()), path)
    self._start_averages()

  def _optimizer_state(self) -> tf.train.Checkpoint:
    """The optimizer's own variables under their checkpoint keys.

    A Keras 3 optimizer also tracks the model's variables
    (`optimizer/_trainable_variables/<n>`): saved, they would take those
    shorter keys instead of `model/...`, and restoring the optimizer object
    would restore the whole model. This node holds only `_iterations` and
    the slots `_variables/<n>`.
    """
    averages = {id(average) for average in self._averages}
    return tf.train.Checkpoint(
        _iterations=self.optimizer.iterations,
        _variables=[v for v in self.optimizer.variables
                    if id(v) not in averages])

  # ---------------------------------------------------------------------------
  # Distribution helpers
  # ---------------------------------------------------------------------------
  def psum(self, x, axis=None):
    """Sum of a per-replica value over replicas (and `axis`)."""
    return self.strategy.reduce(tf.distribute.ReduceOp.SUM, x, axis=axis)

  def run(self, fn, *args, **kwargs):
    """Runs `fn` on every replica."""
    return self.strategy.run(fn, args=args, kwargs=kwargs)

  def distribute_dataset(self, dataset):
    """Splits each global batch of a `tf.data.Dataset` across replicas."""
    if isinstance(dataset, tf.data.Dataset):
      return self.strategy.experimental_distribute_dataset(dataset)
    return dataset

  # ---------------------------------------------------------------------------
  # Building and stepping
  # ---------------------------------------------------------------------------
  def build(self, batch) -> None:
    """Creates every model and optimizer variable from one (distributed) batch.

    Args:
      batch: A batch as yielded by the distributed dataset.

    Raises:
      ValueError: if a model variable would not be saved in checkpoints.
    """
    self.run(tf.function(self.model.__call__), batch)
    untracked = train_util.untracked_variables(self.model)
    if untracked:
      raise ValueError(
          'These model variables are not reachable from the model checkpoint '
          '(held in a list or container that tf.train.Checkpoint does not '
          f'track), so they would not be saved: {", ".join(untracked)}.')
    with self.strategy.scope():
      self.optimizer.build(self.model.trainable_variables)
    self._start_averages()  # Keras keeps them at 0 until the first step.
    try:
      self.model.summary(print_fn=logging.info)
    except ValueError:  # Keras cannot summarise some subclassed models.
      pass

  @tf.function
  def train_step(self, inputs) -> TensorDict:
    """One update on every replica.

    Args:
      inputs: A distributed iterator (the next batch is taken) or a batch.

    Returns:
      Dict of losses, each the mean over replicas of the replica's loss.
    """
    batch = next(inputs) if hasattr(inputs, '__next__') else inputs
    losses = self.run(self.step_fn, batch)
    n_replicas = self.strategy.num_replicas_in_sync
    return {k: self.psum(v) / n_replicas for k, v in losses.items()}

  def step_fn(self, batch) -> TensorDict:
    """Per-replica update: losses, clipped gradients, Adam step."""
    if self._gradient_fn is None:
      self._gradient_fn = tf.function(self.compute_gradients,
                                      jit_compile=self._jit_compile)
    gradients, losses = self._gradient_fn(batch)
    self.optimizer.apply_gradients(
        zip(gradients, self.model.trainable_variables))
    return losses

  def compute_gradients(self, batch):
    """Losses and global-norm-clipped gradients of one replica's batch.

    Returns:
      `(gradients, losses)`: gradients aligned with
      `model.trainable_variables`, and the replica's losses (unscaled).
    """
    n_replicas = self.strategy.num_replicas_in_sync
    with tf.GradientTape() as tape:
      _, losses = self.model(batch, return_losses=True, training=True)
      scaled_loss = losses['total_loss'] / n_replicas
    gradients = tape.gradient(scaled_loss, self.model.trainable_variables)
    gradients, _ = tf.clip_by_global_norm(gradients, self.grad_clip_norm)
    return gradients, losses


@gin.configurable
def get_trainer_class(trainer_class=Trainer):
  """The trainer class to construct (gin hook for custom trainers)."""
  return trainer_class
