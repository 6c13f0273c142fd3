"""Tests for ddsp.export.tflite_check and ddsp.export.metadata."""

import json
import shutil
import tempfile
import zipfile

import export_testing
import numpy as np
import pytest
import tensorflow as tf

# pylint: disable=g-direct-tensorflow-import
from tensorflow.python.framework import convert_to_constants

# pylint: enable=g-direct-tensorflow-import
from ddsp.export import feature_model
from ddsp.export import metadata
from ddsp.export import tflite_check
from ddsp.export import tflite_convert

METADATA = {
    'mean_min_pitch_note': 55.0, 'mean_max_pitch_note': 81.0,
    'mean_min_pitch_note_hz': 195.99, 'mean_max_pitch_note_hz': 880.0,
    'mean_min_power_note': -55.5, 'mean_max_power_note': -12.25,
    'version': '3.7.0', 'export_time': '2026-12-01T10:00:00.000001',
    'num_harmonics': 60, 'num_noise_amps': 65, 'frame_rate': 50,
    'frame_size': 1024, 'sample_rate': 16000}


def _flex_model() -> bytes:
  """A model that needs a Flex op (complex inverse FFT)."""

  @tf.function(input_signature=[tf.TensorSpec([8], tf.float32, name='x')])
  def irfft(x):
    return tf.signal.irfft(tf.complex(x, x))

  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [irfft.get_concrete_function()])
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                         tf.lite.OpsSet.SELECT_TF_OPS]
  return converter.convert()


def _sign_model() -> bytes:
  """A builtins-only model whose SIGN op is newer than TFLite 2.9.1."""

  @tf.function(input_signature=[tf.TensorSpec([4], tf.float32, name='x')])
  def sign(x):
    return tf.sign(x)

  return tflite_convert.convert(sign)


@pytest.fixture(scope='module')
def controls_path(tmp_path_factory):
  """A plugin-style predict-controls model with metadata."""
  path = tmp_path_factory.mktemp('vst') / 'Violin.tflite'
  path.write_bytes(tflite_convert.convert(export_testing.control_function()))
  metadata.append_to_tflite(path, metadata.to_json(METADATA))
  return path


def test_flex_ops_are_found_and_rejected():
  model = _flex_model()
  assert any(op.startswith('Flex') for op in
             tflite_check.non_builtin_ops(model))
  with pytest.raises(tflite_check.ModelCheckError, match='Flex'):
    tflite_check.check_builtins_only(model, 'irfft')


def test_runtime_version_is_read_and_checked():
  model = _sign_model()
  assert tflite_check.non_builtin_ops(model) == []
  version = tflite_check.min_runtime_version(model)
  assert tflite_check.parse_version(version) > (2, 9, 1)
  with pytest.raises(tflite_check.ModelCheckError, match='2.9.1'):
    tflite_check.check_runtime_version(model)
  tflite_check.check_runtime_version(model, max_version=version)


def test_plugin_interface_of_an_exported_control_model(controls_path):
  assert tflite_check.vst_control_problems(controls_path) == []
  assert metadata.read_from_tflite(controls_path) == METADATA
  version = tflite_check.min_runtime_version(controls_path)
  assert tflite_check.parse_version(version) <= (2, 9, 1)


def test_weight_free_conversion_names_are_caught(tmp_path):
  # Converting the frozen function directly gives `PartitionedCall`-style
  # outputs and no `call` signature: the plugin can't find its tensors.
  function = export_testing.control_function()
  frozen = convert_to_constants.convert_variables_to_constants_v2(
      function.get_concrete_function())
  converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
  path = tmp_path / 'bad.tflite'
  path.write_bytes(converter.convert())
  problems = tflite_check.vst_control_problems(path, require_metadata=False)
  assert any('names' in p for p in problems)
  assert any('signatures' in p for p in problems)


def test_raw_logits_are_caught(tmp_path):
  decoder = export_testing.build(seed=1)

  @tf.function(input_signature=[
      tf.TensorSpec([1], tf.float32, name='f0_scaled'),
      tf.TensorSpec([1], tf.float32, name='pw_scaled'),
      tf.TensorSpec([512], tf.float32, name='state')])
  def logits(f0_scaled, pw_scaled, state):
    out = decoder({'f0_scaled': tf.reshape(f0_scaled, [1, 1, 1]),
                   'pw_scaled': tf.reshape(pw_scaled, [1, 1, 1]),
                   'state': state[tf.newaxis]})
    return tuple(tf.reshape(out[k], [-1]) for k in (
        'amps', 'harmonic_distribution', 'noise_magnitudes', 'state'))

  path = tmp_path / 'logits.tflite'
  path.write_bytes(tflite_convert.convert(logits))
  problems = tflite_check.vst_control_problems(path, require_metadata=False)
  assert any('negative' in p for p in problems)


def test_missing_or_misplaced_metadata_is_caught(controls_path, tmp_path):
  bare = tmp_path / 'bare.tflite'
  with zipfile.ZipFile(controls_path) as archive:
    flatbuffer_size = min(info.header_offset for info in archive.infolist())
  bare.write_bytes(controls_path.read_bytes()[:flatbuffer_size])
  problems = tflite_check.vst_control_problems(bare)
  assert any('zip' in p for p in problems)
  # A zip built on its own and concatenated keeps offsets relative to
  # itself: Python reads it, JUCE does not.
  with tempfile.TemporaryDirectory() as scratch:
    separate = f'{scratch}/metadata.zip'
    with zipfile.ZipFile(separate, 'w') as archive:
      archive.writestr('metadata.json', metadata.to_json(METADATA))
    concatenated = tmp_path / 'concatenated.tflite'
    with open(separate, 'rb') as f:
      concatenated.write_bytes(bare.read_bytes() + f.read())
  assert metadata.read_from_tflite(concatenated) == METADATA
  with pytest.raises(metadata.MetadataError, match='offset'):
    metadata.check_zip_offsets(concatenated)
  # Keys the plugin reads must be there.
  partial = tmp_path / 'partial.tflite'
  shutil.copy(bare, partial)
  metadata.append_to_tflite(partial, json.dumps({'version': '3.7.0'}))
  problems = tflite_check.vst_control_problems(partial)
  assert any('lacks' in p and 'export_time' in p for p in problems)


def test_metadata_json_is_written_as_ddsp_writes_it():
  text = metadata.to_json(dict(reversed(list(METADATA.items()))))
  assert list(json.loads(text)) == list(metadata.METADATA_KEYS)
  assert text == json.dumps(METADATA)
  assert not text.endswith('\n')
  with pytest.raises(metadata.MetadataError, match='sample_rate'):
    metadata.to_json({k: v for k, v in METADATA.items()
                      if k != 'sample_rate'})


def test_feature_model_output_order_for_the_plugin(tmp_path):
  vst_path = tmp_path / 'extract_features.tflite'
  vst_path.write_bytes(tflite_convert.convert(feature_model.feature_function(
      outputs=feature_model.VST_FEATURE_OUTPUTS, as_tuple=True)))
  assert tflite_check.vst_feature_problems(vst_path) == []
  dict_path = tmp_path / 'features.tflite'
  dict_path.write_bytes(tflite_convert.convert(
      feature_model.feature_function()))
  assert any('order' in p for p in
             tflite_check.vst_feature_problems(dict_path))
  # And the positions carry what the plugin reads from them.
  interpreter = tflite_check._litert.Interpreter(model_path=str(vst_path))
  interpreter.allocate_tensors()
  t = np.arange(1024) / 16000
  sine = (np.sqrt(2) * 10**(-30 / 20) * np.sin(2 * np.pi * 440 * t))
  interpreter.set_tensor(interpreter.get_input_details()[0]['index'],
                         sine.astype(np.float32))
  interpreter.invoke()
  f0_scaled, pw_scaled, f0_hz, pw_db = (
      interpreter.get_tensor(d['index'])[0]
      for d in interpreter.get_output_details())
  assert abs(1200 * np.log2(f0_hz / 440.0)) < 10
  assert f0_scaled == pytest.approx(69 / 127, abs=1e-3)
  assert pw_db == pytest.approx(-30.0, abs=0.05)
  assert pw_scaled == pytest.approx(0.625, abs=1e-3)
