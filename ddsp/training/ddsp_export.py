"""ddsp 3.7.0's `ddsp.training.ddsp_export`; the command lives in
`ddsp.export.ddsp_export` (console script `ddsp_export`)."""
# pylint: disable=wildcard-import,unused-wildcard-import
from ddsp.export.ddsp_export import *  # noqa: F403
from ddsp.export.ddsp_export import console_entry_point
from ddsp.export.ddsp_export import main  # noqa: F401

if __name__ == '__main__':
  console_entry_point()
