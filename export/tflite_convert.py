"""TensorFlow functions -> TFLite flatbuffers with builtin ops only.

`convert` freezes a `tf.function` (weights become constants, so the model
runs in TFLite 2.9.1, the DDSP-VST plugin's runtime, which cannot read
resource variables), saves it as a SavedModel signature `call` and converts
that with `TFLiteConverter.from_saved_model`, the converter set to
`TFLITE_BUILTINS` alone. Going through the SavedModel gives the tensor names
ddsp 3.7.0's exports have and the plugin looks up: inputs `call_<arg>:0`,
outputs `StatefulPartitionedCall:<k>`.

Those output names come from the op that calls the signature function:
`StatefulPartitionedCall` when the function has a stateful op,
`PartitionedCall` otherwise, and a frozen function has none. So the signature
function also draws one unused random number: that marks it stateful, and
the converter prunes the unused draw (no RANDOM_UNIFORM in the model; the
interface tests check both names and op lists).
"""

import pathlib
import tempfile
from typing import Callable, Iterable, Optional, Sequence, Text

import tensorflow as tf

# pylint: disable=g-direct-tensorflow-import
from tensorflow.python.framework import convert_to_constants

# pylint: enable=g-direct-tensorflow-import
from ddsp import file_io
from ddsp.export import metadata as metadata_lib
from ddsp.export import tflite_check

SIGNATURE_KEY = 'call'
QUANTIZATIONS = (None, 'float16', 'dynamic_range', 'int8')


def _signature_function(function: tf.types.experimental.GenericFunction,
                        input_specs: Sequence[tf.TensorSpec]):
  """A `tf.function` over named inputs computing `function` with its
  variables frozen, marked stateful; outputs keep their structure."""
  concrete = function.get_concrete_function()
  frozen = convert_to_constants.convert_variables_to_constants_v2(concrete)

  def call(*inputs):
    tf.random.uniform([])  # Stateful marker; pruned by the converter.
    return tf.nest.pack_sequence_as(concrete.structured_outputs,
                                    tf.nest.flatten(frozen(*inputs)))

  return tf.function(call, input_signature=list(input_specs),
                     autograph=False)


def convert(function: tf.types.experimental.GenericFunction,
            quantization: Optional[Text] = None,
            representative_dataset: Optional[Callable[[], Iterable]] = None,
            float_ops: Sequence[Text] = ()) -> bytes:
  """Converts a `tf.function` with an input signature to a TFLite model.

  Args:
    function: `tf.function` with `input_signature` whose TensorSpecs carry
      the input names (the model's inputs become `call_<name>:0`). Tuple
      outputs become signature outputs `output_<k>`; dict outputs keep their
      keys. Variables it reads are frozen into constants.
    quantization: None (float32), 'float16' (float16 weights, float32
      compute), 'dynamic_range' (int8 weights, float activations) or 'int8'
      (int8 weights and activations, float32 inputs and outputs; needs
      `representative_dataset`).
    representative_dataset: For 'int8': a callable yielding lists of input
      arrays, in signature order, to calibrate activation ranges.
    float_ops: For 'int8': TFLite op names (e.g. 'DIV') kept in float, for
      computations int8 can't represent (selective quantization).

  Returns:
    The .tflite flatbuffer.

  Raises:
    ValueError: Unknown quantization, missing calibration data, or a
      function without a complete named input signature.
  """
  if quantization not in QUANTIZATIONS:
    raise ValueError(f'Received an invalid value for `quantization`, expected '
                     f'one of {QUANTIZATIONS}. Received: '
                     f'quantization={quantization!r}')
  if quantization == 'int8' and representative_dataset is None:
    raise ValueError("quantization='int8' needs a `representative_dataset` "
                     'to calibrate activation ranges.')
  input_specs = getattr(function, 'input_signature', None)
  if not input_specs or any(not spec.name for spec in input_specs):
    raise ValueError('`function` needs an input_signature of named '
                     'tf.TensorSpecs; the names become the model inputs.')
  module = tf.Module()
  module.call = _signature_function(function, input_specs)
  with tempfile.TemporaryDirectory(prefix='ddsp_tflite_') as saved_model_dir:
    # Custom gradients (e.g. of spectral_ops' power spectrogram) are not
    # needed for inference and may not be serialisable.
    tf.saved_model.save(
        module, saved_model_dir, signatures={SIGNATURE_KEY: module.call},
        options=tf.saved_model.SaveOptions(experimental_custom_gradients=False))
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_keys=[SIGNATURE_KEY])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization is not None:
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == 'float16':
      converter.target_spec.supported_types = [tf.float16]
    if quantization != 'int8':
      return converter.convert()
    converter.representative_dataset = representative_dataset
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=representative_dataset,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(
            denylisted_ops=list(float_ops)) if float_ops else None)
    return debugger.get_nondebug_quantized_model()


def saved_model_function(saved_model_dir) -> tf.types.experimental.GenericFunction:
  """The `call` (else `serving_default`) signature of a SavedModel as a
  `tf.function` over named inputs, what `convert` takes.

  Raises:
    ValueError: The SavedModel has neither signature.
  """
  loaded = tf.saved_model.load(str(saved_model_dir))
  key = next((k for k in (SIGNATURE_KEY, 'serving_default')
              if k in loaded.signatures), None)
  if key is None:
    raise ValueError(f'SavedModel {saved_model_dir} has no signature "call" '
                     f'or "serving_default" (it has {list(loaded.signatures)}).')
  specs = loaded.signatures[key].structured_input_signature[1]
  names = list(specs)

  def call(*inputs):
    # Looked up through `loaded`, which keeps the SavedModel's variables.
    return loaded.signatures[key](**dict(zip(names, inputs)))

  return tf.function(call, autograph=False, input_signature=[
      tf.TensorSpec(specs[n].shape, specs[n].dtype, name=n) for n in names])


def write_tflite(source, save_dir, name: Text = 'model',
                 quantization: Optional[Text] = None,
                 metadata_json: Optional[Text] = None) -> pathlib.Path:
  """Converts `source` to `save_dir/<name>.tflite`, builtin ops only.

  Args:
    source: A SavedModel directory (str or path; its `call` or
      `serving_default` signature), an object with a `tflite_function()`
      method (the inference models), or a `tf.function` as for `convert`.
    save_dir: Output directory, created if missing.
    name: File name without extension.
    quantization: As for `convert`.
    metadata_json: Optional `metadata.json` text appended as a zip.

  Returns:
    The path of the .tflite file (written atomically).

  Raises:
    ValueError: A SavedModel without a usable signature.
    tflite_check.ModelCheckError: The model needs ops outside the builtins.
  """
  if hasattr(source, 'tflite_function'):
    function = source.tflite_function()
  elif isinstance(source, (str, pathlib.Path)):
    function = saved_model_function(source)
  else:
    function = source
  flatbuffer = convert(function, quantization)
  tflite_check.check_builtins_only(flatbuffer, name)
  save_dir = pathlib.Path(save_dir).expanduser()
  save_dir.mkdir(parents=True, exist_ok=True)
  path = save_dir / f'{name}.tflite'
  with file_io.atomic_path(path) as temp_path:
    pathlib.Path(temp_path).write_bytes(flatbuffer)
    if metadata_json is not None:
      metadata_lib.append_to_tflite(temp_path, metadata_json)
  return path
