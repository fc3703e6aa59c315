"""The HTML renderer and every report in every format through the CLI, on the seeded store."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from answer_seed import Seeded
from typer.testing import CliRunner

from otel_audit.answer import queries
from otel_audit.answer.html import render_html
from otel_audit.answer.reports import FORMATS
from otel_audit.cli import app


class _Collector(HTMLParser):
    """Collect tags, attributes and text of a page, and fail on unbalanced tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return parser


class TestRenderHtml:
    def test_user_data_is_escaped(self) -> None:
        """Markup in stored values appears as text, never as tags or attributes."""
        evil = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
        page = render_html(
            {"report": "outcomes", "model": evil, "outcome_distribution": {evil: 3}, "rows": [{"m": evil}]}
        )
        parsed = _parse(page)
        assert not [tag for tag, _ in parsed.tags if tag in ("script", "img")]
        assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
        assert evil in "".join(parsed.text)

    def test_self_contained(self) -> None:
        """The page loads nothing: no script, no external URL, an inline empty favicon."""
        page = render_html({"report": "model-usage", "model": "m", "versions_used": {"v1": 2}})
        parsed = _parse(page)
        urls = [v for _, attrs in parsed.tags for k, v in attrs.items() if k in ("src", "href") and v]
        assert urls == ["data:,"]
        assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")

    def test_daily_chart_stacks_versions(self) -> None:
        """The daily chart has one bar segment per (day, version) with its count, and a legend."""
        daily = [
            {"day": "2026-03-01", "version": "v1", "predictions": 5},
            {"day": "2026-03-02", "version": "v1", "predictions": 2},
            {"day": "2026-03-02", "version": "v2", "predictions": 3},
        ]
        parsed = _parse(render_html({"report": "version-timeline", "model": "m", "daily": daily}))
        bars = [a for tag, a in parsed.tags if tag == "rect" and a.get("class") == "bar"]
        assert [(a["data-column"], a["data-series"], a["data-value"]) for a in bars] == [
            ("2026-03-01", "v1", "5"),
            ("2026-03-02", "v1", "2"),
            ("2026-03-02", "v2", "3"),
        ]
        assert len({a["fill"] for a in bars}) == 2

    def test_empty_report_renders(self) -> None:
        """A report with no predictions still renders a valid page without charts."""
        page = render_html({"report": "model-usage", "model": "m", "total_predictions": 0})
        assert "<svg" not in page and page.rstrip().endswith("</html>")


_REPORTS: dict[str, list[str]] = {
    "model-usage": ["--model", "fraud_detector"],
    "data-access": ["--user", "u1"],
    "version-at": ["--model", "fraud_detector", "--at", "2026-04-01T00:00:00Z"],
    "request": ["req-0004"],
    "input": ["@input"],
    "version-timeline": ["--model", "fraud_detector"],
    "outcomes": [],
    "redactions": [],
    "reproduce": ["req-0004"],
    "compliance": ["--model", "fraud_detector"],
}

_WITH_OUT = ("version-timeline", "outcomes", "redactions", "reproduce", "compliance")


def _expected_total(name: str, seeded: Seeded) -> int:
    """The prediction count each report must show, computed from the seed."""
    predictions = seeded.predictions
    return {
        "model-usage": len(seeded.of("fraud_detector")),
        "data-access": sum(p.user == "u1" for p in predictions),
        "version-at": len(seeded.of("fraud_detector")),
        "request": 1,
        "input": sum(p.input == predictions[4].input for p in predictions),
        "version-timeline": len(seeded.of("fraud_detector")),
        "outcomes": len(predictions),
        "redactions": sum(len(p.redaction) for p in predictions),
        "reproduce": 1,
        "compliance": len(seeded.of("fraud_detector")),
    }[name]


def _total(name: str, report: dict[str, Any]) -> int:
    """The prediction count a report's JSON shows."""
    if name in ("request", "reproduce", "input"):
        return int(report["found"])
    if name == "version-at":
        return sum(row["predictions"] for row in report["versions"])
    if name == "data-access":
        return int(report["total_requests"])
    if name == "redactions":
        return sum(row["predictions"] for row in report["rows"])
    if name == "compliance":
        return int(report["summary"]["total_predictions"])
    return int(report["total_predictions"])


class TestEveryReportFormat:
    @pytest.mark.parametrize("name", sorted(_REPORTS))
    def test_every_format(self, name: str, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """Each report renders as table, JSON, CSV and HTML, and its JSON totals match the seed."""
        digest = queries.request_record(seeded.store, "req-0004")["records"][0]["input_hash"]
        args = [digest if a == "@input" else a for a in _REPORTS[name]]
        runner = CliRunner()
        outputs = {}
        for fmt in FORMATS:
            out = tmp_path / f"{name}.{fmt}"
            # The new reports write to --out; the skeleton's print to stdout.
            to_file = ["--out", str(out)] if name in _WITH_OUT else []
            result = runner.invoke(app, ["report", name, *args, "--store", store_dsn, "-f", fmt, *to_file])
            assert result.exit_code == 0, result.stderr
            outputs[fmt] = out.read_text(encoding="utf-8") if out.exists() else result.stdout
        assert _total(name, json.loads(outputs["json"])) == _expected_total(name, seeded)
        rows = [row for row in csv.reader(io.StringIO(outputs["csv"])) if row]
        assert rows and all(len(row) == len(rows[0]) for row in rows)
        assert name in " ".join(outputs["table"].split()) and "otel-audit report:" in outputs["table"]
        parsed = _parse(outputs["html"])
        assert ("h1", {}) in parsed.tags and "otel-audit" in "".join(parsed.text)

    def test_out_to_unwritable_path(self, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """--out into a missing folder is a one-line error with exit code 2."""
        result = CliRunner().invoke(
            app, ["report", "outcomes", "--store", store_dsn, "--out", str(tmp_path / "no" / "x.html")]
        )
        assert result.exit_code == 2 and "cannot write" in result.stderr
