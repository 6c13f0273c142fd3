"""Training library for ddsp: networks, models, data and training tools.

ddsp 3.7.0 imports cloud, data, decoders, encoders, eval_util, evaluators,
inference, metrics, models, nn, plotting, postprocessing, preprocessing,
summaries, train_util and trainers here. Modules not listed below are
written on other branches; they are added to this list when merged.
"""

from ddsp.training import data
from ddsp.training import decoders
from ddsp.training import encoders
from ddsp.training import models
from ddsp.training import nn
from ddsp.training import postprocessing
from ddsp.training import preprocessing
