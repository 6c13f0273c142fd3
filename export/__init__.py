"""Export of trained DDSP models for on-device, real-time synthesis.

TensorFlow side (converting):
- `streaming_synth`: harmonic + filtered-noise synthesis of whole hops with
  explicit state, in TFLite builtin ops;
- `feature_model`: CREPE f0 and frame power/loudness of one audio frame;
- `control_model`: decoder + synth scaling, one frame and recurrent state;
- `tflite_convert`: frozen, builtins-only conversion with the names the
  DDSP-VST plugin expects;
- `bundle`: writes the three models and `bundle.json` for the runtime.

TensorFlow-free side (running and checking):
- `runtime`: `StreamingSynth` and offline rendering with LiteRT and numpy;
- `render`: the `ddsp_render` command line;
- `tflite_check`, `metadata`: op lists, runtime versions, the plugin's model
  interface and the metadata zip.

This package imports nothing itself, so `import ddsp.export.runtime` loads no
TensorFlow.
"""
