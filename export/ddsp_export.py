r"""`ddsp_export`: SavedModel, TFLite models and metadata from a trained model.

From a `ddsp_run` save dir (checkpoints + operative gin config), writes into
`--save_dir` (default `<model_path>/<name or 'export'>`):

- a SavedModel of the `--inference_model` (`ddsp.export.inference`);
- `tflite/`: its TFLite model `<name or 'model'>.tflite`, builtin ops only,
  with `metadata.json` appended as a zip (what the DDSP-VST plugin reads);
  for `streaming_f0_pw`, the on-device bundle (below);
- `metadata.json` (dataset statistics, rates and sizes, ddsp 3.7.0's keys and
  format), with `--metadata`;
- `reverb_ir_<sr>_hz.wav` (and a copy resampled to `--reverb_sample_rate`),
  with `--reverb` when the model has a reverb;
- `tfjs/`, with `--tfjs` when the `tensorflowjs` package is installed.

Inference models: `autoencoder`, `vst_extract_features`,
`vst_predict_controls`, `vst_stateless_predict_controls` (the plugin's
model), `vst_synthesize`, `vst_synthesize_harmonic`, `vst_synthesize_noise`,
and the default `streaming_f0_pw`, which ddsp 3.7.0 named but never
implemented. Here it exports real-time timbre transfer: the SavedModel is the
stateless control model (as `vst_stateless_predict_controls`), and `tflite/`
is a bundle for `ddsp.export.runtime` (features, controls, synth models and
`bundle.json`): `ddsp_render --bundle_dir=<save_dir>/tflite ...`.

Writes are atomic: everything is written to a temporary directory next to
`save_dir` and moved into place at the end, entry by entry, so an
interrupted export leaves no partial model. Errors (a missing or foreign
checkpoint, an unwritable or full output location, Ctrl-C) end in one line
and a non-zero exit (`ddsp.cli`).

Usage:
  ddsp_export --model_path=runs/violin --inference_model=vst_stateless_predict_controls \
      --tfjs=false --name=Violin
"""

import datetime
import errno
import io
import json
import os
import pathlib
import shutil
import tempfile

from absl import app
from absl import flags
import numpy as np
import soundfile as sf
import tensorflow as tf

from ddsp import audio_io
from ddsp import cli
from ddsp import core
from ddsp.export import bundle
from ddsp.export import inference
from ddsp.export import metadata as metadata_lib
from ddsp.export import streaming_synth
from ddsp.export import tflite_check
from ddsp.export import tflite_convert
from ddsp.training import data
from ddsp.training import models
from ddsp.training import postprocessing
from ddsp.version import __version__
import gin

FLAGS = flags.FLAGS

INFERENCE_MODELS = ('autoencoder', 'streaming_f0_pw', 'vst_extract_features',
                    'vst_predict_controls', 'vst_stateless_predict_controls',
                    'vst_synthesize', 'vst_synthesize_harmonic',
                    'vst_synthesize_noise')

flags.DEFINE_string('name', '', 'Name of the export folder and TFLite file '
                    "(defaults 'export', 'model').")
flags.DEFINE_string('model_path', '', 'Checkpoint directory, checkpoint '
                    'prefix, or SavedModel directory.')
flags.DEFINE_string('save_dir', '', 'Output directory (default: next to '
                    'the model, see the module docstring).')
flags.DEFINE_enum('inference_model', 'streaming_f0_pw', INFERENCE_MODELS,
                  'Which inference model to export.')
flags.DEFINE_multi_string('gin_param', [], 'Gin bindings for the inference '
                          'model (only parameters absent from the operative '
                          'config take effect).')
flags.DEFINE_boolean('debug', False, 'Build the model but save nothing.')
flags.DEFINE_boolean('tfjs', True, 'Also convert to TFJS (needs the '
                     'tensorflowjs package).')
flags.DEFINE_boolean('tflite', True, 'Also convert to TFLite (builtin ops '
                     'only).')
flags.DEFINE_string('metadata_file', None, 'Unused (as in ddsp 3.7.0).')
flags.DEFINE_boolean('metadata', True, 'Compute dataset statistics and write '
                     'metadata.json (appended to the .tflite too).')
flags.DEFINE_string('dataset_path', None, 'TFRecord file pattern for the '
                    'statistics; default: the training data provider in the '
                    'operative config.')
flags.DEFINE_boolean('reverb', True, 'Write the reverb impulse response.')
flags.DEFINE_integer('reverb_sample_rate', 44100, 'Sample rate of the '
                     'resampled impulse response copy.')
flags.DEFINE_enum('tflite_quantization', 'none',
                  ['none', 'float16', 'dynamic_range'],
                  'Weights of the TFLite models (inputs and outputs stay '
                  'float32).')


def ensure_exits(dir_path) -> str:  # Name (sic) as in ddsp 3.7.0.
  """Creates `dir_path` (expanded) if missing; returns it."""
  dir_path = os.path.expanduser(dir_path)
  os.makedirs(dir_path, exist_ok=True)
  return dir_path


def get_data_provider(dataset_path, model_path):
  """The data provider for dataset statistics.

  `TFRecordProvider(dataset_path)` (its defaults: 4 s, 16 kHz, 250 frames/s)
  if given, else the provider bound to `train.data_provider` in the
  operative config.

  Raises:
    FileNotFoundError: `dataset_path` matches no files.
    ValueError: Neither is available.
  """
  if dataset_path:
    dataset_path = os.path.expanduser(dataset_path)
    if not tf.io.gfile.glob(dataset_path):
      raise FileNotFoundError(f'--dataset_path {dataset_path} matches no '
                              f'files.')
    return data.TFRecordProvider(dataset_path)
  inference.parse_operative_config(model_path)
  try:
    with gin.unlock_config():
      return gin.query_parameter('train.data_provider').scoped_configurable_fn()
  except ValueError:
    raise ValueError(
        'No dataset for the metadata statistics: pass --dataset_path (a '
        'TFRecord file pattern) or train with a data provider bound to '
        '`train.data_provider`; or export with --metadata=false.') from None


def get_metadata_dict(data_provider, model_path) -> dict:
  """The `metadata.json` dict: statistics, version, time, rates and sizes."""
  inference.parse_operative_config(model_path)
  rates = inference.model_rates()
  stats = postprocessing.compute_dataset_statistics(
      data_provider, power_frame_size=rates['frame_size'],
      power_frame_rate=rates['frame_rate'])
  to_hz = lambda midi: float(core.midi_to_hz(midi))
  return {
      'mean_min_pitch_note': float(stats['mean_min_pitch_note']),
      'mean_max_pitch_note': float(stats['mean_max_pitch_note']),
      'mean_min_pitch_note_hz': to_hz(stats['mean_min_pitch_note']),
      'mean_max_pitch_note_hz': to_hz(stats['mean_max_pitch_note']),
      'mean_min_power_note': float(stats['mean_min_power_note']),
      'mean_max_power_note': float(stats['mean_max_power_note']),
      'version': __version__,
      'export_time': datetime.datetime.now().isoformat(),
      'num_harmonics': int(rates['n_harmonics']),
      'num_noise_amps': int(rates['n_noise']),
      'frame_rate': int(rates['frame_rate']),
      'frame_size': int(rates['frame_size']),
      'sample_rate': int(rates['sample_rate']),
  }


def get_inference_model(ckpt):
  """The inference model of `--inference_model` for a checkpoint."""
  with gin.unlock_config():
    gin.parse_config(FLAGS.gin_param)
  classes = {
      'autoencoder': inference.AutoencoderInference,
      'streaming_f0_pw': inference.VSTStatelessPredictControls,
      'vst_extract_features': inference.VSTExtractFeatures,
      'vst_predict_controls': inference.VSTPredictControls,
      'vst_stateless_predict_controls': inference.VSTStatelessPredictControls,
      'vst_synthesize': inference.VSTSynthesize,
      'vst_synthesize_harmonic': inference.VSTSynthesizeHarmonic,
      'vst_synthesize_noise': inference.VSTSynthesizeNoise,
  }
  return classes[FLAGS.inference_model](ckpt)


def ckpt_to_saved_model(ckpt, save_dir):
  """Writes the inference model's SavedModel to `save_dir`; returns it."""
  model = get_inference_model(ckpt)
  if not FLAGS.debug:
    model.save_model(save_dir)
  return model


def saved_model_to_tfjs(input_dir, save_dir):
  """TFJS conversion of a SavedModel (needs the `tensorflowjs` package)."""
  try:
    from tensorflowjs.converters import converter  # pylint: disable=g-import-not-at-top
  except ImportError:
    print('Skipping TFJS: the `tensorflowjs` package is not installed '
          '(pip install tensorflowjs), or pass --tfjs=false.')
    return False
  converter.convert([
      '--input_format=tf_saved_model', '--signature_name=serving_default',
      '--control_flow_v2=True', '--skip_op_check', '--quantize_float16=True',
      '--experiments=True', input_dir, save_dir])
  return True


def _quantization():
  """--tflite_quantization (its default when flags are not parsed)."""
  value = FLAGS['tflite_quantization'].value
  return None if value == 'none' else value


def saved_model_to_tflite(input_dir, save_dir, metadata_file=None, name=''):
  """Converts a model to `save_dir/<name or 'model'>.tflite`.

  Unlike ddsp 3.7.0 (which converted allowing Flex ops) this converts with
  builtin ops only (checked), weights frozen, so the model runs on the plain
  TFLite runtime and in TFLite 2.9.1. A `metadata_file` is appended as a zip
  (`metadata.json`).

  Args:
    input_dir: A SavedModel directory (its `call` or `serving_default`
      signature is converted), or an inference model of
      `get_inference_model` (its `tflite_function`).
    save_dir: Output directory (created).
    metadata_file: Optional `metadata.json` to append.
    name: File name without extension; default 'model'.

  Returns:
    The path of the .tflite file.

  Raises:
    ValueError: A SavedModel without a usable signature, or a model that
      needs ops outside TFLite's builtins.
  """
  metadata_json = (pathlib.Path(metadata_file).read_text()
                   if metadata_file else None)
  return tflite_convert.write_tflite(
      input_dir, ensure_exits(save_dir), name=name or 'model',
      quantization=_quantization(), metadata_json=metadata_json)


def export_streaming_bundle(model, save_dir, metadata_file=None):
  """The on-device bundle of a stateless control model (streaming_f0_pw)."""
  harmonic = model.processor_group.harmonic
  config = streaming_synth.SynthConfig(
      sample_rate=model.sample_rate, hop_size=model.hop_size,
      n_harmonics=model.n_harmonics, n_noise_bands=model.n_noise,
      noise_window_size=model.processor_group.filtered_noise.window_size,
      amp_resample_method=harmonic.amp_resample_method)
  call = model.tflite_function()
  inputs = [spec.name for spec in call.input_signature[:-1]]
  extra = {}
  if metadata_file:
    extra['metadata'] = json.loads(pathlib.Path(metadata_file).read_text())
  bundle.build_bundle(save_dir, call, inputs, model.state_size, config,
                      quantization=_quantization(), extra_config=extra)
  if metadata_file:
    metadata_lib.append_to_tflite(pathlib.Path(save_dir) / 'controls.tflite',
                                  pathlib.Path(metadata_file).read_text())


def export_impulse_response(model_path, save_dir, target_sr=None):
  """Writes the trained reverb's impulse response as WAV files.

  `reverb_ir_<sr>_hz.wav` at the model's rate and, with `target_sr`,
  `reverb_ir_<target_sr>_hz.wav` resampled (ddsp 3.7.0 wrote the original
  under the second name too). For FilteredNoiseReverb the IR is one random
  realisation, as in 3.7.0.

  Returns:
    The files written ([] if the model has no reverb named 'reverb').
  """
  inference.parse_operative_config(model_path)
  model = models.Autoencoder()
  group = model.processor_group
  if group is None or not hasattr(group, 'reverb'):
    print('No reverb named "reverb" in the model: no impulse response.')
    return []
  sample_rate = int(group.harmonic.sample_rate)
  reverb = group.reverb
  reverb.build([1, 1])
  model.restore(model_path, verbose=False, restore_keys=['processor_group'])
  ir = np.asarray(reverb.get_controls(audio=tf.zeros([1, 1]))['ir'][0],
                  np.float32)
  written = []
  for rate, audio in [(sample_rate, ir)] + (
      [(target_sr, audio_io.resample(ir, sample_rate, target_sr))]
      if target_sr and target_sr != sample_rate else []):
    path = pathlib.Path(save_dir) / f'reverb_ir_{rate}_hz.wav'
    wav = io.BytesIO()
    sf.write(wav, audio, rate, format='WAV', subtype='FLOAT')
    path.write_bytes(wav.getvalue())
    written.append(path)
  return written


def _publish(staging: pathlib.Path, save_dir: pathlib.Path) -> None:
  """Moves each entry of `staging` into `save_dir`, replacing old ones (a
  rename each: readers see the old entry or the complete new one)."""
  save_dir.mkdir(parents=True, exist_ok=True)
  for entry in sorted(staging.iterdir()):
    target = save_dir / entry.name
    old = None
    if target.is_dir() and not target.is_symlink():
      old = pathlib.Path(tempfile.mkdtemp(prefix=f'.{entry.name}.old.',
                                          dir=save_dir)) / entry.name
      os.replace(target, old)
    os.replace(entry, target)
    if old is not None:
      shutil.rmtree(old.parent, ignore_errors=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  export(os.path.expanduser(FLAGS.model_path))


def export(model_path):
  """The export `main` runs, for `model_path` (see the module docstring)."""
  if not model_path:
    raise app.UsageError('--model_path is required.')
  if not os.path.exists(model_path) and not os.path.exists(
      model_path + '.index'):
    raise FileNotFoundError(f'--model_path {model_path} does not exist.')
  is_saved_model = os.path.exists(os.path.join(model_path, 'saved_model.pb'))
  is_ckpt = not os.path.isdir(model_path)
  name = FLAGS.name or 'export'
  if FLAGS.save_dir:
    save_dir = os.path.expanduser(FLAGS.save_dir)
  elif is_saved_model:
    save_dir = model_path
  else:
    save_dir = os.path.join(os.path.dirname(model_path) if is_ckpt else
                            model_path, name)
  save_dir = pathlib.Path(save_dir)
  save_dir.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f'.{save_dir.name}.',
                                          dir=save_dir.parent))
  try:
    if is_saved_model:
      _export_saved_model(pathlib.Path(model_path), staging, save_dir)
      return
    if FLAGS.reverb:
      export_impulse_response(model_path, staging, FLAGS.reverb_sample_rate)
    metadata_path = None
    if FLAGS.metadata:
      provider = get_data_provider(FLAGS.dataset_path, model_path)
      metadata_text = metadata_lib.to_json(
          get_metadata_dict(provider, model_path))
      metadata_path = staging / metadata_lib.METADATA_FILE
      metadata_path.write_text(metadata_text)
    model = ckpt_to_saved_model(model_path, str(staging))
    if not FLAGS.debug:
      if FLAGS.tflite:
        tflite_dir = staging / 'tflite'
        if FLAGS.inference_model == 'streaming_f0_pw':
          export_streaming_bundle(model, tflite_dir, metadata_path)
        else:
          saved_model_to_tflite(model, tflite_dir, metadata_path, FLAGS.name)
      if FLAGS.tfjs:
        saved_model_to_tfjs(str(staging), str(staging / 'tfjs'))
      _publish(staging, save_dir)
      print(f'Exported {FLAGS.inference_model} to {save_dir}')
  except (tf.errors.OpError, IndexError, AssertionError) as e:
    raise _export_error(e, model_path, save_dir) from e
  except ValueError as e:
    if 'restore' not in str(e):  # Else a weight of another shape.
      raise
    raise _export_error(e, model_path, save_dir) from e
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def _export_error(error: Exception, model_path: str,
                  save_dir: pathlib.Path) -> Exception:
  """The user's error behind a failed TensorFlow read or write: a full
  disk (TensorFlow reports ENOSPC as an OpError), else a checkpoint that is
  damaged or does not fit the model of its operative config (restoring
  raises OpError or IndexError, resp. AssertionError or ValueError)."""
  message = cli.one_line(error).rstrip('.')
  if 'No space left on device' in message:
    return OSError(errno.ENOSPC, 'No space left on device', str(save_dir))
  return ValueError(
      f'Cannot export {model_path}: {message}. Export needs a checkpoint '
      'written by ddsp_run with the operative_config-*.gin next to it; a '
      'damaged checkpoint (move it away to use an earlier one) or one of '
      'another config does not load.')


def _export_saved_model(model_path: pathlib.Path, staging: pathlib.Path,
                        save_dir: pathlib.Path) -> None:
  """TFLite (and TFJS) of an existing SavedModel; its `metadata.json`, if
  any, is appended to the .tflite. The reverb IR and metadata need the
  checkpoint, so they are not written."""
  print('--model_path is a SavedModel: converting it only (no reverb IR or '
        'metadata, which need the checkpoint directory).')
  if FLAGS.tflite and not FLAGS.debug:
    metadata_path = model_path / metadata_lib.METADATA_FILE
    saved_model_to_tflite(model_path, staging / 'tflite',
                          metadata_path if metadata_path.exists() else None,
                          FLAGS.name)
  if FLAGS.tfjs and not FLAGS.debug:
    saved_model_to_tfjs(str(model_path), str(staging / 'tfjs'))
  if not FLAGS.debug:
    _publish(staging, save_dir)
    print(f'Converted {model_path} in {save_dir}')


def console_entry_point():
  cli.run(main, 'ddsp_export',
          user_errors=(ValueError, tflite_check.ModelCheckError))


if __name__ == '__main__':
  console_entry_point()
