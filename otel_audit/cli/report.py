"""Commands that answer questions: every ``otel-audit report …`` and ``otel-audit query``.

Every report takes ``--format``/``-f table|json|csv|html`` and ``--out``/``-o FILE`` (created
``0600``; default stdout). A table fits the terminal (:func:`~otel_audit.cli._common.terminal_width`)
and shows ids and hashes whole (:mod:`otel_audit.answer.reports`). A report states its period:
the ``--since``/``--until`` given, else the times of its first and last record; an answer of
zero records says so in a ``note``.

``query`` runs one SELECT in the query sandbox; an error names the problem, and an unknown
column lists the columns of the tables the statement reads.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from otel_audit.answer import queries
from otel_audit.cli._common import (
    check_format,
    emit,
    errors_as_exit,
    load_verifier_key,
    reading,
    render_cli_report,
    report_command,
    terminal_width,
)
from otel_audit.cli._options import (
    PANEL_REPORT,
    AnyModelOption,
    FormatOption,
    ModelOption,
    OutOption,
    SinceOption,
    StoreOption,
    UntilOption,
    verifier_key_option,
)
from otel_audit.errors import QueryError
from otel_audit.store.connect import Store
from otel_audit.store.sandbox import QueryRefusedError
from otel_audit.store.sql import query_sql

__all__ = ["register", "report_app"]

report_app = typer.Typer(help="Compliance reports: -f table|json|csv|html, --out FILE.", no_args_is_help=True)

LimitOption = Annotated[int, typer.Option("--limit", min=1, help="Most predictions listed.")]


@report_app.command("model-usage")
def model_usage(
    model: ModelOption,
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Volume, outcomes, labels, versions, latency and users of one model."""
    report_command(
        store, fmt, out, lambda s: queries.model_usage(s, model, since=since, until=until),
        command="report model-usage", subject=model, subject_kind="model", since=since, until=until,
    )  # fmt: skip


@report_app.command("data-access")
def data_access(
    user: Annotated[str, typer.Option("--user", help="User id.")],
    since: SinceOption = None,
    until: UntilOption = None,
    limit: LimitOption = 1000,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Every prediction made for one user, by which models, and who else read that user's records."""
    from otel_audit.answer.access import accessed_by, records_in

    check_format(fmt)
    with errors_as_exit():
        with reading(store, "report data-access", subject=user, subject_kind="user", since=since, until=until) as read:
            report = queries.data_access(read.store, user, since=since, until=until, limit=limit)
            related = queries.user_request_ids(read.store, user)
            report["accessed_by"] = accessed_by(read.store, read.subject, related=related)
            read.records = records_in(report)
        text = render_cli_report(report, fmt, width=None if out is not None else terminal_width())
    emit(text, out)


@report_app.command("version-at")
def version_at(
    model: ModelOption,
    at: Annotated[str, typer.Option("--at", help="Time (ISO 8601, UTC).")],
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Which version(s) of a model served at a given time."""
    report_command(
        store, fmt, out, lambda s: queries.version_at(s, model, at),
        command="report version-at", subject=model, subject_kind="model", since=at, until=at,
    )  # fmt: skip


@report_app.command("version-timeline")
def version_timeline(
    model: ModelOption,
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Which versions of a model served when, and when the version changed."""
    report_command(
        store, fmt, out, lambda s: queries.version_timeline(s, model, since=since, until=until),
        command="report version-timeline", subject=model, subject_kind="model", since=since, until=until,
    )  # fmt: skip


@report_app.command("outcomes")
def outcomes(
    model: AnyModelOption = "",
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Outcome and error-type mix of one model or all."""
    report_command(
        store, fmt, out, lambda s: queries.outcome_mix(s, model, since=since, until=until),
        command="report outcomes", subject=model, subject_kind="model", since=since, until=until,
    )  # fmt: skip


@report_app.command("redactions")
def redactions(
    model: AnyModelOption = "",
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """How many predictions carry each audit.redaction.* attribute."""
    report_command(
        store, fmt, out, lambda s: queries.redaction_counts(s, model, since=since, until=until),
        command="report redactions", subject=model, subject_kind="model", since=since, until=until,
    )  # fmt: skip


@report_app.command("request")
def request(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="Request id.")],
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """The full stored record of one request."""
    report_command(
        store, fmt, out, lambda s: queries.request_record(s, request_id),
        command="report request", subject=request_id, subject_kind="request",
    )  # fmt: skip


@report_app.command("reproduce")
def reproduce(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="Request id.")],
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """A request's record, model and pipeline version, and its input checked against its hash."""
    report_command(
        store, fmt, out, lambda s: queries.reproduce(s, request_id),
        command="report reproduce", subject=request_id, subject_kind="request",
    )  # fmt: skip


@report_app.command("input")
def input_hash(
    digest: Annotated[str, typer.Argument(metavar="INPUT_SHA256", help="Canonical input hash (SHA-256 hex).")],
    limit: LimitOption = 1000,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """All predictions made for one input."""
    report_command(
        store, fmt, out, lambda s: queries.input_lookup(s, digest, limit=limit),
        command="report input", subject=digest, subject_kind="input",
    )  # fmt: skip


@report_app.command("conflicts")
def conflicts(
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Record ids shared by different stored records (forged copies, reused ids): every variant."""
    report_command(
        store, fmt, out, lambda s: queries.conflicts(s, since=since, until=until),
        command="report conflicts", since=since, until=until,
    )  # fmt: skip


@report_app.command("compliance")
def compliance(
    model: ModelOption,
    since: SinceOption = None,
    until: UntilOption = None,
    verifier_key: Annotated[
        str | None,
        verifier_key_option("Verifier key (NAME.pub file or its text): check checkpoint signatures too."),
    ] = None,
    store: StoreOption = None,
    fmt: FormatOption = "html",
    out: OutOption = None,
) -> None:
    """One model's compliance page: usage, integrity, versions per day, latency, outcomes, redactions."""

    def build(opened: Store) -> dict[str, Any]:
        verifier = load_verifier_key(verifier_key) if verifier_key else None
        return queries.compliance(opened, model, since=since, until=until, verifier=verifier)

    report_command(
        store, fmt, out, build,
        command="report compliance", subject=model, subject_kind="model", since=since, until=until,
    )  # fmt: skip


@report_app.command("oversight")
def oversight(
    model: ModelOption,
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Human oversight of one model: review coverage, override rates, time to review, agreement with ground truth."""
    report_command(
        store, fmt, out, lambda s: queries.oversight(s, model, since=since, until=until),
        command="report oversight", subject=model, subject_kind="model", since=since, until=until,
    )  # fmt: skip


@report_app.command("access-log")
def access_log(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only reads about this user id (or request id, model).")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
) -> None:
    """Every read of the audit trail: who ran which report or query, about whom, how many records."""
    from otel_audit.answer.access import access_log as build

    check_format(fmt)
    with errors_as_exit():
        kind = "user" if subject else ""
        with reading(
            store, "report access-log", subject=subject or "", subject_kind=kind, since=since, until=until
        ) as read:
            report = build(read.store, subject=subject or "", subject_token=read.subject, since=since, until=until)
            read.records = int(report["reads"])
        text = render_cli_report(report, fmt, width=None if out is not None else terminal_width())
    emit(text, out)


_QUERY_FORMATS = ("table", "json", "csv")
_UNKNOWN_COLUMN = re.compile(r"(?:Unknown expression identifier|Missing columns:) [`']([^`']+)[`']")


def query(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="One SELECT over the store's tables (docs/security.md).")],
    store: StoreOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    out: OutOption = None,
) -> None:
    """Run one SELECT over the store's tables in the query sandbox (no files, network or writes)."""
    from otel_audit.answer.reports import render_rows

    check_format(fmt, _QUERY_FORMATS)
    with errors_as_exit():
        with reading(store, "query") as read:
            opened = read.store
            try:
                result = opened.read(sql)
            except QueryRefusedError:
                raise
            except QueryError as error:
                raise QueryError(_explained(opened, sql, str(error))) from None
            read.records = len(result.rows)
        text = render_rows(result.columns, result.rows, fmt, width=None if out is not None else terminal_width())
    emit(text, out)


def _explained(store: Store, sql: str, message: str) -> str:
    """*message*, and for an unknown column the columns of each store table that *sql* names."""
    unknown = _UNKNOWN_COLUMN.search(message)
    if unknown is None:
        return message
    try:
        columns = store.query(query_sql("table_columns")).rows
    except QueryError:
        return message
    tables: dict[str, list[str]] = {}
    for table, column in columns:
        tables.setdefault(table, []).append(column)
    named = [table for table in tables if re.search(rf"\b{re.escape(table)}\b", sql)]
    if not named:
        return f"unknown column {unknown.group(1)!r} ({message})"
    listed = "; ".join(f"{table} has {', '.join(tables[table])}" for table in named)
    return f"unknown column {unknown.group(1)!r}: {listed}"


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``query`` to *app*, under their help panel."""
    app.add_typer(report_app, name="report", rich_help_panel=PANEL_REPORT)
    app.command("query", rich_help_panel=PANEL_REPORT)(query)
