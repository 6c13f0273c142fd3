"""Tests for ddsp.export.streaming_synth (the graph of the synth models)."""

import numpy as np
import pytest
import tensorflow as tf

from ddsp import core
from ddsp import synths
from ddsp.export import streaming_synth as ss
import gin

SR, HOP, H, N = 16000, 320, 60, 65


def _controls(n_frames, seed=0, jumps=True, hop=HOP):
  """Vibrato and (optionally) octave jumps, random spectra."""
  rng = np.random.default_rng(seed)
  t = np.arange(n_frames) / 50.0
  f0 = 220.0 * 2.0**(np.sin(2 * np.pi * 1.5 * t) / 6.0)
  if jumps:
    f0[n_frames // 3:n_frames // 3 + 4] *= 2.0
  amps = 0.5 + 0.4 * np.sin(2 * np.pi * 0.7 * t)
  hd = rng.uniform(0.0, 1.0, (n_frames, H))
  mags = rng.uniform(0.0, 1.0, (n_frames, N))**2
  noise = rng.uniform(-1.0, 1.0, (n_frames, hop))
  return [x.astype(np.float32) for x in (f0, amps, hd, mags, noise)]


def _stream(config, f0, amps, hd, mags, noise, state=None, frames=1):
  """Renders `frames` frames per call; returns audio parts and final state."""
  consts = ss.Constants(config)
  render = tf.function(lambda *args: ss.render_hops(config, *args,
                                                    consts=consts))
  if state is None:
    state = np.zeros(config.state_size, np.float32)
  harmonic, filtered = [], []
  for j in range(0, len(f0), frames):
    part = slice(j, j + frames)
    out = render(f0[part], amps[part], hd[part], mags[part], noise[part],
                 state)
    state = out['state'].numpy()
    harmonic.append(out['harmonic'].numpy())
    filtered.append(out['noise'].numpy())
  return np.concatenate(harmonic), np.concatenate(filtered), state


def _normalized_amplitudes(f0, amps, hd):
  """Per-harmonic amplitudes: Nyquist-masked distribution summing to 1."""
  k = np.arange(1, hd.shape[-1] + 1)
  hd = np.where(f0[:, None] * k >= SR / 2, 0.0, hd.astype(np.float64))
  total = hd.sum(-1, keepdims=True)
  return amps[:, None] * np.where(total == 0, 0.0, hd / np.where(total == 0,
                                                                 1, total))


def _vst_oracle(f0, amps, hd):
  """float64 numpy rendering of the 'vst' convention from silence.

  Frame j shapes hop j: f0 and amplitudes ramp linearly from frame j - 1 to
  frame j over the first half of the hop, then hold; phase is the inclusive
  running sum of f0 / sr from 0 (frame -1 = frame 0's f0, zero amplitudes).
  """
  a = _normalized_amplitudes(f0, amps, hd)
  a_prev = np.concatenate([np.zeros_like(a[:1]), a[:-1]])
  f_prev = np.concatenate([f0[:1], f0[:-1]]).astype(np.float64)
  w = np.minimum(2.0 * np.arange(HOP) / HOP, 1.0)
  f_env = (f_prev[:, None] + (f0 - f_prev)[:, None] * w).reshape(-1)
  a_env = (a_prev[:, None] + (a - a_prev)[:, None] * w[:, None]).reshape(
      -1, hd.shape[-1])
  phase = np.cumsum(f_env) / SR
  k = np.arange(1, hd.shape[-1] + 1)
  return np.sum(a_env * np.sin(2 * np.pi * phase[:, None] * k), axis=-1)


def test_vst_hops_match_float64_oracle():
  f0, amps, hd, mags, noise = _controls(100)
  config = ss.SynthConfig(alignment='vst')
  # Previous f0 = first f0, as after a plugin reset.
  state = config.initial_state(f0[0])
  harmonic, _, _ = _stream(config, f0, amps, hd, mags * 0, noise, state)
  expected = _vst_oracle(f0, amps, hd)
  # Phase is exact to ~1e-8 cycles: only float32 rounding of sines and sums.
  np.testing.assert_allclose(harmonic, expected, atol=2e-5)


@pytest.fixture
def float64_oscillator_phase():
  """`core.harmonic_oscillator_bank` accumulating phase in float64 (its
  default, `angular_cumsum`, sums in float32 and drifts ~1e-4 rad a hop)."""
  with gin.unlock_config():
    gin.bind_parameter('harmonic_oscillator_bank.use_angular_cumsum', False)
  yield
  with gin.unlock_config():
    gin.bind_parameter('harmonic_oscillator_bank.use_angular_cumsum', True)


@pytest.mark.usefixtures('float64_oscillator_phase')
def test_vst_hop_matches_core_streaming_harmonic_synthesis():
  f0, amps, hd, _, _ = _controls(30)
  config = ss.SynthConfig(alignment='vst')
  consts = ss.Constants(config)
  state = config.initial_state(f0[0])
  zeros = np.zeros((1, HOP), np.float32)
  cycles = lambda state: (state[0] + state[1]) / SR
  for j in range(1, 30):
    phase = np.full([1, 1, 1], cycles(state) * 2 * np.pi, np.float32)
    out = ss.render_hops(config, f0[j:j + 1], amps[j:j + 1], hd[j:j + 1],
                         np.zeros((1, N), np.float32), zeros, state, consts)
    state = out['state'].numpy()
    if j == 1:
      continue  # The reference's previous frame starts at zero amplitude.
    expected, final_phase = core.streaming_harmonic_synthesis(
        f0[None, j - 1:j + 1, None], amps[None, j - 1:j + 1, None],
        hd[None, j - 1:j + 1], initial_phase=phase, n_samples=HOP,
        amp_resample_method='linear')
    # Start phases agree to float32 rounding of radians (~1e-7).
    np.testing.assert_allclose(out['harmonic'].numpy(), expected[0],
                               atol=5e-5)
    np.testing.assert_allclose(
        np.mod(final_phase.numpy().ravel() / (2 * np.pi), 1.0),
        [cycles(state)], atol=1e-6)


@pytest.mark.parametrize('method, hop', [('linear', HOP), ('window', HOP),
                                         ('window', 64)])
def test_clip_alignment_renders_what_the_keras_synths_render(method, hop):
  # hop 64 (250 frames/s): the 128-tap noise filter spans three hops.
  n_frames = 80
  f0, amps, hd, mags, noise = _controls(n_frames, hop=hop)
  config = ss.SynthConfig(alignment='clip', amp_resample_method=method,
                          hop_size=hop)
  # Frame 0 fills the synth's memory; its output and phase are dropped.
  _, _, state = _stream(config, f0[:1], amps[:1], hd[:1], mags[:1],
                        noise[:1])
  state[:2] = 0.0  # Phase.
  held = lambda x, zero=False: np.concatenate([x[1:], x[-1:] * (not zero)])
  harmonic, filtered, _ = _stream(config, held(f0), held(amps), held(hd),
                                  held(mags), held(noise, zero=True), state)
  expected_harmonic = synths.Harmonic(
      n_samples=n_frames * hop, scale_fn=None, amp_resample_method=method)(
          amps[None, :, None], hd[None], f0[None, :, None])[0]
  expected_noise = core.frequency_filter(noise.reshape(1, -1), mags[None],
                                         window_size=0)[0]
  np.testing.assert_allclose(harmonic, expected_harmonic, atol=1e-3)
  np.testing.assert_allclose(filtered, expected_noise, atol=1e-5)


@pytest.mark.parametrize('alignment', ss.ALIGNMENTS)
def test_chunks_render_the_same_as_single_hops(alignment):
  f0, amps, hd, mags, noise = _controls(60)
  config = ss.SynthConfig(alignment=alignment)
  one = _stream(config, f0, amps, hd, mags, noise)
  chunked = _stream(config, f0, amps, hd, mags, noise, frames=20)
  np.testing.assert_allclose(chunked[0], one[0], atol=2e-5)
  np.testing.assert_allclose(chunked[1], one[1], atol=1e-6)
  cycles = lambda state: (np.float64(state[0]) + state[1]) / SR
  assert abs(cycles(chunked[2]) - cycles(one[2])) < 1e-8
  np.testing.assert_allclose(chunked[2][2:], one[2][2:], atol=1e-6)


def test_steady_tone_keeps_exact_phase_for_minutes():
  # 3000 hops = 60 s. A float32 running sum of f / sr drifts by ~1e-5 cycles
  # per hop, the same each hop, i.e. a whole radian per minute here.
  n_frames, f0_hz = 3000, float(np.float32(441.37))
  config = ss.SynthConfig()
  synth = ss.synth_function(config)
  state = config.initial_state(f0_hz)
  hd = np.zeros((1, H), np.float32)
  hd[0, 0] = 1.0
  args = [np.full(1, f0_hz, np.float32), np.ones(1, np.float32), hd,
          np.zeros((1, N), np.float32), np.zeros((1, HOP), np.float32)]
  worst = 0.0
  for j in range(n_frames):
    out = synth(*args, state)
    state = out['state'].numpy()
    if j % 500 == 0 or j == n_frames - 1:
      n = np.arange(j * HOP + 1, (j + 1) * HOP + 1)
      expected = np.sin(2 * np.pi * np.mod(f0_hz * n, SR) / SR)
      if j > 0:  # Hop 0 fades in from zero amplitude.
        worst = max(worst, np.abs(out['audio'].numpy() - expected).max())
  assert worst < 2e-5


@pytest.mark.parametrize('alignment', ss.ALIGNMENTS)
def test_hops_join_without_discontinuities(alignment):
  n_frames = 60
  f0, amps, hd, mags, noise = _controls(n_frames, jumps=False)
  hd[:, 10:] = 0.0
  mags[:, 8:] = 0.0  # Low-pass noise: smooth, so a seam would show.
  config = ss.SynthConfig(alignment=alignment)
  for amp_scale, mag_scale in ((1.0, 0.0), (0.0, 1.0)):
    harmonic, filtered, _ = _stream(config, f0, amps * amp_scale, hd,
                                    mags * mag_scale, noise)
    audio = (harmonic + filtered)[2 * HOP:]  # After the fade-in.
    jumps = np.abs(np.diff(audio))
    at_seams = jumps[HOP - 1::HOP]
    inside = np.delete(jumps, np.arange(HOP - 1, len(jumps), HOP))
    assert at_seams.max() <= inside.max()
    assert np.median(at_seams) < 2 * np.median(inside)


def test_noise_delay_and_ir_sizes():
  assert ss.SynthConfig().noise_ir_size == 128
  assert ss.SynthConfig().noise_delay == 62  # (128 - 1) // 2 - 1.
  assert ss.SynthConfig(noise_window_size=257, n_noise_bands=65
                        ).noise_ir_size == 128
  assert ss.SynthConfig(noise_window_size=31).noise_ir_size == 31
  assert ss.SynthConfig(noise_window_size=22).noise_ir_size == 21
  clip = ss.SynthConfig(alignment='clip')
  assert clip.latency == HOP
  assert clip.state_sizes['noise'] == 127 + HOP - 62


@pytest.mark.parametrize('kwargs, message', [
    (dict(alignment='late'), 'alignment'),
    (dict(hop_size=0), 'hop_size'),
    (dict(n_noise_bands=1), 'n_noise_bands'),
    (dict(alignment='clip', amp_resample_method='cubic'),
     'amp_resample_method'),
    (dict(hop_size=321, amp_resample_method='window'), 'even'),
])
def test_invalid_configs_raise(kwargs, message):
  with pytest.raises(ValueError, match=message):
    ss.SynthConfig(**kwargs)
