"""CREPE speed and pitch accuracy per model capacity.

For every installed capacity (each in its own process, so peak RSS is per
capacity) this prints:

* speed in frames/s: the plain Keras model called on normalised frames in
  batches of 256 (the baseline), `crepe.predict_activations` with the default
  fast backend (framing + normalisation + forward, from audio), and
  `crepe.predict_f0` end to end (activations + Viterbi + decoding);
* how far the fast backend's output is from the Keras forward pass: f0 in
  cents (max / median over frames) and confidence (max absolute difference),
  on the first seconds of every clip;
* accuracy on the shared clips with exact f0 (`instruments/{violin,flute}`):
  raw pitch accuracy (share of voiced ground-truth frames within 50 cents)
  and median absolute error in cents, at 250 frames/s with centre padding
  (512 zeros each side, so frame k is centred on sample 64 k, the ground
  truth's time axis) and Viterbi decoding, as `compute_f0` defaults.

Usage: python bench/crepe_bench.py [--capacities tiny,full] [--data_dir DIR]
       [--compare_seconds 5]
"""

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import time

import machine

FRAME_RATE = 250
DEFAULT_DATA_DIR = (pathlib.Path(__file__).resolve().parents[2] / 'shared' /
                    'data' / 'instruments')
INSTRUMENTS = ('violin', 'flute')


def load_clips(data_dir: pathlib.Path):
  """[(name, audio [n] float32 at 16 kHz, f0 [n_frames] Hz)] of all clips."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import soundfile as sf  # pylint: disable=g-import-not-at-top
  clips = []
  for instrument in INSTRUMENTS:
    for flac in sorted((data_dir / instrument).glob('*.flac')):
      audio, sample_rate = sf.read(flac, dtype='float32')
      if sample_rate != 16000 or audio.ndim != 1:
        raise ValueError(f'{flac}: expected 16 kHz mono audio.')
      truth = json.loads(flac.with_suffix('.json').read_text())
      clips.append((f'{instrument}/{flac.stem}', audio,
                    np.asarray(truth['f0_hz'], np.float64)))
  return clips


def frames_per_second(fn, n_frames: int, min_seconds: float = 5.0) -> float:
  """Frames/s of `fn()` (which handles `n_frames`), after one warm-up call."""
  fn()
  calls, start = 0, time.perf_counter()
  while True:
    fn()
    calls += 1
    elapsed = time.perf_counter() - start
    if elapsed >= min_seconds:
      return calls * n_frames / elapsed


def run_capacity(capacity: str, data_dir: pathlib.Path,
                 compare_seconds: float) -> dict:
  """Measures one capacity in this process; returns the results."""
  import numpy as np  # pylint: disable=g-import-not-at-top

  from ddsp import crepe  # pylint: disable=g-import-not-at-top
  from ddsp import framing  # pylint: disable=g-import-not-at-top

  def cents(f_hz, ref_hz):
    return 1200 * np.log2(f_hz / ref_hz)

  try:
    crepe.weights_path(capacity)
  except FileNotFoundError as e:
    return {'capacity': capacity, 'skipped': str(e)}
  clips = load_clips(data_dir)
  hop = framing.hop_size(crepe.SAMPLE_RATE, FRAME_RATE)
  result = {'capacity': capacity}

  # Speed: the baseline is the Keras model on ready-normalised frames.
  model = crepe.keras_model(capacity)
  rng = np.random.default_rng(0)
  frames = crepe.normalize_frames(
      rng.normal(size=(256, crepe.FRAME_SIZE)).astype(np.float32))
  result['keras_fps'] = frames_per_second(
      lambda: model(frames, training=False).numpy(), 256)
  padded = np.pad(clips[0][1][:4 * 16000], 512)
  n_frames = len(crepe.frame_audio(padded, hop))
  result['fast_fps'] = frames_per_second(
      lambda: crepe.predict_activations(padded, hop, capacity), n_frames)

  # Fast backend vs the Keras forward pass.
  n_compare = int(compare_seconds * 16000)
  cent_diffs, confidence_diffs = [], []
  for _, audio, _ in clips:
    excerpt = np.pad(audio[:n_compare], 512)
    f0_fast, conf_fast = crepe.predict_f0(excerpt, FRAME_RATE,
                                          model_capacity=capacity)
    f0_keras, conf_keras = crepe.predict_f0(excerpt, FRAME_RATE,
                                            model_capacity=capacity,
                                            backend='keras')
    cent_diffs.append(np.abs(cents(f0_fast, f0_keras)))
    confidence_diffs.append(np.abs(conf_fast - conf_keras))
  cent_diffs = np.concatenate(cent_diffs)
  result['fast_vs_keras_cents_max'] = float(cent_diffs.max())
  result['fast_vs_keras_cents_median'] = float(np.median(cent_diffs))
  result['fast_vs_keras_confidence_max'] = float(
      np.concatenate(confidence_diffs).max())

  # Accuracy on every clip, end to end.
  errors, seconds, total_frames = [], 0.0, 0
  for _, audio, truth in clips:
    start = time.perf_counter()
    f0_hz, _ = crepe.predict_f0(np.pad(audio, 512), FRAME_RATE,
                                viterbi=True, model_capacity=capacity)
    seconds += time.perf_counter() - start
    total_frames += len(f0_hz)
    n = min(len(f0_hz), len(truth))
    voiced = truth[:n] > 0
    errors.append(np.abs(cents(f0_hz[:n][voiced], truth[:n][voiced])))
  errors = np.concatenate(errors)
  result['predict_f0_fps'] = total_frames / seconds
  result['raw_pitch_accuracy'] = float(np.mean(errors < 50))
  result['median_abs_cents'] = float(np.median(errors))
  result['voiced_frames'] = int(len(errors))
  result['peak_rss_mb'] = (
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
  return result


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--capacities', default='tiny,small,medium,large,full')
  parser.add_argument('--data_dir', type=pathlib.Path,
                      default=DEFAULT_DATA_DIR)
  parser.add_argument('--compare_seconds', type=float, default=5.0,
                      help='Seconds of each clip used for fast-vs-Keras.')
  parser.add_argument('--worker', help=argparse.SUPPRESS)
  args = parser.parse_args()

  if args.worker:
    print(json.dumps(run_capacity(args.worker, args.data_dir,
                                  args.compare_seconds)))
    return
  if not all((args.data_dir / i).is_dir() for i in INSTRUMENTS):
    print(f'skipped: shared clips not found under {args.data_dir}')
    return

  print(machine.describe())
  print(f'clips: {args.data_dir}; {FRAME_RATE} frames/s, centre padding, '
        f'Viterbi')
  header = (f'{"capacity":8} {"keras fps":>9} {"fast fps":>9} {"speedup":>7} '
            f'{"f0 fps":>8} {"d_cents max/med":>16} {"d_conf":>8} '
            f'{"RPA":>6} {"med cents":>9} {"peak RSS":>9}')
  print(header)
  failed = []
  for capacity in args.capacities.split(','):
    worker = subprocess.run(
        [sys.executable, __file__, '--worker', capacity, '--data_dir',
         str(args.data_dir), '--compare_seconds', str(args.compare_seconds)],
        capture_output=True, text=True, check=False)
    if worker.returncode:
      print(f'{capacity}: failed\n{worker.stderr[-2000:]}')
      failed.append(capacity)
      continue
    r = json.loads(worker.stdout.strip().splitlines()[-1])
    if 'skipped' in r:
      print(f'{capacity:8} skipped: {r["skipped"]}')
      continue
    print(f'{capacity:8} {r["keras_fps"]:9.1f} {r["fast_fps"]:9.1f} '
          f'{r["fast_fps"] / r["keras_fps"]:6.1f}x {r["predict_f0_fps"]:8.1f} '
          f'{r["fast_vs_keras_cents_max"]:8.4f}/'
          f'{r["fast_vs_keras_cents_median"]:<7.4f} '
          f'{r["fast_vs_keras_confidence_max"]:8.1e} '
          f'{r["raw_pitch_accuracy"]:6.3f} {r["median_abs_cents"]:9.2f} '
          f'{r["peak_rss_mb"]:7.0f}MB', flush=True)
  if failed:
    sys.exit(f'crepe_bench: failed for {", ".join(failed)}')


if __name__ == '__main__':
  main()
