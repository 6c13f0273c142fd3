r"""`ddsp_timbre_transfer`: turn any recording into the trained instrument.

The controls of ddsp 3.7.0's timbre-transfer notebook, as flags and as a
function API, with either backend:

- a TFLite bundle (`ddsp_export`'s `<save_dir>/tflite`, run by the
  TensorFlow-free `ddsp.export.runtime`: CREPE tiny features, GRU controls,
  harmonic + noise synthesis; no reverb), or
- a `ddsp_run` checkpoint directory (the full Keras model, reverb included;
  f0 from CREPE `--crepe_model`, A-weighted loudness).

Per frame of the model's frame rate, before the decoder (as the notebook):

1. `auto_adjust` with dataset statistics (`dataset_statistics.pkl` written by
   `ddsp_prepare_tfrecord`): notes are detected (`notes.detect_notes`
   with `note_threshold`); the pitch moves by whole octaves towards the
   dataset's mean note pitch (the notebook's rounding: floor above 1.5
   octaves, else ceil); note loudness is mapped through the input's quantile
   transform and back through the dataset's (`fit_quantile_transform`), and
   frames outside notes are turned down by up to `quiet_db`.
2. `octave_shift` multiplies f0 by `2 ** octave_shift`; f0 is clipped to
   [0, MIDI 110] Hz. `loudness_shift_db` adds to the loudness (or power).
3. Frames whose CREPE confidence is below `f0_confidence_threshold` are muted:
   harmonic amplitude and noise magnitudes are set to 0 (TFLite backend) or
   to the synthesisers' floor of 1e-7 (Keras backend, raw controls of -100
   through `exp_sigmoid`).

Usage:
  ddsp_timbre_transfer --model=runs/violin/export/tflite --input=voice.mp3 \
      --output=violin.wav [--octave_shift=1] [--loudness_shift=-6] \
      [--auto_adjust] [--f0_confidence_threshold=0.5]
"""

import dataclasses
import io
import pathlib
import pickle
import sys
from typing import Any, Dict, Optional, Text, Tuple, Union

from absl import flags
import numpy as np
import soundfile as sf

from ddsp import audio_io
from ddsp import cli
from ddsp import file_io
from ddsp import notes
from ddsp.export import runtime

PathLike = Union[str, pathlib.Path]
Arrays = Dict[Text, np.ndarray]

STATISTICS_FILE = 'dataset_statistics.pkl'
MAX_MIDI = 110.0  # The notebook's f0 ceiling.
DB_RANGE = 80.0  # `preprocessing.scale_db`: db / 80 + 1.
F0_RANGE = 127.0  # `preprocessing.scale_f0_hz`: MIDI / 127.
MUTE_LOGIT = -100.0  # Raw control whose exp_sigmoid is the 1e-7 floor.


class TransferError(ValueError):
  """A bad model directory, input file or statistics file."""


@dataclasses.dataclass
class Settings:
  """The notebook's controls.

  Attributes:
    octave_shift: Octaves added to the pitch (may be fractional).
    loudness_shift_db: dB added to the loudness (or frame power).
    auto_adjust: Move pitch and loudness to the dataset statistics.
    note_threshold: `detect_notes` threshold for `auto_adjust`.
    quiet_db: How far (dB) `auto_adjust` turns down frames outside notes.
    f0_confidence_threshold: Frames below this CREPE confidence are muted (0:
      none).
  """
  octave_shift: float = 0.0
  loudness_shift_db: float = 0.0
  auto_adjust: bool = True
  note_threshold: float = 1.0
  quiet_db: float = 20.0
  f0_confidence_threshold: float = 0.0


def hz_to_midi(f0_hz: np.ndarray) -> np.ndarray:
  """numpy `core.hz_to_midi`: 12 log2(f / 440) + 69; f <= 0 -> 0."""
  f0_hz = np.asarray(f0_hz, np.float64)
  with np.errstate(divide='ignore'):
    midi = 12.0 * np.log2(np.maximum(f0_hz, 1e-30) / 440.0) + 69.0
  return np.where(f0_hz <= 0.0, 0.0, midi).astype(np.float32)


def midi_to_hz(midi: np.ndarray) -> np.ndarray:
  """numpy `core.midi_to_hz`: 440 * 2 ** ((m - 69) / 12)."""
  return (440.0 * 2.0**((np.asarray(midi, np.float64) - 69.0) / 12.0)).astype(
      np.float32)


class _StatisticsUnpickler(pickle.Unpickler):
  """Reads the `QuantileTransformer` a statistics pickle names under
  `ddsp.training.postprocessing` from `ddsp.notes`, without TensorFlow."""

  def find_class(self, module, name):
    if (module, name) == ('ddsp.training.postprocessing',
                          'QuantileTransformer'):
      return notes.QuantileTransformer
    return super().find_class(module, name)


def load_statistics(path: PathLike) -> Dict[Text, Any]:
  """Unpickles dataset statistics (ddsp_prepare_tfrecord's, or 3.7.0's)
  without importing TensorFlow.

  Raises:
    TransferError: Missing or unreadable file, or one without the keys
      auto-adjustment needs.
  """
  path = pathlib.Path(path)
  try:
    with path.open('rb') as f:
      stats = _StatisticsUnpickler(f).load()
  except FileNotFoundError:
    raise TransferError(f'dataset statistics {path} do not exist.') from None
  except Exception as e:  # pylint: disable=broad-except
    raise TransferError(f'{path} is not a dataset statistics pickle '
                        f'({type(e).__name__}: {e}).') from None
  missing = {'mean_pitch', 'quantile_transform'} - set(stats)
  if missing:
    raise TransferError(f'{path} lacks {sorted(missing)}: not written by '
                        f'ddsp_prepare_tfrecord?')
  return stats


def find_statistics(model: PathLike) -> Optional[pathlib.Path]:
  """`dataset_statistics*.pkl` in `model` or up to two folders above it."""
  model = pathlib.Path(model)
  for folder in (model, model.parent, model.parent.parent):
    found = sorted(folder.glob('dataset_statistics*.pkl'))
    if found:
      return found[0]
  return None


def octave_shift_for(pitch_midi: np.ndarray, mask_on: np.ndarray,
                     target_mean_midi: float) -> float:
  """Whole octaves from the mean note pitch to the target (the notebook's
  rounding: floor above 1.5 octaves, else ceil)."""
  octaves = (target_mean_midi - np.mean(pitch_midi[mask_on])) / 12.0
  return float(np.floor(octaves) if octaves > 1.5 else np.ceil(octaves))


def adjust_features(features: Arrays, settings: Settings,
                    stats: Optional[Dict[Text, Any]] = None,
                    level_key: Text = 'loudness_db') -> Tuple[Arrays, np.ndarray]:
  """Applies `settings` to features [n_frames].

  Args:
    features: 'f0_hz', 'f0_confidence' and `level_key` ('loudness_db' or
      'pw_db'), [n_frames] each.
    settings: The controls (default `Settings()`).
    stats: Dataset statistics (needed for `settings.auto_adjust`; without
      them auto-adjustment is skipped).
    level_key: The loudness feature the model reads.

  Returns:
    (adjusted copies of the three features plus 'octave_shift' (the total,
    a scalar array), mute mask [n_frames] bool).
  """
  f0_hz = np.asarray(features['f0_hz'], np.float32).copy()
  confidence = np.asarray(features['f0_confidence'], np.float32)
  level = np.asarray(features[level_key], np.float32).copy()
  octaves = float(settings.octave_shift)
  if settings.auto_adjust and stats is not None:
    # Notes are detected on loudness as in the notebook (power for power
    # models: the quantile transform was fitted on loudness).
    mask_on, note_on_value = notes.detect_notes(
        level, confidence, settings.note_threshold)
    if np.any(mask_on):
      octaves += octave_shift_for(hz_to_midi(f0_hz), mask_on,
                                  float(stats['mean_pitch']))
      _, level = notes.fit_quantile_transform(
          level, mask_on, inv_quantile=stats['quantile_transform'])
      mask_off = ~mask_on
      level[mask_off] -= settings.quiet_db * (
          1.0 - np.nan_to_num(note_on_value[mask_off]))
  f0_hz = np.clip(f0_hz * 2.0**octaves, 0.0, midi_to_hz(MAX_MIDI))
  level = level + settings.loudness_shift_db
  mute = confidence < settings.f0_confidence_threshold
  return ({'f0_hz': f0_hz.astype(np.float32), 'f0_confidence': confidence,
           level_key: level.astype(np.float32),
           'octave_shift': np.float32(octaves)}, mute)


def _bundle_level_key(bundle: runtime.Bundle) -> Text:
  return 'loudness_db' if 'ld_scaled' in bundle.config['controls'][
      'inputs'] else 'pw_db'


def transfer_with_bundle(bundle: Union[runtime.Bundle, PathLike],
                         audio: np.ndarray,
                         settings: Optional[Settings] = None,
                         stats: Optional[Dict[Text, Any]] = None,
                         seed: int = 0) -> Dict[Text, Any]:
  """Timbre transfer of a whole clip with the TensorFlow-free runtime.

  Args:
    bundle: A bundle (or its directory) from `ddsp_export`.
    audio: [n_samples] mono audio at the bundle's sample rate.
    settings: The controls (default `Settings()`).
    stats: Dataset statistics for `settings.auto_adjust`.
    seed: Noise seed.

  Returns:
    Dict: 'audio' [n_frames * hop], 'features' (as extracted), 'adjusted'
    (as fed to the controls), 'controls' (after muting: 'amps',
    'harmonic_distribution', 'noise_magnitudes') and 'mute' [n_frames].
  """
  settings = settings or Settings()
  bundle = bundle if isinstance(bundle, runtime.Bundle) else runtime.Bundle(
      bundle)
  features = runtime.extract_features(bundle, audio)
  level_key = _bundle_level_key(bundle)
  adjusted, mute = adjust_features(features, settings, stats, level_key)
  scaled = {'f0_hz': adjusted['f0_hz'],
            'f0_scaled': hz_to_midi(adjusted['f0_hz']) / F0_RANGE,
            'ld_scaled' if level_key == 'loudness_db' else 'pw_scaled':
                adjusted[level_key] / DB_RANGE + 1.0}
  controls = runtime.predict_controls(bundle, scaled)
  controls['amps'][mute] = 0.0
  controls['noise_magnitudes'][mute] = 0.0
  output = runtime.render_controls(
      bundle, adjusted['f0_hz'], controls['amps'],
      controls['harmonic_distribution'], controls['noise_magnitudes'],
      seed=seed)
  return {'audio': output, 'features': features, 'adjusted': adjusted,
          'controls': controls, 'mute': mute,
          'sample_rate': bundle.sample_rate}


def transfer_with_checkpoint(model_dir: PathLike, audio: np.ndarray,
                             settings: Optional[Settings] = None,
                             stats: Optional[Dict[Text, Any]] = None,
                             crepe_model: Text = 'tiny') -> Dict[Text, Any]:
  """Timbre transfer of a whole clip with the Keras model of a checkpoint.

  Args:
    model_dir: A `ddsp_run` save dir (checkpoints + operative config).
    audio: [n_samples] mono audio at the model's sample rate (16 kHz).
    settings: The controls (default `Settings()`).
    stats: Dataset statistics for `settings.auto_adjust`.
    crepe_model: CREPE size for f0 ('tiny' is always installed).

  Gin's configuration is cleared and replaced by the model's operative
  config.

  Returns:
    As `transfer_with_bundle` ('controls' holds the synths' controls:
    'amps' [n_frames], 'noise_magnitudes' [n_frames, bands]).

  Raises:
    TransferError: A model that does not synthesise at 16 kHz.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from ddsp import spectral_ops  # pylint: disable=g-import-not-at-top
  from ddsp.export import inference  # pylint: disable=g-import-not-at-top
  import gin  # pylint: disable=g-import-not-at-top

  settings = settings or Settings()
  gin.clear_config()
  inference.parse_operative_config(str(model_dir))
  sample_rate = int(inference.query('Harmonic.sample_rate'))
  if sample_rate != 16000:
    raise TransferError(f'{model_dir} synthesises at {sample_rate} Hz; '
                        'timbre transfer tracks f0 with CREPE at 16 kHz and '
                        'supports 16 kHz models only.')
  model = inference.AutoencoderInference(
      str(model_dir), length_seconds=len(audio) / sample_rate,
      remove_reverb=False, verbose=False)
  frame_rate = sample_rate / model.hop_size
  n_frames = model.n_frames
  f0_hz, confidence = spectral_ops.compute_f0(
      audio, frame_rate, viterbi=True, model_capacity=crepe_model)
  level_key = 'pw_db' if model.power_input else 'loudness_db'
  if model.power_input:
    level = spectral_ops.compute_power(audio, sample_rate=sample_rate,
                                       frame_rate=int(frame_rate))
  else:
    level = spectral_ops.compute_loudness(audio, sample_rate=sample_rate,
                                          frame_rate=int(frame_rate))
  pad = lambda x: np.pad(np.asarray(x, np.float32).reshape(-1)[:n_frames],
                         (0, max(0, n_frames - np.size(x))), mode='edge')
  features = {'f0_hz': pad(f0_hz), 'f0_confidence': pad(confidence),
              level_key: pad(level)}
  adjusted, mute = adjust_features(features, settings, stats, level_key)
  inputs = {'f0_hz': adjusted['f0_hz'],
            model.input_keys[1]: adjusted[level_key]}
  inputs = model.encode(inputs, training=False)
  inputs.update(model.decoder(inputs, training=False))
  mute_3d = tf.constant(mute[np.newaxis, :, np.newaxis])
  for key in ('amps', 'noise_magnitudes'):
    inputs[key] = tf.where(mute_3d, MUTE_LOGIT, inputs[key])
  outputs = model.processor_group(inputs, return_outputs_dict=True)
  group_controls = outputs['controls']
  controls = {
      'amps': np.asarray(group_controls['harmonic']['controls'][
          'amplitudes'])[0, :, 0],
      'noise_magnitudes': np.asarray(group_controls['filtered_noise'][
          'controls']['magnitudes'])[0]}
  return {'audio': np.asarray(outputs['signal'])[0], 'features': features,
          'adjusted': adjusted, 'controls': controls, 'mute': mute,
          'sample_rate': sample_rate}


def is_bundle(model: PathLike) -> bool:
  return (pathlib.Path(model) / runtime.BUNDLE_FILE).is_file()


def timbre_transfer_file(model: PathLike, input_path: PathLike,
                         output_path: PathLike,
                         settings: Optional[Settings] = None,
                         statistics: Optional[PathLike] = None,
                         seed: int = 0,
                         crepe_model: Text = 'tiny') -> Dict[Text, Any]:
  """Reads any audio file, transfers it, writes a float WAV atomically.

  Args:
    model: A bundle directory (`bundle.json`) or a checkpoint directory.
    input_path: Any format/rate/channels libsndfile reads (downmixed,
      resampled to the model's rate).
    output_path: WAV to write (only once complete).
    settings: The controls (default `Settings()`).
    statistics: Dataset statistics pickle; default: `find_statistics(model)`
      when `settings.auto_adjust` (skipped, with a note, if none is found).
    seed: Noise seed (bundle backend).
    crepe_model: CREPE size (checkpoint backend).

  Returns:
    The result dict of the backend, plus 'statistics' (the path used).

  Raises:
    TransferError: A model directory that is neither, or bad statistics.
    audio_io.AudioLoadError: Missing, empty or corrupt input.
  """
  settings = settings or Settings()
  model = pathlib.Path(model)
  if not model.is_dir():
    raise TransferError(f'--model {model} is not a directory: expected a '
                        f'bundle (ddsp_export\'s <save_dir>/tflite) or a '
                        f'ddsp_run save dir.')
  bundle = None
  if is_bundle(model):
    try:
      bundle = runtime.Bundle(model)
    except runtime.BundleError as e:
      raise TransferError(str(e)) from None
    sample_rate = bundle.sample_rate
  elif list(model.glob('operative_config-*.gin')):
    sample_rate = None  # Read from the config once loaded.
  else:
    raise TransferError(f'{model} holds neither bundle.json nor '
                        f'operative_config-*.gin: pass a bundle '
                        f'(<export>/tflite) or a ddsp_run save dir.')
  audio = audio_io.load_audio(input_path, sample_rate=sample_rate or 16000)
  if statistics is None and settings.auto_adjust:
    statistics = find_statistics(model)
    if statistics is None:
      print(f'No {STATISTICS_FILE} found near {model}: no auto-adjustment '
            '(pass --dataset_statistics=<ddsp_run save dir>/dataset_statistics.pkl '
            'or the .pkl ddsp_prepare_tfrecord wrote).',
            file=sys.stderr)
  stats = load_statistics(statistics) if (
      statistics and settings.auto_adjust) else None
  if bundle is not None:
    result = transfer_with_bundle(bundle, audio, settings, stats, seed)
  else:
    result = transfer_with_checkpoint(model, audio, settings, stats,
                                      crepe_model)
  wav = io.BytesIO()
  sf.write(wav, result['audio'], result['sample_rate'], format='WAV',
           subtype='FLOAT')
  file_io.write_bytes(output_path, wav.getvalue())
  result['statistics'] = statistics
  return result


FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string('model', None, 'Bundle directory (bundle.json, from '
                      'ddsp_export) or ddsp_run save dir.')
  flags.DEFINE_string('input', None, 'Audio file (any format, rate, '
                      'channels).')
  flags.DEFINE_string('output', None, 'WAV file to write.')
  flags.DEFINE_float('octave_shift', 0.0, 'Octaves to shift the pitch by.')
  flags.DEFINE_float('loudness_shift', 0.0, 'dB added to the loudness.')
  flags.DEFINE_boolean('auto_adjust', True, 'Move pitch (whole octaves) and '
                       'note loudness (quantile transform) to the dataset '
                       'statistics.')
  flags.DEFINE_string('dataset_statistics', None, 'Statistics pickle; '
                      'default: dataset_statistics*.pkl in or above --model.')
  flags.DEFINE_float('note_threshold', 1.0, 'Note detection threshold of '
                     'auto-adjustment.')
  flags.DEFINE_float('quiet', 20.0, 'dB by which auto-adjustment turns down '
                     'frames outside notes.')
  flags.DEFINE_float('f0_confidence_threshold', 0.0, 'Mute frames whose '
                     'CREPE confidence is below this (0: none).',
                     lower_bound=0.0, upper_bound=1.0)
  flags.DEFINE_integer('seed', 0, 'Noise seed (bundle backend).')
  flags.DEFINE_enum('crepe_model', 'tiny', ['tiny', 'small', 'medium',
                                            'large', 'full'],
                    'CREPE size (checkpoint backend).')


def main(argv):
  cli.check_arguments(argv, ('model', 'input', 'output'))
  settings = Settings(
      octave_shift=FLAGS.octave_shift, loudness_shift_db=FLAGS.loudness_shift,
      auto_adjust=FLAGS.auto_adjust, note_threshold=FLAGS.note_threshold,
      quiet_db=FLAGS.quiet,
      f0_confidence_threshold=FLAGS.f0_confidence_threshold)
  result = timbre_transfer_file(FLAGS.model, FLAGS.input, FLAGS.output,
                                settings, FLAGS.dataset_statistics,
                                FLAGS.seed, FLAGS.crepe_model)
  seconds = len(result['audio']) / result['sample_rate']
  print(f'Wrote {FLAGS.output}: {seconds:.2f} s at {result["sample_rate"]} '
        f'Hz (octave shift {float(result["adjusted"]["octave_shift"]):+g}, '
        f'{int(result["mute"].sum())} of {len(result["mute"])} frames '
        'muted).')


def console_entry_point():
  """`ddsp_timbre_transfer` console script (errors: see ddsp.cli)."""
  _define_flags()
  cli.run(main, 'ddsp_timbre_transfer',
          user_errors=(TransferError, audio_io.AudioError))


if __name__ == '__main__':
  console_entry_point()
