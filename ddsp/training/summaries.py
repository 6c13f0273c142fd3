"""TensorBoard summaries: audio, waveforms, spectrograms, f0 and MIDI plots.

Every function writes to the default summary writer at `step` (use
`with writer.as_default():`). Figures are PNG images written as TF1 image
summaries (`fig_summary`), so TensorBoard shows them under Images.
Per-example tags count from 1 (`spectrogram/1`, `spectrogram/2`, ...).
matplotlib is imported when a figure is drawn.
"""
import io
import sys

import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import spectral_ops
from ddsp.training import plotting

# Waveform zoom: the first 2000 samples (125 ms at 16 kHz).
_ZOOM_SAMPLES = 2000


def _figure(figsize):
  """A matplotlib Figure that is not registered with pyplot."""
  from matplotlib import figure  # pylint: disable=g-import-not-at-top
  return figure.Figure(figsize=figsize)


def _batch_numpy(x) -> np.ndarray:
  """Tensor or array -> float numpy array with a batch axis first."""
  x = np.asarray(x, dtype=np.float32)
  return x[np.newaxis] if x.ndim == 1 else x


def _frames(x) -> np.ndarray:
  """[batch, n_frames] or [batch, n_frames, 1] -> [batch, n_frames]."""
  x = _batch_numpy(x)
  return x.reshape(x.shape[0], -1) if x.ndim == 3 and x.shape[-1] == 1 else x


def _prefix(name: str) -> str:
  return f'{name}_' if name else ''


def fig_summary(tag: str, fig, step: int) -> None:
  """Writes a matplotlib figure as a PNG image summary and closes it.

  Args:
    tag: Summary tag.
    fig: A matplotlib Figure (pyplot figures are closed afterwards).
    step: Training step.
  """
  buffer = io.BytesIO()
  fig.savefig(buffer, format='png')
  width, height = (int(v) for v in fig.canvas.get_width_height())
  pyplot = sys.modules.get('matplotlib.pyplot')
  if pyplot is not None:
    pyplot.close(fig)
  image = tf.compat.v1.Summary.Image(
      height=height, width=width, colorspace=4,
      encoded_image_string=buffer.getvalue())
  summary = tf.compat.v1.Summary(
      value=[tf.compat.v1.Summary.Value(tag=tag, image=image)])
  tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step)


def waveform_summary(audio, audio_gen, step: int, name: str = '') -> None:
  """Plots original and generated waveforms, whole and first 125 ms.

  Args:
    audio: [batch, n_samples] original audio.
    audio_gen: [batch, n_samples] generated audio.
    step: Training step.
    name: Optional tag prefix (tags `waveform/{name_}full_{i}`,
      `waveform/{name_}125ms_{i}`).
  """
  audio, audio_gen = _batch_numpy(audio), _batch_numpy(audio_gen)
  for i in range(audio.shape[0]):
    for label, length in (('full', None), ('125ms', _ZOOM_SAMPLES)):
      fig = _figure((2.5, 2.5))
      ax = fig.add_subplot()
      ax.plot(audio[i, :length], label='original')
      ax.plot(audio_gen[i, :length], label='generated', alpha=0.8)
      ax.set_xticks([])
      ax.set_yticks([])
      fig_summary(f'waveform/{_prefix(name)}{label}_{i + 1}', fig, step)


def spectrogram_summary(audio, audio_gen, step: int, name: str = '',
                        tag: str = 'spectrogram') -> None:
  """Plots original and generated log-magnitude spectrograms (size 768).

  Args:
    audio: [batch, n_samples] original audio.
    audio_gen: [batch, n_samples] generated audio.
    step: Training step.
    name: Optional tag prefix.
    tag: Tag group; tags are `{tag}/{name_}{i}`.
  """
  audio, audio_gen = _batch_numpy(audio), _batch_numpy(audio_gen)
  for i in range(audio.shape[0]):
    fig = _figure((8, 8))
    for row, (title, example) in enumerate((('Original', audio[i]),
                                            ('Generated', audio_gen[i]))):
      ax = fig.add_subplot(2, 1, row + 1)
      ax.matshow(plotting.logmag_image(example, size=768), vmin=-5, vmax=1,
                 cmap='magma', aspect='auto')
      ax.set_title(title)
      ax.set_xticks([])
      ax.set_yticks([])
    fig_summary(f'{tag}/{_prefix(name)}{i + 1}', fig, step)


def audio_summary(audio, step: int, sample_rate: int = 16000,
                  name: str = 'audio') -> None:
  """Writes audio clips (up to the whole batch) as an audio summary.

  Args:
    audio: [batch, n_samples] or [batch, n_samples, channels], in [-1, 1].
    step: Training step.
    sample_rate: Sample rate in Hz.
    name: Summary tag.
  """
  audio = np.asarray(audio, dtype=np.float32)
  if audio.ndim == 2:
    audio = audio[:, :, np.newaxis]
  tf.summary.audio(name, audio, sample_rate, step,
                   max_outputs=audio.shape[0])


def f0_summary(f0_hz, f0_hz_predict, step: int, name: str = 'f0_midi',
               tag: str = 'f0_midi') -> None:
  """Plots ground-truth and predicted f0 in MIDI.

  Predictions are linearly resampled to the ground-truth frame count. (3.7.0
  nested the tags of later examples, `f0_midi/x_1/x_2`; here each example has
  its own tag `{tag}/{name}_{i}`.)

  Args:
    f0_hz: [batch, n_frames(, 1)] ground-truth f0 in Hz.
    f0_hz_predict: [batch, n_frames'(, 1)] predicted f0 in Hz.
    step: Training step.
    name: Plot name.
    tag: Tag group.
  """
  f0_hz, f0_hz_predict = _frames(f0_hz), _frames(f0_hz_predict)
  if f0_hz_predict.shape[1] != f0_hz.shape[1]:
    f0_hz_predict = np.asarray(core.resample(
        f0_hz_predict[:, :, np.newaxis], f0_hz.shape[1]))[:, :, 0]
  f0_midi = np.asarray(core.hz_to_midi(f0_hz))
  f0_midi_predict = np.asarray(core.hz_to_midi(f0_hz_predict))
  for i in range(f0_hz.shape[0]):
    fig = _figure((6, 3))
    ax = fig.add_subplot()
    ax.plot(f0_midi[i], label='ground truth')
    ax.plot(f0_midi_predict[i], label='predicted')
    ax.set_ylabel('MIDI')
    ax.set_xlabel('frame')
    ax.legend(loc='upper right')
    fig_summary(f'{tag}/{name}_{i + 1}', fig, step)


def _plot_notes(ax, sequence, color, label) -> None:
  """Draws the notes of a NoteSequence-like object as horizontal bars."""
  for j, note in enumerate(sequence.notes):
    ax.plot([note.start_time, note.end_time], [note.pitch, note.pitch],
            color=color, linewidth=4, solid_capstyle='butt',
            label=label if j == 0 else None)


def midi_summary(controls, step: int, name: str, frame_rate: int,
                 notes_key: str) -> None:
  """Plots note sequences over the f0 contour.

  Args:
    controls: Dict with `f0_hz` [batch, n_frames(, 1)] and `notes_key`: a list
      of NoteSequence-like objects (`.notes` with `pitch`, `start_time`,
      `end_time`), one per example.
    step: Training step.
    name: Tag name (`midi/{name}_{i}`).
    frame_rate: Frames per second of `f0_hz`.
    notes_key: Key of the note sequences in `controls`.
  """
  f0_midi = np.asarray(core.hz_to_midi(_frames(controls['f0_hz'])))
  times = np.arange(f0_midi.shape[1]) / frame_rate
  for i, sequence in enumerate(controls[notes_key]):
    fig = _figure((8, 3))
    ax = fig.add_subplot()
    ax.plot(times, f0_midi[i], color='0.6', label='f0')
    _plot_notes(ax, sequence, 'C1', 'notes')
    ax.set_xlabel('seconds')
    ax.set_ylabel('MIDI')
    ax.legend(loc='upper right')
    fig_summary(f'midi/{name}_{i + 1}', fig, step)


def _line_summary(tag: str, series, step: int, ylabel: str) -> None:
  """One figure per example with several labelled [batch, n_frames] series."""
  series = {label: _frames(x) for label, x in series.items() if x is not None}
  batch_size = next(iter(series.values())).shape[0]
  for i in range(batch_size):
    fig = _figure((6, 3))
    ax = fig.add_subplot()
    for label, values in series.items():
      ax.plot(values[i], label=label)
    ax.set_ylabel(ylabel)
    ax.legend(loc='upper right')
    fig_summary(f'{tag}/ex_{i + 1}', fig, step)


def midiae_f0_summary(f0_hz, outputs, step: int) -> None:
  """MIDI autoencoder: input f0 vs. decoded and quantised pitch (MIDI).

  Tags `midiae_decoder_pitch/ex_{i}`; plots `f0_midi` of the input and the
  outputs' `f0_midi_pred`, `z_pitch` and `q_pitch` where present.
  """
  series = {'f0_midi': np.asarray(core.hz_to_midi(_frames(f0_hz)))}
  for key in ('f0_midi_pred', 'z_pitch', 'q_pitch'):
    series[key] = outputs.get(key)
  _line_summary('midiae_decoder_pitch', series, step, 'MIDI')


def midiae_ld_summary(ld_feat, outputs, step: int,
                      db_key: str = 'loudness_db') -> None:
  """MIDI autoencoder: input vs. decoded loudness/power (dB).

  Tags `midiae_decoder_ld/ex_{i}`; plots the input and `{db_key}_pred`.
  """
  series = {db_key: ld_feat, f'{db_key}_pred': outputs.get(f'{db_key}_pred')}
  _line_summary('midiae_decoder_ld', series, step, 'dB')


def midiae_sp_summary(outputs, step: int) -> None:
  """MIDI autoencoder: synth parameters from audio vs. from MIDI (images).

  Tags `amplitudes/amplitudes_{i}`, `harmonic_dist/harmonic_dist_{i}`,
  `noise_mags/noise_mags_{i}`, each showing `<key>` above `<key>_pred`.
  """
  for key, group in (('amps', 'amplitudes'), ('hd', 'harmonic_dist'),
                     ('noise', 'noise_mags')):
    if key not in outputs or f'{key}_pred' not in outputs:
      continue
    target = _batch_numpy(outputs[key])
    predicted = _batch_numpy(outputs[f'{key}_pred'])
    for i in range(target.shape[0]):
      fig = _figure((6, 6))
      for row, (title, values) in enumerate(((key, target[i]),
                                             (f'{key}_pred', predicted[i]))):
        ax = fig.add_subplot(2, 1, row + 1)
        ax.imshow(np.reshape(values, [values.shape[0], -1]).T,
                  aspect='auto', origin='lower')
        ax.set_title(title)
      fig_summary(f'{group}/{group}_{i + 1}', fig, step)


def pianoroll_summary(batch, step: int, name: str, frame_rate: int,
                      pred_key: str, gt_key: str = 'note_active_velocities',
                      ch=None, threshold: float = 0.0,
                      tb_name: str = 'pianoroll') -> None:
  """Plots predicted and ground-truth piano rolls.

  Args:
    batch: Dict with `pred_key` and `gt_key`, each [batch, n_frames, 128]
      (or [batch, n_frames, 128, channels] with `ch`).
    step: Training step.
    name: Tag name (`{tb_name}/{name}_{i}`).
    frame_rate: Frames per second.
    pred_key: Key of the predicted roll.
    gt_key: Key of the ground-truth roll.
    ch: Channel to plot for 4-D rolls.
    threshold: Cells above it count as active.
    tb_name: Tag group.
  """
  rolls = {}
  for label, key in (('predicted', pred_key), ('ground truth', gt_key)):
    roll = np.asarray(batch[key], dtype=np.float32)
    if ch is not None:
      roll = roll[..., ch]
    rolls[label] = roll > threshold
  n_frames = next(iter(rolls.values())).shape[1]
  extent = (0, n_frames / frame_rate, -0.5, 127.5)
  for i in range(next(iter(rolls.values())).shape[0]):
    fig = _figure((8, 4))
    ax = fig.add_subplot()
    ax.imshow(rolls['ground truth'][i].T, aspect='auto', origin='lower',
              extent=extent, cmap='Greys', alpha=0.5)
    ax.imshow(np.ma.masked_equal(rolls['predicted'][i].T, False),
              aspect='auto', origin='lower', extent=extent, cmap='autumn',
              alpha=0.6)
    ax.set_xlabel('seconds')
    ax.set_ylabel('MIDI pitch (grey: ground truth, orange: predicted)')
    fig_summary(f'{tb_name}/{name}_{i + 1}', fig, step)


def get_spectrogram(audio, rotate: bool = False,
                    size: int = 1024) -> np.ndarray:
  """Log-magnitude spectrogram, [(batch,) n_frames, n_bins].

  `rotate` applies `np.rot90` to the first two axes (as in 3.7.0; meant for
  a single example).
  """
  logmag = np.asarray(spectral_ops.compute_logmag(core.tf_float32(audio),
                                                  size=size))
  return np.rot90(logmag) if rotate else logmag
