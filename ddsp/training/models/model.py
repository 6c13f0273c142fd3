"""Base class of ddsp models: a Keras model that also returns named losses."""

from typing import Any, Dict, Optional, Sequence, Text

from absl import logging
import keras
import tensorflow as tf

from ddsp import core
from ddsp.training import checkpoints

TensorDict = Dict[Text, tf.Tensor]


class Model(checkpoints.Keras2Checkpoint, keras.Model):
  """A Keras model whose call can also return a dict of named losses.

  `model(features, return_losses=True, training=True)` returns
  `(outputs, losses)` where `losses` holds every loss computed during the
  call plus `total_loss`, their sum (0.0 when none ran). Subclasses compute
  losses with `_update_losses_dict`.

  Feature dicts: in eager mode the model works on the caller's dict itself
  (as in ddsp 3.7.0, the Autoencoder adds preprocessor, encoder and decoder
  outputs to it); inside a `tf.function` it works on a shallow copy.

  Sublayers create their weights on the first call; `restore` needs a model
  that has been called once.
  """

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    # Pass feature dicts through as they are (Keras would copy them and
    # reject non-tensor values such as numpy arrays or a zipped tuple).
    self._convert_input_args = False
    self._allow_non_tensor_positional_args = True
    self._set_losses_dict({})

  def _set_losses_dict(self, losses_dict: TensorDict) -> None:
    # A plain attribute: Keras would track (and re-register) a dict.
    object.__setattr__(self, '_losses_dict', losses_dict)

  def build(self, input_shape=None):
    del input_shape
    self.built = True

  def __call__(self, *args, return_losses: bool = False, **kwargs):
    """Runs the model; with `return_losses`, returns (outputs, losses)."""
    args = [core.copy_if_tf_function(a) if isinstance(a, dict) else a
            for a in args]
    self._set_losses_dict({})
    outputs = super().__call__(*args, **kwargs)
    if not return_losses:
      return outputs
    losses = dict(self._losses_dict)
    losses['total_loss'] = self.sum_losses(losses)
    return outputs, losses

  def call(self, *args, training=False, **kwargs):
    raise NotImplementedError

  @staticmethod
  def sum_losses(losses_dict: TensorDict) -> tf.Tensor:
    """Sum of the losses (0.0 for an empty dict)."""
    return tf.reduce_sum(list(losses_dict.values()))

  def _update_losses_dict(self, loss_objs: Sequence[Any], *args,
                          **kwargs) -> None:
    """Adds the `get_losses_dict(*args, **kwargs)` of each loss object."""
    for loss_obj in core.make_iterable(loss_objs):
      if hasattr(loss_obj, 'get_losses_dict'):
        self._losses_dict.update(loss_obj.get_losses_dict(*args, **kwargs))

  def get_audio_from_outputs(self, outputs: TensorDict) -> tf.Tensor:
    """The model's output audio [batch, n_samples] from its outputs dict."""
    raise NotImplementedError

  def restore(self, checkpoint_path: Text, verbose: bool = True,
              restore_keys: Optional[Sequence[Text]] = None) -> None:
    """Restores weights from a checkpoint written by training.

    Args:
      checkpoint_path: A checkpoint prefix or a directory (its latest
        checkpoint, see `checkpoints.get_latest_checkpoint`).
      verbose: Log the checkpoint loaded and let TensorFlow warn about
        checkpoint values the model does not use (e.g. optimizer slots).
      restore_keys: Restore only these attributes (e.g. ['encoder']).

    Raises:
      FileNotFoundError: If there is no checkpoint.
      ValueError: If the model (or a part in `restore_keys`) has no weights
        yet (call it once first: Keras creates weights on the first call, and
        restoring before that would silently restore nothing).
      AssertionError: If some weight of the model (or of the restored
        attributes) has no value in the checkpoint.
      ValueError: If a value has a different shape than the weight.
      tf.errors.OpError, IndexError: If the checkpoint files are damaged.
    """
    checkpoint_path = checkpoints.get_latest_checkpoint(checkpoint_path)
    parts = {key: getattr(self, key) for key in restore_keys or ()}
    built = (all(part.weights for part in parts.values()) if parts
             else getattr(self, '_called', False))
    if not built:
      raise ValueError(f'{type(self).__name__} has no weights yet: call it on '
                       f'a batch of features before restoring '
                       f'{checkpoint_path}.')
    if restore_keys:
      parts = {key: checkpoints.keras2_trackable(part)
               for key, part in parts.items()}
      checkpoint = tf.train.Checkpoint(model=tf.train.Checkpoint(**parts))
    else:
      checkpoint = tf.train.Checkpoint(model=self)
    status = checkpoint.restore(checkpoint_path)
    if restore_keys or not verbose:
      status.expect_partial()
    try:
      status.assert_existing_objects_matched()
    except AssertionError as e:
      raise AssertionError(f'Checkpoint {checkpoint_path} does not match '
                           f'{type(self).__name__}: {e}') from None
    if verbose:
      logging.info('Restored %s from %s%s', type(self).__name__,
                   checkpoint_path,
                   f' (keys {list(restore_keys)})' if restore_keys else '')
