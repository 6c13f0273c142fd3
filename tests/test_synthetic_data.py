"""Tests for the synthetic controls generator and its dataset command."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import data
from ddsp.training.data_preparation import synthetic_data
import gin

N_TIMESTEPS, N_HARMONICS, N_MAGS = 40, 12, 5
CONTROL_KEYS = {'harm_amp', 'harm_dist', 'f0_hz', 'sin_amps', 'sin_freqs',
                'noise_magnitudes'}
GENERATORS = [synthetic_data.generate_notes, synthetic_data.generate_notes_v2]


def _generate(generator, seed=0, **kwargs):
  np.random.seed(seed)
  controls = generator(n_batch=3, n_timesteps=N_TIMESTEPS,
                       n_harmonics=N_HARMONICS, n_mags=N_MAGS, **kwargs)
  return {key: np.asarray(value) for key, value in controls.items()}


@pytest.mark.parametrize('generator', GENERATORS)
def test_controls_have_the_synthetic_notes_layout_and_ranges(generator):
  controls = _generate(generator)
  assert set(controls) == CONTROL_KEYS
  shapes = {key: value.shape for key, value in controls.items()}
  assert shapes == {
      'harm_amp': (3, N_TIMESTEPS, 1), 'f0_hz': (3, N_TIMESTEPS, 1),
      'harm_dist': (3, N_TIMESTEPS, N_HARMONICS),
      'sin_amps': (3, N_TIMESTEPS, N_HARMONICS),
      'sin_freqs': (3, N_TIMESTEPS, N_HARMONICS),
      'noise_magnitudes': (3, N_TIMESTEPS, N_MAGS)}
  midi = 12 * np.log2(controls['f0_hz'] / 440.0) + 69
  assert midi.min() >= 24.0 - 0.6 and midi.max() <= 84.0 + 0.6
  assert 0.0 < controls['harm_amp'].min() and controls['harm_amp'].max() <= 2.0
  # Distributions: nothing at or above Nyquist, the rest sums to one.
  harmonic_freqs = controls['f0_hz'] * np.arange(1, N_HARMONICS + 1)
  np.testing.assert_array_equal(controls['harm_dist'][harmonic_freqs >= 8000],
                                0.0)
  np.testing.assert_allclose(controls['harm_dist'].sum(-1), 1.0, rtol=1e-4)
  # Sinusoids are the harmonics.
  np.testing.assert_allclose(controls['sin_freqs'], harmonic_freqs, rtol=1e-5)
  np.testing.assert_allclose(controls['sin_amps'],
                             controls['harm_amp'] * controls['harm_dist'],
                             rtol=1e-4, atol=1e-9)
  noise = controls['noise_magnitudes']
  assert noise.min() > 0.0 and noise.max() < 2 * 0.5**np.log(10) + 1e-6


@pytest.mark.parametrize('generator', GENERATORS)
def test_numpy_seed_makes_batches_reproducible(generator):
  first, again = _generate(generator, seed=7), _generate(generator, seed=7)
  other = _generate(generator, seed=8)
  for key in CONTROL_KEYS:
    np.testing.assert_array_equal(first[key], again[key])
  assert not np.array_equal(first['f0_hz'], other['f0_hz'])


def test_v2_notes_hold_their_pitch_for_their_length_without_vibrato():
  controls = _generate(synthetic_data.generate_notes_v2, seed=3,
                       min_note_length=5, max_note_length=8, p_vibrato=0.0,
                       p_silent=0.0)
  for f0 in controls['f0_hz'][..., 0]:
    changes = np.flatnonzero(np.diff(f0) != 0) + 1
    lengths = np.diff(np.concatenate([[0], changes, [N_TIMESTEPS]]))
    # Every note but the last (cut at the end) lasts 5 to 8 frames.
    assert np.all((lengths[:-1] >= 5) & (lengths[:-1] <= 8))
    assert lengths[-1] <= 8


def test_raw_outputs_without_controls():
  raw = _generate(synthetic_data.generate_notes_v2, get_controls=False)
  assert set(raw) == {'amplitudes', 'harmonic_distribution',
                      'noise_magnitudes', 'f0_hz'}


def test_random_blend_goes_from_start_to_end():
  np.random.seed(0)
  curve = synthetic_data.random_blend(10, [0.0, 1.0], [2.0, -1.0])
  assert curve.shape == (10, 2)
  np.testing.assert_allclose(curve[0], [0.0, 1.0])
  np.testing.assert_allclose(curve[-1], [2.0, -1.0])
  assert np.all(np.diff(curve[:, 0]) >= 0)


def test_command_writes_records_that_synthetic_notes_reads(tmp_path):
  prefix = str(tmp_path / 'notes.tfrecord')
  command = [
      sys.executable, '-m',
      'ddsp.training.data_preparation.ddsp_generate_synthetic_dataset',
      f'--output_tfrecord_path={prefix}', '--num_examples=4',
      '--num_shards=2',
      '--gin_param=generate_examples.generate_fn = '
      '@synthetic_data.generate_notes_v2',
      f'--gin_param=generate_notes_v2.n_timesteps = {N_TIMESTEPS}',
      f'--gin_param=generate_notes_v2.n_harmonics = {N_HARMONICS}',
      f'--gin_param=generate_notes_v2.n_mags = {N_MAGS}']
  result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
  assert result.returncode == 0, result.stderr[-3000:]
  assert len(tf.io.gfile.glob(f'{prefix}-*-of-00002')) == 2
  provider = data.SyntheticNotes(N_TIMESTEPS, N_HARMONICS, N_MAGS,
                                 file_pattern=f'{prefix}*')
  examples = list(provider.get_dataset(shuffle=False))
  assert len(examples) == 4
  for example in examples:
    np.testing.assert_allclose(np.sum(example['harm_dist'], -1), 1.0,
                               rtol=1e-4)
  # Each example has its own seed.
  assert len({float(e['f0_hz'][0, 0]) for e in examples}) == 4


def test_command_without_a_generator_binding_says_what_to_bind(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m',
       'ddsp.training.data_preparation.ddsp_generate_synthetic_dataset',
       f'--output_tfrecord_path={tmp_path / "x.tfrecord"}'],
      capture_output=True, text=True, timeout=300,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
  assert result.returncode == 2
  assert 'generate_examples.generate_fn' in result.stderr


def test_generators_are_gin_configurable_under_their_3_7_0_names():
  registry = gin.config._REGISTRY  # pylint: disable=protected-access
  for name in ('generate_notes', 'generate_notes_v2'):
    configurable = registry.get_match(f'synthetic_data.{name}')
    assert configurable.module == (
        'ddsp.training.data_preparation.synthetic_data')
