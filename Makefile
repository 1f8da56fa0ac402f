# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := layers/sample/sanmenxia.gpkg

.PHONY: run test install sample clean

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

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf out .pytest_cache
