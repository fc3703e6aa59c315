"""Cost of the answers on a store of N predictions: compliance report, HTML page, archive, restore.

Fills otel_logs with N prediction records spread over 90 days (2 models, 3 versions, 5 % errors,
20 % with redaction attributes) by Arrow insert; the schema's view derives audit_predictions.
Then times, once each: the compliance report's queries, the HTML rendering, ``archive_months``
(Parquet + SHA-256) and ``restore_archive`` into a fresh database.

Run: python bench/bench_answers.py [--n 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from otel_audit import semconv
from otel_audit.answer import queries
from otel_audit.answer.html import render_html
from otel_audit.store.archive import archive_months, restore_archive
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema

START = dt.datetime(2026, 1, 1)


def _records(n: int, rng: random.Random) -> pa.Table:
    columns: dict[str, list[object]] = {
        name: [] for name in ("Timestamp", "TraceId", "SpanId", "Body", "LogAttributes")
    }
    for i in range(n):
        when = START + dt.timedelta(seconds=rng.randrange(90 * 86400))
        model = "fraud_detector" if i % 3 else "credit_scorer"
        version = ("v1", "v2")[when >= START + dt.timedelta(days=45)] if model == "fraud_detector" else "v9"
        failed = rng.random() < 0.05
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: model,
            semconv.ML_MODEL_VERSION: version,
            semconv.ML_PIPELINE_VERSION: f"pipe-{version}",
            semconv.AUDIT_INPUT_HASH: f"{rng.getrandbits(256):064x}",
            semconv.USER_ID: f"user{rng.randrange(500)}",
            semconv.AUDIT_REQUEST_ID: f"req-{i}",
            semconv.AUDIT_OUTCOME: "error" if failed else "ok",
            semconv.AUDIT_LATENCY_MS: f"{rng.lognormvariate(1.5, 1.0):.3f}",
        }
        if failed:
            attributes[semconv.ERROR_TYPE] = "ValueError"
        if rng.random() < 0.2:
            attributes["audit.redaction.count"] = "2"
        columns["Timestamp"].append(when)
        columns["TraceId"].append(f"{i:032x}")
        columns["SpanId"].append(f"{i:016x}")
        columns["Body"].append(json.dumps({"input": {"amount": rng.random()}, "output": {"label": "ok"}}))
        columns["LogAttributes"].append(list(attributes.items()))
    n_rows = len(columns["Timestamp"])
    return pa.table(
        {
            "Timestamp": pa.array(columns["Timestamp"], pa.timestamp("ns")),
            "TraceId": columns["TraceId"],
            "SpanId": columns["SpanId"],
            "Body": columns["Body"],
            "LogAttributes": pa.array(columns["LogAttributes"], pa.map_(pa.string(), pa.string())),
            "EventName": [semconv.EVENT_PREDICTION] * n_rows,
        }
    )


def main() -> None:
    """Print the timings as a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"chdb://{tmp}/store?database=bench")
        apply_schema(store, ttl_days=0)
        table = _records(n, random.Random(1))
        started = time.perf_counter()
        store.insert_arrow("otel_logs", table)
        rows: list[tuple[str, float, str]] = [
            ("fill otel_logs + view (Arrow insert)", time.perf_counter() - started, "")
        ]

        started = time.perf_counter()
        report = queries.compliance(store, "fraud_detector")
        rows.append(("compliance report (all queries)", time.perf_counter() - started, ""))
        started = time.perf_counter()
        page = render_html(report)
        rows.append(("render HTML page", time.perf_counter() - started, f"{len(page) / 1024:.0f} KiB"))

        started = time.perf_counter()
        files = archive_months(store, "2026-04-01", Path(tmp) / "archive", signer=None)  # unsigned: no seal here
        elapsed = time.perf_counter() - started
        size = sum((Path(tmp) / "archive" / f.path).stat().st_size for f in files)
        archived = sum(f.rows for f in files)
        rows.append(
            (
                "archive 3 months (Parquet zstd + SHA-256)",
                elapsed,
                f"{archived / elapsed:,.0f} rows/s, {size / 2**20:.1f} MiB",
            )
        )
        restored = open_store(f"chdb://{tmp}/store?database=bench_restored")
        started = time.perf_counter()
        restore_archive(restored, Path(tmp) / "archive", accept_unverified=True)
        elapsed = time.perf_counter() - started
        rows.append(("restore (verify + insert)", elapsed, f"{archived / elapsed:,.0f} rows/s"))
    print(f"N = {n:,} predictions ({archived:,} archived rows over both tables)\n")
    print("| step | seconds | note |\n|---|---:|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.2f} | {note} |")


if __name__ == "__main__":
    main()
