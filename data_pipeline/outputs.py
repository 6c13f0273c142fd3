"""Where `ddsp_prepare_tfrecord` writes, and how outputs replace old ones.

A run writes everything (shards, Beam's `beam-temp-*` folders, spilled
examples, the dead-letter file) under one hidden run directory next to the
output, `<dir>/.ddsp-prepare-<id>/`. Only when the pipeline has succeeded are
the results published: shards of an earlier run under the same output path
that this run does not overwrite are deleted (so a reader never mixes two
runs), non-empty shards and side files are renamed into place, and the run
directory is removed. A failed or interrupted run removes its run directory
and leaves the earlier outputs as they were.

Shard names are Beam's, `<output>-SSSSS-of-NNNNN`, with an eval split
`<output>-train-SSSSS-of-NNNNN` and `<output>-eval-SSSSS-of-NNNNN`.
"""
import logging
import os
import uuid
from typing import Dict, List

from apache_beam.io.filesystems import FileSystems

from ddsp import file_io
from ddsp import validation

_LOG = logging.getLogger(__name__)
RUN_DIR_PREFIX = '.ddsp-prepare-'
SPLIT_SUFFIXES = ('', '-train', '-eval')


def shard_pattern(prefix: str) -> str:
  """Glob of the shards Beam writes for `prefix` (`-SSSSS-of-NNNNN`)."""
  return f'{prefix}-?????-of-?????'


def side_file_path(output_tfrecord_path: str, kind: str,
                   extension: str) -> str:
  """`<dir>/<kind>-<name><extension>`: never matched by `<output>*`."""
  directory, basename = os.path.split(output_tfrecord_path)
  return os.path.join(directory, f'{kind}-{basename}{extension}')


def check_output_path(output_tfrecord_path: str) -> None:
  """Checks, before anything runs, that shards can be written at the path.

  Local paths: the directory is created if needed and must be writable; the
  path itself must not be a directory (it is a prefix for shard names).

  Raises:
    ParameterError: with the cause and the fix.
  """
  if not output_tfrecord_path or output_tfrecord_path.endswith(('/', '\\')):
    raise validation.ParameterError(
        f'--output_tfrecord_path={output_tfrecord_path!r} is not a file '
        'prefix; shards are named <prefix>-00000-of-0000N. Give a path such '
        'as /data/violin/train.tfrecord.')
  if file_io.is_url(output_tfrecord_path):
    return
  if os.path.isdir(output_tfrecord_path):
    raise validation.ParameterError(
        f'--output_tfrecord_path={output_tfrecord_path!r} is a directory; it '
        'must be a file prefix for the shards, e.g. '
        f'{os.path.join(output_tfrecord_path, "train.tfrecord")}.')
  directory = os.path.dirname(os.path.abspath(output_tfrecord_path))
  try:
    os.makedirs(directory, exist_ok=True)
  except OSError as e:
    raise validation.ParameterError(
        f'Cannot create the output directory {directory} ({e.strerror}); '
        'choose a writable --output_tfrecord_path.') from None
  if not os.access(directory, os.W_OK | os.X_OK):
    raise validation.ParameterError(
        f'The output directory {directory} is not writable; choose a '
        'writable --output_tfrecord_path or fix its permissions.')


def new_run_dir(output_tfrecord_path: str) -> str:
  """A fresh hidden directory next to the output, for one run's files."""
  directory = os.path.dirname(output_tfrecord_path) or '.'
  leftovers = [m.path for m in FileSystems.match(
      [FileSystems.join(directory, RUN_DIR_PREFIX + '*')])[0].metadata_list]
  if leftovers:
    _LOG.warning('%d folder(s) of killed earlier runs remain in %s (e.g. '
                 '%s); delete them unless a run is still going.',
                 len(leftovers), directory, os.path.dirname(leftovers[0]))
  run_dir = FileSystems.join(directory, RUN_DIR_PREFIX + uuid.uuid4().hex)
  FileSystems.mkdirs(run_dir)
  return run_dir


def remove(path: str) -> None:
  """Deletes a file or directory tree if it exists."""
  if FileSystems.exists(path):
    FileSystems.delete([path])


def _matches(pattern: str) -> List[str]:
  return [m.path for m in FileSystems.match([pattern])[0].metadata_list]


def publish(run_dir: str, output_tfrecord_path: str,
            run_prefixes: Dict[str, str], examples: Dict[str, int],
            side_files: Dict[str, str]) -> List[str]:
  """Moves a successful run's outputs into place, replacing earlier ones.

  Args:
    run_dir: The run directory holding this run's shards and side files.
    output_tfrecord_path: The output prefix given by the user.
    run_prefixes: split -> shard prefix inside `run_dir`.
    examples: split -> examples written; splits with none publish nothing
      (Beam would leave a 0-byte shard). Splits with examples publish all
      their shards, so the `-of-NNNNN` set is complete even if Beam left
      one empty.
    side_files: final path -> path inside `run_dir` of side files.

  Returns:
    The published shard paths.
  """
  directory = os.path.dirname(output_tfrecord_path)
  new_shards = {}
  for split, prefix in run_prefixes.items():
    if examples.get(split):
      for path in _matches(shard_pattern(prefix)):
        new_shards[FileSystems.join(directory, os.path.basename(path))] = path
  stale = [path for suffix in SPLIT_SUFFIXES
           for path in _matches(shard_pattern(output_tfrecord_path + suffix))
           if path not in new_shards]
  if stale:
    _LOG.warning('Replacing %d shard(s) of an earlier run at %s*.',
                 len(stale), output_tfrecord_path)
    FileSystems.delete(stale)
  # Renames replace existing files (os.rename locally; copy, then delete, on
  # object stores), so a published file is always complete.
  for final_path, run_path in sorted(new_shards.items()) + sorted(
      side_files.items()):
    FileSystems.rename([run_path], [final_path])
  return sorted(new_shards)
