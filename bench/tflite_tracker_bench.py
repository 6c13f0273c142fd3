"""On-device pitch tracker variants: speed and pitch accuracy as TFLite.

Each variant is the feature model's CREPE part (`ddsp.export.feature_model`,
f0 decoded without Viterbi, as on device) converted with builtin ops only:

* float32 CREPE tiny (the reference), float16 weights, dynamic-range int8
  weights, full int8 (calibrated on the train clips);
* low-rank factorisations of conv1 and/or conv2 (`TrackerConfig`);
* every other frame: the float32 model run at 25 frames/s, f0 held for the
  next frame (half the tracker cost per 20 ms hop).

For each: per-frame latency on one thread (first call, median, p99; variants
interleaved round by round so machine load hits all alike), model size, and
on the shared clips with exact f0 (`instruments/{violin,flute}/*`, 50
frames/s, frames centred on the ground truth's times): raw pitch accuracy
(share of voiced frames within 50 cents) and median absolute error in cents,
against the ground truth and against the float32 model.

Usage: python bench/tflite_tracker_bench.py [--data_dir DIR] [--rounds 5]
       [--frames_per_round 200] [--variants tiny,tiny-c1r32,...]
"""

import argparse
import os
import pathlib
import tempfile
import time

import machine
import numpy as np

FRAME_RATE = 50
HOP = 16000 // FRAME_RATE
DEFAULT_DATA_DIR = pathlib.Path(os.environ.get(
    'DDSP_SHARED_DIR', pathlib.Path(__file__).resolve().parents[2] / 'shared'
)) / 'data' / 'instruments'
# name -> (TrackerConfig kwargs, quantization, frame step)
VARIANTS = {
    'tiny': ({}, None, 1),
    'tiny-float16': ({}, 'float16', 1),
    'tiny-dynamic-int8': ({}, 'dynamic_range', 1),
    'tiny-int8': ({}, 'int8', 1),
    'tiny-c1r32': ({'conv1_rank': 32}, None, 1),
    'tiny-c1r16': ({'conv1_rank': 16}, None, 1),
    'tiny-c2r32': ({'conv2_rank': 32}, None, 1),
    'tiny-c1r32-c2r32': ({'conv1_rank': 32, 'conv2_rank': 32}, None, 1),
    'tiny-every-2nd-frame': ({}, None, 2),
}


def load_clips(data_dir: pathlib.Path, prefix: str):
  """[(name, audio, f0 ground truth at 50 frames/s)] of clips `prefix`*."""
  import json  # pylint: disable=g-import-not-at-top

  import soundfile as sf  # pylint: disable=g-import-not-at-top
  clips = []
  for instrument in ('violin', 'flute'):
    for flac in sorted((data_dir / instrument).glob(f'{prefix}*.flac')):
      audio, sample_rate = sf.read(flac, dtype='float32')
      assert sample_rate == 16000 and audio.ndim == 1, flac
      truth = np.asarray(json.loads(flac.with_suffix('.json').read_text())
                         ['f0_hz'])
      step = round(truth.size / (len(audio) / 16000) / FRAME_RATE)
      clips.append((f'{instrument}/{flac.stem}', audio, truth[::step]))
  return clips


def convert_variant(name: str, calibration_audio: np.ndarray) -> bytes:
  from ddsp.export import bundle  # pylint: disable=g-import-not-at-top
  from ddsp.export import feature_model  # pylint: disable=g-import-not-at-top
  from ddsp.export import tflite_convert  # pylint: disable=g-import-not-at-top
  kwargs, quantization, _ = VARIANTS[name]
  function = feature_model.feature_function(
      feature_model.TrackerConfig(**kwargs),
      outputs=('f0_hz', 'f0_confidence'))
  representative = (bundle.calibration_frames(calibration_audio, HOP)
                    if quantization == 'int8' else None)
  return tflite_convert.convert(function, quantization, representative,
                                feature_model.INT8_FLOAT_OPS)


def track(model, audio: np.ndarray, step: int) -> np.ndarray:
  """f0 [n_frames] of centred frames, the tracker run every `step` frames."""
  from ddsp.export import runtime  # pylint: disable=g-import-not-at-top
  padded = np.pad(audio, 512)
  n_frames = runtime.n_frames_for(len(audio), HOP)
  f0 = np.zeros(n_frames, np.float32)
  for j in range(0, n_frames, step):
    f0[j:j + step] = model(audio=padded[j * HOP:j * HOP + 1024])['f0_hz'][0]
  return f0


def cents(a, b):
  with np.errstate(divide='ignore', invalid='ignore'):
    return np.abs(1200 * np.log2(a / b))


def accuracy(f0, reference, voiced):
  error = cents(f0[voiced], reference[voiced])
  error = np.where(np.isfinite(error), error, np.inf)
  return {'rpa': float(np.mean(error <= 50)),
          'median_cents': float(np.median(error))}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--data_dir', type=pathlib.Path,
                      default=DEFAULT_DATA_DIR)
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--frames_per_round', type=int, default=200)
  parser.add_argument('--variants', default=','.join(VARIANTS))
  args = parser.parse_args()
  from ddsp.export import runtime  # pylint: disable=g-import-not-at-top

  names = args.variants.split(',')
  print(machine.describe())
  calibration = np.concatenate([a for _, a, _ in
                                load_clips(args.data_dir, 'train')])
  clips = load_clips(args.data_dir, 'eval') + load_clips(args.data_dir,
                                                         'train')
  models, sizes = {}, {}
  with tempfile.TemporaryDirectory() as tmp:
    for name in names:
      path = pathlib.Path(tmp) / f'{name}.tflite'
      path.write_bytes(convert_variant(name, calibration))
      sizes[name] = path.stat().st_size
      models[name] = runtime.TFLiteModel(path, num_threads=1)

    # Speed: variants interleaved, one frame at a time, one thread.
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((args.frames_per_round, 1024)).astype(
        np.float32) * 0.1
    times = {name: [] for name in names}
    first = {}
    for _ in range(args.rounds):
      for name in names:
        for frame in frames:
          start = time.perf_counter()
          models[name](audio=frame)
          elapsed = time.perf_counter() - start
          first.setdefault(name, elapsed)
          times[name].append(elapsed)

    # Accuracy on every clip.
    reference = {clip: track(models['tiny'], audio, 1)
                 for clip, audio, _ in clips} if 'tiny' in names else None
    print(f'{"variant":22s} {"size kB":>8s} {"first ms":>8s} '
          f'{"median ms":>9s} {"p99 ms":>7s} {"per hop":>8s} | '
          f'{"RPA":>6s} {"cents":>6s} | {"vs float RPA":>12s} '
          f'{"cents":>6s}')
    for name in names:
      step = VARIANTS[name][2]
      f0 = {clip: track(models[name], audio, step) for clip, audio, _ in clips}
      voiced = {clip: truth[:len(f0[clip])] > 0 for clip, _, truth in clips}
      truth_all = np.concatenate([t[:len(f0[c])] for c, _, t in clips])
      f0_all = np.concatenate([f0[c] for c, _, _ in clips])
      voiced_all = np.concatenate([voiced[c] for c, _, _ in clips])
      truth_acc = accuracy(f0_all, truth_all, voiced_all)
      line = ''
      if reference is not None:
        ref_all = np.concatenate([reference[c] for c, _, _ in clips])
        ref_acc = accuracy(f0_all, ref_all, voiced_all)
        line = f'{ref_acc["rpa"]:12.4f} {ref_acc["median_cents"]:6.2f}'
      ms = np.array(times[name]) * 1e3
      print(f'{name:22s} {sizes[name] / 1e3:8.0f} {first[name] * 1e3:8.3f} '
            f'{np.median(ms):9.3f} {np.percentile(ms, 99):7.3f} '
            f'{np.median(ms) / step:8.3f} | {truth_acc["rpa"]:6.4f} '
            f'{truth_acc["median_cents"]:6.2f} | {line}')
  print(f'{sum(len(a) for _, a, _ in clips) / 16000:.0f} s of audio, '
        f'{len(clips)} clips; RPA = share of voiced frames within 50 cents.')


if __name__ == '__main__':
  main()
