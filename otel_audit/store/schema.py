"""Create and version the store's schema from ``clickhouse/schema/*.sql``.

Each file is one migration, applied once, in order, and recorded with its checksum in
``otel_audit_schema_migrations``. Every statement is ``CREATE … IF NOT EXISTS`` or a data
migration whose repetition is harmless (080 counts existing rows, and counting a row twice only
makes its rollup be rebuilt), so applying the schema twice, or from two processes, is harmless.
"""

from __future__ import annotations

import hashlib
import logging

from otel_audit import envvars
from otel_audit.errors import ConfigError, SchemaError
from otel_audit.store.base import MIGRATIONS_TABLE
from otel_audit.store.connect import Store
from otel_audit.store.sql import render, schema_files, split_statements

__all__ = [
    "DEFAULT_LANDING_DAYS",
    "DEFAULT_TTL_DAYS",
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
    return envvars.env_int(envvars.OTEL_AUDIT_LANDING_DAYS, DEFAULT_LANDING_DAYS, minimum=0)


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
    ``otel_logs`` as long as in ``audit_predictions``.

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
            if applied[version] != checksum:
                _logger.warning("schema file %s changed after it was applied to %s", name, store.dsn)
            continue
        for statement in split_statements(render(text, ttl_days=ttl_days, landing_days=landing)):
            store.command(statement)
        if version == 0 or name != "000_schema_migrations":
            store.insert_columns(_MIGRATIONS, [[version], [name], [checksum]], ["Version", "Name", "Checksum"])
        _logger.info("applied schema %s to %s", name, store.dsn)
    return max(known)
