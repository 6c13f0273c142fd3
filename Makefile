# Two commands on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo demo-clean quickstart bench install clean

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --upgrade pip setuptools wheel

# Reinstall only when the package metadata changes (the install is editable).
$(STAMP): $(VENV_PYTHON) setup.py pyproject.toml
	$(VENV_PYTHON) -m pip install -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV_PYTHON) -m ruff check .

# pytest exits 5 when it collects no tests; that is not a failure here.
test: lint
	$(VENV_PYTHON) -m pytest -n 2 --dist loadfile -q; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; \
	  exit $$status

# The whole pipeline on bundled clips (prepare, train, export, on-device
# timbre transfer) -> out/demo/report.html; finished stages are reused.
# `make demo DEMO_FLAGS='--steps 800'` passes flags to demo/run_demo.py.
demo: $(STAMP)
	$(VENV_PYTHON) demo/run_demo.py --out_dir out/demo $(DEMO_FLAGS)

demo-clean:
	rm -rf out/demo

# One synthesised note (no training): out/quickstart.wav + a spectrogram.
quickstart: $(STAMP)
	$(VENV_PYTHON) demo/quickstart.py --out_dir out

# Every bench/*_bench.py with quick settings -> bench/RESULTS.md
# (`make bench BENCH_FLAGS=--full` for each script's full defaults).
bench: $(STAMP)
	$(VENV_PYTHON) bench/run_all.py $(BENCH_FLAGS)

clean:
	rm -rf out build *.egg-info
