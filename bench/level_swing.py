"""How far single training steps move a model's output level.

Restores a `ddsp_run` save directory (its operative gin config and latest
checkpoint), keeps training it on its dataset at `--batch`, and every
`--every` steps prints the signed voiced loudness error of a fixed batch,
`mean(loudness(resynthesis) - loudness(target))` in dB over frames with
`f0_confidence > 0.8` (`spectral_ops.compute_loudness`), with the mean
harmonic amplitude in dB: for the training weights and, with
`--ema_momentum`, for their moving average (`Trainer.averaged_weights`,
started from the restored weights).

This is the measurement behind `Trainer.ema_momentum` in
`models/solo_instrument.gin` (README, "Learning quality"): from the demo's
120-step violin model at learning rate 3e-4 the training weights' error
jumped by up to 18 dB within two steps while the average's stayed within
+-3 dB.

Usage:
  python bench/level_swing.py --save_dir out/demo/model \\
      --file_pattern 'out/demo/data/train.tfrecord*' --steps 40 --every 2 \\
      --ema_momentum 0.95 [--gin_param 'Trainer.learning_rate = 1e-4']
"""

import argparse
import time

import machine


def main():
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--save_dir', required=True,
                      help='ddsp_run --save_dir of a trained model')
  parser.add_argument('--file_pattern', required=True,
                      help='TFRecords of its training data')
  parser.add_argument('--steps', type=int, default=40)
  parser.add_argument('--every', type=int, default=2)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--ema_momentum', type=float, default=None)
  parser.add_argument('--gin_param', action='append', default=[],
                      help='extra gin binding (repeatable)')
  args = parser.parse_args()

  import keras  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  from ddsp import spectral_ops  # pylint: disable=g-import-not-at-top
  import ddsp.training  # noqa: F401  # pylint: disable=g-import-not-at-top,unused-import
  from ddsp.training import data  # pylint: disable=g-import-not-at-top
  from ddsp.training import ddsp_run  # pylint: disable=g-import-not-at-top
  from ddsp.training import models  # pylint: disable=g-import-not-at-top
  from ddsp.training import train_util  # pylint: disable=g-import-not-at-top
  from ddsp.training import trainers  # pylint: disable=g-import-not-at-top
  import gin  # pylint: disable=g-import-not-at-top

  gin.add_config_file_search_path(ddsp_run.GIN_PATH)
  with gin.unlock_config():
    gin.parse_config_file(train_util.get_latest_operative_config(
        args.save_dir), skip_unknown=True)
    gin.parse_config(args.gin_param +
                     [f'Trainer.ema_momentum = {args.ema_momentum}'])
  keras.utils.set_random_seed(0)
  strategy = train_util.get_strategy()
  with strategy.scope():
    model = models.get_model()
    trainer = trainers.get_trainer_class()(model, strategy)
  provider = data.TFRecordProvider(args.file_pattern)
  fixed = next(iter(provider.get_batch(16, shuffle=True, repeats=1)))
  batches = iter(train_util.get_batches(provider, args.batch))
  trainer.build(next(batches))
  trainer.restore(args.save_dir)
  voiced = np.asarray(fixed['f0_confidence']) > 0.8
  n_frames = voiced.shape[1]

  def level():
    outputs = model(dict(fixed), training=False)
    target, synth = [spectral_ops.compute_loudness(x).numpy()[:, :n_frames]
                     for x in (fixed['audio'], outputs['audio_synth'])]
    amplitudes = np.asarray(
        outputs['harmonic']['controls']['amplitudes'])[..., 0]
    return (float(np.mean((synth - target)[voiced])),
            float(np.mean(20 * np.log10(amplitudes[voiced] + 1e-7))))

  print(f'level_swing: {machine.describe()}; from step '
        f'{trainer.current_step()}, learning rate '
        f'{trainer.learning_rate(trainer.current_step()):.3g}')
  print('step  loss   error dB  amplitude dB' +
        ('  | averaged: error dB  amplitude dB' if args.ema_momentum else ''))
  losses, start = [], time.perf_counter()
  for step in range(args.steps + 1):
    if step % args.every == 0:
      error, amplitude = level()
      line = (f'{step:4d} {np.mean(losses[-args.every:]) if losses else 0:6.2f}'
              f'  {error:+8.2f}  {amplitude:+12.2f}')
      if args.ema_momentum:
        with trainer.averaged_weights():
          error, amplitude = level()
        line += f'  |           {error:+8.2f}  {amplitude:+12.2f}'
      print(line, flush=True)
    if step < args.steps:
      losses.append(float(trainer.train_step(batches)['total_loss']))
  print(f'level_swing: {args.steps} steps in '
        f'{time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
  main()
