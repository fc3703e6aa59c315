"""Loading and validating the redaction rule file; RE2 portability of its patterns."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from redaction_helpers import RULES_PATH, strings_in

from otel_audit import semconv
from otel_audit.errors import ConfigError, OtelAuditError
from otel_audit.redact import (
    OTEL_AUDIT_REDACTION_RULES,
    RedactionRuleError,
    RedactionRules,
    check_re2_syntax,
    default_rules_path,
    load_rules,
    parse_rules,
    re2_patterns,
)

MINIMAL = """\
version: 1
detectors:
  - name: email
    pattern: '[a-z]{1,64}@[a-z]{1,63}\\.[a-z]{2,24}'
"""


def rule_error(text: str) -> RedactionRuleError:
    with pytest.raises(RedactionRuleError) as caught:
        parse_rules(text, source="rules.yaml")
    return caught.value


class TestLoadRules:
    def test_shipped_file_loads(self, rules: RedactionRules) -> None:
        """The shipped rule file is valid and defines every documented detector."""
        names = [detector.name for detector in rules.detectors]
        assert names[:7] == ["email", "iban", "card", "ssn", "ipv6", "ipv4", "phone"]
        assert {"aws_access_key", "jwt"} <= set(names)
        assert "employee_id" not in names  # disabled example
        assert [rule.name for rule in rules.key_rules] == [
            "credential",
            "national_id",
            "phone_field",
            "birth_date",
        ]
        phone = next(detector for detector in rules.detectors if detector.name == "phone")
        assert phone.validator is not None and "NO" in phone.options["regions"]
        assert rules.detectors[0].decode == ("percent", "html", "json", "nfkc")
        assert rules.key_normalization == ("nfkc", "zero_width", "casefold", "confusables", "strip")

    def test_patterns_are_precompiled_ascii(self, rules: RedactionRules) -> None:
        """Every detector carries a compiled pattern with ASCII semantics, as RE2 has."""
        for detector in rules.detectors:
            assert isinstance(detector.regex, re.Pattern)
            assert detector.regex.flags & re.ASCII

    def test_rules_are_frozen(self, rules: RedactionRules) -> None:
        """Rules are immutable value objects."""
        with pytest.raises(AttributeError):
            rules.detectors[0].name = "other"  # type: ignore[misc]

    def test_allow_list_covers_semconv(self, rules: RedactionRules) -> None:
        """Every audit attribute of semconv is allow-listed, except the error message and the output label."""
        content = {semconv.ERROR_MESSAGE, semconv.AUDIT_OUTPUT_LABEL}
        names = {*semconv.PROMOTED_ATTRIBUTES, semconv.AUDIT_SCHEMA_VERSION} - content
        assert {name for name in names if not rules.is_allowed(name)} == set()
        assert not any(rules.is_allowed(name) for name in content)

    def test_allow_list_is_exact(self, rules: RedactionRules) -> None:
        """Only exact names are allowed: no prefixes, no audit.redaction.*, no look-alikes or case variants."""
        assert rules.is_allowed(semconv.USER_ID)
        for key in (
            "audit.redaction.email",
            "audit.redaction.count",
            "user.id ",
            "USER.ID",
            "us\u0435r.id",
            "user.idx",
        ):
            assert not rules.is_allowed(key), key

    def test_limits_and_key_normalization(self) -> None:
        """limits.max_record_chars and key_normalization are read from the file, with defaults."""
        rules = parse_rules(MINIMAL + "limits: {max_record_chars: 4096}\nkey_normalization: [casefold]\n")
        assert rules.max_record_chars == 4096
        assert rules.key_normalization == ("casefold",)
        assert parse_rules(MINIMAL).max_record_chars == 1 << 20

    def test_patterns_list_is_joined(self) -> None:
        """A 'patterns' list compiles into one alternation; leading flags are scoped."""
        rules = parse_rules("version: 1\ndetectors:\n  - name: x\n    patterns: ['(?i)abc', 'def']\n")
        assert rules.detectors[0].pattern == "(?:(?i:abc))|(?:def)"
        assert rules.detectors[0].regex.search("xABCx")

    def test_defaults(self) -> None:
        """Actions default to 'defaults.action', tokens to the upper-case name."""
        rules = parse_rules(MINIMAL.replace("version: 1", "version: 1\ndefaults:\n  action: pseudonymize"))
        assert rules.detectors[0].action == "pseudonymize"
        assert rules.detectors[0].token == "EMAIL"
        assert rules.needs_secret

    def test_default_path_from_env(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """OTEL_AUDIT_REDACTION_RULES names the rule file used when none is given."""
        path = tmp_path / "r.yaml"
        path.write_text(MINIMAL)
        monkeypatch.setenv(OTEL_AUDIT_REDACTION_RULES, str(path))
        assert default_rules_path() == path
        assert load_rules().source == str(path)

    def test_default_path_in_checkout(self) -> None:
        """Without the env var, a source checkout uses collector-config/redaction.yaml."""
        assert default_rules_path().resolve() == RULES_PATH


class TestRuleErrors:
    def test_error_names_file_line_and_key(self) -> None:
        """An invalid regex is reported with file, line and dotted key."""
        error = rule_error(MINIMAL + "  - name: broken\n    pattern: '[a-z'\n")
        assert error.source == "rules.yaml"
        assert error.line == 6
        assert error.key == "detectors[1].pattern"
        assert str(error).startswith("rules.yaml:6: detectors[1].pattern: invalid regex")

    def test_error_hierarchy(self) -> None:
        """RedactionRuleError is a ConfigError, an OtelAuditError and a ValueError."""
        error = rule_error("version: 2\n")
        assert isinstance(error, ConfigError)
        assert isinstance(error, OtelAuditError)
        assert isinstance(error, ValueError)

    @pytest.mark.parametrize(
        ("text", "key", "fragment"),
        [
            ("version: 2\n", "version", "must be 1"),
            ("- a\n", "", "must be a YAML mapping"),
            ("version: 1\nunknown: 1\n", "unknown", "unknown key"),
            (MINIMAL + "    colour: red\n", "detectors[0].colour", "unknown key"),
            (MINIMAL.replace("name: email", "name: Email"), "detectors[0].name", "must match"),
            (MINIMAL.replace("name: email", "name: count"), "detectors[0].name", "reserved"),
            (MINIMAL + "  - name: email\n    pattern: 'x'\n", "detectors[1].name", "duplicate name"),
            (MINIMAL + "    action: hide\n", "detectors[0].action", "must be one of"),
            (MINIMAL + "    validate: crc\n", "detectors[0].validate", "unknown validator"),
            (MINIMAL + "    token: email\n", "detectors[0].token", "must match"),
            (MINIMAL + "    enabled: maybe\n", "detectors[0].enabled", "true or false"),
            ("version: 1\ndetectors:\n  - name: x\n", "detectors[0].pattern", "exactly one"),
            ("version: 1\ndetectors:\n  - name: x\n    pattern: 'a?'\n", "detectors[0].pattern", "empty string"),
            # An empty match that needs context (a search of "" alone finds none).
            ("version: 1\ndetectors:\n  - name: x\n    pattern: '\\bx?'\n", "detectors[0].pattern", "empty string"),
            ("version: 1\ndetectors:\n  - name: x\n    pattern: 'a|(?:)'\n", "detectors[0].pattern", "empty string"),
            ("version: 1\ndetectors:\n  - name: x\n    pattern: '(?=a)b'\n", "detectors[0].pattern", "lookahead"),
            ("version: 1\ndetectors:\n  - name: x\n    pattern: '(a)\\1'\n", "detectors[0].pattern", "backreference"),
            (
                "version: 1\ndetectors:\n  - name: x\n    patterns: ['a', 'b++']\n",
                "detectors[0].patterns[1]",
                "possessive",
            ),
            (
                "version: 1\nkey_rules:\n  - name: k\n    keys: 'x'\n    action: shred\n",
                "key_rules[0].action",
                "one of",
            ),
            ("version: 1\nkey_rules:\n  - name: k\n", "key_rules[0].keys", "is required"),
            ("version: 1\nallow_keys: [a*b]\n", "allow_keys[0]", "exact attribute names only"),
            ("version: 1\nallow_keys: ['audit.redaction.*']\n", "allow_keys[0]", "exact attribute names only"),
            ("version: 1\nallow_keys: [audit.redaction.count]\n", "allow_keys[0]", "written by the redactor"),
            (MINIMAL + "    options: {regions: [US]}\n", "detectors[0].options", "need a validator"),
            (
                MINIMAL + "    validate: luhn\n    options: {regions: [US]}\n",
                "detectors[0].options.regions",
                "unknown option",
            ),
            (MINIMAL + "    validate: phone\n    options: {regions: [US, NO]}\n", "detectors[0].options", "bare NO"),
            (
                MINIMAL + "    validate: phone\n    options: {regions: ['XX']}\n",
                "detectors[0].options",
                "unknown phone region",
            ),
            (MINIMAL + "    decode: [rot13]\n", "decode", "unknown step"),
            (MINIMAL + "limits: {max_record_chars: 10}\n", "limits.max_record_chars", ">= 1024"),
            (MINIMAL + "limits: {max_chars: 10}\n", "limits.max_chars", "unknown key"),
            (MINIMAL + "key_normalization: [nfkc, nfkc]\n", "key_normalization", "listed twice"),
            (MINIMAL.replace("name: email", "name: reserved"), "detectors[0].name", "reserved"),
            ("version: 1\ndefaults:\n  pseudonym_length: 4\n", "defaults.pseudonym_length", "8..64"),
            ("version: 1\ndetectors: {}\n", "detectors", "must be a list"),
        ],
    )
    def test_bad_rules(self, text: str, key: str, fragment: str) -> None:
        """Each kind of invalid rule is refused with a message naming the key."""
        error = rule_error(text)
        assert error.key == key
        assert fragment in str(error)
        assert error.line is not None or key == ""

    def test_duplicate_yaml_key(self) -> None:
        """A key given twice in one mapping is refused (PyYAML would silently keep the last)."""
        error = rule_error(MINIMAL + "    pattern: 'x'\n")
        assert error.key == "pattern"
        assert error.line == 5
        assert "duplicate key" in str(error)

    def test_not_yaml(self) -> None:
        """Broken YAML is reported with its line."""
        error = rule_error("version: 1\ndetectors: [\n  - a: b\n")
        assert "not valid YAML" in str(error)
        assert error.line is not None

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A missing file raises RedactionRuleError, not OSError."""
        with pytest.raises(RedactionRuleError, match="cannot read"):
            load_rules(tmp_path / "missing.yaml")


class TestRe2Syntax:
    @pytest.mark.parametrize(
        "pattern",
        [r"(?=a)", r"a(?!b)", r"(?<=x)y", r"(?<!x)y", r"(\w)\1", r"(?P=n)", r"a++", r"a*+", r"a{2}+", r"(?>a)", r"\Z",
         r"\z", r"\p{L}", r"\u00e9", r"\x{41}", r"[[:alpha:]]", r"a{,3}", r"a{1001}", r"(?x)a", r"(?a)b", r"(?#c)",
         r"(?<n>a)", r"[\b]", r"\0"],
    )  # fmt: skip
    def test_refused(self, pattern: str) -> None:
        """Constructs that only one of Python re and RE2 understands are refused."""
        assert check_re2_syntax(pattern) is not None

    @pytest.mark.parametrize(
        "pattern",
        [
            r"(?P<n>a)",
            r"(?i)a",
            r"(?i:a)",
            r"\++",
            r"[*+]+",
            r"a+?",
            r"\d{1,3}\.\b",
            r"[^\x00-\x7F]{2,24}",
            r"a{0,1000}",
        ],
    )
    def test_accepted(self, pattern: str) -> None:
        """Portable constructs pass the screen."""
        assert check_re2_syntax(pattern) is None

    def test_re2_patterns_helper(self, rules: RedactionRules) -> None:
        """re2_patterns lists key rules then detectors, marking those that need post-validation."""
        patterns = {pattern.name: pattern for pattern in re2_patterns(rules)}
        assert patterns["credential"].kind == "key"
        assert patterns["card"].post_validated
        assert patterns["iban"].post_validated
        assert patterns["phone"].post_validated
        assert patterns["email"].post_validated  # decoders
        assert not patterns["aws_access_key"].post_validated
        assert patterns["email"].pattern == rules.detectors[0].pattern


@pytest.mark.skipif(shutil.which("go") is None, reason="Go toolchain not installed")
class TestGoRe2Parity:
    def test_go_compiles_and_matches_the_same(
        self, rules: RedactionRules, corpus: list[dict], near_misses: list[dict]
    ) -> None:
        """Go's regexp compiles every shipped pattern and finds exactly Python's raw matches on both corpora."""
        texts = [text for record in corpus for part in ("body", "attributes") for text in strings_in(record[part])]
        texts += [miss["text"] for miss in near_misses]
        patterns = re2_patterns(rules)
        request = {"patterns": {p.name: p.pattern for p in patterns}, "texts": texts}
        program = Path(__file__).with_name("re2check") / "main.go"
        completed = subprocess.run(
            ["go", "run", str(program)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        result = json.loads(completed.stdout)
        assert result["errors"] == {}
        for pattern in patterns:
            regex = re.compile(pattern.pattern, re.ASCII)
            python = [[index, match.group()] for index, text in enumerate(texts) for match in regex.finditer(text)]
            assert result["matches"][pattern.name] == python, pattern.name
