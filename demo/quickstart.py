"""Synthesizes a note with Harmonic + FilteredNoise + Reverb; writes WAV + PNG.

The README's quick start, with a spectrogram. Usage:
  python demo/quickstart.py --out_dir out
"""

import argparse
import pathlib

import numpy as np
import soundfile as sf

import ddsp
from ddsp import file_io

SAMPLE_RATE, N_SAMPLES, N_FRAMES = 16000, 64000, 250


def synthesize_note() -> np.ndarray:
  """A 4 s violin-like note: vibrato f0, decaying harmonics, breath noise."""
  t = np.linspace(0.0, 4.0, N_FRAMES)[np.newaxis, :, np.newaxis]
  f0_hz = 220.0 * 2**(0.2 * np.sin(2 * np.pi * 5.0 * t) / 12)  # 20 cent vibrato.
  # Raw amplitude (exp_sigmoid-scaled): sustain for 3 s, then release.
  amps = np.where(t < 3.0, 1.0, 1.0 - 10.0 * (t - 3.0))
  harmonic_distribution = -0.25 * np.arange(1, 41) * np.ones_like(t)
  noise_magnitudes = np.full([1, N_FRAMES, 65], -2.0) - np.linspace(0, 4, 65)

  synth = ddsp.processors.ProcessorGroup(dag=[
      (ddsp.synths.Harmonic(n_samples=N_SAMPLES, sample_rate=SAMPLE_RATE),
       ['amps', 'harmonic_distribution', 'f0_hz']),
      (ddsp.synths.FilteredNoise(n_samples=N_SAMPLES),
       ['noise_magnitudes']),
      (ddsp.processors.Add(), ['harmonic/signal', 'filtered_noise/signal']),
      (ddsp.effects.ExpDecayReverb(reverb_length=SAMPLE_RATE),
       ['add/signal', 'gain', 'decay']),
  ])
  audio = synth({
      'f0_hz': f0_hz, 'amps': amps,
      'harmonic_distribution': harmonic_distribution,
      'noise_magnitudes': noise_magnitudes,
      'gain': np.full([1, 1], -2.0), 'decay': np.full([1, 1], 1.0),
  })
  audio = audio.numpy()[0]
  return 0.9 * audio / np.max(np.abs(audio))


def save_spectrogram(audio: np.ndarray, path: pathlib.Path) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  logmag = ddsp.spectral_ops.compute_logmag(audio[np.newaxis], size=1024)
  fig, ax = plt.subplots(figsize=(8, 4))
  ax.imshow(np.asarray(logmag[0]).T, origin='lower', aspect='auto',
            cmap='magma', vmin=-5, vmax=5,
            extent=[0, len(audio) / SAMPLE_RATE, 0, SAMPLE_RATE / 2])
  ax.set_xlabel('time (s)')
  ax.set_ylabel('frequency (Hz)')
  ax.set_title('ddsp quick start: Harmonic + FilteredNoise + Reverb')
  fig.tight_layout()
  with file_io.atomic_path(path) as tmp:
    fig.savefig(tmp, format='png', dpi=100)
  plt.close(fig)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--out_dir', default='out')
  out_dir = pathlib.Path(parser.parse_args().out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  audio = synthesize_note()
  wav_path = out_dir / 'quickstart.wav'
  with file_io.atomic_path(wav_path) as tmp:
    sf.write(tmp, audio, SAMPLE_RATE, format='WAV')
  png_path = out_dir / 'quickstart_spectrogram.png'
  save_spectrogram(audio, png_path)
  print(f'wrote {wav_path} ({len(audio) / SAMPLE_RATE:.1f} s) and {png_path}')


if __name__ == '__main__':
  main()
