"""The ways to audit a prediction: a context manager, a decorator, and a record of one already made.

Usage::

    import otel_audit

    otel_audit.configure(store="chdb:///var/lib/otel-audit", service_name="fraud-api")

    with otel_audit.audit_prediction(model="fraud_detector", version="v3.2.1",
                                     user_id="analyst_jane", input=features) as p:
        p.output = model.predict(features)

    @otel_audit.audited(model="sentiment", version="v2.1.0")
    async def classify(text: str) -> dict: ...

    otel_audit.record_prediction(model="fraud_detector", version="v3.2.1", input=features,
                                 output=result, latency_ms=23.5, request_id=request_id)

Each prediction is one span ``predict <model>`` and one ``ai.prediction`` log record. An
exception is audited (``audit.outcome=error``, its type and message) and then re-raised
unchanged. Both run through the guarded core :mod:`otel_audit.emit.call`: an extractor that
raises (``input=``, ``user_id=``, ``output=``) is noted in the record (``audit.extractor.error``)
instead of reaching the caller, and if otel-audit itself fails the call runs unaudited.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from time import time_ns
from typing import Any, TypeVar, cast

from otel_audit.emit import call
from otel_audit.emit.prediction import CallInput, Prediction
from otel_audit.emit.runtime import audit_runtime

__all__ = ["audit_prediction", "audited", "record_prediction"]

F = TypeVar("F", bound=Callable[..., Any])


def audit_prediction(
    *,
    model: str,
    version: str,
    input: Any = None,  # noqa: A002 - the audit vocabulary
    user_id: str | None = None,
    request_id: str | None = None,
    pipeline_version: str | None = None,
    operation: str = "predict",
    batch_size: int = 1,
    attributes: Mapping[str, Any] | None = None,
    snapshot: bool = False,
) -> Prediction:
    """Return a context manager (``with`` or ``async with``) auditing one prediction.

    Set ``p.output`` inside the block; ``p.input`` and ``p.label`` may be set there too.
    *user_id* and *request_id* default to the enclosing :class:`~otel_audit.audit_scope`.
    With ``snapshot=True`` input and output are encoded when the block exits, in the caller's
    thread, instead of later on the export thread (use it if you mutate them afterwards).
    If otel-audit cannot be configured the block still runs, unaudited (counted as
    ``predictions.dropped.setup_error``).
    """
    _check_identity(model, version)
    try:
        runtime = audit_runtime()
    except Exception:  # noqa: BLE001 - auditing must never break the prediction
        call.setup_failed(call.CONTEXT_SITE)
        runtime = None
    return Prediction(
        runtime,
        model=model,
        version=version,
        input=input,
        user_id=user_id,
        request_id=request_id,
        pipeline_version=pipeline_version,
        operation=operation,
        batch_size=batch_size,
        attributes=attributes,
        snapshot=snapshot,
    )


def _check_identity(model: str, version: str) -> None:
    if not isinstance(model, str) or not model:
        raise ValueError(f"model must be a non-empty string, not {model!r}")
    if not isinstance(version, str) or not version:
        raise ValueError(f"version must be a non-empty string, not {version!r}")


def audited(
    *,
    model: str,
    version: str,
    user_id: str | Callable[..., str | None] | None = None,
    pipeline_version: str | None = None,
    operation: str = "predict",
    input: Callable[..., Any] | None = None,  # noqa: A002
    output: Callable[[Any], Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Callable[[F], F]:
    """Decorate a function or coroutine function so every call is an audited prediction.

    Args:
        model, version, pipeline_version, operation: what answers.
        user_id: a string, or a callable given the call's ``(*args, **kwargs)``; defaults to
            the enclosing :class:`~otel_audit.audit_scope`.
        input: callable given ``(*args, **kwargs)`` returning the input to record; by default
            the only argument, or a dict of all arguments by name (``self``/``cls`` left out).
        output: callable given the return value, returning the output to record.
        attributes: extra attributes for every call.

    The function's result or exception is never changed by auditing: an extractor that raises
    leaves its fact null in the record and is named in ``audit.extractor.error``.
    """
    _check_identity(model, version)
    fixed_user = None if callable(user_id) else user_id

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        site = call.CallSite("predictions", f"@audited {function.__module__}.{function.__qualname__}")

        def build(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prediction:
            prediction = Prediction(
                audit_runtime(),
                model=model,
                version=version,
                user_id=fixed_user,
                pipeline_version=pipeline_version,
                operation=operation,
                attributes=attributes,
            )
            if callable(user_id):
                who = call.extract(site, prediction, "user_id", user_id, args=args, kwargs=kwargs)
                if who is not None:
                    prediction.user_id = who
            prediction.input = (
                call.extract(site, prediction, "input", input, args=args, kwargs=kwargs)
                if input is not None
                else CallInput(signature, args, kwargs)
            )
            return prediction

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await call.audited_acall(
                    site, lambda: build(args, kwargs), lambda: function(*args, **kwargs), output=output
                )

            return cast(F, async_wrapper)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return call.audited_call(
                site, lambda: build(args, kwargs), lambda: function(*args, **kwargs), output=output
            )

        return cast(F, wrapper)

    return decorate


RECORD_SITE = call.CallSite("predictions", "record_prediction")
"""The site of every :func:`record_prediction` (its failures are counted and logged under this name)."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _ns(at: dt.datetime) -> int:
    """*at* (aware) as integer nanoseconds since the epoch, exactly."""
    return (at - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def record_prediction(
    *,
    model: str,
    version: str,
    input: Any = None,  # noqa: A002 - the audit vocabulary
    output: Any = None,
    user_id: str | None = None,
    request_id: str | None = None,
    latency_ms: float | None = None,
    ended_at: dt.datetime | None = None,
    pipeline_version: str | None = None,
    operation: str = "predict",
    attributes: Mapping[str, Any] | None = None,
    snapshot: bool = False,
) -> None:
    """Audit a prediction that has already been made, from its facts.

    For code that measured the prediction itself (a log call after the fact, the structlog
    processor :class:`otel_audit.emit.structlog.PredictionAuditor`): the record is exactly
    what ``audit_prediction`` would make, with the given *latency_ms* recorded as it is and the
    span running from ``ended_at - latency_ms`` to *ended_at*.

    Args:
        model, version, pipeline_version, operation: what answered.
        input, output: the prediction's input and output (any value; ``docs/input-hash.md``).
        user_id, request_id: who asked, for which request (default: the enclosing
            :class:`~otel_audit.audit_scope`; a request id is generated when there is none).
        latency_ms: how long the prediction took; ``None`` records ``0``.
        ended_at: when it ended (an aware datetime); default now.
        attributes: extra attributes of the record.
        snapshot: encode *input* and *output* now, in the caller's thread (use it if they may
            change after the call).

    Raises:
        ValueError: *model* or *version* is empty, *latency_ms* is negative or not finite, or
            *ended_at* has no time zone. Otherwise nothing: if otel-audit itself fails, the
            failure is logged and counted (``predictions.dropped.setup_error``), as for
            ``audit_prediction``.
    """
    _check_identity(model, version)
    if latency_ms is not None and (not math.isfinite(latency_ms) or latency_ms < 0):
        raise ValueError(f"latency_ms must be a finite number >= 0, not {latency_ms!r}")
    if ended_at is not None and ended_at.tzinfo is None:
        raise ValueError("ended_at must be an aware datetime (with a time zone)")
    end_ns = _ns(ended_at) if ended_at is not None else time_ns()

    def build() -> Prediction:
        prediction = Prediction(
            audit_runtime(),
            model=model,
            version=version,
            input=input,
            user_id=user_id,
            request_id=request_id,
            pipeline_version=pipeline_version,
            operation=operation,
            attributes=attributes,
            snapshot=snapshot,
        )
        prediction.output = output
        prediction.latency_ms = float(latency_ms) if latency_ms is not None else None
        prediction.end_ns = end_ns
        prediction.start_ns = end_ns - round((latency_ms or 0.0) * 1e6) or 1  # 0 would mean "not started"
        return prediction

    prediction, _ = call.begin(RECORD_SITE, build)
    if prediction is not None:
        call.close(RECORD_SITE, prediction)
