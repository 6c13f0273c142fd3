"""Inverse synthesis (EXPERIMENTAL; "DDSP-inv", ICML 2020 SAS workshop).

Audio -> sinusoidal encoder -> sinusoids + filtered noise (-> resynthesized
`sin_audio`); sinusoids -> harmonic encoder -> f0, amplitude and harmonic
distribution (-> `harm_audio`). Trained self-supervised on synthetic notes
whose true parameters are known, and on real audio.
"""

import functools
from typing import Dict, Optional, Text, Tuple

import tensorflow as tf

from ddsp import core
from ddsp import effects
from ddsp import processors
from ddsp import synths
from ddsp.training.models import model

TensorDict = Dict[Text, tf.Tensor]


class InverseSynthesis(model.Model):
  """Sinusoidal and harmonic analysis-by-synthesis of audio.

  Batches: a feature dict with `audio`; a dict of synthetic notes (with
  `sin_amps`, `sin_freqs`, `noise_magnitudes`, `harm_amp`, `harm_dist`,
  `f0_hz`), whose audio is rendered first; or a (synthetic, real) pair from a
  `ZippedProvider`, analysed as one batch (synthetic examples first).

  Losses (computed whether or not training, as in ddsp 3.7.0):
  - `sin_<loss>`, `harm_<loss>`: each loss in `losses` between the audio and
    `sin_audio` / `harm_audio`.
  - `sinusoidal_consistency_losses` between the sinusoids and the harmonics
    rendered as sinusoids, `twm_loss` of f0 against the sinusoids and the
    `harmonic_distribution_prior`, under their own names.
  - For synthetic examples, `ss_<name>` for the sinusoidal consistency losses
    and the `filtered_noise_consistency_loss` against the true parameters,
    and the `harmonic_consistency_losses` against the true harmonic
    parameters (`ss_harm_amp_loss`, `ss_harm_dist_loss`, `ss_f0_hz_loss`).
  """

  def __init__(self,
               sinusoidal_encoder=None,
               harmonic_encoder=None,
               losses=None,
               sinusoidal_consistency_losses=None,
               harmonic_consistency_losses=None,
               filtered_noise_consistency_loss=None,
               twm_loss=None,
               harmonic_distribution_prior=None,
               freq_scale_fn=None,
               reverb: bool = True,
               n_samples: int = 64000,
               sample_rate: int = 16000,
               stop_gradient: bool = True,
               **kwargs):
    super().__init__(**kwargs)
    self.sinusoidal_encoder = sinusoidal_encoder
    self.harmonic_encoder = harmonic_encoder
    self.loss_objs = list(core.make_iterable(losses))
    self.sinusoidal_consistency_losses = list(
        core.make_iterable(sinusoidal_consistency_losses))
    self.harmonic_consistency_losses = list(
        core.make_iterable(harmonic_consistency_losses))
    self.filtered_noise_consistency_loss = filtered_noise_consistency_loss
    self.twm_loss = twm_loss
    self.harmonic_distribution_prior = harmonic_distribution_prior
    self.freq_scale_fn = freq_scale_fn or functools.partial(
        core.frequencies_softmax, depth=64)
    self.reverb = reverb
    self.n_samples = n_samples
    self.sample_rate = sample_rate
    self.stop_gradient = stop_gradient
    self.processor_group = self._processor_group()

  def _processor_group(self) -> processors.ProcessorGroup:
    """Sinusoids + filtered noise (+ learned reverb), no scale functions."""
    dag = [
        (synths.Sinusoidal(n_samples=self.n_samples,
                           sample_rate=self.sample_rate, amp_scale_fn=None,
                           freq_scale_fn=None),
         ['amplitudes', 'frequencies']),
        (synths.FilteredNoise(n_samples=self.n_samples, window_size=0,
                              scale_fn=None), ['noise_magnitudes']),
        (processors.Add(), ['filtered_noise/signal', 'sinusoidal/signal']),
    ]
    if self.reverb:
      dag.append((effects.FilteredNoiseReverb(
          reverb_length=2 * self.sample_rate, window_size=257, n_frames=500,
          n_filter_banks=16, trainable=True), ['add/signal']))
    return processors.ProcessorGroup(dag=dag)

  def _render(self, amplitudes, frequencies, noise_magnitudes) -> TensorDict:
    return self.processor_group(
        {'amplitudes': amplitudes, 'frequencies': frequencies,
         'noise_magnitudes': noise_magnitudes}, return_outputs_dict=True)

  def generate_synthetic_audio(self, features: TensorDict) -> tf.Tensor:
    """Dry audio [B, n_samples] of `sin_amps`, `sin_freqs`, `noise_magnitudes`."""
    outputs = self._render(features['sin_amps'], features['sin_freqs'],
                           features['noise_magnitudes'])
    return outputs['controls']['add']['signal']

  def parse_zipped_features(
      self, features) -> Tuple[TensorDict, Optional[TensorDict]]:
    """(features to analyse, synthetic features with true parameters or None)."""
    if isinstance(features, (tuple, list)):
      synthetic, real = features
      synthetic = dict(synthetic)
      synthetic['audio'] = self.generate_synthetic_audio(synthetic)
      audio = tf.concat([synthetic['audio'], core.tf_float32(real['audio'])],
                        axis=0)
      return {'audio': audio}, synthetic
    if 'sin_amps' in features:
      features['audio'] = self.generate_synthetic_audio(features)
      return features, features
    return features, None

  def forward(self, features: TensorDict, training: bool = True) -> TensorDict:
    """Sinusoidal (and harmonic) analysis and resynthesis of `audio`."""
    audio = features['audio']
    sinusoids = self.sinusoidal_encoder(audio, training=training)
    sin_freqs = self.freq_scale_fn(sinusoids['frequencies'])
    sin_amps = core.exp_sigmoid(sinusoids['amplitudes'])
    noise_magnitudes = core.exp_sigmoid(sinusoids['noise_magnitudes'])
    rendered = self._render(sin_amps, sin_freqs, noise_magnitudes)
    outputs = dict(rendered['controls'])
    outputs.update(audio=audio, noise_magnitudes=noise_magnitudes,
                   sin_audio=rendered['signal'], sin_amps=sin_amps,
                   sin_freqs=sin_freqs)
    if self.harmonic_encoder is None:
      return outputs
    if self.stop_gradient:
      sin_freqs = tf.stop_gradient(sin_freqs)
      sin_amps = tf.stop_gradient(sin_amps)
      noise_magnitudes = tf.stop_gradient(noise_magnitudes)
    harmonics = self.harmonic_encoder(sin_freqs, sin_amps, training=training)
    harm_amps, harm_freqs = core.harmonic_to_sinusoidal(
        harmonics['harm_amp'], harmonics['harm_dist'], harmonics['f0_hz'],
        self.sample_rate)
    harm_rendered = self._render(harm_amps, harm_freqs, noise_magnitudes)
    outputs.update(harmonics)
    outputs.update(harm_audio=harm_rendered['signal'], harm_freqs=harm_freqs,
                   harm_amps=harm_amps)
    return outputs

  def append_losses(self, outputs: TensorDict,
                    self_supervised_features: Optional[TensorDict] = None):
    """Adds the losses described in the class docstring."""
    has_harmonics = self.harmonic_encoder is not None
    for loss_obj in self.loss_objs:
      self._losses_dict['sin_' + loss_obj.name] = loss_obj(
          outputs['audio'], outputs['sin_audio'])
      if has_harmonics:
        self._losses_dict['harm_' + loss_obj.name] = loss_obj(
            outputs['audio'], outputs['harm_audio'])
    if has_harmonics:
      self._update_losses_dict(
          self.sinusoidal_consistency_losses, outputs['sin_amps'],
          outputs['sin_freqs'], outputs['harm_amps'], outputs['harm_freqs'])
      self._update_losses_dict(self.twm_loss, outputs['f0_hz'],
                               outputs['sin_freqs'], outputs['sin_amps'])
      self._update_losses_dict(self.harmonic_distribution_prior,
                               outputs['harm_dist'])
    if self_supervised_features is not None:
      self._append_self_supervised_losses(outputs, self_supervised_features)

  def _append_self_supervised_losses(self, outputs: TensorDict,
                                     truth: TensorDict) -> None:
    """Losses against the true parameters of the synthetic examples."""
    n = tf.shape(truth['sin_amps'])[0]
    predicted = {k: v[:n] for k, v in outputs.items()
                 if isinstance(v, tf.Tensor)}
    ss_losses = {}
    for loss_obj in self.sinusoidal_consistency_losses:
      ss_losses.update(loss_obj.get_losses_dict(
          predicted['sin_amps'], predicted['sin_freqs'], truth['sin_amps'],
          truth['sin_freqs']))
    if self.filtered_noise_consistency_loss is not None:
      ss_losses.update(self.filtered_noise_consistency_loss.get_losses_dict(
          predicted['noise_magnitudes'], truth['noise_magnitudes']))
    if self.harmonic_encoder is not None:
      for loss_obj in self.harmonic_consistency_losses:
        ss_losses.update(loss_obj.get_losses_dict(
            predicted['harm_amp'], truth['harm_amp'], predicted['harm_dist'],
            truth['harm_dist'], predicted['f0_hz'], truth['f0_hz']))
    self._losses_dict.update({'ss_' + k: v for k, v in ss_losses.items()})

  def call(self, features, training: bool = True) -> TensorDict:
    features, self_supervised_features = self.parse_zipped_features(features)
    outputs = self.forward(features, training=training)
    self.append_losses(outputs, self_supervised_features)
    return outputs

  def get_audio_from_outputs(self, outputs: TensorDict) -> tf.Tensor:
    key = 'harm_audio' if self.harmonic_encoder is not None else 'sin_audio'
    return outputs[key]
