# Two commands on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo bench install clean

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

demo: $(STAMP)
	$(VENV_PYTHON) demo/quickstart.py --out_dir out

bench: $(STAMP)
	$(VENV_PYTHON) bench/core_bench.py

clean:
	rm -rf out build *.egg-info
