# One entry point per job. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE := $(VENV)/.installed-core
DEV := $(VENV)/.installed-dev

.PHONY: setup demo test test-fast lint bench collector ingest-helper collector-configs go-test chromium clean

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

# otel-audit serve: the OpenTelemetry JS SDK client used by tests/service/test_jsclient.py.
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

# otel-audit's collector processor is a Go module: its own tests run before the Python suite.
PROCESSOR := collector/processor/auditredactionprocessor
go-test:
	cd $(PROCESSOR) && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go test -p=2 ./...

# serve's ingest helper: maps logs batches in its own process (otel-audit serve --ingest-helper).
INGEST_HELPER := .build/bin/otel-audit-ingest
ingest-helper:
	cd $(PROCESSOR) && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go build -o $(CURDIR)/$(INGEST_HELPER) ./cmd/otel-audit-ingest

test: setup $(CROSSLANG) $(JSCLIENT) collector ingest-helper chromium go-test
	$(PY) -m pytest -q

# The edit loop: every test not marked slow (each of those takes more than about five seconds).
test-fast: setup $(CROSSLANG) $(JSCLIENT) collector ingest-helper chromium
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check otel_audit tests bench collector docs
	$(VENV)/bin/ruff format --check otel_audit tests bench collector docs/envvars_table.py
	$(VENV)/bin/mypy --strict otel_audit

bench: setup
	$(PY) bench/bench_hot_path.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_engine_insert.py

collector:
	bash collector-config/build-collector.sh

# The shipped collector configs, regenerated from collector-config/redaction.yaml (a test compares them).
collector-configs: $(CORE)
	for profile in production single-box file-sink contrib-only; do \
	  $(VENV)/bin/otel-audit collector-config --profile $$profile \
	    --collector-rules-path collector-config/redaction.yaml --out collector-config/$$profile.yaml || exit 1; \
	done; chmod 644 collector-config/*.yaml

clean:
	rm -rf $(VENV) .build
