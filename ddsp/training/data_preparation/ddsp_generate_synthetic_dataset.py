"""ddsp 3.7.0 entry point of `ddsp_generate_synthetic_dataset`.

The command lives in `ddsp.data_pipeline.ddsp_generate_synthetic_dataset`.
"""
# pylint: disable=unused-import
from ddsp.data_pipeline import ddsp_generate_synthetic_dataset as _command

console_entry_point = _command.console_entry_point
FLAGS = _command.FLAGS
generate_examples = _command.generate_examples
generate_synthetic_dataset = _command.generate_synthetic_dataset
main = _command.main

if __name__ == '__main__':
  console_entry_point()
