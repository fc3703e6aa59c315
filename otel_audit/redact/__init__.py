"""Redaction of personal data from audit records, in-process, with the collector's rule file.

One rule file (``collector-config/redaction.yaml``, see ``docs/redaction.md``) lists value
detectors (e-mail, phone, SSN, payment card, IBAN, IPv4/IPv6 and user-defined patterns: an RE2
candidate pattern, a named validator such as ``luhn`` or ``phone`` and named decoders such as
``percent``), rules on map keys (drop, mask, pseudonymize, keep; matched after key
normalisation), an allow-list of exact audit attribute names that are never touched, and the
per-record budget of text inspected. The same file is rendered into the OpenTelemetry
Collector's configuration, so records are redacted the same way whether they pass through a
collector or not.

Usage::

    from otel_audit.redact import RedactingLogRecordProcessor, RedactingSpanExporter

    logger_provider.add_log_record_processor(RedactingLogRecordProcessor())   # add it FIRST
    tracer_provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(span_exporter)))

    # or directly:
    redactor = Redactor(load_rules())
    redactor.redact({"note": "call +44 20 7946 0958"}).value   # {"note": "call [PHONE]"}

Each record gets ``audit.redaction.<name>`` (replacements per detector or key rule) and
``audit.redaction.count`` (their total); ``audit.redaction.*`` attributes a client sent are
dropped first (``audit.redaction.reserved`` counts them). Redaction never raises into the
application; when it fails it fails closed (the record's data is withheld,
``audit.redaction.error=1``), and a record over the budget is withheld too
(``audit.redaction.over_budget=1``).

Configuration (argument > environment variable > default):
    ``OTEL_AUDIT_REDACTION_RULES``: path of the rule file (default: the packaged copy).
    ``OTEL_AUDIT_REDACTION_SECRET``: HMAC-SHA256 key of pseudonyms; required only when a rule
    pseudonymizes.
"""

from __future__ import annotations

from otel_audit.redact.decoders import DecodedView, decoded_view
from otel_audit.redact.detectors import card_brand, card_number_plausible, iban_valid, luhn_valid
from otel_audit.redact.engine import (
    OTEL_AUDIT_REDACTION_SECRET,
    REDACTION_ATTRIBUTE_PREFIX,
    REDACTION_COUNT,
    REDACTION_ERROR,
    REDACTION_OVER_BUDGET,
    Redacted,
    RedactionBudgetError,
    RedactionDepthError,
    Redactor,
    ScanBudget,
    count_attributes,
)
from otel_audit.redact.keys import key_normalizer
from otel_audit.redact.phones import PhoneValidator
from otel_audit.redact.processor import (
    WITHHELD_BODY,
    RedactingLogRecordProcessor,
    RedactingSpanExporter,
    redact_span,
)
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
    "REDACTION_OVER_BUDGET",
    "WITHHELD_BODY",
    "DecodedView",
    "Detector",
    "KeyRule",
    "PhoneValidator",
    "Re2Pattern",
    "Redacted",
    "RedactingLogRecordProcessor",
    "RedactingSpanExporter",
    "RedactionBudgetError",
    "RedactionDepthError",
    "RedactionRuleError",
    "RedactionRules",
    "Redactor",
    "ScanBudget",
    "card_brand",
    "card_number_plausible",
    "check_re2_syntax",
    "count_attributes",
    "decoded_view",
    "default_rules_path",
    "iban_valid",
    "key_normalizer",
    "load_rules",
    "luhn_valid",
    "parse_rules",
    "re2_patterns",
    "redact_span",
]
