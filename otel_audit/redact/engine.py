"""The redactor: applies :class:`~otel_audit.redact.rules.RedactionRules` to values and attributes.

Usage::

    redactor = Redactor(load_rules(), secret=b"...")        # or OTEL_AUDIT_REDACTION_SECRET
    result = redactor.redact({"input": {"note": "mail me: ana@example.org"}})
    result.value    # {"input": {"note": "mail me: [EMAIL]"}}
    result.counts   # {"email": 1}

The redactor never mutates its input: containers are copied only where something changed, and an
unchanged value is returned as the very same object (so callers can test ``is``). Everything that
can be done once (compiling, building validators, grouping detectors by their pre-check, the HMAC
key schedule) is done in ``__init__``; per value it only runs regexes and validators. It is
thread-safe.

What one value goes through:

* strings are scanned by every detector: each detector's candidate pattern finds maximal runs
  (``finditer``: leftmost-first, non-overlapping, as in RE2), its validator turns each run into
  the spans to redact, and detectors with ``decode`` also scan a decoded view of the string
  (matches map back to the original text). Overlapping spans merge into one replacement;
* map keys go through the key rules after key normalisation (:mod:`otel_audit.redact.keys`),
  and are scanned like strings;
* integers of 8+ digits are scanned as their decimal text; ``bytes`` and the canonical-JSON
  envelope ``{"$bytes": "<base64>"}`` (how :mod:`otel_audit.emit.hashing` writes bytes) are
  decoded and scanned when they are UTF-8 text (a redacted envelope is re-encoded);
* in attribute maps, allow-listed names (exact) are kept, and ``audit.redaction.*`` attributes,
  which only the redactor writes, are dropped and counted as ``reserved``.

Bounded cost: every string inspected (values, keys, decoded bytes and views) is charged to the
record's :class:`ScanBudget` (``limits.max_record_chars`` characters by default); a record
that goes over raises :class:`RedactionBudgetError`, and the processors then withhold it.
Detectors are linear in the length of what they scan (``docs/redaction.md``, "Bounded cost").

Configuration:
    secret: argument > ``OTEL_AUDIT_REDACTION_SECRET``. Needed only when a rule pseudonymizes;
    then a missing secret is a :class:`~otel_audit.errors.ConfigError` at construction, because
    pseudonyms from a random per-process key would silently stop being joinable.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hmac
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from otel_audit import envvars, semconv
from otel_audit.errors import ConfigError
from otel_audit.redact.decoders import decoded_view, needs_decoding
from otel_audit.redact.detectors import NORMALIZERS, Normalizer, Validator
from otel_audit.redact.keys import key_normalizer
from otel_audit.redact.labels import LABEL_COUNT_NAME, is_category
from otel_audit.redact.rules import Detector, KeyRule, RedactionRules

__all__ = [
    "BYTES_ENVELOPE_KEY",
    "DEFAULT_MAX_DEPTH",
    "OTEL_AUDIT_REDACTION_SECRET",
    "REDACTION_ATTRIBUTE_PREFIX",
    "REDACTION_COUNT",
    "REDACTION_ERROR",
    "REDACTION_OVER_BUDGET",
    "RESERVED_COUNT_NAME",
    "Redacted",
    "RedactionBudgetError",
    "RedactionDepthError",
    "Redactor",
    "ScanBudget",
    "count_attributes",
]

_logger = logging.getLogger(__name__)

OTEL_AUDIT_REDACTION_SECRET: Final = envvars.OTEL_AUDIT_REDACTION_SECRET
REDACTION_ATTRIBUTE_PREFIX: Final = semconv.AUDIT_REDACTION_PREFIX
REDACTION_COUNT: Final = semconv.AUDIT_REDACTION_COUNT
REDACTION_ERROR: Final = semconv.AUDIT_REDACTION_ERROR
REDACTION_OVER_BUDGET: Final = REDACTION_ATTRIBUTE_PREFIX + "over_budget"
"""Set to 1 on a record withheld because it went over the redaction budget."""

RESERVED_COUNT_NAME: Final = "reserved"
"""Count name of client-supplied ``audit.redaction.*`` attributes dropped (``audit.redaction.reserved``)."""

BYTES_ENVELOPE_KEY: Final = "$bytes"
"""Key of the canonical-JSON form of bytes, ``{"$bytes": "<standard base64>"}``."""

DEFAULT_MAX_DEPTH: Final = 64
"""Deepest nesting walked; deeper values raise :class:`RedactionDepthError` (and so fail closed)."""

_MAX_PASSES: Final = 4  # scans of one string at most: the first, then until nothing more is found
_INT_SCAN_MIN: Final = 10_000_000  # ints of 8+ digits may be card, phone or account numbers
_KEY_CACHE_SIZE: Final = 4096
_MIN_SECRET_BYTES: Final = 16
_DROP: Final = object()
_UNCACHED: Final[Any] = object()
_NOTHING: Final[frozenset[str]] = frozenset()
# Gate term of decoding detectors: a string with none of these has no decoded view.
_DECODE_TRIGGERS: Final = r"%[0-9A-Fa-f]{2}|&[#A-Za-z]|\\u[0-9A-Fa-f]{4}"


class RedactionDepthError(ValueError):
    """A value is nested deeper than the redactor's *max_depth* (or contains itself)."""


class RedactionBudgetError(ValueError):
    """A record made the redactor inspect more text than ``limits.max_record_chars`` allows."""


class ScanBudget:
    """Characters of text one record may still make the redactor inspect.

    Share one budget between the calls that redact the parts of one record (body, attributes,
    span name...): :meth:`Redactor.budget` makes a fresh one.

    Raises:
        RedactionBudgetError: from :meth:`charge`, when the record goes over its limit.
    """

    __slots__ = ("limit", "remaining")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    @property
    def used(self) -> int:
        """Characters inspected so far."""
        return self.limit - self.remaining

    def charge(self, characters: int) -> None:
        """Count *characters* more; raise :class:`RedactionBudgetError` once over the limit."""
        self.remaining -= characters
        if self.remaining < 0:
            raise RedactionBudgetError(f"the record needs more than {self.limit} characters of text inspected")


@dataclass(frozen=True, slots=True)
class Redacted:
    """The outcome of a redaction: the new value and the replacements made, by rule name."""

    value: Any
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of replacements (matches masked or pseudonymized, entries dropped)."""
        return sum(self.counts.values())


def count_attributes(counts: Mapping[str, int]) -> dict[str, int]:
    """Return the attributes recording *counts*: ``audit.redaction.<name>`` (> 0) and the total."""
    attributes = {REDACTION_ATTRIBUTE_PREFIX + name: n for name, n in counts.items() if n}
    attributes[REDACTION_COUNT] = sum(counts.values())
    return attributes


@dataclass(frozen=True, slots=True)
class _CompiledDetector:
    index: int
    name: str
    label: str
    finditer: Any  # re.Pattern.finditer, bound once
    validate: Validator | None
    mask: str | None  # the token when the action is mask, else None
    normalize: Normalizer
    requires: Any  # re.Pattern.search of the pre-check, or None


_FRAGMENT: Final = re.compile(r"[A-Za-z0-9+()]+")  # a list item that may continue a number glued

# A match: (start, detector index, end, decoded text or None).
_Found = tuple[int, int, int, "str | None"]


def _any_search(patterns: list[str]) -> Callable[[str], re.Match[str] | None]:
    """One search for the first match of any of *patterns* (each valid on its own).

    Joined into one alternation when they combine; a pattern whose global flags must lead
    (``(?i)...``) cannot be joined, and then they are searched one after the other.
    """
    try:
        return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.ASCII).search
    except re.error:
        searches = [re.compile(pattern, re.ASCII).search for pattern in patterns]

    def search_each(text: str) -> re.Match[str] | None:
        for search in searches:
            found = search(text)
            if found is not None:
                return found
        return None

    return search_each


class Redactor:
    """Applies one rule set to values, attribute maps and text.

    Args:
        rules: the loaded rule file.
        secret: HMAC key for pseudonyms (``str`` is UTF-8 encoded). Defaults to
            ``OTEL_AUDIT_REDACTION_SECRET``; only required if a rule pseudonymizes.
        max_depth: nesting depth beyond which :class:`RedactionDepthError` is raised.

    Raises:
        ConfigError: a rule pseudonymizes and no secret was given, or *max_depth* < 1.
    """

    __slots__ = (
        "_allow_keys",
        "_by_index",
        "_decode_steps",
        "_decoding",
        "_gate",
        "_groups",
        "_hmac",
        "_key_cache",
        "_key_rules",
        "_max_chars",
        "_max_depth",
        "_nfkc",
        "_normalize_key",
        "_plain_gate",
        "_pseudonym_length",
        "rules",
    )

    def __init__(
        self, rules: RedactionRules, *, secret: str | bytes | None = None, max_depth: int = DEFAULT_MAX_DEPTH
    ) -> None:
        if max_depth < 1:
            raise ConfigError(f"max_depth must be at least 1, got {max_depth}")
        self.rules = rules
        self._max_depth = max_depth
        self._max_chars = rules.max_record_chars
        self._pseudonym_length = rules.pseudonym_length
        self._allow_keys = rules.allow_keys
        self._key_rules: tuple[KeyRule, ...] = rules.key_rules
        self._normalize_key: Callable[[str], str] = key_normalizer(rules.key_normalization)
        self._key_cache: dict[str, KeyRule | None] = {}
        self._hmac = _hmac_template(rules, secret)
        compiled = [_compile(index, detector) for index, detector in enumerate(rules.detectors)]
        self._by_index = tuple(compiled)
        # Detectors sharing a pre-check run it once per string.
        groups: dict[str | None, list[_CompiledDetector]] = {}
        prechecks: dict[str | None, Any] = {}
        for detector, spec in zip(compiled, rules.detectors, strict=True):
            groups.setdefault(spec.requires, []).append(detector)
            prechecks[spec.requires] = spec.requires_regex.search if spec.requires_regex is not None else None
        self._groups = tuple((prechecks[key], tuple(members)) for key, members in groups.items())
        # Detectors with decoders, grouped by their decoder list: one view per list and string.
        decoding: dict[tuple[str, ...], list[_CompiledDetector]] = {}
        for detector, spec in zip(compiled, rules.detectors, strict=True):
            if spec.decode:
                decoding.setdefault(spec.decode, []).append(detector)
        self._decoding = tuple((steps, tuple(members)) for steps, members in decoding.items())
        self._decode_steps = tuple(dict.fromkeys(step for steps in decoding for step in steps))
        # NFKC can change non-ASCII text only: a regex gate cannot say which, is_normalized can.
        self._nfkc = "nfkc" in self._decode_steps
        # When every detector has a pre-check, one combined search skips most strings outright:
        # _gate (pre-checks and decoder triggers) inline in the walk, _plain_gate (pre-checks
        # only) then decides whether the detectors run on the text itself.
        if rules.detectors and None not in groups:
            terms = [key for key in groups if key is not None]
            self._plain_gate: Any = _any_search(terms)
            if self._decoding:
                terms.append(_DECODE_TRIGGERS)
            self._gate: Any = _any_search(terms)
        else:
            self._gate = self._plain_gate = None

    # -- public API ---------------------------------------------------------------------------

    def budget(self) -> ScanBudget:
        """A fresh budget for one record (``limits.max_record_chars`` of the rules)."""
        return ScanBudget(self._max_chars)

    def redact(self, value: Any) -> Redacted:
        """Redact any JSON-like *value* (a log body): strings, maps, lists, nested to any depth.

        Raises:
            RedactionDepthError: *value* is nested deeper than *max_depth*.
            RedactionBudgetError: *value* holds more text than the record budget.
        """
        counts: dict[str, int] = {}
        return Redacted(self.apply(value, counts), counts)

    def redact_attributes(self, attributes: Mapping[str, Any]) -> Redacted:
        """Redact an attribute map; allow-listed keys are passed through untouched.

        Raises:
            RedactionBudgetError: the map holds more text than the record budget.
        """
        counts: dict[str, int] = {}
        return Redacted(self.apply_attributes(attributes, counts), counts)

    def redact_text(self, text: str) -> Redacted:
        """Redact one string with the detectors (key rules do not apply to bare text).

        Raises:
            RedactionBudgetError: *text* is longer than the record budget.
        """
        counts: dict[str, int] = {}
        return Redacted(self._scan(text, counts, self.budget()), counts)

    def apply(self, value: Any, counts: dict[str, int], budget: ScanBudget | None = None) -> Any:
        """Return *value* redacted, adding the replacements made to *counts* (hot-path form).

        *budget* is the record's (:meth:`budget`); without one, *value* gets a budget of its own.
        """
        return self._value(value, 0, counts, budget if budget is not None else ScanBudget(self._max_chars))

    def apply_attributes(
        self, attributes: Mapping[str, Any], counts: dict[str, int], budget: ScanBudget | None = None
    ) -> Mapping[str, Any]:
        """Return *attributes* redacted (the same object if nothing changed), adding to *counts*.

        Client-supplied ``audit.redaction.*`` attributes are dropped (counted as ``reserved``).
        """
        redacted: Mapping[str, Any] = self._mapping(
            attributes, 0, counts, budget if budget is not None else ScanBudget(self._max_chars), attributes=True
        )
        return redacted

    def pseudonym(self, label: str, value: str) -> str:
        """Return the pseudonym token ``[LABEL:hex]`` of *value* (already normalized).

        Raises:
            ConfigError: the redactor was built without a secret.
        """
        if self._hmac is None:
            raise ConfigError(f"pseudonyms need a secret: set {OTEL_AUDIT_REDACTION_SECRET}")
        mac = self._hmac.copy()
        mac.update(label.encode("ascii") + b"\x00" + value.encode("utf-8", "surrogatepass"))
        return f"[{label}:{mac.hexdigest()[: self._pseudonym_length]}]"

    def normalize_key(self, key: str) -> str:
        """The form of *key* that key rules are matched against (``key_normalization``)."""
        return self._normalize_key(key)

    # -- the walk -----------------------------------------------------------------------------

    def _value(self, value: Any, depth: int, counts: dict[str, int], budget: ScanBudget) -> Any:  # noqa: PLR0911 - one type dispatch
        kind = type(value)
        if kind is str:
            return self._scan(value, counts, budget)
        if value is None or kind is float or kind is bool:
            return value
        if kind is int:
            return self._integer(value, counts, budget)
        if isinstance(value, Mapping):
            return self._mapping(value, depth + 1, counts, budget, attributes=False)
        if isinstance(value, (list, tuple)):
            return self._sequence(value, depth + 1, counts, budget)
        if isinstance(value, str):
            return self._scan(str(value), counts, budget)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self._integer(int(value), counts, budget)
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                text = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return value  # binary data, not text
            redacted = self._scan(text, counts, budget)
            return value if redacted is text else redacted
        if isinstance(value, float):
            return value
        # Anything else (sets, dates, Decimals, objects) is judged by its text; if that holds
        # something to redact, the redacted text replaces it.
        if isinstance(value, (set, frozenset)):
            return self._sequence(tuple(value), depth + 1, counts, budget)
        text = str(value)
        redacted = self._scan(text, counts, budget)
        return value if redacted is text else redacted

    def _integer(self, value: int, counts: dict[str, int], budget: ScanBudget) -> Any:
        if -_INT_SCAN_MIN < value < _INT_SCAN_MIN:
            return value
        text = str(value)
        redacted = self._scan(text, counts, budget)
        return value if redacted is text else redacted

    def _sequence(
        self, sequence: list[Any] | tuple[Any, ...], depth: int, counts: dict[str, int], budget: ScanBudget
    ) -> Any:
        if depth > self._max_depth:
            raise RedactionDepthError(f"value nested deeper than {self._max_depth} levels")
        out: list[Any] | None = None
        strings = 0
        for index, item in enumerate(sequence):
            new = self._value(item, depth, counts, budget)
            if type(new) is str:
                strings += 1
            if out is None:
                if new is item:
                    continue
                out = list(sequence[:index])
            out.append(new)
        if strings > 1:
            items = out if out is not None else sequence
            # One combined check of all the strings first: most lists hold nothing to join.
            text = "".join([item for item in items if type(item) is str])
            gate = self._gate
            if (
                gate is None
                or gate(text) is not None
                or (self._nfkc and not text.isascii() and not unicodedata.is_normalized("NFKC", text))
            ):
                joined = self._across_items(items, counts, budget)
                if joined is not None:
                    out = joined
        if out is None:
            return sequence
        return tuple(out) if isinstance(sequence, tuple) else out

    def _across_items(self, items: list[Any] | tuple[Any, ...], counts: dict[str, int], budget: ScanBudget) -> Any:
        """Mask values split over consecutive string items (``["ana.lopez", "@example.org"]``).

        Each run of 2+ consecutive string items is scanned joined (no separator added); a span
        that crosses an item boundary is replaced, in every item it touches, by its token. A
        boundary between two digits counts only when every item the span touches is made of
        ASCII letters, digits, ``+``, ``(`` and ``)`` alone (``["7656", "9385", "20"]``,
        ``["+44", "20", "7946", "0958"]``, ``["DE89", "3704", ...]``), so
        ``["2024-05-17", "10:30"]`` is not a number.
        Returns the new items, or ``None`` when nothing was found.
        """
        result: list[Any] | None = None
        count = len(items)
        first = 0
        while first < count:
            if type(items[first]) is not str:
                first += 1
                continue
            last = first
            while last < count and type(items[last]) is str:
                last += 1
            if last - first > 1:
                parts = self._join_run(items[first:last], counts, budget)
                if parts is not None:
                    if result is None:
                        result = list(items)
                    result[first:last] = parts
            first = last
        return result

    def _join_run(self, parts: Any, counts: dict[str, int], budget: ScanBudget) -> list[str] | None:
        text = "".join(parts)
        budget.charge(len(text))
        plain_gate = self._plain_gate
        if (
            plain_gate is not None
            and plain_gate(text) is None
            and not (self._decoding and needs_decoding(text, self._decode_steps))
        ):
            return None
        ends = list(itertools.accumulate(map(len, parts)))
        starts = [0, *ends[:-1]]
        crossing: list[_Found] = []
        for found in self._find(text, budget):
            start, _, end, _ = found
            first = bisect.bisect_right(ends, start)
            last = bisect.bisect_right(ends, end - 1)
            if first == last:
                continue  # inside one item: that item's own scan decided it
            glued = any(text[ends[k] - 1].isdigit() and text[ends[k]].isdigit() for k in range(first, last))
            if glued and not all(_FRAGMENT.fullmatch(parts[k]) for k in range(first, last + 1)):
                continue
            crossing.append(found)
        if not crossing:
            return None
        pieces: list[list[str]] = [[] for _ in parts]
        cursor = [0] * len(parts)
        for start, end, replacement in self._merged(text, crossing, counts):
            for k in range(bisect.bisect_right(ends, start), bisect.bisect_right(ends, end - 1) + 1):
                local_start, local_end = max(start, starts[k]) - starts[k], min(end, ends[k]) - starts[k]
                pieces[k].append(parts[k][cursor[k] : local_start])
                pieces[k].append(replacement)
                cursor[k] = local_end
        return ["".join(pieces[k]) + parts[k][cursor[k] :] if pieces[k] else parts[k] for k in range(len(parts))]

    def _bytes_envelope(
        self, mapping: Mapping[Any, Any], encoded: str, counts: dict[str, int], budget: ScanBudget
    ) -> Any:
        """``{"$bytes": base64}``: scanned as its UTF-8 text, re-encoded if redacted; else ``None``."""
        try:
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None  # not base64 of text: an ordinary map
        redacted = self._scan(text, counts, budget)
        if redacted is text:
            return mapping
        return {BYTES_ENVELOPE_KEY: base64.b64encode(redacted.encode("utf-8")).decode("ascii")}

    def _mapping(  # noqa: PLR0912, PLR0915 - the hot loop, inlined on purpose
        self, mapping: Mapping[Any, Any], depth: int, counts: dict[str, int], budget: ScanBudget, *, attributes: bool
    ) -> Any:
        if depth > self._max_depth:
            raise RedactionDepthError(f"value nested deeper than {self._max_depth} levels")
        if not attributes and len(mapping) == 1:
            encoded = mapping.get(BYTES_ENVELOPE_KEY)
            if type(encoded) is str:
                envelope = self._bytes_envelope(mapping, encoded, counts, budget)
                if envelope is not None:
                    return envelope
        # The hot loop: the common cases (allow-listed key, cached clean key, string or number
        # value) are handled inline; everything else goes through _value / _key.
        allow_keys = self._allow_keys if attributes else _NOTHING
        key_cache = self._key_cache
        gate = self._gate
        nfkc = self._nfkc
        out: dict[Any, Any] | None = None
        index = -1
        for key, value in mapping.items():
            index += 1
            new_key = key
            new_value = value
            if type(key) is not str:
                new_value = self._value(value, depth, counts, budget)
            elif key in allow_keys:
                pass
            elif attributes and key.startswith(REDACTION_ATTRIBUTE_PREFIX):
                # Only the redactor writes audit.redaction.*: a client's are dropped, never trusted.
                counts[RESERVED_COUNT_NAME] = counts.get(RESERVED_COUNT_NAME, 0) + 1
                new_value = _DROP
            elif attributes and key == semconv.AUDIT_OUTPUT_LABEL and not is_category(value):
                # A label is a category name, never free text copied out of the output.
                counts[LABEL_COUNT_NAME] = counts.get(LABEL_COUNT_NAME, 0) + 1
                new_value = _DROP
            else:
                rule = key_cache.get(key, _UNCACHED)
                if rule is _UNCACHED:
                    rule, new_key = self._key(key, counts, budget)
                else:
                    # A key costs the same cached or not: a record's budget never depends on
                    # what earlier records left in the cache.
                    budget.charge(len(key))
                if rule is not None:
                    if rule.action != "keep":
                        new_value = self._key_rule_value(rule, value, counts)
                elif type(value) is str:
                    if gate is None or gate(value) is not None or (nfkc and not value.isascii()):
                        new_value = self._scan(value, counts, budget)
                    else:
                        budget.charge(len(value))
                elif not (value is None or type(value) is float or type(value) is bool):
                    new_value = self._value(value, depth, counts, budget)
            if out is None:
                if new_key is key and new_value is value:
                    continue
                out = dict(itertools.islice(mapping.items(), index))
            if new_value is _DROP:
                continue
            if new_key in out:
                new_key = _unique_key(new_key, out)
            out[new_key] = new_value
        return mapping if out is None else out

    def _key(self, key: str, counts: dict[str, int], budget: ScanBudget) -> tuple[KeyRule | None, str]:
        """The rule of a key the cache does not know (``_mapping`` looks there first and charges a
        cached key), and the key scanned by the detectors (the same object when clean)."""
        normalized = self._normalize_key(key)
        rule = None
        for candidate in self._key_rules:
            if candidate.regex.search(normalized) is not None:
                rule = candidate
                break
        redacted_key = self._scan(key, counts, budget)
        # Only clean keys are cached: the cache must never hold personal data.
        if redacted_key is key:
            if len(self._key_cache) >= _KEY_CACHE_SIZE:
                self._key_cache.clear()
            self._key_cache[key] = rule
        return rule, redacted_key

    def _key_rule_value(self, rule: KeyRule, value: Any, counts: dict[str, int]) -> Any:
        counts[rule.name] = counts.get(rule.name, 0) + 1
        if rule.action == "drop":
            return _DROP
        if rule.action == "mask":
            return f"[{rule.token}]"
        canonical = (
            value
            if isinstance(value, str)
            else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        )
        return self.pseudonym(rule.token, canonical)

    # -- text ---------------------------------------------------------------------------------

    def _scan(self, text: str, counts: dict[str, int], budget: ScanBudget) -> str:
        budget.charge(len(text))
        gate = self._gate
        if (
            gate is not None
            and gate(text) is None
            and (not self._nfkc or text.isascii() or unicodedata.is_normalized("NFKC", text))
        ):
            return text
        found = self._find(text, budget)
        if not found:
            return text
        redacted = self._replace(text, found, counts)
        # A token changes the context of what is left (a digit before "#0100..." becomes "]"): scan
        # the result again until nothing more is found, so that redaction is idempotent.
        for _ in range(_MAX_PASSES - 1):
            budget.charge(len(redacted))
            found = self._find(redacted, budget)
            if not found:
                break
            redacted = self._replace(redacted, found, counts)
        return redacted

    def _find(self, text: str, budget: ScanBudget) -> list[_Found]:  # noqa: PLR0912 - the scan loop, inlined
        """Return ``(start, detector index, end, decoded)`` of every accepted span in *text*."""
        found: list[_Found] = []
        plain = self._plain_gate is None or self._plain_gate(text) is not None
        for precheck, detectors in self._groups if plain else ():
            if precheck is not None and precheck(text) is None:
                continue
            for detector in detectors:
                validate = detector.validate
                index = detector.index
                for match in detector.finditer(text):
                    start, end = match.span()
                    if validate is None:
                        found.append((start, index, end, None))
                        continue
                    for span_start, span_end in validate(text, start, end):
                        if span_end > span_start:
                            found.append((span_start, index, span_end, None))
        if not self._decoding or not needs_decoding(text, self._decode_steps):
            return found
        for steps, detectors in self._decoding:
            if len(self._decoding) > 1 and not needs_decoding(text, steps):
                continue
            view = decoded_view(text, steps)
            if view is None:
                continue
            decoded = view.text
            budget.charge(len(decoded))
            for detector in detectors:
                if detector.requires is not None and detector.requires(decoded) is None:
                    continue
                validate = detector.validate
                for match in detector.finditer(decoded):
                    spans = [match.span()] if validate is None else validate(decoded, *match.span())
                    for span_start, span_end in spans:
                        if span_end > span_start:
                            start, end = view.origin(span_start, span_end)
                            found.append((start, detector.index, end, decoded[span_start:span_end]))
        return found

    def _merged(self, text: str, found: list[_Found], counts: dict[str, int]) -> list[tuple[int, int, str]]:
        """``(start, end, replacement)`` of each replacement, counted: overlapping spans merged."""
        found.sort(key=_span_order)
        merged: list[tuple[int, int, str]] = []
        index = 0
        while index < len(found):
            start, detector_index, end, value = found[index]
            index += 1
            # Overlapping matches merge into one replacement named by the leftmost (then first-listed).
            extended = False
            while index < len(found) and found[index][0] < end:
                if found[index][2] > end:
                    end = found[index][2]
                    extended = True
                index += 1
            detector = self._by_index[detector_index]
            if detector.mask is not None:
                replacement = detector.mask
            else:
                original = value if value is not None and not extended else text[start:end]
                replacement = self.pseudonym(detector.label, detector.normalize(original))
            counts[detector.name] = counts.get(detector.name, 0) + 1
            merged.append((start, end, replacement))
        return merged

    def _replace(self, text: str, found: list[_Found], counts: dict[str, int]) -> str:
        pieces: list[str] = []
        last = 0
        for start, end, replacement in self._merged(text, found, counts):
            pieces.append(text[last:start])
            pieces.append(replacement)
            last = end
        pieces.append(text[last:])
        return "".join(pieces)


def _span_order(found: _Found) -> tuple[int, int, int]:
    return found[0], found[1], found[2]


def _compile(index: int, detector: Detector) -> _CompiledDetector:
    return _CompiledDetector(
        index=index,
        name=detector.name,
        label=detector.token,
        finditer=detector.regex.finditer,
        validate=detector.validator,
        mask=f"[{detector.token}]" if detector.action == "mask" else None,
        normalize=NORMALIZERS[detector.normalize],
        requires=detector.requires_regex.search if detector.requires_regex is not None else None,
    )


def _hmac_template(rules: RedactionRules, secret: str | bytes | None) -> hmac.HMAC | None:
    if secret is None:
        secret = envvars.OTEL_AUDIT_REDACTION_SECRET.resolve()
    if secret is None:
        if rules.needs_secret:
            raise ConfigError(
                f"the redaction rules in {rules.source} pseudonymize values, which needs a secret: "
                f"pass secret=... or set {OTEL_AUDIT_REDACTION_SECRET}"
            )
        return None
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ConfigError("the redaction secret must not be empty")
    if len(key) < _MIN_SECRET_BYTES:
        _logger.warning(
            "the redaction secret is %d bytes; use at least %d so pseudonyms cannot be brute-forced",
            len(key),
            _MIN_SECRET_BYTES,
        )
    return hmac.new(key, digestmod="sha256")


def _unique_key(key: Any, taken: Mapping[Any, Any]) -> Any:
    # Two keys redacted to the same token ("[EMAIL]") must not overwrite each other.
    suffix = 2
    while f"{key}#{suffix}" in taken:
        suffix += 1
    return f"{key}#{suffix}"
