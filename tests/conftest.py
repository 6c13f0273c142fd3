"""Shared pytest fixtures and settings for the ddsp test suite."""
import os
import pathlib

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import pytest  # pylint: disable=g-import-not-at-top

TESTS_DIR = pathlib.Path(__file__).parent
TEST_DATA_DIR = TESTS_DIR / 'data'
# The team's shared data and tools: ../shared next to the repository, or
# $DDSP_SHARED_DIR (e.g. when testing from a worktree elsewhere).
SHARED_DIR = pathlib.Path(os.environ.get('DDSP_SHARED_DIR',
                                         TESTS_DIR.parent.parent / 'shared'))
SHARED_INSTRUMENTS_DIR = SHARED_DIR / 'data' / 'instruments'


@pytest.fixture
def shared_instruments_dir() -> pathlib.Path:
  """The shared instrument clips; skips the test when they are not present."""
  if not SHARED_INSTRUMENTS_DIR.is_dir():
    pytest.skip(f'shared instrument clips not found at {SHARED_INSTRUMENTS_DIR}')
  return SHARED_INSTRUMENTS_DIR


@pytest.fixture
def tiny_tmpfs(tmp_path):
  """Mounts 64 KiB file systems: returns (full, read_only) directories.

  Needs root and `mount` (skips otherwise): a real full disk and a real
  read-only mount, which root cannot write either (chmod does not stop
  root).
  """
  import subprocess  # pylint: disable=g-import-not-at-top
  mounts = []
  for name, options in (('full', 'size=64k'), ('read_only', 'size=64k,ro')):
    directory = tmp_path / name
    directory.mkdir()
    result = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs',
                             str(directory)], capture_output=True, check=False)
    if result.returncode:
      for mount in mounts:
        subprocess.run(['umount', str(mount)], check=False)
      pytest.skip('cannot mount a tmpfs (needs root): '
                  f'{result.stderr.decode().strip()}')
    mounts.append(directory)
  yield tuple(mounts)
  for mount in mounts:
    subprocess.run(['umount', str(mount)], check=False)
