"""The demo's static report: WAVs, matplotlib PNGs and report.html.

`write_report` takes the transfer stage's arrays (see `run_demo.py`), the
training losses and the stage timings and writes, next to the WAVs in
`out_dir`, one spectrogram PNG per WAV, f0 and loudness plots per example,
the loss curve and `report.html` (relative links only; opens from disk).
"""

import html
import io
import json
import pathlib
from typing import Dict, Sequence

import matplotlib
import numpy as np
import soundfile as sf

matplotlib.use('Agg')  # Files only; pyplot picks the backend up on import.
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position

from ddsp import file_io  # pylint: disable=g-import-not-at-top,wrong-import-position

# f0 plots leave out frames where CREPE is less confident than this.
MIN_CONFIDENCE = 0.5
# Example name -> (input WAV, output WAV).
AUDIO_FILES = {
    'resynthesis': ('violin_input.wav', 'violin_resynthesis.wav'),
    'transfer': ('flute_input.wav', 'flute_to_violin.wav'),
}
TITLES = {
    'resynthesis': ('Resynthesis', 'a held-out violin clip (not trained on) '
                    'through the trained model: f0 and loudness in, violin '
                    'out'),
    'transfer': ('Timbre transfer', 'a flute clip played by the trained '
                 'violin (auto-adjusted to the training data: whole-octave '
                 'pitch shift, quantile-mapped loudness)'),
}


def write_wav(path: pathlib.Path, audio: np.ndarray, sample_rate: int) -> None:
  """16-bit PCM WAV (what every browser plays), peak-limited to 0 dBFS."""
  buffer = io.BytesIO()
  sf.write(buffer, np.clip(audio, -1.0, 1.0), sample_rate, format='WAV',
           subtype='PCM_16')
  file_io.write_bytes(path, buffer.getvalue())


def save_npz(path: pathlib.Path, arrays: Dict[str, np.ndarray]) -> None:
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  file_io.write_bytes(path, buffer.getvalue())


def _save_figure(fig, path: pathlib.Path) -> None:
  buffer = io.BytesIO()
  fig.savefig(buffer, format='png', dpi=100)
  plt.close(fig)
  file_io.write_bytes(path, buffer.getvalue())


def spectrogram_png(wav_path: pathlib.Path, png_path: pathlib.Path,
                    title: str) -> None:
  """Log-magnitude spectrogram (dB, 1024-point Hann, 75 % overlap)."""
  audio, sample_rate = sf.read(wav_path, dtype='float32')
  fig, ax = plt.subplots(figsize=(10, 3.2))
  ax.specgram(audio + 1e-9, NFFT=1024, Fs=sample_rate, noverlap=768,
              cmap='magma', vmin=-130, vmax=-20)
  ax.set_ylim(0, min(8000, sample_rate / 2))
  ax.set_xlabel('time (s)')
  ax.set_ylabel('frequency (Hz)')
  ax.set_title(title)
  fig.tight_layout()
  _save_figure(fig, png_path)


def _time(n_frames: int, frame_rate: float) -> np.ndarray:
  return np.arange(n_frames) / frame_rate


def feature_png(series: Sequence, frame_rate: float, png_path: pathlib.Path,
                ylabel: str, title: str, log_y: bool = False) -> None:
  """One line per (label, values [n_frames], style) in `series`; NaN
  values are gaps."""
  fig, ax = plt.subplots(figsize=(10, 2.8))
  for label, values, style in series:
    values = np.asarray(values, np.float64)
    if log_y:  # Unvoiced 0 Hz frames are gaps, not lines to the bottom.
      values = np.where(values > 0, values, np.nan)
    ax.plot(_time(len(values), frame_rate), values, style, label=label,
            linewidth=1)
  if log_y:
    ax.set_yscale('log')
  ax.set_xlabel('time (s)')
  ax.set_ylabel(ylabel)
  ax.set_title(title, loc='left')
  ax.grid(alpha=0.3)
  ax.legend(loc='lower right', bbox_to_anchor=(1.0, 1.0), ncol=len(series),
            fontsize='small', frameon=False)
  fig.tight_layout()
  _save_figure(fig, png_path)


def loss_png(steps: np.ndarray, losses: np.ndarray,
             png_path: pathlib.Path) -> None:
  fig, ax = plt.subplots(figsize=(10, 3))
  ax.plot(steps, losses, '.-', linewidth=1)
  ax.set_xlabel('training step')
  ax.set_ylabel('total loss (multi-scale spectral)')
  ax.set_title('Training loss (ddsp_run, every 10 steps)')
  ax.grid(alpha=0.3)
  fig.tight_layout()
  _save_figure(fig, png_path)


def _duration(path: pathlib.Path) -> float:
  info = sf.info(path)
  return info.frames / info.samplerate


def _voiced(data, name: str, side: str, key: str = '') -> np.ndarray:
  """f0 `key` (default `f0_<side>`) of example `name`, NaN where the
  confidence `conf_<side>` is below `MIN_CONFIDENCE`."""
  f0 = np.asarray(data[f'{name}_{key or "f0_" + side}'], np.float64)
  return np.where(data[f'{name}_conf_{side}'] >= MIN_CONFIDENCE, f0, np.nan)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1060px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.clip { background: #f7f7f9; border-radius: 6px; padding: 0.6em 0.8em;
        margin: 0.8em 0; }
.clip h3 { margin: 0 0 0.4em 0; font-size: 1em; }
audio { width: 100%; }
img { width: 100%; height: auto; display: block; margin: 0.4em 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: 0.92em; }
code { background: #f0f0f0; padding: 0 0.2em; }
"""


def write_report(out_dir: pathlib.Path, data: Dict[str, np.ndarray],
                 steps: np.ndarray, losses: np.ndarray,
                 timings: Sequence[dict], machine: str,
                 train_steps: int) -> pathlib.Path:
  """Writes the PNGs and `report.html` into `out_dir` (next to the WAVs).

  Args:
    out_dir: Holds the WAVs of `AUDIO_FILES`.
    data: `frame_rate` and, per example name, `<name>_f0_in/_model/_out`,
      `<name>_ld_in/_model/_out`, `<name>_conf_in/_out` (f0 confidence)
      [n_frames], `<name>_octave_shift`,
      `<name>_settings` (JSON).
    steps, losses: The training loss curve.
    timings: Stage records: 'stage', 'wall_s', 'cpu_s', 'load_1min'.
    machine: `bench.machine.describe()`.
    train_steps: Steps trained (the exported checkpoint's).

  Returns:
    The path of report.html.
  """
  out_dir = pathlib.Path(out_dir)
  frame_rate = float(data['frame_rate'])
  sections = []
  for name, (input_wav, output_wav) in AUDIO_FILES.items():
    title, description = TITLES[name]
    clips = []
    for label, wav in (('input', input_wav), ('output', output_wav)):
      png = wav.replace('.wav', '_spectrogram.png')
      spectrogram_png(out_dir / wav, out_dir / png, f'{title}: {label}')
      clips.append(
          f'<div class="clip"><h3>{label}: <code>{wav}</code> '
          f'({_duration(out_dir / wav):.1f} s)</h3>'
          f'<audio controls preload="none" src="{wav}"></audio>'
          f'<img src="{png}" alt="spectrogram of {wav}"></div>')
    f0_png, ld_png = f'{name}_f0.png', f'{name}_loudness.png'
    feature_png([('input (CREPE tiny)', _voiced(data, name, 'in'), 'C0-'),
                 ('fed to the model', _voiced(data, name, 'in', 'f0_model'),
                  'C1--'),
                 ('output, tracked again', _voiced(data, name, 'out'),
                  'C2:')],
                frame_rate, out_dir / f0_png, 'f0 (Hz)',
                f'{title}: fundamental frequency', log_y=True)
    feature_png([('input', data[f'{name}_ld_in'], 'C0-'),
                 ('fed to the model', data[f'{name}_ld_model'], 'C1--'),
                 ('output', data[f'{name}_ld_out'], 'C2:')],
                frame_rate, out_dir / ld_png, 'loudness (dB)',
                f'{title}: loudness')
    settings = json.loads(str(data[f'{name}_settings']))
    settings_text = ', '.join(f'{k}={v}' for k, v in settings.items())
    sections.append(
        f'<h2>{title}</h2><p>{html.escape(description)}.</p>'
        f'<p class="note">Settings: <code>{html.escape(settings_text)}'
        f'</code>; octave shift applied: '
        f'{float(data[f"{name}_octave_shift"]):+g}.</p>'
        f'{"".join(clips)}'
        f'<img src="{f0_png}" alt="f0 of {name}">'
        f'<p class="note">f0 where CREPE\'s confidence is at least '
        f'{MIN_CONFIDENCE} (gaps: unvoiced or silent).</p>'
        f'<img src="{ld_png}" alt="loudness of {name}">')
  loss_section = '<p>No training log.</p>'
  if len(steps):
    loss_png(steps, losses, out_dir / 'training_loss.png')
    loss_section = (f'<img src="training_loss.png" alt="training loss">'
                    f'<p class="note">{train_steps} steps '
                    f'(the exported checkpoint); loss '
                    f'{losses[0]:.2f} at step {steps[0]}, {losses[-1]:.2f} at '
                    f'step {steps[-1]}.</p>')
  rows = ''.join(
      f'<tr><td>{html.escape(t["stage"])}</td><td>{t["wall_s"]:.1f}</td>'
      f'<td>{t["cpu_s"]:.1f}</td><td>{t["load_1min"]:.1f}</td>'
      f'<td>{html.escape(t.get("finished", ""))}</td></tr>' for t in timings)
  total_wall = sum(t['wall_s'] for t in timings)
  total_cpu = sum(t['cpu_s'] for t in timings)
  page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ddsp demo: violin model</title><style>{_STYLE}</style></head>
<body>
<h1>ddsp demo: a violin model in minutes</h1>
<p>Trained on 80 s of violin (<code>demo/data/violin</code>) with
<code>models/solo_instrument.gin</code>, exported to a TFLite bundle and run
with the TensorFlow-free runtime (numpy + LiteRT). Everything on this page
was produced by <code>make demo</code>.</p>
{''.join(sections)}
<h2>Training</h2>
{loss_section}
<h2>Stage timings</h2>
<p class="note">{html.escape(machine)}. Wall and CPU seconds (CPU counts both
cores); the 1-minute load average at each stage's start shows how busy the
shared machine was.</p>
<table><tr><th>stage</th><th>wall (s)</th><th>CPU (s)</th><th>load</th>
<th>finished</th></tr>{rows}
<tr><th>total</th><th>{total_wall:.1f}</th><th>{total_cpu:.1f}</th><th></th>
<th></th></tr></table>
</body></html>
"""
  path = out_dir / 'report.html'
  file_io.write_text(path, page)
  return path
