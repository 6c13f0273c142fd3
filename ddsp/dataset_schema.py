"""The schema of TFRecord training examples, shared by writer and reader.

`ddsp_prepare_tfrecord` (the writer) and `ddsp.training.data.TFRecordProvider`
(the reader) both take their feature keys and lengths from `ExampleSchema`,
so they cannot disagree. Keys and lengths are those of ddsp 3.7.0; every
feature is a float32 `FloatList`:

  audio                             [example_secs * sample_rate]
  audio_16k                         [example_secs * 16000]
  f0_hz, f0_confidence, loudness_db [example_secs * frame_rate (+1 centred)]

Features are computed at 16 kHz with a hop of `16000 / frame_rate` samples,
which must be a whole number (`framing.exact_hop_size`): other frame rates
would put frame k at `k * floor(hop)` samples instead of `k / frame_rate`
seconds (3.7.0 silently drifted, e.g. 1208 instead of 1200 frames at 300 Hz).

Next to the shards the writer leaves a small JSON record,
`<dir>/schema-<name>.json` (never matched by a `<name>*` reading pattern),
with the settings, the feature lengths and the shard prefixes; the reader
checks its own settings against it. No TensorFlow is needed here.
"""

import dataclasses
import json
import math
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ddsp import framing
from ddsp import validation
from ddsp.version import __version__

# Sample rate of `audio_16k` and of every feature computation (Hz).
FEATURE_SAMPLE_RATE = 16000
# CREPE frame: the frame size of the f0 features, which sets their count.
F0_FRAME_SIZE = 1024
AUDIO_KEYS = ('audio', 'audio_16k')
FRAME_KEYS = ('f0_hz', 'f0_confidence', 'loudness_db')

METADATA_KIND = 'schema'
_FORMAT = 'ddsp-tfrecord-schema'
_FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class ExampleSchema:
  """Settings that fix the keys and lengths of training examples.

  Attributes:
    example_secs: Seconds per example; 0 for whole files or chunks (examples
      of varying length, which `TFRecordProvider` cannot read).
    sample_rate: Rate of the `audio` feature in Hz.
    frame_rate: Feature frames per second; 0 for audio-only examples. Must
      divide 16000.
    centered: Features framed with 'center' padding (one more frame).
  """
  example_secs: float = 4
  sample_rate: int = 16000
  frame_rate: int = 250
  centered: bool = False

  def __post_init__(self):
    validation.non_negative_number(self.example_secs, 'example_secs')
    validation.positive_int(self.sample_rate, 'sample_rate')
    validation.non_negative_number(self.frame_rate, 'frame_rate')
    if self.frame_rate:
      framing.exact_hop_size(FEATURE_SAMPLE_RATE, self.frame_rate)

  @property
  def keys(self) -> tuple:
    """Feature keys of an example."""
    return AUDIO_KEYS + (FRAME_KEYS if self.frame_rate else ())

  @property
  def padding(self) -> str:
    """'center' or 'same' framing of the features."""
    return 'center' if self.centered else 'same'

  def rate(self, key: str) -> float:
    """Samples or frames per second of feature `key`."""
    return {'audio': self.sample_rate,
            'audio_16k': FEATURE_SAMPLE_RATE}.get(key, self.frame_rate)

  def rate_name(self, key: str) -> str:
    """The rate of feature `key`, for messages ('frame_rate=250', ...)."""
    return {'audio': f'sample_rate={self.sample_rate}',
            'audio_16k': f'{FEATURE_SAMPLE_RATE} Hz (audio_16k)'}.get(
                key, f'frame_rate={self.frame_rate:g}')

  def lengths(self) -> Dict[str, int]:
    """Length of every feature of one example (as ddsp 3.7.0's reader).

    Raises:
      ParameterError: without a fixed example length (example_secs = 0).
    """
    if not self.example_secs:
      raise validation.invalid('example_secs', 'a positive number (examples '
                               'of a fixed length)', self.example_secs)
    audio_16k = int(self.example_secs * FEATURE_SAMPLE_RATE)
    lengths = {'audio': int(self.example_secs * self.sample_rate),
               'audio_16k': audio_16k}
    if self.frame_rate:
      n_frames, _ = framing.get_framed_lengths(
          audio_16k, F0_FRAME_SIZE,
          framing.exact_hop_size(FEATURE_SAMPLE_RATE, self.frame_rate),
          self.padding)
      lengths.update({key: n_frames for key in FRAME_KEYS})
    return lengths

  def window(self, key: str, hop_secs: float) -> tuple:
    """(window length, hop) in samples or frames of feature `key`.

    The writer cuts every feature into windows of `lengths()[key]` every
    `hop_secs`; both must be whole numbers at the feature's rate.

    Raises:
      ParameterError: naming example_secs or hop_secs when they do not give
        whole samples or frames at some rate.
    """
    rate, rate_name = self.rate(key), self.rate_name(key)
    validation.whole_count(self.example_secs, rate, 'example_secs', rate_name)
    hop = validation.whole_count(hop_secs, rate, 'hop_secs', rate_name)
    if hop < 1:
      raise validation.invalid('hop_secs', 'a positive number of seconds',
                               hop_secs)
    return self.lengths()[key], hop

  def settings(self) -> str:
    """The settings, as keyword arguments of TFRecordProvider."""
    return (f'example_secs={self.example_secs:g}, sample_rate='
            f'{self.sample_rate}, frame_rate={self.frame_rate:g}, '
            f'centered={self.centered}')

  def to_json(self, shard_prefixes: Iterable[str],
              examples: Dict[str, int]) -> str:
    """The metadata record written next to the shards."""
    record = dict(format=_FORMAT, version=_FORMAT_VERSION,
                  **dataclasses.asdict(self),
                  features=self.lengths() if self.example_secs else None,
                  shard_prefixes=sorted(os.path.basename(p)
                                        for p in shard_prefixes),
                  examples=examples, ddsp_version=__version__)
    return json.dumps(record, indent=2) + '\n'


def infer(found: Dict[str, int]) -> Optional[ExampleSchema]:
  """Settings that give feature lengths `found`, if any do.

  Uncentred framing is tried first; a frame count that fits both (e.g. 2
  frames in 1 s) is read as uncentred.
  """
  if not found.get('audio_16k'):
    return None
  example_secs = found['audio_16k'] / FEATURE_SAMPLE_RATE
  sample_rate = found.get('audio', found['audio_16k']) / example_secs
  if not math.isclose(sample_rate, round(sample_rate), abs_tol=1e-6):
    return None
  n_frames = found.get('f0_hz', found.get('loudness_db'))
  candidates = ([(0, False)] if n_frames is None else
                [(n_frames / example_secs, False),
                 ((n_frames - 1) / example_secs, True)])
  for frame_rate, centered in candidates:
    if frame_rate != int(frame_rate):
      continue
    try:
      schema = ExampleSchema(example_secs, int(round(sample_rate)),
                             int(frame_rate), centered)
      lengths = schema.lengths()
      if all(found[key] == lengths[key] for key in lengths if key in found):
        return schema
    except validation.ParameterError:
      continue
  return None


def metadata_path(output_tfrecord_path: str) -> str:
  """`<dir>/schema-<name>.json` for output prefix `<dir>/<name>`."""
  directory, name = os.path.split(output_tfrecord_path)
  return os.path.join(directory, f'{METADATA_KIND}-{name}.json')


def read_metadata(text: str) -> Dict[str, Any]:
  """Parses a metadata record; `schema` holds its ExampleSchema."""
  record = json.loads(text)
  if record.get('format') != _FORMAT:
    raise validation.ParameterError('Not a ddsp TFRecord schema record.')
  record['schema'] = ExampleSchema(
      **{field.name: record[field.name]
         for field in dataclasses.fields(ExampleSchema)})
  return record


def match_metadata(shard_paths: Iterable[str],
                   list_records: Callable[[str], List[Tuple[str, str]]]
                   ) -> List[Dict[str, Any]]:
  """Metadata records whose shard prefixes start the names of `shard_paths`.

  Args:
    shard_paths: Shard files that a reader matched.
    list_records: directory -> [(path, text)] of the metadata files in it.

  Returns:
    The parsed records (`read_metadata`, plus `path` and `shards`: the
    matched shard paths it owns), one per dataset.
  """
  by_directory: Dict[str, List[str]] = {}
  for path in shard_paths:
    by_directory.setdefault(os.path.dirname(path), []).append(path)
  records = []
  for directory, paths in sorted(by_directory.items()):
    for record_path, text in list_records(directory):
      try:
        record = read_metadata(text)
      except (ValueError, KeyError, TypeError):
        continue
      owned = [p for p in paths
               if any(os.path.basename(p).startswith(prefix + '-')
                      for prefix in record['shard_prefixes'])]
      if owned:
        records.append(dict(record, path=record_path, shards=owned))
  return records
