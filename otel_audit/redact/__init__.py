"""Redaction of personal data from audit records, in-process, with the collector's rule file.

One rule file (``collector-config/redaction.yaml``, see ``docs/redaction.md``) lists value
detectors (e-mail, phone, SSN, payment card, IBAN, IPv4/IPv6 and user-defined patterns), rules on
map keys (drop, mask, pseudonymize, keep) and an allow-list of audit attributes that are never
touched. The same file is rendered into the OpenTelemetry Collector's configuration, so records
are redacted the same way whether they pass through a collector or not.

Usage::

    from otel_audit.redact import RedactingLogRecordProcessor, RedactingSpanExporter

    logger_provider.add_log_record_processor(RedactingLogRecordProcessor())   # add it FIRST
    tracer_provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(span_exporter)))

    # or directly:
    redactor = Redactor(load_rules())
    redactor.redact({"note": "call +44 20 7946 0958"}).value   # {"note": "call [PHONE]"}

Each record gets ``audit.redaction.<name>`` (replacements per detector or key rule) and
``audit.redaction.count`` (their total). Redaction never raises into the application; when it
fails it fails closed (the record's data is withheld, ``audit.redaction.error=1``).

Configuration (argument > environment variable > default):
    ``OTEL_AUDIT_REDACTION_RULES``: path of the rule file (default: the packaged copy).
    ``OTEL_AUDIT_REDACTION_SECRET``: HMAC-SHA256 key of pseudonyms; required only when a rule
    pseudonymizes.
"""

from __future__ import annotations

from otel_audit.redact.detectors import card_brand, iban_valid, luhn_valid
from otel_audit.redact.engine import (
    OTEL_AUDIT_REDACTION_SECRET,
    REDACTION_ATTRIBUTE_PREFIX,
    REDACTION_COUNT,
    REDACTION_ERROR,
    Redacted,
    RedactionDepthError,
    Redactor,
    count_attributes,
)
from otel_audit.redact.processor import RedactingLogRecordProcessor, RedactingSpanExporter, redact_span
from otel_audit.redact.rules import (
    OTEL_AUDIT_REDACTION_RULES,
    Detector,
    KeyRule,
    Re2Pattern,
    RedactionRuleError,
    RedactionRules,
    check_re2_syntax,
    default_rules_path,
    load_rules,
    parse_rules,
    re2_patterns,
)

__all__ = [
    "OTEL_AUDIT_REDACTION_RULES",
    "OTEL_AUDIT_REDACTION_SECRET",
    "REDACTION_ATTRIBUTE_PREFIX",
    "REDACTION_COUNT",
    "REDACTION_ERROR",
    "Detector",
    "KeyRule",
    "Re2Pattern",
    "Redacted",
    "RedactingLogRecordProcessor",
    "RedactingSpanExporter",
    "RedactionDepthError",
    "RedactionRuleError",
    "RedactionRules",
    "Redactor",
    "card_brand",
    "check_re2_syntax",
    "count_attributes",
    "default_rules_path",
    "iban_valid",
    "load_rules",
    "luhn_valid",
    "parse_rules",
    "re2_patterns",
    "redact_span",
]
