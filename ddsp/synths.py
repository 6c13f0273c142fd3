"""Synthesizers: processors that generate audio from frame-rate controls.

Every synth takes controls at the frame rate ([batch, n_frames, ...]) and
renders `n_samples` of audio ([batch, n_samples]); the number of frames is
read from the controls.
"""

from typing import Callable, Optional, Text

import tensorflow as tf

from ddsp import core
from ddsp import processors
from ddsp import registration
from ddsp import validation
from ddsp.dsp import resampling


@registration.register
class TensorToAudio(processors.Processor):
  """Passes audio samples [B, N, 1] through as [B, N]."""

  def __init__(self, name: Text = 'tensor_to_audio', **kwargs):
    super().__init__(name=name, **kwargs)

  def get_controls(self, samples) -> processors.TensorDict:
    samples = core.check_rank(samples, 3, 'samples', '[batch, n_samples, 1]')
    return {'samples': samples}

  def get_signal(self, samples) -> tf.Tensor:
    return tf.squeeze(samples, axis=2)


@registration.register
class Harmonic(processors.Processor):
  """Additive harmonic synthesizer (integer multiples of f0).

  Controls: `scale_fn` (default `exp_sigmoid`) maps raw amplitudes and the
  harmonic distribution to positive values; the distribution is normalised to
  sum to 1 over the harmonics below Nyquist. Signal: `core.harmonic_synthesis`.
  """

  _config_args = ('n_samples', 'sample_rate', 'scale_fn',
                  'normalize_below_nyquist', 'amp_resample_method',
                  'use_angular_cumsum')
  _function_args = ('scale_fn',)

  def __init__(self,
               n_samples: int = 64000,
               sample_rate: int = 16000,
               scale_fn: Optional[Callable] = core.exp_sigmoid,
               normalize_below_nyquist: bool = True,
               amp_resample_method: Text = 'window',
               use_angular_cumsum: bool = False,
               name: Text = 'harmonic',
               **kwargs):
    """Constructor.

    Args:
      n_samples: Samples of audio to render.
      sample_rate: Audio sample rate in Hz.
      scale_fn: Scaling of raw amplitudes and distribution, or None.
      normalize_below_nyquist: Drop harmonics >= Nyquist before normalising.
      amp_resample_method: Amplitude upsampling ('window', 'linear', 'cubic'
        or 'nearest').
      use_angular_cumsum: Passed to `core.harmonic_synthesis`.
      name: Layer name.
      **kwargs: Keras layer keywords.
    """
    super().__init__(name=name, **kwargs)
    self.n_samples = validation.positive_int(n_samples, 'n_samples')
    self.sample_rate = validation.positive_number(sample_rate, 'sample_rate')
    self.scale_fn = validation.optional_callable(scale_fn, 'scale_fn')
    self.normalize_below_nyquist = normalize_below_nyquist
    self.amp_resample_method = validation.one_of(
        amp_resample_method, 'amp_resample_method',
        resampling.RESAMPLE_METHODS)
    self.use_angular_cumsum = use_angular_cumsum

  def get_controls(self, amplitudes, harmonic_distribution,
                   f0_hz) -> processors.TensorDict:
    """Scales and normalises raw controls.

    Args:
      amplitudes: [B, T, 1] raw overall amplitude.
      harmonic_distribution: [B, T, n_harmonics] raw harmonic weights.
      f0_hz: [B, T, 1] fundamental frequency in Hz.

    Returns:
      Dict of `amplitudes`, `harmonic_distribution` (sums to 1) and `f0_hz`.
    """
    amplitudes = core.check_rank(amplitudes, 3, 'amplitudes',
                                 '[batch, n_frames, 1]')
    harmonic_distribution = core.check_rank(
        harmonic_distribution, 3, 'harmonic_distribution',
        '[batch, n_frames, n_harmonics]')
    f0_hz = core.check_rank(f0_hz, 3, 'f0_hz', '[batch, n_frames, 1]')
    processors.check_matching_frames(
        amplitudes=amplitudes, harmonic_distribution=harmonic_distribution,
        f0_hz=f0_hz)
    if self.scale_fn is not None:
      amplitudes = self.scale_fn(amplitudes)
      harmonic_distribution = self.scale_fn(harmonic_distribution)
    sample_rate = self.sample_rate if self.normalize_below_nyquist else None
    harmonic_distribution = core.normalize_harmonics(harmonic_distribution,
                                                     f0_hz, sample_rate)
    return {'amplitudes': amplitudes,
            'harmonic_distribution': harmonic_distribution,
            'f0_hz': f0_hz}

  def get_signal(self, amplitudes, harmonic_distribution,
                 f0_hz) -> tf.Tensor:
    """Renders [B, n_samples] audio from scaled controls."""
    return core.harmonic_synthesis(
        frequencies=f0_hz,
        amplitudes=amplitudes,
        harmonic_distribution=harmonic_distribution,
        n_samples=self.n_samples,
        sample_rate=self.sample_rate,
        amp_resample_method=self.amp_resample_method,
        use_angular_cumsum=self.use_angular_cumsum)



@registration.register
class FilteredNoise(processors.Processor):
  """Uniform white noise filtered by time-varying magnitude responses.

  Controls: `scale_fn(magnitudes + initial_bias)` (the bias only applies with
  a scale_fn). Signal: noise in [-1, 1) through `core.frequency_filter`; one
  block of `n_samples / n_frames` samples per frame. A fresh noise draw per
  call.
  """

  _config_args = ('n_samples', 'window_size', 'scale_fn', 'initial_bias')
  _function_args = ('scale_fn',)

  def __init__(self,
               n_samples: int = 64000,
               window_size: int = 257,
               scale_fn: Optional[Callable] = core.exp_sigmoid,
               initial_bias: float = -5.0,
               name: Text = 'filtered_noise',
               **kwargs):
    """Constructor.

    Args:
      n_samples: Samples of audio to render.
      window_size: FIR length (see `core.apply_window_to_impulse_response`);
        <= 0 uses the full IR and delays the output by 2 samples.
      scale_fn: Scaling of raw magnitudes, or None.
      initial_bias: Added to raw magnitudes before `scale_fn`.
      name: Layer name.
      **kwargs: Keras layer keywords.
    """
    super().__init__(name=name, **kwargs)
    self.n_samples = validation.positive_int(n_samples, 'n_samples')
    self.window_size = validation.integer(window_size, 'window_size')
    self.scale_fn = validation.optional_callable(scale_fn, 'scale_fn')
    self.initial_bias = initial_bias

  def get_controls(self, magnitudes) -> processors.TensorDict:
    """Args: magnitudes [B, T, n_bands], bands spaced evenly 0 Hz..Nyquist."""
    magnitudes = core.check_rank(magnitudes, 3, 'magnitudes',
                                 '[batch, n_frames, n_bands]')
    if self.scale_fn is not None:
      magnitudes = self.scale_fn(magnitudes + self.initial_bias)
    return {'magnitudes': magnitudes}

  def get_signal(self, magnitudes) -> tf.Tensor:
    """Renders [B, n_samples] filtered noise."""
    batch_size = tf.shape(magnitudes)[0]
    signal = tf.random.uniform([batch_size, self.n_samples], minval=-1.0,
                               maxval=1.0)
    return core.frequency_filter(signal, magnitudes,
                                 window_size=self.window_size)



@registration.register
class Wavetable(processors.Processor):
  """Wavetable oscillator with time-varying tables.

  Controls: `scale_fn` on amplitudes and wavetables. Signal:
  `core.wavetable_synthesis` (tables interpolated linearly between frames).
  """

  _config_args = ('n_samples', 'sample_rate', 'scale_fn')
  _function_args = ('scale_fn',)

  def __init__(self,
               n_samples: int = 64000,
               sample_rate: int = 16000,
               scale_fn: Optional[Callable] = core.exp_sigmoid,
               name: Text = 'wavetable',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.n_samples = validation.positive_int(n_samples, 'n_samples')
    self.sample_rate = validation.positive_number(sample_rate, 'sample_rate')
    self.scale_fn = validation.optional_callable(scale_fn, 'scale_fn')

  def get_controls(self, amplitudes, wavetables,
                   f0_hz) -> processors.TensorDict:
    """Args: amplitudes [B, T, 1]; wavetables [B, T, W]; f0_hz [B, T, 1] Hz."""
    amplitudes = core.check_rank(amplitudes, 3, 'amplitudes',
                                 '[batch, n_frames, 1]')
    wavetables = core.check_rank(wavetables, 3, 'wavetables',
                                 '[batch, n_frames, n_wavetable]')
    f0_hz = core.check_rank(f0_hz, 3, 'f0_hz', '[batch, n_frames, 1]')
    if self.scale_fn is not None:
      amplitudes = self.scale_fn(amplitudes)
      wavetables = self.scale_fn(wavetables)
    return {'amplitudes': amplitudes, 'wavetables': wavetables, 'f0_hz': f0_hz}

  def get_signal(self, amplitudes, wavetables, f0_hz) -> tf.Tensor:
    """Renders [B, n_samples] audio."""
    return core.wavetable_synthesis(amplitudes=amplitudes,
                                    wavetables=wavetables,
                                    frequencies=f0_hz,
                                    n_samples=self.n_samples,
                                    sample_rate=self.sample_rate)



@registration.register
class Sinusoidal(processors.Processor):
  """Bank of freely tuned sinusoids.

  Controls: `amp_scale_fn` on amplitudes; `freq_scale_fn` maps raw frequency
  logits to Hz, and only then are sinusoids >= Nyquist silenced. Signal:
  `core.oscillator_bank` on upsampled envelopes.
  """

  _config_args = ('n_samples', 'sample_rate', 'amp_scale_fn',
                  'amp_resample_method', 'freq_scale_fn')
  _function_args = ('amp_scale_fn', 'freq_scale_fn')

  def __init__(self,
               n_samples: int = 64000,
               sample_rate: int = 16000,
               amp_scale_fn: Optional[Callable] = core.exp_sigmoid,
               amp_resample_method: Text = 'window',
               freq_scale_fn: Optional[Callable] = (
                   core.frequencies_sigmoid),
               name: Text = 'sinusoidal',
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.n_samples = validation.positive_int(n_samples, 'n_samples')
    self.sample_rate = validation.positive_number(sample_rate, 'sample_rate')
    self.amp_scale_fn = validation.optional_callable(amp_scale_fn,
                                                     'amp_scale_fn')
    self.amp_resample_method = validation.one_of(
        amp_resample_method, 'amp_resample_method',
        resampling.RESAMPLE_METHODS)
    self.freq_scale_fn = validation.optional_callable(freq_scale_fn,
                                                      'freq_scale_fn')

  def get_controls(self, amplitudes, frequencies) -> processors.TensorDict:
    """Args: amplitudes [B, T, n_sinusoids]; frequencies [B, T, n_sinusoids]."""
    amplitudes = core.check_rank(amplitudes, 3, 'amplitudes',
                                 '[batch, n_frames, n_sinusoids]')
    frequencies = core.tf_float32(frequencies)
    if self.amp_scale_fn is not None:
      amplitudes = self.amp_scale_fn(amplitudes)
    if self.freq_scale_fn is not None:
      frequencies = self.freq_scale_fn(frequencies)
      amplitudes = core.remove_above_nyquist(frequencies, amplitudes,
                                             self.sample_rate)
    return {'amplitudes': amplitudes, 'frequencies': frequencies}

  def get_signal(self, amplitudes, frequencies) -> tf.Tensor:
    """Renders [B, n_samples] audio."""
    frequency_envelopes, amplitude_envelopes = resampling.control_envelopes(
        frequencies, amplitudes, self.n_samples, self.amp_resample_method)
    return core.oscillator_bank(frequency_envelopes=frequency_envelopes,
                                amplitude_envelopes=amplitude_envelopes,
                                sample_rate=self.sample_rate)

