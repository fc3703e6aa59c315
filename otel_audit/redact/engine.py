"""The redactor: applies :class:`~otel_audit.redact.rules.RedactionRules` to values and attributes.

Usage::

    redactor = Redactor(load_rules(), secret=b"...")        # or OTEL_AUDIT_REDACTION_SECRET
    result = redactor.redact({"input": {"note": "mail me: ana@example.org"}})
    result.value    # {"input": {"note": "mail me: [EMAIL]"}}
    result.counts   # {"email": 1}

The redactor never mutates its input: containers are copied only where something changed, and an
unchanged value is returned as the very same object (so callers can test ``is``). Everything that
can be done once (compiling, grouping detectors by their pre-check, the HMAC key schedule) is done
in ``__init__``; per value it only runs regexes. It is thread-safe.

Configuration:
    secret: argument > ``OTEL_AUDIT_REDACTION_SECRET``. Needed only when a rule pseudonymizes;
    then a missing secret is a :class:`~otel_audit.errors.ConfigError` at construction, because
    pseudonyms from a random per-process key would silently stop being joinable.
"""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from otel_audit import envvars, semconv
from otel_audit.errors import ConfigError
from otel_audit.redact.detectors import NORMALIZERS, VALIDATORS, Normalizer, Validator
from otel_audit.redact.rules import Detector, KeyRule, RedactionRules

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "OTEL_AUDIT_REDACTION_SECRET",
    "REDACTION_ATTRIBUTE_PREFIX",
    "REDACTION_COUNT",
    "REDACTION_ERROR",
    "Redacted",
    "RedactionDepthError",
    "Redactor",
    "count_attributes",
]

_logger = logging.getLogger(__name__)

OTEL_AUDIT_REDACTION_SECRET: Final = envvars.OTEL_AUDIT_REDACTION_SECRET
REDACTION_ATTRIBUTE_PREFIX: Final = semconv.AUDIT_REDACTION_PREFIX
REDACTION_COUNT: Final = semconv.AUDIT_REDACTION_COUNT
REDACTION_ERROR: Final = semconv.AUDIT_REDACTION_ERROR

DEFAULT_MAX_DEPTH: Final = 64
"""Deepest nesting walked; deeper values raise :class:`RedactionDepthError` (and so fail closed)."""

_INT_SCAN_MIN: Final = 10_000_000  # ints of 8+ digits may be card, phone or account numbers
_KEY_CACHE_SIZE: Final = 4096
_MIN_SECRET_BYTES: Final = 16
_DROP: Final = object()
_UNCACHED: Final[Any] = object()
_NOTHING: Final[frozenset[str]] = frozenset()


class RedactionDepthError(ValueError):
    """A value is nested deeper than the redactor's *max_depth* (or contains itself)."""


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
    search: Any  # re.Pattern.search, bound once
    validate: Validator | None
    mask: str | None  # the token when the action is mask, else None
    normalize: Normalizer


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
        "_allow_prefixes",
        "_by_index",
        "_gate",
        "_groups",
        "_hmac",
        "_key_cache",
        "_key_rules",
        "_max_depth",
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
        self._pseudonym_length = rules.pseudonym_length
        self._allow_keys = rules.allow_keys
        self._allow_prefixes = rules.allow_prefixes
        self._key_rules: tuple[KeyRule, ...] = rules.key_rules
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
        # When every detector has a pre-check, one combined search skips most strings outright.
        if rules.detectors and None not in groups:
            combined = "|".join(f"(?:{key})" for key in groups if key is not None)
            self._gate: Any = re.compile(combined, re.ASCII).search
        else:
            self._gate = None

    # -- public API ---------------------------------------------------------------------------

    def redact(self, value: Any) -> Redacted:
        """Redact any JSON-like *value* (a log body): strings, maps, lists, nested to any depth.

        Raises:
            RedactionDepthError: *value* is nested deeper than *max_depth*.
        """
        counts: dict[str, int] = {}
        return Redacted(self.apply(value, counts), counts)

    def redact_attributes(self, attributes: Mapping[str, Any]) -> Redacted:
        """Redact an attribute map; allow-listed keys are passed through untouched."""
        counts: dict[str, int] = {}
        return Redacted(self.apply_attributes(attributes, counts), counts)

    def redact_text(self, text: str) -> Redacted:
        """Redact one string with the detectors (key rules do not apply to bare text)."""
        counts: dict[str, int] = {}
        return Redacted(self._scan(text, counts), counts)

    def apply(self, value: Any, counts: dict[str, int]) -> Any:
        """Return *value* redacted, adding the replacements made to *counts* (hot-path form)."""
        return self._value(value, 0, counts)

    def apply_attributes(self, attributes: Mapping[str, Any], counts: dict[str, int]) -> Mapping[str, Any]:
        """Return *attributes* redacted (the same object if nothing changed), adding to *counts*."""
        redacted: Mapping[str, Any] = self._mapping(attributes, 0, counts, attributes=True)
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

    # -- the walk -----------------------------------------------------------------------------

    def _value(self, value: Any, depth: int, counts: dict[str, int]) -> Any:  # noqa: PLR0911 - one type dispatch
        kind = type(value)
        if kind is str:
            return self._scan(value, counts)
        if value is None or kind is float or kind is bool:
            return value
        if kind is int:
            return self._integer(value, counts)
        if isinstance(value, Mapping):
            return self._mapping(value, depth + 1, counts, attributes=False)
        if isinstance(value, (list, tuple)):
            return self._sequence(value, depth + 1, counts)
        if isinstance(value, str):
            return self._scan(str(value), counts)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self._integer(int(value), counts)
        if isinstance(value, (bytes, bytearray, memoryview)):
            text = bytes(value).decode("utf-8", "replace")
            redacted = self._scan(text, counts)
            return value if redacted is text else redacted
        if isinstance(value, float):
            return value
        # Anything else (sets, dates, Decimals, objects) is judged by its text; if that holds
        # something to redact, the redacted text replaces it.
        if isinstance(value, (set, frozenset)):
            return self._sequence(tuple(value), depth + 1, counts)
        text = str(value)
        redacted = self._scan(text, counts)
        return value if redacted is text else redacted

    def _integer(self, value: int, counts: dict[str, int]) -> Any:
        if -_INT_SCAN_MIN < value < _INT_SCAN_MIN:
            return value
        text = str(value)
        redacted = self._scan(text, counts)
        return value if redacted is text else redacted

    def _sequence(self, sequence: list[Any] | tuple[Any, ...], depth: int, counts: dict[str, int]) -> Any:
        if depth > self._max_depth:
            raise RedactionDepthError(f"value nested deeper than {self._max_depth} levels")
        out: list[Any] | None = None
        for index, item in enumerate(sequence):
            new = self._value(item, depth, counts)
            if out is None:
                if new is item:
                    continue
                out = list(sequence[:index])
            out.append(new)
        if out is None:
            return sequence
        return tuple(out) if isinstance(sequence, tuple) else out

    def _mapping(  # noqa: PLR0912 - the hot loop, inlined on purpose
        self, mapping: Mapping[Any, Any], depth: int, counts: dict[str, int], *, attributes: bool
    ) -> Any:
        if depth > self._max_depth:
            raise RedactionDepthError(f"value nested deeper than {self._max_depth} levels")
        # The hot loop: the common cases (allow-listed key, cached clean key, string or number
        # value) are handled inline; everything else goes through _value / _key.
        allow_keys = self._allow_keys if attributes else _NOTHING
        allow_prefixes = self._allow_prefixes if attributes else ()
        key_cache = self._key_cache
        gate = self._gate
        out: dict[Any, Any] | None = None
        index = -1
        for key, value in mapping.items():
            index += 1
            new_key = key
            new_value = value
            if type(key) is not str:
                new_value = self._value(value, depth, counts)
            elif key in allow_keys or (allow_prefixes and key.startswith(allow_prefixes)):
                pass
            else:
                rule = key_cache.get(key, _UNCACHED)
                if rule is _UNCACHED:
                    rule, new_key = self._key(key, counts)
                if rule is not None:
                    if rule.action != "keep":
                        new_value = self._key_rule_value(rule, value, counts)
                elif type(value) is str:
                    if gate is None or gate(value) is not None:
                        new_value = self._scan(value, counts)
                elif not (value is None or type(value) is float or type(value) is bool):
                    new_value = self._value(value, depth, counts)
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

    def _key(self, key: str, counts: dict[str, int]) -> tuple[KeyRule | None, str]:
        cached = self._key_cache.get(key, _UNCACHED)
        if cached is not _UNCACHED:
            # The caller's own key object is returned, so an unchanged map is recognised by identity.
            return cached, key
        rule = None
        for candidate in self._key_rules:
            if candidate.regex.search(key) is not None:
                rule = candidate
                break
        redacted_key = self._scan(key, counts)
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

    def _scan(self, text: str, counts: dict[str, int]) -> str:
        gate = self._gate
        if gate is not None and gate(text) is None:
            return text
        found = self._find(text)
        return self._replace(text, found, counts) if found else text

    def _find(self, text: str) -> list[tuple[int, int, int]]:
        """Return ``(start, detector index, end)`` of every accepted match in *text*."""
        found: list[tuple[int, int, int]] = []
        for precheck, detectors in self._groups:
            if precheck is not None and precheck(text) is None:
                continue
            for detector in detectors:
                search = detector.search
                validate = detector.validate
                position = 0
                while (match := search(text, position)) is not None:
                    start, end = match.span()
                    if validate is not None:
                        accepted = validate(text, start, end)
                        if accepted is None:
                            position = start + 1
                            continue
                        start, end = accepted
                    if end <= start:
                        position = start + 1
                        continue
                    found.append((start, detector.index, end))
                    position = end
        return found

    def _replace(self, text: str, found: list[tuple[int, int, int]], counts: dict[str, int]) -> str:
        found.sort()
        pieces: list[str] = []
        last = 0
        index = 0
        while index < len(found):
            start, detector_index, end = found[index]
            index += 1
            # Overlapping matches merge into one replacement named by the leftmost (then first-listed).
            while index < len(found) and found[index][0] < end:
                end = max(end, found[index][2])
                index += 1
            detector = self._by_index[detector_index]
            pieces.append(text[last:start])
            if detector.mask is not None:
                pieces.append(detector.mask)
            else:
                pieces.append(self.pseudonym(detector.label, detector.normalize(text[start:end])))
            counts[detector.name] = counts.get(detector.name, 0) + 1
            last = end
        pieces.append(text[last:])
        return "".join(pieces)


def _compile(index: int, detector: Detector) -> _CompiledDetector:
    return _CompiledDetector(
        index=index,
        name=detector.name,
        label=detector.token,
        search=detector.regex.search,
        validate=VALIDATORS[detector.validate] if detector.validate is not None else None,
        mask=f"[{detector.token}]" if detector.action == "mask" else None,
        normalize=NORMALIZERS[detector.normalize],
    )


def _hmac_template(rules: RedactionRules, secret: str | bytes | None) -> hmac.HMAC | None:
    if secret is None:
        secret = envvars.env_str(OTEL_AUDIT_REDACTION_SECRET)
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
