"""otel_audit.testing: capture audited predictions in memory for users' own tests."""

from __future__ import annotations

import pytest

import otel_audit
from otel_audit.testing import capture_audit


class TestCaptureAudit:
    def test_captures_every_prediction_with_its_facts(self) -> None:
        """Predictions inside the block are captured with model, hash, outcome, input and output."""

        @otel_audit.audited(model="scorer", version="2", user_id="u1")
        def score(features: dict[str, float]) -> float:
            if features["x"] < 0:
                raise ValueError("negative")
            return features["x"] * 2

        with capture_audit() as audit:
            score({"x": 1.5})
            with pytest.raises(ValueError, match="negative"):
                score({"x": -1.0})
        first, second = audit.records
        assert (first.model, first.version, first.user_id, first.outcome) == ("scorer", "2", "u1", "ok")
        assert first.input == {"x": 1.5} and first.output == 3.0
        assert first.input_hash == otel_audit.hash_input({"x": 1.5})
        assert second.outcome == "error" and second.attributes["error.type"] == "ValueError"
        assert first.trace_id != 0 and first.span_id != second.span_id

    def test_redaction_can_be_asked_for(self) -> None:
        """With redact=True the captured input is what a store would receive."""
        with (
            capture_audit(redact=True) as audit,
            otel_audit.audit_prediction(model="m", version="1", input={"to": "ann@example.org"}),
        ):
            pass
        [record] = audit.records
        assert record.input == {"to": "[EMAIL]"}
        assert record.input_hash == otel_audit.hash_input({"to": "ann@example.org"})

    def test_spans_are_captured_with_the_records(self) -> None:
        """audit.spans holds each prediction's span, with the ids its record carries."""
        with capture_audit() as audit, otel_audit.audit_prediction(model="m", version="1", input=1) as p:
            p.output = 2
        [record] = audit.records
        [span] = audit.spans
        assert span.name == "predict m"
        assert span.context is not None and (span.context.trace_id, span.context.span_id) == (
            record.trace_id,
            record.span_id,
        )
