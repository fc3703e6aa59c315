r"""Phone numbers in free text: one shared candidate pattern, then libphonenumber's metadata.

libphonenumber's Go port has no working ``PhoneNumberMatcher``, so numbers are *found* the same
way in every implementation: the rule file's RE2 candidate pattern matches maximal runs of at
least 8 digits joined by phone separators (``+`` or ``(+`` in front; up to three of
``space . - / ( )`` between digits; an extension ``x123``, ``ext. 123`` or ``extension 123`` at
the end). :class:`PhoneValidator` then decides which parts of each run are phone numbers, with
libphonenumber (``phonenumbers`` here, ``github.com/nyaruka/phonenumbers`` in Go, both on the
metadata of libphonenumber 9.0.31) through functions both ports have:
``country_code_for_region``, ``ndd_prefix_for_region``, ``region_code_for_country_code``,
``is_possible_number_with_reason`` and ``is_valid_number`` on a ``PhoneNumber`` built from the
digits, and the ``COUNTRY_CODE_TO_REGION_CODE`` table.

The algorithm, exactly. ``D`` is the digits of a piece of the run (extension excluded), ``n``
their count, *possible lengths of a country code* the national-number lengths that
``is_possible_number_with_reason`` calls ``IS_POSSIBLE`` (local-only lengths excluded):

1. **Whole-run refusals** (nothing in the run is a number): the run follows ``- . / _ #`` glued
   to an ASCII letter or digit (``PO-4587911233``), or follows a code word (ASCII letters, then a
   digit, then letters and digits) and one space (``IS37 0313…``, the rest of an IBAN); it is
   followed by an ASCII letter, digit or ``_``, or by ``.``/``,`` and a digit
   (``89 329 735,88``); it is longer than 656
   characters or has more than 32 digit groups (a table of numbers); it has no group of 2+
   digits; it is 3+ groups of exactly 4 digits with one separator (a card or reference); it is
   ``ddd-dd-dddd`` or ``ddd dd dddd`` (the shape of a US SSN, left to the ``ssn`` detector).
2. **Groups.** The run is cut into digit groups; the extension (from the first ASCII letter on)
   belongs to the last. Groups ``i, i+1, i+2`` that form a calendar date are marked, left to
   right (:func:`_date_at`): ``Y-M-D``, ``D.M.Y``, ``M/D/Y`` with one separator kind among
   ``- / .``, a year 1000-2999, day and month 1..31.
3. **Pieces.** A piece is groups ``i..j-1``: at most 7 groups, 8 to 17 digits, no date group.
   Its shape must pass: with a ``.`` separator, every separator is ``.`` and the groups are
   ``3.3.4`` (after an optional ``1.``), ``x.2.2.2[.2…]`` (x of 1-4 digits) or, after a trunk
   ``0``, ``0x.3-4.3-4[…]`` (:func:`_dotted_shape`); without one, the piece neither starts nor ends
   next to a ``.`` separator (decimals). Unless it is international, groups of one digit stand
   only among its first three groups and never last (OIDs, ISBNs).
4. **Acceptance** of a piece:

   * *International*: the run starts with ``+`` or ``(+`` and the piece is its first. The
     country code is the first 1, 2 or 3 digits that form an assigned calling code (the first
     digit is not 0); accepted when the rest has a possible length of that code, or 6 to 14
     digits (any length a number can have: ``+45 172 763 713``), or does after dropping the trunk
     prefix of the code's main region written after it (``+44 (0)20 …``).
   * *Bare valid*: a bare run (one group) of 9 digits that ``is_valid_number`` holds for as a
     national number of Spain or Portugal when configured, where numbers are usually written so
     (``925592485``; Poland's ranges would take most 9-digit numbers).
   * *Bare international*: a bare run of 11 digits whose first 1-3 digits are an assigned
     calling code and whose rest has a possible length of it (``34986697025``: ``+34 986…``).
   * *IDD*: ``D`` starts with a prefix of ``idd_prefixes`` (``00``, ``011``): the rest is read as
     international.
   * *Trunk*: ``D`` starts with the trunk prefix (``ndd_prefix_for_region``: ``0``, ``8``,
     ``06``…) of a configured region, the next digit is not ``0`` and ``n`` minus the prefix is a
     possible length of the region's code; a bare run (one group) needs 9 to 12 digits.
   * *NANP*: a NANP region (calling code 1) is configured and ``D`` is 10 digits starting 2-9,
     or 11 digits ``1`` + that (libphonenumber's NANP general pattern ``[2-9]\d{9}``).
   * *Area code*: the piece is first in a run that starts with a group of 2-5 digits marked as
     an area code, ``(0115) …`` or ``45/807 …`` (``/``, ``/ `` or `` / `` after it), and ``n`` ≤ 15.
   * *No trunk prefix* (ES, IT, PT, PL, DK, NO, GR, CZ…): the piece is the whole run, of 2 to 7
     groups joined by spaces only, or by dashes between groups of 2-3 digits, and
     ``is_valid_number`` holds for ``D`` as a national number of such a configured region
     (leading zeros kept, as ``parse`` keeps them).
5. **Split.** The run is split into accepted pieces and date groups so that **every group is
   covered** (most digits in pieces, then fewest pieces); if no such split exists, the run holds
   no phone number (``3556 0491 1620 6934 1`` is one reference, not a number after ``3556``) -
   unless a **phone word** ends within the 40 characters before the run (:data:`_CUE`: ``tel``,
   ``phone``, ``call``, ``mobile``, ``fax``, ``contact``, ``kontakt``, ``escrib…``, ``appel…``,
   ``anruf…``, ``телефон``, ``電話``… followed by up to 8 word characters, an optional ``.``, up
   to 3 of ``space : . , # ( ) -``, up to three words of 1-6 letters each followed by a space, and
   up to 2 of ``space : # ( + -``; case-insensitive): then the run, if it holds no date, at most
   7 groups and at most 17 digits, is one phone number. A bare run after a phone word is one too.
   Each piece is masked, with a ``(`` or ``+`` written right before it, and with the extension
   when it ends the run.

The leniency is therefore: **possible** (length) for numbers whose form says "phone" (``+``,
IDD, trunk prefix, an area code in parentheses or before a slash), the NANP plan's area-code
rule for North American numbers (unassigned codes such as 911, and exchanges starting 0 or 1,
included), and **valid** (assigned ranges) for numbers of regions without a trunk prefix, whose
lengths alone would match too many order numbers and amounts. Bare runs of 8 digits (EAN-8,
Nordic numbers) are not phone numbers; neither are integers written without ``+``.

Usage::

    validate = PhoneValidator(("US", "GB", "FR", "DE"))
    validate("call 0456959493 now", 5, 15)      # [(5, 15)]
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumber
from phonenumbers.phonemetadata import PhoneMetadata

__all__ = [
    "DEFAULT_IDD_PREFIXES",
    "DEFAULT_PHONE_REGIONS",
    "MAX_DIGITS",
    "MIN_DIGITS",
    "PhoneValidator",
]

DEFAULT_PHONE_REGIONS: Final = (
    "US", "CA", "GB", "IE", "FR", "BE", "NL", "DE", "AT", "CH",
    "IT", "ES", "PT", "PL", "SE", "DK", "NO", "RU", "GR", "CZ",
)  # fmt: skip
"""Regions whose national formats are recognised when the rule file names none."""

DEFAULT_IDD_PREFIXES: Final = ("00", "011")
"""International call prefixes read as ``+`` (``00`` in most of the world, ``011`` in NANP)."""

MIN_DIGITS: Final = 8
"""Fewest digits of a phone number (country code and trunk prefix included)."""

MAX_DIGITS: Final = 17
"""Most digits of a phone number: E.164's 15, plus an IDD or trunk prefix."""

_MAX_GROUPS: Final = 7
_MAX_RUN_GROUPS: Final = 32
_MAX_RUN_CHARS: Final = _MAX_RUN_GROUPS * (MAX_DIGITS + 3) + 16  # 3-character separators, an extension
_IS_POSSIBLE: Final = phonenumbers.ValidationResult.IS_POSSIBLE
_DIGIT_RUN: Final = re.compile(r"[0-9]+")
_LETTER: Final = re.compile(r"[A-Za-z]")
_TWO_DIGITS: Final = re.compile(r"[0-9]{2}")
_CODE_WORD: Final = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+[0-9][A-Za-z0-9]* \Z")
_DATE_SEPARATORS: Final = frozenset("-/.")
_CACHE_SIZE: Final = 4096
_BARE_TRUNK: Final = (9, 12)
_LENIENT_NATIONAL: Final = (6, 14)  # after a "+" or an IDD prefix, any such length is a number
_CUE: Final = re.compile(
    r"(?:^|[^\w])(?:tel|tél|tfn|tlf|phone|telephone|téléphone|telefon|telefono|teléfono|telefone|call|ring|"
    r"mobile|mobil|móvil|cell|cellulare|portable|handy|fax|whatsapp|sms|contact|kontakt|escrib|llam|appel|"
    r"anruf|chiam|reach|телефон|тел|звон|電話|电话|携帯)"
    r"\w{0,8}\.?[\s:.,#()-]{0,3}(?:[^\W\d_]{1,6}\s){0,3}[\s:#(+-]{0,2}\Z",
    re.IGNORECASE,
)
_CUE_WINDOW: Final = 40
_BARE_INTL: Final = (11, 11)  # a bare run of these lengths counts when it is "+" and a possible number
_BARE_VALID_CODES: Final = frozenset({34, 351})  # ES, PT: 9-digit numbers usually written bare
_BARE_VALID: Final = (9, 9)  # a bare run of these lengths counts when valid in a region without trunk prefix
_NXX: Final = frozenset("23456789")


def _possible_lengths(country_code: int) -> frozenset[int]:
    """National significant number lengths that libphonenumber calls ``IS_POSSIBLE`` for *country_code*."""
    lengths = set()
    for length in range(1, MAX_DIGITS + 1):
        number = PhoneNumber(country_code=country_code, national_number=10 ** (length - 1))
        if phonenumbers.is_possible_number_with_reason(number) == _IS_POSSIBLE:
            lengths.add(length)
    return frozenset(lengths)


def _general_pattern(country_code: int) -> re.Pattern[str] | None:
    """A Python-only short cut: the general national-number patterns of every region of
    *country_code*; a valid number always matches one of them (``None``: no short cut)."""
    patterns = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = PhoneMetadata.metadata_for_region(region)
        desc = metadata.general_desc if metadata is not None else None
        if desc is None or not desc.national_number_pattern:
            return None
        patterns.append(f"(?:{desc.national_number_pattern})")
    return re.compile("|".join(patterns)) if patterns else None


def _national_number(country_code: int, digits: str) -> PhoneNumber:
    """A ``PhoneNumber`` of *digits* as written nationally (leading zeros kept, as ``parse`` does)."""
    number = PhoneNumber(country_code=country_code, national_number=int(digits))
    if len(digits) > 1 and digits[0] == "0":
        number.italian_leading_zero = True
        zeros = len(digits) - len(digits.lstrip("0"))
        if zeros > 1:
            number.number_of_leading_zeros = min(zeros, len(digits) - 1)
    return number


def _dotted_shape(groups: Sequence[str], intl: bool) -> bool:
    """Whether digit groups written with dots look like a phone number: ``415.555.2671``
    (optionally after ``1.``), ``06.12.34.56.78`` (a first group of 1-4 digits, then at least
    three groups of two) or a trunk-prefixed ``02.7019.6501`` (a first group of 2-5 digits
    starting with 0, then two or more groups of 3-4). A ``+`` number's country code is not counted."""
    trunk = not intl and groups[0][0] == "0"
    lengths = [len(group) for group in groups[1:]] if intl else [len(group) for group in groups]
    if lengths and lengths[0] == 1 and lengths[1:] == [3, 3, 4]:
        lengths = lengths[1:]
    if lengths == [3, 3, 4]:
        return True
    if trunk and 2 <= lengths[0] <= 5 and len(lengths) >= 3 and all(3 <= length <= 4 for length in lengths[1:]):
        return True
    return len(lengths) >= 4 and 1 <= lengths[0] <= 4 and all(length == 2 for length in lengths[1:])


def after_code(text: str, start: int) -> bool:
    """Whether the run at *start* follows a code word and one space (``IS37 0313``, ``A1 0171``).

    A code word: ASCII letters, then a digit, then ASCII letters and digits, at most 40
    characters, not glued to a letter or digit before it.
    """
    if start < 3 or text[start - 1] != " ":
        return False
    return _CODE_WORD.search(text, max(0, start - 41), start) is not None


def _date_at(groups: Sequence[str], separators: Sequence[str], index: int) -> bool:
    """Whether groups *index*..*index*+2 are a date: ``Y-M-D``, ``D.M.Y`` or ``M/D/Y``.

    One separator kind (``-``, ``/`` or ``.``) between the three groups; a year of four digits
    (1000-2999) first or last; the other two groups of 1-2 digits with values 1..31.
    """
    if index + 2 >= len(groups):
        return False
    separator = separators[index + 1]
    if separator not in ("-", "/", ".") or separators[index + 2] != separator:
        return False
    first, second, third = groups[index], groups[index + 1], groups[index + 2]
    if len(first) == 4:
        year, small = first, (second, third)
    elif len(third) == 4:
        year, small = third, (first, second)
    else:
        return False
    return "1000" <= year <= "2999" and all(1 <= len(part) <= 2 and 1 <= int(part) <= 31 for part in small)


class PhoneValidator:
    """Validator of the ``phone`` detector (see the module docstring for the algorithm).

    Args:
        regions: ISO 3166 region codes whose national formats are recognised.
        idd_prefixes: international call prefixes read like ``+``.

    Raises:
        ValueError: an unknown region or a non-digit prefix.
    """

    __slots__ = (
        "_bare_valid",
        "_decided",
        "_idd",
        "_intl_lengths",
        "_leads",
        "_lock",
        "_nanp",
        "_no_trunk",
        "_trunks",
        "_valid_cache",
        "idd_prefixes",
        "regions",
    )

    def __init__(
        self, regions: Iterable[str] = DEFAULT_PHONE_REGIONS, idd_prefixes: Iterable[str] = DEFAULT_IDD_PREFIXES
    ) -> None:
        self.regions = tuple(regions)
        self.idd_prefixes = tuple(idd_prefixes)
        unknown = [region for region in self.regions if region not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown phone region(s): {', '.join(map(str, unknown))}")
        if not all(isinstance(p, str) and p.isascii() and p.isdigit() for p in self.idd_prefixes):
            raise ValueError("idd_prefixes must be strings of digits")
        self._idd = tuple(sorted(self.idd_prefixes, key=len, reverse=True))
        self._intl_lengths: dict[int, tuple[frozenset[int], str]] = {}
        self._lock = threading.Lock()
        self._valid_cache: dict[tuple[int, str], bool] = {}
        self._decided: dict[tuple[str, int, bool, bool], bool] = {}
        trunks: dict[str, set[int]] = {}
        no_trunk: list[tuple[int, frozenset[int], re.Pattern[str] | None]] = []
        self._nanp = False
        for region in self.regions:
            country_code = phonenumbers.country_code_for_region(region)
            trunk = phonenumbers.ndd_prefix_for_region(region, True) or ""
            lengths = _possible_lengths(country_code)
            if country_code == 1:
                self._nanp = True
            elif trunk:
                trunks.setdefault(trunk, set()).update(lengths)
            else:
                no_trunk.append((country_code, lengths, _general_pattern(country_code)))
        self._trunks = tuple((trunk, frozenset(lengths)) for trunk, lengths in trunks.items())
        self._leads = frozenset(trunk[0] for trunk in trunks) | frozenset(idd[0] for idd in self._idd)
        self._no_trunk = tuple(no_trunk)
        self._bare_valid = tuple(entry for entry in no_trunk if entry[0] in _BARE_VALID_CODES)

    # -- acceptance -------------------------------------------------------------------------

    def _intl(self, country_code: int) -> tuple[frozenset[int], str]:
        cached = self._intl_lengths.get(country_code)
        if cached is None:
            region = phonenumbers.region_code_for_country_code(country_code)
            trunk = (phonenumbers.ndd_prefix_for_region(region, True) or "") if region != "001" else ""
            cached = (_possible_lengths(country_code), trunk)
            with self._lock:
                self._intl_lengths[country_code] = cached
        return cached

    def _international(self, head: str, count: int) -> bool:
        """Whether a number of *count* digits after ``+``, starting with *head* (5+ digits), is possible."""
        if head[0] == "0":
            return False
        for size in (1, 2, 3):
            country_code = int(head[:size])
            if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                lengths, trunk = self._intl(country_code)
                national = count - size
                if national in lengths or _LENIENT_NATIONAL[0] <= national <= _LENIENT_NATIONAL[1]:
                    return True
                return bool(trunk) and head.startswith(trunk, size) and national - len(trunk) in lengths
        return False

    def _national(self, head: str, count: int, *, bare: bool = False) -> bool:
        """Trunk, NANP and IDD acceptance of *count* digits starting with *head* (8+ digits).

        *bare*: the digits are written without any separator; a trunk-prefixed number then needs
        9 to 12 digits (a shorter or longer bare run is more likely a barcode or an id).
        """
        if not bare or _BARE_TRUNK[0] <= count <= _BARE_TRUNK[1]:
            for trunk, lengths in self._trunks:
                # After the trunk prefix a national number never starts with 0 ("00" is the IDD).
                if head.startswith(trunk) and head[len(trunk)] != "0" and count - len(trunk) in lengths:
                    return True
        if self._nanp:
            if count == 10 and head[0] in _NXX:
                return True
            if count == 11 and head[0] == "1" and head[1] in _NXX:
                return True
        return any(
            head.startswith(idd) and self._international(head[len(idd) :], count - len(idd)) for idd in self._idd
        )

    def _decide(self, head: str, count: int, *, intl: bool, bare: bool = False) -> bool:
        key = (head, count, intl, bare)
        decided = self._decided.get(key)
        if decided is None:
            decided = self._international(head, count) if intl else self._national(head, count, bare=bare)
            if len(self._decided) >= _CACHE_SIZE:
                self._decided.clear()
            self._decided[key] = decided
        return decided

    @staticmethod
    def _cued(text: str, start: int) -> bool:
        """Whether a phone word (tel, phone, call, mobile, fax, telefon, телефон, 電話…) ends right before *start*.

        Up to three short words may sit between the cue and the number ("call me at", "Tel.:").
        """
        return _CUE.search(text[max(0, start - _CUE_WINDOW) : start]) is not None

    def _possible_intl(self, digits: str) -> bool:
        """Whether *digits* read after a ``+`` are a country code and a possible (strict) national number."""
        if digits[0] == "0":
            return False
        for size in (1, 2, 3):
            country_code = int(digits[:size])
            if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return len(digits) - size in self._intl(country_code)[0]
        return False

    def _valid(self, digits: str, *, bare: bool = False) -> bool:
        """Whether *digits* are a valid national number of a configured region without trunk prefix.

        *bare*: only the regions whose numbers are usually written as one bare run (ES, PT).
        """
        count = len(digits)
        for country_code, lengths, general in self._bare_valid if bare else self._no_trunk:
            if count in lengths and (general is None or general.fullmatch(digits) is not None):
                key = (country_code, digits)
                valid = self._valid_cache.get(key)
                if valid is None:
                    valid = phonenumbers.is_valid_number(_national_number(country_code, digits))
                    if len(self._valid_cache) >= _CACHE_SIZE:
                        self._valid_cache.clear()
                    self._valid_cache[key] = valid
                if valid:
                    return True
        return False

    def accept_international(self, digits: str) -> bool:
        """Whether *digits* (those after ``+``) are a country code and a possible national number."""
        return MIN_DIGITS <= len(digits) <= MAX_DIGITS and self._international(digits, len(digits))

    def accept_national(self, digits: str, *, bare: bool = False, whole: bool = False) -> bool:
        """Whether *digits* (no ``+``) are accepted through IDD, trunk, NANP or validity (step 4).

        *bare*: written as one group (a trunk-prefixed number then needs 9 to 12 digits);
        *whole*: the whole run, grouped as step 4 asks, so regions without a trunk prefix may
        accept it.
        """
        if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
            return False
        return self._national(digits[:8], len(digits), bare=bare) or (whole and self._valid(digits))

    # -- the validator ------------------------------------------------------------------------

    def __call__(self, text: str, start: int, end: int) -> list[tuple[int, int]]:  # noqa: PLR0911, PLR0912, PLR0915 - one documented algorithm
        """Return the phone numbers in the candidate run ``text[start:end]`` (see the module docstring)."""
        run = text[start:end]
        plus = run[0] == "+" or run.startswith("(+")
        if (
            not plus
            and start > 1
            and text[start - 1] in "-./_#"
            and text[start - 2].isascii()
            and text[start - 2].isalnum()
        ):
            return []  # PO-4587911233, v1.12345678: part of an identifier
        if after_code(text, start):
            return []
        after = text[end] if end < len(text) else ""
        if (after.isascii() and (after.isalnum() or after == "_")) or (
            after in ".," and end + 1 < len(text) and text[end + 1].isascii() and text[end + 1].isdigit()
        ):
            return []  # glued to a word or the integer part of a decimal: no number ends here
        if len(run) > _MAX_RUN_CHARS:
            return []  # more than 32 groups, or a group too long for a number: no full cover
        if _TWO_DIGITS.search(run) is None:
            return []  # one-digit groups only: seven of them (the most in a number) are not 8 digits
        extension = _LETTER.search(run)
        body = run if extension is None else run[: extension.start()]
        groups = _DIGIT_RUN.findall(body)
        count = len(groups)
        if count == 0 or count > _MAX_RUN_GROUPS:
            return []  # nothing, or a table of numbers rather than phone numbers
        if count == 1:  # a bare number: the common case, decided without the split below
            number = groups[0]
            if not MIN_DIGITS <= len(number) <= MAX_DIGITS:
                return []
            if self._decide(number[:8], len(number), intl=plus, bare=True):
                return [(start, end)]
            bare_valid = not plus and _BARE_VALID[0] <= len(number) <= _BARE_VALID[1] and self._valid(number, bare=True)
            bare_intl = not plus and _BARE_INTL[0] <= len(number) <= _BARE_INTL[1] and self._possible_intl(number)
            return [(start, end)] if bare_valid or bare_intl or self._cued(text, start) else []
        lengths = [len(group) for group in groups]
        if max(lengths) == 1:
            return []  # seven one-digit groups at most: never 8 digits
        separators = _DIGIT_RUN.split(body)[:-1]  # separators[i]: the text before groups[i]
        if count >= 3 and lengths.count(4) == count and len(set(separators[1:])) == 1:
            return []  # 4-4-4-4: a card, account or reference number, not phones
        if lengths == [3, 2, 4] and separators[1] == separators[2] and separators[1] in ("-", " "):
            return []  # 123-45-6789: the shape of a US SSN, left to the ssn detector
        totals = list(itertools.accumulate(lengths, initial=0))
        # Calendar dates are never part of a number (found left to right).
        blocked = [0] * count
        dated = 0
        if count >= 3 and ("-" in body or "/" in body or "." in body):
            for index in range(count - 2):
                if (
                    separators[index + 1] in _DATE_SEPARATORS
                    and (lengths[index] == 4 or lengths[index + 2] == 4)
                    and not blocked[index]
                    and _date_at(groups, separators, index)
                ):
                    blocked[index] = blocked[index + 1] = blocked[index + 2] = 1
                    dated += lengths[index] + lengths[index + 1] + lengths[index + 2]
        if dated == totals[count]:
            return []  # dates only
        blocked_before = list(itertools.accumulate(blocked, initial=0)) if dated else None
        # Window shape in O(1): separators containing ".", and those that are exactly ".".
        dots = "." in body
        if dots:
            has_dot = list(itertools.accumulate(("." in separator for separator in separators), initial=0))
            is_dot = [separator == "." for separator in separators]
            only_dot = list(itertools.accumulate(is_dot, initial=0))
        # Groups of one digit only in the first three groups of a number (+46 (0)8 ...), never last.
        singles = list(itertools.accumulate((length == 1 for length in lengths), initial=0)) if 1 in lengths else None
        digits = "".join(groups)
        leads = self._leads
        nanp = self._nanp
        # A region without trunk prefix accepts only a whole run written in groups: spaces, or
        # dashes between groups of 2-3 digits (not the 4-4 of an ISSN or 5-3 of a postcode).
        whole_possible = (
            bool(self._no_trunk)
            and count <= _MAX_GROUPS
            and MIN_DIGITS <= totals[count] <= MAX_DIGITS
            and (
                all(separator == " " for separator in separators[1:])
                or (all(separator == "-" for separator in separators[1:]) and min(lengths) >= 2 and max(lengths) <= 3)
            )
        )
        # An area code marked as such first, "(0115) 300059", "(12) 6328-5637", "45/807 3021":
        # the form says phone.
        parenthesized = 2 <= lengths[0] <= 5 and (
            (run[0] == "(" and separators[1].startswith(")")) or separators[1] in ("/", "/ ", " / ")
        )
        decide = self._decide
        # covered[i], pieces[i]: best split of groups i.. (most digits in numbers, then fewest
        # numbers); pick[i]: end of the number starting at group i in that split, 0 if none.
        covered = [0] * (count + 1)
        pieces = [0] * (count + 1)
        pick = [0] * (count + 1)
        for first in range(count - 1, -1, -1):
            covered[first], pieces[first] = covered[first + 1], pieces[first + 1]
            base = totals[first]
            head = digits[base : base + 8]
            if len(head) < MIN_DIGITS or blocked[first]:
                continue
            intl = plus and first == 0
            lasts: Iterable[int]
            if intl or head[0] in leads or (first == 0 and parenthesized):
                low = bisect.bisect_left(totals, base + MIN_DIGITS, first + 1)
                high = min(count, first + _MAX_GROUPS, bisect.bisect_right(totals, base + MAX_DIGITS) - 1)
                lasts = range(high, low - 1, -1)
            else:
                # Only the NANP plan (10 or 11 digits) or a whole bare run can accept this start.
                lasts = []
                if first == 0 and whole_possible:
                    lasts.append(count)
                if nanp:
                    for size, ok in ((11, head[0] == "1" and head[1] in _NXX), (10, head[0] in _NXX)):
                        if ok:
                            index = bisect.bisect_left(totals, base + size, first + 1)
                            if index <= count and totals[index] == base + size:
                                lasts.append(index)
                if not lasts:
                    continue
            dotted_start = dots and first > 0 and is_dot[first]
            for last in lasts:
                if last - first > _MAX_GROUPS:
                    continue
                if blocked_before is not None and blocked_before[last] != blocked_before[first]:
                    continue
                if dots:
                    inner = last - first - 1
                    if has_dot[last] - has_dot[first + 1]:
                        if only_dot[last] - only_dot[first + 1] != inner or not _dotted_shape(groups[first:last], intl):
                            continue
                    elif dotted_start or (last < count and is_dot[last]):
                        continue  # the integer or fractional part of a decimal number
                if (
                    singles is not None
                    and not intl
                    and (singles[last] - singles[min(first + 3, last)] or lengths[last - 1] == 1)
                ):
                    continue  # 1.3.6.1.4.1.55222, 0-298-54639-6: an OID, a version, an ISBN
                digits_count = totals[last] - base
                score = digits_count + covered[last]
                if score < covered[first] or (score == covered[first] and pieces[last] + 1 >= pieces[first]):
                    continue
                if (
                    decide(head, digits_count, intl=intl)
                    or (first == 0 and parenthesized and not intl and digits_count <= MAX_DIGITS - 2)
                    or (not intl and first == 0 and last == count and whole_possible and self._valid(digits))
                ):
                    covered[first], pieces[first], pick[first] = score, pieces[last] + 1, last
        # A run is phone numbers (and dates) from end to end, or none: "3556 0491 1620 6934 1"
        # holds a possible number, but is one long reference.
        if not covered[0] or covered[0] != totals[count] - dated:
            # A phone word right before the run ("Tel.: 992 729 978") makes the whole run one number.
            cued = not dated and count <= _MAX_GROUPS and totals[count] <= MAX_DIGITS and self._cued(text, start)
            return [(start, end)] if cued else []
        # Character offsets of each group in the run, only now that something was found.
        offsets = list(
            itertools.accumulate(map(len, itertools.chain.from_iterable(zip(separators, groups, strict=True))))
        )
        found: list[tuple[int, int]] = []
        first = 0
        while first < count:
            last = pick[first]
            if not last:
                first += 1
                continue
            piece_start = 0 if first == 0 else offsets[2 * first]
            if first > 0:
                floor = offsets[2 * first - 1]
                while piece_start > floor and run[piece_start - 1] in "(+":
                    piece_start -= 1  # a "(" or "+" written right before the first digit belongs to the piece
            piece_end = len(run) if last == count and extension is not None else offsets[2 * last - 1]
            found.append((start + piece_start, start + piece_end))
            first = last
        return found
