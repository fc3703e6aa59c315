"""Validators that decide a detector's candidate matches, and normalizers for pseudonyms.

A regular expression alone cannot tell a payment card from an order number, or an IBAN from a
product code: the check digits decide. A detector in the rule file names one validator of
:data:`VALIDATORS` (``validate: luhn``), with its ``options`` if it takes any. The candidate
pattern finds maximal runs (non-overlapping, leftmost-first: the same matches in Python ``re``
and Go RE2); the validator is then called once per run as ``validator(text, start, end)`` and
returns the spans to redact, possibly several (two cards in one run of digits) or none. It
may read *text* around the run (a card glued to a letter is not a card) and may return spans
that start or end outside it (an IBAN whose last group the run did not reach). Validators
never raise on any input, and their work is linear in the run's length.

The collector's RE2 engine cannot run validators, so there the raw candidate pattern masks
every run (more, never less); :func:`otel_audit.redact.rules.re2_patterns` marks those detectors.

Each validator's algorithm is written in its docstring exactly enough to port it (the Go
processor of the collector implements the same ones):

``luhn``
    :func:`validate_card`. ``iban``: :func:`validate_iban`. ``phone``:
    :class:`~otel_audit.redact.phones.PhoneValidator`. ``ssn``: :func:`validate_ssn`.
    ``ipv4``: :func:`validate_ipv4`. ``ipv6``: :func:`validate_ipv6`.

Normalizers (:data:`NORMALIZERS`) turn a matched value into the canonical form a pseudonym is
computed from, so that ``+44 20 7946 0958`` and ``+44-20-7946-0958`` get the same pseudonym.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from otel_audit.redact.phones import DEFAULT_IDD_PREFIXES, DEFAULT_PHONE_REGIONS, PhoneValidator, after_code

__all__ = [
    "IBAN_LENGTHS",
    "NORMALIZERS",
    "VALIDATORS",
    "Normalizer",
    "Validator",
    "ValidatorSpec",
    "card_brand",
    "card_number_plausible",
    "iban_valid",
    "luhn_valid",
    "validate_card",
    "validate_iban",
    "validate_ipv4",
    "validate_ipv6",
    "validate_ssn",
]

Validator = Callable[[str, int, int], Sequence[tuple[int, int]]]
"""``(text, start, end) -> spans``: the spans to redact found in the candidate run ``[start, end)``."""

Normalizer = Callable[[str], str]
"""Canonical form of a matched value, the input of its pseudonym."""

_DIGITS: Final = frozenset("0123456789")
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


# Digit -> the digit sum of its double, as a character ("7" -> 14 -> "5"), for str.translate.
_LUHN_DOUBLED: Final = str.maketrans({str(d): str((2 * d) % 10 + (2 * d) // 10) for d in range(10)})


def luhn_valid(digits: str) -> bool:
    """Return whether the decimal string *digits* passes the Luhn (mod 10) check.

    Args:
        digits: ASCII digits only, at least two of them.

    Returns:
        ``True`` when the Luhn checksum is 0; ``False`` for anything else, including non-digits.
    """
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    # From the right: digits in odd places as they are, those in even places doubled (digit sum);
    # summed as ASCII bytes (48 is "0").
    total = sum(digits[-1::-2].encode()) + sum(digits[-2::-2].translate(_LUHN_DOUBLED).encode())
    return (total - 48 * len(digits)) % 10 == 0


_CARD_RANGES: Final = (
    # (first digits, lowest prefix, highest prefix, lengths, network); first match wins. For
    # naming only: which numbers are cards is decided by card_number_plausible().
    (4, 2221, 2720, (16,), "mastercard"),
    (4, 2200, 2204, (16,), "mir"),
    (4, 2131, 2131, (15,), "jcb"),
    (4, 1800, 1800, (15,), "jcb"),
    (1, 1, 1, (15,), "uatp"),
    (2, 34, 34, (15,), "amex"),
    (2, 37, 37, (15,), "amex"),
    (4, 3528, 3589, (16, 17, 18, 19), "jcb"),
    (2, 36, 36, (14, 15, 16, 17, 18, 19), "diners"),
    (2, 38, 39, (14, 15, 16, 17, 18, 19), "diners"),
    (3, 300, 305, (14, 15, 16, 17, 18, 19), "diners"),
    (1, 4, 4, (13, 16, 19), "visa"),
    (2, 51, 55, (16,), "mastercard"),
    (4, 6011, 6011, (16, 17, 18, 19), "discover"),
    (3, 644, 649, (16, 17, 18, 19), "discover"),
    (2, 65, 65, (16, 17, 18, 19), "discover"),
    (2, 62, 62, (16, 17, 18, 19), "unionpay"),
    (2, 50, 50, (12, 13, 14, 15, 16, 17, 18, 19), "maestro"),
    (2, 56, 69, (12, 13, 14, 15, 16, 17, 18, 19), "maestro"),
)

# Lengths a card number can have, by its first digit(s): every brand and length 12-19 (the
# issuer table above, widened). 12 and 13 digits only where such cards exist (Maestro 50 and
# 56-69, Visa 4), because ids, barcodes (UPC-A, EAN-13) and account numbers of those lengths
# are common; a leading 1 only for the 15-digit UATP and JCB 1800 cards; 8 and 9 (UnionPay 81,
# national schemes) for 16-19 digits; never 0 or 7.
_CARD_LENGTHS_BY_FIRST: Final[Mapping[str, frozenset[int]]] = MappingProxyType(
    {
        "1": frozenset({15}),
        "2": frozenset(range(14, 20)),
        "3": frozenset(range(14, 20)),
        "4": frozenset({13, *range(14, 20)}),
        "5": frozenset(range(14, 20)),
        "6": frozenset(range(14, 20)),
        "8": frozenset(range(16, 20)),
        "9": frozenset(range(16, 20)),
    }
)
_SHORT_CARD_PREFIXES: Final = frozenset({"50", *(str(prefix) for prefix in range(56, 70))})


def _card_length_ok(head: str, length: int) -> bool:
    """Whether a card whose first two digits are *head* can have *length* digits."""
    if length <= 13 and head in _SHORT_CARD_PREFIXES:
        return True
    return length in _CARD_LENGTHS_BY_FIRST.get(head[0], frozenset())


def card_number_plausible(digits: str) -> bool:
    """Return whether *digits* have a card's length for their first digits (Luhn not checked).

    The rule: 12-19 digits; a first digit 2-6 for 14-19 digits, 8 or 9 for 16-19 (UnionPay 81,
    national schemes such as Troy 9792 or Prostir 9804), or 1 for exactly 15 (UATP, JCB 1800);
    for 12 digits the prefix 50 or 56-69 (Maestro); for 13 digits a 4 (Visa) or 50, 56-69
    (Maestro).
    """
    length = len(digits)
    if not 12 <= length <= 19 or not digits.isascii() or not digits.isdigit():
        return False
    return _card_length_ok(digits[:2], length)


def card_brand(digits: str) -> str | None:
    """Return the card network whose issuer prefix and length *digits* has, else ``None``.

    For naming and diagnostics; the card detector masks every :func:`card_number_plausible`
    number that passes Luhn, brand known or not.
    """
    if not 12 <= len(digits) <= 19 or not digits.isascii() or not digits.isdigit():
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


def _word_char(text: str, index: int) -> bool:
    """Whether *index* is inside *text* and holds an ASCII letter, digit or ``_`` (RE2's ``\\w``)."""
    return 0 <= index < len(text) and (text[index] == "_" or _is_ascii_alnum(text[index]))


_CARD_GROUP: Final = re.compile(r"[0-9]+")
_FOUR_DIGITS: Final = re.compile(r"[0-9]{4}")


def validate_card(text: str, start: int, end: int) -> list[tuple[int, int]]:  # noqa: PLR0912 - one documented algorithm
    """Find payment card numbers in a run of digit groups joined by single ``space . -``.

    Algorithm: the run is cut into digit groups. From the first group on, the longest piece of
    groups ``i..j-1`` (at most 5 groups) is taken that is written like a card (one group; or
    one separator kind throughout with groups 4-4-...-4 and a last group of 1-4 digits, or 4-6-4,
    4-6-5) and whose digits are :func:`card_number_plausible` and pass :func:`luhn_valid`; the
    next piece starts after it, or at ``i+1`` when none is found. A piece that ends the run is
    refused when a letter, digit or ``_`` follows; a one-group piece next to a ``.`` separator
    is refused (``0.4111111111111111`` is a decimal number). A run that follows a code word
    (ASCII letters, a digit, letters and digits) and one space (``CR93 5380 5032 …``, the rest
    of an IBAN) holds no card.
    """
    if after_code(text, start) or _FOUR_DIGITS.search(text, start, end) is None:
        return []  # the rest of an IBAN, or no group of 4+ digits (every card has one)
    spans = [match.span() for match in _CARD_GROUP.finditer(text, start, end)]
    count = len(spans)
    groups = [text[a:b] for a, b in spans]
    lengths = [b - a for a, b in spans]
    if count == 0 or max(lengths) < 4:
        return []
    totals = list(itertools.accumulate(lengths, initial=0))
    glued_after = _word_char(text, end)
    separators = [text[spans[k][1]] for k in range(count - 1)]  # single characters, by the pattern
    # same[k]: separators k, k+1, ... equal to separator k; fours[k]: groups k, k+1, ... of 4 digits.
    same = [1] * count
    fours = [0] * (count + 1)
    for k in range(count - 1, -1, -1):
        if k < count - 2 and separators[k] == separators[k + 1]:
            same[k] = same[k + 1] + 1
        fours[k] = fours[k + 1] + 1 if lengths[k] == 4 else 0
    found: list[tuple[int, int]] = []
    first = 0
    while first < count:
        accepted = 0
        if lengths[first] >= 4:
            for last in range(min(count, first + 5), first, -1):
                total = totals[last] - totals[first]
                if total < 12:
                    break
                if total > 19 or (last == count and glued_after):
                    continue
                inner = last - first - 1  # separators inside the piece
                if inner == 0:
                    if (first > 0 and separators[first - 1] == ".") or (last < count and separators[first] == "."):
                        continue  # the integer or fractional part of a decimal number
                elif same[first] < inner or not (
                    (fours[first] >= inner and lengths[last - 1] <= 4)
                    or (inner == 2 and lengths[first] == 4 and lengths[first + 1] == 6 and lengths[first + 2] in (4, 5))
                ):
                    continue
                if not _card_length_ok(groups[first][:2], total):
                    continue
                digits = "".join(groups[first:last])
                if luhn_valid(digits):
                    accepted = last
                    break
        if accepted:
            found.append((spans[first][0], spans[accepted - 1][1]))
            first = accepted
        else:
            first += 1
    return found


_IBAN_START: Final = re.compile(r"[A-Za-z]{2}[0-9]{2}")


def validate_iban(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Find IBANs in a run of letters and digits joined by single spaces or dashes.

    Algorithm: at each position of the run where two letters and two digits begin a word (not
    preceded by an ASCII letter or digit), the country's registered length (:data:`IBAN_LENGTHS`)
    of letters and digits is read, single spaces or dashes (one kind) skipped, also past the end
    of the run. It is an
    IBAN when the length is reached, the next character is not an ASCII letter or digit, and
    :func:`iban_valid` holds (mod-97); the search goes on after it, else at the next word.
    """
    found: list[tuple[int, int]] = []
    position = start
    while (match := _IBAN_START.search(text, position, end)) is not None:
        begin = match.start()
        position = begin + 1
        if begin > 0 and _is_ascii_alnum(text[begin - 1]):
            continue
        length = IBAN_LENGTHS.get(text[begin : begin + 2].upper())
        if length is None:
            continue
        chars: list[str] = []
        cursor = begin
        size = len(text)
        separator = ""
        while cursor < size and len(chars) < length:
            char = text[cursor]
            if _is_ascii_alnum(char):
                chars.append(char)
            elif (
                char in " -" and char == (separator or char) and cursor + 1 < size and _is_ascii_alnum(text[cursor + 1])
            ):
                separator = char
            else:
                break
            cursor += 1
        if (
            len(chars) == length
            and not (cursor < size and _is_ascii_alnum(text[cursor]))
            and iban_valid("".join(chars))
        ):
            found.append((begin, cursor))
            position = cursor
    return found


def validate_ssn(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Accept a US Social Security number: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    digits = "".join(char for char in text[start:end] if char in _DIGITS)
    if len(digits) != 9:
        return []
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return []
    return [(start, end)]


def validate_ipv4(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Accept an IPv4 host address that is not part of a longer dotted number (an OID, a version).

    Rejected too: a candidate of five dotted parts (the pattern takes one more group in front
    when there is one: ``06.12.34.56.78``), ``0.0.0.0/8``, loopback ``127.0.0.0/8`` and
    ``x.0.0.0`` network addresses, which identify no one.
    """
    octets = text[start:end].split(".")
    if len(octets) != 4:
        return []
    if (start >= 2 and text[start - 1] == "." and text[start - 2] in _DIGITS) or (
        end + 1 < len(text) and text[end] == "." and text[end + 1] in _DIGITS
    ):
        return []
    if octets[0] in ("0", "127") or octets[1:] == ["0", "0", "0"]:
        return []
    return [(start, end)]


def validate_ipv6(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Accept a syntactically valid IPv6 address that is not glued to a word and has a digit.

    ``std::add`` or ``Foo::Bad`` parse as IPv6 but are code; requiring a decimal digit and no
    adjacent word character keeps them. Unspecified ``::`` and loopback ``::1`` are rejected.
    """
    if _glued(text, start - 1) or _glued(text, end):
        return []
    candidate = text[start:end]
    if not any(char in _DIGITS for char in candidate):
        return []
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return []
    if address.is_unspecified or address.is_loopback:
        return []
    return [(start, end)]


@dataclass(frozen=True, slots=True)
class ValidatorSpec:
    """A validator as the rule file names it: the options it takes and how it is built.

    Attributes:
        build: ``build(options) -> Validator``; raises ``ValueError`` on a bad option value.
        options: option names the rule file may give under ``options:``.
    """

    build: Callable[[Mapping[str, Any]], Validator]
    options: frozenset[str] = frozenset()


def _fixed(validator: Validator) -> ValidatorSpec:
    return ValidatorSpec(lambda _options: validator)


def _phone(options: Mapping[str, Any]) -> Validator:
    regions = options.get("regions", DEFAULT_PHONE_REGIONS)
    prefixes = options.get("idd_prefixes", DEFAULT_IDD_PREFIXES)
    for name, value in (("regions", regions), ("idd_prefixes", prefixes)):
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{name} must be a list of strings (quote them: YAML reads a bare NO as false)")
    return PhoneValidator(regions, prefixes)


VALIDATORS: Final[Mapping[str, ValidatorSpec]] = MappingProxyType(
    {
        "luhn": _fixed(validate_card),
        "iban": _fixed(validate_iban),
        "phone": ValidatorSpec(_phone, frozenset({"regions", "idd_prefixes"})),
        "ssn": _fixed(validate_ssn),
        "ipv4": _fixed(validate_ipv4),
        "ipv6": _fixed(validate_ipv6),
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
