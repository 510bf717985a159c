# agentrec — two commands set everything up:  make demo  |  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

# Real data: ../shared/data when present (this project's machines), else the user's cache
# (MovieLens archives are downloaded and checksummed on first use).
ifneq ($(wildcard ../shared/data),)
export AGENTREC_DATA_DIR ?= $(abspath ../shared/data)
endif
export AGENTREC_ARTIFACTS_DIR ?= $(abspath artifacts)
DATASET ?= ml-latest-small

# Offline by default: nothing reaches a model hub; no analytics.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY ?= 1
export GRADIO_ANALYTICS_ENABLED ?= False
export ANONYMIZED_TELEMETRY ?= False
export TOKENIZERS_PARALLELISM ?= false

.PHONY: demo test docs lint typecheck unit install install-dev browser-deps postgres-deps clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e '.[all]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: set up, build what the default dataset needs, run the main job.
## (DEMO_SERVE=0 skips starting the app; HOST/PORT choose where it listens.)
DEMO_SERVE ?= 1
HOST ?= 127.0.0.1
PORT ?= 7860
demo: install
	$(VENV)/bin/agentrec demo --dataset $(DATASET)
	@if [ "$(DEMO_SERVE)" != 0 ]; then \
	  echo "Starting the chat app on http://$(HOST):$(PORT)  (Ctrl-C stops it)"; \
	  $(VENV)/bin/agentrec serve --dataset $(DATASET) --host $(HOST) --port $(PORT); \
	fi

## make test: lint, types, unit + integration (+ notebook and browser) tests.
test: install-dev browser-deps postgres-deps
	$(MAKE) lint typecheck unit

lint: install-dev
	$(VENV)/bin/ruff check agentrec tests bench app.py
	$(VENV)/bin/ruff format --check agentrec tests bench app.py

typecheck: install-dev
	$(VENV)/bin/mypy

unit: install-dev
	$(VENV)/bin/pytest -q

## make docs: execute every tutorial in small mode and publish it with its outputs as docs/tutorials/<name>.html
## (machine paths stripped; a few minutes). NOTEBOOKS="01_data 04_evaluation" publishes only those.
docs: install-dev
	$(PY) tutorials/publish.py --out docs/tutorials $(NOTEBOOKS)

## Headless Chromium from Debian for the browser tests (never a downloaded browser); only when missing.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium chromium-driver; \
	fi

## PostgreSQL server binaries from Debian for the shared-profiles tests (each test run starts its own
## server on 127.0.0.1 in a temporary folder); only when missing.
postgres-deps:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql; \
	fi

clean:
	rm -rf $(VENV) artifacts test-artifacts .pytest_cache .mypy_cache .ruff_cache
