"""Seed data for the answer tests: known predictions over several days and versions.

Rows go into ``otel_logs`` exactly as an exporter writes them, and the schema's view fills
``audit_predictions``; every test computes its expected figures from :class:`Seeded` itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
from typing import Any

from otel_audit import semconv
from otel_audit.emit.hashing import hash_input
from otel_audit.export.rows import LOG_COLUMNS
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.store.connect import Store

START = dt.datetime(2026, 3, 28)
"""First seeded day (UTC): the data spans March and April 2026."""

DAYS = 7


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The facts of one seeded prediction."""

    timestamp: dt.datetime
    model: str
    version: str
    pipeline: str
    user: str
    request_id: str
    record_id: str
    outcome: str
    error_type: str
    error_message: str
    latency_ms: float
    label: str
    input: dict[str, Any]
    output: dict[str, Any]
    redaction: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Seeded:
    """The store and what was put in it (one entry per distinct record)."""

    store: Store
    predictions: list[Prediction]

    def of(self, model: str) -> list[Prediction]:
        """The predictions of *model*, oldest first."""
        return sorted((p for p in self.predictions if p.model == model), key=lambda p: (p.timestamp, p.record_id))


def make_prediction(rng: random.Random, index: int) -> Prediction:
    when = START + dt.timedelta(seconds=rng.randrange(DAYS * 86400), microseconds=rng.randrange(10**6))
    if index % 3:
        model = "fraud_detector"
        # v1 serves days 0-2, a canary of v2 starts on day 3 at noon, v2 alone from day 4.
        switch = START + dt.timedelta(days=3, hours=12)
        if when < switch:
            version = "v1.0"
        elif when < switch + dt.timedelta(hours=12):
            version = rng.choice(("v1.0", "v2.0"))
        else:
            version = "v2.0"
    else:
        model, version = "credit_scorer", "v9.1"
    failed = rng.random() < 0.08
    error_type = rng.choice(("ValueError", "TimeoutError")) if failed else ""
    features = {"amount": round(rng.uniform(1, 500), 2), "note": rng.choice(("<b>hi</b> & 'x'", "ok", 'é"quote'))}
    redaction = {}
    if rng.random() < 0.25:
        redaction = {"audit.redaction.count": str(rng.randint(0, 3)), "audit.redaction.rules": "email"}
    return Prediction(
        timestamp=when,
        model=model,
        version=version,
        pipeline=f"pipe-{version}",
        user=rng.choice(("u1", "u2", "<script>alert(1)</script>")),
        request_id=f"req-{index:04d}",
        record_id=f"{index:032x}-{index:016x}",
        outcome="error" if failed else "ok",
        error_type=error_type,
        error_message=f"{error_type} on row {index}" if failed else "",
        latency_ms=round(rng.lognormvariate(1.5, 1.2), 3),
        label="" if failed else rng.choice(("yes", "no")),
        input=features,
        output={} if failed else {"label": "yes", "score": 0.5},
        redaction=redaction,
    )


def insert_predictions(store: Store, predictions: list[Prediction]) -> None:
    """Insert *predictions* into ``otel_logs`` as the exporters would."""
    rows = []
    for p in predictions:
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: p.model,
            semconv.ML_MODEL_VERSION: p.version,
            semconv.ML_PIPELINE_VERSION: p.pipeline,
            semconv.AUDIT_INPUT_HASH: hash_input(p.input),
            semconv.USER_ID: p.user,
            semconv.AUDIT_REQUEST_ID: p.request_id,
            semconv.AUDIT_OUTCOME: p.outcome,
            semconv.AUDIT_LATENCY_MS: repr(p.latency_ms),
            **p.redaction,
        }
        if p.outcome == "error":
            attributes[semconv.ERROR_TYPE] = p.error_type
            attributes[semconv.ERROR_MESSAGE] = p.error_message
        else:
            attributes[semconv.AUDIT_OUTPUT_LABEL] = p.label
        body = json.dumps({"input": p.input, "output": p.output}, sort_keys=True, separators=(",", ":"))
        trace_id, span_id = p.record_id.split("-")
        rows.append(
            [p.timestamp, trace_id, span_id, 1, "INFO", 9, "seed", body, "", {}, "", "otel_audit", "", {},
             attributes, semconv.EVENT_PREDICTION]
        )  # fmt: skip
    store.insert_columns("otel_logs", [list(column) for column in zip(*rows, strict=True)], LOG_COLUMNS)


SIGNER = NoteSigner("audit.test", os.urandom(32))
"""The key the compliance tests seal with."""


def tamper(store: Store, request_id: str) -> str:
    """Change a sealed record's latency in place (ALTER TABLE … UPDATE); return its record id."""
    store.command(
        "ALTER TABLE audit_predictions UPDATE LatencyMs = LatencyMs + 1 WHERE RequestId = {r:String}",
        {"r": request_id},
        settings={"mutations_sync": 2},
    )
    return str(
        store.query("SELECT RecordId FROM audit_predictions WHERE RequestId = {r:String}", {"r": request_id}).rows[0][0]
    )
