# The only entry points a person needs: make dev, make test, make lint, make build, make bench.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# aws-sam-cli pins boto3/click versions that clash with the runtime pins: it gets its own venv, whose
# python3.13 (with pip) is first on PATH for sam build.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
# checkov and pip-audit pin libraries that clash with both: a third venv.
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
# Which samconfig.toml environment `make deploy` deploys: default (dev) or prod.
DEPLOY_ENV ?= default
SAM_ENV = PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" AWS_DEFAULT_REGION="$${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0

# Find a Python 3.13 by itself: PATH, pyenv, then the usual prefixes; each candidate must really run 3.13.
PYTHON313 ?= $(shell for c in python3.13 \
	"$$(pyenv prefix 3.13 2>/dev/null)/bin/python3.13" "$$(pyenv prefix 3.13.0 2>/dev/null)/bin/python3.13" \
	$$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do \
	"$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 && { command -v "$$c"; break; }; done)

REQS := requirements-dev.txt layers/common/requirements.txt functions/generation_worker/requirements.txt \
	functions/film_compiler/requirements.txt pyproject.toml

.PHONY: help venv dev test test-unit test-integration test-e2e lint format build deploy audit bench openapi clean chromium

help:
	@echo "make dev     run the whole system locally on http://127.0.0.1:$${PORT:-3000}"
	@echo "make test    run the whole test suite (unit, integration, e2e, browser) and print its coverage"
	@echo "make test-unit, make test-integration, make test-e2e   one part of the suite"
	@echo "make lint    ruff check, ruff format --check, mypy, node --check web/, sam validate --lint, checkov"
	@echo "make build   sam build (arm64 wheels for python3.13)"
	@echo "make deploy  sam build + sam deploy, then publish web/ (DEPLOY_ENV=prod for prod)"
	@echo "make audit   pip-audit of the pinned requirements (needs the vulnerability service)"
	@echo "make bench   benchmarks as ratios against in-run baselines"
	@echo "make openapi regenerate docs/openapi.json"

$(STAMP): $(REQS)
	@test -n "$(PYTHON313)" || { echo "error: no Python 3.13 found (install python3.13 or pyenv install 3.13)"; exit 1; }
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# $(call tool_venv,DIR,REQUIREMENTS): a venv of its own for tools whose pins clash with ours.
define tool_venv
	@test -n "$(PYTHON313)" || { echo "error: no Python 3.13 found (install python3.13 or pyenv install 3.13)"; exit 1; }
	@test -x $(1)/bin/python || $(PYTHON313) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -r $(2)
	@touch $(1)/.installed
endef

$(SAM_STAMP): requirements-sam.txt
	$(call tool_venv,$(SAM_VENV),requirements-sam.txt)

$(SCAN_STAMP): requirements-scan.txt
	$(call tool_venv,$(SCAN_VENV),requirements-scan.txt)

venv: $(STAMP)

dev: $(STAMP)
	$(PY) -m devstack

# Coverage of the layer, the functions, the local stack and the tooling (pyproject's
# [tool.coverage]); `.venv/bin/coverage report` afterwards lists it per file.
test: $(STAMP) $(SAM_STAMP) chromium
	$(PY) -m pytest --cov --cov-report=
	@echo "coverage: $$($(PY) -m coverage report --format=total)% of the lines of the layer, functions, local stack and tools"

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP) $(SAM_STAMP)
	$(PY) -m pytest tests/integration

test-e2e: $(STAMP) chromium
	$(PY) -m pytest tests/e2e

# The browser tests (tests/e2e/browser) drive Debian's chromium: Playwright cannot download
# browsers here. Installed with apt-get when missing (as root, as CI runs).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	  else \
	    echo "error: the browser tests need Debian's chromium: run 'sudo apt-get install chromium' (or make test as root)"; \
	    exit 1; \
	  fi; }

# The Python checks first (seconds), then the SAM venv (minutes on a fresh clone) for the template.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@command -v node >/dev/null || { echo "error: node (20) is needed to check web/"; exit 1; }
	@for f in $$(find web -name '*.js'); do node --check "$$f" || exit 1; done; echo "node --check: web/ ok"
	@$(MAKE) --no-print-directory --silent $(SAM_STAMP)
	$(SAM_ENV) $(SAM) validate --lint
	@$(MAKE) --no-print-directory --silent $(SCAN_STAMP)
	$(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation --file template.yaml

# Known vulnerabilities in every pinned requirement. It needs PyPI's JSON API or OSV, which some
# networks (this project's CI among them) cannot reach: then it fails loudly, never passes.
# Not part of lint/CI for that reason; run it where the service is reachable.
audit: $(SCAN_STAMP)
	$(SCAN_VENV)/bin/pip-audit --strict --progress-spinner off --disable-pip --no-deps \
		$(foreach r,requirements-dev.txt requirements-sam.txt requirements-scan.txt layers/common/requirements.txt functions/generation_worker/requirements.txt,-r $(r))

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Prints each function's unzipped size with the common layer, and fails over Lambda's 250 MB limit.
build: $(SAM_STAMP)
	$(SAM_ENV) $(SAM) build
	@layer=$$(du -sb .aws-sam/build/CommonLayer | cut -f1); \
	echo "built, unzipped, each function with the common layer ($$((layer / 1048576)) MiB); Lambda's limit is 250 MiB:"; \
	for dir in .aws-sam/build/*Function; do \
	  total=$$(( $$(du -sb "$$dir" | cut -f1) + layer )); \
	  printf '  %-28s %4d MiB\n' "$$(basename "$$dir")" $$((total / 1048576)); \
	  [ $$total -lt 262144000 ] || { echo "error: $$(basename "$$dir") is over 250 MiB"; exit 1; }; \
	done

# Deploys with the AWS credentials and region of the shell (samconfig.toml names the stack), then
# publishes web/ with its config.json and invalidates the distribution (tools/webdeploy.py).
deploy: $(STAMP) build
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-env $(DEPLOY_ENV)
	$(PY) -m tools.webdeploy --config-env $(DEPLOY_ENV)

openapi: $(STAMP)
	$(PY) -m tools.openapi > docs/openapi.json

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache .coverage test-artifacts
