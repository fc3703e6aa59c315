"""What every ``otel-audit`` command shares: the store option's default, one-line errors and their
exit codes (listed in :mod:`otel_audit.cli`'s docstring and docs/reports.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer

from otel_audit import envvars
from otel_audit._files import write_private_file
from otel_audit.answer.reports import FORMATS, render_report
from otel_audit.errors import (
    FileRefusedError,
    OtelAuditError,
    StoreLockedError,
    StoreNotFoundError,
    UnknownModelError,
)
from otel_audit.store.connect import Store, open_store
from otel_audit.store.front_door import FrontDoorStore
from otel_audit.store.schema import apply_schema

__all__ = [
    "EXIT_NO_STORE",
    "EXIT_UNKNOWN_MODEL",
    "check_format",
    "dsn",
    "errors_as_exit",
    "exit_code",
    "open_cli_store",
    "render_cli_report",
    "write_out",
]

EXIT_UNKNOWN_MODEL = 4
"""Exit code of a report about a model the store has never seen."""
EXIT_NO_STORE = 5
"""Exit code of a read-only command whose DSN names no store."""


def dsn(store: str | None) -> str:
    """``--store``, else ``OTEL_AUDIT_STORE``, else the default on-disk store."""
    return store or envvars.env_str(envvars.OTEL_AUDIT_STORE) or envvars.default_store_dsn()


def exit_code(error: OtelAuditError) -> int:
    """The exit code of *error*: 3 locked store, 4 unknown model, 5 no such store, else 2."""
    if isinstance(error, StoreLockedError):
        return 3
    if isinstance(error, UnknownModelError):
        return EXIT_UNKNOWN_MODEL
    if isinstance(error, StoreNotFoundError):
        return EXIT_NO_STORE
    return 2


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn otel-audit errors into one line on stderr and their exit code (:func:`exit_code`)."""
    try:
        yield
    except OtelAuditError as error:
        prefix = "otel-audit: " if isinstance(error, StoreLockedError) else "otel-audit: error: "
        typer.echo(prefix + str(error), err=True)
        raise typer.Exit(exit_code(error)) from None


def open_cli_store(store: str | None, *, create: bool = False) -> Store:
    """Open the store named by ``--store`` with its schema applied.

    Read-only commands (the default) never create a store: a DSN that names none exits 5
    (:class:`~otel_audit.errors.StoreNotFoundError`). They do apply schema files an existing
    store lacks, so a store written by an older otel-audit answers with today's reports.
    Commands that write (``seal``, ``erase``, ``rollup``) pass *create*.

    A store owned by a running ``otel-audit serve`` comes back as its read-only front door,
    whose schema the server has applied already.
    """
    opened = open_store(dsn(store), create=create)
    if not isinstance(opened, FrontDoorStore):
        apply_schema(opened)
    return opened


def render_cli_report(report: Mapping[str, Any], fmt: str) -> str:
    """Render *report* in *fmt*; its ``note`` (an answer of zero records) also goes to stderr for CSV,
    whose rows have no place for it."""
    if fmt == "csv" and report.get("note"):
        typer.echo(f"otel-audit: note: {report['note']}", err=True)
    return render_report(report, fmt)


def check_format(fmt: str) -> None:
    """Exit with a one-line error unless *fmt* is a report format."""
    if fmt not in FORMATS:
        typer.echo(f"otel-audit: error: --format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)


def write_out(path: str | os.PathLike[str], text: str) -> None:
    """Write *text* to ``--out`` *path* as a ``0600`` file (reports carry user data); exit 2 if it cannot."""
    try:
        write_private_file(path, text)
    except OSError as error:
        typer.echo(f"otel-audit: error: cannot write {path}: {error.strerror or error}", err=True)
        raise typer.Exit(2) from None
    except FileRefusedError as error:
        typer.echo(f"otel-audit: error: cannot write {path}: {error}", err=True)
        raise typer.Exit(2) from None
