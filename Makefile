# Inflow: `make run` (demo on the embedded default) and `make test` (the suite on PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite's services (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/inflow
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/inflow_bench

.PHONY: run pdf-check test lint bench messages venv deps dev-deps migrate seed clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.deps

venv: $(VENV)/bin/activate
deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

migrate: deps
	$(PY) manage.py migrate --no-input --verbosity 0

seed: migrate
	$(PY) manage.py seed_demo

## The app with realistic demo data on the embedded default: SQLite, in-process tasks, mail outbox.
run: seed pdf-check
	@echo "Inflow: http://$(HOST):$(PORT)/  (PORT=8080 make run for another port)"
	@echo "Sign in with a demo user above (password inflow-demo); support staff: http://$(HOST):$(PORT)/admin/ as demo-support"
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py runserver $(HOST):$(PORT)

## The weekly PDF (WeasyPrint) needs Pango and HarfBuzz, and Noto Sans CJK for Chinese: say what is
## missing (the rest of the app runs without them).
PDF_LIBS := libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0
pdf-check:
	@missing=""; \
	for lib in $(PDF_LIBS); do \
		{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q "$$lib" || missing="$$missing $$lib"; \
	done; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$$missing Noto-Sans-CJK"; \
	if [ -n "$$missing" ]; then \
		echo "warning: PDFs cannot be rendered, missing:$$missing" >&2; \
		echo "  Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk" >&2; \
	fi

## The full test suite on PostgreSQL and Redis (both must be running; .ci/run starts them).
test: dev-deps
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=true \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

## Every benchmark on PostgreSQL, each on its own database, then one summary table (bench/README.md).
## dev-deps: the Monday bench mails through aiosmtpd (requirements-dev.txt); bench.load needs wrk (Debian).
## SIZES=10000,1000000 is the full run; BENCH_ARGS="--quick" checks in minutes that every bench still runs.
SIZES ?= 10000,1000000
BENCH_ARGS ?=
bench: dev-deps
	$(PY) -m bench.all --sizes $(SIZES) $(BENCH_ARGS)

## Refresh translations after changing UI strings.
messages: dev-deps
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var db.sqlite3* .pytest_cache .ruff_cache
