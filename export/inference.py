"""Inference and export models (ddsp 3.7.0's `ddsp.training.inference`).

Each class rebuilds a trained model from its checkpoint directory (the latest
`operative_config-*.gin` next to the checkpoints says how), restores its
weights and exposes one `tf.function`:

| class | `call` inputs -> outputs (float32, unbatched) |
|---|---|
| AutoencoderInference | f0_hz, loudness_db (or power_db) [n_frames] -> the Autoencoder's outputs |
| VSTExtractFeatures | audio [1024] -> (f0_hz, f0_scaled, pw_db, pw_scaled), [1] each |
| VSTPredictControls | f0_scaled, pw_scaled [1] -> (amps [1], hd [H], noise [N]) |
| VSTStatelessPredictControls | f0_scaled, pw_scaled [1], state [S] -> (amps, hd, noise, state) |
| VSTSynthesize | amps, prev_amps [1], hd, prev_hd [H], f0, prev_f0 [1], noise [N], prev_phase [1] -> (audio [hop], final_phase [1]) |
| VSTSynthesizeHarmonic | as VSTSynthesize without noise |
| VSTSynthesizeNoise | noise [N] -> audio [hop] |

`save_model(save_dir)` writes a SavedModel with ddsp 3.7.0's signature key
(`serving_default` for AutoencoderInference, `call` for the VST modules) and
names (VST outputs `output_0..k` in tuple order). `tflite_function()` is the
`tf.function` that `tflite_convert.convert` turns into a builtins-only
TFLite model with the same inputs and outputs (for the VST modules the very
same function; for AutoencoderInference one that synthesises with
`ddsp.export.streaming_synth`).

Differences from 3.7.0, each deliberate:
- A Keras 3 model can't be saved with `tf.saved_model.save(self)`; the
  SavedModel is written explicitly (the weights, and the signature function).
- AutoencoderInference binds `F0LoudnessPreprocessor.compute_loudness =
  False` (its input is loudness; 3.7.0 failed without audio), and its
  signature inputs have the static length `n_frames`.
- VSTExtractFeatures computes f0 with `ddsp.export.feature_model` (CREPE of
  the capacity in `crepe_saved_model_path`, 'tiny' when unset; 3.7.0 failed
  without one), decoded with ddsp's 10-bin window, no Viterbi.
- VSTSynthesize* return the final phase wrapped to [0, 2 pi) and accumulate
  phase exactly (3.7.0: float32 `angular_cumsum`, not wrapped).
"""

from typing import Any, Dict, List, Sequence, Text

import numpy as np
import tensorflow as tf

from ddsp import crepe
from ddsp import registration
from ddsp.export import control_model
from ddsp.export import feature_model
from ddsp.export import streaming_synth
from ddsp.training import decoders
from ddsp.training import models
from ddsp.training import train_util
import gin

_GIN_MODULE = 'ddsp.training.inference'
_AUTOENCODER_DAG = """ProcessorGroup.dag = [
  (@synths.Harmonic(), ['amps', 'harmonic_distribution', 'f0_hz']),
  (@synths.FilteredNoise(), ['noise_magnitudes']),
  (@processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
]"""


def parse_operative_config(ckpt_dir: Text) -> Text:
  """Parses the latest `operative_config-*.gin` of a checkpoint.

  Args:
    ckpt_dir: A checkpoint directory, or a checkpoint prefix inside one.

  Returns:
    The path parsed (unknown configurables are skipped; existing bindings are
    not cleared first).

  Raises:
    FileNotFoundError: No operative config in the directory or its parent.
  """
  try:
    path = train_util.get_latest_operative_config(ckpt_dir)
  except FileNotFoundError:
    raise FileNotFoundError(
        f'No operative_config-*.gin in {ckpt_dir} or its parent: expected '
        f'the save dir of `ddsp_run` (checkpoints and the gin config they '
        f'were trained with).') from None
  with gin.unlock_config():
    gin.parse_config_file(path, skip_unknown=True)
  print(f'Using operative config {path}')
  return path


def query(name: Text) -> Any:
  """A gin binding's value, with macros (`%frame_rate`) evaluated."""
  value = gin.query_parameter(name)
  if isinstance(value, gin.config.ConfigurableReference) and value.evaluate:
    return value.scoped_configurable_fn()
  return value


def model_rates() -> Dict[Text, int]:
  """Rates and sizes of the parsed model config.

  `frame_rate`, `frame_size`, `sample_rate` are the `%frame_rate`,
  `%frame_size`, `%sample_rate` macros of VST configs; for other configs
  they come from the harmonic synth and the preprocessor (hop = n_samples /
  time_steps; frame_size 1024, CREPE's). Also `hop_size`, `n_harmonics`,
  `n_noise` (decoder output splits) and `state_size` (GRU channels).
  """
  sample_rate = query('Harmonic.sample_rate')
  try:
    frame_rate, frame_size = query('%frame_rate'), query('%frame_size')
  except ValueError:
    frame_rate = sample_rate // _preprocessor_hop_size()
    frame_size = crepe.FRAME_SIZE
  splits = dict(query('RnnFcDecoder.output_splits'))
  return {'frame_rate': frame_rate, 'frame_size': frame_size,
          'sample_rate': sample_rate, 'hop_size': sample_rate // frame_rate,
          'n_harmonics': splits['harmonic_distribution'],
          'n_noise': splits.get('noise_magnitudes', 0),
          'state_size': query('RnnFcDecoder.rnn_channels')}


def _preprocessor_hop_size() -> int:
  """Samples per frame of a time_steps-based preprocessor (F0Loudness,
  F0Power): `Harmonic.n_samples // time_steps`."""
  preprocessor = _configurable_name('Autoencoder.preprocessor')
  return query('Harmonic.n_samples') // query(f'{preprocessor}.time_steps')


def _configurable_name(name: Text) -> Text:
  """'OnlineF0PowerPreprocessor' for the binding `Autoencoder.preprocessor`."""
  return gin.query_parameter(name).configurable.name


def _flatten(outputs: Dict[Text, Any], prefix: Text = '') -> Dict[Text, Any]:
  """Nested dict -> flat dict with keys joined by '_' (SavedModel outputs)."""
  flat = {}
  for key, value in outputs.items():
    name = f'{prefix}_{key}' if prefix else key
    if isinstance(value, dict):
      flat.update(_flatten(value, name))
    else:
      flat[name] = value
  return flat


def save_signatures(save_dir: Text, functions: Dict[Text, Any],
                    variables: Sequence[tf.Variable] = ()) -> None:
  """Writes a SavedModel of `tf.function`s with input signatures.

  Args:
    save_dir: SavedModel directory.
    functions: Signature key -> `tf.function`.
    variables: Weights the functions read (saved with them).
  """
  module = tf.Module()
  module.weights = list(variables)
  for key, function in functions.items():
    setattr(module, key, function)
  tf.saved_model.save(
      module, save_dir,
      signatures={key: f.get_concrete_function() for key, f in
                  functions.items()},
      options=tf.saved_model.SaveOptions(experimental_custom_gradients=False))


def _bind(bindings: Sequence[Text]) -> None:
  with gin.unlock_config():
    gin.parse_config(list(bindings))


class AutoencoderInference(models.Autoencoder):
  """An Autoencoder for whole clips of `length_seconds`, from f0 and loudness.

  Args:
    ckpt: Checkpoint directory or prefix (with an operative config).
    length_seconds: Clip length; the inputs have `n_frames` frames.
    remove_reverb: Synthesise with Harmonic + FilteredNoise only.
    verbose: Log the restore.
    **kwargs: To `Autoencoder` (gin supplies its parts).
  """

  def __init__(self, ckpt: Text, length_seconds: float = 4,
               remove_reverb: bool = True, verbose: bool = True, **kwargs):
    sizes = self.configure_gin(ckpt, length_seconds, remove_reverb)
    super().__init__(**kwargs)
    self.length_seconds = length_seconds
    self.remove_reverb = remove_reverb
    self.n_frames, self.n_samples, self.sample_rate, self.hop_size = sizes
    self.power_input = 'Power' in self.preprocessor.__class__.__name__
    self.input_keys = ('f0_hz', 'power_db' if self.power_input else
                       'loudness_db')
    self.build_network()
    self.restore(ckpt, verbose=verbose)

  @staticmethod
  def configure_gin(ckpt: Text, length_seconds: float, remove_reverb: bool):
    """Parses the operative config and rebinds lengths (and the DAG).

    Returns:
      (n_frames, n_samples, sample_rate, hop_size).
    """
    parse_operative_config(ckpt)
    preprocessor = _configurable_name('Autoencoder.preprocessor')
    sample_rate = query('Harmonic.sample_rate')
    hop_size = _preprocessor_hop_size()
    n_frames = int(length_seconds * sample_rate / hop_size)
    n_samples = n_frames * hop_size
    bindings = [f'Harmonic.n_samples = {n_samples}',
                f'FilteredNoise.n_samples = {n_samples}',
                f'{preprocessor}.time_steps = {n_frames}',
                'oscillator_bank.use_angular_cumsum = True']
    if preprocessor == 'F0LoudnessPreprocessor':
      bindings.append('F0LoudnessPreprocessor.compute_loudness = False')
    if remove_reverb:
      bindings.append(_AUTOENCODER_DAG)
    _bind(bindings)
    return n_frames, n_samples, sample_rate, hop_size

  def _input_specs(self) -> List[tf.TensorSpec]:
    return [tf.TensorSpec([self.n_frames], tf.float32, name=key)
            for key in self.input_keys]

  def build_network(self) -> None:
    """Creates the weights with one call on zeros."""
    zeros = np.zeros(self.n_frames, np.float32)
    self(dict.fromkeys(self.input_keys, zeros), training=False)

  def call_function(self):
    """`tf.function` inputs -> flat dict of the Autoencoder's outputs."""

    def call(*inputs):
      features = dict(zip(self.input_keys, inputs))
      return _flatten(self(features, training=False))

    return tf.function(call, input_signature=self._input_specs(),
                       autograph=False)

  def save_model(self, save_dir: Text) -> None:
    """SavedModel with signature `serving_default`."""
    save_signatures(save_dir, {'serving_default': self.call_function()},
                    self.decoder.variables)

  def tflite_function(self):
    """Builtins-only `tf.function`: inputs -> 'audio_synth' [n_samples], the
    scaled features [n_frames] and the synths' controls, named as the
    SavedModel's outputs ('harmonic_controls_amplitudes', ...).

    The decoder runs frame by frame with explicit GRU state (a loop, as
    TFLite has no builtin for Keras' GRU over a sequence); synthesis is
    `streaming_synth` with 'clip' alignment (what Harmonic and FilteredNoise
    render, noise drawn in the model).
    """
    stateless = _stateless_decoder(self.decoder)
    harmonic = self.processor_group.harmonic
    filtered_noise = self.processor_group.filtered_noise
    splits = dict(query('RnnFcDecoder.output_splits'))
    config = streaming_synth.SynthConfig(
        sample_rate=self.sample_rate, hop_size=self.hop_size,
        n_harmonics=splits['harmonic_distribution'],
        n_noise_bands=splits['noise_magnitudes'],
        noise_window_size=filtered_noise.window_size,
        amp_resample_method=harmonic.amp_resample_method, alignment='clip')
    consts = streaming_synth.Constants(config)
    decoder_keys = [k for k in stateless.input_keys if k != 'state']
    n_frames = self.n_frames

    def call(*inputs):
      features = self.preprocessor(dict(zip(self.input_keys, inputs)))
      state_size = stateless.rnn_channels

      def body(t, state, outputs):
        frame = {k: tf.reshape(features[k][:, t:t + 1], [1, 1, -1])
                 for k in decoder_keys + ['f0_scaled']}
        frame['state'] = state
        out = stateless(frame)
        controls = control_model.synth_controls(
            out, frame['f0_scaled'], harmonic, filtered_noise)
        row = tf.concat(controls, axis=0)[tf.newaxis]
        return t + 1, out['state'], tf.tensor_scatter_nd_update(
            outputs, [[t]], row)

      width = 1 + config.n_harmonics + config.n_noise_bands
      _, _, controls = tf.while_loop(
          lambda t, *_: t < n_frames, body,
          (0, tf.zeros([1, state_size]), tf.zeros([n_frames, width])))
      amps, hd, noise_magnitudes = tf.split(
          controls, [1, config.n_harmonics, config.n_noise_bands], axis=1)
      f0_hz = tf.reshape(features['f0_hz'], [n_frames])
      audio = _render_clip(config, consts, f0_hz, amps[:, 0], hd,
                           noise_magnitudes)
      scaled = self.input_keys[1].replace('loudness_db', 'ld_scaled').replace(
          'power_db', 'pw_scaled')
      return {'audio_synth': audio,
              'f0_scaled': features['f0_scaled'][0, :, 0],
              scaled: features[scaled][0, :, 0],
              'harmonic_controls_amplitudes': amps[:, 0],
              'harmonic_controls_harmonic_distribution': hd,
              'filtered_noise_controls_magnitudes': noise_magnitudes}

    return tf.function(call, input_signature=self._input_specs(),
                       autograph=False)


def _stateless_decoder(decoder):
  """A copy of an RnnFcDecoder with `stateless=True`, the same weights, and
  its RNN unrolled: one frame per call inside a loop, where TFLite can't
  lower the GRU's own sequence loop (TensorList ops) to builtins."""
  if not isinstance(decoder, decoders.RnnFcDecoder):
    raise ValueError(f'Frame-by-frame export needs an RnnFcDecoder; the '
                     f'model has a {type(decoder).__name__}.')
  twin = decoders.RnnFcDecoder.from_config(dict(decoder.get_config(),
                                                stateless=True))
  twin.rnn.rnn.unroll = True
  features = {k: tf.zeros([1, 1, 1]) for k in twin.input_keys}
  features['state'] = tf.zeros([1, decoder.rnn_channels])
  twin(features)
  twin.set_weights(decoder.get_weights())
  return twin


def _render_clip(config, consts, f0_hz, amps, hd, noise_magnitudes):
  """Whole-clip audio [T * hop] as Harmonic + FilteredNoise render it
  (`runtime.render_controls` in-graph: a call for frame 0 fills the synth's
  memory, phase restarts at 0, the last frame is held one hop)."""
  hop = config.hop_size
  n_frames = int(f0_hz.shape[0])
  noise = tf.random.uniform([n_frames, hop], -1.0, 1.0)
  state = tf.zeros([config.state_size])
  first = streaming_synth.render_hops(config, f0_hz[:1], amps[:1], hd[:1],
                                      noise_magnitudes[:1], noise[:1], state,
                                      consts)
  state = tf.concat([tf.zeros([2]), first['state'][2:]], axis=0)
  held = lambda x: tf.concat([x[1:], x[-1:]], axis=0)
  noise = tf.concat([noise[1:], tf.zeros([1, hop])], axis=0)
  out = streaming_synth.render_hops(config, held(f0_hz), held(amps), held(hd),
                                    held(noise_magnitudes), noise, state,
                                    consts)
  return out['harmonic'] + out['noise']


class VSTBaseModule(models.Autoencoder):
  """Base of the DDSP-VST export modules (models trained with vst.gin).

  Reads rates and sizes (`model_rates`: the `%frame_size`, `%frame_rate`,
  `%sample_rate` macros of VST configs), the decoder's output sizes and GRU
  size and the harmonic synth's amplitude interpolation from the operative
  config, applies the subclass's `configure_gin`, builds the
  Autoencoder from gin and restores only its decoder.

  Args:
    ckpt: Checkpoint directory or prefix.
    verbose: Log the restore.
  """

  def __init__(self, ckpt: Text, verbose: bool = False, **kwargs):
    parse_operative_config(ckpt)
    self.configure_gin()
    super().__init__(**kwargs)
    rates = model_rates()
    self.frame_size, self.frame_rate = rates['frame_size'], rates['frame_rate']
    self.sample_rate, self.hop_size = rates['sample_rate'], rates['hop_size']
    self.n_harmonics, self.n_noise = rates['n_harmonics'], rates['n_noise']
    self.state_size = rates['state_size']
    self.resample_method = query('Harmonic.amp_resample_method')
    self._call = self.call_function()
    self.build_network()
    if self.decoder is not None:
      self.restore(ckpt, verbose=verbose)

  def configure_gin(self) -> None:
    """Subclasses rebind gin here (after the operative config)."""

  def restore(self, checkpoint_path: Text, verbose: bool = True) -> None:
    """Restores only the decoder."""
    super().restore(checkpoint_path, verbose, restore_keys=['decoder'])

  def call_function(self):
    """The module's `tf.function` (with named input signature)."""
    raise NotImplementedError

  def build_network(self) -> None:
    """Creates the weights with one call on zeros of the signature's shapes."""
    self._call(*[np.zeros(s.shape, np.float32)
                 for s in self._call.input_signature])

  @property
  def _signatures(self) -> Dict[Text, Any]:
    return {'call': self._call.get_concrete_function()}

  def tflite_function(self):
    return self._call

  def save_model(self, save_dir: Text) -> None:
    """SavedModel with signature `call` (outputs `output_0..k`)."""
    save_signatures(save_dir, {'call': self._call},
                    self.decoder.variables if self.decoder else ())


class VSTExtractFeatures(VSTBaseModule):
  """One 1024-sample frame -> (f0_hz, f0_scaled, pw_db, pw_scaled), [1] each.

  Args:
    ckpt: Checkpoint directory or prefix.
    crepe_saved_model_path: CREPE capacity ('tiny' ... 'full'); None uses
      `OnlineF0PowerPreprocessor.crepe_saved_model_path` of the operative
      config, or 'tiny' if that is unset too.
  """

  def __init__(self, ckpt: Text, crepe_saved_model_path: Text = None,
               **kwargs):
    self._crepe = crepe_saved_model_path
    super().__init__(ckpt, **kwargs)

  def configure_gin(self) -> None:
    capacity = self._crepe
    if capacity is None:
      try:
        capacity = query('OnlineF0PowerPreprocessor.crepe_saved_model_path')
      except ValueError:
        capacity = None
    capacity = capacity or 'tiny'
    if capacity not in crepe.MODEL_CAPACITIES:
      raise ValueError(f'VSTExtractFeatures needs a CREPE capacity '
                       f'{crepe.MODEL_CAPACITIES}; received '
                       f'crepe_saved_model_path={capacity!r}.')
    self._crepe = capacity
    _bind(["OnlineF0PowerPreprocessor.padding = 'valid'",
           'OnlineF0PowerPreprocessor.compute_f0 = True',
           'OnlineF0PowerPreprocessor.compute_power = True',
           'OnlineF0PowerPreprocessor.viterbi = False',
           f"OnlineF0PowerPreprocessor.crepe_saved_model_path = "
           f"'{capacity}'"])

  def restore(self, checkpoint_path: Text, verbose: bool = True) -> None:
    del checkpoint_path, verbose  # Features use no trained weights.

  def call_function(self):
    return feature_model.feature_function(
        feature_model.TrackerConfig(self._crepe, window_bins=10),
        outputs=feature_model.VST_FEATURE_OUTPUTS, as_tuple=True)


class VSTPredictControls(VSTBaseModule):
  """f0_scaled, pw_scaled [1] -> (amps, hd, noise); the GRU starts from zero
  state at every call (as in 3.7.0; see VSTStatelessPredictControls)."""

  def call_function(self):
    harmonic = self.processor_group.harmonic
    filtered_noise = self.processor_group.filtered_noise

    @tf.function(input_signature=[
        tf.TensorSpec([1], tf.float32, name='f0_scaled'),
        tf.TensorSpec([1], tf.float32, name='pw_scaled')], autograph=False)
    def call(f0_scaled, pw_scaled):
      features = {'f0_scaled': tf.reshape(f0_scaled, [1, 1, 1]),
                  'pw_scaled': tf.reshape(pw_scaled, [1, 1, 1])}
      outputs = self.decoder(features)
      return control_model.synth_controls(outputs, features['f0_scaled'],
                                          harmonic, filtered_noise)

    return call


class VSTStatelessPredictControls(VSTBaseModule):
  """f0_scaled, pw_scaled [1], state [rnn_channels] -> (amps, hd, noise,
  state): the DDSP-VST plugin's model (`control_model.control_function`)."""

  def configure_gin(self) -> None:
    _bind(['RnnFcDecoder.stateless = True'])

  def call_function(self):
    input_keys = [k for k in self.decoder.input_keys if k != 'state']
    ordered = ['f0_scaled'] + [k for k in input_keys if k != 'f0_scaled']
    return control_model.control_function(
        self.decoder, self.state_size, self.processor_group.harmonic,
        self.processor_group.filtered_noise, ordered)


class VSTSynthesize(tf.Module):
  """One hop of harmonic + noise audio from current and previous controls.

  The previous frame's controls and the phase are inputs (nothing is kept
  between calls). Controls move from the previous frame to the current one
  over the first half of the hop, then hold (`core.resample` of two
  frames, as `core.streaming_harmonic_synthesis`); the noise is a fresh
  block of white noise filtered by the current magnitudes, delay-compensated
  and cut to the hop, as `FilteredNoise(n_samples=hop)`.

  Reads `%frame_size`, `%frame_rate`, `%sample_rate`,
  `RnnFcDecoder.output_splits`, `Harmonic.amp_resample_method` and
  `FilteredNoise.window_size` from the operative config; has no weights.

  Args:
    ckpt: Checkpoint directory or prefix (for its operative config).
    new_hop_size: Samples per call instead of sample_rate / frame_rate.
  """

  harmonic = True
  noise = True

  def __init__(self, ckpt: Text, new_hop_size: int = None, **kwargs):
    super().__init__(**kwargs)
    parse_operative_config(ckpt)
    _bind(['harmonic_oscillator_bank.use_angular_cumsum = True'])
    rates = model_rates()
    self.sample_rate = rates['sample_rate']
    self.hop_size = new_hop_size or rates['hop_size']
    self.config = streaming_synth.SynthConfig(
        sample_rate=self.sample_rate, hop_size=self.hop_size,
        n_harmonics=rates['n_harmonics'], n_noise_bands=rates['n_noise'],
        noise_window_size=query('FilteredNoise.window_size'),
        amp_resample_method=query('Harmonic.amp_resample_method'),
        alignment='vst')
    self._consts = streaming_synth.Constants(self.config)
    self._call = self.call_function()

  def _harmonic(self, amps, prev_amps, hd, prev_hd, f0, prev_f0, prev_phase):
    """(audio [hop], final phase [1] radians in [0, 2 pi))."""
    config = self.config
    amplitudes = streaming_synth.harmonic_amplitudes(
        config, tf.concat([prev_amps, amps], 0),
        tf.stack([prev_hd, hd]), tf.stack([prev_f0, f0]))
    coarse = tf.math.floormod(prev_phase / (2 * np.pi) * config.sample_rate,
                              float(config.sample_rate))
    audio, (coarse, fine) = streaming_synth.harmonic_hops(
        self._consts, f0[tf.newaxis], amplitudes[1:], prev_f0,
        amplitudes[0], (coarse, tf.zeros([1])))
    cycles = tf.math.floormod((coarse + fine) / config.sample_rate, 1.0)
    return audio, cycles * (2 * np.pi)

  def _noise(self, noise):
    """[hop] filtered white noise for magnitudes [N]."""
    hop = self.hop_size
    blocks = streaming_synth.noise_blocks(
        self._consts, tf.random.uniform([1, hop], -1.0, 1.0),
        noise[tf.newaxis])
    delay = self.config.noise_delay
    return blocks[0, delay:delay + hop]

  def call_function(self):
    spec = lambda size, name: tf.TensorSpec([size], tf.float32, name=name)
    h, n = self.config.n_harmonics, self.config.n_noise_bands
    specs = [spec(1, 'amps'), spec(1, 'prev_amps'), spec(h, 'hd'),
             spec(h, 'prev_hd'), spec(1, 'f0'), spec(1, 'prev_f0')]
    if self.noise:
      specs.append(spec(n, 'noise'))
    specs.append(spec(1, 'prev_phase'))

    def call(*inputs):
      args = dict(zip([s.name for s in specs], inputs))
      if not self.harmonic:
        return self._noise(args['noise'])
      audio, phase = self._harmonic(
          *[args[k] for k in ('amps', 'prev_amps', 'hd', 'prev_hd', 'f0',
                              'prev_f0', 'prev_phase')])
      if self.noise:
        audio += self._noise(args['noise'])
      return audio, phase

    if not self.harmonic:
      specs = [spec(n, 'noise')]
    return tf.function(call, input_signature=specs, autograph=False)

  def __call__(self, *inputs):
    return self._call(*inputs)

  def tflite_function(self):
    return self._call

  def save_model(self, save_dir: Text) -> None:
    """SavedModel with signature `call`."""
    save_signatures(save_dir, {'call': self._call})


class VSTSynthesizeHarmonic(VSTSynthesize):
  """VSTSynthesize without the noise input: (audio [hop], final_phase)."""
  noise = False


class VSTSynthesizeNoise(VSTSynthesize):
  """noise [N] -> audio [hop]: filtered noise only."""
  harmonic = False


AutoencoderInference = registration.configurable(AutoencoderInference,
                                                 module=_GIN_MODULE)
VSTSynthesize = gin.configurable(VSTSynthesize, module=_GIN_MODULE)
VSTSynthesizeHarmonic = gin.configurable(VSTSynthesizeHarmonic,
                                         module=_GIN_MODULE)
VSTSynthesizeNoise = gin.configurable(VSTSynthesizeNoise, module=_GIN_MODULE)
