# groenkans: the two commands of the quick start are `make demo` and `make test`.
# Each creates .venv in the checkout if needed and installs the pinned versions
# from constraints.txt, so two machines get the same packages. The dev extra
# brings every extra the demo and the tests use (maps, batch, ...). `make lab` opens
# the notebooks in JupyterLab from the same .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_STAMP := $(VENV)/.lab-installed
# extra options for `jupyter lab`, e.g. LAB_OPTIONS="--no-browser --ServerApp.port=8899"
LAB_OPTIONS ?=

.PHONY: demo test test-fast lint lab venv clean

$(STAMP): pyproject.toml constraints.txt
	@echo "== groenkans: setting up $(VENV) with the pinned packages of constraints.txt (a few minutes the first time)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar off --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -c constraints.txt -e ".[dev]"
	touch $(STAMP)
	@echo "== groenkans: $(VENV) is ready"

venv: $(STAMP)

## Score the bundled sample park: writes out/demo.gpkg, out/demo.png and out/demo.html
demo: $(STAMP)
	@echo "== groenkans: scoring the sample park data/samples/demo into out/"
	$(BIN)/groenkans demo --out out --overwrite

## Run the whole test suite. Installs Python packages only; tests that need system packages (QGIS, GDAL
## utilities, Chromium) skip with the reason. `bash scripts/system-deps.sh` (as root) installs those; CI does.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## The quality gates make test runs first: ruff (lint and format) and mypy --strict, zero findings
lint: $(STAMP)
	$(BIN)/ruff check --no-cache src tests bench scripts  # no cache: first-party detection depends on files the cache does not key on
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src

## The quick tests only (skips those marked slow)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

$(LAB_STAMP): $(STAMP)
	@echo "== groenkans: installing the notebook extra (JupyterLab) into $(VENV)"
	$(BIN)/python -m pip install --progress-bar off -c constraints.txt -e ".[notebooks]"
	touch $(LAB_STAMP)

## Open the notebooks (notebooks/) in JupyterLab, installed into the same .venv; Ctrl-C stops it
lab: $(LAB_STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_OPTIONS)

clean:
	rm -rf $(VENV) out .pytest_cache
