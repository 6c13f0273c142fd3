"""On-device bundle speed: per-hop latency of each TFLite model and of the
whole timbre-transfer chain on one thread, model sizes, real-time factor.

Builds bundles (models/vst/vst.gin sizes: 16 kHz, 20 ms hops, 60 harmonics,
65 noise bands, GRU 512; decoder weights random, which costs the same as
trained ones) with float32 and float16 weights, then measures, round by
round so that machine load hits every model alike:

* features (CREPE tiny f0 + power of one 1024-sample frame), controls (one
  GRU step + heads), synth (one hop), synth_chunk (per hop, 50 hops/call);
* the chain: `StreamingSynth.process` on 320-sample blocks, i.e. all three
  models plus the numpy glue of a real-time host;

each as first call, median and p99 in ms, by the wall clock and by the
thread's CPU time (which leaves out time the core spends on other processes,
so it is what the chain costs on a shared machine). Real-time factor =
median chain wall time / 20 ms. The interpreters run with one thread;
`--cpu N` also pins the process to CPU N.

Usage: python bench/tflite_bench.py [--rounds 10] [--hops_per_round 100]
       [--cpu 0]
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

import machine
import numpy as np

HOP = 320
TESTS_DIR = pathlib.Path(__file__).resolve().parents[1] / 'tests'


def build_bundles(root: pathlib.Path):
  """float32 and float16 bundles of a vst.gin RnnFcDecoder (random weights,
  built by the tests' helper)."""
  sys.path.insert(0, str(TESTS_DIR))
  import export_testing  # pylint: disable=g-import-not-at-top
  return {q or 'float32': export_testing.build_bundle(root / str(q),
                                                      quantization=q)
          for q in (None, 'float16')}


def stats(seconds) -> str:
  ms = np.asarray(seconds) * 1e3
  return (f'first {ms[0]:7.3f}  median {np.median(ms[1:]):7.3f}  '
          f'p99 {np.percentile(ms[1:], 99):7.3f}')


def timed(fn, i, hops):
  """(wall, thread CPU) seconds per hop of fn(i); CPU time leaves out the
  time other processes hold the core (a loaded, shared machine)."""
  wall, cpu = time.perf_counter(), time.thread_time()
  fn(i)
  return ((time.perf_counter() - wall) / hops,
          (time.thread_time() - cpu) / hops)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--rounds', type=int, default=10)
  parser.add_argument('--hops_per_round', type=int, default=100)
  parser.add_argument('--cpu', type=int, default=None,
                      help='Pin the process to this CPU.')
  args = parser.parse_args()
  if args.cpu is not None:
    os.sched_setaffinity(0, {args.cpu})
  from ddsp.export import runtime  # pylint: disable=g-import-not-at-top
  print(machine.describe())

  with tempfile.TemporaryDirectory() as tmp:
    dirs = build_bundles(pathlib.Path(tmp))
    print('\nModel sizes (kB):')
    for name, path in dirs.items():
      sizes = {f.name: f.stat().st_size for f in sorted(path.iterdir())}
      total = sum(s for f, s in sizes.items() if f != 'synth_chunk.tflite')
      print(f'  {name:8s} ' + '  '.join(f'{f} {s / 1e3:.0f}'
                                        for f, s in sizes.items()) +
            f'  | on-device set (features+controls+synth) {total / 1e6:.2f} MB')

    bundle = runtime.Bundle(dirs['float16'])
    rng = np.random.default_rng(0)
    n = args.hops_per_round
    frames = (0.1 * rng.standard_normal((n, 1024))).astype(np.float32)
    t = np.arange(n * HOP) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    synth_inputs = dict(
        f0_hz=np.full(1, 220.0, np.float32), amplitudes=np.ones(1, np.float32),
        harmonic_distribution=rng.uniform(0, 1, (1, 60)).astype(np.float32),
        noise_magnitudes=rng.uniform(0, 0.1, (1, 65)).astype(np.float32),
        noise=bundle.noise(rng, 1),
        state=bundle.initial_synth_state(220.0))
    chunk = bundle.config['synth']['chunk_frames']
    chunk_inputs = {k: np.repeat(v, chunk, 0) if k != 'state' else v
                    for k, v in synth_inputs.items()}
    models = {name: bundle.model(name) for name in runtime.MODEL_NAMES}
    stream = runtime.StreamingSynth(bundle)
    # Prime the input so that every 320-sample block completes one hop.
    stream.process(np.zeros(bundle.frame_size // 2 - HOP, np.float32))

    def features(i):
      models['features'](audio=frames[i])

    state = np.zeros(512, np.float32)

    def controls(i):
      models['controls'](f0_scaled=frames[i, :1], pw_scaled=frames[i, 1:2],
                         state=state)

    def synth(i):
      models['synth'](**synth_inputs)

    def synth_chunk(i):
      models['synth_chunk'](**chunk_inputs)

    def chain(i):
      stream.process(audio[i * HOP:(i + 1) * HOP])

    cases = {'features': (features, 1), 'controls': (controls, 1),
             'synth': (synth, 1), 'synth_chunk (per hop)': (synth_chunk, chunk),
             'chain: StreamingSynth.process(320 samples)': (chain, 1)}
    times = {name: [] for name in cases}
    cpu_times = {name: [] for name in cases}
    for _ in range(args.rounds):
      for name, (fn, hops) in cases.items():
        for i in range(n if hops == 1 else max(1, n // hops)):
          wall, cpu = timed(fn, i, hops)
          times[name].append(wall)
          cpu_times[name].append(cpu)

    print(f'\nPer-hop latency (ms, 1 thread, float16 bundle, '
          f'{args.rounds} rounds x {n} hops), wall clock | thread CPU time:')
    for name, seconds in times.items():
      print(f'  {name:44s} {stats(seconds)} | {stats(cpu_times[name])}')
    chain_ms = np.median(times['chain: StreamingSynth.process(320 samples)'])
    print(f'\nChain: {chain_ms * 1e3:.3f} ms per 20 ms hop = real-time factor '
          f'{chain_ms / 0.02:.4f} ({0.02 / chain_ms:.0f}x real time); '
          f'latency {stream.latency} samples '
          f'({stream.latency / 16:.1f} ms).')


if __name__ == '__main__':
  main()
