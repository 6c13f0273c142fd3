r"""Prepares a TFRecord dataset of training examples from audio files.

Usage:
================================================================================
ddsp_prepare_tfrecord \
  --input_audio_filepatterns=/path/to/wavs/*wav,/path/to/mp3s/*mp3 \
  --output_tfrecord_path=/path/to/output.tfrecord \
  --num_shards=10 \
  --alsologtostderr
================================================================================

Runs on Beam's DirectRunner with one worker process per CPU core unless
`--pipeline_options` says otherwise (see data_pipeline/README.md for Flink,
Spark and Dataflow). Prints a summary at the end; files that could not be
prepared are listed in `failed-<output name>.jsonl` next to the output.
"""
from absl import app
from absl import flags
import tensorflow as tf

from ddsp.data_pipeline import prepare_tfrecord_lib

FLAGS = flags.FLAGS

flags.DEFINE_list('input_audio_filepatterns', [],
                  'List of filepatterns to glob for input audio files.')
flags.DEFINE_string(
    'output_tfrecord_path', None,
    'The prefix path to the output TFRecord. Shard numbers will be added to '
    'actual path(s).')
flags.DEFINE_integer(
    'num_shards', None,
    'The number of shards to use for the TFRecord. If None, this number will '
    'be determined automatically.')
flags.DEFINE_integer('sample_rate', 16000,
                     'The sample rate to use for the audio.')
flags.DEFINE_integer(
    'frame_rate', 250,
    'The frame rate to use for f0 and loudness features. If set to 0, '
    'these features will not be computed.')
flags.DEFINE_float(
    'example_secs', 4,
    'The length of each example in seconds. Input audio will be split to this '
    'length using a sliding window. If 0, each full piece of audio will be '
    'used as an example.')
flags.DEFINE_float(
    'hop_secs', 1,
    'The hop size between example start points (in seconds), when splitting '
    'audio into constant-length examples.')
flags.DEFINE_float(
    'eval_split_fraction', 0.0,
    'Fraction of the dataset to reserve for eval split. If set to 0, no eval '
    'split is created.')
flags.DEFINE_float(
    'chunk_secs', 20.0,
    'Chunk size in seconds used to split the input audio files. This is used '
    'to split large audio files into manageable chunks for better '
    'parallelization and to enable non-overlapping examples.')
flags.DEFINE_boolean(
    'center', False,
    'Add padding to audio such that frame timestamps are centered. Increases '
    'number of frames by one.')
flags.DEFINE_boolean('viterbi', True,
                     'Use viterbi decoding of pitch.')
flags.DEFINE_enum('crepe_model', 'full', list(prepare_tfrecord_lib.CREPE_MODELS),
                  'CREPE model capacity used for f0 estimation: tiny is '
                  'about 30x faster than full and less accurate.')
flags.DEFINE_list(
    'pipeline_options', '--runner=DirectRunner',
    'A comma-separated list of command line arguments to be used as options '
    'for the Beam Pipeline. With the DirectRunner and no '
    '--direct_num_workers, one worker process per CPU core is used.')


def _glob_inputs(filepatterns):
  """Expands the patterns; warns about patterns that match nothing."""
  paths = []
  for filepattern in filepatterns:
    matches = tf.io.gfile.glob(filepattern)
    if not matches:
      print(f'WARNING: --input_audio_filepatterns: {filepattern!r} matches no '
            'files.')
    paths.extend(matches)
  return paths


def run():
  """Globs the inputs, runs the pipeline and prints its summary."""
  input_audio_paths = _glob_inputs(FLAGS.input_audio_filepatterns)
  if not input_audio_paths:
    raise app.UsageError(
        'No audio files found: --input_audio_filepatterns='
        f'{",".join(FLAGS.input_audio_filepatterns)!r} matches nothing.')
  summary = prepare_tfrecord_lib.prepare_tfrecord(
      input_audio_paths,
      FLAGS.output_tfrecord_path,
      num_shards=FLAGS.num_shards,
      sample_rate=FLAGS.sample_rate,
      frame_rate=FLAGS.frame_rate,
      example_secs=FLAGS.example_secs,
      hop_secs=FLAGS.hop_secs,
      eval_split_fraction=FLAGS.eval_split_fraction,
      chunk_secs=FLAGS.chunk_secs,
      center=FLAGS.center,
      viterbi=FLAGS.viterbi,
      pipeline_options=prepare_tfrecord_lib.with_default_parallelism(
          FLAGS.pipeline_options),
      crepe_model=FLAGS.crepe_model)
  print(f'ddsp_prepare_tfrecord: {summary}')
  if summary.statistics_path:
    print(f'Dataset statistics: {summary.statistics_path} (copy it to your '
          'model directory as dataset_statistics.pkl for timbre transfer).')
  if not sum(summary.examples.values()):
    raise SystemExit('ddsp_prepare_tfrecord: no examples were written; see '
                     f'{summary.failed_path}.')


def main(unused_argv):
  """From command line."""
  run()


def console_entry_point():
  """From pip installed script."""
  flags.mark_flag_as_required('output_tfrecord_path')
  app.run(main)


if __name__ == '__main__':
  console_entry_point()
