"""The HTML compliance page in real headless Chromium: no console errors, charts drawn, screenshot kept."""

from __future__ import annotations

from pathlib import Path

from answer_chromium import load_page
from answer_seed import Seeded
from typer.testing import CliRunner

from otel_audit.cli import app

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
"""Git-ignored folder where the browser tests leave their screenshots."""


class TestHtmlInChromium:
    def test_compliance_page_renders_with_charts(self, seeded: Seeded, store_dsn: str, tmp_path: Path) -> None:
        """The generated page loads with no console message or error, and draws every chart with its data."""
        page = tmp_path / "compliance.html"
        result = CliRunner().invoke(
            app, ["report", "compliance", "--model", "fraud_detector", "--store", store_dsn, "--out", str(page)]
        )
        assert result.exit_code == 0, result.stderr
        shown = load_page(page, ARTIFACTS / "compliance-report.png")
        print(f"screenshot: {shown.screenshot}")
        assert shown.problems == []
        assert shown.title == "Compliance report: fraud_detector"
        charts = {chart["name"]: chart for chart in shown.charts}
        assert {"daily", "latency", "outcomes"} <= set(charts)
        for chart in charts.values():
            assert chart["width"] > 300 and chart["height"] > 30 and chart["bars"] > 0
        # Every (day, version) segment is laid out, in two colours for the two versions.
        days = {(p.timestamp.date(), p.version) for p in seeded.of("fraud_detector")}
        assert charts["daily"]["bars"] == len(days) and len(charts["daily"]["fills"]) == 2
        assert sum(charts["daily"]["values"]) == len(seeded.of("fraud_detector"))
        assert sum(charts["latency"]["values"]) == len(seeded.of("fraud_detector"))
        assert sum(charts["outcomes"]["values"]) == len(seeded.of("fraud_detector"))
        assert shown.screenshot.stat().st_size > 10_000

    def test_console_errors_are_caught(self, tmp_path: Path) -> None:
        """The harness itself sees a console error and an uncaught exception (so the test above can fail)."""
        page = tmp_path / "broken.html"
        page.write_text("<!DOCTYPE html><title>b</title><script>console.error('boom'); missing();</script>")
        shown = load_page(page, tmp_path / "broken.png")
        assert shown.problems[0] == "console.error: boom"
        assert "ReferenceError" in shown.problems[1]
        assert shown.charts == []
