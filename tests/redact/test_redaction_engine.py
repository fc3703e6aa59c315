"""The Redactor: nested walk, key rules, allow-list, pseudonyms and counts."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from redaction_helpers import SECRET

from otel_audit import semconv
from otel_audit.errors import ConfigError
from otel_audit.redact import (
    OTEL_AUDIT_REDACTION_SECRET,
    RedactionDepthError,
    RedactionRules,
    Redactor,
    count_attributes,
    parse_rules,
)

PSEUDO_RULES = """\
version: 1
defaults: {action: pseudonymize, pseudonym_length: 12}
allow_keys: [user.id]
key_rules:
  - {name: customer, keys: '^customer_id$', action: pseudonymize}
  - {name: notes, keys: '^internal_notes$', action: keep}
detectors:
  - {name: email, pattern: '(?i)[a-z.]{1,64}@[a-z]{1,63}\\.[a-z]{2,24}', normalize: lower}
  - {name: card, pattern: '\\b[0-9]{16}\\b', validate: luhn, action: mask}
"""


@pytest.fixture
def pseudo_rules() -> RedactionRules:
    return parse_rules(PSEUDO_RULES)


class TestWalk:
    def test_nested_maps_and_lists(self, redactor: Redactor) -> None:
        """Strings at any depth of maps, lists and tuples are redacted; other values are kept."""
        value = {"a": [{"b": ("x", "mail ana@example.org")}], "n": 1.5, "ok": True, "none": None, "i": 42}
        result = redactor.redact(value)
        assert result.value == {"a": [{"b": ("x", "mail [EMAIL]")}], "n": 1.5, "ok": True, "none": None, "i": 42}
        assert result.counts == {"email": 1}

    def test_input_is_not_mutated(self, redactor: Redactor) -> None:
        """Redaction copies what it changes and never mutates the caller's objects."""
        value = {"a": {"b": ["ana@example.org", "keep"]}, "c": "plain"}
        before = copy.deepcopy(value)
        redactor.redact(value)
        assert value == before

    def test_unchanged_is_same_object(self, redactor: Redactor) -> None:
        """A value with nothing to redact comes back as the very same object (no copy)."""
        value = {"a": ["x", {"b": "y"}], "c": 12}
        assert redactor.redact(value).value is value

    def test_changed_branch_only_copied(self, redactor: Redactor) -> None:
        """Untouched sibling branches are shared, not copied."""
        clean = {"deep": ["x"]}
        result = redactor.redact({"clean": clean, "dirty": "ana@example.org"}).value
        assert result["clean"] is clean

    def test_large_integers_scanned(self, redactor: Redactor) -> None:
        """A card number stored as an integer is replaced; small integers are left alone."""
        result = redactor.redact({"pan": 4111111111111111, "qty": 3, "order": 1234567890123})
        assert result.value == {"pan": "[CARD]", "qty": 3, "order": 1234567890123}

    def test_bytes_scanned(self, redactor: Redactor) -> None:
        """Bytes are decoded as UTF-8 for scanning and returned as text only if redacted."""
        assert redactor.redact(b"to ana@example.org").value == "to [EMAIL]"
        raw = b"\x00\x01binary"
        assert redactor.redact(raw).value is raw

    def test_keys_scanned(self, redactor: Redactor) -> None:
        """Personal data used as a map key is redacted; colliding tokens get a suffix."""
        result = redactor.redact({"contacts": {"ana@example.org": "primary", "bo@example.org": "backup"}})
        assert result.value == {"contacts": {"[EMAIL]": "primary", "[EMAIL]#2": "backup"}}
        assert result.counts == {"email": 2}

    def test_key_cache_holds_no_personal_data(self, redactor: Redactor) -> None:
        """Keys that contained personal data are never cached."""
        redactor.redact({"zoe@example.org": 1})
        assert not any("zoe@example.org" in key for key in redactor._key_cache)

    def test_requires_with_leading_flags(self) -> None:
        """A pre-check with global flags (``(?i)...``) cannot join the combined gate and still works."""
        rules = parse_rules(
            "version: 1\ndetectors:\n"
            "  - {name: ticket, pattern: '(?i)tkt-[0-9]{4}', requires: '(?i)tkt-'}\n"
            "  - {name: order, pattern: 'ORD[0-9]{6}', requires: ORD}\n"
        )
        redactor = Redactor(rules)
        redacted = redactor.redact({"a": "see Tkt-1234", "b": "ORD123456", "c": "tkt 1234"})
        assert redacted.value == {"a": "see [TICKET]", "b": "[ORDER]", "c": "tkt 1234"}
        assert dict(redacted.counts) == {"ticket": 1, "order": 1}

    def test_depth_limit(self, rules: RedactionRules) -> None:
        """Values nested deeper than max_depth raise RedactionDepthError (the processors fail closed)."""
        value: Any = "x"
        for _ in range(10):
            value = [value]
        with pytest.raises(RedactionDepthError):
            Redactor(rules, max_depth=5).redact(value)
        assert Redactor(rules, max_depth=10).redact(value).value is value

    def test_cycle_detected(self, redactor: Redactor) -> None:
        """A self-referencing value ends in RedactionDepthError, not RecursionError."""
        value: dict[str, Any] = {}
        value["self"] = value
        with pytest.raises(RedactionDepthError):
            redactor.redact(value)

    def test_other_types_judged_by_text(self, redactor: Redactor) -> None:
        """An unknown object whose text holds personal data is replaced by the redacted text."""

        class Note:
            def __str__(self) -> str:
                return "from ana@example.org"

        note = Note()
        assert redactor.redact(note).value == "from [EMAIL]"
        assert redactor.redact({1, 2}).value == (1, 2)


class TestKeyRules:
    def test_drop_mask(self, redactor: Redactor) -> None:
        """Credential keys are dropped; national ids, phones and birth dates masked whatever their type."""
        value = {"password": "hunter2", "accessToken": "t", "ssn": 123456789, "tel": "4155552671", "dob": "1984-03-12"}
        result = redactor.redact(value)
        assert result.value == {"ssn": "[NATIONAL_ID]", "tel": "[PHONE]", "dob": "[BIRTH_DATE]"}
        assert result.counts == {"credential": 2, "national_id": 1, "phone_field": 1, "birth_date": 1}

    def test_whole_value_masked(self, redactor: Redactor) -> None:
        """A key rule replaces a nested value wholesale."""
        assert redactor.redact({"x": {"passport_number": {"no": "X1", "country": "DE"}}}).value == {
            "x": {"passport_number": "[NATIONAL_ID]"}
        }

    def test_similar_keys_untouched(self, redactor: Redactor) -> None:
        """ML-looking keys such as max_tokens, tokenizer or hour_sin are not mistaken for secrets."""
        value = {"max_tokens": 256, "tokenizer": "bpe", "hour_sin": 0.5, "token_count": 9, "hotel": "x"}
        assert redactor.redact(value).value is value

    def test_keep(self, pseudo_rules: RedactionRules) -> None:
        """A keep rule passes its value through without scanning."""
        redactor = Redactor(pseudo_rules, secret=SECRET)
        value = {"internal_notes": "ana@example.org"}
        assert redactor.redact(value).value is value

    def test_pseudonymize_non_string(self, pseudo_rules: RedactionRules) -> None:
        """A pseudonymizing key rule hashes non-string values through canonical JSON."""
        redactor = Redactor(pseudo_rules, secret=SECRET)
        first = redactor.redact({"customer_id": {"b": 1, "a": 2}}).value["customer_id"]
        second = redactor.redact({"customer_id": {"a": 2, "b": 1}}).value["customer_id"]
        assert first == second
        assert re.fullmatch(r"\[CUSTOMER:[0-9a-f]{12}\]", first)

    def test_key_rules_apply_to_attributes(self, redactor: Redactor) -> None:
        """Attribute keys are subject to key rules too."""
        result = redactor.redact_attributes({"http.request.header.authorization": "Bearer x", "app.x": 1})
        assert result.value == {"app.x": 1}


class TestAllowList:
    def test_audit_attributes_untouched(self, redactor: Redactor) -> None:
        """Allow-listed attributes pass unchanged even when they look like personal data."""
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: "ana@example.org",
            semconv.USER_ID: "ana@example.org",
            semconv.AUDIT_INPUT_HASH: "4111111111111111",
            semconv.AUDIT_REQUEST_ID: "203.0.113.9",
        }
        assert redactor.redact_attributes(attributes).value is attributes

    def test_client_redaction_attributes_dropped(self, redactor: Redactor) -> None:
        """audit.redaction.* attributes from a client are dropped unread and counted as reserved."""
        attributes = {
            "audit.redaction.count": 0,
            "audit.redaction.email": "ana@example.org",
            "audit.redaction.error": 0,
            semconv.USER_ID: "u-1",
        }
        result = redactor.redact_attributes(attributes)
        assert result.value == {semconv.USER_ID: "u-1"}
        assert result.counts == {"reserved": 3}

    def test_look_alike_of_allowed_name_scanned(self, redactor: Redactor) -> None:
        """A look-alike of an allow-listed name (Cyrillic e, trailing space) is not allowed: it is scanned."""
        result = redactor.redact_attributes({"us\u0435r.id": "ana@example.org", "user.id ": "bo@example.org"})
        assert result.value == {"us\u0435r.id": "[EMAIL]", "user.id ": "[EMAIL]"}

    def test_error_message_is_scanned(self, redactor: Redactor) -> None:
        """audit.error.message is deliberately not allow-listed: exception text quotes inputs."""
        result = redactor.redact_attributes({semconv.ERROR_MESSAGE: "bad email ana@example.org"})
        assert result.value == {semconv.ERROR_MESSAGE: "bad email [EMAIL]"}

    def test_allow_list_is_for_attributes_only(self, redactor: Redactor) -> None:
        """The same key inside a body is scanned (the body is user data)."""
        assert redactor.redact({semconv.USER_ID: "ana@example.org"}).value == {semconv.USER_ID: "[EMAIL]"}


class TestPseudonyms:
    def test_stable(self, pseudo_rules: RedactionRules) -> None:
        """The same value and secret give the same token, across redactor instances."""
        first = Redactor(pseudo_rules, secret=SECRET).redact_text("ana@example.org").value
        second = Redactor(pseudo_rules, secret=SECRET).redact_text("write to ana@example.org").value
        assert re.fullmatch(r"\[EMAIL:[0-9a-f]{12}\]", first)
        assert second == f"write to {first}"

    def test_secret_dependent(self, pseudo_rules: RedactionRules) -> None:
        """Another secret gives another token."""
        first = Redactor(pseudo_rules, secret=SECRET).redact_text("ana@example.org").value
        other = Redactor(pseudo_rules, secret=b"another-secret-of-16-bytes").redact_text("ana@example.org").value
        assert first != other

    def test_value_dependent(self, pseudo_rules: RedactionRules) -> None:
        """Different values give different tokens; normalization makes case irrelevant."""
        redactor = Redactor(pseudo_rules, secret=SECRET)
        ana, bo = redactor.redact_text("ana@example.org").value, redactor.redact_text("bo@example.org").value
        assert ana != bo
        assert redactor.redact_text("Ana@Example.ORG").value == ana

    def test_mask_and_pseudonym_mix(self, pseudo_rules: RedactionRules) -> None:
        """Each detector uses its own action."""
        result = Redactor(pseudo_rules, secret=SECRET).redact_text("4111111111111111 ana@example.org")
        assert result.value.startswith("[CARD] [EMAIL:")

    def test_secret_from_env(self, pseudo_rules: RedactionRules, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without an argument the secret comes from OTEL_AUDIT_REDACTION_SECRET."""
        monkeypatch.setenv(OTEL_AUDIT_REDACTION_SECRET, SECRET.decode())
        from_env = Redactor(pseudo_rules).redact_text("ana@example.org").value
        assert from_env == Redactor(pseudo_rules, secret=SECRET).redact_text("ana@example.org").value

    def test_argument_beats_env(self, pseudo_rules: RedactionRules, monkeypatch: pytest.MonkeyPatch) -> None:
        """An explicit secret wins over the environment."""
        monkeypatch.setenv(OTEL_AUDIT_REDACTION_SECRET, "env-secret-that-is-long-enough")
        explicit = Redactor(pseudo_rules, secret=SECRET).redact_text("ana@example.org").value
        assert explicit == Redactor(pseudo_rules, secret=SECRET.decode()).redact_text("ana@example.org").value
        assert explicit != Redactor(pseudo_rules).redact_text("ana@example.org").value

    def test_missing_secret(self, pseudo_rules: RedactionRules) -> None:
        """Rules that pseudonymize without a secret fail at construction, naming the variable."""
        with pytest.raises(ConfigError, match=OTEL_AUDIT_REDACTION_SECRET):
            Redactor(pseudo_rules)

    def test_mask_only_rules_need_no_secret(self, rules: RedactionRules) -> None:
        """The shipped rules only mask, so they need no secret."""
        assert Redactor(rules).redact_text("ana@example.org").value == "[EMAIL]"

    def test_empty_secret(self, pseudo_rules: RedactionRules) -> None:
        """An empty secret is refused."""
        with pytest.raises(ConfigError):
            Redactor(pseudo_rules, secret=b"")

    def test_short_secret_warns(self, pseudo_rules: RedactionRules, caplog: pytest.LogCaptureFixture) -> None:
        """A secret under 16 bytes works but logs a warning."""
        Redactor(pseudo_rules, secret="short")
        assert "at least 16" in caplog.text


class TestCounts:
    def test_count_attributes(self) -> None:
        """Counts become audit.redaction.<name> (non-zero) plus the total."""
        assert count_attributes({"email": 2, "card": 0, "credential": 1}) == {
            "audit.redaction.email": 2,
            "audit.redaction.credential": 1,
            "audit.redaction.count": 3,
        }
        assert count_attributes({}) == {"audit.redaction.count": 0}

    def test_counts_accumulate(self, redactor: Redactor) -> None:
        """apply() adds to a caller's counts, so a body and its attributes share one tally."""
        counts: dict[str, int] = {}
        redactor.apply("ana@example.org", counts)
        redactor.apply_attributes({"note": "bo@example.org and 203.0.113.9"}, counts)
        assert counts == {"email": 2, "ipv4": 1}
