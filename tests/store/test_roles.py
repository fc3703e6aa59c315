"""clickhouse/roles.sql: parsed by ClickHouse's own parser, and least privilege checked on the parsed text.

chDB has no access management (CREATE ROLE needs a user directory), so the statements are
checked with ``formatQuery`` (the server's parser) and the grants read from its normalised output.
"""

from __future__ import annotations

import re

import pytest

from otel_audit.store.connect import Store
from otel_audit.store.sql import split_statements, sql_root

AUDIT_TABLES = {
    "otel_logs",
    "otel_traces",
    "audit_predictions",
    "otel_traces_trace_id_ts",
    "otel_audit_schema_migrations",
    "audit_seal_leaves",
    "audit_seal_checkpoints",
    "audit_erasures",
    "audit_events",
    "otel_audit_settings",
}
INGEST_TABLES = {"otel_logs", "otel_traces"}
# Privileges that could change or remove an audit row (ALTER and ALL include the ALTER ... ones;
# a shorter TTL deletes rows).
FORBIDDEN = {
    "ALTER UPDATE", "ALTER DELETE", "ALTER", "ALL", "TRUNCATE", "DROP TABLE", "DROP", "ALTER TABLE",
    "ALTER TTL", "ALTER MODIFY TTL", "ALTER MATERIALIZE TTL", "OPTIMIZE",
}  # fmt: skip
_GRANT = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>\S+) TO (?P<role>\S+)$")


def _formatted(store: Store) -> list[str]:
    text = (sql_root() / "roles.sql").read_text(encoding="utf-8")
    return [store.query("SELECT formatQuery({q:String})", {"q": s}).rows[0][0] for s in split_statements(text)]


def _grants(statements: list[str]) -> list[tuple[str, str, str]]:
    """(privilege, database.table, role) for every privilege of every GRANT."""
    grants = []
    for statement in statements:
        match = _GRANT.match(statement)
        if match:
            # A column list (ALTER UPDATE(Input, Output)) narrows a privilege; the privilege is what counts.
            for privilege in re.sub(r"\([^)]*\)", "", match["privileges"]).split(", "):
                grants.append((privilege, match["target"], match["role"]))
    return grants


def check_least_privilege(statements: list[str]) -> list[str]:
    """The least-privilege violations in formatted *statements* (empty when there are none)."""
    problems = []
    for privilege, target, role in _grants(statements):
        database, _, table = target.partition(".")
        on_audit = database == "otel_audit" and (table == "*" or table in AUDIT_TABLES)
        if on_audit and privilege in FORBIDDEN:
            problems.append(f"{role} has {privilege} on {target}")
        if role == "otel_audit_writer" and privilege == "INSERT" and table not in INGEST_TABLES:
            problems.append(f"writer may insert into {target}")
        if role == "otel_audit_writer" and privilege not in ("INSERT", "SHOW COLUMNS", "SELECT"):
            problems.append(f"writer has {privilege}")
        if role == "otel_audit_writer" and privilege == "SELECT" and table != "otel_audit_schema_migrations":
            problems.append(f"writer may read {target}")
        if role == "otel_audit_sealer" and privilege == "INSERT" and not table.startswith("audit_seal_"):
            problems.append(f"sealer may insert into {target}")
        rollup_tables = ("audit_usage_hourly", "audit_user_daily", "audit_rollup_builds")
        if role == "otel_audit_rollup_builder" and privilege == "INSERT" and table not in rollup_tables:
            problems.append(f"rollup builder may insert into {target}")
        auditor_append = privilege == "INSERT" and table == "audit_access_inbox"
        if role == "otel_audit_auditor" and privilege != "SELECT" and not auditor_append:
            problems.append(f"auditor has {privilege} on {target}")
    return problems


class TestRoles:
    def test_every_statement_parses(self, store: Store) -> None:
        """Every statement of roles.sql is accepted by ClickHouse's parser (formatQuery)."""
        statements = _formatted(store)
        assert len(statements) >= 15
        assert all(s.startswith(("CREATE ROLE", "GRANT", "CREATE SETTINGS PROFILE")) for s in statements)
        # Every GRANT is understood by the checker below.
        assert len({s for s in statements if s.startswith("GRANT")}) == len({s for s in statements if _GRANT.match(s)})

    def test_least_privilege(self, store: Store) -> None:
        """Writer inserts only into ingest tables, auditor only reads, nobody can alter or delete rows."""
        statements = _formatted(store)
        assert check_least_privilege(statements) == []
        grants = _grants(statements)
        assert {(p, t) for p, t, r in grants if r == "otel_audit_writer" and p == "INSERT"} == {
            ("INSERT", "otel_audit.otel_logs"),
            ("INSERT", "otel_audit.otel_traces"),
        }
        # An auditor reads everything and appends only the access events of its own reads.
        assert {(p, t) for p, t, r in grants if r == "otel_audit_auditor"} == {
            ("SELECT", "otel_audit.*"),
            ("INSERT", "otel_audit.audit_access_inbox"),
        }

    @pytest.mark.parametrize(
        "bad",
        [
            "GRANT ALTER DELETE ON otel_audit.audit_predictions TO otel_audit_schema_owner",
            "GRANT ALTER UPDATE ON otel_audit.* TO otel_audit_auditor",
            "GRANT ALL ON otel_audit.* TO otel_audit_schema_owner",
            "GRANT ALTER TTL ON otel_audit.otel_logs TO otel_audit_schema_owner",
            "GRANT ALTER UPDATE(Input, Output) ON otel_audit.audit_predictions TO otel_audit_sealer",
            "GRANT INSERT ON otel_audit.audit_predictions TO otel_audit_writer",
            "GRANT INSERT ON otel_audit.otel_logs TO otel_audit_auditor",
            "GRANT INSERT ON otel_audit.audit_events TO otel_audit_auditor",
            "GRANT INSERT ON otel_audit.* TO otel_audit_auditor",
            "GRANT INSERT ON otel_audit.audit_predictions TO otel_audit_rollup_builder",
        ],
    )
    def test_checker_catches_excess(self, store: Store, bad: str) -> None:
        """The checker flags a grant that breaks least privilege (so the test above can fail)."""
        formatted = store.query("SELECT formatQuery({q:String})", {"q": bad}).rows[0][0]
        assert check_least_privilege([formatted]) != []

    def test_granted_tables_exist(self, store: Store) -> None:
        """Every table a grant names exists in the schema (no grant on a misspelt table)."""
        names = {t.partition(".")[2] for _, t, _ in _grants(_formatted(store)) if t.startswith("otel_audit.")}
        tables = {
            row[0] for row in store.query("SELECT name FROM system.tables WHERE database = currentDatabase()").rows
        }
        assert names - {"*"} <= tables
