"""Parity of the collector's Go redaction processor with the Python redactor, byte for byte.

The Go module ``collector/processor/auditredactionprocessor`` ports ``otel_audit.redact``; its
command ``cmd/auditredact-jsonl`` applies the Go engine to JSON lines. This test builds it, feeds
the same inputs (``go_parity.build()``: the project's redaction corpora, the near misses, the
adversarial families, every string of the redaction unit tests, Faker and mimesis values in 16
locales, random strings, look-alike keys, edge cases and broken rule files) to both sides, with
the shipped rules, a rule file that pseudonymizes, and one with a small budget, and requires every
output line to be identical. Then each side's outputs are fed to the other side: nothing may
change (redaction is idempotent across implementations).

Go is required (``go_module``): CI installs it, and a machine without Go fails this test rather
than skipping it.
"""

from __future__ import annotations

import json
import os
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import yaml
from go_module import MODULE, build_command
from go_parity import ROOT, build, decode, dumps, python_outputs

from otel_audit.redact import Redactor, load_rules

RULES = ROOT / "collector-config" / "redaction.yaml"
SECRET = "parity-secret-of-at-least-16-bytes"
SHOWN = 12
PHONENUMBERS = "9.0.31"


@pytest.fixture(scope="module")
def go_command() -> Path:
    """The Go command, built once per source state."""
    return build_command("auditredact-jsonl")


def _variant(tmp_path: Path, name: str, change: Any) -> Path:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _pseudonymizing(document: dict[str, Any]) -> None:
    for detector in document["detectors"]:
        if detector["name"] in ("email", "phone", "card", "iban", "ipv4", "ipv6", "ssn"):
            detector["action"] = "pseudonymize"
    for rule in document["key_rules"]:
        if rule["name"] in ("national_id", "phone_field"):
            rule["action"] = "pseudonymize"
    document["custom_detectors"] += [
        {
            "name": "ticket",
            "token": "TICKET",
            "pattern": r"(?i)tkt-[0-9]{4,8}$",
            # Leading global flags: this gate term cannot be joined into one alternation.
            "requires": "(?i)tkt-",
            "action": "pseudonymize",
        },
        {
            "name": "order",
            "pattern": r"ORD\s[0-9]{6}\b",
            "requires": "ORD",
            "normalize": "alnum",
            "action": "pseudonymize",
        },
    ]


def _small_budget(document: dict[str, Any]) -> None:
    document["limits"] = {"max_record_chars": 2048}
    document["defaults"]["pseudonym_length"] = 12


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return build()


def _run_go(command: Path, rules: Path, lines: list[dict[str, Any]], tmp: Path) -> list[str]:
    source = tmp / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    env = {**os.environ, "OTEL_AUDIT_REDACTION_SECRET": SECRET}
    with source.open("rb") as stream:
        result = subprocess.run(
            [str(command), "-rules", str(rules)], stdin=stream, capture_output=True, env=env, timeout=900, check=False
        )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode("utf-8").splitlines()


def _compare(lines: list[dict[str, Any]], python: list[str], go: list[str], what: str) -> None:
    assert len(python) == len(go) == len(lines), (
        f"{what}: {len(lines)} inputs, {len(python)} Python and {len(go)} Go outputs"
    )
    differences = [(line, p, g) for line, p, g in zip(lines, python, go, strict=True) if p != g]
    if differences:
        shown = "\n\n".join(
            f"input:  {json.dumps(line, ensure_ascii=False)[:1500]}\npython: {p[:1500]}\ngo:     {g[:1500]}"
            for line, p, g in differences[:SHOWN]
        )
        pytest.fail(f"{what}: {len(differences)} of {len(lines)} lines differ; the first ones:\n\n{shown}")


def _second_round(lines: list[dict[str, Any]], outputs: list[str]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Outputs of value, text and attributes lines as new inputs, with what they must come back as."""
    again: list[dict[str, Any]] = []
    expected: list[Any] = []
    for line, output in zip(lines, outputs, strict=True):
        result = json.loads(output)
        if "error" in result or line["kind"] not in ("value", "text", "attributes"):
            continue
        field = line["kind"]
        again.append({"id": line["id"], "kind": field, "group": line["group"], field: result[field]})
        expected.append(result[field])
    return again, expected


RULE_FILES = ["shipped", "pseudonymizing", "small-budget"]


@pytest.mark.slow
@pytest.mark.parametrize("variant", RULE_FILES)
def test_go_processor_matches_python(
    go_command: Path, corpus: list[dict[str, Any]], tmp_path: Path, variant: str
) -> None:
    # The Go port decides phone numbers with github.com/nyaruka/phonenumbers v1.8.1, whose metadata
    # is libphonenumber's as shipped in the Python package phonenumbers 9.0.31 (9.0.32 differs in
    # the mobile ranges of DZ, JP, NO, SJ, SO and UG).
    assert phonenumbers.__version__ == PHONENUMBERS, (
        f"phonenumbers {phonenumbers.__version__} is installed; the Go processor's metadata is {PHONENUMBERS}'s"
    )
    assert unicodedata.unidata_version == _go_unicode_version(), (
        "the Go port's Unicode tables come from another Python: regenerate "
        "collector/processor/auditredactionprocessor/internal/pyuni/tables_gen.go with gen_tables.py"
    )
    rules = {
        "shipped": lambda: RULES,
        "pseudonymizing": lambda: _variant(tmp_path, "pseudonymizing", _pseudonymizing),
        "small-budget": lambda: _variant(tmp_path, "small", _small_budget),
    }[variant]()
    lines = corpus if variant != "small-budget" else [line for line in corpus if line["kind"] != "rules"]
    redactor = Redactor(load_rules(rules), secret=SECRET)
    python = list(python_outputs(redactor, lines))
    go = _run_go(go_command, rules, lines, tmp_path)
    _compare(lines, python, go, f"{variant} rules")
    print(f"\n{variant}: {len(lines)} lines, 0 differences")

    # Each side's output through the other side: nothing changes.
    again, expected = _second_round(lines, python)
    python_again = list(python_outputs(Redactor(load_rules(rules), secret=SECRET), again))
    go_again = _run_go(go_command, rules, again, tmp_path)
    _compare(again, python_again, go_again, f"{variant} rules, second round")
    # Idempotence is a property of the Python spec, which both sides share (the second round above
    # is byte-identical). It holds on the corpus, with two exceptions of the spec itself, kept out
    # of the check and reported with the port:
    # * a pseudonymizing key rule pseudonymizes whatever its key holds, a pseudonym too: with
    #   such rules only bare text, which key rules never see, must stay;
    # * the random nested structures: replacements made across joined list items are not scanned
    #   again (an IPv6 address glued to an e-mail's local part is found on the next pass), and an
    #   output label holding a secret becomes a token, which is then no category and is dropped.
    kinds = ("text",) if variant == "pseudonymizing" else ("text", "value", "attributes")
    changed = [
        (line, json.loads(out))
        for line, out, want in zip(again, go_again, expected, strict=True)
        if line["kind"] in kinds and line["group"] == "corpus" and json.loads(out).get(line["kind"]) != want
    ]
    assert not changed, f"redacting redacted output changed it ({len(changed)}): " + "\n".join(
        f"{dumps(line)[:400]} -> {dumps(out)[:400]}" for line, out in changed[:SHOWN]
    )


def _go_unicode_version() -> str:
    text = (MODULE / "internal" / "pyuni" / "tables_gen.go").read_text(encoding="utf-8")
    marker = 'const UnicodeVersion = "'
    start = text.index(marker) + len(marker)
    return text[start : text.index('"', start)]


def test_corpus_is_substantial(corpus: list[dict[str, Any]]) -> None:
    kinds: dict[str, int] = {}
    for line in corpus:
        kinds[line["kind"]] = kinds.get(line["kind"], 0) + 1
    assert len(corpus) > 20_000, kinds
    assert all(
        kinds.get(kind, 0) > 50 for kind in ("value", "text", "attributes", "log", "span", "normalize_key", "rules")
    ), kinds
    assert decode({"m": [["a", {"b": "QQ=="}]]}) == {"a": b"A"}
