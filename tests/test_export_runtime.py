"""The TensorFlow-free runtime and the `ddsp_render` CLI."""

import json
import subprocess
import sys
import textwrap

from conftest import TEST_DATA_DIR
import export_testing
import numpy as np
import pytest
import soundfile as sf

from ddsp.export import runtime


@pytest.fixture(scope='module')
def bundle_dir(tmp_path_factory):
  return export_testing.build_bundle(tmp_path_factory.mktemp('b') / 'bundle')


def _run_python(code: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                        capture_output=True, text=True, timeout=300)


def _ddsp_package_imports_tensorflow() -> bool:
  result = _run_python("""
      import sys
      import ddsp
      print('tensorflow' in sys.modules)""")
  return result.stdout.strip() == 'True'


def test_runtime_renders_without_importing_tensorflow(bundle_dir):
  if _ddsp_package_imports_tensorflow():
    pytest.xfail('`import ddsp` itself imports TensorFlow (ddsp/__init__ '
                 'is not lazy yet), so no ddsp.* module can avoid it.')
  result = _run_python(f"""
      import sys
      import numpy as np
      from ddsp.export import runtime
      audio = 0.1 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)
      synth = runtime.StreamingSynth({str(bundle_dir)!r})
      out = np.concatenate([synth.process(audio[i:i + 500])
                            for i in range(0, 8000, 500)])
      offline = runtime.timbre_transfer({str(bundle_dir)!r}, audio)
      assert np.abs(out).max() > 0 and np.isfinite(offline).all()
      heavy = [m for m in sys.modules
               if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')]
      print(heavy)""")
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == '[]'


def test_render_cli_writes_the_streamed_audio(bundle_dir, tmp_path):
  output = tmp_path / 'out.wav'
  result = subprocess.run(
      [sys.executable, '-m', 'ddsp.export.render', f'--bundle_dir={bundle_dir}',
       f'--input={TEST_DATA_DIR / "violin_excerpt.flac"}',
       f'--output={output}', '--block_size=300', '--seed=3'],
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  assert 'real time' in result.stdout
  rendered, sample_rate = sf.read(output, dtype='float32')
  audio, _ = sf.read(TEST_DATA_DIR / 'violin_excerpt.flac', dtype='float32')
  assert sample_rate == 16000 and len(rendered) == len(audio)
  # Trimmed by the latency: sample t is what the offline render makes at t.
  offline = runtime.timbre_transfer(bundle_dir, audio, seed=3)
  np.testing.assert_array_equal(rendered, offline[:len(audio)])


def _render(*flags):
  return subprocess.run([sys.executable, '-m', 'ddsp.export.render', *flags],
                        capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('input_name, bundle, cause', [
    ('odd/not_audio_text.wav', None, 'not_audio_text.wav'),
    ('missing.wav', None, 'missing.wav'),
    ('violin_excerpt.flac', 'empty', 'no bundle.json'),
])
def test_render_cli_reports_bad_input_in_one_line(bundle_dir, tmp_path,
                                                  input_name, bundle, cause):
  if bundle:
    bundle = tmp_path / bundle
    bundle.mkdir()
  result = _render(f'--bundle_dir={bundle or bundle_dir}',
                   f'--input={TEST_DATA_DIR / input_name}',
                   f'--output={tmp_path / "out.wav"}')
  assert result.returncode == 2
  (line,) = result.stderr.splitlines()
  assert line.startswith('ddsp_render: error: ') and cause in line
  assert not (tmp_path / 'out.wav').exists()


def test_render_cli_full_or_read_only_output_leaves_nothing(bundle_dir,
                                                            tiny_tmpfs):
  full, read_only = tiny_tmpfs
  violin = TEST_DATA_DIR / 'violin_excerpt.flac'
  # 4 s of float WAV (256 kB) does not fit in 64 kB.
  result = _render(f'--bundle_dir={bundle_dir}', f'--input={violin}',
                   f'--output={full / "out.wav"}')
  assert result.returncode == 1
  # LiteRT's own log ('INFO: Created TensorFlow Lite XNNPACK delegate'), then
  # the error.
  *_, line = result.stderr.splitlines()
  assert 'Traceback' not in result.stderr
  assert f'no space left to write {full / "out.wav"}' in line
  assert 'free some space' in line
  assert list(full.iterdir()) == []
  # Checked before rendering.
  result = _render(f'--bundle_dir={bundle_dir}', f'--input={violin}',
                   f'--output={read_only / "out.wav"}')
  assert result.returncode == 2
  (line,) = result.stderr.splitlines()
  assert f'cannot write {read_only} (Read-only file system)' in line


def test_bundle_errors_name_the_problem(bundle_dir, tmp_path):
  with pytest.raises(runtime.BundleError, match='no bundle.json'):
    runtime.Bundle(tmp_path)
  (tmp_path / 'bundle.json').write_text(json.dumps({'format': 99}))
  with pytest.raises(runtime.BundleError, match='format'):
    runtime.Bundle(tmp_path)
  config = json.loads((bundle_dir / 'bundle.json').read_text())
  (tmp_path / 'bundle.json').write_text(json.dumps(config))
  with pytest.raises(runtime.BundleError, match='features'):
    runtime.Bundle(tmp_path)


def test_model_inputs_are_checked(bundle_dir):
  model = runtime.Bundle(bundle_dir).model('features')
  with pytest.raises(ValueError, match="takes inputs \\['audio'\\]"):
    model(frame=np.zeros(1024, np.float32))
  synth = runtime.StreamingSynth(bundle_dir)
  with pytest.raises(ValueError, match='mono'):
    synth.process(np.zeros((10, 2), np.float32))
