"""The shipped gin configs (`ddsp.training.gin`): parse, build, run a batch.

Models run on 1 s of audio with small networks (gin params), plus once at
the real sizes of models/ae.gin, models/solo_instrument.gin and
models/vst/vst.gin (4 s of audio).
"""

import importlib
import importlib.resources
import pathlib

import numpy as np
import pytest

from ddsp.training import models
import gin

REPO_GIN_DIR = pathlib.Path(__file__).parent.parent / 'gin'
GIN_FILES = [
    'optimization/base.gin', 'optimization/base_tpu.gin', 'eval/basic.gin',
    'eval/basic_f0_ld.gin', 'eval/basic_f0_ld_twm.gin', 'eval/midi_ae.gin',
    'eval/heuristic.gin', 'eval/heuristic_power.gin', 'datasets/base.gin',
    'datasets/nsynth.gin', 'datasets/tfrecord.gin', 'models/ae.gin',
    'models/solo_instrument.gin', 'models/vst/vst.gin',
    'models/vst/vst_32k.gin', 'models/vst/vst_48k.gin',
    'papers/iclr2020/nsynth_ae.gin', 'papers/iclr2020/solo_instrument.gin',
    'papers/iclr2020/tiny_instrument.gin',
    'papers/icml2020/pretrain_dataset.gin',
    'papers/icml2020/pretrain_model.gin',
    'papers/icml2020/finetune_dataset.gin',
    'papers/icml2020/finetune_model.gin',
]
# Configurables of modules written elsewhere (trainers, train_util,
# eval_util, evaluators, heuristics); skipped only while not registered.
OTHER_MODULE_NAMES = [
    'train', 'Trainer', 'evaluate', 'sample', 'segment_notes_batch',
    'BasicEvaluator', 'F0LdEvaluator', 'TWMEvaluator',
    'MidiAutoencoderEvaluator', 'heuristics.midi_heuristic',
    'heuristics.midi_heuristic_power', 'heuristics.mean_f0',
    'heuristics.median_amps'
]
RNG = np.random.default_rng(6)


def _registered(name):
  return gin.config._REGISTRY.get_match(name) is not None  # pylint: disable=protected-access


def _gin_dir() -> pathlib.Path:
  """The `ddsp.training.gin` folder of the installed (or editable) package."""
  return pathlib.Path(str(importlib.resources.files('ddsp.training') / 'gin'))


@pytest.fixture(autouse=True)
def gin_search_path():
  gin.clear_config()
  gin.add_config_file_search_path(str(_gin_dir()))
  yield
  gin.clear_config()


def _parse(gin_file, params=()):
  unavailable = [n for n in OTHER_MODULE_NAMES if not _registered(n)]
  with gin.unlock_config():
    gin.parse_config_file(gin_file, skip_unknown=unavailable or False)
    gin.parse_config(list(params))


def test_installed_package_ships_every_config():
  gin_package = importlib.import_module('ddsp.training.gin')
  gin_dir = _gin_dir()
  assert pathlib.Path(list(gin_package.__path__)[0]) == gin_dir
  found = sorted(str(p.relative_to(gin_dir)) for p in gin_dir.rglob('*.gin'))
  assert found == sorted(GIN_FILES)
  assert not (gin_dir / '__init__.py').exists()  # Would shadow gin-config.


def test_repository_and_installed_configs_are_the_same():
  for name in GIN_FILES:
    assert (_gin_dir() / name).read_text() == (REPO_GIN_DIR / name).read_text()


@pytest.mark.parametrize('gin_file', GIN_FILES)
def test_config_parses(gin_file):
  if 'heuristic' in gin_file and not _registered('heuristics.mean_f0'):
    pytest.skip('ddsp.training.heuristics is not on this branch')
  _parse(gin_file)


def test_optimization_macros_and_values():
  if not _registered('Trainer'):
    pytest.skip('ddsp.training.trainers is not on this branch')
  _parse('optimization/base_tpu.gin')
  # Bound through macros, so `--gin_param=learning_rate=...` works.
  assert str(gin.query_parameter('Trainer.learning_rate')) == '%learning_rate'
  assert str(gin.query_parameter('train.batch_size')) == '%batch_size'
  assert gin.query_parameter('%learning_rate') == 3e-4
  assert gin.query_parameter('%batch_size') == 64


def _ae_batch(seconds, frame_rate=250):
  n_frames = int(seconds * frame_rate)
  return {
      'audio': (0.1 * RNG.standard_normal([1, int(16000 * seconds)])).astype(
          np.float32),
      'f0_hz': np.full([1, n_frames], 220.0, np.float32),
      'loudness_db': np.full([1, n_frames], -30.0, np.float32),
      'f0_confidence': np.ones([1, n_frames], np.float32),
  }


def _vst_batch(seconds, sample_rate):
  n_frames = int(seconds * 50) + 1  # Centred frames.
  batch = _ae_batch(seconds, 50)
  batch.update(
      audio=(0.1 * RNG.standard_normal([1, int(sample_rate * seconds)])
            ).astype(np.float32),
      audio_16k=batch['audio'],
      f0_hz=np.full([1, n_frames], 220.0, np.float32),
      loudness_db=np.full([1, n_frames], -30.0, np.float32),
      f0_confidence=np.ones([1, n_frames], np.float32))
  return batch


def _synthetic_notes(frames=32):
  return {
      'sin_amps': RNG.uniform(0, 0.01, [1, frames, 100]),
      'sin_freqs': RNG.uniform(100, 4000, [1, frames, 100]),
      'noise_magnitudes': RNG.uniform(0, 0.01, [1, frames, 65]),
      'harm_amp': RNG.uniform(0, 1, [1, frames, 1]),
      'harm_dist': RNG.dirichlet(np.ones(100), [1, frames]),
      'f0_hz': np.full([1, frames, 1], 220.0),
  }


SMALL_AE = ['Harmonic.n_samples = 16000', 'FilteredNoise.n_samples = 16000',
            'F0LoudnessPreprocessor.time_steps = 250',
            'RnnFcDecoder.rnn_channels = 16', 'RnnFcDecoder.ch = 8',
            'MfccTimeDistributedRnnEncoder.rnn_channels = 8',
            'Reverb.reverb_length = 4000']
SMALL_VST = ['RnnFcDecoder.rnn_channels = 16', 'RnnFcDecoder.ch = 8',
             'FilteredNoiseReverb.reverb_length = 4000']
SMALL_ICML = ['InverseSynthesis.n_samples = 16000',
              'f0_spectral/compute_logmel.bins = 32',
              'RnnSandwich.fc_stack_ch = 8', 'RnnSandwich.rnn_ch = 8']
SYNTH_LOSS_NAMES = {'sin_spectral_loss', 'harm_spectral_loss',
                    'kde_consistency_loss', 'ss_kde_consistency_loss',
                    'ss_filtered_noise_consistency_loss', 'ss_harm_amp_loss',
                    'ss_harm_dist_loss', 'ss_f0_hz_loss', 'total_loss'}

MODEL_CASES = [
    # (gin file, gin params, batch, expected audio shape, expected losses)
    ('models/ae.gin', SMALL_AE, lambda: _ae_batch(1.0), (1, 16000),
     {'spectral_loss', 'total_loss'}),
    ('models/solo_instrument.gin', SMALL_AE, lambda: _ae_batch(1.0),
     (1, 16000), {'spectral_loss', 'total_loss'}),
    ('papers/iclr2020/nsynth_ae.gin', SMALL_AE, lambda: _ae_batch(1.0),
     (1, 16000), {'spectral_loss', 'total_loss'}),
    ('papers/iclr2020/solo_instrument.gin', SMALL_AE,
     lambda: _ae_batch(1.0), (1, 16000), {'spectral_loss', 'total_loss'}),
    ('papers/iclr2020/tiny_instrument.gin', SMALL_AE,
     lambda: _ae_batch(1.0), (1, 16000), {'spectral_loss', 'total_loss'}),
    ('models/vst/vst.gin', SMALL_VST + ['n_samples = 16320'],
     lambda: _vst_batch(1.0, 16000), (1, 16000),
     {'spectral_loss', 'total_loss'}),
    ('models/vst/vst_32k.gin', SMALL_VST + ['n_samples = 32640'],
     lambda: _vst_batch(1.0, 32000), (1, 32000),
     {'spectral_loss', 'total_loss'}),
    ('models/vst/vst_48k.gin', SMALL_VST + ['n_samples = 48960'],
     lambda: _vst_batch(1.0, 48000), (1, 48000),
     {'spectral_loss', 'total_loss'}),
    ('papers/icml2020/pretrain_model.gin', SMALL_ICML, _synthetic_notes,
     (1, 16000), SYNTH_LOSS_NAMES),
    ('papers/icml2020/finetune_model.gin', SMALL_ICML,
     lambda: (_synthetic_notes(), {'audio': _ae_batch(1.0)['audio']}),
     (2, 16000), SYNTH_LOSS_NAMES),
]


def _build_and_run(gin_file, params, batch):
  _parse(gin_file, params)
  model = models.get_model()
  outputs, losses = model(batch, return_losses=True, training=True)
  return model, outputs, losses


@pytest.mark.parametrize('gin_file,params,make_batch,audio_shape,loss_names',
                         MODEL_CASES, ids=[case[0] for case in MODEL_CASES])
def test_model_config_builds_and_runs_with_losses(gin_file, params,
                                                  make_batch, audio_shape,
                                                  loss_names):
  model, outputs, losses = _build_and_run(gin_file, params, make_batch())
  assert model.get_audio_from_outputs(outputs).shape == audio_shape
  assert set(losses) == loss_names
  for name, value in losses.items():
    assert np.isfinite(value), name
  np.testing.assert_allclose(
      losses['total_loss'],
      sum(float(v) for k, v in losses.items() if k != 'total_loss'),
      rtol=1e-5)


def test_solo_instrument_at_real_size():
  model, outputs, _ = _build_and_run('models/solo_instrument.gin', [],
                                     _ae_batch(4.0))
  assert model.encoder is None
  assert model.processor_group.module_names == [
      'harmonic', 'filtered_noise', 'add', 'reverb']
  reverb = model.processor_group.reverb
  assert reverb.trainable and reverb.reverb_length == 48000
  decoder = model.decoder
  assert decoder.input_keys == ['ld_scaled', 'f0_scaled']
  assert (decoder.rnn_channels, decoder.ch, decoder.layers_per_stack) == (
      512, 512, 3)
  assert outputs['harmonic_distribution'].shape == (1, 1000, 60)
  assert outputs['noise_magnitudes'].shape == (1, 1000, 65)
  assert outputs['audio_synth'].shape == (1, 64000)


def test_ae_at_real_size():
  model, outputs, _ = _build_and_run('models/ae.gin', [], _ae_batch(4.0))
  assert model.encoder.z_time_steps == 125
  assert outputs['z'].shape == (1, 1000, 16)
  assert outputs['harmonic_distribution'].shape == (1, 1000, 100)
  assert outputs['f0_scaled'].shape == (1, 1000, 1)
  assert outputs['audio_synth'].shape == (1, 64000)
  assert model.processor_group.harmonic.n_samples == 64000
  assert model.processor_group.filtered_noise.window_size == 0
  spectral_loss = model.loss_objs[0]
  assert (spectral_loss.mag_weight, spectral_loss.logmag_weight) == (1.0, 1.0)


def test_vst_at_real_size_crops_the_extra_frame():
  model, outputs, _ = _build_and_run('models/vst/vst.gin', [],
                                     _vst_batch(4.0, 16000))
  assert outputs['pw_scaled'].shape == (1, 201, 1)
  assert outputs['loudness_db'].shape == (1, 201)  # Passed through.
  assert outputs['reverb']['signal'].shape == (1, 64320)
  assert outputs['crop']['signal'].shape == (1, 64000)
  assert outputs['audio_synth'].shape == (1, 64000)
  assert model.processor_group.harmonic.amp_resample_method == 'linear'
  assert model.decoder.ch == 256 and model.decoder.layers_per_stack == 1


def test_vst_high_sample_rate_settings():
  _parse('models/vst/vst_48k.gin')
  assert gin.query_parameter('%sample_rate') == 48000
  assert gin.query_parameter('Crop.frame_size') == 960
  assert gin.query_parameter('FilteredNoiseReverb.initial_bias') == -4.0
  assert gin.query_parameter('SpectralLoss.fft_sizes') == [
      6144, 3072, 1536, 768, 384, 192]


def test_dataset_configs_construct_providers_with_local_files(tmp_path):
  local = str(tmp_path / 'local.tfrecord*')
  _parse('datasets/tfrecord.gin',
         [f"TFRecordProvider.file_pattern = '{local}'"])
  provider = gin.get_configurable('data.TFRecordProvider')()
  assert provider.sample_rate == 16000 and provider.frame_rate == 250
  _parse('papers/icml2020/finetune_dataset.gin',
         [f"SyntheticNotes.file_pattern = '{local}'",
          f"train_data/TFRecordProvider.file_pattern = '{local}'"])
  with gin.config_scope('train_data'):
    zipped = gin.get_configurable('data.ZippedProvider')()
  assert type(zipped).__name__ == 'ZippedProvider'
  assert zipped.sample_rate == 16000
  assert gin.query_parameter('SyntheticNotes.n_timesteps') == 125
  assert gin.query_parameter('test_data/TFRecordProvider.file_pattern') == (
      'gs://ddsp-inv/datasets/all_instruments_test.tfrecord*')
