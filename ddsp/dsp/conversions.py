"""Safe math and unit conversions (dB, MIDI, Hz, mel, bark, ERB).

Part of the implementation of `ddsp.core`, which re-exports every public name.
"""

import numpy as np
import tensorflow as tf

from ddsp.dsp.utils import tf_float32

DB_RANGE = 80.0


def nan_to_num(x, value=0.0) -> tf.Tensor:
  """Replaces NaNs in `x` with `value`."""
  x = tf.convert_to_tensor(x)
  return tf.where(tf.math.is_nan(x), value * tf.ones_like(x), x)


def safe_divide(numerator, denominator, eps=1e-7) -> tf.Tensor:
  """Divides, replacing denominators exactly equal to 0 with `eps`."""
  denominator = tf.convert_to_tensor(denominator)
  safe_denominator = tf.where(denominator == 0.0, eps, denominator)
  return numerator / safe_denominator


def safe_log(x, eps=1e-5) -> tf.Tensor:
  """Natural log where elements <= 0 are replaced by `eps` (no additive floor)."""
  x = tf_float32(x)
  safe_x = tf.where(x <= 0.0, eps, x)
  return tf.math.log(safe_x)


def safe_sqrt(x) -> tf.Tensor:
  """`tf.sqrt` whose gradient at 0 is 0 instead of inf (NaN after chain rule).

  The forward value is exactly `tf.sqrt(x)`. The gradient `dy / (2 sqrt x)`
  becomes 0 where `sqrt x` is 0: the one-sided limit is infinite, but every
  caller takes the root of a sum of squares (energy, variance), whose
  gradient there is zero, so 0 is the value of the composed gradient.
  """
  return _safe_sqrt(tf.convert_to_tensor(x))


@tf.custom_gradient
def _safe_sqrt(x: tf.Tensor):
  y = tf.sqrt(x)

  def gradient(dy):
    return tf.math.divide_no_nan(dy, 2.0 * y)

  return y, gradient


def logb(x, base=2.0, eps=1e-5) -> tf.Tensor:
  """Logarithm with an arbitrary base, safe for non-positive inputs."""
  return safe_divide(safe_log(x, eps), safe_log(base, eps), eps)


def log10(x, eps=1e-5) -> tf.Tensor:
  """Base-10 logarithm, safe for non-positive inputs."""
  return logb(x, base=10, eps=eps)


def log_scale(x, min_x, max_x) -> tf.Tensor:
  """Maps x in [-1, 1] logarithmically onto [min_x, max_x]."""
  x = (tf_float32(x) + 1.0) / 2.0
  return tf.exp((1.0 - x) * tf.math.log(min_x) + x * tf.math.log(max_x))


def soft_limit(x, x_min=0.0, x_max=1.0) -> tf.Tensor:
  """Smoothly limits `x` to [x_min, x_max] with two softplus knees."""
  x = tf_float32(x)
  return (tf.nn.softplus(x) + x_min) - tf.nn.softplus(x - (x_max - x_min))


def gradient_reversal(x) -> tf.Tensor:
  """Identity in the forward pass; negates the gradient in the backward pass."""
  x = tf_float32(x)
  return tf.stop_gradient(2.0 * x) - x


# ------------------------------------------------------------------------------
# Unit conversions
# ------------------------------------------------------------------------------
def amplitude_to_db(amplitude, ref_db=0.0, range_db=DB_RANGE, use_tf=True):
  """Converts amplitude to decibels (power of amplitude**2), floored at -range_db."""
  return power_to_db(amplitude**2.0, ref_db=ref_db, range_db=range_db,
                     use_tf=use_tf)


def power_to_db(power, ref_db=0.0, range_db=DB_RANGE, use_tf=True):
  """Converts power to decibels: `max(10 log10(max(p, pmin)) - ref_db, -range_db)`.

  The floor is absolute (`-range_db`), not relative to the maximum, unlike
  librosa's `top_db`.
  """
  power_min = 10.0**(-range_db / 10.0)
  if use_tf:
    power = tf.maximum(power_min, power)
    db = 10.0 * log10(power)
    return tf.maximum(db - ref_db, -range_db)
  power = np.maximum(power_min, power)
  db = 10.0 * np.log10(power)
  return np.maximum(db - ref_db, -range_db)


def db_to_amplitude(db):
  """Converts decibels to amplitude."""
  return db_to_power(db / 2.0)


def db_to_power(db):
  """Converts decibels to power."""
  return 10.0**(db / 10.0)


def midi_to_hz(notes, midi_zero_silence=False) -> tf.Tensor:
  """Converts MIDI notes to Hz (A4 = MIDI 69 = 440 Hz); optionally MIDI 0 -> 0 Hz."""
  notes = tf_float32(notes)
  hz = 440.0 * (2.0**((notes - 69.0) / 12.0))
  if midi_zero_silence:
    hz = tf.where(tf.equal(notes, 0.0), 0.0, hz)
  return hz


def hz_to_midi(frequencies) -> tf.Tensor:
  """Converts Hz to MIDI notes; frequencies <= 0 map to MIDI 0 (not -inf)."""
  frequencies = tf_float32(frequencies)
  notes = 12.0 * (logb(frequencies, 2.0) - logb(440.0, 2.0)) + 69.0
  return tf.where(tf.less_equal(frequencies, 0.0), 0.0, notes)


def unit_to_midi(unit, midi_min=20.0, midi_max=90.0, clip=False) -> tf.Tensor:
  """Maps [0, 1] linearly onto [midi_min, midi_max]."""
  unit = tf.clip_by_value(unit, 0.0, 1.0) if clip else unit
  return midi_min + (midi_max - midi_min) * unit


def midi_to_unit(midi, midi_min=20.0, midi_max=90.0, clip=False) -> tf.Tensor:
  """Maps [midi_min, midi_max] linearly onto [0, 1]."""
  unit = (midi - midi_min) / (midi_max - midi_min)
  return tf.clip_by_value(unit, 0.0, 1.0) if clip else unit


def unit_to_hz(unit, hz_min, hz_max, clip=False) -> tf.Tensor:
  """Maps [0, 1] onto [hz_min, hz_max] logarithmically (linear in MIDI)."""
  midi = unit_to_midi(unit, midi_min=hz_to_midi(hz_min),
                      midi_max=hz_to_midi(hz_max), clip=clip)
  return midi_to_hz(midi)


def hz_to_unit(hz, hz_min, hz_max, clip=False) -> tf.Tensor:
  """Maps [hz_min, hz_max] onto [0, 1] logarithmically (linear in MIDI)."""
  midi = hz_to_midi(hz)
  return midi_to_unit(midi, midi_min=hz_to_midi(hz_min),
                      midi_max=hz_to_midi(hz_max), clip=clip)


def hz_to_bark(hz):
  """Hz to Bark (Traunmueller 1990)."""
  return 26.81 / (1.0 + 1960.0 / hz) - 0.53


def bark_to_hz(bark):
  """Bark to Hz (inverse of `hz_to_bark`)."""
  return 1960.0 / (26.81 / (bark + 0.53) - 1.0)


def hz_to_mel(hz):
  """Hz to mel (HTK formula)."""
  return 2595.0 * logb(1.0 + hz / 700.0, 10.0)


def mel_to_hz(mel):
  """Mel to Hz (HTK formula)."""
  return 700.0 * (10.0**(mel / 2595.0) - 1.0)


def hz_to_erb(hz):
  """Equivalent rectangular bandwidth in Hz at frequency `hz` (Glasberg & Moore)."""
  return 0.108 * hz + 24.7
