"""The OpenAI instrumentor, with the real client against an OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

import otel_audit
from otel_audit.instrumentation.openai import OpenAIInstrumentor
from otel_audit.store.connect import Store
from tests.instrumentation.conftest import records

_MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Is 7 prime?"},
]


class _ChatHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request["model"] == "broken":
            self._reply(400, {"error": {"message": "no such model", "type": "invalid_request_error"}})
            return
        self._reply(
            200,
            {
                "id": "chatcmpl-42",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": request["model"] + "-2026-01-01",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Yes."}}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
            },
        )

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def base_url() -> Iterator[str]:
    """An OpenAI-compatible chat server on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


class TestOpenAIInstrumentor:
    def test_chat_completion_has_genai_attributes_and_no_content_by_default(
        self, runtime: otel_audit.AuditRuntime, store: Store, base_url: str, instrumentors: list[Any]
    ) -> None:
        """One record with model, response model, tokens, finish reason; texts replaced by hashes."""
        client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0)
        instrumentors.append(OpenAIInstrumentor())
        OpenAIInstrumentor().instrument()
        response = client.chat.completions.create(model="gpt-test", messages=_MESSAGES, user="analyst_jane")
        assert response.choices[0].message.content == "Yes."
        [row] = records(runtime, store)
        assert (row["ModelName"], row["ModelVersion"], row["Operation"]) == ("gpt-test", "gpt-test-2026-01-01", "chat")
        assert row["InputHash"] == otel_audit.hash_input(_MESSAGES)
        assert row["UserId"] == "analyst_jane"
        assert row["OutputLabel"] == "stop"
        attributes = row["Attributes"]
        assert attributes["gen_ai.system"] == "openai"
        assert attributes["gen_ai.response.id"] == "chatcmpl-42"
        assert attributes["gen_ai.response.finish_reasons"] == ["stop"]
        assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == ("12", "2")
        assert "Is 7 prime?" not in row["Input"] and "Yes." not in row["Output"]
        assert otel_audit.hash_input("Is 7 prime?") in row["Input"]
        assert otel_audit.hash_input("Yes.") in row["Output"]

    def test_content_is_captured_when_enabled(
        self,
        runtime: otel_audit.AuditRuntime,
        store: Store,
        base_url: str,
        instrumentors: list[Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """With OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true the texts are stored."""
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
        client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0)
        instrumentors.append(OpenAIInstrumentor())
        OpenAIInstrumentor().instrument()
        client.chat.completions.create(model="gpt-test", messages=_MESSAGES)
        [row] = records(runtime, store)
        assert json.loads(row["Input"]) == _MESSAGES
        assert json.loads(row["Output"])["choices"][0]["content"] == "Yes."

    def test_async_client_and_api_error(
        self, runtime: otel_audit.AuditRuntime, store: Store, base_url: str, instrumentors: list[Any]
    ) -> None:
        """The async client is audited too; a 400 raises openai's own error and is recorded as error."""
        client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
        instrumentors.append(OpenAIInstrumentor())
        OpenAIInstrumentor().instrument()

        async def run() -> None:
            await client.chat.completions.create(model="gpt-test", messages=_MESSAGES)
            with pytest.raises(openai.BadRequestError):
                await client.chat.completions.create(model="broken", messages=_MESSAGES)
            await client.close()

        asyncio.run(run())
        rows = records(runtime, store)
        assert [(r["ModelName"], r["Outcome"]) for r in rows] == [("gpt-test", "ok"), ("broken", "error")]
        assert rows[1]["ErrorType"] == "openai.BadRequestError"

    def test_uninstrument_restores_the_client(self, instrumentors: list[Any]) -> None:
        """After uninstrument() create is the library's own function again."""
        from openai.resources.chat import completions

        sync_original, async_original = completions.Completions.create, completions.AsyncCompletions.create
        instrumentors.append(OpenAIInstrumentor())
        OpenAIInstrumentor().instrument()
        assert completions.Completions.create is not sync_original
        OpenAIInstrumentor().uninstrument()
        assert completions.Completions.create is sync_original
        assert completions.AsyncCompletions.create is async_original
