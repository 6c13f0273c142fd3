"""`ddsp_ai_platform`: 3.7.0's interactive job submitter for Google Cloud AI
Platform Training, kept as a command that explains what to use instead.

AI Platform Training has been retired by Google in favour of Vertex AI, so
this command submits nothing. It keeps 3.7.0's flags (all strings, default
'') so scripts that call it fail with a clear message rather than an unknown
flag. Train on any machine with `ddsp_run`; in a container,
`ddsp.training.docker.task` is the entry point (it reads TF_CONFIG for
multi-machine jobs, e.g. Vertex AI custom jobs).
"""
import sys

from absl import flags

from ddsp import cli

_STRING_FLAGS = (
    ('data_path', 'TFRecord file pattern of the training data.'),
    ('save_dir', 'Where checkpoints and summaries go.'),
    ('restore_dir', 'Where to resume from.'),
    ('config_path', 'Gin config file.'),
    ('project_id', 'Google Cloud project.'),
    ('region', 'Google Cloud region.'),
    ('batch_size', 'Batch size.'),
    ('learning_rate', 'Learning rate.'),
    ('num_steps', 'Training steps.'),
    ('steps_per_summary', 'Steps between summaries.'),
    ('steps_per_save', 'Steps between checkpoints.'),
    ('early_stop_loss_value', 'Stop at or below this total loss.'),
)
for _name, _help in _STRING_FLAGS:
  flags.DEFINE_string(_name, '', _help)

MESSAGE = (
    'ddsp_ai_platform: Google Cloud AI Platform Training has been retired, so '
    'this command submits nothing. Train with `ddsp_run` (see the README), or '
    'run the container entry point `python -m ddsp.training.docker.task` as a '
    'Vertex AI custom job.')


def main(argv):
  del argv
  print(MESSAGE, file=sys.stderr)
  return 2


def console_entry_point():
  cli.run(main, 'ddsp_ai_platform')


if __name__ == '__main__':
  console_entry_point()
