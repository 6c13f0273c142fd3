"""ddsp models and `get_model`, the gin entry point of `ddsp_run`.

The model classes are gin-configurable in place under
`ddsp.training.models` (gin files write `@models.Autoencoder()`); subclasses
of a model class therefore receive its bindings too (e.g. `Autoencoder.*`).
"""

import gin

from ddsp import registration
from ddsp.training.models.autoencoder import Autoencoder
from ddsp.training.models.inverse_synthesis import InverseSynthesis
from ddsp.training.models.midi_autoencoder import MidiAutoencoder
from ddsp.training.models.midi_autoencoder import ZMidiAutoencoder
from ddsp.training.models.model import Model

_MODULE = 'ddsp.training.models'
Autoencoder = registration.configurable(Autoencoder, module=_MODULE)
InverseSynthesis = registration.configurable(InverseSynthesis, module=_MODULE)
MidiAutoencoder = registration.configurable(MidiAutoencoder, module=_MODULE)
ZMidiAutoencoder = registration.configurable(ZMidiAutoencoder, module=_MODULE)


@gin.configurable
def get_model(model=gin.REQUIRED) -> Model:
  """The model bound in gin (`get_model.model = @models.Autoencoder()`)."""
  return model
