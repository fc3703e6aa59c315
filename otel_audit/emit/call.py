"""One guarded audited call: the core shared by ``audit_prediction``, ``@audited`` and the instrumentors.

An audited call builds a :class:`~otel_audit.emit.prediction.Prediction` (otel-audit's part and
the user-supplied extractors: ``input=``, ``user_id=``…), starts its span, runs the call exactly
once, stops the clock, extracts the output and queues the record. Whatever fails:

* the call's result, or the very exception object it raised, reaches the caller unchanged;
* no span stays current after the call;
* an extractor that raises costs only the fact it was to give: the record is still made, names
  the extractor and the exception type in ``audit.extractor.error``, and the failure is counted
  as ``<signal>.extractor_errors`` and logged with its traceback (once a minute per site);
* a failure of otel-audit itself (configuring from the environment, building the record,
  queueing it) is logged the same way, counted as ``<signal>.dropped.<reason>``, and the call
  runs unaudited.

:func:`audited_call` and :func:`audited_acall` run a whole call; :func:`begin`, :func:`start`,
:func:`extract`, :func:`close` and :func:`setup_failed` are its steps, for callers whose call is
not one function (the context manager, the ASGI middleware).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from otel_audit.stats import pipeline_stats

if TYPE_CHECKING:
    from otel_audit.emit.prediction import Prediction

__all__ = [
    "CONTEXT_SITE",
    "CallSite",
    "audited_acall",
    "audited_call",
    "begin",
    "close",
    "extract",
    "inside_audited_call",
    "run_unaudited",
    "setup_failed",
    "start",
    "warn_once",
]

T = TypeVar("T")

_logger = logging.getLogger(__name__)

_WARN_INTERVAL_S = 60.0
_last_warning: dict[str, float] = {}

# Set while an exclusive audited call (an instrumented one) runs: nested instrumented calls are
# part of it and are not audited again.
_active: contextvars.ContextVar[bool] = contextvars.ContextVar("otel_audit_instrumented_call", default=False)


@dataclass(frozen=True)
class CallSite:
    """Where audited calls come from: *signal* counts their failures, *name* appears in logs."""

    signal: str
    name: str


CONTEXT_SITE = CallSite("predictions", "audit_prediction")
"""The site of every ``with audit_prediction(...)`` block."""


def warn_once(key: str, message: str) -> None:
    """Log *message* with the current traceback at most once a minute per *key*."""
    now = time.monotonic()
    if now - _last_warning.get(key, -_WARN_INTERVAL_S) >= _WARN_INTERVAL_S:
        _last_warning[key] = now
        _logger.warning(message, exc_info=True)


def inside_audited_call() -> bool:
    """Whether an exclusive (instrumented) audited call is already running in this context."""
    return _active.get()


def run_unaudited(call: Callable[[], T]) -> T:
    """Run *call* with the instrumented calls it makes left unaudited (training, failed set-up)."""
    token = _active.set(True)
    try:
        return call()
    finally:
        _active.reset(token)


def begin(site: CallSite, build: Callable[[], Prediction | None]) -> tuple[Prediction | None, bool]:
    """Build a prediction with *build* and start it; return it and whether otel-audit failed.

    ``(prediction, False)``: audited. ``(None, False)``: *build* declined to audit this call.
    ``(None, True)``: building failed; that is logged and counted as ``dropped.setup_error``.
    """
    try:
        prediction = build()
    except Exception:  # noqa: BLE001 - auditing must never break the prediction
        setup_failed(site)
        return None, True
    if prediction is None:
        return None, False
    start(site, prediction)
    return prediction, False


def setup_failed(site: CallSite) -> None:
    """Count and log (from an ``except`` block) that a call of *site* could not be audited."""
    pipeline_stats.drop(site.signal, "setup_error", 1)
    warn_once(site.name + ".setup", f"otel-audit could not audit a call of {site.name}; it ran unaudited")


def start(site: CallSite, prediction: Prediction) -> None:
    """Start *prediction*'s clock and span; if the span cannot start it is recorded without one."""
    try:
        prediction.start()
    except Exception:  # noqa: BLE001
        pipeline_stats.add(site.signal, "span_errors")
        warn_once(site.name + ".start", f"otel-audit could not start the span of {site.name}")


def extract(
    site: CallSite,
    prediction: Prediction,
    name: str,
    extractor: Callable[..., Any],
    *,
    args: tuple[Any, ...] = (),
    kwargs: Mapping[str, Any] | None = None,
    default: Any = None,
) -> Any:
    """Return ``extractor(*args, **kwargs)``, or *default* if it raises (noted in the record as *name*)."""
    try:
        return extractor(*args, **(kwargs or {}))
    except Exception as error:  # noqa: BLE001 - a broken extractor costs its fact, not the record
        prediction.note_extractor_error(name, error)
        pipeline_stats.add(site.signal, "extractor_errors")
        warn_once(
            f"{site.name}.{name}",
            f"otel-audit: the {name} extractor of {site.name} raised; the prediction is recorded without it",
        )
        return default


def close(site: CallSite, prediction: Prediction, error: BaseException | None = None) -> None:
    """Stop *prediction* (its span no longer current) and queue its record; never raises."""
    try:
        prediction.finish(error)
    except Exception:  # noqa: BLE001
        prediction.stop()  # whatever failed, the span must not stay current
        pipeline_stats.drop(site.signal, "finish_error", 1)
        warn_once(site.name + ".finish", f"otel-audit could not queue a record of {site.name}")


def _complete(
    site: CallSite,
    prediction: Prediction,
    result: Any,
    output: Callable[[Any], Any] | None,
    finish: Callable[[Prediction, Any], None] | None,
) -> None:
    try:
        prediction.stop()  # the clock measures the call, not the extractors
        recorded = result if output is None else extract(site, prediction, "output", output, args=(result,))
        prediction.output = recorded
        if finish is not None:
            extract(site, prediction, "finish", finish, args=(prediction, result))
    finally:
        close(site, prediction)


def audited_call(
    site: CallSite,
    build: Callable[[], Prediction | None],
    call: Callable[[], T],
    *,
    output: Callable[[Any], Any] | None = None,
    finish: Callable[[Prediction, Any], None] | None = None,
    exclusive: bool = False,
) -> T:
    """Run *call* exactly once as the prediction *build* makes; return its result unchanged.

    Args:
        site: where the call comes from (counters and log messages).
        build: makes the unstarted prediction, running the input-side extractors through
            :func:`extract`; ``None`` declines to audit the call. If it raises, the call runs
            unaudited.
        call: the audited call.
        output: extractor mapping the result to the recorded output (default: the result).
        finish: last touches given the prediction and the result (noted as ``finish``).
        exclusive: instrumented calls made inside *call* are not audited again.
    """
    prediction, failed = begin(site, build)
    if prediction is None:
        return run_unaudited(call) if failed and exclusive else call()
    token = _active.set(True) if exclusive else None
    try:
        result = call()
    except BaseException as error:
        if token is not None:
            _active.reset(token)
        close(site, prediction, error)
        raise
    if token is not None:
        _active.reset(token)
    _complete(site, prediction, result, output, finish)
    return result


async def audited_acall(
    site: CallSite,
    build: Callable[[], Prediction | None],
    call: Callable[[], Awaitable[T]],
    *,
    output: Callable[[Any], Any] | None = None,
    finish: Callable[[Prediction, Any], None] | None = None,
    exclusive: bool = False,
) -> T:
    """:func:`audited_call` for a coroutine: await ``call()`` as one audited prediction."""
    prediction, failed = begin(site, build)
    if prediction is None:
        if not (failed and exclusive):
            return await call()
        quiet = _active.set(True)  # its nested calls are not retried
        try:
            return await call()
        finally:
            _active.reset(quiet)
    token = _active.set(True) if exclusive else None
    try:
        result = await call()
    except BaseException as error:
        if token is not None:
            _active.reset(token)
        close(site, prediction, error)
        raise
    if token is not None:
        _active.reset(token)
    _complete(site, prediction, result, output, finish)
    return result
