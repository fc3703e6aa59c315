"""``otel-audit collector-config``: render the OpenTelemetry Collector config from the rule file.

The shipped ``collector-config/{production,single-box,file-sink}.yaml`` are this command's output
(a test keeps them equal to it). See ``docs/redaction.md``, "The collector".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from otel_audit._cli_common import write_out
from otel_audit.redact.collector import PROFILES, render_yaml
from otel_audit.redact.rules import RedactionRuleError, default_rules_path, load_rules

__all__ = ["collector_config", "register"]


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
            "--rules", help="Rule file (default: $OTEL_AUDIT_REDACTION_RULES or the shipped one).", show_default=False
        ),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="production (ClickHouse), single-box (otel-audit serve) or file-sink.")
    ] = "production",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.", show_default=False)] = None,
) -> None:
    """Render the collector configuration (receiver, redaction processors, exporter) from the rule file."""
    if profile not in PROFILES:
        typer.echo(f"otel-audit: error: --profile must be one of {', '.join(PROFILES)}", err=True)
        raise typer.Exit(2)
    path = rules if rules is not None else default_rules_path()
    try:
        loaded = load_rules(path)
    except RedactionRuleError as error:
        typer.echo(f"otel-audit: error: {error}", err=True)
        raise typer.Exit(2) from None
    text = render_yaml(loaded, profile, source=_display(path))
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text)
        typer.echo(f"wrote {out} ({profile} profile, rules {_display(path)})", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``collector-config`` command to *app*."""
    app.command("collector-config")(collector_config)
