"""End to end: predictions through decorator, context manager and async paths into real chDB."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy
import pydantic
import pytest
from opentelemetry import trace

import otel_audit
from otel_audit.answer import queries
from otel_audit.store.connect import Store


def _rows(store: Store, sql: str) -> list[dict[str, Any]]:
    return store.query(sql).dicts()


def _nearest_rank(values: list[float], q: float) -> float:
    """quantileExact's definition: the element at index floor(q * n) of the sorted sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class TestContextManager:
    def test_one_span_and_one_log_record_per_prediction(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A prediction becomes one span and one ai.prediction log record sharing trace and span ids."""
        with otel_audit.audit_prediction(
            model="fraud_detector",
            version="v3.2.1",
            user_id="analyst_jane",
            input={"transaction_amount": 1250.0, "merchant_category": "electronics"},
            request_id="req-1",
            pipeline_version="pipe-7",
        ) as p:
            p.output = {"prediction": "legitimate", "confidence": 0.94}
        assert otel_audit.flush(30)
        logs = _rows(store, "SELECT TraceId, SpanId, EventName, Body, LogAttributes FROM otel_logs")
        spans = _rows(store, "SELECT TraceId, SpanId, SpanName, SpanAttributes FROM otel_traces")
        assert len(logs) == 1 and len(spans) == 1
        log, span = logs[0], spans[0]
        assert (log["TraceId"], log["SpanId"]) == (span["TraceId"], span["SpanId"])
        assert len(log["TraceId"]) == 32 and len(log["SpanId"]) == 16
        assert log["EventName"] == "ai.prediction"
        assert span["SpanName"] == "predict fraud_detector"
        body = json.loads(log["Body"])
        assert body == {
            "input": {"merchant_category": "electronics", "transaction_amount": 1250},
            "output": {"confidence": 0.94, "prediction": "legitimate"},
        }
        expected_hash = otel_audit.hash_input({"transaction_amount": 1250.0, "merchant_category": "electronics"})
        for attributes in (log["LogAttributes"], span["SpanAttributes"]):
            assert attributes["gen_ai.request.model"] == "fraud_detector"
            assert attributes["ml.model.version"] == "v3.2.1"
            assert attributes["ml.pipeline.version"] == "pipe-7"
            assert attributes["user.id"] == "analyst_jane"
            assert attributes["audit.request.id"] == "req-1"
            assert attributes["audit.input.hash"] == expected_hash
            assert attributes["audit.outcome"] == "ok"
            assert float(attributes["audit.latency_ms"]) >= 0
        # The label is derived from the output: the log record carries it, the span (no content) does not.
        assert log["LogAttributes"]["audit.output.label"] == "legitimate"
        assert "audit.output.label" not in span["SpanAttributes"]

    def test_work_inside_the_block_is_a_child_span(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A span started inside the block has the prediction span as parent."""
        tracer = runtime.tracer_provider.get_tracer("model-code")
        with otel_audit.audit_prediction(model="m", version="1", input=1) as p:
            with tracer.start_as_current_span("feature lookup"):
                pass
            p.output = 2
        assert otel_audit.flush(30)
        spans = {
            row["SpanName"]: row
            for row in _rows(store, "SELECT SpanName, SpanId, ParentSpanId, TraceId FROM otel_traces")
        }
        assert spans["feature lookup"]["ParentSpanId"] == spans["predict m"]["SpanId"]
        assert spans["feature lookup"]["TraceId"] == spans["predict m"]["TraceId"]
        assert trace.get_current_span() is trace.INVALID_SPAN

    def test_exception_is_audited_then_reraised(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """An exception in the block is recorded as outcome=error with its type and message, then re-raised."""
        with pytest.raises(KeyError), otel_audit.audit_prediction(model="m", version="1", input={"a": 1}):
            raise KeyError("missing feature")
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT Outcome, ErrorType, ErrorMessage, Output FROM audit_predictions")
        assert row == {
            "Outcome": "error",
            "ErrorType": "KeyError",
            "ErrorMessage": "'missing feature'",
            "Output": "null",
        }
        [span] = _rows(store, "SELECT StatusCode, Events.Name AS events FROM otel_traces")
        assert span["StatusCode"] == "Error" and span["events"] == ["exception"]

    def test_request_id_is_generated_and_readable(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """Without a request id one is generated, readable in the block, and stored."""
        with otel_audit.audit_prediction(model="m", version="1", input=1) as p:
            rid = p.request_id
        assert otel_audit.flush(30)
        assert len(rid) == 36
        assert queries.request_record(store, rid)["found"] == 1

    def test_async_with(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """The context manager works with async with."""

        async def predict() -> None:
            async with otel_audit.audit_prediction(model="m", version="1", input="x") as p:
                await asyncio.sleep(0.01)
                p.output = "y"

        asyncio.run(predict())
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT Output, LatencyMs FROM audit_predictions")
        assert row["Output"] == '"y"' and row["LatencyMs"] >= 10

    def test_scope_supplies_user_and_request(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """audit_scope sets user and request id for predictions that don't give them."""
        with (
            otel_audit.audit_scope(user_id="u9", request_id="r9", attributes={"tenant": "acme"}),
            otel_audit.audit_prediction(model="m", version="1", input=1),
        ):
            pass
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT UserId, RequestId, Attributes FROM audit_predictions")
        assert row["UserId"] == "u9" and row["RequestId"] == "r9" and row["Attributes"]["tenant"] == "acme"

    def test_snapshot_protects_against_later_mutation(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """With snapshot=True the stored input is the value at exit, not after later mutation."""
        features = {"x": 1}
        with otel_audit.audit_prediction(model="m", version="1", input=features, snapshot=True):
            pass
        features["x"] = 999
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT Input, InputHash FROM audit_predictions")
        assert row["Input"] == '{"x":1}' and row["InputHash"] == otel_audit.hash_input({"x": 1})

    def test_invalid_identity_is_refused(self, runtime: otel_audit.AuditRuntime) -> None:
        """An empty model or version is a programming error, raised at once."""
        with pytest.raises(ValueError, match="model"):
            otel_audit.audit_prediction(model="", version="1")
        with pytest.raises(ValueError, match="version"):
            otel_audit.audit_prediction(model="m", version=None)  # type: ignore[arg-type]


class TestDecorator:
    def test_sync_function_input_is_its_arguments(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A multi-argument function is audited with its bound arguments (defaults applied) as input."""

        @otel_audit.audited(model="adder", version="1", user_id="u1")
        def add(x: int, y: int = 2) -> int:
            return x + y

        assert add(1) == 3
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT Input, Output, InputHash, UserId FROM audit_predictions")
        assert row["Input"] == '{"x":1,"y":2}' and row["Output"] == "3" and row["UserId"] == "u1"
        assert row["InputHash"] == otel_audit.hash_input({"x": 1, "y": 2})

    def test_method_single_argument_is_the_input(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """For a method with one argument besides self, that argument is the input."""

        class Model:
            @otel_audit.audited(model="cls", version="2", user_id=lambda self, features: features["who"])
            def predict(self, features: dict[str, Any]) -> str:
                return "yes"

        Model().predict({"who": "w", "v": 1})
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT Input, UserId, OutputLabel FROM audit_predictions")
        assert row == {"Input": '{"v":1,"who":"w"}', "UserId": "w", "OutputLabel": "yes"}

    def test_coroutine_and_its_exception(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """Coroutine functions are audited, and their exceptions recorded then re-raised."""

        @otel_audit.audited(model="async", version="1")
        async def score(text: str) -> float:
            if text == "bad":
                raise RuntimeError("cannot score")
            return 0.5

        assert asyncio.run(score("good")) == 0.5
        with pytest.raises(RuntimeError, match="cannot score"):
            asyncio.run(score("bad"))
        assert otel_audit.flush(30)
        rows = _rows(store, "SELECT Input, Outcome, ErrorType FROM audit_predictions ORDER BY Timestamp")
        assert rows == [
            {"Input": '"good"', "Outcome": "ok", "ErrorType": ""},
            {"Input": '"bad"', "Outcome": "error", "ErrorType": "RuntimeError"},
        ]


@dataclass
class Applicant:
    name: str
    income: decimal.Decimal


class Features(pydantic.BaseModel):
    values: list[float]


class TestAwkwardInputs:
    def test_non_json_inputs_are_stored_with_their_defined_encoding(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """numpy, bytes, datetimes, Decimal, NaN, dataclasses and pydantic models never fail the caller."""
        inputs: list[Any] = [
            numpy.arange(6, dtype="float32").reshape(2, 3),
            b"\x00\xffraw",
            datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.timezone.utc),
            decimal.Decimal("1.10"),
            math.nan,
            Applicant("Ann", decimal.Decimal("52000.00")),
            Features(values=[0.5, math.inf]),
            {"when": datetime.date(2026, 1, 2), "blob": bytearray(b"ab"), "n": numpy.int64(7)},
        ]
        for index, value in enumerate(inputs):
            with otel_audit.audit_prediction(model="odd", version="1", input=value, request_id=str(index)) as p:
                p.output = value
        assert otel_audit.flush(30)
        rows = {
            int(r["RequestId"]): r for r in _rows(store, "SELECT RequestId, Input, InputHash FROM audit_predictions")
        }
        assert len(rows) == len(inputs)
        for index, value in enumerate(inputs):
            canonical = otel_audit.canonical_json(value)[1]
            assert json.loads(rows[index]["Input"]) == json.loads(canonical)
            assert rows[index]["InputHash"] == otel_audit.hash_input(value)
        assert json.loads(rows[4]["Input"]) == {"$float": "NaN"}
        # The stored Input is exactly the hashed canonical text: checkable with SQL alone.
        mismatched = "SELECT count() FROM audit_predictions WHERE lower(hex(SHA256(Input))) != InputHash"
        assert store.query(mismatched).rows[0][0] == 0
        assert json.loads(rows[1]["Input"]) == {"$bytes": "AP9yYXc="}

    def test_input_whose_encoding_raises_is_still_audited(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """An input that raises while being encoded is recorded as $unencodable and counted."""

        class Hostile:
            def __repr__(self) -> str:
                raise RuntimeError("no repr for you")

        with otel_audit.audit_prediction(model="hostile", version="1", input=Hostile()) as p:
            p.output = "ok"
        assert otel_audit.flush(30)
        [row] = _rows(store, "SELECT Input, Output FROM audit_predictions")
        assert json.loads(row["Input"]) == {"$unencodable": "RuntimeError: no repr for you"}
        assert otel_audit.stats()["counters"]["predictions.encode_errors"] == 1


class TestReportsEndToEnd:
    def test_model_usage_figures_match_an_independent_count(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """Every model-usage figure equals the value computed in the test from what was emitted."""
        import random

        rng = random.Random(3)
        emitted: list[dict[str, Any]] = []
        for index in range(400):
            version = "v1" if index < 250 else "v2"
            user = rng.choice(["ann", "bob", "cy", "dee"])
            label = rng.choice(["approve", "decline"])
            fail = index % 37 == 0
            try:
                with otel_audit.audit_prediction(
                    model="credit", version=version, user_id=user, input={"i": index}
                ) as p:
                    if fail:
                        raise ValueError("bad input")
                    p.output = {"label": label}
            except ValueError:
                pass
            emitted.append({"version": version, "user": user, "label": None if fail else label, "fail": fail})
        with otel_audit.audit_prediction(model="other", version="x", input=0):
            pass
        assert otel_audit.flush(30)

        report = queries.model_usage(store, "credit")
        latencies = [
            r["LatencyMs"] for r in _rows(store, "SELECT LatencyMs FROM audit_predictions WHERE ModelName='credit'")
        ]
        assert report["total_predictions"] == 400
        assert report["errors"] == sum(e["fail"] for e in emitted)
        assert report["ok"] == 400 - report["errors"]
        assert report["unique_users"] == len({e["user"] for e in emitted})
        assert report["versions_used"] == dict(Counter(e["version"] for e in emitted))
        assert report["prediction_distribution"] == dict(Counter(e["label"] for e in emitted if e["label"]))
        assert report["outcome_distribution"] == {"ok": report["ok"], "error": report["errors"]}
        assert report["latency_ms"]["max"] == max(latencies)
        assert report["latency_ms"]["p50"] == _nearest_rank(latencies, 0.5)
        assert report["latency_ms"]["p95"] == _nearest_rank(latencies, 0.95)
        assert report["latency_ms"]["p99"] == _nearest_rank(latencies, 0.99)
        assert report["latency_ms"]["mean"] == pytest.approx(sum(latencies) / len(latencies))
        assert report["first_prediction"] < report["last_prediction"]

        access = queries.data_access(store, "ann")
        assert access["total_requests"] == sum(e["user"] == "ann" for e in emitted)
        assert access["models_used"] == {"credit": access["total_requests"]}
        assert len(access["requests"]) == access["total_requests"]

        switch = _rows(store, "SELECT max(Timestamp) AS t FROM audit_predictions WHERE ModelVersion = 'v1'")[0]["t"]
        assert queries.version_at(store, "credit", switch)["serving"] == ["v1"]
        assert queries.version_at(store, "credit", datetime.datetime(2100, 1, 1))["latest_before"] == "v2"
        assert queries.version_at(store, "credit", datetime.datetime(2000, 1, 1))["serving"] == []

        digest = otel_audit.hash_input({"i": 5})
        found = queries.input_lookup(store, digest)
        assert found["found"] == 1 and found["predictions"][0]["model"] == "credit"

    def test_period_filters_and_empty_report(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A period that holds no prediction reports zero, and an inverted period is refused."""
        with otel_audit.audit_prediction(model="m", version="1", input=1):
            pass
        assert otel_audit.flush(30)
        assert queries.model_usage(store, "m", since="2000-01-01", until="2000-02-01")["total_predictions"] == 0
        assert queries.model_usage(store, "m", since="2000-01-01")["total_predictions"] == 1
        with pytest.raises(otel_audit.QueryError, match="empty period"):
            queries.model_usage(store, "m", since="2030-01-01", until="2020-01-01")


class TestLogRecordUid:
    def test_each_record_in_one_span_has_its_own_uid(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """Three predictions inside one outer span carry three distinct random log.record.uid values, spans none."""

        @otel_audit.audited(model="m", version="1")
        def predict(x: int) -> int:
            return x

        tracer = runtime.tracer_provider.get_tracer("app")
        with tracer.start_as_current_span("request"):
            predict(1)
            predict(1)
            with otel_audit.audit_prediction(model="m", version="1", input=1, attributes={"log.record.uid": "mine"}):
                pass
        assert otel_audit.flush(30)
        uids = [row["LogAttributes"]["log.record.uid"] for row in _rows(store, "SELECT LogAttributes FROM otel_logs")]
        assert len(uids) == 3 and len(set(uids)) == 3
        assert all(len(uid) == 32 and set(uid) <= set("0123456789abcdef") for uid in uids)
        spans = _rows(store, "SELECT SpanAttributes FROM otel_traces WHERE SpanName = 'predict m'")
        assert len(spans) == 3 and not any("log.record.uid" in span["SpanAttributes"] for span in spans)


class TestRecordPrediction:
    def test_span_and_record_span_the_given_latency(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A prediction recorded after the fact keeps its latency exactly, its span ending at ended_at."""
        ended = datetime.datetime(2026, 3, 15, 12, 0, 0, 500_000, tzinfo=datetime.timezone.utc)
        otel_audit.record_prediction(
            model="m", version="1", input={"x": 1}, output={"label": "yes"}, latency_ms=0.1234567891, ended_at=ended,
            request_id="after", user_id="u1", attributes={"source": "log"},
        )  # fmt: skip
        assert otel_audit.flush(30)
        (row,) = _rows(store, "SELECT Timestamp, LatencyMs, RequestId, UserId, Attributes FROM audit_predictions")
        assert (row["LatencyMs"], row["RequestId"], row["UserId"]) == (0.1234567891, "after", "u1")
        assert row["Attributes"]["source"] == "log"
        (span,) = _rows(store, "SELECT toUnixTimestamp64Nano(Timestamp) AS start, Duration FROM otel_traces")
        end_ns = int(ended.timestamp()) * 10**9 + 500_000_000
        assert (span["start"], span["Duration"]) == (end_ns - 123457, 123457)

    def test_bad_facts_are_refused(self, runtime: otel_audit.AuditRuntime) -> None:
        """An empty model, a negative or non-finite latency and a naive end time are ValueErrors."""
        with pytest.raises(ValueError, match="model"):
            otel_audit.record_prediction(model="", version="1")
        for latency in (-1.0, math.inf, math.nan):
            with pytest.raises(ValueError, match="latency_ms"):
                otel_audit.record_prediction(model="m", version="1", latency_ms=latency)
        with pytest.raises(ValueError, match="aware"):
            otel_audit.record_prediction(model="m", version="1", ended_at=datetime.datetime(2026, 1, 1))
