"""Dataset statistics, note detection and the loudness quantile transform.

`compute_dataset_statistics` summarises a prepared dataset (pitch, power and
loudness statistics over all frames and over detected notes, plus a
`QuantileTransformer` fitted on note loudness); `ddsp_prepare_tfrecord` saves
it as a pickle, and timbre-transfer notebooks use it to move the loudness of
new audio into the range the model was trained on.
"""
from typing import Any, Dict, Optional

import numpy as np

from ddsp import core
from ddsp import spectral_ops

# Re-exported under their ddsp 3.7.0 names.
from ddsp.notes import BOUNDS_THRESHOLD  # noqa: F401
from ddsp.notes import detect_notes
from ddsp.notes import fit_quantile_transform
from ddsp.notes import QuantileTransformer  # noqa: F401
from ddsp.notes import smooth  # noqa: F401

# Frames trimmed from the end of every example before computing statistics.
TRIM_END_FRAMES = 20


def get_stats(x: np.ndarray, prefix: str = 'x',
              note_mask: Optional[np.ndarray] = None) -> Dict[str, float]:
  """Summary statistics of [n_examples, n_frames] values.

  Args:
    x: Feature values, [n_examples, n_frames].
    prefix: Suffix of every key (`mean_<prefix>`, ...).
    note_mask: Optional boolean mask shaped like `x`; only masked frames are
      used, and per-example max/min only over examples with any masked frame.

  Returns:
    Dict with `mean_`, `max_`, `min_`, `std_` (over all used frames) and
    `mean_max_`, `mean_min_` (mean over examples of each example's max/min),
    each followed by `prefix`.
  """
  x = np.asarray(x)
  if note_mask is None:
    mean_max = np.mean(np.max(x, axis=-1))
    mean_min = np.mean(np.min(x, axis=-1))
    values = x
  else:
    note_mask = np.asarray(note_mask, bool)
    rows = [row[mask] for row, mask in zip(x, note_mask) if np.any(mask)]
    mean_max = np.mean([np.max(row) for row in rows])
    mean_min = np.mean([np.min(row) for row in rows])
    values = x[note_mask]
  return {
      f'mean_{prefix}': np.mean(values),
      f'max_{prefix}': np.max(values),
      f'min_{prefix}': np.min(values),
      f'mean_max_{prefix}': mean_max,
      f'mean_min_{prefix}': mean_min,
      f'std_{prefix}': np.std(values),
  }


def _resample_mask(mask: np.ndarray, n_frames: int) -> np.ndarray:
  """Nearest-frame (in time) resampling of a [batch, n] mask to n_frames."""
  indices = np.round(np.arange(n_frames) * mask.shape[-1] / n_frames)
  return mask[:, np.minimum(indices.astype(int), mask.shape[-1] - 1)]


def compute_dataset_statistics(data_provider: Any,
                               batch_size: int = 1,
                               power_frame_size: int = 1024,
                               power_frame_rate: int = 50) -> Dict[str, Any]:
  """Pitch, power and loudness statistics of a prepared dataset.

  Reads the dataset once (no shuffling, every example, features only kept
  after trimming: about 12 kB per 4 s example), trims the last
  `TRIM_END_FRAMES` frames of every feature, detects notes with
  `detect_notes` over the whole dataset (examples without any note count as
  all-note), and fits a `QuantileTransformer` on note loudness.

  Args:
    data_provider: A `ddsp.training.data.DataProvider` whose examples have
      `loudness_db`, `f0_hz`, `f0_confidence` and `audio_16k` (or `audio`).
    batch_size: Examples per batch while reading.
    power_frame_size: Frame size (samples) of the frame power in dB.
    power_frame_rate: Frames per second of the frame power.

  Returns:
    Dict with `get_stats` keys for prefixes `pitch`, `power`, `loudness`
    (all frames) and `pitch_note`, `power_note`, `loudness_note` (note
    frames; the note mask is resampled in time to the power frame rate), plus
    `quantile_transform`.
  """
  batches = data_provider.get_batch(batch_size, shuffle=False, repeats=1,
                                    drop_remainder=False)
  features = {'loudness_db': [], 'f0_hz': [], 'f0_confidence': [],
              'power_db': []}
  for batch in batches:
    if 'audio_16k' in batch:
      audio, sample_rate = batch['audio_16k'], 16000
    else:
      audio, sample_rate = batch['audio'], data_provider.sample_rate
    power_db = spectral_ops.compute_power(
        audio, sample_rate=sample_rate, frame_rate=power_frame_rate,
        frame_size=power_frame_size)
    for key, values in (('loudness_db', batch['loudness_db']),
                        ('f0_hz', batch['f0_hz']),
                        ('f0_confidence', batch['f0_confidence']),
                        ('power_db', power_db)):
      values = np.asarray(values, np.float32)
      if values.shape[-1] <= TRIM_END_FRAMES:
        raise ValueError(
            f'Examples have {values.shape[-1]} frames of {key}; statistics '
            f'trim the last {TRIM_END_FRAMES} frames of every feature, so '
            'examples need more (use longer examples or a higher frame rate).')
      features[key].append(values[:, :-TRIM_END_FRAMES])
  if not features['loudness_db']:
    raise ValueError('The data provider yielded no examples; cannot compute '
                     'dataset statistics.')
  features = {k: np.concatenate(v) for k, v in features.items()}
  loudness = features['loudness_db']
  pitch = np.asarray(core.hz_to_midi(features['f0_hz']))
  power = features['power_db']

  mask_on, _ = detect_notes(loudness, features['f0_confidence'])
  # Examples without any detected note count as entirely note.
  mask_on[~np.any(mask_on, axis=-1)] = True
  quantile_transform, _ = fit_quantile_transform(loudness, mask_on)
  power_mask = _resample_mask(mask_on, power.shape[-1])

  ds_stats = {}
  for prefix, values, mask in (('pitch', pitch, mask_on),
                               ('power', power, power_mask),
                               ('loudness', loudness, mask_on)):
    ds_stats.update(get_stats(values, prefix))
    ds_stats.update(get_stats(values, f'{prefix}_note', mask))
  ds_stats['quantile_transform'] = quantile_transform
  return ds_stats
