"""configure() runs in-process redaction before any exporter, on by default for a direct store."""

from __future__ import annotations

import json

import pytest

import otel_audit
from otel_audit.store.connect import Store

PII_INPUT = {"message": "contact ann@example.org or +44 20 7946 0958", "amount": 12.5}


def _stored(store: Store) -> dict[str, object]:
    [row] = store.query("SELECT Input, InputHash, Attributes FROM audit_predictions").dicts()
    return row


class TestRuntimeRedaction:
    def test_on_by_default_with_a_store(self, store: Store) -> None:
        """Writing to a store directly redacts the input; the hash is still that of the original input."""
        otel_audit.configure(store=store, schedule_delay_ms=50)
        with otel_audit.audit_prediction(
            model="m", version="1", input=PII_INPUT, attributes={"note": "mail bob@example.com"}
        ) as p:
            p.output = "ok"
        assert otel_audit.flush(30)
        row = _stored(store)
        assert json.loads(str(row["Input"])) == {"amount": 12.5, "message": "contact [EMAIL] or [PHONE]"}
        assert row["InputHash"] == otel_audit.hash_input(PII_INPUT)
        attributes = row["Attributes"]
        assert isinstance(attributes, dict)
        assert attributes["audit.redaction.email"] == "2"
        assert attributes["audit.redaction.phone"] == "1"
        assert attributes["note"] == "mail [EMAIL]"
        [span_attributes] = store.query("SELECT SpanAttributes FROM otel_traces").rows[0]
        assert span_attributes["note"] == "mail [EMAIL]"
        everything = store.query("SELECT Body, toString(LogAttributes) FROM otel_logs").rows[0]
        assert "example.org" not in str(everything) and "7946" not in str(everything)

    def test_can_be_turned_off(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        """OTEL_AUDIT_REDACTION=false stores the input as given."""
        monkeypatch.setenv("OTEL_AUDIT_REDACTION", "false")
        otel_audit.configure(store=store, schedule_delay_ms=50)
        with otel_audit.audit_prediction(model="m", version="1", input=PII_INPUT):
            pass
        assert otel_audit.flush(30)
        row = _stored(store)
        assert json.loads(str(row["Input"])) == PII_INPUT
        assert "audit.redaction.count" not in row["Attributes"]  # type: ignore[operator]

    def test_custom_rule_file(self, store: Store, tmp_path: object) -> None:
        """A rule file given to configure() replaces the packaged rules."""
        from pathlib import Path

        rules = Path(str(tmp_path)) / "rules.yaml"
        rules.write_text(
            "version: 1\ndetectors:\n  - name: order\n    token: ORDER\n    pattern: 'ORD-[0-9]{4}'\n",
            encoding="utf-8",
        )
        otel_audit.configure(store=store, redact=rules, schedule_delay_ms=50)
        with otel_audit.audit_prediction(model="m", version="1", input={"q": "ORD-1234 by ann@example.org"}):
            pass
        assert otel_audit.flush(30)
        assert json.loads(str(_stored(store)["Input"])) == {"q": "[ORDER] by ann@example.org"}
