"""Tests for ddsp.training.summaries and ddsp.training.plotting."""
import io

import matplotlib
matplotlib.use('Agg')
import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf
from PIL import Image

from ddsp.training import plotting
from ddsp.training import summaries
import training_fixtures as fx


def _sines(batch_size=2, n_samples=4000):
  t = np.arange(n_samples) / 16000
  return np.stack([0.5 * np.sin(2 * np.pi * 220 * (i + 1) * t)
                   for i in range(batch_size)]).astype(np.float32)


def _write(tmp_path, fn):
  writer = tf.summary.create_file_writer(str(tmp_path))
  with writer.as_default():
    fn()
  writer.flush()
  return fx.read_events(tmp_path)


def test_waveform_and_spectrogram_tags_count_examples_from_one(tmp_path):
  audio = _sines()
  events = _write(tmp_path, lambda: (
      summaries.waveform_summary(audio, audio * 0.5, 5),
      summaries.spectrogram_summary(audio, audio, 5, name='x')))
  assert sorted(events.Tags()['images']) == [
      'spectrogram/x_1', 'spectrogram/x_2', 'waveform/125ms_1',
      'waveform/125ms_2', 'waveform/full_1', 'waveform/full_2']
  image = events.Images('spectrogram/x_1')[0]
  assert image.step == 5
  png = Image.open(io.BytesIO(image.encoded_image_string))
  assert png.size == (image.width, image.height) == (800, 800)


def test_f0_summary_tags_do_not_nest(tmp_path):
  f0 = np.full([3, 50, 1], 440.0)
  events = _write(tmp_path, lambda: summaries.f0_summary(
      f0, np.full([3, 25, 1], 220.0), 1, name='f0_harmonic'))
  assert sorted(events.Tags()['images']) == [
      'f0_midi/f0_harmonic_1', 'f0_midi/f0_harmonic_2',
      'f0_midi/f0_harmonic_3']


def test_audio_summary_keeps_every_example(tmp_path):
  audio = _sines(batch_size=3)
  events = _write(tmp_path, lambda: summaries.audio_summary(audio, 2, 16000))
  wavs = tf.make_ndarray(events.Tensors('audio')[0].tensor_proto)
  assert wavs.shape[0] == 3
  decoded, rate = tf.audio.decode_wav(wavs[1, 0])
  assert int(rate) == 16000
  np.testing.assert_allclose(decoded.numpy()[:, 0], audio[1], atol=1e-4)


def test_midi_and_pianoroll_summaries(tmp_path):
  from ddsp.training import heuristics  # pylint: disable=g-import-not-at-top
  sequence = heuristics.NoteSequence(total_time=0.4)
  sequence.add_note(69, 0.0, 0.2)
  roll = np.zeros([1, 100, 128])
  roll[0, 10:50, 69] = 1
  events = _write(tmp_path, lambda: (
      summaries.midi_summary({'f0_hz': np.full([1, 100], 440.0),
                              'notes': [sequence]}, 1, 'heuristic', 250,
                             'notes'),
      summaries.pianoroll_summary({'pred': roll, 'gt': roll}, 1, 'learned',
                                  250, 'pred', gt_key='gt')))
  assert sorted(events.Tags()['images']) == ['midi/heuristic_1',
                                             'pianoroll/learned_1']


def test_get_spectrogram_matches_numpy_stft_magnitude():
  audio = _sines(batch_size=1)[0]
  logmag = summaries.get_spectrogram(audio, size=1024)
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)
  frame = audio[256 * 3:256 * 3 + 1024] * window
  expected = np.abs(np.fft.rfft(frame))
  np.testing.assert_allclose(np.exp(logmag[3]), expected, atol=2e-3)


def test_transfer_function_of_a_delayed_impulse_is_flat():
  ir = np.zeros([2, 100], np.float32)
  ir[:, 7] = 0.5
  frequencies, magnitudes = plotting.transfer_function(ir, 16000)
  assert frequencies.shape == (65,) and frequencies[-1] == 8000
  np.testing.assert_allclose(np.asarray(magnitudes), 0.5, rtol=1e-6)


def test_specplot_and_pianoroll_setup_draw():
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  plotting.specplot(_sines(), fignum=1)
  fig, main_ax, piano_ax = plotting.pianoroll_plot_setup(xlim=(0, 1))
  assert main_ax.get_ylim() == piano_ax.get_ylim() == (-0.5, 127.5)
  assert main_ax.get_xlim() == (0, 1)
  plotting.plot_impulse_responses(np.ones([1, 64]), np.ones([1, 10, 33]))
  plt.close('all')
  del fig
