"""Machinery shared by the instrumentors: reversible patches, one audited call, batch rows.

Every instrumented call goes through :func:`audited_call`. It never changes the wrapped call's
result or exception: setting up or finishing the audit record is guarded, and a failure there
is logged (rate-limited), counted in ``otel_audit.stats()`` under ``instrumentation`` and the
call runs unaudited. Calls nested inside an audited call (a pipeline's steps, a module's
sub-modules, the model inside a transformers pipeline) are not audited again.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from otel_audit import envvars, semconv
from otel_audit.emit.hashing import canonical_json, hash_input
from otel_audit.emit.prediction import Prediction
from otel_audit.emit.runtime import AuditRuntime, get_runtime
from otel_audit.stats import pipeline_stats

__all__ = [
    "OTEL_AUDIT_BATCH_MAX_ROWS",
    "BatchAttributes",
    "Patcher",
    "audit_runtime",
    "audited_acall",
    "audited_call",
    "batch_max_rows",
    "inside_audited_call",
    "rows_of",
    "run_unaudited",
]

_logger = logging.getLogger(__name__)

OTEL_AUDIT_BATCH_MAX_ROWS = "OTEL_AUDIT_BATCH_MAX_ROWS"
"""
.. envvar:: OTEL_AUDIT_BATCH_MAX_ROWS

Most rows of one batch call whose input hash and output are kept in ``audit.batch.input_hashes``
and ``audit.batch.outputs`` (``audit.batch.truncated`` is set beyond it). ``0`` keeps none.
Default: ``1000``.
"""

_DEFAULT_BATCH_MAX_ROWS = 1000
_WARN_INTERVAL_S = 60.0
_MARKER = "_otel_audit_original"

_active: contextvars.ContextVar[bool] = contextvars.ContextVar("otel_audit_instrumented_call", default=False)
_last_warning: dict[str, float] = {}
_retry_at = [0.0]


def batch_max_rows() -> int:
    """``OTEL_AUDIT_BATCH_MAX_ROWS``, read when an instrumentor is instrumented."""
    return envvars.env_int(OTEL_AUDIT_BATCH_MAX_ROWS, _DEFAULT_BATCH_MAX_ROWS, minimum=0)


def inside_audited_call() -> bool:
    """Whether an instrumented call is already being audited in this context."""
    return _active.get()


def _warn_once(key: str, message: str) -> None:
    """Log *message* with its traceback at most once a minute per *key*."""
    now = time.monotonic()
    if now - _last_warning.get(key, -_WARN_INTERVAL_S) >= _WARN_INTERVAL_S:
        _last_warning[key] = now
        _logger.warning(message, exc_info=True)


class Patcher:
    """Replace attributes of classes or modules and put every original back on :meth:`restore`."""

    __slots__ = ("_patches",)

    def __init__(self) -> None:
        self._patches: list[tuple[Any, str, Any, bool]] = []

    def wrap(self, owner: Any, name: str, make_wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> bool:
        """Replace ``owner.name`` by ``make_wrapper(original)``; ``False`` if absent or wrapped."""
        own = name in vars(owner)
        original = vars(owner)[name] if own else getattr(owner, name, None)
        if original is None or getattr(original, _MARKER, None) is not None:
            return False
        wrapper = make_wrapper(original)
        setattr(wrapper, _MARKER, original)
        setattr(owner, name, wrapper)
        self._patches.append((owner, name, original, own))
        return True

    def restore(self) -> None:
        """Undo every patch, newest first."""
        while self._patches:
            owner, name, original, own = self._patches.pop()
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

    def __len__(self) -> int:
        return len(self._patches)


def rows_of(value: Any, limit: int) -> tuple[int, list[Any]]:  # noqa: PLR0911 - one return per kind
    """Return the number of rows of *value* and its first *limit* rows (``(1, [value])`` if it has none).

    A row is ``value[i]`` for numpy arrays, tensors (as numpy) and sequences, a ``{column: value}``
    dict for data frames, and a dense 1-D array for sparse matrices.
    """
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        return 1, [value]
    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            return 1, [value]
        count = int(shape[0])
        head = value[: min(count, limit)]
        if hasattr(value, "iloc") and hasattr(value, "columns"):
            columns = [str(c) for c in value.columns]
            return count, [dict(zip(columns, row, strict=True)) for row in head.itertuples(index=False)]
        if hasattr(head, "toarray"):
            return count, list(head.toarray())
        return count, list(head)
    if isinstance(value, (list, tuple)):
        return len(value), list(value[:limit])
    return 1, [value]


@dataclass
class BatchAttributes(Mapping[str, Any]):
    """Extra attributes of one audited call, with the per-row ones built lazily on the export thread.

    ``output`` is set after the call; the row hashes and outputs are computed only when the
    runtime reads the attributes, off the caller's thread.
    """

    static: dict[str, Any]
    input: Any = None
    output: Any = None
    max_rows: int = 0
    rows: bool = False
    _built: dict[str, Any] | None = field(default=None, repr=False)

    def _build(self) -> dict[str, Any]:
        if self._built is not None:
            return self._built
        built = dict(self.static)
        if self.rows and self.max_rows > 0:
            try:
                count, inputs = rows_of(self.input, self.max_rows)
                built[semconv.AUDIT_BATCH_INPUT_HASHES] = [hash_input(row) for row in inputs]
                if self.output is not None:
                    _, outputs = rows_of(self.output, self.max_rows)
                    built[semconv.AUDIT_BATCH_OUTPUTS] = [canonical_json(row)[1] for row in outputs]
                if count > len(inputs):
                    built[semconv.AUDIT_BATCH_TRUNCATED] = True
            except Exception:  # noqa: BLE001 - odd rows must not cost the record
                pipeline_stats.add("instrumentation", "row_errors")
                _warn_once("rows", "otel-audit could not split a batch into rows")
        self._built = built
        return built

    def __getitem__(self, key: str) -> Any:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())


@dataclass(frozen=True)
class CallFacts:
    """What an instrumentor knows about one call before running it."""

    model: str
    version: str
    input: Any
    batch_size: int = 1
    operation: str = "predict"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    rows: bool = False
    max_rows: int = 0


def audited_call(
    framework: str,
    facts: Callable[[], CallFacts | None],
    call: Callable[[], Any],
    *,
    output: Callable[[Any], Any] | None = None,
    finish: Callable[[Prediction, Any], None] | None = None,
) -> Any:
    """Run *call* as one audited prediction described by *facts*; return its result unchanged.

    Args:
        framework: instrumentor name, recorded as ``audit.instrumentation``.
        facts: builds the record's facts (``None``: do not audit this call).
        call: the original call, run exactly once.
        output: maps the result to the recorded output (default: the result itself).
        finish: last touches on the prediction given the result (token counts, labels…).
    """
    if _active.get() or not is_instrumentation_enabled():
        return call()
    try:
        prediction, attributes = _begin(facts, framework)
    except Exception:  # noqa: BLE001 - auditing must never break the prediction
        pipeline_stats.drop("instrumentation", "setup_error", 1)
        _warn_once(framework, f"otel-audit could not audit a {framework} call; it ran unaudited")
        return run_unaudited(call)
    if prediction is None or attributes is None:
        return call()
    token = _active.set(True)
    try:
        result = call()
    except BaseException as error:
        _active.reset(token)
        _finish(framework, prediction, error=error)
        raise
    _active.reset(token)
    _record_output(framework, prediction, attributes, result, output=output, finish=finish)
    _finish(framework, prediction)
    return result


async def audited_acall(
    framework: str,
    facts: Callable[[], CallFacts | None],
    call: Callable[[], Awaitable[Any]],
    *,
    output: Callable[[Any], Any] | None = None,
    finish: Callable[[Prediction, Any], None] | None = None,
) -> Any:
    """:func:`audited_call` for a coroutine: await *call* as one audited prediction."""
    if _active.get() or not is_instrumentation_enabled():
        return await call()
    try:
        prediction, attributes = _begin(facts, framework)
    except Exception:  # noqa: BLE001 - auditing must never break the prediction
        pipeline_stats.drop("instrumentation", "setup_error", 1)
        _warn_once(framework, f"otel-audit could not audit a {framework} call; it ran unaudited")
        token = _active.set(True)  # its nested calls are not retried
        try:
            return await call()
        finally:
            _active.reset(token)
    if prediction is None or attributes is None:
        return await call()
    token = _active.set(True)
    try:
        result = await call()
    except BaseException as error:
        _active.reset(token)
        _finish(framework, prediction, error=error)
        raise
    _active.reset(token)
    _record_output(framework, prediction, attributes, result, output=output, finish=finish)
    _finish(framework, prediction)
    return result


def _begin(
    facts: Callable[[], CallFacts | None], framework: str = ""
) -> tuple[Prediction | None, BatchAttributes | None]:
    described = facts()
    if described is None:
        return None, None
    attributes = BatchAttributes(
        {semconv.AUDIT_INSTRUMENTATION: framework, **described.attributes},
        input=described.input,
        max_rows=described.max_rows,
        rows=described.rows,
    )
    prediction = audit_runtime().prediction(
        model=described.model,
        version=described.version,
        input=described.input,
        operation=described.operation,
        batch_size=described.batch_size,
        attributes=attributes,
    )
    prediction.start()
    return prediction, attributes


def run_unaudited(call: Callable[[], Any]) -> Any:
    """Run *call* with auditing off for the instrumented calls it makes (training, failed set-up)."""
    token = _active.set(True)
    try:
        return call()
    finally:
        _active.reset(token)


def audit_runtime() -> AuditRuntime:
    """:func:`get_runtime`, not retried for a minute after configuring from the environment failed."""
    if time.monotonic() < _retry_at[0]:
        raise RuntimeError("otel-audit configuration failed recently; not retried yet")
    try:
        return get_runtime()
    except Exception:
        _retry_at[0] = time.monotonic() + _WARN_INTERVAL_S
        raise


def _record_output(
    framework: str,
    prediction: Prediction,
    attributes: BatchAttributes,
    result: Any,
    *,
    output: Callable[[Any], Any] | None,
    finish: Callable[[Prediction, Any], None] | None,
) -> None:
    try:
        recorded = output(result) if output is not None else result
        prediction.output = recorded
        attributes.output = recorded
        if finish is not None:
            finish(prediction, result)
    except Exception:  # noqa: BLE001
        pipeline_stats.add("instrumentation", "output_errors")
        _warn_once(framework + ".output", f"otel-audit could not record a {framework} output")


def _finish(framework: str, prediction: Prediction, error: BaseException | None = None) -> None:
    try:
        prediction.finish(error)
    except Exception:  # noqa: BLE001
        pipeline_stats.drop("instrumentation", "finish_error", 1)
        _warn_once(framework + ".finish", f"otel-audit could not queue a {framework} record")


def method_wrapper(
    wrapped: Callable[..., Any], audit: Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
) -> Callable[..., Any]:
    """Return a function that calls ``audit(wrapped, self, args, kwargs)`` and looks like *wrapped*."""

    @functools.wraps(wrapped)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return audit(wrapped, self, args, kwargs)

    return wrapper
