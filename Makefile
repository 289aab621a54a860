# Set-up is two commands: `make synth` and `make test`. Both create the virtualenv and
# the node tooling when missing.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK8S := npx --no-install cdk8s
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: synth test lint format bench imports setup clean checkov keycloak

# Runtime only: what synthesizing needs.
$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

# Test and lint tools on top.
$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.dev node_modules/.installed

# The cdk8s CLI empties its output folder before running the app, so it writes into a
# scratch folder; dist/ is replaced only when the whole synth succeeded.
synth: $(VENV)/.runtime node_modules/.installed
	rm -rf .dist-cdk8s
	$(CDK8S) synth --no-check-upgrade --output .dist-cdk8s
	rm -rf .dist-old && { [ ! -d dist ] || mv dist .dist-old; } && mv .dist-cdk8s dist && rm -rf .dist-old

# pytest exits 5 when it collected no test: that is a failure here, never a silent pass.
test: setup
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no test" >&2; exit 1; fi; exit $$rc
	$(MAKE) --no-print-directory checkov

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: setup
	$(PY) benchmarks/bench_synth.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# Regenerate imports/ (shipped as jupyter_constructs.crds) from local copies of the CRDs
# pinned in cdk8s.yaml: `make imports CRDS=<dir>`. One `cdk8s import` per API group.
CRDS ?=
imports: setup
	@if [ -z "$(CRDS)" ]; then \
	  echo "usage: make imports CRDS=<dir with the CustomResourceDefinition YAML files>" >&2; \
	  echo "       (upstream URLs: cdk8s.yaml, imports:)" >&2; exit 2; fi
	PYTHON=$(PY) CDK8S="$(CDK8S)" scripts/import_crds.sh "$(CRDS)" imports

# Notebook image (issue 5). Slow and needs the package index, so not part of `make test`:
# proves that the pinned requirements.txt resolves as one set for the base image's Python
# (wheels only, nothing installed), and prints how long that took.
IMAGE_DIR := dockerfiles/jupyter-notebook
IMAGE_PYTHON ?= $(shell sed -n 's/^ARG PYTHON_VERSION=//p' $(IMAGE_DIR)/Dockerfile)
.PHONY: image-deps-check
image-deps-check: $(VENV)/.runtime
	@test -n "$(IMAGE_PYTHON)" || { echo "image-deps-check: no ARG PYTHON_VERSION in $(IMAGE_DIR)/Dockerfile" >&2; exit 1; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; start=$$(date +%s); \
	if $(PY) -m pip install --dry-run --quiet --ignore-installed --only-binary=:all: \
	    --python-version $(IMAGE_PYTHON) -r $(IMAGE_DIR)/requirements.txt \
	    --report $$tmp/report.json >$$tmp/pip.log 2>&1; then \
	  n=$$($(PY) -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["install"]))' $$tmp/report.json); \
	  echo "image-deps-check: resolved $$n distributions for Python $(IMAGE_PYTHON) in $$(( $$(date +%s) - start )) s"; \
	else \
	  grep -v 'is ignored' $$tmp/pip.log >&2; \
	  echo "image-deps-check: requirements do NOT resolve for Python $(IMAGE_PYTHON) ($$(( $$(date +%s) - start )) s)" >&2; \
	  exit 1; \
	fi

# Keycloak, the real OpenID Connect provider of tests/test_oidc_keycloak.py: downloaded once
# from Maven Central into the user's cache (XDG_CACHE_HOME or ~/.cache), built for the tests'
# options; a second run does nothing. Without it those tests skip locally and fail in CI.
keycloak:
	scripts/fetch_keycloak.sh

# Regenerate docs/api-reference.md from the docstrings; tests/test_docs.py fails when the
# committed file is out of date.
.PHONY: docs
docs: $(VENV)/.runtime
	$(PY) scripts/gen_api_reference.py
# checkov lives in its own virtualenv: installed beside our tools it downgrades `packaging`.
# Zero failed checks on dist/; the few skipped ones are listed, with reasons, in .checkov.yaml.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .checkov-venv
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q checkov==$(CHECKOV_VERSION)
	touch $@

checkov: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	$(CHECKOV_VENV)/bin/checkov -d dist --config-file .checkov.yaml
