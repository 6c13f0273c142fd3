"""Note masks: regions of constant pitch, and pooling over them.

A note mask [batch, n_frames, max_regions] is one-hot along regions: frame t
belongs to region r when `mask[b, t, r] == 1`. Used by the MIDI models to
pool frame-wise features (f0, loudness) over notes. Re-exported by
`ddsp.training.nn` (as in ddsp 3.7.0).
"""

import tensorflow as tf

from ddsp import core


def _squeeze_channel(x: tf.Tensor) -> tf.Tensor:
  return x[..., 0] if len(x.shape) == 3 else x


def _regions_to_mask(region_starts: tf.Tensor, max_regions: int) -> tf.Tensor:
  """[B, T] bool region starts -> [B, T, max_regions] one-hot region ids."""
  region_ids = tf.cumsum(tf.cast(region_starts, tf.int32), axis=1) - 1
  return tf.one_hot(region_ids, max_regions, dtype=tf.float32)


def get_note_mask(q_pitch: tf.Tensor, max_regions: int = 100,
                  note_on_only: bool = True) -> tf.Tensor:
  """One-hot regions of constant (quantized) pitch.

  A region starts at frame 0 and at every frame whose pitch differs from the
  previous frame, except the last frame (a change there is ignored, as in
  ddsp 3.7.0). E.g. [0, 0, 60, 60, 60, 62, 62, 0] -> regions [0, 0, 1, 1, 1,
  2, 2, 2].

  Args:
    q_pitch: [B, T] or [B, T, 1] quantized pitch (MIDI; 0 = silence).
    max_regions: Regions beyond this are dropped (all-zero rows).
    note_on_only: Zero the regions whose mean pitch is not positive.

  Returns:
    Float mask [B, T, max_regions].
  """
  q_pitch = core.tf_float32(_squeeze_channel(q_pitch))
  changes = tf.abs(core.diff(q_pitch, axis=1)) > 0
  starts = tf.pad(changes[:, :-1], [[0, 0], [1, 1]], constant_values=True)
  starts = tf.concat([starts[:, :-1], tf.zeros_like(starts[:, -1:])], axis=1)
  note_mask = _regions_to_mask(starts, max_regions)
  if note_on_only:
    pitches = get_note_moments(q_pitch, note_mask, return_std=False)
    note_mask *= tf.cast(pitches > 0.0, tf.float32)[:, tf.newaxis, :]
  return note_mask


def get_note_mask_from_onset(q_pitch: tf.Tensor, onset: tf.Tensor,
                             max_regions: int = 100,
                             note_on_only: bool = True) -> tf.Tensor:
  """One-hot regions that start at frame 0 and at every onset frame.

  Args:
    q_pitch: [B, T] or [B, T, 1] quantized pitch.
    onset: [B, T] or [B, T, 1] onset flags (nonzero = onset).
    max_regions: Regions beyond this are dropped.
    note_on_only: Zero the frames whose pitch is not positive.

  Returns:
    Float mask [B, T, max_regions].
  """
  onset = tf.cast(_squeeze_channel(onset), tf.bool)
  starts = tf.concat([tf.ones_like(onset[:, :1]), onset[:, 1:]], axis=1)
  note_mask = _regions_to_mask(starts, max_regions)
  if note_on_only:
    note_on = tf.cast(core.tf_float32(_squeeze_channel(q_pitch)) > 0.0,
                      tf.float32)
    note_mask *= note_on[:, :, tf.newaxis]
  return note_mask


def get_note_lengths(note_mask: tf.Tensor) -> tf.Tensor:
  """Frames per region [B, max_regions] of a [B, T, max_regions] mask."""
  return tf.reduce_sum(note_mask, axis=1)


def _safe_sqrt(x: tf.Tensor) -> tf.Tensor:
  """sqrt with a zero (not infinite) gradient at 0."""
  positive = x > 0.0
  return tf.where(positive, tf.sqrt(tf.where(positive, x, 1.0)), 0.0)


def get_note_moments(x: tf.Tensor, note_mask: tf.Tensor,
                     return_std: bool = True):
  """Mean (and standard deviation) of `x` over each region.

  Args:
    x: [B, T] or [B, T, C].
    note_mask: [B, T, R] from `get_note_mask`.
    return_std: Also return standard deviations.

  Returns:
    Means [B, R] (2-D x) or [B, R, C]; with return_std, (means, stds).
  """
  is_2d = len(x.shape) == 2
  x = core.tf_float32(x)
  x = x[:, :, tf.newaxis] if is_2d else x
  lengths = get_note_lengths(note_mask)[:, :, tf.newaxis]
  means = core.safe_divide(tf.einsum('btr,btc->brc', note_mask, x), lengths)
  if not return_std:
    return means[..., 0] if is_2d else means
  deviations = (x[:, :, tf.newaxis, :] - means[:, tf.newaxis, :, :])**2
  variances = core.safe_divide(
      tf.reduce_sum(deviations * note_mask[..., tf.newaxis], axis=1), lengths)
  stds = _safe_sqrt(variances)
  if is_2d:
    return means[..., 0], stds[..., 0]
  return means, stds


def pool_over_notes(x: tf.Tensor, note_mask: tf.Tensor,
                    return_std: bool = True):
  """Replaces every frame of `x` by its region's mean (and std).

  Args:
    x: [B, T] or [B, T, C].
    note_mask: [B, T, R].
    return_std: Also return the region standard deviations per frame.

  Returns:
    Pooled means shaped like `x`; with return_std, (means, stds).
  """
  moments = get_note_moments(x, note_mask, return_std=return_std)
  moments = moments if return_std else (moments,)
  pooled = []
  for moment in moments:
    if len(moment.shape) == 2:
      pooled.append(tf.einsum('btr,br->bt', note_mask, moment))
    else:
      pooled.append(tf.einsum('btr,brc->btc', note_mask, moment))
  return tuple(pooled) if return_std else pooled[0]


def get_short_note_loss_mask(note_mask: tf.Tensor, note_lengths: tf.Tensor,
                             note_pitches: tf.Tensor,
                             min_length: int = 40) -> tf.Tensor:
  """[B, T] mask of frames in voiced notes shorter than `min_length` frames."""
  short = tf.logical_and(note_lengths < min_length, note_pitches > 0)
  return tf.reduce_sum(note_mask * tf.cast(short, tf.float32)[:, tf.newaxis],
                       axis=-1)
