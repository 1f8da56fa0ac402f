# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := layers/sample/sanmenxia.gpkg

.PHONY: run test lint bench screenshots install sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(SAMPLE): | $(STAMP)
	$(BIN)/gis sample .

sample: $(SAMPLE)

run: $(STAMP) $(SAMPLE)
	$(BIN)/gis run --project . --out out

# Lint and types first (ruff and mypy, configured in pyproject.toml), then the tests.
lint: $(STAMP)
	$(BIN)/ruff check gis tests
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# Benchmarks against the peers a user would otherwise use (not part of `make test`; ~12 min once the samples exist).
# `make bench SCALE=province` measures the whole province instead (SCALE=1,10,province mixes; province0.01 is a
# quick 100 m variant); WORKLOADS=run,only picks workloads (default: all; at the province: sample, run, only).
BENCH_SCALES := 1,4,10
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python tests/benchmarks/bench.py --scales $(or $(SCALE),$(BENCH_SCALES)) --work build/bench $(if $(WORKLOADS),--workloads $(WORKLOADS))

# The README's screenshots, taken by the test suite's headless Chromium from the sample run.
screenshots: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_screenshots.py
	mkdir -p tests/screenshots && cp tests/artifacts/map.png tests/artifacts/report.png tests/screenshots/

clean:
	rm -rf out .pytest_cache
