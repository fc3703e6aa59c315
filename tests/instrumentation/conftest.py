"""Fixtures for the instrumentor tests: read stored records, leave no patch behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

import otel_audit
from otel_audit.store.connect import Store


def records(runtime: otel_audit.AuditRuntime, store: Store) -> list[dict[str, Any]]:
    """Flush *runtime* and return the stored audit rows, oldest first, attributes decoded."""
    assert runtime.flush(30)
    rows = store.query(
        "SELECT ModelName, ModelVersion, Operation, InputHash, UserId, RequestId, Outcome, ErrorType, "
        "OutputLabel, BatchSize, Input, Output, Attributes FROM audit_predictions ORDER BY Timestamp"
    ).dicts()
    for row in rows:
        attributes = dict(row["Attributes"])
        for key in ("audit.batch.input_hashes", "audit.batch.outputs", "gen_ai.response.finish_reasons"):
            if key in attributes:
                attributes[key] = json.loads(attributes[key])
        row["Attributes"] = attributes
    return rows


@pytest.fixture
def instrumentors() -> Any:
    """Collect instrumentors to uninstrument after the test, whatever happened."""
    used: list[Any] = []
    yield used
    for instrumentor in used:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
