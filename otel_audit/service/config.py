"""``otel-audit serve``'s settings: one frozen :class:`ServeConfig`, checked when it is made.

The CLI (``otel-audit serve --help``) builds it from its options and the ``OTEL_AUDIT_SERVE_*``
environment; a contradiction (a non-loopback bind without an ingest token, a non-positive limit)
is a :class:`~otel_audit.errors.ConfigError` before anything listens or opens the store.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from otel_audit.errors import ConfigError
from otel_audit.store.connect import parse_dsn

__all__ = ["ServeConfig", "default_spool_dir", "is_loopback"]


@dataclass(frozen=True)
class ServeConfig:
    """Settings of one server; see ``otel-audit serve --help``."""

    store: str
    host: str = "127.0.0.1"
    port: int = 4318
    grpc_port: int | None = 4317
    token: str | None = None
    """Ingest token: required on the OTLP endpoints when set (and for a non-loopback bind)."""
    query_token: str | None = None
    """Query token: required on ``/v1/query`` and ``/status``; made at start when not given."""
    query_token_file: Path | None = None
    """The file *query_token* was read from, named in the serve file for the owner's CLI."""
    query_token_name: str = "query-token"
    """The query token's name: the actor of the access events of reads through this server."""
    spool_dir: Path | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    max_decoded_bytes: int = 64 * 1024 * 1024
    max_records: int = 100_000
    batch_records: int = 50_000
    max_spool_bytes: int = 512 * 1024 * 1024
    max_connections: int = 64
    socket_timeout_s: float = 30.0
    drain_timeout_s: float = 30.0
    ttl_days: int = 365
    fault_injection: bool = False
    map_workers: int = 0
    ingest_helper: str | None = None
    """``otel-audit-ingest`` to map logs batches with: a path, ``off``, or ``None`` (found on ``PATH``)."""
    redact: bool = True
    redaction_rules: Path | None = None
    seal_key: Path | None = None
    seal_interval_s: float = 60.0
    seal_origin: str | None = None
    rollup_interval_s: float = 300.0
    """Seconds between builds of the report rollups of closed periods; 0 = never."""

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"refusing to listen on {self.host} without a bearer token: "
                "set --token-file or OTEL_AUDIT_SERVE_TOKEN, or bind 127.0.0.1"
            )
        for name in (
            "max_body_bytes",
            "max_decoded_bytes",
            "max_records",
            "batch_records",
            "max_spool_bytes",
            "max_connections",
            "socket_timeout_s",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.seal_interval_s <= 0:
            raise ConfigError("seal_interval_s must be positive")
        if self.rollup_interval_s < 0:
            raise ConfigError("rollup_interval_s must be 0 (off) or positive")


def is_loopback(host: str) -> bool:
    """True if *host* is ``localhost`` or a loopback address (IPv4 or IPv6)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_spool_dir(dsn: str) -> Path:
    """The spool beside an on-disk chDB store: ``<store>.spool``."""
    kind, location, database = parse_dsn(dsn)
    if kind == "chdb" and location != ":memory:":
        return Path(location + ".spool") / database
    raise ConfigError("a spool directory is required for this store (--spool-dir)")
