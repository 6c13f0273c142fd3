"""The demo's report: every image and audio file report.html links exists,
is relative and is non-trivial."""

import html.parser
import json
import pathlib
import re
import sys

from matplotlib import image as mpimg
import numpy as np
import pytest
import soundfile as sf

DEMO_DIR = pathlib.Path(__file__).resolve().parents[1] / 'demo'
sys.path.insert(0, str(DEMO_DIR))
import report  # noqa: E402  # pylint: disable=g-import-not-at-top,wrong-import-position

SR, FRAME_RATE = 16000, 250
# WAV -> (seconds, f0 Hz): distinct lengths so a mix-up shows.
CLIPS = {'violin_input.wav': (2.0, 440.0),
         'violin_resynthesis.wav': (2.0, 440.0),
         'flute_input.wav': (1.5, 523.25),
         'flute_to_violin.wav': (1.5, 261.63)}


class _Links(html.parser.HTMLParser):
  """Collects `src` and `href` attributes by tag."""

  def __init__(self):
    super().__init__()
    self.links = []

  def handle_starttag(self, tag, attrs):
    for key, value in attrs:
      if key in ('src', 'href'):
        self.links.append((tag, value))


def _stage_outputs(out_dir: pathlib.Path) -> dict:
  """Tiny fake transfer-stage outputs: tone WAVs and their features."""
  data = {'frame_rate': np.float64(FRAME_RATE)}
  for name, (seconds, f0) in CLIPS.items():
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.minimum(1.0, 10 * t) * np.minimum(1.0, 10 * (seconds - t))
    report.write_wav(out_dir / name,
                     0.3 * envelope * np.sin(2 * np.pi * f0 * t), SR)
  for example, (input_wav, _) in report.AUDIO_FILES.items():
    seconds, f0 = CLIPS[input_wav]
    n = int(seconds * FRAME_RATE)
    ramp = np.linspace(-60, -20, n)
    for key, values in (('f0_in', np.full(n, f0)), ('f0_model',
                                                    np.full(n, 2 * f0)),
                        ('f0_out', np.full(n, 2 * f0)), ('ld_in', ramp),
                        ('ld_model', ramp + 5), ('ld_out', ramp + 3),
                        ('conf_in', np.full(n, 0.9)),
                        ('conf_out', np.linspace(0, 1, n))):
      data[f'{example}_{key}'] = values.astype(np.float32)
    data[f'{example}_octave_shift'] = np.float32(1.0)
    data[f'{example}_settings'] = json.dumps({'auto_adjust': True})
  return data


@pytest.fixture(scope='module')
def built_report(tmp_path_factory):
  out_dir = tmp_path_factory.mktemp('demo')
  data = _stage_outputs(out_dir)
  report.save_npz(out_dir / 'transfer.npz', data)
  data = dict(np.load(out_dir / 'transfer.npz'))  # As the demo reads it.
  steps = np.arange(10, 110, 10)
  losses = 20.0 * np.exp(-steps / 50.0) + 5.0
  timings = [{'stage': s, 'wall_s': w, 'cpu_s': 2 * w, 'load_1min': 1.5,
              'finished': '2026-01-01 00:00:00 UTC'}
             for s, w in (('prepare', 40.0), ('train', 400.0))]
  path = report.write_report(out_dir, data, steps, losses, timings,
                             'machine: 2 cores (2 usable), test CPU', 100)
  return path


def test_report_links_exist_and_are_relative(built_report):
  parser = _Links()
  parser.feed(built_report.read_text())
  images = [v for tag, v in parser.links if tag == 'img']
  audio = [v for tag, v in parser.links if tag == 'audio']
  assert sorted(audio) == sorted(CLIPS)
  # 4 spectrograms, f0 and loudness of 2 examples, the loss curve.
  assert len(images) == len(set(images)) == 9
  for link in images + audio:
    assert not re.match(r'^([a-z]+:|/)', link), link  # Relative, no server.
    assert (built_report.parent / link).is_file(), link


def test_linked_images_are_decodable_and_not_blank(built_report):
  parser = _Links()
  parser.feed(built_report.read_text())
  for tag, link in parser.links:
    if tag != 'img':
      continue
    pixels = mpimg.imread(built_report.parent / link)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 300
    # Content, not a flat canvas: many distinct colours, some dark ink.
    assert np.std(pixels[..., :3]) > 0.05, link
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 20, link


def test_spectrogram_shows_the_tone(built_report):
  """The brightest row of the violin input's spectrogram image lies where
  440 Hz is on its frequency axis (0-8 kHz): a real plot, not decoration."""
  pixels = mpimg.imread(built_report.parent /
                        'violin_input_spectrogram.png')[..., :3]
  brightness = pixels.sum(axis=-1)
  # Plot area: mostly dark (magma's low end) rows and columns; the margins
  # are white.
  dark = brightness < 0.6
  rows = np.flatnonzero(dark.mean(axis=1) > 0.5)
  cols = np.flatnonzero(dark.mean(axis=0) > 0.5)
  area = brightness[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
  peak_row = np.argmax(area.mean(axis=1))
  frequency = (1 - peak_row / (len(area) - 1)) * 8000
  assert abs(frequency - 440.0) < 150.0


def test_linked_audio_is_audible_and_of_the_right_length(built_report):
  parser = _Links()
  parser.feed(built_report.read_text())
  for tag, link in parser.links:
    if tag != 'audio':
      continue
    audio, rate = sf.read(built_report.parent / link)
    seconds, f0 = CLIPS[link]
    assert rate == SR
    assert len(audio) == int(seconds * SR)
    assert np.sqrt(np.mean(audio**2)) > 0.05
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * rate / len(audio) - f0) < 2.0
    # The durations the page states match the files.
    assert f'<code>{link}</code> ({seconds:.1f} s)' in built_report.read_text()


def test_report_states_timings_and_losses(built_report):
  text = built_report.read_text()
  assert 'machine: 2 cores (2 usable), test CPU' in text
  assert '<td>train</td><td>400.0</td><td>800.0</td>' in text
  assert '<th>total</th><th>440.0</th><th>880.0</th>' in text
  assert f'{20 * np.exp(-0.2) + 5:.2f} at step 10' in text


def test_demo_reads_losses_and_echoes_progress(tmp_path):
  import run_demo  # pylint: disable=g-import-not-at-top
  prefix = 'I1201 10:08:50.037342 140093933607808 train_util.py:486] '
  log = tmp_path / 'train.log'
  log.write_text(
      f'{prefix}step: 10\tspectral_loss: 9.5\ttotal_loss: 9.5\tsteps/s: 1\n'
      f'{prefix}step: 20\tspectral_loss: 8.0\ttotal_loss: 8.0\tsteps/s: 1\n'
      'a resumed run trains step 20 again:\n'
      f'{prefix}step: 20\tspectral_loss: 7.0\ttotal_loss: 7.5\tsteps/s: 1\n')
  steps, losses = run_demo.read_losses(log)
  np.testing.assert_array_equal(steps, [10, 20])
  np.testing.assert_array_equal(losses, [9.5, 7.5])
  assert run_demo._progress(f'{prefix}step: 10\tx\n') == 'step: 10\tx\n'  # pylint: disable=protected-access
  assert run_demo._progress(f'{prefix}Gin config: ...\n') is None  # pylint: disable=protected-access
  assert run_demo._progress('ddsp_prepare_tfrecord: 4 files ok\n') == (  # pylint: disable=protected-access
      'ddsp_prepare_tfrecord: 4 files ok\n')
