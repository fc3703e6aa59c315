"""Seal and verify throughput over audit_predictions in chDB, records per second.

Fills ``audit_predictions`` with N synthetic records (1 KB-ish canonical input each), then times,
side by side: hashing the leaves alone (canonical JSON + SHA-256, no I/O), a full ``seal`` of all
N records (read, hash, insert leaves, sign), a second ``seal`` of a further N/10 late records
onto the existing tree, and ``verify`` of everything.

Run: python bench/bench_seal.py [--n 50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time

from otel_audit.emit.hashing import encode
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.leaf import leaf_hash
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import apply_schema
from otel_audit.store.sql import query_sql

_COLUMNS = [
    "Timestamp", "RecordId", "ModelName", "ModelVersion", "Operation", "InputHash", "UserId", "RequestId",
    "Outcome", "OutputLabel", "LatencyMs", "BatchSize", "ServiceName", "TraceId", "SpanId", "Input", "Output",
    "Attributes",
]  # fmt: skip


def fill(store: Store, start: int, n: int, base: dt.datetime) -> None:
    """Insert records start..start+n-1 straight into audit_predictions."""
    rows = []
    for i in range(start, start + n):
        features = encode({f"f{j}": (i * 7 + j) % 1000 / 7 for j in range(40)})
        trace, span = f"{i:032x}", f"{i:016x}"
        rows.append(
            [
                base + dt.timedelta(microseconds=i * 10),
                f"{trace}-{span}",
                f"model_{i % 5}",
                f"v{i % 3}",
                "predict",
                features.sha256,
                f"user_{i % 97}",
                f"req-{i}",
                "ok",
                "fraud" if i % 9 == 0 else "legit",
                1.5 + i % 50,
                1,
                "bench",
                trace,
                span,
                features.text,
                '{"label":"legit","score":0.25}',
                {"audit.schema.version": "1"},
            ]
        )
    for chunk in range(0, len(rows), 10000):
        part = rows[chunk : chunk + 10000]
        store.insert_columns("audit_predictions", [list(col) for col in zip(*part, strict=True)], _COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000, help="records to seal")
    args = parser.parse_args()
    n, late = args.n, max(1, args.n // 10)
    signer = NoteSigner("bench", os.urandom(32))
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"chdb://{folder}/store?database=bench")
        apply_schema(store, ttl_days=0)
        base = dt.datetime(2026, 1, 1)
        fill(store, 0, n, base)
        everything = {"since": dt.datetime(1970, 1, 1), "until": dt.datetime(2262, 1, 1)}
        rows = store.query(query_sql("seal_records"), everything).dicts()
        started = time.perf_counter()
        for row in rows:
            leaf_hash(row)
        hashing = time.perf_counter() - started
        started = time.perf_counter()
        first = seal(store, signer)
        sealing = time.perf_counter() - started
        fill(store, n, late, base - dt.timedelta(days=1))  # late: timestamped before everything sealed
        started = time.perf_counter()
        second = seal(store, signer)
        extending = time.perf_counter() - started
        started = time.perf_counter()
        report = verify(store, signer.verifier)
        verifying = time.perf_counter() - started
        assert first.sealed == n and second.sealed == late and report.ok, report.problems[:3]
        print(f"records: {n} sealed, then {late} late records onto the tree of {n}")
        print(f"{'case':<44}{'seconds':>10}{'records/s':>12}")
        for name, seconds, count in (
            ("leaf hashing only (canonical JSON + SHA-256)", hashing, n),
            ("seal (read, hash, insert leaves, sign)", sealing, n),
            (f"seal {late} late records onto {n}", extending, late),
            (f"verify all {n + late} (records, roots, sigs)", verifying, n + late),
        ):
            print(f"{name:<44}{seconds:>10.2f}{count / seconds:>12,.0f}")
        print(f"ratio seal / hashing-only time: {sealing / hashing:.2f}")
        store.close()


if __name__ == "__main__":
    main()
