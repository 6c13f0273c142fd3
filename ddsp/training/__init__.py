"""Training library for ddsp: data, models, trainers, evaluation."""

from ddsp.training import cloud
from ddsp.training import data
from ddsp.training import eval_util
from ddsp.training import evaluators
from ddsp.training import metrics
from ddsp.training import plotting
from ddsp.training import postprocessing
from ddsp.training import summaries
from ddsp.training import train_util
from ddsp.training import trainers
