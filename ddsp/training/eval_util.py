"""Evaluation and sampling of checkpoints as they appear.

`evaluate` computes losses and metrics over `num_batches` batches for each
new checkpoint in `restore_dir`; `sample` writes audio, waveform and
spectrogram summaries. Both write to `save_dir/summaries/eval`.

Unlike ddsp 3.7.0, evaluation reports the model's losses: models compute
losses only when called with `training=True`, so 3.7.0's eval losses were
just `total_loss = 0`. Here the model runs with `training=False` (no
dropout, no state updates) and the losses of its `loss_objs` are computed
on the generated audio afterwards (see `compute_losses`).
"""
import os
import time
from typing import Dict, Iterator, Sequence

from absl import logging
import tensorflow as tf

from ddsp import spectral_ops
from ddsp.training import data
from ddsp.training import train_util
import gin

TensorDict = Dict[str, tf.Tensor]

# Seconds between looks for a new checkpoint.
_POLL_SECS = 1.0


def compute_losses(model, batch: TensorDict, outputs: TensorDict,
                   losses: TensorDict) -> TensorDict:
  """The losses of an evaluation call (`training=False`).

  Args:
    model: The model; if it has `loss_objs` (e.g. `Autoencoder`), each one's
      `get_losses_dict(batch['audio'], audio_gen)` is computed.
    batch: The input batch.
    outputs: The model's outputs for `batch`.
    losses: The loss dict the model returned (used as is for models without
      `loss_objs`, which compute their losses whatever `training` is).

  Returns:
    Dict of scalar losses with 'total_loss' their sum.
  """
  loss_objs = getattr(model, 'loss_objs', None)
  if not loss_objs or 'audio' not in batch:
    return losses
  audio_gen = model.get_audio_from_outputs(outputs)
  computed = {}
  for loss_obj in loss_objs:
    if hasattr(loss_obj, 'get_losses_dict'):
      computed.update(loss_obj.get_losses_dict(batch['audio'], audio_gen))
  if not computed:
    return losses
  computed['total_loss'] = tf.reduce_sum(list(computed.values()))
  return computed


def _restore(model, checkpoint_path: str, batch: TensorDict) -> None:
  """Builds `model` on `batch` (if needed) and restores its weights.

  Raises:
    train_util.CheckpointError: naming the checkpoint, if it is unreadable
      or does not match the model.
  """
  if not model.built or not model.variables:
    model(dict(batch), training=False)
  if not hasattr(model, 'restore'):
    train_util.restore_checkpoint(tf.train.Checkpoint(model=model),
                                  checkpoint_path)
    return
  try:
    # verbose=False: no TensorFlow warning for each optimizer slot and
    # training weight in the checkpoint that a model-only restore leaves.
    model.restore(checkpoint_path, verbose=False)
    logging.info('Restored %s from %s', type(model).__name__, checkpoint_path)
  except (tf.errors.OpError, IndexError, AssertionError, ValueError) as e:
    raise train_util.CheckpointError(
        f'Cannot restore {checkpoint_path}: {train_util.first_line(e)}'
    ) from e


def _new_checkpoints(restore_dir: str, min_interval_secs: float,
                     run_once: bool) -> Iterator[str]:
  """Yields the latest checkpoint whenever a new one appears.

  Like `tf.train.checkpoints_iterator`, but an unreadable state file raises
  `CheckpointError` instead of waiting forever, and with `run_once` a
  missing checkpoint raises FileNotFoundError instead of waiting.
  """
  last_path, last_time = None, 0.0
  waiting_logged = False
  while True:
    try:
      path = train_util.get_latest_checkpoint(restore_dir)
    except FileNotFoundError:
      if run_once:
        raise FileNotFoundError(
            f'No checkpoint in {restore_dir} to evaluate.') from None
      path = None
    if path is not None and path != last_path:
      time.sleep(max(0.0, last_time + min_interval_secs - time.time()))
      last_path, last_time = path, time.time()
      waiting_logged = False
      yield path
    else:
      if not waiting_logged:
        logging.info('Waiting for a new checkpoint in %s.', restore_dir)
        waiting_logged = True
      time.sleep(_POLL_SECS)


def evaluate_or_sample(data_provider,
                       model,
                       evaluator_classes,
                       mode: str = 'eval',
                       save_dir: str = '/tmp/ddsp/training',
                       restore_dir: str = '',
                       batch_size: int = 32,
                       num_batches: int = 50,
                       repeats: int = -1,
                       ckpt_delay_secs: int = 0,
                       run_once: bool = False,
                       run_until_step: int = 0,
                       evaluate_and_sample: bool = False) -> None:
  """Evaluates or samples every new checkpoint in `restore_dir`.

  Args:
    data_provider: A `DataProvider` (read in order, without shuffling). For
      `SyntheticNotes`, each batch's audio is rendered by the model's
      `generate_synthetic_audio` (confidence 1, loudness computed).
    model: The model; built on the first batch, restored per checkpoint.
    evaluator_classes: `evaluators.BaseEvaluator` subclasses, each made with
      `(sample_rate, frame_rate)` of the provider.
    mode: 'eval' (`evaluate` + `flush`) or 'sample' (`sample`).
    save_dir: Summaries go to `save_dir/summaries/eval`.
    restore_dir: Checkpoints are read here ('' means `save_dir`).
    batch_size: Examples per batch.
    num_batches: Batches per checkpoint (< 1: the whole dataset, which then
      needs finite `repeats`).
    repeats: Passes over the data (-1: forever).
    ckpt_delay_secs: Minimum seconds between two checkpoints processed.
    run_once: Process only the latest checkpoint.
    run_until_step: Stop after a checkpoint at or past this step (0: never).
    evaluate_and_sample: Do both for each checkpoint.

  Raises:
    train_util.CheckpointError: if a checkpoint cannot be restored.
  """
  restore_dir = restore_dir or save_dir
  writer = tf.summary.create_file_writer(
      os.path.join(save_dir, 'summaries', 'eval'))
  dataset = train_util.get_batches(data_provider, batch_size, shuffle=False,
                                   repeats=repeats)
  if num_batches >= 1:
    dataset = dataset.take(num_batches)
  evaluators = [cls(data_provider.sample_rate, data_provider.frame_rate)
                for cls in evaluator_classes]
  for checkpoint_path in _new_checkpoints(restore_dir, ckpt_delay_secs,
                                          run_once):
    step = int(checkpoint_path.split('-')[-1])
    start = time.time()
    with writer.as_default():
      n_batches = _process_checkpoint(
          model, checkpoint_path, dataset, evaluators, step,
          do_eval=evaluate_and_sample or mode == 'eval',
          do_sample=evaluate_and_sample or mode == 'sample',
          synthetic_notes=isinstance(data_provider, data.SyntheticNotes))
    writer.flush()
    logging.info('%s of %s: %d batches in %.1f s.', mode, checkpoint_path,
                 n_batches, time.time() - start)
    if run_once or (0 < run_until_step <= step):
      break


def _render_synthetic_notes(model, batch: TensorDict) -> TensorDict:
  """Audio, confidence and loudness for a batch of synthetic-note controls."""
  batch = dict(batch)
  batch['audio'] = model.generate_synthetic_audio(batch)
  batch['f0_confidence'] = tf.ones_like(batch['f0_hz'])[:, :, 0]
  batch['loudness_db'] = spectral_ops.compute_loudness(batch['audio'])
  return batch


def _process_checkpoint(model, checkpoint_path: str, dataset, evaluators,
                        step: int, do_eval: bool, do_sample: bool,
                        synthetic_notes: bool) -> int:
  """Runs the evaluators over `dataset` for one checkpoint; returns batches."""
  n_batches = 0
  for batch in dataset:
    if synthetic_notes:
      batch = _render_synthetic_notes(model, batch)
    if n_batches == 0:
      _restore(model, checkpoint_path, batch)
    outputs, losses = model(dict(batch), return_losses=True, training=False)
    losses = compute_losses(model, batch, outputs, losses)
    outputs['audio_gen'] = model.get_audio_from_outputs(outputs)
    for evaluator in evaluators:
      if do_eval:
        evaluator.evaluate(batch, outputs, losses)
      if do_sample:
        evaluator.sample(batch, outputs, step)
    n_batches += 1
  if do_eval:
    for evaluator in evaluators:
      evaluator.flush(step)
  return n_batches


@gin.configurable
def evaluate(data_provider,
             model,
             evaluator_classes: Sequence[type],
             save_dir: str = '/tmp/ddsp/training',
             restore_dir: str = '',
             batch_size: int = 32,
             num_batches: int = 50,
             repeats: int = -1,
             ckpt_delay_secs: int = 0,
             run_once: bool = False,
             run_until_step: int = 0) -> None:
  """Evaluates checkpoints: losses and metrics (see `evaluate_or_sample`)."""
  evaluate_or_sample(mode='eval', **locals())


@gin.configurable
def sample(data_provider,
           model,
           evaluator_classes: Sequence[type],
           save_dir: str = '/tmp/ddsp/training',
           restore_dir: str = '',
           batch_size: int = 16,
           num_batches: int = 1,
           ckpt_delay_secs: int = 0,
           run_once: bool = False,
           run_until_step: int = 0) -> None:
  """Samples checkpoints: audio and plot summaries (see `evaluate_or_sample`)."""
  evaluate_or_sample(mode='sample', **locals())
