"""Tests of ddsp.framing: one hop formula, frame counts and padding."""
import numpy as np
import pytest

from ddsp import crepe
from ddsp import framing
from ddsp import validation


@pytest.mark.parametrize('sample_rate, frame_rate, hop', [
    (16000, 250, 64), (16000, 100, 160), (16000, 31.25, 512),
    (16000, 300, 53), (48000, 50, 960), (44100, 250, 176)])
def test_hop_size_rounds_samples_per_frame_down(sample_rate, frame_rate, hop):
  assert framing.hop_size(sample_rate, frame_rate) == hop


@pytest.mark.parametrize('frame_rate', [1, 3, 7, 50, 250, 300, 441, 1000])
def test_hop_size_equals_crepes_step_formula(frame_rate):
  # crepe computes its hop as int(16000 * step_ms / 1000), step = 1000 / rate.
  crepe_hop = int(16000 * (1000 / frame_rate) / 1000)
  assert framing.hop_size(16000, frame_rate) == crepe_hop


@pytest.mark.parametrize('frame_rate', [0, -250, float('nan'), 32000])
def test_hop_size_rejects_impossible_frame_rates(frame_rate):
  with pytest.raises(validation.ParameterError, match='frame_rate'):
    framing.hop_size(16000, frame_rate)


def test_exact_hop_size_rejects_rates_that_do_not_divide_the_sample_rate():
  assert framing.exact_hop_size(16000, 250) == 64
  with pytest.raises(validation.ParameterError,
                     match=r'frame_rate.*53\.333 samples.*divides 16000'):
    framing.exact_hop_size(16000, 300)


@pytest.mark.parametrize('padding, n_frames, padded', [
    ('valid', 985, 64000), ('same', 1000, 64960), ('center', 1001, 65024)])
def test_framed_lengths_of_4_s_at_250_hz(padding, n_frames, padded):
  assert framing.get_framed_lengths(64000, 1024, 64, padding) == (n_frames,
                                                                  padded)


@pytest.mark.parametrize('n_samples, hop_size, n_frames', [
    (1024, 64, 1), (1087, 64, 1), (1088, 64, 2), (16000 + 1024, 64, 251),
    (16000 + 1024, 160, 101), (5000, 1000, 4)])
def test_valid_frames_drop_the_incomplete_tail(n_samples, hop_size, n_frames):
  assert framing.get_framed_lengths(n_samples, 1024, hop_size,
                                    'valid')[0] == n_frames
  frames = crepe.frame_audio(np.zeros(n_samples, np.float32), hop_size)
  assert frames.shape[0] == n_frames


@pytest.mark.parametrize('padding', ['valid', 'same', 'center'])
@pytest.mark.parametrize('n_samples', [1000, 1024, 4000, 64001])
def test_padding_amounts_give_the_framed_lengths(padding, n_samples):
  before, after = framing.padding_amounts(n_samples, 1024, 64, padding)
  n_frames, _ = framing.get_framed_lengths(n_samples, 1024, 64, padding)
  padded = n_samples + before + after
  assert (padded - 1024) // 64 + 1 == n_frames
  if padding == 'center':
    assert before == after == 512


def test_unknown_padding_and_oversized_hop_are_rejected():
  with pytest.raises(validation.ParameterError, match='padding'):
    framing.get_framed_lengths(100, 10, 5, 'middle')
  with pytest.raises(validation.ParameterError, match='hop_size'):
    framing.padding_amounts(100, 10, 20, 'same')
