"""The oversight report against hand-computed figures on a seeded store (real chDB)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from otel_audit import semconv
from otel_audit.answer.queries import oversight
from otel_audit.answer.reports import render_report
from otel_audit.errors import UnknownModelError
from otel_audit.export.rows import LOG_COLUMNS
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.sealer import seal
from otel_audit.store.archive import archive_months, restore_archive
from otel_audit.store.connect import Store, open_store

T0 = dt.datetime(2026, 5, 4, 9, 0, 0)
DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "dashboards" / "otel-audit.json"

# (uid, model, version, label, request id, minutes after T0)
PREDICTIONS = [
    ("p1", "m", "v1", "fraud", "r1", 0),
    ("p2", "m", "v1", "ok", "r2", 1),
    ("p3", "m", "v1", "ok", "r3", 2),
    ("p4", "m", "v1", "fraud", "r4", 3),
    ("p5", "m", "v2", "ok", "r5", 4),
    ("p6", "m", "v2", "fraud", "r6", 5),
    ("o1", "other", "v1", "ok", "ro1", 6),
]
_AT = {uid: T0 + dt.timedelta(minutes=minutes) for uid, *_, minutes in PREDICTIONS}


def _row(timestamp: dt.datetime, event: str, attributes: dict[str, str], body: str = "") -> list[Any]:
    return [timestamp, "", "", 0, "INFO", 9, "seed", body, "", {}, "", "seed", "", {}, attributes, event]


def _prediction_rows() -> list[list[Any]]:
    rows = []
    for uid, model, version, label, request_id, _ in PREDICTIONS:
        attributes = {
            semconv.LOG_RECORD_UID: uid,
            semconv.GEN_AI_REQUEST_MODEL: model,
            semconv.ML_MODEL_VERSION: version,
            semconv.AUDIT_REQUEST_ID: request_id,
            semconv.AUDIT_OUTPUT_LABEL: label,
            semconv.USER_ID: "u",
        }
        rows.append(_row(_AT[uid], semconv.EVENT_PREDICTION, attributes, json.dumps({"input": 1, "output": label})))
    return rows


def _review(uid: str, seconds: float, reviewer: str, decision: str, **target: str) -> list[Any]:
    at = _AT.get(target.get("of", ""), T0) + dt.timedelta(seconds=seconds)
    attributes = {
        semconv.LOG_RECORD_UID: uid,
        semconv.AUDIT_REVIEW_REVIEWER: reviewer,
        semconv.AUDIT_REVIEW_DECISION: decision,
        **_target(target),
    }
    return _row(at, semconv.EVENT_REVIEW, attributes)


def _truth(uid: str, seconds: float, value: str, **target: str) -> list[Any]:
    at = _AT.get(target.get("of", ""), T0) + dt.timedelta(seconds=seconds)
    attributes = {
        semconv.LOG_RECORD_UID: uid,
        semconv.AUDIT_GROUND_TRUTH_VALUE: value,
        semconv.AUDIT_GROUND_TRUTH_SOURCE: "chargeback",
        **_target(target),
    }
    return _row(at, semconv.EVENT_GROUND_TRUTH, attributes)


def _target(target: dict[str, str]) -> dict[str, str]:
    names = {
        "of": semconv.AUDIT_TARGET_RECORD_ID,
        "request": semconv.AUDIT_REQUEST_ID,
        "model": semconv.GEN_AI_REQUEST_MODEL,
        "record": semconv.AUDIT_TARGET_RECORD_ID,
    }
    attributes = {names[key]: value for key, value in target.items() if key != "at_of"}
    if "request" in target:
        attributes.pop(semconv.AUDIT_TARGET_RECORD_ID, None)
    return attributes


def _decision_rows() -> list[list[Any]]:
    p2_review = _review("d3", 300, "rev-a", "override", of="p2", request="r2")
    return [
        _review("d1", 60, "rev-a", "accept", of="p1"),
        _review("d2", 120, "rev-b", "override", of="p1"),
        p2_review,
        p2_review,  # at-least-once: the same review stored twice counts once
        _review("d4", 30, "rev-b", "escalate", of="p5"),
        _review("d5", 10, "rev-a", "override", of="o1"),  # another model's
        _truth("g1", 3600, "fraud", of="p1"),
        _truth("g2", 3600, "fraud", of="p2", request="r2"),
        _truth("g3", 3600, "ok", of="p3"),
        _truth("g4", 3600, "ok", of="p5"),
        _truth("g5", 7200, "fraud", of="p5"),  # the latest ground truth of p5 wins
        _truth("g6", 3600, "fraud", of="p6"),
        _row(_AT["p4"], semconv.EVENT_FEEDBACK, {semconv.LOG_RECORD_UID: "f1", semconv.AUDIT_TARGET_RECORD_ID: "p4",
                                                 semconv.AUDIT_FEEDBACK_TEXT: "why?"}),
        _review("x1", 0, "rev-c", "accept", request="ghost"),  # unknown prediction, no model named
        _truth("x2", 0, "ok", record="nope", model="m"),  # unknown prediction of m
        _truth("x3", 0, "ok", record="nope2", model="other"),  # unknown prediction of another model
    ]  # fmt: skip


@pytest.fixture
def seeded(store: Store) -> Store:
    """Seven predictions (six of m) and their decisions, written to otel_logs as an exporter would."""
    rows = _prediction_rows() + _decision_rows()
    columns = [list(column) for column in zip(*rows, strict=True)]
    store.insert_columns("otel_logs", columns, LOG_COLUMNS, settings={"insert_deduplicate": 0})
    return store


class TestOversight:
    def test_figures_match_hand_computed_values(self, seeded: Store) -> None:
        """Coverage, overrides, time to review, accuracy and the unknown decisions match the seed."""
        report = oversight(seeded, "m")
        assert report["total_predictions"] == 6
        assert (report["reviewed_predictions"], report["review_coverage_share"]) == (3, 0.5)
        assert (report["reviews"], report["overrides"], report["override_rate"], report["escalations"]) == (
            4,
            2,
            0.5,
            1,
        )
        assert report["labelled_predictions"] == 5
        assert report["accuracy"] == pytest.approx(3 / 5)
        assert report["feedback"] == 1
        v1, v2 = report["versions"]
        assert v1 | {"review_seconds_p50": None, "review_seconds_p95": None} == {
            "version": "v1",
            "predictions": 4,
            "reviewed": 2,
            "review_coverage_share": 0.5,
            "reviews": 3,
            "overrides": 2,
            "override_rate": pytest.approx(2 / 3),
            "escalations": 0,
            "review_seconds_p50": None,
            "review_seconds_p95": None,
            "labelled": 3,
            "compared": 3,
            "correct": 2,
            "accuracy": pytest.approx(2 / 3),
            "feedback": 1,
        }
        # First review of p1 after 60 s, of p2 after 300 s; ClickHouse's exact quantile of an
        # even count is the upper middle value.
        assert (v1["review_seconds_p50"], v1["review_seconds_p95"]) == (300, 300)
        assert (v2["reviewed"], v2["overrides"], v2["escalations"], v2["override_rate"]) == (1, 0, 1, 0.0)
        assert (v2["compared"], v2["correct"], v2["accuracy"], v2["review_seconds_p50"]) == (2, 1, 0.5, 30)
        assert (report["review_seconds_p50"], report["review_seconds_p95"]) == (60, 300)
        reviewers = {row["reviewer"]: row for row in report["reviewers"]}
        assert set(reviewers) == {"rev-a", "rev-b"}
        assert (reviewers["rev-a"]["reviews"], reviewers["rev-a"]["overrides"]) == (2, 1)
        assert (reviewers["rev-b"]["reviews"], reviewers["rev-b"]["overrides"], reviewers["rev-b"]["escalations"]) == (
            2,
            1,
            1,
        )
        confusion = {(r["version"], r["predicted"], r["actual"]): r["predictions"] for r in report["confusion"]}
        assert confusion == {
            ("v1", "fraud", "fraud"): 1,
            ("v1", "ok", "fraud"): 1,
            ("v1", "ok", "ok"): 1,
            ("v2", "fraud", "fraud"): 1,
            ("v2", "ok", "fraud"): 1,
        }
        assert sorted(row["record_id"] for row in report["unknown_targets"]) == ["x1", "x2"]
        assert report["unknown_target_decisions"] == 2

    def test_period_limits_the_predictions(self, seeded: Store) -> None:
        """--since/--until select predictions by their time; their decisions follow them."""
        report = oversight(seeded, "m", since=T0, until=T0 + dt.timedelta(minutes=2))
        assert report["total_predictions"] == 2
        assert (report["reviewed_predictions"], report["reviews"], report["labelled_predictions"]) == (2, 3, 2)

    def test_unknown_model_and_empty_period(self, seeded: Store) -> None:
        """An unknown model is refused; a period without predictions says so in a note."""
        with pytest.raises(UnknownModelError):
            oversight(seeded, "nope")
        empty = oversight(seeded, "m", since=T0 - dt.timedelta(days=2), until=T0 - dt.timedelta(days=1))
        assert empty["total_predictions"] == 0 and "no predictions" in empty["note"]

    @pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
    def test_every_format_renders(self, seeded: Store, fmt: str) -> None:
        """The report renders in every format; CSV lists the versions."""
        text = render_report(oversight(seeded, "m"), fmt)
        if fmt == "csv":
            assert text.splitlines()[0].startswith("version,predictions,reviewed")
        elif fmt == "json":
            assert json.loads(text)["report"] == "oversight"
        else:
            assert "v2" in text


class TestArchiveWithDecisions:
    def test_archive_and_restore_keep_decisions_sealed(self, seeded: Store, store_dsn: str, tmp_path: Path) -> None:
        """Decisions are archived with their month, restored unchanged and verify against the seal."""
        signer = NoteSigner("audit.test", os.urandom(32))
        assert seal(seeded, signer).sealed == 7 + 15  # the twice-stored review is sealed once
        folder = tmp_path / "archive"
        archived = archive_months(seeded, "2026-06-01", folder, signer=signer)
        assert {entry.table for entry in archived} >= {"audit_events", "audit_predictions", "otel_logs"}
        target = open_store(f"{store_dsn}_restored")
        restored = restore_archive(target, folder, verifier=signer.verifier)
        assert restored.sealed_records == 7 + 16  # every stored row checked, the duplicate too
        query = "SELECT RecordId, RowHash, EventName FROM audit_events ORDER BY RecordId, RowHash"
        assert target.query(query).rows == seeded.query(query).rows
        assert oversight(target, "m")["reviews"] == 4


class TestGrafanaPanel:
    def test_panel_matches_the_report(self, seeded: Store) -> None:
        """The dashboard's oversight panel gives the report's coverage, override rate and accuracy per version."""
        dashboard = json.loads(DASHBOARD.read_text())
        [panel] = [p for p in dashboard["panels"] if p["title"] == "Human oversight by model version"]
        sql = panel["targets"][0]["rawSql"].replace("$__timeFilter(Timestamp)", "1=1")
        sql = sql.replace("$__conditionalAll(ModelName IN (${model:singlequote}), $model)", "ModelName = 'm'")
        rows = {row["version"]: row for row in seeded.query(sql, settings={"readonly": 2}).dicts()}
        report = {row["version"]: row for row in oversight(seeded, "m")["versions"]}
        assert set(rows) == set(report) == {"v1", "v2"}
        for version, row in rows.items():
            expected = report[version]
            assert (row["predictions"], row["reviewed"], row["reviews"], row["overrides"]) == (
                expected["predictions"],
                expected["reviewed"],
                expected["reviews"],
                expected["overrides"],
            )
            assert row["override_rate"] == pytest.approx(expected["override_rate"])
            assert row["accuracy"] == pytest.approx(expected["accuracy"])
