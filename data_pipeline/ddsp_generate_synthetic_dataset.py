r"""Writes a TFRecord dataset of random synthesizer controls (EXPERIMENTAL).

Usage:
  ddsp_generate_synthetic_dataset \
    --output_tfrecord_path=/data/notes.tfrecord \
    --num_shards=10 --num_examples=100000 \
    --gin_param="generate_examples.generate_fn = \
        @synthetic_data.generate_notes_v2"

Each example is one batch element of `generate_examples.generate_fn` (a gin
binding, required), generated with its own seed drawn from
`--random_seed`; the records hold `f0_hz`, `harm_amp`, `harm_dist`,
`sin_amps`, `sin_freqs` and `noise_magnitudes` as flat float lists, as
`ddsp.training.data.SyntheticNotes(n_timesteps, n_harmonics, n_mags)` reads
them. Runs on Beam's DirectRunner unless `--pipeline_options` says otherwise.
"""
import sys
from typing import Dict, Iterator

from absl import flags
import numpy as np

from ddsp import cli
from ddsp import validation
import gin

FLAGS = flags.FLAGS
_NAME = 'ddsp_generate_synthetic_dataset'
# The gin names of 3.7.0 (`generate_examples.generate_fn`).
_GIN_MODULE = 'ddsp.training.data_preparation.ddsp_generate_synthetic_dataset'
FEATURE_KEYS = ('f0_hz', 'harm_amp', 'harm_dist', 'sin_amps', 'sin_freqs',
                'noise_magnitudes')

flags.DEFINE_string('output_tfrecord_path', None,
                    'The prefix path to the output TFRecord. Shard numbers '
                    'will be added to actual path(s).')
flags.DEFINE_integer('num_shards', None,
                     'The number of shards to use for the TFRecord. If None, '
                     'this number will be determined automatically.')
flags.DEFINE_integer('num_examples', 1000000,
                     'The total number of synthetic examples to generate.')
flags.DEFINE_integer('random_seed', 42,
                     'Seed of the per-example seeds (reproducible datasets).')
flags.DEFINE_list('pipeline_options', '--runner=DirectRunner',
                  'A comma-separated list of command line arguments to be '
                  'used as options for the Beam Pipeline.')
flags.DEFINE_multi_string('gin_search_path', [],
                          'Additional gin file search paths.')
flags.DEFINE_multi_string('gin_file', [],
                          'List of paths to the config files. If file in '
                          'gin_search_path, it will be found.')
flags.DEFINE_multi_string('gin_param', [],
                          'Newline separated list of Gin parameter bindings.')


@gin.configurable(module=_GIN_MODULE)
def generate_examples(seed: int, generate_fn=gin.REQUIRED
                      ) -> Dict[str, np.ndarray]:
  """The first batch element of `generate_fn(n_batch=1)` after seeding numpy.

  Returns:
    {key: float32 array [n_timesteps, channels]} for `FEATURE_KEYS`.
  """
  np.random.seed(seed)
  batch = generate_fn(n_batch=1)
  missing = [key for key in FEATURE_KEYS if key not in batch]
  if missing:
    raise ValueError(f'generate_examples.generate_fn returned no {missing}; '
                     'it must return controls (get_controls=True).')
  return {key: np.asarray(batch[key][0], np.float32) for key in FEATURE_KEYS}


def _beam_transforms():
  """(Beam, DoFn class), imported when a pipeline is built."""
  # pylint: disable=g-import-not-at-top
  import apache_beam as beam

  class GenerateExampleFn(beam.DoFn):
    """Seed -> serialized tf.train.Example, with the gin config of the run."""

    def __init__(self, gin_config: str):
      super().__init__()
      self._gin_config = gin_config

    def setup(self):
      # pylint: disable=g-import-not-at-top,unused-import
      from ddsp.data_pipeline import synthetic_data  # noqa: F401
      with gin.unlock_config():
        gin.parse_config(self._gin_config)

    def process(self, seed: int) -> Iterator[bytes]:
      from ddsp.data_pipeline import records  # pylint: disable=g-import-not-at-top
      yield records.to_tf_example(generate_examples(int(seed)))

  return beam, GenerateExampleFn


def generate_synthetic_dataset(output_tfrecord_path: str, num_examples: int,
                               num_shards=None, random_seed: int = 42,
                               pipeline_options='--runner=DirectRunner',
                               gin_config: str = '') -> None:
  """Runs the Beam pipeline: seeds -> examples -> shuffled TFRecord shards.

  Args:
    output_tfrecord_path: Prefix of the shards.
    num_examples: Number of examples.
    num_shards: Number of shards, or None to let Beam decide.
    random_seed: Seeds numpy, which draws one seed per example.
    pipeline_options: Beam options (comma-separated string or list).
    gin_config: Gin bindings parsed by every worker (must bind
      `generate_examples.generate_fn`).
  """
  # pylint: disable=g-import-not-at-top
  from ddsp.data_pipeline import options
  from ddsp.data_pipeline import outputs
  validation.positive_int(num_examples, 'num_examples')
  outputs.check_output_path(output_tfrecord_path)
  np.random.seed(random_seed)
  seeds = np.random.randint(2**32, size=num_examples, dtype=np.int64)
  beam, generate_example_fn = _beam_transforms()
  with options.pipeline(options.parse(pipeline_options)) as pipeline:
    _ = (pipeline
         | 'CreateSeeds' >> beam.Create(seeds.tolist())
         | 'GenerateExamples' >> beam.ParDo(generate_example_fn(gin_config))
         | 'Reshuffle' >> beam.Reshuffle()
         | 'WriteToTFRecord' >> beam.io.WriteToTFRecord(
             output_tfrecord_path, num_shards=num_shards or 0))


def _parse_gin() -> str:
  """Parses the gin files and bindings of the flags; returns the config."""
  # pylint: disable=g-import-not-at-top,unused-import
  from ddsp.data_pipeline import synthetic_data  # noqa: F401
  for path in FLAGS.gin_search_path:
    gin.add_config_file_search_path(path)
  with gin.unlock_config():
    gin.parse_config_files_and_bindings(FLAGS.gin_file, FLAGS.gin_param)
  try:
    gin.query_parameter(f'{_GIN_MODULE}.generate_examples.generate_fn')
  except ValueError:
    _fail('bind the generator, e.g. --gin_param="generate_examples.'
          'generate_fn = @synthetic_data.generate_notes_v2"')
  return gin.config_str()


def _fail(message: str) -> None:
  print(f'{_NAME}: error: {message}', file=sys.stderr)
  sys.exit(2)


def main(unused_argv):
  """From command line."""
  if not FLAGS.output_tfrecord_path:
    _fail('--output_tfrecord_path is required.')
  gin_config = _parse_gin()
  try:
    generate_synthetic_dataset(
        FLAGS.output_tfrecord_path, FLAGS.num_examples,
        num_shards=FLAGS.num_shards, random_seed=FLAGS.random_seed,
        pipeline_options=FLAGS.pipeline_options, gin_config=gin_config)
  except validation.ParameterError as e:
    _fail(str(e))
  print(f'{_NAME}: wrote {FLAGS.num_examples} examples to '
        f'{FLAGS.output_tfrecord_path}-*')


def console_entry_point():
  """From pip installed script."""
  cli.run(main, 'ddsp_generate_synthetic_dataset')


if __name__ == '__main__':
  console_entry_point()
