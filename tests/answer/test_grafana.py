"""Every panel of the Grafana dashboard, its macros and variables expanded, run against the seeded store."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from answer_seed import Seeded

from otel_audit.store.connect import Store

DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "dashboards" / "otel-audit.json"
ALL = "$__all"

FROM, TO = dt.datetime(2026, 3, 29, tzinfo=dt.timezone.utc), dt.datetime(2026, 4, 2, 12, tzinfo=dt.timezone.utc)
INTERVAL_S = 3600


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _split_args(text: str) -> list[str]:
    """Split macro arguments at top-level commas."""
    args, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    args.append(current.strip())
    return args


def _macro_calls(sql: str, name: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, args) of each ``$__name(...)`` call, parentheses balanced."""
    calls = []
    for match in re.finditer(re.escape(f"$__{name}("), sql):
        depth, index = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[index], 0)
            index += 1
        calls.append((match.start(), index, _split_args(sql[match.end() : index - 1])))
    return calls


def expand(sql: str, variables: dict[str, list[str]]) -> str:
    """Expand the macros and variables as Grafana and the ClickHouse plugin (v4) do.

    Frontend first: ``$__conditionalAll(expr, $var)`` becomes ``1=1`` when *var* is All,
    ``${var:singlequote}`` a quoted list, ``$var``/``${var}`` the raw value. Then the plugin's
    backend macros: ``$__timeFilter(c)`` is ``c >= toDateTime(from) AND c <= toDateTime(to)``,
    ``$__fromTime``/``$__toTime`` ``toDateTime(unix)``, ``$__timeInterval(c)``
    ``toStartOfInterval(toDateTime(c), INTERVAL n second)`` and ``$__interval_s`` n.
    """
    for start, end, args in reversed(_macro_calls(sql, "conditionalAll")):
        variable = args[1].lstrip("$").strip("{}")
        replacement = "1=1" if variables[variable] == [ALL] else args[0]
        sql = sql[:start] + replacement + sql[end:]

    def variable(match: re.Match[str]) -> str:
        name, fmt = match.group(1) or match.group(3), match.group(2)
        values = variables[name]
        if fmt == "singlequote":
            return ",".join(_quote(v) for v in values)
        if fmt:
            raise AssertionError(f"variable format {fmt} not handled")
        return ",".join(values)

    sql = re.sub(r"\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)", variable, sql)
    start, stop = int(FROM.timestamp()), int(TO.timestamp())
    for begin, end, args in reversed(_macro_calls(sql, "timeFilter")):
        column = args[0]
        replacement = f"{column} >= toDateTime({start}) AND {column} <= toDateTime({stop})"
        sql = sql[:begin] + replacement + sql[end:]
    for begin, end, args in reversed(_macro_calls(sql, "timeInterval")):
        sql = sql[:begin] + f"toStartOfInterval(toDateTime({args[0]}), INTERVAL {INTERVAL_S} second)" + sql[end:]
    sql = sql.replace("$__fromTime", f"toDateTime({start})").replace("$__toTime", f"toDateTime({stop})")
    sql = sql.replace("$__interval_s", str(INTERVAL_S))
    assert "$" not in sql, f"unexpanded macro or variable in {sql}"
    return sql


def _panels() -> list[dict[str, Any]]:
    return [p for p in json.loads(DASHBOARD.read_text())["panels"] if p.get("targets")]


# Expected columns of each panel; the first column of a time series is its time.
COLUMNS = {
    "Predictions by model and version": ["time", "series", "predictions"],
    "Volume by model and version": ["model", "version", "predictions", "errors", "first_prediction", "last_prediction"],
    "Latency percentiles": ["time", "p50", "p95", "p99"],
    "Error rate": ["time", "errors", "error_rate"],
    "Errors by type": ["model", "error_type", "errors", "last_seen", "latest_message"],
    "Per-user data access": ["user_id", "model", "predictions", "first_access", "last_access"],
    "Redaction counts": ["model", "attribute", "predictions", "nonzero", "value_sum"],
    "Seal status": ["sealed_records", "unsealed_records", "checkpoint_size", "last_checkpoint", "erased_records"],
    "Human oversight by model version": [
        "model",
        "version",
        "predictions",
        "reviewed",
        "review_coverage",
        "reviews",
        "overrides",
        "override_rate",
        "labelled",
        "accuracy",
    ],
}
CASES = {
    "all": {"model": [ALL], "user": [ALL]},
    "one model, one user": {"model": ["fraud_detector"], "user": ["u1"]},
    "two models": {"model": ["fraud_detector", "credit_scorer"], "user": [ALL]},
}


def _run(store: Store, panel: dict[str, Any], variables: dict[str, list[str]]) -> list[dict[str, Any]]:
    sql = expand(panel["targets"][0]["rawSql"], variables)
    return store.query(sql, settings={"readonly": 2}).dicts()


class TestDashboardPanels:
    def test_dashboard_is_provisionable(self) -> None:
        """The dashboard has a uid, template variables and, on every panel, the provisioned data source."""
        dashboard = json.loads(DASHBOARD.read_text())
        assert dashboard["uid"] == "otel-audit"
        assert {v["name"] for v in dashboard["templating"]["list"]} == {"model", "user"}
        assert {p["title"] for p in _panels()} == set(COLUMNS)
        for panel in _panels():
            assert panel["datasource"]["uid"] == "otel-audit-clickhouse"
            assert panel["targets"][0]["format"] == (0 if panel["type"] == "timeseries" else 1)

    @pytest.mark.parametrize("case", sorted(CASES))
    def test_every_panel_returns_rows_of_its_shape(self, seeded: Seeded, case: str) -> None:
        """Each panel's expanded SQL runs read-only and returns non-empty rows with the expected columns and types."""
        for panel in _panels():
            rows = _run(seeded.store, panel, CASES[case])
            assert rows, panel["title"]
            assert list(rows[0]) == COLUMNS[panel["title"]], panel["title"]
            if panel["type"] == "timeseries":
                assert all(isinstance(row["time"], dt.datetime) for row in rows)
                assert all(
                    isinstance(v, (int, float)) for row in rows for k, v in row.items() if k not in ("time", "series")
                )

    def test_template_variable_queries(self, seeded: Seeded) -> None:
        """The model and user variables list what the time range holds."""
        inside = [p for p in seeded.predictions if FROM.replace(tzinfo=None) <= p.timestamp <= TO.replace(tzinfo=None)]
        found = {}
        for variable in json.loads(DASHBOARD.read_text())["templating"]["list"]:
            sql = expand(variable["query"]["rawSql"], {})
            found[variable["name"]] = [row[0] for row in seeded.store.query(sql).rows]
        assert found == {"model": sorted({p.model for p in inside}), "user": sorted({p.user for p in inside})}

    def test_figures_match_the_seed(self, seeded: Seeded) -> None:
        """Volume, per-user access and errors equal counts computed from the seed over the same range."""
        start, stop = FROM.replace(tzinfo=None), TO.replace(tzinfo=None)
        # $__timeFilter has second precision on both ends, as the plugin's toDateTime(unix) does.
        inside = [p for p in seeded.predictions if start <= p.timestamp.replace(microsecond=0) <= stop]
        panels = {p["title"]: p for p in _panels()}
        volume = _run(seeded.store, panels["Volume by model and version"], CASES["all"])
        expected: dict[tuple[str, str], int] = {}
        for p in inside:
            expected[p.model, p.version] = expected.get((p.model, p.version), 0) + 1
        assert {(r["model"], r["version"]): r["predictions"] for r in volume} == expected
        series = _run(seeded.store, panels["Predictions by model and version"], CASES["all"])
        assert sum(r["predictions"] for r in series) == len(inside)
        access = _run(seeded.store, panels["Per-user data access"], CASES["one model, one user"])
        mine = [p for p in inside if p.user == "u1" and p.model == "fraud_detector"]
        assert [(r["user_id"], r["predictions"]) for r in access] == [("u1", len(mine))]
        errors = _run(seeded.store, panels["Error rate"], CASES["all"])
        assert sum(r["errors"] for r in errors) == sum(p.outcome == "error" for p in inside)
        # Nothing is sealed in the seeded store: every record is pending.
        seal = _run(seeded.store, panels["Seal status"], CASES["all"])
        assert (seal[0]["sealed_records"], seal[0]["unsealed_records"]) == (0, len(seeded.predictions))

    def test_expand_quotes_variable_values(self) -> None:
        """A variable value with a quote stays one SQL string literal."""
        sql = expand("SELECT 1 WHERE m IN (${model:singlequote})", {"model": ["a'b", "c"]})
        assert sql == "SELECT 1 WHERE m IN ('a\\'b','c')"
