"""Throughput of `ddsp_prepare_tfrecord` on the shared instrument clips.

Runs the whole pipeline (decode, resample, CREPE, loudness, windowing,
TFRecord writing, dataset statistics) on the shared instrument clips
({violin,flute}/*.flac, 10 x 20 s at 16 kHz; `--instruments_dir`, default
../shared/data/instruments) and prints audio seconds prepared per wall-clock
second for each CREPE capacity, next to the rate of
`spectral_ops.compute_f0` alone on the same audio in this process. With
`--clip_secs`, the clips are first cut into files of that length (short
clips are where chunk padding used to cost most). Exits 0 with a note when
the clips are absent.

  python bench/prepare_bench.py --crepe_models=tiny,full
  python bench/prepare_bench.py --clip_secs=5 --crepe_models=tiny
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


def _cut_clips(paths, clip_secs: float, out_dir: str):
  """Writes each file's consecutive `clip_secs` pieces as 16 kHz WAVs."""
  import soundfile as sf  # pylint: disable=g-import-not-at-top

  from ddsp import audio_io  # pylint: disable=g-import-not-at-top
  clips = []
  n = int(clip_secs * 16000)
  for path in paths:
    audio = audio_io.load_audio(path, 16000)
    for i in range(len(audio) // n):
      clip = os.path.join(out_dir, f'{pathlib.Path(path).stem}_{i}.wav')
      sf.write(clip, audio[i * n:(i + 1) * n], 16000, subtype='PCM_16')
      clips.append(clip)
  return clips


def _peak_rss_mib() -> str:
  own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
  return f'{own:.0f} MiB (runner), {children:.0f} MiB (largest worker)'


def _cpu_secs() -> float:
  """CPU seconds of this process and its finished children (workers)."""
  times = os.times()
  return times.user + times.system + times.children_user + times.children_system


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
  parser.add_argument('--instruments_dir', default=str(INSTRUMENTS_DIR))
  parser.add_argument('--clip_secs', type=float, default=0.0,
                      help='Cut the clips into files of this many seconds.')
  args = parser.parse_args()

  paths = sorted(str(p) for p in
                 pathlib.Path(args.instruments_dir).glob('*/*.flac'))
  if not paths:
    print(f'prepare_bench: no clips under {args.instruments_dir}; skipped.')
    return 0
  clip_dir = tempfile.TemporaryDirectory()
  if args.clip_secs:
    paths = _cut_clips(paths, args.clip_secs, clip_dir.name)
  from ddsp.data_pipeline import prepare_tfrecord_lib  # pylint: disable=g-import-not-at-top
  options = prepare_tfrecord_lib.with_default_parallelism(
      args.pipeline_options)
  print(machine.describe())
  print(f'input: {len(paths)} files from {args.instruments_dir}'
        f'{f" cut into {args.clip_secs:g} s clips" if args.clip_secs else ""}')
  print(f'pipeline options: {options}')
  for crepe_model in args.crepe_models.split(','):
    cpu_start = _cpu_secs()
    with tempfile.TemporaryDirectory() as out_dir:
      summary = prepare_tfrecord_lib.prepare_tfrecord(
          paths, os.path.join(out_dir, 'train.tfrecord'),
          chunk_secs=args.chunk_secs, pipeline_options=options,
          crepe_model=crepe_model)
    line = (f'crepe {crepe_model}: pipeline {summary.realtime_factor:.2f} '
            f'audio s / wall s ({summary.audio_secs:.0f} s of audio in '
            f'{summary.wall_secs:.1f} s, {sum(summary.examples.values())} '
            f'examples; {(_cpu_secs() - cpu_start) / summary.audio_secs:.2f} '
            'CPU s per audio s)')
    if not args.skip_crepe_only:
      rate = _crepe_only_rate(paths, crepe_model, args.chunk_secs)
      line += (f'; compute_f0 alone in one process {rate:.2f} audio s / s; '
               f'pipeline / compute_f0 = {summary.realtime_factor / rate:.2f}')
    print(line, flush=True)
  print(f'peak RSS: {_peak_rss_mib()}')
  clip_dir.cleanup()
  return 0


if __name__ == '__main__':
  sys.exit(main())
