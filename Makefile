# Two commands for a newcomer: `make run` and `make test`. Each one creates or
# refreshes the virtual environment first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
FAKE_API_PORT ?= 8765

.PHONY: run test lint fake-api demo bench mutation lock clean

# Every dependency comes from the hash-pinned lock (pip refuses any other artifact); the project
# itself then installs editable on top, with no dependency of its own to fetch (pip's
# hash-checking mode refuses editable installs, so it is a second step) and built by the
# locked setuptools. `pip check` makes sure the lock holds everything the project needs.
$(STAMP): pyproject.toml constraints-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r constraints-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e '.[dev]'
	$(PY) -m pip check
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/hadolint Dockerfile

test: lint
	$(PY) -m pytest

fake-api: $(STAMP)
	$(PY) -m bot fake-api --port $(FAKE_API_PORT)

# The real bot against the bundled fakes, in one command and with no settings.
# DEMO_ARGS=--interactive then takes typed /taskstatus lines.
demo: $(STAMP)
	$(PY) -m bot demo $(DEMO_ARGS)

bench: $(STAMP)
	$(PY) bench/taskapi_lookups.py
	$(PY) bench/slash_acks.py
	$(PY) bench/watch_load.py
	$(PY) bench/person_answer.py
	$(PY) bench/workspaces.py
	$(PY) bench/follow_burst.py
	$(PY) bench/parse_messages.py
	$(PY) bench/parse_worst.py
	$(PY) bench/fleet_load.py
	$(PY) bench/retention.py
	$(PY) bench/front_door_flood.py
	$(PY) bench/answer_cost.py
	$(PY) bench/request_path_cost.py
	$(PY) bench/lookup_cpu.py
	$(PY) bench/render_cost.py

# Mutation testing of the pure core (docs/development.md, docs/mutation-testing.md); not part of `make test`.
# MUTATION_JOBS: mutants tested at once (default: one per core).
mutation: $(STAMP)
	rm -rf mutants && mkdir mutants
	$(VENV)/bin/mutmut run $(if $(MUTATION_JOBS),--max-children $(MUTATION_JOBS)) \
		> mutants/run.log 2>&1 || { tail -c 3000 mutants/run.log; exit 1; }
	$(PY) bench/mutation_score.py --min 90

# Hash-pinned locks, made by uv (a dev dependency) from pyproject.toml: constraints.txt is what
# the image installs, constraints-dev.txt what `make` installs (the same versions, plus the dev
# tools). Both hold setuptools, which builds the project. Versions already locked are kept: after
# changing a pin in pyproject.toml run `make lock`; `make lock LOCK_ARGS=--upgrade` takes the
# newest releases the pins allow.
LOCK = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(STAMP)
	echo "setuptools>=68" | $(LOCK) pyproject.toml - --extra dev -o constraints-dev.txt
	echo "setuptools>=68" | $(LOCK) pyproject.toml - -c constraints-dev.txt -o constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache mutants
