"""Tests of ddsp.validation: the one gate for arguments and audio."""
import numpy as np
import pytest

from ddsp import validation


def test_messages_name_the_argument_the_expectation_and_the_value():
  with pytest.raises(validation.ParameterError) as info:
    validation.positive_int(-5, 'n_samples')
  assert str(info.value) == (
      'Received an invalid value for `n_samples`, expected a positive '
      'integer. Received: n_samples=-5')


@pytest.mark.parametrize('check, value', [
    (validation.positive_int, 0), (validation.positive_int, 2.0),
    (validation.positive_int, True), (validation.non_negative_int, -1),
    (validation.positive_number, 0.0), (validation.positive_number, np.inf),
    (validation.positive_number, 'x'), (validation.non_negative_number, -1e-9),
])
def test_number_checks_reject(check, value):
  with pytest.raises(validation.ParameterError, match='`x`'):
    check(value, 'x')


def test_number_checks_accept_and_return():
  assert validation.positive_int(np.int64(3), 'x') == 3
  assert validation.non_negative_int(0, 'x') == 0
  assert validation.positive_number(0.5, 'x') == 0.5
  assert validation.number_in_range(0.0, 'x', 0.0, 1.0) == 0.0
  with pytest.raises(validation.ParameterError, match=r'\[0, 1\)'):
    validation.number_in_range(1.0, 'x', 0.0, 1.0)
  assert validation.one_of('a', 'x', ('a', 'b')) == 'a'
  with pytest.raises(validation.ParameterError, match=r"one of \('a', 'b'\)"):
    validation.one_of('c', 'x', ('a', 'b'))


def test_valid_audio_returns_float32_without_copying():
  audio = np.zeros([2, 100], np.float32)
  assert validation.valid_audio(audio) is audio
  ints = validation.valid_audio(np.array([1, 2, 3], np.int16))
  assert ints.dtype == np.float32


@pytest.mark.parametrize('audio, kwargs, message', [
    (np.zeros([16000, 2]), {}, r'looks like \[n_samples, n_channels\]'),
    (np.zeros([2, 2, 2]), {}, r'shape \[2, 2, 2\]'),
    (np.zeros([4, 100, 2]), {'ndims': (3,)}, r'\[batch, n_samples, 1\]'),
    (np.zeros(0), {}, 'holds 0 samples'),
    (np.zeros(10), {'min_samples': 1024}, 'expected at least 1024'),
    (np.array([0.0, np.nan, np.inf]), {}, '2 NaN or infinite'),
    (np.array(['a']), {}, 'dtype'),
    (np.zeros([2, 100]), {'ndims': (1,)}, r'\[n_samples\] mono'),
])
def test_valid_audio_rejects(audio, kwargs, message):
  with pytest.raises(validation.ParameterError, match=message):
    validation.valid_audio(audio, **kwargs)


def test_channel_layout_accepts_file_audio():
  stereo = validation.valid_audio(np.zeros([16000, 2]), layout='channels')
  assert stereo.shape == (16000, 2)


def test_unknown_dimensions_pass_the_shape_check():
  validation.audio_shape([None, None])
  validation.audio_shape([None, 64000])


def test_whole_count():
  assert validation.whole_count(4, 250, 'example_secs', 'frame_rate=250') == 1000
  assert validation.whole_count(0.3, 250, 'example_secs', 'rate') == 75
  with pytest.raises(validation.ParameterError,
                     match=r'example_secs=0.21 s is 52.5 .* frame_rate=250'):
    validation.whole_count(0.21, 250, 'example_secs', 'frame_rate=250')
