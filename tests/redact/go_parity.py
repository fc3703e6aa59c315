"""The Python side of the Go parity test: the typed JSON-lines format, the Python redactor run on
it, and the corpus of inputs (see test_go_parity.py and the Go command auditredact-jsonl).

A value is written with a tag that keeps what plain JSON cannot (bytes, int vs float, key order)::

    V := null | true | false | {"s": str} | {"i": int} | {"f": float | "nan" | "inf" | "-inf"}
       | {"b": base64} | {"a": [V, ...]} | {"m": [[key, V], ...]}

Output lines are ``json.dumps(..., separators=(",", ":"))`` with floats as ``{"f": repr(x)}``.
"""

from __future__ import annotations

import ast
import base64
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, Status, StatusCode, TraceFlags

from otel_audit.redact import (
    RedactingLogRecordProcessor,
    RedactingSpanExporter,
    RedactionBudgetError,
    RedactionDepthError,
    RedactionRuleError,
    Redactor,
    parse_rules,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BYTES = "$corpus.bytes"

# -- the typed encoding -----------------------------------------------------------------------------


def encode(value: Any) -> Any:  # noqa: PLR0911 - one type dispatch
    """A Python value in the typed encoding."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"i": value}
    if isinstance(value, float):
        return {"f": repr(value)} if not math.isfinite(value) else {"f": value}
    if isinstance(value, str):
        return {"s": value}
    if isinstance(value, (bytes, bytearray)):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return {"a": [encode(item) for item in value]}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {"m": [[key, encode(item)] for key, item in value.items()]}
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_output(value: Any) -> Any:
    """As :func:`encode`, floats as their repr (what the outputs compare)."""
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, (list, tuple)):
        return {"a": [encode_output(item) for item in value]}
    if isinstance(value, dict) or (hasattr(value, "items") and not isinstance(value, (str, bytes))):
        return {"m": [[key, encode_output(item)] for key, item in value.items()]}
    return encode(value)


def decode(value: Any) -> Any:  # noqa: PLR0911 - one tag dispatch
    """The Python value of a typed encoding."""
    if value is None or isinstance(value, bool):
        return value
    ((tag, content),) = value.items()
    if tag == "s":
        return content
    if tag == "i":
        return int(content)
    if tag == "f":
        return float(content)
    if tag == "b":
        return base64.b64decode(content)
    if tag == "a":
        return [decode(item) for item in content]
    if tag == "m":
        return {key: decode(item) for key, item in content}
    raise ValueError(f"unknown tag {tag}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# -- the Python side --------------------------------------------------------------------------------


class PythonSide:
    """The Python redactor, log processor and span exporter, all on one :class:`Redactor`."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.provider = LoggerProvider(resource=Resource.create({"service.name": "parity"}), shutdown_on_exit=False)
        self.provider.add_log_record_processor(RedactingLogRecordProcessor(redactor))
        self.provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))
        self.logger = self.provider.get_logger("parity")
        self.span_exporter = InMemorySpanExporter()
        self.span_redactor = RedactingSpanExporter(self.span_exporter, redactor)

    def run(self, line: dict[str, Any]) -> str:
        kind = line["kind"]
        out: dict[str, Any] = {"id": line["id"]}
        if kind in ("value", "attributes", "text"):
            try:
                if kind == "value":
                    result = self.redactor.redact(decode(line["value"]))
                    out["value"] = encode_output(result.value)
                elif kind == "attributes":
                    result = self.redactor.redact_attributes(decode(line["attributes"]))
                    out["attributes"] = encode_output(result.value)
                else:
                    result = self.redactor.redact_text(line["text"])
                    out["text"] = result.value
            except (RedactionBudgetError, RedactionDepthError) as exc:
                out["error"] = type(exc).__name__
                return dumps(out)
            out["counts"] = [[name, n] for name, n in result.counts.items()]
            return dumps(out)
        if kind == "log":
            return self._log(line, out)
        if kind == "span":
            return self._span(line, out)
        if kind == "normalize_key":
            out["key"] = self.redactor.normalize_key(line["key"])
            return dumps(out)
        if kind == "rules":
            try:
                rules = parse_rules(line["text"])
            except RedactionRuleError as exc:
                out["error"] = {"line": exc.line, "key": exc.key}
                out["needs_secret"] = False
            else:
                out["error"] = None
                out["needs_secret"] = rules.needs_secret
            return dumps(out)
        raise ValueError(f"unknown kind {kind}")

    def _log(self, line: dict[str, Any], out: dict[str, Any]) -> str:
        body = decode(line["body"]) if line.get("body") is not None else None
        attributes = decode(line["attributes"]) if line.get("attributes") is not None else {}
        self.logger.emit(LogRecord(body=body, attributes=attributes))
        (exported,) = self.log_exporter.get_finished_logs()
        self.log_exporter.clear()
        record = exported.log_record
        out["body"] = encode_output(record.body)
        out["attributes"] = encode_output(dict(record.attributes or {}))
        return dumps(out)

    def _span(self, line: dict[str, Any], out: dict[str, Any]) -> str:
        context = SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1))
        status = line.get("status") or {}
        code = {"UNSET": StatusCode.UNSET, "OK": StatusCode.OK, "ERROR": StatusCode.ERROR}[status.get("code", "UNSET")]
        span = ReadableSpan(
            name=line["name"],
            context=context,
            attributes=decode(line["attributes"]) if line.get("attributes") else {},
            events=[
                Event(e["name"], decode(e["attributes"]) if e.get("attributes") else {}, 1)
                for e in line.get("events", [])
            ],
            links=[
                Link(context, decode(k["attributes"]) if k.get("attributes") else {}) for k in line.get("links", [])
            ],
            status=Status(code, status.get("description") or None) if code is StatusCode.ERROR else Status(code),
            start_time=1,
            end_time=2,
        )
        self.span_redactor.export([span])
        (copy,) = self.span_exporter.get_finished_spans()
        self.span_exporter.clear()
        out["name"] = copy.name
        out["attributes"] = encode_output(dict(copy.attributes or {}))
        out["events"] = [{"name": e.name, "attributes": encode_output(dict(e.attributes or {}))} for e in copy.events]
        out["links"] = [{"attributes": encode_output(dict(k.attributes or {}))} for k in copy.links]
        out["status"] = {"code": copy.status.status_code.name, "description": copy.status.description or ""}
        return dumps(out)


# -- the corpus -------------------------------------------------------------------------------------


def to_python(value: Any) -> Any:
    """A corpus value as a client passes it: ``{"$corpus.bytes": text}`` becomes UTF-8 ``bytes``."""
    if isinstance(value, dict):
        if set(value) == {BYTES}:
            return value[BYTES].encode("utf-8")
        return {key: to_python(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_python(item) for item in value]
    return value


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def storable(value: Any) -> bool:  # noqa: PLR0911 - one type dispatch
    """Whether a value can travel as OTLP (UTF-8 strings, 64-bit integers)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, bool) or value is None or isinstance(value, (float, bytes)):
        return True
    if isinstance(value, int):
        return -(1 << 63) <= value < (1 << 63)
    if isinstance(value, (list, tuple)):
        return all(storable(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and storable(k) and storable(v) for k, v in value.items())
    return False


class Corpus:
    """Builds the input lines (each a dict with ``id`` and ``kind``)."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.group = "corpus"

    def add(self, kind: str, **fields: Any) -> None:
        self.lines.append({"id": len(self.lines), "kind": kind, "group": self.group, **fields})

    def value(self, value: Any) -> None:
        if storable(value):
            self.add("value", value=encode(value))

    def text(self, text: Any) -> None:
        if isinstance(text, str) and storable(text):
            self.add("text", text=text)

    def attributes(self, attributes: dict[str, Any]) -> None:
        if storable(attributes):
            self.add("attributes", attributes=encode(attributes))

    def log(self, body: Any, attributes: dict[str, Any]) -> None:
        attributes = {k: v for k, v in attributes.items() if k}
        if storable(body) and storable(attributes) and len(attributes) < 100:
            self.add("log", body=encode(body) if body is not None else None, attributes=encode(attributes))

    def span(
        self,
        name: str,
        attributes: dict[str, Any],
        events: list[tuple[str, dict[str, Any]]],
        links: list[dict[str, Any]],
        status: tuple[str, str],
    ) -> None:
        def clean(attrs: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in attrs.items() if k}

        parts = [name, attributes, [e for _, e in events], links, status[1]]
        if storable(parts) and len(attributes) < 100:
            self.add(
                "span",
                name=name,
                attributes=encode(clean(attributes)),
                events=[{"name": n, "attributes": encode(clean(a))} for n, a in events],
                links=[{"attributes": encode(clean(a))} for a in links],
                status={"code": status[0], "description": status[1] if status[0] == "ERROR" else ""},
            )


AUDIT_ATTRIBUTES = {
    "gen_ai.request.model": "fraud_detector",
    "ml.model.version": "v3.2.1",
    "audit.request.id": "5f0c6a6e-8d1b-4e43-9a53-2f7f3e8f3b11",
    "audit.input.hash": "ab" * 32,
    "user.id": "user-00042",
    "audit.outcome": "ok",
    "audit.latency_ms": 12.5,
}


def project_corpora(corpus: Corpus) -> None:
    """tests/data/redaction_corpus.jsonl and redaction_near_misses.jsonl, as the corpus test uses them."""
    for record in read_jsonl(DATA / "redaction_corpus.jsonl"):
        body = {"input": to_python(record["input"]), "output": to_python(record["output"])}
        attributes = {**AUDIT_ATTRIBUTES, **to_python(record["attributes"])}
        corpus.log(body, attributes)
        corpus.value(to_python(record["input"]))
        corpus.attributes(attributes)
        for planted in record["planted"]:
            corpus.text(planted["value"])
            corpus.text(planted["written"])
    for miss in read_jsonl(DATA / "redaction_near_misses.jsonl"):
        corpus.text(miss["value"])
        corpus.log(
            {"input": {"value": miss["value"]}, "output": {"ok": True}},
            {**AUDIT_ATTRIBUTES, "app.value": miss["value"]},
        )


def adversarial(corpus: Corpus, sizes: tuple[int, ...] = (40, 300, 3000)) -> None:
    from adversarial import FAMILIES  # tests/redact/adversarial.py

    for make in FAMILIES.values():
        for size in sizes:
            text = make(size)
            corpus.text(text)
            corpus.value({"note": text, "items": [text[: len(text) // 2], text[len(text) // 2 :]]})


def unit_test_strings(corpus: Corpus) -> None:
    """Every string literal of tests/redact/test_*.py (the values the unit tests redact)."""
    for path in sorted((ROOT / "tests" / "redact").glob("test_*.py")):
        if path.name == "test_go_parity.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 5000:
                corpus.text(node.value)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, (bytes, int))
                and not isinstance(node.value, bool)
            ):
                corpus.value(node.value)


LOOKALIKES = [
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u00ad",
    "\u0430",
    "\u043e",
    "\u0440",
    "\u0455",
    "\u03bf",
    "\u0456",
    "\uff50",
    "\uff41",
    "\u2060",
    " ",
    "\u3000",
]
KEY_WORDS = [
    "password",
    "passwd",
    "api_key",
    "token",
    "ssn",
    "phone",
    "mobile",
    "dob",
    "birth_date",
    "session_id",
    "user.email",
    "note",
    "comment",
    "sku",
    "national_id",
    "cvv",
    "pin",
    "compass",
    "passenger",
    "bypass",
]


def faker_values(corpus: Corpus, seed: int = 13) -> None:
    """Faker and mimesis values in several locales, in strings, nested maps and lists, bytes and ints."""
    from faker import Faker
    from mimesis import Generic, Locale

    rng = random.Random(seed)
    locales = [
        "en_US",
        "en_GB",
        "de_DE",
        "fr_FR",
        "es_ES",
        "it_IT",
        "nl_NL",
        "pl_PL",
        "pt_PT",
        "sv_SE",
        "da_DK",
        "ru_RU",
        "el_GR",
        "cs_CZ",
        "ja_JP",
        "zh_CN",
    ]
    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(seed)
        for _ in range(40):
            card = fake.credit_card_number()
            phone = fake.phone_number()
            email = fake.email()
            try:
                iban = fake.iban()
            except AttributeError:
                iban = "DE89370400440532013000"
            name = fake.name()
            address = fake.address()
            separator = rng.choice([" ", "-", ".", ""])
            grouped = separator.join(card[i : i + 4] for i in range(0, len(card), 4))
            spaced_iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
            for text in (
                card,
                grouped,
                phone,
                email,
                iban,
                spaced_iban,
                name,
                address,
                f"{name} <{email}> tel {phone}",
                f"card {grouped}, IBAN {spaced_iban}",
                email.replace("@", rng.choice(["%40", "&#64;", "&commat;", "\\u0040", "\uff20", "%2540", "&amp;#64;"])),
                f"{phone} / {fake.phone_number()}",
                f"call me at {phone.replace(' ', '')}",
            ):
                corpus.text(text)
            key = rng.choice(KEY_WORDS)
            weird = "".join(c + (rng.choice(LOOKALIKES) if rng.random() < 0.3 else "") for c in key)
            value = {
                "name": name,
                key: phone,
                weird: email,
                "contact": {"emails": [email, fake.email()], "phones": [phone], "bytes": email.encode()},
                "payment": {
                    "card": int(card) if card.isdigit() and len(card) <= 18 else card,
                    "iban": iban,
                    "pieces": [grouped[: len(grouped) // 2], grouped[len(grouped) // 2 :]],
                },
                "split": [email.split("@")[0], "@" + email.split("@")[1]],
                "amount": round(rng.uniform(-1e6, 1e6), rng.randint(0, 4)),
                "count": rng.randint(-(10**12), 10**12),
                "flags": [True, False, None],
                "$bytes": base64.b64encode(f"{name} {email}".encode()).decode(),
            }
            corpus.value(value)
            corpus.value({"$bytes": base64.b64encode(f"note {email} {phone}".encode()).decode()})
            corpus.attributes(
                {
                    **AUDIT_ATTRIBUTES,
                    key: phone,
                    weird: card,
                    "app.note": f"{name}: {email}",
                    "audit.redaction.count": 7,
                    "audit.output.label": rng.choice(["approve", email, 3, 2.5, "high risk", "x" * 60]),
                    "app.list": [email, phone],
                    "app.bytes": phone.encode(),
                }
            )
            corpus.log(value, {**AUDIT_ATTRIBUTES, "app.email": email, weird: phone, "app.card": grouped})
            corpus.span(
                f"predict {email}" if rng.random() < 0.3 else "predict",
                {**AUDIT_ATTRIBUTES, "app.email": email, "app.cards": [grouped, card], key: phone},
                [("exception", {"exception.message": f"bad input {email} {phone}"})],
                [{"peer": email}],
                ("ERROR", f"failed for {email}") if rng.random() < 0.5 else ("OK", ""),
            )
            corpus.add("normalize_key", key=weird)
        language = locale.split("_")[0]
        generic = Generic(
            locale=Locale(language) if language in {loc.value for loc in Locale} else Locale.EN, seed=seed
        )
        for _ in range(20):
            corpus.text(generic.person.email())
            corpus.text(generic.person.telephone())
            corpus.text(generic.person.full_name())
            corpus.text(generic.address.address())
            corpus.value(
                {
                    "email": generic.person.email(),
                    "phone": generic.person.telephone(),
                    "ip": generic.internet.ip_v4(),
                    "ip6": generic.internet.ip_v6(),
                }
            )
            corpus.text(f"from {generic.internet.ip_v4()} and {generic.internet.ip_v6()}")


ALPHABETS = [
    "0123456789 ",
    "0123456789 .-/()+x",
    "0123456789@.-_abcXYZ",
    "%0123456789ABCDEFabcdef&#;@xu\\",
    "abcdefABCDEF0123456789:.",
    "aé＠ａ０１２３４５６７８９\u0301\u0308e\uff0e。@ .",
    "Σσςαβγ@.ΑΒΓ0123456789 ",
    "电话号码是0123456789 +",
    "DEGBFRNL0123456789 -",
    "\u200b\u00ad\ufeff0123456789@a.b",
]


def random_strings(corpus: Corpus, count: int = 4000, seed: int = 7) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        alphabet = rng.choice(ALPHABETS)
        length = rng.choice([5, 12, 20, 40, 80])
        text = "".join(rng.choice(alphabet) for _ in range(length))
        if rng.random() < 0.5:
            prefix = rng.choice(["tel: ", "Call ", "IBAN ", "mail ", "card ", "ref ", "", "", "телефон ", "電話 "])
            text = prefix + text
        corpus.text(text)
        if rng.random() < 0.2:
            cut = rng.randint(0, len(text))
            corpus.value([text[:cut], text[cut:], rng.randint(10**7, 10**16)])


def keys_and_unicode(corpus: Corpus, seed: int = 11) -> None:
    rng = random.Random(seed)
    pool = [
        *LOOKALIKES,
        "\u0301",
        "\u0308",
        "\u1100",
        "\u1161",
        "\u11a8",
        "\uac00",
        "\u212a",
        "\u017f",
        "\u0130",
        "\u0131",
        "\u00df",
        "\u1e9e",
        "\ufb01",
        "\u2126",
        "\u00c5",
        "A\u030a",
        "\u3164",
        "\uffa0",
        "\u2163",
        "\u00bd",
        "\u0958",
    ]
    for _ in range(1500):
        word = rng.choice(KEY_WORDS)
        chars = []
        for c in word:
            chars.append(c.upper() if rng.random() < 0.3 else c)
            if rng.random() < 0.25:
                chars.append(rng.choice(pool))
        key = "".join(chars)
        if rng.random() < 0.3:
            key = rng.choice(["\u3000", " ", "\t"]) + key + rng.choice(["", " ", "\n"])
        corpus.add("normalize_key", key=key)
        corpus.value({key: "secret-value 4111 1111 1111 1111", "x" + key: {"nested": key}})
        text = "".join(rng.choice(pool + list("abc@.")) for _ in range(rng.randint(1, 12)))
        corpus.add("normalize_key", key=text)
        corpus.text(text + "@example.org")


def edge_values(corpus: Corpus) -> None:
    """Hand-written edge cases: depth, budget, envelopes, big ints, labels, collisions."""
    deep: Any = "ana@example.org"
    for _ in range(70):
        deep = {"d": deep}
    corpus.value(deep)
    deep_list: Any = ["x"]
    for _ in range(64):
        deep_list = [deep_list]
    corpus.value(deep_list)
    corpus.log(deep, {"user.id": "u1", "app.x": "ana@example.org"})
    corpus.log("a" * 2_000_000, {"user.id": "u1", "audit.redaction.count": 5})
    corpus.span("x" * 600_000, {"app.x": "y" * 600_000, "user.id": "u"}, [], [], ("ERROR", "boom"))
    corpus.span("ok", {"audit.outcome": "ok"}, [("e", {"a": "b"})], [{"l": "ana@example.org"}], ("OK", ""))
    # The pseudonymizing rules' custom detectors (a gate term with leading global flags).
    for text in ("TKT-123456", "see tkt-00042", "Tkt-9999\n", "TKT-12", "ORD 123456 and ord 654321", "ORD\t000001x"):
        corpus.text(text)
    for value in (
        12345678,
        -12345678,
        1234567,
        4111111111111111,
        -4111111111111111,
        9007199254740993,
        2**63 - 1,
        -(2**63),
        34986697025,
        4915112345678,
        0.1,
        1e16,
        1e-5,
        1e22,
        -0.0,
        123456789.0,
        4111111111111111.0,
        True,
        None,
        b"",
        b"\xff\xfe",
        "ana@example.org".encode("utf-16"),
        b"4111 1111 1111 1111",
    ):
        corpus.value(value)
        corpus.value([value, value])
        corpus.attributes({"app.v": value, "national_id": value, "password": value, "phone": value})
    for encoded in (
        "",
        "==",
        "QQ",
        "QQ=",
        "QQ==",
        "QUI=",
        "QUI==",
        "QUJD=",
        "QUJD==",
        "QR==",
        "YW5hQGV4YW1wbGUub3Jn",
        "YW5hQGV4YW1wbGUub3Jn\n",
        "YW5h QGV4YW1wbGUub3Jn",
        "YW5hQGV4YW1wbGUub3Jn===",
        "ö",
        "/w==",
        base64.b64encode(b"+44 20 7946 0958").decode(),
    ):
        corpus.value({"$bytes": encoded})
        corpus.value({"$bytes": encoded, "other": 1})
        corpus.attributes({"$bytes": encoded})
    corpus.value({"ana@example.org": 1, "[EMAIL]": 2, "[EMAIL]#2": 3, "bob@example.org": 4})
    corpus.value({"password": "x", "ana@example.org": "y", "z": "ana@example.org"})
    for label in (
        "approve",
        "POSITIVE",
        "class_3",
        "high risk",
        "a b c d",
        "3rd",
        "ana@example.org",
        "Ünïcödé label",
        "x" * 48,
        "x" * 49,
        999999,
        1000000,
        -999999,
        True,
        0.5,
        None,
        ["a"],
        {"a": 1},
        b"x",
        "",
        " a",
        "a  b",
        "_x",
        "é_1",
    ):
        corpus.attributes({"audit.output.label": label})
    for items in (
        ["ana.lopez", "@example.org"],
        ["7656", "9385", "20"],
        ["+44", "20", "7946", "0958"],
        ["DE89", "3704", "0044", "0532", "0130", "00"],
        ["2024-05-17", "10:30"],
        ["4111", "1111", "1111", "1111"],
        ["ana", "", "@example.org"],
        ["4111 1111", 5, "1111 1111"],
        ["a%40", "b.org"],
        ["ana＠", "example.org"],
        ["１２", "３４"],
        ["²", "1234567890"],
    ):
        corpus.value(items)
        corpus.value(tuple(items))
    corpus.value({"sku": "0171 5942400", "SKU": "+44 20 7946 0958"})
    corpus.text("")
    corpus.text("\u00e9" * 10 + "e\u0301" * 10)
    corpus.value(["e", "\u0301", "x"])


STRING_POOL = [
    "ana@example.org",
    "ana.lopez",
    "@example.org",
    "+44 20 7946 0958",
    "+44",
    "20",
    "7946",
    "0958",
    "4111 1111 1111 1111",
    "4111",
    "1111",
    "DE89 3704 0044 0532 0130 00",
    "DE89",
    "3704",
    "123-45-6789",
    "203.0.113.17",
    "2001:db8::1",
    "[EMAIL]",
    "[EMAIL]#2",
    "approve",
    "2024-05-17",
    "10:30",
    "ana%40example.org",
    "ana\u0040",
    "example.org",
    "＠",
    "ana＠example.org",
    "0171 5942400",
    "x1",
    "",
    " ",
    "e\u0301",
    "AKIAIOSFODNN7EXAMPLE",
    "Tel.:",
    "992 729 978",
    "ORD-2024-000123",
    "\u00e9",
]
KEY_POOL = [
    "note",
    "password",
    "phone",
    "ssn",
    "dob",
    "sku",
    "ana@example.org",
    "[EMAIL]",
    "audit.redaction.count",
    "audit.output.label",
    "user.id",
    "gen_ai.request.model",
    "$bytes",
    "pass\u200bword",
    "Phone ",
    "items",
    "x",
    "card",
    "\uff50assword",
]


def random_structures(corpus: Corpus, count: int = 2500, seed: int = 5) -> None:
    """Random nested values: maps, lists, strings (whole values and fragments), numbers, bytes."""
    rng = random.Random(seed)
    corpus.group = "random"

    def leaf() -> Any:
        roll = rng.random()
        if roll < 0.55:
            return rng.choice(STRING_POOL)
        if roll < 0.65:
            return rng.choice([12345678, 4111111111111111, 7, -99999999, 442079460958])
        if roll < 0.72:
            return rng.choice([0.5, 1e16, -2.25, 123456789.0])
        if roll < 0.8:
            return rng.choice(STRING_POOL).encode("utf-8")
        if roll < 0.9:
            return rng.choice([True, False, None])
        return "".join(rng.choice(STRING_POOL) for _ in range(rng.randint(2, 4)))

    def value(depth: int) -> Any:
        if depth > 3 or rng.random() < 0.4:
            return leaf()
        if rng.random() < 0.5:
            return [value(depth + 1) for _ in range(rng.randint(0, 5))]
        return {
            rng.choice(KEY_POOL) + ("" if rng.random() < 0.7 else str(rng.randint(0, 3))): value(depth + 1)
            for _ in range(rng.randint(0, 5))
        }

    for _ in range(count):
        v = value(0)
        corpus.value(v)
        attrs = {
            rng.choice(KEY_POOL) + ("" if rng.random() < 0.6 else str(rng.randint(0, 3))): value(2)
            for _ in range(rng.randint(1, 6))
        }
        corpus.attributes(attrs)
        corpus.log(v, attrs)
        corpus.span(
            rng.choice(STRING_POOL),
            attrs,
            [(rng.choice(["e", "exception"]), dict(list(attrs.items())[:2]))],
            [attrs],
            ("ERROR", rng.choice(STRING_POOL)) if rng.random() < 0.5 else ("UNSET", ""),
        )
    corpus.group = "corpus"


def rule_files(corpus: Corpus) -> None:
    """Rule files Python refuses (and a few it accepts): the same ones must be refused, at the same key."""
    base = (ROOT / "collector-config" / "redaction.yaml").read_text(encoding="utf-8")
    corpus.add("rules", text=base)
    cases = [
        "",
        "[]",
        "version: 2",
        "version: 1.0",
        "version: true",
        "version: '1'",
        "version: 1\nbogus: 1",
        "version: 1\ndefaults: []",
        "version: 1\ndefaults: {action: drop}",
        "version: 1\ndefaults: {pseudonym_length: 7}",
        "version: 1\ndefaults: {pseudonym_length: 64}",
        "version: 1\ndefaults: {pseudonym_length: 16.0}",
        "version: 1\nlimits: {max_record_chars: 1023}",
        "version: 1\nlimits: {max_record_chars: 1_048_576}",
        "version: 1\nlimits: {max_record_chars: 0x1000}",
        "version: 1\nlimits: {max_record_chars: 010000}",
        "version: 1\nkey_normalization: [nfkc, nfkc]",
        "version: 1\nkey_normalization: [bogus]",
        "version: 1\nkey_normalization: []",
        "version: 1\nallow_keys: ['a*']",
        "version: 1\nallow_keys: [audit.redaction.count]",
        "version: 1\nallow_keys: [1]",
        "version: 1\nallow_keys: yes",
        "version: 1\nkey_rules: [{name: a, keys: x}]",
        "version: 1\nkey_rules: [{name: A, keys: x}]",
        "version: 1\nkey_rules: [{name: count, keys: x}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?=x)'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'x', action: keep, enabled: no}]",
        "version: 1\nkey_rules: [{name: a, keys: 'x', enabled: 1}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a(?i)b'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?i)a(?m)b'}]",
        "version: 1\nkey_rules: [{name: a, keys: '[z-a]'}]",
        "version: 1\nkey_rules: [{name: a, keys: '\\e'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a**'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a*??'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?P<1x>a)'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?P<x>a)(?P<x>b)'}]",
        "version: 1\nkey_rules: [{name: a, keys: '\\Z'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a{1001}'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a{,3}'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?x)a'}]",
        "version: 1\nkey_rules: [{name: a, keys: '[[:alpha:]]'}]",
        "version: 1\nkey_rules: [{name: a, keys: '^*'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?i-i:a)'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?-:a)'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a)'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(a'}]",
        "version: 1\nkey_rules: [{name: a, keys: '[a'}]",
        "version: 1\nkey_rules: [{name: a, keys: '\\x4'}]",
        "version: 1\nkey_rules: [{name: a, keys: 'a{2,1}'}]",
        "version: 1\nkey_rules: [{name: a, keys: '(?)'}]",
        "version: 1\nkey_rules: [{name: a, keys: x, action: pseudonymize}]",
        "version: 1\ndetectors: [{name: a, pattern: 'a*'}]",
        "version: 1\ndetectors: [{name: a, pattern: '\\bx?'}]",
        "version: 1\ndetectors: [{name: a, pattern: '(?:x|)'}]",
        "version: 1\ndetectors: [{name: a, pattern: 'x', requires: '(?i)x'}]",
        "version: 1\ndetectors: [{name: a, pattern: x, patterns: [y]}]",
        "version: 1\ndetectors: [{name: a}]",
        "version: 1\ndetectors: [{name: a, patterns: []}]",
        "version: 1\ndetectors: [{name: a, patterns: ['(?i)x', y]}]",
        "version: 1\ndetectors: [{name: a, pattern: x, validate: nope}]",
        "version: 1\ndetectors: [{name: a, pattern: x, options: {regions: [US]}}]",
        "version: 1\ndetectors: [{name: a, pattern: x, validate: phone, options: {regions: [NO]}}]",
        "version: 1\ndetectors: [{name: a, pattern: x, validate: phone, options: {regions: ['XX']}}]",
        "version: 1\ndetectors: [{name: a, pattern: x, validate: phone, options: {idd_prefixes: ['0a']}}]",
        "version: 1\ndetectors: [{name: a, pattern: x, validate: phone, options: {bogus: 1}}]",
        "version: 1\ndetectors: [{name: a, pattern: x, validate: luhn, options: {regions: []}}]",
        "version: 1\ndetectors: [{name: a, pattern: x, decode: [percent, bogus]}]",
        "version: 1\ndetectors: [{name: a, pattern: x, normalize: upper}]",
        "version: 1\ndetectors: [{name: a, pattern: x, action: keep}]",
        "version: 1\ndetectors: [{name: a, pattern: x, action: pseudonymize}]",
        "version: 1\ndefaults: {action: pseudonymize}\ndetectors: [{name: a, pattern: x}]",
        "version: 1\ndetectors: [{name: a, pattern: x}, {name: a, pattern: y}]",
        "version: 1\ndetectors: [{name: a, pattern: x, token: lower}]",
        "version: 1\ndetectors: [{name: a, pattern: x, requires: '(?<=a)'}]",
        "version: 1\ndetectors: x",
        "version: 1\ndetectors: [x]",
        "version: 1\ncustom_detectors: [{name: a, pattern: '\\bEMP-[0-9]{6}\\b', enabled: false}]",
        "version: 1\nversion: 1",
        "version: 1\nkey_rules:\n  - name: a\n    keys: x\n    name: b",
        "version: 1\n  bad: indent",
        "version: 1\ndetectors: [{name: a, pattern: 2024-05-17}]",
        "version: 1\ndetectors: [{name: a, pattern: 123}]",
        "version: 1\ndetectors: [{name: a, pattern: x, enabled: yes}]",
        "version: 1\ndetectors: [{name: a, pattern: x, enabled: off}]",
        "version: 1\nkey_rules: [{name: a, keys: '\\d\\s\\w$'}]",
        "version: 1\ndetectors: [{name: a, pattern: '(?s).'}]",
    ]
    for text in cases:
        corpus.add("rules", text=text)


def build(seed: int = 1) -> list[dict[str, Any]]:
    """The whole corpus, deterministic for a seed."""
    corpus = Corpus()
    project_corpora(corpus)
    edge_values(corpus)
    unit_test_strings(corpus)
    adversarial(corpus)
    keys_and_unicode(corpus, seed=seed + 10)
    random_strings(corpus, seed=seed + 6)
    faker_values(corpus, seed=seed + 12)
    random_structures(corpus, seed=seed + 4)
    rule_files(corpus)
    return corpus.lines


def python_outputs(redactor: Redactor, lines: list[dict[str, Any]]) -> Iterator[str]:
    side = PythonSide(redactor)
    for line in lines:
        yield side.run(line)
