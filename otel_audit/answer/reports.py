"""Render report dicts as rich tables, JSON, CSV or a self-contained HTML page.

A report is the dict a function in :mod:`otel_audit.answer.queries` returns. JSON carries it
whole. CSV carries its row list (the ``_ROWS`` key per report), or its flattened scalar fields
when it has none. Tables show the scalar fields, then each list of rows. HTML adds charts
(:mod:`otel_audit.answer.html`).

Every format shows stored values as they are stored (docs/reports.md, "Output shows what is
stored"): table cells are literal text (no rich markup, emoji codes or highlighting; control
characters shown escaped), CSV text that a spreadsheet would run as a formula is prefixed with
``'``, and JSON is strict (:func:`otel_audit._json.strict_json`: non-finite numbers as strings).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from otel_audit._json import non_finite_name, strict_json

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

_PERIOD = ("since", "until")
"""The period a report states (docs/reports.md): ``None`` when it covers no records."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, ASVS 1.2.10)."""

# C0/C1 controls (newline and tab kept) and bidi overrides: a terminal would act on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _json_default(value: Any) -> str:
    """JSON for the types it has none for: decimals exactly, as strings; UUIDs, addresses as text."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)


def _json(value: Any) -> str:
    return strict_json(_plain(value), indent=2, default=_json_default)


def _flatten(report: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _cell(value: Any, *, exact: bool = False) -> str:
    """The text of one table or CSV cell; floats to 3 decimals unless *exact*."""
    value = _plain(value)
    if isinstance(value, (dict, list)):
        return strict_json(value, default=_json_default)
    if isinstance(value, float):
        if not math.isfinite(value):
            return non_finite_name(value)
        return repr(value) if exact else f"{value:.3f}"
    if isinstance(value, (bytes, bytearray)):
        return _json_default(value)
    return "" if value is None else str(value)


def _csv_cell(value: Any) -> str:
    """One CSV field: a number as it is, text that starts like a formula behind a ``'``."""
    text = _cell(value, exact=True)
    if not _is_number(value) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _literal(text: str) -> Text:
    """*text* as rich renders it literally: no markup, emoji codes or highlighting; controls escaped."""
    return Text(_CONTROL.sub(lambda match: ascii(match.group())[1:-1], text), overflow="fold")


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Render a plain result set (``otel-audit query``) as ``table``, ``json`` or ``csv``."""
    if fmt == "json":
        return _json([dict(zip(columns, row, strict=True)) for row in rows])
    if fmt == "csv":
        out = io.StringIO()
        # RFC 4180's CRLF: Python then quotes a field holding a bare CR, which would otherwise end the row.
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_csv_cell(column) for column in columns])
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
        return out.getvalue()
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(_literal(str(column)))
    for row in rows:
        table.add_row(*[_literal(_cell(v)) for v in row])
    return _to_text(table)


def render_report(report: Mapping[str, Any], fmt: str) -> str:
    """Render *report* as ``table``, ``json``, ``csv`` or ``html``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    if fmt == "html":
        from otel_audit.answer.html import render_html

        return render_html(report)
    if fmt == "json":
        return _json(report)
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
    summary = Table("field", "value", title=_literal(f"otel-audit report: {report.get('report')}"))
    for key, value in _flatten(report).items():
        if key in _PERIOD and value is None:
            summary.add_row(_literal(key), _literal("no records"))
        elif key != "report":
            summary.add_row(_literal(key), _literal(_cell(value)))
    parts.append(summary)
    for key, value in report.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            table = Table(title=_literal(str(key)))
            for column in value[0]:
                table.add_column(_literal(str(column)))
            for row in value:
                table.add_row(*[_literal(_cell(v)) for v in row.values()])
            parts.append(table)
    return "\n".join(_to_text(part) for part in parts)


def _to_text(renderable: Any) -> str:
    # Cells are Text already; no markup, emoji or highlighting for anything else either.
    console = Console(
        file=io.StringIO(), width=200, color_system=None, record=True, markup=False, emoji=False, highlight=False
    )
    console.print(renderable)
    return console.export_text()
