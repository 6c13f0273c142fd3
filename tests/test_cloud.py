"""Tests for ddsp.training.cloud and the docker task's TF_CONFIG handling."""
import json
import sys

import pytest

from ddsp.training import cloud
from ddsp.training.docker import task


@pytest.fixture
def downloads(monkeypatch):
  calls = []
  monkeypatch.setattr(cloud, 'download_from_gstorage',
                      lambda src, dst: calls.append((src, dst)))
  return calls


def test_gs_path_is_downloaded_and_replaced_by_its_basename(downloads):
  assert cloud.make_file_paths_local('gs://bucket/dir/a.gin', '/tmp/gin') == (
      'a.gin')
  assert downloads == [('gs://bucket/dir/a.gin', '/tmp/gin/a.gin')]


def test_local_paths_are_untouched_and_lists_stay_lists(downloads):
  assert cloud.make_file_paths_local('models/ae.gin', '/tmp') == (
      'models/ae.gin')
  assert cloud.make_file_paths_local(
      ['gs://b/x.gin', 'local.gin'], '/tmp') == ['x.gin', 'local.gin']
  assert downloads == [('gs://b/x.gin', '/tmp/x.gin')]


def test_gs_download_explains_a_missing_package(monkeypatch):
  monkeypatch.setitem(sys.modules, 'google.cloud.storage', None)
  with pytest.raises(ImportError, match='pip install google-cloud-storage'):
    cloud.download_from_gstorage('gs://songs/a.gin', '/tmp/a.gin')


def test_gs_paths_keep_bucket_names_that_3_7_0_mangled():
  assert cloud._split_gs_path('gs://songs/g/a.gin') == ('songs', 'g/a.gin')
  with pytest.raises(ValueError):
    cloud._split_gs_path('/local/a.gin')


def test_hypertune_explains_a_missing_package(monkeypatch):
  monkeypatch.setitem(sys.modules, 'hypertune', None)
  with pytest.raises(ImportError, match='cloudml-hypertune'):
    cloud.report_metric_to_hypertune(1.0, 10)


_CLUSTER = {'chief': ['host0:2222'], 'worker': ['host1:2222']}


@pytest.mark.parametrize('tf_config, expected', [
    (None, ('', 'runs')),
    ('{"cluster": {}', ('', 'runs')),
    (json.dumps({'cluster': {'chief': ['h:1']},
                 'task': {'type': 'chief', 'index': 0}}), ('', 'runs')),
    (json.dumps({'cluster': _CLUSTER, 'task': {'type': 'chief', 'index': 0}}),
     ('TF', 'runs')),
    (json.dumps({'cluster': _CLUSTER, 'task': {'type': 'worker', 'index': 0}}),
     ('TF', '')),
])
def test_docker_task_worker_behavior(monkeypatch, tf_config, expected):
  if tf_config is None:
    monkeypatch.delenv('TF_CONFIG', raising=False)
  else:
    monkeypatch.setenv('TF_CONFIG', tf_config)
  cluster_config, save_dir = task.get_worker_behavior_info('runs')
  assert (cluster_config and 'TF', save_dir) == (
      expected[0] and 'TF', expected[1])
  if expected[0]:
    assert cluster_config == tf_config


def test_docker_task_list_params():
  assert task.parse_list_params(['a=1', 'b=2'], 'gin_param') == [
      '--gin_param=a=1', '--gin_param=b=2']
