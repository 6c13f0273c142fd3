"""The console-script wrapper `ddsp.cli`: one line per error, exit codes."""
import errno
import os

import pytest

from ddsp import cli
from ddsp import validation


def _run(error, capsys, user_errors=(), failures=()):
  """Runs a main that raises `error`; returns (exit code, stderr lines)."""

  def main(argv):
    del argv
    raise error

  with pytest.raises(SystemExit) as exit_info:
    cli.run(main, 'ddsp_x', user_errors=user_errors, failures=failures,
            argv=['ddsp_x'])
  return exit_info.value.code, capsys.readouterr().err.splitlines()


@pytest.fixture(autouse=True)
def not_verbose(monkeypatch):
  monkeypatch.delenv(cli.VERBOSE_ENV, raising=False)


def test_ctrl_c_exits_130_with_one_line(capsys):
  code, err = _run(KeyboardInterrupt(), capsys)
  assert code == 130
  assert len(err) == 1 and err[0].startswith('ddsp_x: error: interrupted')


@pytest.mark.parametrize('number, code, words', [
    (errno.ENOSPC, 1, 'free some space'),
    (errno.EROFS, 2, 'choose a writable location'),
    (errno.EACCES, 2, 'choose a writable location'),
    (errno.ENOENT, 2, 'check the path'),
])
def test_disk_errors_name_the_path_and_the_fix(capsys, number, code, words):
  code_, err = _run(OSError(number, os.strerror(number), '/data/out.wav'),
                    capsys)
  assert code_ == code
  assert len(err) == 1
  assert err[0].startswith('ddsp_x: error: ')
  assert '/data/out.wav' in err[0] and words in err[0]
  assert os.strerror(number) in err[0]


def test_user_errors_are_one_line_with_exit_2(capsys):
  code, err = _run(validation.invalid('n', 'a positive integer', -1), capsys)
  assert code == 2
  assert err == ['ddsp_x: error: Received an invalid value for `n`, '
                 'expected a positive integer. Received: n=-1']
  code, err = _run(LookupError('no such bundle\n  details'), capsys,
                   user_errors=(LookupError,))
  assert (code, err) == (2, ['ddsp_x: error: no such bundle details'])


def test_failures_exit_1(capsys):
  code, err = _run(FloatingPointError('NaN loss at step 3'), capsys,
                   failures=(FloatingPointError,))
  assert (code, err) == (1, ['ddsp_x: error: NaN loss at step 3'])


def test_bugs_keep_their_traceback(capsys):
  with pytest.raises(TypeError):
    _run(TypeError('a bug'), capsys)


def test_verbose_env_keeps_the_traceback(capsys, monkeypatch):
  monkeypatch.setenv(cli.VERBOSE_ENV, '1')
  with pytest.raises(OSError):
    _run(OSError(errno.ENOSPC, 'No space left on device', '/x'), capsys)
  with pytest.raises(KeyboardInterrupt):
    _run(KeyboardInterrupt(), capsys)


def test_tensorflow_op_names_are_dropped():
  error = RuntimeError(
      'Could not read: {{function_node __wrapped__IteratorGetNext_output_'
      'types_1_device_/job:localhost/replica:0/task:0/device:CPU:0}} '
      'corrupted record at 0 [Op:IteratorGetNext] name: ')
  assert cli.one_line(error) == 'Could not read: corrupted record at 0'


def test_check_writable_dir_reports_a_read_only_mount(tiny_tmpfs):
  _, read_only = tiny_tmpfs
  with pytest.raises(OSError) as error:
    cli.check_writable_dir(str(read_only))
  assert error.value.errno == errno.EROFS
  assert error.value.filename == str(read_only)
  cli.check_writable_dir(str(tiny_tmpfs[0]))  # Writable: no error.
