"""Render a report dict as one self-contained HTML page with inline SVG charts.

The page needs nothing but itself: no script, no web font, no CDN, so it opens offline and can be
archived as evidence next to the data it describes. Every value that came from the store (model
names, user ids, inputs, error messages) is HTML-escaped, since records carry user data.

The compliance report (:func:`otel_audit.answer.queries.compliance`) gets a page of its own, meant
to be signed by an auditor: human wording, the period as dates, a red banner on top when the
integrity check failed (naming the first bad record), an integrity section (the last signed
checkpoint, its signer's key id, sealed and unsealed records, the verification run), redaction
figures as shares of all predictions, then charts and tables. Every other report is shown as its
fields, its charts and its row tables.

Charts are drawn from the keys a report has:

* ``daily`` (rows of ``day``, ``version``, ``predictions``): predictions per day, stacked by version;
* ``latency_histogram`` (rows of ``low_ms``, ``high_ms``, ``predictions``): latency distribution;
* ``outcomes`` (rows of ``outcome``, ``error_type``, ``predictions``): outcome and error mix;
* ``redactions`` (rows of ``attribute``, ``nonzero``): predictions where each redaction count is above 0;
* any other mapping of names to counts (``versions_used``, ``outcome_distribution``…): a bar chart.

Each chart is an ``<svg class="chart" data-chart="NAME">`` whose bars carry ``data-value``. Its
margins are sized from the text it holds (a conservative estimate of each label's width), so no
axis or bar label is clipped by the SVG box; ``tests/answer/test_browser.py`` measures this in
Chromium.
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
_FONT_PX = 11
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { max-width: 28rem; overflow-wrap: anywhere; } td table { margin: 0; }
table.fields th { font-weight: 600; width: 16rem; }
code { font-size: .85em; overflow-wrap: anywhere; }
.banner { padding: .8rem 1rem; margin: 1rem 0; border-radius: 4px; border: 2px solid; }
.banner.fail { background: #fde8e8; border-color: #c81e1e; color: #7a0e0e; }
.banner.warn { background: #fff6e0; border-color: #c27c0e; color: #5c3a00; }
.banner.pass { background: #e8f6ec; border-color: #2f8a4a; color: #15452a; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
svg.chart { background: #fafafa; border: 1px solid #ddd; }
svg.chart text { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 11px; fill: #333; }
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

_LABELS = {
    "at": "At",
    "day": "Day (UTC)",
    "error_type": "Error type",
    "errors": "Failed",
    "example_message": "Example error message",
    "first_prediction": "First prediction",
    "first_seen": "First seen",
    "from_version": "From version",
    "generated_at": "Generated",
    "high_ms": "To (ms, exclusive)",
    "last_prediction": "Last prediction",
    "last_seen": "Last seen",
    "latency_ms.max": "Maximum latency",
    "latency_ms.mean": "Mean latency",
    "latency_ms.p50": "p50 latency (median)",
    "latency_ms.p95": "p95 latency",
    "latency_ms.p99": "p99 latency",
    "low_ms": "From (ms)",
    "ok": "Succeeded",
    "outcome": "Outcome",
    "predictions": "Predictions",
    "replaced": "Replaced version",
    "rows_predicted": "Rows predicted",
    "to_version": "To version",
    "total_predictions": "Predictions",
    "unique_users": "Distinct users",
    "version": "Version",
}
"""Human wording of report keys (a dotted key is looked up by its last one or two parts)."""


# --- text -----------------------------------------------------------------------------------


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


def _count(value: Any) -> str:
    """A count as a person reads it: ``97,000``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _e(value)
    return f"{value:,.0f}" if math.isfinite(value) else non_finite_name(float(value))


def _label(key: str) -> str:
    """The human wording of a report key: ``summary.latency_ms.p99`` is "p99 latency"."""
    parts = key.split(".")
    for size in (2, 1):
        if len(parts) >= size and ".".join(parts[-size:]) in _LABELS:
            return _LABELS[".".join(parts[-size:])]
    words = " ".join(parts[-2:] if len(parts) > 1 else parts).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _share(part: float, whole: float) -> str:
    """*part* as a percentage of *whole*, with the digits that matter: never 0% or 100% unless exact.

    ``1`` of ``202`` is ``0.5%``, ``1`` of ``97,372`` is ``0.001%``, ``97,371`` of ``97,372`` is
    ``99.999%``.
    """
    if whole <= 0:
        return "–"
    if part <= 0:
        return "0%"
    if part >= whole:
        return "100%"
    percent = 100 * part / whole
    if percent < 0.1:
        return f"{percent:.2g}%"
    if percent > 99.9:
        # As many decimals as the first digit of the remainder needs: rounding cannot reach 100.
        digits = max(2, math.ceil(-math.log10(100 - percent)))
        return f"{percent:.{digits}f}%"
    return f"{percent:.1f}%"


# Advance widths of DejaVu Sans (the chart font, Verdana's metrics) in em, rounded up; other
# fonts a browser may substitute are narrower, so a label measured here fits.
_NARROW = frozenset("iIjl.,:;'|!` ")
_SEMI = frozenset('frt()[]{}-/\\"')
_WIDE = frozenset("mwMW%@…")


def _text_width(text: str, font_px: float = _FONT_PX) -> float:
    """A conservative estimate of *text*'s width in px at *font_px* in the chart font."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.33
        elif char in _SEMI:
            em += 0.45
        elif char in _WIDE:
            em += 1.0
        elif char.isupper():
            em += 0.8
        elif char.isascii():
            em += 0.66
        else:
            em += 1.0
    return em * font_px * 1.05


def _fit(text: str, width: float) -> str:
    """*text*, cut with an ellipsis so it fits in *width* px."""
    if _text_width(text) <= width:
        return text
    while text and _text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


# --- charts ---------------------------------------------------------------------------------


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


def _svg(name: str, height: float, label: str, body: str) -> str:
    return (
        f'<svg class="chart" data-chart="{_e(name)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{_e(label)}" width="{_WIDTH}" height="{height:.0f}" viewBox="0 0 {_WIDTH} {height:.0f}">'
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


_SIN, _COS = math.sin(math.radians(35)), math.cos(math.radians(35))


def _column_chart(
    name: str, label: str, columns: Sequence[tuple[str, Sequence[tuple[str, float]]]], colors: Mapping[str, str]
) -> str:
    """Vertical bars, one per column, each stacked from (series, value) segments.

    The left margin holds the widest axis label (and the first rotated column label), the bottom
    margin the longest rotated column label; column labels longer than 130 px are cut.
    """
    top, right = 12, 12
    top_value = _nice_max(max((sum(v for _, v in segs) for _, segs in columns), default=0))
    ticks = [(top_value * tick / 4, _tick(top_value * tick / 4, top_value)) for tick in range(5)]
    names = [_fit(column, 130) for column, _ in columns]
    longest = max((_text_width(text) for text in names), default=0)
    left = max(30.0, max(_text_width(text) for _, text in ticks) + 12, longest * _COS + 8)
    bottom = longest * _SIN + _FONT_PX * _COS + 18
    height = 200 + top + bottom
    plot_w, plot_h = _WIDTH - left - right, height - bottom - top
    parts = []
    for index, (_, text) in enumerate(ticks):
        y = top + plot_h - plot_h * index / 4
        parts.append(f'<line x1="{left:.1f}" x2="{_WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{escape(text)}</text>')
    slot = plot_w / max(len(columns), 1)
    bar_w = max(slot * 0.7, 1.0)
    # Rotated labels sit slot·sin(35°) apart: at least a line of text.
    label_every = max(1, math.ceil(len(columns) * (_FONT_PX + 3) / _SIN / plot_w))
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
                f'data-value="{_e(value)}"><title>{_e(column)} · {_e(series)}: {_count(value)}</title></rect>'
            )
        if index % label_every == 0:
            cx, cy = x + bar_w / 2 + 4, top + plot_h + 12
            parts.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {cy:.1f})">{_e(names[index])}</text>'
            )
    parts.append(
        f'<line x1="{left:.1f}" x2="{_WIDTH - right}" y1="{top + plot_h:.1f}" y2="{top + plot_h:.1f}" stroke="#333"/>'
    )
    return _svg(name, height, label, "".join(parts))


def _tick(value: float, top_value: float) -> str:
    """An axis label: whole numbers with thousands separators, else the decimals the step needs."""
    if top_value >= 4 or value == int(value):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _bar_chart(
    name: str,
    label: str,
    items: Sequence[tuple[str, float]],
    colors: Mapping[str, str],
    *,
    total: float | None = None,
    show_share: bool = True,
) -> str:
    """Horizontal bars with their counts and shares of *total* (default: the bars' sum).

    The name column is as wide as the longest name (names past 40% of the chart are cut), the
    value column as wide as the longest value label.
    """
    height = 16 + _BAR_HEIGHT * len(items)
    top_value = max((v for _, v in items), default=0) or 1
    whole = sum(v for _, v in items) if total is None else total
    values = [_count(value) + (f" ({_share(value, whole)})" if show_share else "") for _, value in items]
    names = [_fit(item, _WIDTH * 0.4) for item, _ in items]
    left = max((_text_width(text) for text in names), default=0) + 14
    right = max((_text_width(text) for text in values), default=0) + 14
    parts = []
    for index, (item, value) in enumerate(items):
        y = 8 + index * _BAR_HEIGHT
        w = (_WIDTH - left - right) * value / top_value
        parts.append(f'<text x="{left - 6:.1f}" y="{y + 15}" text-anchor="end">{_e(names[index])}</text>')
        parts.append(
            f'<rect class="bar" x="{left:.1f}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{_BAR_HEIGHT - 6}" '
            f'fill="{colors.get(item, _PALETTE[index % len(_PALETTE)])}" data-column="{_e(item)}" '
            f'data-value="{_e(value)}"><title>{_e(item)}: {escape(values[index])}</title></rect>'
        )
        parts.append(f'<text x="{left + max(w, 0.5) + 6:.1f}" y="{y + 15}">{escape(values[index])}</text>')
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
    svg = _column_chart("daily", "Predictions per day (UTC), by model version", columns, colors)
    return _figure("Predictions per day (UTC), by version", svg, _legend(versions, colors))


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


def _count_chart(key: str, title: str, value: Mapping[str, Any], *, total: float | None = None) -> str:
    items = sorted(((str(k), float(v)) for k, v in value.items()), key=lambda item: (-item[1], item[0]))
    colors = {name: _OUTCOME_COLORS[name] for name, _ in items if name in _OUTCOME_COLORS}
    return _figure(title, _bar_chart(key, title, items, colors, total=total))


def _charts(report: Mapping[str, Any]) -> list[str]:
    charts = []
    if _is_rows(report.get("daily")):
        charts.append(_daily_chart(report["daily"]))
    if _is_rows(report.get("latency_histogram")):
        charts.append(_latency_chart(report["latency_histogram"]))
    if _is_rows(report.get("outcomes")):
        charts.append(_outcome_chart(report["outcomes"]))
    if _is_rows(report.get("redactions")):
        # Predictions where the attribute is above 0 (something redacted), never those merely carrying it.
        counts: dict[str, int] = {}
        for row in report["redactions"]:
            name = _text(row["attribute"])
            counts[name] = counts.get(name, 0) + int(row.get("nonzero", row.get("predictions", 0)))
        items = sorted(((k, float(v)) for k, v in counts.items() if v), key=lambda item: (-item[1], item[0]))
        title = "Predictions where each redaction attribute is above 0"
        if items:
            charts.append(_figure(title, _bar_chart("redactions", title, items, {}, show_share=False)))
    for key, value in _walk_count_maps(report):
        if key.endswith("outcome_distribution") and _is_rows(report.get("outcomes")):
            continue  # the outcome chart above already shows it, split by error type
        charts.append(_count_chart(key, _label(key), value))
    return charts


def _walk_count_maps(report: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for key, value in report.items():
        if _is_count_map(value):
            found.append((prefix + str(key), value))
        elif isinstance(value, Mapping):
            found.extend(_walk_count_maps(value, f"{prefix}{key}."))
    return found


# --- tables ---------------------------------------------------------------------------------


def _scalars(report: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    fields = []
    for key, value in report.items():
        if isinstance(value, Mapping) and not _is_count_map(value):
            fields.extend(_scalars(value, f"{prefix}{key}."))
        elif not isinstance(value, (list, Mapping)) and key not in ("report", "since", "until", "note"):
            fields.append((prefix + str(key), value))
    return fields


def _cell(value: Any, *, counts: bool = False) -> str:
    if _is_rows(value):
        return f"<td>{_table(value)}</td>"  # nested rows (e.g. reproduce's same_input) as a table
    if counts and isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{_count(value)}</td>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{_e(value)}</td>'
    text = _text(value)
    # Only long unbroken values (hashes, JSON) may wrap anywhere; names keep their words whole.
    wide = len(text) > 40 and max((len(word) for word in text.split()), default=0) > 24
    return f'<td class="wrap">{escape(text)}</td>' if wide else f"<td>{escape(text)}</td>"


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *, counts: bool = False) -> str:
    """*rows* as a table headed by the human wording of each column (the key in its ``title``);
    with *counts*, integers get thousands separators."""
    names = list(columns or rows[0].keys())
    head = "".join(f'<th title="{_e(name)}">{escape(_label(str(name)))}</th>' for name in names)
    body = "".join("<tr>" + "".join(_cell(row.get(name), counts=counts) for name in names) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fields(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of (label, HTML value) rows; the values are escaped by the caller."""
    body = "".join(f"<tr><th>{escape(name)}</th><td>{value}</td></tr>" for name, value in rows)
    return f'<table class="fields"><tbody>{body}</tbody></table>'


def _head(heading: str) -> list[str]:
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # An empty icon: the page makes no request at all, not even for /favicon.ico.
        '<link rel="icon" href="data:,">',
        f"<title>{escape(heading)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
    ]


def render_html(report: Mapping[str, Any]) -> str:
    """Return *report* as a complete, self-contained HTML document.

    Args:
        report: a dict from :mod:`otel_audit.answer.queries`.

    Returns:
        The page as text (UTF-8 declared), with the report's fields, charts and row tables; the
        compliance report as the page described in the module docstring.
    """
    kind = _text(report.get("report", "report"))
    if kind == "compliance":
        return _compliance_page(report)
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
    parts = [*_head(heading), f'<p class="meta">{" ".join(meta)}</p>']
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


# --- the compliance page --------------------------------------------------------------------


def _when(value: Any) -> str:
    """A time as a person reads it: ``2026-03-28 00:25:44 UTC`` (escaped)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return escape(value.isoformat(sep=" ", timespec="seconds") + " UTC")
    return _e(value) if value is not None else "–"


def _period(report: Mapping[str, Any]) -> str:
    since, until = report.get("since"), report.get("until")
    if since is None and until is None:
        return "Period: no records."
    bounds = report.get("bounds") or {}
    words = []
    for key, value in (("since", since), ("until", until)):
        how = bounds.get(key)
        words.append(f"{_when(value)}" + (f" ({_e(how)})" if how else ""))
    return f"Period: {words[0]} to {words[1]}."


def _ms(value: Any) -> str:
    return f"{_e(value)} ms" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def _banner(section: Mapping[str, Any], model: str) -> str:
    status = section.get("status")
    if status == "failed":
        bad = section.get("first_bad_record")
        problem = str(section.get("first_problem") or "")
        if bad:  # "record <id> (leaf n): kind: detail", the id set apart
            first = f"The first bad record is <code>{_e(bad)}</code> {_e(problem.removeprefix(f'record {bad} '))}."
        else:
            first = f"The first problem is not a record's: {_e(problem)}."
        problems = int(section.get("problems") or 0)
        return (
            '<div class="banner fail" role="alert" data-integrity="failed"><strong>Integrity check failed.</strong> '
            f"{first} "
            f"{problems:,} problem{'s' if problems != 1 else ''} found (listed under Integrity). "
            "The figures below include records that no longer match their seal: do not rely on them.</div>"
        )
    if status == "not run":
        return (
            '<div class="banner warn" role="alert" data-integrity="not-run"><strong>Integrity not checked.</strong> '
            f"{_e(section.get('error'))}.</div>"
        )
    if status == "not sealed":
        return (
            '<div class="banner warn" data-integrity="not-sealed"><strong>Not sealed.</strong> '
            f"No signed checkpoint covers the records of {_e(model)}, so this page cannot show they are "
            "unchanged. Seal the store (<code>otel-audit seal</code>) and render the page again.</div>"
        )
    return ""


def _integrity(section: Mapping[str, Any], model: str) -> str:
    status = section.get("status")
    results = {
        "verified": "Verified: every record checked matches its seal, and the tree its signed checkpoints",
        "failed": "FAILED",
        "not sealed": "Not sealed (no signed checkpoint)",
        "not run": "Not run",
    }
    if section.get("signatures_checked"):
        signatures = f"Checked with verifier key <code>{_e(section.get('verifier_key'))}</code>"
    else:
        signatures = "Signatures not checked: no verifier key was given"
    rows = [("Result", escape(results.get(str(status), str(status)))), ("Signatures", signatures)]
    checkpoint = section.get("checkpoint")
    if checkpoint:
        signer = checkpoint.get("signer") or "(no signature line)"
        key_id = checkpoint.get("signer_key_id")
        rows += [
            (
                "Last signed checkpoint",
                f"tree size {_count(checkpoint.get('tree_size'))}, signed {_when(checkpoint.get('signed_at'))}",
            ),
            ("Signed by", f"{_e(signer)}" + (f" (key id <code>{_e(key_id)}</code>)" if key_id else "")),
            ("Origin", _e(checkpoint.get("origin"))),
            ("Root hash (hex)", f"<code>{_e(checkpoint.get('root'))}</code>"),
        ]
    else:
        rows.append(("Last signed checkpoint", "none: the store was never sealed"))
    records = section.get("records") or 0
    rows += [
        (f"Records of {model} in the period", _count(records)),
        ("Sealed", f"{_count(section.get('sealed_records'))} ({_share(section.get('sealed_records') or 0, records)})"),
        ("Not sealed yet", _count(section.get("unsealed_records"))),
    ]
    if "records_checked" in section:
        rows.append(("Records checked by this run", f"{_count(section.get('records_checked'))} (all models)"))
        rows.append(("Not sealed yet, whole store", _count(section.get("store_unsealed_records"))))
        rows.append(("Problems found", _count(section.get("problems"))))
    if section.get("error"):
        rows.append(("Error", _e(section["error"])))
    parts = ["<h2>Integrity</h2>", _fields(rows)]
    problems = section.get("problem_list") or []
    if problems:
        listed = "".join(f"<li><code>{_e(problem)}</code></li>" for problem in problems)
        more = int(section.get("problems") or 0) - len(problems)
        parts.append(f"<ol>{listed}</ol>")
        if more > 0:
            parts.append(f"<p>… and {more:,} more (run <code>otel-audit verify</code>).</p>")
    return "".join(parts)


def _summary(summary: Mapping[str, Any]) -> str:
    total = summary.get("total_predictions") or 0
    rows = [("Predictions", _count(total))]
    if "ok" in summary:
        rows += [
            ("Succeeded", f"{_count(summary['ok'])} ({_share(summary['ok'], total)})"),
            ("Failed", f"{_count(summary['errors'])} ({_share(summary['errors'], total)})"),
            ("Rows predicted", _count(summary.get("rows_predicted"))),
            ("Distinct users", _count(summary.get("unique_users"))),
        ]
        latency = summary.get("latency_ms") or {}
        rows += [(_label(f"latency_ms.{key}"), _ms(latency.get(key))) for key in ("p50", "p95", "p99", "max", "mean")]
        rows += [
            ("First prediction", _when(summary.get("first_prediction"))),
            ("Last prediction", _when(summary.get("last_prediction"))),
        ]
    return "<h2>Summary</h2>" + _fields(rows)


def _redaction(section: Mapping[str, Any]) -> tuple[str, str]:
    """The redaction section and its chart ("" when nothing was redacted)."""
    total = int(section.get("predictions") or 0)
    redacted = int(section.get("redacted") or 0)
    failed = int(section.get("failed") or 0)
    by_detector = section.get("by_detector") or {}
    if not total:
        return "<h2>Redactions</h2><p>No predictions in the period: nothing was redacted.</p>", ""
    lines = [
        f"Something was redacted in <strong>{_count(redacted)} of {_count(total)} predictions "
        f"({_share(redacted, total)})</strong>."
    ]
    if failed:
        lines.append(
            f"Redaction failed, so the data was withheld, in {_count(failed)} prediction"
            f"{'s' if failed != 1 else ''} ({_share(failed, total)})."
        )
    text = "<h2>Redactions</h2><p>" + " ".join(lines) + "</p>"
    if by_detector:
        rows = [
            {"detector": name, "predictions": count, "share of all predictions": _share(count, total)}
            for name, count in by_detector.items()
        ]
        head = "<th>Detector</th><th>Predictions where it redacted</th><th>Share of all predictions</th>"
        body = "".join(
            f'<tr><td>{_e(row["detector"])}</td><td class="num">{_count(row["predictions"])}</td>'
            f'<td class="num">{escape(str(row["share of all predictions"]))}</td></tr>'
            for row in rows
        )
        text += f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if not redacted and not failed:
        return text, ""
    items = [("any detector", float(redacted))] + [(str(k), float(v)) for k, v in by_detector.items()]
    if failed:
        items.append(("failed (withheld)", float(failed)))
    colors = {"any detector": "#444", "failed (withheld)": "#d62728"}
    title = f"Predictions with a redaction (share of all {total:,} predictions)"
    return text, _figure(title, _bar_chart("redactions", title, items, colors, total=total))


def _oversight(section: Mapping[str, Any]) -> str:
    """The human-oversight section: review coverage, overrides, time to review, agreement with
    ground truth, decisions on unknown predictions (tables only)."""
    total = int(section.get("total_predictions") or 0)
    reviewed = int(section.get("reviewed_predictions") or 0)
    reviews = int(section.get("reviews") or 0)
    overrides = int(section.get("overrides") or 0)
    unknown = int(section.get("unknown_target_decisions") or 0)
    if not total and not unknown:
        return "<h2>Human oversight</h2><p>No predictions in the period: nothing to review.</p>"
    text = (
        f"<h2>Human oversight</h2><p><strong>{_count(reviewed)} of {_count(total)} predictions "
        f"({_share(reviewed, total) if total else 'none'})</strong> were reviewed"
    )
    if reviews:
        text += f"; {_count(overrides)} of {_count(reviews)} reviews ({_share(overrides, reviews)}) overrode the model"
    text += ".</p>"
    rows = [
        ("Time to review, p50", _seconds(section.get("review_seconds_p50"))),
        ("Time to review, p95", _seconds(section.get("review_seconds_p95"))),
        ("Predictions with a ground truth", _count(section.get("labelled_predictions") or 0)),
        ("Accuracy against ground truth", _rate_text(section.get("accuracy"))),
        ("Feedback", _count(section.get("feedback") or 0)),
        ("Decisions on unknown predictions", _count(unknown)),
    ]
    text += _fields(rows)
    for key, title in (
        ("versions", "Oversight by model version"),
        ("reviewers", "Reviews by reviewer"),
        ("confusion", "Predicted label against ground truth"),
        ("unknown_targets", "Decisions naming no stored prediction"),
    ):
        if _is_rows(section.get(key)):
            text += f"<h3>{escape(title)} ({len(section[key]):,})</h3>" + _table(section[key], counts=True)
    return text


def _seconds(value: Any) -> str:
    return "none" if value is None else f"{float(value):,.1f} s"


def _rate_text(value: Any) -> str:
    return "none" if value is None else f"{float(value) * 100:.3g}%"


def _compliance_page(report: Mapping[str, Any]) -> str:
    from otel_audit import __version__

    model = _text(report.get("model"))
    heading = f"Compliance report: {model}"
    section = report.get("integrity") or {}
    summary = report.get("summary") or {}
    parts = [*_head(heading), _banner(section, model) if section else ""]
    meta = [_period(report)]
    if report.get("note"):
        meta.append(f"<strong>{_e(report['note'])}.</strong>")
    meta.append(f"Generated {_when(report.get('generated_at'))} by otel-audit {escape(__version__)}. Times are UTC.")
    parts.append(f'<p class="meta">{" ".join(meta)}</p>')
    parts.append(_summary(summary))
    if section:
        parts.append(_integrity(section, model))
    redaction_chart = ""
    if report.get("redaction"):
        text, redaction_chart = _redaction(report["redaction"])
        parts.append(text)
    parts.append(_oversight(report["oversight"]) if report.get("oversight") else "")
    charts = []
    if _is_rows(report.get("daily")):
        charts.append(_daily_chart(report["daily"]))
    histogram = report.get("latency_histogram") or []
    if _is_rows(histogram) and any(row.get("predictions") for row in histogram):
        charts.append(_latency_chart(histogram))
    if _is_rows(report.get("outcomes")):
        charts.append(_outcome_chart(report["outcomes"]))
    if redaction_chart:
        charts.append(redaction_chart)
    if _is_count_map(summary.get("prediction_distribution")):
        charts.append(_count_chart("labels", "Predicted labels", summary["prediction_distribution"]))
    if _is_count_map(summary.get("versions_used")):
        charts.append(_count_chart("versions", "Predictions by model version", summary["versions_used"]))
    if charts:
        parts.append(f'<h2>Charts</h2><div class="charts">{"".join(charts)}</div>')
    tables = (
        ("versions", "Versions"),
        ("changes", "Version changes"),
        ("daily", "Predictions per day (UTC) and version"),
        ("latency_histogram", "Latency histogram"),
        ("outcomes", "Outcomes and error types"),
    )
    for key, title in tables:
        if _is_rows(report.get(key)):
            parts.append(f"<h2>{escape(title)} ({len(report[key]):,})</h2>")
            parts.append(_table(report[key], counts=True))
    parts.append("</body></html>")
    return "\n".join(part for part in parts if part) + "\n"
