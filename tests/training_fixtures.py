"""A tiny model and data for testing the training runtime, and a runner.

`TinyModel` is a `ddsp.training.models.Model` (losses only when
`training=True`, `loss_objs`, `get_audio_from_outputs`) with a per-sample
two-layer network:
audio_synth = w2 . tanh(w1 * audio + b1) + b2, loss mean |0.5 audio - synth|.
Its numbers are easy to re-derive in numpy.

Run as a script, it trains `TinyModel` with `train_util.train` (used by tests
that need a separate process: signals, SIGKILL, a full disk, multi-worker).
"""
import argparse
import json
import os
import resource
import signal
import sys
import time

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from ddsp.training import models

N_SAMPLES = 400
SAMPLE_RATE = 16000


class L1ToHalf:
  """Loss object: mean |0.5 * target - audio| under the name 'l1'."""

  def get_losses_dict(self, target_audio, audio):
    return {'l1': tf.reduce_mean(tf.abs(0.5 * target_audio - audio))}


class TinyModel(models.Model):
  """Per-sample MLP on the input audio (see module docstring)."""

  def __init__(self, hidden: int = 8, **kwargs):
    super().__init__(**kwargs)
    self.hidden = keras.layers.Dense(hidden, activation='tanh')
    self.out = keras.layers.Dense(1)
    self.loss_objs = [L1ToHalf()]

  def call(self, features, training=False):
    audio = features['audio']
    synth = self.out(self.hidden(audio[..., tf.newaxis]))[..., 0]
    if training:
      self._update_losses_dict(self.loss_objs, audio, synth)
    return {'audio': audio, 'audio_synth': synth}

  def get_audio_from_outputs(self, outputs):
    return outputs['audio_synth']


def example_audio(i: int) -> np.ndarray:
  """Example i: a sine of 0.5 amplitude (400 samples), phase by i."""
  t = np.arange(N_SAMPLES)
  return (0.5 * np.sin(2 * np.pi * 440 * t / SAMPLE_RATE + i)).astype(
      np.float32)


class TinyProvider:
  """A repeating dataset of `n_examples` sines; optional NaN example."""

  sample_rate = SAMPLE_RATE
  frame_rate = 250

  def __init__(self, n_examples: int = 4, nan_example: int = -1):
    self.n_examples = n_examples
    self.nan_example = nan_example

  def get_dataset(self, shuffle=True):
    del shuffle
    audio = np.stack([example_audio(i) for i in range(self.n_examples)])
    if self.nan_example >= 0:
      audio[self.nan_example, 0] = np.nan
    return tf.data.Dataset.from_tensor_slices({'audio': audio})

  def get_batch(self, batch_size, shuffle=True, repeats=-1,
                drop_remainder=True):
    dataset = self.get_dataset(shuffle).repeat(repeats)
    return dataset.batch(batch_size, drop_remainder=drop_remainder)


def read_events(directory):
  """TensorBoard events of every event file in `directory`."""
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  events = event_accumulator.EventAccumulator(
      str(directory), size_guidance={'tensors': 0, 'images': 0})
  events.Reload()
  return events


def make_trainer(strategy=None, hidden: int = 8, learning_rate: float = 0.01,
                 seed: int = 0, **trainer_kwargs):
  """A `Trainer` of a freshly seeded `TinyModel`."""
  from ddsp.training import trainers  # pylint: disable=g-import-not-at-top
  from ddsp.training import train_util  # pylint: disable=g-import-not-at-top
  strategy = strategy or train_util.get_strategy()
  keras.utils.set_random_seed(seed)
  with strategy.scope():
    model = TinyModel(hidden)
    return trainers.Trainer(model, strategy, learning_rate=learning_rate,
                            **trainer_kwargs)


def _parse_args(argv):
  parser = argparse.ArgumentParser()
  parser.add_argument('--save_dir', required=True)
  parser.add_argument('--num_steps', type=int, default=100000)
  parser.add_argument('--steps_per_save', type=int, default=5)
  parser.add_argument('--hidden', type=int, default=8)
  parser.add_argument('--step_sleep', type=float, default=0.0)
  parser.add_argument('--max_file_bytes', type=int, default=0)
  parser.add_argument('--worker', type=int, default=-1)
  parser.add_argument('--ports', default='')
  return parser.parse_args(argv)


def main(argv):
  """Trains TinyModel; prints 'WEIGHTS <json>' at the end."""
  from ddsp.training import train_util  # pylint: disable=g-import-not-at-top
  args = _parse_args(argv)
  logging.set_verbosity(logging.INFO)
  if args.max_file_bytes:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill.
    resource.setrlimit(resource.RLIMIT_FSIZE,
                       (args.max_file_bytes, args.max_file_bytes))
  cluster_config = ''
  save_dir = args.save_dir
  if args.worker >= 0:
    workers = [f'127.0.0.1:{port}' for port in args.ports.split(',')]
    cluster_config = json.dumps({'cluster': {'worker': workers},
                                 'task': {'type': 'worker',
                                          'index': args.worker}})
  strategy = train_util.get_strategy(cluster_config=cluster_config)
  trainer = make_trainer(strategy, hidden=args.hidden)
  if args.step_sleep:
    train_step = trainer.train_step

    def slow_train_step(inputs):
      time.sleep(args.step_sleep)
      return train_step(inputs)

    trainer.train_step = slow_train_step
  try:
    train_util.train(TinyProvider(), trainer, batch_size=2,
                     num_steps=args.num_steps, steps_per_summary=100000,
                     steps_per_save=args.steps_per_save, save_dir=save_dir,
                     restore_dir=args.save_dir, steps_per_log=1)
  except (train_util.CheckpointError, OSError, FloatingPointError) as e:
    print(f'ERROR {type(e).__name__}: {e}', flush=True)
    sys.exit(1)
  weights = [v.numpy().tolist() for v in trainer.model.weights]
  print('WEIGHTS ' + json.dumps(weights), flush=True)


if __name__ == '__main__':
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  main(sys.argv[1:])
