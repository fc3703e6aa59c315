"""Open an audit store from a DSN: embedded chDB or a ClickHouse server, same API.

DSNs:

* ``chdb:///abs/path`` or ``chdb://relative/path`` - embedded on-disk store (one process at a time)
* ``chdb://memory`` - embedded, in memory, gone when the process exits
* ``http(s)://user:password@host:8123/database`` - a ClickHouse server or cluster

A ``?database=NAME`` suffix selects a database in any of them (created if missing, by a writer).
Mind the slashes: ``chdb://tmp/x`` is the relative path ``tmp/x``.

Writers open with ``create=True`` (the default) and get the folder and database made for them.
Readers (every report, ``query``, ``verify``, ``prove``, ``evidence``, ``archive``) open with
``create=False``: a DSN that names no otel-audit store - a misspelt folder, the relative
``chdb://tmp/x`` meant as ``chdb:///tmp/x``, an unknown ``?database=`` - is then a
:class:`~otel_audit.errors.StoreNotFoundError` saying what was looked for, and nothing is created
on disk (the folder is checked before the chDB engine, which creates any path it is given, starts).

The DSN picks the transport (:mod:`otel_audit.store.base`): chDB in this process, a ClickHouse
server over HTTP, or - for an on-disk store that ``otel-audit serve`` owns in another process -
the server's front door. chDB runs one engine per process, and an on-disk store can be open in one
process only: a second process gets :class:`~otel_audit.errors.StoreLockedError` naming the
owner, never a stack trace. Every statement runs with ``session_timezone = 'UTC'``.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from otel_audit import envvars
from otel_audit.errors import ConfigError
from otel_audit.store.base import Store, StoreResult, missing_store, redact_dsn, store_check
from otel_audit.store.embedded import MEMORY, EmbeddedStore
from otel_audit.store.front_door import front_door
from otel_audit.store.http import ServerStore
from otel_audit.store.sandbox import QueryLimits

__all__ = ["Store", "StoreResult", "open_store", "parse_dsn", "query_limits"]

_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_stores: dict[tuple[str, str], Store] = {}
_stores_lock = threading.Lock()


def parse_dsn(dsn: str) -> tuple[str, str, str]:
    """Split *dsn* into ``(kind, location, database)``; kind is ``chdb`` or ``http``.

    Raises:
        ConfigError: the DSN is not one of the forms in the module docstring.
    """
    if not isinstance(dsn, str) or not dsn.strip():
        raise ConfigError("store DSN is empty; use chdb:///path, chdb://memory or http://host:8123")
    dsn = dsn.strip()
    location, _, query = dsn.partition("?")
    database = parse_qs(query).get("database", ["default"])[0]
    if not _DATABASE_NAME.match(database):
        raise ConfigError(f"database name {database!r} in {dsn!r} is not a plain identifier")
    if location.startswith("chdb://"):
        path = location[len("chdb://") :]
        if path in ("memory", ":memory:", ""):
            return "chdb", ":memory:", database
        return "chdb", str(Path(path).expanduser().resolve()), database
    if location.startswith(("http://", "https://")):
        parts = urlsplit(location)
        if parts.path.strip("/"):
            database = parts.path.strip("/")
        return "http", location, database
    raise ConfigError(f"unsupported store DSN {dsn!r}: use chdb:///path, chdb://memory or http(s)://host:8123")


def query_limits() -> QueryLimits:
    """The sandbox's pinned limits: ``OTEL_AUDIT_QUERY_*`` variables, else the defaults."""
    defaults = QueryLimits()
    return QueryLimits(
        max_execution_time_s=envvars.OTEL_AUDIT_QUERY_TIMEOUT_S.resolve(default=defaults.max_execution_time_s),
        max_result_rows=envvars.OTEL_AUDIT_QUERY_MAX_ROWS.resolve(default=defaults.max_result_rows),
        max_result_bytes=defaults.max_result_bytes,
        max_memory_bytes=envvars.OTEL_AUDIT_QUERY_MAX_MEMORY.resolve(default=defaults.max_memory_bytes),
    )


def open_store(dsn: str, *, create: bool = True) -> Store:
    """Return the process-wide :class:`Store` for *dsn*, opening it on first use.

    An on-disk chDB store owned by a running ``otel-audit serve`` in another process is
    returned as a read-only :class:`~otel_audit.store.front_door.FrontDoorStore` that reads it
    through the server.

    Args:
        dsn: one of the forms in the module docstring.
        create: create the folder and database if missing (what writers do). When false (what
            readers do) nothing is created: the store must exist and hold the otel-audit schema.

    Raises:
        StoreNotFoundError: *create* is false and *dsn* names no otel-audit store (no such folder,
            no chDB store in it, no such database, or no schema); the message says what was
            looked for, and which databases do hold a store.
        StoreLockedError: another process owns the on-disk store.
    """
    kind, location, database = parse_dsn(dsn)
    key = (location, database)
    if kind == "chdb" and location != MEMORY and key not in _stores:
        served = front_door(dsn, kind, location, database)
        if served is not None:
            return served
    with _stores_lock:
        store = _stores.get(key)
        if store is None or store.closed:
            if kind == "chdb":
                store = EmbeddedStore(dsn, location, database, query_limits(), create=create)
            else:
                store = ServerStore(dsn, location, database, query_limits(), create=create)
            _stores[key] = store
        elif not create:
            # Opened by a writer earlier in this process: it exists, but may hold no schema.
            sql, parameters = store_check(database)
            missing = missing_store(store.query(sql, parameters).rows[0], database, redact_dsn(dsn))
            if missing is not None:
                raise missing
        return store
