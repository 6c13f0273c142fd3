"""Tests of ddsp.training.note_masks (also exported by ddsp.training.nn)."""

import numpy as np

from ddsp.training import nn

Q_PITCH = np.float32([[0, 0, 60, 60, 60, 62, 62, 0]])


def _region_ids(mask):
  mask = np.asarray(mask)[0]
  return [int(np.argmax(row)) if row.any() else -1 for row in mask]


def test_note_mask_starts_a_region_at_each_change_except_the_last_frame():
  mask = nn.get_note_mask(Q_PITCH, max_regions=5, note_on_only=False)
  assert mask.shape == (1, 8, 5)
  assert _region_ids(mask) == [0, 0, 1, 1, 1, 2, 2, 2]


def test_note_mask_note_on_only_zeroes_silent_regions():
  mask = nn.get_note_mask(Q_PITCH[..., np.newaxis], max_regions=5)
  assert _region_ids(mask) == [-1, -1, 1, 1, 1, 2, 2, 2]


def test_note_mask_from_onset_and_frame_wise_note_on():
  onset = np.float32([[0, 0, 1, 0, 0, 1, 0, 0]])
  mask = nn.get_note_mask_from_onset(Q_PITCH, onset, max_regions=4)
  assert _region_ids(mask) == [-1, -1, 1, 1, 1, 2, 2, -1]


def test_note_lengths_and_moments_match_numpy():
  mask = nn.get_note_mask(Q_PITCH, max_regions=4, note_on_only=False)
  np.testing.assert_array_equal(nn.get_note_lengths(mask), [[2, 3, 3, 0]])
  x = np.float32([[1, 3, 2, 4, 6, 5, 5, 8]])
  means, stds = nn.get_note_moments(x, mask)
  np.testing.assert_allclose(means, [[2, 4, 6, 0]], rtol=1e-6)
  np.testing.assert_allclose(
      stds, [[1, np.std([2, 4, 6]), np.std([5, 5, 8]), 0]], rtol=1e-6)
  pooled_means, pooled_stds = nn.pool_over_notes(x, mask)
  np.testing.assert_allclose(pooled_means, [[2, 2, 4, 4, 4, 6, 6, 6]])
  assert pooled_stds.shape == (1, 8)
  pooled_3d = nn.pool_over_notes(x[..., np.newaxis], mask, return_std=False)
  np.testing.assert_allclose(pooled_3d[..., 0], pooled_means)


def test_short_note_loss_mask_marks_short_voiced_notes():
  mask = nn.get_note_mask(Q_PITCH, max_regions=4, note_on_only=False)
  lengths = nn.get_note_lengths(mask)
  pitches = nn.get_note_moments(Q_PITCH, mask, return_std=False)
  short = nn.get_short_note_loss_mask(mask, lengths, pitches, min_length=3)
  # Region 0 is short but silent; regions 1 and 2 have 3 frames (not < 3).
  np.testing.assert_array_equal(short, np.zeros([1, 8]))
  short = nn.get_short_note_loss_mask(mask, lengths, pitches, min_length=4)
  np.testing.assert_array_equal(short, [[0, 0, 1, 1, 1, 1, 1, 1]])
