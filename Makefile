# Two commands for a newcomer: `make run` and `make test`. Each one creates or
# refreshes the virtual environment first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint fake-api check bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

fake-api: $(STAMP)
	$(PY) -m bot fake-api

bench: $(STAMP)
	$(PY) bench/taskapi_lookups.py
	$(PY) bench/slash_acks.py
	$(PY) bench/watch_load.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
