"""Tests for the ddsp_prepare_tfrecord Beam pipeline and its CLI."""
import glob
import json
import pathlib
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ddsp import spectral_ops
from ddsp.data_pipeline import prepare_tfrecord_lib
from ddsp.training import data

ODD_DIR = pathlib.Path(__file__).parent / 'data' / 'odd'
AUDIO_KEYS = {'audio', 'audio_16k'}
FEATURE_KEYS = {'f0_hz', 'f0_confidence', 'loudness_db'}


def _write_wav(path, secs, sample_rate, seed=0):
  """A 0.3-amplitude 330 Hz tone plus a little noise, 16-bit."""
  rng = np.random.default_rng(seed)
  t = np.arange(int(secs * sample_rate)) / sample_rate
  audio = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.01 * rng.standard_normal(
      t.shape)
  sf.write(path, audio, sample_rate, subtype='PCM_16')
  return str(path)


def _read_examples(pattern):
  examples = []
  for path in sorted(glob.glob(pattern)):
    for record in tf.data.TFRecordDataset(path):
      example = tf.train.Example.FromString(record.numpy())
      examples.append({k: np.array(v.float_list.value)
                       for k, v in example.features.feature.items()})
  return examples


def _prepare(tmp_path, paths, **kwargs):
  kwargs.setdefault('crepe_model', 'tiny')
  output = str(tmp_path / 'out' / 'train.tfrecord')
  summary = prepare_tfrecord_lib.prepare_tfrecord(paths, output, **kwargs)
  return output, summary


@pytest.fixture
def wav_22k(tmp_path):
  return _write_wav(tmp_path / 'tone_22k.wav', 0.5, 22050)


@pytest.mark.parametrize('chunk_secs, eval_split_fraction, n_train, n_eval', [
    (0.3, 0.5, 2, 2),  # 2 chunks x 2 windows; one chunk to eval.
    (0.3, 0.0, 4, 0),
    (0.0, 0.5, 4, 0),  # One piece: int(1 * 0.5) = 0 pieces to eval.
    (0.0, 0.0, 4, 0),  # floor((0.5 - 0.2) / 0.1) + 1 = 4 windows.
])
def test_example_counts_and_feature_lengths(tmp_path, wav_22k, chunk_secs,
                                            eval_split_fraction, n_train,
                                            n_eval):
  output, summary = _prepare(
      tmp_path, [wav_22k], example_secs=0.2, hop_secs=0.1,
      chunk_secs=chunk_secs, eval_split_fraction=eval_split_fraction)
  if eval_split_fraction:
    train = _read_examples(output + '-train-*')
    evals = _read_examples(output + '-eval-*')
    assert summary.examples == {'train': n_train, 'eval': n_eval}
  else:
    train, evals = _read_examples(output + '-0*'), []
    assert summary.examples == {'all': n_train}
  assert (len(train), len(evals)) == (n_train, n_eval)
  for example in train + evals:
    assert set(example) == AUDIO_KEYS | FEATURE_KEYS
    assert example['audio'].shape == (3200,)
    assert example['audio_16k'].shape == (3200,)
    for key in FEATURE_KEYS:
      assert example[key].shape == (50,)
      assert np.all(np.isfinite(example[key]))
  assert summary.files_ok == 1 and summary.files_failed == 0
  assert summary.audio_secs == pytest.approx(0.5)


@pytest.mark.parametrize('center, n_frames', [(False, 75), (True, 76)])
def test_center_adds_one_frame(tmp_path, wav_22k, center, n_frames):
  output, _ = _prepare(tmp_path, [wav_22k], example_secs=0.3, hop_secs=0.1,
                       chunk_secs=0.0, center=center)
  examples = _read_examples(output + '-0*')
  assert len(examples) == 3
  for example in examples:
    for key in FEATURE_KEYS:
      assert example[key].shape == (n_frames,)


@pytest.mark.parametrize('sample_rate', [16000, 32000, 48000])
def test_audio_at_sample_rate_and_features_at_16k(tmp_path, wav_22k,
                                                  sample_rate):
  output, _ = _prepare(tmp_path, [wav_22k], sample_rate=sample_rate,
                       example_secs=0.2, hop_secs=0.1, chunk_secs=0.3)
  examples = _read_examples(output + '-0*')
  assert len(examples) == 4
  for example in examples:
    assert example['audio'].shape == (int(0.2 * sample_rate),)
    assert example['audio_16k'].shape == (3200,)
    assert example['f0_hz'].shape == (50,)


@pytest.mark.parametrize('sample_rate', [16000, 44100, 48000])
def test_audio_only_mode_writes_one_example_per_file(tmp_path, wav_22k,
                                                     sample_rate):
  output, summary = _prepare(tmp_path, [wav_22k], sample_rate=sample_rate,
                             frame_rate=None, example_secs=None,
                             chunk_secs=None)
  examples = _read_examples(output + '-0*')
  assert len(examples) == 1
  assert set(examples[0]) == AUDIO_KEYS
  assert examples[0]['audio'].shape == (11025 * sample_rate // 22050,)
  assert examples[0]['audio_16k'].shape == (8000,)
  assert summary.statistics_path is None


def test_windows_inside_the_padding_of_the_last_chunk_are_dropped(tmp_path):
  path = _write_wav(tmp_path / 'tone.wav', 2.5, 16000)
  # Chunks [0, 2) and [2, 2.5) + 1.5 s of zeros; windows start every 0.5 s.
  # The first chunk gives 3 windows; the second only the one starting at 0.
  output, summary = _prepare(tmp_path, [path], example_secs=1.0,
                             hop_secs=0.5, chunk_secs=2.0)
  examples = _read_examples(output + '-0*')
  assert len(examples) == summary.examples['all'] == 4
  for example in examples:
    assert np.any(example['audio'][:8000])


def test_bad_files_go_to_the_dead_letter_file_and_the_job_finishes(tmp_path):
  good = _write_wav(tmp_path / 'good.wav', 1.2, 22050)
  odd = {name: str(ODD_DIR / name)
         for name in ('empty_0_bytes.wav', 'not_audio_text.wav',
                      'very_short_0p2s.wav', 'truncated_header_says_5s.wav')}
  missing = str(tmp_path / 'missing.wav')
  output, summary = _prepare(tmp_path, [good, missing] + list(odd.values()),
                             example_secs=0.5, hop_secs=0.25, chunk_secs=0.0)
  with open(summary.failed_path) as f:
    failed = {r['path']: r['reason'] for r in map(json.loads, f)}
  assert summary.failed_path == str(tmp_path / 'out' /
                                    'failed-train.tfrecord.jsonl')
  assert set(failed) == {odd['empty_0_bytes.wav'], odd['not_audio_text.wav'],
                         odd['very_short_0p2s.wav'], missing}
  assert 'empty' in failed[odd['empty_0_bytes.wav']]
  assert 'not a recognised audio file' in failed[odd['not_audio_text.wav']]
  assert failed[odd['very_short_0p2s.wav']] == (
      'too short: 0.20 s < example_secs 0.5 s')
  assert 'not found' in failed[missing]
  # The truncated file keeps its 1 s: 3 windows; the good file 3 windows.
  assert summary.files_ok == 2 and summary.files_failed == 4
  assert len(_read_examples(output + '-0*')) == summary.examples['all'] == 6
  # Side files never match the reading pattern `<output>*`.
  assert sorted(glob.glob(output + '*')) == [output + '-00000-of-00001']


def test_pitch_of_a_real_recording_follows_its_ground_truth(tmp_path):
  output, _ = _prepare(tmp_path, [str(ODD_DIR / 'flute_44k1_mono.mp3')],
                       example_secs=0, chunk_secs=0, center=True)
  (example,) = _read_examples(output + '-0*')
  with open(ODD_DIR / 'flute_44k1_mono.json') as f:
    truth = json.load(f)
  f0_true = np.array(truth['f0_hz'])
  # Centred frames sit on t = k / 250 s like the ground truth. Skip 10
  # frames (40 ms) around note edges: MP3 delay shifts timing by <= 25 ms.
  near_edge = np.zeros(len(f0_true), bool)
  for note in truth['notes']:
    for edge_secs in (note['onset_s'], note['offset_s']):
      k = int(round(edge_secs * 250))
      near_edge[max(k - 10, 0):k + 11] = True
  voiced = (f0_true > 0) & ~near_edge
  assert voiced.sum() > 500
  f0 = example['f0_hz'][:len(f0_true)]
  cents = 1200 * np.abs(np.log2(f0[voiced] / f0_true[voiced]))
  assert np.median(cents) < 50
  assert np.mean(example['f0_confidence'][:len(f0_true)][voiced]) > 0.5


def test_silent_file_is_kept_with_floor_loudness(tmp_path):
  output, summary = _prepare(tmp_path, [str(ODD_DIR / 'silent_3s.wav')],
                             example_secs=1.0, hop_secs=1.0, chunk_secs=0.0)
  examples = _read_examples(output + '-0*')
  assert len(examples) == summary.examples['all'] == 3
  for example in examples:
    assert not np.any(example['audio'])
    np.testing.assert_array_equal(example['loudness_db'], -80.0)
    assert np.all(np.isfinite(example['f0_hz']))
    assert np.all(np.isfinite(example['f0_confidence']))


def test_feature_failure_on_one_chunk_is_dead_lettered(tmp_path,
                                                      monkeypatch):
  compute_f0 = spectral_ops.compute_f0

  def fail_on_loud_audio(audio, *args, **kwargs):
    if np.max(np.abs(audio)) > 0.5:
      raise FloatingPointError('synthetic failure')
    return compute_f0(audio, *args, **kwargs)

  monkeypatch.setattr(spectral_ops, 'compute_f0', fail_on_loud_audio)
  quiet = _write_wav(tmp_path / 'quiet.wav', 1.0, 16000)
  loud = tmp_path / 'loud.wav'
  sf.write(loud, np.full(16000, 0.9), 16000)
  _, summary = _prepare(tmp_path, [quiet, str(loud)], example_secs=1.0,
                        chunk_secs=0.0)
  with open(summary.failed_path) as f:
    (record,) = map(json.loads, f)
  assert record['path'] == str(loud)
  assert 'FloatingPointError: synthetic failure' in record['reason']
  assert summary.files_ok == 2 and summary.chunks_failed == 1
  assert summary.examples == {'all': 1}


def test_broken_feature_extractor_stops_the_job(tmp_path, wav_22k,
                                                monkeypatch):

  def broken(*args, **kwargs):
    raise RuntimeError('CREPE weights not installed')

  monkeypatch.setattr(spectral_ops, 'compute_f0', broken)
  with pytest.raises(Exception, match='CREPE weights not installed'):
    _prepare(tmp_path, [wav_22k], example_secs=0.2, hop_secs=0.1)


@pytest.mark.parametrize('options', ['', [''], ['--runner=DirectRunner', '']])
def test_empty_pipeline_options_work(tmp_path, wav_22k, options):
  _, summary = _prepare(tmp_path, [wav_22k], frame_rate=0, example_secs=0,
                        chunk_secs=0, pipeline_options=options)
  assert summary.examples == {'all': 1}


def test_statistics_are_saved_for_the_train_split(tmp_path):
  paths = [_write_wav(tmp_path / f'{i}.wav', 1.0, 16000, seed=i)
           for i in range(2)]
  _, summary = _prepare(tmp_path, paths, example_secs=0.5, hop_secs=0.25,
                        chunk_secs=0.0, eval_split_fraction=0.5)
  assert summary.statistics_path == str(
      tmp_path / 'out' / 'dataset_statistics-train.tfrecord.pkl')
  with open(summary.statistics_path, 'rb') as f:
    stats = pickle.load(f)
  assert {'mean_loudness', 'std_pitch_note', 'mean_max_power',
          'quantile_transform'} <= set(stats)
  assert summary.examples == {'train': 3, 'eval': 3}


def test_tfrecord_provider_reads_pipeline_output(tmp_path, wav_22k):
  output, _ = _prepare(tmp_path, [wav_22k], sample_rate=32000,
                       example_secs=0.2, hop_secs=0.1, chunk_secs=0.3)
  provider = data.TFRecordProvider(output + '*', example_secs=0.2,
                                   sample_rate=32000)
  batch = next(iter(provider.get_batch(4, shuffle=False, repeats=1)))
  assert batch['audio'].shape == (4, 6400)
  assert batch['audio_16k'].shape == (4, 3200)
  for key in FEATURE_KEYS:
    assert batch[key].shape == (4, 50)


def test_invalid_arguments_fail_before_running(tmp_path, wav_22k):
  with pytest.raises(ValueError, match='crepe_model'):
    _prepare(tmp_path, [wav_22k], crepe_model='huge')
  with pytest.raises(ValueError, match='No input audio files'):
    _prepare(tmp_path, [])


def test_with_default_parallelism_only_fills_in_the_direct_runner():
  n = str(prepare_tfrecord_lib.os.cpu_count())
  assert prepare_tfrecord_lib.with_default_parallelism('') == [
      f'--direct_num_workers={n}', '--direct_running_mode=multi_processing']
  assert prepare_tfrecord_lib.with_default_parallelism(
      ['--direct_num_workers=1']) == ['--direct_num_workers=1']
  assert prepare_tfrecord_lib.with_default_parallelism(
      '--runner=FlinkRunner') == ['--runner=FlinkRunner']


def test_cli_prepares_audio_with_parallel_workers(tmp_path):
  wav_dir = tmp_path / 'wavs'
  wav_dir.mkdir()
  for i in range(2):
    _write_wav(wav_dir / f'{i}.wav', 1.0, 44100, seed=i)
  shutil.copy(ODD_DIR / 'not_audio_text.wav', wav_dir)
  output = tmp_path / 'out' / 'train.tfrecord'
  result = subprocess.run(
      [sys.executable, '-m',
       'ddsp.training.data_preparation.ddsp_prepare_tfrecord',
       f'--input_audio_filepatterns={wav_dir}/*.wav',
       f'--output_tfrecord_path={output}', '--frame_rate=0',
       '--example_secs=0', '--chunk_secs=0', '--num_shards=2'],
      capture_output=True, text=True, timeout=240, check=False,
      cwd=tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  assert ('2 files ok, 1 failed' in result.stdout and
          'examples written: 2 all' in result.stdout), result.stdout
  assert len(glob.glob(f'{output}-0000?-of-00002')) == 2
  with open(tmp_path / 'out' / 'failed-train.tfrecord.jsonl') as f:
    assert json.loads(f.read())['path'].endswith('not_audio_text.wav')


def test_cli_without_matching_files_is_a_usage_error(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m',
       'ddsp.training.data_preparation.ddsp_prepare_tfrecord',
       f'--input_audio_filepatterns={tmp_path}/*.flac',
       f'--output_tfrecord_path={tmp_path}/x.tfrecord'],
      capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
  assert result.returncode != 0
  assert 'No audio files found' in result.stderr + result.stdout


def test_to_tf_example_matches_protobuf_serialization():
  rng = np.random.default_rng(0)
  features = {'audio': rng.standard_normal(6400).astype(np.float32),
              'f0_hz': np.arange(50, dtype=np.float64),
              'empty': np.zeros(0, np.float32)}
  parsed = tf.train.Example.FromString(
      prepare_tfrecord_lib.to_tf_example(features))
  expected = tf.train.Example(features=tf.train.Features(feature={
      key: tf.train.Feature(float_list=tf.train.FloatList(value=value))
      for key, value in features.items()}))
  assert parsed == expected
