"""Harmonic-plus-filtered-noise synthesis of whole hops, as TFLite builtins.

`render_hops` turns frame-rate controls into audio one hop per frame, with
everything that links consecutive hops carried in an explicit `state` vector,
so a model that renders one hop per call (streaming) and one that renders many
(batch) give the same samples. It is written with ops that convert to TFLite
builtins only: no complex tensors, no FFT (the noise filter is a time-domain
FIR, a depthwise convolution), no float64.

Controls are the outputs of the synths' `get_controls` (already scaled):
`amplitudes` >= 0, `harmonic_distribution` >= 0 (normalised here, below
Nyquist, as `core.normalize_harmonics`), `noise_magnitudes` >= 0 on bands
evenly spaced from 0 Hz to Nyquist, `f0_hz` in Hz. White noise, uniform in
[-1, 1) as `synths.FilteredNoise` draws it, is an input, so renders are
reproducible and testable.

Two alignments of frames to samples (`SynthConfig.alignment`):
- 'vst': the call for frame j renders hop j. Controls move from frame j - 1 to
  frame j as `core.resample` moves over two frames `[prev, current]` into one
  hop: over the first half of the hop, then held. This is
  `core.streaming_harmonic_synthesis` as ddsp 3.7.0's `VSTSynthesize` calls it,
  and the DDSP-VST plugin's "midway lerp". The noise filter's tail overlaps
  into the next hop (no clicks); its output lags the harmonic part by the FIR's
  group-delay compensation `noise_delay` (2 ms at 16 kHz with 128 taps).
- 'clip': the call for frame j renders hop j - 1 of what `synths.Harmonic` and
  `synths.FilteredNoise` render for the whole clip: controls move from frame
  j - 1 (at the hop's first sample) to frame j (at the next hop's first
  sample) with `amp_resample_method`, and the noise is the clip's
  `core.frequency_filter` output, sample for sample. One hop more latency.

Phase is accumulated exactly. A float32 `cumsum` of `2 pi f / sr` over a
320-sample hop is off by up to ~1e-5 cycles, the same amount every hop for a
steady tone, so a streamed harmonic would drift by a noticeable fraction of a
cycle within seconds. Here phase is kept in Hz x samples modulo the sample
rate as a coarse part (a multiple of 2**-8, whose sums are exact) plus a
small fine part, and products of frequency and sample counts are split so
that their large parts are exact in float32 (`_phase_terms`). The carried
phase is exact to ~1e-9 cycles per hop; a chunk sums its hops' advances in
int64.
"""

import dataclasses
from typing import Dict, Text, Tuple

import numpy as np
import tensorflow as tf

from ddsp import core

ALIGNMENTS = ('vst', 'clip')
# `core.resample` methods whose two-frame interpolation is a fixed weight per
# sample; 'cubic' reaches two frames further, which a one-hop state can't.
_CLIP_METHODS = ('linear', 'window', 'nearest')
_MANTISSA_BITS = 24  # float32, counting the implicit bit.


@dataclasses.dataclass(frozen=True)
class SynthConfig:
  """What the synthesiser renders and how frames map to samples.

  Attributes:
    sample_rate: Audio sample rate in Hz.
    hop_size: Samples per frame (`sample_rate / frame_rate`).
    n_harmonics: Harmonics of the harmonic synth.
    n_noise_bands: Magnitudes of the filtered-noise synth.
    noise_window_size: `synths.FilteredNoise.window_size` (<= 0: full IR).
    amp_resample_method: `synths.Harmonic.amp_resample_method` for the
      harmonic amplitudes ('linear', 'window', 'nearest'; 'cubic' only with
      'vst' alignment). f0 is always interpolated linearly.
    alignment: 'vst' or 'clip' (see the module docstring).
  """
  sample_rate: int = 16000
  hop_size: int = 320
  n_harmonics: int = 60
  n_noise_bands: int = 65
  noise_window_size: int = 0
  amp_resample_method: Text = 'linear'
  alignment: Text = 'vst'

  def __post_init__(self):
    for name in ('sample_rate', 'hop_size', 'n_harmonics'):
      value = getattr(self, name)
      if int(value) != value or value < 1:
        raise ValueError(f'Received an invalid value for `{name}`, expected a '
                         f'positive integer. Received: {name}={value!r}')
    if int(self.n_noise_bands) != self.n_noise_bands or self.n_noise_bands < 2:
      raise ValueError(f'Received an invalid value for `n_noise_bands`, '
                       f'expected an integer >= 2. Received: '
                       f'n_noise_bands={self.n_noise_bands!r}')
    if self.alignment not in ALIGNMENTS:
      raise ValueError(f'Received an invalid value for `alignment`, expected '
                       f'one of {ALIGNMENTS}. Received: '
                       f'alignment={self.alignment!r}')
    methods = _CLIP_METHODS + (('cubic',) if self.alignment == 'vst' else ())
    if self.amp_resample_method not in methods:
      raise ValueError(f'Received an invalid value for `amp_resample_method` '
                       f'with alignment={self.alignment!r}, expected one of '
                       f'{methods}. Received: '
                       f'amp_resample_method={self.amp_resample_method!r}')
    if self.hop_size % 2 and 'window' in (self.amp_resample_method,):
      raise ValueError(f'amp_resample_method=\'window\' needs an even '
                       f'hop_size; received hop_size={self.hop_size}.')
    if _bits(self.sample_rate) + _bits(self.hop_size) > _MANTISSA_BITS + 4:
      raise ValueError(f'hop_size={self.hop_size} at sample_rate='
                       f'{self.sample_rate} is too long for exact float32 '
                       f'phase accumulation.')

  @property
  def noise_ir_size(self) -> int:
    """Taps of the noise FIR (`core.frequency_impulse_response`)."""
    fft_ir_size = 2 * (self.n_noise_bands - 1)
    window = self.noise_window_size
    if window <= 0 or window >= fft_ir_size:
      return fft_ir_size
    return 2 * ((window + 1) // 2) - 1

  @property
  def noise_delay(self) -> int:
    """Samples `frequency_filter` drops from the start of its convolution."""
    probe = core.crop_and_compensate_delay(
        np.arange(self.noise_ir_size)[np.newaxis], audio_size=1,
        ir_size=self.noise_ir_size, padding='same', delay_compensation=-1)
    return int(probe[0, 0])

  @property
  def noise_offset(self) -> int:
    """Position (<= 0) of the first output sample of a call's noise, relative
    to the first sample of the noise block that call filters."""
    return self.noise_delay - self.hop_size if self.alignment == 'clip' else 0

  @property
  def state_sizes(self) -> Dict[Text, int]:
    """Layout of the state vector, in order: name -> number of values.

    'phase': phase of the fundamental at the previous hop's last sample, as
    (coarse, fine) Hz x samples modulo the sample rate (cycles = (coarse +
    fine) / sample_rate); 'f0_hz': previous frame's f0; 'harmonic_amplitudes':
    previous frame's per-harmonic amplitudes (normalised, Nyquist-masked);
    'noise': not yet output noise samples (overlap of the FIR tails).
    """
    return {'phase': 2, 'f0_hz': 1, 'harmonic_amplitudes': self.n_harmonics,
            'noise': self.noise_ir_size - 1 - self.noise_offset}

  @property
  def state_size(self) -> int:
    return sum(self.state_sizes.values())

  def initial_state(self, f0_hz: float = 0.0) -> np.ndarray:
    """State before the first frame: silent, phase 0, previous f0 `f0_hz`."""
    state = np.zeros(self.state_size, np.float32)
    state[list(self.state_sizes).index('f0_hz') + 1] = f0_hz
    return state

  @property
  def latency(self) -> int:
    """Samples between a frame's time and the first sample it shapes."""
    return self.hop_size if self.alignment == 'clip' else 0


def _bits(n: int) -> int:
  """Bits of the integer part of values up to n."""
  return int(np.ceil(np.log2(n + 1)))


class _PhaseBits:
  """Fraction bits at which phase products are split to be exact.

  A frequency below `sample_rate` rounded to a multiple of 2**-b has at most
  `bits(sample_rate) + b` significant bits and a count <= hop_size rounded to
  a multiple of 2**-c at most `bits(hop_size) + c`; their product is exact in
  float32 when these add up to 24 bits.

  Attributes:
    steady: Fraction bits of the high part of f0 (counts are integers).
    glide, ramp: Of the f0 change and of the ramp (running sum of the
      interpolation weights); balanced so that the two leftover products,
      ~2**-glide * hop and ~2**-ramp * sample_rate, are about equal.
    coarse: Of coarse phase, so that sums below 4 * sample_rate are exact.
  """

  def __init__(self, sample_rate: int, hop_size: int):
    spare = _MANTISSA_BITS - _bits(sample_rate) - _bits(hop_size)
    self.steady = spare
    ratio = int(round(np.log2(sample_rate / hop_size)))
    self.ramp = (spare + ratio) // 2
    self.glide = spare - self.ramp
    self.coarse = _MANTISSA_BITS - _bits(4 * sample_rate)


def _interpolation_weights(config: SynthConfig, method: Text) -> np.ndarray:
  """[hop] weight of the current frame at each sample of the output hop.

  Any interpolation between two frames is `prev + (current - prev) * w`;
  `w` is `core.resample` applied to the frames [0, 1], over one hop ('vst')
  or over the first of two hops ('clip').
  """
  step = np.array([[[0.0], [1.0]]], np.float32)
  hop = config.hop_size
  if config.alignment == 'vst':
    weights = core.resample(step, hop, method=method)
  else:
    weights = core.resample(step, 2 * hop, method=method)[:, :hop]
  return weights.numpy()[0, :, 0]

class Constants:
  """Numpy constants of a `SynthConfig`, computed once per model."""

  def __init__(self, config: SynthConfig):
    self.config = config
    self.f0_weights = _interpolation_weights(config, 'linear')
    self.amp_weights = _interpolation_weights(config,
                                              config.amp_resample_method)
    self.bits = _PhaseBits(config.sample_rate, config.hop_size)
    # Inclusive running sums over the hop: the phase advance to sample n is
    # f0_prev * counts[n] + (f0 - f0_prev) * ramp[n], in Hz x samples.
    self.counts = np.arange(1, config.hop_size + 1, dtype=np.float32)
    ramp = np.cumsum(self.f0_weights.astype(np.float64))
    scale = 2.0**self.bits.ramp
    self.ramp_high = (np.round(ramp * scale) / scale).astype(np.float32)
    self.ramp_low = (ramp - self.ramp_high).astype(np.float32)
    self.ramp = ramp.astype(np.float32)
    self.harmonic_numbers = np.arange(1, config.n_harmonics + 1,
                                      dtype=np.float32)
    # IR of unit magnitude response k in row k: IRs are linear in the
    # magnitudes, so one matmul designs a frame's FIR.
    self.noise_basis = core.frequency_impulse_response(
        np.eye(config.n_noise_bands, dtype=np.float32),
        config.noise_window_size).numpy()


def _split(x: tf.Tensor, fraction_bits: int) -> Tuple[tf.Tensor, tf.Tensor]:
  """x = high + low, high a multiple of 2**-fraction_bits (both exact)."""
  scale = 2.0**fraction_bits
  high = tf.round(x * scale) / scale
  return high, x - high


def _phase_terms(consts: Constants, f0_prev: tf.Tensor,
                 f0_delta: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Phase advance to each sample of a hop, in Hz x samples, as coarse + fine.

  `f0_prev * counts[n] + f0_delta * ramp[n]` (inclusive, as
  `core.harmonic_oscillator_bank`: the first sample has already advanced).
  `coarse` is exact: in [0, 2 sample_rate), a multiple of 2**-coarse bits;
  `fine` is small (|fine| < ~2000 Hz x samples), rounded only there.

  Args:
    consts: Synth constants.
    f0_prev: [T, 1] f0 of the previous frame, Hz.
    f0_delta: [T, 1] f0 of the current frame minus f0_prev, Hz.

  Returns:
    (coarse, fine), each [T, hop].
  """
  sample_rate = float(consts.config.sample_rate)
  f_high, f_low = _split(f0_prev, consts.bits.steady)
  d_high, d_low = _split(f0_delta, consts.bits.glide)
  coarse = (tf.math.floormod(f_high * consts.counts, sample_rate) +
            tf.math.floormod(d_high * consts.ramp_high, sample_rate))
  fine = (f_low * consts.counts + d_high * consts.ramp_low +
          d_low * consts.ramp)
  return coarse, fine


def _advance(consts: Constants, coarse: tf.Tensor, fine: tf.Tensor,
             coarse_step: tf.Tensor, fine_step: tf.Tensor
             ) -> Tuple[tf.Tensor, tf.Tensor]:
  """Phase (coarse, fine) plus a step, with |fine| kept <= 2**-(coarse + 1).

  The fine sum's multiple of 2**-coarse moves into the coarse part, whose
  sums are exact; the coarse part is reduced modulo the sample rate.
  """
  fine_high, fine_low = _split(fine + fine_step, consts.bits.coarse)
  coarse = tf.math.floormod(coarse + coarse_step + fine_high,
                            float(consts.config.sample_rate))
  return coarse, fine_low


def _to_cycles(consts: Constants, coarse: tf.Tensor, fine: tf.Tensor,
               coarse_terms: tf.Tensor, fine_terms: tf.Tensor) -> tf.Tensor:
  """[T, hop] phase in cycles in [0, 1): the start phase (coarse, fine)
  [T, 1] plus each sample's advance (`_phase_terms`)."""
  sample_rate = float(consts.config.sample_rate)
  whole = tf.math.floormod(coarse + coarse_terms, sample_rate)
  return tf.math.floormod((whole + (fine + fine_terms)) / sample_rate, 1.0)


def _chunk_start_phases(consts: Constants, coarse: tf.Tensor,
                        fine: tf.Tensor, coarse_steps: tf.Tensor,
                        fine_steps: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Phase (coarse, fine) [T, 1] before each hop of a chunk.

  Hop j starts at the chunk's start phase plus the advances of hops i < j.
  Coarse parts are summed as int64 multiples of 2**-coarse bits, exact
  however many hops a chunk has.

  Args:
    consts: Synth constants.
    coarse, fine: [1] phase before the chunk.
    coarse_steps, fine_steps: [T, 1] each hop's advance (`_phase_terms` at
      its last sample).
  """
  quantum = 2.0**consts.bits.coarse
  fine_high, fine_low = _split(fine_steps, consts.bits.coarse)
  units = tf.cast(tf.round((coarse_steps + fine_high) * quantum), tf.int64)
  start = tf.cast(tf.round(coarse * quantum), tf.int64)
  period = tf.constant(consts.config.sample_rate * 2**consts.bits.coarse,
                       tf.int64)
  coarse_starts = tf.math.floormod(
      start + tf.cumsum(units, axis=0, exclusive=True), period)
  fine_starts = fine + tf.cumsum(fine_low, axis=0, exclusive=True)
  return tf.cast(coarse_starts, tf.float32) / quantum, fine_starts


def _harmonic_sines(phases: tf.Tensor, n_harmonics: int) -> tf.Tensor:
  """[..., n_harmonics] `sin(2 pi k phase)` for k = 1..n_harmonics.

  Two sines per sample; the other harmonics by angle addition, doubling the
  number known at each step (`sin((m + j) x) = sin(m x) cos(j x) + cos(m x)
  sin(j x)`): about 2 log2(K) cheap products instead of K sines per sample.
  Rounding grows by ~K ulps (~1e-5 for K = 100).

  Args:
    phases: [...] fundamental phase in cycles.
    n_harmonics: Number of harmonics K.
  """
  angle = (phases * (2.0 * np.pi))[..., tf.newaxis]
  sines, cosines = tf.sin(angle), tf.sin(angle + np.pi / 2.0)
  known = 1
  while known < n_harmonics:
    n_new = min(known, n_harmonics - known)
    sin_m, cos_m = sines[..., known - 1:known], cosines[..., known - 1:known]
    sines = tf.concat([sines, sin_m * cosines[..., :n_new] +
                       cos_m * sines[..., :n_new]], axis=-1)
    if known + n_new < n_harmonics:
      cosines = tf.concat([cosines, cos_m * cosines[..., :n_new] -
                           sin_m * sines[..., :n_new]], axis=-1)
    known += n_new
  return sines


def _harmonic_audio(consts: Constants, phases: tf.Tensor, f0_prev: tf.Tensor,
                    f0_delta: tf.Tensor, amplitudes_prev: tf.Tensor,
                    amplitudes: tf.Tensor) -> tf.Tensor:
  """[T, hop] sum of harmonics `sum_k a_k[n] sin(2 pi k phase[n])`.

  `a_k[n] = prev_k + (cur_k - prev_k) w[n]`, as one [hop, K] x [K, 2] product
  per hop. With 'clip' alignment harmonics are also silenced sample by sample
  where `k f0[n] >= sample_rate / 2`, as `core.harmonic_synthesis` does; with
  'vst' only the frames' distributions are masked, as
  `core.streaming_harmonic_synthesis` does.

  Args:
    consts: Synth constants.
    phases: [T, hop] fundamental phase, cycles.
    f0_prev, f0_delta: [T, 1] Hz (see `_phase_terms`).
    amplitudes_prev, amplitudes: [T, K] per-harmonic amplitudes.
  """
  config = consts.config
  sines = _harmonic_sines(phases, config.n_harmonics)  # [T, hop, K]
  if config.alignment == 'clip':
    f0_env = f0_prev + f0_delta * consts.f0_weights  # [T, hop]
    below_nyquist = (f0_env[..., tf.newaxis] * consts.harmonic_numbers <
                     config.sample_rate / 2.0)
    sines = tf.where(below_nyquist, sines, 0.0)
  taps = tf.stack([amplitudes_prev, amplitudes - amplitudes_prev], axis=-1)
  parts = tf.matmul(sines, taps)  # [T, hop, 2]
  return parts[..., 0] + parts[..., 1] * consts.amp_weights


def noise_blocks(consts: Constants, noise: tf.Tensor,
                         magnitudes: tf.Tensor) -> tf.Tensor:
  """[T, hop + L - 1] full convolution of each noise block with its FIR.

  A depthwise convolution with one channel per block (the filters are data,
  which TFLite's DEPTHWISE_CONV_2D accepts).

  Args:
    consts: Synth constants.
    noise: [T, hop] white noise.
    magnitudes: [T, n_bands] filter magnitudes.
  """
  ir_size = consts.noise_basis.shape[1]
  impulse_responses = tf.matmul(magnitudes, consts.noise_basis)  # [T, L]
  # Cross-correlation with the reversed IR over zero-padded blocks.
  blocks = tf.pad(noise, [[0, 0], [ir_size - 1, ir_size - 1]])
  blocks = tf.transpose(blocks)[tf.newaxis, tf.newaxis]  # [1, 1, N, T]
  kernel = tf.transpose(tf.reverse(impulse_responses, axis=[1]))
  kernel = kernel[tf.newaxis, :, :, tf.newaxis]  # [1, L, T, 1]
  filtered = tf.nn.depthwise_conv2d(blocks, kernel, [1, 1, 1, 1], 'VALID')
  return tf.transpose(filtered[0, 0])


def _overlap_add(blocks: tf.Tensor, hop_size: int) -> tf.Tensor:
  """Sums blocks [T, W] placed every `hop_size` samples -> [(T + m - 1) * hop].

  m = ceil(W / hop): each block is cut into m hops and hop i of block j is
  added at hop j + i.
  """
  n_blocks, width = blocks.shape.as_list()
  n_parts = -(-width // hop_size)
  blocks = tf.pad(blocks, [[0, 0], [0, n_parts * hop_size - width]])
  parts = tf.reshape(blocks, [n_blocks, n_parts, hop_size])
  shifted = [tf.pad(parts[:, i], [[i, n_parts - 1 - i], [0, 0]])
             for i in range(n_parts)]
  return tf.reshape(tf.add_n(shifted), [-1])


def _unpack_state(config: SynthConfig, state: tf.Tensor) -> Dict[Text,
                                                                  tf.Tensor]:
  sizes = config.state_sizes
  return dict(zip(sizes, tf.split(state, list(sizes.values()))))


def harmonic_amplitudes(config: SynthConfig, amplitudes: tf.Tensor,
                        harmonic_distribution: tf.Tensor,
                        f0_hz: tf.Tensor) -> tf.Tensor:
  """[T, K] per-harmonic amplitudes: `amplitudes` [T] times the
  distribution [T, K] masked at Nyquist and normalised at `f0_hz` [T, 1]
  (`core.normalize_harmonics`, as `streaming_harmonic_synthesis`)."""
  distribution = core.normalize_harmonics(
      harmonic_distribution[tf.newaxis], f0_hz[tf.newaxis],
      config.sample_rate)[0]
  return tf.reshape(amplitudes, [-1, 1]) * distribution


def harmonic_hops(consts: Constants, f0_hz: tf.Tensor, amplitudes: tf.Tensor,
                  f0_prev: tf.Tensor, amplitudes_prev: tf.Tensor,
                  phase: Tuple[tf.Tensor, tf.Tensor]
                  ) -> Tuple[tf.Tensor, Tuple[tf.Tensor, tf.Tensor]]:
  """Harmonic audio of T hops after a previous frame.

  Args:
    consts: Synth constants.
    f0_hz: [T, 1] f0 of each frame, Hz.
    amplitudes: [T, K] per-harmonic amplitudes (`harmonic_amplitudes`).
    f0_prev, amplitudes_prev: [1] and [K], the frame before the first.
    phase: (coarse, fine) [1] phase before the first hop (see
      `SynthConfig.state_sizes`).

  Returns:
    Audio [T * hop] and the phase (coarse, fine) after the last sample.
  """
  f0_prev = tf.concat([f0_prev[tf.newaxis], f0_hz[:-1]], axis=0)
  amplitudes_prev = tf.concat([amplitudes_prev[tf.newaxis], amplitudes[:-1]],
                              axis=0)
  f0_delta = f0_hz - f0_prev
  coarse_terms, fine_terms = _phase_terms(consts, f0_prev, f0_delta)
  coarse, fine = phase
  if f0_hz.shape[0] == 1:
    starts = coarse[tf.newaxis], fine[tf.newaxis]
  else:
    starts = _chunk_start_phases(consts, coarse, fine, coarse_terms[:, -1:],
                                 fine_terms[:, -1:])
  phases = _to_cycles(consts, *starts, coarse_terms, fine_terms)
  end_phase = _advance(consts, starts[0][-1], starts[1][-1],
                       coarse_terms[-1, -1:], fine_terms[-1, -1:])
  audio = _harmonic_audio(consts, phases, f0_prev, f0_delta, amplitudes_prev,
                          amplitudes)
  return tf.reshape(audio, [-1]), end_phase


def render_hops(config: SynthConfig,
                f0_hz: tf.Tensor,
                amplitudes: tf.Tensor,
                harmonic_distribution: tf.Tensor,
                noise_magnitudes: tf.Tensor,
                noise: tf.Tensor,
                state: tf.Tensor,
                consts: Constants = None) -> Dict[Text, tf.Tensor]:
  """Renders one hop per frame of controls, continuing from `state`.

  Args:
    config: What to render.
    f0_hz: [T] fundamental, Hz.
    amplitudes: [T] overall harmonic amplitude (linear, >= 0).
    harmonic_distribution: [T, n_harmonics] (>= 0; normalised here).
    noise_magnitudes: [T, n_noise_bands] noise filter magnitudes (>= 0).
    noise: [T, hop_size] white noise in [-1, 1), one block per frame.
    state: [config.state_size] state after the previous call (zeros to
      start; see `SynthConfig.state_sizes`).
    consts: Constants of `config`, if already computed.

  Returns:
    Dict of 'harmonic' and 'noise' audio [T * hop_size] and the new 'state'.
  """
  consts = consts or Constants(config)
  previous = _unpack_state(config, state)
  f0_hz = tf.reshape(f0_hz, [-1, 1])
  amplitudes = harmonic_amplitudes(config, amplitudes, harmonic_distribution,
                                   f0_hz)
  harmonic, end_phase = harmonic_hops(
      consts, f0_hz, amplitudes, previous['f0_hz'],
      previous['harmonic_amplitudes'],
      (previous['phase'][:1], previous['phase'][1:]))

  filtered = _overlap_add(noise_blocks(consts, noise, noise_magnitudes),
                          config.hop_size)
  # `previous['noise'][0]` sits at `noise_offset` from this call's first
  # block; output the first T hops from there, keep the rest.
  offset = -config.noise_offset
  buffer_size = offset + int(filtered.shape[0])
  pending = previous['noise']
  buffer = (tf.pad(pending, [[0, buffer_size - pending.shape[0]]]) +
            tf.pad(filtered, [[offset, 0]]))
  n_samples = int(f0_hz.shape[0]) * config.hop_size
  new_state = tf.concat([
      end_phase[0], end_phase[1], f0_hz[-1], amplitudes[-1],
      buffer[n_samples:n_samples + pending.shape[0]]], axis=0)
  return {'harmonic': harmonic, 'noise': buffer[:n_samples],
          'state': new_state}


def synth_function(config: SynthConfig, n_frames: int = 1
                   ) -> tf.types.experimental.GenericFunction:
  """`tf.function` rendering `n_frames` hops per call (`render_hops`).

  Inputs: `f0_hz` [T], `amplitudes` [T], `harmonic_distribution` [T, H],
  `noise_magnitudes` [T, N], `noise` [T, hop], `state` [S]. Outputs: dict of
  `audio` [T * hop] (harmonic + noise) and the new `state`.
  """
  if int(n_frames) != n_frames or n_frames < 1:
    raise ValueError(f'Received an invalid value for `n_frames`, expected a '
                     f'positive integer. Received: n_frames={n_frames!r}')
  consts = Constants(config)
  spec = lambda shape, name: tf.TensorSpec(shape, tf.float32, name=name)

  @tf.function(input_signature=[
      spec([n_frames], 'f0_hz'), spec([n_frames], 'amplitudes'),
      spec([n_frames, config.n_harmonics], 'harmonic_distribution'),
      spec([n_frames, config.n_noise_bands], 'noise_magnitudes'),
      spec([n_frames, config.hop_size], 'noise'),
      spec([config.state_size], 'state')], autograph=False)
  def call(f0_hz, amplitudes, harmonic_distribution, noise_magnitudes, noise,
           state):
    out = render_hops(config, f0_hz, amplitudes, harmonic_distribution,
                      noise_magnitudes, noise, state, consts)
    return {'audio': out['harmonic'] + out['noise'], 'state': out['state']}

  return call
