# The project's verbs. `make run` and `make test` work on a machine with only Python 3.11+
# and make: everything else is installed into .venv, once (stamp files remember what was
# installed from which pyproject.toml, so repeated runs start at once).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST_ARGS ?=
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-dev run test chaos lint fmt worker bench migrate clean

help:
	@echo "make run          install, migrate SQLite, seed the demo, serve http://localhost:$(PORT)"
	@echo "make test         install dev tools and run the whole suite (PYTEST_ARGS=... to pass options)"
	@echo "make chaos        the fault suite at the issue's size (10,000 subscribers), with its table"
	@echo "make lint         ruff check, ruff format --check, makemigrations --check"
	@echo "make fmt          format and fix what ruff can"
	@echo "make worker       an RQ worker with its scheduler (needs REDIS_URL)"
	@echo "make bench        the benchmarks in bench/"
	@echo "make install      runtime dependencies into .venv;  make install-dev  plus the dev tools"
	@echo "make migrate      apply migrations;  make clean  remove .venv, var/ and caches"

# The virtualenv. A failed `venv` (Debian without python3-venv) must not leave a half-made
# .venv behind that later runs would take for a good one.
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0)' 2>/dev/null || { \
		echo "error: '$(PYTHON)' was not found; install Python 3.11+ or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "error: Python 3.11 or newer is needed, $(PYTHON) is %d.%d; run make PYTHON=python3.11 (or newer)" % v[:2])'
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install python3-venv" >&2; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

# The dev extras include the runtime dependencies, so they satisfy both stamps.
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

# Without REDIS_URL, run_periodic_jobs runs the periodic jobs in its own process beside the
# server; the trap stops it (and waits for it) whenever runserver ends, Ctrl-C included.
run: export SITE_PORT = $(PORT)
run: migrate
	$(PY) manage.py seed_demo
	@echo
	@echo "  Console:   http://localhost:$(PORT)   (log in as owner@acme.test / demo12345)"
	@echo "  Demo page: http://acme.localhost:$(PORT)"
	@echo
	@$(PY) manage.py run_periodic_jobs & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null; wait $$periodic 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 0.0.0.0:$(PORT)

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

# The fault suite (tests/reliability) at the issue's size: 10,000 subscribers, Redis down 60 s,
# PostgreSQL down 30 s, SMTP 451 for 2 minutes, a storm of 2,000 alerts. It starts its own
# gunicorn, workers, Redis and SMTP sink against a test database on DATABASE_URL's PostgreSQL,
# and prints the table of figures at the end (also written to var/chaos.json).
chaos: install-dev
	@case "$$DATABASE_URL" in postgres*) ;; *) \
		echo "error: make chaos needs PostgreSQL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/statuspage make chaos" >&2; \
		exit 1;; esac
	@mkdir -p var
	CHAOS_SCALE=big CHAOS_RESULTS=var/chaos.json $(BIN)/pytest tests/reliability -m chaos -p no:cacheprovider $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

fmt: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	@[ -n "$$REDIS_URL" ] || { \
		echo "error: make worker needs REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379/0 make worker" >&2; \
		echo "       (without it the app runs its jobs in-process and a worker would get nothing)" >&2; \
		exit 1; }
	$(PY) manage.py rqworker default --with-scheduler

bench: install-dev
	@set -e; found=0; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "==== $$script"; $(PY) "$$script"; \
	done; [ $$found = 1 ] || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache *.egg-info
