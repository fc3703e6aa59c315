"""What every ``otel-audit`` command shares: the store option's default, one-line errors and their
exit codes (listed in :mod:`otel_audit.cli`'s docstring and docs/reports.md), report output,
keys, and progress on a terminal."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from otel_audit import envvars
from otel_audit._files import read_regular_file, write_private_file
from otel_audit.answer.access import AccessRead, audited_read, records_in
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

if TYPE_CHECKING:
    from otel_audit.seal.checkpoint import NoteSigner, NoteVerifier

__all__ = [
    "EXIT_LOCKED",
    "EXIT_NOT_VERIFIED",
    "EXIT_NO_STORE",
    "EXIT_UNKNOWN_MODEL",
    "EXIT_USAGE",
    "check_format",
    "dsn",
    "emit",
    "errors_as_exit",
    "exit_code",
    "fail",
    "load_signing_key",
    "load_verifier_key",
    "open_cli_store",
    "progress",
    "reading",
    "render_cli_report",
    "report_command",
    "terminal_width",
    "write_out",
]

EXIT_NOT_VERIFIED = 1
"""Exit code of evidence that does not verify (and of ``status`` when no server runs)."""
EXIT_USAGE = 2
"""Exit code of a usage, store or query error."""
EXIT_LOCKED = 3
"""Exit code of an on-disk store open in another process."""
EXIT_UNKNOWN_MODEL = 4
"""Exit code of a report about a model the store has never seen."""
EXIT_NO_STORE = 5
"""Exit code of a read-only command whose DSN names no store."""


def dsn(store: str | None) -> str:
    """``--store``, else ``OTEL_AUDIT_STORE``, else the default on-disk store."""
    return envvars.OTEL_AUDIT_STORE.resolve(store or None)


def exit_code(error: OtelAuditError) -> int:
    """The exit code of *error*: 3 locked store, 4 unknown model, 5 no such store, else 2."""
    if isinstance(error, StoreLockedError):
        return EXIT_LOCKED
    if isinstance(error, UnknownModelError):
        return EXIT_UNKNOWN_MODEL
    if isinstance(error, StoreNotFoundError):
        return EXIT_NO_STORE
    return EXIT_USAGE


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``otel-audit: error: <message>`` on stderr; return the exit to raise."""
    typer.echo(f"otel-audit: error: {message}", err=True)
    return typer.Exit(code)


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


def check_format(fmt: str, formats: tuple[str, ...] = FORMATS) -> None:
    """Exit with a one-line error unless *fmt* is one of *formats* (the report formats)."""
    if fmt not in formats:
        raise fail(f"--format must be one of {', '.join(formats)}")


def terminal_width() -> int | None:
    """The width tables are fitted to: ``$COLUMNS``, else the terminal's; ``None`` (as wide as
    their content) when standard output is no terminal."""
    columns = shutil.get_terminal_size(fallback=(0, 0)).columns
    return columns if columns > 0 else None


def render_cli_report(report: Mapping[str, Any], fmt: str, *, width: int | None = None) -> str:
    """Render *report* in *fmt*; its ``note`` (an answer of zero records) also goes to stderr for CSV,
    whose rows have no place for it."""
    if fmt == "csv" and report.get("note"):
        typer.echo(f"otel-audit: note: {report['note']}", err=True)
    return render_report(report, fmt, width=width)


def write_out(path: str | os.PathLike[str], text: str) -> None:
    """Write *text* to ``--out`` *path* as a ``0600`` file (reports carry user data); exit 2 if it cannot."""
    try:
        write_private_file(path, text)
    except OSError as error:
        raise fail(f"cannot write {path}: {error.strerror or error}") from None
    except FileRefusedError as error:
        raise fail(f"cannot write {path}: {error}") from None


def emit(text: str, out: Path | None) -> None:
    """Print *text*, or write it to the ``--out`` file *out* and say so on stderr."""
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    write_out(out, text if text.endswith("\n") else text + "\n")
    typer.echo(f"wrote {out}", err=True)


@contextmanager
def reading(
    store: str | None,
    command: str,
    *,
    subject: str = "",
    subject_kind: str = "",
    since: Any = None,
    until: Any = None,
) -> Iterator[AccessRead]:
    """Open the ``--store`` and run one audited read of it as *command* (:func:`audited_read`):
    read through the yielded read's ``store`` and set its ``records``. Every command that reads
    records runs in one, so each leaves exactly one ``audit.access`` event (or fails)."""
    with audited_read(
        open_cli_store(store), command, subject=subject, subject_kind=subject_kind, since=since, until=until
    ) as read:
        yield read


def report_command(
    store: str | None,
    fmt: str,
    out: Path | None,
    build: Callable[[Store], Mapping[str, Any]],
    *,
    command: str,
    subject: str = "",
    subject_kind: str = "",
    since: Any = None,
    until: Any = None,
) -> None:
    """Run one ``report`` command: build the report on the store in an audited read (*command*
    about *subject*; see :func:`reading`), render it in *fmt*, print or write it."""
    check_format(fmt)
    with errors_as_exit():
        with reading(store, command, subject=subject, subject_kind=subject_kind, since=since, until=until) as read:
            report = build(read.store)
            read.records = records_in(report)
        text = render_cli_report(report, fmt, width=None if out is not None else terminal_width())
    emit(text, out)


# --- keys -----------------------------------------------------------------------------------

_SIGNING_PREFIX = "PRIVATE+KEY+"


def _key_text(path: Path) -> str | None:
    """The stripped text of key file *path*, or ``None`` if it cannot be read as a small text file."""
    try:
        return read_regular_file(path, max_bytes=4096).decode("ascii").strip()
    except (OSError, FileRefusedError, UnicodeDecodeError):
        return None


def load_signing_key(path: Path | None) -> NoteSigner:
    """The ``--signing-key`` (else ``$OTEL_AUDIT_SEAL_KEY``); a verifier key given instead is named as such.

    Raises:
        SealError: no key given, or *path* is not a signing key (the message says which key it is).
    """
    from otel_audit.seal import KeyFormatError, NoteVerifier, SealError, load_signer

    chosen = envvars.OTEL_AUDIT_SEAL_KEY.resolve(str(path) if path else None)
    if not chosen:
        raise SealError(
            "no signing key: pass --signing-key NAME.key or set OTEL_AUDIT_SEAL_KEY (create one with keygen)"
        )
    text = _key_text(Path(chosen))
    try:
        given_verifier = text is not None and bool(NoteVerifier.parse(text))
    except KeyFormatError:
        given_verifier = False
    if given_verifier:
        raise SealError(
            f"{chosen} is a verifier key (NAME.pub); --signing-key expects the signing key NAME.key made with it"
        )
    return load_signer(chosen)


def load_verifier_key(path_or_text: str) -> NoteVerifier:
    """The ``--verifier-key`` (a ``.pub`` file or its text); a signing key given instead is named as such.

    Raises:
        SealError: *path_or_text* is not a verifier key (the message says which key it is).
    """
    from otel_audit.seal import SealError, load_verifier

    text = path_or_text.strip() if path_or_text.startswith(_SIGNING_PREFIX) else _key_text(Path(path_or_text))
    if text is not None and text.startswith(_SIGNING_PREFIX):
        where = "the text given" if path_or_text.startswith(_SIGNING_PREFIX) else path_or_text
        raise SealError(
            f"{where} is a signing key (NAME.key, keep it secret); --verifier-key expects its verifier key NAME.pub"
        )
    return load_verifier(path_or_text)


# --- progress -------------------------------------------------------------------------------


@contextmanager
def progress(verb: str) -> Iterator[Callable[[str, int], None]]:
    """A progress bar on stderr while it is a terminal (silent otherwise) for a long job.

    Yields ``step(description, total)``, to call once per unit of work done (a file, a window of
    records); a job that never calls it shows a pulsing bar and the time elapsed.
    """
    # File and table names are shown as they are, never read as rich markup.
    columns = (
        SpinnerColumn(),
        TextColumn(verb, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),
    )
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("", total=None)

        def step(description: str, total: int) -> None:
            bar.update(task, advance=1, total=total, description=description)

        yield step
