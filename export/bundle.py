"""Writes on-device bundles: feature, control and synth TFLite models + config.

A bundle is what `ddsp.export.runtime` runs without TensorFlow (layout in its
docstring). Every model is converted with builtin ops only and checked for it
(`tflite_check.check_builtins_only`) before the bundle directory appears; the
directory is written atomically.
"""

import dataclasses
import json
import pathlib
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Text

import numpy as np

from ddsp import crepe
from ddsp import file_io
from ddsp.export import feature_model
from ddsp.export import runtime
from ddsp.export import streaming_synth
from ddsp.export import tflite_check
from ddsp.export import tflite_convert
from ddsp.version import __version__

# Models whose weights may be quantised; the synth's constants (exact phase
# arithmetic) always stay float32.
QUANTIZABLE = ('features', 'controls')


def calibration_frames(audio: np.ndarray, hop_size: int,
                        max_frames: int = 200) -> Callable[[], Iterable]:
  """Representative dataset of centred CREPE frames of `audio`, for int8."""
  frames = crepe.frame_audio(np.pad(np.asarray(audio, np.float32),
                                    crepe.FRAME_SIZE // 2), hop_size)
  step = max(1, len(frames) // max_frames)

  def dataset():
    for frame in frames[::step]:
      yield [np.array(frame)]

  return dataset


def build_bundle(save_dir,
                 control_fn,
                 control_inputs: Sequence[Text],
                 control_state_size: int,
                 synth_config: streaming_synth.SynthConfig,
                 tracker: Optional[feature_model.TrackerConfig] = None,
                 quantization: Optional[Text] = None,
                 calibration_audio: Optional[np.ndarray] = None,
                 chunk_frames: int = 50,
                 extra_config: Optional[Dict[Text, Any]] = None
                 ) -> pathlib.Path:
  """Converts and writes a bundle to `save_dir` (replaced atomically).

  Args:
    save_dir: Bundle directory.
    control_fn: The control model's `tf.function`
      (`control_model.control_function`).
    control_inputs: Its feature inputs, e.g. ('f0_scaled', 'pw_scaled').
    control_state_size: Its recurrent state size.
    synth_config: The synthesiser (sample rate, hop, sizes, alignment).
    tracker: The CREPE variant of the feature model (default: float32
      CREPE tiny, `TrackerConfig()`).
    quantization: Weights of the feature and control models: None
      (float32), 'float16', 'dynamic_range' or 'int8' (features only get
      int8 activations; controls then use dynamic range).
    calibration_audio: 16 kHz audio for 'int8' calibration.
    chunk_frames: Frames per call of the batch synth `synth_chunk`.
    extra_config: More entries for `bundle.json` (e.g. dataset statistics).

  Returns:
    The bundle directory.
  """
  tracker = tracker or feature_model.TrackerConfig()
  if synth_config.sample_rate != crepe.SAMPLE_RATE:
    raise ValueError(f'On-device feature extraction runs at '
                     f'{crepe.SAMPLE_RATE} Hz; the synth config has '
                     f'sample_rate={synth_config.sample_rate}.')
  unknown = set(control_inputs) - set(feature_model.FEATURE_OUTPUTS)
  if unknown:
    raise ValueError(f'Control inputs {sorted(unknown)} are not features; '
                     f'expected some of {feature_model.FEATURE_OUTPUTS}.')
  feature_outputs = list(feature_model.FEATURE_OUTPUTS[:5])
  if 'ld_scaled' in control_inputs:
    feature_outputs += ['loudness_db', 'ld_scaled']
  representative = None
  if quantization == 'int8':
    if calibration_audio is None:
      raise ValueError("quantization='int8' needs `calibration_audio`.")
    representative = calibration_frames(calibration_audio,
                                         synth_config.hop_size)
  functions = {
      'features': feature_model.feature_function(tracker, feature_outputs),
      'controls': control_fn,
      'synth': streaming_synth.synth_function(synth_config, 1),
      'synth_chunk': streaming_synth.synth_function(synth_config,
                                                    chunk_frames),
  }
  models = {}
  for name, function in functions.items():
    model_quantization = quantization if name in QUANTIZABLE else None
    if name == 'controls' and quantization == 'int8':
      model_quantization = 'dynamic_range'
    is_features = name == 'features'
    models[name] = tflite_convert.convert(
        function, model_quantization, representative if is_features else None,
        feature_model.INT8_FLOAT_OPS if is_features else ())
    tflite_check.check_builtins_only(models[name], name)

  config = {
      'format': runtime.BUNDLE_FORMAT,
      'ddsp_version': __version__,
      'sample_rate': synth_config.sample_rate,
      'hop_size': synth_config.hop_size,
      'frame_rate': synth_config.sample_rate / synth_config.hop_size,
      'frame_size': crepe.FRAME_SIZE,
      'quantization': quantization,
      'models': {name: f'{name}.tflite' for name in models},
      'features': {'tracker': dataclasses.asdict(tracker),
                   'outputs': sorted(feature_outputs)},
      'controls': {'inputs': list(control_inputs),
                   'state_size': int(control_state_size)},
      'synth': dict(dataclasses.asdict(synth_config),
                    state_size=synth_config.state_size,
                    state_layout=list(synth_config.state_sizes.items()),
                    latency=synth_config.latency,
                    noise_delay=synth_config.noise_delay,
                    chunk_frames=chunk_frames),
  }
  config.update(extra_config or {})
  pathlib.Path(save_dir).parent.mkdir(parents=True, exist_ok=True)
  with file_io.atomic_directory(save_dir) as staging:
    staging = pathlib.Path(staging)
    for name, flatbuffer in models.items():
      (staging / config['models'][name]).write_bytes(flatbuffer)
    (staging / runtime.BUNDLE_FILE).write_text(json.dumps(config, indent=2))
  return pathlib.Path(save_dir)
