# One entry point per job. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE := $(VENV)/.installed-core
DEV := $(VENV)/.installed-dev

.PHONY: setup demo test lint bench collector chromium clean

# The demo needs only the package; the tests also need the frameworks (torch is ~3 GB).
$(CORE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(CORE)

$(DEV): $(CORE)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV)

# An independent RFC 8785 implementation checks the input-hash vectors.
CROSSLANG := tests/crosslang/node_modules/.installed
$(CROSSLANG): tests/crosslang/package-lock.json
	npm ci --prefix tests/crosslang --no-audit --no-fund --silent
	touch $(CROSSLANG)

# otel-audit serve (issue 3): the OpenTelemetry JS SDK client used by tests/service/test_jsclient.py.
JSCLIENT := tests/jsclient/node_modules/.installed
$(JSCLIENT): tests/jsclient/package-lock.json
	npm ci --prefix tests/jsclient --no-audit --no-fund --silent
	touch $(JSCLIENT)

setup: $(DEV)

# The demo writes into its own store, ./otel-audit-demo (never the default store); a rerun adds nothing.
demo: $(CORE)
	$(VENV)/bin/otel-audit demo

# The HTML report tests drive Debian's headless chromium (root installs it when missing).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

test: setup $(CROSSLANG) $(JSCLIENT) collector chromium
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check otel_audit tests bench
	$(VENV)/bin/ruff format --check otel_audit tests bench

bench: setup
	$(PY) bench/bench_hot_path.py
	$(PY) bench/bench_ingest.py

collector:
	bash collector-config/build-collector.sh

clean:
	rm -rf $(VENV) .build
