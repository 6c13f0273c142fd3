"""Atomic file and directory writes: an interrupted export leaves nothing half
written (TensorFlow-free)."""

import contextlib
import os
import pathlib
import shutil
import tempfile
from typing import Iterator, Union

PathLike = Union[str, os.PathLike]


def write_bytes_atomic(path: PathLike, data: bytes) -> pathlib.Path:
  """Writes `data` to `path` through a temporary file in the same directory.

  Readers see either the old file or the complete new one, never a partial
  write (the final step is one `os.replace`).

  Returns:
    The path written.
  """
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  handle, temp_path = tempfile.mkstemp(prefix=f'.{path.name}.',
                                       dir=path.parent)
  try:
    with os.fdopen(handle, 'wb') as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(temp_path, path)
  except BaseException:
    pathlib.Path(temp_path).unlink(missing_ok=True)
    raise
  return path


@contextlib.contextmanager
def atomic_directory(path: PathLike,
                     overwrite: bool = True) -> Iterator[pathlib.Path]:
  """Yields a temporary directory that becomes `path` when the block succeeds.

  On an exception (including KeyboardInterrupt) the temporary directory is
  removed and `path` is left as it was. An existing `path` is replaced only
  after the new one is complete (moved aside, then deleted).

  Args:
    path: Final directory.
    overwrite: Replace an existing `path`; if False, raise FileExistsError.

  Yields:
    The temporary directory to fill (a sibling of `path`).
  """
  path = pathlib.Path(path)
  if path.exists() and not overwrite:
    raise FileExistsError(f'{path} exists; pass overwrite=True to replace it.')
  path.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f'.{path.name}.',
                                          dir=path.parent))
  try:
    yield staging
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  old = None
  if path.exists():
    old = pathlib.Path(tempfile.mkdtemp(prefix=f'.{path.name}.old.',
                                        dir=path.parent))
    os.replace(path, old / path.name)
  os.replace(staging, path)
  if old is not None:
    shutil.rmtree(old, ignore_errors=True)
