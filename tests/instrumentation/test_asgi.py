"""The ASGI middleware and instrumentor, on a real FastAPI app through its test client."""

from __future__ import annotations

import json
from typing import Any

import fastapi
import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace

import otel_audit
from otel_audit.instrumentation.asgi import AsgiInstrumentor, AuditMiddleware
from otel_audit.store.connect import Store
from tests.instrumentation.conftest import records


def _app() -> fastapi.FastAPI:
    app = fastapi.FastAPI()

    @app.post("/predict")
    def predict(payload: dict[str, Any]) -> dict[str, Any]:
        with otel_audit.audit_prediction(model="inner", version="v1", input=payload) as p:
            p.output = {"label": "fraud" if payload["amount"] > 100 else "ok"}
        return p.output

    @app.post("/boom")
    def boom(payload: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("model crashed")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "up"}

    return app


class TestAuditMiddleware:
    def test_one_record_per_request_with_bodies_user_and_route(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """A POST to an audited route records its JSON body as input, response as output, header user."""
        app = _app()
        app.add_middleware(AuditMiddleware, routes=["/predict"], model="fraud_api", version="v3")
        with TestClient(app) as client:
            response = client.post("/predict", json={"amount": 250}, headers={"x-user-id": "analyst_jane"})
            assert client.get("/health").json() == {"status": "up"}
        assert response.json() == {"label": "fraud"}
        rows = records(runtime, store)
        http = [r for r in rows if r["ModelName"] == "fraud_api"]
        inner = [r for r in rows if r["ModelName"] == "inner"]
        assert len(http) == 1 and len(inner) == 1 and len(rows) == 2
        [record] = http
        assert record["ModelVersion"] == "v3"
        assert record["InputHash"] == otel_audit.hash_input({"amount": 250})
        assert record["UserId"] == "analyst_jane"
        assert record["Attributes"]["http.route"] == "/predict"
        assert record["Attributes"]["http.response.status_code"] == "200"
        assert record["Output"] == '{"label":"fraud"}'
        assert inner[0]["UserId"] == "analyst_jane"
        assert inner[0]["RequestId"] == record["RequestId"]

    def test_error_response_is_audited_and_unchanged(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A handler exception still yields the app's 500 and an error record."""
        app = _app()
        app.add_middleware(AuditMiddleware, routes=["/boom"])
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post("/boom", json={"amount": 1})
        assert response.status_code == 500
        [record] = records(runtime, store)
        assert record["ModelName"] == "/boom"
        assert record["Outcome"] == "error"
        assert record["ErrorType"] == "RuntimeError"

    def test_large_bodies_are_recorded_as_size_and_digest(self, runtime: otel_audit.AuditRuntime, store: Store) -> None:
        """A body over max_body_bytes is stored as its size and SHA-256, not its text."""
        app = _app()
        app.add_middleware(AuditMiddleware, routes=["/predict"], max_body_bytes=8)
        with TestClient(app) as client:
            client.post("/predict", json={"amount": 5, "note": "x" * 50})
        record = next(r for r in records(runtime, store) if r["ModelName"] == "/predict")
        assert '"$truncated"' in record["Input"]

    def test_a_body_that_cannot_be_decoded_changes_nothing_for_the_client(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """A JSON body too deeply nested to parse leaves the response unchanged; the record notes the failed step."""

        async def ignore_body(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "http.response.start", "status": 202, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"accepted"})

        nested = b"[" * 100_000 + b"]" * 100_000
        client = TestClient(AuditMiddleware(ignore_body, model="deep", version="v1"))  # no lifespan: a bare app
        response = client.post("/ingest", content=nested, headers={"content-type": "application/json"})
        assert (response.status_code, response.text) == (202, "accepted")
        assert trace.get_current_span() is trace.INVALID_SPAN
        [record] = records(runtime, store)
        assert record["ModelName"] == "deep" and record["Outcome"] == "ok"
        assert json.loads(record["Attributes"]["audit.extractor.error"]) == ["finish: RecursionError"]

    def test_bad_options_are_refused(self) -> None:
        """A single string for routes and a negative body bound raise ValueError at construction."""
        with pytest.raises(ValueError, match="routes"):
            AuditMiddleware(_app(), routes="/predict")
        with pytest.raises(ValueError, match="max_body_bytes"):
            AuditMiddleware(_app(), max_body_bytes=-1)


class TestAsgiInstrumentor:
    def test_instrument_audits_new_apps_and_uninstrument_restores(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """Apps built while instrumented are audited from env config; uninstrument() restores the class."""
        original = fastapi.FastAPI.__dict__["build_middleware_stack"]
        instrumentors.append(AsgiInstrumentor())
        AsgiInstrumentor().instrument(routes=["/predict"], model="auto_api")
        with TestClient(_app()) as client:
            client.post("/predict", json={"amount": 1})
        AsgiInstrumentor().uninstrument()
        assert fastapi.FastAPI.__dict__["build_middleware_stack"] is original
        with TestClient(_app()) as client:
            client.post("/predict", json={"amount": 2})
        names = [r["ModelName"] for r in records(runtime, store)]
        assert names.count("auto_api") == 1
        assert names.count("inner") == 2
