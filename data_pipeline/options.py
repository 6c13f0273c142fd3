"""Beam pipeline options for `ddsp_prepare_tfrecord`: parse, check, run.

- Options come as a comma-separated string or a list of flags; empty entries
  are dropped (Beam 2.77 rejects an empty option string).
- Misspelt flags are an error before anything runs (Beam itself would only
  log "Discarding unparseable args" and run with the defaults).
- With the DirectRunner (the default) the pipeline runs on Beam's FnApiRunner
  directly: the DirectRunner would first try to download and start Beam's
  Prism runner, a run-time download this package never makes.
"""
import difflib
import os
from typing import List, Sequence, Union

import apache_beam as beam
from apache_beam.options import pipeline_options as beam_options

from ddsp import validation

PipelineOptionsArg = Union[str, Sequence[str], None]
_DIRECT_RUNNERS = (None, 'DirectRunner', 'direct')


def option_list(pipeline_options: PipelineOptionsArg) -> List[str]:
  """The flags of a comma-separated string or list, without empty entries."""
  if isinstance(pipeline_options, str):
    pipeline_options = pipeline_options.split(',')
  return [flag.strip() for flag in pipeline_options or () if flag.strip()]


def parse(pipeline_options: PipelineOptionsArg
          ) -> beam_options.PipelineOptions:
  """Beam options from a comma-separated string or a list of flags.

  Raises:
    ParameterError: for flags that no Beam option class knows, naming the
      closest known flag.
  """
  flags = option_list(pipeline_options)
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
  """Adds one DirectRunner worker process per CPU core unless told otherwise.

  Options that name another runner, or already set `--direct_num_workers`,
  are returned unchanged (as a list without empty entries).
  """
  given = option_list(pipeline_options)
  if not is_direct(given):
    return given
  if any(flag.startswith('--direct_num_workers') for flag in given):
    return given
  return given + [f'--direct_num_workers={os.cpu_count() or 1}',
                  '--direct_running_mode=multi_processing']


def with_quiet_workers(pipeline_options: PipelineOptionsArg) -> List[str]:
  """Sets Beam's SDK worker log level to WARNING unless told otherwise."""
  given = option_list(pipeline_options)
  if any(flag.startswith('--default_sdk_harness_log_level') for flag in given):
    return given
  return given + ['--default_sdk_harness_log_level=WARNING']


def pipeline(options: beam_options.PipelineOptions) -> beam.Pipeline:
  """A pipeline; DirectRunner options run on the FnApiRunner (no Prism)."""
  if options.view_as(beam_options.StandardOptions).runner not in (
      _DIRECT_RUNNERS):
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
