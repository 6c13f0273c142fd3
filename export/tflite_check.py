"""Checks of TFLite models: builtin ops only, runtime version, and the
DDSP-VST plugin's model interface. TensorFlow-free.

Op codes and `min_runtime_version` are read from the flatbuffer with the
TFLite schema (`ai_edge_litert.schema_py_generated`); the Interpreter does not
expose them. The plugin checks follow vst-interface.md §7: what the plugin
matches (tensor names, element counts, float32, no dynamic shapes), what the
converter should have produced (signature `call`), the metadata zip, and a
few frames run with the state fed back.
"""

import dataclasses
import pathlib
from typing import List, Optional, Sequence, Text, Tuple, Union

import numpy as np

from ddsp.export import metadata as metadata_lib

try:
  from ai_edge_litert import interpreter as _litert
  from ai_edge_litert import schema_py_generated as _schema
except ImportError:  # pragma: no cover - depends on what is installed.
  _litert = _schema = None

PLUGIN_RUNTIME_VERSION = '2.9.1'
# vst-interface.md §2a: names -> element counts of the predict-controls
# model the plugin loads (60 harmonics, 65 noise bands, GRU state 512).
VST_CONTROL_INPUTS = {'call_f0_scaled:0': 1, 'call_pw_scaled:0': 1,
                      'call_state:0': 512}
VST_CONTROL_OUTPUTS = {'StatefulPartitionedCall:0': 1,
                       'StatefulPartitionedCall:1': 60,
                       'StatefulPartitionedCall:2': 65,
                       'StatefulPartitionedCall:3': 512}
VST_CONTROL_SIGNATURE = {'call': {
    'inputs': ['f0_scaled', 'pw_scaled', 'state'],
    'outputs': ['output_0', 'output_1', 'output_2', 'output_3']}}
# §2b: the feature model's outputs are read by position: f0_scaled,
# pw_scaled, f0_hz, pw_db.
VST_FEATURE_INPUT = ('call_audio:0', 1024)
VST_FEATURE_OUTPUT_ORDER = ('StatefulPartitionedCall:1',
                            'StatefulPartitionedCall:3',
                            'StatefulPartitionedCall:0',
                            'StatefulPartitionedCall:2')

ModelSource = Union[bytes, str, pathlib.Path]


class ModelCheckError(ValueError):
  """A model fails a check; the message lists every problem found."""


@dataclasses.dataclass(frozen=True)
class OpCode:
  name: Text
  version: int
  custom_code: Optional[Text]


def _require_schema():
  if _schema is None:
    raise ImportError('Reading TFLite flatbuffers needs the `ai-edge-litert` '
                      'package (pip install ai-edge-litert).')


def _buffer(model: ModelSource) -> bytes:
  if isinstance(model, (bytes, bytearray)):
    return bytes(model)
  return pathlib.Path(model).read_bytes()


def _model(model: ModelSource):
  _require_schema()
  return _schema.Model.GetRootAsModel(_buffer(model), 0)


def _label(model: ModelSource, name: Text) -> Text:
  if name:
    return name
  return 'model' if isinstance(model, (bytes, bytearray)) else str(model)


def operator_codes(model: ModelSource) -> List[OpCode]:
  """The operator codes of a model (one per distinct op and version)."""
  flatbuffer = _model(model)
  names = {value: key for key, value in vars(_schema.BuiltinOperator).items()
           if not key.startswith('_')}
  codes = []
  for i in range(flatbuffer.OperatorCodesLength()):
    code = flatbuffer.OperatorCodes(i)
    # Codes < 127 also live in the deprecated int8 field; take the larger.
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    custom = code.CustomCode()
    codes.append(OpCode(names.get(builtin, str(builtin)), code.Version(),
                        custom.decode() if custom is not None else None))
  return codes


def min_runtime_version(model: ModelSource) -> Optional[Text]:
  """The converter's `min_runtime_version` metadata, e.g. '2.3.0', or None."""
  flatbuffer = _model(model)
  for i in range(flatbuffer.MetadataLength()):
    entry = flatbuffer.Metadata(i)
    if entry.Name() == b'min_runtime_version':
      data = flatbuffer.Buffers(entry.Buffer()).DataAsNumpy()
      return bytes(data).split(b'\0')[0].decode()
  return None


def parse_version(version: Text) -> Tuple[int, ...]:
  """'2.9.1' -> (2, 9, 1)."""
  return tuple(int(part) for part in version.split('.'))


def non_builtin_ops(model: ModelSource) -> List[Text]:
  """Custom and Flex (SELECT_TF_OPS) ops of a model, by their custom code."""
  return [code.custom_code or code.name for code in operator_codes(model)
          if code.name == 'CUSTOM' or code.custom_code is not None]


def check_builtins_only(model: ModelSource, name: Text = '') -> None:
  """Raises ModelCheckError if the model has any custom or Flex op."""
  bad = non_builtin_ops(model)
  if bad:
    raise ModelCheckError(f'{_label(model, name)} needs non-builtin ops '
                          f'{sorted(set(bad))}; only TFLite builtins run on '
                          f'device.')


def check_runtime_version(model: ModelSource,
                          max_version: Text = PLUGIN_RUNTIME_VERSION,
                          name: Text = '') -> None:
  """Raises ModelCheckError if the model needs a runtime newer than
  `max_version` (or does not say which it needs)."""
  version = min_runtime_version(model)
  if version is None:
    raise ModelCheckError(f'{_label(model, name)} has no min_runtime_version '
                          f'metadata.')
  if parse_version(version) > parse_version(max_version):
    raise ModelCheckError(f'{_label(model, name)} needs TFLite {version}; the '
                          f'target runtime is {max_version}.')


def _interface_problems(details: Sequence[dict],
                        expected: dict, role: Text) -> List[Text]:
  problems = []
  names = [d['name'] for d in details]
  if sorted(names) != sorted(expected):
    problems.append(f'{role} names {sorted(names)}; the plugin needs exactly '
                    f'{sorted(expected)}.')
  for d in details:
    size = int(np.prod(d['shape']))
    if d['name'] in expected and size != expected[d['name']]:
      problems.append(f'{role} {d["name"]} has {size} elements; the plugin '
                      f'needs {expected[d["name"]]}.')
    if d['dtype'] != np.float32:
      problems.append(f'{role} {d["name"]} is {np.dtype(d["dtype"]).name}; '
                      f'the plugin reads float32.')
    if (np.asarray(d['shape_signature']) < 0).any():
      problems.append(f'{role} {d["name"]} has a dynamic shape '
                      f'{d["shape_signature"].tolist()}.')
    if tuple(d['quantization']) != (0.0, 0):
      problems.append(f'{role} {d["name"]} is quantised '
                      f'{d["quantization"]}.')
  return problems


def _flatbuffer_problems(path: pathlib.Path) -> List[Text]:
  problems = []
  data = path.read_bytes()
  head = data.split(b'\0', 1)[0]
  try:
    head.decode('utf-8')
  except UnicodeDecodeError:
    problems.append('the bytes before the first NUL are not UTF-8; the '
                    'plugin reads the file as text and would corrupt it.')
  if data.startswith(b'\xef\xbb\xbf'):
    problems.append('the file starts with a UTF-8 byte-order mark.')
  for check in (check_builtins_only, check_runtime_version):
    try:
      check(path)
    except ModelCheckError as e:
      problems.append(str(e))
  return problems


def _metadata_problems(path: pathlib.Path) -> List[Text]:
  try:
    metadata_lib.check_zip_offsets(path)
    metadata = metadata_lib.read_from_tflite(path)
  except metadata_lib.MetadataError as e:
    return [str(e)]
  missing = [key for key in metadata_lib.PLUGIN_KEYS if key not in metadata]
  return [f'metadata.json lacks {missing}.'] if missing else []


def _run_problems(interpreter, n_frames: int = 8) -> List[Text]:
  """Runs frames as the plugin does (state fed back) and checks outputs."""
  inputs = {d['name']: d['index'] for d in interpreter.get_input_details()}
  outputs = {d['name']: d['index'] for d in interpreter.get_output_details()}
  problems = []
  cases = [(69 / 127, 0.625)] * n_frames + [(-0.5, -0.5), (1.5, 1.5),
                                            (0.0, 0.0), (1.0, 1.0)]
  state = np.zeros(VST_CONTROL_INPUTS['call_state:0'], np.float32)
  first_state = None
  for f0_scaled, pw_scaled in cases:
    interpreter.set_tensor(inputs['call_f0_scaled:0'],
                           np.array([f0_scaled], np.float32))
    interpreter.set_tensor(inputs['call_pw_scaled:0'],
                           np.array([pw_scaled], np.float32))
    interpreter.set_tensor(inputs['call_state:0'], state)
    interpreter.invoke()
    amps, distribution, noise, state = (
        interpreter.get_tensor(outputs[f'StatefulPartitionedCall:{k}'])
        for k in range(4))
    where = f'at f0_scaled={f0_scaled:.3f}, pw_scaled={pw_scaled:.3f}'
    if not all(np.isfinite(x).all() for x in (amps, distribution, noise,
                                              state)):
      problems.append(f'non-finite outputs {where}.')
      break
    if (amps < 0).any() or (distribution < 0).any() or (noise < 0).any():
      problems.append(f'negative amplitude, distribution or noise {where} '
                      f'(raw logits instead of exp_sigmoid-scaled controls?).')
    total = distribution.sum()
    if not (abs(total - 1.0) < 1e-3 or total == 0.0):
      problems.append(f'harmonic distribution sums to {total:.4f} {where}; '
                      f'expected 1 (or 0 when every harmonic is above '
                      f'Nyquist).')
    first_state = state.copy() if first_state is None else first_state
  if not problems and np.array_equal(first_state, state):
    problems.append('the GRU state never changes.')
  return problems


def vst_control_problems(path: Union[str, pathlib.Path],
                         require_metadata: bool = True) -> List[Text]:
  """Every way a predict-controls .tflite fails the DDSP-VST plugin.

  Args:
    path: The .tflite (with its appended metadata zip).
    require_metadata: Also require the metadata zip with the plugin's keys.

  Returns:
    Problems found, empty if the plugin loads and runs the model.
  """
  _require_schema()
  path = pathlib.Path(path)
  problems = _flatbuffer_problems(path)
  try:
    interpreter = _litert.Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
  except (ValueError, RuntimeError) as e:
    return problems + [f'LiteRT cannot load it: {e}']
  input_details = interpreter.get_input_details()
  output_details = interpreter.get_output_details()
  if len(input_details) != 3 or len(output_details) != 4:
    problems.append(f'{len(input_details)} inputs and {len(output_details)} '
                    f'outputs; the plugin needs 3 and 4.')
  problems += _interface_problems(input_details, VST_CONTROL_INPUTS, 'input')
  problems += _interface_problems(output_details, VST_CONTROL_OUTPUTS,
                                  'output')
  signatures = interpreter.get_signature_list()
  if signatures != VST_CONTROL_SIGNATURE:
    problems.append(f'signatures {signatures}; expected '
                    f'{VST_CONTROL_SIGNATURE}.')
  if require_metadata:
    problems += _metadata_problems(path)
  if not problems:
    problems += _run_problems(interpreter)
  return problems


def vst_feature_problems(path: Union[str, pathlib.Path]) -> List[Text]:
  """Ways a feature .tflite differs from the plugin's built-in one (§2b):
  input `call_audio:0` [1024], outputs by position (f0_scaled, pw_scaled,
  f0_hz, pw_db), builtins only, TFLite 2.9.1."""
  _require_schema()
  path = pathlib.Path(path)
  problems = _flatbuffer_problems(path)
  interpreter = _litert.Interpreter(model_path=str(path), num_threads=1)
  interpreter.allocate_tensors()
  inputs = interpreter.get_input_details()
  names = [(d['name'], int(np.prod(d['shape']))) for d in inputs]
  if names != [VST_FEATURE_INPUT]:
    problems.append(f'inputs {names}; expected [{VST_FEATURE_INPUT}].')
  order = tuple(d['name'] for d in interpreter.get_output_details())
  if order != VST_FEATURE_OUTPUT_ORDER:
    problems.append(f'outputs in order {order}; the plugin reads positions '
                    f'{VST_FEATURE_OUTPUT_ORDER}.')
  return problems


def check_vst_control_model(path: Union[str, pathlib.Path],
                            require_metadata: bool = True) -> None:
  """Raises ModelCheckError listing `vst_control_problems`, if any."""
  problems = vst_control_problems(path, require_metadata)
  if problems:
    raise ModelCheckError(f'{path} fails the DDSP-VST interface:\n- ' +
                          '\n- '.join(problems))
