"""What every ``otel-audit`` command shares: the store option's default, one-line errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from otel_audit import envvars
from otel_audit._files import write_private_file
from otel_audit.answer.reports import FORMATS
from otel_audit.errors import FileRefusedError, OtelAuditError, StoreLockedError
from otel_audit.store.connect import Store, open_store
from otel_audit.store.front_door import FrontDoorStore
from otel_audit.store.schema import apply_schema

__all__ = ["check_format", "dsn", "errors_as_exit", "open_cli_store", "write_out"]


def dsn(store: str | None) -> str:
    """``--store``, else ``OTEL_AUDIT_STORE``, else the default on-disk store."""
    return store or envvars.env_str(envvars.OTEL_AUDIT_STORE) or envvars.default_store_dsn()


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn otel-audit errors into one line on stderr and exit code 2 (3 for a locked store)."""
    try:
        yield
    except StoreLockedError as error:
        typer.echo(f"otel-audit: {error}", err=True)
        raise typer.Exit(3) from None
    except OtelAuditError as error:
        typer.echo(f"otel-audit: error: {error}", err=True)
        raise typer.Exit(2) from None


def open_cli_store(store: str | None) -> Store:
    """Open the store named by ``--store`` with its schema applied.

    A store owned by a running ``otel-audit serve`` comes back as its read-only front door,
    whose schema the server has applied already.
    """
    opened = open_store(dsn(store))
    if not isinstance(opened, FrontDoorStore):
        apply_schema(opened)
    return opened


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
