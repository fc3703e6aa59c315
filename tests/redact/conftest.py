"""Fixtures of the redaction tests: the shipped rule file, redactors and the PII corpora."""

from __future__ import annotations

from typing import Any

import pytest
from redaction_helpers import RULES_PATH, SECRET, read_jsonl

from otel_audit.redact import RedactionRules, Redactor, load_rules


@pytest.fixture(scope="session")
def rules() -> RedactionRules:
    """The shipped rule file, loaded once."""
    return load_rules(RULES_PATH)


@pytest.fixture(scope="session")
def redactor(rules: RedactionRules) -> Redactor:
    """A redactor on the shipped rules (which only mask)."""
    return Redactor(rules, secret=SECRET)


@pytest.fixture(scope="session")
def corpus() -> list[dict[str, Any]]:
    """The records of ``pii_corpus.jsonl``."""
    return read_jsonl("pii_corpus.jsonl")


@pytest.fixture(scope="session")
def near_misses() -> list[dict[str, Any]]:
    """The strings of ``pii_near_misses.jsonl``."""
    return read_jsonl("pii_near_misses.jsonl")
