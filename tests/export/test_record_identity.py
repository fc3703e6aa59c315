"""Record identity: one id per record, the same for its retries; conflicts kept and flagged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_audit import semconv
from otel_audit.answer import queries
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter
from otel_audit.export.record_id import CONTENT_ID_VERSION, ContentIds
from otel_audit.seal import NoteSigner
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import Store

_T0 = 1_790_000_000_000_000_000


def _plain_sdk_predictions(store: Store, model: str) -> None:
    """A plain OpenTelemetry SDK client: 3 predictions in one span, 4 identical ones outside any span."""
    provider = LoggerProvider(resource=Resource({"service.name": "plain"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(ClickHouseLogRecordExporter(store, create_schema=False)))
    logger = provider.get_logger("plain")
    tracer = TracerProvider().get_tracer("plain")

    def predict(value: object) -> None:
        logger.emit(
            body={"input": {"x": value}, "output": {"label": "ok"}},
            event_name=semconv.EVENT_PREDICTION,
            severity_number=SeverityNumber.INFO,
            attributes={semconv.GEN_AI_REQUEST_MODEL: model, semconv.ML_MODEL_VERSION: "v1"},
        )

    with tracer.start_as_current_span("request"):
        for n in range(3):
            predict(n)
    for _ in range(4):
        predict("same")
    provider.shutdown()


def _record(uid: str | None, *, at: int, label: str) -> ReadableLogRecord:
    attributes = {semconv.GEN_AI_REQUEST_MODEL: "pre", semconv.ML_MODEL_VERSION: "v1", semconv.AUDIT_REQUEST_ID: "q"}
    if uid is not None:
        attributes[semconv.LOG_RECORD_UID] = uid
    return ReadableLogRecord(
        LogRecord(
            timestamp=at,
            observed_timestamp=at,
            trace_id=0xA1,
            span_id=0xB2,
            body={"input": {"amount": 10}, "output": {"label": label}},
            attributes=attributes,
            event_name=semconv.EVENT_PREDICTION,
        ),
        resource=Resource({"service.name": "svc"}),
        instrumentation_scope=InstrumentationScope("s"),
    )


class TestPlainClients:
    def test_records_sharing_a_span_or_having_none_are_each_counted(self, store: Store) -> None:
        """Three records in one span and four identical ones outside any span are seven predictions."""
        _plain_sdk_predictions(store, "plain_model")
        assert queries.model_usage(store, "plain_model")["total_predictions"] == 7
        ids = store.query("SELECT RecordId FROM audit_predictions WHERE ModelName = 'plain_model'").rows
        assert len({row[0] for row in ids}) == 7

    def test_a_retried_export_counts_once(self, store: Store) -> None:
        """Exporting the same records again (a lost acknowledgement) stores nothing new that counts."""
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        batch = [_record(None, at=_T0 + n, label="ok") for n in range(5)]
        exporter.export(batch)
        exporter.export(
            list(reversed(batch)),
        )
        assert queries.model_usage(store, "pre")["total_predictions"] == 5

    def test_sender_ids_are_honoured(self, store: Store) -> None:
        """A record's log.record.uid becomes its RecordId."""
        ClickHouseLogRecordExporter(store, create_schema=False).export([_record("ulid-01J", at=_T0, label="ok")])
        assert store.query("SELECT RecordId FROM audit_predictions").rows == [("ulid-01J",)]


class TestContentIdSpec:
    def test_the_documented_array_is_what_is_hashed(self) -> None:
        """The content id is SHA-256 of the compact JSON array the module docstring specifies."""
        ids = ContentIds()
        args = ["k", "a"], ["v\n", "1"], 5, 6, "ab", "cd", 9, "INFO", '{"input":1}', ["service.name"], ["é"], "s", "1"
        got = ids.missing(semconv.EVENT_PREDICTION, *args)
        array = [CONTENT_ID_VERSION, 5, 6, "ab", "cd", 9, "INFO", semconv.EVENT_PREDICTION, '{"input":1}',
                 [["a", "1"], ["k", "v\n"]], [["service.name", "é"]], "s", "1"]  # fmt: skip
        text = json.dumps(array, ensure_ascii=False, separators=(",", ":"))
        assert got == hashlib.sha256(text.encode()).hexdigest()
        repeat = ids.missing(semconv.EVENT_PREDICTION, *args)
        text_1 = json.dumps([*array, 1], ensure_ascii=False, separators=(",", ":"))
        assert repeat == hashlib.sha256(text_1.encode()).hexdigest()
        assert ContentIds().missing(semconv.EVENT_PREDICTION, *args) == got  # a retry of the export
        assert ids.missing("other.event", *args) is None


class TestPreemption:
    def test_a_forged_copy_is_kept_and_flagged_and_the_genuine_not_blamed(self, store: Store) -> None:
        """A copy under a sealed record's id with an earlier time: both kept, both counted, the id flagged."""
        signer = NoteSigner("preempt.test", bytes(32))
        exporter = ClickHouseLogRecordExporter(store, create_schema=False)
        exporter.export([_record("uid-1", at=_T0, label="approve")])
        assert seal(store, signer).sealed == 1
        exporter.export([_record("uid-1", at=_T0 - 3_600_000_000_000, label="decline")])  # the forgery

        report = verify(store, signer.verifier)
        kinds = [(problem.kind, problem.record_id) for problem in report.problems]
        assert ("conflicting copies", "uid-1") in kinds
        assert all(kind not in ("modified record", "deleted record") for kind, _ in kinds), kinds

        assert seal(store, signer).sealed == 1  # the copy is sealed too: it is a stored record
        after = verify(store, signer.verifier)
        assert [problem.kind for problem in after.problems] == ["conflicting copies"]
        assert queries.model_usage(store, "pre")["total_predictions"] == 2
        found = queries.conflicts(store)
        assert found["record_ids"] == 1 and found["variants"] == 2
        assert {row["timestamp"] for row in found["conflicts"]} == {
            dt.datetime(2026, 9, 21, 14, 13, 20) - dt.timedelta(hours=1),
            dt.datetime(2026, 9, 21, 14, 13, 20),
        }

    def test_a_modified_record_is_still_called_modified(self, store: Store) -> None:
        """One row, changed after sealing, is a modified record (no conflict involved)."""
        signer = NoteSigner("preempt.test", bytes(32))
        ClickHouseLogRecordExporter(store, create_schema=False).export([_record("uid-2", at=_T0, label="approve")])
        seal(store, signer)
        store.command(
            "ALTER TABLE audit_predictions UPDATE OutputLabel = 'forged' WHERE RecordId = 'uid-2'",
            settings={"mutations_sync": 2},
        )
        assert [(p.kind, p.record_id) for p in verify(store, signer.verifier).problems] == [
            ("modified record", "uid-2")
        ]
