"""The HTML compliance page in real headless Chromium: no console errors, charts drawn with every
label inside its chart, the integrity banner on a tampered store, screenshots kept.

Screenshots are written under the test's tmp folder and, when ``OTEL_AUDIT_ARTIFACTS`` names a
folder, copied there (the test prints both paths).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from answer_chromium import PageReport, clipped_labels, load_page
from answer_seed import SIGNER, Seeded, tamper

from otel_audit.answer import queries
from otel_audit.answer.html import render_html
from otel_audit.seal.sealer import seal

pytestmark = pytest.mark.slow  # a headless Chromium per test

ARTIFACTS = os.environ.get("OTEL_AUDIT_ARTIFACTS")
"""Where to copy the screenshots too; read at import, before the fixtures clear ``OTEL_AUDIT_*``."""

# Where the integrity banner is, its colour and text, and where the first section starts.
_BANNER_JS = {
    "banner": """(() => { const b = document.querySelector('.banner');
      if (!b) return null; const r = b.getBoundingClientRect();
      return {kind: b.dataset.integrity, top: r.top, height: r.height, text: b.textContent,
              background: getComputedStyle(b).backgroundColor}; })()""",
    "first_section": "document.querySelector('h2').getBoundingClientRect().top",
}


def _show(report: dict[str, Any], tmp_path: Path, name: str) -> PageReport:
    """Render *report*, open it in Chromium, keep the screenshot; fail on any console message."""
    page = tmp_path / f"{name}.html"
    page.write_text(render_html(report), encoding="utf-8")
    shown = load_page(page, tmp_path / f"{name}.png", evaluate=_BANNER_JS)
    print(f"screenshot: {shown.screenshot}")
    if ARTIFACTS:
        Path(ARTIFACTS).mkdir(parents=True, exist_ok=True)
        print(f"screenshot: {shutil.copy(shown.screenshot, Path(ARTIFACTS) / shown.screenshot.name)}")
    assert shown.problems == []
    assert shown.screenshot.stat().st_size > 10_000
    for chart in shown.charts:
        assert clipped_labels(chart) == [], chart["name"]
        assert chart["texts"], chart["name"]
    return shown


def _extreme_report() -> dict[str, Any]:
    """A compliance report built to overflow: 90 days, six-digit counts, long upper-case names."""
    long_version = "W" * 40 + "-canary"
    daily = [
        {"day": dt.date(2026, 1, 1) + dt.timedelta(days=day), "version": version, "predictions": 97_000 + day}
        for day in range(90)
        for version in ("v1", long_version)
    ]
    error = "requests.exceptions.ConnectionError" + "M" * 30
    return {
        "report": "compliance",
        "model": "fraud_detector",
        "since": dt.datetime(2026, 1, 1),
        "until": dt.datetime(2026, 4, 1),
        "bounds": {"since": "given", "until": "given, exclusive"},
        "generated_at": dt.datetime(2026, 4, 2),
        "summary": {
            "total_predictions": 97_372,
            "ok": 97_371,
            "errors": 1,
            "prediction_distribution": {"APPROVE" * 8: 97_000, "no": 371},
            "versions_used": {"v1": 97_000, long_version: 372},
            "latency_ms": {"p50": 1.5, "p95": 20.25, "p99": 99.125, "max": 10_500.0, "mean": 3.0},
        },
        "redaction": {
            "predictions": 97_372,
            "redacted": 97_372,
            "failed": 1,
            "by_detector": {"phone_field": 97_372, "EMAIL_ADDRESS" * 4: 1},
        },
        "daily": daily,
        "latency_histogram": [
            {"low_ms": 0.0, "high_ms": 0.1, "predictions": 100_000},
            {"low_ms": 5000, "high_ms": 10000, "predictions": 2},
            {"low_ms": 10000, "high_ms": None, "predictions": 97_000},
        ],
        "outcomes": [
            {"outcome": "ok", "error_type": "", "predictions": 97_371},
            {"outcome": "error", "error_type": error, "predictions": 1},
        ],
    }


class TestHtmlInChromium:
    def test_compliance_page_renders_with_charts(self, seeded: Seeded, tmp_path: Path) -> None:
        """The page loads with no console message or error, draws every chart with its data, labels inside."""
        seal(seeded.store, SIGNER)
        shown = _show(
            queries.compliance(seeded.store, "fraud_detector", verifier=SIGNER.verifier), tmp_path, "compliance"
        )
        assert shown.title == "Compliance report: fraud_detector"
        assert shown.values["banner"] is None  # sealed and verified: nothing to warn about
        charts = {chart["name"]: chart for chart in shown.charts}
        assert {"daily", "latency", "outcomes", "redactions", "labels", "versions"} <= set(charts)
        for chart in charts.values():
            assert chart["width"] > 300 and chart["height"] > 30 and chart["bars"] > 0
        # Every (day, version) segment is laid out, in two colours for the two versions.
        days = {(p.timestamp.date(), p.version) for p in seeded.of("fraud_detector")}
        assert charts["daily"]["bars"] == len(days) and len(charts["daily"]["fills"]) == 2
        assert sum(charts["daily"]["values"]) == len(seeded.of("fraud_detector"))
        assert sum(charts["latency"]["values"]) == len(seeded.of("fraud_detector"))
        assert sum(charts["outcomes"]["values"]) == len(seeded.of("fraud_detector"))

    def test_long_labels_and_large_counts_fit(self, tmp_path: Path) -> None:
        """Six-digit axis and bar labels and long names stay inside their charts (no `00,000`, no cut `(100%`)."""
        shown = _show(_extreme_report(), tmp_path, "compliance-extreme")
        texts = {text["text"] for chart in shown.charts for text in chart["texts"]}
        assert "100,000" in texts and "97,372 (100%)" in texts and "1 (0.001%)" in texts
        assert any(text.endswith("…") for text in texts)  # a name too long for its column is cut, visibly

    def test_tampered_store_shows_a_red_banner(self, seeded: Seeded, tmp_path: Path) -> None:
        """A record updated after sealing: a red banner above everything else names it as the first bad record."""
        seal(seeded.store, SIGNER)
        record_id = tamper(seeded.store, seeded.of("fraud_detector")[3].request_id)
        report = queries.compliance(seeded.store, "fraud_detector", verifier=SIGNER.verifier)
        shown = _show(report, tmp_path, "compliance-tampered")
        banner = shown.values["banner"]
        assert banner is not None and banner["kind"] == "failed"
        assert banner["top"] < shown.values["first_section"] and banner["height"] > 20
        assert f"The first bad record is {record_id}" in " ".join(banner["text"].split())
        red, green, blue = (int(part) for part in banner["background"].strip("rgba()").split(",")[:3])
        assert red > 200 and green < red - 10 and blue < red - 10

    def test_console_errors_are_caught(self, tmp_path: Path) -> None:
        """The harness itself sees a console error and an uncaught exception (so the tests above can fail)."""
        page = tmp_path / "broken.html"
        page.write_text("<!DOCTYPE html><title>b</title><script>console.error('boom'); missing();</script>")
        shown = load_page(page, tmp_path / "broken.png")
        assert shown.problems[0] == "console.error: boom"
        assert "ReferenceError" in shown.problems[1]
        assert shown.charts == []

    def test_clipped_labels_are_caught(self, tmp_path: Path) -> None:
        """The harness itself sees a label drawn past its chart's edge (so the label checks can fail)."""
        page = tmp_path / "clipped.html"
        page.write_text(
            '<!DOCTYPE html><title>c</title><svg class="chart" data-chart="c" width="100" height="40">'
            '<text x="95" y="20">97,000 (100.0%)</text><text x="10" y="20">ok</text></svg>'
        )
        shown = load_page(page, tmp_path / "clipped.png")
        assert [label.split(" ")[0] for label in clipped_labels(shown.charts[0])] == ["'97,000"]
