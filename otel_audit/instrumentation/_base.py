"""Machinery shared by the instrumentors: reversible patches, one audited call, batch rows.

Every instrumented call goes through :func:`audited_call`, which runs the guarded audited-call
core (:mod:`otel_audit.emit.call`) shared with ``@audited`` and ``audit_prediction``. It never
changes the wrapped call's result or exception: a failure to set up or queue the audit record
is logged (rate-limited), counted in ``otel_audit.stats()`` under ``instrumentation`` and the
call runs unaudited; a failing ``output``/``finish`` step is noted in the record
(``audit.extractor.error``). Calls nested inside an audited call (a pipeline's steps, a module's
sub-modules, the model inside a transformers pipeline) are not audited again.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from otel_audit import envvars, semconv
from otel_audit.emit import call as core
from otel_audit.emit.call import CallSite, inside_audited_call, run_unaudited, warn_once
from otel_audit.emit.hashing import canonical_json, hash_input
from otel_audit.emit.prediction import Prediction
from otel_audit.emit.runtime import audit_runtime
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
    "site",
]

OTEL_AUDIT_BATCH_MAX_ROWS = envvars.OTEL_AUDIT_BATCH_MAX_ROWS
"""Declared in :mod:`otel_audit.envvars` (its type, default and meaning)."""
_MARKER = "_otel_audit_original"

_sites: dict[str, CallSite] = {}


def batch_max_rows() -> int:
    """``OTEL_AUDIT_BATCH_MAX_ROWS``, read when an instrumentor is instrumented."""
    return OTEL_AUDIT_BATCH_MAX_ROWS.resolve()


def site(framework: str) -> CallSite:
    """The call site of *framework*'s instrumented calls (counted under ``instrumentation``)."""
    found = _sites.get(framework)
    if found is None:
        found = _sites[framework] = CallSite("instrumentation", framework)
    return found


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
                warn_once("rows", "otel-audit could not split a batch into rows")
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
    if inside_audited_call() or not is_instrumentation_enabled():
        return call()
    return core.audited_call(
        site(framework),
        lambda: _begin(facts, framework),
        call,
        output=output,
        finish=_finisher(finish),
        exclusive=True,
    )


async def audited_acall(
    framework: str,
    facts: Callable[[], CallFacts | None],
    call: Callable[[], Awaitable[Any]],
    *,
    output: Callable[[Any], Any] | None = None,
    finish: Callable[[Prediction, Any], None] | None = None,
) -> Any:
    """:func:`audited_call` for a coroutine: await *call* as one audited prediction."""
    if inside_audited_call() or not is_instrumentation_enabled():
        return await call()
    return await core.audited_acall(
        site(framework),
        lambda: _begin(facts, framework),
        call,
        output=output,
        finish=_finisher(finish),
        exclusive=True,
    )


def _begin(facts: Callable[[], CallFacts | None], framework: str) -> Prediction | None:
    described = facts()
    if described is None:
        return None
    attributes = BatchAttributes(
        {semconv.AUDIT_INSTRUMENTATION: framework, **described.attributes},
        input=described.input,
        max_rows=described.max_rows,
        rows=described.rows,
    )
    return audit_runtime().prediction(
        model=described.model,
        version=described.version,
        input=described.input,
        operation=described.operation,
        batch_size=described.batch_size,
        attributes=attributes,
    )


def _rows_output(prediction: Prediction, result: Any) -> None:
    """Let the per-row outputs follow the recorded output."""
    if isinstance(prediction.attributes, BatchAttributes):
        prediction.attributes.output = prediction.output


def _finisher(finish: Callable[[Prediction, Any], None] | None) -> Callable[[Prediction, Any], None]:
    """The core's ``finish`` step: :func:`_rows_output`, then the instrumentor's *finish*."""
    if finish is None:
        return _rows_output

    def done(prediction: Prediction, result: Any) -> None:
        _rows_output(prediction, result)
        finish(prediction, result)

    return done


def method_wrapper(
    wrapped: Callable[..., Any], audit: Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
) -> Callable[..., Any]:
    """Return a function that calls ``audit(wrapped, self, args, kwargs)`` and looks like *wrapped*."""

    @functools.wraps(wrapped)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return audit(wrapped, self, args, kwargs)

    return wrapper
