"""Properties of redaction on arbitrary values: it never raises, stays within its budget, and is idempotent.

Values are drawn by hypothesis from JSON-like shapes (maps, lists, strings, numbers, bytes) whose
strings mix the characters detectors care about (digits, separators, ``@``, escapes, full-width and
look-alike letters) with fragments of real personal data, so that detectors fire often.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadWriteLogRecord

from otel_audit.redact import (
    REDACTION_ATTRIBUTE_PREFIX,
    REDACTION_COUNT,
    RedactingLogRecordProcessor,
    RedactionBudgetError,
    RedactionDepthError,
    Redactor,
)
from otel_audit.stats import PipelineStats

FRAGMENTS = [
    "ana.lopez@example.org", "ana%40example.org", "ana&#64;example.org", "ana\\u0040example.org",
    "ａｎａ＠ｅｘ．ｏｒｇ",
    "4111 1111 1111 1111", "4222222222222", "630401234566", "4111.1111.1111.1111", "+44 20 7946 0958", "9119530005",
    "(00115) 300059", "902-742-4270x965", "DE89 3704 0044 0532 0130 00", "123-45-6789", "203.0.113.9", "2001:db8::1",
    "AKIAIOSFODNN7EXAMPLE", "2024-05-17 10:30", "v1.2.3.4", "0.4111111111111111", "[EMAIL]", "[PHONE]", "%25", "&amp;",
]  # fmt: skip
ALPHABET = "0123456789 .-/()+@%&#;:x\\uABCabc_＠ａ\u200bаеор\n"
KEYS = ["password", "pass\u200bword", "p\u0430ssword", "ｐｗｄ", "note", "user.id", "ssn", "phone", "$bytes",
        "audit.redaction.count", "audit.redaction.email", "eos_token", "ana@example.org"]  # fmt: skip

text = st.one_of(
    st.text(alphabet=ALPHABET, max_size=40),
    st.sampled_from(FRAGMENTS),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(alphabet=ALPHABET, max_size=8), max_size=4).map(" ".join),
)
keys = st.sampled_from(KEYS) | st.text(alphabet=ALPHABET, max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**19), max_value=10**19),
    st.floats(allow_nan=False),
    text,
    st.binary(max_size=24),
    text.map(lambda value: value.encode("utf-8")),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
attributes = st.dictionaries(
    keys, st.one_of(text, st.integers(), st.booleans(), st.lists(text, max_size=3)), max_size=6
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (str(key), *_strings(item))]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


class TestProperties:
    @SETTINGS
    @given(values)
    def test_never_raises_and_is_idempotent(self, redactor: Redactor, value: Any) -> None:
        """Redaction of any value succeeds, and redacting its output again changes nothing."""
        first = redactor.redact(value)
        second = redactor.redact(first.value)
        assert second.value == first.value

    @SETTINGS
    @given(attributes)
    def test_attributes_idempotent_and_no_reserved(self, redactor: Redactor, value: dict[str, Any]) -> None:
        """Attribute maps: idempotent, and no audit.redaction.* attribute of the client survives."""
        first = redactor.redact_attributes(value)
        assert not [key for key in first.value if key.startswith(REDACTION_ATTRIBUTE_PREFIX)]
        assert redactor.redact_attributes(first.value).value == first.value

    @SETTINGS
    @given(values)
    def test_stays_within_budget(self, redactor: Redactor, value: Any) -> None:
        """What is inspected never exceeds the budget: redaction finishes within it or raises the budget error."""
        budget = redactor.budget()
        budget.remaining = budget.limit = 200
        try:
            redactor.apply(value, {}, budget)
        except RedactionBudgetError:
            return
        assert 0 <= budget.used <= 200

    @SETTINGS
    @given(values, attributes)
    def test_processor_never_raises(self, redactor: Redactor, body: Any, attrs: dict[str, Any]) -> None:
        """The SDK processor never raises, counts, and leaves no e-mail address in the body.

        (Numbers are judged in context, so "+44 20 7946 0958" inside a longer run may rightly stay.)
        """
        processor = RedactingLogRecordProcessor(redactor, stats=PipelineStats())
        record = ReadWriteLogRecord(LogRecord(body=body, attributes=attrs))
        processor.on_emit(record)
        out = record.log_record
        assert REDACTION_COUNT in out.attributes
        assert not any("ana.lopez@example.org" in s for s in _strings(out.body))

    @SETTINGS
    @given(st.integers(min_value=70, max_value=120))
    def test_deep_values_fail_closed(self, redactor: Redactor, depth: int) -> None:
        """Values nested deeper than the limit raise the depth error (which the processors turn into withholding)."""
        value: Any = "ana@example.org"
        for _ in range(depth):
            value = [value]
        try:
            redactor.redact(value)
        except RedactionDepthError:
            return
        raise AssertionError("no depth error")
