"""Commands that get predictions into a store: ``demo``, ``schema``, ``collector-config``.

``otel-audit collector-config`` renders the OpenTelemetry Collector configuration from the
redaction rule file; the shipped ``collector-config/{production,single-box,file-sink,contrib-only}.yaml``
are its output (a test keeps them equal to it). See ``docs/redaction.md``, "The collector".

``otel-audit demo`` writes synthetic predictions into its own demo store, the folder
``./otel-audit-demo`` (or ``--store``), never into the default store or ``$OTEL_AUDIT_STORE``.
It is idempotent: every demo prediction has a fixed request id (``demo-<seed>-<n>``) and fixed
facts, so a second run writes only what is missing (nothing, after a complete run). It prints
what it wrote per model, then three commands to try against the demo store.
"""

from __future__ import annotations

import contextlib
import os
import random
import shlex
import time
from pathlib import Path
from typing import Annotated

import typer

from otel_audit import envvars
from otel_audit.cli._common import (
    EXIT_USAGE,
    errors_as_exit,
    fail,
    open_cli_store,
    progress,
    terminal_width,
    write_out,
)
from otel_audit.cli._options import PANEL_RECORD, StoreOption, out_option
from otel_audit.errors import ConfigError
from otel_audit.store.connect import open_store, parse_dsn
from otel_audit.store.schema import apply_schema
from otel_audit.store.sql import query_sql

__all__ = ["DEMO_FOLDER", "register"]

DEMO_FOLDER = "otel-audit-demo"
"""The demo store's folder, in the working directory (``make demo``: the checkout)."""

_DEMO_MODELS = (
    ("fraud_detector", ("v3.2.0", "v3.2.1"), ("legitimate", "fraud", "review")),
    ("sentiment_classifier", ("v2.1.0",), ("positive", "negative", "neutral")),
    ("credit_scorer", ("v1.4.0", "v1.5.0"), ("approve", "decline")),
)
_DEMO_USERS = ("analyst_jane", "api_client_42", "underwriter_li", "ops_bot", "auditor_max")


def _request_id(seed: int, index: int) -> str:
    return f"demo-{seed}-{index:06d}"


def _demo_prediction(seed: int, index: int, count: int) -> None:
    """Audit demo prediction *index*: its facts depend on (*seed*, *index*) alone, so a rerun repeats them."""
    import otel_audit

    rng = random.Random(f"{seed}:{index}")
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
        request_id=_request_id(seed, index),
        input=features,
        pipeline_version=f"pipe-{version}",
    ) as prediction:
        time.sleep(rng.lognormvariate(-8.5, 0.6))  # stand-in for inference, ~0.2 ms
        if model == "credit_scorer" and rng.random() < 0.03:
            raise ValueError("feature account_age_days out of range")
        prediction.output = {"label": rng.choice(labels), "score": round(rng.random(), 4)}


def _refuse_real_store(target: str) -> None:
    """Exit 2 if *target* is the default store or ``$OTEL_AUDIT_STORE``: the demo's data is synthetic."""
    wanted = parse_dsn(target)
    real = [("the default store", envvars.default_store_dsn())]
    configured = envvars.OTEL_AUDIT_STORE.from_env()
    if configured:
        real.append(("$OTEL_AUDIT_STORE", configured))
    for name, other in real:
        try:
            same = parse_dsn(other) == wanted
        except ConfigError:  # a malformed $OTEL_AUDIT_STORE is not the demo store either
            same = False
        if same:
            raise fail(f"the demo writes synthetic predictions, never into {name} ({other}); pick another --store")


def demo(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help=f"The demo store (default ./{DEMO_FOLDER}; never the default store or $OTEL_AUDIT_STORE).",
            show_default=False,
        ),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Predictions in the demo.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (a new seed is a second, separate demo).")] = 7,
) -> None:
    """Audit synthetic predictions into a demo store of their own; a second run adds nothing."""
    import otel_audit

    target = store or "chdb://" + str(Path(DEMO_FOLDER).resolve())
    with errors_as_exit():
        _refuse_real_store(target)
        opened = open_cli_store(target, create=True)
        prefix = f"demo-{seed}-"
        stored = {row[0] for row in opened.query(query_sql("demo_request_ids"), {"prefix": prefix}).rows}
        todo = [index for index in range(count) if _request_id(seed, index) not in stored]
        if todo:
            runtime = otel_audit.configure(store=opened, service_name="otel-audit-demo")
            with progress("auditing predictions") as step:
                for index in todo:
                    # A failing prediction is audited as an error, as in a real service.
                    with contextlib.suppress(ValueError):
                        _demo_prediction(seed, index, count)
                    step("", len(todo))
            flushed = runtime.flush(120)
            otel_audit.shutdown()
            if not flushed:
                raise fail("timed out flushing records to the store")
        held = opened.query(query_sql("demo_summary"), {"prefix": prefix}).dicts()
    written = {model: 0 for model, _, _ in _DEMO_MODELS}
    for index in todo:
        written[_DEMO_MODELS[index % len(_DEMO_MODELS)][0]] += 1
    from otel_audit.answer.reports import render_rows

    rows = [
        [row["model"], written.get(row["model"], 0), row["predictions"], row["errors"], ", ".join(row["versions"])]
        for row in held
    ]
    columns = ["model", "written now", "in the demo store", "errors", "versions"]
    shown = shlex.quote(opened.dsn)
    typer.echo(f"demo store {opened.dsn}: wrote {len(todo)} predictions ({count - len(todo)} were there already)")
    typer.echo(render_rows(columns, rows, "table", width=terminal_width()), nl=False)
    query = (
        "SELECT ModelName, ModelVersion, count() AS n FROM audit_predictions "
        "GROUP BY ModelName, ModelVersion ORDER BY ModelName, ModelVersion"
    )
    typer.echo("next, try:")
    typer.echo(f"  otel-audit report model-usage --model fraud_detector --store {shown}")
    typer.echo(f"  otel-audit report compliance --model fraud_detector --store {shown} --out fraud_detector.html")
    typer.echo(f"  otel-audit query {shlex.quote(query)} --store {shown}")


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
    access_audit: Annotated[
        str | None,
        typer.Option(
            "--access-audit",
            help="on or off: whether every read of the store appends an audit.access event (default on; "
            "switching is itself recorded).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create or upgrade the store's schema and print its version (or print a cluster's DDL)."""
    from otel_audit.cli._common import dsn
    from otel_audit.store.schema import landing_days_from_env, validate_ttl_days

    with errors_as_exit():
        days = envvars.OTEL_AUDIT_TTL_DAYS.resolve(ttl_days)
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
        if access_audit not in (None, "on", "off"):
            raise typer.BadParameter("must be on or off", param_hint="--access-audit")
        store_ = open_store(dsn(store))
        typer.echo(f"schema version {apply_schema(store_, ttl_days=days, landing_days=landing_days)} at {store_.dsn}")
        from otel_audit.answer.access import ensure_subject_key, set_access_audit

        ensure_subject_key(store_)  # readers of a server (the auditor role) cannot make it
        if access_audit is not None:
            set_access_audit(store_, access_audit == "on")
            typer.echo(f"access audit {access_audit} (recorded as an access event)")


def _display(path: Path) -> str:
    """*path* relative to the working directory when it is below it (stable generated headers)."""
    try:
        return os.path.relpath(path.resolve(), Path.cwd()) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


def collector_config(
    rules: Annotated[
        Path | None,
        typer.Option(
            "--redaction-rules",
            help="Rule file (default $OTEL_AUDIT_REDACTION_RULES, else the shipped one).",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="production (ClickHouse), single-box (otel-audit serve), file-sink, or contrib-only "
            "(ClickHouse, for a stock contrib collector: weaker redaction, see docs/redaction.md).",
        ),
    ] = "production",
    collector_rules_path: Annotated[
        str | None,
        typer.Option(
            "--collector-rules-path",
            help="Where the collector reads the rule file (default: the absolute path of the rule file "
            "rendered; $OTEL_AUDIT_REDACTION_RULES overrides it when the collector starts).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path | None, out_option("Write the configuration to FILE (created 0600) instead of stdout.")] = None,
) -> None:
    """Render the collector configuration (receiver, redaction processor, exporter) from the rule file."""
    from otel_audit.redact.collector import PROFILES, render_yaml
    from otel_audit.redact.rules import RedactionRuleError, default_rules_path, load_rules

    if profile not in PROFILES:
        raise fail(f"--profile must be one of {', '.join(PROFILES)}")
    path = rules if rules is not None else default_rules_path()
    try:
        loaded = load_rules(path)
    except RedactionRuleError as error:
        raise fail(str(error), EXIT_USAGE) from None
    try:
        text = render_yaml(
            loaded,
            profile,  # checked against PROFILES above
            source=_display(path),
            rules_file=collector_rules_path or str(path.resolve()),
        )
    except ValueError as error:
        raise fail(f"--collector-rules-path: {error}", EXIT_USAGE) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    write_out(out, text)
    typer.echo(f"wrote {out} ({profile} profile, rules {_display(path)})", err=True)


def register(app: typer.Typer) -> None:
    """Add the record commands to *app*, under their help panel."""
    app.command("demo", rich_help_panel=PANEL_RECORD)(demo)
    app.command("schema", rich_help_panel=PANEL_RECORD)(schema)
    app.command("collector-config", rich_help_panel=PANEL_RECORD)(collector_config)
