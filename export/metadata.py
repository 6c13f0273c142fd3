"""`metadata.json` for exported models, and the zip the DDSP-VST plugin reads
it from (appended to the .tflite). TensorFlow-free.

The plugin opens the model buffer with `juce::ZipFile`, which finds the zip's
end record in the last megabyte and seeks to the central directory at the
offset written there, so the offsets must be absolute file offsets. Python's
`zipfile.ZipFile(tflite_path, 'a')` on the .tflite writes exactly that; a zip
built separately and concatenated would hold offsets relative to itself,
which Python reads and JUCE does not (vst-interface.md §3).
"""

import json
import pathlib
import struct
from typing import Any, Dict, Mapping, Union
import zipfile

METADATA_FILE = 'metadata.json'
# Keys in the order ddsp 3.7.0's `ddsp_export` writes them.
METADATA_KEYS = ('mean_min_pitch_note', 'mean_max_pitch_note',
                 'mean_min_pitch_note_hz', 'mean_max_pitch_note_hz',
                 'mean_min_power_note', 'mean_max_power_note', 'version',
                 'export_time', 'num_harmonics', 'num_noise_amps',
                 'frame_rate', 'frame_size', 'sample_rate')
# Keys the plugin reads.
PLUGIN_KEYS = ('mean_min_pitch_note_hz', 'mean_max_pitch_note_hz',
               'mean_min_power_note', 'mean_max_power_note', 'export_time',
               'version')

_END_RECORD = b'PK\x05\x06'
_CENTRAL_HEADER = b'PK\x01\x02'
_LOCAL_HEADER = b'PK\x03\x04'
_END_RECORD_FORMAT = '<4s4H2LH'
_JUCE_SEARCH_BYTES = 1 << 20

PathLike = Union[str, pathlib.Path]


class MetadataError(ValueError):
  """Missing, unreadable or misplaced metadata."""


def to_json(metadata: Mapping[str, Any]) -> str:
  """`json.dumps` of the keys in `METADATA_KEYS` order (as ddsp 3.7.0: one
  line, default separators, no trailing newline); other keys follow."""
  missing = [key for key in METADATA_KEYS if key not in metadata]
  if missing:
    raise MetadataError(f'metadata lacks keys {missing}.')
  ordered = {key: metadata[key] for key in METADATA_KEYS}
  ordered.update(metadata)
  return json.dumps(ordered)


def append_to_tflite(tflite_path: PathLike, metadata_json: str) -> None:
  """Appends a zip holding `metadata.json` to a .tflite file, in place."""
  with zipfile.ZipFile(tflite_path, 'a') as archive:
    archive.writestr(METADATA_FILE, metadata_json)


def _end_record(data: bytes):
  start = data.rfind(_END_RECORD, max(0, len(data) - _JUCE_SEARCH_BYTES - 22))
  if start < 0:
    raise MetadataError('no zip end record in the last megabyte.')
  fields = struct.unpack_from(_END_RECORD_FORMAT, data, start)
  return {'n_entries': fields[4], 'size': fields[5], 'offset': fields[6]}


def check_zip_offsets(tflite_path: PathLike) -> None:
  """Checks the appended zip's offsets are absolute, as JUCE needs.

  Raises:
    MetadataError: No zip end record within the last megabyte, or the central
      directory or a local header is not where the (absolute) offsets say.
  """
  data = pathlib.Path(tflite_path).read_bytes()
  end = _end_record(data)
  position = end['offset']
  for _ in range(end['n_entries']):
    if data[position:position + 4] != _CENTRAL_HEADER:
      raise MetadataError(
          f'{tflite_path}: the zip central directory is not at its written '
          f'offset {end["offset"]} (relative offsets? append with '
          f'zipfile.ZipFile(path, "a")).')
    name_size, extra_size, comment_size = struct.unpack_from('<3H', data,
                                                             position + 28)
    local_offset = struct.unpack_from('<L', data, position + 42)[0]
    if data[local_offset:local_offset + 4] != _LOCAL_HEADER:
      raise MetadataError(f'{tflite_path}: a zip entry is not at its written '
                          f'offset {local_offset}.')
    position += 46 + name_size + extra_size + comment_size


def read_from_tflite(tflite_path: PathLike) -> Dict[str, Any]:
  """The `metadata.json` appended to a .tflite (name matched
  case-insensitively, as the plugin does).

  Raises:
    MetadataError: No zip, no metadata.json, or not a JSON object.
  """
  try:
    with zipfile.ZipFile(tflite_path) as archive:
      names = [n for n in archive.namelist()
               if n.lower() == METADATA_FILE]
      if not names:
        raise MetadataError(f'{tflite_path}: the appended zip has no '
                            f'{METADATA_FILE}.')
      metadata = json.loads(archive.read(names[0]))
  except zipfile.BadZipFile as e:
    raise MetadataError(f'{tflite_path}: no metadata zip ({e}).') from e
  except json.JSONDecodeError as e:
    raise MetadataError(f'{tflite_path}: {METADATA_FILE} is not JSON '
                        f'({e}).') from e
  if not isinstance(metadata, dict):
    raise MetadataError(f'{tflite_path}: {METADATA_FILE} is not a JSON '
                        f'object.')
  return metadata
