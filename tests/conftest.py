"""Shared pytest fixtures and settings for the ddsp test suite."""
import os
import pathlib

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import pytest  # pylint: disable=g-import-not-at-top

TESTS_DIR = pathlib.Path(__file__).parent
TEST_DATA_DIR = TESTS_DIR / 'data'
SHARED_INSTRUMENTS_DIR = (TESTS_DIR.parent.parent / 'shared' / 'data' /
                          'instruments')


@pytest.fixture
def shared_instruments_dir() -> pathlib.Path:
  """The shared instrument clips; skips the test when they are not present."""
  if not SHARED_INSTRUMENTS_DIR.is_dir():
    pytest.skip(f'shared instrument clips not found at {SHARED_INSTRUMENTS_DIR}')
  return SHARED_INSTRUMENTS_DIR
