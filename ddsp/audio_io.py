"""Audio file loading: the one place audio is read, validated, downmixed and resampled.

Everything that turns a file into samples (data preparation, demos, export)
goes through this module, so every caller gets the same behaviour:

* any format libsndfile reads (WAV incl. 24-bit WAVE_FORMAT_EXTENSIBLE, FLAC,
  OGG/Vorbis, MP3, AIFF, ...), decoded to float32 in [-1, 1);
* any channel count, downmixed to mono by the mean of the channels;
* any sample rate, resampled with soxr ('VHQ'); the output length is
  `floor(n_samples * target_rate / source_rate)`, as in ddsp 3.7.0;
* one error type, `AudioLoadError`, whose message names the file and what was
  wrong with it (empty, not audio, corrupt, no samples, NaN);
* truncated files (header promises more data than the file holds) load the
  samples that are present and log a warning.

The module is deliberately free of TensorFlow.
"""
import io
import logging
import os
import re
from typing import BinaryIO, Optional, Tuple, Union

import numpy as np
import soundfile as sf
import soxr

from ddsp import validation

_LOG = logging.getLogger(__name__)

AudioSource = Union[str, os.PathLike, BinaryIO]

# Quality preset passed to soxr ('VHQ' is its best; cost is negligible next
# to feature extraction: ~20 ms per 20 s of 44.1 kHz audio).
RESAMPLE_QUALITY = 'VHQ'
# Fraction of samples at (or within 1e-3 of) full scale above which a file is
# reported as clipped.
CLIPPING_WARN_FRACTION = 0.01

# libsndfile logs header sizes it had to correct as "data : 160000 (should be
# 32001)": the header promised more bytes than the file holds.
_TRUNCATED_CHUNK = re.compile(r'^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)',
                              re.MULTILINE)


# Problems with audio arrays are reported with the library's one error type.
AudioError = validation.ParameterError


class AudioLoadError(AudioError):
  """An audio file could not be loaded.

  Attributes:
    path: The file that failed, as given by the caller.
    reason: What was wrong, in a few words (no file name).
  """

  def __init__(self, path: str, reason: str):
    super().__init__(f'Could not load audio file {path!r}: {reason}')
    self.path = path
    self.reason = reason


def _source_name(source: AudioSource) -> str:
  if isinstance(source, (str, os.PathLike)):
    return os.fspath(source)
  return str(getattr(source, 'name', '<file object>'))


def _source_is_empty(source: AudioSource) -> bool:
  if isinstance(source, (str, os.PathLike)):
    return os.path.getsize(source) == 0
  position = source.tell()
  source.seek(0, io.SEEK_END)
  empty = source.tell() == 0
  source.seek(position)
  return empty


def validate_audio(audio: np.ndarray, name: str = 'audio') -> np.ndarray:
  """Checks that an array holds usable audio samples.

  Args:
    audio: Samples, [n_samples] (mono) or [n_samples, n_channels].
    name: How to call the array in error messages.

  Returns:
    The same samples as a float32 array.

  Raises:
    AudioError: if the array is not 1-D or 2-D, is not real-valued, is empty,
      or contains NaN or infinite values (`validation.valid_audio`).
  """
  return validation.valid_audio(audio, name, ndims=(1, 2), layout='channels')


def to_mono(audio: np.ndarray) -> np.ndarray:
  """Downmixes [n_samples, n_channels] audio to [n_samples] by channel mean.

  1-D audio is returned unchanged.
  """
  audio = validate_audio(audio)
  if audio.ndim == 1:
    return audio
  return audio.mean(axis=1, dtype=np.float32)


def resample(audio: np.ndarray, source_rate: int, target_rate: int,
             quality: str = RESAMPLE_QUALITY) -> np.ndarray:
  """Resamples audio with soxr.

  Args:
    audio: Samples, [n_samples] or [n_samples, n_channels].
    source_rate: Sample rate of `audio` in Hz.
    target_rate: Wanted sample rate in Hz.
    quality: soxr quality preset ('HQ' or 'VHQ').

  Returns:
    float32 samples at `target_rate`, exactly
    `floor(n_samples * target_rate / source_rate)` long (soxr's own length,
    which rounds, is trimmed or zero-padded by at most one sample).
  """
  audio = validate_audio(audio)
  validation.positive_int(source_rate, 'source_rate')
  validation.positive_int(target_rate, 'target_rate')
  if source_rate == target_rate:
    return audio
  expected = audio.shape[0] * int(target_rate) // int(source_rate)
  out = soxr.resample(audio, int(source_rate), int(target_rate),
                      quality=quality).astype(np.float32, copy=False)
  if out.shape[0] > expected:
    return out[:expected]
  missing = [(0, expected - out.shape[0])] + [(0, 0)] * (out.ndim - 1)
  return np.pad(out, missing)


def _warn_if_truncated(name: str, libsndfile_log: str,
                       present_secs: float) -> None:
  match = _TRUNCATED_CHUNK.search(libsndfile_log or '')
  if match and int(match.group(2)) < int(match.group(1)):
    declared_secs = present_secs * int(match.group(1)) / int(match.group(2))
    _LOG.warning(
        '%s is truncated: its header declares %.2f s of audio but only %.2f s '
        'is present; loading the %.2f s that is there.', name, declared_secs,
        present_secs, present_secs)


def read_audio(source: AudioSource, mono: bool = True
               ) -> Tuple[np.ndarray, int]:
  """Decodes an audio file at its own sample rate.

  Args:
    source: A path, or a binary file object open for reading (e.g. from
      `tf.io.gfile.GFile` or `FileSystems.open` for remote storage).
    mono: Downmix to one channel by the mean of the channels.

  Returns:
    (audio, sample_rate): float32 samples in [-1, 1], [n_samples] when `mono`
    else [n_samples, n_channels]; the file's sample rate in Hz.

  Raises:
    AudioLoadError: the file is missing, empty, not audio, corrupt, holds no
      samples, or holds NaN/infinite samples.
  """
  name = _source_name(source)
  try:
    if _source_is_empty(source):
      raise AudioLoadError(name, 'file is empty (0 bytes)')
    info = sf.info(source)
    if not isinstance(source, (str, os.PathLike)):
      source.seek(0)
    audio, sample_rate = sf.read(source, dtype='float32', always_2d=True)
  except FileNotFoundError:
    raise AudioLoadError(name, 'file not found') from None
  except sf.LibsndfileError as e:
    if 'Format not recognised' in str(e) or 'unknown format' in str(e):
      reason = 'not a recognised audio file (libsndfile: format not recognised)'
    else:
      reason = f'corrupt or unsupported audio ({e.error_string})'
    raise AudioLoadError(name, reason) from e
  except (RuntimeError, sf.SoundFileError) as e:
    raise AudioLoadError(name, f'corrupt or unsupported audio ({e})') from e
  _warn_if_truncated(name, info.extra_info, audio.shape[0] / sample_rate)
  if audio.shape[0] == 0:
    raise AudioLoadError(name, 'file holds no audio samples (0 frames)')
  try:
    audio = validate_audio(audio)
  except AudioError as e:
    raise AudioLoadError(name, str(e)) from e
  clipped = np.mean(np.abs(audio) >= 0.999)
  if clipped > CLIPPING_WARN_FRACTION:
    _LOG.warning('%s looks clipped: %.0f%% of its samples are at full '
                    'scale.', name, 100 * clipped)
  return (to_mono(audio) if mono else audio), int(sample_rate)


def load_audio(source: AudioSource, sample_rate: Optional[int] = None,
               mono: bool = True) -> np.ndarray:
  """Loads an audio file as float32 samples at a given sample rate.

  Args:
    source: A path or a binary file object (see `read_audio`).
    sample_rate: Wanted rate in Hz; None keeps the file's own rate.
    mono: Downmix to one channel by the mean of the channels.

  Returns:
    float32 samples, [n_samples] when `mono` else [n_samples, n_channels].

  Raises:
    AudioLoadError: see `read_audio`.
  """
  audio, file_rate = read_audio(source, mono=mono)
  if sample_rate is None:
    return audio
  return resample(audio, file_rate, sample_rate)
