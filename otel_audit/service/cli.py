"""The ``otel-audit serve`` and ``otel-audit status`` commands (registered by :func:`register`)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from otel_audit import envvars
from otel_audit._cli_common import dsn, exit_code
from otel_audit.errors import OtelAuditError, StoreLockedError

__all__ = ["register"]


def _fail(error: OtelAuditError) -> typer.Exit:
    prefix = "otel-audit: " if isinstance(error, StoreLockedError) else "otel-audit: error: "
    typer.echo(prefix + str(error), err=True)
    return typer.Exit(exit_code(error))


def _env_path(name: str) -> Path | None:
    value = envvars.env_str(name)
    return Path(value) if value else None


def _query_token_path(option: str | None) -> Path | None:
    path = option or envvars.env_str(envvars.OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE)
    return Path(path) if path else None


def serve(  # noqa: PLR0917 - typer options are parameters
    store: Annotated[str | None, typer.Option("--store", help="Store DSN the server owns.", show_default=False)] = None,
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
    redact: Annotated[
        bool | None,
        typer.Option(
            "--redact/--no-redact",
            help="Redact personal data at intake with the rule file (default OTEL_AUDIT_REDACTION, else on).",
            show_default=False,
        ),
    ] = None,
    redaction_rules: Annotated[
        Path | None, typer.Option(help="Rule file (default OTEL_AUDIT_REDACTION_RULES or the packaged one).")
    ] = None,
    seal_key: Annotated[
        Path | None,
        typer.Option(help="Seal stored records on a schedule with this signing key (else OTEL_AUDIT_SEAL_KEY)."),
    ] = None,
    seal_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between scheduled seals.")] = 60.0,
    rollup_interval: Annotated[
        float, typer.Option(min=0, help="Seconds between builds of the report rollups (0 = off).")
    ] = 300.0,
) -> None:
    """Own the store: receive OTLP (HTTP + gRPC), spool durably, store, answer queries."""
    from otel_audit.service.server import ServeConfig, run
    from otel_audit.store.front_door import read_token
    from otel_audit.store.schema import DEFAULT_TTL_DAYS

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
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
            redact=redact if redact is not None else envvars.env_bool(envvars.OTEL_AUDIT_REDACTION, True),
            redaction_rules=redaction_rules,
            seal_key=seal_key or _env_path(envvars.OTEL_AUDIT_SEAL_KEY),
            seal_interval_s=seal_interval,
            rollup_interval_s=rollup_interval,
            seal_origin=envvars.env_str(envvars.OTEL_AUDIT_SEAL_ORIGIN),
            ttl_days=envvars.env_int(envvars.OTEL_AUDIT_TTL_DAYS, DEFAULT_TTL_DAYS, minimum=0),
            fault_injection=envvars.env_bool(envvars.OTEL_AUDIT_SERVE_FAULTS, False),
        )

        def ready(server: object) -> None:
            from otel_audit.service.server import AuditServer

            assert isinstance(server, AuditServer)
            grpc = f" grpc={config.host}:{server.grpc_port}" if server.grpc_port else ""
            sys.stderr.write(f"otel-audit serve: listening http://{config.host}:{server.http_port}{grpc}\n")
            sys.stderr.flush()

        code = run(config, ready=ready)
    except OtelAuditError as error:
        raise _fail(error) from None
    except OSError as error:
        typer.echo(f"otel-audit: error: cannot listen on {host}:{port}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def status(
    store: Annotated[str | None, typer.Option("--store", help="Store DSN.", show_default=False)] = None,
) -> None:
    """Show the counters of the `otel-audit serve` that owns the store (exit 1 if none runs)."""
    from otel_audit.store.connect import parse_dsn
    from otel_audit.store.embedded import MEMORY, require_store_folder
    from otel_audit.store.front_door import FrontDoorStore, front_door

    try:
        target = dsn(store)
        kind, location, database = parse_dsn(target)
        if kind == "chdb" and location != MEMORY:
            require_store_folder(target, location)  # a misspelt path says so, and is not created
        remote = front_door(target, kind, location, database) if kind == "chdb" and location != MEMORY else None
        if not isinstance(remote, FrontDoorStore):
            typer.echo(f"otel-audit: no otel-audit serve is running for {target}", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps(remote.status(), indent=2, sort_keys=True))
    except OtelAuditError as error:
        raise _fail(error) from None


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``status`` to the CLI *app*."""
    app.command()(serve)
    app.command()(status)
