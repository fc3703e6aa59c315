"""Render report dicts as rich tables, JSON, CSV or a self-contained HTML page.

A report is the dict a function in :mod:`otel_audit.answer.queries` returns. JSON carries it
whole. CSV carries its row list (the ``_ROWS`` key per report), or its flattened scalar fields
when it has none. Tables show the scalar fields, then each list of rows. HTML adds charts
(:mod:`otel_audit.answer.html`).

Every format shows stored values as they are stored (docs/reports.md, "Output shows what is
stored"): table cells are literal text (no rich markup, emoji codes or highlighting; control
characters shown escaped), CSV text that a spreadsheet would run as a formula is prefixed with
``'``, and JSON is strict (:func:`otel_audit._json.strict_json`: non-finite numbers as strings).

Tables fit *width* (the terminal's, passed by the CLI; ``None``: as wide as their content). Ids
and hashes are never folded or cut: a row table that cannot fit them side by side is shown one
record at a time, vertically (field | value), as is a list of one record. In a table, whole
floats show as integers, rates (``error_rate``, ``*_share``, ``*_ratio``, ``*_fraction``) as
percentages with three significant digits, other floats with 3 decimals (3 significant digits
below 1); CSV and JSON keep the exact numbers.
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

from rich.cells import cell_len
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
    "oversight": "versions",
}

_PERIOD = ("since", "until")
"""The period a report states (docs/reports.md): ``None`` when it covers no records."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, ASVS 1.2.10)."""

# C0/C1 controls (newline and tab kept) and bidi overrides: a terminal would act on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_RATE = re.compile(r"(?:^|[_.])(?:rate|share|ratio|fraction)$")
"""Field names whose value is a fraction of 1, shown in a table as a percentage."""

_ID_NAME = re.compile(r"(?:^|[_.])(?:id|uid|hash|digest|root|sha256)$|[a-z0-9](?:Id|Uid|Hash|Digest|Root)$")
_ID_VALUE = re.compile(r"^(?:[0-9a-fA-F]{16,}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$")
_MAX_ID = 128
"""Longest value kept whole as an id or hash (longer ones are text, folded like any other)."""

_MIN_COLUMN = 8
"""Narrowest a text column is folded to before a row table is shown record by record instead."""


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


def _cell(value: Any, *, exact: bool = False, name: str = "") -> str:
    """The text of one table or CSV cell: numbers exactly if *exact* (CSV), else for reading
    (:func:`_figure`; a rate when the field *name* says so)."""
    value = _plain(value)
    if isinstance(value, (dict, list)):
        return strict_json(value, default=_json_default)
    if isinstance(value, float) and not math.isfinite(value):
        return non_finite_name(value)
    if not exact and _is_number(value) and isinstance(value, (int, float)):
        return _percent(value) if _RATE.search(name) else _figure(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray)):
        return _json_default(value)
    return "" if value is None else str(value)


def _significant(value: float, digits: int) -> str:
    """*value* with *digits* significant digits and no exponent (``0.00103``, ``99.5``, ``100``)."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def _figure(value: float) -> str:
    """A count as an integer; another float with 3 decimals, or 3 significant digits below 1."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    return f"{value:.3f}" if abs(value) >= 1 else _significant(value, 3)


def _percent(value: float) -> str:
    """A fraction of 1 as a percentage with three significant digits (1/97372 is ``0.00103%``)."""
    return _significant(value * 100, 3) + "%"


def _csv_cell(value: Any) -> str:
    """One CSV field: a number as it is, text that starts like a formula behind a ``'``."""
    text = _cell(value, exact=True)
    if not _is_number(value) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _escaped(text: str) -> str:
    """*text* with the characters a terminal would act on shown escaped (``\\x1b``)."""
    return _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)


def _literal(text: str) -> Text:
    """Escaped *text* as rich renders it literally: no markup, emoji codes or highlighting."""
    return Text(text, overflow="fold")


def _is_id(name: str, text: str) -> bool:
    """True when *text* (in field *name*) is an id or hash, to be shown whole on one line."""
    if not text or len(text) > _MAX_ID or any(character.isspace() for character in text):
        return False
    return bool(_ID_VALUE.match(text) or _ID_NAME.search(name))


def _text_width(text: str) -> int:
    return max(cell_len(line) for line in text.split("\n"))


def _fit(cells: Sequence[Sequence[str]], ids: Sequence[Sequence[bool]], width: int | None) -> tuple[bool, list[int]]:
    """Content widths of a table of *cells* (header row first) within *width* columns.

    Returns whether it fits, and the widths: the natural ones when they fit (or *width* is
    ``None``); else each id column as wide as its longest id (*ids* marks them) and the other
    columns folded, the narrowest given their full width first; else (it cannot fit) the least
    widths that keep every id whole.
    """
    count = len(cells[0])
    natural = [max(_text_width(row[i]) for row in cells) for i in range(count)]
    available = None if width is None else width - (3 * count + 1)
    if available is None or sum(natural) <= available:
        return True, natural
    least = [
        max(max((cell_len(row[i]) for row, marks in zip(cells, ids, strict=True) if marks[i]), default=0),
            min(_MIN_COLUMN, natural[i]))
        for i in range(count)
    ]  # fmt: skip
    if sum(least) > available:
        return False, least
    widths, spare = list(least), available - sum(least)
    while spare:
        growing = [i for i in range(count) if widths[i] < natural[i]]
        share = spare // len(growing)
        if not share:
            for i in growing[:spare]:
                widths[i] += 1
            break
        for i in growing:
            grow = min(share, natural[i] - widths[i])
            widths[i] += grow
            spare -= grow
    return True, widths


def _grid(cells: Sequence[Sequence[str]], widths: Sequence[int], title: str | None) -> tuple[Table, int]:
    """A rich table of *cells* (header row first, escaped text) and the width it takes."""
    table = Table(title=None if title is None else _literal(_escaped(title)))
    for name, width in zip(cells[0], widths, strict=True):
        table.add_column(_literal(name), width=width, overflow="fold")
    for row in cells[1:]:
        table.add_row(*[_literal(cell) for cell in row])
    return table, sum(widths) + 3 * len(widths) + 1


def _record(pairs: Sequence[tuple[str, str]], width: int | None, title: str | None) -> tuple[Table, int]:
    """One record as a vertical ``field | value`` table (escaped text)."""
    cells = [("field", "value"), *pairs]
    ids = [(False, False), *[(False, _is_id(name, value)) for name, value in pairs]]
    _, widths = _fit(cells, ids, width)
    return _grid(cells, widths, title)


def _rows(
    names: Sequence[str], rows: Sequence[Sequence[str]], width: int | None, title: str | None, *, one_vertical: bool
) -> list[tuple[Table, int]]:
    """A row table of escaped *rows* under *names*: one table when it fits *width* (and is not one
    record with *one_vertical*), else one vertical table per record."""
    cells = [list(names), *rows]
    ids = [[False] * len(names), *[[_is_id(name, cell) for name, cell in zip(names, row, strict=True)] for row in rows]]
    fits, widths = _fit(cells, ids, width)
    if not rows or (fits and not (one_vertical and len(rows) == 1)):
        return [_grid(cells, widths, title)]
    if len(rows) == 1:
        return [_record(list(zip(names, rows[0], strict=True)), width, title)]
    return [
        _record(list(zip(names, row, strict=True)), width, f"{title or 'row'} {index}/{len(rows)}")
        for index, row in enumerate(rows, 1)
    ]


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, *, width: int | None = None) -> str:
    """Render a plain result set (``otel-audit query``) as ``table``, ``json`` or ``csv``.

    A table fits *width* columns (``None``: as wide as its content); see the module docstring.
    """
    if fmt == "json":
        return _json([dict(zip(columns, row, strict=True)) for row in rows])
    if fmt == "csv":
        out = io.StringIO()
        # RFC 4180's CRLF: Python then quotes a field holding a bare CR, which would otherwise end the row.
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_csv_cell(column) for column in columns])
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
        return out.getvalue()
    names = [_escaped(str(column)) for column in columns]
    cells = [[_escaped(_cell(v, name=str(c))) for c, v in zip(columns, row, strict=True)] for row in rows]
    return _to_text(_rows(names, cells, width, None, one_vertical=False), width)


def render_report(report: Mapping[str, Any], fmt: str, *, width: int | None = None) -> str:
    """Render *report* as ``table``, ``json``, ``csv`` or ``html``.

    A table fits *width* columns (``None``: as wide as its content); see the module docstring.
    """
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
    return _table(report, width)


def _table(report: Mapping[str, Any], width: int | None) -> str:
    summary = [
        (_escaped(key), "no records" if key in _PERIOD and value is None else _escaped(_cell(value, name=key)))
        for key, value in _flatten(report).items()
        if key != "report"
    ]
    parts = [_record(summary, width, f"otel-audit report: {report.get('report')}")]
    for key, value in report.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            names = [str(column) for column in value[0]]
            rows = [
                [_escaped(_cell(v, name=name)) for name, v in zip(names, row.values(), strict=False)] for row in value
            ]
            parts.extend(_rows([_escaped(name) for name in names], rows, width, str(key), one_vertical=True))
    return _to_text(parts, width)


def _to_text(parts: Sequence[tuple[Table, int]], width: int | None) -> str:
    """The text of the tables in *parts*, a blank line apart, on a console of *width* columns (or
    as wide as the widest table: a table never shrinks below the width that keeps its ids whole)."""
    widest = max(needed for _, needed in parts)
    # Cells are Text already; no markup, emoji or highlighting for anything else either.
    console = Console(
        file=io.StringIO(),
        width=max(widest, width or 0),
        color_system=None,
        record=True,
        markup=False,
        emoji=False,
        highlight=False,
    )
    for index, (table, _) in enumerate(parts):
        if index:
            console.print()
        console.print(table)
    return console.export_text()
