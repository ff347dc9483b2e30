# Build and Push to ECR: developer entry points.
# `make demo` runs the plugin's main job on local stand-ins; `make test` runs every test.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed


.PHONY: setup deps example test unit integration lint docs docs-check catalog-missing demo demo-fail bench clean

# Debian packages the tests and the demo use (docker engine, OCI registry, skopeo, busybox).
deps:
	bash scripts/install-deps.sh

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

setup: deps $(STAMP)

# The example app's static busybox (no base image from any registry is needed).
example:
	bash scripts/prepare-example.sh

test: setup example
	TESTCONTAINERS_RYUK_DISABLED=true $(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check plugin tests bench scripts
	$(BIN)/ruff format --check plugin tests bench scripts
	$(BIN)/mypy
	$(BIN)/mypy tests/support

docs: $(STAMP)
	$(BIN)/python -m plugin.config.docs > docs/settings.md

# What docs/troubleshooting.md and plugin/core/events.py lack: skeleton entries to paste (exit 1 if any).
catalog-missing: $(STAMP)
	$(BIN)/python -m tests.support.catalog_doc

demo: setup example
	$(BIN)/python scripts/demo.py

# The same run with PLUGIN_TARGET naming a stage that does not exist: what a failed run looks like.
demo-fail: setup example
	$(BIN)/python scripts/demo.py --fail

# Every benchmark and issue 10's table; BENCH_BEFORE=<checkout> adds a column for another commit
# (e.g. `git worktree add ../before <commit>`), BENCH_RUNS the number of alternating runs (5).
bench: setup
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
