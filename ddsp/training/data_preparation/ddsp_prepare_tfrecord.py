"""ddsp 3.7.0 entry point of `ddsp.data_pipeline.ddsp_prepare_tfrecord`."""
# pylint: disable=unused-import
from ddsp.data_pipeline.ddsp_prepare_tfrecord import console_entry_point
from ddsp.data_pipeline.ddsp_prepare_tfrecord import FLAGS
from ddsp.data_pipeline.ddsp_prepare_tfrecord import main
from ddsp.data_pipeline.ddsp_prepare_tfrecord import run

if __name__ == '__main__':
  console_entry_point()
