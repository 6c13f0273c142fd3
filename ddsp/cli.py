"""The wrapper of every console script: one-line errors and exit codes.

`run(main, name)` runs an absl `main` like `absl.app.run` and turns failures
the user can fix into one line on stderr, `<name>: error: <cause>; <fix>`,
without a traceback:

| failure                                          | exit |
|--------------------------------------------------|------|
| Ctrl-C (`KeyboardInterrupt`)                     | 130  |
| disk full (`OSError` ENOSPC, EDQUOT, EFBIG)      | 1    |
| not writable (`OSError` EROFS, EACCES, EPERM)    | 2    |
| missing file or directory (ENOENT, ENOTDIR, ...) | 2    |
| bad settings (`ParameterError` and the command's | 2    |
| own `user_errors`, e.g. gin or bundle errors)    |      |
| the command's `failures` (e.g. a NaN loss)       | 1    |

Anything else is a bug and keeps its traceback. With `DDSP_VERBOSE=1` in the
environment (or the command's `--verbose` / `-v=1` flag) every error keeps
its traceback. Commands write their outputs atomically (`ddsp.file_io`), so
an interrupted or failed command leaves no partial file.

No TensorFlow is imported here (the on-device runtime uses it).
"""

import errno
import os
import re
import sys
import tempfile
from typing import Callable, NoReturn, Optional, Sequence, Type

from absl import app
from absl import flags

from ddsp import validation

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
VERBOSE_ENV = 'DDSP_VERBOSE'

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)


def verbose() -> bool:
  """Whether the user asked for tracebacks (env var, --verbose or -v>=1)."""
  if os.environ.get(VERBOSE_ENV, '').lower() not in ('', '0', 'false'):
    return True
  if not flags.FLAGS.is_parsed():
    return False
  if 'verbose' in flags.FLAGS and flags.FLAGS.verbose:
    return True
  return flags.FLAGS.verbosity >= 1


def fail(name: str, message: str, exit_code: int) -> NoReturn:
  """Prints `<name>: error: <message>` to stderr and exits."""
  print(f'{name}: error: {message}', file=sys.stderr, flush=True)
  sys.exit(exit_code)


def os_error_message(error: OSError) -> str:
  """What went wrong with which path, and the fix, for disk errors."""
  path = error.filename or 'the output'
  if error.errno in _FULL:
    return (f'no space left to write {path} ({error.strerror}); free some '
            'space or write to another location.')
  if error.errno in _NOT_WRITABLE:
    return (f'cannot write {path} ({error.strerror}); choose a writable '
            'location or fix its permissions.')
  if error.errno in _MISSING:
    return f'{path}: {error.strerror}; check the path.'
  return f'{path}: {error.strerror or error}.'


def exit_code(error: OSError) -> int:
  """Exit status of an OSError: 1 for a full disk, 2 for the user's paths."""
  return EXIT_FAILED if error.errno in _FULL else EXIT_USAGE


def run(main: Callable[[Sequence[str]], None], name: str,
        user_errors: Sequence[Type[BaseException]] = (),
        failures: Sequence[Type[BaseException]] = (),
        argv: Optional[Sequence[str]] = None) -> None:
  """Runs `main` through `absl.app.run` with the errors of the table above.

  Args:
    main: The command's absl main (receives argv).
    name: The command name that starts each error line.
    user_errors: Further exception types whose message says what to fix
      (reported as settings errors, exit 2).
    failures: Exception types of runs that failed for a reason their
      message explains, other than the settings (exit 1).
    argv: Command line (default `sys.argv`).
  """
  try:
    app.run(main, argv=argv)
  except KeyboardInterrupt:
    if verbose():
      raise
    fail(name, 'interrupted (Ctrl-C); no partial output was kept. Run the '
         'command again to start over.', EXIT_INTERRUPTED)
  except OSError as e:
    if verbose():
      raise
    if e.errno is None:  # Raised by our own checks, with the cause and fix.
      fail(name, one_line(e), EXIT_USAGE)
    fail(name, os_error_message(e), exit_code(e))
  except (validation.ParameterError, *user_errors) as e:
    if verbose():
      raise
    fail(name, one_line(e), EXIT_USAGE)
  except tuple(failures) as e:
    if verbose():
      raise
    fail(name, one_line(e), EXIT_FAILED)


def check_arguments(argv: Sequence[str], required: Sequence[str]) -> None:
  """Raises `app.UsageError` for positional arguments or an empty flag.

  Args:
    argv: The command line `main` received (argv[0] is the program).
    required: Names of flags that must be set (non-empty).
  """
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  for name in required:
    if not flags.FLAGS[name].value:
      raise app.UsageError(f'--{name} is required.')


def one_line(error: BaseException) -> str:
  """An exception's message on one line, without TensorFlow's op names
  (`{{function_node ...}}`, `[Op:...]`) and gin's call notes."""
  lines = [line.strip() for line in str(error).splitlines()
           if line.strip() and
           not line.strip().startswith('In call to configurable')]
  message = ' '.join(lines) or type(error).__name__
  message = re.sub(r'\{\{function_node [^}]*\}\}\s*', '', message)
  return re.sub(r'\s*\[Op:[^\]]*\]( name:\s*\S*)?', '', message).strip()


def check_writable_dir(directory: str) -> None:
  """Checks, before any work, that a file can be created in `directory`
  (an existing local directory; URLs are not checked).

  A file is created and deleted, which, unlike `os.access`, also holds for
  root and read-only mounts.

  Raises:
    OSError: with the errno and the directory (EROFS, EACCES, ENOENT, ...).
  """
  if '://' in directory:
    return
  try:
    with tempfile.TemporaryFile(dir=directory or '.'):
      pass
  except OSError as e:
    raise OSError(e.errno, e.strerror, directory) from e
