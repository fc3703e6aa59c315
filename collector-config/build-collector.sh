#!/usr/bin/env bash
# Build the slim otel-audit OpenTelemetry Collector with the OpenTelemetry
# Collector Builder (OCB), from Go modules only (Go module proxy; no docker).
#
#   bash collector-config/build-collector.sh     # or: make collector
#
# Output:  .build/otelcol-audit/otelcol-audit   (generated sources beside it)
# OCB:     .build/bin/builder
#
# Incremental: exits at once when the binary is newer than the manifest, this script
# and every file of otel-audit's processor module (collector/processor/
# auditredactionprocessor; its tests, testdata, test binaries and Markdown aside). FORCE=1 rebuilds anyway. Go's module cache and build cache (GOMODCACHE,
# GOCACHE) are used as configured, so a rebuild after a manifest change only
# compiles what changed.
#
# Environment knobs:
#   FORCE=1                  rebuild even if the binary is up to date
#   COLLECTOR_BUILD_JOBS=N   go build parallelism (-p), default 2; 1 lowers peak memory
#   GO=/path/to/go           Go toolchain to use (needs Go >= 1.26)
set -euo pipefail

# Must match the core versions in builder-config.yaml (OCB pins otelcol/service to its own release).
OCB_VERSION=v0.161.0
GO_MIN_MINOR=26 # the v0.161.0 modules declare `go 1.26.0`

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
SCRIPT="$SCRIPT_DIR/$(basename -- "${BASH_SOURCE[0]}")"
MANIFEST="$SCRIPT_DIR/builder-config.yaml"
# The local Go module the manifest builds in (its `path:`, resolved from the repository root).
PROCESSOR_DIR="$ROOT/collector/processor/auditredactionprocessor"
BUILD_DIR="$ROOT/.build"
DIST_DIR="$BUILD_DIR/otelcol-audit"
BINARY="$DIST_DIR/otelcol-audit"
OCB_BIN_DIR="$BUILD_DIR/bin"
OCB="$OCB_BIN_DIR/builder"

log() { printf '[build-collector] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

T0="$(now)"

# --- incremental: nothing to do ---------------------------------------------
if [[ ! -f "$PROCESSOR_DIR/go.mod" ]]; then
    log "error: ${PROCESSOR_DIR#"$ROOT"/}/go.mod is missing (the manifest builds that module from this checkout)"
    exit 1
fi
# The first file of the processor module newer than the binary, if any (its tests, test data,
# `go test -c` binaries and Markdown do not go into it).
newer_source() {
    find "$PROCESSOR_DIR" \( -name testdata -prune \) -o -type f ! -name '*_test.go' ! -name '*.test' \
        ! -name '*.md' -newer "$BINARY" -print -quit
}
if [[ "${FORCE:-0}" != 1 && -x "$BINARY" && "$BINARY" -nt "$MANIFEST" && "$BINARY" -nt "$SCRIPT" ]]; then
    changed="$(newer_source)"
    if [[ -z "$changed" ]]; then
        log "up to date: ${BINARY#"$ROOT"/} (newer than ${MANIFEST#"$ROOT"/} and ${PROCESSOR_DIR#"$ROOT"/}); FORCE=1 to rebuild ($(since "$T0"))"
        exit 0
    fi
    log "${changed#"$ROOT"/} is newer than the binary: rebuilding"
fi

# --- toolchain ----------------------------------------------------------------
GO="${GO:-$(command -v go || true)}"
if [[ -z "$GO" || ! -x "$GO" ]]; then
    log "error: no Go toolchain found (need Go >= 1.$GO_MIN_MINOR on PATH, or GO=/path/to/go)"
    exit 1
fi
# Never let `go` try to download another toolchain: only the module proxy is reachable.
export GOTOOLCHAIN=local
# -buildvcs=false: the generated module lives inside this git work tree; don't stamp VCS info.
# -p: bounded parallelism keeps memory and CPU use reasonable on small (2-core) machines.
export GOFLAGS="-buildvcs=false -p=${COLLECTOR_BUILD_JOBS:-2}"

GOVERSION="$("$GO" env GOVERSION)" # e.g. go1.26.8
go_minor="$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$GOVERSION")"
if ! [[ "$go_minor" =~ ^[0-9]+$ ]] || ((go_minor < GO_MIN_MINOR)); then
    log "error: $GOVERSION at $GO is too old; OCB $OCB_VERSION and its components need Go >= 1.$GO_MIN_MINOR"
    exit 1
fi
log "using $GOVERSION ($GO), GOMODCACHE=$("$GO" env GOMODCACHE), GOCACHE=$("$GO" env GOCACHE), GOFLAGS=$GOFLAGS"

NICE=()
if command -v nice >/dev/null 2>&1; then NICE=(nice -n 10); fi

mkdir -p "$OCB_BIN_DIR" "$BUILD_DIR"

# --- install OCB at the pinned version ---------------------------------------
T1="$(now)"
have_ocb=""
if [[ -x "$OCB" ]]; then
    have_ocb="$("$OCB" version 2>&1 | awk '/version/ {print $NF}' || true)" # `ocb version` prints to stderr
fi
if [[ "$have_ocb" != "$OCB_VERSION" ]]; then
    log "installing OCB go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION into ${OCB_BIN_DIR#"$ROOT"/}"
    GOBIN="$OCB_BIN_DIR" "${NICE[@]}" "$GO" install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
    log "OCB installed ($(since "$T1"))"
else
    log "OCB $OCB_VERSION already installed"
fi

# --- generate + compile ---------------------------------------------------------
# OCB resolves dist.output_path and every module `path:` against its working directory (not
# the manifest's): run it from the repo root.
T2="$(now)"
log "building ${BINARY#"$ROOT"/} from ${MANIFEST#"$ROOT"/}"
cd "$ROOT"
"${NICE[@]}" "$OCB" --config="$MANIFEST"
if [[ ! -x "$BINARY" ]]; then
    log "error: OCB finished but $BINARY is missing (check dist.output_path in the manifest)"
    exit 1
fi
# `go build -o` leaves an up-to-date binary untouched; mark it fresh for the check above.
touch "$BINARY"
log "built ${BINARY#"$ROOT"/} ($(du -h "$BINARY" | cut -f1)) in $(since "$T2"); total $(since "$T0")"
