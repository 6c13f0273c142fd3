"""On-device runtime for exported DDSP bundles: numpy and LiteRT, no TensorFlow.

A bundle (written by `ddsp.export.bundle.build_bundle`) is a directory with
`bundle.json` and three TFLite models:

- features: one 1024-sample frame of 16 kHz audio, centred on the frame's
  time -> f0 (CREPE), confidence, power (and loudness);
- controls: one frame of features + recurrent state -> amplitudes, harmonic
  distribution, noise magnitudes + new state;
- synth: one frame of controls + synth state -> one hop of audio + new state
  (and 'synth_chunk', the same for `chunk_frames` frames per call).

`StreamingSynth.process(block) -> block` does real-time timbre transfer with
any block size. `timbre_transfer` renders a whole clip offline and equals the
streamed output shifted by `StreamingSynth.latency` samples; `render_controls`
renders given controls. Interpreters come from `ai_edge_litert`, or from
`tflite_runtime` where that is what is installed.

Latency of `StreamingSynth` (at the model's sample rate, not counting the
host's own block): the feature frame is centred on its time, so the first
sample a frame shapes can be output only once the frame's last sample has
arrived, `frame_size / 2 - 1` samples later (511 samples, 32 ms, at 16 kHz);
with 'clip' alignment the synthesiser adds one hop. The input block size adds
nothing: hops are processed as soon as their frame is complete.
"""

import json
import pathlib
from typing import Dict, Optional, Text, Union

import numpy as np

try:
  from ai_edge_litert import interpreter as _litert
except ImportError:  # pragma: no cover - depends on what is installed.
  from tflite_runtime import interpreter as _litert

BUNDLE_FILE = 'bundle.json'
BUNDLE_FORMAT = 1
SIGNATURE_KEY = 'call'
MODEL_NAMES = ('features', 'controls', 'synth', 'synth_chunk')

PathLike = Union[str, pathlib.Path]
Arrays = Dict[Text, np.ndarray]


class BundleError(ValueError):
  """A bundle directory is missing, incomplete or of another format."""


class TFLiteModel:
  """A TFLite model called by the names of its `call` signature.

  Inputs and outputs are looked up once in the signature, then each call
  sets, invokes and reads tensors directly (no per-call dict of details).

  Args:
    path: .tflite file.
    num_threads: Interpreter threads.
  """

  def __init__(self, path: PathLike, num_threads: int = 1):
    self.path = pathlib.Path(path)
    self.interpreter = _litert.Interpreter(model_path=str(self.path),
                                           num_threads=num_threads)
    self.interpreter.allocate_tensors()
    runner = self.interpreter.get_signature_runner(SIGNATURE_KEY)
    self.inputs = {name: detail['index'] for name, detail in
                   runner.get_input_details().items()}
    self.outputs = {name: detail['index'] for name, detail in
                    runner.get_output_details().items()}
    self._set = self.interpreter.set_tensor
    self._get = self.interpreter.get_tensor

  def __call__(self, **inputs: np.ndarray) -> Arrays:
    """Runs the model; `inputs` by signature name, float32 arrays."""
    if inputs.keys() != self.inputs.keys():
      raise ValueError(f'{self.path.name} takes inputs {sorted(self.inputs)}; '
                       f'received {sorted(inputs)}.')
    for name, value in inputs.items():
      self._set(self.inputs[name], np.asarray(value, np.float32))
    self.interpreter.invoke()
    return {name: self._get(index) for name, index in self.outputs.items()}


class Bundle:
  """A loaded bundle: its `bundle.json` (`config`) and models.

  Args:
    bundle_dir: Directory written by `build_bundle`.
    num_threads: Threads per interpreter.

  Raises:
    BundleError: Missing directory, `bundle.json` or model file, or another
      format version.
  """

  def __init__(self, bundle_dir: PathLike, num_threads: int = 1):
    self.dir = pathlib.Path(bundle_dir)
    config_path = self.dir / BUNDLE_FILE
    if not config_path.is_file():
      raise BundleError(f'{self.dir} is not a DDSP bundle: no {BUNDLE_FILE}.')
    self.config = json.loads(config_path.read_text())
    if self.config.get('format') != BUNDLE_FORMAT:
      raise BundleError(f'{config_path} has format '
                        f'{self.config.get("format")!r}; this runtime reads '
                        f'format {BUNDLE_FORMAT}.')
    self.num_threads = num_threads
    self._models = {}
    for name in MODEL_NAMES:
      if not (self.dir / self.config['models'][name]).is_file():
        raise BundleError(f'{self.dir} lacks its {name} model '
                          f'{self.config["models"][name]}.')

  def model(self, name: Text) -> TFLiteModel:
    """The interpreter of one of `MODEL_NAMES` (created on first use)."""
    if name not in self._models:
      self._models[name] = TFLiteModel(self.dir / self.config['models'][name],
                                       self.num_threads)
    return self._models[name]

  @property
  def hop_size(self) -> int:
    return self.config['hop_size']

  @property
  def frame_size(self) -> int:
    return self.config['frame_size']

  @property
  def sample_rate(self) -> int:
    return self.config['sample_rate']

  def initial_synth_state(self, f0_hz: float = 0.0) -> np.ndarray:
    """Synth state before the first frame: silent, at phase 0, f0 `f0_hz`."""
    state = np.zeros(self.config['synth']['state_size'], np.float32)
    state[self.state_slice('f0_hz')] = f0_hz
    return state

  def state_slice(self, name: Text) -> slice:
    """Where a part of the synth state is (`SynthConfig.state_sizes`)."""
    offset = 0
    for key, size in self.config['synth']['state_layout']:
      if key == name:
        return slice(offset, offset + size)
      offset += size
    raise KeyError(name)

  def noise(self, rng: np.random.Generator, n_frames: int) -> np.ndarray:
    """[n_frames, hop] white noise in [-1, 1) for the noise synth."""
    return rng.uniform(-1.0, 1.0, (n_frames, self.hop_size)).astype(np.float32)


def _load(bundle: Union[Bundle, PathLike]) -> Bundle:
  return bundle if isinstance(bundle, Bundle) else Bundle(bundle)


def _check_audio(audio: np.ndarray) -> np.ndarray:
  audio = np.asarray(audio, np.float32)
  if audio.ndim != 1:
    raise ValueError(f'audio has shape {audio.shape}; expected mono samples '
                     f'[n_samples] at the bundle\'s sample rate.')
  if not np.isfinite(audio).all():
    raise ValueError('audio contains NaN or infinite samples.')
  return audio


class StreamingSynth:
  """Real-time timbre transfer: audio blocks in, synthesised blocks out.

  Per hop: the latest centred frame -> features -> controls (recurrent state
  carried) -> one hop of synthesis (phase and noise overlap carried). Output
  lags input by `latency` samples (see the module docstring).

  Args:
    bundle: A `Bundle` or its directory.
    seed: Seed of the noise generator (the noise restarts on `reset`).
  """

  def __init__(self, bundle: Union[Bundle, PathLike], seed: int = 0):
    self.bundle = _load(bundle)
    self.seed = seed
    config = self.bundle.config
    self.latency = (self.bundle.frame_size // 2 - 1 +
                    config['synth']['latency'])
    self._features = self.bundle.model('features')
    self._controls = self.bundle.model('controls')
    self._synth = self.bundle.model('synth')
    # One silent hop now, so that the interpreters' one-off setup (weight
    # packing on the first invoke) does not land on the audio thread.
    self.reset()
    self._render_frame(np.zeros(self.bundle.frame_size, np.float32))
    self.reset()

  def reset(self) -> None:
    """Back to silence: empty buffers, zero recurrent and synth state."""
    frame_size = self.bundle.frame_size
    self._rng = np.random.default_rng(self.seed)
    self._input = np.zeros(frame_size // 2, np.float32)  # Centring pad.
    self._output = np.zeros(self.latency, np.float32)
    self._control_state = np.zeros(self.bundle.config['controls']['state_size'],
                                   np.float32)
    self._synth_state = None  # Set on the first frame, from its f0.

  def _render_frame(self, frame: np.ndarray) -> np.ndarray:
    features = self._features(audio=frame)
    control_inputs = {key: features[key] for key in
                      self.bundle.config['controls']['inputs']}
    controls = self._controls(state=self._control_state, **control_inputs)
    self._control_state = controls['output_3']
    if self._synth_state is None:
      self._synth_state = self.bundle.initial_synth_state(
          float(features['f0_hz'][0]))
    synth = self._synth(f0_hz=features['f0_hz'],
                        amplitudes=controls['output_0'],
                        harmonic_distribution=controls['output_1'][None],
                        noise_magnitudes=controls['output_2'][None],
                        noise=self.bundle.noise(self._rng, 1),
                        state=self._synth_state)
    self._synth_state = synth['state']
    return synth['audio']

  def process(self, block: np.ndarray) -> np.ndarray:
    """Consumes a block of samples and returns as many synthesised samples.

    Args:
      block: [n] mono float32 samples at the bundle's sample rate (any n).

    Returns:
      [n] samples: the synthesis, `latency` samples behind the input.
    """
    block = _check_audio(block)
    hop, frame_size = self.bundle.hop_size, self.bundle.frame_size
    buffer = np.concatenate([self._input, block])
    hops = []
    start = 0
    while start + frame_size <= len(buffer):
      hops.append(self._render_frame(buffer[start:start + frame_size]))
      start += hop
    self._input = buffer[start:]
    output = np.concatenate([self._output] + hops)
    self._output = output[len(block):]
    return output[:len(block)]


def n_frames_for(n_samples: int, hop_size: int) -> int:
  """Frames centred at `0, hop, 2 hop, ...` within `n_samples` samples."""
  return (n_samples - 1) // hop_size + 1 if n_samples else 0


def extract_features(bundle: Union[Bundle, PathLike],
                     audio: np.ndarray) -> Arrays:
  """Features [n_frames] of frames centred at multiples of the hop.

  Frame j covers `audio[j hop - frame_size / 2 : j hop + frame_size / 2]`
  (zeros outside), as 'center' padding frames it, for
  `n_frames = n_frames_for(len(audio), hop)`.
  """
  bundle = _load(bundle)
  audio = _check_audio(audio)
  hop, half = bundle.hop_size, bundle.frame_size // 2
  padded = np.pad(audio, (half, half))
  model = bundle.model('features')
  frames = [model(audio=padded[j * hop:j * hop + 2 * half])
            for j in range(n_frames_for(len(audio), hop))]
  return {key: np.concatenate([f[key] for f in frames]) for key in frames[0]}


def predict_controls(bundle: Union[Bundle, PathLike],
                     features: Arrays) -> Arrays:
  """Controls for features [n_frames] (state carried from zeros): 'amps'
  [n_frames], 'harmonic_distribution' [n_frames, H], 'noise_magnitudes'
  [n_frames, N]."""
  bundle = _load(bundle)
  model = bundle.model('controls')
  inputs = bundle.config['controls']['inputs']
  state = np.zeros(bundle.config['controls']['state_size'], np.float32)
  outputs = []
  for j in range(len(features['f0_hz'])):
    out = model(state=state, **{key: features[key][j:j + 1] for key in inputs})
    state = out['output_3']
    outputs.append(out)
  return {name: np.stack([o[f'output_{k}'] for o in outputs])
          for k, name in enumerate(('amps', 'harmonic_distribution',
                                    'noise_magnitudes'))}


def render_controls(bundle: Union[Bundle, PathLike],
                    f0_hz: np.ndarray,
                    amplitudes: np.ndarray,
                    harmonic_distribution: np.ndarray,
                    noise_magnitudes: np.ndarray,
                    seed: int = 0,
                    noise: Optional[np.ndarray] = None) -> np.ndarray:
  """Renders a whole clip of controls with the chunk synthesiser.

  With 'clip' alignment the result is what the model's `Harmonic` and
  `FilteredNoise` render for the clip (frame j at sample j * hop, the last
  frame held); with 'vst' alignment, what the streaming synth renders.

  Args:
    bundle: A `Bundle` or its directory.
    f0_hz, amplitudes: [n_frames].
    harmonic_distribution: [n_frames, n_harmonics].
    noise_magnitudes: [n_frames, n_noise_bands].
    seed: Seed of the white noise (ignored if `noise` is given).
    noise: Optional [n_frames, hop] white noise in [-1, 1).

  Returns:
    Audio [n_frames * hop].
  """
  bundle = _load(bundle)
  controls = {'f0_hz': np.asarray(f0_hz, np.float32).reshape(-1),
              'amplitudes': np.asarray(amplitudes, np.float32).reshape(-1),
              'harmonic_distribution': np.asarray(harmonic_distribution,
                                                  np.float32),
              'noise_magnitudes': np.asarray(noise_magnitudes, np.float32)}
  n_frames = len(controls['f0_hz'])
  if noise is None:
    noise = bundle.noise(np.random.default_rng(seed), n_frames)
  controls['noise'] = np.asarray(noise, np.float32)
  state = bundle.initial_synth_state(float(controls['f0_hz'][0]))
  if bundle.config['synth']['alignment'] == 'clip':
    # Call j renders hop j - 1. A call for frame 0 fills the synth's memory
    # (its output, and the phase it advances, are dropped); the last frame is
    # held for one more hop (with no new noise), as resampling holds it.
    first = bundle.model('synth')(state=state,
                                  **{k: v[:1] for k, v in controls.items()})
    state = first['state']
    state[bundle.state_slice('phase')] = 0.0
    controls = {k: np.concatenate([v[1:], v[-1:] * (k != 'noise')])
                for k, v in controls.items()}
  model = bundle.model('synth_chunk')
  chunk = bundle.config['synth']['chunk_frames']
  audio = []
  for start in range(0, n_frames, chunk):
    inputs = {k: v[start:start + chunk] for k, v in controls.items()}
    n = len(inputs['f0_hz'])
    # Pad a short last chunk by holding its last frame; the padding's output
    # is dropped.
    inputs = {k: np.concatenate([v, np.repeat(v[-1:], chunk - n, 0)])
              for k, v in inputs.items()}
    out = model(state=state, **inputs)
    state = out['state']
    audio.append(out['audio'][:n * bundle.hop_size])
  return np.concatenate(audio)


def timbre_transfer(bundle: Union[Bundle, PathLike], audio: np.ndarray,
                    seed: int = 0) -> np.ndarray:
  """Offline timbre transfer of a whole clip, hop by hop.

  Equal to `StreamingSynth(bundle, seed).process(audio)` shifted earlier by
  its latency: `n_frames_for(len(audio), hop) * hop` samples.
  """
  bundle = _load(bundle)
  synth = StreamingSynth(bundle, seed)
  audio = _check_audio(audio)
  hop, half = bundle.hop_size, bundle.frame_size // 2
  n_frames = n_frames_for(len(audio), hop)
  padded = np.pad(audio, (half, half))
  return np.concatenate([synth._render_frame(padded[j * hop:j * hop + 2 * half])
                         for j in range(n_frames)])
