"""Plots for notebooks and summaries: spectrograms, impulse responses, piano rolls.

matplotlib is imported when a plot is drawn, so importing `ddsp.training`
does not load it.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import spectral_ops

DEFAULT_SAMPLE_RATE = 16000


def _pyplot():
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def logmag_image(audio, size: int = 768, rotate: bool = True) -> np.ndarray:
  """Log-magnitude spectrogram of one example as an image array.

  Args:
    audio: [n_samples] or [batch, n_samples]; the first example is used.
    size: FFT frame size in samples (hop `size // 4`).
    rotate: Rotate so that frequency runs up and time to the right.

  Returns:
    [n_bins, n_frames] if `rotate` (low frequencies at the bottom row), else
    [n_frames, n_bins]; natural log of magnitude.
  """
  audio = np.asarray(audio)
  if audio.ndim == 2:
    audio = audio[0]
  logmag = spectral_ops.compute_logmag(core.tf_float32(audio), size=size)
  logmag = np.asarray(logmag)
  return np.rot90(logmag) if rotate else logmag


def specplot(audio, vmin: float = -5, vmax: float = 1, rotate: bool = True,
             size: int = 512 + 256, **matshow_kwargs) -> None:
  """Draws the log-magnitude spectrogram of one example with `plt.matshow`.

  Args:
    audio: [n_samples] or [batch, n_samples] (first example plotted).
    vmin: Colour-map minimum (log magnitude).
    vmax: Colour-map maximum (log magnitude).
    rotate: Time on the x axis, frequency on the y axis.
    size: FFT frame size in samples.
    **matshow_kwargs: Passed to `plt.matshow` (e.g. `fignum`).
  """
  plt = _pyplot()
  plt.matshow(logmag_image(audio, size, rotate), vmin=vmin, vmax=vmax,
              cmap=plt.cm.magma, aspect='auto', **matshow_kwargs)
  plt.xticks([])
  plt.yticks([])
  plt.xlabel('Time')
  plt.ylabel('Frequency')


def transfer_function(ir, sample_rate: int = DEFAULT_SAMPLE_RATE
                      ) -> Tuple[np.ndarray, tf.Tensor]:
  """Magnitude response of impulse responses.

  Args:
    ir: [..., n_taps] impulse responses.
    sample_rate: Sample rate in Hz.

  Returns:
    frequencies: [n_fft // 2 + 1] bin frequencies in Hz (n_fft the next
      power of two >= n_taps).
    magnitudes: [..., n_fft // 2 + 1] absolute value of the real FFT.
  """
  ir = core.tf_float32(ir)
  n_fft = core.get_fft_size(0, int(ir.shape[-1]))
  frequencies = np.abs(np.fft.fftfreq(n_fft, 1.0 / sample_rate)
                       [:n_fft // 2 + 1])
  magnitudes = tf.abs(tf.signal.rfft(ir, [n_fft]))
  return frequencies, magnitudes


def plot_impulse_responses(impulse_response, desired_magnitudes,
                           sample_rate: int = DEFAULT_SAMPLE_RATE) -> None:
  """Plots a target frequency response, an impulse response and its response.

  Args:
    impulse_response: [batch, n_taps] or [n_taps]; the first is plotted.
    desired_magnitudes: [batch, n_frames, n_bins] or [n_bins]; the first
      frame of the first example is plotted.
    sample_rate: Sample rate in Hz.
  """
  plt = _pyplot()
  impulse_response = np.asarray(impulse_response)
  desired_magnitudes = np.asarray(desired_magnitudes)
  if impulse_response.ndim > 1:
    impulse_response = impulse_response[0]
  while desired_magnitudes.ndim > 1:
    desired_magnitudes = desired_magnitudes[0]
  frequencies, magnitudes = transfer_function(impulse_response, sample_rate)
  desired_frequencies = np.linspace(0, sample_rate / 2,
                                    len(desired_magnitudes))
  _, axes = plt.subplots(1, 3, figsize=(12, 3))
  axes[0].plot(desired_frequencies, desired_magnitudes)
  axes[0].set_title('Desired frequency response')
  axes[0].set_xlabel('Hz')
  axes[1].plot(impulse_response)
  axes[1].set_title('Impulse response')
  axes[1].set_xlabel('Samples')
  axes[2].semilogy(frequencies, np.asarray(magnitudes))
  axes[2].set_title('Frequency response')
  axes[2].set_xlabel('Hz')


def pianoroll_plot_setup(figsize: Optional[Sequence[float]] = None,
                         side_piano_ratio: float = 0.025,
                         faint_pr: bool = True,
                         xlim: Optional[Sequence[float]] = None):
  """A figure with a piano-roll axis and a keyboard strip on its left.

  Args:
    figsize: Figure size in inches (matplotlib default if None).
    side_piano_ratio: Width of the keyboard strip relative to the roll.
    faint_pr: Shade black-key rows faintly across the roll.
    xlim: Optional x limits of the roll (seconds).

  Returns:
    `(fig, main_ax, left_piano_ax)`; both axes span MIDI pitches 0-127.
  """
  plt = _pyplot()
  fig = plt.figure(figsize=figsize)
  grid = fig.add_gridspec(1, 2, width_ratios=[side_piano_ratio, 1.0],
                          wspace=0.0)
  left_piano_ax = fig.add_subplot(grid[0])
  main_ax = fig.add_subplot(grid[1], sharey=left_piano_ax)
  black_keys = np.array([p for p in range(128) if p % 12 in (1, 3, 6, 8, 10)])
  keyboard = np.ones([128, 1])
  keyboard[black_keys] = 0.0
  left_piano_ax.imshow(keyboard, cmap='gray', aspect='auto', origin='lower',
                       extent=(0, 1, -0.5, 127.5), vmin=0, vmax=1)
  left_piano_ax.set_xticks([])
  left_piano_ax.set_ylabel('MIDI pitch')
  if faint_pr:
    for pitch in black_keys:
      main_ax.axhspan(pitch - 0.5, pitch + 0.5, color='0.95', zorder=0)
  main_ax.set_ylim(-0.5, 127.5)
  if xlim is not None:
    main_ax.set_xlim(*xlim)
  plt.setp(main_ax.get_yticklabels(), visible=False)
  return fig, main_ax, left_piano_ax
