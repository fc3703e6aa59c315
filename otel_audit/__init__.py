"""otel-audit: an audit trail of every ML prediction, on OpenTelemetry and ClickHouse.

Usage::

    import otel_audit

    otel_audit.configure(store="chdb:///var/lib/otel-audit")
    with otel_audit.audit_prediction(model="fraud_detector", version="v3.2.1",
                                     user_id="analyst_jane", input=features) as p:
        p.output = model.predict(features)
"""

from __future__ import annotations

from typing import Any

from otel_audit.decisions import record_feedback, record_ground_truth, record_review
from otel_audit.emit.api import audit_prediction, audited, record_prediction
from otel_audit.emit.hashing import canonical_json, hash_input
from otel_audit.emit.prediction import Prediction, audit_scope
from otel_audit.emit.runtime import AuditRuntime, configure, get_runtime, shutdown
from otel_audit.errors import (
    ConfigError,
    OtelAuditError,
    QueryError,
    SchemaError,
    StoreError,
    StoreLockedError,
)
from otel_audit.stats import pipeline_stats
from otel_audit.version import __version__

__all__ = [
    "AuditRuntime",
    "ConfigError",
    "OtelAuditError",
    "Prediction",
    "QueryError",
    "SchemaError",
    "StoreError",
    "StoreLockedError",
    "__version__",
    "audit_prediction",
    "audit_scope",
    "audited",
    "canonical_json",
    "configure",
    "flush",
    "hash_input",
    "record_feedback",
    "record_ground_truth",
    "record_prediction",
    "record_review",
    "shutdown",
    "stats",
]


def flush(timeout_s: float = 60.0) -> bool:
    """Export everything audited so far in this process; ``False`` on timeout."""
    return get_runtime().flush(timeout_s)


def stats() -> dict[str, Any]:
    """Counters of the audit pipeline: exported, retried, dropped (by reason), queue depths."""
    return pipeline_stats.snapshot()
