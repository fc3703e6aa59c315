"""The answer queries on a seeded store, checked against figures computed here from the seed."""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest
from answer_seed import Seeded, insert_predictions

from otel_audit.answer import queries
from otel_audit.emit.hashing import hash_input
from otel_audit.errors import QueryError


class TestVersionTimeline:
    def test_versions_and_change_points(self, seeded: Seeded) -> None:
        """Each version's volume, first and last prediction, and the version it replaced match the seed."""
        report = queries.version_timeline(seeded.store, "fraud_detector")
        ordered = seeded.of("fraud_detector")
        expected = []
        for version in dict.fromkeys(p.version for p in ordered):
            mine = [p for p in ordered if p.version == version]
            first = ordered.index(mine[0])
            replaced = ordered[first - 1].version if first else ""
            expected.append((version, len(mine), mine[0].timestamp, mine[-1].timestamp, replaced))
        got = [
            (r["version"], r["predictions"], r["first_prediction"], r["last_prediction"], r["replaced"])
            for r in report["versions"]
        ]
        assert got == expected
        assert report["changes"] == [{"at": expected[1][2], "from_version": "v1.0", "to_version": "v2.0"}]
        assert report["total_predictions"] == len(ordered)

    def test_daily_counts_per_version(self, seeded: Seeded) -> None:
        """daily holds one row per (UTC day, version) with the seed's counts; the duplicate row counts once."""
        report = queries.version_timeline(seeded.store, "fraud_detector")
        expected = collections.Counter((p.timestamp.date(), p.version) for p in seeded.of("fraud_detector"))
        assert {(r["day"], r["version"]): r["predictions"] for r in report["daily"]} == expected

    def test_period_limits_the_timeline(self, seeded: Seeded) -> None:
        """since/until restrict the timeline to the period, end exclusive."""
        since, until = dt.datetime(2026, 4, 1), dt.datetime(2026, 4, 2)
        report = queries.version_timeline(seeded.store, "fraud_detector", since=since, until=until)
        inside = [p for p in seeded.of("fraud_detector") if since <= p.timestamp < until]
        assert report["total_predictions"] == len(inside) > 0
        assert {r["version"] for r in report["versions"]} == {p.version for p in inside}


class TestOutcomeMix:
    def test_counts_per_model_outcome_and_error_type(self, seeded: Seeded) -> None:
        """Rows count predictions per (model, outcome, error type) as in the seed."""
        report = queries.outcome_mix(seeded.store)
        expected = collections.Counter((p.model, p.outcome, p.error_type) for p in seeded.predictions)
        assert {(r["model"], r["outcome"], r["error_type"]): r["predictions"] for r in report["rows"]} == expected
        errors = sum(1 for p in seeded.predictions if p.outcome == "error")
        assert report["error_rate"] == pytest.approx(errors / len(seeded.predictions))
        assert report["error_types"] == dict(
            collections.Counter(p.error_type for p in seeded.predictions if p.outcome == "error")
        )

    def test_one_model_and_latest_message(self, seeded: Seeded) -> None:
        """With a model, only its rows come back, each with its latest error message."""
        report = queries.outcome_mix(seeded.store, "credit_scorer")
        assert {r["model"] for r in report["rows"]} == {"credit_scorer"}
        for row in report["rows"]:
            if row["outcome"] == "error":
                latest = max(
                    (p for p in seeded.of("credit_scorer") if p.error_type == row["error_type"]),
                    key=lambda p: p.timestamp,
                )
                assert row["example_message"] == latest.error_message


class TestRedactionCounts:
    def test_counts_and_sums_per_attribute(self, seeded: Seeded) -> None:
        """Each audit.redaction.* attribute is counted per model and its numeric values summed."""
        report = queries.redaction_counts(seeded.store)
        count: collections.Counter[tuple[str, str]] = collections.Counter()
        total: collections.Counter[tuple[str, str]] = collections.Counter()
        for p in seeded.predictions:
            for key, value in p.redaction.items():
                count[p.model, key] += 1
                total[p.model, key] += int(value) if value.isdigit() else 0
        assert {(r["model"], r["attribute"]): r["predictions"] for r in report["rows"]} == count
        assert {(r["model"], r["attribute"]): r["value_sum"] for r in report["rows"]} == total
        nonzero = collections.Counter(
            (p.model, key)
            for p in seeded.predictions
            for key, value in p.redaction.items()
            if value not in ("0", "email")
        )
        assert {(r["model"], r["attribute"]): r["nonzero"] for r in report["rows"] if r["nonzero"]} == nonzero
        assert sum(report["by_attribute"].values()) == sum(count.values()) > 0

    def test_store_without_redactions(self, store: object) -> None:
        """A store with no redaction attributes reports none."""
        report = queries.redaction_counts(store)  # type: ignore[arg-type]
        assert report["rows"] == [] and report["by_attribute"] == {}


class TestReproduce:
    def test_record_pipeline_and_verified_input(self, seeded: Seeded) -> None:
        """reproduce returns the model, version, pipeline version and input, and re-verifies the input hash."""
        wanted = seeded.predictions[7]
        report = queries.reproduce(seeded.store, wanted.request_id)
        assert report["found"] == 1
        record = report["records"][0]
        assert (record["model"], record["version"], record["pipeline_version"]) == (
            wanted.model,
            wanted.version,
            wanted.pipeline,
        )
        assert json.loads(record["input"]) == wanted.input
        assert record["input_hash"] == hash_input(wanted.input) and record["input_hash_verified"] is True
        same = [
            p
            for p in seeded.predictions
            if p.input == wanted.input and p.model == wanted.model and p.version == wanted.version
        ]
        assert sum(row["predictions"] for row in record["same_input"]) == len(same)

    def test_tampered_input_is_not_verified(self, seeded: Seeded) -> None:
        """A stored input that no longer matches its hash is reported as unverified."""
        changed = seeded.predictions[8]
        forged = type(changed)(**{**changed.__dict__, "request_id": "forged", "record_id": "f" * 32 + "-" + "f" * 16})
        insert_predictions(seeded.store, [forged])
        seeded.store.command(
            "ALTER TABLE audit_predictions UPDATE Input = '{\"amount\":0}' WHERE RequestId = 'forged'",
            settings={"mutations_sync": 2},
        )
        assert queries.reproduce(seeded.store, "forged")["records"][0]["input_hash_verified"] is False

    def test_unknown_request(self, seeded: Seeded) -> None:
        """An unknown request id is found zero times."""
        assert queries.reproduce(seeded.store, "nope") == {
            "report": "reproduce",
            "request_id": "nope",
            "found": 0,
            "records": [],
        }


class TestCompliance:
    def test_latency_histogram_matches_seed(self, seeded: Seeded) -> None:
        """The histogram puts every latency in the bucket its edges say, counting each record once."""
        report = queries.compliance(seeded.store, "fraud_detector")
        expected = collections.Counter()
        for p in seeded.of("fraud_detector"):
            index = next((i for i, edge in enumerate(queries.LATENCY_EDGES_MS) if p.latency_ms < edge), None)
            expected[len(queries.LATENCY_EDGES_MS) if index is None else index] += 1
        got = [row["predictions"] for row in report["latency_histogram"]]
        assert got == [expected.get(i, 0) for i in range(len(queries.LATENCY_EDGES_MS) + 1)]
        assert report["summary"]["total_predictions"] == sum(got)

    def test_sections(self, seeded: Seeded) -> None:
        """The compliance report carries usage, timeline, daily series, outcomes and redactions of one model."""
        report = queries.compliance(seeded.store, "credit_scorer", since="2026-03-30T00:00:00Z")
        inside = [p for p in seeded.of("credit_scorer") if p.timestamp >= dt.datetime(2026, 3, 30)]
        assert report["summary"]["total_predictions"] == len(inside)
        assert sum(r["predictions"] for r in report["daily"]) == len(inside)
        assert sum(r["predictions"] for r in report["outcomes"]) == len(inside)
        redacted = [p for p in inside if float(p.redaction.get("audit.redaction.count", 0)) > 0]
        assert report["redaction"] == {
            "predictions": len(inside),
            "redacted": len(redacted),
            "failed": 0,
            "by_detector": {},  # the seed's audit.redaction.rules is text, not a detector's count
        }

    def test_bad_period(self, seeded: Seeded) -> None:
        """An empty period is a QueryError."""
        with pytest.raises(QueryError, match="empty period"):
            queries.compliance(seeded.store, "m", since="2026-04-02", until="2026-04-01")
