"""Audit PyTorch inference: every top-level ``nn.Module`` call in eval mode or under no-grad.

Usage::

    from otel_audit.instrumentation.torch import TorchInstrumentor, label

    TorchInstrumentor().instrument()
    model.eval()
    with torch.no_grad():
        scores = model(batch)        # one audited prediction, batch size len(batch)

A call is audited when it is not nested in another audited call (sub-modules are not audited
again) and the module is in eval mode or gradients are off; training steps are never audited.
Model = :func:`label`'s name, else the module's class name; version = the label's version, else
``sha256:<16 hex>`` over the ``state_dict`` (names, dtypes, shapes, bytes). The fingerprint is
cached per module and recomputed only when a parameter or buffer is replaced or modified in
place (tensor version counters), e.g. by ``load_state_dict`` or an optimizer step.

Tensors are recorded as numpy arrays (``hash_input(x.numpy())`` is the input hash of a one-tensor
call). With an input of two or more dimensions, dimension 0 is the batch: ``audit.batch.size``
and one ``audit.batch.input_hashes`` entry per row (``hash_input(x[i].numpy())``).
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from otel_audit import semconv
from otel_audit.instrumentation._base import (
    CallFacts,
    Patcher,
    audited_call,
    batch_max_rows,
    inside_audited_call,
)

__all__ = ["TorchInstrumentor", "fingerprint", "label", "to_plain"]

_instruments = ("torch >= 2.1",)

_labels: weakref.WeakKeyDictionary[Any, tuple[str | None, str | None]] = weakref.WeakKeyDictionary()
_fingerprints: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], str]] = weakref.WeakKeyDictionary()
_MAX_DEPTH = 8


def label(module: Any, *, model: str | None = None, version: str | None = None) -> Any:
    """Name the model and/or version that *module*'s audited predictions carry; returns it."""
    for name, value in (("model", model), ("version", version)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    _labels[module] = (model, version)
    return module


def _state_key(module: Any) -> tuple[Any, ...]:
    tensors = [*module.parameters(), *module.buffers()]
    return tuple((id(t), t._version) for t in tensors)  # noqa: SLF001 - the in-place change counter has no public name


def fingerprint(module: Any) -> str:
    """``sha256:<16 hex>`` of *module*'s ``state_dict`` (cached while its tensors are unchanged)."""
    import torch

    key = _state_key(module)
    cached = _fingerprints.get(module)
    if cached is not None and cached[0] == key:
        return cached[1]
    digest = hashlib.sha256()
    digest.update(f"{type(module).__module__}.{type(module).__qualname__}".encode())
    with torch.no_grad():
        for name, tensor in sorted(module.state_dict().items()):
            flat = tensor.detach().to("cpu").contiguous().reshape(-1)
            digest.update(f";{name}:{flat.dtype}:{tuple(tensor.shape)}:".encode())
            digest.update(flat.view(torch.uint8).numpy().data)
    value = "sha256:" + digest.hexdigest()[:16]
    with contextlib.suppress(TypeError):
        _fingerprints[module] = (key, value)
    return value


def to_plain(value: Any, depth: int = 0) -> Any:
    """Replace tensors by numpy arrays inside *value* (lists, tuples, mappings), sharing memory on CPU."""
    import torch

    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.dtype in (torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2):
            tensor = tensor.float()
        return tensor.to("cpu").numpy()
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: to_plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item, depth + 1) for item in value]
    return value


def _identity(module: Any) -> tuple[str, str]:
    model, version = _labels.get(module, (None, None))
    return model or type(module).__name__, version or fingerprint(module)


def _facts(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], framework: str, max_rows: int) -> CallFacts:
    import torch

    recorded = to_plain(args[0]) if len(args) == 1 and not kwargs else to_plain({"args": list(args), **kwargs})
    first = args[0] if args else next(iter(kwargs.values()), None)
    rows = int(first.shape[0]) if isinstance(first, torch.Tensor) and first.dim() >= 2 else 0
    batched = rows > 0
    model, version = _identity(module)
    return CallFacts(
        model=model,
        version=version,
        input=recorded,
        batch_size=rows or 1,
        attributes={semconv.ML_FRAMEWORK: framework},
        rows=batched and len(args) == 1 and not kwargs,
        max_rows=max_rows,
    )


class TorchInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Audit inference calls of every ``torch.nn.Module`` (``instrument(max_rows=...)``)."""

    _patcher = Patcher()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        import torch

        max_rows = int(kwargs.get("max_rows", batch_max_rows()))
        framework = f"torch {torch.__version__}"
        grad_enabled = torch.is_grad_enabled

        def make_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def __call__(module: Any, *args: Any, **kw: Any) -> Any:  # noqa: N807 - replaces Module.__call__
                if inside_audited_call() or (module.training and grad_enabled()):
                    return original(module, *args, **kw)
                return audited_call(
                    "torch",
                    lambda: _facts(module, args, kw, framework, max_rows),
                    lambda: original(module, *args, **kw),
                    output=to_plain,
                )

            return __call__

        self._patcher.wrap(torch.nn.Module, "__call__", make_wrapper)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patcher.restore()
