"""Generate the redaction test corpora (deterministic: the same seed writes the same bytes).

* ``pii_corpus.jsonl``: audit-record-shaped objects (``body`` + ``attributes``) with planted
  personal data of every kind the shipped rule file covers, in nested bodies, lists, map keys,
  integers and attributes, in sentences of several languages and scripts. Each line lists what was
  planted (``planted``: kind, value, path) so a test can assert that none of it survives.
  Card numbers and IBANs carry correct check digits, so the validators must accept them.
* ``pii_near_misses.jsonl``: strings that contain NO personal data but look like some (order and
  invoice numbers that fail Luhn, IBANs with wrong check digits, timestamps, versions, hashes,
  UUIDs, OIDs…), each with its category, for the false-positive rate.

Run: python tests/data/make_pii_corpus.py [OUT_DIR]  (default: beside this file)
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import random
import string
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED = 20260917
N_RECORDS = 320
HERE = Path(__file__).resolve().parent

# -- check digits -----------------------------------------------------------------------------


def luhn_digit(body: str) -> str:
    """The Luhn check digit that makes ``body + digit`` valid."""
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def iban_check(country: str, bban: str) -> str:
    """The two ISO 13616 check digits of *bban* in *country*."""
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


# -- generators of personal data --------------------------------------------------------------

CARD_BRANDS: list[tuple[str, Callable[[random.Random], str], int, tuple[int, ...]]] = [
    ("visa", lambda r: "4", 16, (4, 4, 4, 4)),
    ("visa19", lambda r: "4", 19, (4, 4, 4, 4, 3)),
    ("mastercard", lambda r: str(r.randint(51, 55)), 16, (4, 4, 4, 4)),
    ("mastercard2", lambda r: str(r.randint(2221, 2720)), 16, (4, 4, 4, 4)),
    ("amex", lambda r: r.choice(["34", "37"]), 15, (4, 6, 5)),
    ("discover", lambda r: r.choice(["6011", "65"]), 16, (4, 4, 4, 4)),
    ("jcb", lambda r: str(r.randint(3528, 3589)), 16, (4, 4, 4, 4)),
    ("diners", lambda r: "36", 14, (4, 6, 4)),
    ("unionpay", lambda r: "62", 16, (4, 4, 4, 4)),
]


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def make_card(rng: random.Random) -> str:
    _, prefix_of, length, groups = rng.choice(CARD_BRANDS)
    prefix = prefix_of(rng)
    body = prefix + digits(rng, length - len(prefix) - 1)
    number = body + luhn_digit(body)
    style = rng.choice(["plain", "space", "dash"])
    if style == "plain":
        return number
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    return (" " if style == "space" else "-").join(parts)


IBAN_FORMATS: dict[str, list[tuple[str, int]]] = {
    # country: BBAN as (alphabet, count) runs
    "DE": [("0", 18)],
    "GB": [("A", 4), ("0", 14)],
    "FR": [("0", 23)],
    "ES": [("0", 20)],
    "IT": [("A", 1), ("0", 22)],
    "NL": [("A", 4), ("0", 10)],
    "CH": [("0", 17)],
    "PL": [("0", 24)],
    "BE": [("0", 12)],
    "AT": [("0", 16)],
    "NO": [("0", 11)],
    "SE": [("0", 20)],
    "PT": [("0", 21)],
    "IE": [("A", 4), ("0", 14)],
    "SA": [("0", 2), ("0", 18)],
}


def make_iban(rng: random.Random, country: str | None = None) -> str:
    country = country or rng.choice(sorted(IBAN_FORMATS))
    bban = "".join(
        "".join(rng.choice(string.ascii_uppercase if alphabet == "A" else string.digits) for _ in range(count))
        for alphabet, count in IBAN_FORMATS[country]
    )
    compact = country + iban_check(country, bban) + bban
    style = rng.choice(["compact", "grouped", "grouped", "lower"])
    if style == "grouped":
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact.lower() if style == "lower" else compact


LOCAL_PARTS = [
    "john.smith", "maria_garcia+news", "j.doe-1984", "li.wei", "a.nakamura", "olivia.brown",
    "José.García", "françois.müller", "søren.kierkegaard", "иван.петров", "张伟", "γιώργος",
    "priya.sharma", "ahmed.hassan", "Emma.Schmidt", "noah_williams", "k.kowalski", "sean.obrien",
]  # fmt: skip
DOMAINS = [
    "example.com", "mail.example.co.uk", "beispiel.de", "exemple.fr", "correo.es", "example.org",
    "пример.рф", "例子.中国", "uni-example.ac.jp", "EXAMPLE.COM", "sub.mail.example.net", "posta.it",
]  # fmt: skip


def make_email(rng: random.Random) -> str:
    local = rng.choice(LOCAL_PARTS)
    if rng.random() < 0.3:
        local += str(rng.randint(1, 999))
    return f"{local}@{rng.choice(DOMAINS)}"


def _us(rng: random.Random) -> tuple[str, str, str]:
    return f"{rng.randint(2, 9)}{digits(rng, 2)}", f"{rng.randint(2, 9)}{digits(rng, 2)}", digits(rng, 4)


PHONE_FORMATS: list[Callable[[random.Random], str]] = [
    lambda r: "+1{}{}{}".format(*_us(r)),
    lambda r: "+1 ({}) {}-{}".format(*_us(r)),
    lambda r: "({}) {}-{}".format(*_us(r)),
    lambda r: "{}-{}-{}".format(*_us(r)),
    lambda r: "{}.{}.{}".format(*_us(r)),
    lambda r: "{} {} {}".format(*_us(r)),
    lambda r: f"+44 20 {digits(r, 4)} {digits(r, 4)}",
    lambda r: f"+44 (0)20 {digits(r, 4)} {digits(r, 4)}",
    lambda r: f"+447700{digits(r, 6)}",
    lambda r: f"020 {digits(r, 4)} {digits(r, 4)}",
    lambda r: f"07700 {digits(r, 6)}",
    lambda r: f"0161 {digits(r, 3)} {digits(r, 4)}",
    lambda r: f"+49 30 {digits(r, 8)}",
    lambda r: f"+49 151 {digits(r, 8)}",
    lambda r: f"030 {digits(r, 8)}",
    lambda r: f"0151 {digits(r, 8)}",
    lambda r: f"089/{digits(r, 7)}",
    lambda r: f"(030) {digits(r, 4)}-{digits(r, 4)}",
    lambda r: f"+33 {r.randint(1, 7)} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)}",
    lambda r: f"0{r.randint(1, 7)} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)}",
    lambda r: f"0{r.randint(6, 7)}.{digits(r, 2)}.{digits(r, 2)}.{digits(r, 2)}.{digits(r, 2)}",
    lambda r: f"+91 {r.randint(6, 9)}{digits(r, 4)} {digits(r, 5)}",
    lambda r: f"+91-{r.randint(6, 9)}{digits(r, 4)}-{digits(r, 5)}",
    lambda r: f"{r.randint(6, 9)}{digits(r, 4)} {digits(r, 5)}",
    lambda r: f"+86 1{r.randint(3, 9)}{digits(r, 1)} {digits(r, 4)} {digits(r, 4)}",
    lambda r: f"1{r.randint(3, 9)}{digits(r, 1)}-{digits(r, 4)}-{digits(r, 4)}",
    lambda r: f"+81 90-{digits(r, 4)}-{digits(r, 4)}",
    lambda r: f"+971 50 {digits(r, 3)} {digits(r, 4)}",
    lambda r: f"+55 11 9{digits(r, 4)}-{digits(r, 4)}",
    lambda r: f"+7 495 {digits(r, 3)}-{digits(r, 2)}-{digits(r, 2)}",
]


def make_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_FORMATS)(rng)


def make_ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    sep = rng.choice(["-", "-", " "])
    return f"{area:03d}{sep}{rng.randint(1, 99):02d}{sep}{rng.randint(1, 9999):04d}"


def make_ipv4(rng: random.Random) -> str:
    first = rng.choice([n for n in range(1, 224) if n not in (10, 127)])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def make_ipv6(rng: random.Random) -> str:
    style = rng.choice(["full", "compressed", "compressed", "link_local", "mapped"])
    if style == "mapped":
        return f"::ffff:{make_ipv4(rng)}"
    if style == "link_local":
        groups = [0xFE80, 0, 0, 0, *(rng.randint(0x100, 0xFFFF) for _ in range(4))]
    elif style == "compressed":
        groups = [0x2001, 0x0DB8, rng.randint(1, 0xFFFF), 0, 0, 0, rng.randint(1, 0xFFFF), rng.randint(1, 0xFFFF)]
    else:
        groups = [rng.randint(0x2000, 0x2FFF), *(rng.randint(0, 0xFFFF) for _ in range(7))]
    address = ipaddress.IPv6Address(int("".join(f"{group:04x}" for group in groups), 16))
    text = address.exploded if style == "full" else address.compressed
    return text if any(char.isdigit() for char in text) else make_ipv6(rng)


def make_aws_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps({"sub": make_email(rng), "iat": 1715942400}, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


def make_password(rng: random.Random) -> str:
    return "pw-" + "".join(rng.choice(string.ascii_letters + string.digits + "!#%") for _ in range(14))


def make_bare_ssn(rng: random.Random) -> str:
    return make_ssn(rng).replace("-", "").replace(" ", "")


def make_bare_phone(rng: random.Random) -> str:
    return "".join("{}{}{}".format(*_us(rng)))


def make_birth_date(rng: random.Random) -> str:
    return f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


# kind -> (generator, how it is caught: "text" = detectors, or the key a key rule matches)
KINDS: dict[str, tuple[Callable[[random.Random], str], str]] = {
    "email": (make_email, "text"),
    "phone": (make_phone, "text"),
    "ssn": (make_ssn, "text"),
    "card": (make_card, "text"),
    "iban": (make_iban, "text"),
    "ipv4": (make_ipv4, "text"),
    "ipv6": (make_ipv6, "text"),
    "aws_access_key": (make_aws_key, "text"),
    "jwt": (make_jwt, "text"),
    "credential": (make_password, "key"),
    "national_id": (make_bare_ssn, "key"),
    "phone_field": (make_bare_phone, "key"),
    "birth_date": (make_birth_date, "key"),
}
KEY_NAMES = {
    "credential": ["password", "api_token", "client_secret", "accessToken", "X-Api-Key", "db.password"],
    "national_id": ["ssn", "customer_ssn", "national_id", "passport_number", "tax_id"],
    "phone_field": ["phone", "mobile", "customer.phone_number", "tel", "fax"],
    "birth_date": ["dob", "date_of_birth", "birthDate", "customer.birthday"],
}

# -- sentences in several languages and scripts ({v} is the planted value) ---------------------

TEMPLATES = [
    "Please contact me at {v} tomorrow morning.",
    "Customer wrote: my details are {v}, thanks!",
    "{v}",
    "Ref: {v}",
    "Bitte kontaktieren Sie mich unter {v}, danke.",
    "Meine Angaben: {v} (bitte vertraulich behandeln).",
    "Vous pouvez me joindre au {v} après 18h.",
    "Mes coordonnées : {v}.",
    "Mi dato es {v} y vivo en Madrid.",
    "Il mio riferimento è {v}.",
    "O meu contacto é {v}, obrigado.",
    "请通过{v}联系我。",
    "我的信息是 {v} ，谢谢",
    "連絡先は{v}です。",
    "고객 정보: {v} 입니다.",
    "يرجى الاتصال بي على {v} شكرا",
    "Мой номер {v}, звоните вечером.",
    "Данные клиента: {v}.",
    "कृपया मुझे {v} पर संपर्क करें।",
    "Λεπτομέρειες: {v}.",
    "פרטים: {v} תודה",
    "line1\n\tcontact:\t{v}\nline3",
    '{{"embedded_json": "{v}"}}',
    "<p>Contact: <b>{v}</b></p>",
    "Contact <{v}>",
    "[{v}]",
    "id={v}&next=/home",
]

# -- record skeletons -------------------------------------------------------------------------

FEATURE_NAMES = ["age_bucket", "income_band", "tenure_months", "score", "hour_sin", "hour_cos", "segment"]


def filler(rng: random.Random) -> dict[str, Any]:
    """Non-personal content that makes records look like real prediction inputs."""
    return {
        "features": {name: round(rng.uniform(-3, 3), 4) for name in rng.sample(FEATURE_NAMES, 4)},
        "order_id": f"ORD-{rng.randint(2020, 2026)}-{rng.randint(0, 999999):06d}",
        "created_at": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T1{rng.randint(0, 9)}:3{rng.randint(0, 9)}:00Z",
        "max_tokens": rng.choice([256, 512, 1024]),
        "tags": rng.sample(["retail", "eu", "mobile", "web", "priority", "returning"], 2),
    }


def plant(  # noqa: PLR0912 - one branch per kind of place
    rng: random.Random, record: dict[str, Any], kind: str, value: str, planted: list[dict[str, Any]]
) -> None:
    """Put *value* somewhere in *record* (body or attributes), recording where."""
    how = KINDS[kind][1]
    body_input = record["body"]["input"]
    if how == "key":
        key = rng.choice(KEY_NAMES[kind])
        if rng.random() < 0.3:
            record["attributes"][key if "." in key else f"app.{key}"] = value
            path = "attributes." + (key if "." in key else f"app.{key}")
        else:
            depth = rng.randint(1, 4)
            container = body_input
            path = "body.input"
            for level in range(depth):
                name = f"level{level}"
                container = container.setdefault(name, {})
                path += f".{name}"
            if kind in ("national_id", "phone_field") and rng.random() < 0.5:
                container[key] = int(value)
                value = str(int(value))
            else:
                container[key] = value
            path += f".{key}"
        planted.append({"kind": kind, "value": value, "path": path})
        return
    where = rng.choice(
        ["sentence", "sentence", "bare", "list", "deep", "attribute", "attribute_bare", "key", "output", "int"]
    )
    if where == "int" and not (kind in ("card",) and value.isdigit()):
        where = "bare"
    if where == "key" and kind not in ("email", "phone", "ipv4"):
        where = "deep"
    text = rng.choice(TEMPLATES).format(v=value)
    if where == "sentence":
        body_input.setdefault("notes", []).append(text)
        path = "body.input.notes[]"
    elif where == "bare":
        field = rng.choice(["contact", "value", "field_7", "customer_ref", "remark"])
        body_input.setdefault("customer", {})[field] = value
        path = f"body.input.customer.{field}"
    elif where == "list":
        body_input.setdefault("history", []).append({"t": rng.randint(1, 99), "events": ["login", text, "logout"]})
        path = "body.input.history[].events[1]"
    elif where == "deep":
        container = body_input
        path = "body.input"
        for level in range(rng.randint(3, 7)):
            container = container.setdefault(f"n{level}", {} if level % 2 == 0 else {"items": []})
            path += f".n{level}"
        container["text"] = text
        path += ".text"
    elif where == "attribute":
        name = rng.choice(["app.customer.note", "app.request.comment", "enduser.comment"])
        existing = record["attributes"].get(name)
        record["attributes"][name] = f"{existing} | {text}" if existing else text
        path = f"attributes.{name}"
    elif where == "attribute_bare":
        name = f"app.field_{rng.randint(1, 99)}"
        record["attributes"][name] = value
        path = f"attributes.{name}"
    elif where == "key":
        body_input.setdefault("contacts", {})[value] = rng.choice(["primary", "backup", "billing"])
        path = "body.input.contacts.<key>"
    elif where == "output":
        record["body"]["output"].setdefault("explanation", []).append(text)
        path = "body.output.explanation[]"
    else:  # int
        body_input.setdefault("payment", {})["number"] = int(value)
        path = "body.input.payment.number"
    planted.append({"kind": kind, "value": value, "path": path})


def make_record(rng: random.Random, index: int) -> dict[str, Any]:
    kinds = list(KINDS)
    chosen = [kinds[index % len(kinds)], *rng.sample(kinds, rng.randint(1, 4))]
    request = uuid.UUID(int=rng.getrandbits(128), version=4)
    record: dict[str, Any] = {
        "id": f"rec-{index:04d}",
        "body": {
            "input": filler(rng),
            "output": {"label": rng.choice(["approve", "review", "decline"]), "score": round(rng.random(), 4)},
        },
        "attributes": {
            "gen_ai.request.model": rng.choice(["fraud_detector", "churn_model", "support_router"]),
            "ml.model.version": f"v{rng.randint(1, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
            "gen_ai.operation.name": "predict",
            "audit.input.hash": hashlib.sha256(str(request).encode()).hexdigest(),
            "audit.request.id": str(request),
            "audit.outcome": "ok",
            "audit.latency_ms": round(rng.uniform(0.5, 80), 3),
            "audit.batch.size": 1,
            "audit.schema.version": "1",
            "user.id": f"user-{rng.randint(1, 99999):05d}",
        },
        "planted": [],
    }
    for kind in chosen:
        plant(rng, record, kind, KINDS[kind][0](rng), record["planted"])
    return record


# -- near misses ------------------------------------------------------------------------------


def luhn_failing(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + digits(rng, length - len(prefix) - 1)
    good = luhn_digit(body)
    return body + rng.choice([d for d in string.digits if d != good])


def bad_iban(rng: random.Random) -> str:
    good = make_iban(rng).replace(" ", "").upper()
    position = rng.randint(4, len(good) - 1)
    while True:
        replacement = rng.choice(string.digits if good[position].isdigit() else string.ascii_uppercase)
        if replacement != good[position]:
            break
    bad = good[:position] + replacement + good[position + 1 :]
    return " ".join(bad[i : i + 4] for i in range(0, len(bad), 4)) if rng.random() < 0.5 else bad


def near_misses(rng: random.Random) -> list[dict[str, str]]:  # noqa: PLR0912 - one flat table of categories
    out: list[dict[str, str]] = []

    def add(category: str, *texts: str) -> None:
        out.extend({"category": category, "text": text} for text in texts)

    for _ in range(20):
        number = luhn_failing(rng, rng.choice(["4", "51", "37", "6011", "35"]), rng.choice([15, 16]))
        spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        add(
            "invoice_failing_luhn", rng.choice([f"Invoice {number}", f"INV {spaced}", number, f"Rechnung Nr. {number}"])
        )
    for _ in range(20):
        add("iban_bad_check_digits", rng.choice(["IBAN ", "Konto: ", ""]) + bad_iban(rng))
    for _ in range(20):
        add(
            "order_id",
            rng.choice(
                [
                    f"ORD-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}",
                    f"PO-{rng.randint(4500000000, 4599999999)}",
                    f"SO{rng.randint(100000000, 999999999)}",
                    f"#A{rng.randint(10000, 99999)}-{rng.choice(string.ascii_uppercase)}",
                    f"订单号：{rng.randint(1000000000, 1999999999)}",
                    f"Bestellnummer {rng.randint(100000, 999999)}",
                    f"order {rng.randint(1, 9)}{digits(rng, 11)}",
                ]
            ),
        )
    for _ in range(35):
        ts = 1_600_000_000 + rng.randint(0, 150_000_000)
        y, mo, d, h, mi, s = (
            rng.randint(2019, 2026),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
        )
        add(
            "timestamp",
            rng.choice(
                [
                    f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
                    f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{rng.randint(0, 999999):06d}+02:00",
                    f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d},{rng.randint(0, 999):03d}",
                    str(ts),
                    str(ts * 1000 + rng.randint(0, 999)),
                    str(ts * 1_000_000_000 + rng.randint(0, 999_999_999)),
                    f"{d:02d}.{mo:02d}.{y} {h:02d}:{mi:02d}",
                    f"{mo:02d}/{d:02d}/{y} {h % 12 + 1}:{mi:02d} PM",
                    f"{y}{mo:02d}{d:02d}T{h:02d}{mi:02d}{s:02d}Z",
                    f"{h:02d}:{mi:02d}:{s:02d}.{rng.randint(0, 999):03d}",
                    f"{y}年{mo}月{d}日 {h}時{mi}分",
                    f"Fri, {d:02d} May {y} {h:02d}:{mi:02d}:{s:02d} +0000",
                ]
            ),
        )
    for _ in range(25):
        a, b, c = rng.randint(0, 20), rng.randint(0, 30), rng.randint(0, 200)
        add(
            "version",
            rng.choice(
                [
                    f"v{a}.{b}.{c}",
                    f"{a}.{b}.{c}-rc.{rng.randint(1, 5)}+build.{rng.randint(1, 999)}",
                    f"python 3.{rng.randint(8, 14)}.{rng.randint(0, 12)}",
                    f"10.0.{rng.randint(17000, 22999)}.{rng.randint(1000, 4000)}",
                    f"Chrome/{rng.randint(100, 130)}.0.{rng.randint(5000, 6999)}.{rng.randint(10, 200)}",
                    f"lodash@{a}.{b}.{c}",
                    f"python:3.{rng.randint(8, 13)}-slim",
                    f"release {rng.randint(2020, 2026)}.{rng.randint(1, 12):02d}.{rng.randint(0, 9)}",
                    f"model fraud_detector v{a}.{b}",
                ]
            ),
        )
    for _ in range(30):
        blob = rng.randbytes(32)
        add(
            "hash",
            rng.choice(
                [
                    hashlib.sha256(blob).hexdigest(),
                    hashlib.sha1(blob).hexdigest(),
                    hashlib.md5(blob).hexdigest(),
                    f"commit {hashlib.sha1(blob).hexdigest()[:7]}",
                    f"sha256:{hashlib.sha256(blob).hexdigest()}",
                    "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode(),
                    base64.b64encode(blob).decode(),
                ]
            ),
        )
    for _ in range(20):
        value = uuid.UUID(int=rng.getrandbits(128), version=4)
        add("uuid", rng.choice([str(value), str(value).upper(), value.hex, f"urn:uuid:{value}", f"request {value}"]))
    add(
        "ssn_invalid",
        *(
            f"{area}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
            for area in ["000", "666", f"9{rng.randint(0, 99):02d}", f"9{rng.randint(0, 99):02d}"]
        ),
        f"{rng.randint(100, 665)}-00-{rng.randint(1, 9999):04d}",
        f"{rng.randint(100, 665)}-{rng.randint(1, 99):02d}-0000",
        f"{rng.randint(100, 665)}{rng.randint(10, 99)}{rng.randint(1000, 9999)}",
    )
    for _ in range(15):
        add(
            "ip_like",
            rng.choice(
                [
                    f"{rng.randint(256, 999)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
                    f"OID 1.3.6.1.4.1.{rng.randint(1, 60000)}.{rng.randint(1, 99)}",
                    f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
                    "127.0.0.1:8080",
                    "0.0.0.0:4318",
                    f"HS code {rng.randint(1000, 9999)}.{rng.randint(10, 99)}.{rng.randint(10, 99)}",
                    f"{rng.randint(1, 9)}.0.0.0",
                ]
            ),
        )
    for _ in range(15):
        mac = ":".join(f"{rng.randint(0, 255):02X}" for _ in range(6))
        add(
            "colon_separated",
            rng.choice(
                [
                    mac,
                    f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                    "std::vector<std::string>",
                    "Foo::Bar::baz()",
                    "std::collections::HashMap",
                    "arn:aws:iam::123456789012:role/audit-reader",
                    f"ratio {rng.randint(1, 9)}:{rng.randint(1, 9)}",
                    "a::b",
                ]
            ),
        )
    for _ in range(15):
        add(
            "email_like",
            rng.choice(
                [
                    f"@types/node@{rng.randint(16, 22)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                    f"numpy@{rng.randint(1, 2)}.{rng.randint(0, 26)}",
                    "user@localhost",
                    "ping @channel please review",
                    "pkg@^1.2.0",
                    "root@host",
                    "a @ b",
                ]
            ),
        )
    for _ in range(25):
        add(
            "number",
            rng.choice(
                [
                    f"{rng.uniform(-1000, 1000):.6f}",
                    f"{rng.randint(1, 999)},{rng.randint(100, 999)},{rng.randint(100, 999)}.{rng.randint(10, 99)}",
                    f"EUR {rng.randint(1, 999)}.{rng.randint(100, 999)},{rng.randint(10, 99)}",
                    f"{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)},{rng.randint(10, 99)} €",
                    f"{rng.uniform(-90, 90):.4f}, {rng.uniform(-180, 180):.4f}",
                    f"{rng.uniform(1, 9):.3f}e{rng.randint(-30, 30)}",
                    f"{rng.randint(0, 100)}%",
                    str(rng.randint(1_000_000_000, 1_999_999_999)),
                    f"{rng.randint(1920, 7680)}x{rng.randint(1080, 4320)}",
                ]
            ),
        )
    for _ in range(15):
        body12 = digits(rng, 11)
        ean_body = rng.choice(["400", "590", "978", "50"]) + digits(rng, 9)
        ean_body = ean_body[:12]
        ean = ean_body + str((10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(ean_body)) % 10) % 10)
        add(
            "product_code",
            rng.choice(
                [
                    f"EAN {ean}",
                    ean,
                    f"UPC {body12}{rng.randint(0, 9)}",
                    "ISBN 978-3-16-148410-0",
                    "ISBN 0-306-40615-2",
                    f"SKU-{rng.randint(10000, 99999)}-XL",
                    "ASIN B08N5WRWNW",
                    f"1Z{rng.randint(100, 999)}AA1{digits(rng, 10)}",
                    f"CAS {rng.randint(50, 9999)}-{rng.randint(10, 99)}-{rng.randint(0, 9)}",
                ]
            ),
        )
    for _ in range(25):
        add(
            "identifier",
            rng.choice(
                [
                    f"api-{rng.randbytes(5).hex()}-{''.join(rng.choices(string.ascii_lowercase + string.digits, k=5))}",
                    "01HX" + "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(22)),
                    str(rng.randint(1_100_000_000_000_000_000, 1_899_999_999_999_999_999)),
                    f"trace {rng.getrandbits(128):032x}",
                    f"span {rng.getrandbits(64):016x}",
                    f"user-{rng.randint(1, 99999):05d}",
                    f"aws account {rng.randint(100000000000, 999999999999)}",
                    f"gs://bucket/models/fraud/{rng.randint(1, 99)}/weights.bin",
                    f"/var/log/app-{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}.log",
                    f"https://api.example.com/v1/models/{rng.randint(1, 999)}?limit={rng.randint(1, 100)}",
                    f"#{rng.getrandbits(24):06x}",
                    f"ticket JIRA-{rng.randint(100, 99999)}",
                ]
            ),
        )
    for _ in range(20):
        add(
            "text",
            rng.choice(
                [
                    "The model approved the application with high confidence.",
                    "Kunde möchte die Lieferadresse ändern.",
                    "Le client demande un remboursement.",
                    "客户要求退款，订单已取消。",
                    "お客様は返金を希望しています。",
                    "Клиент просит вернуть деньги.",
                    "العميل يطلب استرداد المبلغ",
                    "ग्राहक ने धनवापसी का अनुरोध किया है।",
                    f"Room {rng.randint(100, 999)}, floor {rng.randint(1, 9)}",
                    f"Ext. {rng.randint(1000, 9999)}",
                    f"Chapter {rng.randint(1, 20)}, section {rng.randint(1, 9)}.{rng.randint(1, 9)}",
                    f"Top {rng.randint(1, 100)} results in {rng.uniform(0, 2):.2f}s",
                ]
            ),
        )
    # Realistic strings a regex cannot tell from personal data: measured, not tuned away.
    for _ in range(8):
        add(
            "four_part_version",
            rng.choice(
                [
                    f"firmware {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1, 99)}",
                    f"build {rng.randint(1, 3)}.0.0.{rng.randint(1, 200)}",
                    f"assembly {rng.randint(1, 9)}.0.0.0",
                ]
            ),
        )
    for _ in range(20):
        # Random (not Luhn-failing) 16-digit ids: about 1 in 10 has a valid Luhn digit by chance.
        add("random_16_digit_id", f"ID {rng.randint(1, 9)}{digits(rng, 15)}")
    add("ssh_remote", "git@github.com:open-telemetry/opentelemetry-python.git", "deploy@build.example.net:releases/")
    return out


def main(out_dir: Path = HERE) -> None:
    """Write both corpora into *out_dir*."""
    rng = random.Random(SEED)
    records = [make_record(rng, index) for index in range(N_RECORDS)]
    misses = near_misses(random.Random(SEED + 1))
    with (out_dir / "pii_corpus.jsonl").open("w", encoding="utf-8", newline="\n") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    with (out_dir / "pii_near_misses.jsonl").open("w", encoding="utf-8", newline="\n") as stream:
        for index, miss in enumerate(misses):
            stream.write(json.dumps({"id": f"nm-{index:04d}", **miss}, ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
