"""Runs every benchmark in bench/ and writes bench/RESULTS.md.

Each `bench/*_bench.py` runs in its own process, by default with a quick
setting (fewer repeats, one model size) so that the whole set finishes in
minutes on 2 cores; `--full` runs each with its own defaults (tens of
minutes). Scripts without a quick setting here run with their defaults.
RESULTS.md records the date, the machine (`machine.describe()`), the load
average, and for each script its command, wall time, exit status and the
figures it printed (its standard output).

Usage: python bench/run_all.py [--full] [--only core,tflite] [--skip train]
       [--timeout 1800] [--out bench/RESULTS.md] [--instruments_dir DIR]
"""

import argparse
import datetime
import os
import pathlib
import subprocess
import sys
import time

import machine

BENCH_DIR = pathlib.Path(__file__).resolve().parent
# Quick settings: the same measurements on less work.
QUICK_ARGS = {
    'core_bench': ['--repeats', '3', '--cases',
                   'harmonic,spectral_loss_forward_backward,compute_loudness'],
    'crepe_bench': ['--capacities', 'tiny', '--compare_seconds', '2'],
    'prepare_bench': ['--crepe_models', 'tiny', '--skip_crepe_only'],
    'tflite_bench': ['--rounds', '3', '--hops_per_round', '50'],
    'tflite_tracker_bench': ['--rounds', '2', '--frames_per_round', '50',
                             '--variants', 'tiny,tiny-float16'],
    'train_bench': ['--rounds', '1', '--steps', '3', '--modes', 'graph'],
}


# Scripts that read the shared instrument clips, and their flag for them.
DATA_FLAGS = {'crepe_bench': '--data_dir',
              'prepare_bench': '--instruments_dir',
              'tflite_tracker_bench': '--data_dir'}
DEFAULT_INSTRUMENTS = pathlib.Path(os.environ.get(
    'DDSP_SHARED_DIR', BENCH_DIR.parents[1] / 'shared')) / 'data' / 'instruments'


def bench_scripts():
  """Names of bench/*_bench.py, sorted."""
  return sorted(path.stem for path in BENCH_DIR.glob('*_bench.py'))


def run_one(name: str, full: bool, timeout: float,
            instruments_dir: pathlib.Path) -> dict:
  """Runs one script; returns its command, output, status and wall time."""
  args = [] if full else list(QUICK_ARGS.get(name, []))
  if name in DATA_FLAGS:
    args += [DATA_FLAGS[name], str(instruments_dir)]
  command = [sys.executable, str(BENCH_DIR / f'{name}.py'), *args]
  print(f'== {name}: {" ".join(command[1:])}', flush=True)
  start = time.perf_counter()
  try:
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=timeout, cwd=BENCH_DIR.parent,
                            env=dict(os.environ, PYTHONUNBUFFERED='1',
                                     TF_CPP_MIN_LOG_LEVEL='2'))
    stdout, stderr, status = result.stdout, result.stderr, result.returncode
  except subprocess.TimeoutExpired as e:
    stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (
        e.stdout or '')
    stderr, status = f'timed out after {timeout:.0f} s', 'timeout'
  wall = time.perf_counter() - start
  print(stdout, end='', flush=True)
  print(f'   ({wall:.0f} s, exit {status})', flush=True)
  return {'name': name, 'command': ' '.join(['python'] + command[1:]).replace(
      str(BENCH_DIR.parent) + '/', ''), 'stdout': stdout, 'stderr': stderr,
          'status': status, 'wall_s': wall}


def to_markdown(results, full: bool, started: datetime.datetime,
                load: tuple) -> str:
  lines = [
      '# Benchmark results', '',
      f'Written by `bench/run_all.py{" --full" if full else ""}` on '
      f'{started:%Y-%m-%d %H:%M} UTC ({"full" if full else "quick"} '
      f'settings; `--full` for each script\'s defaults).', '',
      f'- {machine.describe()}',
      f'- load average at start: {load[0]:.1f} / {load[1]:.1f} / '
      f'{load[2]:.1f} (1 / 5 / 15 min; the machine may be shared, so wall '
      'times are upper bounds)' + (
          f'; run at nice {os.nice(0)}' if os.nice(0) else ''), '',
      '| script | wall (s) | status |', '|---|---|---|']
  lines += [f'| [{r["name"]}](#{r["name"].replace("_", "")}) | '
            f'{r["wall_s"]:.0f} | {"ok" if r["status"] == 0 else r["status"]} |'
            for r in results]
  for r in results:
    lines += ['', f'## {r["name"]}', '', f'`{r["command"]}`', '',
              '```', r['stdout'].rstrip() or '(no output)', '```']
    if r['status'] != 0:
      tail = '\n'.join(r['stderr'].strip().splitlines()[-15:])
      lines += ['', 'Failed; the end of its error output:', '', '```', tail,
                '```']
  return '\n'.join(lines) + '\n'


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--full', action='store_true',
                      help="each script's own (long) defaults")
  parser.add_argument('--only', default='',
                      help='comma-separated names (core, tflite_bench, ...)')
  parser.add_argument('--skip', default='', help='comma-separated names')
  parser.add_argument('--timeout', type=float, default=1800,
                      help='seconds per script')
  parser.add_argument('--out', default=str(BENCH_DIR / 'RESULTS.md'))
  parser.add_argument('--instruments_dir', type=pathlib.Path,
                      default=DEFAULT_INSTRUMENTS,
                      help='the shared clips (default: $DDSP_SHARED_DIR or '
                      '../shared, then data/instruments)')
  args = parser.parse_args()

  def wanted(name, selection):
    return any(name in (s, f'{s}_bench') for s in selection.split(',') if s)

  names = [n for n in bench_scripts()
           if (not args.only or wanted(n, args.only)) and
           not wanted(n, args.skip)]
  if not names:
    sys.exit(f'run_all: no bench script matches --only={args.only!r} '
             f'--skip={args.skip!r}; scripts: {", ".join(bench_scripts())}')
  started = datetime.datetime.now(datetime.timezone.utc)
  load = os.getloadavg()
  results = [run_one(name, args.full, args.timeout, args.instruments_dir)
             for name in names]
  out = pathlib.Path(args.out)
  tmp = out.with_name(f'.{out.name}.tmp')
  tmp.write_text(to_markdown(results, args.full, started, load))
  os.replace(tmp, out)
  print(f'wrote {out}')
  sys.exit(0 if all(r['status'] == 0 for r in results) else 1)


if __name__ == '__main__':
  main()
