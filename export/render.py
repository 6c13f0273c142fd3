r"""`ddsp_render`: timbre transfer of an audio file through an exported bundle.

Runs the TensorFlow-free runtime (`ddsp.export.runtime.StreamingSynth`) over
the file block by block, exactly as a real-time host would, and writes the
result as a WAV at the bundle's sample rate. The output is trimmed by the
synthesiser's latency so that it lines up with the input.

Usage:
  ddsp_render --bundle_dir=exported/bundle --input=in.wav --output=out.wav \
      [--block_size=512] [--seed=0] [--num_threads=1]

Errors (missing or unreadable input, not a bundle, an unwritable or full
output location, Ctrl-C) end in one line and a non-zero exit (`ddsp.cli`);
the output WAV is written atomically, so it is complete or absent.
"""

import io
import os
import time

from absl import flags
import numpy as np
import soundfile as sf

from ddsp import audio_io
from ddsp import cli
from ddsp import file_io
from ddsp.export import runtime

FLAGS = flags.FLAGS
flags.DEFINE_string('bundle_dir', None, 'Bundle directory (bundle.json + '
                    '.tflite models) written by the exporter.')
flags.DEFINE_string('input', None, 'Audio file to transform (any format and '
                    'sample rate libsndfile reads; downmixed to mono).')
flags.DEFINE_string('output', None, 'WAV file to write.')
flags.DEFINE_integer('block_size', 512, 'Samples per process() call, as an '
                     'audio host would send them.', lower_bound=1)
flags.DEFINE_integer('seed', 0, 'Seed of the noise synthesiser.')
flags.DEFINE_integer('num_threads', 1, 'Threads per TFLite interpreter.',
                     lower_bound=1)


def render_file(bundle_dir, input_path, output_path, block_size: int = 512,
                seed: int = 0, num_threads: int = 1) -> dict:
  """Renders `input_path` through a bundle into the WAV `output_path`.

  Returns:
    Stats: 'seconds' of audio, 'wall_seconds', 'real_time_factor' (wall time
    / audio time), 'latency' (samples).

  Raises:
    BundleError: `bundle_dir` is not a usable bundle.
    AudioLoadError: the input cannot be read.
    OSError: the output directory is not writable (checked first) or the
      disk is full.
  """
  bundle = runtime.Bundle(bundle_dir, num_threads=num_threads)
  audio = audio_io.load_audio(input_path, sample_rate=bundle.sample_rate)
  cli.check_writable_dir(os.path.dirname(os.fspath(output_path)))
  synth = runtime.StreamingSynth(bundle, seed=seed)
  # Feed the latency's worth of silence after the end, to flush it out.
  padded = np.concatenate([audio, np.zeros(synth.latency, np.float32)])
  start = time.perf_counter()
  output = np.concatenate([synth.process(padded[i:i + block_size])
                           for i in range(0, len(padded), block_size)])
  wall = time.perf_counter() - start
  wav = io.BytesIO()
  sf.write(wav, output[synth.latency:], bundle.sample_rate, format='WAV',
           subtype='FLOAT')
  file_io.write_bytes(output_path, wav.getvalue())
  seconds = len(audio) / bundle.sample_rate
  return {'seconds': seconds, 'wall_seconds': wall,
          'real_time_factor': wall / seconds, 'latency': synth.latency}


def main(argv):
  cli.check_arguments(argv, ('bundle_dir', 'input', 'output'))
  stats = render_file(FLAGS.bundle_dir, FLAGS.input, FLAGS.output,
                      FLAGS.block_size, FLAGS.seed, FLAGS.num_threads)
  print(f'Wrote {FLAGS.output}: {stats["seconds"]:.2f} s of audio in '
        f'{stats["wall_seconds"]:.2f} s ({1 / stats["real_time_factor"]:.1f}x '
        f'real time), latency {stats["latency"]} samples.')


def console_entry_point():
  cli.run(main, 'ddsp_render',
          user_errors=(runtime.BundleError, audio_io.AudioLoadError))


if __name__ == '__main__':
  console_entry_point()
