"""Tests for ddsp.audio_io: decoding, downmixing, resampling and errors."""
import logging
import pathlib

import numpy as np
import pytest
import soundfile as sf

from ddsp import audio_io

ODD_DIR = pathlib.Path(__file__).parent / 'data' / 'odd'


def _sine(freq_hz, secs, sample_rate, amplitude=0.5):
  t = np.arange(int(secs * sample_rate)) / sample_rate
  return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _peak_frequency(audio, sample_rate):
  spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
  return np.argmax(spectrum) * sample_rate / len(audio)


@pytest.mark.parametrize('name, rate, n_samples', [
    ('flute_44k1_mono.mp3', 44100, 222336),  # 5.042 s: encoder delay/padding.
    ('violin_22k05_mono.ogg', 22050, 110250),
    ('very_short_0p2s.wav', 16000, 3200),
    ('silent_3s.wav', 16000, 48000),
])
def test_read_audio_returns_native_rate_and_length(name, rate, n_samples):
  audio, sample_rate = audio_io.read_audio(ODD_DIR / name)
  assert sample_rate == rate
  assert audio.shape == (n_samples,)
  assert audio.dtype == np.float32
  assert np.max(np.abs(audio)) <= 1.0


@pytest.mark.parametrize('name, secs', [
    ('flute_44k1_mono.mp3', 222336 / 44100),
    ('violin_22k05_mono.ogg', 5.0),
])
def test_load_audio_resamples_compressed_files_to_16k(name, secs):
  audio = audio_io.load_audio(ODD_DIR / name, sample_rate=16000)
  assert audio.shape == (int(secs * 16000),)
  assert 0.5 < np.max(np.abs(audio)) <= 1.0


def test_24_bit_wave_extensible_file_loads_with_full_precision(tmp_path):
  path = tmp_path / 'sine_24bit.wav'
  sine = _sine(440.0, 1.0, 48000)
  sf.write(path, sine, 48000, subtype='PCM_24', format='WAVEX')
  assert sf.info(path).format == 'WAVEX'
  audio, sample_rate = audio_io.read_audio(path)
  assert sample_rate == 48000
  np.testing.assert_allclose(audio, sine, atol=2.0**-22)


def test_stereo_is_downmixed_by_channel_mean(tmp_path):
  path = tmp_path / 'stereo.wav'
  left, right = _sine(440.0, 0.5, 44100), _sine(660.0, 0.5, 44100, 0.25)
  sf.write(path, np.stack([left, right], axis=1), 44100, subtype='FLOAT')
  audio, _ = audio_io.read_audio(path)
  np.testing.assert_allclose(audio, (left + right) / 2, atol=1e-7)
  both, _ = audio_io.read_audio(path, mono=False)
  assert both.shape == (22050, 2)


def test_resampled_sine_keeps_its_frequency():
  sine = _sine(1000.0, 2.0, 44100)
  resampled = audio_io.resample(sine, 44100, 16000)
  assert resampled.shape == (32000,)
  assert abs(_peak_frequency(resampled, 16000) - 1000.0) <= 0.5
  # A tone above the new Nyquist frequency is removed, not aliased.
  removed = audio_io.resample(_sine(10000.0, 1.0, 44100), 44100, 16000)
  assert np.sqrt(np.mean(removed[1000:-1000]**2)) < 1e-3


@pytest.mark.parametrize('n_samples, source, target, expected', [
    (22050, 44100, 16000, 8000),
    (3201, 44100, 16000, 1161),  # floor(3201 * 16000 / 44100) = 1161.36.
    (101, 16000, 48000, 303),
])
def test_resample_length_is_floor_of_duration_times_rate(
    n_samples, source, target, expected):
  out = audio_io.resample(np.zeros(n_samples, np.float32), source, target)
  assert out.shape == (expected,)


def test_truncated_file_loads_present_samples_and_warns(caplog):
  with caplog.at_level(logging.WARNING, logger='ddsp.audio_io'):
    audio, sample_rate = audio_io.read_audio(
        ODD_DIR / 'truncated_header_says_5s.wav')
  assert sample_rate == 16000
  assert audio.shape == (16000,)
  assert 'truncated' in caplog.text
  assert '5.00 s' in caplog.text and '1.00 s' in caplog.text


def test_clipped_file_loads_and_warns(tmp_path, caplog):
  path = tmp_path / 'clipped.wav'
  sf.write(path, np.clip(4 * _sine(440.0, 1.0, 16000), -1, 1), 16000)
  with caplog.at_level(logging.WARNING, logger='ddsp.audio_io'):
    audio, _ = audio_io.read_audio(path)
  assert np.max(np.abs(audio)) <= 1.0
  assert 'clipped' in caplog.text


def test_silent_file_loads_as_zeros():
  audio, _ = audio_io.read_audio(ODD_DIR / 'silent_3s.wav')
  assert not np.any(audio)


@pytest.mark.parametrize('name, reason', [
    ('empty_0_bytes.wav', 'empty'),
    ('not_audio_text.wav', 'not a recognised audio file'),
])
def test_unreadable_files_raise_error_naming_the_file(name, reason):
  with pytest.raises(audio_io.AudioLoadError, match=reason) as error:
    audio_io.read_audio(ODD_DIR / name)
  assert name in str(error.value)
  assert error.value.path.endswith(name)
  assert isinstance(error.value, ValueError)


def test_missing_file_raises_audio_load_error(tmp_path):
  with pytest.raises(audio_io.AudioLoadError, match='not found'):
    audio_io.read_audio(tmp_path / 'nope.wav')


def test_file_with_header_but_no_samples_raises(tmp_path):
  path = tmp_path / 'no_frames.wav'
  sf.write(path, np.zeros(0, np.float32), 16000)
  with pytest.raises(audio_io.AudioLoadError, match='no audio samples'):
    audio_io.read_audio(path)


def test_file_with_nan_samples_raises(tmp_path):
  path = tmp_path / 'nan.wav'
  sf.write(path, np.array([0.0, np.nan, 0.5], np.float32), 16000,
           subtype='FLOAT')
  with pytest.raises(audio_io.AudioLoadError, match='NaN'):
    audio_io.read_audio(path)


def test_file_objects_are_read_like_paths():
  with open(ODD_DIR / 'very_short_0p2s.wav', 'rb') as f:
    from_file, rate = audio_io.read_audio(f)
  from_path, _ = audio_io.read_audio(ODD_DIR / 'very_short_0p2s.wav')
  assert rate == 16000
  np.testing.assert_array_equal(from_file, from_path)


@pytest.mark.parametrize('bad, message', [
    (np.zeros((2, 2, 2)), r'shape \[2, 2, 2\]; expected \[n_samples\]'),
    (np.zeros(0), '0 samples'),
    (np.array([0.0, np.inf]), 'NaN or infinite'),
    (np.array(['a', 'b']), 'dtype'),
])
def test_validate_audio_rejects_unusable_arrays(bad, message):
  with pytest.raises(audio_io.AudioError, match=message):
    audio_io.validate_audio(bad)


def test_validate_audio_accepts_integers_as_float32():
  out = audio_io.validate_audio(np.array([[1, 2], [3, 4]], np.int16))
  assert out.dtype == np.float32 and out.shape == (2, 2)


@pytest.mark.parametrize('name, rate, secs, channels', [
    ('trumpet_44k1_stereo.wav', 44100, 5.0, 2),
    ('cello_48k_24bit.wav', 48000, 5.0, 1),
    ('clipped_overdriven.wav', 16000, 5.0, 1),
])
def test_shared_odd_files_load_at_16k(shared_instruments_dir, name, rate, secs,
                                      channels):
  path = shared_instruments_dir / 'odd' / name
  multichannel, file_rate = audio_io.read_audio(path, mono=False)
  assert file_rate == rate
  assert multichannel.shape == (int(secs * rate), channels)
  audio = audio_io.load_audio(path, 16000)
  assert audio.shape == (int(secs * 16000),)
  assert np.max(np.abs(audio)) <= 1.0 + 1e-3
