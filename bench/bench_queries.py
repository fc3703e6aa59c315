"""Compliance reports on the chDB store vs the tutorial's SQLite design, same records.

Fill both stores first with ``bench/datagen.py`` (same --n, same seed). Every report runs a few
times on each side (warm); the median is printed with the ratio, then the bytes on disk.

The SQLite side uses the tutorial's schema and indexes (``bench/_tutorial.py``) with each report
written as one SQL statement per figure, aggregation pushed into SQLite — faster than the
tutorial's own ``ComplianceReporter``, which loads every matching row as an ORM object.

Run: python bench/bench_queries.py --store chdb:///tmp/audit10m --sqlite /tmp/audit10m.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from otel_audit.answer import queries
from otel_audit.store.connect import Store, open_store

REPEAT = 3


def _median_seconds(run: Callable[[], Any]) -> tuple[float, Any]:
    result = None
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def _sqlite_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class SQLiteReports:
    """The same reports over the tutorial's ai_audit_logs table."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)

    def _one(self, sql: str, *args: Any) -> Any:
        return self.db.execute(sql, args).fetchall()

    def model_usage(self, model: str, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
        where = "model_name = ? AND timestamp >= ? AND timestamp < ?"
        args = (model, _sqlite_time(since), _sqlite_time(until))
        [(count, users, first, last, latency_max, latency_mean)] = self._one(
            f"SELECT count(*), count(DISTINCT user_id), min(timestamp), max(timestamp), max(latency_ms),"
            f" avg(latency_ms) FROM ai_audit_logs WHERE {where}",
            *args,
        )
        percentiles = {}
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            percentiles[name] = self._one(
                f"SELECT latency_ms FROM ai_audit_logs WHERE {where} ORDER BY latency_ms LIMIT 1 OFFSET ?",
                *args,
                min(count - 1, int(q * count)),
            )[0][0]
        return {
            "total_predictions": count,
            "unique_users": users,
            "errors": self._one(
                f"SELECT count(*) FROM ai_audit_logs WHERE {where}"
                " AND json_extract(metadata, '$.outcome') = 'error'", *args
            )[0][0],
            "versions_used": dict(self._one(
                f"SELECT model_version, count(*) FROM ai_audit_logs WHERE {where} GROUP BY model_version", *args
            )),
            "prediction_distribution": dict(self._one(
                f"SELECT json_extract(output_data, '$.label') AS l, count(*) FROM ai_audit_logs WHERE {where}"
                " AND l IS NOT NULL GROUP BY l", *args
            )),
            "latency_ms": {**percentiles, "max": latency_max, "mean": latency_mean},
            "first_prediction": first,
            "last_prediction": last,
        }  # fmt: skip

    def data_access(self, user: str, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
        args = (user, _sqlite_time(since), _sqlite_time(until))
        where = "user_id = ? AND timestamp >= ? AND timestamp < ?"
        models = self._one(f"SELECT model_name, count(*) FROM ai_audit_logs WHERE {where} GROUP BY model_name", *args)
        requests = self._one(
            f"SELECT timestamp, request_id, model_name, model_version, input_hash FROM ai_audit_logs WHERE {where}"
            " ORDER BY timestamp DESC LIMIT 1000",
            *args,
        )
        return {"total_requests": sum(n for _, n in models), "models_used": dict(models), "requests": requests}

    def version_at(self, model: str, at: dt.datetime) -> list[Any]:
        return self._one(
            "SELECT model_version, min(timestamp), max(timestamp), count(*) FROM ai_audit_logs"
            " WHERE model_name = ? GROUP BY model_version", model
        )  # fmt: skip

    def request(self, request_id: str) -> list[Any]:
        return self._one("SELECT * FROM ai_audit_logs WHERE request_id = ?", request_id)

    def input_lookup(self, digest: str) -> list[Any]:
        return self._one("SELECT * FROM ai_audit_logs WHERE input_hash = ? ORDER BY timestamp LIMIT 1000", digest)


def _size(path: Path) -> int:
    if path.is_file():
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--sqlite", type=Path, required=True)
    args = parser.parse_args()
    store: Store = open_store(args.store)
    sqlite = SQLiteReports(args.sqlite)

    [(total, last)] = store.query("SELECT count(), max(Timestamp) FROM audit_predictions").rows
    until = last + dt.timedelta(seconds=1)
    month, quarter = until - dt.timedelta(days=30), until - dt.timedelta(days=90)
    model = "fraud_detector"
    [(user,)] = store.query("SELECT UserId FROM audit_predictions GROUP BY UserId ORDER BY count() DESC LIMIT 1").rows
    [(request_id, digest, middle)] = store.query(
        "SELECT RequestId, InputHash, Timestamp FROM audit_predictions WHERE ModelName = {m:String}"
        " ORDER BY Timestamp LIMIT 1 OFFSET 100000", {"m": model}
    ).rows  # fmt: skip
    print(f"{total:,} records; model {model}, busiest user {user}")

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[Any, Any], bool]]] = [
        (
            "model usage, 30 days",
            lambda: queries.model_usage(store, model, since=month, until=until),
            lambda: sqlite.model_usage(model, month, until),
            lambda a, b: a["total_predictions"] == b["total_predictions"] and a["unique_users"] == b["unique_users"],
        ),
        (
            "model usage, all 6 months",
            lambda: queries.model_usage(store, model),
            lambda: sqlite.model_usage(model, dt.datetime(1970, 1, 1), until),
            lambda a, b: (
                a["total_predictions"] == b["total_predictions"]
                and a["versions_used"] == b["versions_used"]
                and a["prediction_distribution"] == b["prediction_distribution"]
            ),
        ),
        (
            "data access of the busiest user, 90 days",
            lambda: queries.data_access(store, user, since=quarter, until=until),
            lambda: sqlite.data_access(user, quarter, until),
            lambda a, b: a["total_requests"] == b["total_requests"] and a["models_used"] == b["models_used"],
        ),
        (
            "version at time T",
            lambda: queries.version_at(store, model, middle),
            lambda: sqlite.version_at(model, middle),
            lambda a, b: len(a["versions"]) == len(b),
        ),
        (
            "record of a request id",
            lambda: queries.request_record(store, request_id),
            lambda: sqlite.request(request_id),
            lambda a, b: a["found"] == len(b) == 1,
        ),
        (
            "predictions for an input hash",
            lambda: queries.input_lookup(store, digest),
            lambda: sqlite.input_lookup(digest),
            lambda a, b: a["found"] == len(b) >= 1,
        ),
    ]
    print(f"{'report':<42} {'chDB ms':>9} {'SQLite ms':>10} {'ratio':>7}  same answer")
    worst = 0.0
    for name, ours, theirs, same in cases:
        ours_s, ours_result = _median_seconds(ours)
        theirs_s, theirs_result = _median_seconds(theirs)
        worst = max(worst, ours_s)
        agree = same(ours_result, theirs_result)
        print(f"{name:<42} {ours_s * 1000:9.1f} {theirs_s * 1000:10.1f} {theirs_s / ours_s:6.0f}x  {agree}")
    print(f"slowest chDB report: {worst * 1000:.1f} ms (target < 200 ms)")
    # The live data parts: a merge leaves the parts it replaced on disk for a few minutes
    # (old_parts_lifetime), which the folder size would count twice.
    tables = store.query(
        "SELECT table, sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND database = {db:String}"
        " GROUP BY table ORDER BY bytes DESC", {"db": store.database}
    ).rows  # fmt: skip
    ours_bytes, folder, theirs_bytes = sum(b for _, b in tables), _size(Path(store.location)), _size(args.sqlite)
    print(
        f"bytes on disk: chDB data parts {ours_bytes / 2**20:,.0f} MiB (store folder now {folder / 2**20:,.0f} MiB),"
        f" SQLite {theirs_bytes / 2**20:,.0f} MiB, ratio {ours_bytes / theirs_bytes:.3f} (target <= 0.2)"
    )
    print("  " + ", ".join(f"{table} {size / 2**20:,.1f} MiB" for table, size in tables))


if __name__ == "__main__":
    main()
