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
unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from otel_audit.emit.prediction import CallInput, Prediction
from otel_audit.emit.runtime import get_runtime

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
    """
    _check_identity(model, version)
    return get_runtime().prediction(
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
    """
    _check_identity(model, version)

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        def begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prediction:
            who = user_id(*args, **kwargs) if callable(user_id) else user_id
            captured = input(*args, **kwargs) if input is not None else CallInput(signature, args, kwargs)
            prediction = get_runtime().prediction(
                model=model,
                version=version,
                input=captured,
                user_id=who,
                pipeline_version=pipeline_version,
                operation=operation,
                attributes=attributes,
            )
            prediction.start()
            return prediction

        def end(prediction: Prediction, result: Any) -> None:
            prediction.output = output(result) if output is not None else result
            prediction.finish()

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                prediction = begin(args, kwargs)
                try:
                    result = await function(*args, **kwargs)
                except BaseException as error:
                    prediction.finish(error)
                    raise
                end(prediction, result)
                return result

            return cast(F, async_wrapper)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prediction = begin(args, kwargs)
            try:
                result = function(*args, **kwargs)
            except BaseException as error:
                prediction.finish(error)
                raise
            end(prediction, result)
            return result

        return cast(F, wrapper)

    return decorate
