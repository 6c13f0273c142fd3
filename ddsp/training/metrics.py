"""Evaluation metrics: loudness and f0 errors, pitch accuracy, MIDI transcription.

Metric objects accumulate over batches (`update_state`) and write TensorBoard
scalars `metrics/<name>/<metric>` on `flush(step)`, which also resets them.
Pitch accuracy and note matching use `mir_eval`.

Note sequences are any objects with `.notes` whose items have `pitch` (MIDI),
`start_time` and `end_time` (seconds): `note_seq.NoteSequence` or the
`heuristics.NoteSequence` used here, so `note_seq` is not required.

Fixed from ddsp 3.7.0: `EvalCounts.f1` is 2pr / (p + r) (3.7.0 divided by
max(p + r, 1)); `MidiMetrics.flush` resets the full-note counts (3.7.0
accumulated them forever); `F0Metrics` metric display names match their keys.
"""
import dataclasses
from typing import Dict, Optional, Sequence, Tuple

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import spectral_ops
from ddsp.training import heuristics

# Examples whose ground-truth confidence never reaches this are skipped.
MIN_F0_CONFIDENCE = 0.85
# Generated f0 further than this (semitones, on average) counts as untracked.
OUTLIER_MIDI_THRESH = 12


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------
def squeeze(input_vector) -> np.ndarray:
  """`np.squeeze` for arrays of 2 or more dimensions; others unchanged."""
  input_vector = np.asarray(input_vector)
  return np.squeeze(input_vector) if input_vector.ndim > 1 else input_vector


def l1_distance(prediction, ground_truth) -> np.ndarray:
  """|prediction - ground_truth| over the shorter length (squeezed)."""
  prediction, ground_truth = squeeze(prediction), squeeze(ground_truth)
  length = min(prediction.shape[-1], ground_truth.shape[-1])
  return np.abs(prediction[..., :length] - ground_truth[..., :length])


def is_outlier(ground_truth_f0_conf) -> bool:
  """Whether the ground-truth f0 is unreliable (max confidence < 0.85)."""
  return bool(np.max(ground_truth_f0_conf) < MIN_F0_CONFIDENCE)


def _hz_to_midi(f0_hz) -> np.ndarray:
  """MIDI of f0; 0 Hz (unvoiced) maps to 0."""
  return np.asarray(core.hz_to_midi(np.asarray(f0_hz, np.float32)))


def compute_audio_features(audio, frame_rate: int = 250
                           ) -> Dict[str, np.ndarray]:
  """Loudness, f0 and confidence of 16 kHz audio (CREPE, Viterbi).

  Args:
    audio: [n_samples] or [1, n_samples] audio at 16 kHz.
    frame_rate: Frames per second.

  Returns:
    Dict with `audio`, `loudness_db`, `f0_hz`, `f0_confidence` ([n_frames]
    each, centred frames).
  """
  features = {'audio': audio}
  audio = squeeze(audio)
  features['loudness_db'] = np.asarray(spectral_ops.compute_loudness(
      audio, sample_rate=16000, frame_rate=frame_rate))
  features['f0_hz'], features['f0_confidence'] = spectral_ops.compute_f0(
      audio, frame_rate, viterbi=True)
  return features


def f0_dist_conf_thresh(f0_hz, f0_hz_gen, f0_confidence,
                        f0_confidence_thresh: float = MIN_F0_CONFIDENCE
                        ) -> Optional[float]:
  """Mean |MIDI difference| over frames with confident ground truth.

  Args:
    f0_hz: Ground-truth f0 [(batch,) n_frames(, 1)] in Hz.
    f0_hz_gen: Generated f0, same shape, in Hz.
    f0_confidence: Ground-truth confidence, same shape.
    f0_confidence_thresh: Frames with confidence below it are ignored.

  Returns:
    Mean absolute difference in semitones (0 Hz counts as MIDI 0), or None if
    no frame is confident enough.
  """
  f0_hz, f0_hz_gen, f0_confidence = (
      np.asarray(x)[:, :, 0] if np.ndim(x) > 2 else np.asarray(x)
      for x in (f0_hz, f0_hz_gen, f0_confidence))
  if np.max(f0_confidence) < f0_confidence_thresh:
    return None
  confident = f0_confidence >= f0_confidence_thresh
  difference = np.abs(_hz_to_midi(f0_hz) - _hz_to_midi(f0_hz_gen))
  return float(np.mean(difference[confident]))


# ------------------------------------------------------------------------------
# Audio metrics
# ------------------------------------------------------------------------------
class BaseMetrics:
  """Named keras metrics written as `metrics/<name>/<metric>` on flush."""

  def __init__(self, sample_rate: int, frame_rate: int, name: str):
    self._sample_rate = sample_rate
    self._frame_rate = frame_rate
    self._name = name

  @property
  def metrics(self) -> Dict[str, keras.metrics.Metric]:
    """The accumulated metrics by key."""
    raise NotImplementedError

  def update_state(self, batch, audio_gen) -> None:
    raise NotImplementedError

  def flush(self, step: int) -> None:
    """Logs and writes every metric at `step`, then resets them."""
    results = {k: float(m.result()) for k, m in self.metrics.items()}
    logging.info('%s metrics at step %d: %s', self._name, step,
                 ' | '.join(f'{k}: {v:.3f}' for k, v in results.items()))
    for k, value in results.items():
      tf.summary.scalar(f'metrics/{self._name}/{k}', value, step=step)
    for metric in self.metrics.values():
      metric.reset_state()


class LoudnessMetrics(BaseMetrics):
  """Mean |loudness(original) - loudness(generated)| in dB per example."""

  def __init__(self, sample_rate: int, frame_rate: int,
               name: str = 'loudness'):
    super().__init__(sample_rate, frame_rate, name)
    self._metrics = {'loudness_db': keras.metrics.Mean('loudness_db')}

  @property
  def metrics(self):
    return self._metrics

  def update_state(self, batch, audio_gen) -> None:
    """Adds one distance per example.

    Args:
      batch: Dict with `loudness_db` [batch, n_frames] (else computed from
        `audio`).
      audio_gen: [batch, n_samples] generated audio.
    """
    rates = dict(sample_rate=self._sample_rate, frame_rate=self._frame_rate)
    loudness = (batch['loudness_db'] if 'loudness_db' in batch else
                spectral_ops.compute_loudness(batch['audio'], **rates))
    loudness_gen = spectral_ops.compute_loudness(audio_gen, **rates)
    for i in range(int(audio_gen.shape[0])):
      distance = float(np.mean(l1_distance(loudness[i], loudness_gen[i])))
      self._metrics['loudness_db'].update_state(distance)
      logging.info('%s | example %d | loudness distance (dB): %.3f',
                   self._name, i, distance)


class F0CrepeMetrics(BaseMetrics):
  """f0 error of generated audio, tracked with CREPE (slow)."""

  def __init__(self, sample_rate: int, frame_rate: int,
               name: str = 'f0_crepe'):
    super().__init__(sample_rate, frame_rate, name)
    self._metrics = {
        'f0_dist': keras.metrics.Mean('f0_dist'),
        'outlier_ratio': keras.metrics.Accuracy('outlier_ratio'),
    }

  @property
  def metrics(self):
    return self._metrics

  def update_state(self, batch, audio_gen) -> None:
    """Tracks f0 of each generated example and compares it.

    Examples with an unreliable ground truth are skipped; a generated
    example whose f0 distance is undefined or > 12 semitones counts as an
    outlier (`outlier_ratio` is the fraction of outliers).

    Args:
      batch: Dict with `f0_hz` and `f0_confidence` (else tracked from
        `audio`).
      audio_gen: [batch, n_samples] generated 16 kHz audio.
    """
    audio_gen = np.asarray(audio_gen)
    for i in range(audio_gen.shape[0]):
      f0_hz_gen, _ = spectral_ops.compute_f0(audio_gen[i], self._frame_rate,
                                             viterbi=True)
      if 'f0_hz' in batch and 'f0_confidence' in batch:
        f0_hz, f0_confidence = batch['f0_hz'][i], batch['f0_confidence'][i]
      else:
        f0_hz, f0_confidence = spectral_ops.compute_f0(
            np.asarray(batch['audio'][i]), self._frame_rate, viterbi=True)
      if is_outlier(f0_confidence):
        continue
      length = min(np.size(f0_hz), np.size(f0_hz_gen))
      f0_dist = f0_dist_conf_thresh(squeeze(f0_hz)[:length],
                                    f0_hz_gen[:length],
                                    squeeze(f0_confidence)[:length])
      untracked = f0_dist is None or f0_dist > OUTLIER_MIDI_THRESH
      self._metrics['outlier_ratio'].update_state([True], [untracked])
      if not untracked:
        self._metrics['f0_dist'].update_state(f0_dist)
      logging.info('%s | example %d | f0 distance (semitones): %s',
                   self._name, i, f0_dist)

  def flush(self, step: int) -> None:
    super().flush(step)
    spectral_ops.reset_crepe()


class F0Metrics(BaseMetrics):
  """Predicted-f0 error and raw pitch/chroma accuracy against ground truth."""

  def __init__(self, sample_rate: int, frame_rate: int,
               rpa_tolerance: float = 50, name: str = 'f0'):
    super().__init__(sample_rate, frame_rate, name)
    self._rpa_tolerance = rpa_tolerance
    self._metrics = {key: keras.metrics.Mean(key) for key in
                     ('f0_dist', 'raw_pitch_accuracy', 'raw_chroma_accuracy')}

  @property
  def metrics(self):
    return self._metrics

  def update_state(self, batch, f0_hz_predict) -> None:
    """Adds the errors of each example with reliable ground truth.

    Args:
      batch: Dict with `f0_hz` and `f0_confidence` [batch, n_frames(, 1)];
        resampled in place to the prediction's frame count if they differ.
      f0_hz_predict: [batch, n_frames'(, 1)] predicted f0 in Hz.
    """
    mir_eval = _import_mir_eval()
    f0_hz_predict = np.asarray(f0_hz_predict)
    n_frames = f0_hz_predict.shape[1]
    for key in ('f0_hz', 'f0_confidence'):
      if np.shape(batch[key])[1] != n_frames:
        batch[key] = core.resample(batch[key], n_frames)
    for i in range(f0_hz_predict.shape[0]):
      f0_hz = squeeze(batch['f0_hz'][i])
      f0_confidence = squeeze(batch['f0_confidence'][i])
      if is_outlier(f0_confidence):
        continue
      f0_hz_pred = squeeze(f0_hz_predict[i])
      self._metrics['f0_dist'].update_state(
          f0_dist_conf_thresh(f0_hz, f0_hz_pred, f0_confidence))
      _, voicing = mir_eval.melody.freq_to_voicing(f0_hz)
      cents = mir_eval.melody.hz2cents(f0_hz)
      cents_pred = mir_eval.melody.hz2cents(f0_hz_pred)
      args = (voicing, cents, voicing, cents_pred, self._rpa_tolerance)
      self._metrics['raw_pitch_accuracy'].update_state(
          mir_eval.melody.raw_pitch_accuracy(*args))
      self._metrics['raw_chroma_accuracy'].update_state(
          mir_eval.melody.raw_chroma_accuracy(*args))


def _import_mir_eval():
  try:
    import mir_eval  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError('Pitch and note metrics need `mir_eval`; run '
                      '`pip install mir_eval`.') from e
  return mir_eval


# ------------------------------------------------------------------------------
# MIDI transcription metrics
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class EvalCounts:
  """True positives, false positives and false negatives."""
  tp: int = 0
  fp: int = 0
  fn: int = 0

  def add(self, tp: int, fp: int, fn: int) -> None:
    self.tp += int(tp)
    self.fp += int(fp)
    self.fn += int(fn)

  def reset(self) -> None:
    self.tp = self.fp = self.fn = 0

  @property
  def precision(self) -> float:
    return self.tp / max(self.tp + self.fp, 1)

  @property
  def recall(self) -> float:
    return self.tp / max(self.tp + self.fn, 1)

  @property
  def f1(self) -> float:
    p, r = self.precision, self.recall
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def sequence2intervals(sequence) -> Tuple[np.ndarray, np.ndarray]:
  """Note intervals [n_notes, 2] (s) and pitches [n_notes] (Hz) for mir_eval."""
  notes = list(sequence.notes)
  intervals = np.array([[n.start_time, n.end_time] for n in notes],
                       np.float64).reshape(-1, 2)
  pitches = 440.0 * 2.0**((np.array([n.pitch for n in notes],
                                    np.float64) - 69.0) / 12.0)
  return intervals, pitches


def compute_note_metrics(gt_sequence, pred_sequence
                         ) -> Tuple[Tuple[int, int, int],
                                    Tuple[int, int, int]]:
  """Note matches: onset only, and onset + offset (mir_eval defaults).

  Returns:
    `((tp, fp, fn) for onsets, (tp, fp, fn) for full notes)`.
  """
  mir_eval = _import_mir_eval()
  ref_intervals, ref_pitches = sequence2intervals(gt_sequence)
  est_intervals, est_pitches = sequence2intervals(pred_sequence)
  counts = []
  for offset_ratio in (None, 0.2):
    if len(ref_pitches) and len(est_pitches):
      tp = len(mir_eval.transcription.match_notes(
          ref_intervals, ref_pitches, est_intervals, est_pitches,
          offset_ratio=offset_ratio))
    else:
      tp = 0
    counts.append((tp, len(est_pitches) - tp, len(ref_pitches) - tp))
  return counts[0], counts[1]


def compute_frame_metrics(gt_pianoroll, pred_pianoroll
                          ) -> Tuple[int, int, int]:
  """Frame-level (tp, fp, fn) of two boolean [n_frames, 128] piano rolls."""
  gt, pred = np.asarray(gt_pianoroll, bool), np.asarray(pred_pianoroll, bool)
  return (int(np.sum(gt & pred)), int(np.sum(~gt & pred)),
          int(np.sum(gt & ~pred)))


def pianoroll_to_notes(pianoroll, frame_rate: float, threshold: float = 0.0):
  """A note sequence from the active runs of a [n_frames, 128] piano roll."""
  roll = np.asarray(pianoroll) > threshold
  sequence = heuristics.NoteSequence(total_time=roll.shape[0] / frame_rate)
  for pitch in range(roll.shape[1]):
    for start, stop in heuristics.active_runs(roll[:, pitch]):
      sequence.add_note(pitch, start / frame_rate, stop / frame_rate)
  sequence.notes.sort(key=lambda n: (n.start_time, n.pitch))
  return sequence


def notes_to_pianoroll(sequence, n_frames: int, frame_rate: float
                       ) -> np.ndarray:
  """Boolean [n_frames, 128] piano roll of a note sequence."""
  roll = np.zeros([n_frames, 128], bool)
  for note in sequence.notes:
    start = int(round(note.start_time * frame_rate))
    stop = int(round(note.end_time * frame_rate))
    roll[start:stop, int(note.pitch)] = True
  return roll


class MidiMetrics:
  """Onset, full-note and frame precision/recall/F1 of transcriptions."""

  def __init__(self, frames_per_second: float, tag: str,
               align_midi_with_f0: bool = True):
    """Creates the counters.

    Args:
      frames_per_second: Frame rate of the piano rolls and controls.
      tag: Summary group (`metrics/midi/<tag>/...`).
      align_midi_with_f0: Move ground-truth notes by whole octaves to the
        octave of the f0 they sound at (annotations are sometimes octave
        shifted).
    """
    self.frames_per_second = frames_per_second
    self.tag = tag
    self._align_midi_with_f0 = align_midi_with_f0
    self.counts = {name: EvalCounts()
                   for name in ('onset', 'full_note', 'frame')}

  def align_midi_with_f0(self, gt_sequence, f0):
    """Transposes each note by the octaves that bring it nearest the f0.

    Args:
      gt_sequence: Ground-truth note sequence (modified in place).
      f0: [n_frames] f0 in Hz at `frames_per_second`.

    Returns:
      `gt_sequence`.
    """
    f0_midi = _hz_to_midi(squeeze(f0))
    for note in gt_sequence.notes:
      start = int(note.start_time * self.frames_per_second)
      stop = max(int(note.end_time * self.frames_per_second), start + 1)
      voiced = f0_midi[start:stop][f0_midi[start:stop] > 0]
      if voiced.size:
        octaves = np.round((np.median(voiced) - note.pitch) / 12.0)
        note.pitch = int(np.clip(note.pitch + 12 * octaves, 0, 127))
    return gt_sequence

  def update_state(self, controls_batch, pred_seq_batch: Sequence,
                   gt_key: str = 'note_active_velocities',
                   ch: Optional[int] = None) -> None:
    """Adds the counts of a batch.

    Args:
      controls_batch: Dict with `gt_key` [batch, n_frames, 128(, channels)]
        and `f0_hz` [batch, n_frames(, 1)].
      pred_seq_batch: One predicted note sequence per example.
      gt_key: Key of the ground-truth piano roll (velocities).
      ch: Channel of a 4-D piano roll.
    """
    for i, pred_sequence in enumerate(pred_seq_batch):
      gt_roll = np.asarray(controls_batch[gt_key][i])
      if ch is not None:
        gt_roll = gt_roll[..., ch]
      gt_sequence = pianoroll_to_notes(gt_roll, self.frames_per_second)
      if self._align_midi_with_f0:
        self.align_midi_with_f0(gt_sequence, controls_batch['f0_hz'][i])
      onset, full_note = compute_note_metrics(gt_sequence, pred_sequence)
      self.counts['onset'].add(*onset)
      self.counts['full_note'].add(*full_note)
      n_frames = gt_roll.shape[0]
      self.counts['frame'].add(*compute_frame_metrics(
          notes_to_pianoroll(gt_sequence, n_frames, self.frames_per_second),
          notes_to_pianoroll(pred_sequence, n_frames,
                             self.frames_per_second)))

  def flush(self, step: int) -> None:
    """Writes `metrics/midi/<tag>/<kind>/{f1,precision,recall}`; resets."""
    for kind, counts in self.counts.items():
      for metric in ('f1', 'precision', 'recall'):
        tf.summary.scalar(f'metrics/midi/{self.tag}/{kind}/{metric}',
                          getattr(counts, metric), step=step)
      logging.info('MIDI %s %s: precision %.3f recall %.3f f1 %.3f',
                   self.tag, kind, counts.precision, counts.recall, counts.f1)
      counts.reset()
