"""Throughput of `ddsp_prepare_tfrecord` on the shared instrument clips.

Runs the whole pipeline (decode, resample, CREPE, loudness, windowing,
TFRecord writing, dataset statistics) on /work/shared/data/instruments
{violin,flute}/*.flac (10 x 20 s, 16 kHz) and prints audio seconds prepared
per wall-clock second for each CREPE capacity, next to the rate of
`spectral_ops.compute_f0` alone on the same audio in this process. Exits 0
with a note when the shared clips are absent.

  python bench/prepare_bench.py --crepe_models=tiny,full
  python bench/prepare_bench.py --pipeline_options=--direct_num_workers=1
"""
import argparse
import os
import pathlib
import resource
import sys
import tempfile
import time

import machine

INSTRUMENTS_DIR = (pathlib.Path(__file__).resolve().parents[2] / 'shared' /
                   'data' / 'instruments')


def _peak_rss_mib() -> str:
  own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
  return f'{own:.0f} MiB (runner), {children:.0f} MiB (largest worker)'


def _crepe_only_rate(paths, crepe_model: str, chunk_secs: float) -> float:
  """Audio seconds per second of compute_f0 alone, on 16 kHz chunks."""
  from ddsp import audio_io  # pylint: disable=g-import-not-at-top
  from ddsp import spectral_ops  # pylint: disable=g-import-not-at-top
  chunks = []
  for path in paths:
    audio = audio_io.load_audio(path, 16000)
    n = int(chunk_secs * 16000)
    chunks += [audio[i:i + n] for i in range(0, len(audio), n)]
  spectral_ops.compute_f0(chunks[0][:16000], 250, padding='same',
                          model_capacity=crepe_model)  # Load the model.
  start = time.perf_counter()
  for chunk in chunks:
    spectral_ops.compute_f0(chunk, 250, viterbi=True, padding='same',
                            model_capacity=crepe_model)
  return sum(len(c) for c in chunks) / 16000 / (time.perf_counter() - start)


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--crepe_models', default='tiny,full')
  parser.add_argument('--pipeline_options', default='',
                      help='Beam flags; the DirectRunner default gets one '
                      'worker process per core.')
  parser.add_argument('--chunk_secs', type=float, default=20.0)
  parser.add_argument('--skip_crepe_only', action='store_true')
  args = parser.parse_args()

  paths = sorted(str(p) for p in INSTRUMENTS_DIR.glob('*/*.flac'))
  if not paths:
    print(f'prepare_bench: no clips under {INSTRUMENTS_DIR}; skipped.')
    return 0
  from ddsp.data_pipeline import prepare_tfrecord_lib  # pylint: disable=g-import-not-at-top
  options = prepare_tfrecord_lib.with_default_parallelism(
      args.pipeline_options)
  print(machine.describe())
  print(f'input: {len(paths)} files from {INSTRUMENTS_DIR}')
  print(f'pipeline options: {options}')
  for crepe_model in args.crepe_models.split(','):
    with tempfile.TemporaryDirectory() as out_dir:
      summary = prepare_tfrecord_lib.prepare_tfrecord(
          paths, os.path.join(out_dir, 'train.tfrecord'),
          chunk_secs=args.chunk_secs, pipeline_options=options,
          crepe_model=crepe_model)
    line = (f'crepe {crepe_model}: pipeline {summary.realtime_factor:.2f} '
            f'audio s / wall s ({summary.audio_secs:.0f} s of audio in '
            f'{summary.wall_secs:.1f} s, {sum(summary.examples.values())} '
            'examples)')
    if not args.skip_crepe_only:
      rate = _crepe_only_rate(paths, crepe_model, args.chunk_secs)
      line += (f'; compute_f0 alone in one process {rate:.2f} audio s / s; '
               f'pipeline / compute_f0 = {summary.realtime_factor / rate:.2f}')
    print(line, flush=True)
  print(f'peak RSS: {_peak_rss_mib()}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
