"""Open an audit store from a DSN: embedded chDB or a ClickHouse server, same API.

DSNs:

* ``chdb:///abs/path`` or ``chdb://relative/path`` - embedded on-disk store (one process at a time)
* ``chdb://memory`` - embedded, in memory, gone when the process exits
* ``http(s)://user:password@host:8123/database`` - a ClickHouse server or cluster

A ``?database=NAME`` suffix selects a database in any of them (created if missing).

chDB runs one engine per process, and an on-disk store can be open in one process only: a
second process gets :class:`~otel_audit.errors.StoreLockedError` naming the owner, never a
stack trace. Every statement runs with ``session_timezone = 'UTC'``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from otel_audit.errors import ConfigError, StoreError, StoreLockedError

__all__ = ["Store", "StoreResult", "open_store", "parse_dsn"]

_OWNER_FILE = "otel-audit.owner.json"
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_SETTINGS = {"session_timezone": "UTC"}
_stores: dict[tuple[str, str], Store] = {}
_stores_lock = threading.Lock()


class StoreResult:
    """Column names and rows of a query."""

    __slots__ = ("columns", "rows")

    def __init__(self, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        self.columns = list(columns)
        self.rows = rows

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


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


def _owner_of(path: str) -> str:
    try:
        owner = json.loads((Path(path) / _OWNER_FILE).read_text())
        return f"pid {owner['pid']} ({owner['command']})"
    except (OSError, ValueError, KeyError):
        return "another process"


@contextlib.contextmanager
def _engine_stderr() -> Iterator[list[str]]:
    """Capture what the chDB engine writes to fd 2 while it opens (it prints its own errors)."""
    captured: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:
        yield captured
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))


def _open_chdb(path: str, database: str) -> Client:
    dsn = "chdb://memory" if path == ":memory:" else "chdb://" + path
    try:
        with _engine_stderr() as engine_output:
            client = clickhouse_connect.get_client(dsn=dsn, database=database, settings=_SETTINGS)
    except Exception as error:  # noqa: BLE001 - chDB raises RuntimeError, ProgrammingError…
        text = str(error) + "".join(engine_output)
        if "already initialized with path" in text:
            raise StoreError(
                f"cannot open chDB store {path}: this process already has another chDB store open "
                "(chDB runs one store per process); close it first or use one DSN"
            ) from None
        if "EmbeddedServer" in text or "lock" in text.lower():
            raise StoreLockedError(
                f"the store {path} is open in {_owner_of(path)}; chDB lets one process own an "
                "on-disk store. Stop that process, or run `otel-audit serve` as the owner and "
                "query through it"
            ) from None
        raise StoreError(f"cannot open chDB store {path}: {text}") from None
    if engine_output and engine_output[0]:
        sys.stderr.write(engine_output[0])
    if path != ":memory:":
        owner = {"pid": os.getpid(), "command": " ".join(sys.argv)[:200], "since": time.time()}
        (Path(path) / _OWNER_FILE).write_text(json.dumps(owner))
    return client


class Store:
    """A thread-safe handle on one database of an audit store.

    Use :func:`open_store` rather than the constructor: it shares one handle per DSN, as chDB
    requires.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.kind, self.location, self.database = parse_dsn(dsn)
        self._lock = threading.RLock()
        bootstrap = self._connect("default")
        if self.database == "default":
            self._client = bootstrap
        else:
            try:
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
                self._client = self._connect(self.database)
            except ClickHouseError as error:
                raise StoreError(f"cannot use database {self.database}: {_first_line(error)}") from None
            finally:
                if bootstrap is not getattr(self, "_client", None):
                    bootstrap.close()
        self._closed = False

    def _connect(self, database: str) -> Client:
        if self.kind == "chdb":
            return _open_chdb(self.location, database)
        try:
            return clickhouse_connect.get_client(dsn=self.location, database=database, settings=_SETTINGS)
        except Exception as error:  # noqa: BLE001 - transport errors vary by driver
            raise StoreError(f"cannot connect to ClickHouse at {_safe(self.location)}: {error}") from None

    @property
    def embedded(self) -> bool:
        """True for a chDB store (in this process)."""
        return self.kind == "chdb"

    def command(
        self, sql: str, parameters: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
    ) -> Any:
        """Run a statement that returns no rows (DDL, ``SYSTEM``)."""
        with self._lock:
            try:
                return self._client.command(sql, parameters=dict(parameters or {}), settings=dict(settings or {}))
            except ClickHouseError as error:
                raise StoreError(f"{_first_line(error)}") from error

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> StoreResult:
        """Run a SELECT with server-side bound *parameters*."""
        with self._lock:
            try:
                result = self._client.query(sql, parameters=dict(parameters or {}), settings=dict(settings or {}))
            except ClickHouseError as error:
                raise StoreError(_first_line(error)) from error
            return StoreResult(result.column_names, [tuple(row) for row in result.result_rows])

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run a SELECT and return a ``pyarrow.Table`` (pyarrow must be installed)."""
        with self._lock:
            try:
                return self._client.query_arrow(
                    sql, parameters=dict(parameters or {}), settings=dict(settings or {}), use_strings=True
                )
            except ClickHouseError as error:
                raise StoreError(_first_line(error)) from error

    def insert_columns(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert column-oriented data; raises :class:`StoreError` on failure."""
        with self._lock:
            if self._closed:
                raise StoreError(f"store {self.dsn} is closed")
            try:
                self._client.insert(
                    table,
                    columns,
                    column_names=list(column_names),
                    column_oriented=True,
                    settings=dict(settings or {}),
                )
            except ClickHouseError as error:
                raise StoreError(_first_line(error)) from error

    def insert_arrow(self, table: str, data: Any, *, settings: Mapping[str, Any] | None = None) -> None:
        """Insert a ``pyarrow.Table``; raises :class:`StoreError` on failure."""
        with self._lock:
            if self._closed:
                raise StoreError(f"store {self.dsn} is closed")
            try:
                self._client.insert_arrow(table, data, settings=dict(settings or {}))
            except ClickHouseError as error:
                raise StoreError(_first_line(error)) from error

    def close(self) -> None:
        """Close the connection (and release an on-disk chDB store for other processes)."""
        with _stores_lock:
            for key, store in list(_stores.items()):
                if store is self:
                    del _stores[key]
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.kind == "chdb" and self.location != ":memory:":
                with contextlib.suppress(OSError):
                    (Path(self.location) / _OWNER_FILE).unlink(missing_ok=True)
            self._client.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _safe(location: str) -> str:
    parts = urlsplit(location)
    if parts.password:
        return location.replace(parts.password, "***")
    return location


def open_store(dsn: str) -> Store:
    """Return the process-wide :class:`Store` for *dsn*, opening it on first use.

    An on-disk chDB store owned by a running ``otel-audit serve`` in another process is
    returned as a read-only :class:`~otel_audit.service.remote.RemoteStore` that queries it there.
    """
    kind, location, database = parse_dsn(dsn)
    key = (location, database)
    if kind == "chdb" and location != ":memory:" and key not in _stores:
        # A store owned by `otel-audit serve` in another process is queried through it.
        from otel_audit.service.remote import remote_store

        remote = remote_store(dsn, location)
        if remote is not None:
            return remote
    with _stores_lock:
        store = _stores.get(key)
        if store is None or store._closed:  # noqa: SLF001
            store = Store(dsn)
            _stores[key] = store
        return store
