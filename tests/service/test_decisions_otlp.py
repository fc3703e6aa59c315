"""Decisions on the record sent by a plain OpenTelemetry Python SDK client (OTLP/HTTP) to a real
`otel-audit serve`: each stored once, redacted at the door, sealed with the predictions, verified."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from otel_audit import semconv
from otel_audit.answer.queries import oversight
from otel_audit.store.connect import open_store

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "jane.doe@example.com"


def _send(url: str) -> InMemoryLogRecordExporter:
    """One prediction, then a review (by record id), a ground truth (by request id, no record id of
    its own) and feedback naming an e-mail address, as a review tool with the plain SDK sends them."""
    provider = LoggerProvider(resource=Resource({"service.name": "review-tool"}))
    captured = InMemoryLogRecordExporter()
    provider.add_log_record_processor(SimpleLogRecordProcessor(captured))
    provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=url + "/v1/logs")))
    logger = provider.get_logger("review-tool")
    logger.emit(
        body={"input": {"amount": 12}, "output": {"label": "fraud"}},
        event_name=semconv.EVENT_PREDICTION,
        severity_number=SeverityNumber.INFO,
        attributes={
            semconv.LOG_RECORD_UID: "pred-otlp-1",
            semconv.GEN_AI_REQUEST_MODEL: "otlp_model",
            semconv.ML_MODEL_VERSION: "1",
            semconv.AUDIT_REQUEST_ID: "req-otlp-1",
            semconv.AUDIT_OUTPUT_LABEL: "fraud",
        },
    )
    time.sleep(0.01)  # a review comes after its prediction
    decisions: list[tuple[str, dict[str, Any]]] = [
        (
            semconv.EVENT_REVIEW,
            {
                semconv.LOG_RECORD_UID: "rev-otlp-1",
                semconv.AUDIT_TARGET_RECORD_ID: "pred-otlp-1",
                semconv.AUDIT_REVIEW_REVIEWER: "rev-7f3a",
                semconv.AUDIT_REVIEW_DECISION: semconv.DECISION_OVERRIDE,
                semconv.AUDIT_REVIEW_REASON: "merchant whitelisted",
                semconv.AUDIT_REVIEW_FINAL_OUTPUT: '"ok"',
            },
        ),
        (
            semconv.EVENT_GROUND_TRUTH,
            {
                semconv.AUDIT_REQUEST_ID: "req-otlp-1",
                semconv.AUDIT_GROUND_TRUTH_VALUE: "ok",
                semconv.AUDIT_GROUND_TRUTH_SOURCE: "chargeback",
            },
        ),
        (
            semconv.EVENT_FEEDBACK,
            {
                semconv.LOG_RECORD_UID: "fb-otlp-1",
                semconv.AUDIT_REQUEST_ID: "req-otlp-1",
                semconv.AUDIT_FEEDBACK_TEXT: f"please write to {EMAIL}",
            },
        ),
    ]
    for event, attributes in decisions:
        logger.emit(event_name=event, severity_number=SeverityNumber.INFO, attributes=attributes)
    provider.shutdown()
    return captured


class TestDecisionsOverOtlp:
    def test_plain_sdk_decisions_are_stored_once_redacted_sealed_and_verified(
        self, serve_factory: Any, tmp_path: Path
    ) -> None:
        """Three decisions (one retried) are three audit_events rows; the e-mail never reaches the store;
        the scheduled seal covers prediction and decisions; `otel-audit verify` passes."""
        keys = tmp_path / "keys"
        subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "keygen", "audit.test", "--out", str(keys)],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        server = serve_factory(
            "decisions", args=["--signing-key", str(keys / "audit.test.key"), "--seal-interval", "0.2"]
        )
        captured = _send(server.url)
        retry = encode_logs(captured.get_finished_logs()).SerializeToString()  # the whole export again
        assert server.post("/v1/logs", retry, "application/x-protobuf")[0] == 200
        server.wait_drained()

        store = open_store(server.dsn)
        rows = store.query(
            "SELECT EventName, TargetRecordId, TargetRequestId, Actor, Decision, FeedbackText "
            "FROM audit_events WHERE EventName != {access:String} ORDER BY EventName",
            {"access": semconv.EVENT_ACCESS},
        ).rows
        distinct = store.query(
            "SELECT uniqExact(RecordId, RowHash) FROM audit_events WHERE EventName != {access:String}",
            {"access": semconv.EVENT_ACCESS},
        ).rows[0][0]
        assert distinct == 3  # the retried export added none (serve's own access events aside)
        events = {row[0]: row for row in rows}
        assert events[semconv.EVENT_REVIEW][1:5] == ("pred-otlp-1", "", "rev-7f3a", "override")
        assert events[semconv.EVENT_GROUND_TRUTH][2] == "req-otlp-1"
        assert EMAIL not in events[semconv.EVENT_FEEDBACK][5]
        leaked = store.query(
            "SELECT count() FROM otel_logs WHERE has(mapValues(LogAttributes), {t:String})",
            {"t": f"please write to {EMAIL}"},
        ).rows[0][0]
        assert leaked == 0

        report = oversight(store, "otlp_model")
        assert (report["reviewed_predictions"], report["overrides"], report["labelled_predictions"]) == (1, 1, 1)
        assert report["accuracy"] == 0.0 and report["unknown_target_decisions"] == 0

        sealed_sql = "SELECT Kind, count() FROM audit_seal_leaves WHERE Kind != {access:String} GROUP BY Kind"
        wanted = {"": 1, semconv.EVENT_REVIEW: 1, semconv.EVENT_GROUND_TRUTH: 1, semconv.EVENT_FEEDBACK: 1}
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and dict(store.query(sealed_sql, {"access": semconv.EVENT_ACCESS}).rows) != wanted
        ):
            time.sleep(0.2)
        assert dict(store.query(sealed_sql, {"access": semconv.EVENT_ACCESS}).rows) == wanted
        assert server.terminate() == 0
        verified = subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "verify", "--store", server.dsn,
             "--verifier-key", str(keys / "audit.test.pub")],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
