# b2b-gateway: `make run` starts the gateway with embedded defaults; `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install test lint typecheck unit services bench schemas screenshots clean

run: install
	$(BIN)/b2b-gateway run

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

services:
	scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install services
	$(BIN)/pytest -q

test: install services lint typecheck unit

bench: install services
	$(BIN)/python -m bench $(BENCH_ARGS)

schemas: install
	$(BIN)/b2b-gateway schema export

screenshots: install services
	$(BIN)/python scripts/take_screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
