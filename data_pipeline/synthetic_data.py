"""Random synthesizer controls for self-supervised pretraining (EXPERIMENTAL).

Synthetic notes for the `InverseSynthesis` model of the ICML 2020 workshop
paper (DDSP-inv): sequences of notes with random pitch, loudness, harmonic
distribution and noise, as harmonic controls and as the equivalent
sinusoids. `ddsp_generate_synthetic_dataset` writes them as TFRecords that
`ddsp.training.data.SyntheticNotes` reads.

The keys, shapes, value ranges and the recipe follow ddsp 3.7.0's
`synthetic_data`; the random draws are this module's own, so a seed does not
reproduce 3.7.0's examples. Randomness comes from numpy's global generator
(`np.random.seed` makes a batch reproducible), as in 3.7.0.
"""
from typing import Dict, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from ddsp import core
import gin

logging.warning('ddsp.training.data_preparation.synthetic_data is '
                'experimental: its generators and defaults may change.')

# The gin names of 3.7.0 (`synthetic_data.generate_notes_v2`).
_GIN_MODULE = 'ddsp.training.data_preparation.synthetic_data'
SAMPLE_RATE = 16000
# MIDI range of the note pitches.
PITCH_RANGE = (24.0, 84.0)
# Logit given to the amplitude of silent notes (exp_sigmoid -> ~1e-7).
SILENT_LOGIT = -20.0

TensorDict = Dict[str, tf.Tensor]


# ------------------------------------------------------------------------------
# Random draws
# ------------------------------------------------------------------------------
def flip(p: float = 0.5) -> bool:
  """True with probability p."""
  return bool(np.random.uniform() < p)


def uniform_int(minval: int = 0, maxval: int = 10) -> int:
  """A random integer in [minval, maxval] (both included)."""
  return int(np.random.randint(int(minval), int(maxval) + 1))


def uniform_float(minval: float = 0.0, maxval: float = 10.0) -> float:
  """A random float in [minval, maxval)."""
  return float(np.random.uniform(minval, maxval))


def uniform_generator(sample_shape: Sequence[int], n_timesteps: int,
                      minval: float, maxval: float,
                      method: str = 'linear') -> tf.Tensor:
  """Uniform random control points resampled to n_timesteps.

  Args:
    sample_shape: [batch, n_points, channels] of the control points.
    n_timesteps: Output frames.
    minval, maxval: Range of the uniform draws.
    method: `core.resample` method ('nearest' gives steps).

  Returns:
    [batch, n_timesteps, channels] float32.
  """
  points = np.random.uniform(minval, maxval, sample_shape).astype(np.float32)
  return core.resample(points, n_timesteps, method=method)


def normal_generator(sample_shape: Sequence[int], n_timesteps: int,
                     mean: float = 0.0, stddev: float = 1.0,
                     method: str = 'linear') -> tf.Tensor:
  """Normal random control points resampled to n_timesteps (see uniform)."""
  points = np.random.normal(mean, stddev, sample_shape).astype(np.float32)
  return core.resample(points, n_timesteps, method=method)


def _controls(f0_hz, amplitude_logits, distribution, noise_logits,
              get_controls: bool, amplitude_divisor=1.0) -> TensorDict:
  """Harmonic and sinusoidal controls from per-frame values [1, T, C].

  Args:
    f0_hz: [B, T, 1] pitch in Hz.
    amplitude_logits: [B, T, 1] logits of the overall amplitude.
    distribution: [B, T, H] non-negative harmonic weights.
    noise_logits: [B, T, M] logits of the noise magnitudes.
    get_controls: Scale the logits with exp_sigmoid and add the sinusoids.
    amplitude_divisor: Divides the scaled amplitude ([B, 1, 1] or scalar).

  Returns:
    With get_controls: `harm_amp`, `harm_dist` (Nyquist-masked, sums to 1),
    `f0_hz`, `sin_amps`, `sin_freqs`, `noise_magnitudes`; else the raw
    `amplitudes`, `harmonic_distribution`, `noise_magnitudes` and `f0_hz`.
  """
  if not get_controls:
    return {'amplitudes': core.tf_float32(amplitude_logits),
            'harmonic_distribution': core.tf_float32(distribution),
            'noise_magnitudes': core.tf_float32(noise_logits),
            'f0_hz': core.tf_float32(f0_hz)}
  harm_amp = core.exp_sigmoid(amplitude_logits) / amplitude_divisor
  harm_dist = core.normalize_harmonics(distribution, f0_hz, SAMPLE_RATE)
  sin_amps, sin_freqs = core.harmonic_to_sinusoidal(harm_amp, harm_dist, f0_hz,
                                                    SAMPLE_RATE)
  return {'harm_amp': harm_amp, 'harm_dist': harm_dist,
          'f0_hz': core.tf_float32(f0_hz), 'sin_amps': sin_amps,
          'sin_freqs': sin_freqs,
          'noise_magnitudes': core.exp_sigmoid(noise_logits)}


# ------------------------------------------------------------------------------
# Version 1: control points shared by all notes of a batch
# ------------------------------------------------------------------------------
@gin.configurable(module=_GIN_MODULE)
def generate_notes(n_batch: int, n_timesteps: int, n_harmonics: int = 100,
                   n_mags: int = 65, get_controls: bool = True) -> TensorDict:
  """1 to 20 random notes per batch, as harmonic and sinusoidal controls.

  Amplitude logits U[-2, 2] (stepped or interpolated), pitch U[24, 84] MIDI
  (stepped); harmonic distributions mix 10 power-law roll-offs
  `-linspace(0, i, H)**e_i` (e_i in U[1, 6]) with U[0, 1] weights, through
  exp_sigmoid, Nyquist removal and normalisation; noise logits
  U[-6, U[-4, 0]].

  Args:
    n_batch: Batch size.
    n_timesteps: Frames per example.
    n_harmonics: Harmonics of the distribution.
    n_mags: Noise filter bands.
    get_controls: Return scaled controls and sinusoids (else raw logits).

  Returns:
    [n_batch, n_timesteps, C] tensors, keys as in `_controls`.
  """
  n_notes = uniform_int(1, 20)
  method = 'nearest' if flip() else 'linear'
  amplitude_logits = uniform_generator([n_batch, n_notes, 1], n_timesteps,
                                       -2.0, 2.0, method)
  pitch = uniform_generator([n_batch, n_notes, 1], n_timesteps, *PITCH_RANGE,
                            'nearest')
  f0_hz = core.midi_to_hz(pitch)
  rolloffs = np.stack([-np.linspace(0.0, i, n_harmonics)**uniform_float(1, 6)
                       for i in range(1, 11)]).astype(np.float32)
  weights = uniform_generator([n_batch, n_notes, 10], n_timesteps, 0.0, 1.0,
                              method)
  distribution = core.exp_sigmoid(tf.einsum('btl,lh->bth', weights, rolloffs))
  noise_logits = uniform_generator([n_batch, n_notes, n_mags], n_timesteps,
                                   -6.0, uniform_float(-4.0, 0.0), method)
  return _controls(f0_hz, amplitude_logits, distribution, noise_logits,
                   get_controls)


# ------------------------------------------------------------------------------
# Version 2: notes of random lengths with blends, vibrato and silences
# ------------------------------------------------------------------------------
def random_blend(length: int, start, end, exp_max: float = 2.0) -> np.ndarray:
  """A curve from `start` to `end` over `length` frames, of random shape.

  The weight of `start` is `linspace(1, 0, length)**(2**U[-exp_max,
  exp_max])`: straight, fast or slow transitions.

  Args:
    length: Frames.
    start, end: Values (scalars or arrays [C]) at both ends.
    exp_max: Range of the exponent's log2.

  Returns:
    [length, C] (or [length] for scalars).
  """
  curve = np.linspace(1.0, 0.0, length)**(2.0**uniform_float(-exp_max,
                                                              exp_max))
  start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
  curve = curve.reshape([length] + [1] * start.ndim)
  return start * curve + end * (1.0 - curve)


def random_harm_dist(n_harmonics: int = 100, low_pass: bool = True,
                     rand_phase: float = 0.0) -> np.ndarray:
  """Logits [n_harmonics] of a random harmonic distribution.

  A sum of 1 to 20 cosines across the harmonic axis (random frequencies,
  amplitudes and, scaled by `rand_phase`, phases); `low_pass` adds a random
  linear roll-off towards the high harmonics.
  """
  harmonics = np.linspace(0.0, 1.0, n_harmonics)
  logits = np.zeros(n_harmonics)
  for _ in range(uniform_int(1, 20)):
    frequency = uniform_float(0.0, n_harmonics / 4)
    phase = rand_phase * uniform_float(0.0, 2 * np.pi)
    logits += uniform_float(0.0, 2.0) * np.cos(
        2 * np.pi * frequency * harmonics + phase)
  if low_pass:
    logits -= uniform_float(0.0, 20.0) * harmonics
  return logits


def _note_lengths(n_timesteps: int, min_note_length: int,
                  max_note_length: int) -> Tuple[int, ...]:
  """Random note lengths that fill n_timesteps (the last one cut short)."""
  lengths, total = [], 0
  while total < n_timesteps:
    length = min(uniform_int(min_note_length, max_note_length),
                 n_timesteps - total)
    lengths.append(length)
    total += length
  return tuple(lengths)


def _example_v2(n_timesteps, n_harmonics, n_mags, min_note_length,
                max_note_length, p_silent, p_vibrato):
  """Frame arrays (pitch, amplitude logits, distribution logits, noise)."""
  pitch, amplitude, distribution, noise = [], [], [], []
  for length in _note_lengths(n_timesteps, min_note_length, max_note_length):
    midi = np.full(length, uniform_float(*PITCH_RANGE))
    if flip(p_vibrato):
      rate = uniform_float(0.05, 0.25)  # Cycles per frame.
      midi += uniform_float(0.1, 0.5) * np.sin(2 * np.pi * rate *
                                               np.arange(length))
    pitch.append(midi)
    if flip(p_silent):
      amplitude.append(np.full(length, SILENT_LOGIT))
    else:
      amplitude.append(random_blend(length, uniform_float(-2, 2),
                                    uniform_float(-2, 2)))
    distribution.append(random_blend(length, random_harm_dist(n_harmonics),
                                     random_harm_dist(n_harmonics)))
    noise_top = uniform_float(-4.0, 0.0)
    noise.append(random_blend(
        length, np.random.uniform(-6.0, noise_top, n_mags),
        np.random.uniform(-6.0, noise_top, n_mags)))
  return (np.concatenate(pitch), np.concatenate(amplitude),
          np.concatenate(distribution), np.concatenate(noise))


@gin.configurable(module=_GIN_MODULE)
def generate_notes_v2(n_batch: int = 1, n_timesteps: int = 125,
                      n_harmonics: int = 100, n_mags: int = 65,
                      min_note_length: int = 5, max_note_length: int = 25,
                      p_silent: float = 0.1, p_vibrato: float = 0.5,
                      get_controls: bool = True) -> TensorDict:
  """Notes of random lengths with blended timbres, vibrato and silences.

  Each note has a pitch in U[24, 84] MIDI (with vibrato with probability
  `p_vibrato`), an amplitude that blends between random logits (or silence,
  probability `p_silent`), a harmonic distribution blending between two
  `random_harm_dist` spectra (softmax over harmonics) and noise bands
  blending between two random spectra. Scaled amplitudes are divided by
  U[1, 2] or U[1, U[2, 10]] per example (raw logits are returned undivided).

  Args:
    n_batch: Batch size.
    n_timesteps: Frames per example.
    n_harmonics: Harmonics of the distribution.
    n_mags: Noise filter bands.
    min_note_length, max_note_length: Note lengths in frames.
    p_silent: Probability of a silent note.
    p_vibrato: Probability of vibrato on a note.
    get_controls: Return scaled controls and sinusoids (else raw values).

  Returns:
    [n_batch, n_timesteps, C] tensors, keys as in `_controls`.
  """
  examples = [_example_v2(n_timesteps, n_harmonics, n_mags, min_note_length,
                          max_note_length, p_silent, p_vibrato)
              for _ in range(n_batch)]
  pitch, amplitude, distribution, noise = (
      np.stack(values).astype(np.float32) for values in zip(*examples))
  divisors = np.array([uniform_float(1.0, 2.0 if flip() else
                                     uniform_float(2.0, 10.0))
                       for _ in range(n_batch)], np.float32)
  return _controls(core.midi_to_hz(pitch[..., np.newaxis]),
                   amplitude[..., np.newaxis],
                   tf.nn.softmax(distribution, axis=-1), noise, get_controls,
                   amplitude_divisor=divisors[:, np.newaxis, np.newaxis])
