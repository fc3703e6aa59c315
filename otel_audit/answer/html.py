"""Render a report dict as one self-contained HTML page with inline SVG charts.

The page needs nothing but itself: no script, no web font, no CDN, so it opens offline and can be
archived as evidence next to the data it describes. Every value that came from the store (model
names, user ids, inputs, error messages) is HTML-escaped, since records carry user data.

Charts are drawn from the keys a report has:

* ``daily`` (rows of ``day``, ``version``, ``predictions``): predictions per day, stacked by version;
* ``latency_histogram`` (rows of ``low_ms``, ``high_ms``, ``predictions``): latency distribution;
* ``outcomes`` (rows of ``outcome``, ``error_type``, ``predictions``): outcome and error mix;
* ``redactions`` (rows of ``attribute``, ``predictions``): predictions per redaction attribute;
* any other mapping of names to counts (``versions_used``, ``outcome_distribution``…): a bar chart.

Each chart is an ``<svg class="chart" data-chart="NAME">`` whose bars carry ``data-value``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from otel_audit._json import non_finite_name, strict_json

__all__ = ["render_html"]

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
_OUTCOME_COLORS = {"ok": "#2ca02c", "error": "#d62728"}
_WIDTH = 720
_BAR_HEIGHT = 22
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { max-width: 28rem; overflow-wrap: anywhere; } td table { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
svg.chart { background: #fafafa; border: 1px solid #ddd; }
svg.chart text { font-size: 11px; fill: #333; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
"""

_TITLES = {
    "compliance": "Compliance report",
    "model-usage": "Model usage",
    "data-access": "Data access",
    "version-at": "Version at a point in time",
    "version-timeline": "Version timeline",
    "request": "Request record",
    "reproduce": "Reproduce a request",
    "input": "Input lookup",
    "outcomes": "Outcome and error mix",
    "redactions": "Redaction counts",
}
_SUBJECT_KEYS = ("model", "user_id", "request_id", "input_hash")


def _text(value: Any) -> str:
    """Plain text for a cell or label (escaped later by the caller)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds") + ("" if value.tzinfo else " UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else non_finite_name(value)
    if isinstance(value, (Mapping, list, tuple)):
        return strict_json(value, default=_text, sort_keys=True)
    return str(value)


def _e(value: Any) -> str:
    return escape(_text(value), quote=True)


def _is_count_map(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value.values())
    )


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(row, Mapping) for row in value)


def _legend(names: Sequence[str], colors: Mapping[str, str]) -> str:
    items = "".join(f'<span><i style="background:{colors[name]}"></i>{_e(name)}</span>' for name in names)
    return f'<div class="legend">{items}</div>'


def _svg(name: str, height: int, label: str, body: str) -> str:
    return (
        f'<svg class="chart" data-chart="{_e(name)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{_e(label)}" width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}">'
        f"<title>{_e(label)}</title>{body}</svg>"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _column_chart(
    name: str, label: str, columns: Sequence[tuple[str, Sequence[tuple[str, float]]]], colors: Mapping[str, str]
) -> str:
    """Vertical bars, one per column, each stacked from (series, value) segments."""
    height, left, bottom, top = 260, 48, 52, 12
    plot_w, plot_h = _WIDTH - left - 12, height - bottom - top
    top_value = _nice_max(max((sum(v for _, v in segs) for _, segs in columns), default=0))
    parts = []
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{_WIDTH - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(round(value, 3))}</text>')
    slot = plot_w / max(len(columns), 1)
    bar_w = max(slot * 0.7, 1.0)
    label_every = max(1, math.ceil(len(columns) / 16))
    for index, (column, segments) in enumerate(columns):
        x = left + index * slot + (slot - bar_w) / 2
        base = float(top + plot_h)
        for series, value in segments:
            if value <= 0:
                continue
            h = plot_h * value / top_value
            base -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colors[series]}" data-series="{_e(series)}" data-column="{_e(column)}" '
                f'data-value="{_e(value)}"><title>{_e(column)} · {_e(series)}: {_e(value)}</title></rect>'
            )
        if index % label_every == 0:
            cx, cy = x + bar_w / 2, top + plot_h + 10
            parts.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {cy:.1f})">{_e(column)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{_WIDTH - 12}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    return _svg(name, height, label, "".join(parts))


def _bar_chart(name: str, label: str, items: Sequence[tuple[str, float]], colors: Mapping[str, str]) -> str:
    """Horizontal bars with their values: a share-of-total chart that stays readable for long names."""
    left, right = 220, 90
    height = 16 + _BAR_HEIGHT * len(items)
    top_value = max((v for _, v in items), default=0) or 1
    total = sum(v for _, v in items) or 1
    parts = []
    for index, (item, value) in enumerate(items):
        y = 8 + index * _BAR_HEIGHT
        w = (_WIDTH - left - right) * value / top_value
        short = item if len(item) <= 34 else item[:33] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{_e(short)}</text>')
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{_BAR_HEIGHT - 6}" '
            f'fill="{colors.get(item, _PALETTE[index % len(_PALETTE)])}" data-column="{_e(item)}" '
            f'data-value="{_e(value)}"><title>{_e(item)}: {_e(value)}</title></rect>'
        )
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{_e(value)} ({100 * value / total:.1f}%)</text>')
    return _svg(name, height, label, "".join(parts))


def _figure(caption: str, svg: str, legend: str = "") -> str:
    return f"<figure><figcaption>{_e(caption)}</figcaption>{legend}{svg}</figure>"


def _daily_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    days: dict[str, dict[str, float]] = {}
    versions: list[str] = []
    for row in rows:
        day, version = _text(row["day"]), _text(row["version"])
        days.setdefault(day, {})[version] = days.get(day, {}).get(version, 0) + float(row["predictions"])
        if version not in versions:
            versions.append(version)
    colors = {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(versions)}
    columns = [(day, [(v, per.get(v, 0.0)) for v in versions]) for day, per in sorted(days.items())]
    svg = _column_chart("daily", "Predictions per day, by model version", columns, colors)
    return _figure("Predictions per day, by version", svg, _legend(versions, colors))


def _latency_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    # Drop empty buckets at both ends so the populated range fills the chart.
    counts = [float(row["predictions"]) for row in rows]
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if nonzero:
        rows = rows[nonzero[0] : nonzero[-1] + 1]
    columns = []
    for row in rows:
        high = row["high_ms"]
        name = f"≥ {_text(row['low_ms'])}" if high is None else f"{_text(row['low_ms'])}–{_text(high)}"
        columns.append((name, [("predictions", float(row["predictions"]))]))
    svg = _column_chart("latency", "Latency distribution (ms)", columns, {"predictions": _PALETTE[0]})
    return _figure("Latency distribution (ms)", svg)


def _outcome_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    totals: dict[str, float] = {}
    for row in rows:
        name = _text(row["outcome"]) + (f": {_text(row['error_type'])}" if row.get("error_type") else "")
        totals[name] = totals.get(name, 0) + float(row["predictions"])
    items = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    colors = {name: _OUTCOME_COLORS.get(name.split(":")[0], "#d62728") for name, _ in items}
    return _figure("Outcome and error mix", _bar_chart("outcomes", "Outcome and error mix", items, colors))


def _charts(report: Mapping[str, Any]) -> list[str]:
    charts = []
    if _is_rows(report.get("daily")):
        charts.append(_daily_chart(report["daily"]))
    if _is_rows(report.get("latency_histogram")):
        charts.append(_latency_chart(report["latency_histogram"]))
    if _is_rows(report.get("outcomes")):
        charts.append(_outcome_chart(report["outcomes"]))
    if _is_rows(report.get("redactions")):
        counts: dict[str, int] = {}
        for row in report["redactions"]:
            counts[_text(row["attribute"])] = counts.get(_text(row["attribute"]), 0) + int(row["predictions"])
        items = sorted(((k, float(v)) for k, v in counts.items()), key=lambda item: (-item[1], item[0]))
        title = "Predictions with redactions, by attribute"
        charts.append(_figure(title, _bar_chart("redactions", title, items, {})))
    for key, value in _walk_count_maps(report):
        if key.endswith("outcome_distribution") and _is_rows(report.get("outcomes")):
            continue  # the outcome chart above already shows it, split by error type
        items = sorted(((str(k), float(v)) for k, v in value.items()), key=lambda item: (-item[1], item[0]))
        colors = {name: _OUTCOME_COLORS[name] for name, _ in items if name in _OUTCOME_COLORS}
        title = key.replace("_", " ").replace(".", " · ")
        charts.append(_figure(title.capitalize(), _bar_chart(key, title, items, colors)))
    return charts


def _walk_count_maps(report: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for key, value in report.items():
        if _is_count_map(value):
            found.append((prefix + str(key), value))
        elif isinstance(value, Mapping):
            found.extend(_walk_count_maps(value, f"{prefix}{key}."))
    return found


def _scalars(report: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    fields = []
    for key, value in report.items():
        if isinstance(value, Mapping) and not _is_count_map(value):
            fields.extend(_scalars(value, f"{prefix}{key}."))
        elif not isinstance(value, (list, Mapping)) and key not in ("report", "since", "until", "note"):
            fields.append((prefix + str(key), value))
    return fields


def _cell(value: Any) -> str:
    if _is_rows(value):
        return f"<td>{_table(value)}</td>"  # nested rows (e.g. reproduce's same_input) as a table
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{_e(value)}</td>'
    text = _text(value)
    # Only long unbroken values (hashes, JSON) may wrap anywhere; names keep their words whole.
    wide = len(text) > 40 and max((len(word) for word in text.split()), default=0) > 24
    return f'<td class="wrap">{escape(text)}</td>' if wide else f"<td>{escape(text)}</td>"


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    names = list(columns or rows[0].keys())
    head = "".join(f"<th>{_e(name)}</th>" for name in names)
    body = "".join("<tr>" + "".join(_cell(row.get(name)) for name in names) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Mapping[str, Any]) -> str:
    """Return *report* as a complete, self-contained HTML document.

    Args:
        report: a dict from :mod:`otel_audit.answer.queries`.

    Returns:
        The page as text (UTF-8 declared), with the report's fields, charts and row tables.
    """
    kind = _text(report.get("report", "report"))
    title = _TITLES.get(kind, kind)
    subject = next((_text(report[key]) for key in _SUBJECT_KEYS if report.get(key)), "")
    subject = "all models" if subject == "*" else subject
    heading = f"{title}: {subject}" if subject else title
    meta = []
    if "since" in report or "until" in report:
        # The period stated: the bounds given, else the first and last record's times (docs/reports.md).
        start, end = (_e(report[key]) if report.get(key) is not None else "" for key in ("since", "until"))
        no_records = "(no records)"
        meta.append(f"Period: {start or no_records} to {end or no_records}." if start or end else "Period: no records.")
    if report.get("note"):
        meta.append(f"<strong>{_e(report['note'])}.</strong>")
    meta.append(f"Generated by otel-audit ({_e(kind)} report). Times are UTC.")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # An empty icon: the page makes no request at all, not even for /favicon.ico.
        '<link rel="icon" href="data:,">',
        f"<title>{escape(heading)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="meta">{" ".join(meta)}</p>',
    ]
    fields = _scalars(report)
    if fields:
        parts.append("<h2>Summary</h2>")
        parts.append(_table([{"field": k, "value": v} for k, v in fields]))
    charts = _charts(report)
    if charts:
        parts.append(f'<h2>Charts</h2><div class="charts">{"".join(charts)}</div>')
    for key, value in report.items():
        if _is_rows(value):
            parts.append(f"<h2>{_e(key.replace('_', ' ').capitalize())} ({len(value)})</h2>")
            parts.append(_table(value))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
