"""Commands that run and keep a store: ``serve``, ``status``, ``rollup``, ``archive``, ``restore``.

``serve`` logs its start (where it listens), its drain (what is still spooled) and its stop
(records accepted, stored, rejected and dropped) on stderr, through :mod:`otel_audit.diagnostics`.
``archive --before DATE --out DIR`` (signed with ``--signing-key``, else ``$OTEL_AUDIT_SEAL_KEY``,
or ``--unsigned``) and ``restore DIR --verifier-key PUB --out DATABASE`` (or
``--accept-unverified``) move whole months to and from Parquet (:mod:`otel_audit.store.archive`);
``restore`` exits with 1 when the archive does not verify, like ``verify-pack``. ``archive``,
``restore`` and ``rollup`` show a progress bar on a terminal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from otel_audit import envvars
from otel_audit.cli._common import (
    EXIT_NOT_VERIFIED,
    dsn,
    errors_as_exit,
    fail,
    load_signing_key,
    load_verifier_key,
    open_cli_store,
    progress,
    reading,
)
from otel_audit.cli._options import (
    PANEL_OPERATE,
    SigningKeyOption,
    SinceOption,
    StoreOption,
    out_option,
    signing_key_option,
    verifier_key_option,
)
from otel_audit.errors import ConfigError
from otel_audit.store.connect import open_store

__all__ = ["register"]


def _env_path(setting: envvars.Setting[str | None]) -> Path | None:
    value = setting.resolve()
    return Path(value) if value else None


def _query_token_path(option: str | None) -> Path | None:
    path = envvars.OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE.resolve(option or None)
    return Path(path) if path else None


def serve(
    ctx: typer.Context,
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (non-loopback needs a token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="OTLP/HTTP and query port (0 = any free port).")] = 4318,
    grpc_port: Annotated[int, typer.Option(help="OTLP/gRPC port (0 = any free port, -1 = off).")] = 4317,
    token_file: Annotated[
        str | None,
        typer.Option(help="File with the ingest token for OTLP senders (else OTEL_AUDIT_SERVE_TOKEN[_FILE])."),
    ] = None,
    query_token_file: Annotated[
        str | None,
        typer.Option(
            help="File with the query token (else OTEL_AUDIT_SERVE_QUERY_TOKEN[_FILE]; else one is made "
            "and written to otel-audit.query-token in the store directory)."
        ),
    ] = None,
    spool_dir: Annotated[
        Path | None, typer.Option(help="Write-ahead spool directory (default: beside the store).")
    ] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body, in MiB.")] = 16.0,
    max_records: Annotated[int, typer.Option(min=1, help="Most records per request.")] = 100_000,
    max_connections: Annotated[
        int, typer.Option(min=1, help="Most HTTP connections served at once (the next get 503).")
    ] = 64,
    socket_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds an HTTP connection may sit idle or stall before it is closed.")
    ] = 30.0,
    drain_timeout: Annotated[float, typer.Option(help="Seconds to flush the spool on shutdown.")] = 30.0,
    map_workers: Annotated[
        int, typer.Option(min=0, help="Processes mapping OTLP to columns beside the inserts (0 = in the writer).")
    ] = 0,
    ingest_helper: Annotated[
        str | None,
        typer.Option(
            help="otel-audit-ingest binary that maps logs batches in its own process (`make ingest-helper`), "
            "or `off` (default $OTEL_AUDIT_SERVE_INGEST_HELPER, else otel-audit-ingest on PATH, else "
            "mapped in Python; the rows are the same).",
            show_default=False,
        ),
    ] = None,
    redact: Annotated[
        bool | None,
        typer.Option(
            "--redact/--no-redact",
            help="Redact personal data at intake with the rule file (default OTEL_AUDIT_REDACTION, else on).",
            show_default=False,
        ),
    ] = None,
    redaction_rules: Annotated[
        Path | None,
        typer.Option(
            "--redaction-rules",
            help="Rule file (default $OTEL_AUDIT_REDACTION_RULES, else the shipped one).",
            show_default=False,
        ),
    ] = None,
    signing_key: Annotated[
        Path | None,
        signing_key_option(
            "Seal stored records on a schedule with this signing key NAME.key (else $OTEL_AUDIT_SEAL_KEY)."
        ),
    ] = None,
    seal_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between scheduled seals.")] = 60.0,
    rollup_interval: Annotated[
        float, typer.Option(min=0, help="Seconds between builds of the report rollups (0 = off).")
    ] = 300.0,
) -> None:
    """Own the store: receive OTLP (HTTP + gRPC), spool durably, store, answer queries."""
    from otel_audit.diagnostics import configure_logging
    from otel_audit.service.server import ServeConfig, run
    from otel_audit.store.front_door import read_token

    with errors_as_exit():
        # serve logs its start, drain and stop, with counts (otel_audit.service.server)
        configure_logging((ctx.obj or {}).get("log_format"))
        key = signing_key or _env_path(envvars.OTEL_AUDIT_SEAL_KEY)
        if key is not None:
            load_signing_key(key)  # the wrong kind of key is named now, not at the first seal
        config = ServeConfig(
            store=dsn(store),
            host=host,
            port=port,
            grpc_port=None if grpc_port < 0 else grpc_port,
            token=read_token(token_file),
            query_token=read_token(query_token_file, kind="query"),
            query_token_file=_query_token_path(query_token_file),
            spool_dir=spool_dir,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            max_records=max_records,
            max_connections=max_connections,
            socket_timeout_s=socket_timeout,
            drain_timeout_s=drain_timeout,
            map_workers=map_workers,
            ingest_helper=envvars.OTEL_AUDIT_SERVE_INGEST_HELPER.resolve(ingest_helper),
            redact=envvars.OTEL_AUDIT_REDACTION.resolve(redact),
            redaction_rules=redaction_rules,
            seal_key=key,
            seal_interval_s=seal_interval,
            rollup_interval_s=rollup_interval,
            seal_origin=envvars.OTEL_AUDIT_SEAL_ORIGIN.resolve(),
            ttl_days=envvars.OTEL_AUDIT_TTL_DAYS.resolve(),
            fault_injection=envvars.OTEL_AUDIT_SERVE_FAULTS.resolve(),
        )
        try:
            code = run(config)
        except OSError as error:
            raise fail(f"cannot listen on {host}:{port}: {error.strerror}") from None
    raise typer.Exit(code)


def status(store: StoreOption = None) -> None:
    """Show the counters of the `otel-audit serve` that owns the store (exit 1 if none runs)."""
    from otel_audit.store.connect import parse_dsn
    from otel_audit.store.embedded import MEMORY, require_store_folder
    from otel_audit.store.front_door import FrontDoorStore, front_door

    with errors_as_exit():
        target = dsn(store)
        kind, location, database = parse_dsn(target)
        if kind == "chdb" and location != MEMORY:
            require_store_folder(target, location)  # a misspelt path says so, and is not created
        remote = front_door(target, kind, location, database) if kind == "chdb" and location != MEMORY else None
        if not isinstance(remote, FrontDoorStore):
            typer.echo(f"otel-audit: no otel-audit serve is running for {target}", err=True)
            raise typer.Exit(EXIT_NOT_VERIFIED)
        typer.echo(json.dumps(remote.status(), indent=2, sort_keys=True))


def rollup(
    since: SinceOption = None,
    rebuild: Annotated[
        bool, typer.Option(help="Build current periods again too (after an ATTACH PARTITION, say).")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Build the report rollups of closed hours and days that are new or changed (docs/reports.md)."""
    from otel_audit.answer.rollups import build_rollups

    with errors_as_exit(), progress("rolling up") as step:
        result = build_rollups(open_cli_store(store, create=True), since=since, rebuild=rebuild, progress=step)
    hours, days = result.periods["usage_hourly"], result.periods["user_daily"]
    rows, seconds = result.source_rows["usage_hourly"], result.seconds
    typer.echo(f"built {hours} hour(s) and {days} day(s) of rollups over {rows} stored rows in {seconds:.1f} s")


def archive(
    before: Annotated[str, typer.Option(help="Archive the whole months before this date's month (YYYY-MM-DD).")],
    out: Annotated[Path, out_option("New folder for the Parquet files and manifest.json.")],
    signing_key: SigningKeyOption = None,
    unsigned: Annotated[
        bool, typer.Option("--unsigned", help="Write an archive nobody vouches for (restore --accept-unverified).")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Write whole months of audit rows and the seal to Parquet, with a manifest signed by the seal's key."""
    from otel_audit.store.archive import TABLES, archive_months

    with errors_as_exit():
        if unsigned and signing_key is not None:
            raise ConfigError("--unsigned and --signing-key exclude each other")
        signer = None if unsigned else load_signing_key(signing_key)
        with reading(store, "archive", until=before) as read, progress("archiving") as step:
            files = archive_months(read.store, before, out, signer=signer, progress=step)
            read.records = sum(f.rows for f in files if f.table in TABLES)
    rows = {table: sum(f.rows for f in files if f.table == table) for table in TABLES}
    months = sorted({f.month for f in files if f.table in TABLES})
    how = f"signed by {signer.verifier.name}" if signer else "UNSIGNED: restore will need --accept-unverified"
    typer.echo(f"archived {len(months)} month(s) {', '.join(months)} to {out}: {rows}; {how}", err=True)


def restore(
    directory: Annotated[Path, typer.Argument(metavar="FOLDER", help="Folder written by `otel-audit archive`.")],
    out: Annotated[str, out_option("New, empty database of the store to restore into.")] = "otel_audit_restored",
    verifier_key: Annotated[
        str | None, verifier_key_option("Verifier key (NAME.pub file or its text) of the seal key that signed it.")
    ] = None,
    accept_unverified: Annotated[
        bool,
        typer.Option("--accept-unverified", help="Restore with no signature checked (unsigned, or no --verifier-key)."),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Verify an archive (signature, files, then its rows against the seal) and load it into a new database."""
    from otel_audit.seal import SealError
    from otel_audit.store.archive import restore_archive

    target = dsn(store).partition("?")[0] + f"?database={out}"
    with errors_as_exit():
        verifier = load_verifier_key(verifier_key) if verifier_key else None
        try:
            with progress("restoring") as step:
                checked = restore_archive(
                    open_store(target), directory, verifier=verifier, accept_unverified=accept_unverified, progress=step
                )
        except SealError as error:
            typer.echo(f"otel-audit: archive does NOT verify: {error}", err=True)
            raise typer.Exit(EXIT_NOT_VERIFIED) from None
    typer.echo(f"restored {checked.rows} rows from {len(checked.files)} file(s) into {target}", err=True)
    vouched = "signature checked" if checked.signed else "UNSIGNED archive"
    if checked.sealed_records is not None:
        typer.echo(f"{vouched}; {checked.sealed_records} restored records verify against the archived seal", err=True)
    elif checked.signed:
        typer.echo(f"{vouched}; the archive carries no seal to check its rows against", err=True)
    else:
        typer.echo("otel-audit: warning: UNVERIFIED: nobody vouches for the restored rows", err=True)


def register(app: typer.Typer) -> None:
    """Add the operate commands to *app*, under their help panel."""
    for command in (serve, status, rollup, archive, restore):
        app.command(command.__name__, rich_help_panel=PANEL_OPERATE)(command)
