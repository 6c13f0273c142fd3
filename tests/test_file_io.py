"""Tests of ddsp.file_io: files appear whole or not at all."""
import io
import os

import pytest

from ddsp import file_io


def test_write_bytes_replaces_the_file_and_leaves_no_temporary(tmp_path):
  path = tmp_path / 'a.bin'
  path.write_bytes(b'old')
  file_io.write_bytes(path, b'new')
  assert path.read_bytes() == b'new'
  assert os.listdir(tmp_path) == ['a.bin']


def test_failed_write_keeps_the_old_file(tmp_path):
  path = tmp_path / 'a.wav'
  path.write_bytes(b'old')
  with pytest.raises(RuntimeError, match='disk full'):
    with file_io.atomic_path(path) as temp_path:
      assert temp_path.endswith('.wav')
      assert os.path.dirname(temp_path) == str(tmp_path)
      with open(temp_path, 'wb') as f:
        f.write(b'half')
      raise RuntimeError('disk full')
  assert path.read_bytes() == b'old'
  assert os.listdir(tmp_path) == ['a.wav']


def test_atomic_path_gives_files_the_usual_permissions(tmp_path):
  path = tmp_path / 'a.txt'
  with file_io.atomic_path(path) as temp_path:
    with open(temp_path, 'w') as f:
      f.write('x')
  umask = os.umask(0)
  os.umask(umask)
  assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_atomic_directory_replaces_a_whole_directory(tmp_path):
  target = tmp_path / 'export'
  target.mkdir()
  (target / 'old.txt').write_text('old')
  with file_io.atomic_directory(target) as temp_dir:
    with open(os.path.join(temp_dir, 'model.tflite'), 'w') as f:
      f.write('new')
  assert os.listdir(target) == ['model.tflite']
  assert sorted(os.listdir(tmp_path)) == ['export']
  with pytest.raises(KeyError):
    with file_io.atomic_directory(target) as temp_dir:
      raise KeyError('interrupted')
  assert os.listdir(target) == ['model.tflite']
  assert sorted(os.listdir(tmp_path)) == ['export']


class _FakeBucket:
  """An object store: objects appear when their writer closes."""

  def __init__(self):
    self.objects = {}
    self.fail_writes = False

  def create(self, url):
    bucket = self

    class Writer(io.BytesIO):

      def close(self):
        if not bucket.fail_writes:
          bucket.objects[url] = self.getvalue()
        super().close()

      def write(self, data):
        if bucket.fail_writes:
          raise OSError('connection reset')
        return super().write(data)

    return Writer()

  def rename(self, src, dst):
    self.objects[dst] = self.objects.pop(src)

  def delete(self, url):
    self.objects.pop(url, None)


def test_urls_are_written_to_a_temporary_object_then_renamed(monkeypatch):
  bucket = _FakeBucket()
  monkeypatch.setattr(file_io, '_remote_io', lambda: (
      bucket.create, bucket.rename, bucket.delete))
  url = 'gs://bucket/data/meta.json'
  assert file_io.is_url(url) and not file_io.is_url('/data/meta.json')
  file_io.write_text(url, '{"a": 1}')
  assert bucket.objects == {url: b'{"a": 1}'}
  bucket.fail_writes = True
  with pytest.raises(OSError, match='connection reset'):
    file_io.write_text(url, '{"a": 2}')
  assert bucket.objects == {url: b'{"a": 1}'}
  bucket.fail_writes = False
  with file_io.atomic_path(url) as temp_path:
    with open(temp_path, 'w') as f:
      f.write('uploaded')
  assert bucket.objects == {url: b'uploaded'}
