# The two commands a new user runs: `make run` and `make test`. Each does its own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stockline-installed

.PHONY: install run test bench bench-seed lint check clean

install: $(STAMP)

# Reinstall only when the dependency list changes; otherwise this is instant.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Stockline needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing Stockline and its dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Embedded PostgreSQL unless DATABASE_URL is set; schema applied; serves on port 5000.
run: install
	STOCKLINE_ENV=$${STOCKLINE_ENV:-dev} $(BIN)/stockline serve

test: install
	$(BIN)/python -m pytest

# Benchmarks print ratios against a baseline measured in the same run.
# `make bench`: the load suite (500 users, 2 workers; report in bench/results/<timestamp>/).
bench: install
	$(BIN)/stockline bench load

bench-seed: install
	$(BIN)/python bench/seed_throughput.py

lint: install
	$(BIN)/ruff check src tests db scripts bench
	$(BIN)/lint-imports --no-cache

check: install
	$(BIN)/stockline check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
