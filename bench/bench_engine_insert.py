"""Where the engine's time goes when it stores a log record: the full schema, then one piece off.

Builds N audit log records the way the runtime does (``bench_ingest.make_records``) and their
Arrow tables, then inserts the same tables into several databases of one chDB engine, side by
side, in alternating rounds (best of ``--rounds``):

* the full schema, as ``apply_schema`` makes it;
* the same with one piece removed: ``otel_logs``' skip indexes, ``audit_predictions``' skip
  indexes, the ``RowHash`` the engine computes for each prediction, or one materialized view
  (a view that feeds others takes their work with it);
* bare: no skip indexes and no views.

Then the prediction view's SELECT, and its JSON extraction, timed as queries over the stored
records: what the view costs before its rows are written.

Each piece's cost is the full schema's µs per record minus the variant's. The pieces overlap a
little (the engine runs views and index builds on two cores), so they need not add up exactly.

Run: python bench/bench_engine_insert.py [--n 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from bench_ingest import batches, make_records

from otel_audit import semconv
from otel_audit.export.rows import log_table
from otel_audit.store.base import Store
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema


def _names(store: Store, sql: str) -> list[str]:
    return [str(name) for (name,) in store.query(sql).rows]


def _skip_indexes(store: Store, table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} DROP INDEX {index}"
        for index in _names(
            store,
            f"SELECT name FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = '{table}'",
        )
    ]


def _views(store: Store) -> list[str]:
    """The materialized views an insert into ``otel_logs`` runs, directly or through another."""
    return _names(
        store,
        "SELECT arrayJoin(dependencies_table) AS view FROM system.tables"
        " WHERE database = currentDatabase() AND name IN ('otel_logs', 'audit_predictions', 'audit_events')"
        " ORDER BY view",
    )


def variants(store: Store) -> dict[str, list[str]]:
    """Each variant's name and the statements that take its piece off the full schema."""
    log_indexes = _skip_indexes(store, "otel_logs")
    prediction_indexes = _skip_indexes(store, "audit_predictions")
    view_drops = {view: f"DROP VIEW {view}" for view in _views(store)}
    pieces = {
        "otel_logs without skip indexes": log_indexes,
        "audit_predictions without skip indexes": prediction_indexes,
        "RowHash not computed": ["ALTER TABLE audit_predictions MODIFY COLUMN RowHash String DEFAULT ''"],
        **{f"without view {view}": [drop] for view, drop in view_drops.items()},
    }
    bare = [*log_indexes, *prediction_indexes, *view_drops.values()]
    return {"full schema": [], **pieces, "bare: no skip indexes, no views": bare}


def _select_costs(store: Store) -> dict[str, float]:
    """µs per record (best of 3) of the prediction view's SELECT, and of its costliest part, run
    as queries over the records ``otel_logs`` holds."""
    (view,) = store.query(
        "SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = 'audit_predictions_mv'"
    ).rows[0]
    is_prediction = f"EventName = '{semconv.EVENT_PREDICTION}'"
    records = int(store.query(f"SELECT count() FROM otel_logs WHERE {is_prediction}").rows[0][0])
    queries = {
        "audit_predictions_mv's SELECT, every column": f"SELECT sum(cityHash64(*)) FROM ({view})",
        "  of which Input and Output (JSONExtractRaw of Body)": (
            f"SELECT sum(length(JSONExtractRaw(Body, '{semconv.BODY_INPUT}'))"
            f" + length(JSONExtractRaw(Body, '{semconv.BODY_OUTPUT}'))) FROM otel_logs WHERE {is_prediction}"
        ),
        "reading Body alone": f"SELECT sum(length(Body)) FROM otel_logs WHERE {is_prediction}",
    }
    costs = {}
    for name, sql in queries.items():
        seconds = []
        for _ in range(3):
            started = time.perf_counter()
            store.query(sql)
            seconds.append(time.perf_counter() - started)
        costs[name] = min(seconds) / records * 1e6
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"building {args.n:,} records…", flush=True)
    tables = [log_table(batch) for batch in batches(make_records(args.n)[0])]
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        probe = open_store(f"chdb://{folder}/store")
        apply_schema(probe)
        plan = variants(probe)
        stores: dict[str, Any] = {}
        for number, (name, statements) in enumerate(plan.items()):
            store = open_store(f"chdb://{folder}/store?database=variant{number}")
            apply_schema(store)
            for statement in statements:
                store.command(statement)
            stores[name] = store
        for store in stores.values():  # warm up: first parts, caches
            store.insert_arrow("otel_logs", tables[0], settings={"insert_deduplication_token": "warm-up"})
        best: dict[str, float] = {}
        for round_number in range(args.rounds):
            for name, store in stores.items():
                started = time.perf_counter()
                for index, table in enumerate(tables):
                    token = f"{round_number}-{index}"
                    store.insert_arrow("otel_logs", table, settings={"insert_deduplication_token": token})
                seconds = time.perf_counter() - started
                best[name] = min(best.get(name, seconds), seconds)
            print(f"round {round_number + 1} of {args.rounds} done", flush=True)
        selects = _select_costs(stores["full schema"])
        for store in [*stores.values(), probe]:
            store.close()
    full = best["full schema"] / args.n * 1e6
    print(f"\n{'Arrow INSERT into otel_logs of ' + format(args.n, ',') + ' records':<56} {'µs/record':>10} "
          f"{'records/s':>10} {'piece µs':>9}")  # fmt: skip
    for name, seconds in best.items():
        micros = seconds / args.n * 1e6
        piece = "" if name == "full schema" else f"{full - micros:9.1f}"
        print(f"{name:<56} {micros:10.1f} {args.n / seconds:10,.0f} {piece:>9}")
    print(f"\n{'the same work as a SELECT over the stored records':<56} {'µs/record':>10}")
    for name, micros in selects.items():
        print(f"{name:<56} {micros:10.1f}")


if __name__ == "__main__":
    main()
