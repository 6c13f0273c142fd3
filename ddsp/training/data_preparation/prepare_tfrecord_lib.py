"""ddsp 3.7.0 import path of `ddsp.data_pipeline.prepare_tfrecord_lib`."""
# pylint: disable=wildcard-import,unused-wildcard-import,unused-import
from ddsp.data_pipeline.prepare_tfrecord_lib import *
from ddsp.data_pipeline.prepare_tfrecord_lib import prepare_tfrecord
