"""Query an on-disk store that ``otel-audit serve`` owns, from any other process.

chDB lets one process open an on-disk store. When that process is ``otel-audit serve``, it
leaves ``otel-audit.serve.json`` (pid, URL) in the store directory, and
:func:`~otel_audit.store.connect.open_store` returns a :class:`RemoteStore` instead of failing:
reports and ``otel-audit query`` then run unchanged, over HTTP, read-only. If the server wants a
bearer token, the client reads it from ``OTEL_AUDIT_SERVE_TOKEN`` or the file named by
``OTEL_AUDIT_SERVE_TOKEN_FILE``.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from otel_audit import envvars
from otel_audit.errors import ConfigError, QueryError, StoreError
from otel_audit.service.wire import decode_value, encode_value
from otel_audit.store.connect import Store, StoreResult, parse_dsn

__all__ = ["SERVE_FILE", "RemoteStore", "find_server", "read_token", "server_request"]

SERVE_FILE = "otel-audit.serve.json"
_TIMEOUT_S = 60.0


def read_token(token_file: str | None = None) -> str | None:
    """The bearer token: *token_file* > ``OTEL_AUDIT_SERVE_TOKEN_FILE`` > ``OTEL_AUDIT_SERVE_TOKEN``.

    Raises:
        ConfigError: the token file cannot be read or is empty.
    """
    path = token_file or envvars.env_str(envvars.OTEL_AUDIT_SERVE_TOKEN_FILE)
    if path:
        try:
            token = Path(path).read_text().strip()
        except OSError as error:
            raise ConfigError(f"cannot read token file {path}: {error.strerror}") from None
        if not token:
            raise ConfigError(f"token file {path} is empty")
        return token
    return envvars.env_str(envvars.OTEL_AUDIT_SERVE_TOKEN)


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
        info = json.loads((Path(location) / SERVE_FILE).read_text())
        pid = int(info["pid"])
        url = str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or not _alive(pid) or not url.startswith("http://"):
        return None
    return info  # type: ignore[no-any-return]


def server_request(
    url: str, path: str, document: Any = None, *, token: str | None = None, timeout: float = _TIMEOUT_S
) -> Any:
    """POST *document* as JSON to (or, if ``None``, GET) *path* on the server; return the JSON reply.

    Raises:
        StoreError: the server is unreachable, refused the token, or answered with an error.
    """
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(url + path, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            message = error.reason
        if error.code == 401:
            raise StoreError(
                f"otel-audit serve at {url} needs a bearer token: set OTEL_AUDIT_SERVE_TOKEN or "
                "OTEL_AUDIT_SERVE_TOKEN_FILE"
            ) from None
        raise StoreError(str(message)) from None
    except (OSError, ValueError) as error:
        raise StoreError(f"cannot reach otel-audit serve at {url}: {error}") from None


class RemoteStore(Store):
    """A read-only :class:`Store` whose queries run in the ``otel-audit serve`` owning the store.

    Only :meth:`query` works; writes are refused with :class:`~otel_audit.errors.QueryError`.
    """

    def __init__(self, dsn: str, info: Mapping[str, Any], token: str | None = None) -> None:
        # Deliberately no Store.__init__: that would open the chDB engine the server holds.
        self.dsn = dsn
        self.kind, self.location, self.database = parse_dsn(dsn)
        self.url = str(info["url"])
        self.pid = int(info["pid"])
        self._token = token
        self._closed = False
        if info.get("database", self.database) != self.database:
            raise StoreError(
                f"otel-audit serve (pid {self.pid}) serves database {info.get('database')!r} of "
                f"{self.location}, not {self.database!r}"
            )

    @property
    def embedded(self) -> bool:
        """False: the store lives in another process."""
        return False

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> StoreResult:
        """Run read-only *sql* in the server (it always applies ``readonly=2``)."""
        document = {"sql": sql, "parameters": {k: encode_value(v) for k, v in (parameters or {}).items()}}
        reply = server_request(self.url, "/v1/query", document, token=self._token)
        return StoreResult(reply["columns"], [tuple(decode_value(row)) for row in reply["rows"]])

    def command(
        self, sql: str, parameters: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
    ) -> Any:
        """Refused: the store is owned by a server and only read through it."""
        raise QueryError(f"the store is owned by otel-audit serve (pid {self.pid}); it is read-only from here")

    def insert_columns(self, table: str, columns: Any, column_names: Any, *, settings: Any = None) -> None:
        """Refused: send records to the server over OTLP instead."""
        raise QueryError(f"the store is owned by otel-audit serve (pid {self.pid}); send records over OTLP")

    def insert_arrow(self, table: str, data: Any, *, settings: Any = None) -> None:
        """Refused: send records to the server over OTLP instead."""
        raise QueryError(f"the store is owned by otel-audit serve (pid {self.pid}); send records over OTLP")

    def close(self) -> None:
        """Nothing to release."""
        self._closed = True

    def status(self) -> dict[str, Any]:
        """The server's ``/status`` document."""
        return server_request(self.url, "/status", token=self._token)  # type: ignore[no-any-return]


def remote_store(dsn: str, location: str) -> RemoteStore | None:
    """A :class:`RemoteStore` if a live server owns *location* and answers, else ``None``."""
    info = find_server(location)
    if info is None:
        return None
    store = RemoteStore(dsn, info, read_token())
    try:
        store.status()
    except StoreError as error:
        if "bearer token" in str(error):
            raise
        return None
    return store
