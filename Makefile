# fm-audit: set-up, audit, tests, dashboard, benchmarks.
# `make audit` and `make test` each do the whole set-up on a fresh machine.
#
# TORCH pins the PyTorch build. The default is the CPU build used by CI.
# A GPU user overrides it, e.g. `make install TORCH=torch==2.13.0`
# (and PIP_TORCH_ARGS="--index-url <your PyTorch index>" if needed).

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0+cpu
PIP_TORCH_ARGS ?=
MODEL ?= packaged:smollm2-135m-instruct
PROFILE ?= quick
REPORTS ?= reports
PYTEST_ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.fm-audit-installed
# The browser tests (dashboard) and PDF export drive Debian's Chromium; never a downloaded one.
CHROMIUM := /usr/bin/chromium

.PHONY: install audit test lint dashboard bench clean

install: $(STAMP) $(CHROMIUM)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests skip without it)."; \
	fi

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

audit: install
	$(BIN)/fm-audit run --model $(MODEL) --profile $(PROFILE) --out $(REPORTS)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

dashboard: install
	$(BIN)/fm-audit dashboard $(REPORTS)

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
