"""A label is content, derived from the output: redacted like it, never on a span, sealed by hash, erasable."""

from __future__ import annotations

import otel_audit
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.erasure import erase
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import Store

EMAIL = "jane.doe@example.com"
PHONE = "+44 20 7946 0958"


def _every_stored_text(store: Store) -> str:
    """Every column of every row of the tables a record reaches, as one text."""
    parts = []
    for table in ("otel_logs", "otel_traces", "audit_predictions"):
        for row in store.query(f"SELECT * FROM {table}").rows:
            parts.append(repr(row))
    return "\n".join(parts)


class TestOutputLabel:
    def test_pii_in_a_string_return_value_reaches_no_column(self, store: Store) -> None:
        """A string-returning @audited function that returns PII: nothing of it is stored, label included."""
        otel_audit.configure(store=store, service_name="label-test", schedule_delay_ms=50, redact=True)

        @otel_audit.audited(model="support_bot", version="1", user_id="u-label")
        def answer(question: str) -> str:
            return f"Write to {EMAIL} or call {PHONE}."

        @otel_audit.audited(model="support_bot", version="1", user_id="u-label")
        def lookup(question: str) -> str:
            return EMAIL  # one token: it must not become a raw label either

        assert answer("contact?").startswith("Write to")
        assert lookup("who?") == EMAIL
        otel_audit.shutdown()
        stored = _every_stored_text(store)
        assert EMAIL not in stored and "7946" not in stored
        labels = store.query("SELECT OutputLabel FROM audit_predictions WHERE ModelName = 'support_bot'").rows
        assert labels == [("",), ("",)]

    def test_erase_leaves_no_trace_of_a_label_and_the_seal_verifies(self, store: Store) -> None:
        """A categorical label the detectors cannot know (a person's name) is removed by erase; verify stays green."""
        signer = NoteSigner("label.test", bytes(32))
        otel_audit.configure(store=store, service_name="label-test", schedule_delay_ms=50, redact=True)

        @otel_audit.audited(model="face_match", version="2", user_id="subject-7")
        def identify(image: str) -> dict[str, object]:
            return {"label": "Ingrid Vasquez", "score": 0.97}

        identify("frame-001")
        otel_audit.shutdown()
        assert store.query("SELECT OutputLabel FROM audit_predictions").rows == [("Ingrid Vasquez",)]
        spans = store.query("SELECT SpanAttributes FROM otel_traces").rows
        assert spans and all("audit.output.label" not in attributes for (attributes,) in spans)
        seal(store, signer)
        assert erase(store, user="subject-7", reason="Art. 17 request").records == 1
        assert "Ingrid" not in _every_stored_text(store)
        report = verify(store, signer.verifier)
        assert report.ok, report.problems
        assert report.erased_records == 1
