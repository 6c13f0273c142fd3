"""Tests of ddsp.effects: reverbs, FIR filter and modulated delay."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ddsp import effects
from ddsp import validation

SAMPLE_RATE = 16000


def impulse(n=1000, batch=2):
  audio = np.zeros([batch, n], np.float32)
  audio[:, 0] = 1.0
  return audio


def test_reverb_convolves_causally_and_adds_the_dry_signal():
  audio = np.random.default_rng(0).normal(size=[2, 500]).astype(np.float32)
  ir = np.zeros([2, 100], np.float32)
  ir[:, 0] = 5.0  # Masked: the dry path is added separately.
  ir[:, 30] = 0.5
  out = effects.Reverb(add_dry=True)(audio, ir).numpy()
  expected = audio.copy()
  expected[:, 30:] += 0.5 * audio[:, :-30]
  np.testing.assert_allclose(out, expected, atol=1e-5)
  wet = effects.Reverb(add_dry=False)(audio, ir).numpy()
  np.testing.assert_allclose(wet, expected - audio, atol=1e-5)


def test_reverb_accepts_unbatched_and_channel_irs():
  audio = impulse()
  ir = np.random.default_rng(1).normal(size=[50]).astype(np.float32)
  for shaped in (ir, ir[np.newaxis], np.tile(ir[np.newaxis, :, np.newaxis],
                                             [2, 1, 1])):
    out = effects.Reverb(add_dry=False)(audio, shaped).numpy()
    np.testing.assert_allclose(out[:, 1:50], np.tile(ir[1:], [2, 1]),
                               atol=1e-5)


@pytest.mark.parametrize('reverb_class', [effects.Reverb,
                                          effects.ExpDecayReverb,
                                          effects.FilteredNoiseReverb])
@pytest.mark.parametrize('trainable', [True, False])
def test_reverb_variables_exist_only_when_trainable(reverb_class, trainable):
  reverb = reverb_class(trainable=trainable, reverb_length=1000)
  audio = np.zeros([2, 2000], np.float32)
  if trainable:
    out = reverb(audio)
    assert out.shape == audio.shape
    assert reverb.trainable_variables
  else:
    with pytest.raises(ValueError, match='Must provide'):
      reverb(audio)
    assert not reverb.trainable_variables
  assert not reverb.non_trainable_variables


def test_reverb_controls_are_audio_and_ir():
  reverb = effects.Reverb(trainable=True, reverb_length=100)
  controls = reverb.get_controls(np.zeros([3, 400], np.float32))
  assert list(controls) == ['audio', 'ir']
  assert controls['ir'].shape == (3, 100)


def test_exp_decay_reverb_ir_decays_at_the_given_rate():
  reverb = effects.ExpDecayReverb(reverb_length=16000, scale_fn=None,
                                  add_dry=False)
  decay = np.log(8.0)  # exponent 2 + 8 = 10 per IR length.
  ir = reverb.get_controls(impulse(), gain=np.ones([2, 1], np.float32),
                           decay=np.full([2, 1], decay, np.float32))['ir']
  envelope = np.abs(ir.numpy()[0])
  early, late = envelope[:1600].max(), envelope[-1600:].max()
  assert late / early == pytest.approx(np.exp(-10 * 0.9), rel=0.3)


def test_filtered_noise_reverb_ir_has_requested_length():
  reverb = effects.FilteredNoiseReverb(reverb_length=4000, n_frames=40,
                                       n_filter_banks=8)
  controls = reverb.get_controls(np.zeros([2, 8000], np.float32),
                                 magnitudes=np.zeros([2, 40, 8], np.float32))
  assert controls['ir'].shape == (2, 4000)


def test_fir_filter_applies_magnitude_response():
  t = np.arange(16000) / SAMPLE_RATE
  audio = (np.sin(2 * np.pi * 500 * t) + np.sin(2 * np.pi * 6000 * t))
  magnitudes = np.zeros([1, 100, 513], np.float32)
  magnitudes[..., :129] = 1.0  # Pass 0 .. 2 kHz.
  fir = effects.FIRFilter(window_size=257, scale_fn=None)
  out = fir(audio[np.newaxis].astype(np.float32), magnitudes).numpy()[0]
  spectrum = np.abs(np.fft.rfft(out[1000:-1000]))
  freqs = np.fft.rfftfreq(14000, 1 / SAMPLE_RATE)
  high = spectrum[np.argmin(np.abs(freqs - 6000))]
  low = spectrum[np.argmin(np.abs(freqs - 500))]
  assert high < 1e-2 * low


def test_mod_delay_with_constant_phase_is_a_fixed_delay():
  audio = np.random.default_rng(2).normal(size=[1, 2000]).astype(np.float32)
  delay = effects.ModDelay(center_ms=1.0, depth_ms=1.0, sample_rate=16000,
                           gain_scale_fn=None, phase_scale_fn=None,
                           add_dry=False)
  n = audio.shape[1]
  # phase 0 -> centre delay of 1 ms = 16 samples.
  out = delay(audio, np.ones([1, n, 1], np.float32),
              np.zeros([1, n, 1], np.float32)).numpy()
  np.testing.assert_allclose(out[0, 16:], audio[0, :-16], atol=1e-5)
  assert out.shape == audio.shape


def test_reverb_gradient_reaches_learned_ir():
  reverb = effects.Reverb(trainable=True, reverb_length=100)
  audio = np.random.default_rng(3).normal(size=[2, 300]).astype(np.float32)
  reverb(audio)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(reverb(audio)**2)
  grad = tape.gradient(loss, reverb.trainable_variables)[0].numpy()
  assert grad[0] == 0.0  # The dry tap is masked.
  assert np.abs(grad[1:]).sum() > 0


@pytest.mark.parametrize('make, name', [
    (lambda: effects.Reverb(reverb_length=0), 'reverb_length'),
    (lambda: effects.ExpDecayReverb(scale_fn=1.0), 'scale_fn'),
    (lambda: effects.FilteredNoiseReverb(n_frames=-1), 'n_frames'),
    (lambda: effects.FilteredNoiseReverb(n_filter_banks=0), 'n_filter_banks'),
    (lambda: effects.FIRFilter(window_size='257'), 'window_size'),
    (lambda: effects.ModDelay(center_ms=-1.0), 'center_ms'),
    (lambda: effects.ModDelay(center_ms=0.0, depth_ms=0.01), 'depth_ms'),
    (lambda: effects.ModDelay(sample_rate=0), 'sample_rate'),
])
def test_constructors_reject_invalid_arguments(make, name):
  with pytest.raises(ValueError,
                     match=f'Received an invalid value for `{name}`'):
    make()


@pytest.mark.parametrize('ir_scale', [1.0, 1e-3])
def test_reverb_ir_scale_keeps_the_initial_ir_and_slows_adam_steps(ir_scale):
  keras.utils.set_random_seed(0)
  reverb = effects.Reverb(trainable=True, reverb_length=20000,
                          ir_scale=ir_scale)
  audio = np.random.default_rng(5).normal(size=[1, 400]).astype(np.float32)
  ir_before = reverb.get_controls(audio)['ir'].numpy()[0]
  # The initial IR is N(0, 1e-6**2) whatever the scale.
  assert np.std(ir_before) == pytest.approx(1e-6, rel=0.05)
  optimizer = keras.optimizers.Adam(learning_rate=1e-2)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.square(reverb(audio) - 0.5 * audio))
  optimizer.apply_gradients(zip(
      tape.gradient(loss, reverb.trainable_variables),
      reverb.trainable_variables))
  step = reverb.get_controls(audio)['ir'].numpy()[0] - ir_before
  # Adam's first step moves each variable by the learning rate (sign of the
  # gradient, less Adam's epsilon); the IR moves by ir_scale times that on the
  # taps that see audio.
  assert np.median(np.abs(step[1:300])) == pytest.approx(1e-2 * ir_scale,
                                                         rel=2e-3)
  assert np.abs(step).max() <= 1e-2 * ir_scale * 1.001


def test_reverb_rejects_a_non_positive_ir_scale():
  with pytest.raises(validation.ParameterError, match='ir_scale'):
    effects.Reverb(trainable=True, ir_scale=0.0)
