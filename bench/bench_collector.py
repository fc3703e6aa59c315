"""Throughput of redaction in the real collector: records per second through ``otelcol-audit``.

Two configurations, both rendered from the shipped rule file with the file exporter
(``collector-config/file-sink.yaml``): the redaction processors of the shipped config, and the
same config with no processors (passthrough). The difference is what redaction costs there.

Requests are OTLP/JSON (``/v1/logs``), pre-encoded before the clock starts, --batch corpus
records each (``tests/data/pii_corpus.jsonl``: nested bodies, 2-5 planted values per record),
posted one after another from one thread; the clock stops when the file exporter has written
every record. The collector runs on loopback ephemeral ports and is always terminated. Needs
``make collector``.

Run: python bench/bench_collector.py [--n 20000] [--batch 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from otel_audit.redact import collector, load_rules  # noqa: E402 - after the path tweak

BINARY = ROOT / ".build" / "otelcol-audit" / "otelcol-audit"


def any_value(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one branch per AnyValue kind
    """*value* as an OTLP/JSON ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": any_value(v)} for k, v in value.items()]}}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {}


def requests(records: list[dict[str, Any]], n: int, batch: int) -> list[bytes]:
    """*n* log records cycled from *records*, as OTLP/JSON request bodies of *batch* records."""
    encoded = [
        {
            "timeUnixNano": "1700000000000000000",
            "body": any_value(r["body"]),
            "attributes": [{"key": k, "value": any_value(v)} for k, v in r["attributes"].items()],
        }
        for r in records
    ]
    bodies = []
    for start in range(0, n, batch):
        logs = [encoded[i % len(encoded)] for i in range(start, min(n, start + batch))]
        request = {"resourceLogs": [{"scopeLogs": [{"scope": {"name": "bench"}, "logRecords": logs}]}]}
        bodies.append(json.dumps(request).encode())
    return bodies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(config: dict[str, Any], bodies: list[bytes], n: int, tmp: Path) -> float:
    """Seconds from the first request to the last record written, on a fresh collector."""
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    out = tmp / "out.jsonl"
    out.unlink(missing_ok=True)
    http, grpc, health, metrics = (free_port() for _ in range(4))
    env = {
        **os.environ,
        collector.ENV_OTLP_HTTP_ENDPOINT: f"127.0.0.1:{http}",
        collector.ENV_OTLP_GRPC_ENDPOINT: f"127.0.0.1:{grpc}",
        collector.ENV_HEALTH_ENDPOINT: f"127.0.0.1:{health}",
        collector.ENV_METRICS_PORT: str(metrics),
        collector.ENV_FILE_PATH: str(out),
    }
    process = subprocess.Popen(
        [str(BINARY), "--config", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}/", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("collector did not become healthy") from None
                time.sleep(0.05)
        url = f"http://127.0.0.1:{http}/v1/logs"
        start = time.perf_counter()
        for body in bodies:
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        written = 0
        while written < n:
            if out.exists():
                with out.open("rb") as stream:
                    written = sum(line.count(b'"timeUnixNano"') for line in stream)
            if written < n:
                time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not BINARY.is_file():
        sys.exit(f"{BINARY} is missing: run `make collector`")
    corpus = [json.loads(line) for line in (ROOT / "tests" / "data" / "pii_corpus.jsonl").open(encoding="utf-8")]
    bodies = requests(corpus, args.n, args.batch)
    redacting = collector.render_config(load_rules(ROOT / "collector-config" / "redaction.yaml"), "file-sink")
    passthrough = json.loads(json.dumps(redacting))
    for pipeline in passthrough["service"]["pipelines"].values():
        pipeline["processors"] = []
    print(f"{args.n} corpus records in requests of {args.batch}, best of {args.rounds} rounds, OTLP/JSON over HTTP")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in (("passthrough", passthrough), ("redaction", redacting)):
            best = min(run(config, bodies, args.n, Path(tmp)) for _ in range(args.rounds))
            results[name] = args.n / best
            print(f"{name:12s} {results[name]:10,.0f} records/s  ({best * 1e6 / args.n:6.1f} µs/record)")
    print(f"redaction costs {results['passthrough'] / results['redaction']:.1f}x the passthrough time")


if __name__ == "__main__":
    main()
