"""Differentiable DSP primitives: conversions, resampling, oscillators, filters.

The public face of the DSP core (the ddsp 3.7.0 module `ddsp.core`): every
name is importable from here. The implementation lives in `ddsp.dsp`, one
module per job:

- `ddsp.dsp.utils`: tensor and nested-dict utilities;
- `ddsp.dsp.conversions`: safe math and unit conversions (dB, MIDI, Hz, ...);
- `ddsp.dsp.scaling`: scaling nonlinearities (`exp_sigmoid`, ...);
- `ddsp.dsp.resampling`: frame-to-sample alignment and interpolation;
- `ddsp.dsp.oscillators`: phase accumulation, oscillator banks and the block
  harmonic synthesiser with its custom gradient;
- `ddsp.dsp.wavetables`: wavetable lookup/synthesis and delays;
- `ddsp.dsp.filters`: FIR design and FFT convolution.

Pure TensorFlow math with no Keras layers; `processors`, `synths` and `effects`
wrap these functions as layers. Shapes use B = batch, T = n_frames (control
rate), N = n_samples (audio rate). Every function casts its inputs to float32
tensors first, so numpy arrays, python lists and tensors are all accepted.
Gin names are those of ddsp 3.7.0 (`ddsp.core.oscillator_bank`, ...).
"""
# pylint: disable=unused-import

# Utilities.
from ddsp.dsp.utils import check_rank
from ddsp.dsp.utils import copy_if_tf_function
from ddsp.dsp.utils import diff
from ddsp.dsp.utils import leaf_key
from ddsp.dsp.utils import make_iterable
from ddsp.dsp.utils import map_shape
from ddsp.dsp.utils import nested_keys
from ddsp.dsp.utils import nested_lookup
from ddsp.dsp.utils import pad_axis
from ddsp.dsp.utils import tf_float32
from ddsp.dsp.utils import to_dict
# Math and unit conversions.
from ddsp.dsp.conversions import DB_RANGE
from ddsp.dsp.conversions import amplitude_to_db
from ddsp.dsp.conversions import bark_to_hz
from ddsp.dsp.conversions import db_to_amplitude
from ddsp.dsp.conversions import db_to_power
from ddsp.dsp.conversions import gradient_reversal
from ddsp.dsp.conversions import hz_to_bark
from ddsp.dsp.conversions import hz_to_erb
from ddsp.dsp.conversions import hz_to_mel
from ddsp.dsp.conversions import hz_to_midi
from ddsp.dsp.conversions import hz_to_unit
from ddsp.dsp.conversions import log10
from ddsp.dsp.conversions import log_scale
from ddsp.dsp.conversions import logb
from ddsp.dsp.conversions import mel_to_hz
from ddsp.dsp.conversions import midi_to_hz
from ddsp.dsp.conversions import midi_to_unit
from ddsp.dsp.conversions import nan_to_num
from ddsp.dsp.conversions import power_to_db
from ddsp.dsp.conversions import safe_divide
from ddsp.dsp.conversions import safe_log
from ddsp.dsp.conversions import safe_sqrt
from ddsp.dsp.conversions import soft_limit
from ddsp.dsp.conversions import unit_to_hz
from ddsp.dsp.conversions import unit_to_midi
# Scaling nonlinearities.
from ddsp.dsp.scaling import _add_depth_axis
from ddsp.dsp.scaling import exp_sigmoid
from ddsp.dsp.scaling import exp_sigmoid_inverse
from ddsp.dsp.scaling import frequencies_critical_bands
from ddsp.dsp.scaling import frequencies_sigmoid
from ddsp.dsp.scaling import frequencies_softmax
from ddsp.dsp.scaling import sym_exp_sigmoid
# Resampling (frame -> sample alignment).
from ddsp.dsp.resampling import center_crop
from ddsp.dsp.resampling import resample
from ddsp.dsp.resampling import upsample_with_windows
# Oscillators and harmonic synthesis.
from ddsp.dsp.oscillators import angular_cumsum
from ddsp.dsp.oscillators import get_harmonic_frequencies
from ddsp.dsp.oscillators import harmonic_oscillator_bank
from ddsp.dsp.oscillators import harmonic_synthesis
from ddsp.dsp.oscillators import harmonic_to_sinusoidal
from ddsp.dsp.oscillators import normalize_harmonics
from ddsp.dsp.oscillators import oscillator_bank
from ddsp.dsp.oscillators import remove_above_nyquist
from ddsp.dsp.oscillators import sinusoidal_to_harmonic
from ddsp.dsp.oscillators import streaming_harmonic_synthesis
# Wavetables and delays.
from ddsp.dsp.wavetables import harmonic_distribution_to_wavetable
from ddsp.dsp.wavetables import linear_lookup
from ddsp.dsp.wavetables import variable_length_delay
from ddsp.dsp.wavetables import wavetable_synthesis
# FIR filtering and convolution.
from ddsp.dsp.filters import apply_window_to_impulse_response
from ddsp.dsp.filters import crop_and_compensate_delay
from ddsp.dsp.filters import fft_convolve
from ddsp.dsp.filters import frequency_filter
from ddsp.dsp.filters import frequency_impulse_response
from ddsp.dsp.filters import get_fft_size
from ddsp.dsp.filters import sinc
from ddsp.dsp.filters import sinc_filter
from ddsp.dsp.filters import sinc_impulse_response
