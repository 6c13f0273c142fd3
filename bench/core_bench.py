"""Speed and memory of the core DSP layers on a training-sized batch.

Each case runs in its own process (so peak RSS is per case), inside a warm
`tf.function`, and reports the median of several timed calls, the real-time
factor (seconds of audio produced or analysed per second of compute) and the
process's peak resident memory. The `sin_floor` case,
`reduce_sum(sin(x), -1)` over a [16, 64000, 100] tensor, is the cost of
evaluating one sine per harmonic and sample: no harmonic synthesiser that
computes every sample of every harmonic can beat it by much.

Usage: python bench/core_bench.py [--repeats 7] [--cases harmonic,...]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import machine

BATCH, SECONDS, SAMPLE_RATE, N_FRAMES = 16, 4, 16000, 1000
N_SAMPLES = SECONDS * SAMPLE_RATE
N_HARMONICS, N_NOISE_BANDS, REVERB_SECONDS = 100, 65, 1
CASES = ('sin_floor', 'harmonic', 'filtered_noise', 'reverb',
         'spectral_loss_forward', 'spectral_loss_forward_backward',
         'spectral_loss_ae_forward', 'spectral_loss_ae_forward_backward',
         'compute_loudness')


def build_case(name):
  """Returns (function, args) for one benchmark case."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  import ddsp  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  audio = tf.constant(rng.uniform(-1, 1, [BATCH, N_SAMPLES]), tf.float32)
  if name == 'sin_floor':
    x = tf.constant(rng.uniform(0, 100, [BATCH, N_SAMPLES, N_HARMONICS]),
                    tf.float32)
    return lambda x: tf.reduce_sum(tf.sin(x), axis=-1), [x]
  if name == 'harmonic':
    synth = ddsp.synths.Harmonic(n_samples=N_SAMPLES, sample_rate=SAMPLE_RATE)
    args = [rng.normal(size=[BATCH, N_FRAMES, 1]),
            rng.normal(size=[BATCH, N_FRAMES, N_HARMONICS]),
            rng.uniform(50, 1000, [BATCH, N_FRAMES, 1])]
    return synth, [tf.constant(a, tf.float32) for a in args]
  if name == 'filtered_noise':
    synth = ddsp.synths.FilteredNoise(n_samples=N_SAMPLES)
    return synth, [tf.constant(
        rng.normal(size=[BATCH, N_FRAMES, N_NOISE_BANDS]), tf.float32)]
  if name == 'reverb':
    ir = tf.constant(rng.normal(size=[BATCH, REVERB_SECONDS * SAMPLE_RATE]),
                     tf.float32)
    return ddsp.effects.Reverb(), [audio, ir]
  if name.startswith('spectral_loss'):
    # Default SpectralLoss() (L1 magnitudes), or as configured in ae.gin
    # (L1 magnitudes + L1 log magnitudes).
    logmag_weight = 1.0 if name.startswith('spectral_loss_ae') else 0.0
    loss = ddsp.losses.SpectralLoss(logmag_weight=logmag_weight)
    target = tf.constant(rng.uniform(-1, 1, [BATCH, N_SAMPLES]), tf.float32)
    if name.endswith('_forward'):
      return loss, [target, audio]

    def forward_backward(target, audio):
      with tf.GradientTape() as tape:
        tape.watch(audio)
        value = loss(target, audio)
      return tape.gradient(value, audio)

    return forward_backward, [target, audio]
  if name == 'compute_loudness':
    return ddsp.spectral_ops.compute_loudness, [audio]
  raise ValueError(f'Unknown case {name!r}; choose from {CASES}.')


def run_case(name, repeats):
  """Times one case in this process; prints a JSON line."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  fn, args = build_case(name)
  compiled = tf.function(fn)
  tf.nest.map_structure(lambda t: t.numpy(), compiled(*args))  # Trace, warm.
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), compiled(*args))
    times.append(time.perf_counter() - start)
  times.sort()
  median_s = times[len(times) // 2]
  print(json.dumps({
      'case': name,
      'median_ms': 1000 * median_s,
      'min_ms': 1000 * times[0],
      'real_time_factor': BATCH * SECONDS / median_s,
      'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
  }))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--repeats', type=int, default=7)
  parser.add_argument('--cases', default=','.join(CASES))
  parser.add_argument('--case', help=argparse.SUPPRESS)  # Child process.
  flags = parser.parse_args()
  if flags.case:
    run_case(flags.case, flags.repeats)
    return

  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  print(machine.describe())
  print(f'batch {BATCH} x {SECONDS} s at {SAMPLE_RATE} Hz, {N_FRAMES} frames; '
        f'median of {flags.repeats} warm tf.function calls')
  print(f'{"case":34s} {"median ms":>10s} {"min ms":>8s} {"x real time":>12s} '
        f'{"peak RSS MB":>12s}')
  for name in flags.cases.split(','):
    result = subprocess.run(
        [sys.executable, __file__, '--case', name, '--repeats',
         str(flags.repeats)], env=env, capture_output=True, text=True,
        check=False)
    lines = [line for line in result.stdout.splitlines()
             if line.startswith('{')]
    if result.returncode or not lines:
      print(f'{name:34s} failed:\n{result.stderr[-2000:]}')
      continue
    r = json.loads(lines[-1])
    print(f'{r["case"]:34s} {r["median_ms"]:10.1f} {r["min_ms"]:8.1f} '
          f'{r["real_time_factor"]:12.1f} {r["peak_rss_mb"]:12.0f}')


if __name__ == '__main__':
  main()
