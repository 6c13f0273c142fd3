"""Loss layers: multi-scale spectral loss, embedding losses, consistency losses.

Every loss is a Keras layer returning a scalar; `get_losses_dict` returns
`{name: loss}` so losses can be collected by `LossGroup` DAGs and models.
Distributions (kernel density estimates, HMMs) come from
tensorflow-probability, imported only when one of those losses is built.
"""

import functools
from typing import Callable, Dict, Optional, Sequence, Text

import keras
import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import dags
from ddsp import registration
from ddsp import spectral_ops
from ddsp import validation
import gin

TensorDict = Dict[Text, tf.Tensor]


def _tfd():
  """tensorflow_probability.distributions, imported on first use (slow)."""
  import tensorflow_probability as tfp  # pylint: disable=g-import-not-at-top
  return tfp.distributions


# ------------------------------------------------------------------------------
# Base classes
# ------------------------------------------------------------------------------
class Loss(keras.layers.Layer):
  """Base class for losses: a layer whose call returns a scalar loss."""

  def __init__(self, name: Text, **kwargs):
    kwargs.setdefault('trainable', False)
    super().__init__(name=name, **kwargs)

  def get_losses_dict(self, *args, **kwargs) -> TensorDict:
    """`{self.name: loss}`."""
    return {self.name: self(*args, **kwargs)}


@registration.register
class LossGroup(dags.DAGLayer):
  """A DAG of losses whose named losses are merged into one flat dict.

  Nodes are `(loss_or_name, [input_keys])`; input keys look up a nested dict
  of model outputs (e.g. `['audio', 'audio_synth']`).
  """

  def __init__(self, dag: dags.DAG, **kwarg_losses):
    super().__init__(dag, **kwarg_losses)
    self.loss_names = self.module_names

  @property
  def losses(self) -> Sequence[Loss]:
    """The loss modules of the group."""
    return self.modules

  def call(self, outputs: TensorDict, **kwargs) -> TensorDict:
    """Computes every loss on `outputs`; returns `{loss_name: scalar}`."""
    dag_outputs = self.run_dag(outputs, **kwargs)
    loss_dict = {}
    for name in self.loss_names:
      loss_dict.update(dag_outputs[name])
    return loss_dict

  def get_losses_dict(self, outputs: TensorDict, **kwargs) -> TensorDict:
    return self(outputs, **kwargs)


# ------------------------------------------------------------------------------
# Distances
# ------------------------------------------------------------------------------
def mean_difference(target, value, loss_type: Text = 'L1',
                    weights=None) -> tf.Tensor:
  """Mean distance between two tensors.

  Args:
    target: Target tensor.
    value: Tensor compared with the target.
    loss_type: 'L1' (mean |d w|), 'L2' (mean d^2 w) or 'COSINE' (weighted
      mean over the last axis of `1 - sum(target * value)`, inputs assumed
      unit-norm; TF1 `cosine_distance` semantics).
    weights: Optional weights broadcastable to the difference.

  Returns:
    Scalar loss.
  """
  loss_type = _loss_type(loss_type)
  difference = target - value
  weights = 1.0 if weights is None else weights
  if loss_type == 'L1':
    return tf.reduce_mean(tf.abs(difference * weights))
  if loss_type == 'L2':
    return tf.reduce_mean(difference**2 * weights)
  # COSINE
  distances = 1.0 - tf.reduce_sum(target * value, axis=-1, keepdims=True)
  weights = tf.broadcast_to(core.tf_float32(weights), tf.shape(distances))
  n_present = tf.math.count_nonzero(weights, dtype=tf.float32)
  return core.safe_divide(tf.reduce_sum(distances * weights), n_present)


_LOSS_TYPES = ('L1', 'L2', 'COSINE')


def _loss_type(loss_type: Text) -> Text:
  """The upper-case loss type; raises for anything but L1, L2, COSINE."""
  if not isinstance(loss_type, str) or loss_type.upper() not in _LOSS_TYPES:
    raise validation.invalid('loss_type', f'one of {_LOSS_TYPES} (any case)',
                             loss_type)
  return loss_type.upper()


# ------------------------------------------------------------------------------
# Spectral losses
# ------------------------------------------------------------------------------
@registration.register
class SpectralLoss(Loss):
  """Multi-scale spectrogram loss (sum over FFT sizes and terms).

  For each FFT size (overlap 0.75, pad_end): distances between magnitudes
  (`mag_weight`), their time and frequency differences, their cumulative sum
  over frequency, and their natural logs; plus an optional A-weighted
  loudness term (computed at 16 kHz / 250 Hz with n_fft 2048, as in ddsp
  3.7.0). Terms with weight 0 are skipped.
  """

  def __init__(self,
               fft_sizes: Sequence[int] = (2048, 1024, 512, 256, 128, 64),
               loss_type: Text = 'L1',
               mag_weight: float = 1.0,
               delta_time_weight: float = 0.0,
               delta_freq_weight: float = 0.0,
               cumsum_freq_weight: float = 0.0,
               logmag_weight: float = 0.0,
               loudness_weight: float = 0.0,
               name: Text = 'spectral_loss',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.fft_sizes = tuple(validation.positive_int(size, 'fft_sizes')
                           for size in core.make_iterable(fft_sizes))
    if not self.fft_sizes:
      raise validation.invalid('fft_sizes', 'at least one FFT size',
                               fft_sizes)
    _loss_type(loss_type)
    self.loss_type = loss_type
    weights = dict(mag_weight=mag_weight, delta_time_weight=delta_time_weight,
                   delta_freq_weight=delta_freq_weight,
                   cumsum_freq_weight=cumsum_freq_weight,
                   logmag_weight=logmag_weight,
                   loudness_weight=loudness_weight)
    for weight_name, weight in weights.items():
      setattr(self, weight_name,
              validation.non_negative_number(weight, weight_name))
    self.spectrogram_ops = [
        functools.partial(spectral_ops.compute_mag, size=size)
        for size in self.fft_sizes
    ]

  def call(self, target_audio, audio, weights=None) -> tf.Tensor:
    """Args: target_audio, audio [B, N]; weights broadcastable to spectra."""
    distance = functools.partial(mean_difference, loss_type=self.loss_type,
                                 weights=weights)
    terms = [
        (self.mag_weight, lambda mag: mag),
        (self.delta_time_weight, lambda mag: core.diff(mag, axis=1)),
        (self.delta_freq_weight, lambda mag: core.diff(mag, axis=2)),
        (self.cumsum_freq_weight, lambda mag: tf.cumsum(mag, axis=2)),
        (self.logmag_weight, core.safe_log),
    ]
    loss = 0.0
    for spectrogram_op in self.spectrogram_ops:
      target_mag = spectrogram_op(target_audio)
      value_mag = spectrogram_op(audio)
      for weight, transform in terms:
        if weight > 0:
          loss += weight * distance(transform(target_mag),
                                    transform(value_mag))
    if self.loudness_weight > 0:
      target = spectral_ops.compute_loudness(target_audio, n_fft=2048)
      value = spectral_ops.compute_loudness(audio, n_fft=2048)
      loss += self.loudness_weight * distance(target, value)
    return loss

  def get_config(self):
    config = super().get_config()
    config.update(fft_sizes=self.fft_sizes, loss_type=self.loss_type,
                  mag_weight=self.mag_weight,
                  delta_time_weight=self.delta_time_weight,
                  delta_freq_weight=self.delta_freq_weight,
                  cumsum_freq_weight=self.cumsum_freq_weight,
                  logmag_weight=self.logmag_weight,
                  loudness_weight=self.loudness_weight)
    return config


# ------------------------------------------------------------------------------
# Embedding losses
# ------------------------------------------------------------------------------
@registration.register
class EmbeddingLoss(Loss):
  """Distance between embeddings of two signals by a pretrained model."""

  def __init__(self,
               weight: float = 1.0,
               loss_type: Text = 'L1',
               pretrained_model: Optional[Callable] = None,
               name: Text = 'embedding_loss',
               **kwargs):
    super().__init__(name=name, **kwargs)
    _loss_type(loss_type)
    self.weight = weight
    self.loss_type = loss_type
    self.pretrained_model = validation.optional_callable(pretrained_model,
                                                         'pretrained_model')

  def call(self, target_audio, audio) -> tf.Tensor:
    """Args: target_audio, audio [B, N]."""
    if self.weight <= 0:
      return 0.0
    target_emb = self.pretrained_model(core.tf_float32(target_audio))
    synth_emb = self.pretrained_model(core.tf_float32(audio))
    return self.weight * mean_difference(target_emb, synth_emb,
                                         self.loss_type)


@registration.register
class PretrainedCREPE(keras.layers.Layer):
  """Activations of one layer of a frozen CREPE network, frame by frame.

  Audio [B, N] at 16 kHz is centre-padded by 512 samples, cut into frames of
  1024 with hop 1024, each frame standardised, and mapped to the activations
  of `activation_layer` -> [B, n_frames, n_features].
  """

  def __init__(self,
               model_capacity: Text = 'tiny',
               activation_layer: Text = 'conv5-maxpool',
               name: Text = 'pretrained_crepe',
               trainable: bool = False,
               **kwargs):
    super().__init__(name=name, trainable=trainable, **kwargs)
    from ddsp import crepe  # pylint: disable=g-import-not-at-top
    self.model_capacity = model_capacity
    self.activation_layer = activation_layer
    self.frame_length = spectral_ops.CREPE_FRAME_SIZE
    self._crepe = crepe.keras_model(model_capacity)
    layer_names = [layer.name for layer in self._crepe.layers]
    if activation_layer not in layer_names:
      raise ValueError(f'activation_layer "{activation_layer}" is not a layer '
                       f'of CREPE; choose one of {layer_names}.')
    self._activations = keras.Model(
        inputs=self._crepe.inputs,
        outputs=self._crepe.get_layer(activation_layer).output)
    self._activations.trainable = False

  def frame_audio(self, audio, hop_length: int = 1024,
                  center: bool = True) -> tf.Tensor:
    """Standardised frames [B, n_frames, 1024] of audio [B, N]."""
    if center:
      audio = core.pad_axis(audio, (self.frame_length // 2,) * 2, axis=1)
    frames = tf.signal.frame(audio, self.frame_length, hop_length)
    mean, variance = tf.nn.moments(frames, axes=[-1], keepdims=True)
    return (frames - mean) / (core.safe_sqrt(variance) + 1e-5)

  def call(self, audio) -> tf.Tensor:
    audio = core.check_rank(audio, 2, 'audio', '[batch, n_samples]')
    frames = self.frame_audio(audio)
    batch_size = tf.shape(frames)[0]
    n_frames = tf.shape(frames)[1]
    activations = self._activations(tf.reshape(frames,
                                               [-1, self.frame_length]))
    return tf.reshape(activations, [batch_size, n_frames, -1])

  def get_config(self):
    config = super().get_config()
    config.update(model_capacity=self.model_capacity,
                  activation_layer=self.activation_layer)
    return config


@registration.register
class PretrainedCREPEEmbeddingLoss(EmbeddingLoss):
  """Embedding loss on CREPE activations, scaled per layer to ~unit size."""

  _ACTIVATION_SCALES = {
      'conv1-BN': 1.3,
      'conv1-maxpool': 1.0,
      'conv2-BN': 1.4,
      'conv2-maxpool': 1.1,
      'conv3-BN': 1.9,
      'conv3-maxpool': 1.6,
      'conv4-BN': 1.5,
      'conv4-maxpool': 1.4,
      'conv5-BN': 1.9,
      'conv5-maxpool': 1.7,
      'conv6-BN': 30,
      'conv6-maxpool': 25,
      'classifier': 130,
  }

  def __init__(self,
               weight: float = 1.0,
               loss_type: Text = 'L1',
               model_capacity: Text = 'tiny',
               activation_layer: Text = 'classifier',
               name: Text = 'pretrained_crepe_embedding_loss',
               **kwargs):
    validation.one_of(activation_layer, 'activation_layer',
                      self._ACTIVATION_SCALES)
    scaled_weight = 20.0 * self._ACTIVATION_SCALES[activation_layer] * weight
    model = PretrainedCREPE(model_capacity=model_capacity,
                            activation_layer=activation_layer)
    super().__init__(weight=scaled_weight, loss_type=loss_type,
                     pretrained_model=model, name=name, **kwargs)


# ------------------------------------------------------------------------------
# Consistency losses (EXPERIMENTAL)
# ------------------------------------------------------------------------------
def amp_loss(amp, amp_target, loss_type: Text = 'L1', weights=None,
             log: bool = False, amin: float = 1e-5) -> tf.Tensor:
  """Distance between amplitudes, optionally in log10 with floor `amin`."""
  if log:
    amp = core.log10(tf.maximum(amin, amp))
    amp_target = core.log10(tf.maximum(amin, amp_target))
  return mean_difference(amp, amp_target, loss_type, weights)


def freq_loss(f_hz, f_hz_target, loss_type: Text = 'L1',
              weights=None) -> tf.Tensor:
  """Distance between frequencies, compared in MIDI."""
  return mean_difference(core.hz_to_midi(f_hz), core.hz_to_midi(f_hz_target),
                         loss_type, weights)


@registration.register
class ParamLoss(Loss):
  """Weighted distance between predicted and target parameters."""

  def __init__(self, weight: float = 1.0, loss_type: Text = 'L1',
               name: Text = 'param_loss', **kwargs):
    super().__init__(name=name, **kwargs)
    _loss_type(loss_type)
    self.weight = weight
    self.loss_type = loss_type

  def call(self, pred, target, weights=None) -> tf.Tensor:
    return self.weight * mean_difference(pred, target, self.loss_type,
                                         weights)


@registration.register
class FilteredNoiseConsistencyLoss(Loss):
  """Linear-amplitude distance between noise magnitudes."""

  def __init__(self, weight: float = 1.0,
               name: Text = 'filtered_noise_consistency_loss', **kwargs):
    super().__init__(name=name, **kwargs)
    self.weight = weight

  def call(self, noise_magnitudes, noise_magnitudes_target) -> tf.Tensor:
    return self.weight * amp_loss(noise_magnitudes, noise_magnitudes_target)


@registration.register
class HarmonicConsistencyLoss(Loss):
  """Distances between harmonic controls; returns a dict of three losses.

  The distribution and f0 terms only count frames whose target amplitude is
  at least `amp_threshold`.
  """

  def __init__(self, amp_weight: float = 1.0, dist_weight: float = 1.0,
               f0_weight: float = 1.0, amp_threshold: float = 1e-4,
               name: Text = 'harmonic_consistency_loss', **kwargs):
    super().__init__(name=name, **kwargs)
    self.amp_weight = amp_weight
    self.dist_weight = dist_weight
    self.f0_weight = f0_weight
    self.amp_threshold = amp_threshold

  def call(self, harm_amp, harm_amp_target, harm_dist, harm_dist_target,
           f0_hz, f0_hz_target) -> TensorDict:
    """Args: harm_amp [B, T, 1], harm_dist [B, T, K], f0_hz [B, T, 1] + targets."""
    harm_amp_loss = self.amp_weight * amp_loss(harm_amp, harm_amp_target)
    mask = tf.cast(harm_amp_target >= self.amp_threshold, tf.float32)
    harm_dist_loss = self.dist_weight * amp_loss(harm_dist, harm_dist_target,
                                                 weights=mask)
    f0_hz_loss = self.f0_weight * freq_loss(f0_hz, f0_hz_target, weights=mask)
    return {'harm_amp_loss': harm_amp_loss,
            'harm_dist_loss': harm_dist_loss,
            'f0_hz_loss': f0_hz_loss}

  def get_losses_dict(self, *args, **kwargs) -> TensorDict:
    return self(*args, **kwargs)


def wasserstein_distance(u_values, v_values, u_weights=None, v_weights=None,
                         p: float = 1.0) -> tf.Tensor:
  """1-D p-Wasserstein distance between weighted samples, over the last axis.

  A port of `scipy.stats.wasserstein_distance` (p = 1) / `_cdf_distance`.
  Weighted CDFs are normalised by the total weight (ddsp 3.7.0 discarded that
  normalisation, a bug).

  Args:
    u_values, v_values: [..., n_u], [..., n_v] sample positions.
    u_weights, v_weights: Matching non-negative weights, or None (uniform).
    p: Order of the distance.

  Returns:
    Distances [...].
  """
  u_values = core.tf_float32(u_values)
  v_values = core.tf_float32(v_values)
  batch_dims = len(u_values.shape) - 1
  u_sorter = tf.argsort(u_values, axis=-1)
  v_sorter = tf.argsort(v_values, axis=-1)
  all_values = tf.sort(tf.concat([u_values, v_values], axis=-1), axis=-1)
  deltas = core.diff(all_values, axis=-1)
  points = all_values[..., :-1]

  def cdf(values, sorter, weights):
    sorted_values = tf.gather(values, sorter, batch_dims=batch_dims)
    indices = tf.searchsorted(sorted_values, points, side='right')
    if weights is None:
      return tf.cast(indices, tf.float32) / float(values.shape[-1])
    sorted_weights = tf.gather(core.tf_float32(weights), sorter,
                               batch_dims=batch_dims)
    cumulative = core.pad_axis(tf.cumsum(sorted_weights, axis=-1), (1, 0),
                               axis=-1)
    cdf_values = tf.gather(cumulative, indices, batch_dims=batch_dims)
    return core.safe_divide(cdf_values, cumulative[..., -1:])

  cdf_difference = tf.abs(cdf(u_values, u_sorter, u_weights) -
                          cdf(v_values, v_sorter, v_weights))
  if p == 1:
    return tf.reduce_sum(deltas * cdf_difference, axis=-1)
  if p == 2:
    return core.safe_sqrt(tf.reduce_sum(deltas * cdf_difference**2, axis=-1))
  # x**(1/p) has an infinite slope at x = 0 for p > 1: take the root of a
  # stand-in 1 there, so that the unused branch's gradient stays finite.
  total = tf.reduce_sum(deltas * cdf_difference**p, axis=-1)
  positive = total > 0.0
  return tf.where(positive, tf.where(positive, total, 1.0)**(1.0 / p), 0.0)


@registration.register
class WassersteinConsistencyLoss(Loss):
  """Wasserstein distance between two amplitude-weighted sets of sinusoids.

  Compares frequencies in MIDI (`midi=True`) or in Hz (ddsp 3.7.0 returned
  0.0 for `midi=False`, a bug).
  """

  def __init__(self, weight: float = 1.0, midi: bool = True,
               name: Text = 'wasserstein_consistency_loss', **kwargs):
    super().__init__(name=name, **kwargs)
    self.weight = weight
    self.midi = midi

  def call(self, amps_a, freqs_a, amps_b, freqs_b) -> tf.Tensor:
    """Args: amps and freqs [B, T, n_sinusoids] of both sets."""
    if self.weight <= 0:
      return 0.0
    if self.midi:
      freqs_a = core.hz_to_midi(freqs_a)
      freqs_b = core.hz_to_midi(freqs_b)
    distance = wasserstein_distance(freqs_a, freqs_b, amps_a, amps_b, p=1.0)
    return tf.reduce_mean(self.weight * distance)


def kernel_density_estimate(amps, freqs, scale):
  """Mixture of Normals in MIDI at each sinusoid, weighted by amplitude.

  Args:
    amps: [B, T, S] amplitudes (zeros count as 1e-7).
    freqs: [B, T, S] frequencies in Hz.
    scale: Standard deviation in semitones.

  Returns:
    A tfp `MixtureSameFamily` with batch shape [B, T].
  """
  tfd = _tfd()
  amps = core.tf_float32(amps)
  amps = tf.where(amps == 0.0, 1e-7, amps)
  amps_norm = amps / tf.reduce_sum(amps, axis=-1, keepdims=True)
  return tfd.MixtureSameFamily(
      mixture_distribution=tfd.Categorical(probs=amps_norm),
      components_distribution=tfd.Normal(loc=core.hz_to_midi(freqs),
                                         scale=scale))


def _log_prob_at(distribution, points: tf.Tensor) -> tf.Tensor:
  """Log density of a [B, T]-batched distribution at points [B, T, ..., P]."""
  rank = len(points.shape)
  perm = list(range(2, rank)) + [0, 1]
  log_prob = distribution.log_prob(tf.transpose(points, perm))
  inverse = list(range(rank - 2, rank)) + list(range(rank - 2))
  return tf.transpose(log_prob, inverse)


@registration.register
class KDEConsistencyLoss(Loss):
  """Negative log likelihood of each sinusoid set under the other's KDE."""

  def __init__(self, weight_a: float = 1.0, weight_b: float = 1.0,
               weight_mean_amp: float = 1.0, scale_a: float = 0.1,
               scale_b: float = 0.1, name: Text = 'kde_consistency_loss',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.weight_a = weight_a
    self.weight_b = weight_b
    self.weight_mean_amp = weight_mean_amp
    self.scale_a = scale_a
    self.scale_b = scale_b

  kernel_density_estimate = staticmethod(kernel_density_estimate)

  @staticmethod
  def nll(amps, freqs, amps_target, freqs_target, scale_target) -> tf.Tensor:
    """Amplitude-weighted NLL [B, T] of sinusoids under the target's KDE."""
    kde = kernel_density_estimate(amps_target, freqs_target, scale_target)
    log_prob = _log_prob_at(kde, core.hz_to_midi(freqs))
    amps = core.tf_float32(amps)
    weights = core.safe_divide(amps, tf.reduce_sum(amps, axis=-1,
                                                  keepdims=True))
    return tf.reduce_mean(-log_prob * weights, axis=-1)

  def call(self, amps_a, freqs_a, amps_b, freqs_b) -> tf.Tensor:
    """Args: amps and freqs [B, T, n_sinusoids] of sets a and b."""
    loss = 0.0
    if self.weight_a > 0:
      nll_a = self.nll(amps_a, freqs_a, amps_b, freqs_b, self.scale_b)
      loss += tf.reduce_mean(self.weight_a * nll_a)
    if self.weight_b > 0:
      nll_b = self.nll(amps_b, freqs_b, amps_a, freqs_a, self.scale_a)
      loss += tf.reduce_mean(self.weight_b * nll_b)
    if self.weight_mean_amp > 0:
      mean_amp_a = tf.reduce_mean(amps_a, axis=-1)
      mean_amp_b = tf.reduce_mean(amps_b, axis=-1)
      loss += self.weight_mean_amp * tf.reduce_mean(
          tf.abs(mean_amp_a - mean_amp_b))
    return loss


@registration.register
class TWMLoss(Loss):
  """Two-way mismatch between f0 candidates and a set of sinusoids.

  Combines -log p(sinusoids | harmonics of f0) (a mixture of Normals at
  harmonic numbers 1..n_harmonic_gaussians, std `harmonics_scale`, evaluated
  at `freq / f0`) and -log p(harmonics | sinusoids) (the sinusoids' KDE in
  MIDI, std `sinusoids_scale`, at the first `n_harmonic_points` harmonics,
  weighted by a decaying prior and masked above Nyquist).

  As in ddsp 3.7.0, each scale is used by the term named after the other
  (`harmonics_scale` for p(sinusoids | harmonics)): kept for compatibility.
  """

  def __init__(self,
               sinusoids_weight: float = 1.0,
               harmonics_weight: float = 1.0,
               sinusoids_scale: float = 0.5,
               harmonics_scale: float = 0.2,
               n_harmonic_points: int = 10,
               n_harmonic_gaussians: int = 30,
               softmin_temperature: float = 1.0,
               sample_rate: int = 16000,
               name: Text = 'twm_loss',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.sinusoids_weight = sinusoids_weight
    self.harmonics_weight = harmonics_weight
    self.sinusoids_scale = sinusoids_scale
    self.harmonics_scale = harmonics_scale
    self.n_harmonic_points = n_harmonic_points
    self.n_harmonic_gaussians = n_harmonic_gaussians
    self.softmin_temperature = softmin_temperature
    self.sample_rate = sample_rate

  def get_loss_tensors(self, f0_candidates, freqs, amps) -> TensorDict:
    """Mismatch terms [B, T, n_candidates] for candidates [B, T, C]."""
    tfd = _tfd()
    f0_candidates = core.tf_float32(f0_candidates)
    freqs = core.tf_float32(freqs)
    amps = core.tf_float32(amps)
    # -log p(sinusoids | harmonics): where each sinusoid falls on the grid of
    # harmonic numbers of each candidate.
    harmonic_numbers = tf.linspace(1.0, float(self.n_harmonic_gaussians),
                                   self.n_harmonic_gaussians)
    harmonic_grid = tfd.MixtureSameFamily(
        mixture_distribution=tfd.Categorical(
            probs=tf.ones([self.n_harmonic_gaussians]) /
            self.n_harmonic_gaussians),
        components_distribution=tfd.Normal(loc=harmonic_numbers,
                                           scale=self.harmonics_scale))
    ratios = core.safe_divide(freqs[:, :, tf.newaxis, :],
                              f0_candidates[..., tf.newaxis])
    nll_sinusoids = -harmonic_grid.log_prob(ratios)  # [B, T, C, S]
    amp_weights = amps[:, :, tf.newaxis, :]
    sinusoids_given_harmonics = core.safe_divide(
        tf.reduce_sum(nll_sinusoids * amp_weights, axis=-1),
        tf.reduce_sum(amp_weights, axis=-1))

    # -log p(harmonics | sinusoids): each candidate's harmonics under the KDE.
    kde = kernel_density_estimate(amps, freqs, self.sinusoids_scale)
    points = tf.linspace(1.0, float(self.n_harmonic_points),
                         self.n_harmonic_points)
    harmonic_midi = core.hz_to_midi(f0_candidates[..., tf.newaxis] * points)
    nll_harmonics = -_log_prob_at(kde, harmonic_midi)  # [B, T, C, P]
    prior = tf.linspace(1.0, 1.0 / self.n_harmonic_points,
                        self.n_harmonic_points)
    nyquist_midi = core.hz_to_midi(self.sample_rate / 2.0)
    mask = tf.cast(harmonic_midi < nyquist_midi, tf.float32)
    mask = core.safe_divide(mask, tf.reduce_mean(mask, axis=-1, keepdims=True))
    harmonics_given_sinusoids = tf.reduce_mean(nll_harmonics * prior * mask,
                                               axis=-1)
    return {'sinusoids_given_harmonics': sinusoids_given_harmonics,
            'harmonics_given_sinusoids': harmonics_given_sinusoids}

  def _combined(self, f0_candidates, freqs, amps) -> tf.Tensor:
    terms = self.get_loss_tensors(f0_candidates, freqs, amps)
    return (self.sinusoids_weight * terms['sinusoids_given_harmonics'] +
            self.harmonics_weight * terms['harmonics_given_sinusoids'])

  def call(self, f0_candidates, freqs, amps) -> tf.Tensor:
    """Softmin-weighted mismatch over candidates, averaged."""
    combined = self._combined(f0_candidates, freqs, amps)
    softmin = tf.nn.softmax(-combined / self.softmin_temperature, axis=-1)
    return tf.reduce_mean(combined * softmin)

  def predict_f0(self, f0_candidates, freqs, amps) -> np.ndarray:
    """Candidate with the lowest mismatch, [B, T, 1] in Hz (numpy)."""
    combined = self._combined(f0_candidates, freqs, amps).numpy()
    best = np.nanargmin(combined, axis=-1)[..., np.newaxis]
    return np.take_along_axis(np.asarray(f0_candidates), best, axis=-1)


@gin.register
class HmmTranscriber:
  """Hidden Markov model over 128 MIDI states for note transcription.

  State 0 is "off"; states 1..n_pitches-1 are notes. Observations are
  [pitch (MIDI), amplitude] pairs with diagonal Normal emissions. The
  tensorflow-probability `HiddenMarkovModel` is built on construction;
  its methods (`log_prob`, `posterior_mode`, ...) are available directly.
  """

  def __init__(self,
               avg_length: float = 200,
               midi_std: float = 0.5,
               amps_on_center: float = 1.5,
               amps_on_scale: float = 0.5,
               amps_off_center: float = 0.0,
               amps_off_scale: float = 0.1,
               n_timesteps: int = 1000,
               n_pitches: int = 128,
               weight: float = 1.0):
    tfd = _tfd()
    self.n_timesteps = n_timesteps
    self.n_pitches = n_pitches
    self.weight = weight
    hold = 1.0 - 1.0 / avg_length
    other = (1.0 - hold) / (n_pitches - 1)
    transitions = np.full([n_pitches, n_pitches], other)
    np.fill_diagonal(transitions, hold)
    transitions /= transitions.sum(axis=-1, keepdims=True)
    locs = np.stack([np.arange(n_pitches, dtype=np.float64),
                     np.full(n_pitches, amps_on_center)], axis=-1)
    scales = np.stack([np.full(n_pitches, midi_std),
                       np.full(n_pitches, amps_on_scale)], axis=-1)
    locs[0] = [n_pitches / 2.0, amps_off_center]
    scales[0] = [n_pitches, amps_off_scale]
    self.hmm = tfd.HiddenMarkovModel(
        initial_distribution=tfd.Categorical(
            probs=np.full(n_pitches, 1.0 / n_pitches, np.float32)),
        transition_distribution=tfd.Categorical(
            probs=transitions.astype(np.float32)),
        observation_distribution=tfd.MultivariateNormalDiag(
            loc=locs.astype(np.float32), scale_diag=scales.astype(np.float32)),
        num_steps=n_timesteps)

  def __getattr__(self, name):
    return getattr(self.__dict__['hmm'], name)

  @staticmethod
  def _observations(pitch, amps) -> tf.Tensor:
    """[B, T, 2] observations from pitch and amplitude [B, T] or [B, T, 1]."""
    pitch = core.tf_float32(pitch)
    amps = core.tf_float32(amps)
    if len(pitch.shape) == 2:
      pitch, amps = pitch[..., tf.newaxis], amps[..., tf.newaxis]
    return tf.concat([pitch, amps], axis=-1)

  def nll(self, pitch, amps) -> tf.Tensor:
    """Weighted negative log likelihood per time step (scalar)."""
    log_prob = self.hmm.log_prob(self._observations(pitch, amps))
    return self.weight * tf.reduce_mean(-log_prob / self.n_timesteps)

  def predict_midi(self, pitch, amps) -> tf.Tensor:
    """Most likely state sequence [B, T, 1] (float MIDI, 0 = off)."""
    states = self.hmm.posterior_mode(self._observations(pitch, amps))
    return tf.cast(states, tf.float32)[..., tf.newaxis]

  @staticmethod
  def straight_through(x, x_quantized) -> tf.Tensor:
    """Forward `x_quantized`, gradient of `x`."""
    return x - tf.stop_gradient(x - x_quantized)
