"""Atomic file writes: a file appears complete under its name, or not at all.

A writer that is interrupted (crash, Ctrl-C, full disk) leaves the previous
file, or no file, never half of one: data goes to a temporary name next to
the target, which is renamed over it only when complete.

- Local paths: a temporary file in the same directory, flushed and fsynced,
  then `os.replace` (atomic on POSIX and Windows).
- URLs (`gs://`, `s3://`, ...): a temporary object next to the target, then
  a rename through Apache Beam's `FileSystems` when Beam is installed, else
  through `tf.io.gfile` (object stores rename by copy-and-delete, so readers
  may briefly see the old object, never a partial new one).

No TensorFlow or Beam is imported for local paths; this module is shared by
the data pipeline, the demos, checkpoints and exports.
"""

import contextlib
import os
import shutil
import tempfile
from typing import Iterator, Union
import uuid


def is_url(path: Union[str, os.PathLike]) -> bool:
  """Whether `path` names remote storage (`scheme://...`) rather than a file."""
  return '://' in os.fspath(path)


@contextlib.contextmanager
def atomic_path(path: Union[str, os.PathLike]) -> Iterator[str]:
  """A temporary local path that becomes `path` when the block succeeds.

  Write the file at the yielded path (with any library that wants a file
  name: `soundfile.write`, `savefig`, ...). On success it is moved to `path`
  (uploaded, for URLs); on an exception it is deleted and `path` is left as
  it was.

  Args:
    path: Final local path or URL. Its directory must exist (local paths).

  Yields:
    The temporary path, in the same directory for local targets (so the
    final rename does not cross file systems) and with the same suffix (some
    writers pick the format from it).
  """
  path = os.fspath(path)
  directory = (tempfile.gettempdir() if is_url(path) else
               os.path.dirname(path) or '.')
  # A fresh name, not a file: the writer creates it with the usual
  # permissions (mkstemp's would be 0600).
  temp_path = os.path.join(directory, f'.tmp-{uuid.uuid4().hex}'
                           f'{os.path.splitext(path)[1]}')
  try:
    yield temp_path
    if is_url(path):
      with open(temp_path, 'rb') as f:
        write_bytes(path, f.read())
    else:
      _fsync(temp_path)
      os.replace(temp_path, path)
  except OSError as e:
    raise _naming(e, path) from e
  finally:
    if os.path.exists(temp_path):
      os.remove(temp_path)


def _naming(error: OSError, path: str) -> OSError:
  """`error` with the target `path` as its file name (a write to a full
  disk names no file; a temporary name means nothing to the user)."""
  if error.errno is None:
    return error
  return type(error)(error.errno, error.strerror, path)


def write_bytes(path: Union[str, os.PathLike], data: bytes) -> None:
  """Writes `data` to `path` (local or URL) atomically."""
  path = os.fspath(path)
  if not is_url(path):
    with atomic_path(path) as temp_path, open(temp_path, 'wb') as f:
      f.write(data)
    return
  temp_url = f'{path}.tmp-{uuid.uuid4().hex}'
  create, rename, delete = _remote_io()
  try:
    with create(temp_url) as f:
      f.write(data)
    rename(temp_url, path)
  except BaseException:
    with contextlib.suppress(Exception):
      delete(temp_url)
    raise


def write_text(path: Union[str, os.PathLike], text: str) -> None:
  """Writes UTF-8 `text` to `path` (local or URL) atomically."""
  write_bytes(path, text.encode('utf-8'))


@contextlib.contextmanager
def atomic_directory(path: Union[str, os.PathLike]) -> Iterator[str]:
  """A temporary local directory that replaces directory `path` on success.

  For outputs made of several files (exports, SavedModels): write them into
  the yielded directory; on success an existing `path` is moved aside and
  deleted, and the new directory takes its name; on an exception the
  temporary directory is deleted and `path` is untouched.

  Args:
    path: Final local directory; its parent must exist.

  Yields:
    The temporary directory, next to `path`.
  """
  path = os.fspath(path).rstrip(os.sep)
  if is_url(path):
    raise ValueError(f'atomic_directory needs a local path; received {path}.')
  temp_dir = os.path.join(os.path.dirname(path) or '.',
                          f'.tmp-{uuid.uuid4().hex}')
  os.mkdir(temp_dir)
  try:
    yield temp_dir
    old = None
    if os.path.exists(path):
      old = f'{temp_dir}-old'
      os.replace(path, old)
    os.replace(temp_dir, path)
    if old:
      shutil.rmtree(old)
  finally:
    if os.path.exists(temp_dir):
      shutil.rmtree(temp_dir)


def _fsync(path: str) -> None:
  with open(path, 'rb') as f:
    os.fsync(f.fileno())


def _remote_io() -> tuple:
  """(create, rename, delete) for URLs: Beam's FileSystems, else gfile."""
  try:
    from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  except ImportError:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return (lambda p: tf.io.gfile.GFile(p, 'wb'),
            lambda src, dst: tf.io.gfile.rename(src, dst, overwrite=True),
            tf.io.gfile.remove)
  return (FileSystems.create,
          lambda src, dst: FileSystems.rename([src], [dst]),
          lambda p: FileSystems.delete([p]))

