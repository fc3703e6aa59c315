"""The guarded audited-call core: extractor and otel-audit failures never reach the caller."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace

import otel_audit
from otel_audit.store.connect import Store

EXTRACTORS = ("input", "output", "user_id")


def _broken(*args: Any, **kwargs: Any) -> Any:
    """A user-supplied extractor with a bug."""
    raise KeyError("field the extractor expected")


def _records(runtime: otel_audit.AuditRuntime, store: Store) -> list[dict[str, Any]]:
    assert runtime.flush(30)
    return store.query(
        "SELECT Input, Output, UserId, Outcome, ErrorType, Attributes FROM audit_predictions ORDER BY Timestamp"
    ).dicts()


def _noted(record: dict[str, Any]) -> list[str]:
    """The record's ``audit.extractor.error`` entries (stored as a JSON array text)."""
    return json.loads(record["Attributes"].get("audit.extractor.error", "[]"))


def _decorate(extractor: str, *, is_async: bool, error: BaseException | None = None) -> Callable[..., Any]:
    """A function audited with the *extractor* callable broken; it raises *error* when given one."""
    options: dict[str, Any] = {extractor: _broken}

    if is_async:

        @otel_audit.audited(model="m", version="1", **options)
        async def apredict(x: int) -> int:
            await asyncio.sleep(0)
            if error is not None:
                raise error
            return x * 2

        return apredict

    @otel_audit.audited(model="m", version="1", **options)
    def predict(x: int) -> int:
        if error is not None:
            raise error
        return x * 2

    return predict


def _call_keeping_context(function: Callable[..., Any], *args: Any) -> tuple[Any, BaseException | None]:
    """Call *function* (awaited if async); check the current span is the same after as before."""

    async def in_task() -> tuple[Any, BaseException | None]:
        before = trace.get_current_span()
        try:
            result, raised = await function(*args), None
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            result, raised = None, error
        assert trace.get_current_span() is before
        return result, raised

    if asyncio.iscoroutinefunction(function):
        return asyncio.run(in_task())
    before = trace.get_current_span()
    try:
        result, raised = function(*args), None
    except BaseException as error:  # noqa: BLE001
        result, raised = None, error
    assert trace.get_current_span() is before
    return result, raised


class TestAuditedCall:
    @pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
    @pytest.mark.parametrize("extractor", EXTRACTORS)
    def test_broken_extractor_keeps_the_result_and_the_record(
        self, runtime: otel_audit.AuditRuntime, store: Store, extractor: str, is_async: bool
    ) -> None:
        """A raising extractor leaves the result unchanged and no span current; the record names it."""
        result, raised = _call_keeping_context(_decorate(extractor, is_async=is_async), 21)
        assert (result, raised) == (42, None)
        assert trace.get_current_span() is trace.INVALID_SPAN
        [record] = _records(runtime, store)
        assert _noted(record) == [f"{extractor}: KeyError"]
        assert record["Outcome"] == "ok"
        expected = {"input": ("null", "42"), "output": ("21", "null"), "user_id": ("21", "42")}[extractor]
        assert (record["Input"], record["Output"]) == expected
        assert otel_audit.stats()["counters"]["predictions.extractor_errors"] == 1

    @pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
    @pytest.mark.parametrize("extractor", ["input", "user_id"])
    def test_the_functions_own_exception_object_propagates(
        self, runtime: otel_audit.AuditRuntime, store: Store, extractor: str, is_async: bool
    ) -> None:
        """When the function raises, that very exception reaches the caller and is recorded beside the extractor's."""
        failure = TimeoutError("model down")
        _, raised = _call_keeping_context(_decorate(extractor, is_async=is_async, error=failure), 1)
        assert raised is failure
        [record] = _records(runtime, store)
        assert record["Outcome"] == "error" and record["ErrorType"] == "TimeoutError"
        assert _noted(record) == [f"{extractor}: KeyError"]

    def test_inside_an_enclosing_span_the_enclosing_span_stays_current(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """After a call with a broken output extractor the enclosing span is current again and parents later spans."""
        tracer = runtime.tracer_provider.get_tracer("app")
        predict = _decorate("output", is_async=False)
        with tracer.start_as_current_span("request") as outer:
            assert _call_keeping_context(predict, 1) == (2, None)
            assert trace.get_current_span() is outer
            with tracer.start_as_current_span("after"):
                pass
        assert runtime.flush(30)
        rows = store.query("SELECT SpanName, SpanId, ParentSpanId FROM otel_traces").dicts()
        spans = {row["SpanName"]: row for row in rows}
        assert spans["after"]["ParentSpanId"] == spans["request"]["SpanId"]
        assert spans["predict m"]["ParentSpanId"] == spans["request"]["SpanId"]

    def test_broken_user_id_extractor_falls_back_to_the_scope(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """The user of the enclosing audit_scope is recorded when the user_id extractor raises."""
        with otel_audit.audit_scope(user_id="scope-user"):
            _decorate("user_id", is_async=False)(1)
        [record] = _records(runtime, store)
        assert record["UserId"] == "scope-user"

    @pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
    def test_unusable_configuration_runs_the_call_unaudited(
        self, monkeypatch: pytest.MonkeyPatch, is_async: bool
    ) -> None:
        """If otel-audit cannot configure itself the result is unchanged and each lost record counted once."""
        monkeypatch.setenv("OTEL_AUDIT_STORE", "bogus://nowhere")
        predict = _decorate("input", is_async=is_async)
        assert _call_keeping_context(predict, 1) == (2, None)
        assert _call_keeping_context(predict, 2) == (4, None)
        assert otel_audit.stats()["counters"]["predictions.dropped.setup_error"] == 2


class TestAuditPredictionBlock:
    def test_the_blocks_exception_object_propagates_and_no_span_stays(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """The block's own exception reaches the caller as the same object, with the enclosing span current."""
        failure = TimeoutError("bad row")
        tracer = runtime.tracer_provider.get_tracer("app")
        with tracer.start_as_current_span("request") as outer:
            with pytest.raises(TimeoutError) as caught, otel_audit.audit_prediction(model="m", version="1", input=1):
                raise failure
            assert caught.value is failure
            assert trace.get_current_span() is outer
        [record] = _records(runtime, store)
        assert record["Outcome"] == "error"

    def test_unusable_configuration_leaves_the_block_unaudited(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """If otel-audit cannot configure itself the block runs, its exception is unchanged, and the loss is counted."""
        monkeypatch.setenv("OTEL_AUDIT_STORE", "bogus://nowhere")
        with otel_audit.audit_prediction(model="m", version="1", input=1) as p:
            p.output = 2
        failure = TimeoutError("still the caller's")
        with pytest.raises(TimeoutError) as caught, otel_audit.audit_prediction(model="m", version="1"):
            raise failure
        assert caught.value is failure
        assert trace.get_current_span() is trace.INVALID_SPAN
        assert otel_audit.stats()["counters"]["predictions.dropped.setup_error"] == 2

    def test_an_attribute_that_cannot_be_rendered_costs_only_itself(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """An extra attribute whose str() raises is stored as a marker; the prediction is still recorded."""

        class Hostile:
            def __str__(self) -> str:
                raise RuntimeError("no str")

        with otel_audit.audit_prediction(model="m", version="1", input=1, attributes={"odd": Hostile()}) as p:
            p.output = 2
        [record] = _records(runtime, store)
        assert record["Output"] == "2"
        assert record["Attributes"]["odd"] == "$unencodable: RuntimeError"
