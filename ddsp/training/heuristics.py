"""Heuristic MIDI transcription of synthesizer controls (EXPERIMENTAL).

A binarizer turns a controls dict (f0 and amplitudes or power per frame)
into a boolean note-on vector; each run of "on" frames becomes a note with
the pitch of `pick_f0` (velocity 127). Gin files pick the functions
(`eval/heuristic.gin`: `midi_heuristic`, `mean_f0`, `median_amps`).

Controls read from the dict (frame rate 250 Hz unless given):
- f0: `f0_hz` [n_frames(, 1)] in Hz;
- amplitudes: `harmonic/controls/amplitudes` (the Harmonic synth's scaled
  amplitude) or else `amps`, linear, [n_frames(, 1)];
- power: `power_db` or `pw_db` [n_frames(, 1)] in dB.

Note sequences are `NoteSequence` objects below, with the attribute names of
`note_seq.NoteSequence` (`notes[i].pitch`, `.start_time`, `.end_time`,
`.velocity`; `total_time`), so `note_seq` is not needed.
"""
import dataclasses
from typing import Any, Callable, Dict, List, Tuple

import gin
import numpy as np
import tensorflow as tf

from ddsp import core

DDSP_DEFAULT_FRAME_RATE = 250
# A pitch change of more than this many semitones, seen at every stride of
# `strided_freq_change`, starts a new note.
_FREQ_CHANGE_SEMITONES = 0.75
_MIDI_HEURISTIC_MIN_FRAMES = 10
# Frames this far below the loudest frame of an example are silent (dB).
_ON_RANGE_DB = 40.0
# Slack for comparing a frame with its window's statistics (dB).
_DB_TOLERANCE = 1e-3


@dataclasses.dataclass
class Note:
  pitch: int
  start_time: float
  end_time: float
  velocity: int = 127


@dataclasses.dataclass
class NoteSequence:
  """Notes with MIDI pitch and times in seconds (a `note_seq` look-alike)."""
  notes: List[Note] = dataclasses.field(default_factory=list)
  total_time: float = 0.0

  def add_note(self, pitch: int, start_time: float, end_time: float,
               velocity: int = 127) -> Note:
    note = Note(int(pitch), float(start_time), float(end_time), int(velocity))
    self.notes.append(note)
    return note


# ------------------------------------------------------------------------------
# Vector helpers
# ------------------------------------------------------------------------------
def active_runs(is_on) -> List[Tuple[int, int]]:
  """(start, stop) frame indices (stop exclusive) of each run of True."""
  edges = np.diff(np.concatenate([[0], np.asarray(is_on, np.int8), [0]]))
  return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def get_active_frame_indices(piano_roll) -> np.ndarray:
  """Indices of the frames of a [n_frames, n_pitches] roll with any note."""
  return np.flatnonzero(np.any(np.asarray(piano_roll) > 0, axis=-1))


def window_array(array, sr: int, win_len: float,
                 frame_step_ratio: float = 0.75, ax: int = 0) -> tf.Tensor:
  """Overlapping windows of `array` along axis `ax`.

  The array is front-padded with `int(sr * win_len * (1 - frame_step_ratio))`
  zeros, then framed with window `int(sr * win_len)` and hop
  `int(sr * win_len * frame_step_ratio)`, zero-padding the end.

  Args:
    array: Array to frame.
    sr: Samples (or frames) per second of `array`.
    win_len: Window length in seconds.
    frame_step_ratio: Hop as a fraction of the window.
    ax: Axis to frame.

  Returns:
    Framed tensor: axis `ax` becomes [n_windows, window].
  """
  frame_length = int(sr * win_len)
  frame_step = int(sr * win_len * frame_step_ratio)
  front = int(sr * win_len * (1 - frame_step_ratio))
  array = np.asarray(array)
  paddings = [(0, 0)] * array.ndim
  paddings[ax] = (front, 0)
  return tf.signal.frame(np.pad(array, paddings), frame_length, frame_step,
                         pad_end=True, axis=ax)


def pad_for_frame(vec, mode: str, frame_width: int, axis: int = 0
                  ) -> np.ndarray:
  """Pads so that framing with `frame_width` gives one frame per element.

  Args:
    vec: Array to pad.
    mode: 'front' (w - 1 before), 'center' (w // 2 before, w - w // 2 - 1
      after) or 'end' (w - 1 after).
    frame_width: Window width w.
    axis: Axis to pad.

  Returns:
    The padded array; padding repeats the first/last value, cast to int.

  Raises:
    ValueError: for an unknown mode.
  """
  before = {'front': frame_width - 1, 'center': frame_width // 2, 'end': 0}
  if mode not in before:
    raise ValueError(f"Received an invalid value for `mode`, expected 'front',"
                     f" 'center' or 'end'. Received: mode={mode!r}")
  vec = np.asarray(vec)
  n_before = before[mode]
  n_after = frame_width - 1 - n_before
  first = np.take(vec, [0], axis=axis).astype(int).astype(vec.dtype)
  last = np.take(vec, [-1], axis=axis).astype(int).astype(vec.dtype)
  return np.concatenate([np.repeat(first, n_before, axis=axis), vec,
                         np.repeat(last, n_after, axis=axis)], axis=axis)


def _sliding(vec: np.ndarray, frame_width: int, pad_mode: str) -> np.ndarray:
  """[n_frames, frame_width] windows, one per frame of a 1-D vector."""
  padded = pad_for_frame(vec, pad_mode, frame_width)
  return np.lib.stride_tricks.sliding_window_view(padded, frame_width)


def remove_short(is_on_vec, min_samples: int = 20,
                 glue_back: bool = False) -> np.ndarray:
  """Turns off runs of True shorter than `min_samples` (in place).

  Args:
    is_on_vec: 1-D boolean array; modified in place.
    min_samples: Shortest run kept.
    glue_back: Instead of removing a short run that follows an earlier run,
      join it to that run (fill the gap between them).

  Returns:
    `is_on_vec`.
  """
  runs = active_runs(is_on_vec)
  previous_stop = None
  for start, stop in runs:
    if stop - start < min_samples:
      if glue_back and previous_stop is not None:
        is_on_vec[previous_stop:start] = True
        previous_stop = stop
        continue
      is_on_vec[start:stop] = False
    else:
      previous_stop = stop
  return is_on_vec


# ------------------------------------------------------------------------------
# Reading controls
# ------------------------------------------------------------------------------
def _vector(x) -> np.ndarray:
  return np.asarray(x, np.float32).reshape(-1)


def _f0_hz(controls) -> np.ndarray:
  return _vector(controls['f0_hz'])


def _amps(controls) -> np.ndarray:
  harmonic = controls.get('harmonic', {}).get('controls', {})
  return _vector(harmonic.get('amplitudes', controls.get('amps')))


def _power_db(controls) -> np.ndarray:
  return _vector(controls['power_db'] if 'power_db' in controls
                 else controls['pw_db'])


def _not_low_outlier(x_db: np.ndarray, frame_width: int, num_devs: float,
                     pad_mode: str) -> np.ndarray:
  """On where x is loud enough overall and not a dip in its window.

  Off where x is more than `_ON_RANGE_DB` below the example's maximum
  (silence), or more than `num_devs` standard deviations below the mean of
  the `frame_width` frames around it (a gap between notes).
  """
  x_db = x_db.astype(np.float64)
  windows = _sliding(x_db, frame_width, pad_mode)
  local = windows.mean(-1) - num_devs * windows.std(-1) - _DB_TOLERANCE
  return (x_db > x_db.max() - _ON_RANGE_DB) & (x_db >= local)


# ------------------------------------------------------------------------------
# Binarizers (controls -> note-on vector)
# ------------------------------------------------------------------------------
@gin.register
def amp_pooled_outliers(controls, frame_width: int = 80, num_devs: float = 2,
                        pad_mode: str = 'center') -> np.ndarray:
  """Note on where the amplitude (dB) is not a low outlier.

  A frame is off if its amplitude is more than 40 dB below the example's
  loudest frame, or more than `num_devs` standard deviations below the mean
  of the `frame_width` frames around it.
  """
  amps_db = np.asarray(core.amplitude_to_db(_amps(controls)))
  return _not_low_outlier(amps_db, frame_width, num_devs, pad_mode)


@gin.register
def power_pooled_outliers(controls, frame_width: int = 80,
                          num_devs: float = 2.5,
                          pad_mode: str = 'center') -> np.ndarray:
  """`amp_pooled_outliers` on `power_db` (3.7.0 crashed: LD_RANGE)."""
  return _not_low_outlier(_power_db(controls), frame_width, num_devs,
                          pad_mode)


@gin.register
def strided_freq_change(controls, frame_widths=(2, 4, 8, 16, 32),
                        pad_mode: str = 'front') -> np.ndarray:
  """Frames where f0 moved by > 0.75 semitone over every stride in widths.

  For each width w, frame t is compared with the frame w - 1 before it
  (after `pad_for_frame`); a change must be seen at all widths, which
  picks out jumps and ignores slow glides and vibrato.
  """
  f0_midi = np.asarray(core.hz_to_midi(_f0_hz(controls)))
  changed = np.ones_like(f0_midi, bool)
  for width in frame_widths:
    windows = _sliding(f0_midi, width, pad_mode)
    changed &= np.abs(windows[:, -1] - windows[:, 0]) > _FREQ_CHANGE_SEMITONES
  return changed


@gin.register
def midi_heuristic(controls) -> np.ndarray:
  """Loud frames, split at pitch jumps, without runs under 10 frames."""
  is_on = amp_pooled_outliers(controls) & ~strided_freq_change(controls)
  return remove_short(is_on, min_samples=_MIDI_HEURISTIC_MIN_FRAMES)


@gin.register
def midi_heuristic_power(controls) -> np.ndarray:
  """`midi_heuristic` with power instead of amplitude."""
  is_on = power_pooled_outliers(controls) & ~strided_freq_change(controls)
  return remove_short(is_on, min_samples=_MIDI_HEURISTIC_MIN_FRAMES)


# ------------------------------------------------------------------------------
# Pickers (controls, start, stop) -> value of a note
# ------------------------------------------------------------------------------
@gin.register
def mean_f0(controls, start: int, stop: int) -> float:
  return float(np.mean(_f0_hz(controls)[start:stop]))


@gin.register
def median_f0(controls, start: int, stop: int) -> float:
  return float(np.median(_f0_hz(controls)[start:stop]))


@gin.register
def median_amps(controls, start: int, stop: int) -> float:
  return float(np.median(_amps(controls)[start:stop]))


# ------------------------------------------------------------------------------
# Segmentation
# ------------------------------------------------------------------------------
def segment_notes(binarize_f: Callable, pick_f0_f: Callable,
                  pick_amps_f: Callable, controls: Dict[str, Any],
                  frame_rate: int = DDSP_DEFAULT_FRAME_RATE) -> NoteSequence:
  """Notes of one example: runs of `binarize_f(controls)`.

  Args:
    binarize_f: controls -> boolean [n_frames].
    pick_f0_f: (controls, start, stop) -> f0 of a note in Hz.
    pick_amps_f: (controls, start, stop) -> amplitude of a note; kept for
      3.7.0 compatibility, velocity is always 127 as in 3.7.0.
    controls: Dict of one example's controls.
    frame_rate: Frames per second.

  Returns:
    A `NoteSequence` (pitch = round(MIDI of the picked f0)).
  """
  del pick_amps_f
  is_on = np.asarray(binarize_f(controls), bool)
  sequence = NoteSequence(total_time=len(is_on) / frame_rate)
  for start, stop in active_runs(is_on):
    f0_hz = pick_f0_f(controls, start, stop)
    pitch = int(np.round(float(core.hz_to_midi(f0_hz))))
    sequence.add_note(pitch, start / frame_rate, stop / frame_rate)
  return sequence


def _unbatch(controls_batch) -> List[Dict[str, Any]]:
  """Nested dict of [batch, ...] tensors -> list of nested dicts of arrays."""
  leaves = {}

  def visit(d, prefix):
    for k, v in d.items():
      if isinstance(v, dict):
        visit(v, prefix + (k,))
      elif hasattr(v, 'shape') and len(v.shape) >= 1:
        leaves[prefix + (k,)] = np.asarray(v)

  visit(controls_batch, ())
  if 'f0_hz' in controls_batch:
    batch_size = np.shape(controls_batch['f0_hz'])[0]
  else:
    sizes = [v.shape[0] for v in leaves.values()]
    batch_size = max(set(sizes), key=sizes.count)
  leaves = {k: v for k, v in leaves.items() if v.shape[0] == batch_size}
  examples = []
  for i in range(batch_size):
    example = {}
    for path, value in leaves.items():
      node = example
      for key in path[:-1]:
        node = node.setdefault(key, {})
      node[path[-1]] = value[i]
    examples.append(example)
  return examples


@gin.configurable
def segment_notes_batch(binarize_f: Callable, pick_f0_f: Callable,
                        pick_amps_f: Callable, controls_batch,
                        frame_rate: int = DDSP_DEFAULT_FRAME_RATE
                        ) -> List[NoteSequence]:
  """`segment_notes` for each example of a batch of (nested) controls."""
  return [segment_notes(binarize_f, pick_f0_f, pick_amps_f, controls,
                        frame_rate)
          for controls in _unbatch(controls_batch)]
