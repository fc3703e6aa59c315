"""GDPR erasure: content gone from audit_predictions and otel_logs, seal still verifies."""

from __future__ import annotations

import json

import pytest

import otel_audit
from otel_audit import semconv
from otel_audit.emit.hashing import hash_input
from otel_audit.seal import SealError
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.erasure import erase
from otel_audit.seal.leaf import content_sha256, is_tombstone
from otel_audit.seal.receipts import build_receipt, encode_receipt, verify_receipt
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import Store


def _content_rows(store: Store, needle: str) -> tuple[int, int]:
    predictions = store.query(
        "SELECT count() FROM audit_predictions "
        "WHERE position(Input, {n:String}) > 0 OR position(Output, {n:String}) > 0",
        {"n": needle},
    ).rows[0][0]
    logs = store.query("SELECT count() FROM otel_logs WHERE position(Body, {n:String}) > 0", {"n": needle}).rows[0][0]
    return predictions, logs


class TestErasure:
    def test_erase_user_keeps_seal_and_removes_content(self, filled: Store, signer: NoteSigner) -> None:
        """Erasing a user's records removes their inputs/outputs from both tables and verify stays green."""
        seal(filled, signer)
        originals = dict(filled.query("SELECT RequestId, Input FROM audit_predictions WHERE UserId = 'u1'").rows)
        assert _content_rows(filled, "4111-0001") == (1, 1)
        result = erase(filled, user="u1", reason="ticket 7")
        assert result.records == 4
        for needle in ("4111-0001", "4111-0004", "4111-0007", "4111-0010"):
            assert _content_rows(filled, needle) == (0, 0)
        assert _content_rows(filled, "4111-0002") == (1, 1)  # other users untouched
        rows = filled.query("SELECT RequestId, Input, Output FROM audit_predictions WHERE UserId = 'u1'").rows
        for request_id, stored_input, stored_output in rows:
            assert is_tombstone(stored_input) and is_tombstone(stored_output)
            assert content_sha256(stored_input) == content_sha256(originals[request_id])
        body = json.loads(
            filled.query("SELECT Body FROM otel_logs WHERE LogAttributes['user.id'] = 'u1' LIMIT 1").rows[0][0]
        )
        assert set(body) == {"input", "output"} and "$erased" in body["input"]
        report = verify(filled, signer.verifier)
        assert report.ok, report.problems
        assert report.erased_records == 4 and report.erasures_logged == 4
        assert report.last_erasure is not None and abs((report.last_erasure - result.erased_at).total_seconds()) < 0.01

    def test_erase_removes_batch_outputs_and_keeps_seal(
        self, filled: Store, signer: NoteSigner, runtime: otel_audit.AuditRuntime
    ) -> None:
        """A batch call's per-row outputs (a content attribute) are tombstoned in both tables; the
        leaf commits to their hash, so verify stays green; the per-row input hashes remain."""
        rows = [{"card": "4111-9001"}, {"card": "4111-9002"}]
        outputs = ["secret-output-1", "secret-output-2"]
        with otel_audit.audit_prediction(
            model="fraud", version="v1", input=rows, user_id="batch-user", request_id="rb", batch_size=2,
            attributes={
                semconv.AUDIT_BATCH_INPUT_HASHES: [hash_input(row) for row in rows],
                semconv.AUDIT_BATCH_OUTPUTS: outputs,
            },
        ) as prediction:  # fmt: skip
            prediction.output = outputs
        assert runtime.flush(30)
        seal(filled, signer)
        [(original,)] = filled.query(
            "SELECT Attributes[{k:String}] FROM audit_predictions WHERE RequestId = 'rb'",
            {"k": semconv.AUDIT_BATCH_OUTPUTS},
        ).rows
        assert "secret-output-1" in original

        assert erase(filled, user="batch-user").records == 1
        leaked = filled.query(
            "SELECT (SELECT count() FROM audit_predictions WHERE arrayExists(v -> position(v, 'secret-output') > 0,"
            " mapValues(Attributes)) OR position(Output, 'secret-output') > 0),"
            " (SELECT count() FROM otel_logs WHERE arrayExists(v -> position(v, 'secret-output') > 0,"
            " mapValues(LogAttributes)) OR position(Body, 'secret-output') > 0)"
        ).rows
        assert leaked == [(0, 0)]
        [(stored, hashes)] = filled.query(
            "SELECT Attributes[{o:String}], Attributes[{h:String}] FROM audit_predictions WHERE RequestId = 'rb'",
            {"o": semconv.AUDIT_BATCH_OUTPUTS, "h": semconv.AUDIT_BATCH_INPUT_HASHES},
        ).rows
        assert is_tombstone(stored) and content_sha256(stored) == content_sha256(original)
        assert json.loads(hashes) == [hash_input(row) for row in rows]
        report = verify(filled, signer.verifier)
        assert report.ok, report.problems

    def test_tombstoned_batch_outputs_outside_the_tool_are_flagged(
        self, filled: Store, signer: NoteSigner, runtime: otel_audit.AuditRuntime
    ) -> None:
        """Batch outputs replaced by a hash-keeping tombstone straight in the table, with no
        erasure-log entry, fail verify like a tombstoned Input does."""
        with otel_audit.audit_prediction(
            model="fraud", version="v1", input=[1, 2], user_id="batch-user", request_id="rb2", batch_size=2,
            attributes={semconv.AUDIT_BATCH_OUTPUTS: ["secret-a", "secret-b"]},
        ) as prediction:  # fmt: skip
            prediction.output = ["secret-a", "secret-b"]
        assert runtime.flush(30)
        seal(filled, signer)
        filled.command(
            "ALTER TABLE audit_predictions UPDATE Attributes = mapApply((k, v) -> (k, if(k = {k:String},"
            ' concat(\'{"$erased":{"at":"x","sha256":"\', lower(hex(SHA256(v))), \'"}}\'), v)), Attributes)'
            " WHERE RequestId = 'rb2'",
            {"k": semconv.AUDIT_BATCH_OUTPUTS},
            settings={"mutations_sync": 2},
        )
        report = verify(filled, signer.verifier)
        assert report.first_bad is not None and report.first_bad.kind == "unlogged erasure"
        assert report.erased_records == 1

    def test_erase_by_request_then_seal_and_prove(self, filled: Store, signer: NoteSigner) -> None:
        """A record erased before sealing still seals, proves and verifies; erasing twice is a no-op."""
        assert erase(filled, request_id="r6").records == 1
        assert erase(filled, request_id="r6").records == 1
        assert _content_rows(filled, "4111-0006") == (0, 0)
        seal(filled, signer)
        assert verify(filled, signer.verifier).ok
        receipt = build_receipt(filled, "r6")
        assert receipt["input"] is None and receipt["output"] is None
        assert verify_receipt(encode_receipt(receipt), signer.verifier)["request_id"] == "r6"

    def test_erasure_outside_the_tool_is_flagged(self, filled: Store, signer: NoteSigner) -> None:
        """A tombstone written straight into the table, with no erasure-log entry, fails verify."""
        seal(filled, signer)
        filled.command(
            'ALTER TABLE audit_predictions UPDATE Input = concat(\'{"$erased":{"at":"x","sha256":"\', '
            "lower(hex(SHA256(Input))), '\"}}') WHERE RequestId = 'r2'",
            settings={"mutations_sync": 2},
        )
        report = verify(filled, signer.verifier)
        assert report.first_bad is not None and report.first_bad.kind == "unlogged erasure"

    def test_selector_is_required(self, filled: Store) -> None:
        """erase needs exactly one of user and request id; an unknown user erases nothing."""
        with pytest.raises(SealError):
            erase(filled)
        with pytest.raises(SealError):
            erase(filled, user="u1", request_id="r1")
        assert erase(filled, user="nobody").records == 0
