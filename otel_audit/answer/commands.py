"""CLI commands of issue 6: more reports, and the Parquet archive.

``otel-audit report version-timeline|outcomes|redactions|reproduce|compliance`` take
``--format table|json|csv|html`` and ``--out FILE``; ``otel-audit archive --before DATE --to DIR``
(signed with the seal's key, ``--key``, or ``--unsigned``) and ``otel-audit restore DIR --key PUB
--into DATABASE`` (or ``--accept-unverified``) move whole months to and from Parquet
(:mod:`otel_audit.store.archive`), with a progress bar on a terminal. ``restore`` exits with 1 when
the archive does not verify, like ``verify-pack``.

Registered on the CLI by :func:`register`, which ``otel_audit.cli`` calls once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from otel_audit._cli_common import check_format, dsn, errors_as_exit, open_cli_store, render_cli_report, write_out
from otel_audit.answer import queries
from otel_audit.store.connect import Store, open_store

__all__ = ["register"]

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store DSN (chdb:///path, chdb://memory, http://host:8123).", show_default=False),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or html.")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the report to FILE instead of stdout.")]
SinceOption = Annotated[str | None, typer.Option(help="Start of the period (ISO 8601, UTC).")]
UntilOption = Annotated[str | None, typer.Option(help="End of the period, exclusive (ISO 8601, UTC).")]
ModelOption = Annotated[str, typer.Option(help="Model name.")]
AnyModelOption = Annotated[str, typer.Option(help="Model name (default: every model).")]


def _emit(store: str | None, fmt: str, out: Path | None, build: Callable[[Store], dict[str, Any]]) -> None:
    check_format(fmt)
    with errors_as_exit():
        text = render_cli_report(build(open_cli_store(store)), fmt)
    if out is None:
        typer.echo(text)
        return
    write_out(out, text if text.endswith("\n") else text + "\n")
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    """Add this module's commands to the ``otel-audit`` app and its ``report`` group."""

    @report_app.command("version-timeline")
    def version_timeline(
        *,
        model: ModelOption,
        since: SinceOption = None,
        until: UntilOption = None,
        store: StoreOption = None,
        fmt: FormatOption = "table",
        out: OutOption = None,
    ) -> None:
        """Which versions of a model served when, and when the version changed."""
        _emit(store, fmt, out, lambda s: queries.version_timeline(s, model, since=since, until=until))

    @report_app.command("outcomes")
    def outcomes(
        *,
        model: AnyModelOption = "",
        since: SinceOption = None,
        until: UntilOption = None,
        store: StoreOption = None,
        fmt: FormatOption = "table",
        out: OutOption = None,
    ) -> None:
        """Outcome and error-type mix of one model or all."""
        _emit(store, fmt, out, lambda s: queries.outcome_mix(s, model, since=since, until=until))

    @report_app.command("redactions")
    def redactions(
        *,
        model: AnyModelOption = "",
        since: SinceOption = None,
        until: UntilOption = None,
        store: StoreOption = None,
        fmt: FormatOption = "table",
        out: OutOption = None,
    ) -> None:
        """How many predictions carry each audit.redaction.* attribute."""
        _emit(store, fmt, out, lambda s: queries.redaction_counts(s, model, since=since, until=until))

    @report_app.command("reproduce")
    def reproduce(
        *,
        request_id: Annotated[str, typer.Argument(help="Request id.")],
        store: StoreOption = None,
        fmt: FormatOption = "table",
        out: OutOption = None,
    ) -> None:
        """A request's record, model and pipeline version, and its input checked against its hash."""
        _emit(store, fmt, out, lambda s: queries.reproduce(s, request_id))

    @report_app.command("compliance")
    def compliance(
        *,
        model: ModelOption,
        since: SinceOption = None,
        until: UntilOption = None,
        store: StoreOption = None,
        fmt: FormatOption = "html",
        out: OutOption = None,
    ) -> None:
        """One model's compliance page: usage, versions per day, latency, outcomes, redactions."""
        _emit(store, fmt, out, lambda s: queries.compliance(s, model, since=since, until=until))

    @app.command("archive")
    def archive(
        *,
        before: Annotated[str, typer.Option(help="Archive the whole months before this date's month (YYYY-MM-DD).")],
        to: Annotated[Path, typer.Option("--to", help="New folder for the Parquet files and manifest.json.")],
        key: Annotated[
            Path | None,
            typer.Option("--key", help="Seal signing key that signs the archive (default: $OTEL_AUDIT_SEAL_KEY)."),
        ] = None,
        unsigned: Annotated[
            bool, typer.Option("--unsigned", help="Write an archive nobody vouches for (restore --accept-unverified).")
        ] = False,
        store: StoreOption = None,
    ) -> None:
        """Write whole months of audit rows and the seal to Parquet, with a manifest signed by the seal's key."""
        _archive(before, to, key, unsigned=unsigned, store=store)

    @app.command("rollup")
    def rollup(
        *,
        since: Annotated[str | None, typer.Option(help="Only periods after this time (ISO 8601, UTC).")] = None,
        rebuild: Annotated[
            bool, typer.Option(help="Build current periods again too (after an ATTACH PARTITION, say).")
        ] = False,
        store: StoreOption = None,
    ) -> None:
        """Build the report rollups of closed hours and days that are new or changed (docs/reports.md)."""
        from otel_audit.answer.rollups import build_rollups

        with errors_as_exit(), _progress("rolling up") as step:
            result = build_rollups(open_cli_store(store, create=True), since=since, rebuild=rebuild, progress=step)
        hours, days = result.periods["usage_hourly"], result.periods["user_daily"]
        rows, seconds = result.source_rows["usage_hourly"], result.seconds
        typer.echo(f"built {hours} hour(s) and {days} day(s) of rollups over {rows} stored rows in {seconds:.1f} s")

    @app.command("restore")
    def restore(
        directory: Annotated[Path, typer.Argument(help="Folder written by `otel-audit archive`.")],
        *,
        into: Annotated[str, typer.Option(help="New, empty database to restore into.")] = "otel_audit_restored",
        key: Annotated[
            str | None, typer.Option("--key", help="Verifier key (.pub file or text) of the seal key that signed it.")
        ] = None,
        accept_unverified: Annotated[
            bool,
            typer.Option("--accept-unverified", help="Restore with no signature checked (unsigned, or no --key)."),
        ] = False,
        store: StoreOption = None,
    ) -> None:
        """Verify an archive (signature, files, then its rows against the seal) and load it into a new database."""
        _restore(directory, into, key, accept_unverified=accept_unverified, store=store)


def _archive(before: str, to: Path, key: Path | None, *, unsigned: bool, store: str | None) -> None:
    """``otel-audit archive``: sign with the seal's key unless ``--unsigned`` says otherwise."""
    from otel_audit.cli_seal import _signing_key
    from otel_audit.errors import ConfigError
    from otel_audit.seal import load_signer
    from otel_audit.store.archive import TABLES, archive_months

    with errors_as_exit():
        if unsigned and key is not None:
            raise ConfigError("--unsigned and --key exclude each other")
        signer = None if unsigned else load_signer(_signing_key(key))
        with _progress("archiving") as step:
            files = archive_months(open_cli_store(store), before, to, signer=signer, progress=step)
    rows = {table: sum(f.rows for f in files if f.table == table) for table in TABLES}
    months = sorted({f.month for f in files if f.table in TABLES})
    how = f"signed by {signer.verifier.name}" if signer else "UNSIGNED: restore will need --accept-unverified"
    typer.echo(f"archived {len(months)} month(s) {', '.join(months)} to {to}: {rows}; {how}", err=True)


def _restore(directory: Path, into: str, key: str | None, *, accept_unverified: bool, store: str | None) -> None:
    """``otel-audit restore``: exit 1 when the archive or the restored rows do not verify."""
    from otel_audit.seal import SealError, load_verifier
    from otel_audit.store.archive import restore_archive

    target = dsn(store).partition("?")[0] + f"?database={into}"
    with errors_as_exit():
        verifier = load_verifier(key) if key else None
        try:
            with _progress("restoring") as step:
                checked = restore_archive(
                    open_store(target), directory, verifier=verifier, accept_unverified=accept_unverified, progress=step
                )
        except SealError as error:
            typer.echo(f"otel-audit: archive does NOT verify: {error}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"restored {checked.rows} rows from {len(checked.files)} file(s) into {target}", err=True)
    vouched = "signature checked" if checked.signed else "UNSIGNED archive"
    if checked.sealed_records is not None:
        typer.echo(f"{vouched}; {checked.sealed_records} restored records verify against the archived seal", err=True)
    elif checked.signed:
        typer.echo(f"{vouched}; the archive carries no seal to check its rows against", err=True)
    else:
        typer.echo("otel-audit: warning: UNVERIFIED: nobody vouches for the restored rows", err=True)


@contextmanager
def _progress(verb: str) -> Iterator[Callable[[str, int], None]]:
    """A rich progress bar on a terminal (silent otherwise), advanced once per file."""
    # File and table names are shown as they are, never read as rich markup.
    columns = (TextColumn(verb), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}", markup=False))
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("", total=None)

        def step(description: str, total: int) -> None:
            bar.update(task, advance=1, total=total, description=description)

        yield step
