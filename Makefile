# The project's verbs. `make run` and `make test` work on a machine with only Python 3.11+
# and make: everything else is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST_ARGS ?=
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-dev run test lint fmt worker bench migrate clean

help:
	@echo "make run      install, migrate SQLite, seed the demo, serve http://localhost:$(PORT)"
	@echo "make test     install dev tools and run the whole suite"
	@echo "make lint     ruff check, ruff format --check, makemigrations --check"
	@echo "make fmt      format and fix what ruff can"
	@echo "make worker   an RQ worker with its scheduler (needs REDIS_URL)"
	@echo "make bench    the benchmarks in bench/"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py seed_demo
	@echo
	@echo "  Console:   http://localhost:$(PORT)/   (owner@acme.test / demo12345)"
	@echo "  Demo page: http://acme.localhost:$(PORT)/"
	@echo
	@SITE_PORT=$(PORT) $(PY) manage.py run_periodic_jobs & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	SITE_PORT=$(PORT) $(PY) manage.py runserver 0.0.0.0:$(PORT)

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

fmt: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(PY) manage.py rqworker default --with-scheduler

bench: install-dev
	@set -e; found=0; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; $(PY) "$$script"; \
	done; [ $$found = 1 ] || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache *.egg-info
