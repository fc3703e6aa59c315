"""The caller-thread half of an audited prediction: capture facts, hand them off, return.

A :class:`Prediction` is the context manager ``audit_prediction()`` returns. In the caller's
thread it only starts the span (so that work inside the block is traced as its child), takes
two timestamps and queues itself; entering and leaving the block are guarded by
:mod:`otel_audit.emit.call`, so otel-audit never changes the block's outcome. Encoding,
hashing, attribute building, ending the span and emitting the log record happen on the export
thread (see :mod:`otel_audit.emit.finisher`). A prediction reaches them through its
:class:`Recorder` (the configured :class:`~otel_audit.emit.runtime.AuditRuntime`), which this
module knows only by that small interface.

Because the input and output are encoded on the export thread, they must not be mutated after
the prediction returns. Pass ``snapshot=True`` to encode them in the caller's thread instead.
"""

from __future__ import annotations

import contextvars
import inspect
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from time import time_ns
from types import TracebackType
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace

from otel_audit.emit import call
from otel_audit.redact.labels import is_category

__all__ = ["AuditScope", "CallInput", "Prediction", "Recorder", "audit_scope", "current_scope", "new_request_id"]


class Recorder(Protocol):
    """What a :class:`Prediction` needs from the pipeline that records it."""

    @property
    def tracer(self) -> trace.Tracer:
        """The tracer that starts prediction spans."""

    def encode(self, prediction: Prediction) -> tuple[Any, Any]:
        """The encoded input and output of *prediction* (``snapshot=True`` encodes at exit)."""

    def submit(self, prediction: Prediction) -> None:
        """Hand a stopped *prediction* to the export thread."""


@dataclass(frozen=True)
class AuditScope:
    """Request-scoped defaults (who is asking, for which request) picked up by predictions."""

    user_id: str | None = None
    request_id: str | None = None
    attributes: Mapping[str, Any] | None = None


_SELF_NAMES = ("self", "cls")

_scope: contextvars.ContextVar[AuditScope | None] = contextvars.ContextVar("otel_audit_scope", default=None)


def current_scope() -> AuditScope | None:
    """The :class:`AuditScope` of the running context, if any."""
    return _scope.get()


class audit_scope:  # noqa: N801 - used like contextlib helpers
    """Set the user and request id for every prediction inside the block (threads and tasks).

    Usage::

        with audit_scope(user_id="analyst_jane", request_id=req_id):
            score = model_predict(features)   # an @audited function
    """

    __slots__ = ("_scope", "_token")

    def __init__(
        self,
        *,
        user_id: str | None = None,
        request_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self._scope = AuditScope(user_id, request_id, attributes)
        self._token: contextvars.Token[AuditScope | None] | None = None

    def __enter__(self) -> AuditScope:
        self._token = _scope.set(self._scope)
        return self._scope

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _scope.reset(self._token)


def new_request_id() -> str:
    """Return a random UUID4 string.

    Drawn from ``random`` like the SDK's trace ids: a request id must be unique, not secret,
    and ``os.urandom`` is a system call on every prediction.
    """
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


class Prediction:
    """One audited prediction. Set :attr:`output` (and optionally :attr:`label`) in the block.

    Attributes:
        model, version, pipeline_version, operation: what answered.
        user_id, request_id: who asked and for which request (``request_id`` is generated on
            first access when not given).
        input, output: the prediction's input and output (any value; see ``docs/input-hash.md``).
        label: short output label for distribution reports (derived from *output* if unset).
        batch_size: rows predicted by this call.
        latency_ms: the latency to record when it was measured elsewhere (``record_prediction``);
            ``None`` records the time between :meth:`start` and :meth:`stop`.
        attributes: extra attributes recorded on the span and the log record.
        extractor_errors: ``<extractor>: <error type>`` of each extractor that raised, if any.
    """

    __slots__ = (
        "_request_id",
        "_runtime",
        "_scope",
        "_token",
        "attributes",
        "batch_size",
        "encoded",
        "end_ns",
        "error",
        "extractor_errors",
        "input",
        "label",
        "latency_ms",
        "model",
        "operation",
        "output",
        "pipeline_version",
        "snapshot",
        "span",
        "start_ns",
        "user_id",
        "version",
    )  # fmt: skip

    def __init__(
        self,
        runtime: Recorder | None,
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
    ) -> None:
        self._runtime = runtime
        self.model = model
        self.version = version
        self.input = input
        self.output: Any = None
        self.label: str | None = None
        self.pipeline_version = pipeline_version
        self.operation = operation
        self.batch_size = batch_size
        self.attributes = attributes
        self.snapshot = snapshot
        scope = _scope.get()
        self._scope = scope
        self.user_id = user_id if user_id is not None else (scope.user_id if scope else None)
        self._request_id = request_id if request_id is not None else (scope.request_id if scope else None)
        self.error: BaseException | None = None
        self.span: trace.Span | None = None
        self.start_ns = 0
        self.end_ns = 0
        self.latency_ms: float | None = None
        self._token: object | None = None
        self.encoded: tuple[Any, Any] | None = None
        self.extractor_errors: list[str] | None = None

    @property
    def request_id(self) -> str:
        """The request id; generated (UUID4) on first access when none was given."""
        if self._request_id is None:
            self._request_id = new_request_id()
        return self._request_id

    @request_id.setter
    def request_id(self, value: str) -> None:
        self._request_id = value

    @property
    def scope_attributes(self) -> Mapping[str, Any] | None:
        """Attributes from the enclosing :class:`audit_scope`, if any."""
        return self._scope.attributes if self._scope else None

    def note_extractor_error(self, extractor: str, error: BaseException) -> None:
        """Record that *extractor* raised *error* (see ``audit.extractor.error``)."""
        if self.extractor_errors is None:
            self.extractor_errors = []
        self.extractor_errors.append(f"{extractor}: {error_type(error)}")

    def start(self) -> None:
        """Start the clock and the span, and make the span current (``__enter__`` does this).

        A prediction recorded after the fact has its :attr:`start_ns` set already; it is kept.
        """
        if not self.start_ns:
            self.start_ns = time_ns()
        if self._runtime is None:
            return  # otel-audit could not be configured: nothing will be recorded
        span = self._runtime.tracer.start_span(
            f"{self.operation} {self.model}", kind=trace.SpanKind.INTERNAL, start_time=self.start_ns
        )
        self.span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))

    def stop(self) -> None:
        """Stop the clock and make the span no longer current; later calls do nothing."""
        if not self.end_ns:
            self.end_ns = time_ns()
        token, self._token = self._token, None
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]

    def finish(self, error: BaseException | None = None) -> None:
        """:meth:`stop`, then queue the record (``__exit__`` does this)."""
        self.stop()
        if error is not None:
            self.error = error
        if self._runtime is None:
            return
        if self.snapshot:
            self.encoded = self._runtime.encode(self)
        self._runtime.submit(self)

    def __enter__(self) -> Prediction:
        call.start(call.CONTEXT_SITE, self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        call.close(call.CONTEXT_SITE, self, exc)

    async def __aenter__(self) -> Prediction:
        call.start(call.CONTEXT_SITE, self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        call.close(call.CONTEXT_SITE, self, exc)


def error_type(error: BaseException) -> str:
    """The recorded type of *error*: ``module.QualName``, builtins unqualified (``error.type``)."""
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")


_LABEL_KEYS = ("label", "prediction", "class", "decision")


def label_of(output: Any) -> str:
    """A categorical label of *output*, else ``""``: never a copy of free text.

    A label is the output itself, or its ``label``/``prediction``/``class``/``decision`` member,
    when that is a category (:func:`otel_audit.redact.labels.is_category`: a bool, a small int, or
    a name of at most three words). The label still goes through redaction like the output, and
    the seal commits to its hash so that ``erase`` removes it.
    """
    candidates = [output.get(key) for key in _LABEL_KEYS] if isinstance(output, Mapping) else [output]
    for value in candidates:
        if value is not None and is_category(value):
            return str(value)
    return ""


class CallInput:
    """The arguments of an audited call, bound to parameter names on the export thread."""

    __slots__ = ("args", "kwargs", "signature")

    def __init__(self, signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.signature = signature
        self.args = args
        self.kwargs = kwargs

    def resolve(self) -> Any:
        bound = self.signature.bind(*self.args, **self.kwargs)
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k not in _SELF_NAMES}
        if len(arguments) == 1:
            return next(iter(arguments.values()))
        return arguments
