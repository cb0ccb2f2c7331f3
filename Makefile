# The two commands of the README, and the helpers around them. Each target builds its own virtualenv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint docs clean

# make run: the embedded stack (Tansu + mock Ecuapass + gateway) and the demo back-end.
run: $(STAMP)
	$(BIN)/ecuapass-gateway dev

# make test: the whole suite, unit + integration (real Tansu, real HTTP) + end to end.
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check gateway adapters tests
	$(BIN)/mypy

# Regenerate the generated docs: rejection codes, JSON Schemas, README tables.
docs: $(STAMP)
	$(BIN)/python -m gateway.customs_codes > contracts/rejection-codes.md
	$(BIN)/python -m gateway.jsonschemas
	$(BIN)/python -m gateway.readme
	$(BIN)/python -m gateway.asyncapi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
