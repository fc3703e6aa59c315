"""Throughput of in-process redaction: records per second through RedactingLogRecordProcessor.on_emit.

Cases (shipped rule file ``collector-config/redaction.yaml``):
(a) PII corpus records (``tests/data/pii_corpus.jsonl``: nested bodies, 2-5 planted values each,
    several scripts), action mask — the worst realistic case;
(b) the same records with every detector set to pseudonymize (HMAC-SHA256 per match);
(c) clean prediction records of the same shape (features, order id, timestamp, label; no PII)
    — the common case;
(d) a 1 KB feature-vector input like bench_hot_path.py's (40 floats + a note);
(e) spans with the corpus attributes through RedactingSpanExporter.export (copies included).

Records are built before the clock starts (on_emit rewrites them in place); each case runs
--rounds times over --n records and the best round is reported, single thread.

Run: python bench/bench_redaction.py [--n 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, TraceFlags

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from otel_audit import semconv  # noqa: E402 - after the path tweak
from otel_audit.redact import (  # noqa: E402
    RedactingLogRecordProcessor,
    RedactingSpanExporter,
    RedactionRules,
    Redactor,
    load_rules,
)

RULES = ROOT / "collector-config" / "redaction.yaml"
CORPUS = ROOT / "tests" / "data" / "pii_corpus.jsonl"
SECRET = b"benchmark-secret-0123456789abcdef"


class NoOpSpans(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def corpus() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


def clean_records(rng: random.Random, n: int, template: dict[str, Any]) -> list[dict[str, Any]]:
    """Records shaped like the corpus with the PII left out."""
    out = []
    for index in range(n):
        out.append(
            {
                "body": {
                    "input": {
                        "features": {f"f{k}": round(rng.uniform(-3, 3), 4) for k in range(6)},
                        "order_id": f"ORD-2026-{index:06d}",
                        "created_at": "2026-05-17T10:30:00Z",
                        "max_tokens": 512,
                        "tags": ["retail", "eu"],
                        "notes": ["Customer asked about the delivery date.", "Kunde möchte die Adresse ändern."],
                    },
                    "output": {"label": "approve", "score": round(rng.random(), 4)},
                },
                "attributes": dict(template),
            }
        )
    return out


def feature_records(n: int, template: dict[str, Any]) -> list[dict[str, Any]]:
    features: dict[str, Any] = {f"feature_{i:02d}": i * 1.25 for i in range(40)}
    features["note"] = "x" * (1024 - len(str(features)))
    return [{"body": {"input": features, "output": {"label": "ok", "score": 0.94}}, "attributes": dict(template)}] * n


def build_logs(records: Sequence[dict[str, Any]], n: int) -> list[ReadWriteLogRecord]:
    resource = Resource.create({"service.name": "bench"})
    return [
        ReadWriteLogRecord(
            LogRecord(body=record["body"], attributes=record["attributes"], event_name=semconv.EVENT_PREDICTION),
            resource=resource,
        )
        for record in (records[i % len(records)] for i in range(n))
    ]


def build_spans(records: Sequence[dict[str, Any]], n: int) -> list[ReadableSpan]:
    context = SpanContext(trace_id=1, span_id=2, is_remote=False, trace_flags=TraceFlags(1))
    return [
        ReadableSpan(name="predict model", context=context, attributes=records[i % len(records)]["attributes"])
        for i in range(n)
    ]


def best_rate(label: str, make: Callable[[], list[Any]], run: Callable[[list[Any]], None], rounds: int) -> float:
    best = float("inf")
    count = 0
    for _ in range(rounds):
        items = make()
        count = len(items)
        start = time.perf_counter()
        run(items)
        best = min(best, time.perf_counter() - start)
    rate = count / best
    print(f"{label:<58} {rate:>10,.0f} records/s  {best / count * 1e6:>7.1f} µs/record")
    return rate


def pseudonymizing(rules: RedactionRules) -> RedactionRules:
    detectors = tuple(dataclasses.replace(d, action="pseudonymize") for d in rules.detectors)
    return dataclasses.replace(rules, detectors=detectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="records per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    rules = load_rules(RULES)
    masking = RedactingLogRecordProcessor(Redactor(rules))
    pseudo = RedactingLogRecordProcessor(Redactor(pseudonymizing(rules), secret=SECRET))
    records = corpus()
    audit_prefixes = ("gen_ai.", "ml.", "audit.", "user.")
    template = {k: v for k, v in records[0]["attributes"].items() if k.startswith(audit_prefixes)}
    clean = clean_records(random.Random(7), 1000, template)
    features = feature_records(1, template)

    def emit_all(processor: RedactingLogRecordProcessor) -> Callable[[list[Any]], None]:
        def run(items: list[Any]) -> None:
            on_emit = processor.on_emit
            for item in items:
                on_emit(item)

        return run

    print(f"python {sys.version.split()[0]}, {args.n} records per round, best of {args.rounds}")
    n, rounds = args.n, args.rounds
    best_rate("(a) PII corpus records, mask", lambda: build_logs(records, n), emit_all(masking), rounds)
    best_rate("(b) PII corpus records, pseudonymize", lambda: build_logs(records, n), emit_all(pseudo), rounds)
    best_rate("(c) clean records, same shape", lambda: build_logs(clean, n), emit_all(masking), rounds)
    best_rate("(d) 1 KB feature-vector input", lambda: build_logs(features, n), emit_all(masking), rounds)
    exporter = RedactingSpanExporter(NoOpSpans(), Redactor(rules))
    best_rate(
        "(e) spans with corpus attributes, RedactingSpanExporter",
        lambda: build_spans(records, n),
        exporter.export,
        rounds,
    )


if __name__ == "__main__":
    main()
