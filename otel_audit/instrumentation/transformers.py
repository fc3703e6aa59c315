"""Audit Hugging Face ``transformers`` pipelines: task, model id and revision on every call.

Usage::

    from otel_audit.instrumentation.transformers import TransformersInstrumentor

    TransformersInstrumentor().instrument()
    classify = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer)
    classify(["great product", "arrived broken"])   # one audited prediction, batch size 2

Each ``Pipeline.__call__`` is one prediction (the model calls inside it are not audited again):
model = a :func:`otel_audit.instrumentation.torch.label` on the pipeline's model, else the model
id (``config._name_or_path``), else the model class name; version = the label's version, else
the hub revision (``config._commit_hash``) when known, else the torch ``state_dict``
fingerprint. ``ml.model.task`` is the pipeline's task and ``ml.model.revision`` the revision.
A list input is a batch: ``audit.batch.input_hashes[i]`` is ``hash_input(inputs[i])``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from otel_audit import semconv
from otel_audit.instrumentation._base import CallFacts, Patcher, audited_call, batch_max_rows
from otel_audit.instrumentation.torch import _labels, fingerprint, to_plain

__all__ = ["TransformersInstrumentor"]

_instruments = ("transformers >= 4.40",)


def _facts(pipeline: Any, args: tuple[Any, ...], kwargs: dict[str, Any], framework: str, max_rows: int) -> CallFacts:
    inputs: Any = args[0] if args else kwargs.get("inputs", kwargs.get("text_inputs"))
    model = getattr(pipeline, "model", None)
    config = getattr(model, "config", None)
    name, version = _labels.get(model, (None, None)) if model is not None else (None, None)
    model_id = getattr(config, "_name_or_path", None) or getattr(model, "name_or_path", None)
    revision = getattr(config, "_commit_hash", None)
    attributes: dict[str, Any] = {semconv.ML_FRAMEWORK: framework, semconv.ML_MODEL_TASK: str(pipeline.task)}
    if revision:
        attributes[semconv.ML_MODEL_REVISION] = str(revision)
    batched = isinstance(inputs, (list, tuple))
    return CallFacts(
        model=name or model_id or type(model).__name__,
        version=version or revision or (fingerprint(model) if hasattr(model, "state_dict") else "unknown"),
        input=list(inputs) if batched else inputs,
        batch_size=len(inputs) if batched else 1,
        operation=str(pipeline.task or "predict"),
        attributes=attributes,
        rows=batched,
        max_rows=max_rows,
    )


class TransformersInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Audit every ``transformers.Pipeline`` call (``instrument(max_rows=...)``)."""

    _patcher = Patcher()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        import transformers
        from transformers.pipelines.base import Pipeline

        max_rows = int(kwargs.get("max_rows", batch_max_rows()))
        framework = f"transformers {transformers.__version__}"

        def make_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def __call__(pipeline: Any, *args: Any, **kw: Any) -> Any:  # noqa: N807 - replaces Pipeline.__call__
                return audited_call(
                    "transformers",
                    lambda: _facts(pipeline, args, kw, framework, max_rows),
                    lambda: original(pipeline, *args, **kw),
                    output=to_plain,
                )

            return __call__

        self._patcher.wrap(Pipeline, "__call__", make_wrapper)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patcher.restore()
