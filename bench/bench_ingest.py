"""Ingest throughput of the ClickHouse exporters into chDB, records per second.

Builds N audit log records (and their spans) the way the runtime does, then times, side by side:
the row mapping alone, the columnar INSERT alone, and both (what ``export()`` does). One
exporter call per batch of 8192, as the audit processor sends them. The runtime gives every
record a ``log.record.uid``; the same records without one (a plain OpenTelemetry client's, which
get a content id at mapping) are mapped as well, to show what the content id costs. Each stage
is also given in µs per record.

Run: python bench/bench_ingest.py [--n 200000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_audit import semconv
from otel_audit.emit.hashing import encode
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter, ClickHouseSpanExporter
from otel_audit.export.rows import SPAN_COLUMNS, attach_body_json, log_table, span_columns
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema

BATCH = 8192


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[Any] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def make_records(n: int, *, uid: bool = True) -> tuple[list[ReadableLogRecord], list[Any]]:
    resource = Resource({"service.name": "bench", "deployment.environment.name": "prod"})
    scope = InstrumentationScope(semconv.SCOPE_NAME, "0.1.0")
    collect = _Collect()
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer(semconv.SCOPE_NAME)
    now = time.time_ns()
    logs = []
    for i in range(n):
        features = {f"f{j}": (i * 7 + j) % 1000 / 7 for j in range(40)}
        encoded = encode(features)
        output = encode({"label": "ok", "score": 0.5})
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: f"model_{i % 5}",
            semconv.ML_MODEL_VERSION: f"v{i % 3}",
            semconv.GEN_AI_OPERATION_NAME: "predict",
            semconv.AUDIT_INPUT_HASH: encoded.sha256,
            semconv.AUDIT_REQUEST_ID: f"req-{i}",
            semconv.USER_ID: f"user_{i % 1000}",
            semconv.AUDIT_OUTCOME: "ok",
            semconv.AUDIT_LATENCY_MS: 1.0 + i % 50,
            semconv.AUDIT_BATCH_SIZE: 1,
            semconv.AUDIT_SCHEMA_VERSION: "1",
        }
        span = tracer.start_span(f"predict model_{i % 5}", start_time=now + i)
        span.set_attributes(attributes)
        span.end(end_time=now + i + 1000)
        context = span.get_span_context()
        if uid:  # as the runtime's finisher sets it (not on the span)
            attributes = {**attributes, semconv.LOG_RECORD_UID: os.urandom(16).hex()}
        record = LogRecord(
            timestamp=now + i,
            trace_id=context.trace_id,
            span_id=context.span_id,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body={"input": encoded.value, "output": output.value},
            attributes=attributes,
            event_name=semconv.EVENT_PREDICTION,
        )
        # As the runtime does: the canonical text computed for the hash is reused as Body.
        attach_body_json(record, f'{{"input":{encoded.text},"output":{output.text}}}')
        logs.append(ReadableLogRecord(log_record=record, resource=resource, instrumentation_scope=scope))
    return logs, collect.spans


def rate(n: int, run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


def batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    n = parser.parse_args().n
    print(f"building {n} records…", flush=True)
    logs, spans = make_records(n)
    anonymous_batches = batches(make_records(n, uid=False)[0])
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"chdb://{tmp}/store")
        apply_schema(store)
        log_exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        span_exporter = ClickHouseSpanExporter(store, create_schema=False)
        log_batches, span_batches = batches(logs), batches(spans)
        log_tables = [log_table(b) for b in log_batches]
        span_cols = [span_columns(b) for b in span_batches]
        # The same columns with no skip indexes and no view: what the engine costs beyond storage.
        store.command("CREATE TABLE bench_plain_logs AS otel_logs")
        for (index,) in store.query(
            "SELECT name FROM system.data_skipping_indices"
            " WHERE database = currentDatabase() AND table = 'bench_plain_logs'"
        ).rows:
            store.command(f"ALTER TABLE bench_plain_logs DROP INDEX {index}")
        results = {
            "logs: Arrow row mapping only": rate(n, lambda: [log_table(b) for b in log_batches]),
            "logs: mapping, no log.record.uid (content ids)": rate(
                n, lambda: [log_table(b) for b in anonymous_batches]
            ),
            "logs: Arrow INSERT only (+ view)": rate(
                n,
                lambda: [
                    store.insert_arrow("otel_logs", t, settings={"insert_deduplication_token": f"b{i}"})
                    for i, t in enumerate(log_tables)
                ],
            ),
            "logs: Arrow INSERT, no indexes, no view": rate(
                n,
                lambda: [
                    store.insert_arrow("bench_plain_logs", t, settings={"insert_deduplication_token": f"p{i}"})
                    for i, t in enumerate(log_tables)
                ],
            ),
            "logs: export() = mapping + INSERT": rate(n, lambda: [log_exporter.export(b) for b in log_batches]),
            "spans: row mapping only": rate(n, lambda: [span_columns(b) for b in span_batches]),
            "spans: columnar INSERT only": rate(
                n, lambda: [store.insert_columns("otel_traces", c, SPAN_COLUMNS) for c in span_cols]
            ),
            "spans: export() = mapping + INSERT": rate(n, lambda: [span_exporter.export(b) for b in span_batches]),
        }
        rows = store.query("SELECT count() FROM audit_predictions").rows[0][0]
    print(f"{'stage':<48} {'records/s':>12} {'µs/record':>10}")
    for name, value in results.items():
        print(f"{name:<48} {value:12,.0f} {1e6 / value:10.1f}")
    print(f"audit_predictions rows after the runs: {rows:,} (3 log inserts of {n:,}, deduplicated: {rows == 2 * n})")


if __name__ == "__main__":
    main()
