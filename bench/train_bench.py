"""Speed and memory of one training step of the solo-instrument model.

The model is `gin/models/solo_instrument.gin` as shipped (F0LoudnessPreprocessor,
RnnFcDecoder GRU 512 / ch 512 / 3 layers, Harmonic 60 + FilteredNoise 65 +
Add, trainable Reverb of 48000 taps, SpectralLoss), trained by
`trainers.Trainer` (Adam, global-norm clipping 3.0) on a batch of 16 x 4 s
at 16 kHz: exactly what `ddsp_run --gin_param=batch_size=16` runs.

Modes: `graph` (the step as a `tf.function`, the default) and `xla`
(`train.jit_compile=True`: forward and backward compiled by XLA). Each run
is its own process (so peak RSS is per mode); modes alternate round by round
(A B A B ...) because the machine may be shared. Each run reports the
median wall time of a step after warm-up, its CPU time (all threads: on a
loaded machine the wall time grows, the CPU time much less) and the
process's peak RSS.

`--breakdown` times each block alone on the same shapes, forward and
forward + backward (gradients with respect to its inputs and weights):
preprocessor, decoder, harmonic, noise, reverb, loss; and the process's peak
RSS after each block (it only grows, so a jump names the block).

Usage: python bench/train_bench.py [--rounds 2] [--steps 5] [--modes graph,xla]
         [--breakdown]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import machine

BATCH, SECONDS, SAMPLE_RATE = 16, 4, 16000
N_SAMPLES = SECONDS * SAMPLE_RATE
N_FRAMES = 1000  # 250 frames/s, 'same' padding: ddsp_prepare_tfrecord's.
WARMUP_STEPS = 2


def _peak_rss_gb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _batch():
  """A synthetic batch shaped like ddsp_prepare_tfrecord output."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  t = np.arange(N_SAMPLES) / SAMPLE_RATE
  f0 = rng.uniform(200, 800, [BATCH, 1])
  audio = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.normal(
      size=[BATCH, N_SAMPLES])
  return {
      'audio': tf.constant(audio, tf.float32),
      'f0_hz': tf.constant(np.repeat(f0, N_FRAMES, axis=1), tf.float32),
      'f0_confidence': tf.ones([BATCH, N_FRAMES]),
      'loudness_db': tf.fill([BATCH, N_FRAMES], -20.0),
  }


def _trainer():
  """The solo-instrument model from its gin file, and its Trainer."""
  import gin  # pylint: disable=g-import-not-at-top
  import ddsp.training  # noqa: F401  # pylint: disable=g-import-not-at-top,unused-import
  from ddsp.training import ddsp_run  # pylint: disable=g-import-not-at-top
  from ddsp.training import models  # pylint: disable=g-import-not-at-top
  from ddsp.training import train_util  # pylint: disable=g-import-not-at-top
  from ddsp.training import trainers  # pylint: disable=g-import-not-at-top
  gin.add_config_file_search_path(ddsp_run.GIN_PATH)
  with gin.unlock_config():
    gin.parse_config_file('optimization/base.gin')
    gin.parse_config_file('models/solo_instrument.gin')
  strategy = train_util.get_strategy()
  with strategy.scope():
    model = models.get_model()
    return trainers.get_trainer_class()(model, strategy)


def run_step_timing(mode: str, n_steps: int) -> dict:
  """Median seconds per train step and peak RSS in this process."""
  trainer = _trainer()
  trainer.jit_compile = mode == 'xla'
  batch = _batch()
  trainer.build(batch)
  start = time.perf_counter()
  for _ in range(WARMUP_STEPS):
    trainer.train_step(batch)['total_loss'].numpy()
  warmup = time.perf_counter() - start
  times, cpu_times = [], []
  for _ in range(n_steps):
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer.train_step(batch)['total_loss'].numpy()
    times.append(time.perf_counter() - start)
    cpu_times.append(time.process_time() - cpu_start)
  return {'mode': mode, 'median_s': statistics.median(times),
          'min_s': min(times), 'cpu_s': statistics.median(cpu_times),
          'warmup_s': warmup, 'peak_rss_gb': _peak_rss_gb()}


def run_breakdown(n_steps: int) -> dict:
  """Forward and forward+backward seconds of each block alone."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  trainer = _trainer()
  model = trainer.model
  batch = _batch()
  outputs = model(dict(batch), training=False)
  group = {layer.name: layer for layer in model.processor_group.layers}
  features = dict(outputs)

  def block(fn, inputs, weights):
    def forward():
      return fn(*inputs)

    def forward_backward():
      with tf.GradientTape() as tape:
        tape.watch(inputs)
        y = fn(*inputs)
        total = tf.add_n([tf.reduce_sum(v) for v in tf.nest.flatten(y)])
      return tape.gradient(total, list(inputs) + list(weights))

    return forward, forward_backward

  decoder_inputs = {k: features[k] for k in ('ld_scaled', 'f0_scaled')}
  blocks = {
      'preprocessor': (lambda a, f, l: model.preprocessor(
          {'audio': a, 'f0_hz': f, 'loudness_db': l}),
                       [batch['audio'], batch['f0_hz'], batch['loudness_db']],
                       [], False),
      'decoder': (lambda ld, f0: model.decoder(
          {'ld_scaled': ld, 'f0_scaled': f0}),
                  list(decoder_inputs.values()), model.decoder.weights, True),
      'harmonic': (group['harmonic'],
                   [features['amps'], features['harmonic_distribution'],
                    features['f0_hz']], [], True),
      'noise': (group['filtered_noise'], [features['noise_magnitudes']], [],
                True),
      'reverb': (group['reverb'], [features['add']['signal']],
                 group['reverb'].weights, True),
      'loss': (lambda a, b: model.loss_objs[0](a, b),
               [batch['audio'], outputs['audio_synth']], [], True),
  }
  results = {}
  for name, (fn, inputs, weights, differentiable) in blocks.items():
    inputs = [tf.convert_to_tensor(x) for x in inputs]
    forward, forward_backward = block(fn, inputs, weights)
    variants = {'forward': tf.function(forward)}
    if differentiable:
      variants['forward_backward'] = tf.function(forward_backward)
    for variant, function in variants.items():
      tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, 'numpy')
                            else t, function())
      times = []
      for _ in range(n_steps):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, 'numpy')
                              else t, function())
        times.append(time.perf_counter() - start)
      results[f'{name}/{variant}'] = statistics.median(times)
    results[f'{name}/peak_rss_gb'] = _peak_rss_gb()
  return results


def _child(args) -> None:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  if args.child == 'breakdown':
    result = run_breakdown(args.steps)
  else:
    result = run_step_timing(args.child, args.steps)
  print('RESULT ' + json.dumps(result), flush=True)


def _spawn(kind: str, steps: int) -> dict:
  command = [sys.executable, os.path.abspath(__file__), f'--child={kind}',
             f'--steps={steps}']
  output = subprocess.run(command, capture_output=True, text=True,
                          check=False)
  lines = [l for l in output.stdout.splitlines() if l.startswith('RESULT ')]
  if not lines:
    raise RuntimeError(f'{kind} run failed:\n{output.stderr[-3000:]}')
  return json.loads(lines[-1][len('RESULT '):])


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--rounds', type=int, default=2)
  parser.add_argument('--steps', type=int, default=5)
  parser.add_argument('--modes', default='graph,xla')
  parser.add_argument('--breakdown', action='store_true')
  parser.add_argument('--child', default='', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    _child(args)
    return

  print(machine.describe())
  print(f'solo_instrument.gin, batch {BATCH} x {SECONDS} s at {SAMPLE_RATE} '
        f'Hz; {WARMUP_STEPS} warm-up steps, then {args.steps} timed.')
  runs = {mode: [] for mode in args.modes.split(',')}
  for round_index in range(args.rounds):
    for mode in runs:
      result = _spawn(mode, args.steps)
      runs[mode].append(result)
      print(f'round {round_index + 1} {mode:5s}: median '
            f'{result["median_s"] * 1000:7.0f} ms/step (min '
            f'{result["min_s"] * 1000:.0f}; CPU {result["cpu_s"]:.1f} s), '
            f'warm-up {result["warmup_s"]:.1f} s, peak RSS '
            f'{result["peak_rss_gb"]:.2f} GB', flush=True)
  for mode, results in runs.items():
    print(f'{mode:5s}: median of medians '
          f'{statistics.median(r["median_s"] for r in results) * 1000:.0f} '
          f'ms/step, peak RSS '
          f'{max(r["peak_rss_gb"] for r in results):.2f} GB')
  if args.breakdown:
    result = _spawn('breakdown', args.steps)
    print('block timings (median ms, alone, same shapes) and the peak RSS '
          'of the process after each block:')
    for key, value in result.items():
      if key.endswith('peak_rss_gb'):
        print(f'  {key:32s} {value:7.2f} GB')
      else:
        print(f'  {key:32s} {value * 1000:7.0f} ms')


if __name__ == '__main__':
  main()
