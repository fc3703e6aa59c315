"""The PII corpus: nothing planted survives any path; the near-miss false-positive rate stays low.

Threshold of the false-positive rate, and why:
* A false negative is a personal-data breach in an append-only audit store; a false positive
  costs one non-personal value in one record, still recoverable from the source system through
  the record's request id. The detectors are tuned for recall accordingly.
* Three near-miss categories cannot be told apart from personal data by any pattern or check
  digit: a 4-part version *is* a valid IPv4 address, about 1 in 10 random 16-digit numbers with
  an issuer prefix has a valid Luhn digit (it *is* a well-formed card number), and an SSH remote
  ``git@host`` *is* an e-mail address. They are kept in the corpus so the measured rate is honest.
* Everything else (307 strings: failed check digits, timestamps, versions, hashes, UUIDs, ids,
  code, numbers) is distinguishable and must stay at or below 1 % (3 strings), and the
  categories a validator exists for (Luhn, mod-97, SSA rules) must stay at 0.
* Overall, including the indistinguishable categories, at most 5 % (measured: 2.97 %, 10 of
  337; see docs/redaction.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from redaction_helpers import DATA

from otel_audit import semconv
from otel_audit.redact import REDACTION_COUNT, RedactingLogRecordProcessor, RedactingSpanExporter, Redactor

INDISTINGUISHABLE = frozenset({"four_part_version", "random_16_digit_id", "ssh_remote"})
MUST_BE_ZERO = frozenset({"invoice_failing_luhn", "iban_bad_check_digits", "ssn_invalid", "timestamp", "uuid", "hash"})
MAX_FP_RATE = 0.05
MAX_FP_RATE_DISTINGUISHABLE = 0.01


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def survivors(record: dict[str, Any], seen: str) -> list[dict[str, Any]]:
    """Planted values of *record* found in the serialized output *seen* (exactly, or as bare digits)."""
    left = []
    for planted in record["planted"]:
        value = planted["value"]
        compact = "".join(char for char in value if char.isdigit())
        if value in seen or (len(compact) >= 8 and compact != value and compact in seen):
            left.append(planted)
    return left


class SpyLogExporter(LogRecordExporter):
    """Serializes each record at the moment of export: exactly what an exporter would send."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        for readable in batch:
            record = readable.log_record
            self.seen.append(dump({"body": record.body, "attributes": dict(record.attributes or {})}))
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SpySpanExporter(SpanExporter):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.seen.extend(span.to_json() for span in spans)
        return SpanExportResult.SUCCESS


class TestCorpusShape:
    def test_size_and_coverage(
        self, corpus: list[dict[str, Any]], near_misses: list[dict[str, Any]], redactor: Redactor
    ) -> None:
        """At least 300 records and 300 near misses; every detector and key rule is planted."""
        assert len(corpus) >= 300
        assert len(near_misses) >= 300
        kinds = {planted["kind"] for record in corpus for planted in record["planted"]}
        rules = redactor.rules
        assert {d.name for d in rules.detectors} | {k.name for k in rules.key_rules} <= kinds

    def test_scripts(self, corpus: list[dict[str, Any]]) -> None:
        """The corpus mixes Latin, CJK, Cyrillic, Arabic, Devanagari, Hangul, Greek and Hebrew text."""
        text = "".join(dump(record["body"]) + dump(record["attributes"]) for record in corpus)
        for low, high in [(0x4E00, 0x9FFF), (0x0400, 0x04FF), (0x0600, 0x06FF), (0x0900, 0x097F), (0xAC00, 0xD7AF),
                          (0x0370, 0x03FF), (0x0590, 0x05FF), (0x00C0, 0x00FF)]:  # fmt: skip
            assert any(low <= ord(char) <= high for char in text), hex(low)

    def test_regenerates_identically(self, tmp_path: Path) -> None:
        """make_pii_corpus.py is deterministic: it rewrites the committed files byte for byte."""
        import runpy

        module = runpy.run_path(str(DATA / "make_pii_corpus.py"))
        module["main"](tmp_path)
        for name in ("pii_corpus.jsonl", "pii_near_misses.jsonl"):
            assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


class TestCorpus:
    def test_redactor_leaves_nothing(self, corpus: list[dict[str, Any]], redactor: Redactor) -> None:
        """No planted value survives redaction of bodies and attributes, and each record records counts."""
        leaks = []
        for record in corpus:
            body = redactor.redact(record["body"])
            attributes = redactor.redact_attributes(record["attributes"])
            leaks += survivors(record, dump([body.value, attributes.value]))
            assert body.total + attributes.total >= 1, record["id"]
        assert leaks == []

    def test_exporter_sees_nothing(self, corpus: list[dict[str, Any]], redactor: Redactor) -> None:
        """Through a real LoggerProvider, the exporter never receives a planted value."""
        spy = SpyLogExporter()
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(RedactingLogRecordProcessor(redactor))
        provider.add_log_record_processor(SimpleLogRecordProcessor(spy))
        logger = provider.get_logger(semconv.SCOPE_NAME)
        for record in corpus:
            logger.emit(
                LogRecord(body=record["body"], attributes=record["attributes"], event_name=semconv.EVENT_PREDICTION)
            )
        provider.shutdown()
        assert len(spy.seen) == len(corpus)
        leaks = [planted for record, seen in zip(corpus, spy.seen, strict=True) for planted in survivors(record, seen)]
        assert leaks == []
        assert all(f'"{REDACTION_COUNT}": ' in seen for seen in spy.seen)

    def test_span_exporter_sees_nothing(self, corpus: list[dict[str, Any]], redactor: Redactor) -> None:
        """Span attributes carrying planted values reach the wrapped exporter redacted."""
        spy = SpySpanExporter()
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(spy, redactor)))
        tracer = provider.get_tracer(semconv.SCOPE_NAME)
        attribute_records = [r for r in corpus if any(p["path"].startswith("attributes.") for p in r["planted"])]
        for record in attribute_records:
            tracer.start_span("predict", attributes=record["attributes"]).end()
        provider.shutdown()
        assert len(attribute_records) > 50
        for record, seen in zip(attribute_records, spy.seen, strict=True):
            in_attributes = {**record, "planted": [p for p in record["planted"] if p["path"].startswith("attributes.")]}
            assert survivors(in_attributes, seen) == []
            for key in (semconv.AUDIT_REQUEST_ID, semconv.AUDIT_INPUT_HASH, semconv.USER_ID):
                assert record["attributes"][key] in seen


@pytest.fixture(scope="module")
def touched(near_misses: list[dict[str, Any]], redactor: Redactor) -> list[dict[str, Any]]:
    """The near misses the shipped rules change."""
    return [miss for miss in near_misses if redactor.redact_text(miss["text"]).total]


class TestNearMisses:
    def test_false_positive_rate(self, near_misses: list[dict[str, Any]], touched: list[dict[str, Any]]) -> None:
        """At most 5 % of all near misses are touched (see the module docstring for why)."""
        rate = len(touched) / len(near_misses)
        assert rate <= MAX_FP_RATE, [miss["text"] for miss in touched]

    def test_distinguishable_rate(self, near_misses: list[dict[str, Any]], touched: list[dict[str, Any]]) -> None:
        """At most 1 % of the near misses a rule could tell apart are touched."""
        total = sum(miss["category"] not in INDISTINGUISHABLE for miss in near_misses)
        wrong = [miss["text"] for miss in touched if miss["category"] not in INDISTINGUISHABLE]
        assert len(wrong) / total <= MAX_FP_RATE_DISTINGUISHABLE, wrong

    def test_validated_categories_untouched(self, touched: list[dict[str, Any]]) -> None:
        """Numbers failing Luhn, mod-97 or SSA rules, and timestamps, UUIDs and hashes, are never touched."""
        assert [miss["text"] for miss in touched if miss["category"] in MUST_BE_ZERO] == []

    def test_through_the_walk(
        self, near_misses: list[dict[str, Any]], touched: list[dict[str, Any]], redactor: Redactor
    ) -> None:
        """Inside a nested body, exactly the same strings are touched as alone."""
        body = {"input": {"items": [{"value": miss["text"]} for miss in near_misses]}}
        result = redactor.redact(body).value
        changed = [
            miss["text"]
            for miss, item in zip(near_misses, result["input"]["items"], strict=True)
            if item["value"] != miss["text"]
        ]
        assert changed == [miss["text"] for miss in touched]
