"""ddsp 3.7.0 import path of `ddsp.data_pipeline.synthetic_data`."""
# pylint: disable=wildcard-import,unused-wildcard-import,unused-import
from ddsp.data_pipeline.synthetic_data import *
from ddsp.data_pipeline.synthetic_data import generate_notes
from ddsp.data_pipeline.synthetic_data import generate_notes_v2
