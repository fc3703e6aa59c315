"""Decisions on the record: stored once in audit_events, sealed with the predictions,
tampering named, erased with the user's predictions, unknown targets kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import otel_audit
from otel_audit import semconv
from otel_audit.decisions import record_feedback, record_ground_truth, record_review
from otel_audit.export.rows import LOG_COLUMNS
from otel_audit.seal import SealError
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.erasure import erase
from otel_audit.seal.evidence import PACK_FORMAT, build_pack, verify_pack
from otel_audit.seal.leaf import content_sha256, is_tombstone
from otel_audit.seal.manifest import write_manifest
from otel_audit.seal.receipts import build_event_receipt, build_receipt, encode_receipt, verify_receipt
from otel_audit.seal.sealer import load_leaves, seal, verify
from otel_audit.store.connect import Store

_SYNC = {"mutations_sync": 2}


def _record_id(store: Store, request_id: str) -> str:
    return str(
        store.query("SELECT RecordId FROM audit_predictions WHERE RequestId = {r:String}", {"r": request_id}).rows[0][0]
    )


def _decide(store: Store, runtime: otel_audit.AuditRuntime) -> dict[str, str]:
    """A review (override) of r1 by record id, a ground truth of r1 by request id, feedback on r2."""
    ids = {
        "review": record_review(
            record_id=_record_id(store, "r1"),
            reviewer="rev-1",
            decision="override",
            reason="card 4111-0001 whitelisted",
            final_output={"label": "ok"},
            runtime=runtime,
        ),
        "truth": record_ground_truth(request_id="r1", value="ok", source="chargeback", runtime=runtime),
        "feedback": record_feedback(request_id="r2", text="customer says 4111-0002 is theirs", runtime=runtime),
    }
    assert runtime.flush(30)
    return ids


@pytest.fixture
def decided(filled: Store, runtime: otel_audit.AuditRuntime) -> tuple[Store, dict[str, str]]:
    """12 predictions and three decisions about them."""
    return filled, _decide(filled, runtime)


class TestDecisionEvents:
    def test_stored_once_typed(self, decided: tuple[Store, dict[str, str]]) -> None:
        """Each decision is one typed audit_events row naming its prediction."""
        store, ids = decided
        rows = {
            row["RecordId"]: row
            for row in store.query(
                "SELECT RecordId, EventName, TargetRecordId, TargetRequestId, Actor, Decision, FinalOutput, "
                "GroundTruthValue, GroundTruthSource, FeedbackText, Attributes FROM audit_events"
            ).dicts()
        }
        assert set(rows) == set(ids.values())
        review = rows[ids["review"]]
        assert review["EventName"] == semconv.EVENT_REVIEW
        assert (review["Actor"], review["Decision"]) == ("rev-1", "override")
        assert review["TargetRecordId"] == _record_id(store, "r1")
        assert review["FinalOutput"] == '{"label":"ok"}'
        assert review["Attributes"][semconv.GEN_AI_EVALUATION_NAME] == "review"
        truth = rows[ids["truth"]]
        assert (truth["TargetRequestId"], truth["GroundTruthValue"], truth["GroundTruthSource"]) == (
            "r1",
            "ok",
            "chargeback",
        )
        assert rows[ids["feedback"]]["FeedbackText"].startswith("customer says")
        assert otel_audit.stats()["counters"]["decisions.recorded"] == 3

    def test_bad_arguments_are_refused_before_queueing(self, runtime: otel_audit.AuditRuntime) -> None:
        """No target, an unknown decision or an empty reviewer raise ValueError."""
        with pytest.raises(ValueError, match="names its prediction"):
            record_feedback(text="x", runtime=runtime)
        with pytest.raises(ValueError, match="decision"):
            record_review(request_id="r1", reviewer="rev", decision="maybe", runtime=runtime)
        with pytest.raises(ValueError, match="reviewer"):
            record_review(request_id="r1", reviewer="", decision="accept", runtime=runtime)


class TestSealedWithPredictions:
    def test_sealed_in_the_same_tree_and_verified(
        self, decided: tuple[Store, dict[str, str]], signer: NoteSigner
    ) -> None:
        """Predictions and decisions are leaves of one tree; the leaf row names the event kind."""
        store, ids = decided
        result = seal(store, signer)
        assert result.sealed == 15
        kinds = {leaf["RecordId"]: leaf["Kind"] for leaf in load_leaves(store)}
        assert kinds[ids["review"]] == semconv.EVENT_REVIEW
        assert kinds[_record_id(store, "r1")] == ""
        report = verify(store, signer.verifier)
        assert report.ok, report.problems
        assert report.records_checked == 15
        assert seal(store, signer).sealed == 0

    def test_unsealed_decision_is_reported(self, decided: tuple[Store, dict[str, str]], signer: NoteSigner) -> None:
        """A decision stored after the seal is an unsealed review until the next seal."""
        store, _ = decided
        seal(store, signer)
        late = record_review(request_id="r3", reviewer="rev-2", decision="accept", runtime=otel_audit.get_runtime())
        assert otel_audit.get_runtime().flush(30)
        report = verify(store, signer.verifier)
        assert [(p.subject, p.record_id, p.kind) for p in report.problems] == [("review", late, "unsealed record")]
        assert seal(store, signer).sealed == 1
        assert verify(store, signer.verifier).ok

    def test_tampered_review_is_named(self, decided: tuple[Store, dict[str, str]], signer: NoteSigner) -> None:
        """Changing a sealed review's decision is detected, and the problem names the review."""
        store, ids = decided
        seal(store, signer)
        store.command(
            "ALTER TABLE audit_events UPDATE Decision = 'accept' WHERE RecordId = {r:String}",
            {"r": ids["review"]},
            settings=_SYNC,
        )
        report = verify(store, signer.verifier)
        assert not report.ok
        [problem] = report.problems
        assert (problem.subject, problem.record_id, problem.kind) == ("review", ids["review"], "modified record")
        assert str(problem).startswith(f"review {ids['review']} ")

    def test_deleted_ground_truth_is_named(self, decided: tuple[Store, dict[str, str]], signer: NoteSigner) -> None:
        """Deleting a sealed ground truth is detected and named by its kind."""
        store, ids = decided
        seal(store, signer)
        store.command(
            "ALTER TABLE audit_events DELETE WHERE RecordId = {r:String}", {"r": ids["truth"]}, settings=_SYNC
        )
        problems = verify(store, signer.verifier).problems
        assert [(p.subject, p.record_id, p.kind) for p in problems] == [
            ("ground truth", ids["truth"], "deleted record")
        ]


class TestErasure:
    def test_erasing_a_user_erases_decision_content_and_keeps_the_seal(
        self, decided: tuple[Store, dict[str, str]], signer: NoteSigner
    ) -> None:
        """erase --user u1 tombstones the reason, final output and ground truth of decisions on u1's
        predictions (r1 is u1's), in audit_events and otel_logs; u2's feedback stays; verify is ok."""
        store, ids = decided
        seal(store, signer)
        original = store.query("SELECT Reason FROM audit_events WHERE RecordId = {r:String}", {"r": ids["review"]})
        reason = original.rows[0][0]
        result = erase(store, user="u1", reason="ticket 9")
        assert set(result.events) == {ids["review"], ids["truth"]}
        review = store.query(
            "SELECT Reason, FinalOutput, Actor, Decision FROM audit_events WHERE RecordId = {r:String}",
            {"r": ids["review"]},
        ).rows[0]
        assert is_tombstone(review[0]) and is_tombstone(review[1]) and review[2:] == ("rev-1", "override")
        assert content_sha256(review[0]) == content_sha256(reason)
        truth = store.query(
            "SELECT GroundTruthValue FROM audit_events WHERE RecordId = {r:String}", {"r": ids["truth"]}
        )
        assert is_tombstone(truth.rows[0][0])
        leaked = store.query(
            "SELECT count() FROM otel_logs WHERE has(mapValues(LogAttributes), 'card 4111-0001 whitelisted')"
        ).rows[0][0]
        assert leaked == 0
        feedback = store.query(
            "SELECT FeedbackText FROM audit_events WHERE RecordId = {r:String}", {"r": ids["feedback"]}
        )
        assert not is_tombstone(feedback.rows[0][0])  # r2 is u2's
        report = verify(store, signer.verifier)
        assert report.ok, report.problems
        assert report.erased_records == 4 + 2

    def test_unknown_target_is_kept(self, store: Store, runtime: otel_audit.AuditRuntime, signer: NoteSigner) -> None:
        """A decision naming no stored prediction is stored and sealed, never dropped."""
        uid = record_review(request_id="nowhere", reviewer="rev-9", decision="escalate", runtime=runtime)
        assert runtime.flush(30)
        assert store.query("SELECT count() FROM audit_events WHERE RecordId = {r:String}", {"r": uid}).rows[0][0] == 1
        assert seal(store, signer).sealed == 1
        assert verify(store, signer.verifier).ok


class TestEvidencePack:
    def test_pack_carries_and_verifies_the_decisions(
        self, decided: tuple[Store, dict[str, str]], signer: NoteSigner, tmp_path: Path
    ) -> None:
        """An evidence pack lists the decisions about its records; verify-pack checks their proofs,
        and refuses a pack whose review was altered (even with its manifest re-signed)."""
        store, ids = decided
        seal(store, signer)
        pack = build_pack(store, signer, "fraud", tmp_path / "pack")
        assert pack["events"] == 3
        assert verify_pack(tmp_path / "pack", signer.verifier)["verified_events"] == 3
        events = json.loads((tmp_path / "pack" / "events.json").read_text())
        assert {event["record"]["record_id"] for event in events["events"]} == set(ids.values())
        review = next(e for e in events["events"] if e["record"]["record_id"] == ids["review"])
        review["record"]["decision"] = "accept"
        path = tmp_path / "pack" / "events.json"
        path.chmod(0o600)
        path.write_text(json.dumps(events))
        (tmp_path / "pack" / "MANIFEST").unlink()
        write_manifest(tmp_path / "pack", PACK_FORMAT, [p.name for p in (tmp_path / "pack").iterdir()], signer)
        with pytest.raises(SealError, match=f"audit.review {ids['review']}"):
            verify_pack(tmp_path / "pack", signer.verifier)


class TestAccessEvents:
    def test_unsealed_reads_are_counted_and_sealed_ones_checked(self, store: Store, signer: NoteSigner) -> None:
        """An access event not sealed yet is counted, not a problem; once sealed, altering it is named."""
        from otel_audit.answer.access import AccessEvent, write_access_event

        write_access_event(store, AccessEvent(actor="ops-1", command="report data-access", records=3))
        [(actor, records)] = store.query("SELECT Actor, AccessRecords FROM audit_events").rows
        assert (actor, records) == ("ops-1", 3)
        report = verify(store, signer.verifier)
        assert report.ok and report.unsealed_access_events == 1 and report.unsealed == 0
        assert seal(store, signer).sealed == 1
        store.command("ALTER TABLE audit_events UPDATE AccessRecords = 0 WHERE 1", settings=_SYNC)
        [problem] = verify(store, signer.verifier).problems
        assert str(problem).startswith("access event ") and "(leaf 0): modified record" in str(problem)

    def test_reads_sealed_by_a_seal_in_flight_are_still_counted(self, store: Store, signer: NoteSigner) -> None:
        """Access events whose leaves a seal wrote before its checkpoint (a verify racing a
        scheduled seal) are counted like unsealed ones: verify still passes."""
        from otel_audit.answer.access import AccessEvent, write_access_event

        write_access_event(store, AccessEvent(actor="ops-1", command="report data-access", records=3))
        assert seal(store, signer).sealed == 1
        write_access_event(store, AccessEvent(actor="ops-1", command="report outcomes", records=0))
        assert seal(store, signer).sealed == 1
        store.command("ALTER TABLE audit_seal_checkpoints DELETE WHERE TreeSize = 2", settings=_SYNC)
        report = verify(store, signer.verifier)
        assert report.ok and (report.tree_size, report.unsigned_leaves, report.unsealed_access_events) == (1, 1, 1)

    def test_an_access_event_sent_as_a_log_is_not_typed(self, store: Store) -> None:
        """A log record named audit.access that reaches otel_logs directly (a client over OTLP, the
        collector's exporter) stays a log: only the inbox types access events, so ingest rights
        cannot plant reads in the access log."""
        attributes = {
            semconv.LOG_RECORD_UID: "forged-read",
            semconv.AUDIT_ACCESS_ACTOR: "auditor-alice",
            semconv.AUDIT_ACCESS_COMMAND: "report data-access",
        }
        row = [dt.datetime(2026, 5, 1), "", "", 0, "INFO", 9, "cli", "", "", {}, "", "otel_audit", "", {},
               attributes, semconv.EVENT_ACCESS]  # fmt: skip
        store.insert_columns("otel_logs", [[value] for value in row], LOG_COLUMNS)
        assert store.query(
            "SELECT count() FROM otel_logs WHERE EventName = {e:String}", {"e": semconv.EVENT_ACCESS}
        ).rows == [(1,)]
        assert store.query("SELECT count() FROM audit_events").rows == [(0,)]


class TestReceipts:
    def test_receipts_prove_the_prediction_then_its_review(
        self, decided: tuple[Store, dict[str, str]], signer: NoteSigner
    ) -> None:
        """The prediction's and its review's receipts verify against one checkpoint, the review after."""
        store, ids = decided
        seal(store, signer)
        prediction = verify_receipt(encode_receipt(build_receipt(store, "r1")), signer.verifier)
        review_receipt = build_event_receipt(store, ids["review"])
        review = verify_receipt(encode_receipt(review_receipt), signer.verifier)
        assert review["record_id"] == ids["review"] and review_receipt["record"]["kind"] == semconv.EVENT_REVIEW
        assert review_receipt["record"]["target_record_id"] == prediction["record_id"]
        assert (prediction["root"], prediction["tree_size"]) == (review["root"], review["tree_size"])
        assert prediction["leaf_index"] < review["leaf_index"]
        review_receipt["record"]["decision"] = "accept"
        with pytest.raises(SealError, match="does not lead to the signed root"):
            verify_receipt(encode_receipt(review_receipt), signer.verifier)


class TestRedaction:
    def test_feedback_is_redacted_like_content(self, store: Store, runtime: otel_audit.AuditRuntime) -> None:
        """Feedback text and a review reason go through the runtime's redaction before they are stored."""
        email = "jane.doe@example.com"
        record_feedback(request_id="r1", text=f"mail me at {email}", runtime=runtime)
        record_review(request_id="r1", reviewer="rev-1", decision="accept", reason=f"asked {email}", runtime=runtime)
        assert runtime.flush(30)
        rows = store.query("SELECT FeedbackText, Reason, Attributes FROM audit_events ORDER BY EventName").rows
        assert len(rows) == 2
        assert all(email not in text for row in rows for text in row[:2])
        logs = store.query("SELECT count() FROM otel_logs WHERE position(toString(LogAttributes), {e:String}) > 0",
                           {"e": email}).rows[0][0]  # fmt: skip
        assert logs == 0


class TestPublicApi:
    def test_top_level_calls_use_the_configured_runtime(
        self, filled: Store, runtime: otel_audit.AuditRuntime, signer: NoteSigner
    ) -> None:
        """otel_audit.record_review/record_ground_truth/record_feedback record through the configured runtime."""
        review = otel_audit.record_review(request_id="r4", reviewer="rev-3", decision="accept")
        truth = otel_audit.record_ground_truth(request_id="r4", value={"label": "fraud"}, source="audit")
        feedback = otel_audit.record_feedback(request_id="r4", text="fine")
        assert otel_audit.flush(30)
        stored = dict(store_rows := filled.query("SELECT RecordId, EventName FROM audit_events").rows)
        assert stored == {
            review: semconv.EVENT_REVIEW,
            truth: semconv.EVENT_GROUND_TRUTH,
            feedback: semconv.EVENT_FEEDBACK,
        }, store_rows
        assert seal(filled, signer).sealed == 12 + 3 and verify(filled, signer.verifier).ok

    def test_a_pipeline_failure_is_counted_never_raised(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """When no runtime can be configured the decision is counted as dropped and the call returns."""

        def broken() -> None:
            raise otel_audit.ConfigError("no store")

        monkeypatch.setattr("otel_audit.emit.runtime.audit_runtime", broken)
        uid = otel_audit.record_feedback(request_id="r1", text="x")
        assert len(uid) == 32
        assert otel_audit.stats()["counters"]["decisions.dropped.error"] == 1


class TestProveCommand:
    def test_prove_event_writes_a_receipt_that_verifies(
        self, decided: tuple[Store, dict[str, str]], signer: NoteSigner, tmp_path: Path
    ) -> None:
        """`prove --event RECORD_ID` emits the review's receipt; `verify-receipt` accepts it."""
        from typer.testing import CliRunner

        from otel_audit.cli import app

        store, ids = decided
        seal(store, signer)
        runner = CliRunner()
        out = tmp_path / "review.receipt"
        result = runner.invoke(app, ["prove", "--event", ids["review"], "--out", str(out), "--store", store.dsn])
        assert result.exit_code == 0, result.stderr
        summary = verify_receipt(out.read_bytes(), signer.verifier)
        assert summary["record_id"] == ids["review"]
        both = runner.invoke(app, ["prove", "r1", "--event", ids["review"], "--store", store.dsn])
        neither = runner.invoke(app, ["prove", "--store", store.dsn])
        assert both.exit_code == neither.exit_code == 2

        def message(stderr: str) -> str:  # the error box of an 80-column terminal, unwrapped
            return " ".join(stderr.replace("│", " ").split())

        assert "(one of them)" in message(both.stderr) and "(one of them)" in message(neither.stderr)
        unknown = runner.invoke(app, ["prove", "--event", "no-such-record", "--store", store.dsn])
        assert unknown.exit_code != 0 and "no audit event with record id" in message(unknown.stderr)


class TestDecisionsInReports:
    def test_request_and_data_access_show_the_decisions(self, decided: tuple[Store, dict[str, str]]) -> None:
        """`report request` lists the decisions about the request's records (by record id or request
        id); `report data-access` lists those about the user's predictions (r1 is u1's, r2 is u2's)."""
        from otel_audit.answer import queries

        store, ids = decided
        request = queries.request_record(store, "r1")
        assert [(d["record_id"], d["kind"]) for d in request["decisions"]] == [
            (ids["review"], semconv.EVENT_REVIEW),
            (ids["truth"], semconv.EVENT_GROUND_TRUTH),
        ]
        review, truth = request["decisions"]
        assert (review["reviewer"], review["decision"], review["final_output"]) == (
            "rev-1",
            "override",
            '{"label":"ok"}',
        )
        assert (truth["ground_truth"], truth["ground_truth_source"]) == ("ok", "chargeback")
        assert [d["record_id"] for d in queries.request_record(store, "r2")["decisions"]] == [ids["feedback"]]
        assert queries.request_record(store, "r3")["decisions"] == []
        decided_for = {
            user: [d["record_id"] for d in queries.data_access(store, user)["decisions"]] for user in ("u0", "u1", "u2")
        }
        assert decided_for == {"u0": [], "u1": [ids["review"], ids["truth"]], "u2": [ids["feedback"]]}
