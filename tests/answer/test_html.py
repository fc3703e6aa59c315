"""The HTML renderer and every report in every format through the CLI, on the seeded store."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from answer_seed import SIGNER, Seeded, insert_predictions, make_prediction, tamper
from typer.testing import CliRunner

from otel_audit.answer import queries
from otel_audit.answer.html import _share, render_html
from otel_audit.answer.reports import FORMATS
from otel_audit.cli import app
from otel_audit.errors import UnknownModelError
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.sealer import seal
from otel_audit.store.connect import Store


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


def _visible_text(page: str) -> str:
    """The page's text as a browser shows it, whitespace collapsed (the head's style and title left out)."""
    return " ".join(" ".join(_parse(page[page.index("<body>") :]).text).split())


class TestShare:
    @pytest.mark.parametrize(
        ("part", "whole", "shown"),
        [
            (1, 202, "0.5%"),
            (202, 202, "100%"),
            (0, 202, "0%"),
            (1, 97_372, "0.001%"),
            (97_371, 97_372, "99.999%"),
            (183, 200, "91.5%"),
            (1, 0, "–"),
        ],
    )
    def test_significant_digits(self, part: int, whole: int, shown: str) -> None:
        """A share shows the digits that matter: never 0% or 100% unless it is exactly that."""
        assert _share(part, whole) == shown


class TestCompliancePage:
    def test_human_wording_and_real_period(self, seeded: Seeded) -> None:
        """Labels are words ("p99 latency"), never raw keys, and the period is the records' first and last time."""
        page = render_html(queries.compliance(seeded.store, "fraud_detector"))
        text = _visible_text(page)
        mine = seeded.of("fraud_detector")
        assert "p99 latency" in text and "Distinct users" in text and "Predictions per day (UTC)" in text
        assert "summary." not in text and "latency_ms" not in text and "total_predictions" not in text
        assert f"Period: {mine[0].timestamp:%Y-%m-%d %H:%M:%S} UTC (first record)" in text
        assert f"to {mine[-1].timestamp:%Y-%m-%d %H:%M:%S} UTC (last record)" in text
        assert "1970" not in text and "2262" not in text

    def test_redaction_shares_are_of_all_predictions(self, store: Store) -> None:
        """1 redacted prediction of 202 is 0.5% of them, any detector and per detector, never the attribute count."""
        rng = random.Random(3)
        plain = {"audit.redaction.count": "0"}
        predictions = [
            dataclasses.replace(make_prediction(rng, index), model="m", redaction=plain) for index in range(202)
        ]
        predictions[5] = dataclasses.replace(
            predictions[5],
            redaction={"audit.redaction.count": "3", "audit.redaction.email": "2", "audit.redaction.phone_field": "1"},
        )
        predictions[6] = dataclasses.replace(predictions[6], redaction={"audit.redaction.error": "1"})
        insert_predictions(store, predictions)
        report = queries.compliance(store, "m")
        assert report["redaction"] == {
            "predictions": 202,
            "redacted": 1,
            "failed": 1,
            "by_detector": {"email": 1, "phone_field": 1},
        }
        page = render_html(report)
        text = _visible_text(page)
        assert "Something was redacted in 1 of 202 predictions (0.5%)" in text
        assert "data was withheld, in 1 prediction (0.5%)" in text
        assert "email 1 0.5%" in text and "phone_field 1 0.5%" in text
        bars = {a["data-column"]: a["data-value"] for tag, a in _parse(page).tags if a.get("class") == "bar"}
        assert {bars[name] for name in ("any detector", "email", "phone_field", "failed (withheld)")} == {"1"}
        redactions = text[text.index("Redactions") : text.index("Charts")]
        assert "99.5%" not in redactions and "202 (" not in redactions
        assert "any detector" in page and "1 (0.5%)" in page

    def test_unknown_model_is_an_error(self, seeded: Seeded) -> None:
        """The page of a model the store has never seen is an UnknownModelError naming the known ones."""
        with pytest.raises(UnknownModelError, match="closest first: 'fraud_detector'"):
            queries.compliance(seeded.store, "fraud_detectr")

    def test_never_sealed(self, seeded: Seeded) -> None:
        """An unsealed store says so on top, with no checkpoint, and every record counted as not sealed."""
        report = queries.compliance(seeded.store, "fraud_detector")
        section = report["integrity"]
        assert section["status"] == "not sealed" and section["checkpoint"] is None
        assert section["unsealed_records"] == section["records"] == len(seeded.of("fraud_detector"))
        page = render_html(report)
        assert 'data-integrity="not-sealed"' in page and 'class="banner fail"' not in page

    def test_sealed_and_checked_with_the_key(self, seeded: Seeded) -> None:
        """Sealed and verified with the verifier key: the checkpoint, its signer's key id, and no banner."""
        sealed = seal(seeded.store, SIGNER)
        report = queries.compliance(seeded.store, "fraud_detector", verifier=SIGNER.verifier)
        section = report["integrity"]
        assert section["status"] == "verified" and section["signatures_checked"] is True
        assert section["checkpoint"]["tree_size"] == sealed.tree_size == len(seeded.predictions)
        assert section["checkpoint"]["root"] == sealed.root.hex()
        assert (section["checkpoint"]["signer"], section["checkpoint"]["signer_key_id"]) == (
            "audit.test",
            SIGNER.verifier.key_id.hex(),
        )
        assert section["sealed_records"] == len(seeded.of("fraud_detector")) and section["unsealed_records"] == 0
        text = _visible_text(render_html(report))
        assert f"Checked with verifier key audit.test+{SIGNER.verifier.key_id.hex()}" in text
        assert f"key id {SIGNER.verifier.key_id.hex()}" in text and f"tree size {sealed.tree_size}" in text
        assert "data-integrity" not in render_html(report)

    def test_without_a_key_signatures_are_not_checked(self, seeded: Seeded) -> None:
        """Without a verifier key the page verifies the tree but says the signatures were not checked."""
        seal(seeded.store, SIGNER)
        report = queries.compliance(seeded.store, "fraud_detector")
        assert report["integrity"]["status"] == "verified" and report["integrity"]["signatures_checked"] is False
        assert "Signatures not checked: no verifier key was given" in _visible_text(render_html(report))

    def test_records_after_the_seal_are_counted_unsealed(self, seeded: Seeded) -> None:
        """Records stored after the last seal are counted as not sealed yet, without failing verification."""
        seal(seeded.store, SIGNER)
        late = [dataclasses.replace(p, request_id=f"late-{i}", record_id=f"{i:032x}-{9:016x}") for i, p in
                enumerate(seeded.of("fraud_detector")[:3])]  # fmt: skip
        insert_predictions(seeded.store, late)
        section = queries.compliance(seeded.store, "fraud_detector", verifier=SIGNER.verifier)["integrity"]
        assert section["status"] == "verified"
        assert (section["unsealed_records"], section["store_unsealed_records"]) == (3, 3)

    def test_tampered_record_is_a_red_banner_naming_it(self, seeded: Seeded) -> None:
        """A record changed after sealing fails verification: a red banner on top names it as the first bad record."""
        seal(seeded.store, SIGNER)
        record_id = tamper(seeded.store, seeded.of("fraud_detector")[10].request_id)
        report = queries.compliance(seeded.store, "fraud_detector", verifier=SIGNER.verifier)
        section = report["integrity"]
        assert section["status"] == "failed" and section["verified"] is False
        assert section["first_bad_record"] == record_id and "modified record" in section["first_problem"]
        page = render_html(report)
        banner = page.index('class="banner fail"')
        assert banner < page.index("<h2>Summary</h2>") and record_id in page[banner : page.index("</div>", banner)]
        assert "Integrity check failed. The first bad record is " + record_id in _visible_text(page)

    def test_another_key_fails(self, seeded: Seeded) -> None:
        """Checked with a key that did not sign the checkpoints, the page fails verification."""
        seal(seeded.store, SIGNER)
        other = NoteSigner("audit.test", os.urandom(32)).verifier
        section = queries.compliance(seeded.store, "fraud_detector", verifier=other)["integrity"]
        assert section["status"] == "failed" and "bad checkpoint" in section["first_problem"]

    def test_skipped_verification_is_said_on_top(self, seeded: Seeded) -> None:
        """With the check skipped the page says on top that integrity was not checked, and why."""
        seal(seeded.store, SIGNER)
        report = queries.compliance(seeded.store, "fraud_detector", check_integrity=False)
        assert report["integrity"]["status"] == "not run" and report["integrity"]["checkpoint"] is not None
        page = render_html(report)
        assert page.index('data-integrity="not-run"') < page.index("<h2>Summary</h2>")
        assert "Integrity not checked. verification skipped when the report was made" in _visible_text(page)
