"""Periods and time bounds: what the reports (:mod:`otel_audit.answer`), the seal
(:mod:`otel_audit.seal`) and the CLI mean by ``--since``/``--until``.

A period is ``[since, until)`` in UTC; a bound is a :class:`~datetime.datetime` or ISO 8601 text
(``2026-03-15T12:00:00Z``), and a naive datetime is taken as UTC. A bound not given leaves the
period open on that side: queries then use :data:`EPOCH` or :data:`FAR_FUTURE`, which no answer
ever shows (an answer states the bound given, else the time of its first or last record:
:func:`stated_bound`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from otel_audit.errors import QueryError

__all__ = ["EPOCH", "FAR_FUTURE", "query_period", "stated_bound", "stored_time_text", "to_utc"]

EPOCH = dt.datetime(1970, 1, 1)
"""Start of an open-ended period, as a query bound (never shown: see :func:`stated_bound`)."""
FAR_FUTURE = dt.datetime(2262, 4, 11)
"""End of an open-ended period (DateTime64(9) ends in 2262), as a query bound (never shown)."""


def to_utc(value: dt.datetime | str | None, default: dt.datetime) -> dt.datetime:
    """Return *value* as a naive UTC datetime (ISO strings accepted), or *default*.

    Raises:
        QueryError: *value* is not a datetime or an ISO 8601 string.
    """
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(f"{value!r} is not an ISO 8601 time (e.g. 2026-03-15T12:00:00Z)") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def query_period(since: Any, until: Any) -> dict[str, dt.datetime]:
    """The ``since``/``until`` query parameters of a period, open ends bounded.

    Raises:
        QueryError: a bound is not a time, or *until* is not after *since*.
    """
    start = to_utc(since, EPOCH)
    end = to_utc(until, FAR_FUTURE)
    if end <= start:
        raise QueryError(f"empty period: until ({end}) is not after since ({start})")
    return {"since": start, "until": end}


def stated_bound(given: Any, records: dt.datetime | None) -> dt.datetime | None:
    """A bound of the period a report states: the one *given*, else the *records*' own time."""
    return records if given is None else to_utc(given, EPOCH)


def stored_time_text(value: dt.datetime) -> str:
    """*value* as the store writes a ``DateTime64(9)`` in text (``2026-03-15 12:00:00.000000000``),
    so that it compares with stored timestamps as text."""
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond:06d}000"


def day_windows(
    days: Iterable[tuple[dt.datetime, int]], start: dt.datetime, end: dt.datetime, size: int
) -> Iterator[tuple[dt.datetime, dt.datetime, int]]:
    """Consecutive ``[from, to)`` covering ``[start, end)``, cut at UTC day starts, each holding
    about *size* rows (a bigger day whole), with how many: *days* are ``(day, rows)`` in order,
    as the ``*_per_day`` queries give them."""
    window_start, rows = start, 0
    for day, count in days:
        if rows and rows + count > size:
            yield window_start, max(window_start, day), rows
            window_start, rows = max(window_start, day), 0
        rows += count
    yield window_start, end, rows
