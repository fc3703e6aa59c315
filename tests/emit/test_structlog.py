"""The structlog processor: the tutorial's ``ai_prediction`` logging becomes audited predictions.

The tutorial otel-audit grew from (shared/seed, "The Quick Version") logs each prediction with
``logger.info("ai_prediction", **audit_record)``. Its snippet runs here as published, under a
structlog configuration that differs from structlog's defaults by the one processor line, and
every prediction it logs must be in the store exactly.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import pickle
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

import otel_audit
from otel_audit.emit.structlog import PredictionAuditor
from otel_audit.store.connect import Store

TUTORIAL = textwrap.dedent(
    '''
    import structlog
    import json
    import uuid
    from datetime import datetime, timezone
    logger = structlog.get_logger()
    def log_prediction(
        request_id: str,
        model_name: str,
        model_version: str,
        input_data: dict,
        output: dict,
        user_id: str = None,
        latency_ms: float = None,
    ) -> dict:
        """Log an AI prediction with full audit context."""
        audit_record = {
            "event": "ai_prediction",
            "request_id": request_id,
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "model": {
                "name": model_name,
                "version": model_version,
            },
            "input": input_data,
            "output": output,
            "user_id": user_id,
            "latency_ms": latency_ms,
        }
        logger.info("ai_prediction", **audit_record)
        return audit_record
    # Usage in your inference code
    request_id = str(uuid.uuid4())
    log_prediction(
        request_id=request_id,
        model_name="fraud_detector",
        model_version="v3.2.1",
        input_data={"transaction_amount": 1250.00, "merchant_category": "electronics"},
        output={"prediction": "legitimate", "confidence": 0.94, "risk_score": 0.12},
        user_id="analyst_jane",
        latency_ms=23.5,
    )
    '''
)
"""The tutorial's structlog snippet, character for character (its indentation restored)."""

FIXES = {
    # The snippet passes "event" twice (positionally and in **audit_record): structlog's
    # logger.info(event, **kw) refuses that with a TypeError, before any processor runs. A team
    # that logs this way has made one of these two edits to run it at all.
    "event key dropped": ('        "event": "ai_prediction",\n', ""),
    "event by keyword": ('logger.info("ai_prediction", **audit_record)', "logger.info(**audit_record)"),
}

STRUCTLOG_DEFAULTS = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.StackInfoRenderer(),
    structlog.dev.set_exc_info,
    structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
    structlog.dev.ConsoleRenderer(colors=False),
]
"""structlog's default processors, which the tutorial's unconfigured ``structlog.get_logger()`` uses."""


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """Where the configured structlog prints; structlog's configuration is reset afterwards."""
    out = io.StringIO()
    yield out
    structlog.reset_defaults()


def configure_team_logging(out: io.StringIO, *, audited: bool) -> None:
    """The team's structlog configuration: structlog's defaults, plus the one otel-audit line when *audited*."""
    processors = [PredictionAuditor(), *STRUCTLOG_DEFAULTS] if audited else list(STRUCTLOG_DEFAULTS)
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(file=out))


def run_tutorial(fix: str | None) -> dict[str, Any]:
    """Run the tutorial snippet with one of :data:`FIXES` (or as published); return its namespace."""
    source = TUTORIAL
    if fix is not None:
        old, new = FIXES[fix]
        assert source.count(old) == 1
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "tutorial"}
    exec(compile(source, "tutorial.py", "exec"), namespace)  # the published snippet, run as written
    return namespace


def stored(store: Store) -> list[dict[str, Any]]:
    assert otel_audit.flush(30)
    return store.query(
        "SELECT RequestId, ModelName, ModelVersion, Input, Output, UserId, LatencyMs, Timestamp, Attributes "
        "FROM audit_predictions ORDER BY Timestamp"
    ).dicts()


def _own_attribute(key: str) -> bool:
    """An attribute otel-audit sets on every record (not one taken from the event)."""
    return key.startswith(("audit.", "log.record.", "gen_ai.", "ml.", "user.", "error."))


class TestTutorialSnippet:
    def test_published_snippet_fails_in_structlog_itself(self, console: io.StringIO) -> None:
        """As published, the snippet raises structlog's TypeError with or without otel-audit: "event" is given twice."""
        for audited in (False, True):
            configure_team_logging(console, audited=audited)
            with pytest.raises(TypeError, match="multiple values for argument 'event'"):
                run_tutorial(None)

    @pytest.mark.parametrize("fix", sorted(FIXES))
    def test_snippet_stores_exactly_its_predictions(
        self, fix: str, console: io.StringIO, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """Every ai_prediction the snippet logs is stored with its request id, model, version, input, output,
        user and latency exactly; its log lines are printed as before."""
        configure_team_logging(console, audited=True)
        tutorial = run_tutorial(fix)  # logs the snippet's own usage example
        log_prediction = tutorial["log_prediction"]
        calls = [
            {
                "request_id": "req-2",
                "model_name": "sentiment_classifier",
                "model_version": "v2.1.0",
                "input_data": {"text": "Great product, fast shipping!"},
                "output": {"label": "positive", "score": 0.96},
                "user_id": "api_client_42",
                "latency_ms": 15.3,
            },
            {
                "request_id": "req-3",
                "model_name": "classifier",
                "model_version": "v1",
                "input_data": {"text": "Where is my parcel?", "tickets": 3},
                "output": {"label": "inquiry"},
            },
            {
                "request_id": "req-4",
                "model_name": "fraud_detector",
                "model_version": "v3.2.1",
                "input_data": {"transaction_amount": 0.1, "nested": {"list": [1, 2.5, None, True]}},
                "output": {"prediction": "fraud", "confidence": 0.123456789},
                "user_id": "analyst_jane",
                "latency_ms": 0.123456789,
            },
        ]
        logged = [log_prediction(**call) for call in calls]
        rows = stored(store)
        assert len(rows) == 1 + len(calls)  # the snippet's own example, then these
        by_request = {row["RequestId"]: row for row in rows}
        first = by_request[tutorial["request_id"]]
        assert (first["ModelName"], first["ModelVersion"], first["UserId"], first["LatencyMs"]) == (
            "fraud_detector",
            "v3.2.1",
            "analyst_jane",
            23.5,
        )
        assert json.loads(first["Input"]) == {"transaction_amount": 1250.00, "merchant_category": "electronics"}
        assert json.loads(first["Output"]) == {"prediction": "legitimate", "confidence": 0.94, "risk_score": 0.12}
        for call, record in zip(calls, logged, strict=True):
            row = by_request[call["request_id"]]
            assert (row["ModelName"], row["ModelVersion"]) == (call["model_name"], call["model_version"])
            assert json.loads(row["Input"]) == call["input_data"] and json.loads(row["Output"]) == call["output"]
            assert row["UserId"] == (call.get("user_id") or "")
            assert row["LatencyMs"] == (call.get("latency_ms") or 0.0)
            # The record starts latency_ms before the time the tutorial logged (its "timestamp").
            ended = dt.datetime.fromisoformat(record["timestamp"]).replace(tzinfo=None)
            started = ended - dt.timedelta(milliseconds=call.get("latency_ms") or 0.0)
            assert abs((row["Timestamp"] - started).total_seconds()) < 2e-6
        for row in rows:
            assert [key for key in row["Attributes"] if not _own_attribute(key)] == []
        printed = console.getvalue().splitlines()
        assert len(printed) == len(rows) and all("ai_prediction" in line for line in printed)
        assert "request_id=req-2" in printed[1] and "latency_ms=15.3" in printed[1]


class TestPredictionAuditor:
    def test_event_passes_on_unchanged(self, runtime: otel_audit.AuditRuntime) -> None:
        """The processor returns the very dict it was given, with the same content."""
        event = {
            "event": "ai_prediction",
            "request_id": "r1",
            "model": {"name": "m", "version": "v1"},
            "input": {"x": [1, 2]},
            "output": {"label": "yes"},
            "latency_ms": 2.0,
        }
        before = copy.deepcopy(event)
        assert PredictionAuditor()(None, "info", event) is event
        assert event == before

    def test_other_events_are_not_recorded(
        self, console: io.StringIO, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """Only the prediction event is audited; other events (and other names) just pass."""
        configure_team_logging(console, audited=True)
        logger = structlog.get_logger()
        logger.info("user_login", user_id="u1", model={"name": "m", "version": "v1"})
        logger.info("ai_prediction_failed", model={"name": "m", "version": "v1"})
        assert stored(store) == [] and len(console.getvalue().splitlines()) == 2

    def test_extra_keys_become_attributes(
        self, console: io.StringIO, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """Bound and extra keys become attributes (structures as canonical JSON); structlog's own keys do not."""
        configure_team_logging(console, audited=True)
        logger = structlog.get_logger().bind(tenant="acme")
        logger.info(
            "ai_prediction",
            request_id="r-extra",
            model={"name": "m", "version": "v1", "framework": "sklearn"},
            input={"x": 1},
            output={"label": "yes"},
            features_used={"b": 2, "a": [1, 2]},
            retries=2,
            cached=False,
            ignored=None,
        )
        (row,) = stored(store)
        extra = {key: value for key, value in row["Attributes"].items() if not _own_attribute(key)}
        assert extra == {
            "tenant": "acme",
            "model.framework": "sklearn",
            "features_used": '{"a":[1,2],"b":2}',
            "retries": "2",
            "cached": "false",
        }

    def test_flat_model_keys_and_time_forms(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """model.name/model.version or model_name/model_version name the model; an unzoned time is kept as text."""
        auditor = PredictionAuditor()
        at = dt.datetime(2026, 3, 15, 12, 0, 0, 250_000, tzinfo=dt.timezone.utc)
        auditor(None, "info", {"event": "ai_prediction", "request_id": "a", "model.name": "m", "model.version": "1",
                               "timestamp": at.isoformat(), "latency_ms": 250})  # fmt: skip
        auditor(None, "info", {"event": "ai_prediction", "request_id": "b", "model_name": "m", "model_version": "2",
                               "timestamp": at.timestamp()})  # fmt: skip
        auditor(None, "info", {"event": "ai_prediction", "request_id": "c", "model_name": "m", "model_version": "3",
                               "timestamp": "2026-03-15 12:00:00"})  # fmt: skip
        rows = {row["RequestId"]: row for row in stored(store)}
        assert (rows["a"]["ModelVersion"], rows["a"]["Timestamp"]) == ("1", dt.datetime(2026, 3, 15, 12))
        assert rows["a"]["LatencyMs"] == 250.0
        assert (rows["b"]["ModelVersion"], rows["b"]["Timestamp"]) == ("2", at.replace(tzinfo=None))
        assert rows["c"]["Attributes"]["timestamp"] == "2026-03-15 12:00:00"
        assert rows["c"]["Timestamp"] > dt.datetime(2026, 3, 16)  # the time it was logged

    def test_event_without_a_model_is_counted_not_raised(
        self, console: io.StringIO, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """A prediction event without a model version is not audited: counted as dropped, logged, never raised."""
        configure_team_logging(console, audited=True)
        structlog.get_logger().info("ai_prediction", request_id="r", model={"name": "m"}, input={"x": 1})
        assert stored(store) == []
        assert otel_audit.stats()["counters"]["predictions.dropped.invalid_event"] == 1
        assert "ai_prediction" in console.getvalue()  # the application's own log line still printed

    def test_never_raises_when_otel_audit_cannot_start(
        self, console: io.StringIO, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With otel-audit unconfigurable the event is still logged; the loss is counted as setup_error."""
        monkeypatch.setenv("OTEL_AUDIT_STORE", "mysql://nowhere/db")
        configure_team_logging(console, audited=True)
        structlog.get_logger().info("ai_prediction", request_id="r", model={"name": "m", "version": "v1"})
        assert otel_audit.stats()["counters"]["predictions.dropped.setup_error"] == 1
        assert "request_id=r" in console.getvalue()

    def test_pickles_and_refuses_an_empty_event_name(self) -> None:
        """The processor pickles (structlog configurations may be copied) and checks its argument at construction."""
        restored = pickle.loads(pickle.dumps(PredictionAuditor("prediction", snapshot=False)))
        assert repr(restored) == "PredictionAuditor(event='prediction', snapshot=False)"
        with pytest.raises(ValueError, match="non-empty"):
            PredictionAuditor("")
