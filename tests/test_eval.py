"""Tests for ddsp.training.eval_util and evaluators (BasicEvaluator)."""

import numpy as np
import pytest
import tensorflow as tf

from ddsp.training import eval_util
from ddsp.training import evaluators
from ddsp.training import train_util
import training_fixtures as fx


def _checkpoint(save_dir, steps=3):
  trainer = fx.make_trainer()
  provider = fx.TinyProvider()
  iterator = iter(provider.get_batch(2))
  trainer.build(next(iterator))
  for _ in range(steps):
    trainer.train_step(iterator)
  trainer.save(str(save_dir))
  return trainer


def _numpy_l1(model, audio):
  """Mean |0.5 a - (w2 . tanh(w1 a + b1) + b2)| from the layer weights."""
  w1, b1 = model.hidden.kernel.numpy(), model.hidden.bias.numpy()
  w2, b2 = model.out.kernel.numpy(), model.out.bias.numpy()
  synth = (np.tanh(audio[..., None] * w1[0] + b1) @ w2)[..., 0] + b2[0]
  return np.mean(np.abs(0.5 * audio - synth))




def test_evaluate_logs_the_losses_of_the_restored_checkpoint(tmp_path):
  trained = _checkpoint(tmp_path, steps=3)
  eval_util.evaluate(fx.TinyProvider(), fx.TinyModel(),
                     [evaluators.BasicEvaluator], save_dir=str(tmp_path),
                     batch_size=2, num_batches=2, run_once=True)
  events = fx.read_events(tmp_path / 'summaries' / 'eval')
  values = {tag: [(e.step, float(tf.make_ndarray(e.tensor_proto)))
                  for e in events.Tensors(tag)]
            for tag in ('losses/l1', 'losses/total_loss')}
  audio = np.stack([fx.example_audio(i) for i in range(4)])
  expected = np.mean([_numpy_l1(trained.model, audio[:2]),
                      _numpy_l1(trained.model, audio[2:])])
  assert values['losses/l1'][0][0] == 3
  assert values['losses/l1'][0][1] == pytest.approx(expected, rel=1e-5)
  assert values['losses/total_loss'][0][1] == pytest.approx(expected,
                                                            rel=1e-5)


def test_compute_losses_uses_loss_objs_when_the_model_skipped_them():
  model = fx.TinyModel()
  batch = {'audio': tf.constant(np.stack([fx.example_audio(0)]))}
  outputs, losses = model(batch, return_losses=True, training=False)
  assert set(losses) == {'total_loss'}  # As in 3.7.0: nothing computed.
  losses = eval_util.compute_losses(model, batch, outputs, losses)
  assert float(losses['l1']) == pytest.approx(
      _numpy_l1(model, batch['audio'].numpy()), rel=1e-5)
  assert float(losses['total_loss']) == float(losses['l1'])


def test_sample_writes_audio_waveforms_and_spectrograms(tmp_path):
  _checkpoint(tmp_path, steps=2)
  eval_util.sample(fx.TinyProvider(), fx.TinyModel(),
                   [evaluators.BasicEvaluator], save_dir=str(tmp_path),
                   batch_size=2, num_batches=1, run_once=True)
  events = fx.read_events(tmp_path / 'summaries' / 'eval')
  assert {'audio_generated', 'audio_original'} <= set(
      events.Tags()['tensors'])
  assert {'waveform/full_1', 'waveform/125ms_1', 'waveform/full_2',
          'spectrogram/1', 'spectrogram/2'} <= set(events.Tags()['images'])
  generated = tf.make_ndarray(
      events.Tensors('audio_generated')[0].tensor_proto)
  assert generated.shape[0] == 2


def test_run_once_without_checkpoint_fails_at_once(tmp_path):
  with pytest.raises(FileNotFoundError, match='No checkpoint'):
    eval_util.evaluate(fx.TinyProvider(), fx.TinyModel(),
                       [evaluators.BasicEvaluator], save_dir=str(tmp_path),
                       run_once=True)


def test_unreadable_state_file_is_reported(tmp_path):
  _checkpoint(tmp_path, steps=1)
  (tmp_path / 'checkpoint').write_text('garbage {{{')
  with pytest.raises(train_util.CheckpointError):
    eval_util.evaluate(fx.TinyProvider(), fx.TinyModel(),
                       [evaluators.BasicEvaluator], save_dir=str(tmp_path),
                       run_once=True)


def test_evaluation_stops_at_run_until_step(tmp_path):
  _checkpoint(tmp_path, steps=4)
  eval_util.evaluate(fx.TinyProvider(), fx.TinyModel(),
                     [evaluators.BasicEvaluator], save_dir=str(tmp_path),
                     batch_size=2, num_batches=1, run_until_step=4)
  assert [e.step for e in fx.read_events(tmp_path / 'summaries' / 'eval').Tensors(
      'losses/total_loss')] == [4]


def test_truncated_checkpoint_is_reported_by_path(tmp_path):
  _checkpoint(tmp_path, steps=2)
  data_path = tmp_path / 'ckpt-2.data-00000-of-00001'
  data_path.write_bytes(data_path.read_bytes()[:20])
  with pytest.raises(train_util.CheckpointError, match='ckpt-2'):
    eval_util.evaluate(fx.TinyProvider(), fx.TinyModel(),
                       [evaluators.BasicEvaluator], save_dir=str(tmp_path),
                       batch_size=2, num_batches=1, run_once=True)
