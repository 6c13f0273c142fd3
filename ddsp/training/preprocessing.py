"""Preprocessors: dataset features -> scaled conditioning for the networks.

Scaling (ddsp 3.7.0): `f0_scaled = hz_to_midi(f0_hz) / 127` (0 Hz -> 0) and
`ld_scaled = loudness_db / 80 + 1` ([-80, 0] dB -> [0, 1]); power is scaled
like loudness. Frame-wise outputs are [batch, n_frames, 1].
"""

from typing import Optional, Text, Tuple

import tensorflow as tf

from ddsp import core
from ddsp import registration
from ddsp import spectral_ops
from ddsp.training import nn

F0_RANGE = spectral_ops.F0_RANGE  # 127.0 (MIDI).
DB_RANGE = core.DB_RANGE  # 80.0 (dB).


# ------------------------------------------------------------------------------
# Scaling
# ------------------------------------------------------------------------------
def at_least_3d(x) -> tf.Tensor:
  """Adds axes until 3-D: scalar -> [1, 1, 1]; [T] -> [1, T, 1]; [B, T] ->
  [B, T, 1]."""
  x = core.tf_float32(x)
  if len(x.shape) == 0:
    x = x[tf.newaxis]
  if len(x.shape) == 1:
    x = x[tf.newaxis, :]
  if len(x.shape) == 2:
    x = x[:, :, tf.newaxis]
  return x


def scale_db(db):
  """[-80, 0] dB -> [0, 1]: `db / 80 + 1`."""
  return db / DB_RANGE + 1.0


def inv_scale_db(db_scaled):
  """Inverse of `scale_db`: `(db_scaled - 1) * 80`."""
  return (db_scaled - 1.0) * DB_RANGE


def scale_f0_hz(f0_hz):
  """Hz -> MIDI / 127 (0 Hz -> 0)."""
  return core.hz_to_midi(f0_hz) / F0_RANGE


def inv_scale_f0_hz(f0_scaled):
  """Inverse of `scale_f0_hz`: `midi_to_hz(f0_scaled * 127)`."""
  return core.midi_to_hz(f0_scaled * F0_RANGE)


def _resample_frames(x: tf.Tensor, time_steps: int) -> tf.Tensor:
  """[B, T, 1] -> [B, time_steps, 1] by linear interpolation (if T differs)."""
  if x.shape[1] == time_steps:
    return x
  return core.resample(x, time_steps)


# ------------------------------------------------------------------------------
# Preprocessors
# ------------------------------------------------------------------------------
@registration.register
class F0LoudnessPreprocessor(nn.DictLayer):
  """Scaled f0 and loudness at `time_steps` frames.

  With `compute_loudness` (default) the dataset's `loudness_db` is replaced by
  loudness computed from `audio` (`spectral_ops.compute_loudness`, n_fft 512,
  centred frames: 1001 for 4 s at 250 Hz), as in ddsp 3.7.0; f0 and loudness
  are then linearly resampled to `time_steps` (1001 -> 1000).
  `loudness_db` is a required input key even when it is recomputed.
  """

  _config_args = ('time_steps', 'frame_rate', 'sample_rate',
                  'compute_loudness')

  def __init__(self, time_steps: int = 1000, frame_rate: int = 250,
               sample_rate: int = 16000, compute_loudness: bool = True,
               **kwargs):
    super().__init__(**kwargs)
    self.time_steps = time_steps
    self.frame_rate = frame_rate
    self.sample_rate = sample_rate
    self.compute_loudness = compute_loudness

  def call(self, loudness_db, f0_hz, audio=None) -> [
      'f0_hz', 'loudness_db', 'f0_scaled', 'ld_scaled']:
    """Args: loudness_db, f0_hz [B, T] or [B, T, 1]; audio [B, N].

    Raises:
      ValueError: If loudness is to be computed and `audio` is missing.
    """
    if self.compute_loudness:
      if audio is None:
        raise ValueError('F0LoudnessPreprocessor(compute_loudness=True) needs '
                         'an "audio" feature to compute loudness from.')
      loudness_db = spectral_ops.compute_loudness(audio, self.sample_rate,
                                                  self.frame_rate)
    loudness_db = _resample_frames(at_least_3d(loudness_db), self.time_steps)
    f0_hz = _resample_frames(at_least_3d(f0_hz), self.time_steps)
    return f0_hz, loudness_db, scale_f0_hz(f0_hz), scale_db(loudness_db)

  @staticmethod
  def invert_scaling(f0_scaled, ld_scaled) -> Tuple[tf.Tensor, tf.Tensor]:
    """(f0_hz, loudness_db) from their scaled versions."""
    return inv_scale_f0_hz(f0_scaled), inv_scale_db(ld_scaled)


@registration.register
class F0PowerPreprocessor(nn.DictLayer):
  """Scaled f0 and frame power (dB) at `time_steps` frames.

  Power is the dataset's `power_db` if given, else computed from `audio`
  (`spectral_ops.compute_power` with `frame_size`, centred frames).
  """

  _config_args = ('time_steps', 'frame_rate', 'sample_rate', 'frame_size')

  def __init__(self, time_steps: int = 1000, frame_rate: int = 250,
               sample_rate: int = 16000, frame_size: int = 64, **kwargs):
    super().__init__(**kwargs)
    self.time_steps = time_steps
    self.frame_rate = frame_rate
    self.sample_rate = sample_rate
    self.frame_size = frame_size

  def call(self, f0_hz, power_db=None, audio=None) -> [
      'f0_hz', 'pw_db', 'f0_scaled', 'pw_scaled']:
    """Args: f0_hz, power_db [B, T] or [B, T, 1]; audio [B, N].

    Raises:
      ValueError: If neither `power_db` nor `audio` is given.
    """
    if power_db is not None:
      pw_db = power_db
    elif audio is not None:
      pw_db = spectral_ops.compute_power(audio, self.sample_rate,
                                         self.frame_rate, self.frame_size)
    else:
      raise ValueError('F0PowerPreprocessor needs a "power_db" or an "audio" '
                       'feature.')
    pw_db = _resample_frames(at_least_3d(pw_db), self.time_steps)
    f0_hz = _resample_frames(at_least_3d(f0_hz), self.time_steps)
    return f0_hz, pw_db, scale_f0_hz(f0_hz), scale_db(pw_db)

  @staticmethod
  def invert_scaling(f0_scaled, pw_scaled) -> Tuple[tf.Tensor, tf.Tensor]:
    """(f0_hz, pw_db) from their scaled versions."""
    return inv_scale_f0_hz(f0_scaled), inv_scale_db(pw_scaled)


@registration.register
class OnlineF0PowerPreprocessor(nn.DictLayer):
  """Frame power and (optionally) CREPE f0 computed from 16 kHz audio.

  No resampling: features have `get_framed_lengths(n_samples, frame_size,
  16000 // frame_rate, padding)` frames (201 for 4 s at 50 Hz, centred).
  Audio is `audio_16k` if given, else `audio` (assumed 16 kHz). f0 and
  confidence come from `crepe_model` (a `spectral_ops.PretrainedCREPE` built
  from `crepe_saved_model_path`: a capacity such as 'full' or a saved model
  path) with a stop-gradient, or from the features with `compute_f0=False`.
  Power comes from the audio, or with `compute_power=False` from the
  `power_db` feature (ddsp 3.7.0 failed with a NameError there).
  `f0_confidence` is passed through as given ([B, T]).
  """

  _config_args = ('frame_rate', 'frame_size', 'padding', 'compute_power',
                  'compute_f0', 'crepe_saved_model_path', 'viterbi')

  def __init__(self, frame_rate: int = 250, frame_size: int = 1024,
               padding: Text = 'center', compute_power: bool = True,
               compute_f0: bool = True,
               crepe_saved_model_path: Optional[Text] = 'full',
               viterbi: bool = False, **kwargs):
    """Constructor.

    Raises:
      ValueError: If `compute_f0` and no `crepe_saved_model_path`.
    """
    super().__init__(**kwargs)
    if compute_f0 and not crepe_saved_model_path:
      raise ValueError('OnlineF0PowerPreprocessor(compute_f0=True) needs a '
                       '`crepe_saved_model_path` (a CREPE capacity such as '
                       '"full", or a saved model path).')
    self.frame_rate = frame_rate
    self.frame_size = frame_size
    self.padding = padding
    self.compute_power = compute_power
    self.compute_f0 = compute_f0
    self.crepe_saved_model_path = crepe_saved_model_path
    self.viterbi = viterbi
    self.sample_rate = spectral_ops.CREPE_SAMPLE_RATE
    self.hop_size = self.sample_rate // frame_rate
    if crepe_saved_model_path:
      self.crepe_model = spectral_ops.PretrainedCREPE(crepe_saved_model_path,
                                                      self.hop_size)

  def call(self, audio, f0_hz=None, f0_confidence=None, audio_16k=None,
           power_db=None) -> [
               'f0_hz', 'pw_db', 'f0_scaled', 'pw_scaled', 'f0_confidence']:
    """Args: audio, audio_16k [B, N]; f0_hz, f0_confidence, power_db [B, T].

    Raises:
      ValueError: If a feature needed is missing, or a feature's frame count
        differs from the frames of the audio.
    """
    audio = core.tf_float32(audio if audio_16k is None else audio_16k)
    if self.compute_power:
      pw_db = spectral_ops.compute_power(audio, self.sample_rate,
                                         self.frame_rate, self.frame_size,
                                         padding=self.padding)
    elif power_db is not None:
      pw_db = power_db
    else:
      raise ValueError('OnlineF0PowerPreprocessor(compute_power=False) needs '
                       'a "power_db" feature.')
    if self.compute_f0:
      f0_hz, f0_confidence = self.crepe_model.predict_f0_and_confidence(
          audio, viterbi=self.viterbi, padding=self.padding)
      f0_hz = tf.stop_gradient(f0_hz)
      f0_confidence = tf.stop_gradient(f0_confidence)
    elif f0_hz is None or f0_confidence is None:
      raise ValueError('OnlineF0PowerPreprocessor(compute_f0=False) needs '
                       '"f0_hz" and "f0_confidence" features.')
    pw_db = at_least_3d(pw_db)
    f0_hz = at_least_3d(f0_hz)
    outputs = (f0_hz, pw_db, scale_f0_hz(f0_hz), scale_db(pw_db),
               f0_confidence)
    n_frames, _ = spectral_ops.get_framed_lengths(
        int(audio.shape[-1]), self.frame_size, self.hop_size, self.padding)
    for key, value in zip(self.output_keys, outputs):
      if value.shape[1] != n_frames:
        raise ValueError(
            f'OnlineF0PowerPreprocessor: "{key}" has {value.shape[1]} frames '
            f'but {audio.shape[-1]} samples of audio give {n_frames} frames '
            f'(frame_rate {self.frame_rate}, frame_size {self.frame_size}, '
            f'padding {self.padding!r}).')
    return outputs
