"""``OTEL_AUDIT_*`` environment variables: the only module that reads ``os.environ``.

Precedence everywhere is: explicit argument > environment variable > default constant. A bad
environment value is logged and replaced by the default; a bad argument raises ``ConfigError``.
The standard ``OTEL_*`` variables (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_EXPORTER_OTLP_*``, ``OTEL_BLRP_*``) are honoured too; see ``docs/configuration.md``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = [
    "OTEL_AUDIT_BLOCK_TIMEOUT_MS",
    "OTEL_AUDIT_EXPORT_BATCH_SIZE",
    "OTEL_AUDIT_LANDING_DAYS",
    "OTEL_AUDIT_LOG_FORMAT",
    "OTEL_AUDIT_QUERY_MAX_MEMORY",
    "OTEL_AUDIT_QUERY_MAX_ROWS",
    "OTEL_AUDIT_QUERY_TIMEOUT_S",
    "OTEL_AUDIT_QUEUE_SIZE",
    "OTEL_AUDIT_REDACTION",
    "OTEL_AUDIT_REDACTION_RULES",
    "OTEL_AUDIT_REDACTION_SECRET",
    "OTEL_AUDIT_SCHEDULE_DELAY_MS",
    "OTEL_AUDIT_SEAL_KEY",
    "OTEL_AUDIT_SEAL_ORIGIN",
    "OTEL_AUDIT_SERVE_FAULTS",
    "OTEL_AUDIT_SERVE_QUERY_TOKEN",
    "OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE",
    "OTEL_AUDIT_SERVE_TOKEN",
    "OTEL_AUDIT_SERVE_TOKEN_FILE",
    "OTEL_AUDIT_SPANS",
    "OTEL_AUDIT_STORE",
    "OTEL_AUDIT_TTL_DAYS",
    "default_store_dsn",
    "env_bool",
    "env_int",
    "env_str",
]

_logger = logging.getLogger(__name__)

OTEL_AUDIT_STORE = "OTEL_AUDIT_STORE"
"""
.. envvar:: OTEL_AUDIT_STORE

DSN of the audit store: ``chdb:///abs/path`` (embedded, on disk), ``chdb://memory`` or
``http(s)://user:password@host:8123/database`` (ClickHouse server). ``none`` disables the store
(OTLP only). Default: ``chdb://$XDG_DATA_HOME/otel-audit/store`` (``~/.local/share/…``).
"""

OTEL_AUDIT_QUEUE_SIZE = "OTEL_AUDIT_QUEUE_SIZE"
"""
.. envvar:: OTEL_AUDIT_QUEUE_SIZE

Capacity of each in-process queue (predictions awaiting encoding, records awaiting export).
Default: ``16384``. When a queue is full the caller waits (see ``OTEL_AUDIT_BLOCK_TIMEOUT_MS``).
"""

OTEL_AUDIT_BLOCK_TIMEOUT_MS = "OTEL_AUDIT_BLOCK_TIMEOUT_MS"
"""
.. envvar:: OTEL_AUDIT_BLOCK_TIMEOUT_MS

How long a prediction may wait for room in a full queue before its record is dropped (counted,
logged, reported by ``otel_audit.stats()``). ``-1`` (default) waits as long as it takes: no
prediction goes unaudited, at the price of back-pressure on the caller.
"""

OTEL_AUDIT_EXPORT_BATCH_SIZE = "OTEL_AUDIT_EXPORT_BATCH_SIZE"
"""
.. envvar:: OTEL_AUDIT_EXPORT_BATCH_SIZE

Most records per export call (one INSERT). Default: ``OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`` or ``8192``.
"""

OTEL_AUDIT_SCHEDULE_DELAY_MS = "OTEL_AUDIT_SCHEDULE_DELAY_MS"
"""
.. envvar:: OTEL_AUDIT_SCHEDULE_DELAY_MS

Longest time a record waits for its batch to fill. Default: ``OTEL_BLRP_SCHEDULE_DELAY`` or ``1000``.
"""

OTEL_AUDIT_SPANS = "OTEL_AUDIT_SPANS"
"""
.. envvar:: OTEL_AUDIT_SPANS

``true`` (default) also writes prediction spans to ``otel_traces``; ``false`` keeps only the
log records (``otel_logs`` → ``audit_predictions``), which is all the reports need.
"""

OTEL_AUDIT_TTL_DAYS = "OTEL_AUDIT_TTL_DAYS"
"""
.. envvar:: OTEL_AUDIT_TTL_DAYS

Retention of audit rows in days, applied when the schema is created. Default ``365``; at least
``184`` (six months, EU AI Act Art. 19(1)/26(6)); ``0`` keeps rows forever.
"""

OTEL_AUDIT_LANDING_DAYS = "OTEL_AUDIT_LANDING_DAYS"
"""
.. envvar:: OTEL_AUDIT_LANDING_DAYS

Days a prediction log row stays in ``otel_logs`` (the exporter-compatible landing table) after
the view has copied it into ``audit_predictions``, the table of record; applied when the schema
is created. Default ``7``; ``0`` keeps it for the whole retention (the input then takes twice
the space). See docs/retention.md.
"""

OTEL_AUDIT_SEAL_KEY = "OTEL_AUDIT_SEAL_KEY"
"""
.. envvar:: OTEL_AUDIT_SEAL_KEY

Path of the Ed25519 signing key (written by ``otel-audit keygen``) that ``seal`` and
``evidence`` sign checkpoints and manifests with. No default: sealing needs a key.
"""

OTEL_AUDIT_SEAL_ORIGIN = "OTEL_AUDIT_SEAL_ORIGIN"
"""
.. envvar:: OTEL_AUDIT_SEAL_ORIGIN

Origin line of the signed checkpoints (names the log, e.g. ``audit.example.com/fraud``).
Default: ``otel-audit.local/<database>``.
"""


OTEL_AUDIT_REDACTION = "OTEL_AUDIT_REDACTION"
"""
.. envvar:: OTEL_AUDIT_REDACTION

``true`` redacts personal data in-process (``docs/redaction.md``) before any exporter sees a
record; ``false`` leaves it to a collector. Default: ``true`` when records are written to a
store directly, ``false`` when they only leave over OTLP (a collector redacts them there).
"""

OTEL_AUDIT_REDACTION_RULES = "OTEL_AUDIT_REDACTION_RULES"
"""
.. envvar:: OTEL_AUDIT_REDACTION_RULES

Path of the redaction rule file. Default: the packaged copy of ``collector-config/redaction.yaml``.
"""

OTEL_AUDIT_REDACTION_SECRET = "OTEL_AUDIT_REDACTION_SECRET"
"""
.. envvar:: OTEL_AUDIT_REDACTION_SECRET

Key of the HMAC-SHA256 behind pseudonym tokens (``[EMAIL:3f9a…]``). Required when a rule uses
``pseudonymize``; at least 16 bytes recommended. Keep it out of the audit store: whoever holds it
can test guesses against pseudonyms. Rotating it makes old and new pseudonyms unjoinable.
"""


# --- the query sandbox (issue 11) -----------------------------------------------------------
OTEL_AUDIT_QUERY_TIMEOUT_S = "OTEL_AUDIT_QUERY_TIMEOUT_S"
"""
.. envvar:: OTEL_AUDIT_QUERY_TIMEOUT_S

Seconds a caller-written query (``otel-audit query``, ``POST /v1/query``, reports read through
``serve``) may run before the engine stops it. Default: ``60``.
"""

OTEL_AUDIT_QUERY_MAX_ROWS = "OTEL_AUDIT_QUERY_MAX_ROWS"
"""
.. envvar:: OTEL_AUDIT_QUERY_MAX_ROWS

Most rows a caller-written query may return; a larger result is an error (add ``LIMIT`` or
aggregate; ``otel-audit archive`` exports whole periods). Default: ``1000000``.
"""

OTEL_AUDIT_QUERY_MAX_MEMORY = "OTEL_AUDIT_QUERY_MAX_MEMORY"
"""
.. envvar:: OTEL_AUDIT_QUERY_MAX_MEMORY

Bytes of memory one caller-written query may use. Default: ``4294967296`` (4 GiB).
"""


# --- otel-audit serve (issue 3) -------------------------------------------------------------
OTEL_AUDIT_SERVE_TOKEN = "OTEL_AUDIT_SERVE_TOKEN"
"""
.. envvar:: OTEL_AUDIT_SERVE_TOKEN

Ingest token of ``otel-audit serve``: the server requires ``Authorization: Bearer <token>`` on
its OTLP endpoints (``/v1/logs``, ``/v1/traces``, gRPC ``Export``), and OTLP senders present it.
It never grants queries (see ``OTEL_AUDIT_SERVE_QUERY_TOKEN``). Default: none, so loopback only.
"""

OTEL_AUDIT_SERVE_TOKEN_FILE = "OTEL_AUDIT_SERVE_TOKEN_FILE"
"""
.. envvar:: OTEL_AUDIT_SERVE_TOKEN_FILE

File holding the ingest token (takes precedence over ``OTEL_AUDIT_SERVE_TOKEN``).
"""

OTEL_AUDIT_SERVE_QUERY_TOKEN = "OTEL_AUDIT_SERVE_QUERY_TOKEN"
"""
.. envvar:: OTEL_AUDIT_SERVE_QUERY_TOKEN

Query token of ``otel-audit serve``: required on ``/v1/query`` and ``/status``; the CLI sends it
when it reads a store through the server. Default: the server makes a random one at start and
writes it, readable by the store's owner only, to ``otel-audit.query-token`` in the store
directory (else the spool directory), where the owner's CLI finds it.
"""

OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE = "OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE"
"""
.. envvar:: OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE

File holding the query token (takes precedence over ``OTEL_AUDIT_SERVE_QUERY_TOKEN``).
"""

OTEL_AUDIT_SERVE_FAULTS = "OTEL_AUDIT_SERVE_FAULTS"
"""
.. envvar:: OTEL_AUDIT_SERVE_FAULTS

``true`` enables ``POST /debug/fault`` on ``otel-audit serve`` (fault-injection tests only).
Default ``false``.
"""


# --- otel-audit's own diagnostics (issue 15) -------------------------------------------------
OTEL_AUDIT_LOG_FORMAT = "OTEL_AUDIT_LOG_FORMAT"
"""
.. envvar:: OTEL_AUDIT_LOG_FORMAT

How ``otel-audit serve`` and the CLI write their own log lines on stderr
(:func:`otel_audit.diagnostics.configure_logging`): ``console`` (default), one
``time [level] event key=value …`` line each, coloured on a terminal; or ``json``, one JSON object
per line (``event``, ``level``, ``logger``, ``timestamp`` and the event's fields) for a log
collector. Any other value is logged as a warning and ``console`` is used. An application that
audits its predictions keeps its own logging configuration: otel-audit never configures logging
in a process it does not own.
"""


def env_str(name: str) -> str | None:
    """Return the stripped value of *name*, or ``None`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return *name* as an int; log and fall back to *default* when it is not one."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        _logger.warning("%s=%r is not an integer; using %d", name, raw, default)
        return default
    if minimum is not None and value < minimum:
        _logger.warning("%s=%d is below %d; using %d", name, value, minimum, default)
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    """Return *name* as a bool (``true/false/1/0/yes/no``); log and default otherwise."""
    raw = env_str(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    _logger.warning("%s=%r is not a boolean; using %s", name, raw, default)
    return default


def default_store_dsn() -> str:
    """Return the DSN of the default on-disk store under the XDG data directory."""
    base = env_str("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return "chdb://" + str(Path(base) / "otel-audit" / "store")
