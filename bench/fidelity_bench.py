"""Learning quality of the solo-instrument model: resynthesis fidelity curves.

Builds a TFRecord dataset with `ddsp_prepare_tfrecord` from a folder of clips
(`train_*` for training; `eval_*` held out), trains
`models/solo_instrument.gin` (with `optimization/base.gin`, as `ddsp_run`
does) through the public API (`models.get_model`, `trainers.Trainer`,
`data.TFRecordProvider`) for `--steps` steps at `--batch` with a fixed seed,
and evaluates on the held-out clip (cut into 4 s examples) at step 0, every
`steps / 10` steps and at the end:

  l1            multi-scale log-magnitude L1 between target and resynthesis:
                periodic-Hann STFT, FFT sizes 2048, 1024, 512, 256, 128, 64,
                75 % overlap, ln(max(|X|, 1e-5)), mean absolute difference
                per size, averaged over the sizes;
  spectral_loss the model's own loss (its SpectralLoss) on the eval clip;
  loudness_err_db  mean |loudness(target) - loudness(resynthesis)| in dB
                (`spectral_ops.compute_loudness`) over voiced frames (f0 > 0);
  harmonic_rms, noise_rms  RMS of the dry harmonic and filtered-noise
                branches (before the reverb); target_rms for scale.

With `Trainer.ema_momentum` (the shipped config) the model is evaluated with
the moving average of its weights, as its checkpoints hold it; each point
also gives the training weights' metrics under `training_weights`.

Writes `<out>.json` (settings, curve, machine) and `<out>.png` (the curves);
`--write_wavs` also writes the final target / resynthesis / harmonic / noise
of the eval clip. `--truth_f0` replaces CREPE's f0 by the clips' exact f0
(`<clip>.json`, `f0_hz` at 250 frames/s, 0 where no note; confidence 1 where
f0 > 0). `--gin_param` adds bindings after the configs, e.g. the 3.7.0
behaviour (see README, "Learning quality"). `--compare A.json B.json ...`
plots the curves of earlier runs on one figure and prints a table.

  python bench/fidelity_bench.py --clips ../shared/data/instruments/violin \\
      --truth_f0 --out bench/results/fidelity/violin_after
  python bench/fidelity_bench.py --compare a.json b.json --out compare
"""

import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import machine

SAMPLE_RATE, FRAME_RATE, EXAMPLE_SECS = 16000, 250, 4
HOP = SAMPLE_RATE // FRAME_RATE
FFT_SIZES = (2048, 1024, 512, 256, 128, 64)
METRICS = ('l1', 'spectral_loss', 'loudness_err_db', 'harmonic_rms',
           'noise_rms')


# ------------------------------------------------------------------------------
# Dataset
# ------------------------------------------------------------------------------
def _prepare(paths, prefix: str, hop_secs: float, crepe_model: str) -> str:
  """Runs `ddsp_prepare_tfrecord` on `paths`; returns the file pattern."""
  command = [os.path.join(os.path.dirname(sys.executable),
                          'ddsp_prepare_tfrecord'),
             '--input_audio_filepatterns=' + ','.join(paths),
             f'--output_tfrecord_path={prefix}',
             f'--example_secs={EXAMPLE_SECS}', f'--hop_secs={hop_secs}',
             f'--crepe_model={crepe_model}', '--num_shards=1']
  print('fidelity_bench: ' + ' '.join(command[1:]), flush=True)
  subprocess.run(command, check=True)
  return prefix + '*'


def _truth_f0(path: str):
  """Exact f0 [n_frames] at 250 frames/s from the clip's `.json`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  json_path = os.path.splitext(path)[0] + '.json'
  with open(json_path) as f:
    info = json.load(f)
  if info.get('frame_rate', FRAME_RATE) != FRAME_RATE:
    raise ValueError(f'{json_path}: frame_rate must be {FRAME_RATE}.')
  return np.asarray(info['f0_hz'], np.float32)


def _with_truth_f0(pattern: str, clip_paths, out_path: str) -> str:
  """Copies the records of `pattern` with f0 from the clips' JSON.

  Each example is located in its source clip by its audio (the pipeline
  does not resample 16 kHz input), so the f0 frames line up exactly.

  Raises:
    ValueError: if an example's audio is found in no clip.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from ddsp import audio_io  # pylint: disable=g-import-not-at-top
  clips = [(audio_io.load_audio(p, SAMPLE_RATE), _truth_f0(p))
           for p in clip_paths]
  n_audio = EXAMPLE_SECS * SAMPLE_RATE
  n_frames = EXAMPLE_SECS * FRAME_RATE
  tmp_path = out_path + '.tmp'
  with tf.io.TFRecordWriter(tmp_path) as writer:
    for record in tf.data.TFRecordDataset(sorted(glob.glob(pattern))):
      example = tf.train.Example.FromString(record.numpy())
      features = example.features.feature
      audio = np.asarray(features['audio'].float_list.value, np.float32)
      f0 = None
      for clip, clip_f0 in clips:
        # Candidate starts (every frame hop) whose first samples match.
        heads = np.lib.stride_tricks.sliding_window_view(
            clip[:len(clip) - n_audio + 64], 64)[::HOP]
        for i in np.flatnonzero(np.abs(heads - audio[:64]).max(axis=1) <
                                1e-6):
          start = i * HOP
          if np.allclose(clip[start:start + n_audio], audio, atol=1e-4):
            frame = start // HOP
            f0 = np.zeros(n_frames, np.float32)
            part = clip_f0[frame:frame + n_frames]
            f0[:len(part)] = part
            break
        if f0 is not None:
          break
      if f0 is None:
        raise ValueError(f'an example of {pattern} matches no clip audio.')
      features['f0_hz'].float_list.value[:] = f0
      features['f0_confidence'].float_list.value[:] = (f0 > 0).astype(
          np.float32)
      writer.write(example.SerializeToString())
  os.replace(tmp_path, out_path)
  return out_path


def build_dataset(clips_dir: str, work_dir: str, truth_f0: bool,
                  crepe_model: str):
  """(train file pattern, eval file pattern) prepared under `work_dir`."""
  patterns = {}
  for split, hop_secs in (('train', 1), ('eval', EXAMPLE_SECS)):
    paths = sorted(p for p in glob.glob(os.path.join(clips_dir, split + '_*'))
                   if not p.endswith(('.json', '.mid')))
    if not paths:
      raise FileNotFoundError(f'no {split}_* audio in {clips_dir}')
    prefix = os.path.join(work_dir, split + '.tfrecord')
    if not glob.glob(prefix + '-*'):
      _prepare(paths, prefix, hop_secs, crepe_model)
    pattern = prefix + '-*'
    if truth_f0:
      pattern = _with_truth_f0(pattern, paths, os.path.join(
          work_dir, split + '_truth_f0.tfrecord'))
    patterns[split] = pattern
  return patterns['train'], patterns['eval']


# ------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------
def multiscale_logmag_l1(target, synth) -> float:
  """Mean over FFT sizes of mean |ln max(|X|, 1e-5) - ln max(|Y|, 1e-5)|."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from ddsp import spectral_ops  # pylint: disable=g-import-not-at-top

  def logmag(audio, size):
    return tf.math.log(tf.maximum(
        spectral_ops.compute_mag(audio, size, overlap=0.75), 1e-5))

  return float(tf.reduce_mean([
      tf.reduce_mean(tf.abs(logmag(target, n) - logmag(synth, n)))
      for n in FFT_SIZES]))


def _rms(x) -> float:
  import numpy as np  # pylint: disable=g-import-not-at-top
  return float(np.sqrt(np.mean(np.square(np.asarray(x)))))


def evaluate(model, batch) -> dict:
  """The metrics of `model` on the eval `batch` (see the module docstring)."""
  import numpy as np  # pylint: disable=g-import-not-at-top

  from ddsp import spectral_ops  # pylint: disable=g-import-not-at-top
  outputs = model(dict(batch), training=False)
  target, synth = batch['audio'], outputs['audio_synth']
  loss = sum(float(loss_obj(target, synth)) for loss_obj in model.loss_objs)
  n_frames = batch['f0_hz'].shape[1]
  loudness = [spectral_ops.compute_loudness(x, SAMPLE_RATE, FRAME_RATE).numpy(
      )[:, :n_frames] for x in (target, synth)]
  voiced = np.asarray(batch['f0_hz']) > 0
  return {
      'l1': multiscale_logmag_l1(target, synth),
      'spectral_loss': loss,
      'loudness_err_db': float(np.mean(np.abs(
          loudness[0] - loudness[1])[voiced])),
      'harmonic_rms': _rms(outputs['harmonic']['signal']),
      'noise_rms': _rms(outputs['filtered_noise']['signal']),
      'target_rms': _rms(target),
  }


# ------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------
def train_and_evaluate(train_pattern: str, eval_pattern: str, steps: int,
                       batch_size: int, seed: int, gin_params,
                       on_point=None) -> dict:
  """Trains the solo-instrument model; returns the eval curve and losses.

  `on_point(curve, train_losses)`, if given, is called after each eval point
  (e.g. to save a partial result).
  """
  import keras  # pylint: disable=g-import-not-at-top

  import ddsp.training  # noqa: F401  # pylint: disable=g-import-not-at-top,unused-import
  from ddsp.training import data  # pylint: disable=g-import-not-at-top
  from ddsp.training import ddsp_run  # pylint: disable=g-import-not-at-top
  from ddsp.training import models  # pylint: disable=g-import-not-at-top
  from ddsp.training import train_util  # pylint: disable=g-import-not-at-top
  from ddsp.training import trainers  # pylint: disable=g-import-not-at-top
  import gin  # pylint: disable=g-import-not-at-top
  keras.utils.set_random_seed(seed)
  gin.add_config_file_search_path(ddsp_run.GIN_PATH)
  with gin.unlock_config():
    gin.parse_config_file('optimization/base.gin')
    gin.parse_config_file('models/solo_instrument.gin')
    gin.parse_config(list(gin_params))
  strategy = train_util.get_strategy()
  with strategy.scope():
    model = models.get_model()
    trainer = trainers.get_trainer_class()(model, strategy)
  train_batches = iter(train_util.get_batches(
      data.TFRecordProvider(train_pattern), batch_size))
  eval_batch = next(iter(data.TFRecordProvider(eval_pattern).get_batch(
      64, shuffle=False, repeats=1, drop_remainder=False)))
  trainer.build(next(train_batches))
  eval_every = max(1, steps // 10)
  curve, train_losses = [], []
  start = time.perf_counter()
  for step in range(steps + 1):
    if step % eval_every == 0 or step == steps:
      with trainer.averaged_weights():
        point = {'step': step, **evaluate(model, eval_batch)}
      if trainer.ema_momentum is not None:
        point['training_weights'] = evaluate(model, eval_batch)
      curve.append(point)
      print(f'fidelity_bench: step {step}: ' + ', '.join(
          f'{k} {point[k]:.4g}' for k in METRICS) +
            f' ({time.perf_counter() - start:.0f} s)', flush=True)
      if on_point is not None:
        on_point(curve, train_losses)
    if step < steps:
      losses = trainer.train_step(train_batches)
      train_losses.append(float(losses['total_loss']))
  return {'curve': curve, 'train_loss': train_losses, 'model': model,
          'trainer': trainer,
          'eval_batch': eval_batch,
          'train_seconds': time.perf_counter() - start,
          'operative_config': gin.operative_config_str()}


def write_wavs(model, batch, out: str) -> None:
  """Final eval target / resynthesis / harmonic / noise, one 16 kHz WAV each."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import soundfile as sf  # pylint: disable=g-import-not-at-top
  outputs = model(dict(batch), training=False)
  signals = {'target': batch['audio'], 'synth': outputs['audio_synth'],
             'harmonic': outputs['harmonic']['signal'],
             'noise': outputs['filtered_noise']['signal']}
  for name, signal in signals.items():
    sf.write(f'{out}_{name}.wav', np.reshape(np.asarray(signal), [-1]),
             SAMPLE_RATE)


# ------------------------------------------------------------------------------
# Reports
# ------------------------------------------------------------------------------
def summary_row(result: dict) -> dict:
  """Step-0 and final L1, its drop, final loudness error and branch RMS."""
  first, last = result['curve'][0], result['curve'][-1]
  return {'label': result['label'], 'l1_step0': first['l1'],
          'l1_final': last['l1'],
          'l1_drop_pct': 100.0 * (1.0 - last['l1'] / first['l1']),
          'loudness_err_db': last['loudness_err_db'],
          'harmonic_rms': last['harmonic_rms'],
          'noise_rms': last['noise_rms'], 'target_rms': last['target_rms']}


def print_table(results) -> None:
  print('| run | L1 step 0 | L1 final | drop | loudness err (dB) | '
        'harmonic rms | noise rms | target rms |')
  print('|---|---|---|---|---|---|---|---|')
  for result in results:
    r = summary_row(result)
    print(f"| {r['label']} | {r['l1_step0']:.2f} | {r['l1_final']:.2f} | "
          f"{r['l1_drop_pct']:.0f} % | {r['loudness_err_db']:.2f} | "
          f"{r['harmonic_rms']:.3f} | {r['noise_rms']:.3f} | "
          f"{r['target_rms']:.3f} |")


def plot(results, path: str) -> None:
  """One panel per metric, one line per run (PNG, written atomically)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  panels = (('l1', 'multi-scale log-mag L1'),
            ('spectral_loss', 'model SpectralLoss'),
            ('loudness_err_db', 'loudness error, voiced (dB)'),
            ('rms', 'branch RMS (solid harmonic, dashed noise)'))
  fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
  for i, result in enumerate(results):
    color = f'C{i}'
    steps = [p['step'] for p in result['curve']]
    for ax, (key, title) in zip(axes, panels):
      ax.set_title(title, fontsize=9)
      ax.set_xlabel('step', fontsize=8)
      if key == 'rms':
        ax.plot(steps, [p['harmonic_rms'] for p in result['curve']],
                color=color, label=result['label'])
        ax.plot(steps, [p['noise_rms'] for p in result['curve']],
                color=color, linestyle='--')
      else:
        ax.plot(steps, [p[key] for p in result['curve']], color=color,
                label=result['label'])
  axes[0].legend(fontsize=7)
  fig.tight_layout()
  tmp = path + '.tmp.png'
  fig.savefig(tmp, dpi=70)
  plt.close(fig)
  os.replace(tmp, path)


def _write_json(result: dict, path: str) -> None:
  tmp = path + '.tmp'
  with open(tmp, 'w') as f:
    json.dump(result, f, indent=1)
  os.replace(tmp, path)


def main():
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  parser.add_argument('--clips', help='folder of train_* and eval_* clips')
  parser.add_argument('--out', required=True,
                      help='output prefix: <out>.json, <out>.png')
  parser.add_argument('--label', help='run name in tables and plots '
                      '(default: the basename of --out)')
  parser.add_argument('--steps', type=int, default=350)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--truth_f0', action='store_true',
                      help="use the clips' exact f0 (<clip>.json) for CREPE's")
  parser.add_argument('--crepe_model', default='tiny',
                      help='CREPE capacity for ddsp_prepare_tfrecord')
  parser.add_argument('--work_dir', help='dataset folder, reused if it '
                      'holds one (default: a temporary folder)')
  parser.add_argument('--gin_param', action='append', default=[],
                      help='extra gin binding (repeatable)')
  parser.add_argument('--write_wavs', action='store_true',
                      help='write the final eval audio as <out>_*.wav')
  parser.add_argument('--compare', nargs='+', metavar='JSON',
                      help='plot and tabulate earlier runs instead')
  args = parser.parse_args()
  out_dir = os.path.dirname(os.path.abspath(args.out))
  os.makedirs(out_dir, exist_ok=True)
  if args.compare:
    results = []
    for path in args.compare:
      with open(path) as f:
        results.append(json.load(f))
    print_table(results)
    plot(results, args.out + '.png')
    print(f'fidelity_bench: wrote {args.out}.png')
    return
  if not args.clips or not os.path.isdir(args.clips):
    parser.error('--clips must be a folder of train_* and eval_* clips '
                 f'(got {args.clips!r}).')
  if args.steps < 1 or args.batch < 1:
    parser.error('--steps and --batch must be positive.')
  print(machine.describe(), flush=True)
  result = {
      'label': args.label or pathlib.Path(args.out).name,
      'clips': os.path.abspath(args.clips), 'steps': args.steps,
      'batch': args.batch, 'seed': args.seed, 'truth_f0': args.truth_f0,
      'crepe_model': args.crepe_model, 'gin_params': args.gin_param,
      'machine': machine.describe(), 'complete': False,
  }

  def save_partial(curve, train_losses):
    result.update(curve=curve, train_loss=train_losses)
    _write_json(result, args.out + '.json')

  with tempfile.TemporaryDirectory() as tmp_dir:
    work_dir = args.work_dir or tmp_dir
    os.makedirs(work_dir, exist_ok=True)
    train_pattern, eval_pattern = build_dataset(
        args.clips, work_dir, args.truth_f0, args.crepe_model)
    run = train_and_evaluate(train_pattern, eval_pattern, args.steps,
                             args.batch, args.seed, args.gin_param,
                             on_point=save_partial)
  result.update(complete=True, train_seconds=run['train_seconds'],
                curve=run['curve'], train_loss=run['train_loss'])
  _write_json(result, args.out + '.json')
  plot([result], args.out + '.png')
  if args.write_wavs:
    with run['trainer'].averaged_weights():
      write_wavs(run['model'], run['eval_batch'], args.out)
  print_table([result])
  print(f'fidelity_bench: wrote {args.out}.json, {args.out}.png')


if __name__ == '__main__':
  main()
