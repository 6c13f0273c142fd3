"""Numpy signal generators for tests."""

import numpy as np


def gen_np_sinusoid(frequency, amp, sample_rate, audio_len_sec) -> np.ndarray:
  """A sine [n_samples] with time axis `linspace(0, secs, int(secs * sr))`."""
  x = np.linspace(0, audio_len_sec, int(audio_len_sec * sample_rate))
  return amp * np.sin(2 * np.pi * frequency * x)


def gen_np_batched_sinusoids(frequency, amp, sample_rate, audio_len_sec,
                             batch_size) -> np.ndarray:
  """`batch_size` copies of `gen_np_sinusoid` -> [batch_size, n_samples]."""
  sinusoid = gen_np_sinusoid(frequency, amp, sample_rate, audio_len_sec)
  return np.tile(sinusoid[np.newaxis, :], [batch_size, 1])


def spectral_peak(audio, sample_rate: int):
  """(frequency in Hz, amplitude) of the strongest bin of a Hann-windowed FFT.

  The amplitude is that of a sinusoid centred on the bin (window gain
  compensated), so a sine of amplitude A at a bin frequency reads A.
  """
  audio = np.asarray(audio, np.float64)
  window = np.hanning(len(audio))
  spectrum = np.abs(np.fft.rfft(audio * window)) * 2.0 / window.sum()
  peak = int(np.argmax(spectrum))
  return peak * sample_rate / len(audio), spectrum[peak]
