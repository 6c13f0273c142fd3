"""MIDI autoencoders (EXPERIMENTAL): audio features -> MIDI-like notes -> audio.

Two branches share one harmonic-plus-noise processor group:
- the *synthcoder* predicts synthesizer controls from f0 and loudness (or
  power) and renders `synth_audio`;
- the *MIDI autoencoder* encodes f0 (and loudness, or the synthcoder's
  controls in dB) into a continuous pitch `z_pitch`, quantizes it to integer
  MIDI pitches `q_pitch` (straight-through rounding; velocities are zeroed),
  and decodes the notes back into controls and `midi_audio`.

Fixes of ddsp 3.7.0 (quirk 24): without a `midi_decoder` the model returns
the synthcoder branch alone (3.7.0 referenced undefined locals), and
`get_audio_from_outputs` returns `synth_audio` then (3.7.0's condition was
inverted).
"""

from typing import Any, Dict, Optional, Sequence, Text, Tuple

import tensorflow as tf

from ddsp import core
from ddsp import effects
from ddsp import processors
from ddsp import synths
from ddsp.training import nn
from ddsp.training import preprocessing
from ddsp.training.models import model

TensorDict = Dict[Text, Any]


def _processor_group(reverb: bool) -> processors.ProcessorGroup:
  """Harmonic + FilteredNoise + Add (+ learned FilteredNoiseReverb)."""
  dag = [
      (synths.Harmonic(), ['amplitudes', 'harmonic_distribution', 'f0_hz']),
      (synths.FilteredNoise(), ['magnitudes']),
      (processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
  ]
  if reverb:
    dag.append((effects.FilteredNoiseReverb(
        trainable=True, reverb_length=24000, n_frames=500,
        n_filter_banks=32), ['add/signal']))
  return processors.ProcessorGroup(dag=dag)


class MidiAutoencoder(model.Model):
  """Learns MIDI notes that resynthesize the audio (see the module docstring).

  Args:
    synthcoder: DictLayer from conditioning (`f0_hz`, `db`, `f0_scaled`,
      `ld_scaled`, `pw_scaled`, `z`) to raw controls `amplitudes`,
      `harmonic_distribution`, `magnitudes` (e.g. an RnnFcDecoder).
    midi_encoder: `MidiEncoder` (f0_midi, loudness) or
      `HarmonicToMidiEncoder` (f0_midi, amps, hd, noise); None uses the
      ground-truth notes (`note_active_velocities`).
    midi_decoder: `MidiDecoder` (notes -> f0 and loudness, rendered by the
      synthcoder) or `MidiToHarmonicDecoder` (notes -> controls); None skips
      the MIDI resynthesis.
    sg_before_midiae: Stop gradients from the MIDI autoencoder into the
      synthcoder's controls.
    reverb: Add a learned filtered-noise reverb.
    preprocessor: Optional preprocessor; `F0PowerPreprocessor` makes the
      loudness feature `power_db` (else `loudness_db`).
    reconstruction_losses: A `LossGroup` over the outputs dict.
    qpitch_f0rec_loss: Loss(f0 decoded from the notes, input f0) in MIDI.
    pitch_f0rec_loss: Loss(z_pitch, input f0) in MIDI.
    pitch_qpitch_loss: Loss(z_pitch, stop_gradient(q_pitch)) (closeness).
    midi_slowness_loss: Loss(z_pitch[t], z_pitch[t - 1]) (slowness).
    mask_f0_loss: Weight the f0 losses by `|f0_midi - q_pitch| < 2`.
    **kwargs: Keras model keywords.

  Loss objects take `(prediction, target, weights)` (e.g. `losses.ParamLoss`)
  and are reported under their argument names.
  """

  def __init__(self, synthcoder=None, midi_encoder=None, midi_decoder=None,
               sg_before_midiae: bool = True, reverb: bool = True,
               preprocessor=None, reconstruction_losses=None,
               qpitch_f0rec_loss=None, pitch_f0rec_loss=None,
               pitch_qpitch_loss=None, midi_slowness_loss=None,
               mask_f0_loss: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.synthcoder = synthcoder
    self.midi_encoder = midi_encoder
    self.midi_decoder = midi_decoder
    self.sg_before_midiae = sg_before_midiae
    self.reverb = reverb
    self.preprocessor = preprocessor
    self.reconstruction_losses = reconstruction_losses
    self.qpitch_f0rec_loss = qpitch_f0rec_loss
    self.pitch_f0rec_loss = pitch_f0rec_loss
    self.pitch_qpitch_loss = pitch_qpitch_loss
    self.midi_slowness_loss = midi_slowness_loss
    self.mask_f0_loss = mask_f0_loss
    self.db_key = ('power_db' if isinstance(
        preprocessor, preprocessing.F0PowerPreprocessor) else 'loudness_db')
    self.processor_group = _processor_group(reverb)

  # ----------------------------------------------------------------------------
  # Conversions
  # ----------------------------------------------------------------------------
  @staticmethod
  def extract_harm_controls(synth_params: TensorDict, log_scale: bool = True,
                            stop_gradient: bool = False
                           ) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(amplitudes [B, T, 1], harmonic distribution, noise magnitudes).

    Args:
      synth_params: Processor-group controls (`harmonic/controls/...`,
        `filtered_noise/controls/magnitudes`).
      log_scale: Amplitudes and noise magnitudes in dB (`amplitude_to_db`).
      stop_gradient: Stop gradients into the controls.
    """
    amps = synth_params['harmonic']['controls']['amplitudes']
    hd = synth_params['harmonic']['controls']['harmonic_distribution']
    noise = synth_params['filtered_noise']['controls']['magnitudes']
    if log_scale:
      amps = core.amplitude_to_db(amps)
      noise = core.amplitude_to_db(noise)
    if stop_gradient:
      amps, hd, noise = (tf.stop_gradient(x) for x in (amps, hd, noise))
    return amps, hd, noise

  @staticmethod
  def pianoroll_to_midi(pianoroll: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Pianoroll [B, T, 128] of velocities -> (pitch, velocity) [B, T, 1].

    The pitch is the key with the highest velocity, 0 where no key is on.
    """
    pianoroll = core.tf_float32(pianoroll)
    q_vel = tf.reduce_max(pianoroll, axis=-1, keepdims=True)
    q_pitch = tf.cast(tf.argmax(pianoroll, axis=-1), tf.float32)[..., None]
    return tf.where(q_vel > 0.0, q_pitch, 0.0), q_vel

  @staticmethod
  def midi_to_pianoroll(q_pitch: tf.Tensor, q_vel: tf.Tensor,
                        piano_keys: int = 128,
                        thresh: float = 20.0) -> tf.Tensor:
    """One-hot pianoroll [B, T, piano_keys] of pitches above `thresh`.

    Pitches <= thresh (silence, rounding noise) map to key 0. Velocities are
    not used (the MIDI encoder zeroes them); `q_vel` is accepted for
    symmetry with `pianoroll_to_midi`.
    """
    del q_vel
    q_pitch = core.tf_float32(q_pitch)[..., 0]
    keys = tf.cast(tf.round(tf.where(q_pitch > thresh, q_pitch, 0.0)),
                   tf.int32)
    return tf.one_hot(keys, piano_keys)

  # ----------------------------------------------------------------------------
  # Branches
  # ----------------------------------------------------------------------------
  def preprocess(self, features: TensorDict,
                 training: bool = True) -> TensorDict:
    """Runs the preprocessor; adds `f0_midi` and `db` [B, T, 1]."""
    if self.preprocessor is not None:
      features.update(self.preprocessor(features, training=training))
    db = features.get('pw_db') if self.db_key == 'power_db' else None
    db = features[self.db_key] if db is None else db
    features['f0_hz'] = preprocessing.at_least_3d(features['f0_hz'])
    features['f0_midi'] = core.hz_to_midi(features['f0_hz'])
    features['db'] = preprocessing.at_least_3d(db)
    return features

  def synthesize_audio(self, f0_hz, db, z=None, training: bool = False,
                       return_params: bool = False):
    """Renders audio from f0 [B, T, 1] Hz and loudness/power [B, T, 1] dB.

    Returns:
      Audio [B, n_samples], or (audio, processor-group controls).
    """
    inputs = {'f0_hz': f0_hz, 'db': db,
              'f0_scaled': preprocessing.scale_f0_hz(f0_hz),
              'ld_scaled': preprocessing.scale_db(db),
              'pw_scaled': preprocessing.scale_db(db)}
    if z is not None:
      inputs['z'] = z
    controls = dict(self.synthcoder(inputs, training=training))
    controls['f0_hz'] = f0_hz
    rendered = self.processor_group(controls, return_outputs_dict=True)
    if return_params:
      return rendered['signal'], rendered['controls']
    return rendered['signal']

  def synthcoder_branch(self, features: TensorDict, training: bool = True):
    """(synth_audio, synth_params) from the features' f0, db (and z)."""
    return self.synthesize_audio(features['f0_hz'], features['db'],
                                 z=features.get('z'), training=training,
                                 return_params=True)

  def encode_to_midi(self, features: TensorDict,
                     synth_params: Optional[TensorDict] = None,
                     training: bool = True):
    """(z_pitch, z_vel, q_pitch, q_vel) [B, T, 1] from the MIDI encoder."""
    inputs = {'f0_midi': features['f0_midi'], 'loudness': features['db']}
    if 'amps' in self.midi_encoder.input_keys:
      amps, hd, noise = self.extract_harm_controls(
          synth_params, stop_gradient=self.sg_before_midiae)
      inputs.update(amps=amps, hd=hd, noise=noise)
    elif self.sg_before_midiae:
      inputs = {k: tf.stop_gradient(v) for k, v in inputs.items()}
    encoded = self.midi_encoder(inputs, training=training)
    z_pitch, z_vel = encoded['z_pitch'], encoded['z_vel']
    q_pitch = nn.straight_through_int_quantization(z_pitch)
    return z_pitch, z_vel, q_pitch, tf.zeros_like(z_vel)

  def get_gt_midi(self, features: TensorDict):
    """(q_pitch, q_vel, f0_loss_weights) from `note_active_velocities`."""
    q_pitch, q_vel = self.pianoroll_to_midi(features['note_active_velocities'])
    return q_pitch, q_vel, self._f0_loss_weights(features['f0_midi'], q_pitch)

  @staticmethod
  def _f0_loss_weights(f0_midi, q_pitch) -> tf.Tensor:
    return tf.cast(tf.abs(f0_midi - q_pitch) < 2.0, tf.float32)

  def midi_to_audio(self, q_pitch, q_vel, z=None,
                    training: bool = True) -> TensorDict:
    """Decodes notes to controls and renders them.

    Returns:
      Dict of `midi_audio`, `midi_synth_params`, `f0_midi_pred`,
      `f0_hz_pred` and (MidiDecoder) `<db_key>_pred`.
    """
    decoded = self.midi_decoder({'z_pitch': q_pitch, 'z_vel': q_vel, 'z': z},
                                training=training)
    outputs = {'f0_midi_pred': decoded['f0_midi']}
    if 'f0_hz' in decoded:
      controls = {k: decoded[k] for k in
                  ('amplitudes', 'harmonic_distribution', 'magnitudes',
                   'f0_hz')}
      rendered = self.processor_group(controls, return_outputs_dict=True)
      audio, params = rendered['signal'], rendered['controls']
      outputs['f0_hz_pred'] = decoded['f0_hz']
    else:
      outputs['f0_hz_pred'] = core.midi_to_hz(decoded['f0_midi'])
      outputs[self.db_key + '_pred'] = decoded['loudness']
      audio, params = self.synthesize_audio(
          outputs['f0_hz_pred'], decoded['loudness'], z=z, training=training,
          return_params=True)
    outputs.update(midi_audio=audio, midi_synth_params=params)
    return outputs

  # ----------------------------------------------------------------------------
  # Losses
  # ----------------------------------------------------------------------------
  def _add_param_loss(self, name: Text, prediction, target, weights=None):
    loss_obj = getattr(self, name)
    if loss_obj is not None:
      self._losses_dict[name] = loss_obj(prediction, target, weights)

  def add_closeness_loss(self, z_pitch, q_pitch):
    """`pitch_qpitch_loss`: pulls z_pitch toward its quantized value."""
    self._add_param_loss('pitch_qpitch_loss', z_pitch,
                         tf.stop_gradient(q_pitch))

  def add_slowness_loss(self, z_pitch):
    """`midi_slowness_loss`: penalizes frame-to-frame changes of z_pitch."""
    self._add_param_loss('midi_slowness_loss', z_pitch[:, 1:],
                         z_pitch[:, :-1])

  def add_zpitch_losses(self, z_pitch, q_pitch, f0_midi, f0_loss_weights):
    """f0 reconstruction, closeness and slowness losses of z_pitch."""
    self._add_param_loss('pitch_f0rec_loss', z_pitch, f0_midi,
                         f0_loss_weights)
    self.add_closeness_loss(z_pitch, q_pitch)
    self.add_slowness_loss(z_pitch)

  # ----------------------------------------------------------------------------
  # Model
  # ----------------------------------------------------------------------------
  def midi_decoder_z(self, features: TensorDict, q_pitch,
                     outputs: TensorDict) -> Optional[tf.Tensor]:
    """Conditioning z of the MIDI decoder (none in this class)."""
    del features, q_pitch, outputs
    return None

  def call(self, features: TensorDict, training: bool = True) -> TensorDict:
    features = self.preprocess(features, training=training)
    synth_audio, synth_params = self.synthcoder_branch(features, training)
    outputs = {'synth_params': synth_params, 'synth_audio': synth_audio}

    if self.midi_encoder is not None:
      z_pitch, z_vel, q_pitch, q_vel = self.encode_to_midi(
          features, synth_params, training=training)
      f0_loss_weights = self._f0_loss_weights(features['f0_midi'], q_pitch)
    else:
      z_pitch = z_vel = None
      q_pitch, q_vel, f0_loss_weights = self.get_gt_midi(features)
    if not self.mask_f0_loss:
      f0_loss_weights = None
    amps, hd, noise = self.extract_harm_controls(synth_params)
    outputs.update(q_pitch=q_pitch, q_vel=q_vel, z_pitch=z_pitch, z_vel=z_vel,
                   pianoroll=self.midi_to_pianoroll(q_pitch, q_vel),
                   amps=amps, hd=hd, noise=noise,
                   f0_loss_weights=f0_loss_weights)

    if self.midi_decoder is not None:
      z = self.midi_decoder_z(features, q_pitch, outputs)
      outputs.update(self.midi_to_audio(q_pitch, q_vel, z, training=training))
      amps_pred, hd_pred, noise_pred = self.extract_harm_controls(
          outputs['midi_synth_params'])
      outputs.update(amps_pred=amps_pred, hd_pred=hd_pred,
                     noise_pred=noise_pred)

    outputs = {k: v for k, v in outputs.items() if v is not None}
    for source in (features, synth_params):
      outputs.update({k: v for k, v in source.items() if k not in outputs})

    if training:
      if self.reconstruction_losses is not None:
        self._losses_dict.update(self.reconstruction_losses(outputs))
      if z_pitch is not None:
        self.add_zpitch_losses(z_pitch, q_pitch, features['f0_midi'],
                               f0_loss_weights)
      if 'f0_midi_pred' in outputs:
        self._add_param_loss('qpitch_f0rec_loss', outputs['f0_midi_pred'],
                             features['f0_midi'], f0_loss_weights)
    return outputs

  def get_audio_from_outputs(self, outputs: TensorDict) -> tf.Tensor:
    key = 'midi_audio' if self.midi_decoder is not None else 'synth_audio'
    return outputs[key]


class ZMidiAutoencoder(MidiAutoencoder):
  """MidiAutoencoder with latents for timbre and expression.

  Args:
    z_synth_encoders: ZEncoders whose concatenated z conditions the
      synthcoder (`features['z']`).
    z_global_encoders: ZEncoders whose concatenated z (`z_global`, averaged
      over time) conditions the MIDI decoder.
    z_note_encoder: A ZEncoder whose z, averaged over each note of
      `q_pitch` (`z_notes`), conditions the MIDI decoder.
    z_preconditioning_stack: Layer applied to the MIDI decoder's z.
    z_global_prior, z_note_prior: Losses (`get_losses_dict(z)`) on
      `z_global` and `z_notes`.
    The other arguments are those of MidiAutoencoder, in the same order
    (ddsp 3.7.0's positional order).
  """

  def __init__(self, synthcoder=None, midi_encoder=None, midi_decoder=None,
               sg_before_midiae: bool = True, reverb: bool = True,
               preprocessor=None, reconstruction_losses=None,
               qpitch_f0rec_loss=None, pitch_f0rec_loss=None,
               pitch_qpitch_loss=None, midi_slowness_loss=None,
               mask_f0_loss: bool = True,
               z_synth_encoders: Optional[Sequence[Any]] = None,
               z_global_encoders: Optional[Sequence[Any]] = None,
               z_note_encoder=None, z_preconditioning_stack=None,
               z_global_prior=None, z_note_prior=None, **kwargs):
    super().__init__(
        synthcoder=synthcoder, midi_encoder=midi_encoder,
        midi_decoder=midi_decoder, sg_before_midiae=sg_before_midiae,
        reverb=reverb, preprocessor=preprocessor,
        reconstruction_losses=reconstruction_losses,
        qpitch_f0rec_loss=qpitch_f0rec_loss, pitch_f0rec_loss=pitch_f0rec_loss,
        pitch_qpitch_loss=pitch_qpitch_loss,
        midi_slowness_loss=midi_slowness_loss, mask_f0_loss=mask_f0_loss,
        **kwargs)
    self.z_synth_encoders = list(core.make_iterable(z_synth_encoders))
    self.z_global_encoders = list(core.make_iterable(z_global_encoders))
    self.z_note_encoder = z_note_encoder
    self.z_preconditioning_stack = z_preconditioning_stack
    self.z_global_prior = z_global_prior
    self.z_note_prior = z_note_prior

  @staticmethod
  def _encode(encoders, features: TensorDict) -> Optional[tf.Tensor]:
    if not encoders:
      return None
    return tf.concat([encoder(features)['z'] for encoder in encoders], -1)

  def z_synth_encode(self, features: TensorDict) -> Optional[tf.Tensor]:
    """Synthcoder z [B, T, C] (None without z_synth_encoders)."""
    return self._encode(self.z_synth_encoders, features)

  def z_global_encode(self, features: TensorDict) -> Optional[tf.Tensor]:
    """Global z [B, 1, C] (None without z_global_encoders)."""
    z = self._encode(self.z_global_encoders, features)
    return None if z is None else tf.reduce_mean(z, axis=1, keepdims=True)

  def z_note_encode(self, features: TensorDict,
                    q_pitch: tf.Tensor) -> Optional[tf.Tensor]:
    """z [B, T, C] averaged over the notes of q_pitch (None without encoder)."""
    if self.z_note_encoder is None:
      return None
    z = self.z_note_encoder(features)['z']
    note_mask = nn.get_note_mask(q_pitch, note_on_only=False)
    return nn.pool_over_notes(z, note_mask, return_std=False)

  def preprocess(self, features: TensorDict,
                 training: bool = True) -> TensorDict:
    features = super().preprocess(features, training=training)
    z = self.z_synth_encode(features)
    if z is not None:
      features['z'] = z
    return features

  def midi_decoder_z(self, features: TensorDict, q_pitch,
                     outputs: TensorDict) -> Optional[tf.Tensor]:
    z_global = self.z_global_encode(features)
    z_notes = self.z_note_encode(features, tf.stop_gradient(q_pitch))
    outputs.update(z_global=z_global, z_notes=z_notes)
    if z_global is not None:
      self._update_losses_dict(self.z_global_prior, z_global)
    if z_notes is not None:
      self._update_losses_dict(self.z_note_prior, z_notes)
    parts = [z for z in (z_global, z_notes) if z is not None]
    if not parts:
      return None
    n_frames = tf.shape(q_pitch)[1]
    parts = [tf.broadcast_to(z, tf.concat([tf.shape(z)[:1], [n_frames],
                                           tf.shape(z)[2:]], 0))
             for z in parts]
    z = tf.concat(parts, axis=-1)
    if self.z_preconditioning_stack is not None:
      z = self.z_preconditioning_stack(z)
    return z
