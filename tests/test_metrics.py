"""Tests for ddsp.training.metrics (f0, loudness, pitch accuracy, MIDI)."""
import numpy as np
import pytest
import tensorflow as tf

import ddsp
from ddsp.training import heuristics
from ddsp.training import metrics

N_FRAMES = 100


def _f0_batch(f0_hz=440.0, confidence=1.0, batch_size=2):
  return {'f0_hz': np.full([batch_size, N_FRAMES, 1], f0_hz, np.float32),
          'f0_confidence': np.full([batch_size, N_FRAMES], confidence,
                                   np.float32)}


def _results(metric):
  return {k: float(m.result()) for k, m in metric.metrics.items()}


def test_f0_metrics_are_zero_for_exact_predictions():
  metric = metrics.F0Metrics(16000, 250)
  metric.update_state(_f0_batch(), _f0_batch()['f0_hz'])
  assert _results(metric) == {'f0_dist': 0.0, 'raw_pitch_accuracy': 1.0,
                              'raw_chroma_accuracy': 1.0}


@pytest.mark.parametrize('predicted_hz, rpa, rca', [
    (880.0, 0.0, 1.0),   # An octave: right chroma, wrong pitch.
    (450.0, 1.0, 1.0),   # +39 cents, inside the 50-cent tolerance.
    (660.0, 0.0, 0.0),   # A fifth.
])
def test_raw_pitch_and_chroma_accuracy(predicted_hz, rpa, rca):
  metric = metrics.F0Metrics(16000, 250)
  metric.update_state(_f0_batch(), _f0_batch(predicted_hz)['f0_hz'])
  results = _results(metric)
  assert results['raw_pitch_accuracy'] == rpa
  assert results['raw_chroma_accuracy'] == rca
  assert results['f0_dist'] == pytest.approx(12 * np.log2(predicted_hz / 440),
                                             rel=1e-4)


def test_f0_metrics_resample_ground_truth_to_the_prediction_length():
  batch = _f0_batch()
  metric = metrics.F0Metrics(16000, 250)
  metric.update_state(batch, np.full([2, 50, 1], 440.0 * 3, np.float32))
  assert np.shape(batch['f0_hz'])[1] == 50
  assert _results(metric)['f0_dist'] == pytest.approx(12 * np.log2(3),
                                                      rel=1e-4)


def test_f0_metrics_skip_unreliable_ground_truth():
  metric = metrics.F0Metrics(16000, 250)
  metric.update_state(_f0_batch(confidence=0.5),
                      _f0_batch(880.0)['f0_hz'])
  assert metric.metrics['f0_dist'].count == 0


def test_f0_dist_uses_only_confident_frames():
  f0 = np.full([1, 4], 440.0)
  generated = np.array([[440.0, 880.0, 880.0, 440.0]])
  confidence = np.array([[0.9, 0.9, 0.1, 0.9]])
  assert metrics.f0_dist_conf_thresh(f0, generated, confidence) == (
      pytest.approx(4.0))
  assert metrics.f0_dist_conf_thresh(f0, generated, confidence * 0.5) is None


def _sine(f0_hz, seconds=0.5):
  t = np.arange(int(16000 * seconds)) / 16000
  return (0.5 * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)


def test_loudness_metric_is_zero_for_identical_audio_and_positive_else():
  audio = np.stack([_sine(440)] * 2)
  metric = metrics.LoudnessMetrics(16000, 250)
  metric.update_state({'audio': audio}, audio)
  assert _results(metric)['loudness_db'] == pytest.approx(0.0, abs=1e-4)
  metric.flush(0)
  metric.update_state({'audio': audio}, audio * 0.1)  # -20 dB.
  assert _results(metric)['loudness_db'] == pytest.approx(20.0, abs=0.5)


@pytest.mark.parametrize('factor, f0_dist, outliers', [
    (1.0, 0.0, 0.0), (2.0, 12.0, 0.0), (3.0, None, 1.0), (0.0, None, 1.0)])
def test_f0_crepe_metrics_with_mocked_tracker(monkeypatch, factor, f0_dist,
                                              outliers):
  def fake_compute_f0(audio, frame_rate, viterbi=True):
    del frame_rate, viterbi
    f0 = np.full(N_FRAMES, 440.0 * (factor if audio[0] == 1.0 else 1.0))
    return f0.astype(np.float32), np.ones(N_FRAMES, np.float32)

  monkeypatch.setattr(ddsp.spectral_ops, 'compute_f0', fake_compute_f0)
  batch = {'audio': np.zeros([2, 100], np.float32)}
  metric = metrics.F0CrepeMetrics(16000, 250)
  metric.update_state(batch, np.ones([2, 100], np.float32))
  results = _results(metric)
  assert results['outlier_ratio'] == outliers
  if f0_dist is not None:
    assert results['f0_dist'] == pytest.approx(f0_dist, abs=1e-4)


def test_eval_counts_f1_is_the_harmonic_mean():
  counts = metrics.EvalCounts(tp=1, fp=1, fn=3)
  assert counts.precision == 0.5
  assert counts.recall == 0.25
  assert counts.f1 == pytest.approx(1 / 3)  # 3.7.0 gave 0.25.
  assert metrics.EvalCounts().f1 == 0.0


def _sequence(*notes):
  sequence = heuristics.NoteSequence(total_time=1.0)
  for pitch, start, end in notes:
    sequence.add_note(pitch, start, end)
  return sequence


def test_note_metrics_match_onsets_and_offsets():
  gt = _sequence((60, 0.0, 0.5), (64, 0.5, 1.0))
  pred = _sequence((60, 0.01, 0.2), (64, 0.5, 1.0), (67, 0.2, 0.4))
  onset, full_note = metrics.compute_note_metrics(gt, pred)
  assert onset == (2, 1, 0)
  assert full_note == (1, 2, 1)  # The first note ends far too early.


def test_pianoroll_round_trip_and_frame_metrics():
  roll = np.zeros([100, 128])
  roll[10:40, 60] = 100
  roll[50:90, 64] = 80
  sequence = metrics.pianoroll_to_notes(roll, frame_rate=100)
  assert [(n.pitch, n.start_time, n.end_time) for n in sequence.notes] == [
      (60, 0.1, 0.4), (64, 0.5, 0.9)]
  np.testing.assert_array_equal(
      metrics.notes_to_pianoroll(sequence, 100, 100), roll > 0)
  shifted = np.roll(roll > 0, 5, axis=0)
  assert metrics.compute_frame_metrics(roll > 0, shifted) == (60, 10, 10)


def test_midi_metrics_flush_resets_every_count():
  roll = np.zeros([1, 100, 128])
  roll[0, 10:60, 69] = 100
  controls = {'note_active_velocities': roll,
              'f0_hz': np.full([1, 100], 440.0)}
  midi_metrics = metrics.MidiMetrics(100, 'learned')
  midi_metrics.update_state(controls, [_sequence((69, 0.1, 0.6))])
  assert midi_metrics.counts['full_note'].tp == 1
  with tf.summary.create_noop_writer().as_default():
    midi_metrics.flush(1)
  assert all(c.tp == c.fp == c.fn == 0 for c in midi_metrics.counts.values())


def test_align_midi_with_f0_moves_notes_by_octaves():
  sequence = _sequence((57, 0.0, 0.5))  # A3, sounding as A4.
  midi_metrics = metrics.MidiMetrics(100, 'x')
  midi_metrics.align_midi_with_f0(sequence, np.full(100, 440.0))
  assert sequence.notes[0].pitch == 69
