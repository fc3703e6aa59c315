"""Every environment variable otel-audit reads: the only module that reads ``os.environ``.

Each variable is declared once, as a :class:`Setting`: its name, type, default, parser and
meaning. A :class:`Setting` *is* its name (a ``str``), so it goes wherever a variable's name
goes (messages, generated collector configs), and it resolves its value with the one
precedence rule of the whole project::

    explicit argument > environment variable > default

A malformed environment value is logged and replaced by the default (as the SDK does); a bad
explicit argument raises :class:`~otel_audit.errors.ConfigError`. Usage::

    size = envvars.OTEL_AUDIT_QUEUE_SIZE.resolve(queue_size)   # argument, else env, else 16384
    dsn = envvars.OTEL_AUDIT_STORE.resolve(store_option)

The standard variables otel-audit itself reads (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_BLRP_*``,
…) are declared here too, named by the SDK's constants. The table in ``docs/configuration.md`` is
:func:`markdown_table`'s output (``python docs/envvars_table.py --write`` rewrites it; a test
keeps the two equal).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from opentelemetry.sdk.environment_variables import (
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE as _SDK_BLRP_MAX_EXPORT_BATCH_SIZE,
)
from opentelemetry.sdk.environment_variables import (
    OTEL_BLRP_SCHEDULE_DELAY as _SDK_BLRP_SCHEDULE_DELAY,
)
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_ENDPOINT as _SDK_OTLP_ENDPOINT,
)
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_PROTOCOL as _SDK_OTLP_PROTOCOL,
)

from otel_audit.errors import ConfigError

__all__ = [
    "NO_STORE",
    "OTEL_AUDIT_ASGI_MAX_BODY_BYTES",
    "OTEL_AUDIT_ASGI_MODEL",
    "OTEL_AUDIT_ASGI_MODEL_VERSION",
    "OTEL_AUDIT_ASGI_ROUTES",
    "OTEL_AUDIT_ASGI_USER_HEADER",
    "OTEL_AUDIT_BATCH_MAX_ROWS",
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
    "OTEL_AUDIT_SERVE_INGEST_HELPER",
    "OTEL_AUDIT_SERVE_QUERY_TOKEN",
    "OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE",
    "OTEL_AUDIT_SERVE_TOKEN",
    "OTEL_AUDIT_SERVE_TOKEN_FILE",
    "OTEL_AUDIT_SPANS",
    "OTEL_AUDIT_STORE",
    "OTEL_AUDIT_TTL_DAYS",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "SETTINGS",
    "XDG_DATA_HOME",
    "Setting",
    "default_store_dsn",
    "markdown_table",
]

_logger = logging.getLogger(__name__)

T = TypeVar("T")

_UNSET: Any = object()


class Setting(str, Generic[T]):
    """One environment variable: the ``str`` is its name; it knows its type, default and meaning.

    Args:
        name: the variable's name.
        parse: turns the variable's (stripped, non-empty) text into a value; raises
            ``ValueError`` saying what is wrong with it.
        default: the value when neither an argument nor the variable gives one.
        doc: what it means, for ``docs/configuration.md``.
        kind: its type as the docs show it (``integer``, ``boolean``, ``path``…).
        check: validates a value from any source; raises ``ValueError`` saying what is wrong.
        fallback: another variable read when this one is unset (before *default*).
        default_from: computes the default when it depends on the machine (a path).
        shown_default: the default as the docs show it, when ``str(default)`` will not do.
        argument: what else sets it, for messages and docs (``configure(queue_size=)``).
        secret: never echo its value in a log line.
    """

    parse: Callable[[str], T]
    doc: str
    kind: str
    argument: str | None
    fallback: Setting[T] | None
    shown_default: str
    secret: bool
    _static_default: T
    _default_from: Callable[[], T] | None
    _check: Callable[[T], None] | None

    def __new__(
        cls,
        name: str,
        *,
        parse: Callable[[str], T],
        default: T,
        doc: str,
        kind: str,
        check: Callable[[T], None] | None = None,
        fallback: Setting[T] | None = None,
        default_from: Callable[[], T] | None = None,
        shown_default: str | None = None,
        argument: str | None = None,
        secret: bool = False,
    ) -> Setting[T]:
        self = super().__new__(cls, name)
        self.parse = parse
        self.doc = " ".join(doc.split())
        self.kind = kind
        self.argument = argument
        self.fallback = fallback
        self.secret = secret
        self._static_default = default
        self._default_from = default_from
        self._check = check
        self.shown_default = shown_default if shown_default is not None else _shown(default)
        return self

    @property
    def name(self) -> str:
        """The variable's name."""
        return str.__str__(self)

    @property
    def default(self) -> T:
        """The value when neither an argument nor the environment gives one."""
        return self._default_from() if self._default_from is not None else self._static_default

    def raw(self) -> str | None:
        """The variable's stripped text, or ``None`` when it is unset or empty."""
        value = os.environ.get(self.name, "").strip()
        return value or None

    def from_env(self) -> T | None:
        """The variable's value, or ``None`` when it is unset, empty or malformed (then logged)."""
        raw = self.raw()
        if raw is None:
            return None
        try:
            value = self.parse(raw)
            if self._check is not None:
                self._check(value)
        except ValueError as problem:
            if self.secret:  # the parser's message may quote the value
                _logger.warning("%s is not a valid value; using the default", self.name)
            else:
                _logger.warning("%s=%r %s; using the default (%s)", self.name, raw, problem, self.shown_default)
            return None
        return value

    def resolve(self, argument: T | None = None, *, default: T = _UNSET) -> T:
        """*argument* if given, else the environment (this variable, then its fallback), else the default.

        Args:
            argument: an explicit value (``None``: not given); checked like an environment value.
            default: overrides the declared default for this call (a default that depends on
                other settings, such as redaction being on only when writing to a store).

        Raises:
            ConfigError: *argument* is out of range.
        """
        if argument is not None:
            if self._check is not None:
                try:
                    self._check(argument)
                except ValueError as problem:
                    raise ConfigError(f"{self.argument_name} {problem}") from None
            return argument
        value = self.from_env()
        if value is None and self.fallback is not None:
            value = self.fallback.from_env()
        if value is not None:
            return value
        return self.default if default is _UNSET else default

    @property
    def argument_name(self) -> str:
        """The name a bad explicit value is reported under: the argument's, else the variable's."""
        if self.argument:
            first = self.argument.split(",")[0].strip()
            keyword = re.search(r"\((\w+)=", first)
            return keyword.group(1) if keyword else first
        return self.name

    def __repr__(self) -> str:
        return f"Setting({self.name!r})"

    def __reduce__(self) -> Any:  # pickled (a process pool) as its plain name
        return (str, (self.name,))


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ", ".join(map(str, value)) or "none"
    return str(value)


# --- parsers and checks ------------------------------------------------------------------------


def _integer(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("is not an integer") from None


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("is not a boolean (true/false, 1/0, yes/no, on/off)")


def _text(raw: str) -> str:
    return raw


def _optional_text(raw: str) -> str | None:
    return raw


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _at_least(minimum: float) -> Callable[[float], None]:
    def check(value: float) -> None:
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, not {value}")

    return check


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        lowered = raw.lower()
        if lowered not in choices:
            raise ValueError(f"is not one of {', '.join(choices)}")
        return lowered

    return parse


# --- variables of other standards that otel-audit reads ----------------------------------------

XDG_DATA_HOME: Setting[str | None] = Setting(
    "XDG_DATA_HOME",
    parse=_optional_text,
    default=None,
    kind="path",
    shown_default="~/.local/share",
    doc="Where the default on-disk store lives (``$XDG_DATA_HOME/otel-audit/store``).",
)

OTEL_EXPORTER_OTLP_ENDPOINT: Setting[str | None] = Setting(
    _SDK_OTLP_ENDPOINT,
    parse=_optional_text,
    default=None,
    kind="URL",
    argument="configure(otlp_endpoint=)",
    doc="""The OpenTelemetry SDK's variable: also send records over OTLP to this endpoint (the
    exporters read their own ``OTEL_EXPORTER_OTLP_*`` headers, TLS, compression and timeout). With
    it and no store named, no store is written.""",
)

OTEL_EXPORTER_OTLP_PROTOCOL: Setting[str] = Setting(
    _SDK_OTLP_PROTOCOL,
    parse=_text,
    default="http/protobuf",
    kind="string",
    argument="configure(otlp_protocol=)",
    doc="The OpenTelemetry SDK's variable: ``http/protobuf`` or ``grpc``; another value is a ``ConfigError``.",
)

OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: Setting[int] = Setting(
    _SDK_BLRP_MAX_EXPORT_BATCH_SIZE,
    parse=_integer,
    check=_at_least(1),
    default=8192,
    kind="integer",
    doc="""The OpenTelemetry SDK's variable, read when ``OTEL_AUDIT_EXPORT_BATCH_SIZE`` is unset;
    otel-audit's default is ``8192`` (one INSERT), not the SDK's ``512``.""",
)

OTEL_BLRP_SCHEDULE_DELAY: Setting[float] = Setting(
    _SDK_BLRP_SCHEDULE_DELAY,
    parse=_integer,
    check=_at_least(0),
    default=1000,
    kind="integer (ms)",
    doc="The OpenTelemetry SDK's variable, read when ``OTEL_AUDIT_SCHEDULE_DELAY_MS`` is unset.",
)

OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: Setting[bool] = Setting(
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    parse=_boolean,
    default=False,
    kind="boolean",
    doc="""The OpenTelemetry GenAI convention's variable: ``true`` stores prompt and completion text
    in the records of the OpenAI instrumentor; by default texts are replaced by their hash and
    length.""",
)


def default_store_dsn() -> str:
    """Return the DSN of the default on-disk store under the XDG data directory."""
    base = XDG_DATA_HOME.resolve() or str(Path.home() / ".local" / "share")
    return "chdb://" + str(Path(base) / "otel-audit" / "store")


# --- where records go ----------------------------------------------------------------------------

NO_STORE = "none"
"""The value of ``OTEL_AUDIT_STORE`` that means "no store" to ``configure()`` (OTLP only)."""

OTEL_AUDIT_STORE: Setting[str] = Setting(
    "OTEL_AUDIT_STORE",
    parse=_text,
    default="",
    default_from=default_store_dsn,
    kind="DSN",
    shown_default="``chdb://$XDG_DATA_HOME/otel-audit/store``, unless an OTLP endpoint is set",
    argument="configure(store=), --store",
    doc="""The audit store: ``chdb:///abs/path`` (embedded, on disk), ``chdb://memory`` or
    ``http(s)://user:password@host:8123/database`` (a ClickHouse server). ``none`` disables the
    store (OTLP only).""",
)

OTEL_AUDIT_SPANS: Setting[bool] = Setting(
    "OTEL_AUDIT_SPANS",
    parse=_boolean,
    default=True,
    kind="boolean",
    argument="configure(spans=)",
    doc="""``true`` also writes prediction spans (``otel_traces``); ``false`` keeps only the log
    records (``otel_logs`` → ``audit_predictions``), which is all the reports need.""",
)

OTEL_AUDIT_TTL_DAYS: Setting[int] = Setting(
    "OTEL_AUDIT_TTL_DAYS",
    parse=_integer,
    check=_at_least(0),
    default=365,
    kind="integer (days)",
    argument="configure(ttl_days=), otel-audit schema --ttl-days",
    doc="""Retention of audit rows, applied when the schema is created: at least ``184`` (six
    months, EU AI Act Art. 19(1)/26(6)); ``0`` keeps rows forever.""",
)

OTEL_AUDIT_LANDING_DAYS: Setting[int] = Setting(
    "OTEL_AUDIT_LANDING_DAYS",
    parse=_integer,
    check=_at_least(0),
    default=7,
    kind="integer (days)",
    argument="otel-audit schema --landing-days",
    doc="""Days a prediction row stays in ``otel_logs`` (the exporter-compatible landing table)
    after the view copied it into ``audit_predictions``; ``0`` keeps it for the whole retention
    (docs/retention.md).""",
)

# --- queueing ------------------------------------------------------------------------------------

OTEL_AUDIT_QUEUE_SIZE: Setting[int] = Setting(
    "OTEL_AUDIT_QUEUE_SIZE",
    parse=_integer,
    check=_at_least(1),
    default=16384,
    kind="integer",
    argument="configure(queue_size=)",
    doc="""Capacity of each in-process queue (predictions awaiting encoding, records awaiting
    export). A full queue makes the caller wait (``OTEL_AUDIT_BLOCK_TIMEOUT_MS``).""",
)

OTEL_AUDIT_BLOCK_TIMEOUT_MS: Setting[float] = Setting(
    "OTEL_AUDIT_BLOCK_TIMEOUT_MS",
    parse=_integer,
    default=-1,
    kind="integer (ms)",
    argument="configure(block_timeout_ms=)",
    doc="""How long a prediction may wait for room in a full queue before its record is dropped
    (counted, logged, in ``otel_audit.stats()``). A negative value (``-1``) waits as long as it
    takes: no prediction goes unaudited, at the price of back-pressure on the caller.""",
)

OTEL_AUDIT_EXPORT_BATCH_SIZE: Setting[int] = Setting(
    "OTEL_AUDIT_EXPORT_BATCH_SIZE",
    parse=_integer,
    check=_at_least(1),
    default=OTEL_BLRP_MAX_EXPORT_BATCH_SIZE.default,
    fallback=OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
    kind="integer",
    shown_default="``OTEL_BLRP_MAX_EXPORT_BATCH_SIZE``, else ``8192``",
    argument="configure(export_batch_size=)",
    doc='Most records per export call (one INSERT). ``0`` is an error, not "the default".',
)

OTEL_AUDIT_SCHEDULE_DELAY_MS: Setting[float] = Setting(
    "OTEL_AUDIT_SCHEDULE_DELAY_MS",
    parse=_integer,
    check=_at_least(0),
    default=OTEL_BLRP_SCHEDULE_DELAY.default,
    fallback=OTEL_BLRP_SCHEDULE_DELAY,
    kind="integer (ms)",
    shown_default="``OTEL_BLRP_SCHEDULE_DELAY``, else ``1000``",
    argument="configure(schedule_delay_ms=)",
    doc="Longest time a record waits for its batch to fill.",
)

# --- redaction -----------------------------------------------------------------------------------

OTEL_AUDIT_REDACTION: Setting[bool] = Setting(
    "OTEL_AUDIT_REDACTION",
    parse=_boolean,
    default=True,
    kind="boolean",
    shown_default="``true`` when writing to a store directly (and in ``serve``), ``false`` for OTLP only",
    argument="configure(redact=), otel-audit serve --redact",
    doc="""``true`` redacts personal data in-process (docs/redaction.md) before any exporter sees
    a record; ``false`` leaves it to a collector.""",
)

OTEL_AUDIT_REDACTION_RULES: Setting[str | None] = Setting(
    "OTEL_AUDIT_REDACTION_RULES",
    parse=_optional_text,
    default=None,
    kind="path",
    shown_default="the packaged copy of ``collector-config/redaction.yaml``",
    argument="configure(redact=PATH), otel-audit serve --redaction-rules",
    doc="The redaction rule file.",
)

OTEL_AUDIT_REDACTION_SECRET: Setting[str | None] = Setting(
    "OTEL_AUDIT_REDACTION_SECRET",
    parse=_optional_text,
    default=None,
    kind="secret",
    secret=True,
    doc="""Key of the HMAC-SHA256 behind pseudonym tokens (``[EMAIL:3f9a…]``); required when a rule
    uses ``pseudonymize``, at least 16 bytes recommended. Keep it out of the audit store: whoever
    holds it can test guesses against pseudonyms. Rotating it makes old and new pseudonyms
    unjoinable.""",
)

# --- sealing -------------------------------------------------------------------------------------

OTEL_AUDIT_SEAL_KEY: Setting[str | None] = Setting(
    "OTEL_AUDIT_SEAL_KEY",
    parse=_optional_text,
    default=None,
    kind="path",
    argument="--signing-key",
    doc="""The Ed25519 signing key (written by ``otel-audit keygen``) that ``seal`` and
    ``evidence`` sign checkpoints and manifests with. No default: sealing needs a key.""",
)

OTEL_AUDIT_SEAL_ORIGIN: Setting[str | None] = Setting(
    "OTEL_AUDIT_SEAL_ORIGIN",
    parse=_optional_text,
    default=None,
    kind="string",
    shown_default="``otel-audit.local/<database>``",
    argument="otel-audit seal --origin",
    doc="Origin line of the signed checkpoints: names the log (``audit.example.com/fraud``).",
)

# --- the query sandbox -------------------------------------------------------------------------

OTEL_AUDIT_QUERY_TIMEOUT_S: Setting[int] = Setting(
    "OTEL_AUDIT_QUERY_TIMEOUT_S",
    parse=_integer,
    check=_at_least(1),
    default=60,
    kind="integer (s)",
    doc="""Seconds a caller-written query (``otel-audit query``, ``POST /v1/query``, reports read
    through ``serve``) may run before the engine stops it.""",
)

OTEL_AUDIT_QUERY_MAX_ROWS: Setting[int] = Setting(
    "OTEL_AUDIT_QUERY_MAX_ROWS",
    parse=_integer,
    check=_at_least(1),
    default=1_000_000,
    kind="integer",
    doc="""Most rows a caller-written query may return; a larger result is an error (add
    ``LIMIT`` or aggregate; ``otel-audit archive`` exports whole periods).""",
)

OTEL_AUDIT_QUERY_MAX_MEMORY: Setting[int] = Setting(
    "OTEL_AUDIT_QUERY_MAX_MEMORY",
    parse=_integer,
    check=_at_least(1),
    default=4 * 1024**3,
    kind="integer (bytes)",
    shown_default="4294967296 (4 GiB)",
    doc="Bytes of memory one caller-written query may use.",
)

# --- otel-audit serve ----------------------------------------------------------------------------

OTEL_AUDIT_SERVE_TOKEN: Setting[str | None] = Setting(
    "OTEL_AUDIT_SERVE_TOKEN",
    parse=_optional_text,
    default=None,
    kind="secret",
    secret=True,
    shown_default="none (loopback only)",
    doc="""Ingest token of ``otel-audit serve``: the server requires ``Authorization: Bearer
    <token>`` on its OTLP endpoints (``/v1/logs``, ``/v1/traces``, gRPC ``Export``), and OTLP
    senders present it. It never grants queries (see ``OTEL_AUDIT_SERVE_QUERY_TOKEN``).""",
)

OTEL_AUDIT_SERVE_TOKEN_FILE: Setting[str | None] = Setting(
    "OTEL_AUDIT_SERVE_TOKEN_FILE",
    parse=_optional_text,
    default=None,
    kind="path",
    argument="otel-audit serve --token-file",
    doc="File holding the ingest token (takes precedence over ``OTEL_AUDIT_SERVE_TOKEN``).",
)

OTEL_AUDIT_SERVE_QUERY_TOKEN: Setting[str | None] = Setting(
    "OTEL_AUDIT_SERVE_QUERY_TOKEN",
    parse=_optional_text,
    default=None,
    kind="secret",
    secret=True,
    shown_default="made at start, in ``otel-audit.query-token``",
    doc="""Query token of ``otel-audit serve``: required on ``/v1/query`` and ``/status``; the CLI
    sends it when it reads a store through the server. By default the server makes a random one at
    start and writes it, readable by the store's owner only, to ``otel-audit.query-token`` in the
    store directory (else the spool directory), where the owner's CLI finds it.""",
)

OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE: Setting[str | None] = Setting(
    "OTEL_AUDIT_SERVE_QUERY_TOKEN_FILE",
    parse=_optional_text,
    default=None,
    kind="path",
    argument="otel-audit serve --query-token-file",
    doc="File holding the query token (takes precedence over ``OTEL_AUDIT_SERVE_QUERY_TOKEN``).",
)

OTEL_AUDIT_SERVE_INGEST_HELPER: Setting[str | None] = Setting(
    "OTEL_AUDIT_SERVE_INGEST_HELPER",
    parse=_optional_text,
    default=None,
    kind="path",
    argument="otel-audit serve --ingest-helper",
    shown_default="``otel-audit-ingest`` on ``PATH``, else none",
    doc="""The ``otel-audit-ingest`` binary (``make ingest-helper``) that maps logs batches to rows in
    its own process while ``otel-audit serve`` inserts the previous batch, or ``off``. The rows are
    the ones Python maps; a batch the helper refuses is mapped in Python.""",
)

OTEL_AUDIT_SERVE_FAULTS: Setting[bool] = Setting(
    "OTEL_AUDIT_SERVE_FAULTS",
    parse=_boolean,
    default=False,
    kind="boolean",
    doc="``true`` enables ``POST /debug/fault`` on ``otel-audit serve`` (fault-injection tests only).",
)

# --- otel-audit's own log lines ------------------------------------------------------------------

OTEL_AUDIT_LOG_FORMAT: Setting[str] = Setting(
    "OTEL_AUDIT_LOG_FORMAT",
    parse=_choice("console", "json"),
    default="console",
    kind="``console`` or ``json``",
    argument="otel-audit --log-format",
    doc="""How ``otel-audit serve`` and the CLI write their own log lines on stderr: ``console``,
    one ``time [level] event key=value …`` line each, coloured on a terminal; or ``json``, one JSON
    object per line for a log collector. Another value is named in a warning and ``console`` is
    used. An application that audits its predictions keeps its own logging configuration.""",
)

# --- instrumentation -----------------------------------------------------------------------------

OTEL_AUDIT_BATCH_MAX_ROWS: Setting[int] = Setting(
    "OTEL_AUDIT_BATCH_MAX_ROWS",
    parse=_integer,
    check=_at_least(0),
    default=1000,
    kind="integer",
    doc="""Most rows of one instrumented batch call whose input hash and output are kept in
    ``audit.batch.input_hashes`` and ``audit.batch.outputs`` (``audit.batch.truncated`` is set
    beyond it); ``0`` keeps none. Read when an instrumentor is instrumented.""",
)

OTEL_AUDIT_ASGI_ROUTES: Setting[tuple[str, ...]] = Setting(
    "OTEL_AUDIT_ASGI_ROUTES",
    parse=_names,
    default=(),
    kind="comma-separated paths",
    shown_default="every route",
    argument="AuditMiddleware(routes=)",
    doc="The routes the ASGI middleware audits (``/predict``, or a prefix ``/v1/*``).",
)

OTEL_AUDIT_ASGI_MODEL: Setting[str | None] = Setting(
    "OTEL_AUDIT_ASGI_MODEL",
    parse=_optional_text,
    default=None,
    kind="string",
    shown_default="the request path",
    argument="AuditMiddleware(model=)",
    doc="The model name recorded for an audited HTTP exchange.",
)

OTEL_AUDIT_ASGI_MODEL_VERSION: Setting[str] = Setting(
    "OTEL_AUDIT_ASGI_MODEL_VERSION",
    parse=_text,
    default="unversioned",
    kind="string",
    argument="AuditMiddleware(version=)",
    doc="The model version recorded for an audited HTTP exchange.",
)

OTEL_AUDIT_ASGI_USER_HEADER: Setting[str] = Setting(
    "OTEL_AUDIT_ASGI_USER_HEADER",
    parse=_text,
    default="x-user-id",
    kind="string",
    argument="AuditMiddleware(user_id_header=)",
    doc="The request header naming the user, when no authenticated user is known.",
)

OTEL_AUDIT_ASGI_MAX_BODY_BYTES: Setting[int] = Setting(
    "OTEL_AUDIT_ASGI_MAX_BODY_BYTES",
    parse=_integer,
    check=_at_least(0),
    default=1 << 20,
    kind="integer (bytes)",
    shown_default="1048576 (1 MiB)",
    argument="AuditMiddleware(max_body_bytes=)",
    doc="""Largest request or response body recorded whole; a larger one is recorded as its size
    and SHA-256.""",
)


_OWN: tuple[Setting[Any], ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Setting) and value.startswith("OTEL_AUDIT_")
)
SETTINGS: tuple[Setting[Any], ...] = (
    *_OWN,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BLRP_SCHEDULE_DELAY,
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    XDG_DATA_HOME,
)
"""Every variable otel-audit reads: its own (``OTEL_AUDIT_*``) first, in declaration order."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("``", "`")


def markdown_table(settings: Sequence[Setting[Any]] = SETTINGS) -> str:
    """The Markdown table of *settings* (variable, type, default, what else sets it, meaning)."""
    lines = ["| variable | type | default | also set by | meaning |", "|---|---|---|---|---|"]
    for setting in settings:
        default = setting.shown_default
        shown = _cell(default) if "`" in default else f"`{_cell(default)}`"
        also = ", ".join(f"`{part.strip()}`" for part in setting.argument.split(",")) if setting.argument else "—"
        lines.append(f"| `{setting.name}` | {_cell(setting.kind)} | {shown} | {_cell(also)} | {_cell(setting.doc)} |")
    return "\n".join(lines) + "\n"
