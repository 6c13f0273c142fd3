"""Describes the machine a benchmark runs on (shared by the bench scripts)."""

import os
import platform


def cpu_model() -> str:
  """The CPU model name from /proc/cpuinfo (or the platform's guess)."""
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or 'unknown CPU'


def describe() -> str:
  """'machine: N cores (M usable), <CPU model>; Python x.y.z'."""
  return (f'machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} '
          f'usable), {cpu_model()}; Python {platform.python_version()}')
