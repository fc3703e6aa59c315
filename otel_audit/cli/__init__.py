"""``otel-audit``: the command line, one module per job.

=================  ==========================================================================
``record.py``      ``demo`` (its own demo store), ``schema``, ``collector-config``
``report.py``      ``report model-usage|data-access|version-at|version-timeline|outcomes|
                   redactions|request|reproduce|input|conflicts|compliance|access-log``,
                   ``query``
``evidence.py``    ``keygen``, ``seal``, ``verify``, ``prove``, ``verify-receipt``, ``evidence``,
                   ``verify-pack``, ``erase``
``operate.py``     ``serve``, ``status``, ``rollup``, ``archive``, ``restore``
``_options.py``    the options every command shares, each defined once (``--store``,
                   ``--format``, ``--out``, ``--since``/``--until``, ``--signing-key``,
                   ``--verifier-key``)
``_common.py``     store opening, one-line errors and exit codes, output, keys, progress
=================  ==========================================================================

``otel-audit --help`` groups the commands by job: record, report, evidence, operate. Every command
takes ``--store DSN`` (default ``OTEL_AUDIT_STORE`` or the default on-disk store; ``demo`` uses
its own), every output location is ``--out``, and every report ``--format table|json|csv|html``.
Errors are one line on stderr with a non-zero exit code, never a traceback. Long jobs (seal,
verify, archive, restore, evidence, rollup, demo) show a progress bar while stderr is a terminal.

Read-only commands (``report …``, ``query``, ``verify``, ``prove``, ``evidence``, ``archive``,
``status``) never create a store; writers (``demo``, ``schema``, ``seal``, ``erase``, ``rollup``,
``serve``, ``restore``) do.

Exit codes: 0 done (zero records included); 1 evidence does not verify (or ``status``: no server
runs); 2 usage, store or query error; 3 store open in another process; 4 a model the store has
never seen (the message lists the known models, closest first); 5 the DSN names no store.
"""

from __future__ import annotations

import logging
import os

import typer

from otel_audit.cli import evidence, operate, record, report

__all__ = ["app", "main"]

app = typer.Typer(
    help="Audit trail of ML predictions: record them, report on them, prove them, operate the store.",
    no_args_is_help=True,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    log_format: str | None = typer.Option(
        None,
        "--log-format",
        help="How otel-audit's own diagnostics are logged on stderr: console (key=value) or json "
        "(default $OTEL_AUDIT_LOG_FORMAT, else console).",
        show_default=False,
    ),
) -> None:
    """Set up otel-audit's diagnostics (warnings and errors; `serve` also logs its life cycle)."""
    from otel_audit.diagnostics import configure_logging
    from otel_audit.errors import ConfigError

    ctx.obj = {"log_format": log_format}  # serve re-configures at INFO in the same format
    try:
        configure_logging(log_format, level=logging.WARNING)
    except ConfigError as error:
        raise typer.BadParameter(str(error), param_hint="--log-format") from None


record.register(app)
report.register(app)
evidence.register(app)
operate.register(app)


def main() -> None:
    """Console-script entry point; what the commands create is readable by their user only."""
    os.umask(os.umask(0o077) | 0o077)
    app()
