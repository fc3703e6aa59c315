"""Render report dicts as rich tables, JSON, CSV or a self-contained HTML page.

A report is the dict a function in :mod:`otel_audit.answer.queries` returns. JSON carries it
whole. CSV carries its row list (the ``_ROWS`` key per report), or its flattened scalar fields
when it has none. Tables show the scalar fields, then each list of rows. HTML adds charts
(:mod:`otel_audit.answer.html`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["FORMATS", "render_report", "render_rows"]

FORMATS = ("table", "json", "csv", "html")

_ROWS = {
    "data-access": "requests",
    "version-at": "versions",
    "request": "records",
    "input": "predictions",
    "version-timeline": "versions",
    "outcomes": "rows",
    "redactions": "rows",
    "reproduce": "records",
    "compliance": "daily",
}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _flatten(report: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


def _cell(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Render a plain result set (``otel-audit query``)."""
    if fmt == "json":
        return json.dumps([_plain(dict(zip(columns, row, strict=True))) for row in rows], indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return out.getvalue()
    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    return _to_text(table)


def render_report(report: Mapping[str, Any], fmt: str) -> str:
    """Render *report* as ``table``, ``json``, ``csv`` or ``html``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    if fmt == "html":
        from otel_audit.answer.html import render_html

        return render_html(report)
    if fmt == "json":
        return json.dumps(_plain(report), indent=2, ensure_ascii=False)
    rows_key = _ROWS.get(str(report.get("report")))
    if fmt == "csv":
        if rows_key:
            rows = report.get(rows_key) or []
            columns = list(rows[0]) if rows else []
            return render_rows(columns, [list(row.values()) for row in rows], "csv")
        flat = _flatten(report)
        return render_rows(["field", "value"], [[k, v] for k, v in flat.items()], "csv")
    return _table(report, rows_key)


def _table(report: Mapping[str, Any], rows_key: str | None) -> str:
    parts = []
    summary = Table("field", "value", title=f"otel-audit report: {report.get('report')}")
    for key, value in _flatten(report).items():
        if key != "report":
            summary.add_row(key, _cell(value))
    parts.append(summary)
    for key, value in report.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            table = Table(*value[0].keys(), title=key)
            for row in value:
                table.add_row(*[_cell(v) for v in row.values()])
            parts.append(table)
    return "\n".join(_to_text(part) for part in parts)


def _to_text(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None, record=True)
    console.print(renderable)
    return console.export_text()
