# Two commands from a fresh clone: `make build` and `make test`.
# Every target sets up .venv (python3 -m venv + pip install -e '.[dev]') when it is
# missing or pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI_PORT ?= 3000
UI_HOST ?= 127.0.0.1
SIZES ?= 10000,100000,1000000

.PHONY: build test release charts check ui lint format docs bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## build: set up, then materialise every asset into warehouse/
build: $(STAMP)
	$(BIN)/ai-footprints build

## test: set up, lint, then run the whole test suite
test: $(STAMP) lint
	$(BIN)/python -m pytest

## release: build, then write warehouse/releases/<version>/ (VERSION=vYYYY.MM.DD to choose)
release: $(STAMP)
	$(BIN)/ai-footprints release $(if $(VERSION),--version $(VERSION))

## charts: build, then refresh the committed copies of the charts in docs/charts/
charts: build
	@mkdir -p docs/charts
	cp warehouse/charts/*.png warehouse/charts/*.svg docs/charts/

## check: validate everything under sources/ without building
check: $(STAMP)
	$(BIN)/ai-footprints check

## ui: the Dagster UI on http://$(UI_HOST):$(UI_PORT) (this machine only, unless UI_HOST says otherwise)
ui: $(STAMP)
	@mkdir -p .dagster
	DAGSTER_HOME=$(CURDIR)/.dagster $(BIN)/dagster dev -m pipelines.definitions -h $(UI_HOST) -p $(UI_PORT)

## bench: measure check, build, scale (SIZES=10000,100000,1000000) and queries; one JSON line each
bench: $(STAMP)
	$(BIN)/python -m bench.run --sizes $(SIZES)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .dagster .pytest_cache .ruff_cache .bench
	find warehouse -mindepth 1 ! -name README.md -exec rm -rf {} +

## docs: regenerate the data dictionary in README.md and docs/coverage.md
docs: $(STAMP)
	$(BIN)/python -m pipelines.docs
