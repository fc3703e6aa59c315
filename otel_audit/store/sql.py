"""Load the SQL under ``clickhouse/`` by name and render its few placeholders.

SQL lives only in ``.sql`` files. Values always travel as server-side ``{name:Type}``
parameters; the only text substituted here is

* ``{{semconv.NAME}}`` - an attribute name from :mod:`otel_audit.semconv` (a constant), or a
  quoted, comma-separated list when the constant is a tuple;
* ``{{ttl:COLUMN}}`` - the TTL clause built from a validated integer number of days;
* ``{{query:NAME}}`` - in a query file only: the text of ``queries/NAME.sql``, for a fragment
  (an expression list) that two queries must share exactly;
* ``{{ttl:COLUMN:landing}}`` - the same, plus the landing rule of ``otel_logs``: prediction log
  rows (event ``ai.prediction``) are deleted after *landing_days*, because the view has copied
  every one of them into ``audit_predictions``, the table of record (see docs/retention.md). In a
  migration's ``ALTER TABLE t MODIFY {{ttl:COLUMN:landing}}`` the rule is added to an existing
  table with the retention it has (:func:`otel_audit.store.schema.apply_schema` renders it).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from otel_audit import semconv
from otel_audit.errors import SchemaError

__all__ = ["query_sql", "render", "schema_files", "sql_root"]

_PLACEHOLDER = re.compile(r"\{\{(semconv\.[A-Z_]+|ttl:[A-Za-z]+(?::landing)?)\}\}")

_FRAGMENT = re.compile(r"\{\{query:([a-z_]+)\}\}")


def sql_root() -> Path:
    """Return the folder holding ``schema/`` and ``queries/``.

    An installed wheel carries it as ``otel_audit/_sql``; a source checkout reads ``clickhouse/``.
    """
    packaged = Path(str(resources.files("otel_audit"))) / "_sql"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[2] / "clickhouse"
    if source.is_dir():
        return source
    raise SchemaError(f"SQL files not found in {packaged} or {source}; reinstall otel-audit")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(text: str, *, ttl_days: int = 0, landing_days: int = 0) -> str:
    """Replace the placeholders of *text* (see the module docstring); 0 days means no TTL rule."""
    for name, days in (("ttl_days", ttl_days), ("landing_days", landing_days)):
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"{name} must be a non-negative int, not {days!r}")

    def substitute(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("ttl:"):
            column, _, landing = token[4:].partition(":")
            rules = [f"toDateTime({column}) + toIntervalDay({ttl_days})"] if ttl_days else []
            if landing and landing_days:
                rules.append(
                    f"toDateTime({column}) + toIntervalDay({landing_days})"
                    f" DELETE WHERE EventName = '{semconv.EVENT_PREDICTION}'"
                )
            return "TTL " + ", ".join(rules) if rules else ""
        value = getattr(semconv, token.split(".", 1)[1])
        if isinstance(value, tuple):
            return ", ".join(_quote(item) for item in value)
        return str(value).replace("'", "")

    return _PLACEHOLDER.sub(substitute, text)


def schema_files() -> list[tuple[int, str, str]]:
    """Return ``(version, name, raw_text)`` of every schema file, in version order."""
    files = []
    for path in sorted((sql_root() / "schema").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        files.append((version, path.stem, path.read_text(encoding="utf-8")))
    return files


@cache
def query_sql(name: str) -> str:
    """Return the text of ``queries/<name>.sql`` (rendered, cached)."""
    path = sql_root() / "queries" / f"{name}.sql"
    if not path.is_file():
        raise SchemaError(f"no query named {name!r} ({path})")
    text = _FRAGMENT.sub(lambda match: query_sql(match.group(1)), path.read_text(encoding="utf-8"))
    return render(text)


def split_statements(text: str) -> list[str]:
    """Split a schema file into statements at semicolons that end a line."""
    statements = []
    for chunk in re.split(r";\s*(?:\n|$)", text):
        lines = [line for line in chunk.splitlines() if not line.strip().startswith("--")]
        statement = "\n".join(lines).strip()
        if statement:
            statements.append(statement)
    return statements
