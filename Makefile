# groenkans: the two commands of the quick start are `make demo` and `make test`.
# Each creates .venv in the checkout if needed and installs the pinned versions
# from constraints.txt, so two machines get the same packages.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast venv clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

## Score the bundled sample park: writes out/demo.gpkg, out/demo.png and out/demo.html
demo: $(STAMP)
	$(BIN)/groenkans demo --out out --overwrite

## Run the whole test suite. Installs Python packages only; tests that need system packages (QGIS, GDAL
## utilities, Chromium) skip with the reason. `bash scripts/system-deps.sh` (as root) installs those; CI does.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## The quick tests only (skips those marked slow)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

clean:
	rm -rf $(VENV) out .pytest_cache
