"""Tests of ddsp.dags.DAGLayer."""

import keras
import numpy as np
import pytest

from ddsp import dags
import gin


def make_dense(name, units=3):
  return keras.layers.Dense(units, name=name, kernel_initializer='ones')


@pytest.mark.parametrize('modules_as_kwargs', [True, False])
def test_dag_runs_nodes_in_order_and_stores_outputs_by_name(modules_as_kwargs):
  layers = {'encoder': make_dense('encoder'), 'bottleneck': make_dense(
      'bottleneck', 2), 'decoder': make_dense('decoder', 4)}
  nodes = [('encoder', ['inputs/x']), ('bottleneck', ['encoder/z']),
           ('decoder', ['bottleneck/z'])]
  if modules_as_kwargs:
    dag = [(name, keys, ['z']) for name, keys in nodes]
    layer = dags.DAGLayer(dag, **layers)
  else:
    dag = [(layers[name], keys, ['z']) for name, keys in nodes]
    layer = dags.DAGLayer(dag)
  x = np.ones([2, 5], np.float32)
  outputs = layer({'x': x})
  np.testing.assert_allclose(outputs['encoder']['z'], np.full([2, 3], 5.0))
  np.testing.assert_allclose(outputs['bottleneck']['z'], np.full([2, 2], 15.0))
  np.testing.assert_allclose(outputs['out']['z'], np.full([2, 4], 30.0))
  np.testing.assert_array_equal(outputs['x'], x)  # Inputs copied to top level.
  assert layer.module_names == ['encoder', 'bottleneck', 'decoder']
  assert len(layer.trainable_weights) == 6


def test_dag_builds_from_gin():
  gin.clear_config()
  gin.external_configurable(keras.layers.Dense, 'Dense', module='test')
  gin.parse_config("""
      DAGLayer.dag = [(@test.Dense(), ['inputs/x'], ['y'])]
      test.Dense.units = 2
      test.Dense.name = 'dense'
  """)
  layer = gin.get_configurable('DAGLayer')()
  outputs = layer({'x': np.ones([1, 3], np.float32)})
  assert outputs['dense']['y'].shape == (1, 2)
  gin.clear_config()


def test_dag_errors_name_missing_modules_and_keys():
  with pytest.raises(ValueError, match='missing_module'):
    dags.DAGLayer([('missing_module', ['x'])])
  layer = dags.DAGLayer([(make_dense('d'), ['inputs/nope'], ['y'])])
  with pytest.raises(KeyError, match='inputs/x'):
    layer({'x': np.ones([1, 3], np.float32)})


def test_dag_config_round_trip_rebuilds_modules():
  layer = dags.DAGLayer([(make_dense('enc'), ['x'], ['y'])])
  restored = dags.DAGLayer.from_config(layer.get_config())
  assert restored.module_names == ['enc']
  assert restored.dag == [['enc', ['x'], ['y']]]
  assert restored({'x': np.ones([1, 2], np.float32)})['enc']['y'].shape == (1,
                                                                           3)
