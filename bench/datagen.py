"""Realistic audit records at full speed, into the chDB store and/or the tutorial's SQLite.

Each record is one prediction as otel-audit stores it: models whose versions roll out over time,
Zipf-distributed users, per-model log-normal latencies, about 2 % errors, labelled outputs and
a ~1 KB input whose canonical JSON and SHA-256 are computed exactly as ``otel_audit`` does.
Records are generated in column batches with numpy (deterministic for a seed) and written:

* to the store as Arrow tables into ``otel_logs`` (the exporter's path; the view types them
  into ``audit_predictions``), and/or
* to SQLite in the tutorial's ``ai_audit_logs`` schema (``bench/_tutorial.py``), same records.

Then, on the store, the merges that a running store does on its own are forced and timed: the
landing TTL that takes prediction rows older than the landing period out of ``otel_logs``
(``OPTIMIZE … FINAL``). Build the report rollups after it with ``otel-audit rollup``.

Run: python bench/datagen.py --n 1000000 --store chdb:///tmp/audit10m [--sqlite /tmp/audit.db]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otel_audit import semconv

MODELS = ("fraud_detector", "credit_scorer", "sentiment_classifier", "churn_predictor", "doc_router")
# Each model serves versions in turn; a version change happens at these fractions of the period.
VERSIONS = {
    "fraud_detector": ("v3.1.0", "v3.2.0", "v3.2.1"),
    "credit_scorer": ("v1.4.0", "v1.5.0"),
    "sentiment_classifier": ("v2.0.0", "v2.1.0", "v2.1.1", "v2.2.0"),
    "churn_predictor": ("v0.9.0",),
    "doc_router": ("2026.01", "2026.03"),
}
LABELS = {
    "fraud_detector": ("legitimate", "fraud", "review"),
    "credit_scorer": ("approve", "decline", "refer"),
    "sentiment_classifier": ("positive", "negative", "neutral"),
    "churn_predictor": ("stay", "churn"),
    "doc_router": ("billing", "support", "legal", "sales", "other"),
}
MODEL_SHARE = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
LATENCY_MU = np.log(np.array([12.0, 25.0, 40.0, 8.0, 60.0]))  # median ms per model
USERS = 50_000
ERROR_RATE = 0.02
PERIOD_S = 180 * 86400  # six months, ending now
CATEGORIES = ("electronics", "grocery", "travel", "fuel", "pharmacy", "online", "restaurant", "utilities")
# Amounts with cents: never integral, so Python's repr is already the RFC 8785 form.
CENTS = [repr((v + (v % 100 == 0)) / 100) for v in range(100_001)]
NOTES = tuple(
    f"customer note {i}: "
    + " ".join(("order", "refund", "late", "delivery", "card", "account")[(i + k) % 6] for k in range(60))
    for i in range(50)
)


@dataclass
class Batch:
    """Column-oriented records; ``size`` rows."""

    size: int
    timestamp_ns: np.ndarray
    model: list[str]
    version: list[str]
    user: list[str]
    request_id: list[str]
    trace_id: list[str]
    span_id: list[str]
    outcome: list[str]
    label: list[str]
    latency_ms: np.ndarray
    input_text: list[str]
    input_hash: list[str]
    output_text: list[str]
    error_type: list[str]


def generate(n: int, *, seed: int = 42, batch_size: int = 100_000, end_ns: int | None = None) -> Iterator[Batch]:
    """Yield *n* records in batches, oldest first, spread over the six months before *end_ns*."""
    rng = np.random.default_rng(seed)
    end = end_ns or time.time_ns()
    start = end - PERIOD_S * 10**9
    step = (end - start) // max(n, 1)
    made = 0
    while made < n:
        size = min(batch_size, n - made)
        offsets = np.arange(made, made + size, dtype=np.int64)
        timestamp = start + offsets * step + rng.integers(0, max(step, 1), size)
        model_index = rng.choice(len(MODELS), size=size, p=MODEL_SHARE)
        progress = offsets / max(n, 1)
        users = np.minimum(rng.zipf(1.3, size), USERS)
        latency = np.round(rng.lognormal(LATENCY_MU[model_index], 0.5), 3)
        failed = rng.random(size) < ERROR_RATE
        label_pick = rng.random(size)
        categorical = rng.integers(0, len(CATEGORIES), (size, 10)).tolist()
        counts = rng.integers(0, 100, (size, 15)).tolist()
        cents = rng.integers(1, 100_000, (size, 15)).tolist()
        ids = rng.integers(0, 2**63, (size, 4), dtype=np.int64)
        model, version, label, outcome, error_type = [], [], [], [], []
        input_text, input_hash, output_text = [], [], []
        request_id, trace_id, span_id, user = [], [], [], []
        for row in range(size):
            name = MODELS[model_index[row]]
            versions = VERSIONS[name]
            model.append(name)
            version.append(versions[min(len(versions) - 1, int(progress[row] * len(versions)))])
            # Canonical JSON built directly: keys in sorted order, numbers as RFC 8785 prints them.
            parts = [f'"c{j:02d}":"{CATEGORIES[v]}"' for j, v in enumerate(categorical[row])]
            parts += [f'"n{j:02d}":{v}' for j, v in enumerate(counts[row])]
            parts.append(f'"note":"{NOTES[users[row] % len(NOTES)]}","segment":"seg{users[row] % 7}"')
            parts += [f'"x{j:02d}":{CENTS[v]}' for j, v in enumerate(cents[row])]
            text = "{" + ",".join(parts) + "}"
            input_text.append(text)
            input_hash.append(hashlib.sha256(text.encode()).hexdigest())
            if failed[row]:
                outcome.append(semconv.OUTCOME_ERROR)
                error_type.append("ValueError")
                label.append("")
                output_text.append("null")
            else:
                labels = LABELS[name]
                chosen = labels[int(label_pick[row] ** 1.5 * len(labels))]
                outcome.append(semconv.OUTCOME_OK)
                error_type.append("")
                label.append(chosen)
                output_text.append(f'{{"label":"{chosen}","score":{round(float(label_pick[row]), 4)!r}}}')
            a, b, c, d = (int(x) for x in ids[row])
            request_id.append(str(uuid.UUID(int=(a << 64 | b) & (2**128 - 1), version=4)))
            trace_id.append(f"{c:016x}{d:016x}")
            span_id.append(f"{a:016x}")
            user.append(f"user_{users[row]:05d}")
        yield Batch(
            size, timestamp, model, version, user, request_id, trace_id, span_id, outcome, label, latency,
            input_text, input_hash, output_text, error_type,
        )  # fmt: skip
        made += size


def write_store(store: Any, batch: Batch, token: str) -> None:
    """Insert *batch* into ``otel_logs`` as one Arrow table (the view fills audit_predictions)."""
    import pyarrow as pa

    from otel_audit.export.rows import LOG_COLUMNS

    n = batch.size
    keys: list[str] = []
    values: list[str] = []
    offsets = [0]
    for row in range(n):
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: batch.model[row],
            semconv.ML_MODEL_VERSION: batch.version[row],
            semconv.GEN_AI_OPERATION_NAME: "predict",
            semconv.AUDIT_INPUT_HASH: batch.input_hash[row],
            semconv.AUDIT_REQUEST_ID: batch.request_id[row],
            semconv.USER_ID: batch.user[row],
            semconv.AUDIT_OUTCOME: batch.outcome[row],
            semconv.AUDIT_LATENCY_MS: repr(float(batch.latency_ms[row])),
            semconv.AUDIT_BATCH_SIZE: "1",
            semconv.AUDIT_SCHEMA_VERSION: semconv.SCHEMA_VERSION,
        }
        if batch.label[row]:
            attributes[semconv.AUDIT_OUTPUT_LABEL] = batch.label[row]
        if batch.error_type[row]:
            attributes[semconv.ERROR_TYPE] = batch.error_type[row]
            attributes[semconv.ERROR_MESSAGE] = "feature out of range"
        keys.extend(attributes)
        values.extend(attributes.values())
        offsets.append(len(keys))
    body = [f'{{"input":{i},"output":{o}}}' for i, o in zip(batch.input_text, batch.output_text, strict=True)]
    string = pa.string()
    resource = pa.MapArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32)), pa.array(["service.name"] * n), pa.array(["bench"] * n)
    )
    empty_map = pa.MapArray.from_arrays(
        pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], string), pa.array([], string)
    )
    table = pa.Table.from_arrays(
        [
            pa.array(batch.timestamp_ns, pa.timestamp("ns")), pa.array(batch.trace_id, string),
            pa.array(batch.span_id, string), pa.array(np.ones(n, dtype=np.uint8)),
            pa.array(["INFO"] * n, string), pa.array(np.full(n, 9, dtype=np.uint8)), pa.array(["bench"] * n, string),
            pa.array(body, string), pa.array([""] * n, string), resource, pa.array([""] * n, string),
            pa.array([semconv.SCOPE_NAME] * n, string), pa.array(["0.1.0"] * n, string), empty_map,
            pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(keys, string), pa.array(values, string)),
            pa.array([semconv.EVENT_PREDICTION] * n, string),
        ],
        names=list(LOG_COLUMNS),
    )  # fmt: skip
    # A small --n puts every day of the period (one partition each) into one block.
    settings = {"insert_deduplication_token": token, "max_partitions_per_insert_block": 0}
    store.insert_arrow("otel_logs", table, settings=settings)


def open_sqlite(path: Path) -> sqlite3.Connection:
    """Create the tutorial's schema (bench/_tutorial.py) with its indexes, via SQLAlchemy."""
    from _tutorial import AuditLogger

    AuditLogger(f"sqlite:///{path}")  # create_all: the tutorial's table and indexes
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")  # bulk load only; the logger itself commits per row
    return connection


def write_sqlite(connection: sqlite3.Connection, batch: Batch) -> None:
    """Insert *batch* into ``ai_audit_logs`` in one transaction (the same records)."""
    rows = [
        (
            batch.request_id[row],
            # SQLAlchemy's DateTime on SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff'.
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(batch.timestamp_ns[row]) // 10**9))
            + f".{int(batch.timestamp_ns[row]) // 1000 % 10**6:06d}",
            batch.model[row],
            batch.version[row],
            batch.input_hash[row],
            batch.input_text[row],
            batch.output_text[row],
            batch.user[row],
            float(batch.latency_ms[row]),
            json.dumps({"outcome": batch.outcome[row], "error_type": batch.error_type[row]}),
        )
        for row in range(batch.size)
    ]
    with connection:
        connection.executemany(
            "INSERT INTO ai_audit_logs (request_id, timestamp, model_name, model_version, input_hash,"
            " input_data, output_data, user_id, latency_ms, metadata) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--store", help="store DSN, e.g. chdb:///tmp/audit10m")
    parser.add_argument("--sqlite", type=Path, help="SQLite file for the tutorial's schema")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    from rich.progress import Progress

    from otel_audit.store.connect import open_store
    from otel_audit.store.schema import apply_schema

    store = open_store(args.store) if args.store else None
    if store is not None:
        apply_schema(store)
    connection = open_sqlite(args.sqlite) if args.sqlite else None
    started = time.perf_counter()
    timings = {"generate": 0.0, "store": 0.0, "sqlite": 0.0}
    with Progress() as progress:
        task = progress.add_task("records", total=args.n)
        mark = time.perf_counter()
        for index, batch in enumerate(generate(args.n, seed=args.seed)):
            now = time.perf_counter()
            timings["generate"] += now - mark
            if store is not None:
                write_store(store, batch, f"datagen-{args.seed}-{index}")
                timings["store"] += time.perf_counter() - now
            now2 = time.perf_counter()
            if connection is not None:
                write_sqlite(connection, batch)
                timings["sqlite"] += time.perf_counter() - now2
            progress.advance(task, batch.size)
            mark = time.perf_counter()
    total = time.perf_counter() - started
    print(f"{args.n:,} records in {total:.1f} s")
    for name, seconds in timings.items():
        if seconds:
            print(f"  {name:<9} {seconds:7.1f} s  {args.n / seconds:12,.0f} records/s")
    if store is not None:
        mark = time.perf_counter()
        store.command("OPTIMIZE TABLE otel_logs FINAL")
        [(landed,)] = store.query("SELECT count() FROM otel_logs").rows
        print(f"landing TTL applied in {time.perf_counter() - mark:.1f} s: {landed:,} rows left in otel_logs")


if __name__ == "__main__":
    main()
