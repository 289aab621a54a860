# Set-up is two commands: `make synth` and `make test`. Both create the virtualenv and
# the node tooling when missing.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK8S := npx --no-install cdk8s
# jsii (cdk8s's Node.js side) runs the Node.js 24 LTS that `npm ci` installs from the npm
# registry (package.json: "node"), not whatever `node` is on PATH; when it is missing, the
# system's. jsii's end-of-life notice for an unsupported Node.js is not silenced.
export JSII_NODE = $(if $(wildcard $(CURDIR)/node_modules/.bin/node),$(CURDIR)/node_modules/.bin/node,node)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: synth plan test lint format bench crds setup clean checkov keycloak nca

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

# The app itself, no cdk8s CLI around it (that would start Node.js once more): main.py
# synthesizes into a temporary folder and swaps it into $(OUTDIR) only when the whole
# synth succeeded. `npx cdk8s synth` works too (cdk8s.yaml), just slower.
OUTDIR ?= dist
synth: $(VENV)/.runtime node_modules/.installed
	@CDK8S_OUTDIR=$(OUTDIR) $(PY) main.py

# What merging this change would do to the cluster: a fresh synth of main.py compared,
# object by object, with dist/ as committed at REF (default HEAD; in CI on a pull
# request, REF=origin/main). Exit 2 when a change will not apply in place (an immutable
# field) or loses data (a PVC or the namespace leaving git): gate merges on it.
REF ?= HEAD
plan: $(VENV)/.runtime node_modules/.installed
	$(PY) -m jupyter_constructs plan --ref $(REF) --dist $(OUTDIR)

# Every level, on every core (pytest-xdist; docs/testing.md): `make test PYTEST_WORKERS=0`
# runs in one process, `make test PYTEST_ARGS="-m unit"` one level.
# pytest exits 5 when it collected no test: that is a failure here, never a silent pass.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
test: setup nca
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no test" >&2; exit 1; fi; exit $$rc
	$(MAKE) --no-print-directory checkov

# import-linter: the layer contracts in pyproject.toml ([tool.importlinter]).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: setup
	$(PY) benchmarks/bench_synth.py

# Real consumers (issues 19, 20, 22): kube-apiserver, etcd, kubectl,
# kube-controller-manager, kube-scheduler, ArgoCD, prometheus-operator (newest and oldest
# supported) and Prometheus (3 and 2), built from the Go module proxy by a pinned wrapper
# module per component into ${XDG_CACHE_HOME:-~/.cache}/jupyter-constructs/real-consumers;
# rebuilt only when a component's pins or the build procedure change. Needs Go and disk
# space (docs/testing.md; ArgoCD alone ~8 GB). `make real-consumers COMPONENTS=etcd` builds
# one. The tests against them: `make test-k8s`, `make test-argocd` (which also needs
# redis-server) and `make test-consumers`, all part of `make test`.
COMPONENTS ?=
.PHONY: real-consumers test-k8s test-argocd test-consumers e2e-cluster
real-consumers:
	$(PYTHON) scripts/build_real_consumers.py $(COMPONENTS)

test-k8s: setup
	$(PY) -m pytest -m k8s

test-argocd: setup
	$(PY) -m pytest -m argocd

test-consumers: setup
	$(PY) -m pytest -m consumers

# Whatever synth accepts, the API server accepts (tests/k8s/test_property.py, issue 23):
# FUZZ_EXAMPLES apps drawn with a fresh seed, printed for reproduction
# (`make fuzz SEED=<seed>`). Failing examples are kept in .hypothesis/ and replayed first.
FUZZ_EXAMPLES ?= 2000
.PHONY: fuzz
fuzz: setup
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; start=$$(date +%s); \
	echo "make fuzz: $(FUZZ_EXAMPLES) examples, seed $$seed (reproduce: make fuzz SEED=$$seed)"; \
	mkdir -p .hypothesis; progress=.hypothesis/fuzz-$$seed.log; rm -f $$progress; rc=0; \
	JC_FUZZ=1 JC_PROPERTY_EXAMPLES=$(FUZZ_EXAMPLES) JC_PROPERTY_PROGRESS=$$progress \
	  $(PY) -m pytest -n 0 -q \
	  tests/k8s/test_property.py::test_synth_refuses_or_the_api_server_accepts \
	  --hypothesis-seed=$$seed --hypothesis-show-statistics || rc=$$?; \
	echo "make fuzz: seed $$seed, exit $$rc, $$(( $$(date +%s) - start )) s," \
	  "examples: $$(sort -k2 $$progress 2>/dev/null | cut -d' ' -f2 | uniq -c | tr '\n' ' ')"; \
	exit $$rc

# On a real cluster with a container runtime (kind or k3d), outside `make test`: the images
# start, the hub answers through the proxy. See docs/testing.md.
e2e-cluster:
	scripts/e2e_cluster.sh

clean:
	rm -rf $(VENV) $(CODEGEN_VENV) $(NCA_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# Regenerate jupyter_constructs/crds/ (typed custom resources) from local copies of the
# CRDs pinned in cdk8s.yaml (imports:): `make crds CRDS=<dir>`. datamodel-code-generator
# runs from its own virtualenv: it needs a typeguard that jsii cannot run with.
CODEGEN_VERSION := 0.89.0
CODEGEN_VENV := .codegen-venv
$(CODEGEN_VENV)/.installed-$(CODEGEN_VERSION):
	test -x $(CODEGEN_VENV)/bin/python || $(PYTHON) -m venv $(CODEGEN_VENV)
	$(CODEGEN_VENV)/bin/python -m pip install -q datamodel-code-generator==$(CODEGEN_VERSION)
	touch $@

CRDS ?=
crds: setup $(CODEGEN_VENV)/.installed-$(CODEGEN_VERSION)
	@if [ -z "$(CRDS)" ]; then \
	  echo "usage: make crds CRDS=<dir with the CustomResourceDefinition YAML files>" >&2; \
	  echo "       (upstream URLs: cdk8s.yaml, imports:)" >&2; exit 2; fi
	CODEGEN=$(CODEGEN_VENV)/bin/datamodel-codegen $(PY) scripts/gen_crds.py "$(CRDS)"

# Notebook image (issue 5). Slow and needs the package index, so not part of `make test`:
# proves that the pinned requirements.txt resolves as one set for the base image's Python
# *together with the packages the base image already has* (base-constraints.txt, pinned,
# from `python -m pip list` inside the base image: `make image-base-constraints`), wheels
# only, nothing installed, and prints how long that took.
IMAGE_DIR := dockerfiles/jupyter-notebook
IMAGE_PYTHON ?= $(shell sed -n 's/^ARG PYTHON_VERSION=//p' $(IMAGE_DIR)/Dockerfile)
IMAGE_CONSTRAINTS := $(IMAGE_DIR)/base-constraints.txt
.PHONY: image-deps-check image-base-constraints
image-deps-check: $(VENV)/.runtime
	@test -n "$(IMAGE_PYTHON)" || { echo "image-deps-check: no ARG PYTHON_VERSION in $(IMAGE_DIR)/Dockerfile" >&2; exit 1; }
	@$(PY) scripts/base_image_constraints.py --check
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; start=$$(date +%s); \
	if $(PY) -m pip install --dry-run --quiet --ignore-installed --only-binary=:all: \
	    --python-version $(IMAGE_PYTHON) -r $(IMAGE_DIR)/requirements.txt \
	    -c $(IMAGE_CONSTRAINTS) --report $$tmp/report.json >$$tmp/pip.log 2>&1; then \
	  n=$$($(PY) -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["install"]))' $$tmp/report.json); \
	  echo "image-deps-check: resolved $$n distributions for Python $(IMAGE_PYTHON) with the base image's packages in $$(( $$(date +%s) - start )) s"; \
	else \
	  grep -v 'is ignored' $$tmp/pip.log >&2; \
	  echo "image-deps-check: requirements do NOT resolve for Python $(IMAGE_PYTHON) with the base image's packages ($$(( $$(date +%s) - start )) s)" >&2; \
	  exit 1; \
	fi

# Keycloak, the real OpenID Connect provider of tests/addons/test_oidc_keycloak.py: downloaded once
# from Maven Central into the user's cache (XDG_CACHE_HOME or ~/.cache), built for the tests'
# options; a second run does nothing. Without it those tests skip locally and fail in CI.
keycloak:
	scripts/fetch_keycloak.sh
# base-constraints.txt from the base image itself (docker or podman: RUNTIME=podman), or
# from a saved `pip list --format=json` of it (FROM_JSON=file).
RUNTIME ?= docker
FROM_JSON ?=
image-base-constraints: $(VENV)/.runtime
	$(PY) scripts/base_image_constraints.py --runtime $(RUNTIME) $(if $(FROM_JSON),--from-json $(FROM_JSON))

# Regenerate docs/api-reference.md from the docstrings with griffe; tests/delivery/test_docs.py fails
# when the committed file is out of date or a docstring disagrees with its signature.
.PHONY: docs
docs: setup
	$(PY) scripts/api_reference.py
	$(PY) -m tests.validation_inventory
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

# network-config-analyzer (np-guard's `nca`), the independent judge of our NetworkPolicies
# (tests/support/nca.py). Its own virtualenv: it pins PyYAML and networkx exactly.
NCA_VERSION := 2.1.0
NCA_VENV := .nca-venv
$(NCA_VENV)/.installed-$(NCA_VERSION):
	test -x $(NCA_VENV)/bin/python || $(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/python -m pip install -q network-config-analyzer==$(NCA_VERSION)
	touch $@

nca: $(NCA_VENV)/.installed-$(NCA_VERSION)
