"""The schema for a ClickHouse cluster, generated from the same ``clickhouse/schema`` files.

Usage::

    otel-audit schema --cluster audit_cluster --print > cluster.sql   # review, then run it

Rewrites, statement by statement (every statement keeps ``IF NOT EXISTS`` and gets
``ON CLUSTER``):

* **Sharded data tables** (``otel_logs``, ``otel_traces``, ``audit_predictions``, …): the table
  becomes ``<name>_local`` with ``Replicated…MergeTree('/clickhouse/tables/{shard}/{database}/<name>_local',
  '{replica}')``, and ``<name>`` becomes a ``Distributed`` table over it, sharded by trace id so
  that a record, its duplicates and its span land on the same shard. Writers (the collector's
  ClickHouse exporter, otel-audit's exporters) insert into ``<name>``; reports read ``<name>``.
* **Materialized views** read and write the ``_local`` tables, so each shard types the rows it
  received. **Plain views** read the ``Distributed`` tables: answers for the whole cluster.
* **Data migrations** (``INSERT INTO … SELECT``, ``ALTER TABLE … MATERIALIZE``/``UPDATE``,
  ``TRUNCATE``) are left out: a new cluster's tables start empty.
* **Column additions** (``ALTER TABLE t ADD COLUMN``) go to ``t_local`` and to the ``Distributed``
  ``t`` (or to the one replicated global table), and **dropped views** are dropped on every node.
* **TTL changes** (``ALTER TABLE t MODIFY TTL``) are folded into the statement that creates
  ``t_local`` (a ``Distributed`` table has no TTL): a new cluster's tables get their TTL at
  creation, and the DDL needs no TTL privilege (``clickhouse/roles.sql``).
* **Inboxes** (``ENGINE = Null`` tables whose view moves each row on, such as
  ``audit_access_inbox``): ``<name>_local`` keeps the ``Null`` engine on every node, and
  ``<name>`` is a ``Distributed`` table over it; the view moves the rows into the shard's tables.
* **Global tables** (the migrations log and the seal's Merkle leaves, checkpoints and erasure
  log: one sequence for the whole deployment; the small report rollups, built from all shards)
  are replicated to every node, not sharded:
  ``Replicated…MergeTree('/clickhouse/tables/global/{database}/<name>', '{replica}')``.
"""

from __future__ import annotations

import re

from otel_audit.errors import ConfigError
from otel_audit.store.schema import DEFAULT_LANDING_DAYS, validate_landing_days
from otel_audit.store.sql import render, schema_files, split_statements

__all__ = ["GLOBAL_TABLES", "SHARDING_KEYS", "cluster_statements"]

GLOBAL_TABLES = frozenset(
    {
        "otel_audit_schema_migrations",
        "audit_seal_leaves",
        "audit_seal_checkpoints",
        "audit_erasures",
        "audit_rollup_builds",
        "audit_usage_hourly",
        "audit_user_daily",
    }
)
"""Tables that hold one sequence for the whole deployment (migrations, the seal) or small derived
data built from all shards (the report rollups): replicated everywhere, never sharded."""

SHARDING_KEYS = {
    "otel_logs": "cityHash64(TraceId)",
    "otel_traces": "cityHash64(TraceId)",
    "otel_traces_trace_id_ts": "cityHash64(TraceId)",
    "audit_predictions": "cityHash64(TraceId)",
    "audit_events": "cityHash64(TraceId)",
}
"""Distributed sharding keys; tables not listed shard by ``rand()``."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\s*\n", re.MULTILINE)
_CREATE_VIEW = re.compile(r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+)", re.MULTILINE)
_CREATE_PLAIN_VIEW = re.compile(r"^CREATE VIEW IF NOT EXISTS (\w+)\s*\n", re.MULTILINE)
_ENGINE = re.compile(r"ENGINE = (\w*)MergeTree(?:\(\))?")
_NULL_ENGINE = re.compile(r"^ENGINE = Null$", re.MULTILINE)
_FROM = re.compile(r"\bFROM (\w+)")
_ADD_COLUMN = re.compile(r"^ALTER TABLE (\w+)\s+(ADD COLUMN .*)$", re.DOTALL)
_DROP_VIEW = re.compile(r"^DROP VIEW IF EXISTS (\w+)$")
_MODIFY_TTL = re.compile(r"^ALTER TABLE (\w+)\s+MODIFY(?:\s+(TTL .*))?$", re.DOTALL)
_TTL_LINE = re.compile(r"^TTL .*$", re.MULTILINE)
_SETTINGS_LINE = re.compile(r"^SETTINGS .*$", re.MULTILINE)
_DATA_MIGRATION = re.compile(r"^(INSERT INTO|TRUNCATE TABLE|ALTER TABLE \w+\s+(MATERIALIZE|UPDATE|DELETE)\b)")


def _replicated(statement: str, path: str) -> str:
    def engine(match: re.Match[str]) -> str:
        return f"ENGINE = Replicated{match.group(1)}MergeTree('{path}', '{{replica}}')"

    rewritten, count = _ENGINE.subn(engine, statement, count=1)
    if not count:
        raise ConfigError(f"no MergeTree engine to replicate in: {statement[:80]}…")
    return rewritten


def _table(statement: str, name: str, cluster: str, database: str) -> list[str]:
    if name in GLOBAL_TABLES:
        head = f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster}\n"
        body = _CREATE_TABLE.sub(head, statement, count=1)
        return [_replicated(body, f"/clickhouse/tables/global/{{database}}/{name}")]
    local = f"{name}_local"
    body = _CREATE_TABLE.sub(f"CREATE TABLE IF NOT EXISTS {local} ON CLUSTER {cluster}\n", statement, count=1)
    sharding = SHARDING_KEYS.get(name, "rand()")
    distributed = (
        f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} AS {local}\n"
        f"ENGINE = Distributed({cluster}, {database}, {local}, {sharding})"
    )
    if _NULL_ENGINE.search(statement):
        return [body, distributed]  # an inbox keeps nothing: nothing to replicate
    return [_replicated(body, f"/clickhouse/tables/{{shard}}/{{database}}/{local}"), distributed]


def _view(statement: str, match: re.Match[str], cluster: str) -> str:
    name, target = match.group(1), match.group(2)
    head = f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} ON CLUSTER {cluster} TO {_local(target)}"
    rewritten = statement.replace(match.group(0), head, 1)
    return _FROM.sub(lambda m: f"FROM {_local(m.group(1))}", rewritten)


def _local(table: str) -> str:
    return table if table in GLOBAL_TABLES else f"{table}_local"


def cluster_statements(
    cluster: str, *, database: str = "default", ttl_days: int = 365, landing_days: int = DEFAULT_LANDING_DAYS
) -> list[str]:
    """Return the whole schema as ``ON CLUSTER`` statements, in migration order.

    Raises:
        ConfigError: *cluster* or *database* is not a plain identifier, or *landing_days* is invalid.
    """
    validate_landing_days(landing_days, ttl_days)
    for label, value in (("cluster", cluster), ("database", database)):
        if not _IDENTIFIER.match(value):
            raise ConfigError(f"{label} name {value!r} is not a plain identifier")
    statements: list[str] = []
    for _, _, text in schema_files():
        for statement in split_statements(render(text, ttl_days=ttl_days, landing_days=landing_days)):
            if modified := _MODIFY_TTL.match(statement):
                _set_ttl(statements, _local(modified.group(1)), modified.group(2) or "", cluster)
                continue
            statements.extend(_on_cluster(statement, cluster, database))
    return statements


def _set_ttl(statements: list[str], table: str, ttl: str, cluster: str) -> None:
    """Give *table* the TTL *ttl* (``""``: none) in the statement that creates it: a new
    cluster's tables get their TTL at creation, so its DDL needs no TTL privilege."""
    head = f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER {cluster}\n"
    index = max((i for i, statement in enumerate(statements) if statement.startswith(head)), default=None)
    if index is None:
        raise ConfigError(f"a schema file changes the TTL of {table}, which no earlier file creates")
    created = statements[index]
    if _TTL_LINE.search(created):
        created = _TTL_LINE.sub(ttl, created, count=1)
    else:
        created = _SETTINGS_LINE.sub(lambda match: f"{ttl}\n{match.group(0)}", created, count=1)
    statements[index] = created


def _on_cluster(statement: str, cluster: str, database: str) -> list[str]:
    """The ``ON CLUSTER`` statements that do what one single-node schema *statement* does."""
    if _DATA_MIGRATION.match(statement):
        return []  # the tables of a new cluster start empty
    changed = _change_on_cluster(statement, cluster)
    return changed if changed is not None else _create_on_cluster(statement, cluster, database)


def _change_on_cluster(statement: str, cluster: str) -> list[str] | None:
    """An added column or a dropped view on the cluster; ``None`` for other statements."""
    if added := _ADD_COLUMN.match(statement):
        name, change = added.groups()
        targets = [name] if name in GLOBAL_TABLES else [f"{name}_local", name]
        return [f"ALTER TABLE {target} ON CLUSTER {cluster}\n    {change}" for target in targets]
    if dropped := _DROP_VIEW.match(statement):
        return [f"DROP VIEW IF EXISTS {dropped.group(1)} ON CLUSTER {cluster}"]
    return None


def _create_on_cluster(statement: str, cluster: str, database: str) -> list[str]:
    """A created table or view on the cluster (see the module docstring)."""
    if view := _CREATE_VIEW.search(statement):
        return [_view(statement, view, cluster)]
    if plain_view := _CREATE_PLAIN_VIEW.search(statement):
        head = f"CREATE VIEW IF NOT EXISTS {plain_view.group(1)} ON CLUSTER {cluster}\n"
        return [_CREATE_PLAIN_VIEW.sub(head, statement, count=1)]
    if table := _CREATE_TABLE.search(statement):
        return _table(statement, table.group(1), cluster, database)
    raise ConfigError(f"unexpected statement in the schema files: {statement[:80]}…")
