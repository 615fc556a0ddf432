# The one command runner for ack-runbooks. Every target sets up what it needs
# (scripts/setup.sh is a no-op when .venv is current), so on a fresh machine
# `make demo` or `make test` is the only command to type.
#
#   make test     lint, static checks, sanity, unit and integration tests
#   make demo     start the local lab and run renew-certs against it
#   make help     everything else

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Tools the targets start (ansible-galaxy, ansible-test, ...) come from .venv.
export PATH := $(abspath $(BIN)):$(PATH)
# The lab needs root for its network namespaces; see lab/lab.
LAB := lab/lab
LAB_SIZE ?= small
# Extra `lab up` flags, e.g. LAB_ARGS="--cert-validity 72h" or "--expired".
LAB_ARGS ?=
LAB_INVENTORY := inventories/lab/hosts.yml
EXAMPLE_INVENTORY := inventories/example/hosts.yml
DEMO_PLAYBOOK := renew-certs.yml

.PHONY: help setup browser lint static sanity unit integration test demo \
	lab-up lab-down lab-status bench catalogue faults collection clean molecule mutation

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## create .venv (Python 3.11) and install requirements-dev.txt when they changed
	@scripts/setup.sh

browser: ## Debian's chromium for the HTML report checks (installed when missing, as root)
	@scripts/install-chromium.sh

lint: setup ## ansible-lint (production profile), ruff check, ruff format --check
	@# All three run, so one pass shows every finding; any of them fails the target.
	@# ansible-lint syntax-checks playbooks against the default inventory, the
	@# lab's, which exists only while the lab is up: give it the example.
	rc=0; \
	ANSIBLE_INVENTORY=$(EXAMPLE_INVENTORY) $(BIN)/ansible-lint || rc=1; \
	$(BIN)/ruff check . || rc=1; \
	$(BIN)/ruff format --check . || rc=1; \
	exit $$rc

static: setup ## ansible-doc renders every plugin; syntax-check every playbook
	scripts/static-checks.sh

sanity: setup ## ansible-test sanity on a copy of the collection with symlinks resolved
	scripts/sanity.sh

unit: setup browser ## pytest tests/unit in a random order (seed printed; RANDOM_ORDER_SEED=<n> repeats one order)
	$(BIN)/python -m pytest --random-order-bucket=global $(if $(RANDOM_ORDER_SEED),--random-order-seed=$(RANDOM_ORDER_SEED)) tests/unit

integration: setup browser lab-up ## pytest tests/integration against the lab (needs root)
	@# The fault_matrix tests (tests/faults.py matrix_only) are make faults' own: left
	@# out here by selection, so CI reports them as deselected, not skipped.
	$(BIN)/python -m pytest --durations=30 -m "not fault_matrix" tests/integration

molecule: setup ## every Molecule scenario against the lab it asks for (also run by make integration)
	$(BIN)/python -m pytest tests/integration/test_molecule.py

test: ## the whole suite, in order: setup lint static sanity unit integration
	$(MAKE) setup
	$(MAKE) lint
	$(MAKE) static
	$(MAKE) sanity
	$(MAKE) unit
	$(MAKE) integration

demo: setup ## start the lab, run renew-certs.yml against it and show its report
	@scripts/require.sh "$(LAB)" "the local lab (lab/lab)"
	@scripts/require.sh "$(DEMO_PLAYBOOK)" "the renew-certs runbook ($(DEMO_PLAYBOOK))"
	@# Leaf certificates that expire in 10 days, so the demo has something to renew.
	$(MAKE) lab-up LAB_ARGS="--cert-validity 240h"
	$(BIN)/ansible-playbook -i $(LAB_INVENTORY) $(DEMO_PLAYBOOK) --diff
	@scripts/show-report.sh renew-certs

lab-up: setup ## start the local lab (LAB_SIZE=small|ha); writes inventories/lab/
	@scripts/require.sh "$(LAB)" "the local lab (lab/lab)"
	$(LAB) up --size $(LAB_SIZE) $(LAB_ARGS)

lab-down: ## stop the lab and remove everything it made
	@scripts/require.sh "$(LAB)" "the local lab (lab/lab)"
	$(LAB) down

lab-status: ## show what the lab is running
	@scripts/require.sh "$(LAB)" "the local lab (lab/lab)"
	$(LAB) status

bench: setup ## run every bench/bench_*.py (ratios, not timings; the lab ones restart the lab)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	@shopt -s nullglob; benches=(bench/bench_*.py); \
	if [ $${#benches[@]} -eq 0 ]; then echo "bench: no bench/bench_*.py yet"; exit 0; fi; \
	for b in "$${benches[@]}"; do echo "== $$b"; $(BIN)/python "$$b"; done

catalogue: setup ## docs/bad-inputs.md, generated from the refusal tests (tests/catalogue.py)
	rm -rf build/bad-inputs
	ACKOPS_CATALOGUE=build/bad-inputs $(BIN)/python -m pytest -q -p no:cacheprovider $$(grep -rl "tests.catalogue import" tests/unit)
	@# The AWX survey refusals of the runbooks that need no cluster (the lab's are
	@# recorded too when ACKOPS_CATALOGUE is set for a `make integration` run).
	ACKOPS_CATALOGUE=build/bad-inputs $(BIN)/python -m pytest -q -p no:cacheprovider tests/integration/test_runner.py -k bad_answer_refused_offline
	$(BIN)/python -m tests.catalogue build/bad-inputs docs/bad-inputs.md

faults: setup lab-up ## docs/reliability.md, the fault matrix, from the lab's fault tests (tests/faults.py; needs root)
	rm -rf build/faults
	@# Every test that records a fault (tests/faults.py FAULTS), grouped by file so
	@# that each module's lab comes up once; the HA ones take a few minutes each.
	ACKOPS_FAULTS=build/faults $(BIN)/python -m pytest -p no:cacheprovider --durations=20 $$($(BIN)/python -m tests.faults --tests)
	$(BIN)/python -m tests.faults build/faults docs/reliability.md

mutation: setup ## mutmut on the core module_utils, score per module (long: not in `make test`)
	$(BIN)/python bench/mutation.py $(MUTATION_ARGS)

collection: setup ## build build/ackops-runbooks-<version>.tar.gz and check it installs
	scripts/build-collection.sh

clean: ## remove build output and caches (keeps .venv; the lab has lab-down)
	rm -rf build .pytest_cache .ruff_cache reports
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
