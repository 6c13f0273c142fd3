"""TFRecord writing for `ddsp_prepare_tfrecord`, in bounded memory.

Examples are serialized straight to `tf.train.Example` wire format (no
TensorFlow), appended to spill files as they are made, and only pointers
(file, offset, length) are shuffled; the writer reads the records back in
shuffled order. So even Beam's in-memory runner holds pointers, not audio.
"""
from typing import Any, Dict, Iterator, Optional, Tuple
import uuid

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

METRICS_NAMESPACE = 'prepare-tfrecord'


def counter(name: str) -> Any:
  """A Beam counter of the pipeline's namespace."""
  return beam.metrics.Metrics.counter(METRICS_NAMESPACE, name)


def _varint(value: int) -> bytes:
  """Protocol-buffer base-128 varint."""
  out = bytearray()
  while value > 0x7F:
    out.append(value & 0x7F | 0x80)
    value >>= 7
  out.append(value)
  return bytes(out)


def _length_delimited(field_number: int, payload: bytes) -> bytes:
  """A protocol-buffer field of wire type 2 (bytes, string or message)."""
  return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def to_tf_example(features: Dict[str, np.ndarray]) -> bytes:
  """Serializes float features as a `tf.train.Example` of FloatLists.

  The wire format is written directly: `Example.features` (1) ->
  `Features.feature` map entries (1: key, 2: value) -> `Feature.float_list`
  (2) -> packed `FloatList.value` (1) as little-endian float32. Building
  `tf.train.FloatList` from Python instead costs ~40 ms per 4 s example,
  as much as every other step of the pipeline except CREPE together.
  """
  entries = b''.join(
      _length_delimited(1, _length_delimited(1, key.encode()) +
                        _length_delimited(2, _length_delimited(
                            2, _length_delimited(
                                1, np.asarray(value, '<f4').tobytes()))))
      for key, value in features.items())
  return _length_delimited(1, entries)


class SpillToTempFilesFn(beam.DoFn):
  """Appends records to one temporary file per bundle.

  Emits `(key, (file, offset, length))`: shuffling these pointers instead of
  the records keeps the runner's memory independent of the dataset size.
  """

  def __init__(self, temp_dir: str):
    self._temp_dir = temp_dir

  def start_bundle(self):
    self._path = FileSystems.join(self._temp_dir, uuid.uuid4().hex)
    self._file = None
    self._offset = 0

  def process(self, keyed_record: Tuple[str, bytes]) -> Iterator[Any]:
    key, record = keyed_record
    if self._file is None:
      self._file = FileSystems.create(self._path)
    self._file.write(record)
    yield key, (self._path, self._offset, len(record))
    self._offset += len(record)

  def finish_bundle(self):
    if self._file is not None:
      self._file.close()


class ReadSpilledFn(beam.DoFn):
  """Reads back records written by `SpillToTempFilesFn` and counts them."""

  _MAX_OPEN_FILES = 64

  def __init__(self, counter_name: str):
    self._counter_name = counter_name

  def start_bundle(self):
    self._files = {}

  def process(self, pointer: Tuple[str, int, int]) -> Iterator[bytes]:
    path, offset, length = pointer
    if path not in self._files:
      if len(self._files) >= self._MAX_OPEN_FILES:
        self.finish_bundle()
        self._files = {}
      self._files[path] = FileSystems.open(path)
    spill_file = self._files[path]
    spill_file.seek(offset)
    counter(self._counter_name).inc()
    yield spill_file.read(length)

  def finish_bundle(self):
    for spill_file in self._files.values():
      spill_file.close()


class WriteShuffledTFRecord(beam.PTransform):
  """Shuffles spilled-record pointers and writes the records as TFRecords."""

  def __init__(self, path: str, num_shards: Optional[int], counter_name: str):
    super().__init__()
    self._path = path
    self._num_shards = num_shards
    self._counter_name = counter_name

  def expand(self, pointers):
    return (pointers
            | 'Reshuffle' >> beam.Reshuffle()
            | 'ReadSpilled' >> beam.ParDo(ReadSpilledFn(self._counter_name))
            | 'WriteToTFRecord' >> beam.io.WriteToTFRecord(
                self._path, num_shards=self._num_shards or 0))
