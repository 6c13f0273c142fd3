"""Registration of ddsp layers and functions with gin and Keras serialization.

`gin.register` leaves the object untouched, so gin bindings apply only when a
gin config constructs it (`@synths.Harmonic()`); `gin.configurable`
additionally applies bindings to direct Python calls. Both register under the
defining module (`ddsp.synths.Harmonic`), which gin files may abbreviate
(`synths.Harmonic`, `Harmonic`). Everything is also registered with Keras
(package 'ddsp') so saved models and `get_config` round trips find it.
"""

import functools
import inspect
from typing import Any, Optional

import gin
import keras

_KERAS_PACKAGE = 'ddsp'


def register(fn_or_cls: Any = None, *, module: Optional[str] = None) -> Any:
  """Registers with gin (no mutation) and Keras serialization.

  Args:
    fn_or_cls: The function or class; omit it to get a decorator that uses
      `module` (`@register(module='ddsp.core')`).
    module: Gin module name; defaults to the defining module. The modules
      that implement `ddsp.core` register under 'ddsp.core', so gin names
      stay those of ddsp 3.7.0.

  Returns:
    `fn_or_cls`, unchanged (or the decorator).
  """
  if fn_or_cls is None:
    return functools.partial(register, module=module)
  gin.register(fn_or_cls, module=module)
  return keras.saving.register_keras_serializable(_KERAS_PACKAGE)(fn_or_cls)


def configurable(cls: type, module: Optional[str] = None) -> type:
  """Makes a Keras layer class gin-configurable in place.

  Keras 3 reads the constructor's argument spec when a layer is created;
  gin's wrapper hides it (`IndexError` at construction), so the original
  signature is put back on the wrapper.

  Args:
    cls: The class.
    module: Gin module name; defaults to the defining module.
  """
  init_signature = inspect.signature(cls.__init__)
  gin.configurable(cls, module=module)
  cls.__init__.__signature__ = init_signature
  return keras.saving.register_keras_serializable(_KERAS_PACKAGE)(cls)
