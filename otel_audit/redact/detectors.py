"""Post-validators that confirm, trim or reject a detector's regex match.

A regular expression alone cannot tell a payment card from an order number, or an IBAN from a
product code: the check digits decide. Detectors in the rule file name one of the validators in
:data:`VALIDATORS` (``validate: luhn``); the in-process redactor runs it on every match. The
collector's RE2 engine cannot run them, so there the raw pattern over-matches (it masks more,
never less); :func:`otel_audit.redact.rules.re2_patterns` marks those detectors.

A validator is called as ``validator(text, start, end)`` with the span of the regex match in
*text*. It returns the span to redact, ``(start, end)`` or a narrower one (for instance an IBAN
trimmed to its country's length when the pattern ran on into the next word), or ``None`` to
reject the match. Validators only read *text* around the match; they never raise on any input.

Normalizers (:data:`NORMALIZERS`) turn a matched value into the canonical form a pseudonym is
computed from, so that ``+44 20 7946 0958`` and ``+44-20-7946-0958`` get the same pseudonym.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "IBAN_LENGTHS",
    "NORMALIZERS",
    "VALIDATORS",
    "Normalizer",
    "Validator",
    "card_brand",
    "iban_valid",
    "luhn_valid",
    "validate_card",
    "validate_iban",
    "validate_ipv4",
    "validate_ipv6",
    "validate_phone",
    "validate_ssn",
]

Validator = Callable[[str, int, int], "tuple[int, int] | None"]
"""``(text, start, end) -> (start, end) | None``: the span to redact, or ``None`` to reject."""

Normalizer = Callable[[str], str]
"""Canonical form of a matched value, the input of its pseudonym."""

_DIGITS: Final = frozenset("0123456789")
_CARD_SEPARATORS: Final = frozenset(" -")
_PHONE_SEPARATORS: Final = frozenset(" .-/()")

IBAN_LENGTHS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
        "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
        "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
        "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
        "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
        "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
        "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
        "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
        "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
        "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    }
)  # fmt: skip
"""IBAN length per country code (SWIFT IBAN registry, ISO 13616)."""


def luhn_valid(digits: str) -> bool:
    """Return whether the decimal string *digits* passes the Luhn (mod 10) check.

    Args:
        digits: ASCII digits only, at least two of them.

    Returns:
        ``True`` when the Luhn checksum is 0; ``False`` for anything else, including non-digits.
    """
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_CARD_RANGES: Final = (
    # (first digits, lowest prefix, highest prefix, allowed lengths, network); first match wins
    (1, 4, 4, (16, 19), "visa"),
    (2, 51, 55, (16,), "mastercard"),
    (4, 2221, 2720, (16,), "mastercard"),
    (4, 2200, 2204, (16,), "mir"),
    (2, 34, 34, (15,), "amex"),
    (2, 37, 37, (15,), "amex"),
    (4, 6011, 6011, (16, 17, 18, 19), "discover"),
    (2, 65, 65, (16, 17, 18, 19), "discover"),
    (3, 644, 649, (16, 17, 18, 19), "discover"),
    (4, 3528, 3589, (16, 17, 18, 19), "jcb"),
    (2, 36, 36, (14, 15, 16, 17, 18, 19), "diners"),
    (2, 38, 39, (14, 15, 16, 17, 18, 19), "diners"),
    (3, 300, 305, (14, 15, 16, 17, 18, 19), "diners"),
    (2, 62, 62, (16, 17, 18, 19), "unionpay"),
    (2, 50, 50, (16, 17, 18, 19), "maestro"),
    (2, 56, 58, (16, 17, 18, 19), "maestro"),
    (2, 63, 63, (16, 17, 18, 19), "maestro"),
    (2, 67, 67, (16, 17, 18, 19), "maestro"),
)


def card_brand(digits: str) -> str | None:
    """Return the card network whose issuer prefix and length *digits* has, else ``None``.

    Only networks that issue cards today are recognised: 13-digit Visa numbers are no longer
    issued and collide with EAN-13 barcodes, so they are not. Luhn is checked separately.
    """
    if not 14 <= len(digits) <= 19 or not digits.isascii() or not digits.isdigit():
        return None
    for width, low, high, lengths, brand in _CARD_RANGES:
        if low <= int(digits[:width]) <= high:
            return brand if len(digits) in lengths else None
    return None


def iban_valid(iban: str) -> bool:
    """Return whether *iban* (no spaces, any case) has a known country length and mod-97 = 1.

    This is the ISO 13616 / ISO 7064 MOD 97-10 check: move the first four characters to the
    end, replace letters by 10..35 and take the number modulo 97.
    """
    candidate = iban.upper()
    if not candidate.isascii() or not candidate.isalnum() or IBAN_LENGTHS.get(candidate[:2]) != len(candidate):
        return False
    if not candidate[2:4].isdigit():
        return False
    remainder = 0
    for char in candidate[4:] + candidate[:4]:
        # int(char, 36) maps 0-9 to 0-9 and A-Z to 10-35, as the standard requires.
        value = int(char, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _glued(text: str, index: int) -> bool:
    """Whether the character at *index* would continue an address (a word character or ':')."""
    if not 0 <= index < len(text):
        return False
    char = text[index]
    return _is_ascii_alnum(char) or char in "_:"


def _digit_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index] in _DIGITS


def _split_ends(text: str, start: int, end: int, separators: frozenset[str]) -> list[int]:
    """Candidate ends of a match, longest first: *end*, then before each separator run."""
    ends = [end]
    for index in range(end - 1, start, -1):
        if text[index] in separators and text[index - 1] not in separators:
            ends.append(index)
    return ends


def validate_card(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept a payment card number: a known issuer prefix and length, and a valid Luhn digit.

    When the match runs on into another number (``4111 1111 1111 1111 12``) the longest valid
    prefix that ends at a separator is kept.
    """
    if _digit_at(text, start - 1) or _digit_at(text, end):
        return None
    for candidate in _split_ends(text, start, end, _CARD_SEPARATORS):
        digits = "".join(char for char in text[start:candidate] if char in _DIGITS)
        if card_brand(digits) is not None and luhn_valid(digits):
            return start, candidate
    return None


def validate_iban(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept an IBAN: the country's exact length (spaces ignored) and a valid mod-97 check.

    The regex may run on into the next upper-case word (``... 00 BIC COBADEFF``), so the match
    is cut at the country's length; the character after it must not continue the word.
    """
    length = IBAN_LENGTHS.get(text[start : start + 2].upper())
    if length is None:
        return None
    chars: list[str] = []
    position = start
    while position < end and len(chars) < length:
        char = text[position]
        if char != " ":
            chars.append(char)
        position += 1
    if len(chars) < length or (position < len(text) and _is_ascii_alnum(text[position])):
        return None
    return (start, position) if iban_valid("".join(chars)) else None


def validate_phone(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept a phone number of 8 to 15 digits (E.164 allows at most 15).

    A match that ran on into a following number is cut back at a separator until it has at
    most 15 digits; one glued to further digits is rejected. A match that continues a number
    before it (``5123 0456 7890 1234``) is rejected too, except after the NANP country code
    ``1`` (``1-800-555-0199``), which is then included.
    """
    if start >= 2 and text[start - 1] in " .-" and text[start - 2] in _DIGITS:
        first = start - 2
        if text[first] != "1" or _digit_at(text, first - 1):
            return None
        start = first
    for candidate in _split_ends(text, start, end, _PHONE_SEPARATORS):
        if _digit_at(text, candidate):
            continue
        count = sum(1 for char in text[start:candidate] if char in _DIGITS)
        if count > 15:
            continue
        return (start, candidate) if count >= 8 else None
    return None


def validate_ssn(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept a US Social Security number: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    digits = "".join(char for char in text[start:end] if char in _DIGITS)
    if len(digits) != 9:
        return None
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    return start, end


def validate_ipv4(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept an IPv4 host address that is not part of a longer dotted number (an OID, a version).

    Rejected too: ``0.0.0.0/8``, loopback ``127.0.0.0/8`` and ``x.0.0.0`` network addresses,
    which identify no one.
    """
    if (start >= 2 and text[start - 1] == "." and text[start - 2] in _DIGITS) or (
        end + 1 < len(text) and text[end] == "." and text[end + 1] in _DIGITS
    ):
        return None
    octets = text[start:end].split(".")
    if octets[0] in ("0", "127") or octets[1:] == ["0", "0", "0"]:
        return None
    return start, end


def validate_ipv6(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept a syntactically valid IPv6 address that is not glued to a word and has a digit.

    ``std::add`` or ``Foo::Bad`` parse as IPv6 but are code; requiring a decimal digit and no
    adjacent word character keeps them. Unspecified ``::`` and loopback ``::1`` are rejected.
    """
    if _glued(text, start - 1) or _glued(text, end):
        return None
    candidate = text[start:end]
    if not any(char in _DIGITS for char in candidate):
        return None
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    if address.is_unspecified or address.is_loopback:
        return None
    return start, end


VALIDATORS: Final[Mapping[str, Validator]] = MappingProxyType(
    {
        "luhn": validate_card,
        "iban": validate_iban,
        "phone": validate_phone,
        "ssn": validate_ssn,
        "ipv4": validate_ipv4,
        "ipv6": validate_ipv6,
    }
)
"""Validators by the name a rule file uses in ``validate:``."""


def _normalize_digits(value: str) -> str:
    prefix = "+" if value.lstrip().startswith("+") else ""
    return prefix + "".join(char for char in value if char in _DIGITS)


def _normalize_alnum(value: str) -> str:
    return "".join(char for char in value if char.isalnum()).upper()


def _normalize_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value.lower()


NORMALIZERS: Final[Mapping[str, Normalizer]] = MappingProxyType(
    {
        "none": str,
        "lower": str.lower,
        "digits": _normalize_digits,
        "alnum": _normalize_alnum,
        "ip": _normalize_ip,
    }
)
"""Normalizers by the name a rule file uses in ``normalize:``."""
