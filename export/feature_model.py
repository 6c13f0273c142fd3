"""On-device features of one audio frame: CREPE f0 and confidence, power.

`feature_function` builds the TF function behind the feature TFLite model:
one 1024-sample frame of 16 kHz audio (centred on the frame's time, as
`compute_f0` and `compute_power` with 'center' padding frame it) in, f0 and
frame power (and optionally A-weighted loudness) out, with builtin ops only.

The pitch tracker is CREPE (`ddsp.crepe`): the pretrained network of a given
capacity, optionally with cheaper factorised convolutions (`TrackerConfig`),
and crepe's f0 decoding without Viterbi (activation-weighted mean of the
cents of the bins around the peak), which needs no past or future frames.

Factorisation (low rank, by SVD of the pretrained kernels):
- conv1 (1 -> 128 channels for 'tiny', 512 taps, stride 4) becomes a conv to
  `conv1_rank` channels followed by a 1x1 conv back to 128.
- conv2 (128 -> 16 channels, 64 taps for 'tiny') becomes a 1x1 projection to
  `conv2_rank` channels followed by the 64-tap conv from them.
Each is the best approximation of its rank in the Frobenius norm; its effect
on pitch is measured in `bench/tflite_tracker_bench.py`.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import crepe
from ddsp import spectral_ops
from ddsp.training import preprocessing

FEATURE_OUTPUTS = ('f0_hz', 'f0_confidence', 'f0_scaled', 'pw_db', 'pw_scaled',
                   'loudness_db', 'ld_scaled')
# ddsp 3.7.0's VSTExtractFeatures tuple (DDSP-VST's feature model).
VST_FEATURE_OUTPUTS = ('f0_hz', 'f0_scaled', 'pw_db', 'pw_scaled')
# TFLite ops of the frame standardisation: with int8 activations a silent
# frame's standard deviation rounds to 0 and the division fails, so these
# stay float in an int8 model.
INT8_FLOAT_OPS = ('MEAN', 'SQUARED_DIFFERENCE', 'SQRT', 'MAXIMUM', 'DIV',
                  'SUB')
_LOUDNESS_N_FFT = 512  # `compute_loudness` default window.


@dataclasses.dataclass(frozen=True)
class TrackerConfig:
  """Which CREPE network tracks pitch, and how it is simplified.

  Attributes:
    model_capacity: 'tiny' ... 'full' (`ddsp.crepe.MODEL_CAPACITIES`).
    conv1_rank: Rank of the factorised first convolution, or None (exact).
    conv2_rank: Input channels conv2 reads after a learned-free 1x1
      projection (SVD), or None (exact).
    window_bins: f0 decoding window, 9 (crepe, as `compute_f0`) or 10
      (ddsp 3.7.0's `PretrainedCREPE`, as `VSTExtractFeatures`).
  """
  model_capacity: Text = 'tiny'
  conv1_rank: Optional[int] = None
  conv2_rank: Optional[int] = None
  window_bins: int = 9

  def __post_init__(self):
    if self.model_capacity not in crepe.MODEL_CAPACITIES:
      raise ValueError(f'Received an invalid value for `model_capacity`, '
                       f'expected one of {crepe.MODEL_CAPACITIES}. Received: '
                       f'model_capacity={self.model_capacity!r}')
    for name in ('conv1_rank', 'conv2_rank'):
      rank = getattr(self, name)
      if rank is not None and (int(rank) != rank or rank < 1):
        raise ValueError(f'Received an invalid value for `{name}`, expected '
                         f'None or a positive integer. Received: '
                         f'{name}={rank!r}')
    if self.window_bins not in (9, 10):
      raise ValueError(f'Received an invalid value for `window_bins`, '
                       f'expected 9 or 10. Received: '
                       f'window_bins={self.window_bins!r}')

  @property
  def name(self) -> Text:
    """Short description, e.g. 'tiny', 'tiny-c1r32-c2r48'."""
    parts = [self.model_capacity]
    if self.conv1_rank:
      parts.append(f'c1r{self.conv1_rank}')
    if self.conv2_rank:
      parts.append(f'c2r{self.conv2_rank}')
    return '-'.join(parts)


def _factorize_output(kernel: np.ndarray, rank: int
                      ) -> Tuple[np.ndarray, np.ndarray]:
  """[w, 1, c_in, c_out] -> [w, 1, c_in, r] then [1, 1, r, c_out] (SVD)."""
  width, _, c_in, c_out = kernel.shape
  u, s, vt = np.linalg.svd(kernel.reshape(width * c_in, c_out),
                           full_matrices=False)
  rank = min(rank, len(s))
  first = (u[:, :rank] * s[:rank]).reshape(width, 1, c_in, rank)
  return first.astype(np.float32), vt[:rank][None, None].astype(np.float32)


def _factorize_input(kernel: np.ndarray, rank: int
                     ) -> Tuple[np.ndarray, np.ndarray]:
  """[w, 1, c_in, c_out] -> [1, 1, c_in, r] projection then [w, 1, r, c_out]."""
  width, _, c_in, c_out = kernel.shape
  by_input = np.transpose(kernel[:, 0], (1, 0, 2)).reshape(c_in,
                                                           width * c_out)
  u, s, vt = np.linalg.svd(by_input, full_matrices=False)
  rank = min(rank, len(s))
  projection = u[:, :rank][None, None]
  rest = (s[:rank, None] * vt[:rank]).reshape(rank, width, c_out)
  rest = np.transpose(rest, (1, 0, 2))[:, None]
  return projection.astype(np.float32), rest.astype(np.float32)


class CrepeNetwork:
  """CREPE forward pass for TFLite: [B, 1024] raw frames -> [B, 360].

  The pretrained network (`crepe.keras_model`) as plain TF ops in
  [batch, time, 1, channels] layout: frames standardised
  (`crepe.normalize_frames`), six blocks of conv -> relu -> BatchNorm
  (inference, as scale and shift) -> max-pool of pairs, then the sigmoid
  classifier. Convolutions run as TFLite CONV_2D (XNNPack on CPU).
  """

  def __init__(self, config: TrackerConfig):
    self.config = config
    model = crepe.keras_model(config.model_capacity)
    self._blocks: List[Tuple[List[Tuple[np.ndarray, int, Text]], np.ndarray,
                             np.ndarray, np.ndarray]] = []
    for i in range(1, 7):
      conv = model.get_layer(f'conv{i}')
      kernel, bias = conv.get_weights()
      stride = conv.strides[0]
      convs = [(kernel, stride, 'SAME')]
      if i == 1 and config.conv1_rank:
        first, second = _factorize_output(kernel, config.conv1_rank)
        convs = [(first, stride, 'SAME'), (second, 1, 'VALID')]
      if i == 2 and config.conv2_rank:
        projection, rest = _factorize_input(kernel, config.conv2_rank)
        convs = [(projection, 1, 'VALID'), (rest, stride, 'SAME')]
      bn = model.get_layer(f'conv{i}-BN')
      gamma, beta, mean, variance = bn.get_weights()
      scale = gamma / np.sqrt(variance + bn.epsilon)
      self._blocks.append((convs, bias, scale, beta - mean * scale))
    self._classifier = model.get_layer('classifier').get_weights()

  def __call__(self, frames: tf.Tensor) -> tf.Tensor:
    x = crepe.normalize_frames(frames)[:, :, tf.newaxis, tf.newaxis]
    for convs, bias, scale, shift in self._blocks:
      for kernel, stride, padding in convs:
        x = tf.nn.conv2d(x, kernel, [1, stride, 1, 1], padding)
      x = tf.nn.relu(x + bias) * scale + shift
      x = tf.nn.max_pool2d(x, [2, 1], [2, 1], 'VALID')
    # The Keras model flattens [time, channels] after a (2, 1, 3) permute.
    kernel, bias = self._classifier
    x = tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [-1, kernel.shape[0]])
    return tf.sigmoid(tf.matmul(x, kernel) + bias)


def decode_f0(activations: tf.Tensor, window_bins: int = 9
              ) -> Tuple[tf.Tensor, tf.Tensor]:
  """f0 (Hz) and confidence [B] of activations [B, 360], without Viterbi."""
  cents = crepe.local_average_cents(activations, window_bins=window_bins)
  f0_hz = tf.where(tf.math.is_nan(cents), 0.0, crepe.cents_to_hz(cents))
  return f0_hz, tf.reduce_max(activations, axis=-1)


def frame_loudness(frames: tf.Tensor, sample_rate: int) -> tf.Tensor:
  """`spectral_ops.compute_loudness` of whole frames [B, n_fft] -> [B] dB.

  The same formula (periodic-Hann window, A-weighted power averaged over the
  `n_fft // 2 + 1` bins, `core.power_to_db`) with the power spectrum as
  `|rfft|**2`, which converts to the TFLite builtins RFFT2D and COMPLEX_ABS
  (n_fft must be a power of two).
  """
  n_fft = int(frames.shape[-1])
  frequencies = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
  weighting = 10.0**(spectral_ops.a_weighting(frequencies) / 10.0)
  spectrum = tf.signal.rfft(frames * tf.signal.hann_window(n_fft))
  mean_power = tf.linalg.matvec(
      tf.abs(spectrum)**2, (weighting / len(weighting)).astype(np.float32))
  return core.power_to_db(mean_power)


def frame_features(frame: tf.Tensor, network: CrepeNetwork,
                   sample_rate: int = crepe.SAMPLE_RATE,
                   outputs: Sequence[Text] = FEATURE_OUTPUTS[:5]
                   ) -> Dict[Text, tf.Tensor]:
  """Features [1] each of one centred frame [1024] of 16 kHz audio.

  Args:
    frame: [1024] samples; the frame's time is its centre (sample 512).
    network: The pitch tracker.
    sample_rate: Must be CREPE's 16000 Hz.
    outputs: Which of `FEATURE_OUTPUTS` to return.

  Returns:
    Dict with the requested keys: 'f0_hz' (Hz), 'f0_confidence' (peak
    activation in [0, 1]), 'f0_scaled' (MIDI / 127), 'pw_db' (mean-square
    power of the frame, dB, floored at -80, as `compute_power` with
    frame_size 1024), 'pw_scaled' (pw_db / 80 + 1), 'loudness_db'
    (`compute_loudness` of the centred 512 samples) and 'ld_scaled'.
  """
  unknown = set(outputs) - set(FEATURE_OUTPUTS)
  if unknown:
    raise ValueError(f'Unknown feature outputs {sorted(unknown)}; expected '
                     f'some of {FEATURE_OUTPUTS}.')
  if sample_rate != crepe.SAMPLE_RATE:
    raise ValueError(f'The feature model runs at CREPE\'s '
                     f'{crepe.SAMPLE_RATE} Hz; received '
                     f'sample_rate={sample_rate}.')
  frame_size = int(frame.shape[-1])
  frames = tf.reshape(frame, [1, frame_size])
  features = {}
  f0_hz, confidence = decode_f0(network(frames),
                                network.config.window_bins)
  features['f0_hz'] = f0_hz
  features['f0_confidence'] = confidence
  features['f0_scaled'] = preprocessing.scale_f0_hz(f0_hz)
  features['pw_db'] = spectral_ops.compute_power(
      frames, sample_rate, frame_size=frame_size, padding='valid')[:, 0]
  features['pw_scaled'] = preprocessing.scale_db(features['pw_db'])
  if {'loudness_db', 'ld_scaled'} & set(outputs):
    start = (frame_size - _LOUDNESS_N_FFT) // 2
    features['loudness_db'] = frame_loudness(
        frames[:, start:start + _LOUDNESS_N_FFT], sample_rate)
    features['ld_scaled'] = preprocessing.scale_db(features['loudness_db'])
  return {key: features[key] for key in outputs}


def feature_function(config: TrackerConfig = TrackerConfig(),
                     outputs: Sequence[Text] = FEATURE_OUTPUTS[:5],
                     as_tuple: bool = False):
  """`tf.function` of one frame `audio` [1024] -> features (see
  `frame_features`), as a dict, or a tuple in `outputs` order (`as_tuple`,
  for the DDSP-VST feature interface `VST_FEATURE_OUTPUTS`)."""
  network = CrepeNetwork(config)

  @tf.function(input_signature=[tf.TensorSpec([crepe.FRAME_SIZE], tf.float32,
                                              name='audio')])
  def call(audio):
    features = frame_features(audio, network, outputs=outputs)
    return tuple(features[key] for key in outputs) if as_tuple else features

  return call
