"""Every read of the audit trail, audited: one ``audit.access`` event per command or request.

A report, ``query``, ``prove``, ``evidence`` or ``archive`` - run on a local store or through
``otel-audit serve`` - appends one log record with ``event_name`` :data:`~otel_audit.semconv.EVENT_ACCESS`
through the store's *write* session, into :data:`ACCESS_INBOX`, whose views keep a copy in
``otel_logs`` and type it into ``audit_events``, which the seal covers (migrations 120, 130). Only
the inbox types access events: one sent as a log record over OTLP stays a log. On a ClickHouse
server the auditor role may insert into that inbox and nowhere else (``clickhouse/roles.sql``).
It says:

* who read (:data:`~otel_audit.semconv.AUDIT_ACCESS_ACTOR`): the OS user running the command, or,
  through ``serve``, the name of the token the request carried (``query-token`` by default);
* what (:data:`~otel_audit.semconv.AUDIT_ACCESS_COMMAND`): the command (``report data-access``,
  ``query``, ``prove``…) or the endpoint (``/v1/query``);
* about whom (:data:`~otel_audit.semconv.AUDIT_ACCESS_SUBJECT`): the user id, request id, model or
  input hash asked about, as a keyed pseudonym (:func:`pseudonym`), and its kind
  (:data:`~otel_audit.semconv.AUDIT_ACCESS_SUBJECT_KIND`);
* the period asked for, the records returned, the outcome (``ok``, ``refused`` by the query
  sandbox, ``error``) and when.

The one hook is :func:`audited_read`, a context manager every reading command runs its read in;
``serve`` uses :class:`AccessSessions` (the same event writer) for its query door.

**Fail closed.** An access event that cannot be written is an error of the read: the command
prints nothing and exits non-zero (``serve`` answers an error). No read goes unaudited because the
audit write failed; a store whose writer may not insert cannot be read by these commands.

**Who can switch it off.** No option of a reading command can. The store's owner can, with
``otel-audit schema --access-audit off`` (a row in ``otel_audit_settings``), and doing so is itself
an access event (command ``access-audit off``); ``--access-audit on`` turns it back on.

**The pseudonym's key.** HMAC-SHA256 keyed with ``OTEL_AUDIT_REDACTION_SECRET`` when it is set,
else with a random per-store key made once, by the first audited read, and kept in
``otel_audit_settings`` (``access_subject_key``). The store's key keeps subjects out of access
events shipped elsewhere (archives, evidence, a SIEM); it does not hide them from someone who can
query the store itself, which holds the key; the redaction secret, kept out of the store, does.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from otel_audit import envvars, semconv
from otel_audit.errors import QueryError, StoreError
from otel_audit.periods import EPOCH, query_period, stated_bound, to_utc
from otel_audit.store.base import Store
from otel_audit.store.front_door import FrontDoorStore
from otel_audit.store.sandbox import QueryRefusedError
from otel_audit.store.sql import query_sql

__all__ = [
    "ACCESS_AUDIT_SETTING",
    "ACCESS_INBOX",
    "SETTINGS_TABLE",
    "SUBJECT_KEY_SETTING",
    "AccessAuditError",
    "AccessEvent",
    "AccessRead",
    "AccessSessions",
    "access_audit_enabled",
    "access_log",
    "accessed_by",
    "audited_read",
    "ensure_subject_key",
    "os_actor",
    "pseudonym",
    "records_in",
    "set_access_audit",
    "subject_key",
    "subject_pseudonym",
    "write_access_event",
]

SETTINGS_TABLE = "otel_audit_settings"
"""The store owner's settings (migration 110): appended rows, the newest one current."""
ACCESS_AUDIT_SETTING = "access_audit"
"""``on`` (the default) or ``off``: whether reads append access events."""
SUBJECT_KEY_SETTING = "access_subject_key"
"""The per-store pseudonym key (hex), made once; used when no redaction secret is set."""

ACCESS_INBOX = "audit_access_inbox"
"""Where access events are appended (migrations 120, 130): its views type them into
``audit_events`` and keep a copy in ``otel_logs`` as ``audit.access`` log records. A reader that
may not write ``otel_logs`` (a server's auditor role) may insert here, and a row here can only
become an access event."""
_INBOX_COLUMNS = ("Timestamp", "LogAttributes", "ScopeVersion")
_KEYS_LOCK = threading.Lock()
_ACCESS_LOG_LIMIT = 100_000


class AccessAuditError(StoreError):
    """The access event of a read could not be written: the read fails too (fail closed)."""


def os_actor() -> str:
    """The OS user running this process (its uid when it has no name)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid:{os.getuid()}"


def _setting(store: Store, name: str) -> tuple[str, str] | None:
    rows = store.query(query_sql("access_setting"), {"name": name}).rows
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def _set(store: Store, name: str, value: str, actor: str) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    try:
        store.insert_columns(SETTINGS_TABLE, [[name], [value], [now], [actor]], ["Name", "Value", "SetAt", "SetBy"])
    except (StoreError, QueryError) as error:
        raise AccessAuditError(f"cannot write setting {name} to the store: {error}") from None


def access_audit_enabled(store: Store) -> bool:
    """True unless the store's owner switched access events off (``schema --access-audit off``)."""
    value = _setting(store, ACCESS_AUDIT_SETTING)
    return value is None or value[0] != "off"


def subject_key(store: Store) -> bytes:
    """The pseudonym key: ``OTEL_AUDIT_REDACTION_SECRET``, else the store's own, made once here.

    Raises:
        AccessAuditError: the store has no key yet and this process cannot write one.
    """
    secret = envvars.OTEL_AUDIT_REDACTION_SECRET.resolve()
    if secret:
        return secret.encode()
    return bytes.fromhex(ensure_subject_key(store))


def ensure_subject_key(store: Store) -> str:
    """The store's own pseudonym key (hex), written first when the store has none.

    ``otel-audit schema`` calls it, so that on a ClickHouse server the schema owner makes the key
    and readers (the auditor role may not write settings) only read it.

    Raises:
        AccessAuditError: the store has no key yet and this process may not write one.
    """
    with _KEYS_LOCK:
        stored = _setting(store, SUBJECT_KEY_SETTING)
        if stored is None:
            try:
                _set(store, SUBJECT_KEY_SETTING, secrets.token_hex(32), os_actor())
            except AccessAuditError as error:
                raise AccessAuditError(
                    f"{error}. The store has no pseudonym key for access events yet: run `otel-audit "
                    "schema` as the schema owner (it makes one), or set OTEL_AUDIT_REDACTION_SECRET"
                ) from None
            stored = _setting(store, SUBJECT_KEY_SETTING)
        if stored is None:
            raise AccessAuditError("the store's pseudonym key was written but cannot be read back")
        return stored[1]  # the oldest: every writer agrees on it


def pseudonym(key: bytes, subject: str) -> str:
    """The keyed pseudonym of *subject*: lower-case hex HMAC-SHA256 (64 digits); ``""`` for none."""
    if not subject:
        return ""
    return hmac.new(key, subject.encode("utf-8"), hashlib.sha256).hexdigest()


def subject_pseudonym(store: Store, subject: str) -> str:
    """*subject*'s pseudonym under *store*'s key (:func:`subject_key`)."""
    return pseudonym(subject_key(store), subject) if subject else ""


@dataclass(frozen=True)
class AccessEvent:
    """One read of the audit trail, as :func:`write_access_event` stores it."""

    actor: str
    command: str
    subject: str = ""
    """The subject's pseudonym (never the subject itself); ``""`` when not one subject's."""
    subject_kind: str = ""
    period_start: str = ""
    period_end: str = ""
    records: int = 0
    outcome: str = semconv.ACCESS_OUTCOME_OK
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))

    def __post_init__(self) -> None:
        if self.outcome not in semconv.ACCESS_OUTCOMES:
            raise ValueError(f"outcome must be one of {semconv.ACCESS_OUTCOMES}, not {self.outcome!r}")

    def attributes(self) -> dict[str, str]:
        """The event's log attributes (values as stored: text)."""
        attributes = {
            semconv.LOG_RECORD_UID: uuid.uuid4().hex,
            semconv.AUDIT_ACCESS_ACTOR: self.actor,
            semconv.AUDIT_ACCESS_COMMAND: self.command,
            semconv.AUDIT_ACCESS_SUBJECT: self.subject,
            semconv.AUDIT_ACCESS_PERIOD_START: self.period_start,
            semconv.AUDIT_ACCESS_PERIOD_END: self.period_end,
            semconv.AUDIT_ACCESS_RECORDS: str(int(self.records)),
            semconv.AUDIT_ACCESS_OUTCOME: self.outcome,
            semconv.AUDIT_SCHEMA_VERSION: semconv.SCHEMA_VERSION,
        }
        if self.subject_kind:
            attributes[semconv.AUDIT_ACCESS_SUBJECT_KIND] = self.subject_kind
        return attributes


def write_access_event(store: Store, event: AccessEvent) -> None:
    """Append *event* to :data:`ACCESS_INBOX` on *store*'s write session (views move it into
    ``otel_logs`` and ``audit_events``).

    Raises:
        AccessAuditError: it could not be written (the read it records must fail too).
    """
    from otel_audit.version import __version__

    try:
        store.insert_columns(ACCESS_INBOX, [[event.at], [event.attributes()], [__version__]], _INBOX_COLUMNS)
    except (StoreError, QueryError) as error:
        raise AccessAuditError(
            f"the read was not audited, so it fails: cannot write its access event: {error}"
        ) from None


def _bound_text(value: Any) -> str:
    """A period bound as RFC 3339 UTC text; ``""`` when not given."""
    if value is None or value == "":
        return ""
    return to_utc(value, EPOCH).isoformat(timespec="microseconds") + "Z"


def records_in(report: Mapping[str, Any]) -> int:
    """How many records a report answers with: its ``found`` count, the predictions it lists or
    totals, else the rows of its lists."""
    for key in ("found",):
        if isinstance(report.get(key), int):
            return int(report[key])
    if report.get("report") == "data-access":
        return len(report.get("requests") or [])
    if isinstance(report.get("total_predictions"), int):
        return int(report["total_predictions"])
    return sum(len(value) for value in report.values() if isinstance(value, list))


class AccessRead:
    """The read in progress inside :func:`audited_read`: set :attr:`records` before it ends."""

    def __init__(self, store: Store, subject: str, audited: bool) -> None:
        self.store = store
        """The store to read through: the one given, or for a server's front door, one whose
        queries belong to this read's session (the server then writes no event per query)."""
        self.subject = subject
        """The subject's pseudonym (``""`` when the read is not about one subject)."""
        self.audited = audited
        """False when the store's owner switched access events off."""
        self.records = 0
        self.outcome = semconv.ACCESS_OUTCOME_OK


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return semconv.ACCESS_OUTCOME_OK
    if isinstance(error, QueryRefusedError):
        return semconv.ACCESS_OUTCOME_REFUSED
    return semconv.ACCESS_OUTCOME_ERROR


@contextmanager
def audited_read(
    store: Store,
    command: str,
    *,
    subject: str = "",
    subject_kind: str = "",
    since: Any = None,
    until: Any = None,
    actor: str | None = None,
) -> Iterator[AccessRead]:
    """Run one read of *store* as *command*; on leaving, append its one access event.

    Read through the yielded :class:`AccessRead`'s ``store`` and set its ``records``. The event is
    written whether the read succeeds (``ok``), is refused by the sandbox (``refused``) or fails
    (``error``); a failure to write it raises :class:`AccessAuditError` (fail closed), after the
    read's own error when there is one. On a server's front door the server writes the event, with
    the token's name as actor.

    Raises:
        AccessAuditError: the event could not be written.
    """
    if isinstance(store, FrontDoorStore):
        with _front_door_read(
            store, command=command, subject=subject, subject_kind=subject_kind, since=since, until=until, actor=actor
        ) as read:
            yield read
        return
    period = (_bound_text(since), _bound_text(until))
    audited = access_audit_enabled(store)
    read = AccessRead(store, subject_pseudonym(store, subject), audited)
    try:
        yield read
    except BaseException as error:
        if audited and isinstance(error, Exception):
            write_access_event(
                store, _event(read, actor=actor, command=command, subject_kind=subject_kind, period=period, error=error)
            )
        raise
    if audited:
        write_access_event(
            store, _event(read, actor=actor, command=command, subject_kind=subject_kind, period=period, error=None)
        )


def _event(
    read: AccessRead,
    *,
    actor: str | None,
    command: str,
    subject_kind: str,
    period: tuple[str, str],
    error: BaseException | None,
) -> AccessEvent:
    outcome = _outcome(error) if error is not None else read.outcome
    return AccessEvent(
        actor=actor or os_actor(),
        command=command,
        subject=read.subject,
        subject_kind=subject_kind if read.subject else "",
        period_start=period[0],
        period_end=period[1],
        records=read.records if outcome == semconv.ACCESS_OUTCOME_OK else 0,
        outcome=outcome,
    )


@contextmanager
def _front_door_read(
    door: FrontDoorStore,
    *,
    command: str,
    subject: str,
    subject_kind: str,
    since: Any,
    until: Any,
    actor: str | None,
) -> Iterator[AccessRead]:
    begin = {
        "begin": {
            "command": command,
            "subject": subject,
            "subject_kind": subject_kind,
            "since": _bound_text(since),
            "until": _bound_text(until),
            "client_user": actor or os_actor(),
        }
    }
    reply = door.request("/v1/access", begin)
    session = str(reply["session"])
    pseudonym = str(reply.get("subject") or "")
    read = AccessRead(door.in_access_session(session), pseudonym, bool(reply.get("audited", True)))
    error: BaseException | None = None
    try:
        yield read
    except Exception as failure:
        error = failure
        raise
    finally:
        outcome = _outcome(error) if error is not None else read.outcome
        end = {"end": {"session": session, "records": read.records, "outcome": outcome}}
        try:
            door.request("/v1/access", end)
        except (StoreError, QueryError) as failure:
            if error is None:
                raise AccessAuditError(f"the read was not audited, so it fails: {failure}") from None


# --- the server's side ------------------------------------------------------------------------


@dataclass
class _Session:
    actor: str
    command: str
    subject: str
    subject_kind: str
    period: tuple[str, str]
    audited: bool
    client_user: str
    rows: int = 0
    touched: float = field(default_factory=time.monotonic)


class AccessSessions:
    """``otel-audit serve``'s access events: one per plain ``/v1/query`` request, or one per
    session a client opened for a whole command (``POST /v1/access``).

    A session never ended (the client died) is written with the rows the server sent it when it
    has been idle for *idle_s*, and at the latest when the server stops.
    """

    def __init__(self, store: Store, *, idle_s: float = 3600.0) -> None:
        self.store = store
        self.idle_s = idle_s
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def enabled(self) -> bool:
        """Whether the store's owner leaves access events on."""
        return access_audit_enabled(self.store)

    def begin(self, actor: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Open a session for one command of *actor* (a token's name); return its id and the subject's pseudonym."""
        self.expire()
        subject = str(request.get("subject") or "")
        audited = self.enabled()
        session = _Session(
            actor=actor,
            command=str(request.get("command") or "query"),
            subject=subject_pseudonym(self.store, subject),
            subject_kind=str(request.get("subject_kind") or "") if subject else "",
            period=(str(request.get("since") or ""), str(request.get("until") or "")),
            audited=audited,
            client_user=str(request.get("client_user") or ""),
        )
        key = uuid.uuid4().hex
        with self._lock:
            self._sessions[key] = session
        return {"session": key, "subject": session.subject, "audited": audited}

    def known(self, key: str) -> bool:
        """True while session *key* is open."""
        with self._lock:
            return key in self._sessions

    def count(self, key: str, rows: int) -> None:
        """Add *rows* sent to session *key*."""
        with self._lock:
            session = self._sessions.get(key)
            if session is not None:
                session.rows += rows
                session.touched = time.monotonic()

    def end(self, request: Mapping[str, Any]) -> None:
        """Close a session and write its event.

        Raises:
            KeyError: no such session.
            AccessAuditError: the event could not be written.
        """
        with self._lock:
            session = self._sessions.pop(str(request["session"]))
        outcome = str(request.get("outcome") or semconv.ACCESS_OUTCOME_OK)
        records = int(request.get("records") or 0)
        self._write(session, records if outcome == semconv.ACCESS_OUTCOME_OK else 0, outcome)

    def plain(self, actor: str, rows: int, outcome: str) -> None:
        """Write the event of one ``/v1/query`` request outside any session."""
        if self.enabled():
            write_access_event(self.store, AccessEvent(actor=actor, command="/v1/query", records=rows, outcome=outcome))

    def expire(self, *, everything: bool = False) -> None:
        """Write the events of sessions idle for longer than ``idle_s`` (all of them with *everything*)."""
        now = time.monotonic()
        with self._lock:
            gone = [k for k, s in self._sessions.items() if everything or now - s.touched > self.idle_s]
            sessions = [self._sessions.pop(k) for k in gone]
        for session in sessions:
            self._write(session, session.rows, semconv.ACCESS_OUTCOME_OK)

    def _write(self, session: _Session, records: int, outcome: str) -> None:
        if not session.audited:
            return
        write_access_event(
            self.store,
            AccessEvent(
                actor=session.actor,
                command=session.command,
                subject=session.subject,
                subject_kind=session.subject_kind,
                period_start=session.period[0],
                period_end=session.period[1],
                records=records,
                outcome=outcome if outcome in semconv.ACCESS_OUTCOMES else semconv.ACCESS_OUTCOME_ERROR,
            ),
        )


# --- the owner's switch and the access log ----------------------------------------------------


def set_access_audit(store: Store, enabled: bool, *, actor: str | None = None) -> None:
    """Switch access events on or off for *store*: the owner's lever, recorded as an access event
    (``access-audit off`` / ``access-audit on``) either way, before the switch takes effect."""
    who = actor or os_actor()
    word = "on" if enabled else "off"
    write_access_event(store, AccessEvent(actor=who, command=f"access-audit {word}"))
    _set(store, ACCESS_AUDIT_SETTING, word, who)


def access_log(
    store: Store, *, subject: str = "", subject_token: str | None = None, since: Any = None, until: Any = None
) -> dict[str, Any]:
    """The ``access-log`` report: every read of the audit trail in ``[since, until)``.

    Args:
        subject: only reads about this subject (a user id, request id, model or input hash).
        subject_token: *subject*'s pseudonym when known already (:attr:`AccessRead.subject`).
    """
    token = subject_token if subject_token is not None else subject_pseudonym(store, subject)
    params = {"subject": token, **query_period(since, until), "limit": _ACCESS_LOG_LIMIT}
    events = store.query(query_sql("access_log"), params).dicts()
    times = [row["timestamp"] for row in events]
    report: dict[str, Any] = {
        "report": "access-log",
        "subject": subject or None,
        "subject_pseudonym": token or None,
        "since": stated_bound(since, min(times, default=None)),
        "until": stated_bound(until, max(times, default=None)),
        "reads": len(events),
        "events": events,
    }
    if not events:
        report["note"] = "no reads of the audit trail" + (" about this subject" if subject else "") + " in the period"
    return report


def accessed_by(store: Store, subject_token: str, *, related: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Earlier reads about the subject whose pseudonym is *subject_token*, or about one of the
    *related* subjects (for ``data-access``: the user's request ids, whose reads are reads of the
    user's records)."""
    if not subject_token:
        return []
    key = subject_key(store)
    subjects = [subject_token, *(pseudonym(key, subject) for subject in related if subject)]
    params = {"subjects": subjects, "limit": _ACCESS_LOG_LIMIT}
    return store.query(query_sql("access_about"), params).dicts()
