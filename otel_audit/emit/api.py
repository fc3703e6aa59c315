"""The two ways to audit a prediction: a context manager and a decorator.

Usage::

    import otel_audit

    otel_audit.configure(store="chdb:///var/lib/otel-audit", service_name="fraud-api")

    with otel_audit.audit_prediction(model="fraud_detector", version="v3.2.1",
                                     user_id="analyst_jane", input=features) as p:
        p.output = model.predict(features)

    @otel_audit.audited(model="sentiment", version="v2.1.0")
    async def classify(text: str) -> dict: ...

Each prediction is one span ``predict <model>`` and one ``ai.prediction`` log record. An
exception is audited (``audit.outcome=error``, its type and message) and then re-raised
unchanged. Both run through the guarded core :mod:`otel_audit.emit.call`: an extractor that
raises (``input=``, ``user_id=``, ``output=``) is noted in the record (``audit.extractor.error``)
instead of reaching the caller, and if otel-audit itself fails the call runs unaudited.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from otel_audit.emit import call
from otel_audit.emit.prediction import CallInput, Prediction
from otel_audit.emit.runtime import audit_runtime

__all__ = ["audit_prediction", "audited"]

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
            prediction = audit_runtime().prediction(
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
