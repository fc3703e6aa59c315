"""The abstract audit store, and the part shared by the transports that speak clickhouse-connect.

A :class:`Store` is one database of an audit store behind one of three transports, the way
clickhouse-connect splits its HTTP and chDB clients:

* :class:`~otel_audit.store.embedded.EmbeddedStore` - chDB in this process (``chdb://``);
* :class:`~otel_audit.store.http.ServerStore` - a ClickHouse server or cluster (``http(s)://``);
* :class:`~otel_audit.store.front_door.FrontDoorStore` - an on-disk store owned by
  ``otel-audit serve`` in another process, read through its query endpoint.

Two kinds of read exist. :meth:`Store.query` runs otel-audit's own SQL (``clickhouse/*.sql``,
values bound server-side). :meth:`Store.read` runs caller-written SQL through the
:mod:`~otel_audit.store.sandbox` with pinned limits. Reads run on a session of their own, apart
from the one that writes, so nothing a read does (a refused statement, a failed query, a setting)
can change how records are written.
"""

from __future__ import annotations

import abc
import difflib
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from clickhouse_connect.driver.exceptions import Error as DriverError

from otel_audit.errors import EngineCode, QueryError, StoreError, StoreNotFoundError
from otel_audit.store.sandbox import (
    PARSE_SETTINGS,
    PARSE_SQL,
    QueryLimits,
    QueryRefusedError,
    UnknownTableRefusedError,
    check_statement,
)
from otel_audit.store.sql import query_sql

__all__ = [
    "MIGRATIONS_TABLE",
    "ClientStore",
    "Store",
    "StoreResult",
    "engine_code",
    "missing_store",
    "store_check",
    "store_error",
]

MIGRATIONS_TABLE = "otel_audit_schema_migrations"
"""The table that records applied schema files: a database holding it holds an otel-audit store."""

SESSION_SETTINGS: Mapping[str, Any] = {"session_timezone": "UTC"}
_TABLES_SQL = "SELECT name FROM system.tables WHERE database = currentDatabase()"
_TABLE_FUNCTIONS_SQL = "SELECT name FROM system.table_functions"
_TABLES_TTL_S = 60.0


class StoreResult:
    """Column names and rows of a query."""

    __slots__ = ("columns", "rows")

    def __init__(self, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        self.columns = list(columns)
        self.rows = rows

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Store(abc.ABC):
    """One database of an audit store; thread-safe. Open one with :func:`~otel_audit.store.connect.open_store`."""

    dsn: str
    kind: str
    location: str
    database: str

    @property
    def embedded(self) -> bool:
        """True for a chDB store running in this process."""
        return False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return bool(getattr(self, "_closed", False))

    @abc.abstractmethod
    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> StoreResult:
        """Run otel-audit's own read-only *sql* (values bound server-side) on the read session.

        Raises:
            StoreError: the engine refused or failed the statement.
        """

    @abc.abstractmethod
    def read(self, sql: str, parameters: Mapping[str, Any] | None = None) -> StoreResult:
        """Run caller-written *sql* through the query sandbox, with the pinned limits.

        Raises:
            QueryRefusedError: the sandbox refused the statement (the message says why).
            QueryError: the statement failed in the engine.
        """

    def read_blocks(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
        """Like :meth:`read`, but yield the rows in blocks, so a large result is never held whole."""
        result = self.read(sql, parameters)
        return result.columns, iter([result.rows])

    def query_blocks(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
        """Like :meth:`query`, but yield the rows in blocks, so a large result is never held whole."""
        result = self.query(sql, parameters, settings=settings)
        return result.columns, iter([result.rows])

    @abc.abstractmethod
    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run otel-audit's own read-only *sql* and return a ``pyarrow.Table``."""

    @abc.abstractmethod
    def read_arrow(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """Like :meth:`read` (the query sandbox, the pinned limits), the rows as a ``pyarrow.Table``
        typed by the engine (what ``serve`` answers a front door's :meth:`query_arrow` with).

        Raises:
            QueryRefusedError: the sandbox refused the statement.
            QueryError: the statement failed in the engine.
        """

    @abc.abstractmethod
    def command(
        self, sql: str, parameters: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
    ) -> Any:
        """Run a statement that returns no rows (DDL, ``SYSTEM``, ``ALTER``) on the write session."""

    @abc.abstractmethod
    def insert_columns(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert column-oriented data; raises :class:`StoreError` on failure."""

    @abc.abstractmethod
    def insert_arrow(self, table: str, data: Any, *, settings: Mapping[str, Any] | None = None) -> None:
        """Insert a ``pyarrow.Table``; raises :class:`StoreError` on failure."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connections (idempotent)."""


class ClientStore(Store):
    """A store reached through two clickhouse-connect clients: one writes, one reads.

    Subclasses open the clients (:meth:`_connect`); this class runs every statement, turns the
    driver's errors into :class:`StoreError`, and runs caller SQL through the sandbox.
    """

    def __init__(self, dsn: str, kind: str, location: str, database: str, limits: QueryLimits | None = None) -> None:
        self.dsn = dsn
        self.kind = kind
        self.location = location
        self.database = database
        self.limits = limits or QueryLimits()
        self._closed = False
        # Separate locks: a long read never holds up the writer (each client has its own session).
        self._write_lock = threading.RLock()
        self._read_lock = threading.RLock()
        self._writer: Client = self._connect(reader=False)
        try:
            self._reader: Client = self._connect(reader=True)
        except BaseException:
            self._writer.close()
            raise
        self._known_tables: frozenset[str] = frozenset()
        self._tables_read_at = 0.0
        self._table_functions: frozenset[str] | None = None

    @abc.abstractmethod
    def _connect(self, *, reader: bool) -> Client:
        """Open a client on this store's database; the reader's session is read-only."""

    # --- otel-audit's own SQL -----------------------------------------------------------------

    def command(
        self, sql: str, parameters: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
    ) -> Any:
        """Run a statement that returns no rows (DDL, ``SYSTEM``, ``ALTER``) on the write session."""
        with self._write_lock:
            self._check_open()
            try:
                return self._writer.command(sql, parameters=dict(parameters or {}), settings=dict(settings or {}))
            except ClickHouseError as error:
                raise store_error(error) from error

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> StoreResult:
        """Run otel-audit's own read-only *sql* (values bound server-side) on the read session."""
        with self._read_lock:
            self._check_open()
            try:
                result = self._reader.query(sql, parameters=dict(parameters or {}), settings=dict(settings or {}))
            except ClickHouseError as error:
                raise store_error(error) from error
            return StoreResult(result.column_names, [tuple(row) for row in result.result_rows])

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run otel-audit's own read-only *sql* and return a ``pyarrow.Table``."""
        with self._read_lock:
            self._check_open()
            try:
                return self._reader.query_arrow(
                    sql, parameters=dict(parameters or {}), settings=dict(settings or {}), use_strings=True
                )
            except ClickHouseError as error:
                raise store_error(error) from error

    def insert_columns(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert column-oriented data; raises :class:`StoreError` on failure."""
        with self._write_lock:
            self._check_open()
            try:
                self._writer.insert(
                    table, columns, column_names=list(column_names), column_oriented=True, settings=dict(settings or {})
                )
            except ClickHouseError as error:
                raise store_error(error) from error

    def insert_arrow(self, table: str, data: Any, *, settings: Mapping[str, Any] | None = None) -> None:
        """Insert a ``pyarrow.Table``; raises :class:`StoreError` on failure."""
        with self._write_lock:
            self._check_open()
            try:
                self._writer.insert_arrow(table, data, settings=dict(settings or {}))
            except ClickHouseError as error:
                raise store_error(error) from error

    # --- caller SQL ---------------------------------------------------------------------------

    def read(self, sql: str, parameters: Mapping[str, Any] | None = None) -> StoreResult:
        """Run caller-written *sql* through the query sandbox, with the pinned limits."""
        checked, bound = self._checked(sql, parameters)
        with self._read_lock:
            try:
                result = self._reader.query(checked, parameters=bound, settings=self.limits.settings())
            except ClickHouseError as error:
                raise query_error(error) from None
            return StoreResult(result.column_names, [tuple(row) for row in result.result_rows])

    def read_arrow(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """Like :meth:`read`, the rows as a ``pyarrow.Table`` typed by the engine."""
        checked, bound = self._checked(sql, parameters)
        with self._read_lock:
            self._check_open()
            try:
                return self._reader.query_arrow(
                    checked, parameters=bound, settings=self.limits.settings(), use_strings=True
                )
            except ClickHouseError as error:
                raise query_error(error) from None

    def read_blocks(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
        """Like :meth:`read`, but yield rows block by block (the read session stays held until exhausted)."""
        checked, bound = self._checked(sql, parameters)
        return self._blocks(checked, bound, self.limits.settings(), query_error)

    def query_blocks(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
        """Like :meth:`query`, but yield rows block by block (the read session stays held until exhausted)."""
        self._check_open()
        return self._blocks(sql, dict(parameters or {}), dict(settings or {}), store_error)

    def _blocks(
        self,
        sql: str,
        parameters: dict[str, Any] | None,
        settings: dict[str, Any],
        error: Callable[[BaseException], Exception],
    ) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
        self._read_lock.acquire()
        try:
            stream: Any = self._reader.query_row_block_stream(sql, parameters=parameters, settings=settings)
            context = stream.__enter__()
            columns = list(stream.source.column_names)
        except ClickHouseError as failure:
            self._read_lock.release()
            raise error(failure) from None
        except BaseException:
            self._read_lock.release()
            raise

        def blocks() -> Iterator[list[tuple[Any, ...]]]:
            try:
                for block in context:
                    yield [tuple(row) for row in block]
            except ClickHouseError as failure:
                raise error(failure) from None
            finally:
                try:
                    stream.__exit__(None, None, None)
                finally:
                    self._read_lock.release()

        return columns, blocks()

    def _checked(self, sql: str, parameters: Mapping[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
        if not isinstance(sql, str) or not sql.strip():
            raise QueryRefusedError("refused: the statement is empty")
        names = [str(name) for name in (parameters or {})]
        with self._read_lock:
            self._check_open()
            try:
                parsed = self._reader.query(PARSE_SQL, parameters={"statement": sql}, settings=dict(PARSE_SETTINGS))
            except ClickHouseError as error:
                raise parse_failure(error) from None
            tree_json, canonical = parsed.result_rows[0]
            table_functions = self._engine_table_functions()
            tables = self._tables()
        try:
            checked = check_statement(
                tree_json,
                canonical,
                database=self.database,
                tables=tables,
                table_functions=table_functions,
                parameters=names,
            )
        except UnknownTableRefusedError:
            with self._read_lock:  # a table created since the list was read: look again, once
                self._tables_read_at = 0.0
                tables = self._tables()
            checked = check_statement(
                tree_json,
                canonical,
                database=self.database,
                tables=tables,
                table_functions=table_functions,
                parameters=names,
            )
        # No placeholders: pass no parameters, so the driver never formats values into the text.
        return checked.sql, (dict(parameters or {}) if checked.parameters else None)

    def _tables(self) -> frozenset[str]:
        if time.monotonic() - self._tables_read_at > _TABLES_TTL_S:
            try:
                rows = self._reader.query(_TABLES_SQL).result_rows
            except ClickHouseError as error:
                raise store_error(error) from error
            self._known_tables = frozenset(str(row[0]) for row in rows)
            self._tables_read_at = time.monotonic()
        return self._known_tables

    def _engine_table_functions(self) -> frozenset[str]:
        if self._table_functions is None:
            try:
                rows = self._reader.query(_TABLE_FUNCTIONS_SQL).result_rows
            except ClickHouseError as error:
                raise store_error(error) from error
            self._table_functions = frozenset(str(row[0]) for row in rows)
        return self._table_functions

    # --- lifecycle ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {redact_dsn(self.dsn)} is closed")

    def close(self) -> None:
        """Close both sessions (idempotent)."""
        with self._write_lock, self._read_lock:
            if self._closed:
                return
            self._closed = True
            self._reader.close()
            self._writer.close()


_DATABASES_SHOWN = 5
"""Most database names a :func:`missing_store` message lists."""


def store_check(database: str) -> tuple[str, dict[str, str]]:
    """The SQL and parameters that :func:`missing_store` reads (run on any database of the store)."""
    return query_sql("store_audit_databases"), {"database": database, "table": MIGRATIONS_TABLE}


def missing_store(row: Sequence[Any], database: str, where: str) -> StoreNotFoundError | None:
    """The error for a store with no otel-audit schema in *database*, from :func:`store_check`'s *row*.

    Returns ``None`` when *database* holds the schema. The message names the databases that do
    hold one, closest to *database* first.
    """
    exists, audit_databases = bool(row[0]), [str(name) for name in row[1]]
    if database in audit_databases:
        return None
    what = (
        f"database {database!r} of {where} holds no otel-audit store (no {MIGRATIONS_TABLE} table)"
        if exists
        else f"{where} has no database {database!r}"
    )
    if audit_databases:
        closest = difflib.get_close_matches(database, audit_databases, n=_DATABASES_SHOWN, cutoff=0.0)
        hint = "the databases there that hold one, closest first: " + ", ".join(f"?database={n}" for n in closest)
        if len(audit_databases) > _DATABASES_SHOWN:
            hint += f" (and {len(audit_databases) - _DATABASES_SHOWN} more)"
    else:
        hint = "create one with `otel-audit schema --store DSN` or `otel-audit serve`"
    return StoreNotFoundError(f"{what} (a read creates none); {hint}")


_CODE = re.compile(r"\bCode:\s*(\d+)")
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")


def engine_code(error: BaseException | str) -> tuple[int | None, str | None]:
    """The engine's error code and name in *error*: a driver error, or an engine's text.

    clickhouse-connect's errors carry them (``code``, ``name``); an error the driver wrapped
    without them (opening a chDB engine) and the engine's own output carry them in its message
    format, ``Code: 60. DB::Exception: … (UNKNOWN_TABLE)``, read here once so that callers
    decide by code. A known name without a code gets the code of :class:`EngineCode`.
    """
    code: int | None = None
    name: str | None = None
    if isinstance(error, str):
        code_match = _CODE.search(error)
        names = _NAME.findall(error)
        code, name = (int(code_match.group(1)) if code_match else None), (names[-1] if names else None)
    else:
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen and code is None:
            seen.add(id(current))
            if isinstance(current, (DriverError, StoreError, QueryError)):
                code, name = current.code, current.name or name
            if code is None:
                parsed_code, parsed_name = engine_code(str(current))
                code, name = parsed_code, name or parsed_name
            current = current.__cause__ or current.__context__
    if code is None and name is not None and name in EngineCode.__members__:
        code = EngineCode[name].value
    return code, name


def store_error(error: BaseException, message: str | None = None) -> StoreError:
    """A :class:`StoreError` for the driver error *error*, carrying the engine's code and name."""
    code, name = engine_code(error)
    return StoreError(message or first_line(error), code=code, name=name)


def query_error(error: BaseException) -> QueryError:
    """A :class:`QueryError` for an engine failure of caller SQL, with the engine's code and name."""
    code, name = engine_code(error)
    return QueryError(engine_message(error), code=code, name=name)


def first_line(error: BaseException) -> str:
    """The first line of an error's text (the engine appends stack traces)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def engine_message(error: BaseException) -> str:
    """An engine error for a caller: what went wrong and its code name, without the echoed statement."""
    text = first_line(error)
    marker = "DB::Exception: "
    if marker in text:
        text = text[text.index(marker) + len(marker) :]
    for echo in (": In scope ", ". In scope ", " In scope "):
        if echo in text:
            text = text[: text.index(echo)].rstrip(" .:") + "."
            break
    name = getattr(error, "name", None)
    if name and f"({name})" not in text:
        text = f"{text} ({name})"
    return text


_NOT_REPRESENTABLE = frozenset({EngineCode.BAD_ARGUMENTS, EngineCode.NOT_IMPLEMENTED, EngineCode.LOGICAL_ERROR})
_TOO_LARGE = frozenset(
    {EngineCode.TOO_DEEP_AST, EngineCode.TOO_BIG_AST, EngineCode.QUERY_IS_TOO_LARGE, EngineCode.TOO_DEEP_RECURSION}
)


def parse_failure(error: BaseException) -> QueryError:
    """The error for a statement the engine's parser rejected, or cannot show as a tree."""
    code, name = engine_code(error)
    message = engine_message(error)
    if code == EngineCode.SYNTAX_ERROR:
        text = message if message.lower().startswith("syntax error") else f"syntax error: {message}"
        return QueryError(text, code=code, name=name)
    if code in _NOT_REPRESENTABLE:
        # parseQueryToJSON cannot represent INSERT … VALUES and some non-SELECT statements.
        return QueryRefusedError(f"refused: only one SELECT statement may run here ({message})", code=code, name=name)
    if code in _TOO_LARGE:
        return QueryRefusedError(
            f"refused: the statement is too large or too deeply nested to check ({message})", code=code, name=name
        )
    return QueryError(message, code=code, name=name)


def redact_dsn(dsn: str) -> str:
    """*dsn* with any password replaced by ``***``."""
    from urllib.parse import urlsplit

    parts = urlsplit(dsn)
    if parts.password:
        return dsn.replace(f":{parts.password}@", ":***@")
    return dsn
