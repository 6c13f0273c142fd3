"""Note detection and the loudness quantile transform, in numpy alone.

`detect_notes` marks the frames that belong to notes; `QuantileTransformer`
and `fit_quantile_transform` move note loudness onto another dataset's
distribution. `ddsp.training.postprocessing` (ddsp 3.7.0's home of these
names) re-exports them, and pickles keep naming that module, so dataset
statistics stay readable by 3.7.0; this module lets the on-device tools
(timbre transfer with the TFLite runtime) use them without TensorFlow.
"""
from typing import Optional, Tuple

import numpy as np
from scipy import stats

# Output values this close to the distribution bounds are clipped ('normal').
BOUNDS_THRESHOLD = 1e-7

def smooth(x: np.ndarray, filter_size: int = 3) -> np.ndarray:
  """Moving average (box filter) along the last axis, zeros beyond the edges.

  Matches a TF `conv1d(padding='SAME')` with a `1 / filter_size` box kernel:
  for even sizes the extra tap is on the right.

  Args:
    x: [n_frames] or [batch, n_frames].
    filter_size: Box length in frames.

  Returns:
    float32 array of the same shape as `x`.
  """
  x = np.asarray(x, np.float64)
  left = (filter_size - 1) // 2
  right = filter_size - 1 - left
  pads = [(0, 0)] * (x.ndim - 1) + [(left, right)]
  padded = np.pad(x, pads)
  cumsum = np.cumsum(padded, axis=-1)
  cumsum = np.concatenate([np.zeros_like(cumsum[..., :1]), cumsum], axis=-1)
  sums = cumsum[..., filter_size:] - cumsum[..., :-filter_size]
  return (sums / filter_size).astype(np.float32)


def detect_notes(loudness_db: np.ndarray,
                 f0_confidence: np.ndarray,
                 note_threshold: float = 1.0,
                 exponent: float = 2.0,
                 smoothing: int = 40,
                 f0_confidence_threshold: float = 0.7,
                 min_db: float = -80.0) -> Tuple[np.ndarray, np.ndarray]:
  """Marks frames that belong to a note: loud enough and confidently pitched.

  The note score of a frame is its smoothed `confidence**exponent` times its
  height above `min_db`, compared with the same product for the mean loudness
  of everything passed in and a confidence of `f0_confidence_threshold`.

  Args:
    loudness_db: [n_frames] or [batch, n_frames] loudness in dB.
    f0_confidence: CREPE confidence in [0, 1], same shape.
    note_threshold: Score ratio at or above which a frame is a note.
    exponent: Power applied to the confidence.
    smoothing: Box-filter length (frames) applied to the confidence term.
    f0_confidence_threshold: Confidence that counts as pitched.
    min_db: Loudness floor in dB.

  Returns:
    (mask_on, note_on_ratio): boolean note mask and the score ratio, both
    shaped like `loudness_db`.
  """
  mean_db = np.mean(loudness_db)
  db = smooth(f0_confidence**exponent, smoothing) * (loudness_db - min_db)
  db_threshold = (mean_db - min_db) * f0_confidence_threshold**exponent
  # All-silent input gives 0 / 0: NaN ratios, no notes.
  with np.errstate(divide='ignore', invalid='ignore'):
    note_on_ratio = db / db_threshold
  mask_on = note_on_ratio >= note_threshold
  return mask_on, note_on_ratio


class QuantileTransformer:
  """Maps each feature through its empirical CDF (dense scikit-learn subset).

  Attribute names follow scikit-learn's `QuantileTransformer`, so pickled
  statistics stay readable by both.

  Args:
    n_quantiles: Number of quantiles (landmarks) of the CDF.
    output_distribution: 'uniform' (values in [0, 1]) or 'normal'.
    subsample: Fit on at most this many randomly chosen samples per feature
      (drawn with numpy's global random state, kept as `random_state` like
      ddsp 3.7.0, whose pickled statistics hold it).
  """
  # Pickles (dataset statistics) name ddsp 3.7.0's module, which re-exports
  # this class; `ddsp.export.timbre_transfer` maps it back without TF.
  __module__ = 'ddsp.training.postprocessing'

  def __init__(self, n_quantiles: int = 1000,
               output_distribution: str = 'uniform',
               subsample: int = int(1e5)):
    if n_quantiles <= 0:
      raise ValueError('Received an invalid value for `n_quantiles`, expected '
                       f'a positive integer. Received: n_quantiles={n_quantiles}')
    if output_distribution not in ('uniform', 'normal'):
      raise ValueError('Received an invalid value for `output_distribution`, '
                       "expected 'uniform' or 'normal'. Received: "
                       f'output_distribution={output_distribution!r}')
    self.n_quantiles = n_quantiles
    self.output_distribution = output_distribution
    self.subsample = subsample
    self.random_state = np.random.mtrand._rand  # pylint: disable=protected-access

  def fit(self, x: np.ndarray) -> 'QuantileTransformer':
    """Computes the quantiles of each column of `x`, [n_samples, n_features]."""
    x = self._check_2d(x)
    n_samples = x.shape[0]
    self.n_quantiles_ = max(1, min(self.n_quantiles, n_samples))
    self.references_ = np.linspace(0, 1, self.n_quantiles_, endpoint=True)
    quantiles = []
    for column in x.T:
      if self.subsample < n_samples:
        column = column[self.random_state.choice(
            n_samples, size=self.subsample, replace=False)]
      quantiles.append(np.nanpercentile(column, self.references_ * 100))
    # Percentiles can be non-monotone by rounding; np.interp needs monotone.
    self.quantiles_ = np.maximum.accumulate(np.transpose(quantiles))
    return self

  def _check_2d(self, x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    if x.ndim != 2:
      raise ValueError(f'Expected a 2-D array [n_samples, n_features]; got '
                       f'shape {x.shape}. Reshape 1-D data with x[:, None].')
    if hasattr(self, 'quantiles_') and x.shape[1] != self.quantiles_.shape[1]:
      raise ValueError(f'x has {x.shape[1]} features but the transformer was '
                       f'fitted on {self.quantiles_.shape[1]}.')
    return x

  def _transform_col(self, column: np.ndarray, quantiles: np.ndarray,
                     inverse: bool) -> np.ndarray:
    """Forward or inverse transform of one feature (modified in place)."""
    normal = self.output_distribution == 'normal'
    if not inverse:
      lower_x, upper_x = quantiles[0], quantiles[-1]
      lower_y, upper_y = 0.0, 1.0
    else:
      if normal:
        column = stats.norm.cdf(column)
      lower_x, upper_x = 0.0, 1.0
      lower_y, upper_y = quantiles[0], quantiles[-1]
    if normal:
      lower_idx = column - BOUNDS_THRESHOLD < lower_x
      upper_idx = column + BOUNDS_THRESHOLD > upper_x
    else:
      lower_idx = column == lower_x
      upper_idx = column == upper_x

    finite = ~np.isnan(column)
    values = column[finite]
    if not inverse:
      # Averaging the interpolations from both ends gives repeated quantile
      # values (plateaus of the CDF) their middle rank.
      column[finite] = 0.5 * (
          np.interp(values, quantiles, self.references_) -
          np.interp(-values, -quantiles[::-1], -self.references_[::-1]))
    else:
      column[finite] = np.interp(values, self.references_, quantiles)
    column[upper_idx] = upper_y
    column[lower_idx] = lower_y

    if not inverse and normal:
      column = stats.norm.ppf(column)
      clip_min = stats.norm.ppf(BOUNDS_THRESHOLD - np.spacing(1))
      clip_max = stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1)))
      column = np.clip(column, clip_min, clip_max)
    return column

  def _transform(self, x: np.ndarray, inverse: bool) -> np.ndarray:
    if not hasattr(self, 'quantiles_'):
      raise ValueError('This QuantileTransformer is not fitted yet; call '
                       '`fit` first.')
    x = self._check_2d(x)
    for i in range(x.shape[1]):
      x[:, i] = self._transform_col(x[:, i], self.quantiles_[:, i], inverse)
    return x

  def transform(self, x: np.ndarray) -> np.ndarray:
    """Maps [n_samples, n_features] values to the output distribution."""
    return self._transform(x, inverse=False)

  def inverse_transform(self, x: np.ndarray) -> np.ndarray:
    """Maps output-distribution values back to the feature's own scale."""
    return self._transform(x, inverse=True)

  def fit_transform(self, x: np.ndarray) -> np.ndarray:
    """`fit(x)` then `transform(x)`."""
    return self.fit(x).transform(x)


def fit_quantile_transform(
    loudness_db: np.ndarray,
    mask_on: np.ndarray,
    inv_quantile: Optional[QuantileTransformer] = None
) -> Tuple[QuantileTransformer, np.ndarray]:
  """Fits a quantile transform on note loudness; optionally remaps it.

  Args:
    loudness_db: Loudness in dB, any shape (e.g. [batch, n_frames]).
    mask_on: Boolean note mask, same shape as `loudness_db`.
    inv_quantile: A transform fitted on another dataset. When given, note
      frames are mapped through the new transform and back through
      `inv_quantile`, moving this audio's note loudness onto the other
      dataset's distribution.

  Returns:
    (quantile_transform, loudness_norm): the transform fitted on
    `loudness_db[mask_on]`, and a copy of `loudness_db` (same shape) whose note
    frames are remapped through `inv_quantile` (unchanged without it).
  """
  loudness_db = np.asarray(loudness_db)
  mask_on = np.asarray(mask_on, bool)
  quantile_transform = QuantileTransformer()
  loudness_flat_q = quantile_transform.fit_transform(
      loudness_db[mask_on][:, np.newaxis])
  loudness_norm = loudness_db.copy()
  if inv_quantile is not None:
    # ddsp 3.7.0 indexed a flattened [N, 1] copy with the 2-D mask (an
    # IndexError for batched input); the mask indexes the original shape here.
    loudness_norm[mask_on] = inv_quantile.inverse_transform(
        loudness_flat_q)[:, 0]
  return quantile_transform, loudness_norm
