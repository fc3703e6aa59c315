"""Create and version the store's schema from ``clickhouse/schema/*.sql``.

Each file is one migration, applied once, in order, and recorded with its checksum in
``otel_audit_schema_migrations``. A migration never changes once released: a store whose applied
migration has another checksum than this otel-audit's file is refused (:class:`SchemaError`),
because the store would silently lack what the file says; a change is a new migration. Every
statement is ``CREATE … IF NOT EXISTS``, ``ALTER TABLE … ADD COLUMN IF NOT EXISTS``,
``DROP VIEW IF EXISTS``, a TTL rule added only where it is missing (085), or a data migration
whose repetition is harmless (085 counts only rows not yet counted), so applying the schema
twice, or from two processes, is harmless.
"""

from __future__ import annotations

import hashlib
import logging
import re

from otel_audit import envvars
from otel_audit.errors import ConfigError, SchemaError
from otel_audit.store.base import MIGRATIONS_TABLE, redact_dsn
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql, render, schema_files, split_statements

__all__ = [
    "DEFAULT_LANDING_DAYS",
    "DEFAULT_TTL_DAYS",
    "EARLIER_CHECKSUMS",
    "MIN_TTL_DAYS",
    "apply_schema",
    "landing_days_from_env",
    "schema_version",
    "validate_landing_days",
    "validate_ttl_days",
]

_logger = logging.getLogger(__name__)

DEFAULT_TTL_DAYS = 365
"""Default retention of audit rows."""

MIN_TTL_DAYS = 184
"""Six months, the shortest retention EU AI Act Art. 19(1) and 26(6) allow."""

DEFAULT_LANDING_DAYS = 7
"""Days a prediction row stays in ``otel_logs`` besides its ``audit_predictions`` copy."""

_MIGRATIONS = MIGRATIONS_TABLE  # defined with the stores, which check for it before reading

EARLIER_CHECKSUMS: dict[int, frozenset[str]] = {
    1: frozenset({"027076093fc7b37eb012470574ca54d80d7a46aea4289280762afdeb4c8fd18d"}),
    3: frozenset({"fbfc84df3a2b46a289f5c6321d9a9ba63b82a012f3d0bc4bf52edb8a077f2dab"}),
    80: frozenset({"1ea3ba1df5ebd2e46320ba3130aa396f24e3e1496eb5609d9efb57d252189a3b"}),
}
"""Checksums, per migration version, of texts that otel-audit itself once shipped for it and
stores applied, accepted besides the file's own.

001 and 003 were edited in place after their release (commit 9de1f7c: the landing TTL of
``otel_logs``, ``ResourceAttributes`` in ``audit_predictions``), and 080 too (commit 04ef03d: the
rollup currency views dropped, rows stored before the counter counted). A store made by those
versions applied the edited text. The files are back to their released text, and 085 delivers
the edits to the stores that applied it; a store that applied an edited text already has them,
so its checksum is known, not changed."""

_LANDING_TTL = re.compile(r"^ALTER TABLE (\w+) MODIFY \{\{ttl:(\w+):landing\}\}$")
_TTL_CLAUSE = re.compile(r"\bTTL (.*?)(?: SETTINGS |$)", re.DOTALL)
_RETENTION = re.compile(r"toDateTime\((\w+)\) \+ toIntervalDay\((\d+)\)")


def validate_ttl_days(ttl_days: int) -> int:
    """Return *ttl_days* if it is 0 (keep forever) or at least :data:`MIN_TTL_DAYS`.

    Raises:
        ConfigError: a shorter retention than the law's six months, or not an int.
    """
    if isinstance(ttl_days, bool) or not isinstance(ttl_days, int):
        raise ConfigError(f"ttl_days must be an int, not {ttl_days!r}")
    if ttl_days != 0 and ttl_days < MIN_TTL_DAYS:
        raise ConfigError(
            f"ttl_days={ttl_days} keeps records for less than six months ({MIN_TTL_DAYS} days), "
            "which EU AI Act Art. 19 forbids; use 0 to keep them forever"
        )
    return ttl_days


def validate_landing_days(landing_days: int, ttl_days: int) -> int:
    """Return *landing_days* if it is 0 (keep prediction rows in ``otel_logs`` for the whole
    retention) or a positive number of days not beyond the retention.

    Raises:
        ConfigError: negative, longer than the retention, or not an int.
    """
    if isinstance(landing_days, bool) or not isinstance(landing_days, int) or landing_days < 0:
        raise ConfigError(f"landing_days must be a non-negative int, not {landing_days!r}")
    if ttl_days and landing_days > ttl_days:
        raise ConfigError(f"landing_days={landing_days} is longer than the retention ttl_days={ttl_days}")
    return landing_days


def landing_days_from_env() -> int:
    """``OTEL_AUDIT_LANDING_DAYS``, default :data:`DEFAULT_LANDING_DAYS`."""
    return envvars.OTEL_AUDIT_LANDING_DAYS.resolve(default=DEFAULT_LANDING_DAYS)


def schema_version(store: Store) -> int:
    """Return the highest applied schema version, 0 for an empty store."""
    exists = store.query(
        "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {name:String}",
        {"db": store.database, "name": _MIGRATIONS},
    ).rows[0][0]
    if not exists:
        return 0
    return int(store.query(f"SELECT max(Version) FROM {_MIGRATIONS}").rows[0][0])


def apply_schema(store: Store, *, ttl_days: int = DEFAULT_TTL_DAYS, landing_days: int | None = None) -> int:
    """Apply every schema file not yet applied; return the resulting version.

    *landing_days* defaults to ``OTEL_AUDIT_LANDING_DAYS`` (7); 0 keeps prediction rows in
    ``otel_logs`` as long as in ``audit_predictions``. *ttl_days* and *landing_days* apply to the
    tables a migration creates; an existing table keeps its retention (docs/retention.md).

    Raises:
        SchemaError: an applied file has changed since, or the store is newer than this code.
    """
    validate_ttl_days(ttl_days)
    landing = validate_landing_days(landing_days_from_env() if landing_days is None else landing_days, ttl_days)
    files = schema_files()
    applied: dict[int, str] = {}
    if schema_version(store):
        applied = dict(store.query(f"SELECT Version, Checksum FROM {_MIGRATIONS}").rows)
    known = {version for version, _, _ in files}
    newer = sorted(set(applied) - known)
    if newer:
        raise SchemaError(
            f"store {store.dsn} has schema version(s) {newer} that this otel-audit does not know; upgrade it"
        )
    for version, name, text in files:
        checksum = hashlib.sha256(text.encode()).hexdigest()
        if version in applied:
            _check_unchanged(store, version, name, applied[version], checksum)
            continue
        for statement in split_statements(text):
            landing_rule = _LANDING_TTL.match(statement)
            if landing_rule is not None:
                rendered = _landing_rule(store, landing_rule.group(1), landing_rule.group(2), landing)
            else:
                rendered = render(statement, ttl_days=ttl_days, landing_days=landing)
            if rendered:
                store.command(rendered)
        if version == 0 or name != "000_schema_migrations":
            store.insert_columns(_MIGRATIONS, [[version], [name], [checksum]], ["Version", "Name", "Checksum"])
        _logger.info("applied schema %s to %s", name, store.dsn)
    return max(known)


def _check_unchanged(store: Store, version: int, name: str, applied: str, checksum: str) -> None:
    """Refuse a store whose migration *name* was applied from another text than this file's."""
    if applied == checksum or applied in EARLIER_CHECKSUMS.get(version, ()):
        return
    raise SchemaError(
        f"schema migration {name} was applied to {redact_dsn(store.dsn)} from another text than this "
        f"otel-audit's clickhouse/schema/{name}.sql (checksum {applied[:12]}…, the file's {checksum[:12]}…): "
        "the store may lack what the file creates. A released migration never changes: open the store "
        "with the otel-audit release that made it or a later official one; if you edited the file, put "
        "back the text that was applied and make the change a new migration"
    )


def _landing_rule(store: Store, table: str, column: str, landing_days: int) -> str | None:
    """``ALTER TABLE table MODIFY TTL …`` adding the landing rule to *table* and keeping its
    retention; ``None`` when there is nothing to add (no rule wanted, or one already there) or the
    table's TTL is not one otel-audit wrote (left to its DBA, with a warning)."""
    rows = store.query(query_sql("schema_table_ttl"), {"db": store.database, "name": table}).rows
    clause = _TTL_CLAUSE.search(str(rows[0][0]) if rows else "")
    current = clause.group(1).strip() if clause else ""
    if " WHERE " in current:
        return None  # it has a landing rule already, with its own period
    retention = _RETENTION.fullmatch(current)
    if current and (retention is None or retention.group(1) != column):
        _logger.warning(
            "%s has a TTL otel-audit did not write (%s); its landing rule was not added (docs/retention.md)",
            table,
            current,
        )
        return None
    ttl_days = int(retention.group(2)) if retention else 0
    ttl = render(f"{{{{ttl:{column}:landing}}}}", ttl_days=ttl_days, landing_days=landing_days)
    return f"ALTER TABLE {table} MODIFY {ttl}" if ttl else None
