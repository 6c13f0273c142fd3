"""Tests for ddsp.training.heuristics (note segmentation)."""
import numpy as np
import pytest

from ddsp.training import heuristics


@pytest.mark.parametrize('mode, expected', [
    ('front', [1, 1, 1.7, 2, 3, 4.2]),
    ('center', [1, 1.7, 2, 3, 4.2, 4]),
    ('end', [1.7, 2, 3, 4.2, 4, 4]),
])
def test_pad_for_frame_repeats_int_edge_values(mode, expected):
  vec = np.array([1.7, 2, 3, 4.2])
  padded = heuristics.pad_for_frame(vec, mode, frame_width=3)
  np.testing.assert_allclose(padded, expected)
  # Framing the padded vector gives one window per element.
  windows = np.lib.stride_tricks.sliding_window_view(padded, 3)
  assert len(windows) == len(vec)


def test_pad_for_frame_even_width_and_axis():
  vec = np.arange(6.0).reshape(3, 2)
  padded = heuristics.pad_for_frame(vec, 'center', frame_width=4, axis=0)
  np.testing.assert_array_equal(padded[:, 0], [0, 0, 0, 2, 4, 4])
  with pytest.raises(ValueError, match='mode'):
    heuristics.pad_for_frame(vec, 'middle', 3)


@pytest.mark.parametrize('shape, axis, expected', [
    ((100,), 0, (7, 20)),
    ((100, 3), 0, (7, 20, 3)),
    ((3, 100), 1, (3, 7, 20)),
    ((37,), 0, (3, 20)),
])
def test_window_array_front_pads_and_frames(shape, axis, expected):
  array = np.ones(shape)
  frames = np.asarray(heuristics.window_array(array, sr=100, win_len=0.2,
                                              ax=axis))
  assert frames.shape == expected
  first = np.take(np.take(frames, 0, axis=axis), np.arange(5), axis=axis)
  np.testing.assert_array_equal(first, 0.0)  # 5 front-pad zeros.


def test_remove_short_drops_or_glues_short_runs_in_place():
  is_on = np.array([1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1], bool)
  result = heuristics.remove_short(is_on.copy(), min_samples=3)
  np.testing.assert_array_equal(
      result, [1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1])
  glued = heuristics.remove_short(is_on.copy(), min_samples=3,
                                  glue_back=True)
  np.testing.assert_array_equal(
      glued, [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1])
  assert heuristics.remove_short(is_on, 3) is is_on


def _two_notes():
  """A4 for frames 0-99 and E5 for 140-239; silence (-80 dB) in between."""
  f0 = np.full(300, 440.0)
  f0[120:] = 660.0
  amps = np.full(300, 1e-4)
  amps[:100] = amps[140:240] = 0.5
  return {'f0_hz': f0[None, :, None], 'amps': amps[None, :, None]}


def test_midi_heuristic_segments_two_notes():
  sequences = heuristics.segment_notes_batch(
      heuristics.midi_heuristic, heuristics.mean_f0, heuristics.median_amps,
      _two_notes(), frame_rate=250)
  assert len(sequences) == 1
  notes = [(n.pitch, n.start_time, n.end_time, n.velocity)
           for n in sequences[0].notes]
  assert notes == [(69, 0.0, 0.4, 127), (76, 0.56, 0.96, 127)]
  assert sequences[0].total_time == pytest.approx(1.2)


def test_strided_freq_change_flags_jumps_not_vibrato():
  t = np.arange(200) / 250
  f0 = 440 * 2**(0.3 * np.sin(2 * np.pi * 5 * t) / 12)  # +-0.3 semitones.
  f0[100:] *= 2**(2 / 12)  # A whole-tone jump at frame 100.
  changed = heuristics.strided_freq_change({'f0_hz': f0})
  assert np.flatnonzero(changed).tolist() == [100]


def test_get_active_frame_indices():
  roll = np.zeros([6, 128])
  roll[[1, 2, 4], 60] = 1
  assert heuristics.get_active_frame_indices(roll).tolist() == [1, 2, 4]
