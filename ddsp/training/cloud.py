"""Helpers for running on Google Cloud: gs:// downloads and hypertune reports.

Local paths work without any cloud package. Functions that touch gs:// need
`google-cloud-storage`; reporting to AI Platform hyperparameter tuning needs
`cloudml-hypertune`. Both are imported only when used and raise an
`ImportError` that names the package to install.
"""
import os
from typing import List, Union

from absl import logging

_GS_PREFIX = 'gs://'


def _import_or_explain(module: str, package: str, purpose: str):
  """Imports `module`, or raises an ImportError naming the pip package."""
  try:
    return __import__(module, fromlist=['_'])
  except ImportError as e:
    raise ImportError(f'{purpose} needs the `{package}` package, which is not '
                      f'installed; run `pip install {package}`.') from e


def _split_gs_path(gstorage_path: str):
  """'gs://bucket/a/b.gin' -> ('bucket', 'a/b.gin')."""
  if not gstorage_path.startswith(_GS_PREFIX):
    raise ValueError(f'Expected a path starting with {_GS_PREFIX!r}; '
                     f'received {gstorage_path!r}.')
  bucket_name, _, blob_name = gstorage_path[len(_GS_PREFIX):].partition('/')
  if not bucket_name or not blob_name:
    raise ValueError(f'Expected gs://<bucket>/<object>; received '
                     f'{gstorage_path!r}.')
  return bucket_name, blob_name


def download_from_gstorage(gstorage_path: str, local_path: str) -> None:
  """Downloads one object from Google Cloud Storage.

  Unlike ddsp 3.7.0, the `gs://` prefix is removed as a prefix (3.7.0 stripped
  the characters 'g', 's', ':', '/' from both ends, mangling bucket names such
  as 'songs').

  Args:
    gstorage_path: 'gs://<bucket>/<object>'.
    local_path: Destination file.

  Raises:
    ValueError: if `gstorage_path` is not a gs:// object path.
    ImportError: if `google-cloud-storage` is not installed.
  """
  bucket_name, blob_name = _split_gs_path(gstorage_path)
  storage = _import_or_explain('google.cloud.storage', 'google-cloud-storage',
                               f'Downloading {gstorage_path}')
  client = storage.Client()
  blob = client.bucket(bucket_name).blob(blob_name)
  blob.download_to_filename(local_path)
  logging.info('Downloaded %s to %s.', gstorage_path, local_path)


def make_file_paths_local(paths: Union[str, List[str]],
                          local_directory: str) -> Union[str, List[str]]:
  """Downloads gs:// files into `local_directory` and returns local names.

  Args:
    paths: A path or a list of paths; gs:// ones are downloaded.
    local_directory: Where gs:// files are downloaded to.

  Returns:
    The same structure (a str for a str, a list for a list) with every gs://
    path replaced by its basename (the caller adds `local_directory` to its
    search path, as `ddsp_run` does for gin files); local paths unchanged.
  """
  single = isinstance(paths, str)
  local_paths = []
  for path in ([paths] if single else paths):
    if path.startswith(_GS_PREFIX):
      basename = os.path.basename(path)
      download_from_gstorage(path, os.path.join(local_directory, basename))
      path = basename
    local_paths.append(path)
  return local_paths[0] if single else local_paths


def report_metric_to_hypertune(metric_value: float, step: int,
                               tag: str = 'Loss') -> None:
  """Reports a metric to AI Platform hyperparameter tuning.

  Args:
    metric_value: The value to optimise (e.g. the total loss).
    step: Training step of the value.
    tag: Name of the metric in the tuning job's spec.

  Raises:
    ImportError: if `cloudml-hypertune` is not installed.
  """
  hypertune = _import_or_explain('hypertune', 'cloudml-hypertune',
                                 'Reporting to hyperparameter tuning')
  hpt = hypertune.HyperTune()
  hpt.report_hyperparameter_tuning_metric(
      hyperparameter_metric_tag=tag,
      metric_value=metric_value,
      global_step=step)
