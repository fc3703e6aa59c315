"""Audit chat completions made with the ``openai`` client (sync and async), with GenAI conventions.

Usage::

    from otel_audit.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])   # one audited prediction

Each ``chat.completions.create`` call is one prediction (operation ``chat``): model =
``gen_ai.request.model``, version = the model that answered (``gen_ai.response.model``),
``gen_ai.system=openai``, ``gen_ai.response.id``, ``gen_ai.response.finish_reasons``,
``gen_ai.usage.input_tokens`` / ``output_tokens``; ``user.id`` from the request's ``user``.

``audit.input.hash`` is always ``hash_input(messages)``. Message and completion text is stored
only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` is true (or
``instrument(capture_content=True)``); otherwise each ``content`` is replaced by
``{"$sha256": hash_input(content), "$length": len(content)}``, so a known text can still be
matched against the record. Streamed calls (``stream=True``) are audited without output or usage.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from otel_audit import envvars, semconv
from otel_audit.emit.hashing import encode, hash_input
from otel_audit.emit.prediction import Prediction
from otel_audit.instrumentation._base import CallFacts, Patcher, audited_acall, audited_call

__all__ = ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OpenAIInstrumentor"]

_instruments = ("openai >= 1.0",)

OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = envvars.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
"""Declared in :mod:`otel_audit.envvars` (``true`` stores prompt and completion text; default ``false``)."""


def _placeholder(content: Any) -> Any:
    if content is None:
        return None
    size = len(content) if isinstance(content, (str, list)) else None
    return {"$sha256": hash_input(content), "$length": size}


def _plain(message: Any) -> dict[str, Any]:
    if isinstance(message, Mapping):
        return dict(message)
    if hasattr(message, "model_dump"):
        dumped = message.model_dump(exclude_none=True)
        return dict(dumped) if isinstance(dumped, Mapping) else {"value": dumped}
    return {"value": str(message)}


def _redact_messages(messages: Sequence[Any]) -> list[dict[str, Any]]:
    redacted = []
    for message in messages:
        plain = _plain(message)
        if "content" in plain:
            plain["content"] = _placeholder(plain["content"])
        redacted.append(plain)
    return redacted


def _response_output(response: Any, capture: bool) -> dict[str, Any]:
    choices = []
    for choice in getattr(response, "choices", None) or ():
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        entry: dict[str, Any] = {
            "index": getattr(choice, "index", None),
            "finish_reason": getattr(choice, "finish_reason", None),
            "role": getattr(message, "role", None),
            "content": content if capture else _placeholder(content),
        }
        tool_calls = getattr(message, "tool_calls", None)
        if tool_calls:
            entry["tool_calls"] = [
                {"name": getattr(getattr(call, "function", None), "name", None)} for call in tool_calls
            ]
        choices.append(entry)
    return {"id": getattr(response, "id", None), "choices": choices}


class _ChatCall:
    """Facts of one ``chat.completions.create`` call."""

    __slots__ = ("capture", "kwargs")

    def __init__(self, kwargs: dict[str, Any], capture: bool) -> None:
        self.kwargs = kwargs
        self.capture = capture

    def facts(self) -> CallFacts | None:
        model = self.kwargs.get("model")
        messages = self.kwargs.get("messages")
        if not isinstance(model, str) or not model or messages is None:
            return None
        attributes: dict[str, Any] = {semconv.GEN_AI_SYSTEM: "openai"}
        return CallFacts(
            model=model,
            version=model,
            input=list(messages),
            operation="chat",
            attributes=attributes,
        )

    def finish(self, prediction: Prediction, response: Any) -> None:
        messages = list(self.kwargs.get("messages") or ())
        attributes = dict(prediction.attributes or {})
        user = self.kwargs.get("user")
        if isinstance(user, str) and user:
            prediction.user_id = user
        if self.kwargs.get("stream"):
            output: Any = {"$stream": True}
        else:
            output = _response_output(response, self.capture)
            answered = getattr(response, "model", None)
            if isinstance(answered, str) and answered:
                prediction.version = answered
                attributes[semconv.GEN_AI_RESPONSE_MODEL] = answered
            if getattr(response, "id", None):
                attributes[semconv.GEN_AI_RESPONSE_ID] = str(response.id)
            reasons = [str(c["finish_reason"]) for c in output["choices"] if c["finish_reason"] is not None]
            if reasons:
                attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
                prediction.label = reasons[0]
            usage = getattr(response, "usage", None)
            for source, target in (
                ("prompt_tokens", semconv.GEN_AI_USAGE_INPUT_TOKENS),
                ("completion_tokens", semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
            ):
                value = getattr(usage, source, None)
                if isinstance(value, int):
                    attributes[target] = value
        prediction.attributes = attributes
        prediction.output = output
        if not self.capture:
            # The hash covers the real messages; the body keeps only placeholders.
            shown = encode(_redact_messages(messages))
            prediction.encoded = (shown._replace(sha256=hash_input(messages)), encode(output))

    def output(self, response: Any) -> Any:
        return None  # built in finish(), which needs the capture policy


def _capture_default() -> bool:
    return OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT.resolve()


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Audit ``chat.completions.create`` of the ``openai`` client (``instrument(capture_content=...)``)."""

    _patcher = Patcher()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        from openai.resources.chat import completions

        capture = bool(kwargs.get("capture_content", _capture_default()))

        def sync_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def create(self: Any, *args: Any, **kw: Any) -> Any:
                call = _ChatCall(kw, capture)
                return audited_call(
                    "openai", call.facts, lambda: original(self, *args, **kw), output=call.output, finish=call.finish
                )

            return _like(create, original)

        def async_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            async def create(self: Any, *args: Any, **kw: Any) -> Any:
                call = _ChatCall(kw, capture)
                return await audited_acall(
                    "openai", call.facts, lambda: original(self, *args, **kw), output=call.output, finish=call.finish
                )

            return _like(create, original)

        self._patcher.wrap(completions.Completions, "create", sync_wrapper)
        self._patcher.wrap(completions.AsyncCompletions, "create", async_wrapper)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patcher.restore()


def _like(wrapper: Callable[..., Any], original: Callable[..., Any]) -> Callable[..., Any]:
    import functools

    return functools.wraps(original)(wrapper)
