# Two commands do everything on a fresh machine:  `make run`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIZES ?= 60000

.PHONY: setup run test test-all lint ui sql bench clean

setup: $(VENV)/.installed

# Pinned direct dependencies in pyproject.toml; requirements.lock pins the rest (pip freeze).
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# Generate the sample ward when landing/ is empty, then run the whole pipeline.
run: setup
	$(BIN)/ward generate --if-empty
	$(BIN)/ward run

test: setup
	$(BIN)/pytest -q

test-all: setup
	$(BIN)/pytest -q -m ''

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	WARD_DATA_DIR=data WARD_REFERENCE_DIR=data/reference WARD_BUILD_DB=:memory: \
	  $(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

ui: setup
	$(BIN)/ward ui

sql: setup
	$(BIN)/ward sql

bench: setup
	$(BIN)/python -m bench.run --sizes $(SIZES)

clean:
	rm -rf data/landing data/raw data/build data/warehouse data/exports data/.exports \
	       data/quality data/rejected data/truth data/.dagster dbt_project/target
