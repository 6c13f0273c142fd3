"""Scaling nonlinearities: raw network outputs -> positive or bounded controls.

Part of the implementation of `ddsp.core`, which re-exports every public name.
"""

from typing import Tuple

import numpy as np
import tensorflow as tf

from ddsp import registration
from ddsp.dsp.conversions import bark_to_hz
from ddsp.dsp.conversions import hz_to_bark
from ddsp.dsp.conversions import hz_to_erb
from ddsp.dsp.conversions import hz_to_mel
from ddsp.dsp.conversions import mel_to_hz
from ddsp.dsp.conversions import soft_limit
from ddsp.dsp.conversions import unit_to_hz
from ddsp.dsp.utils import tf_float32


@registration.register(module='ddsp.core')
def exp_sigmoid(x, exponent=10.0, max_value=2.0, threshold=1e-7) -> tf.Tensor:
  """Positive scaling: `max_value * sigmoid(x)**ln(exponent) + threshold`.

  Range (threshold, max_value + threshold); with the defaults
  `2 * sigmoid(x)**2.3026 + 1e-7`.
  """
  x = tf_float32(x)
  # sigmoid(x)**ln(e) as exp(-ln(e) softplus(-x)): two transcendental ops
  # instead of three, and exact in the tails.
  log_exponent = tf.math.log(tf_float32(exponent))
  return max_value * tf.exp(-log_exponent * tf.nn.softplus(-x)) + threshold


def exp_sigmoid_inverse(y, exponent=10.0, max_value=2.0,
                        threshold=1e-7) -> tf.Tensor:
  """Inverse of `exp_sigmoid`: the raw x with `exp_sigmoid(x) = y`.

  `x = logit(((y - threshold) / max_value)**(1 / ln(exponent)))`, for choosing
  the raw network output (e.g. an initial bias) that gives a control value.

  Args:
    y: Values in (threshold, max_value + threshold), any shape.
    exponent, max_value, threshold: Those of the `exp_sigmoid` to invert.

  Returns:
    float32 tensor of the shape of `y`.

  Raises:
    ValueError: if a value of `y` is outside (threshold, max_value +
      threshold), where `exp_sigmoid` never reaches.
  """
  y = tf_float32(y)
  unit = (y - threshold) / max_value
  if not bool(tf.reduce_all((unit > 0.0) & (unit < 1.0))):
    raise ValueError(f'exp_sigmoid_inverse: values must lie in ({threshold}, '
                     f'{max_value + threshold}); got min '
                     f'{float(tf.reduce_min(y))}, max {float(tf.reduce_max(y))}.')
  log_p = tf.math.log(unit) / tf.math.log(tf_float32(exponent))
  # logit(p) = log p - log(1 - p), with log(1 - p) = log(-expm1(log p)).
  return log_p - tf.math.log(-tf.math.expm1(log_p))


@registration.register(module='ddsp.core')
def sym_exp_sigmoid(x, width=8.0) -> tf.Tensor:
  """Symmetric exp_sigmoid: peaks at x = 0 and decays for |x| > 0."""
  x = tf_float32(x)
  return exp_sigmoid(width * (tf.abs(x) / 2.0 - 1.0))


def _add_depth_axis(freqs: tf.Tensor, depth: int = 1) -> tf.Tensor:
  """Reshapes [B, T, N * depth] to [B, T, N, depth]."""
  freqs = freqs[..., tf.newaxis]
  batch_size, n_frames, n_channels = freqs.shape.as_list()[:3]
  return tf.reshape(freqs,
                    [batch_size, n_frames, n_channels // depth, depth])


def _with_depth_axis(freqs, depth: int) -> Tuple[tf.Tensor, int]:
  """Returns [B, T, N, depth] frequency logits and the depth.

  3-D logits [B, T, N * depth] are split by `depth`; 4-D logits carry it.
  """
  freqs = tf_float32(freqs)
  if len(freqs.shape) == 3:
    return _add_depth_axis(freqs, depth), depth
  return freqs, int(freqs.shape[-1])


@registration.register(module='ddsp.core')
def frequencies_softmax(freqs, depth=1, hz_min=20.0, hz_max=8000.0):
  """Frequencies [B, T, N] as the softmax-weighted mean of `depth` log-spaced bins."""
  freqs, depth = _with_depth_axis(freqs, depth)
  probs = tf.nn.softmax(freqs, axis=-1)
  bins = tf.linspace(0.0, 1.0, depth)
  unit = tf.reduce_sum(probs * bins, axis=-1)
  return unit_to_hz(unit, hz_min=hz_min, hz_max=hz_max)


@registration.register(module='ddsp.core')
def frequencies_sigmoid(freqs, depth=1, hz_min=0.0, hz_max=8000.0):
  """Frequencies [B, T, N] as a sum of `depth` sigmoid-scaled, geometric bands."""
  freqs, depth = _with_depth_axis(freqs, depth)
  f_unit = tf.nn.sigmoid(freqs)
  remainder = hz_max - hz_min
  scale_factor = remainder**(1.0 / depth)
  hz_bands = []
  for i in range(depth):
    if i == depth - 1:
      band_max, band_min = remainder, hz_min
    else:
      band_max, band_min = remainder * (1.0 - 1.0 / scale_factor), 0.0
      remainder -= band_max
    hz_bands.append(unit_to_hz(f_unit[..., i], hz_min=band_min,
                               hz_max=band_max))
  return tf.add_n(hz_bands)


@registration.register(module='ddsp.core')
def frequencies_critical_bands(freqs, depth=1, depth_scale=10.0,
                               bandwidth_scale=1.0, hz_min=20.0, hz_max=8000.0,
                               scale='bark'):
  """Frequencies [B, T, N] as deviations around N critical-band centres."""
  freqs, depth = _with_depth_axis(freqs, depth)
  n_sinusoids = int(freqs.shape[-2])
  to_scale, from_scale = ((hz_to_bark, bark_to_hz) if scale == 'bark' else
                          (hz_to_mel, mel_to_hz))
  centers = from_scale(tf.linspace(to_scale(tf_float32(hz_min)),
                                   to_scale(tf_float32(hz_max)), n_sinusoids))
  bandwidths = hz_to_erb(centers)
  depth_weights = depth_scale**(-np.arange(depth, dtype=np.float32))
  modifier = tf.reduce_sum(tf.tanh(freqs) * depth_weights, axis=-1)
  freqs = centers + bandwidth_scale * bandwidths * modifier
  return soft_limit(freqs, hz_min, hz_max)
