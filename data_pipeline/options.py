"""Beam pipeline options for `ddsp_prepare_tfrecord`: parse, check, run.

- Options come as a comma-separated string or a list of flags; empty entries
  are dropped (Beam 2.77 rejects an empty option string).
- Misspelt flags are an error before anything runs (Beam itself would only
  log "Discarding unparseable args" and run with the defaults).
- With the DirectRunner (the default) the pipeline runs on Beam's FnApiRunner
  directly: the DirectRunner would first try to download and start Beam's
  Prism runner, a run-time download this package never makes.
- `--runner=DaskRunner` runs on a `dask.distributed` cluster
  (`--dask_client_address=tcp://host:8786`; `pip install 'ddsp[dask]'`).
  Beam does not know that name, nor the Dask flags until its Dask module is
  imported; this module does both.
"""
import difflib
import importlib
import os
from typing import List, Sequence, Union

import apache_beam as beam
from apache_beam.options import pipeline_options as beam_options

from ddsp import validation

PipelineOptionsArg = Union[str, Sequence[str], None]
_DIRECT_RUNNERS = (None, 'DirectRunner', 'direct')
_DASK_RUNNER = 'apache_beam.runners.dask.dask_runner.DaskRunner'
_DASK_NAMES = ('dask', 'daskrunner', _DASK_RUNNER.lower())


def option_list(pipeline_options: PipelineOptionsArg) -> List[str]:
  """The flags of a comma-separated string or list, without empty entries."""
  if isinstance(pipeline_options, str):
    pipeline_options = pipeline_options.split(',')
  return [flag.strip() for flag in pipeline_options or () if flag.strip()]


def _runner_name(flags: Sequence[str]) -> str:
  """The value of the last `--runner=` flag ('' if none)."""
  runners = [flag.split('=', 1)[1] for flag in flags
             if flag.startswith('--runner=')]
  return runners[-1] if runners else ''


def is_dask(pipeline_options: PipelineOptionsArg) -> bool:
  """Whether the options name Beam's DaskRunner."""
  return _runner_name(option_list(pipeline_options)).lower() in _DASK_NAMES


def _dask_runner_class():
  """Beam's DaskRunner (importing it registers the `--dask_*` flags)."""
  module, name = _DASK_RUNNER.rsplit('.', 1)
  try:
    return getattr(importlib.import_module(module), name)
  except ImportError as e:
    raise validation.ParameterError(
        '--runner=DaskRunner needs Dask: run `pip install '
        f"'ddsp[dask]'` ({e}).") from None


def parse(pipeline_options: PipelineOptionsArg
          ) -> beam_options.PipelineOptions:
  """Beam options from a comma-separated string or a list of flags.

  Raises:
    ParameterError: for flags that no Beam option class knows, naming the
      closest known flag, or a DaskRunner without Dask installed.
  """
  flags = option_list(pipeline_options)
  if is_dask(flags):
    _dask_runner_class()
  options = beam_options.PipelineOptions(flags)
  parsers = []
  options.get_all_options(add_extra_args_fn=parsers.append)
  _, unknown = parsers[0].parse_known_args(flags)
  unknown = [flag for flag in unknown if flag.startswith('-')]
  if unknown:
    known = [s for action in parsers[0]._actions  # pylint: disable=protected-access
             for s in action.option_strings]
    hints = []
    for flag in unknown:
      close = difflib.get_close_matches(flag.split('=')[0], known, n=1)
      hints.append(f'{flag} (did you mean {close[0]}?)' if close else flag)
    raise validation.ParameterError(
        f'Unknown Beam pipeline option(s) in --pipeline_options: '
        f'{", ".join(hints)}. Fix the spelling; see `python -m '
        f'apache_beam.examples.wordcount --help` for Beam\'s options.')
  return options


def is_direct(pipeline_options: PipelineOptionsArg) -> bool:
  """Whether the options run the pipeline on this machine (DirectRunner)."""
  runner = parse(pipeline_options).view_as(
      beam_options.StandardOptions).runner
  return runner in _DIRECT_RUNNERS


def with_default_parallelism(pipeline_options: PipelineOptionsArg
                             ) -> List[str]:
  """Adds one DirectRunner worker thread per CPU core unless told otherwise.

  With the DaskRunner, adds `--dask_partition_size=1` unless a partitioning
  is given: Beam's Dask translation makes partitions of 128 input files by
  default (and its Reshuffle does not repartition), so a small dataset would
  run on one Dask worker.

  Threads, not processes: the work is TensorFlow (CREPE, loudness) and
  libsndfile/soxr, which release the GIL, so threads keep every core busy
  with one copy of TensorFlow and of the CREPE model. Measured on 2 cores
  (bench/prepare_bench.py): as fast as worker processes with CREPE full,
  1.4x faster with tiny (no per-worker start-up), half the memory, and no
  worker processes printing their own logs.

  Options that name another runner, or already set `--direct_num_workers`,
  are returned unchanged (as a list without empty entries).
  """
  given = option_list(pipeline_options)
  if is_dask(given):
    if any(flag.startswith(('--dask_npartitions', '--dask_partition_size'))
           for flag in given):
      return given
    return given + ['--dask_partition_size=1']
  if not is_direct(given):
    return given
  if any(flag.startswith('--direct_num_workers') for flag in given):
    return given
  return given + [f'--direct_num_workers={os.cpu_count() or 1}',
                  '--direct_running_mode=multi_threading']


def with_quiet_workers(pipeline_options: PipelineOptionsArg) -> List[str]:
  """Sets Beam's SDK worker log level to WARNING unless told otherwise."""
  given = option_list(pipeline_options)
  if any(flag.startswith('--default_sdk_harness_log_level') for flag in given):
    return given
  return given + ['--default_sdk_harness_log_level=WARNING']


def pipeline(options: beam_options.PipelineOptions) -> beam.Pipeline:
  """A pipeline; DirectRunner options run on the FnApiRunner (no Prism)."""
  runner = options.view_as(beam_options.StandardOptions).runner
  if (runner or '').lower() in _DASK_NAMES:
    return beam.Pipeline(runner=_dask_runner_class()(), options=options)
  if runner not in _DIRECT_RUNNERS:
    return beam.Pipeline(options=options)
  # What DirectRunner.run_pipeline does after its Prism attempt.
  from apache_beam.portability.api import beam_provision_api_pb2  # pylint: disable=g-import-not-at-top
  from apache_beam.runners.portability import portable_runner  # pylint: disable=g-import-not-at-top
  from apache_beam.runners.portability.fn_api_runner import fn_runner  # pylint: disable=g-import-not-at-top
  encoded = portable_runner.JobServiceHandle.encode_pipeline_options(
      options.get_all_options())
  runner = fn_runner.FnApiRunner(provision_info=fn_runner.ExtendedProvisionInfo(
      beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)))
  return beam.Pipeline(runner=runner, options=options)


def close_client(result) -> None:
  """Closes the Dask client of a DaskRunner result (Beam leaves it open, and
  it then tries to reconnect, with errors, once the cluster is gone)."""
  client = getattr(result, 'client', None)
  if client is not None:
    client.close()
