"""Encoders: audio or features -> latents (z) or synthesizer parameters.

`ZEncoder`s compute a latent `z` and bring it to the frame count of
`f0_scaled` ([B, T, z_dims]). The other encoders (inverse synthesis and MIDI)
return named parameters.

Fixes of ddsp 3.7.0 bugs (behaviour as evidently intended):
- `MfccEncoder` called an undefined `self.nom_out` (AttributeError on every
  call); it now normalises the concatenated multi-resolution MFCCs with its
  own instance norm `norm_out`.
- `MfccRnnEncoder(mean_aggregate=False)` applied `tf.concat` to a single
  tensor, concatenating batch items along features; it now keeps the RNN
  output per frame.
- `ExpressionEncoder` with 'audio' among its input keys popped from a tuple
  (TypeError); the inputs are now a list.
- `ResnetSinusoidalEncoder`'s default `size='tiny'` named no ResNet size
  (KeyError); 'tiny' now means the smallest ResNet, 'small' (which the shipped
  configs use).
"""

import functools
from typing import Callable, Optional, Sequence, Text, Tuple

import tensorflow as tf

from ddsp import core
from ddsp import registration
from ddsp import spectral_ops
from ddsp.training import nn

tfkl = nn.tfkl
Splits = Sequence[Tuple[Text, int]]


def _net_output(x):
  """A network's output, also from a DAG-style dict (`{'out': ...}`)."""
  return x['out'] if isinstance(x, dict) else x


def _normalized_mfccs(norm: tfkl.Layer, audio, **mfcc_kwargs) -> tf.Tensor:
  """MFCCs [B, T, n] of `audio` [B, N], normalised by `norm` (on [B, T, 1, n])."""
  mfccs = spectral_ops.compute_mfcc(audio, lo_hz=20.0, hi_hz=8000.0,
                                    pad_end=True, **mfcc_kwargs)
  return norm(mfccs[:, :, tf.newaxis, :])[:, :, 0, :]


# ------------------------------------------------------------------------------
# Latent (z) encoders
# ------------------------------------------------------------------------------
class ZEncoder(nn.DictLayer):
  """Base class of latent encoders: `compute_z`, then `z` at f0's frames.

  Input keys default to the arguments of `compute_z`; 'f0_scaled' is always
  appended as a last input, only to read the number of frames T. Output
  `{'z': [B, T, z_dims]}`: a 2-D z is given a time axis, and z is linearly
  resampled to T frames when its frame count differs.
  """

  def __init__(self, input_keys: Optional[Sequence[Text]] = None, **kwargs):
    input_keys = list(input_keys or [
        p.name for p in nn._positional_parameters(self.compute_z)])  # pylint: disable=protected-access
    super().__init__(input_keys=input_keys + ['f0_scaled'],
                     output_keys=['z'], **kwargs)

  def get_config(self):
    config = super().get_config()
    if 'input_keys' in config:
      config['input_keys'] = list(self.input_keys[:-1])
    return config

  def call(self, *inputs):
    z = self.compute_z(*inputs[:-1])
    return self.expand_z(z, int(inputs[-1].shape[1]))

  def expand_z(self, z: tf.Tensor, time_steps: int) -> tf.Tensor:
    """[B, C] or [B, T', C] -> [B, time_steps, C]."""
    if len(z.shape) == 2:
      z = z[:, tf.newaxis, :]
    if z.shape[1] != time_steps:
      z = core.resample(z, time_steps)
    return z

  def compute_z(self, *inputs) -> tf.Tensor:
    """The latent, [B, C] or [B, T', C]."""
    raise NotImplementedError


# Frames of z for 4 s of audio -> (fft_size, overlap) of the MFCCs.
_MFCC_TIME_STEPS = {63: (2048, 0.5), 125: (1024, 0.5), 250: (1024, 0.75),
                    500: (512, 0.75), 1000: (256, 0.75)}


@registration.register
class MfccTimeDistributedRnnEncoder(ZEncoder):
  """MFCCs (30 of 128 mel bins, 20 Hz-8 kHz) -> instance norm -> RNN -> Dense.

  `z_time_steps` (frames for 4 s) picks the MFCC fft size and overlap:
  63: 2048/0.5, 125: 1024/0.5, 250: 1024/0.75, 500: 512/0.75, 1000: 256/0.75.

  Raises:
    ValueError: For another `z_time_steps`.
  """

  _config_args = ('rnn_channels', 'rnn_type', 'z_dims', 'z_time_steps')

  def __init__(self, rnn_channels: int = 512, rnn_type: Text = 'gru',
               z_dims: int = 32, z_time_steps: int = 250, **kwargs):
    super().__init__(**kwargs)
    if z_time_steps not in _MFCC_TIME_STEPS:
      raise ValueError(f'Received an invalid value for `z_time_steps`, '
                       f'expected one of {sorted(_MFCC_TIME_STEPS)}. '
                       f'Received: z_time_steps={z_time_steps}')
    self.rnn_channels, self.rnn_type = rnn_channels, rnn_type
    self.z_dims, self.z_time_steps = z_dims, z_time_steps
    self.fft_size, self.overlap = _MFCC_TIME_STEPS[z_time_steps]
    self.z_norm = nn.Normalize('instance')
    self.rnn = nn.Rnn(rnn_channels, rnn_type)
    self.dense_out = tfkl.Dense(z_dims)

  def compute_z(self, audio):
    mfccs = _normalized_mfccs(self.z_norm, audio, fft_size=self.fft_size,
                              mel_bins=128, mfcc_bins=30, overlap=self.overlap)
    return self.dense_out(self.rnn(mfccs))


@registration.register
class MfccEncoder(ZEncoder):
  """Multi-resolution MFCCs resampled to `time_steps`, concatenated, normed.

  For each (fft_size, mel_bins, mfcc_bins): MFCCs (overlap 0.75) resampled to
  `time_steps` frames; the concatenation is normalised per coefficient
  (instance norm `norm_out`). z [B, time_steps, sum(mfcc_bins)].
  """

  _config_args = ('fft_sizes', 'mel_bins', 'mfcc_bins', 'time_steps')

  def __init__(self, fft_sizes: Sequence[int] = (1024,),
               mel_bins: Sequence[int] = (128,),
               mfcc_bins: Sequence[int] = (30,), time_steps: int = 250,
               **kwargs):
    super().__init__(**kwargs)
    self.fft_sizes = list(fft_sizes)
    self.mel_bins = list(mel_bins)
    self.mfcc_bins = list(mfcc_bins)
    self.time_steps = time_steps
    self.norm_out = nn.Normalize('instance')

  def compute_z(self, audio):
    mfccs = []
    for fft_size, n_mels, n_mfccs in zip(self.fft_sizes, self.mel_bins,
                                         self.mfcc_bins):
      mfcc = spectral_ops.compute_mfcc(audio, lo_hz=20.0, hi_hz=8000.0,
                                       fft_size=fft_size, mel_bins=n_mels,
                                       mfcc_bins=n_mfccs)
      mfccs.append(core.resample(mfcc, self.time_steps))
    return self.norm_out(tf.concat(mfccs, axis=-1))


@registration.register
class MfccRnnEncoder(ZEncoder):
  """MFCCs (1024, 128 mels, 30) -> instance norm -> RNN -> Dense(z_dims).

  With `mean_aggregate` the RNN output is averaged over time (one z per
  example), else z is per frame.
  """

  _config_args = ('rnn_channels', 'rnn_type', 'z_dims', 'mean_aggregate')

  def __init__(self, rnn_channels: int = 512, rnn_type: Text = 'gru',
               z_dims: int = 512, mean_aggregate: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.rnn_channels, self.rnn_type = rnn_channels, rnn_type
    self.z_dims, self.mean_aggregate = z_dims, mean_aggregate
    self.z_norm = nn.Normalize('instance')
    self.rnn = nn.Rnn(rnn_channels, rnn_type)
    self.dense_z = tfkl.Dense(z_dims)

  def compute_z(self, audio):
    mfccs = _normalized_mfccs(self.z_norm, audio, fft_size=1024, mel_bins=128,
                              mfcc_bins=30)
    z = self.rnn(mfccs)
    if self.mean_aggregate:
      z = tf.reduce_mean(z, axis=1)
    return self.dense_z(z)


@registration.register
class AggregateFeaturesEncoder(ZEncoder):
  """Dense(ch) of [f0_scaled, ld_scaled], averaged over time: one z per example."""

  _config_args = ('ch',)

  def __init__(self, ch: int = 512, **kwargs):
    super().__init__(**kwargs)
    self.ch = ch
    self.dense_z = tfkl.Dense(ch)

  def compute_z(self, f0_scaled, ld_scaled):
    z = self.dense_z(tf.concat([f0_scaled, ld_scaled], axis=-1))
    return tf.reduce_mean(z, axis=1)


@registration.register
class OneHotEncoder(ZEncoder):
  """An embedding of an integer label (e.g. the instrument id).

  z [B, 1, n_dims]; with `skip_expand` it is not resampled to f0's frames
  (it broadcasts over time).
  """

  _config_args = ('one_hot_key', 'vocab_size', 'n_dims', 'skip_expand')

  def __init__(self, one_hot_key: Text = 'instrument', vocab_size: int = 1024,
               n_dims: int = 256, skip_expand: bool = True, **kwargs):
    super().__init__(input_keys=[one_hot_key], **kwargs)
    self.one_hot_key, self.vocab_size = one_hot_key, vocab_size
    self.n_dims, self.skip_expand = n_dims, skip_expand
    self.embedding = nn.get_embedding(vocab_size, n_dims)

  def get_config(self):
    config = super().get_config()
    config.pop('input_keys', None)
    return config

  def compute_z(self, one_hot):
    z = self.embedding(tf.reshape(tf.cast(one_hot, tf.int32), [-1, 1]))
    return z  # [B, 1, n_dims].

  def expand_z(self, z, time_steps):
    return z if self.skip_expand else super().expand_z(z, time_steps)


@registration.register
class ExpressionEncoder(ZEncoder):
  """Concatenated features (and MFCCs if 'audio' is a key) -> net -> z.

  `net` (default identity), layer norm, Dense(z_dims); with `pool_time` z is
  averaged over time. MFCCs (`fft_size`, `mel_bins`, `mfcc_bins`) are
  instance-normalised and resampled to the frames of the other inputs.
  """

  _config_args = ('net', 'z_dims', 'input_keys', 'mfcc_bins', 'fft_size',
                  'mel_bins', 'pool_time')

  def __init__(self, net=None, z_dims: int = 128,
               input_keys: Sequence[Text] = ('f0_scaled', 'ld_scaled'),
               mfcc_bins: int = 60, fft_size: int = 1024, mel_bins: int = 128,
               pool_time: bool = True, **kwargs):
    super().__init__(input_keys=input_keys, **kwargs)
    self.net = net if net is not None else nn.Identity()
    self.z_dims, self.mfcc_bins = z_dims, mfcc_bins
    self.fft_size, self.mel_bins, self.pool_time = fft_size, mel_bins, pool_time
    self.mfcc_norm = nn.Normalize('instance')
    self.norm = nn.Normalize('layer')
    self.dense_z = tfkl.Dense(z_dims)

  def compute_z(self, *inputs):
    inputs = list(inputs)
    keys = list(self.input_keys[:-1])
    if 'audio' in keys:
      audio = inputs.pop(keys.index('audio'))
      mfccs = _normalized_mfccs(self.mfcc_norm, audio, fft_size=self.fft_size,
                                mel_bins=self.mel_bins,
                                mfcc_bins=self.mfcc_bins)
      if inputs:
        mfccs = core.resample(mfccs, int(inputs[0].shape[1]))
      inputs.append(mfccs)
    x = _net_output(self.net(tf.concat(inputs, axis=-1)))
    z = self.dense_z(self.norm(x))
    return tf.reduce_mean(z, axis=1) if self.pool_time else z


# ------------------------------------------------------------------------------
# Inverse synthesis encoders (ICML 2020 workshop, DDSP-inv)
# ------------------------------------------------------------------------------
_RESNET_SIZE_ALIASES = {'tiny': 'small'}


@registration.register
class ResnetSinusoidalEncoder(nn.DictLayer):
  """Audio -> spectrogram -> 2-D ResNet -> one Dense per output split.

  `spectral_fn(audio)` [B, T, F] is treated as an image [B, T, F, 1]; the
  ResNet strides along frequency only, its output is flattened per frame
  and mapped to each split (e.g. frequencies, amplitudes, noise magnitudes
  [B, T, size]; raw, unscaled). `size` 'tiny' (the default) is 'small'.
  """

  _config_args = ('output_splits', 'spectral_fn', 'size')

  def __init__(self, output_splits: Splits = (('frequencies', 6400),
                                              ('amplitudes', 100),
                                              ('noise_magnitudes', 60)),
               spectral_fn: Callable = spectral_ops.compute_logmel,
               size: Text = 'tiny', **kwargs):
    super().__init__(output_keys=[name for name, _ in output_splits],
                     **kwargs)
    self.output_splits = [tuple(split) for split in output_splits]
    self.spectral_fn = spectral_fn
    self.size = size
    self.resnet = nn.ResNet(size=_RESNET_SIZE_ALIASES.get(size, size))
    self.dense_outs = [tfkl.Dense(n) for _, n in output_splits]

  def call(self, audio):
    x = self.spectral_fn(audio)[..., tf.newaxis]
    x = self.resnet(x)
    shape = tf.shape(x)
    x = tf.reshape(x, [shape[0], shape[1], x.shape[2] * x.shape[3]])
    return {name: dense(x)
            for (name, _), dense in zip(self.output_splits, self.dense_outs)}


@registration.register
class SinusoidalToHarmonicEncoder(nn.DictLayer):
  """Sinusoids -> harmonic amplitude, distribution and f0.

  Frequencies are mapped to [0, 1] (`hz_to_unit(f, 0, sr / 2)`), joined with
  amplitudes and passed through `net`; Dense heads give the amplitude (1),
  the distribution (n_harmonics) and f0 logits (f0_depth). `amp_scale_fn`
  scales amplitude and distribution, `freq_scale_fn` maps the logits to Hz;
  harmonics at or above Nyquist are zeroed and the distribution renormalised.
  Outputs [B, T, 1], [B, T, n_harmonics], [B, T, 1] (Hz).
  """

  _config_args = ('net', 'n_harmonics', 'f0_depth', 'amp_scale_fn',
                  'freq_scale_fn', 'sample_rate')

  def __init__(self, net=None, n_harmonics: int = 100, f0_depth: int = 64,
               amp_scale_fn: Optional[Callable] = core.exp_sigmoid,
               freq_scale_fn: Optional[Callable] = functools.partial(
                   core.frequencies_softmax, depth=64, hz_min=20.0,
                   hz_max=1200.0),
               sample_rate: int = 16000, **kwargs):
    super().__init__(**kwargs)
    self.net = net if net is not None else nn.Identity()
    self.n_harmonics, self.f0_depth = n_harmonics, f0_depth
    self.amp_scale_fn, self.freq_scale_fn = amp_scale_fn, freq_scale_fn
    self.sample_rate = sample_rate
    self.amp_out = tfkl.Dense(1)
    self.hd_out = tfkl.Dense(n_harmonics)
    self.f0_out = tfkl.Dense(f0_depth)

  def call(self, sin_freqs, sin_amps) -> ['harm_amp', 'harm_dist', 'f0_hz']:
    freqs_unit = core.hz_to_unit(sin_freqs, hz_min=0.0,
                                 hz_max=self.sample_rate / 2.0)
    x = _net_output(self.net(tf.concat([freqs_unit, sin_amps], axis=-1)))
    harm_amp = self.amp_out(x)
    harm_dist = self.hd_out(x)
    f0_hz = self.f0_out(x)
    if self.amp_scale_fn is not None:
      harm_amp = self.amp_scale_fn(harm_amp)
      harm_dist = self.amp_scale_fn(harm_dist)
    if self.freq_scale_fn is not None:
      f0_hz = self.freq_scale_fn(f0_hz)
    harm_dist = core.normalize_harmonics(harm_dist, f0_hz, self.sample_rate)
    return harm_amp, harm_dist, f0_hz


# ------------------------------------------------------------------------------
# MIDI encoders (EXPERIMENTAL)
# ------------------------------------------------------------------------------
class _MidiEncoderBase(nn.DictLayer):
  """`net(concat(inputs))`, layer norm, Dense(2) -> (z_pitch, z_vel)."""

  _config_args = ('net', 'f0_residual')

  def __init__(self, net=None, f0_residual: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.net = net if net is not None else nn.Identity()
    self.f0_residual = f0_residual
    self.norm = nn.Normalize('layer')
    self.dense_out = tfkl.Dense(2)

  def encode(self, f0_midi, *features):
    x = _net_output(self.net(tf.concat([f0_midi, *features], axis=-1)))
    z_pitch, z_vel = tf.split(self.dense_out(self.norm(x)), 2, axis=-1)
    if self.f0_residual:
      z_pitch += f0_midi
    return z_pitch, z_vel


@registration.register
class MidiEncoder(_MidiEncoderBase):
  """(f0_midi, loudness) [B, T, 1] -> (z_pitch, z_vel) [B, T, 1]; z_pitch is
  a residual on f0_midi if `f0_residual`."""

  def call(self, f0_midi, loudness) -> ['z_pitch', 'z_vel']:
    return self.encode(f0_midi, loudness)


@registration.register
class HarmonicToMidiEncoder(_MidiEncoderBase):
  """(f0_midi, amps, hd, noise) -> (z_pitch, z_vel) [B, T, 1]: MIDI latents
  from harmonic synthesizer controls (amplitude, harmonic distribution and
  noise magnitudes, e.g. in dB)."""

  def call(self, f0_midi, amps, hd, noise) -> ['z_pitch', 'z_vel']:
    return self.encode(f0_midi, amps, hd, noise)
