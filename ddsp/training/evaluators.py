"""Evaluators: what `ddsp_run --mode=eval|sample` computes for a checkpoint.

Each evaluator is made with `(sample_rate, frame_rate)` of the data and gets,
for every batch, the batch, the model outputs (with `audio_gen`, the
generated audio) and the losses. `evaluate` accumulates, `flush(step)`
writes scalars, `sample` writes audio and plots. Gin files choose them
(`evaluate.evaluator_classes = [@BasicEvaluator, @F0LdEvaluator]`).
"""
from absl import logging
import gin
import keras
import numpy as np
import tensorflow as tf

from ddsp import losses as ddsp_losses
from ddsp.training import heuristics
from ddsp.training import metrics
from ddsp.training import summaries


class BaseEvaluator:
  """Base class of evaluators."""

  def __init__(self, sample_rate: int, frame_rate: int):
    self._sample_rate = sample_rate
    self._frame_rate = frame_rate

  def set_rates(self, sample_rate: int, frame_rate: int) -> None:
    self._sample_rate = sample_rate
    self._frame_rate = frame_rate

  def evaluate(self, batch, outputs, losses) -> None:
    """Accumulates metrics of one batch."""
    raise NotImplementedError

  def sample(self, batch, outputs, step: int) -> None:
    """Writes audio/plot summaries of one batch."""
    raise NotImplementedError

  def flush(self, step: int) -> None:
    """Writes the accumulated metrics at `step` and resets them."""
    raise NotImplementedError


@gin.register
class BasicEvaluator(BaseEvaluator):
  """Mean losses (`losses/<name>`), audio, waveforms and spectrograms."""

  def __init__(self, sample_rate: int, frame_rate: int):
    super().__init__(sample_rate, frame_rate)
    self._avg_losses = {}

  def evaluate(self, batch, outputs, losses) -> None:
    del batch, outputs
    for name, value in losses.items():
      if name not in self._avg_losses:
        self._avg_losses[name] = keras.metrics.Mean(name=name)
      self._avg_losses[name].update_state(value)

  def sample(self, batch, outputs, step: int) -> None:
    audio, audio_gen = batch['audio'], np.asarray(outputs['audio_gen'])
    summaries.audio_summary(audio_gen, step, self._sample_rate,
                            name='audio_generated')
    summaries.audio_summary(audio, step, self._sample_rate,
                            name='audio_original')
    summaries.waveform_summary(audio, audio_gen, step)
    summaries.spectrogram_summary(audio, audio_gen, step)

  def flush(self, step: int) -> None:
    results = {name: float(m.result()) for name, m in self._avg_losses.items()}
    logging.info('eval step: %d\t%s', step,
                 '\t'.join(f'{k}: {v:.2f}' for k, v in results.items()))
    for name, value in results.items():
      tf.summary.scalar(f'losses/{name}', value, step=step)
    for metric in self._avg_losses.values():
      metric.reset_state()


@gin.register
class F0LdEvaluator(BaseEvaluator):
  """Loudness and f0 errors of the generated audio.

  f0 is compared directly when the outputs carry `f0_hz` (the autoencoder's
  input f0), else tracked with CREPE in the generated audio if
  `run_f0_crepe`.
  """

  def __init__(self, sample_rate: int, frame_rate: int,
               run_f0_crepe: bool = True):
    super().__init__(sample_rate, frame_rate)
    self._loudness_metrics = metrics.LoudnessMetrics(sample_rate, frame_rate)
    self._f0_metrics = metrics.F0Metrics(sample_rate, frame_rate)
    self._run_f0_crepe = run_f0_crepe
    if run_f0_crepe:
      self._f0_crepe_metrics = metrics.F0CrepeMetrics(sample_rate, frame_rate)

  def evaluate(self, batch, outputs, losses) -> None:
    del losses
    audio_gen = outputs['audio_gen']
    self._loudness_metrics.update_state(batch, audio_gen)
    if 'f0_hz' in outputs and 'f0_hz' in batch:
      self._f0_metrics.update_state(batch, outputs['f0_hz'])
    elif self._run_f0_crepe:
      self._f0_crepe_metrics.update_state(batch, audio_gen)

  def sample(self, batch, outputs, step: int) -> None:
    if 'f0_hz' in outputs and 'f0_hz' in batch:
      summaries.f0_summary(batch['f0_hz'], outputs['f0_hz'], step,
                           name='f0_harmonic')

  def flush(self, step: int) -> None:
    self._loudness_metrics.flush(step)
    self._f0_metrics.flush(step)
    if self._run_f0_crepe:
      self._f0_crepe_metrics.flush(step)


@gin.register
class TWMEvaluator(BaseEvaluator):
  """f0 of sinusoidal outputs by two-way mismatch against ground truth."""

  def __init__(self, sample_rate: int, frame_rate: int,
               processor_name: str = 'sinusoidal', noisy: bool = False):
    super().__init__(sample_rate, frame_rate)
    self._f0_twm_metrics = metrics.F0Metrics(sample_rate, frame_rate,
                                             name='f0_twm')
    self._processor_name = processor_name
    self._noisy = noisy

  def _compute_twm_f0(self, outputs) -> np.ndarray:
    """TWM f0 [batch, n_frames, 1], every sinusoid a candidate."""
    controls = outputs[self._processor_name]['controls']
    freqs, amps = controls['frequencies'], controls['amplitudes']
    if self._noisy:
      amps = amps * (1.0 - controls['noise_ratios'])
    return ddsp_losses.TWMLoss().predict_f0(freqs, freqs, amps)

  def evaluate(self, batch, outputs, losses) -> None:
    del losses
    self._f0_twm_metrics.update_state(batch, self._compute_twm_f0(outputs))

  def sample(self, batch, outputs, step: int) -> None:
    summaries.f0_summary(batch['f0_hz'], self._compute_twm_f0(outputs), step,
                         name='f0_twm')

  def flush(self, step: int) -> None:
    self._f0_twm_metrics.flush(step)


@gin.register
class MidiAutoencoderEvaluator(BaseEvaluator):
  """Transcription metrics of a MIDI autoencoder's piano roll ('learned')."""

  def __init__(self, sample_rate: int, frame_rate: int,
               db_key: str = 'loudness_db', f0_key: str = 'f0_hz'):
    super().__init__(sample_rate, frame_rate)
    self._midi_metrics = metrics.MidiMetrics(frame_rate, tag='learned')
    self._db_key = db_key
    self._f0_key = f0_key

  def evaluate(self, batch, outputs, losses) -> None:
    del batch, losses
    predicted = [metrics.pianoroll_to_notes(roll, self._frame_rate)
                 for roll in np.asarray(outputs['pianoroll'])]
    self._midi_metrics.update_state(outputs, predicted)

  def sample(self, batch, outputs, step: int) -> None:
    summaries.midiae_f0_summary(batch[self._f0_key], outputs, step)
    summaries.midiae_ld_summary(batch[self._db_key], outputs, step,
                                self._db_key)
    summaries.midiae_sp_summary(outputs, step)
    summaries.pianoroll_summary(outputs, step, 'learned', self._frame_rate,
                                'pianoroll')

  def flush(self, step: int) -> None:
    self._midi_metrics.flush(step)


@gin.register
class MidiHeuristicEvaluator(BaseEvaluator):
  """Transcription metrics of heuristic notes (`midi_heuristic`)."""

  def __init__(self, sample_rate: int, frame_rate: int):
    super().__init__(sample_rate, frame_rate)
    self._midi_metrics = metrics.MidiMetrics(frame_rate, tag='heuristic')

  def _notes(self, outputs):
    return heuristics.segment_notes_batch(
        heuristics.midi_heuristic, heuristics.mean_f0,
        heuristics.median_amps, outputs, frame_rate=self._frame_rate)

  def evaluate(self, batch, outputs, losses) -> None:
    del batch, losses
    self._midi_metrics.update_state(outputs, self._notes(outputs))

  def sample(self, batch, outputs, step: int) -> None:
    del batch
    controls = {'f0_hz': outputs['f0_hz'],
                'heuristic_notes': self._notes(outputs)}
    summaries.midi_summary(controls, step, 'heuristic', self._frame_rate,
                           'heuristic_notes')

  def flush(self, step: int) -> None:
    self._midi_metrics.flush(step)
