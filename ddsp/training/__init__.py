"""Training library for ddsp: networks, models, data and training tools.

ddsp 3.7.0 imports cloud, data, decoders, encoders, eval_util, evaluators,
inference, metrics, models, nn, plotting, postprocessing, preprocessing,
summaries, train_util and trainers here. Modules not listed below are
written on other branches; they are added to this list when merged.
"""

# Gin files start with `import ddsp.training`; since `import ddsp` is lazy,
# importing the ddsp 3.7.0 top-level modules here registers their gin
# configurables (synths.Harmonic, core.exp_sigmoid, ...) as 3.7.0 did.
from ddsp import core
from ddsp import dags
from ddsp import effects
from ddsp import losses
from ddsp import processors
from ddsp import spectral_ops
from ddsp import synths
from ddsp.training import cloud
from ddsp.training import data
from ddsp.training import decoders
from ddsp.training import encoders
from ddsp.training import eval_util
from ddsp.training import evaluators
from ddsp.training import inference
from ddsp.training import metrics
from ddsp.training import models
from ddsp.training import nn
from ddsp.training import plotting
from ddsp.training import postprocessing
from ddsp.training import preprocessing
from ddsp.training import summaries
from ddsp.training import train_util
from ddsp.training import trainers
