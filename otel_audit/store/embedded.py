"""The embedded transport: a chDB engine in this process (``chdb:///path`` or ``chdb://memory``).

chDB runs one engine per process, and an on-disk store can be open in one process only: a
second process gets :class:`~otel_audit.errors.StoreLockedError` naming the owner, never a stack
trace. The store directory is created ``0700`` (the engine writes its files with the process
umask; the directory keeps other local users out of them), and ``otel-audit.owner.json`` names
the owning process and its command, never its arguments (they may hold SQL literals).

The engine gives each connection handle its own session, so the store opens two: one writes, and
one reads with ``readonly = 2`` set for good at connect time. A refused or failed read therefore
can never leave the writer read-only or change its settings.

What the engine cannot do here: chDB (``clickhouse-local``) has no access control and does not
confine ``file()`` to ``user_files_path`` for absolute paths, and rejects a server config file,
so the query sandbox's parse-tree check is the barrier against table functions and
``INTO OUTFILE``; the read session's ``readonly`` is the barrier against writes.
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
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from otel_audit._files import make_private_dir, write_private_file
from otel_audit.errors import EngineCode, StoreError, StoreLockedError, StoreNotFoundError
from otel_audit.store.base import (
    SESSION_SETTINGS,
    ClientStore,
    engine_code,
    first_line,
    missing_store,
    store_check,
    store_error,
)
from otel_audit.store.sandbox import QueryLimits

__all__ = ["MEMORY", "OWNER_FILE", "EmbeddedStore", "owner_of", "require_store_folder"]

OWNER_FILE = "otel-audit.owner.json"
MEMORY = ":memory:"


def owner_of(path: str) -> str:
    """Who holds the store at *path*, from its owner file (for error messages)."""
    try:
        owner = json.loads((Path(path) / OWNER_FILE).read_text())
        return f"pid {owner['pid']} ({owner['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _command_name() -> str:
    """The running command without its arguments: ``otel-audit query``, ``app.py``.

    Only otel-audit's own subcommand words are kept (lowercase words before the first option);
    anything else on the command line may be SQL, a user id or a secret.
    """
    argv = sys.argv or ["python"]
    program = Path(argv[0]).name or "python"
    if program not in ("otel-audit", "cli.py", "__main__.py"):
        return program[:100]
    words = ["otel-audit"]
    for token in argv[1:3]:
        if not re.fullmatch(r"[a-z][a-z-]{0,30}", token):
            break
        words.append(token)
    return " ".join(words)


_ENGINE_FOLDER = "metadata"
"""A folder the chDB engine keeps in every store it has opened (database definitions)."""


def require_store_folder(dsn: str, location: str) -> None:
    """Raise :class:`StoreNotFoundError` unless *location* is a folder the chDB engine has opened.

    Checked before the engine starts, because the engine creates whatever path it is given.
    """
    folder = Path(location)
    if folder.is_dir() and (folder / _ENGINE_FOLDER).is_dir():
        return
    if not folder.exists():
        problem = f"{location} does not exist"
    elif not folder.is_dir():
        problem = f"{location} is not a folder"
    else:
        problem = f"{location} holds no chDB store"
    written = dsn.partition("?")[0][len("chdb://") :]
    hint = f"check the path, or create the store with `otel-audit schema --store {dsn}`"
    if written and not written.startswith(("/", "~")):
        # chdb://tmp/x is the relative path tmp/x: the usual slip for chdb:///tmp/x.
        hint = f"chdb://{written} is the relative path {written}; did you mean chdb:///{written}?"
    raise StoreNotFoundError(f"no audit store at {location} (from {dsn}): {problem} (a read creates none); {hint}")


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


_engines: Counter[str] = Counter()
"""Open :class:`EmbeddedStore` objects per location in this process (chDB runs one engine)."""
_engines_lock = threading.Lock()


def _owned_elsewhere(path: str) -> bool:
    """True when the owner file of the store at *path* names another live process."""
    try:
        pid = int(json.loads((Path(path) / OWNER_FILE).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _open_failure(path: str, error: BaseException, engine_output: str) -> StoreError:
    """The error for a chDB engine that would not open *path*, decided by the engine's codes.

    The engine says why on its own output: ``CANNOT_OPEN_FILE`` when another process holds the
    store's lock file. The driver's error then carries only ``BAD_ARGUMENTS``, which is also what
    opening a second path in a process with an engine already running gives.
    """
    code, name = engine_code(error)
    engine_code_, engine_name = engine_code(engine_output)
    if path != MEMORY and (engine_code_ == EngineCode.CANNOT_OPEN_FILE or _owned_elsewhere(path)):
        return StoreLockedError(
            f"the store {path} is open in {owner_of(path)}; chDB lets one process own an "
            "on-disk store. Stop that process, or run `otel-audit serve` as the owner and "
            "query through it",
            code=engine_code_ or code,
            name=engine_name or name,
        )
    with _engines_lock:
        others = sorted(location for location, count in _engines.items() if count > 0 and location != path)
    if code == EngineCode.BAD_ARGUMENTS and others:
        return StoreError(
            f"cannot open chDB store {path}: this process already has another chDB store open "
            f"({others[0]}; chDB runs one store per process); close it first or use one DSN",
            code=code,
            name=name,
        )
    return StoreError(f"cannot open chDB store {path}: {first_line(error)}", code=code, name=name)


class EmbeddedStore(ClientStore):
    """An audit store in this process's chDB engine.

    With *create* false the database must exist and hold the otel-audit schema, else
    :class:`~otel_audit.errors.StoreNotFoundError`; nothing is created (the folder is checked by
    :func:`require_store_folder` before the engine starts).
    """

    def __init__(
        self, dsn: str, location: str, database: str, limits: QueryLimits | None = None, *, create: bool = True
    ) -> None:
        self.create = create
        if location != MEMORY and not create:
            require_store_folder(dsn, location)
        if location != MEMORY:
            make_private_dir(location)
        super().__init__(dsn, "chdb", location, database, limits)
        with _engines_lock:
            _engines[location] += 1
        if location != MEMORY:
            owner = {"pid": os.getpid(), "command": _command_name(), "since": time.time()}
            write_private_file(Path(location) / OWNER_FILE, json.dumps(owner))

    @property
    def embedded(self) -> bool:
        """True: the engine runs in this process."""
        return True

    def _connect(self, *, reader: bool) -> Client:
        if reader:
            return self._open(self.database, {"readonly": "2"})
        if self.database == "default" and self.create:
            return self._open("default", None)
        bootstrap = self._open("default", None)
        try:
            if self.create:
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
            else:
                sql, parameters = store_check(self.database)
                row = bootstrap.query(sql, parameters=parameters).result_rows[0]
                where = "the in-memory chDB store (empty in a new process)" if self.location == MEMORY else None
                missing = missing_store(row, self.database, where or f"the chDB store at {self.location}")
                if missing is not None:
                    raise missing
        except ClickHouseError as error:
            raise store_error(error, f"cannot use database {self.database}: {first_line(error)}") from None
        finally:
            bootstrap.close()
        return self._open(self.database, None)

    def _open(self, database: str, options: dict[str, str] | None) -> Client:
        path = self.location
        dsn = "chdb://memory" if path == MEMORY else "chdb://" + path
        try:
            with _engine_stderr() as engine_output:
                client = clickhouse_connect.get_client(
                    dsn=dsn, database=database, settings=dict(SESSION_SETTINGS), chdb_options=options
                )
        except Exception as error:  # noqa: BLE001 - chDB raises RuntimeError, ProgrammingError…
            raise _open_failure(path, error, "".join(engine_output)) from None
        if engine_output and engine_output[0]:
            sys.stderr.write(engine_output[0])
        return client

    def close(self) -> None:
        """Close both sessions and release the on-disk store for other processes."""
        was_closed = self._closed
        super().close()
        if not was_closed:
            with _engines_lock:
                _engines[self.location] -= 1
        if not was_closed and self.location != MEMORY:
            with contextlib.suppress(OSError):
                (Path(self.location) / OWNER_FILE).unlink(missing_ok=True)
