"""Container entry point: runs `ddsp_run` training of a solo-instrument model.

AI Platform starts this module on every machine of a job with a TF_CONFIG
environment variable. On a multi-machine job every worker trains with
`--cluster_config=$TF_CONFIG` (MultiWorkerMirroredStrategy); only the chief
writes to --save_dir.
"""
import json
import os
import subprocess
from typing import List, Sequence, Tuple

from absl import app
from absl import flags

# Its own flag set: `ddsp_run` defines flags with the same names.
FLAGS = flags.FlagValues()

flags.DEFINE_string('save_dir', None, 'Where checkpoints and summaries go.',
                    flag_values=FLAGS)
flags.DEFINE_string('restore_dir', '', 'Where to resume from (default: '
                    'save_dir).', flag_values=FLAGS)
flags.DEFINE_string('file_pattern', None, 'TFRecord files to train on.',
                    flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 32, 'Global batch size.',
                     flag_values=FLAGS)
flags.DEFINE_float('learning_rate', 0.003, 'Initial learning rate.',
                   flag_values=FLAGS)
flags.DEFINE_integer('num_steps', 30000, 'Training steps.', flag_values=FLAGS)
flags.DEFINE_float('early_stop_loss_value', 0.0,
                   'Stop once the total loss is at or below this.',
                   flag_values=FLAGS)
flags.DEFINE_integer('steps_per_summary', 300, 'Steps between summaries.',
                     flag_values=FLAGS)
flags.DEFINE_integer('steps_per_save', 300, 'Steps between checkpoints.',
                     flag_values=FLAGS)
flags.DEFINE_boolean('hypertune', False,
                     'Report the loss to hyperparameter tuning.',
                     flag_values=FLAGS)
flags.DEFINE_multi_string('gin_search_path', [], 'Extra gin search paths.',
                          flag_values=FLAGS)
flags.DEFINE_multi_string('gin_file', [], 'Extra gin files.',
                          flag_values=FLAGS)
flags.DEFINE_multi_string('gin_param', [], 'Extra gin bindings.',
                          flag_values=FLAGS)
flags.mark_flags_as_required(['save_dir', 'file_pattern'], flag_values=FLAGS)


def get_worker_behavior_info(save_dir: str) -> Tuple[str, str]:
  """(cluster_config, save_dir) for this machine from TF_CONFIG.

  Returns:
    ('', save_dir) without a usable multi-entry TF_CONFIG (one machine);
    (TF_CONFIG, save_dir) on the chief; (TF_CONFIG, '') on other workers,
    which then save nothing.
  """
  tf_config_str = os.environ.get('TF_CONFIG', '')
  try:
    tf_config = json.loads(tf_config_str)
    cluster, task_type = tf_config['cluster'], tf_config['task']['type']
  except (ValueError, KeyError, TypeError):
    return '', save_dir
  if len(cluster) <= 1:
    return '', save_dir
  return tf_config_str, save_dir if task_type == 'chief' else ''


def parse_list_params(list_of_params: Sequence[str],
                      param_name: str) -> List[str]:
  """['a', 'b'] -> ['--<param_name>=a', '--<param_name>=b']."""
  return [f'--{param_name}={param}' for param in list_of_params]


def main(unused_argv):
  cluster_config, save_dir = get_worker_behavior_info(FLAGS.save_dir)
  command = [
      'ddsp_run',
      '--mode=train',
      '--alsologtostderr',
      f'--save_dir={save_dir}',
      f'--restore_dir={FLAGS.restore_dir or FLAGS.save_dir}',
      f'--cluster_config={cluster_config}',
      f'--hypertune={FLAGS.hypertune}',
      f'--early_stop_loss_value={FLAGS.early_stop_loss_value}',
      '--gin_file=models/solo_instrument.gin',
      '-gin_file=datasets/tfrecord.gin',
      f"--gin_param=TFRecordProvider.file_pattern='{FLAGS.file_pattern}'",
      f'--gin_param=batch_size={FLAGS.batch_size}',
      f'--gin_param=learning_rate={FLAGS.learning_rate}',
      f'--gin_param=train_util.train.num_steps={FLAGS.num_steps}',
      f'--gin_param=train_util.train.steps_per_save={FLAGS.steps_per_save}',
      ('--gin_param=train_util.train.steps_per_summary='
       f'{FLAGS.steps_per_summary}'),
  ]
  command += parse_list_params(FLAGS.gin_search_path, 'gin_search_path')
  command += parse_list_params(FLAGS.gin_file, 'gin_file')
  command += parse_list_params(FLAGS.gin_param, 'gin_param')
  subprocess.run(args=command, check=True)


def _parse_flags(argv: List[str]) -> List[str]:
  """Parses this module's flags; absl's own flags keep their defaults."""
  try:
    remaining = FLAGS(argv)
  except flags.Error as e:
    raise SystemExit(f'{argv[0]}: {e}') from None
  flags.FLAGS(argv[:1])
  return remaining


if __name__ == '__main__':
  app.run(main, flags_parser=_parse_flags)
