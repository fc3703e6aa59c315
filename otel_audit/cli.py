"""``otel-audit``: demo, compliance reports and read-only SQL over an audit store.

Every command takes ``--store DSN`` (default ``OTEL_AUDIT_STORE`` or the default on-disk store)
and the report commands ``--format table|json|csv``. Errors are one line on stderr with a
non-zero exit code, never a traceback.

Read-only commands (``report …``, ``query``, ``verify``, ``prove``, ``evidence``, ``archive``,
``status``) never create a store; writers (``demo``, ``schema``, ``seal``, ``erase``, ``rollup``,
``serve``, ``restore``) do. A report states its period: the ``--since``/``--until`` given, else
the times of its first and last record; an answer of zero records says so in a ``note``.

Exit codes: 0 done (zero records included); 1 evidence does not verify (or ``status``: no server
runs); 2 usage, store or query error; 3 store open in another process; 4 a model the store has
never seen (the message lists the known models, closest first); 5 the DSN names no store.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from otel_audit import envvars
from otel_audit._cli_common import check_format, dsn, errors_as_exit, open_cli_store, render_cli_report
from otel_audit.answer import commands as answer_commands
from otel_audit.answer import queries
from otel_audit.answer.reports import render_report, render_rows
from otel_audit.store.connect import Store, open_store
from otel_audit.store.schema import apply_schema

__all__ = ["app", "main"]

app = typer.Typer(help="Audit trail of ML predictions: demo, reports, queries.", no_args_is_help=True)
report_app = typer.Typer(help="Compliance reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")
answer_commands.register(app, report_app)  # issue 6: timeline, outcomes, redactions, reproduce, HTML

T = TypeVar("T")

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store DSN (chdb:///path, chdb://memory, http://host:8123).", show_default=False),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or html.")]
SinceOption = Annotated[str | None, typer.Option(help="Start of the period (ISO 8601, UTC).")]
UntilOption = Annotated[str | None, typer.Option(help="End of the period, exclusive (ISO 8601, UTC).")]


# Shared with the command modules registered below (they import these names from here).
_dsn = dsn
_errors = errors_as_exit
_open = open_cli_store
_check_format = check_format


def _report(store: str | None, fmt: str, build: Callable[[Store], dict[str, Any]]) -> None:
    _check_format(fmt)
    with _errors():
        typer.echo(render_cli_report(build(_open(store)), fmt))


_DEMO_MODELS = (
    ("fraud_detector", ("v3.2.0", "v3.2.1"), ("legitimate", "fraud", "review")),
    ("sentiment_classifier", ("v2.1.0",), ("positive", "negative", "neutral")),
    ("credit_scorer", ("v1.4.0", "v1.5.0"), ("approve", "decline")),
)
_DEMO_USERS = ("analyst_jane", "api_client_42", "underwriter_li", "ops_bot", "auditor_max")


def _demo_prediction(rng: random.Random, index: int, count: int) -> None:
    import otel_audit

    model, versions, labels = _DEMO_MODELS[index % len(_DEMO_MODELS)]
    # Versions roll out over time: the newer one serves the second half of the run.
    version = versions[min(len(versions) - 1, index * len(versions) // max(count, 1))]
    features = {
        "transaction_amount": round(rng.uniform(1, 5000), 2),
        "merchant_category": rng.choice(("electronics", "grocery", "travel", "fuel")),
        "account_age_days": rng.randint(0, 4000),
        "text": rng.choice(("Great product, fast shipping!", "Item arrived broken.", "OK.")),
    }
    with otel_audit.audit_prediction(
        model=model,
        version=version,
        user_id=rng.choice(_DEMO_USERS),
        input=features,
        pipeline_version=f"pipe-{version}",
    ) as prediction:
        time.sleep(rng.lognormvariate(-8.5, 0.6))  # stand-in for inference, ~0.2 ms
        if model == "credit_scorer" and rng.random() < 0.03:
            raise ValueError("feature account_age_days out of range")
        prediction.output = {"label": rng.choice(labels), "score": round(rng.random(), 4)}


@app.command()
def demo(
    store: StoreOption = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Predictions to emit.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    fmt: FormatOption = "table",
) -> None:
    """Emit synthetic predictions into the store, then print the model-usage report."""
    import otel_audit

    _check_format(fmt)
    rng = random.Random(seed)
    with _errors():
        runtime = otel_audit.configure(store=_dsn(store), service_name="otel-audit-demo")
        columns = (TextColumn("auditing predictions"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("demo", total=count)
            for index in range(count):
                # A failing prediction is audited as an error, as in a real service.
                with contextlib.suppress(ValueError):
                    _demo_prediction(rng, index, count)
                if index % 100 == 99:
                    progress.advance(task, 100)
        if not runtime.flush(120):
            typer.echo("otel-audit: error: timed out flushing records to the store", err=True)
            raise typer.Exit(2)
        assert runtime.store is not None
        typer.echo(f"audited {count} predictions into {runtime.store.dsn}", err=True)
        typer.echo(render_report(queries.model_usage(runtime.store, _DEMO_MODELS[0][0]), fmt))
        otel_audit.shutdown()


@report_app.command("model-usage")
def model_usage(
    model: Annotated[str, typer.Option(help="Model name.")],
    since: SinceOption = None,
    until: UntilOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Volume, outcomes, labels, versions, latency and users of one model."""
    _report(store, fmt, lambda s: queries.model_usage(s, model, since=since, until=until))


@report_app.command("data-access")
def data_access(
    user: Annotated[str, typer.Option(help="User id.")],
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Most predictions listed.")] = 1000,
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Every prediction made for one user, and by which models."""
    _report(store, fmt, lambda s: queries.data_access(s, user, since=since, until=until, limit=limit))


@report_app.command("version-at")
def version_at(
    model: Annotated[str, typer.Option(help="Model name.")],
    at: Annotated[str, typer.Option(help="Time (ISO 8601, UTC).")],
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Which version(s) of a model served at a given time."""
    _report(store, fmt, lambda s: queries.version_at(s, model, at))


@report_app.command("request")
def request(
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """The full stored record of one request."""
    _report(store, fmt, lambda s: queries.request_record(s, request_id))


@report_app.command("input")
def input_hash(
    digest: Annotated[str, typer.Argument(help="Canonical input hash (SHA-256 hex).")],
    limit: Annotated[int, typer.Option(min=1, help="Most predictions listed.")] = 1000,
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """All predictions made for one input."""
    _report(store, fmt, lambda s: queries.input_lookup(s, digest, limit=limit))


@report_app.command("conflicts")
def conflicts(
    store: StoreOption = None,
    fmt: FormatOption = "table",
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Record ids shared by different stored records (forged copies, reused ids): every variant."""
    _report(store, fmt, lambda s: queries.conflicts(s, since=since, until=until))


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="One SELECT over the store's tables (see docs/security.md).")],
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Run one SELECT over the store's tables in the query sandbox (no files, network or writes)."""
    _check_format(fmt)
    with _errors():
        result = _open(store).read(sql)
        typer.echo(render_rows(result.columns, result.rows, fmt))


@app.command()
def schema(
    store: StoreOption = None,
    ttl_days: Annotated[int | None, typer.Option(help="Retention in days (0 = forever, else >= 184).")] = None,
    cluster: Annotated[
        str | None,
        typer.Option(help="Print the ON CLUSTER schema (Replicated + Distributed) for this cluster; changes nothing."),
    ] = None,
    database: Annotated[str, typer.Option(help="Database of the --cluster schema.")] = "default",
    landing_days: Annotated[
        int | None,
        typer.Option(help="Days prediction rows stay in otel_logs besides audit_predictions (0 = whole retention)."),
    ] = None,
) -> None:
    """Create or upgrade the store's schema and print its version (or print a cluster's DDL)."""
    from otel_audit.store.schema import DEFAULT_TTL_DAYS, landing_days_from_env, validate_ttl_days

    with _errors():
        days = (
            ttl_days
            if ttl_days is not None
            else envvars.env_int(envvars.OTEL_AUDIT_TTL_DAYS, DEFAULT_TTL_DAYS, minimum=0)
        )
        if cluster is not None:
            from otel_audit.store.cluster import cluster_statements

            statements = cluster_statements(
                cluster,
                database=database,
                ttl_days=validate_ttl_days(days),
                landing_days=landing_days_from_env() if landing_days is None else landing_days,
            )
            typer.echo(";\n\n".join(statements) + ";")
            return
        store_ = open_store(_dsn(store))
        typer.echo(f"schema version {apply_schema(store_, ttl_days=days, landing_days=landing_days)} at {store_.dsn}")


from otel_audit import cli_seal  # noqa: E402 - registers commands using the helpers above

cli_seal.register(app)

# otel-audit serve / status (issue 3)
from otel_audit.service.cli import register as _register_service  # noqa: E402

_register_service(app)

from otel_audit import cli_collector  # noqa: E402 - issue 4: collector-config command

cli_collector.register(app)


def main() -> None:
    """Console-script entry point; what the commands create is readable by their user only."""
    os.umask(os.umask(0o077) | 0o077)
    app()


if __name__ == "__main__":
    main()
