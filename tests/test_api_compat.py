"""Drop-in compatibility of the public API with ddsp 3.7.0.

Table-driven: every expectation below is typed in from the reference
description in `/work/shared/spec/` (module paths, argument names, order and
defaults, gin registration, CLI flags, constants, shipped gin files), not
read back from our code. A 3.7.0 call must keep working: the expected
arguments come first, in order, with equal defaults; arguments we add must
come after them and have defaults.

Spec notation: `_` stands for an argument whose name the spec abbreviates
(`amplitude_to_db(a, ...)`), so only its position is checked; `=...` means
"has a default" where the spec gives none or a non-literal one.
"""
import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import os
import pathlib
import subprocess
import sys

import pytest

import ddsp
from ddsp.colab import colab_utils  # noqa: F401
import ddsp.training
from ddsp.training import data
from ddsp.training.data_preparation import prepare_tfrecord_lib  # noqa: F401
from ddsp.training.data_preparation import synthetic_data  # noqa: F401
from ddsp.training.docker import task  # noqa: F401
import gin

ANY = object()  # Expected default `...`: any default value.
NO_DEFAULT = inspect.Parameter.empty
# Defaults written by name that are compared by identity (others: __name__).
NAMED_DEFAULTS = {'REQUIRED': gin.REQUIRED}

# ------------------------------------------------------------------------------
# Signatures: 'module:qualname' -> the 3.7.0 argument list (self omitted).
# ------------------------------------------------------------------------------
CORE = {
    'tf_float32': '_',
    'make_iterable': '_',
    'to_dict': '_, keys',
    'copy_if_tf_function': '_',
    'nested_keys': "_, delimiter='/', prefix=''",
    'nested_lookup': "_, _, delimiter='/'",
    'leaf_key': "_, delimiter='/'",
    'map_shape': '_',
    'pad_axis': 'x, padding=(0, 0), axis=0, **pad_kwargs',
    'diff': 'x, axis=-1',
    'nan_to_num': 'x, value=0.0',
    'safe_divide': '_, _, eps=1e-7',
    'safe_log': 'x, eps=1e-5',
    'logb': 'x, base=2.0, eps=1e-5',
    'log10': 'x, eps=1e-5',
    'log_scale': 'x, min_x, max_x',
    'soft_limit': 'x, x_min=0.0, x_max=1.0',
    'gradient_reversal': 'x',
    'amplitude_to_db': '_, ref_db=0.0, range_db=80.0, use_tf=True',
    'power_to_db': '_, ref_db=0.0, range_db=80.0, use_tf=True',
    'db_to_amplitude': 'db',
    'db_to_power': 'db',
    'midi_to_hz': 'notes, midi_zero_silence=False',
    'hz_to_midi': '_',
    'unit_to_midi': '_, midi_min=20, midi_max=90, clip=False',
    'midi_to_unit': '_, midi_min=20, midi_max=90, clip=False',
    'unit_to_hz': '_, hz_min, hz_max, clip=False',
    'hz_to_unit': 'hz, hz_min, hz_max, clip=False',
    'hz_to_bark': 'hz',
    'bark_to_hz': '_',
    'hz_to_mel': 'hz',
    'mel_to_hz': '_',
    'hz_to_erb': 'hz',
    'exp_sigmoid': 'x, exponent=10.0, max_value=2.0, threshold=1e-7',
    'sym_exp_sigmoid': 'x, width=8.0',
    '_add_depth_axis': 'freqs, depth=1',
    'frequencies_softmax': 'freqs, depth=1, hz_min=20.0, hz_max=8000.0',
    'frequencies_sigmoid': 'freqs, depth=1, hz_min=0.0, hz_max=8000.0',
    'frequencies_critical_bands': (
        "freqs, depth=1, depth_scale=10.0, bandwidth_scale=1.0, hz_min=20.0, "
        "hz_max=8000.0, scale='bark'"),
    'resample': "inputs, n_timesteps, method='linear', add_endpoint=True",
    'upsample_with_windows': 'inputs, n_timesteps, add_endpoint=True',
    'center_crop': 'audio, frame_size',
    'remove_above_nyquist': (
        'frequency_envelopes, amplitude_envelopes, sample_rate=16000'),
    'get_harmonic_frequencies': 'frequencies, n_harmonics',
    'normalize_harmonics': (
        'harmonic_distribution, f0_hz=None, sample_rate=None'),
    'oscillator_bank': (
        'frequency_envelopes, amplitude_envelopes, sample_rate=16000, '
        'sum_sinusoids=True, use_angular_cumsum=False'),
    'angular_cumsum': 'angular_frequency, chunk_size=1000',
    'harmonic_oscillator_bank': (
        'frequency, amplitude_envelopes, initial_phase=None, '
        'sample_rate=16000, use_angular_cumsum=True'),
    'harmonic_synthesis': (
        'frequencies, amplitudes, harmonic_shifts=None, '
        'harmonic_distribution=None, n_samples=64000, sample_rate=16000, '
        "amp_resample_method='window', use_angular_cumsum=False"),
    'streaming_harmonic_synthesis': (
        'frequencies, amplitudes, harmonic_distribution=None, '
        'initial_phase=None, n_samples=64000, sample_rate=16000, '
        "amp_resample_method='linear'"),
    'sinusoidal_to_harmonic': (
        'sin_amps, sin_freqs, f0_hz, harmonic_width=0.1, n_harmonics=100, '
        'sample_rate=16000, normalize=False'),
    'harmonic_to_sinusoidal': 'harm_amp, harm_dist, f0_hz, sample_rate=16000',
    'linear_lookup': 'phase, wavetables',
    'harmonic_distribution_to_wavetable': (
        'harmonic_distribution, n_wavetable=2048'),
    'wavetable_synthesis': (
        'frequencies, amplitudes, wavetables, n_samples=64000, '
        'sample_rate=16000'),
    'variable_length_delay': 'phase, audio, max_length=512',
    'get_fft_size': 'frame_size, ir_size, power_of_2=True',
    'fft_convolve': (
        "audio, impulse_response, padding='same', delay_compensation=-1"),
    'crop_and_compensate_delay': (
        'audio, audio_size, ir_size, padding, delay_compensation'),
    'apply_window_to_impulse_response': (
        'impulse_response, window_size=0, causal=False'),
    'frequency_impulse_response': 'magnitudes, window_size=0',
    'frequency_filter': "audio, magnitudes, window_size=0, padding='same'",
    'sinc': 'x, threshold=1e-20',
    'sinc_impulse_response': (
        'cutoff_frequency, window_size=512, sample_rate=None, '
        'high_pass=False'),
    'sinc_filter': (
        'audio, cutoff_frequency, window_size=512, sample_rate=None, '
        "padding='same', high_pass=False"),
}

SPECTRAL_OPS = {
    'stft': 'audio, frame_size=2048, overlap=0.75, pad_end=True',
    'stft_np': 'audio, frame_size=2048, overlap=0.75, pad_end=True',
    'compute_mag': 'audio, size=2048, overlap=0.75, pad_end=True',
    'compute_logmag': 'audio, size=2048, overlap=0.75, pad_end=True',
    'compute_mel': (
        'audio, lo_hz=0.0, hi_hz=8000.0, bins=64, fft_size=2048, '
        'overlap=0.75, pad_end=True, sample_rate=16000'),
    'compute_logmel': (
        'audio, lo_hz=80.0, hi_hz=7600.0, bins=64, fft_size=2048, '
        'overlap=0.75, pad_end=True, sample_rate=16000'),
    'compute_mfcc': (
        'audio, lo_hz=20.0, hi_hz=8000.0, fft_size=1024, mel_bins=128, '
        'mfcc_bins=13, overlap=0.75, pad_end=True, sample_rate=16000'),
    'get_framed_lengths': (
        "input_length, frame_size, hop_size, padding='center'"),
    'pad': (
        "x, frame_size, hop_size, padding='center', axis=1, mode='CONSTANT', "
        'constant_values=0'),
    'pad_or_trim_to_expected_length': (
        'vector, expected_len, pad_value=0, len_tolerance=20, use_tf=False'),
    'compute_rms_energy': (
        "audio, sample_rate=16000, frame_rate=250, frame_size=512, "
        "padding='center'"),
    'compute_power': (
        'audio, sample_rate=16000, frame_rate=250, frame_size=512, '
        "ref_db=0.0, range_db=80.0, padding='center'"),
    'compute_loudness': (
        'audio, sample_rate=16000, frame_rate=250, n_fft=512, '
        "range_db=80.0, ref_db=0.0, use_tf=True, padding='center'"),
    'compute_f0': "audio, frame_rate, viterbi=True, padding='center'",
    'reset_crepe': '',
    'PretrainedCREPE': 'model_size_or_path, hop_size=160, **kwargs',
    'PretrainedCREPE.activations_to_f0_and_confidence': 'acts, centers=None',
    'PretrainedCREPE.batch_frames': 'audio',
    'PretrainedCREPE.normalize_frames': 'frames',
    'PretrainedCREPE.predict_f0_and_confidence': (
        "audio, viterbi=False, padding='center'"),
    'PretrainedCREPE.create_hmm': 'num_steps',
    'PretrainedCREPE.viterbi_decode': 'acts',
}

EXP_SIGMOID = 'exp_sigmoid'
SIGNATURES = {
    **{f'ddsp.core:{name}': args for name, args in CORE.items()},
    **{f'ddsp.spectral_ops:{name}': args
       for name, args in SPECTRAL_OPS.items()},
    # dags, processors
    'ddsp.dags:split_keras_kwargs': 'kwargs',
    'ddsp.dags:DAGLayer': 'dag, **kwarg_modules',
    'ddsp.dags:DAGLayer.run_dag': 'inputs, verbose=..., **kwargs',
    'ddsp.processors:Processor': 'name, trainable=False',
    'ddsp.processors:ProcessorGroup': 'dag, **kwarg_processors',
    'ddsp.processors:ProcessorGroup.call': (
        'inputs, return_outputs_dict=False, **kwargs'),
    'ddsp.processors:ProcessorGroup.get_controls': 'inputs, **kwargs',
    'ddsp.processors:ProcessorGroup.get_signal': '_',
    'ddsp.processors:Add': "name='add'",
    'ddsp.processors:Mix': "name='mix'",
    'ddsp.processors:Mix.get_controls': (
        'signal_one, signal_two, nn_out_mix_level'),
    'ddsp.processors:Crop': "frame_size, crop_location='back', name='crop'",
    # synths
    'ddsp.synths:TensorToAudio': "name='tensor_to_audio'",
    'ddsp.synths:Harmonic': (
        'n_samples=64000, sample_rate=16000, scale_fn=exp_sigmoid, '
        "normalize_below_nyquist=True, amp_resample_method='window', "
        "use_angular_cumsum=False, name='harmonic'"),
    'ddsp.synths:Harmonic.get_controls': (
        'amplitudes, harmonic_distribution, f0_hz'),
    'ddsp.synths:FilteredNoise': (
        'n_samples=64000, window_size=257, scale_fn=exp_sigmoid, '
        "initial_bias=-5.0, name='filtered_noise'"),
    'ddsp.synths:FilteredNoise.get_controls': 'magnitudes',
    'ddsp.synths:Wavetable': (
        "n_samples=64000, sample_rate=16000, scale_fn=exp_sigmoid, "
        "name='wavetable'"),
    'ddsp.synths:Wavetable.get_controls': 'amplitudes, wavetables, f0_hz',
    'ddsp.synths:Sinusoidal': (
        'n_samples=64000, sample_rate=16000, amp_scale_fn=exp_sigmoid, '
        "amp_resample_method='window', freq_scale_fn=frequencies_sigmoid, "
        "name='sinusoidal'"),
    'ddsp.synths:Sinusoidal.get_controls': 'amplitudes, frequencies',
    # effects
    'ddsp.effects:Reverb': (
        "trainable=False, reverb_length=48000, add_dry=True, name='reverb'"),
    'ddsp.effects:Reverb.get_controls': 'audio, ir=None',
    'ddsp.effects:ExpDecayReverb': (
        'trainable=False, reverb_length=48000, scale_fn=exp_sigmoid, '
        "add_dry=True, name='exp_decay_reverb'"),
    'ddsp.effects:ExpDecayReverb.get_controls': 'audio, gain=None, decay=None',
    'ddsp.effects:FilteredNoiseReverb': (
        'trainable=False, reverb_length=48000, window_size=257, '
        'n_frames=1000, n_filter_banks=16, scale_fn=exp_sigmoid, '
        "initial_bias=-3.0, add_dry=True, name='filtered_noise_reverb'"),
    'ddsp.effects:FilteredNoiseReverb.get_controls': 'audio, magnitudes=None',
    'ddsp.effects:FIRFilter': (
        "window_size=257, scale_fn=exp_sigmoid, name='fir_filter'"),
    'ddsp.effects:FIRFilter.get_controls': 'audio, magnitudes',
    'ddsp.effects:ModDelay': (
        'center_ms=15.0, depth_ms=10.0, sample_rate=16000, '
        'gain_scale_fn=exp_sigmoid, phase_scale_fn=sigmoid, add_dry=True, '
        "name='mod_delay'"),
    'ddsp.effects:ModDelay.get_controls': 'audio, gain, phase',
    # losses
    'ddsp.losses:LossGroup': 'dag, **kwarg_losses',
    'ddsp.losses:mean_difference': (
        "target, value, loss_type='L1', weights=None"),
    'ddsp.losses:SpectralLoss': (
        "fft_sizes=(2048, 1024, 512, 256, 128, 64), loss_type='L1', "
        'mag_weight=1.0, delta_time_weight=0.0, delta_freq_weight=0.0, '
        'cumsum_freq_weight=0.0, logmag_weight=0.0, loudness_weight=0.0, '
        "name='spectral_loss'"),
    'ddsp.losses:SpectralLoss.call': 'target_audio, audio, weights=None',
    'ddsp.losses:EmbeddingLoss': (
        "weight=1.0, loss_type='L1', pretrained_model=None, "
        "name='embedding_loss'"),
    'ddsp.losses:PretrainedCREPEEmbeddingLoss': (
        "weight=1.0, loss_type='L1', model_capacity='tiny', "
        "activation_layer='classifier', "
        "name='pretrained_crepe_embedding_loss'"),
    'ddsp.losses:PretrainedCREPE': (
        "model_capacity=..., activation_layer='conv5-maxpool'"),
    'ddsp.losses:PretrainedCREPE.frame_audio': (
        'audio, hop_length=1024, center=True'),
    'ddsp.losses:amp_loss': (
        "amp, amp_target, loss_type='L1', weights=None, log=False, amin=1e-5"),
    'ddsp.losses:freq_loss': "f_hz, f_hz_target, loss_type='L1', weights=None",
    'ddsp.losses:FilteredNoiseConsistencyLoss': 'weight=1.0',
    'ddsp.losses:HarmonicConsistencyLoss': (
        'amp_weight=1.0, dist_weight=1.0, f0_weight=1.0, amp_threshold=1e-4'),
    'ddsp.losses:WassersteinConsistencyLoss': 'weight=1.0, midi=True',
    'ddsp.losses:wasserstein_distance': (
        'u_values, v_values, u_weights, v_weights, p=1.0'),
    'ddsp.losses:KDEConsistencyLoss': (
        'weight_a=1.0, weight_b=1.0, weight_mean_amp=1.0, scale_a=0.1, '
        'scale_b=0.1'),
    'ddsp.losses:TWMLoss': (
        'sinusoids_weight=1.0, harmonics_weight=1.0, sinusoids_scale=0.5, '
        'harmonics_scale=0.2, n_harmonic_points=10, n_harmonic_gaussians=30, '
        'softmin_temperature=1.0, sample_rate=16000'),
    'ddsp.losses:TWMLoss.get_loss_tensors': 'f0_candidates, freqs, amps',
    'ddsp.losses:ParamLoss': "weight=1.0, loss_type='L1'",
    'ddsp.losses:HmmTranscriber': (
        'avg_length=200, midi_std=0.5, amps_on_center=1.5, '
        'amps_on_scale=0.5, amps_off_center=0.0, amps_off_scale=0.1, '
        'n_timesteps=1000, n_pitches=128, weight=1.0'),
    'ddsp.losses:HmmTranscriber.nll': 'pitch, amps',
    # training.nn
    'ddsp.training.nn:DictLayer': (
        'input_keys=None, output_keys=None, **kwargs'),
    'ddsp.training.nn:DictLayer.get_argument_names': '_',
    'ddsp.training.nn:DictLayer.get_default_argument_names': '_',
    'ddsp.training.nn:DictLayer.get_default_argument_values': '_',
    'ddsp.training.nn:DictLayer.get_return_annotations': '_',
    'ddsp.training.nn:OutputSplitsLayer': (
        "input_keys=None, output_splits=(('amps', 1), "
        "('harmonic_distribution', 40)), **kwargs"),
    'ddsp.training.nn:ensure_4d': 'x',
    'ddsp.training.nn:inv_ensure_4d': 'x, n_dims',
    'ddsp.training.nn:split_to_dict': 'tensor, tensor_splits',
    'ddsp.training.nn:get_nonlinearity': 'nonlinearity',
    'ddsp.training.nn:straight_through_softmax': 'logits',
    'ddsp.training.nn:straight_through_choice': 'logits, values',
    'ddsp.training.nn:straight_through_int_quantization': 'x',
    'ddsp.training.nn:get_note_mask': (
        'q_pitch, max_regions=100, note_on_only=True'),
    'ddsp.training.nn:get_note_mask_from_onset': (
        'q_pitch, onset, max_regions=100, note_on_only=True'),
    'ddsp.training.nn:get_note_lengths': 'note_mask',
    'ddsp.training.nn:get_note_moments': 'x, note_mask, return_std=True',
    'ddsp.training.nn:pool_over_notes': 'x, note_mask, return_std=True',
    'ddsp.training.nn:get_short_note_loss_mask': (
        'note_mask, note_lengths, note_pitches, min_length=40'),
    'ddsp.training.nn:normalize_op': "x, norm_type='layer', eps=1e-5",
    'ddsp.training.nn:Normalize': "norm_type='layer'",
    'ddsp.training.nn:ConditionalScaleAndShift': 'shift_only=False',
    'ddsp.training.nn:ConditionalNorm': (
        "norm_type='instance', shift_only=False"),
    'ddsp.training.nn:get_norm': 'norm_type, conditional, shift_only',
    'ddsp.training.nn:polyphase_resample': (
        "x, stride=2, resample_type='down', trim_or_pad='pad'"),
    'ddsp.training.nn:PolyphaseResample': (
        "stride=2, resample_type='down', trim_or_pad='pad'"),
    'ddsp.training.nn:NormReluConv': 'ch, k, s, norm_type',
    'ddsp.training.nn:ResidualLayer': (
        'ch, stride, shortcut, norm_type, conditional, shift_only'),
    'ddsp.training.nn:ResidualStack': (
        'filters, block_sizes, strides, norm_type, conditional=False, '
        "shift_only=False, nonlinearity='relu'"),
    'ddsp.training.nn:ResNet': (
        "size='large', norm_type='layer', conditional=False, shift_only=False"),
    'ddsp.training.nn:Fc': "ch=128, nonlinearity='leaky_relu'",
    'ddsp.training.nn:FcStack': "ch=256, layers=2, nonlinearity='leaky_relu'",
    'ddsp.training.nn:Rnn': (
        'dims, rnn_type, return_sequences=True, bidir=False'),
    'ddsp.training.nn:StatelessRnn': 'dims, rnn_type',
    'ddsp.training.nn:RnnFc': (
        "rnn_feat, out_feat, rnn_type='lstm', nonlinearity='sigmoid', "
        'bidir=False, n_rnn=1'),
    'ddsp.training.nn:RnnSandwich': (
        "fc_stack_ch=256, fc_stack_layers=2, rnn_ch=512, rnn_type='gru'"),
    'ddsp.training.nn:SingleGru': 'gru_dim=128',
    'ddsp.training.nn:FcStackOut': 'ch, layers, n_out',
    'ddsp.training.nn:Identity': '',
    'ddsp.training.nn:DilatedConvStack': (
        'ch=256, layers_per_stack=5, stacks=2, kernel_size=3, dilation=2, '
        'norm_type=None, resample_type=None, resample_stride=1, '
        'stacks_per_resample=1, resample_after_convolve=True, '
        'spectral_norm=False, ortho_init=False, shift_only=False, '
        'conditional=False'),
    'ddsp.training.nn:SpectralNormalization': 'layer, power_iterations=1',
    'ddsp.training.nn:get_embedding': 'vocab_size=1024, n_dims=256',
    'ddsp.training.nn:VectorQuantization': (
        'k, gamma=0.99, restart_threshold=0.0, num_heads=1, '
        'commitment_loss_weight=0.2'),
    'ddsp.training.nn:VectorQuantization.call': 'x, training=False',
    'ddsp.training.nn:VectorQuantization.committment_loss': 'z, z_q',
    'ddsp.training.nn:VectorQuantization.get_losses_dict': 'z, z_q',
    # training.preprocessing
    'ddsp.training.preprocessing:at_least_3d': 'x',
    'ddsp.training.preprocessing:scale_db': 'db',
    'ddsp.training.preprocessing:inv_scale_db': 'db_scaled',
    'ddsp.training.preprocessing:scale_f0_hz': 'f0_hz',
    'ddsp.training.preprocessing:inv_scale_f0_hz': 'f0_scaled',
    'ddsp.training.preprocessing:F0LoudnessPreprocessor': (
        'time_steps=1000, frame_rate=250, sample_rate=16000, '
        'compute_loudness=True'),
    'ddsp.training.preprocessing:F0LoudnessPreprocessor.call': (
        'loudness_db, f0_hz, audio=None'),
    'ddsp.training.preprocessing:F0LoudnessPreprocessor.invert_scaling': (
        'f0_scaled, ld_scaled'),
    'ddsp.training.preprocessing:F0PowerPreprocessor': (
        'time_steps=1000, frame_rate=250, sample_rate=16000, frame_size=64'),
    'ddsp.training.preprocessing:F0PowerPreprocessor.call': (
        'f0_hz, power_db=None, audio=None'),
    'ddsp.training.preprocessing:F0PowerPreprocessor.invert_scaling': (
        'f0_scaled, pw_scaled'),
    'ddsp.training.preprocessing:OnlineF0PowerPreprocessor': (
        "frame_rate=250, frame_size=1024, padding='center', "
        "compute_power=True, compute_f0=True, crepe_saved_model_path='full', "
        'viterbi=False'),
    'ddsp.training.preprocessing:OnlineF0PowerPreprocessor.call': (
        'audio, f0_hz=None, f0_confidence=None, audio_16k=None'),
    # training.encoders
    'ddsp.training.encoders:ZEncoder': 'input_keys=None',
    'ddsp.training.encoders:MfccTimeDistributedRnnEncoder': (
        "rnn_channels=512, rnn_type='gru', z_dims=32, z_time_steps=250"),
    'ddsp.training.encoders:MfccEncoder': (
        'fft_sizes=(1024,), mel_bins=(128,), mfcc_bins=(30,), time_steps=250'),
    'ddsp.training.encoders:MfccRnnEncoder': (
        "rnn_channels=512, rnn_type='gru', z_dims=512, mean_aggregate=False"),
    'ddsp.training.encoders:AggregateFeaturesEncoder': 'ch=512',
    'ddsp.training.encoders:OneHotEncoder': (
        "one_hot_key='instrument', vocab_size=1024, n_dims=256, "
        'skip_expand=True'),
    'ddsp.training.encoders:ExpressionEncoder': (
        "net=None, z_dims=128, input_keys=('f0_scaled', 'ld_scaled'), "
        'mfcc_bins=60, fft_size=1024, mel_bins=128, pool_time=True'),
    'ddsp.training.encoders:ResnetSinusoidalEncoder': (
        "output_splits=(('frequencies', 6400), ('amplitudes', 100), "
        "('noise_magnitudes', 60)), spectral_fn=compute_logmel, size='tiny'"),
    'ddsp.training.encoders:SinusoidalToHarmonicEncoder': (
        'net=None, n_harmonics=100, f0_depth=64, amp_scale_fn=exp_sigmoid, '
        'freq_scale_fn=..., sample_rate=16000'),
    'ddsp.training.encoders:SinusoidalToHarmonicEncoder.call': (
        'sin_freqs, sin_amps'),
    'ddsp.training.encoders:MidiEncoder': 'net=None, f0_residual=True',
    'ddsp.training.encoders:MidiEncoder.call': 'f0_midi, loudness',
    'ddsp.training.encoders:HarmonicToMidiEncoder': (
        'net=None, f0_residual=True'),
    'ddsp.training.encoders:HarmonicToMidiEncoder.call': (
        'f0_midi, amps, hd, noise'),
    # training.decoders
    'ddsp.training.decoders:RnnFcDecoder': (
        "rnn_channels=512, rnn_type='gru', ch=512, layers_per_stack=3, "
        "stateless=False, input_keys=('ld_scaled', 'f0_scaled', 'z'), "
        "output_splits=(('amps', 1), ('harmonic_distribution', 40))"),
    'ddsp.training.decoders:MidiDecoder': (
        'net=None, f0_residual=True, center_loudness=True, norm=True'),
    'ddsp.training.decoders:MidiDecoder.call': 'z_pitch, z_vel=None, z=None',
    'ddsp.training.decoders:MidiToHarmonicDecoder': (
        "net=None, f0_residual=True, norm=True, output_splits=(('f0_midi', 1), "
        "('amplitudes', 1), ('harmonic_distribution', 60), "
        "('magnitudes', 65)), midi_zero_silence=True"),
    'ddsp.training.decoders:DilatedConvDecoder': (
        'ch=256, kernel_size=3, layers_per_stack=5, stacks=2, dilation=2, '
        "norm_type='layer', resample_stride=1, stacks_per_resample=1, "
        "resample_after_convolve=True, input_keys=('ld_scaled', 'f0_scaled'), "
        "output_splits=(('amps', 1), ('harmonic_distribution', 60)), "
        "conditioning_keys='z', precondition_stack=None, spectral_norm=False, "
        'ortho_init=False'),
    # training.models
    'ddsp.training.models:Model.restore': (
        'checkpoint_path, verbose=True, restore_keys=None'),
    'ddsp.training.models:Model.sum_losses': 'losses_dict',
    'ddsp.training.models:Model.get_audio_from_outputs': 'outputs',
    'ddsp.training.models:Autoencoder': (
        'preprocessor=None, encoder=None, decoder=None, processor_group=None, '
        'losses=None'),
    'ddsp.training.models:Autoencoder.encode': 'features, training=True',
    'ddsp.training.models:Autoencoder.decode': 'features, training=True',
    'ddsp.training.models:Autoencoder.call': 'features, training=True',
    'ddsp.training.models:InverseSynthesis': (
        'sinusoidal_encoder, harmonic_encoder, losses, '
        'sinusoidal_consistency_losses, harmonic_consistency_losses, '
        'filtered_noise_consistency_loss, twm_loss, '
        'harmonic_distribution_prior, freq_scale_fn=None, reverb=True, '
        'n_samples=64000, sample_rate=16000, stop_gradient=True'),
    'ddsp.training.models:InverseSynthesis.forward': 'features, training=True',
    'ddsp.training.models:InverseSynthesis.append_losses': (
        'outputs, self_supervised_features=None'),
    'ddsp.training.models:MidiAutoencoder': (
        'synthcoder=None, midi_encoder=None, midi_decoder=None, '
        'sg_before_midiae=True, reverb=True, preprocessor=None, '
        'reconstruction_losses=None, qpitch_f0rec_loss=None, '
        'pitch_f0rec_loss=None, pitch_qpitch_loss=None, '
        'midi_slowness_loss=None, mask_f0_loss=True'),
    'ddsp.training.models:ZMidiAutoencoder': (
        'synthcoder=None, midi_encoder=None, midi_decoder=None, '
        'sg_before_midiae=True, reverb=True, preprocessor=None, '
        'reconstruction_losses=None, qpitch_f0rec_loss=None, '
        'pitch_f0rec_loss=None, pitch_qpitch_loss=None, '
        'midi_slowness_loss=None, mask_f0_loss=True, z_synth_encoders=None, '
        'z_global_encoders=None, z_note_encoder=None, '
        'z_preconditioning_stack=None, z_global_prior=None, '
        'z_note_prior=None'),
    'ddsp.training.models:MidiAutoencoder.synthesize_audio': (
        'f0_hz, db, z=None, training=False, return_params=False'),
    'ddsp.training.models:MidiAutoencoder.extract_harm_controls': (
        'synth_params, log_scale=True, stop_gradient=False'),
    'ddsp.training.models:MidiAutoencoder.midi_to_pianoroll': (
        'q_pitch, q_vel, piano_keys=128, thresh=20.0'),
    'ddsp.training.models:get_model': 'model=REQUIRED',
    # training.trainers, train_util
    'ddsp.training.trainers:Trainer': (
        'model, strategy, checkpoints_to_keep=100, learning_rate=0.001, '
        'lr_decay_steps=10000, lr_decay_rate=0.98, grad_clip_norm=3.0, '
        'restore_keys=None'),
    'ddsp.training.trainers:Trainer.get_checkpoint': 'model=None',
    'ddsp.training.trainers:Trainer.save': 'save_dir',
    'ddsp.training.trainers:Trainer.restore': (
        'checkpoint_path, restore_keys=None'),
    'ddsp.training.trainers:Trainer.psum': 'x, axis=None',
    'ddsp.training.trainers:Trainer.run': 'fn, *args, **kwargs',
    'ddsp.training.trainers:Trainer.build': 'batch',
    'ddsp.training.trainers:Trainer.distribute_dataset': '_',
    'ddsp.training.trainers:Trainer.train_step': 'inputs',
    'ddsp.training.trainers:Trainer.step_fn': 'batch',
    'ddsp.training.trainers:get_trainer_class': 'trainer_class=Trainer',
    'ddsp.training.train_util:get_strategy': "tpu='', cluster_config=''",
    'ddsp.training.train_util:expand_path': 'file_path',
    'ddsp.training.train_util:get_latest_file': (
        "dir_path, prefix='operative_config-', suffix='.gin'"),
    'ddsp.training.train_util:get_latest_checkpoint': 'checkpoint_path',
    'ddsp.training.train_util:get_latest_operative_config': 'restore_dir',
    'ddsp.training.train_util:write_gin_config': (
        'summary_writer, save_dir, step'),
    'ddsp.training.train_util:train': (
        'data_provider, trainer, batch_size=32, num_steps=1000000, '
        'steps_per_summary=300, steps_per_save=300, '
        "save_dir='/tmp/ddsp', restore_dir='/tmp/ddsp', "
        'early_stop_loss_value=None, report_loss_to_hypertune=False'),
    # training.data
    'ddsp.training.data:DataProvider': 'sample_rate, frame_rate',
    'ddsp.training.data:DataProvider.get_batch': (
        'batch_size, shuffle=True, repeats=-1, drop_remainder=True'),
    'ddsp.training.data:DataProvider.get_dataset': 'shuffle',
    'ddsp.training.data:ExperimentalDataProvider': (
        'data_dir, sample_rate, frame_rate'),
    'ddsp.training.data:TfdsProvider': (
        'name, split, data_dir, sample_rate, frame_rate'),
    'ddsp.training.data:NSynthTfds': (
        "name='nsynth/gansynth_subset.f0_and_loudness:2.3.0', split='train', "
        "data_dir='gs://tfds-data/datasets', sample_rate=16000, "
        'frame_rate=250, include_note_labels=True'),
    'ddsp.training.data:TFRecordProvider': (
        'file_pattern=None, example_secs=4, sample_rate=16000, '
        'frame_rate=250, centered=False'),
    'ddsp.training.data:TFRecordProvider.get_feature_length': 'centered',
    'ddsp.training.data:LegacyTFRecordProvider': (
        'file_pattern=None, example_secs=4, sample_rate=16000, '
        'frame_rate=250, centered=False'),
    'ddsp.training.data:BaseMultiProvider': (
        'data_providers, batch_size_ratios=()'),
    'ddsp.training.data:ZippedProvider': 'data_providers, batch_size_ratios=()',
    'ddsp.training.data:ZippedProvider.get_batch': (
        'batch_size, shuffle=True, repeats=-1, drop_remainder=False'),
    'ddsp.training.data:MixedProvider': 'data_providers, batch_size_ratios=()',
    'ddsp.training.data:SyntheticNotes': (
        'n_timesteps, n_harmonics, n_mags, file_pattern=None, '
        'sample_rate=16000'),
    'ddsp.training.data:Urmp': (
        "base_dir, instrument_key='tpt', split='train', suffix=None"),
    'ddsp.training.data:UrmpMidi': (
        "base_dir, instrument_key='tpt', split='train', suffix=None"),
    'ddsp.training.data:UrmpMidiUnsegmented': (
        "base_dir, instrument_key='tpt', split='train', suffix=None"),
    # training.eval_util, evaluators, metrics
    'ddsp.training.eval_util:evaluate_or_sample': (
        "data_provider, model, evaluator_classes, mode='eval', "
        "save_dir='/tmp/ddsp/training', restore_dir='', batch_size=32, "
        'num_batches=50, repeats=-1, ckpt_delay_secs=0, run_once=False, '
        'run_until_step=0, evaluate_and_sample=False'),
    'ddsp.training.eval_util:evaluate': (
        "data_provider, model, evaluator_classes, "
        "save_dir='/tmp/ddsp/training', restore_dir='', batch_size=32, "
        'num_batches=50, repeats=-1, ckpt_delay_secs=0, run_once=False, '
        'run_until_step=0'),
    'ddsp.training.eval_util:sample': (
        "data_provider, model, evaluator_classes, "
        "save_dir='/tmp/ddsp/training', restore_dir='', batch_size=16, "
        'num_batches=1, ckpt_delay_secs=0, run_once=False, run_until_step=0'),
    'ddsp.training.evaluators:BaseEvaluator': 'sample_rate, frame_rate',
    'ddsp.training.evaluators:BaseEvaluator.set_rates': (
        'sample_rate, frame_rate'),
    'ddsp.training.evaluators:BaseEvaluator.evaluate': (
        'batch, outputs, losses'),
    'ddsp.training.evaluators:BaseEvaluator.sample': 'batch, outputs, step',
    'ddsp.training.evaluators:BaseEvaluator.flush': 'step',
    'ddsp.training.evaluators:BasicEvaluator': 'sample_rate, frame_rate',
    'ddsp.training.evaluators:F0LdEvaluator': (
        'sample_rate, frame_rate, run_f0_crepe=True'),
    'ddsp.training.evaluators:TWMEvaluator': (
        "sample_rate, frame_rate, processor_name='sinusoidal', noisy=False"),
    'ddsp.training.evaluators:MidiAutoencoderEvaluator': (
        "sample_rate, frame_rate, db_key='loudness_db', f0_key='f0_hz'"),
    'ddsp.training.evaluators:MidiHeuristicEvaluator': (
        'sample_rate, frame_rate'),
    'ddsp.training.metrics:squeeze': 'input_vector',
    'ddsp.training.metrics:l1_distance': 'prediction, ground_truth',
    'ddsp.training.metrics:is_outlier': 'ground_truth_f0_conf',
    'ddsp.training.metrics:compute_audio_features': 'audio, frame_rate=250',
    'ddsp.training.metrics:f0_dist_conf_thresh': (
        'f0_hz, f0_hz_gen, f0_confidence, f0_confidence_thresh=0.85'),
    'ddsp.training.metrics:BaseMetrics': 'sample_rate, frame_rate, name',
    'ddsp.training.metrics:BaseMetrics.flush': 'step',
    'ddsp.training.metrics:LoudnessMetrics': (
        "sample_rate, frame_rate, name='loudness'"),
    'ddsp.training.metrics:F0CrepeMetrics': (
        "sample_rate, frame_rate, name='f0_crepe'"),
    'ddsp.training.metrics:F0Metrics': (
        "sample_rate, frame_rate, rpa_tolerance=50, name='f0'"),
    'ddsp.training.metrics:EvalCounts': 'tp, fp, fn',
    'ddsp.training.metrics:MidiMetrics': (
        'frames_per_second, tag, align_midi_with_f0=True'),
    'ddsp.training.metrics:MidiMetrics.update_state': (
        "controls_batch, pred_seq_batch, gt_key='note_active_velocities', "
        'ch=None'),
    'ddsp.training.metrics:MidiMetrics.align_midi_with_f0': 'gt_sequence, f0',
    # training.summaries, plotting
    'ddsp.training.summaries:fig_summary': 'tag, fig, step',
    'ddsp.training.summaries:waveform_summary': (
        "audio, audio_gen, step, name=''"),
    'ddsp.training.summaries:spectrogram_summary': (
        "audio, audio_gen, step, name='', tag='spectrogram'"),
    'ddsp.training.summaries:audio_summary': (
        "audio, step, sample_rate=16000, name='audio'"),
    'ddsp.training.summaries:f0_summary': (
        "f0_hz, f0_hz_predict, step, name='f0_midi', tag='f0_midi'"),
    'ddsp.training.summaries:midi_summary': (
        'controls, step, name, frame_rate, notes_key'),
    'ddsp.training.summaries:midiae_f0_summary': 'f0_hz, outputs, step',
    'ddsp.training.summaries:midiae_ld_summary': (
        "ld_feat, outputs, step, db_key='loudness_db'"),
    'ddsp.training.summaries:midiae_sp_summary': 'outputs, step',
    'ddsp.training.summaries:pianoroll_summary': (
        "batch, step, name, frame_rate, pred_key, "
        "gt_key='note_active_velocities', ch=None, threshold=0.0, "
        "tb_name='pianoroll'"),
    'ddsp.training.summaries:get_spectrogram': (
        'audio, rotate=False, size=1024'),
    'ddsp.training.plotting:specplot': (
        'audio, vmin=-5, vmax=1, rotate=True, size=768, **matshow_kwargs'),
    'ddsp.training.plotting:transfer_function': 'ir, sample_rate=16000',
    'ddsp.training.plotting:plot_impulse_responses': (
        'impulse_response, desired_magnitudes, sample_rate=16000'),
    'ddsp.training.plotting:pianoroll_plot_setup': (
        'figsize=None, side_piano_ratio=0.025, faint_pr=True, xlim=None'),
    # training.heuristics, postprocessing, cloud, docker
    'ddsp.training.heuristics:get_active_frame_indices': 'piano_roll',
    'ddsp.training.heuristics:segment_notes_batch': (
        'binarize_f, pick_f0_f, pick_amps_f, controls_batch, frame_rate=250'),
    'ddsp.training.heuristics:segment_notes': (
        'binarize_f, pick_f0_f, pick_amps_f, controls, frame_rate=250'),
    'ddsp.training.heuristics:window_array': (
        'array, sr, win_len, frame_step_ratio=0.75, ax=0'),
    'ddsp.training.heuristics:remove_short': (
        'is_on_vec, min_samples=20, glue_back=False'),
    'ddsp.training.heuristics:pad_for_frame': 'vec, mode, frame_width, axis=0',
    'ddsp.training.heuristics:amp_pooled_outliers': (
        "controls, frame_width=80, num_devs=2, pad_mode='center'"),
    'ddsp.training.heuristics:strided_freq_change': (
        "controls, frame_widths=(2, 4, 8, 16, 32), pad_mode='front'"),
    'ddsp.training.heuristics:power_pooled_outliers': (
        "controls, frame_width=80, num_devs=2.5, pad_mode='center'"),
    'ddsp.training.heuristics:midi_heuristic': 'controls',
    'ddsp.training.heuristics:midi_heuristic_power': 'controls',
    'ddsp.training.heuristics:mean_f0': 'controls, start, stop',
    'ddsp.training.heuristics:median_f0': 'controls, start, stop',
    'ddsp.training.heuristics:median_amps': 'controls, start, stop',
    'ddsp.training.postprocessing:detect_notes': (
        'loudness_db, f0_confidence, note_threshold=1.0, exponent=2.0, '
        'smoothing=40, f0_confidence_threshold=0.7, min_db=-80'),
    'ddsp.training.postprocessing:smooth': 'x, filter_size=3',
    'ddsp.training.postprocessing:QuantileTransformer': (
        "n_quantiles=1000, output_distribution='uniform', subsample=100000"),
    'ddsp.training.postprocessing:fit_quantile_transform': (
        'loudness_db, mask_on, inv_quantile=None'),
    'ddsp.training.postprocessing:compute_dataset_statistics': (
        'data_provider, batch_size=1, power_frame_size=1024, '
        'power_frame_rate=50'),
    'ddsp.training.cloud:download_from_gstorage': 'gstorage_path, local_path',
    'ddsp.training.cloud:make_file_paths_local': 'paths, local_directory',
    'ddsp.training.cloud:report_metric_to_hypertune': (
        "metric_value, step, tag='Loss'"),
    'ddsp.training.docker.task:get_worker_behavior_info': 'save_dir',
    'ddsp.training.docker.task:parse_list_params': (
        'list_of_params, param_name'),
    # training.inference
    'ddsp.training.inference:parse_operative_config': 'ckpt_dir',
    'ddsp.training.inference:AutoencoderInference': (
        'ckpt, length_seconds=4, remove_reverb=True, verbose=True, **kwargs'),
    'ddsp.training.inference:VSTBaseModule': 'ckpt, verbose=False',
    'ddsp.training.inference:VSTExtractFeatures': (
        'ckpt, crepe_saved_model_path=None'),
    'ddsp.training.inference:VSTPredictControls': 'ckpt',
    'ddsp.training.inference:VSTStatelessPredictControls': 'ckpt',
    'ddsp.training.inference:VSTSynthesize': 'ckpt, new_hop_size=None',
    'ddsp.training.inference:VSTSynthesizeHarmonic': 'ckpt, new_hop_size=None',
    'ddsp.training.inference:VSTSynthesizeNoise': 'ckpt, new_hop_size=None',
    # data preparation
    'ddsp.training.data_preparation.prepare_tfrecord_lib:prepare_tfrecord': (
        'input_audio_paths, output_tfrecord_path, num_shards=None, '
        'sample_rate=16000, frame_rate=250, example_secs=4, hop_secs=1, '
        'eval_split_fraction=0.0, chunk_secs=20.0, center=False, '
        "viterbi=True, pipeline_options=''"),
    # colab
    'ddsp.colab.colab_utils:play': (
        'array_of_floats, sample_rate=16000, ephemeral=True, autoplay=False'),
    'ddsp.colab.colab_utils:record': (
        'seconds=3, sample_rate=16000, normalize_db=0.1'),
    'ddsp.colab.colab_utils:upload': 'sample_rate=16000, normalize_db=None',
    'ddsp.colab.colab_utils:audio_bytes_to_np': (
        'wav_data, sample_rate=16000, normalize_db=0.1, mono=True'),
    'ddsp.colab.colab_utils:save_dataset_statistics': (
        'data_provider, file_path=None, batch_size=1, power_frame_size=256'),
    'ddsp.colab.colab_utils:get_tuning_factor': (
        'f0_midi, f0_confidence, mask_on'),
    'ddsp.colab.colab_utils:auto_tune': (
        'f0_midi, tuning_factor, mask_on, amount=0.0, chromatic=False'),
    'ddsp.colab.colab_utils:specplot': (
        'audio, vmin=-5, vmax=1, rotate=True, size=768, **matshow_kwargs'),
    'ddsp.colab.colab_utils:transfer_function': 'ir, sample_rate=16000',
    'ddsp.colab.colab_utils:plot_impulse_responses': (
        'impulse_response, desired_magnitudes, sample_rate=16000'),
}

# Module-level functions of the command-line modules (see `cli_reports`).
CLI_FUNCTIONS = {
    'ddsp.training.ddsp_run': {
        'delay_start': '', 'parse_gin': 'restore_dir',
        'allow_memory_growth': '', 'main': '_',
    },
    'ddsp.training.ddsp_export': {
        'get_data_provider': 'dataset_path, model_path',
        'get_metadata_dict': 'data_provider, model_path',
        'get_inference_model': 'ckpt',
        'ckpt_to_saved_model': 'ckpt, save_dir',
        'saved_model_to_tfjs': 'input_dir, save_dir',
        'saved_model_to_tflite': (
            "input_dir, save_dir, metadata_file=None, name=''"),
        'export_impulse_response': 'model_path, save_dir, target_sr=None',
        'ensure_exits': 'dir_path',
        'main': '_',
    },
    'ddsp.training.data_preparation.ddsp_prepare_tfrecord': {'main': '_'},
    'ddsp.training.data_preparation.ddsp_generate_synthetic_dataset': {
        'main': '_'},
}

# Differences in files this branch does not own: proposed fixes are in the
# compatibility audit report. A fix makes the test pass: drop the entry then.
KNOWN_GAPS = {}


# ------------------------------------------------------------------------------
# Signature comparison
# ------------------------------------------------------------------------------
def _default_value(node: ast.expr):
  if isinstance(node, ast.Constant) and node.value is Ellipsis:
    return ANY
  if isinstance(node, ast.Name):
    return ('name', node.id)
  return ('value', ast.literal_eval(node))


def parse_spec(spec: str):
  """([(name, default)], has *args, has **kwargs) of an argument list."""
  args = ast.parse(f'def f({spec}): pass').body[0].args
  n_plain = len(args.args) - len(args.defaults)
  defaults = [NO_DEFAULT] * n_plain + [_default_value(d) for d in args.defaults]
  params = [(a.arg, d) for a, d in zip(args.args, defaults)]
  return params, args.vararg is not None, args.kwarg is not None


def _normalise(value):
  if isinstance(value, (list, tuple)):
    return tuple(_normalise(v) for v in value)
  return value


def signature_problems(fn, spec: str):
  """Ways in which `fn` cannot be called like the 3.7.0 `spec`."""
  signature = inspect.signature(fn)
  params = list(signature.parameters.values())
  if params and params[0].name == 'self':
    params = params[1:]
  kinds = inspect.Parameter
  positional_kinds = (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
  positional = [p for p in params if p.kind in positional_kinds]
  expected, varargs, varkw = parse_spec(spec)
  problems = []
  for i, (name, default) in enumerate(expected):
    if i >= len(positional):
      problems.append(f'argument {i} {name!r} missing')
      continue
    actual = positional[i]
    if name != '_' and actual.name != name:
      problems.append(f'argument {i} is {actual.name!r}, expected {name!r}')
    if default is NO_DEFAULT:
      continue
    if actual.default is NO_DEFAULT:
      problems.append(f'{actual.name!r} has no default')
    elif default is ANY:
      continue
    elif default[0] == 'name' and default[1] in NAMED_DEFAULTS:
      if actual.default is not NAMED_DEFAULTS[default[1]]:
        problems.append(f'{actual.name!r} defaults to {actual.default!r}, '
                        f'expected {default[1]}')
    elif default[0] == 'name':
      actual_name = getattr(actual.default, '__name__', repr(actual.default))
      if actual_name != default[1]:
        problems.append(f'{actual.name!r} defaults to {actual_name}, '
                        f'expected {default[1]}')
    elif (_normalise(actual.default) != _normalise(default[1]) or
          isinstance(actual.default, bool) != isinstance(default[1], bool)):
      problems.append(f'{actual.name!r} defaults to {actual.default!r}, '
                      f'expected {default[1]!r}')
  for extra in positional[len(expected):]:
    if extra.default is NO_DEFAULT:
      problems.append(f'added argument {extra.name!r} has no default')
  for p in params:
    if p.kind == kinds.KEYWORD_ONLY and p.default is NO_DEFAULT:
      problems.append(f'keyword-only {p.name!r} has no default')
  if varargs and not any(p.kind == kinds.VAR_POSITIONAL for p in params):
    problems.append('no *args')
  if varkw and not any(p.kind == kinds.VAR_KEYWORD for p in params):
    problems.append('no **kwargs')
  return problems


def _resolve(path: str):
  module_name, qualname = path.split(':')
  obj = importlib.import_module(module_name)
  for part in qualname.split('.'):
    obj = getattr(obj, part)
  return obj


def _callable_for_signature(obj):
  return obj.__init__ if inspect.isclass(obj) else obj


def test_signature_checker_detects_differences():
  def fn(a, b=2, *, c=3, **kwargs):
    del a, b, c, kwargs
  assert not signature_problems(fn, 'a, b=2, **kwargs')
  assert not signature_problems(fn, '_, b=...')
  assert signature_problems(fn, 'x, b=2')
  assert signature_problems(fn, 'a, b=3')
  assert signature_problems(fn, 'a, b=2, d=4')
  assert signature_problems(fn, 'a, b=2, *args')
  assert signature_problems(lambda a, flag=0: None, 'a, flag=False')


@pytest.mark.parametrize('path', sorted(SIGNATURES))
def test_signature_is_that_of_3_7_0(path):
  fn = _callable_for_signature(_resolve(path))
  assert signature_problems(fn, SIGNATURES[path]) == []


def test_scale_function_defaults():
  from ddsp import core  # pylint: disable=g-import-not-at-top
  from ddsp.training import encoders  # pylint: disable=g-import-not-at-top
  freq_scale_fn = inspect.signature(
      encoders.SinusoidalToHarmonicEncoder.__init__).parameters[
          'freq_scale_fn'].default
  hz = freq_scale_fn(_logits([1, 1, 64]))
  expected = core.frequencies_softmax(_logits([1, 1, 64]), depth=64,
                                      hz_min=20.0, hz_max=1200.0)
  assert hz.shape == (1, 1, 1)
  assert float(hz[0, 0, 0]) == pytest.approx(float(expected[0, 0, 0]))
  assert float(expected[0, 0, 0]) == pytest.approx(
      float(core.unit_to_hz(0.5, 20.0, 1200.0)), rel=1e-5)


def _logits(shape):
  import numpy as np  # pylint: disable=g-import-not-at-top
  return np.zeros(shape, np.float32)


# ------------------------------------------------------------------------------
# Gin registration: full name -> 'register' (bindings only when gin builds
# it) or 'configurable' (bindings also apply to direct Python calls).
# ------------------------------------------------------------------------------
def _names(module, kind, names):
  return {f'{module}.{name}': kind for name in names.split()}


GIN = {
    **_names('ddsp.core', 'register',
             'exp_sigmoid sym_exp_sigmoid frequencies_softmax '
             'frequencies_sigmoid frequencies_critical_bands'),
    **_names('ddsp.core', 'configurable',
             'oscillator_bank harmonic_oscillator_bank angular_cumsum'),
    **_names('ddsp.spectral_ops', 'register',
             'compute_mag compute_logmag compute_mel compute_logmel '
             'compute_mfcc compute_loudness compute_f0'),
    **_names('ddsp.dags', 'register', 'DAGLayer'),
    **_names('ddsp.processors', 'register', 'Add Mix Crop'),
    **_names('ddsp.processors', 'configurable', 'ProcessorGroup'),
    **_names('ddsp.synths', 'register',
             'TensorToAudio Harmonic FilteredNoise Wavetable Sinusoidal'),
    **_names('ddsp.effects', 'register',
             'Reverb ExpDecayReverb FilteredNoiseReverb FIRFilter'),
    **_names('ddsp.losses', 'register',
             'LossGroup SpectralLoss EmbeddingLoss '
             'PretrainedCREPEEmbeddingLoss'),
    **_names('ddsp.training.nn', 'register',
             'split_to_dict Normalize PolyphaseResample NormReluConv '
             'ResidualLayer ResidualStack ResNet Fc FcStack Rnn StatelessRnn '
             'RnnFc RnnSandwich Identity ConditionalNorm SingleGru '
             'DilatedConvStack FcStackOut VectorQuantization'),
    **_names('ddsp.training.preprocessing', 'register',
             'F0LoudnessPreprocessor F0PowerPreprocessor '
             'OnlineF0PowerPreprocessor'),
    **_names('ddsp.training.encoders', 'register',
             'MfccTimeDistributedRnnEncoder MfccEncoder MfccRnnEncoder '
             'AggregateFeaturesEncoder OneHotEncoder ExpressionEncoder '
             'ResnetSinusoidalEncoder SinusoidalToHarmonicEncoder MidiEncoder '
             'HarmonicToMidiEncoder'),
    **_names('ddsp.training.decoders', 'register',
             'RnnFcDecoder MidiDecoder MidiToHarmonicDecoder '
             'DilatedConvDecoder'),
    **_names('ddsp.training.models', 'configurable',
             'Autoencoder InverseSynthesis MidiAutoencoder ZMidiAutoencoder '
             'get_model'),
    **_names('ddsp.training.data', 'register',
             'ExperimentalDataProvider NSynthTfds TFRecordProvider '
             'LegacyTFRecordProvider BaseMultiProvider ZippedProvider '
             'MixedProvider SyntheticNotes Urmp UrmpMidi'),
    **_names('ddsp.training.evaluators', 'register',
             'BasicEvaluator F0LdEvaluator TWMEvaluator '
             'MidiAutoencoderEvaluator MidiHeuristicEvaluator'),
    **_names('ddsp.training.heuristics', 'register',
             'mean_f0 median_f0 median_amps amp_pooled_outliers '
             'strided_freq_change power_pooled_outliers midi_heuristic '
             'midi_heuristic_power'),
    **_names('ddsp.training.heuristics', 'configurable', 'segment_notes_batch'),
    **_names('ddsp.training.trainers', 'configurable',
             'Trainer get_trainer_class'),
    **_names('ddsp.training.train_util', 'configurable', 'train'),
    **_names('ddsp.training.eval_util', 'configurable', 'evaluate sample'),
    **_names('ddsp.training.inference', 'configurable',
             'AutoencoderInference VSTSynthesize VSTSynthesizeHarmonic '
             'VSTSynthesizeNoise'),
    **_names('ddsp.training.data_preparation.synthetic_data', 'configurable',
             'generate_notes generate_notes_v2'),
}

NOT_GIN_REGISTERED = (
    'ddsp.effects.ModDelay ddsp.processors.Processor '
    'ddsp.training.data.DataProvider ddsp.training.data.TfdsProvider '
    'ddsp.training.data.UrmpMidiUnsegmented ddsp.training.encoders.ZEncoder '
    'ddsp.training.evaluators.BaseEvaluator ddsp.training.nn.DictLayer '
    'ddsp.training.nn.OutputSplitsLayer ddsp.training.nn.get_embedding '
    'ddsp.training.nn.SpectralNormalization '
    'ddsp.training.nn.ConditionalScaleAndShift '
    'ddsp.training.inference.VSTBaseModule '
    'ddsp.training.inference.VSTExtractFeatures '
    'ddsp.training.inference.VSTPredictControls '
    'ddsp.training.inference.VSTStatelessPredictControls').split()

# Partial names written in the shipped gin files and the docker task; each
# must resolve to exactly one configurable.
GIN_FILE_NAMES = (
    'models.Autoencoder', 'data.TFRecordProvider', 'data.NSynthTfds',
    'data.ZippedProvider', 'data.SyntheticNotes', 'nn.RnnSandwich',
    'heuristics.midi_heuristic', 'heuristics.mean_f0', 'train_util.train',
    'processors.Add', 'processors.ProcessorGroup', 'synths.Harmonic',
    'effects.Reverb', 'core.exp_sigmoid', 'spectral_ops.compute_logmel',
    'preprocessing.F0LoudnessPreprocessor', 'decoders.RnnFcDecoder',
    'encoders.MfccTimeDistributedRnnEncoder', 'losses.SpectralLoss',
    'BasicEvaluator', 'F0LdEvaluator', 'TWMEvaluator', 'Trainer', 'train',
    'evaluate', 'sample', 'get_model', 'segment_notes_batch', 'run_dag',
    'RnnFcDecoder', 'Harmonic', 'FilteredNoise', 'Crop', 'oscillator_bank',
    'harmonic_oscillator_bank', 'compute_logmel', 'nn.Dense',
    'tf.keras.layers.Dense', 'tf.keras.Sequential')


def _registry():
  return gin.config._REGISTRY  # pylint: disable=protected-access


def registration_kind(name: str) -> str:
  """'configurable' or 'register', read from the registry and the module."""
  configurable = _registry()[name]
  attribute = getattr(importlib.import_module(configurable.module),
                      configurable.name)
  if attribute is configurable.wrapper:
    return 'configurable'
  if attribute is configurable.wrapped:
    return 'register'
  return 'unknown'


@pytest.mark.parametrize('name', sorted(GIN))
def test_gin_name_and_registration_kind(name):
  assert name in _registry()
  assert registration_kind(name) == GIN[name]


@pytest.mark.parametrize('name', NOT_GIN_REGISTERED)
def test_not_gin_registered_in_3_7_0(name):
  assert name not in _registry()


@pytest.mark.parametrize('name', GIN_FILE_NAMES)
def test_gin_file_names_resolve_to_one_configurable(name):
  assert _registry().get_match(name) is not None


def test_keras_dense_is_registered_in_nn_and_run_dag_in_dags():
  assert _registry()['ddsp.training.nn.Dense'].wrapped.__name__ == 'Dense'
  assert 'ddsp.dags.run_dag' in _registry()


# ------------------------------------------------------------------------------
# Modules, package contents, constants
# ------------------------------------------------------------------------------
MODULES = (
    'ddsp ddsp.core ddsp.dags ddsp.effects ddsp.losses ddsp.processors '
    'ddsp.spectral_ops ddsp.synths ddsp.test_util ddsp.version ddsp.colab '
    'ddsp.colab.colab_utils ddsp.training ddsp.training.cloud '
    'ddsp.training.data ddsp.training.decoders ddsp.training.encoders '
    'ddsp.training.eval_util ddsp.training.evaluators '
    'ddsp.training.heuristics ddsp.training.inference ddsp.training.metrics '
    'ddsp.training.models ddsp.training.models.autoencoder ddsp.training.nn '
    'ddsp.training.plotting ddsp.training.postprocessing '
    'ddsp.training.preprocessing ddsp.training.summaries '
    'ddsp.training.train_util ddsp.training.trainers '
    'ddsp.training.ddsp_run ddsp.training.ddsp_export '
    'ddsp.training.data_preparation '
    'ddsp.training.data_preparation.ddsp_prepare_tfrecord '
    'ddsp.training.data_preparation.prepare_tfrecord_lib '
    'ddsp.training.data_preparation.synthetic_data '
    'ddsp.training.data_preparation.ddsp_generate_synthetic_dataset '
    'ddsp.training.docker ddsp.training.docker.task').split()

TRAINING_MODULES = (
    'cloud data decoders encoders eval_util evaluators inference metrics '
    'models nn plotting postprocessing preprocessing summaries train_util '
    'trainers heuristics').split()

CONSTANTS = {
    'ddsp:__version__': '3.7.0',
    'ddsp.version:__version__': '3.7.0',
    'ddsp.core:DB_RANGE': 80.0,
    'ddsp.spectral_ops:CREPE_SAMPLE_RATE': 16000,
    'ddsp.spectral_ops:CREPE_FRAME_SIZE': 1024,
    'ddsp.spectral_ops:F0_RANGE': 127.0,
    'ddsp.spectral_ops:DB_RANGE': 80.0,
    'ddsp.training.preprocessing:F0_RANGE': 127.0,
    'ddsp.training.preprocessing:DB_RANGE': 80.0,
    'ddsp.training.metrics:MIN_F0_CONFIDENCE': 0.85,
    'ddsp.training.metrics:OUTLIER_MIDI_THRESH': 12,
    'ddsp.training.heuristics:DDSP_DEFAULT_FRAME_RATE': 250,
    'ddsp.training.plotting:DEFAULT_SAMPLE_RATE': 16000,
}


@pytest.mark.parametrize('name', MODULES)
def test_module_path_exists(name):
  assert importlib.util.find_spec(name) is not None


def test_import_ddsp_exposes_the_3_7_0_modules():
  for name in ('core', 'dags', 'effects', 'losses', 'processors',
               'spectral_ops', 'synths'):
    assert getattr(ddsp, name).__name__ == f'ddsp.{name}'


def test_star_import_gives_the_3_7_0_modules():
  namespace = {}
  exec('from ddsp import *', namespace)  # pylint: disable=exec-used
  assert {'core', 'dags', 'effects', 'losses', 'processors', 'spectral_ops',
          'synths'} <= set(namespace)


def test_import_ddsp_training_exposes_its_modules():
  for name in TRAINING_MODULES:
    assert getattr(ddsp.training, name).__name__ == f'ddsp.training.{name}'


@pytest.mark.parametrize('path', sorted(CONSTANTS))
def test_constant(path):
  value = _resolve(path)
  assert value == CONSTANTS[path] and type(value) is type(CONSTANTS[path])


def test_spectral_ops_has_no_ld_range():
  assert not hasattr(ddsp.spectral_ops, 'LD_RANGE')


# ------------------------------------------------------------------------------
# Shipped gin files and TFRecord features
# ------------------------------------------------------------------------------
GIN_FILES = (
    'datasets/base.gin datasets/nsynth.gin datasets/tfrecord.gin '
    'eval/basic.gin eval/basic_f0_ld.gin eval/basic_f0_ld_twm.gin '
    'eval/heuristic.gin eval/heuristic_power.gin eval/midi_ae.gin '
    'models/ae.gin models/solo_instrument.gin models/vst/vst.gin '
    'models/vst/vst_32k.gin models/vst/vst_48k.gin optimization/base.gin '
    'optimization/base_tpu.gin papers/iclr2020/nsynth_ae.gin '
    'papers/iclr2020/solo_instrument.gin papers/iclr2020/tiny_instrument.gin '
    'papers/icml2020/finetune_dataset.gin papers/icml2020/finetune_model.gin '
    'papers/icml2020/pretrain_dataset.gin papers/icml2020/pretrain_model.gin'
).split()


def test_package_gin_directory_holds_the_23_config_files():
  gin_dir = pathlib.Path(ddsp.training.__file__).parent / 'gin'
  found = sorted(p.relative_to(gin_dir).as_posix()
                 for p in gin_dir.rglob('*.gin'))
  assert found == sorted(GIN_FILES)


@pytest.mark.parametrize('kwargs, n_frames', [
    ({}, 1000),
    ({'centered': True}, 1001),
    ({'frame_rate': 50, 'centered': True}, 201),
])
def test_tfrecord_features(kwargs, n_frames):
  provider = data.TFRecordProvider(file_pattern='unused', **kwargs)
  features = provider.features_dict
  assert list(features) == ['audio', 'audio_16k', 'f0_hz', 'f0_confidence',
                            'loudness_db']
  shapes = {key: list(f.shape) for key, f in features.items()}
  assert shapes == {'audio': [64000], 'audio_16k': [64000],
                    'f0_hz': [n_frames], 'f0_confidence': [n_frames],
                    'loudness_db': [n_frames]}
  assert all(f.dtype.name == 'float32' for f in features.values())
  legacy = data.LegacyTFRecordProvider(file_pattern='unused', **kwargs)
  assert 'audio_16k' not in legacy.features_dict


def test_synthetic_notes_features():
  features = data.SyntheticNotes(125, 100, 65, file_pattern='x').features_dict
  shapes = {key: list(f.shape) for key, f in features.items()}
  assert shapes == {'f0_hz': [125, 1], 'harm_amp': [125, 1],
                    'harm_dist': [125, 100], 'sin_amps': [125, 100],
                    'sin_freqs': [125, 100], 'noise_magnitudes': [125, 65]}


# ------------------------------------------------------------------------------
# Command lines
# ------------------------------------------------------------------------------
FLAGS = {
    'ddsp.training.ddsp_run': {
        'mode': ('string enum', 'train', {'train', 'eval', 'sample'}),
        'save_dir': ('string', '/tmp/ddsp'),
        'restore_dir': ('string', ''),
        'tpu': ('string', ''),
        'cluster_config': ('string', ''),
        'allow_memory_growth': ('bool', False),
        'hypertune': ('bool', False),
        'early_stop_loss_value': ('float', None),
        'gin_search_path': ('multi string', []),
        'gin_file': ('multi string', []),
        'gin_param': ('multi string', []),
        'run_once': ('bool', False),
        'initial_delay_secs': ('int', None),
    },
    'ddsp.training.ddsp_export': {
        'name': ('string', ''),
        'model_path': ('string', ''),
        'save_dir': ('string', ''),
        'inference_model': ('string enum', 'streaming_f0_pw', {
            'autoencoder', 'streaming_f0_pw', 'vst_extract_features',
            'vst_predict_controls', 'vst_stateless_predict_controls',
            'vst_synthesize', 'vst_synthesize_harmonic',
            'vst_synthesize_noise'}),
        'gin_param': ('multi string', []),
        'debug': ('bool', False),
        'tfjs': ('bool', True),
        'tflite': ('bool', True),
        'metadata_file': ('string', None),
        'metadata': ('bool', True),
        'dataset_path': ('string', None),
        'reverb': ('bool', True),
        'reverb_sample_rate': ('int', 44100),
    },
    'ddsp.training.data_preparation.ddsp_prepare_tfrecord': {
        'input_audio_filepatterns': ('comma separated list of strings', []),
        'output_tfrecord_path': ('string', None),
        'num_shards': ('int', None),
        'sample_rate': ('int', 16000),
        'frame_rate': ('int', 250),
        'example_secs': ('float', 4.0),
        'hop_secs': ('float', 1.0),
        'eval_split_fraction': ('float', 0.0),
        'chunk_secs': ('float', 20.0),
        'center': ('bool', False),
        'viterbi': ('bool', True),
        'pipeline_options': ('comma separated list of strings',
                             ['--runner=DirectRunner']),
    },
    'ddsp.training.data_preparation.ddsp_generate_synthetic_dataset': {
        'output_tfrecord_path': ('string', None),
        'num_shards': ('int', None),
        'num_examples': ('int', 1000000),
        'random_seed': ('int', 42),
        'pipeline_options': ('comma separated list of strings',
                             ['--runner=DirectRunner']),
        'gin_search_path': ('multi string', []),
        'gin_file': ('multi string', []),
        'gin_param': ('multi string', []),
    },
}

CONSOLE_SCRIPTS = ('ddsp_run', 'ddsp_export', 'ddsp_prepare_tfrecord',
                   'ddsp_generate_synthetic_dataset', 'ddsp_ai_platform')

# `ddsp_export` and `ddsp_generate_synthetic_dataset` define flags that
# `ddsp_run` and `ddsp_prepare_tfrecord` define too (`save_dir`,
# `output_tfrecord_path`, as in 3.7.0), so each is imported in a fresh
# interpreter, which reports its flags and its functions' signatures
# (annotations dropped, defaults by repr).
_PROBE = '''
import importlib, inspect, json, sys
from absl import flags
module = importlib.import_module(sys.argv[1])
out = {'flags': {}, 'functions': {}}
for name in flags.FLAGS:
  flag = flags.FLAGS[name]
  enum = getattr(flag.parser, 'enum_values', None)
  out['flags'][name] = [flag.flag_type(), flag.default,
                        sorted(enum) if enum else None]
for name in json.loads(sys.argv[2]):
  fn = getattr(module, name, None)
  if fn is not None:
    signature = inspect.signature(fn)
    signature = signature.replace(
        parameters=[p.replace(annotation=p.empty)
                    for p in signature.parameters.values()],
        return_annotation=signature.empty)
    out['functions'][name] = str(signature)
print(json.dumps(out))
'''
PROBED_MODULES = ('ddsp.training.ddsp_export',
                  'ddsp.training.data_preparation.'
                  'ddsp_generate_synthetic_dataset')


def _flag_report(flag):
  enum = getattr(flag.parser, 'enum_values', None)
  return [flag.flag_type(), flag.default, sorted(enum) if enum else None]


@pytest.fixture(scope='module')
def cli_reports():
  """{module: {'flags': {name: [type, default, enum]}, 'functions': {...}}}.

  Functions map to a callable with the module function's signature.
  """
  from absl import flags  # pylint: disable=g-import-not-at-top
  processes = {
      module: subprocess.Popen(
          [sys.executable, '-c', _PROBE, module,
           json.dumps(list(CLI_FUNCTIONS[module]))],
          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
      for module in PROBED_MODULES}
  reports = {}
  for module_name in FLAGS:
    if module_name in processes:
      continue
    module = importlib.import_module(module_name)
    defining = module.console_entry_point.__module__
    reports[module_name] = {
        'flags': {name: _flag_report(flags.FLAGS[name])
                  for name in FLAGS[module_name] if name in flags.FLAGS and
                  flags.FLAGS.find_module_defining_flag(name) == defining},
        'functions': {name: getattr(module, name)
                      for name in CLI_FUNCTIONS[module_name]
                      if hasattr(module, name)}}
  for module_name, process in processes.items():
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    functions = {}
    for name, signature in report['functions'].items():
      namespace = {}
      definition = f'def {name}{signature}: pass'
      exec(definition, namespace)  # pylint: disable=exec-used
      functions[name] = namespace[name]
    reports[module_name] = {'flags': report['flags'], 'functions': functions}
  return reports


@pytest.mark.parametrize('module', sorted(FLAGS))
def test_cli_flags_names_types_and_defaults(module, cli_reports):
  flags_found = cli_reports[module]['flags']
  for name, expected in FLAGS[module].items():
    assert name in flags_found, f'--{name} missing'
    flag_type, default, enum = flags_found[name]
    assert flag_type == expected[0], name
    assert default == expected[1] and type(default) is type(expected[1]), name
    if len(expected) > 2:
      assert set(enum) == expected[2], name


CLI_FUNCTION_CASES = [
    pytest.param(module, name, marks=pytest.mark.xfail(
        reason=KNOWN_GAPS[(module, name)], strict=True))
    if (module, name) in KNOWN_GAPS else (module, name)
    for module, functions in CLI_FUNCTIONS.items() for name in functions]


@pytest.mark.parametrize('module, name', CLI_FUNCTION_CASES)
def test_cli_module_function_signature(module, name, cli_reports):
  functions = cli_reports[module]['functions']
  assert name in functions, f'{module}.{name} missing'
  assert signature_problems(functions[name],
                            CLI_FUNCTIONS[module][name]) == []


def test_console_scripts_are_installed_and_point_at_entry_points():
  scripts = {ep.name: ep for ep in importlib.metadata.entry_points(
      group='console_scripts') if ep.dist and ep.dist.name == 'ddsp'}
  for name in CONSOLE_SCRIPTS:
    assert name in scripts, name
    assert scripts[name].attr == 'console_entry_point'
    assert importlib.util.find_spec(scripts[name].module) is not None


def test_ddsp_run_gin_path_is_the_package_gin_directory(cli_reports):
  del cli_reports  # Imported ddsp_run.
  from ddsp.training import ddsp_run  # pylint: disable=g-import-not-at-top
  assert pathlib.Path(ddsp_run.GIN_PATH).resolve() == (
      pathlib.Path(ddsp.training.__file__).parent / 'gin').resolve()


def test_ddsp_ai_platform_keeps_its_flags_and_explains_the_retirement():
  result = subprocess.run(
      [sys.executable, '-m', 'ddsp.training.docker.ddsp_ai_platform',
       '--data_path=x', '--save_dir=y', '--project_id=p', '--region=r',
       '--batch_size=16', '--learning_rate=1e-3', '--num_steps=10',
       '--steps_per_summary=5', '--steps_per_save=5', '--restore_dir=',
       '--config_path=', '--early_stop_loss_value='],
      capture_output=True, text=True, check=False)
  assert result.returncode == 2
  assert 'AI Platform Training has been retired' in result.stderr
