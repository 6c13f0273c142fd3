r"""`make demo`: the whole ddsp pipeline on bundled clips, with a report.

Stages (progress printed as they run):
  1. prepare   `ddsp_prepare_tfrecord` on demo/data/violin (80 s, CREPE
               `--crepe_model`, tiny by default: the on-device tracker, about
               8x faster than full here).
  2. train     `ddsp_run` with models/solo_instrument.gin + datasets/
               tfrecord.gin, `--steps` steps at batch `--batch_size`.
  3. export    `ddsp_export` -> the streaming TFLite bundle (export/tflite).
  4. transfer  with the TensorFlow-free runtime (`ddsp.export.runtime`, via
               `ddsp.export.timbre_transfer`): resynthesis of a held-out
               violin clip, and the bundled flute clip turned into violin.
  5. report    out/demo/report.html: audio players, spectrograms, f0 and
               loudness plots, the loss curve, stage timings.

A stage whose outputs exist and are complete is skipped (its recorded timing
is kept), unless a stage before it ran again (e.g. training resumed to a
larger `--steps`); `--clean` (or `make demo-clean`) starts from scratch. An
interrupted training resumes from its last checkpoint.

Usage:
  python demo/run_demo.py [--out_dir out/demo] [--steps 120] [--clean]
"""

import argparse
import json
import os
import pathlib
import re
import resource
import shutil
import subprocess
import sys
import time

import numpy as np
import report  # demo/report.py, next to this script.

from ddsp import file_io

HERE = pathlib.Path(__file__).resolve().parent

DATA = HERE / 'data'
TRAIN_AUDIO = DATA / 'violin' / '*.flac'
HELDOUT_VIOLIN = DATA / 'violin_heldout' / 'eval_000.flac'
FLUTE = DATA / 'flute' / 'eval_000.flac'
STAGES = ('prepare', 'train', 'export', 'transfer', 'report')
_ABSL_LINE = re.compile(r'^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] (.*)$')
_LOSS_LINE = re.compile(r'step: (\d+)\s.*?total_loss: ([0-9.eE+-]+)')


def _command(name: str) -> list:
  """A console script next to this Python (the venv's), else `-m`."""
  script = pathlib.Path(sys.executable).parent / name
  if script.exists():
    return [str(script)]
  modules = {'ddsp_prepare_tfrecord': 'ddsp.data_pipeline.ddsp_prepare_tfrecord',
             'ddsp_run': 'ddsp.training.ddsp_run',
             'ddsp_export': 'ddsp.export.ddsp_export'}
  return [sys.executable, '-m', modules[name]]


def _progress(line: str):
  """What to echo of a line: absl log lines only for training progress,
  checkpoints and errors (their message, without the prefix)."""
  match = _ABSL_LINE.match(line)
  if not match:
    return line
  level, message = match.groups()
  if level in 'EF' or 'step:' in message or 'checkpoint' in message.lower():
    return message + '\n'
  return None


def _run(args: list, log_path: pathlib.Path) -> None:
  """Runs a command, echoing its output and appending it to `log_path`."""
  print('  $ ' + ' '.join(args), flush=True)
  with log_path.open('a') as log, subprocess.Popen(
      args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
      bufsize=1, env=dict(os.environ, PYTHONUNBUFFERED='1')) as process:
    for line in process.stdout:
      log.write(line)
      log.flush()
      shown = _progress(line)
      if shown is not None:
        print('  | ' + shown, end='', flush=True)
    returncode = process.wait()
  if returncode:
    sys.exit(f'demo: `{args[0]}` failed (exit {returncode}); its output is in '
             f'{log_path}. Rerun `make demo` to resume, or '
             '`make demo-clean` to start over.')


class Pipeline:
  """The stages, their outputs and their completion records."""

  def __init__(self, args):
    self.args = args
    self.out = pathlib.Path(args.out_dir)
    self.data_dir = self.out / 'data'
    self.model_dir = self.out / 'model'
    self.export_dir = self.out / 'export'
    self.bundle_dir = self.export_dir / 'tflite'
    self.records = self.out / 'stages'
    self.logs = self.out / 'logs'
    self.tfrecord = self.data_dir / 'train.tfrecord'

  # Completion checks: a stage is done when its record exists and these hold.
  def _done_prepare(self) -> bool:
    return (bool(list(self.data_dir.glob('train.tfrecord-*'))) and
            bool(list(self.data_dir.glob('dataset_statistics*.pkl'))))

  def _latest_step(self) -> int:
    state = self.model_dir / 'checkpoint'
    if not state.exists():
      return 0
    match = re.search(r'model_checkpoint_path: "ckpt-(\d+)"',
                      state.read_text())
    return int(match.group(1)) if match else 0

  def _done_train(self) -> bool:
    return self._latest_step() >= self.args.steps

  def _done_export(self) -> bool:
    return (self.bundle_dir / 'bundle.json').is_file()

  def _done_transfer(self) -> bool:
    wavs = [wav for pair in report.AUDIO_FILES.values() for wav in pair]
    return all((self.out / name).is_file() for name in ['transfer.npz', *wavs])

  def _done_report(self) -> bool:
    return False  # Cheap: always rebuilt (it shows this run's timings).

  def stage_prepare(self):
    _run(_command('ddsp_prepare_tfrecord') + [
        f'--input_audio_filepatterns={TRAIN_AUDIO}',
        f'--output_tfrecord_path={self.tfrecord}',
        f'--crepe_model={self.args.crepe_model}', '--num_shards=1'],
         self.logs / 'prepare.log')

  def stage_train(self):
    self.model_dir.mkdir(parents=True, exist_ok=True)
    stats = sorted(self.data_dir.glob('dataset_statistics*.pkl'))[0]
    shutil.copyfile(stats, self.model_dir / 'dataset_statistics.pkl')
    pattern = f'{self.tfrecord}-*'
    _run(_command('ddsp_run') + [
        '--mode=train', f'--save_dir={self.model_dir}',
        '--gin_file=models/solo_instrument.gin',
        '--gin_file=datasets/tfrecord.gin',
        f"--gin_param=TFRecordProvider.file_pattern='{pattern}'",
        f'--gin_param=batch_size={self.args.batch_size}',
        f'--gin_param=train.num_steps={self.args.steps}',
        f'--gin_param=train.steps_per_save={max(50, self.args.steps // 4)}',
        f'--gin_param=train.steps_per_summary={self.args.steps}'],
         self.logs / 'train.log')

  def stage_export(self):
    _run(_command('ddsp_export') + [
        f'--model_path={self.model_dir}', f'--save_dir={self.export_dir}',
        '--tfjs=false'], self.logs / 'export.log')

  def stage_transfer(self):
    from ddsp import audio_io  # pylint: disable=g-import-not-at-top
    from ddsp.export import runtime  # pylint: disable=g-import-not-at-top
    from ddsp.export import timbre_transfer  # pylint: disable=g-import-not-at-top
    bundle = runtime.Bundle(self.bundle_dir)
    stats = timbre_transfer.load_statistics(
        self.model_dir / 'dataset_statistics.pkl')
    saved = {}
    jobs = (
        ('resynthesis', HELDOUT_VIOLIN, timbre_transfer.Settings(
            auto_adjust=False)),
        ('transfer', FLUTE, timbre_transfer.Settings(
            auto_adjust=True, f0_confidence_threshold=self.args.confidence)))
    for name, path, settings in jobs:
      audio = audio_io.load_audio(path, sample_rate=bundle.sample_rate)
      print(f'  {name}: {path.name} ({len(audio) / bundle.sample_rate:.1f} s)'
            f' with {settings}', flush=True)
      start = time.perf_counter()
      result = timbre_transfer.transfer_with_bundle(bundle, audio, settings,
                                                    stats)
      seconds = len(audio) / bundle.sample_rate
      print(f'    rendered in {time.perf_counter() - start:.1f} s '
            f'({seconds / (time.perf_counter() - start):.1f}x real time); '
            f'octave shift {float(result["adjusted"]["octave_shift"]):+g}, '
            f'{int(result["mute"].sum())} frames muted', flush=True)
      output = result['audio'][:len(audio)]
      # What the output sounds like to the tracker: f0 and loudness again.
      heard = runtime.extract_features(bundle, output)
      input_name, output_name = report.AUDIO_FILES[name]
      report.write_wav(self.out / input_name, audio, bundle.sample_rate)
      report.write_wav(self.out / output_name, output, bundle.sample_rate)
      level = timbre_transfer._bundle_level_key(bundle)  # pylint: disable=protected-access
      saved.update({
          f'{name}_f0_in': result['features']['f0_hz'],
          f'{name}_f0_model': result['adjusted']['f0_hz'],
          f'{name}_f0_out': heard['f0_hz'],
          f'{name}_conf_in': result['features']['f0_confidence'],
          f'{name}_conf_out': heard['f0_confidence'],
          f'{name}_ld_in': result['features'][level],
          f'{name}_ld_model': result['adjusted'][level],
          f'{name}_ld_out': heard[level],
          f'{name}_octave_shift': result['adjusted']['octave_shift'],
          f'{name}_settings': json.dumps(vars(settings))})
    saved['frame_rate'] = bundle.config['frame_rate']
    report.save_npz(self.out / 'transfer.npz', saved)

  def stage_report(self):
    data = dict(np.load(self.out / 'transfer.npz'))
    steps, losses = read_losses(self.logs / 'train.log')
    timings = [json.loads((self.records / f'{stage}.json').read_text())
               for stage in STAGES if (self.records / f'{stage}.json').exists()]
    report.write_report(self.out, data, steps, losses, timings, _machine(),
                        self._latest_step())

  def run(self):
    if self.args.clean and self.out.exists():
      print(f'demo: --clean: removing {self.out}', flush=True)
      shutil.rmtree(self.out)
    for folder in (self.out, self.records, self.logs):
      folder.mkdir(parents=True, exist_ok=True)
    total_start = time.perf_counter()
    upstream_ran = False  # Then every later stage runs again.
    for number, stage in enumerate(STAGES, 1):
      record = self.records / f'{stage}.json'
      print(f'\n[{number}/{len(STAGES)}] {stage}', flush=True)
      if (not upstream_ran and record.exists() and
          getattr(self, f'_done_{stage}')()):
        print(f'  done earlier ({json.loads(record.read_text())["wall_s"]:.0f}'
              f' s): reusing {self.out} (--clean to redo)', flush=True)
        continue
      record.unlink(missing_ok=True)
      upstream_ran = True
      if stage == 'report':
        # The report shows its own timing; record it before writing.
        record.write_text(json.dumps(_timing(stage, 0, 0, 0)))
      wall, cpu = time.perf_counter(), _cpu_seconds()
      load = os.getloadavg()[0]
      getattr(self, f'stage_{stage}')()
      timing = _timing(stage, time.perf_counter() - wall,
                       _cpu_seconds() - cpu, load)
      file_io.write_text(record, json.dumps(timing))
      print(f'  {stage}: {timing["wall_s"]:.1f} s wall, {timing["cpu_s"]:.1f}'
            f' s CPU', flush=True)
      if stage == 'report':  # Its own timing, now known.
        self.stage_report()
        print(f'  wrote {self.out / "report.html"}', flush=True)
    print(f'\ndemo: finished in {time.perf_counter() - total_start:.0f} s; '
          f'open {self.out / "report.html"}', flush=True)


def _machine() -> str:
  """`bench/machine.py`'s description of this machine."""
  sys.path.insert(0, str(HERE.parent / 'bench'))
  import machine  # pylint: disable=g-import-not-at-top
  return machine.describe()


def _cpu_seconds() -> float:
  """User + system CPU time of this process and its finished children."""
  own = resource.getrusage(resource.RUSAGE_SELF)
  children = resource.getrusage(resource.RUSAGE_CHILDREN)
  return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timing(stage, wall, cpu, load) -> dict:
  return {'stage': stage, 'wall_s': wall, 'cpu_s': cpu, 'load_1min': load,
          'finished': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}


def read_losses(log_path: pathlib.Path):
  """(steps, total losses) from `ddsp_run`'s log lines (last run wins for a
  step that was trained twice)."""
  by_step = {}
  if log_path.exists():
    for match in _LOSS_LINE.finditer(log_path.read_text()):
      by_step[int(match.group(1))] = float(match.group(2))
  steps = sorted(by_step)
  return np.array(steps), np.array([by_step[s] for s in steps])


def main():
  parser = argparse.ArgumentParser(
      description=__doc__.splitlines()[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--out_dir', default='out/demo')
  parser.add_argument('--steps', type=int, default=120,
                      help='training steps')
  parser.add_argument('--batch_size', type=int, default=8)
  parser.add_argument('--crepe_model', default='tiny',
                      choices=['tiny', 'small', 'medium', 'large', 'full'],
                      help="f0 tracker of the data preparation (sizes "
                      "other than tiny need pip install '.[crepe-<size>]')")
  parser.add_argument('--confidence', type=float, default=0.0,
                      help='f0 confidence below which the transfer mutes '
                      'frames')
  parser.add_argument('--clean', action='store_true',
                      help='remove out_dir first and redo every stage')
  Pipeline(parser.parse_args()).run()


if __name__ == '__main__':
  main()
