"""Notebook helpers: audio in and out of the browser, statistics, auto-tune.

ddsp 3.7.0 imported `google.colab` as soon as this module was imported, so it
loaded only inside Colab. Here only the helpers that talk to the browser
import it, when they are called (`record`, `upload`, `download`, and `play`'s
ephemeral output tag); decoding, dataset statistics, the plotting aliases and
auto-tune work in any Python. The module itself loads without TensorFlow.
"""
import base64
import io
import pickle
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ddsp import audio_io
from ddsp import file_io

# Pitch classes of a major scale, semitones above its tonic.
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
# Candidate tuning offsets (MIDI semitones) tried by `get_tuning_factor`.
TUNING_CANDIDATES = np.linspace(-0.5, 0.5, 101)

# ddsp.training.plotting functions that 3.7.0 re-exported here; looked up on
# first use (module `__getattr__`) so that importing this module stays light.
_PLOTTING_ALIASES = ('specplot', 'plot_impulse_responses', 'transfer_function')

# Browser-side recorder: captures microphone samples with the Web Audio API
# and returns them as a base64 16-bit PCM WAV file, which `audio_bytes_to_np`
# decodes without ffmpeg (MediaRecorder's webm/ogg would need it).
_RECORD_JS = """
function encodeWav(chunks, sampleRate) {
  const n = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const buffer = new ArrayBuffer(44 + 2 * n);
  const view = new DataView(buffer);
  const text = (offset, s) => {
    for (let k = 0; k < s.length; k++) {
      view.setUint8(offset + k, s.charCodeAt(k));
    }
  };
  text(0, 'RIFF'); view.setUint32(4, 36 + 2 * n, true); text(8, 'WAVE');
  text(12, 'fmt '); view.setUint32(16, 16, true); view.setUint16(20, 1, true);
  view.setUint16(22, 1, true); view.setUint32(24, sampleRate, true);
  view.setUint32(28, 2 * sampleRate, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, 'data');
  view.setUint32(40, 2 * n, true);
  let offset = 44;
  for (const chunk of chunks) {
    for (const value of chunk) {
      const clipped = Math.max(-1, Math.min(1, value));
      view.setInt16(offset, Math.round(clipped * 32767), true);
      offset += 2;
    }
  }
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let k = 0; k < bytes.length; k += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(k, k + 0x8000));
  }
  return btoa(binary);
}

async function recordAudio(seconds) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const processor = context.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  processor.onaudioprocess = (event) => {
    chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
  };
  source.connect(processor);
  processor.connect(context.destination);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  processor.disconnect();
  source.disconnect();
  stream.getTracks().forEach((track) => track.stop());
  const sampleRate = context.sampleRate;
  await context.close();
  return encodeWav(chunks, sampleRate);
}
"""


def __getattr__(name: str) -> Any:
  if name in _PLOTTING_ALIASES:
    from ddsp.training import plotting  # pylint: disable=g-import-not-at-top
    return getattr(plotting, name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__() -> List[str]:
  return sorted(set(globals()) | set(_PLOTTING_ALIASES))


def _colab(purpose: str):
  """The `google.colab` package, or an ImportError that says what needs it."""
  try:
    from google import colab  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(f'{purpose} runs only in Google Colab (it needs the '
                      '`google.colab` package, which is not installed '
                      'here).') from e
  return colab


# ------------------------------------------------------------------------------
# Audio in and out of the notebook
# ------------------------------------------------------------------------------
def audio_bytes_to_np(wav_data: bytes, sample_rate: int = 16000,
                      normalize_db: Optional[float] = 0.1,
                      mono: bool = True) -> np.ndarray:
  """Decodes an audio file's bytes to float32 samples.

  Args:
    wav_data: The bytes of an audio file (any format `ddsp.audio_io` reads:
      WAV, FLAC, OGG, MP3, ...).
    sample_rate: Output sample rate in Hz (resampled if the file differs).
    normalize_db: If not None, scale so that the peak is `normalize_db` dB
      below full scale (headroom); None keeps the recorded level.
    mono: Downmix to one channel (mean of the channels).

  Returns:
    float32 audio, [n_samples] if `mono` else [n_samples, n_channels].

  Raises:
    ddsp.audio_io.AudioLoadError: The bytes are not decodable audio.
  """
  audio = audio_io.load_audio(io.BytesIO(wav_data), sample_rate, mono=mono)
  peak = float(np.max(np.abs(audio)))
  if normalize_db is not None and peak > 0.0:
    audio = audio * (10.0**(-normalize_db / 20.0) / peak)
  return audio.astype(np.float32)


def play(array_of_floats, sample_rate: int = 16000, ephemeral: bool = True,
         autoplay: bool = False) -> None:
  """Shows an audio player for the samples in a notebook.

  Args:
    array_of_floats: Audio [n_samples] or [batch, n_samples] (the first
      example is played), values in [-1, 1] (clipped outside; not
      normalised, so levels are heard as they are).
    sample_rate: Sample rate in Hz.
    ephemeral: In Colab, tag the player output 'ephemeral' so that
      `google.colab.output.clear(output_tags='ephemeral')` removes it; no
      effect elsewhere.
    autoplay: Start playing at once.
  """
  from IPython import display  # pylint: disable=g-import-not-at-top
  audio = np.asarray(array_of_floats, np.float32)
  if audio.ndim == 2:
    audio = audio[0]
  player = display.Audio(np.clip(audio, -1.0, 1.0), rate=sample_rate,
                         autoplay=autoplay, normalize=False)
  try:
    colab = _colab('play(ephemeral=True)') if ephemeral else None
  except ImportError:
    colab = None
  if colab is None:
    display.display(player)
    return
  with colab.output.use_tags('ephemeral'):
    display.display(player)


def record(seconds: float = 3, sample_rate: int = 16000,
           normalize_db: Optional[float] = 0.1) -> np.ndarray:
  """Records from the browser's microphone (Colab only).

  Args:
    seconds: Recording length.
    sample_rate: Output sample rate in Hz.
    normalize_db: Peak headroom in dB after normalisation, or None (see
      `audio_bytes_to_np`).

  Returns:
    float32 mono audio [n_samples].
  """
  colab = _colab('record()')
  print(f'Recording for {seconds} s...')
  wav_base64 = colab.output.eval_js(f'{_RECORD_JS}\nrecordAudio({seconds})')
  return audio_bytes_to_np(base64.b64decode(wav_base64), sample_rate,
                           normalize_db)


def upload(sample_rate: int = 16000, normalize_db: Optional[float] = None
           ) -> Tuple[List[str], List[np.ndarray]]:
  """Asks for audio files in the browser and decodes them (Colab only).

  Args:
    sample_rate: Output sample rate in Hz.
    normalize_db: Peak headroom in dB after normalisation, or None.

  Returns:
    (file names, float32 mono audio arrays), in upload order.
  """
  uploaded = _colab('upload()').files.upload()
  filenames = list(uploaded)
  arrays = [audio_bytes_to_np(uploaded[name], sample_rate, normalize_db)
            for name in filenames]
  return filenames, arrays


def download(filename: str) -> None:
  """Sends a file from the notebook machine to the browser (Colab only)."""
  _colab('download()').files.download(filename)


# ------------------------------------------------------------------------------
# Dataset statistics and auto-tune
# ------------------------------------------------------------------------------
def save_dataset_statistics(data_provider, file_path: Optional[str] = None,
                            batch_size: int = 1, power_frame_size: int = 256
                            ) -> Dict[str, Any]:
  """Computes dataset statistics and pickles them (as ddsp 3.7.0).

  Args:
    data_provider: A `ddsp.training.data.DataProvider`.
    file_path: Where to write the pickle (local path or URL, written
      atomically); None only computes.
    batch_size: Batch size for the one pass over the data.
    power_frame_size: Frame size in samples of the power feature, computed at
      50 frames per second (hop 320 at 16 kHz). The 3.7.0 default 256 is kept
      for compatibility but is shorter than the hop, which `compute_power`
      rejects (in 3.7.0 too): pass e.g. 1024, the VST models' frame size.

  Returns:
    The `postprocessing.compute_dataset_statistics` dict.
  """
  # pylint: disable=g-import-not-at-top
  from ddsp.training import postprocessing
  statistics = postprocessing.compute_dataset_statistics(
      data_provider, batch_size=batch_size, power_frame_size=power_frame_size,
      power_frame_rate=50)
  if file_path:
    file_io.write_bytes(file_path, pickle.dumps(statistics))
    print(f'Saved dataset statistics to {file_path}')
  return statistics


def _note_deviation(f0_midi: np.ndarray, offsets: np.ndarray) -> np.ndarray:
  """Signed distance of `f0_midi - offset` to its nearest semitone."""
  shifted = f0_midi[..., np.newaxis] - offsets
  return shifted - np.round(shifted)


def get_tuning_factor(f0_midi, f0_confidence, mask_on) -> float:
  """The tuning offset that puts the played notes closest to semitones.

  Tries the offsets `TUNING_CANDIDATES` (101 values in [-0.5, 0.5] MIDI) and
  returns the one minimising the confidence-weighted mean absolute distance
  of `f0_midi - offset` to the nearest semitone, over the note frames.

  Args:
    f0_midi: Pitch [n_frames] (or any shape) in MIDI.
    f0_confidence: Pitch confidence, same shape, in [0, 1].
    mask_on: Boolean note mask, same shape (e.g. `detect_notes`).

  Returns:
    The offset in semitones (0.0 when there are no note frames).
  """
  mask_on = np.asarray(mask_on, bool)
  f0_midi = np.asarray(f0_midi, np.float64)[mask_on]
  weights = np.asarray(f0_confidence, np.float64)[mask_on]
  if f0_midi.size == 0:
    return 0.0
  if weights.sum() <= 0.0:
    weights = np.ones_like(weights)
  deviation = np.abs(_note_deviation(f0_midi, TUNING_CANDIDATES))
  cost = weights @ deviation / weights.sum()
  return float(TUNING_CANDIDATES[np.argmin(cost)])


def _major_scale_notes(notes: np.ndarray) -> np.ndarray:
  """The pitch classes of the major scale holding most of `notes`."""
  counts = np.bincount(notes % 12, minlength=12)
  scale = np.array(MAJOR_SCALE)
  tonic = np.argmax([counts[(tonic + scale) % 12].sum()
                     for tonic in range(12)])
  return (tonic + scale) % 12


def auto_tune(f0_midi, tuning_factor: float, mask_on, amount: float = 0.0,
              chromatic: bool = False) -> np.ndarray:
  """Pulls pitch towards the nearest note in standard (A440) tuning.

  The intended note of each frame is `f0_midi - tuning_factor` rounded to the
  nearest semitone (`chromatic`) or to the nearest pitch of the major scale
  that holds most of the note frames (`mask_on`).

  Args:
    f0_midi: Pitch [n_frames] (or any shape) in MIDI.
    tuning_factor: Offset from `get_tuning_factor`.
    mask_on: Boolean note mask (selects the frames used to infer the scale).
    amount: 0 leaves the pitch unchanged, 1 snaps it to the note.
    chromatic: Snap to all semitones instead of the inferred major scale.

  Returns:
    Adjusted pitch in MIDI, same shape as `f0_midi`.
  """
  f0_midi = np.asarray(f0_midi, np.float64)
  played = f0_midi - tuning_factor
  nearest = np.round(played)
  if chromatic:
    target = nearest
  else:
    scale = _major_scale_notes(
        nearest[np.asarray(mask_on, bool)].astype(int))
    # The nearest scale pitch lies within two semitones of the nearest note.
    candidates = nearest[..., np.newaxis] + np.arange(-2, 3)
    in_scale = np.isin(candidates.astype(int) % 12, scale)
    distance = np.where(in_scale, np.abs(candidates - played[..., np.newaxis]),
                        np.inf)
    target = np.take_along_axis(candidates, np.argmin(distance, -1)[..., None],
                                -1)[..., 0]
  return f0_midi + amount * (target - f0_midi)
