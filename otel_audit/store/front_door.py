"""The front-door transport: read an on-disk store that ``otel-audit serve`` owns, from another process.

chDB lets one process open an on-disk store. When that process is ``otel-audit serve``, it leaves
``otel-audit.serve.json`` (pid, URL) and ``otel-audit.query-token`` in the store directory, both
``0600`` inside a ``0700`` directory, and :func:`~otel_audit.store.connect.open_store` returns a
:class:`FrontDoorStore` instead of failing: reports and ``otel-audit query`` then run unchanged,
over HTTP, through the server's query sandbox. Only the store's owner can read the token, so
only the owner's processes can query; another local user, or an OTLP sender holding the ingest
token, cannot.

The query token comes from ``OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE``, else
``OTEL_AUDIT_SERVE_QUERY_TOKEN``, else the token file the server wrote.
"""

from __future__ import annotations

import copy
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from otel_audit import envvars
from otel_audit._files import read_regular_file
from otel_audit.errors import AccessDeniedError, ConfigError, FileRefusedError, QueryError, StoreError
from otel_audit.store.base import Store, StoreResult
from otel_audit.store.sandbox import QueryRefusedError
from otel_audit.store.wire import decode_value, encode_value

__all__ = [
    "QUERY_TOKEN_FILE",
    "SERVE_FILE",
    "FrontDoorStore",
    "find_server",
    "front_door",
    "read_token",
    "server_request",
]

SERVE_FILE = "otel-audit.serve.json"
QUERY_TOKEN_FILE = "otel-audit.query-token"
_TIMEOUT_S = 300.0
_MAX_TOKEN_BYTES = 4096


def _token_from(path: str | os.PathLike[str]) -> str:
    try:
        token = read_regular_file(path, max_bytes=_MAX_TOKEN_BYTES).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError, FileRefusedError) as error:
        raise ConfigError(f"cannot read token file {path}: {getattr(error, 'strerror', None) or error}") from None
    if not token:
        raise ConfigError(f"token file {path} is empty")
    return token


def read_token(token_file: str | os.PathLike[str] | None = None, *, kind: str = "ingest") -> str | None:
    """A bearer token: *token_file* > ``OTEL_AUDIT_SERVE[_QUERY]_TOKEN_FILE`` > ``OTEL_AUDIT_SERVE[_QUERY]_TOKEN``.

    Args:
        token_file: an explicit token file.
        kind: ``ingest`` (OTLP senders) or ``query`` (readers of the store).

    Raises:
        ConfigError: the token file cannot be read or is empty.
    """
    file_variable, value_variable = (
        (envvars.OTEL_AUDIT_SERVE_TOKEN_FILE, envvars.OTEL_AUDIT_SERVE_TOKEN)
        if kind == "ingest"
        else (envvars.OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE, envvars.OTEL_AUDIT_SERVE_QUERY_TOKEN)
    )
    path = file_variable.resolve(os.fspath(token_file) if token_file else None)
    if path:
        return _token_from(path)
    return value_variable.resolve()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_server(location: str) -> dict[str, Any] | None:
    """The serve file of the live server owning the store at *location*, else ``None``."""
    try:
        info = json.loads(read_regular_file(Path(location) / SERVE_FILE, max_bytes=65536))
        pid = int(info["pid"])
        url = str(info["url"])
    except (OSError, ValueError, KeyError, TypeError, FileRefusedError):
        return None
    if pid == os.getpid() or not _alive(pid) or not url.startswith("http://"):
        return None
    return info  # type: ignore[no-any-return]


ARROW_FORMAT = "arrow"
"""``"format"`` of a ``/v1/query`` request whose rows come back as one Arrow IPC stream."""


def server_request(
    url: str,
    path: str,
    document: Any = None,
    *,
    token: str | None = None,
    timeout: float = _TIMEOUT_S,
    raw: bool = False,
) -> Any:
    """POST *document* as JSON to (or, if ``None``, GET) *path* on the server; return the JSON
    reply (with *raw*, the reply's bytes).

    Raises:
        QueryRefusedError: the server's sandbox refused the statement.
        QueryError: the statement failed on the server.
        AccessDeniedError: the server refused the token.
        StoreError: the server is unreachable.
    """
    data = None if document is None else json.dumps(document, allow_nan=False).encode()
    request = urllib.request.Request(url + path, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            return body if raw else json.loads(body)
    except urllib.error.HTTPError as error:
        try:
            reply = json.loads(error.read())
        except ValueError:
            reply = {}
        message = str(reply.get("error") or error.reason)
        if error.code == 401:
            raise AccessDeniedError(
                f"otel-audit serve at {url} refused the query token: set OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE "
                "(the server writes its token to otel-audit.query-token in the store directory)"
            ) from None
        if error.code == 400 and reply.get("refused"):
            raise QueryRefusedError(message) from None
        if error.code == 400 and path == "/v1/query":
            raise QueryError(message) from None
        raise StoreError(message) from None
    except (OSError, ValueError) as error:
        raise StoreError(f"cannot reach otel-audit serve at {url}: {error}") from None


class FrontDoorStore(Store):
    """A read-only :class:`Store` whose reads run in the ``otel-audit serve`` owning the store.

    :meth:`query` and :meth:`read` both go through the server's query sandbox; writes are
    refused with :class:`~otel_audit.errors.QueryError` (send records over OTLP instead).
    """

    def __init__(self, dsn: str, kind: str, location: str, database: str, info: Mapping[str, Any]) -> None:
        self.dsn = dsn
        self.kind, self.location, self.database = kind, location, database
        self.url = str(info["url"])
        self.pid = int(info["pid"])
        self._token = read_token(kind="query") or self._served_token(info)
        self._closed = False
        self.access_session: str | None = None
        """The server's access session (``/v1/access``) these reads belong to, if any."""
        if info.get("database", self.database) != self.database:
            raise StoreError(
                f"otel-audit serve (pid {self.pid}) serves database {info.get('database')!r} of "
                f"{self.location}, not {self.database!r}"
            )

    def _served_token(self, info: Mapping[str, Any]) -> str | None:
        path = info.get("query_token_file")
        if not path:
            return None
        try:
            return _token_from(str(path))
        except ConfigError:
            return None  # not ours to read: the server will answer 401 and say which token it wants

    def _query_document(self, sql: str, parameters: Mapping[str, Any] | None, **extra: str) -> dict[str, Any]:
        """The ``/v1/query`` request of *sql*, in this door's access session when it has one."""
        document: dict[str, Any] = {
            "sql": sql,
            "parameters": {k: encode_value(v) for k, v in (parameters or {}).items()},
            **extra,
        }
        if self.access_session is not None:
            document["access_session"] = self.access_session
        return document

    def read(self, sql: str, parameters: Mapping[str, Any] | None = None) -> StoreResult:
        """Run caller-written *sql* in the server's query sandbox."""
        reply = self.request("/v1/query", self._query_document(sql, parameters))
        if reply.get("error"):
            raise QueryError(f"the server stopped the query part-way: {reply['error']}")
        return StoreResult(reply["columns"], [tuple(decode_value(row)) for row in reply["rows"]])

    def request(self, path: str, document: Mapping[str, Any]) -> Any:
        """POST *document* to the server's *path* with this door's query token; the JSON reply."""
        return server_request(self.url, path, document, token=self._token)

    def in_access_session(self, session: str) -> FrontDoorStore:
        """This door, with its reads counted in the server's access *session* (one event for all)."""
        door = copy.copy(self)  # same url and token: no second handshake with the server
        door.access_session = session
        return door

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> StoreResult:
        """Run otel-audit's own *sql* in the server (through the same sandbox as any caller SQL).

        Raises:
            StoreError: the server refused or failed the statement.
        """
        try:
            return self.read(sql, parameters)
        except QueryError as error:
            raise StoreError(str(error), code=error.code, name=error.name) from None

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run otel-audit's own *sql* in the server; its rows as a ``pyarrow.Table`` with the
        engine's column types (so an archive made through the server is typed as a local one).

        Raises:
            StoreError: the server refused or failed the statement.
        """
        try:
            return self.read_arrow(sql, parameters)
        except QueryError as error:
            raise StoreError(str(error), code=error.code, name=error.name) from None

    def read_arrow(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """Run caller-written *sql* in the server's query sandbox; the rows as Arrow, as the
        engine typed them (the server answers an Arrow IPC stream)."""
        import pyarrow as pa

        document = self._query_document(sql, parameters, format=ARROW_FORMAT)
        data = server_request(self.url, "/v1/query", document, token=self._token, raw=True)
        try:
            return pa.ipc.open_stream(pa.BufferReader(data)).read_all()
        except (pa.ArrowInvalid, OSError) as error:
            raise QueryError(f"the server's Arrow reply is unreadable: {error}") from None

    def _read_only(self) -> QueryError:
        return QueryError(f"the store is owned by otel-audit serve (pid {self.pid}); it is read-only from here")

    def command(
        self, sql: str, parameters: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
    ) -> Any:
        """Refused: the store is owned by a server and only read through it."""
        raise self._read_only()

    def insert_columns(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Refused: send records to the server over OTLP instead."""
        raise QueryError(f"the store is owned by otel-audit serve (pid {self.pid}); send records over OTLP")

    def insert_arrow(self, table: str, data: Any, *, settings: Mapping[str, Any] | None = None) -> None:
        """Refused: send records to the server over OTLP instead."""
        raise QueryError(f"the store is owned by otel-audit serve (pid {self.pid}); send records over OTLP")

    def close(self) -> None:
        """Nothing to release."""
        self._closed = True

    def status(self) -> dict[str, Any]:
        """The server's ``/status`` document."""
        return server_request(self.url, "/status", token=self._token)  # type: ignore[no-any-return]


def front_door(dsn: str, kind: str, location: str, database: str) -> FrontDoorStore | None:
    """A :class:`FrontDoorStore` if a live server owns *location* and answers, else ``None``.

    Raises:
        AccessDeniedError: a server owns the store but refuses this process's query token.
    """
    info = find_server(location)
    if info is None:
        return None
    store = FrontDoorStore(dsn, kind, location, database, info)
    try:
        store.status()
    except AccessDeniedError:
        raise
    except StoreError:
        return None
    return store
