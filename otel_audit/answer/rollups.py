"""Build the report rollups for closed periods (``clickhouse/schema/080_audit_rollups.sql``).

Usage::

    otel-audit rollup                # every closed hour and day that is new or has changed
    build_rollups(store)             # the same, from Python (serve runs it on a schedule)

A rollup holds the exact, deduplicated aggregate states of one period: an hour of model usage
(``audit_usage_hourly``) or a UTC day of per-user data access (``audit_user_daily``). Each build
records the number of stored rows the period held when the build started; the reports use a
period's rollup only while ``audit_hour_rows`` still counts that many (``_usage_current.sql``,
``_user_current.sql``) and read the rows of every other period from ``audit_predictions``. So
the rollups make reports fast and never make them wrong: a late or duplicated record makes its
period stale until the next build, a build that dies half-way is never used, and a store
without rollups gives the same answers, only slower.

Periods still open (ending less than *grace* ago) are not built: they would be stale at once.
Stale periods are built in chunks of about :data:`CHUNK_ROWS` stored rows, so the per-record
deduplication holds a bounded number of record ids in memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

from otel_audit.periods import EPOCH, to_utc
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["CHUNK_ROWS", "ROLLUPS", "Rollup", "RollupResult", "build_rollups"]

CHUNK_ROWS = 1_000_000
"""Stored rows per build statement (a chunk never splits a period)."""

_BUILDS = "audit_rollup_builds"
_BUILD_COLUMNS = ["RollupName", "Period", "PeriodEnd", "BuiltAt", "SourceRows"]


@dataclasses.dataclass(frozen=True)
class Rollup:
    """One rollup table: its name in ``audit_rollup_builds``, period length and build query."""

    name: str
    seconds: int
    build_query: str

    @property
    def stale_query(self) -> str:
        return f"rollup_stale_{self.name}"


ROLLUPS = (
    Rollup("usage_hourly", 3600, "rollup_build_usage"),
    Rollup("user_daily", 86400, "rollup_build_user"),
)


@dataclasses.dataclass
class RollupResult:
    """What one :func:`build_rollups` run did."""

    periods: dict[str, int] = dataclasses.field(default_factory=dict)
    """Periods built, per rollup."""
    source_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    """Stored rows those periods held (duplicates included), per rollup."""
    seconds: float = 0.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _chunks(stale: list[tuple[dt.datetime, int]]) -> Iterator[list[tuple[dt.datetime, int]]]:
    chunk: list[tuple[dt.datetime, int]] = []
    rows = 0
    for period, count in stale:
        if chunk and rows + count > CHUNK_ROWS:
            yield chunk
            chunk, rows = [], 0
        chunk.append((period, count))
        rows += count
    if chunk:
        yield chunk


def build_rollups(
    store: Store,
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = dt.timedelta(minutes=5),
    since: Any = None,
    rebuild: bool = False,
    progress: Callable[[str, int], Any] | None = None,
) -> RollupResult:
    """Build every rollup period that ended before ``now - grace`` and has no current build.

    *since* (a datetime or ISO 8601 text, UTC) limits the search to periods after it (default:
    all stored rows). *rebuild* builds
    current periods again too (after rows came in without an INSERT, e.g. ``ATTACH PARTITION``,
    which the row counter cannot see). *progress* is
    called as ``progress(description, chunks_total)`` after each chunk.
    """
    started = time.perf_counter()
    before = (now or _utcnow()) - grace
    window = {"since": to_utc(since, EPOCH), "until": before}
    # Rows the counter missed (stored before it existed, or attached without an INSERT) would
    # be read by no report: count them first.
    store.command(query_sql("rollup_recount"), window)
    plan = []
    for rollup in ROLLUPS:
        stale = [
            (period, int(rows))
            for period, rows in store.query(query_sql(rollup.stale_query), {**window, "rebuild": int(rebuild)}).rows
        ]
        plan.append((rollup, stale, list(_chunks(stale))))
    total_chunks = sum(len(chunks) for _, _, chunks in plan)
    result = RollupResult()
    last_built = EPOCH
    for rollup, stale, chunks in plan:
        period_length = dt.timedelta(seconds=rollup.seconds)
        for chunk in chunks:
            periods = [period for period, _ in chunk]
            # Strictly increasing build times: the latest build of a period is the one to read.
            built_at = max(_utcnow(), last_built + dt.timedelta(microseconds=1))
            last_built = built_at
            store.command(
                query_sql(rollup.build_query),
                {"periods": periods, "since": periods[0], "until": periods[-1] + period_length, "built_at": built_at},
            )
            # The build row goes last: until it exists, the rows above are never read.
            store.insert_columns(
                _BUILDS,
                [
                    [rollup.name] * len(chunk),
                    periods,
                    [period + period_length for period in periods],
                    [built_at] * len(chunk),
                    [rows for _, rows in chunk],
                ],
                _BUILD_COLUMNS,
            )
            if progress is not None:
                progress(f"{rollup.name} up to {periods[-1]:%Y-%m-%d %H:%M}", total_chunks)
        result.periods[rollup.name] = len(stale)
        result.source_rows[rollup.name] = sum(rows for _, rows in stale)
    result.seconds = time.perf_counter() - started
    return result
