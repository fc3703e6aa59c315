"""Generate the redaction corpus: PII from two independent generators, plus hard cases.

Writes, beside this file (or into the folder given as the first argument):

* ``redaction_corpus.jsonl``: one audit record per line: ``input``, ``output`` and
  ``attributes`` as a client passes them to ``otel_audit.audit_prediction``, and ``planted``,
  every personal value put into it (kind, canonical value, the form it was written in, where,
  which generator and locale made it). Bytes values are written ``{"$corpus.bytes": "<utf-8
  text>"}`` and become ``bytes`` in the tests.
* ``redaction_near_misses.jsonl``: values with NO personal data that look like some, each with
  its category: the false-positive rate is measured on them.
* ``redaction_corpus_manifest.json``: seed, clock, the versions of Python, Faker, mimesis and
  phonenumbers that wrote the files, the locales, and the counts per kind, place, source and category.

Values come from Faker and mimesis (independent projects with their own data and formats) in
the locales below, as those generators produce them; IBANs of 73 countries of the ISO 13616
registry (BBAN formats), AWS keys and JWTs come from this script; the hard cases (every reported leak)
are written by hand. Kinds the shipped rules do not claim to find (names, postal addresses,
national ids in free text, national ids under field names the rules do not list) are planted
as ``not_covered:*`` and reported apart, never counted as leaks of a covered kind.

Deterministic: the same seed and the same generator versions write the same bytes (a test
checks it when the installed versions equal the manifest's). The files are committed, so the
tests never depend on the generators.

Run: python tests/data/make_redaction_corpus.py [OUT_DIR]   (needs the dev extra: faker, mimesis, time-machine;
it re-runs itself with PYTHONHASHSEED=0 and a frozen clock, both of which the generators' output depends on)
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import platform
import random
import re
import string
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import faker
import mimesis
import phonenumbers
from faker import Faker
from mimesis.enums import CardType

try:
    import time_machine
except ImportError:  # pragma: no cover - a developer's machine without the dev extra
    sys.exit("make_redaction_corpus.py needs time-machine (pip install time-machine): generators read the clock")

SEED = 20261013
CLOCK = datetime(2026, 10, 13, tzinfo=timezone.utc)
"""The clock the generators see (several derive dates and national ids from "today")."""
HERE = Path(__file__).resolve().parent
CORPUS = "redaction_corpus.jsonl"
NEAR_MISSES = "redaction_near_misses.jsonl"
MANIFEST = "redaction_corpus_manifest.json"
BYTES = "$corpus.bytes"

FAKER_LOCALES = [
    "en_US", "en_GB", "fr_FR", "de_DE", "nl_NL", "es_ES", "it_IT", "pt_BR", "pl_PL", "ja_JP",
    "sv_SE", "da_DK", "fi_FI", "no_NO", "cs_CZ", "tr_TR", "ru_RU", "zh_CN", "ko_KR", "el_GR",
    "en_IN", "en_CA", "en_AU", "de_AT", "de_CH", "pt_PT", "ro_RO", "hu_HU", "he_IL", "uk_UA",
    "nl_BE", "es_MX",
]  # fmt: skip
MIMESIS_LOCALES = [
    "en", "en-gb", "fr", "de", "nl", "es", "it", "pt-br", "pl", "ja", "ru", "zh", "ko", "tr",
    "sv", "cs", "da", "fi", "el", "uk", "de-at", "de-ch", "en-au", "en-ca", "es-mx", "hu", "no",
    "nl-be", "pt",
]  # fmt: skip
RECORDS_PER_FAKER_LOCALE = 18
RECORDS_PER_MIMESIS_LOCALE = 14

# Kinds the shipped rule file claims (detectors and key rules), and those it does not.
TEXT_KINDS = ("email", "phone", "card", "iban", "ssn", "ipv4", "ipv6", "aws_access_key", "jwt")
KEY_KINDS = ("credential", "national_id", "phone_field", "birth_date")
NOT_COVERED = ("not_covered:name", "not_covered:address", "not_covered:national_id_text",
               "not_covered:national_id_other_key")  # fmt: skip

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
    return len(number) > 1 and luhn_digit(number[:-1]) == number[-1]


def iban_ok(iban: str) -> bool:
    """ISO 13616: the registered length of the country and mod-97 = 1."""
    compact = "".join(iban.split()).upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    return int("".join(str(int(char, 36)) for char in compact[4:] + compact[:4])) % 97 == 1


def iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


# ISO 13616 registry: BBAN structure per country (n digits, a upper-case letters, c alphanumerics).
IBAN_BBAN = {
    "AD": "4n4n12c", "AE": "3n16n", "AL": "8n16c", "AT": "5n11n", "AZ": "4a20c", "BA": "3n3n8n2n",
    "BE": "3n7n2n", "BG": "4a4n2n8c", "BH": "4a14c", "BR": "8n5n10n1a1c", "BY": "4c4n16c",
    "CH": "5n12c", "CR": "4n14n", "CY": "3n5n16c", "CZ": "4n6n10n", "DE": "8n10n", "DK": "4n9n1n",
    "DO": "4c20n", "EE": "2n2n11n1n", "EG": "4n4n17n", "ES": "4n4n1n1n10n", "FI": "3n11n",
    "FO": "4n9n1n", "FR": "5n5n11c2n", "GB": "4a6n8n", "GE": "2a16n", "GI": "4a15c", "GL": "4n9n1n",
    "GR": "3n4n16c", "GT": "4c20c", "HR": "7n10n", "HU": "3n4n1n15n1n", "IE": "4a6n8n",
    "IL": "3n3n13n", "IQ": "4a3n12n", "IS": "4n2n6n10n", "IT": "1a5n5n12c", "JO": "4a4n18c",
    "KW": "4a22c", "KZ": "3n13c", "LB": "4n20c", "LC": "4a24c", "LI": "5n12c", "LT": "5n11n",
    "LU": "3n13c", "LV": "4a13c", "LY": "3n3n15n", "MC": "5n5n11c2n", "MD": "2c18c", "ME": "3n13n2n",
    "MK": "3n10c2n", "MR": "5n5n11n2n", "MT": "4a5n18c", "MU": "4a2n2n12n3n3a", "NL": "4a10n",
    "NO": "4n6n1n", "PK": "4a16c", "PL": "8n16n", "PS": "4a21c", "PT": "4n4n11n2n", "QA": "4a21c",
    "RO": "4a16c", "RS": "3n13n2n", "SA": "2n18c", "SC": "4a2n2n16n3a", "SD": "2n12n",
    "SE": "3n16n1n", "SI": "5n8n2n", "SK": "4n6n10n", "SM": "1a5n5n12c", "ST": "4n4n11n2n",
    "SV": "4a20n", "TL": "3n14n2n", "TN": "2n3n13n2n", "TR": "5n1n16c", "UA": "6n19c", "VA": "3n15n",
    "VG": "4a16n", "XK": "4n10n2n",
}  # fmt: skip


def _bban_length(spec: str) -> int:
    total, number = 0, ""
    for char in spec:
        if char.isdigit():
            number += char
        else:
            total, number = total + int(number), ""
    return total


IBAN_LENGTHS = {country: 4 + _bban_length(spec) for country, spec in IBAN_BBAN.items()}


def make_iban(rng: random.Random, country: str) -> str:
    bban, number = "", ""
    for char in IBAN_BBAN[country]:
        if char.isdigit():
            number += char
            continue
        alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[char]
        bban += "".join(rng.choice(alphabet) for _ in range(int(number)))
        number = ""
    return country + iban_check(country, bban) + bban


def group4(text: str, sep: str = " ") -> str:
    return sep.join(text[i : i + 4] for i in range(0, len(text), 4))


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def card_number(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + digits(rng, length - len(prefix) - 1)
    return body + luhn_digit(body)


def make_aws_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_jwt(rng: random.Random, subject: str) -> str:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64url(json.dumps({"sub": subject, "iat": 1780000000 + rng.randint(0, 10**7)}).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


# -- sentences ({v} is the planted value) -------------------------------------------------------

TEMPLATES: dict[str, list[str]] = {
    "en": ["Please contact me at {v} tomorrow morning.", "Customer wrote: my details are {v}, thanks!",
           "Escalated ticket, caller gave {v} as reference."],
    "fr": ["Vous pouvez me joindre au {v} après 18h.", "Mes coordonnées : {v}."],
    "de": ["Bitte kontaktieren Sie mich unter {v}, danke.", "Meine Angaben: {v} (bitte vertraulich behandeln)."],
    "nl": ["U kunt mij bereiken via {v}, alvast bedankt.", "Mijn gegevens: {v}."],
    "es": ["Mi dato es {v} y vivo en Madrid.", "Puede escribirme a {v} cuando quiera."],
    "it": ["Il mio riferimento è {v}.", "Potete contattarmi al {v} in serata."],
    "pt": ["O meu contacto é {v}, obrigado.", "Meus dados: {v}."],
    "pl": ["Proszę o kontakt: {v}, dziękuję.", "Moje dane to {v}."],
    "ja": ["連絡先は{v}です。", "お客様の情報：{v}（至急対応）"],
    "ru": ["Мой номер {v}, звоните вечером.", "Данные клиента: {v}."],
    "uk": ["Мої дані: {v}, дякую.", "Зателефонуйте мені: {v}."],
    "zh": ["请通过{v}联系我。", "我的信息是 {v} ，谢谢"],
    "ko": ["고객 정보: {v} 입니다.", "연락처는 {v} 입니다."],
    "tr": ["Bana {v} üzerinden ulaşabilirsiniz.", "Bilgilerim: {v}."],
    "sv": ["Du når mig på {v} efter lunch.", "Mina uppgifter: {v}."],
    "da": ["Du kan kontakte mig på {v}.", "Mine oplysninger: {v}."],
    "no": ["Du kan nå meg på {v}.", "Mine opplysninger: {v}."],
    "fi": ["Voit tavoittaa minut: {v}.", "Tietoni: {v}, kiitos."],
    "cs": ["Kontaktujte mě prosím na {v}.", "Moje údaje: {v}."],
    "el": ["Λεπτομέρειες: {v}.", "Επικοινωνήστε μαζί μου στο {v}."],
    "he": ["פרטים: {v} תודה", "אפשר לפנות אליי ב-{v}"],
    "hu": ["Elérhetőségem: {v}, köszönöm.", "Adataim: {v}."],
    "ro": ["Mă puteți contacta la {v}.", "Datele mele: {v}."],
    "hi": ["कृपया मुझे {v} पर संपर्क करें।"],
}  # fmt: skip
SHAPES = [
    "{v}", "Ref: {v}", "line1\n\tcontact:\t{v}\nline3", '{{"embedded_json": "{v}"}}', "<p>Contact: <b>{v}</b></p>",
    "Contact <{v}>", "[{v}]", "id={v}&next=/home", "{v}, {v2}",
]  # fmt: skip


REGIONS = {
    "en_US": "US", "en_GB": "GB", "fr_FR": "FR", "de_DE": "DE", "nl_NL": "NL", "es_ES": "ES", "it_IT": "IT",
    "pt_BR": "BR", "pl_PL": "PL", "ja_JP": "JP", "sv_SE": "SE", "da_DK": "DK", "fi_FI": "FI", "no_NO": "NO",
    "cs_CZ": "CZ", "tr_TR": "TR", "ru_RU": "RU", "zh_CN": "CN", "ko_KR": "KR", "el_GR": "GR", "en_IN": "IN",
    "en_CA": "CA", "en_AU": "AU", "de_AT": "AT", "de_CH": "CH", "pt_PT": "PT", "ro_RO": "RO", "hu_HU": "HU",
    "he_IL": "IL", "uk_UA": "UA", "nl_BE": "BE", "es_MX": "MX",
    "en": "US", "en-gb": "GB", "fr": "FR", "de": "DE", "nl": "NL", "es": "ES", "it": "IT", "pt-br": "BR",
    "pl": "PL", "ja": "JP", "ru": "RU", "zh": "CN", "ko": "KR", "tr": "TR", "sv": "SE", "cs": "CZ", "da": "DK",
    "fi": "FI", "el": "GR", "uk": "UA", "de-at": "AT", "de-ch": "CH", "en-au": "AU", "en-ca": "CA",
    "es-mx": "MX", "hu": "HU", "no": "NO", "nl-be": "BE", "pt": "PT",
}  # fmt: skip
HAND_REGIONS = ["US", "GB", "FR", "DE", "NL", "RU", "BR", "JP", "PT", "HU", "TR"]


def phone_number_kind(value: str, regions: list[str]) -> str:
    """What libphonenumber makes of *value* in the first region that parses it best: valid, possible or invalid.

    Recorded so that leaks can be told apart by whether the number exists in the numbering plan.
    """
    best = "invalid"
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return "valid"
        if phonenumbers.is_possible_number(number):
            best = "possible"
    return best


def language(locale: str) -> str:
    lang = locale.replace("-", "_").split("_")[0]
    return lang if lang in TEMPLATES else "en"


# -- one generator per source -------------------------------------------------------------------

MIMESIS_CARD_TYPES = [CardType.VISA, CardType.MASTER_CARD, CardType.AMERICAN_EXPRESS]
CREDENTIAL_KEYS = ["password", "passwd", "pwd", "pass", "secret", "client_secret", "api_key", "apiKey", "X-Api-Key",
                   "access_token", "accessToken", "refresh_token", "authorization", "cookie", "private_key",
                   "credentials", "secret_key", "access_key_id", "db.password", "passphrase"]  # fmt: skip
NATIONAL_ID_KEYS = ["ssn", "customer_ssn", "national_id", "nino", "passport_number", "tax_id", "social_security_number",
                    "customer.national_id"]  # fmt: skip
OTHER_ID_KEYS = {"fr": "nir", "nl": "bsn", "it": "codice_fiscale", "pt": "cpf", "pl": "pesel", "sv": "personnummer",
                 "fi": "henkilotunnus", "no": "fodselsnummer", "da": "cpr", "es": "dni", "ko": "rrn",
                 "zh": "shenfenzheng", "ro": "cnp", "de": "steuer_id", "el": "amka", "cs": "rodne_cislo",
                 "tr": "tc_kimlik", "uk": "ipn", "hu": "taj", "he": "teudat_zehut", "ru": "snils", "en": "sin",
                 "ja": "my_number"}  # fmt: skip
PHONE_KEYS = ["phone", "phone_number", "phoneNumber", "mobile", "mobile_number", "telephone", "tel", "fax", "msisdn",
              "customer.phone"]  # fmt: skip
BIRTH_KEYS = ["dob", "date_of_birth", "birth_date", "birthdate", "birthday", "birthDate", "customer.dob"]
DATE_FORMATS = {"en": "%m/%d/%Y", "de": "%d.%m.%Y", "fr": "%d/%m/%Y", "ja": "%Y年%m月%d日", "nl": "%d-%m-%Y",
                "hu": "%Y.%m.%d.", "zh": "%Y/%m/%d"}  # fmt: skip


class Source:
    """Values of every kind from one generator in one locale, as that generator writes them."""

    name: str
    locale: str
    rng: random.Random

    def value(self, kind: str) -> tuple[str, str]:
        """(value, variant) of *kind*."""
        return getattr(self, kind.replace("not_covered:", "nc_"))()

    def sentence(self) -> str:
        raise NotImplementedError

    # kinds this script makes for every source
    def iban(self) -> tuple[str, str]:
        country = self.rng.choice(sorted(IBAN_BBAN))
        return make_iban(self.rng, country), f"registry:{country}"

    def aws_access_key(self) -> tuple[str, str]:
        return make_aws_key(self.rng), "akia"

    def jwt(self) -> tuple[str, str]:
        return make_jwt(self.rng, self.email()[0]), "hs256"

    def ssn(self) -> tuple[str, str]:
        value = US_FAKER.ssn()
        return value, "faker:en_US"

    def birth_date(self) -> tuple[str, str]:
        born = self.born()
        fmt = DATE_FORMATS.get(language(self.locale), "%Y-%m-%d") if self.rng.random() < 0.5 else "%Y-%m-%d"
        return born.strftime(fmt), fmt

    def born(self) -> date:
        raise NotImplementedError

    def email(self) -> tuple[str, str]:
        raise NotImplementedError


US_FAKER = Faker("en_US")
US_FAKER.seed_instance(SEED + 1)


class FakerSource(Source):
    def __init__(self, locale: str, seed: int) -> None:
        self.name, self.locale = "faker", locale
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed * 31 + 7)  # never a generator's seed: their digits would repeat in ours
        provider = next(p for p in self.fake.providers if hasattr(p, "credit_card_types"))
        types = list(provider.credit_card_types)  # every brand and length of the locale's provider
        start = self.rng.randrange(len(types))  # each locale starts elsewhere, so every type is reached
        self.card_types = types[start:] + types[:start]
        self._cards = iter(self._card_cycle())

    def _card_cycle(self) -> Iterator[str]:
        while True:
            yield from self.card_types

    def sentence(self) -> str:
        return self.fake.sentence()

    def email(self) -> tuple[str, str]:
        method = self.rng.choice(["email", "free_email", "company_email", "safe_email"])
        return getattr(self.fake, method)(), method

    def phone(self) -> tuple[str, str]:
        return self.fake.phone_number(), "phone_number"

    def card(self) -> tuple[str, str]:
        card_type = next(self._cards)
        return self.fake.credit_card_number(card_type), card_type

    def iban(self) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            for _ in range(5):
                value = self.fake.iban()
                if iban_ok(value):  # Faker falls back to GB (or makes non-registry IBANs) in some locales
                    return value, f"faker:{value[:2]}"
        return super().iban()

    def ipv4(self) -> tuple[str, str]:
        method = self.rng.choice(["ipv4", "ipv4_public", "ipv4_private"])
        return getattr(self.fake, method)(), method

    def ipv6(self) -> tuple[str, str]:
        return self.fake.ipv6(), "ipv6"

    def credential(self) -> tuple[str, str]:
        return self.fake.password(length=self.rng.randint(8, 20)), "password"

    def national_id(self) -> tuple[str, str]:
        return self.fake.ssn(), f"ssn:{self.locale}"

    def phone_field(self) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            return self.fake.msisdn(), "msisdn"
        return "".join(char for char in self.fake.phone_number() if char.isdigit()), "phone_digits"

    def born(self) -> date:
        return self.fake.date_between_dates(date(1936, 1, 1), date(2007, 12, 31))

    def nc_name(self) -> tuple[str, str]:
        return self.fake.name(), "name"

    def nc_address(self) -> tuple[str, str]:
        return self.fake.address().replace("\n", ", "), "address"

    def nc_national_id_text(self) -> tuple[str, str]:
        return self.fake.ssn(), f"ssn:{self.locale}"

    def nc_national_id_other_key(self) -> tuple[str, str]:
        return self.fake.ssn(), f"ssn:{self.locale}"


class MimesisSource(Source):
    def __init__(self, locale: str, seed: int) -> None:
        self.name, self.locale = "mimesis", locale
        self.rng = random.Random(seed * 31 + 7)  # never a generator's seed: their digits would repeat in ours
        self.person = mimesis.Person(locale, seed=seed + 1)
        self.payment = mimesis.Payment(seed=seed + 2)
        self.internet = mimesis.Internet(seed=seed + 3)
        self.text = mimesis.Text(locale, seed=seed + 4)
        self.address = mimesis.Address(locale, seed=seed + 5)
        self.crypto = mimesis.Cryptographic(seed=seed + 6)
        self._cards = iter(self._card_cycle())

    def _card_cycle(self) -> Iterator[CardType]:
        while True:
            yield from MIMESIS_CARD_TYPES

    def sentence(self) -> str:
        return self.text.sentence()

    def email(self) -> tuple[str, str]:
        return self.person.email(), "email"

    def phone(self) -> tuple[str, str]:
        return self.person.phone_number(), "phone_number"

    def card(self) -> tuple[str, str]:
        card_type = next(self._cards)
        return self.payment.credit_card_number(card_type), card_type.name.lower()

    def ipv4(self) -> tuple[str, str]:
        return self.internet.ip_v4(), "ip_v4"

    def ipv6(self) -> tuple[str, str]:
        return self.internet.ip_v6(), "ip_v6"

    def jwt(self) -> tuple[str, str]:
        claims = {
            "sub": self.person.email(),
            "name": self.person.full_name(),
            "iat": 1780000000 + self.rng.randint(0, 10**7),
        }
        return self.crypto.jwt(payload=claims), "mimesis_jwt"

    def credential(self) -> tuple[str, str]:
        return self.person.password(length=self.rng.randint(8, 20)), "password"

    def national_id(self) -> tuple[str, str]:
        # mimesis has no national ids: its generic masked identifier stands in for one
        return self.person.identifier(mask=self.rng.choice(["###-##-####", "##-######-#", "@@######"])), "identifier"

    def phone_field(self) -> tuple[str, str]:
        return "".join(char for char in self.person.phone_number() if char.isdigit()), "phone_digits"

    def born(self) -> date:
        return self.person.birthdate(min_year=1935, max_year=2007)

    def nc_name(self) -> tuple[str, str]:
        return self.person.full_name(), "full_name"

    def nc_address(self) -> tuple[str, str]:
        return f"{self.address.address()}, {self.address.postal_code()} {self.address.city()}", "address"

    def nc_national_id_text(self) -> tuple[str, str]:
        return self.national_id()

    def nc_national_id_other_key(self) -> tuple[str, str]:
        return self.national_id()


# -- placing values -----------------------------------------------------------------------------

TEXT_PLACES = ["input.sentence", "input.bare", "input.list", "input.split", "input.key", "input.int", "input.bytes",
               "output.string", "output.label", "output.nested", "output.list", "attribute.sentence",
               "attribute.bare", "attribute.list"]  # fmt: skip
KEY_PLACES = ["input.key_rule", "input.key_rule_deep", "output.key_rule", "attribute.key_rule", "input.key_rule_int",
              "input.key_rule_list"]  # fmt: skip
SPLITTABLE = {"email", "phone", "card", "iban", "ssn"}
MAX_SAFE = 2**53 - 1


def split_value(value: str, kind: str) -> list[str]:
    """*value* cut into list items whose concatenation is the value (separators stay attached)."""
    if kind == "email":
        local, _, domain = value.partition("@")
        return [local, "@" + domain]
    parts, current = [], ""
    for char in value:
        current += char
        if char in " -./()" and current.strip(" -./()"):
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    if len(parts) == 1:
        parts = [value[i : i + 4] for i in range(0, len(value), 4)]
    return parts


class RecordBuilder:
    """One record: a realistic input/output/attribute skeleton that values are planted into."""

    def __init__(self, rng: random.Random, record_id: str, source: Source) -> None:
        self.rng, self.source = rng, source
        self.input: dict[str, Any] = {
            "features": {name: round(rng.uniform(-3, 3), 4) for name in rng.sample(FEATURES, 4)},
            "order_id": f"ORD-{rng.randint(2020, 2026)}-{rng.randint(0, 999999):06d}",
            "created_at": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T1{rng.randint(0, 9)}:30:00Z",
            "max_tokens": rng.choice([256, 512, 1024]),
            "tags": rng.sample(["retail", "eu", "mobile", "web", "priority", "returning"], 2),
        }
        self.output: Any = {"score": round(rng.random(), 4), "decision": rng.choice(["approve", "review", "deny"])}
        self.attributes: dict[str, Any] = {"app.channel": rng.choice(["web", "ios", "android", "batch"])}
        self.record_id = record_id
        self.planted: list[dict[str, Any]] = []
        self.output_is_string = False

    def text(self, value: str) -> str:
        lang = language(self.source.locale)
        if self.rng.random() < 0.25:
            shaped = self.rng.choice(SHAPES)
            return shaped.format(v=value, v2=self.rng.choice(["n/a", "see above", "—"]))
        around = self.source.sentence() if self.rng.random() < 0.6 else ""
        sentence = self.rng.choice(TEMPLATES[lang]).format(v=value)
        return f"{around} {sentence}".strip() if self.rng.random() < 0.5 else f"{sentence} {around}".strip()

    def note(self, **fields: Any) -> None:
        if fields["kind"] in ("phone", "phone_field"):
            fields["number"] = phone_number_kind(fields["value"], [REGIONS.get(self.source.locale, "US")])
        self.planted.append(fields)

    def plant(self, kind: str, value: str, variant: str, source: str) -> None:  # noqa: PLR0912 - one branch per place
        rng = self.rng
        base = {"kind": kind, "value": value, "variant": variant, "source": source}
        if kind in KEY_KINDS or kind == "not_covered:national_id_other_key":
            self.plant_under_key(kind, value, base)
            return
        places = list(TEXT_PLACES)
        if kind not in SPLITTABLE:
            places.remove("input.split")
        digits_only = "".join(char for char in value if char.isdigit())
        # SSNs as bare digits are claimed only under a national_id key (their key-rule form, planted apart)
        as_int = kind in ("card", "phone") and digits_only and digits_only[0] != "0" and len(digits_only) <= 19
        if not as_int or any(char.isalpha() for char in value):  # an extension glued on is no longer the number
            places.remove("input.int")
        if self.output_is_string or not isinstance(self.output, dict):
            places = [place for place in places if not place.startswith("output.")]
        place = rng.choice(places)
        if place == "input.sentence":
            written = self.text(value)
            self.input.setdefault("notes", []).append(written)
            path = f"input.notes[{len(self.input['notes']) - 1}]"
        elif place == "input.bare":
            container, path = self.nest(self.input, "input", rng.randint(1, 4))
            field = rng.choice(["contact", "value", "field_7", "customer_ref", "remark", "details"])
            container[field] = written = value
            path += f".{field}"
        elif place == "input.list":
            written = self.text(value)
            history = self.input.setdefault("history", [])
            history.append({"t": rng.randint(1, 99), "events": ["login", written, "logout"]})
            path = f"input.history[{len(history) - 1}].events[1]"
        elif place == "input.split":
            parts = split_value(value, kind)
            self.input.setdefault("fragments", []).append(parts)
            written = "|".join(parts)
            path = f"input.fragments[{len(self.input['fragments']) - 1}]"
        elif place == "input.key":
            self.input.setdefault("contacts", {})[value] = rng.choice(["primary", "secondary", "billing"])
            written, path = value, "input.contacts{key}"
        elif place == "input.int":
            number = int(digits_only)
            self.input.setdefault("numbers", []).append(number)
            written, path = str(number), f"input.numbers[{len(self.input['numbers']) - 1}]"
        elif place == "input.bytes":
            written = self.text(value)
            self.input.setdefault("attachments", []).append({BYTES: written})
            path = f"input.attachments[{len(self.input['attachments']) - 1}]"
        elif place == "output.string":
            written = self.output = self.text(value)
            self.output_is_string = True
            path = "output"
        elif place == "output.label":
            key = rng.choice(["label", "prediction", "class"])
            self.output[key] = written = value
            path = f"output.{key}"
        elif place == "output.nested":
            written = self.text(value)
            self.output.setdefault("reply", {})["text"] = written
            path = "output.reply.text"
        elif place == "output.list":
            self.output.setdefault("candidates", []).append(value)
            written, path = value, "output.candidates[]"
        elif place == "attribute.sentence":
            key = f"app.note_{len(self.attributes)}"
            self.attributes[key] = written = self.text(value)
            path = f"attributes.{key}"
        elif place == "attribute.bare":
            key = f"app.customer_ref_{len(self.attributes)}"
            self.attributes[key] = written = value
            path = f"attributes.{key}"
        else:  # attribute.list
            key = f"app.refs_{len(self.attributes)}"
            self.attributes[key] = [rng.choice(["n/a", "ok"]), value]
            written, path = value, f"attributes.{key}[1]"
        self.note(**base, written=written, place=place, path=path)

    def plant_under_key(self, kind: str, value: str, base: dict[str, Any]) -> None:
        rng = self.rng
        if kind == "not_covered:national_id_other_key":
            key = OTHER_ID_KEYS.get(language(self.source.locale), "personal_number")
        else:
            key = rng.choice(
                {
                    "credential": CREDENTIAL_KEYS,
                    "national_id": NATIONAL_ID_KEYS,
                    "phone_field": PHONE_KEYS,
                    "birth_date": BIRTH_KEYS,
                }[kind]
            )
        places = list(KEY_PLACES)
        digits_only = value.isdigit() and value[0] != "0" and int(value) <= MAX_SAFE
        if not digits_only:
            places.remove("input.key_rule_int")
        if not isinstance(self.output, dict):
            places.remove("output.key_rule")
        place = rng.choice(places)
        stored: Any = value
        if place == "input.key_rule":
            container, path = self.input.setdefault("customer", {}), "input.customer"
        elif place == "input.key_rule_deep":
            container, path = self.nest(self.input, "input", rng.randint(2, 6))
        elif place == "output.key_rule":
            container, path = self.output.setdefault("profile", {}), "output.profile"
        elif place == "attribute.key_rule":
            key = key if "." in key else f"app.{key}"
            container, path = self.attributes, "attributes"
        elif place == "input.key_rule_int":
            container, path = self.input.setdefault("customer", {}), "input.customer"
            stored = int(value)
        else:
            container, path = self.input.setdefault("customer", {}), "input.customer"
            stored = [value]
        if key in container:
            key = f"{key}_{len(container)}" if kind == "credential" else key
        container[key] = stored
        self.note(**base, written=str(value), place=place, path=f"{path}.{key}")

    def nest(self, root: dict[str, Any], path: str, depth: int) -> tuple[dict[str, Any], str]:
        container = root
        for level in range(depth):
            name = f"level{level}"
            container = container.setdefault(name, {})
            path += f".{name}"
        return container, path

    def record(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "source": f"{self.source.name}:{self.source.locale}",
            "input": self.input,
            "output": self.output,
            "attributes": self.attributes,
            "planted": self.planted,
        }


FEATURES = ["age_bucket", "income_band", "tenure_months", "score", "hour_sin", "hour_cos", "segment"]
# Each record gets 3-4 consecutive entries of this cycle: every kind in every locale of both generators.
KIND_CYCLE = [
    "email", "phone", "card", "iban", "ipv4", "credential", "phone", "email", "ipv6", "national_id", "card", "ssn",
    "phone_field", "birth_date", "email", "phone", "jwt", "iban", "aws_access_key", "card", "not_covered:name",
    "not_covered:address", "not_covered:national_id_text", "not_covered:national_id_other_key",
]  # fmt: skip


US_SSN = re.compile(r"(?!000|666|9)[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}")


def generated_records() -> list[dict[str, Any]]:
    records = []
    sources: list[tuple[Source, int]] = [
        (FakerSource(locale, SEED + 100 + index), RECORDS_PER_FAKER_LOCALE)
        for index, locale in enumerate(FAKER_LOCALES)
    ]
    sources += [
        (MimesisSource(locale, SEED + 1000 + 10 * index), RECORDS_PER_MIMESIS_LOCALE)
        for index, locale in enumerate(MIMESIS_LOCALES)
    ]
    for index, (source, count) in enumerate(sources):
        rng = random.Random(SEED * 7 + index)
        position = rng.randrange(len(KIND_CYCLE))
        for number in range(count):
            builder = RecordBuilder(rng, f"{source.name}-{source.locale}-{number:03d}", source)
            for _ in range(rng.choice([3, 3, 4])):
                kind = KIND_CYCLE[position % len(KIND_CYCLE)]
                position += 1
                value, variant = source.value(kind)
                origin = "otel-audit" if variant.startswith(("registry:", "akia", "hs256")) else source.name
                origin = "faker:en_US" if kind == "ssn" else f"{origin}:{source.locale}"
                if kind == "not_covered:national_id_text" and US_SSN.fullmatch(value):
                    kind = "ssn"  # locales without national ids fall back to Faker's US SSN, which the rules cover
                builder.plant(kind, value, variant, origin)
            records.append(builder.record())
    return records


# -- hand-written hard cases: every reported leak ----------------------------------------------


def hard_cases(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def case(
        name: str,
        input_: Any,
        output: Any = None,
        attributes: dict[str, Any] | None = None,
        planted: tuple[tuple[str, str, str, str], ...] | list[tuple[str, str, str, str]] = (),
    ) -> None:
        out.append(
            {
                "id": f"hard-{len(out):03d}-{name}",
                "source": "hand",
                "input": input_,
                "output": output if output is not None else {"decision": "review"},
                "attributes": attributes or {},
                "planted": [
                    {
                        "kind": kind,
                        "value": value,
                        "written": written,
                        "variant": variant,
                        "source": "hand",
                        "place": name,
                        "path": name,
                        **({"number": phone_number_kind(value, HAND_REGIONS)} if kind == "phone" else {}),
                    }
                    for kind, value, written, variant in planted
                ],
            }
        )

    # Cards the issue found leaking, and every length 12-19, with every separator.
    brands = [
        ("visa13", "4", 13),
        ("jcb15_2131", "2131", 15),
        ("jcb15_1800", "1800", 15),
        ("jcb16", "35", 16),
        ("maestro12_6304", "6304", 12),
        ("maestro12_6763", "6763", 12),
        ("maestro13_6759", "6759", 13),
        ("maestro15_5018", "5018", 15),
        ("maestro17_6761", "6761", 17),
        ("maestro18_5020", "5020", 18),
        ("maestro19_6762", "6762", 19),
        ("diners14_300", "300", 14),
        ("diners14_36", "36", 14),
        ("amex15", "37", 15),
        ("mastercard2_16", "2720", 16),
        ("discover16", "6011", 16),
        ("discover19", "6011", 19),
        ("unionpay17", "62", 17),
        ("unionpay19", "62", 19),
        ("mir16", "2200", 16),
        ("visa19", "4", 19),
        ("jcb19", "3528", 19),
        ("mir19", "2204", 19),
        ("unionpay18", "62", 18),
    ]
    for variant, prefix, length in brands:
        number = card_number(rng, prefix, length)
        for separator, sep in (("none", ""), ("space", " "), ("dash", "-"), ("dot", ".")):
            written = group4(number, sep) if sep else number
            case(
                f"card-{separator}",
                {"payment": {"note": f"Paid with {written} yesterday"}},
                planted=[("card", number, written, f"{variant}:{separator}")],
            )
    number = card_number(rng, "4", 16)
    case("card-as-int", {"amount": 12.5, "pan_int": int(number)}, planted=[("card", number, number, "visa16:int")])
    number = card_number(rng, "5", 16)
    case(
        "card-split-strings",
        {"pan_parts": [number[i : i + 4] for i in range(0, 16, 4)]},
        planted=[("card", number, group4(number, "|"), "split:strings")],
    )
    number = card_number(rng, "4", 16)
    case(
        "card-split-ints",
        {"pan_parts": [int(number[i : i + 4]) for i in range(0, 16, 4)]},
        planted=[("card", number, group4(number, "|"), "split:ints")],
    )
    number = card_number(rng, "4", 16)
    case(
        "card-in-url",
        {"url": f"https://shop.example.com/pay?card={number}&cvv=123"},
        planted=[("card", number, number, "url_query")],
    )
    number = card_number(rng, "37", 15)
    case(
        "card-amex-dotted",
        {"note": f"AMEX {number[:4]}.{number[4:10]}.{number[10:]}"},
        planted=[("card", number, f"{number[:4]}.{number[4:10]}.{number[10:]}", "amex:dot_4_6_5")],
    )
    number = card_number(rng, "6304", 12)
    case(
        "card-maestro-output-label",
        {"q": "which card?"},
        number,
        planted=[("card", number, number, "maestro12:output_string")],
    )

    # Phones the issue found leaking (verbatim), in text, bare, in outputs and in attributes.
    for value in [
        "9119530005",
        "902-742-4270x965",
        "0456959493",
        "(00115) 300059",
        "(062)-0197218",
        "01314960855",
        "+(31) 63822-0278",
        "+1-545-880-7302x157",
        "001-612-799-7220x03322",
        "+44 20 7946 0958 ext. 123",
        "(028) 9018 0458",
        "+44113 4960730",
        "+33 (0)5 08 73 68 19",
        "+49 (0) 6212 997220",
        "(04580) 730215",
        "0580-730 2157",
        "458.073.0215x7368",
        "+7-(933)-660-08-22",
        "+55 (94) 8461-6857",
        "090-5807-3021",
        "(351) 925807302",
        "45/807 3021",
    ]:
        case(
            "phone-text",
            {"message": f"Call me back on {value} please"},
            planted=[("phone", value, value, "issue_finding")],
        )
        case("phone-bare", {"customer": {"contact": value}}, planted=[("phone", value, value, "issue_finding")])
        case(
            "phone-output",
            {"q": "callback number?"},
            value,
            planted=[("phone", value, value, "issue_finding:output_string")],
        )
        case(
            "phone-attribute",
            {"q": "x"},
            attributes={"app.callback": value},
            planted=[("phone", value, value, "issue_finding:attribute")],
        )
    case("phone-as-int", {"callback": 9119530005}, planted=[("phone", "9119530005", "9119530005", "int")])
    case(
        "phone-split",
        {"parts": ["+44", "20", "7946", "0958"]},
        planted=[("phone", "+44 20 7946 0958", "+44|20|7946|0958", "split")],
    )

    # E-mails: encoded, escaped, full-width, in outputs and labels, as keys, split.
    email = "ann.lee@example.org"
    encodings = [
        ("url_encoded", "ann.lee%40example.org"),
        ("url_encoded_query", "/login?user=ann.lee%40example.org&next=%2F"),
        ("url_encoded_all", "ann%2Elee%40example%2Eorg"),
        ("html_decimal", "ann.lee&#64;example.org"),
        ("html_hex", "ann.lee&#x40;example.org"),
        ("html_named", "ann.lee&commat;example.org"),
        ("fullwidth_at", "ann.lee＠example.org"),
        ("fullwidth_all", "ａｎｎ．ｌｅｅ＠ｅｘａｍｐｌｅ．ｏｒｇ"),
        ("small_commercial_at", "ann.lee﹫example.org"),
        ("json_escaped", "ann.lee\\u0040example.org"),
        ("json_document", '{"email": "ann.lee\\u0040example.org"}'),
        ("mailto", "mailto:ann.lee@example.org"),
        ("html_link", '<a href="mailto:ann.lee@example.org">write</a>'),
        ("upper", "ANN.LEE@EXAMPLE.ORG"),
    ]
    for variant, written in encodings:
        case(f"email-{variant}", {"message": f"reach me: {written}"}, planted=[("email", email, written, variant)])
        case(
            f"email-{variant}-output",
            {"q": "contact?"},
            f"Contact {written}",
            planted=[("email", email, written, f"{variant}:output_string")],
        )
    for key in ("label", "prediction", "class", "decision"):
        case(
            f"email-output-{key}",
            {"q": "who?"},
            {key: "bob.smith@example.com"},
            planted=[("email", "bob.smith@example.com", "bob.smith@example.com", f"output_{key}")],
        )
    case(
        "email-output-string",
        {"q": "who?"},
        "carol.jones@example.net",
        planted=[("email", "carol.jones@example.net", "carol.jones@example.net", "output_string_label")],
    )
    case(
        "email-key",
        {"contacts": {"dave@example.com": "primary"}},
        planted=[("email", "dave@example.com", "dave@example.com", "map_key")],
    )
    case(
        "email-split",
        {"parts": ["erin.white", "@example.org"]},
        planted=[("email", "erin.white@example.org", "erin.white|@example.org", "split")],
    )
    case(
        "email-bytes",
        {"attachment": {BYTES: "From: frank@example.org\r\nSubject: refund"}},
        planted=[("email", "frank@example.org", "From: frank@example.org", "bytes")],
    )
    case(
        "email-bytes-output",
        {"q": "x"},
        {BYTES: "reply to grace@example.org"},
        planted=[("email", "grace@example.org", "reply to grace@example.org", "bytes_output")],
    )
    case(
        "email-idn",
        {"note": "иван.петров@пример.рф"},
        planted=[("email", "иван.петров@пример.рф", "иван.петров@пример.рф", "idn")],
    )

    # Credential keys: missing names, and keys written to slip past a regex.
    odd_keys = [
        ("pwd", "pwd"),
        ("pass", "pass"),
        ("credentials", "credentials"),
        ("secret_key", "secret_key"),
        ("access_key_id", "access_key_id"),
        ("trailing_space", "password "),
        ("leading_space", " password"),
        ("zero_width_space", "pass\u200bword"),
        ("zero_width_joiner", "pass\u200dword"),
        ("soft_hyphen", "pass\u00adword"),
        ("cyrillic_a", "p\u0430ssword"),
        ("greek_omicron", "t\u03bfken"),
        ("fullwidth", "ｐａｓｓｗｏｒｄ"),
        ("upper", "PASSWORD"),
        ("mixed", "PassWord"),
        ("dash", "api-key"),
        ("header", "X-Api-Key"),
        ("camel", "secretKey"),
        ("aws", "aws_secret_access_key"),
        ("client_secret_fullwidth", "client_ｓｅｃｒｅｔ"),
    ]
    for variant, key in odd_keys:
        secret = "s3cr3t-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
        case(
            f"credential-key-{variant}",
            {"auth": {key: secret, "user": "svc"}},
            planted=[("credential", secret, secret, f"key:{variant}")],
        )
        secret = "s3cr3t-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
        case(
            f"credential-attribute-{variant}",
            {"q": "x"},
            attributes={f"app.{key}": secret},
            planted=[("credential", secret, secret, f"attribute_key:{variant}")],
        )

    # Client-set allow-listed attributes carrying raw PII.
    case(
        "allowlisted-redaction-count",
        {"q": "x"},
        attributes={"audit.redaction.count": "call +44 20 7946 0958", "audit.redaction.email": "hank@example.org"},
        planted=[
            ("phone", "+44 20 7946 0958", "+44 20 7946 0958", "audit.redaction.count"),
            ("email", "hank@example.org", "hank@example.org", "audit.redaction.email"),
        ],
    )
    number = card_number(rng, "4", 16)
    case(
        "allowlisted-redaction-custom",
        {"q": "x"},
        attributes={"audit.redaction.note": f"card {number}"},
        planted=[("card", number, number, "audit.redaction.note")],
    )
    case(
        "allowlisted-output-label",
        {"q": "x"},
        {"score": 0.9},
        attributes={"audit.output.label": "ivy@example.org"},
        planted=[("email", "ivy@example.org", "ivy@example.org", "audit.output.label")],
    )
    iban = make_iban(rng, "DE")
    case(
        "allowlisted-redaction-iban",
        {"q": "x"},
        attributes={"audit.redaction.iban": iban},
        planted=[("iban", iban, iban, "audit.redaction.iban")],
    )

    # IBANs: glued, lower case, split, as key, in output label.
    iban = make_iban(rng, "FR")
    case("iban-glued", {"note": f"IBAN:{iban}"}, planted=[("iban", iban, f"IBAN:{iban}", "glued")])
    iban = make_iban(rng, "NL")
    case("iban-lower-grouped", {"note": group4(iban.lower())}, planted=[("iban", iban, group4(iban.lower()), "lower")])
    iban = make_iban(rng, "GB")
    case(
        "iban-split",
        {"parts": [iban[i : i + 4] for i in range(0, len(iban), 4)]},
        planted=[("iban", iban, group4(iban, "|"), "split")],
    )
    iban = make_iban(rng, "IT")
    case("iban-key", {"accounts": {iban: "main"}}, planted=[("iban", iban, iban, "map_key")])
    iban = make_iban(rng, "ES")
    case("iban-output", {"q": "account?"}, iban, planted=[("iban", iban, iban, "output_string_label")])
    iban = make_iban(rng, "PL")
    case("iban-dashes", {"note": group4(iban, "-")}, planted=[("iban", iban, group4(iban, "-"), "dash")])

    # bytes carrying several kinds at once
    number = card_number(rng, "4", 16)
    case(
        "bytes-mixed",
        {"blob": {BYTES: f"name=Jo&email=jo@example.org&card={number}&tel=+33 6 12 34 56 78"}},
        planted=[
            ("email", "jo@example.org", "jo@example.org", "bytes"),
            ("card", number, number, "bytes"),
            ("phone", "+33 6 12 34 56 78", "+33 6 12 34 56 78", "bytes"),
        ],
    )
    case(
        "bytes-json",
        {"blob": {BYTES: json.dumps({"ssn": "123-45-6789", "ip": "203.0.113.7"})}},
        planted=[
            ("ssn", "123-45-6789", "123-45-6789", "bytes_json"),
            ("ipv4", "203.0.113.7", "203.0.113.7", "bytes_json"),
        ],
    )
    return out


# -- near misses ----------------------------------------------------------------------------------


def luhn_failing(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + digits(rng, length - len(prefix) - 1)
    good = luhn_digit(body)
    return body + rng.choice([d for d in string.digits if d != good])


def bad_iban(rng: random.Random, good: str) -> str:
    while True:
        position = rng.choice([2, 3, *range(4, len(good))])
        alphabet = string.digits if good[position].isdigit() else string.ascii_uppercase
        bad = good[:position] + rng.choice(alphabet) + good[position + 1 :]
        if not iban_ok(bad):
            return bad


def near_misses(rng: random.Random) -> list[dict[str, Any]]:  # noqa: PLR0912 - one flat table of categories
    out: list[dict[str, Any]] = []
    fakers = {}
    for index, locale in enumerate(FAKER_LOCALES):
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(SEED + 5000 + index)
    mims = {locale: mimesis.Generic(locale, seed=SEED + 6000 + index) for index, locale in enumerate(MIMESIS_LOCALES)}

    def add(category: str, value: Any, source: str) -> None:
        out.append({"category": category, "value": value, "source": source})

    def fake() -> tuple[Faker, str]:
        locale = rng.choice(FAKER_LOCALES)
        return fakers[locale], f"faker:{locale}"

    def mim() -> tuple[Any, str]:
        locale = rng.choice(MIMESIS_LOCALES)
        return mims[locale], f"mimesis:{locale}"

    for _ in range(40):
        prefix = rng.choice(["4", "51", "55", "37", "6011", "35", "2131", "6304", "62"])
        number = luhn_failing(rng, prefix, rng.choice([12, 13, 14, 15, 16, 17, 18, 19]))
        sep = rng.choice(["", " ", "-", "."])
        shown = group4(number, sep) if sep else number
        add(
            "invoice_failing_luhn",
            rng.choice([f"Invoice {shown}", f"INV {shown}", shown, f"Rechnung Nr. {shown}"]),
            "otel-audit",
        )
    for _ in range(20):
        add(
            "integer_failing_luhn",
            int(luhn_failing(rng, rng.choice(["4", "51", "6011", "35"]), rng.choice([13, 14, 15]))),
            "otel-audit",
        )
    for _ in range(40):
        if rng.random() < 0.5:
            good, source = make_iban(rng, rng.choice(sorted(IBAN_BBAN))), "otel-audit"
        else:
            f, source = fake()
            good = f.iban()
            if not iban_ok(good):
                good, source = make_iban(rng, "DE"), "otel-audit"
        bad = bad_iban(rng, good)
        add(
            "iban_bad_check_digits",
            rng.choice(["IBAN ", "Konto: ", ""]) + (group4(bad) if rng.random() < 0.5 else bad),
            source,
        )
    for _ in range(40):
        f, source = fake()
        add(
            "order_number",
            rng.choice(
                [
                    f"ORD-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}",
                    f"PO-{rng.randint(4500000000, 4599999999)}",
                    f"SO{rng.randint(100000000, 999999999)}",
                    f"#A{rng.randint(10000, 99999)}-{rng.choice(string.ascii_uppercase)}",
                    f"订单号：{rng.randint(1000000000, 1999999999)}",
                    f"Bestellnummer {rng.randint(100000, 999999)}",
                    f.bothify("??-########").upper(),
                    f.bothify("Order ###-#######-#######"),
                ]
            ),
            source,
        )
    for _ in range(30):
        if rng.random() < 0.5:
            f, source = fake()
            value = f.uuid4()
        else:
            m, source = mim()
            value = m.cryptographic.uuid()
        add(
            "uuid",
            rng.choice([value, value.upper(), value.replace("-", ""), f"urn:uuid:{value}", f"request {value}"]),
            source,
        )
    for _ in range(50):
        f, source = fake()
        m, msource = mim()
        moment = f.date_time_between_dates(datetime(2019, 1, 1), datetime(2027, 12, 31))
        ts = int(moment.timestamp()) if moment.year > 1970 else 1_700_000_000
        choice = rng.randrange(11)
        value = [
            f.iso8601(),
            moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{rng.randint(0, 999):03d}",
            str(ts),
            str(ts * 1000 + rng.randint(0, 999)),
            str(ts * 1_000_000_000 + rng.randint(0, 999_999_999)),
            moment.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            moment.strftime("%Y%m%dT%H%M%SZ"),
            m.datetime.formatted_datetime(start=2019, end=2027),
            moment.strftime("%d.%m.%Y %H:%M"),
            moment.strftime("%Y年%m月%d日 %H時%M分"),
            moment.strftime("%m/%d/%Y %I:%M %p"),
        ][choice]
        add("timestamp", value, msource if choice == 7 else source)
    for _ in range(25):
        f, source = fake()
        m, msource = mim()
        choice = rng.randrange(5)
        value = [
            f.date(),
            m.datetime.formatted_date(start=2000, end=2027),
            f.date(pattern="%d.%m.%Y"),
            f.date(pattern="%m/%d/%Y"),
            f.month_name() + " " + f.year(),
        ][choice]
        add("date", value, msource if choice == 1 else source)
    for _ in range(30):
        m, source = mim()
        a, b, c = rng.randint(0, 20), rng.randint(0, 30), rng.randint(0, 200)
        add(
            "version",
            rng.choice(
                [
                    m.development.version(),
                    m.development.calver(),
                    f"v{a}.{b}.{c}",
                    f"{a}.{b}.{c}-rc.{rng.randint(1, 5)}",
                    f"python 3.{rng.randint(8, 14)}.{rng.randint(0, 12)}",
                    f"lodash@{a}.{b}.{c}",
                    f"python:3.{rng.randint(8, 13)}-slim",
                    f"release {rng.randint(2020, 2026)}.{rng.randint(1, 12):02d}.{rng.randint(0, 9)}",
                    f"model fraud_detector v{a}.{b}",
                ]
            ),
            source,
        )
    for _ in range(30):
        f, source = fake()
        m, msource = mim()
        choice = rng.randrange(7)
        blob = rng.randbytes(32)
        value = [
            f.md5(),
            f.sha1(),
            f.sha256(),
            m.cryptographic.hash(),
            f"commit {f.sha1()[:7]}",
            "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode(),
            m.cryptographic.certificate_fingerprint(),
        ][choice]
        add("hash", value, msource if choice in (3, 6) else source)
    for _ in range(40):
        f, source = fake()
        m, msource = mim()
        choice = rng.randrange(6)
        value = [
            f.pricetag(),
            f"{m.finance.price()} {m.finance.currency_iso_code()}",
            f"EUR {rng.randint(1, 999)}.{rng.randint(100, 999)},{rng.randint(10, 99)}",
            f"{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)},{rng.randint(10, 99)} €",
            f"${rng.randint(1, 99)},{rng.randint(100, 999)},{rng.randint(100, 999)}.{rng.randint(10, 99)}",
            f"-{rng.randint(1, 9999)}.{rng.randint(0, 99):02d} {f.currency_code()}",
        ][choice]
        add("amount", value, msource if choice == 1 else source)
    for _ in range(40):
        if rng.random() < 0.5:
            f, source = fake()
            value = rng.choice([f.postcode(), f"{f.postcode()} {f.city()}"])
        else:
            m, source = mim()
            value = rng.choice([m.address.postal_code(), f"{m.address.postal_code()} {m.address.city()}"])
        add("postcode", value, source)
    for _ in range(30):
        f, source = fake()
        m, msource = mim()
        choice = rng.randrange(7)
        value = [
            f.isbn10(),
            f.isbn13(),
            f.ean13(),
            f.ean8(),
            f"ISBN {m.code.isbn()}",
            f"EAN {m.code.ean()}",
            f"ISSN {m.code.issn()}",
        ][choice]
        add("isbn_ean_issn", value, msource if choice >= 4 else source)
    for _ in range(20):
        f, source = fake()
        add(
            "sku",
            rng.choice(
                [
                    f.bothify("SKU-#####-??").upper(),
                    f.bothify("??-####-####").upper(),
                    f"ASIN B0{f.bothify('########').upper()}",
                    f.bothify("ART.-Nr. ###.###.##"),
                ]
            ),
            source,
        )
    for _ in range(30):
        f, source = fake()
        m, msource = mim()
        choice = rng.randrange(4)
        point = m.address.coordinates()
        value = [
            f"{f.latitude()}, {f.longitude()}",
            f"{point['latitude']}, {point['longitude']}",
            f"lat={f.latitude()}&lon={f.longitude()}",
            f"{rng.randint(0, 89)}°{rng.randint(0, 59)}′N {rng.randint(0, 179)}°{rng.randint(0, 59)}′E",
        ][choice]
        add("coordinates", value, msource if choice == 1 else source)
    for _ in range(25):
        m, source = mim()
        h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        add(
            "duration",
            rng.choice(
                [
                    str(m.datetime.duration()),
                    f"PT{h}H{mi}M{s}S",
                    f"{h:02d}:{mi:02d}:{s:02d}.{rng.randint(0, 999):03d}",
                    f"{rng.randint(1, 9)} days, {h}:{mi:02d}:{s:02d}",
                    f"{rng.randint(1, 99999)} ms",
                    f"{h}h {mi}m {s}s",
                ]
            ),
            source,
        )
    for _ in range(20):
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
                    "::1",
                ]
            ),
            "otel-audit",
        )
    for _ in range(20):
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
                    "@app.route('/predict')",
                    "price @ 12.50 each",
                ]
            ),
            "otel-audit",
        )
    for _ in range(30):
        f, source = fake()
        add(
            "number",
            rng.choice(
                [
                    f"{rng.uniform(-1000, 1000):.6f}",
                    f"{rng.uniform(1, 9):.3f}e{rng.randint(-30, 30)}",
                    f"{rng.randint(0, 100)}%",
                    f"{rng.randint(1, 999)},{rng.randint(100, 999)},{rng.randint(100, 999)}",
                    str(f.pyfloat(left_digits=6, right_digits=3)),
                    f"{rng.randint(1920, 7680)}x{rng.randint(1080, 4320)}",
                    f"{rng.uniform(0, 100):.2f} kg",
                ]
            ),
            source,
        )
    for _ in range(20):
        add(
            "integer",
            rng.choice(
                [
                    rng.randint(0, 10**6),
                    rng.randint(1_600_000_000, 1_800_000_000),
                    rng.randint(1_600_000_000_000, 1_800_000_000_000),
                ]
            ),
            "otel-audit",
        )
    for _ in range(30):
        f, source = fake()
        add(
            "identifier",
            rng.choice(
                [
                    f"api-{rng.randbytes(5).hex()}-{''.join(rng.choices(string.ascii_lowercase + string.digits, k=5))}",
                    "01HX" + "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(22)),
                    f"trace {rng.getrandbits(128):032x}",
                    f"span {rng.getrandbits(64):016x}",
                    f"user-{rng.randint(1, 99999):05d}",
                    f"aws account {rng.randint(100000000000, 999999999999)}",
                    f"ticket JIRA-{rng.randint(100, 99999)}",
                    f"#{rng.getrandbits(24):06x}",
                    f.bothify("req_????????????").lower(),
                ]
            ),
            source,
        )
    for _ in range(15):
        f, source = fake()
        add("swift_bic", rng.choice([f.swift8(), f.swift11(), f"BIC {f.swift()}"]), source)
    for _ in range(20):
        f, source = fake()
        m, msource = mim()
        choice = rng.randrange(4)
        value = [
            f.uri(),
            f.file_path(depth=3),
            m.internet.url(),
            f"https://api.example.com/v1/models/{rng.randint(1, 999)}?limit={rng.randint(1, 100)}",
        ][choice]
        add("url_path", value, msource if choice == 2 else source)
    for _ in range(30):
        m, source = mim()
        add("prose", m.text.sentence(), source)
    for _ in range(15):
        add(
            "ml_text",
            rng.choice(
                [
                    f"lr={rng.choice(['0.001', '3e-4', '0.01'])} batch_size={rng.choice([16, 32, 64])}",
                    f"Top {rng.randint(1, 100)} results in {rng.uniform(0, 2):.2f}s",
                    f"Room {rng.randint(100, 999)}, floor {rng.randint(1, 9)}",
                    f"Chapter {rng.randint(1, 20)}, section {rng.randint(1, 9)}.{rng.randint(1, 9)}",
                    f"AUC 0.{rng.randint(7000, 9999)} on {rng.randint(10000, 999999)} rows",
                ]
            ),
            "otel-audit",
        )
    # Strings no pattern or check digit can tell apart from personal data: measured, not tuned away.
    for _ in range(6):
        add(
            "indistinguishable:four_part_version",
            f"firmware {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1, 99)}",
            "otel-audit",
        )
    for _ in range(10):
        add("indistinguishable:random_16_digit_id", f"ID {rng.randint(1, 9)}{digits(rng, 15)}", "otel-audit")
    add("indistinguishable:ssh_remote", "git@github.com:open-telemetry/opentelemetry-python.git", "otel-audit")
    add("indistinguishable:ssh_remote", "deploy@build.example.net:releases/", "otel-audit")
    return out


# -- writing ------------------------------------------------------------------------------------


def _check(records: list[dict[str, Any]]) -> None:
    """Sanity of what was generated: check digits and registry of cards and IBANs."""
    for record in records:
        for planted in record["planted"]:
            if planted["kind"] == "card":
                assert luhn_ok("".join(c for c in planted["value"] if c.isdigit())), planted
            if planted["kind"] == "iban":
                assert iban_ok(planted["value"]), planted
            if planted["kind"] == "ipv4":
                ipaddress.IPv4Address(planted["value"])
            if planted["kind"] == "ipv6":
                ipaddress.IPv6Address(planted["value"])


def manifest(records: list[dict[str, Any]], misses: list[dict[str, Any]]) -> dict[str, Any]:
    planted = [p for record in records for p in record["planted"]]
    by_kind = Counter(p["kind"] for p in planted)
    return {
        "generator": "tests/data/make_redaction_corpus.py",
        "seed": SEED,
        "clock": CLOCK.isoformat(),
        "versions": {
            "python": platform.python_version(),
            "faker": faker.VERSION,
            "mimesis": mimesis.__version__,
            "phonenumbers": phonenumbers.__version__,
        },
        "locales": {"faker": FAKER_LOCALES, "mimesis": MIMESIS_LOCALES},
        "records": len(records),
        "hard_case_records": sum(record["source"] == "hand" for record in records),
        "planted": len(planted),
        "planted_by_kind": dict(sorted(by_kind.items())),
        "planted_by_kind_and_generator": {
            kind: dict(sorted(Counter(p["source"].split(":")[0] for p in planted if p["kind"] == kind).items()))
            for kind in sorted(by_kind)
        },
        "planted_by_place": dict(sorted(Counter(p["place"] for p in planted if p["source"] != "hand").items())),
        "phones_by_libphonenumber": {
            kind: dict(sorted(Counter(p["number"] for p in planted if p["kind"] == kind).items()))
            for kind in ("phone", "phone_field")
        },
        "near_misses": len(misses),
        "near_misses_by_category": dict(sorted(Counter(m["category"] for m in misses).items())),
        "near_misses_by_generator": dict(sorted(Counter(m["source"].split(":")[0] for m in misses).items())),
    }


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with time_machine.travel(CLOCK, tick=False):
        return _build()


def _build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records = generated_records() + hard_cases(random.Random(SEED * 3 + 2))
    misses = [{"id": f"nm-{index:04d}", **miss} for index, miss in enumerate(near_misses(random.Random(SEED * 3 + 3)))]
    _check(records)
    return records, misses


def write(out_dir: Path = HERE) -> None:
    """Write the corpus, the near misses and the manifest into *out_dir*."""
    records, misses = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / CORPUS).open("w", encoding="utf-8", newline="\n") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    with (out_dir / NEAR_MISSES).open("w", encoding="utf-8", newline="\n") as stream:
        for miss in misses:
            stream.write(json.dumps(miss, ensure_ascii=False, sort_keys=True) + "\n")
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest(records, misses), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Some Faker locales pick from sets (it_IT cities): their order follows the string hash seed.
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
