"""Load and validate the one redaction rule file into frozen, precompiled rules.

The same file (``collector-config/redaction.yaml``) drives the in-process redactor and, rendered
by ``otel_audit.redact.collector``, the OpenTelemetry Collector's transform/redaction processors.
Every pattern in it must therefore mean the same thing to Python's ``re`` and to Go's RE2:
:func:`check_re2_syntax` refuses the constructs only one of them knows (lookarounds,
backreferences, possessive quantifiers, ``\\Z``/``\\z``, ``\\p{..}``, ``\\u....``…), and patterns
are compiled with :data:`re.ASCII` so that ``\\b``, ``\\d``, ``\\w`` and ``\\s`` are ASCII-only, as
in RE2. The format itself is documented at the top of the shipped file and in
``docs/redaction.md``.

Usage::

    rules = load_rules("collector-config/redaction.yaml")
    for pattern in re2_patterns(rules):      # what the collector renderer needs
        print(pattern.name, pattern.pattern, pattern.post_validated)

A file that cannot be used raises :class:`RedactionRuleError` naming the file, line and key.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, cast

import yaml

# The parser of the re module, for a pattern's minimum width (re._parser from Python 3.11).
try:
    _sre_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python 3.10
    _sre_parser = importlib.import_module("sre_parse")

from otel_audit import envvars
from otel_audit.errors import ConfigError
from otel_audit.redact.decoders import DECODERS
from otel_audit.redact.detectors import NORMALIZERS, VALIDATORS, Validator
from otel_audit.redact.keys import DEFAULT_KEY_NORMALIZATION, KEY_NORMALIZERS

__all__ = [
    "DEFAULT_MAX_RECORD_CHARS",
    "OTEL_AUDIT_REDACTION_RULES",
    "Detector",
    "DetectorAction",
    "KeyAction",
    "KeyRule",
    "Re2Pattern",
    "RedactionRuleError",
    "RedactionRules",
    "check_re2_syntax",
    "default_rules_path",
    "load_rules",
    "parse_rules",
    "re2_patterns",
]

OTEL_AUDIT_REDACTION_RULES: Final = envvars.OTEL_AUDIT_REDACTION_RULES

DetectorAction = Literal["mask", "pseudonymize"]
KeyAction = Literal["drop", "mask", "pseudonymize", "keep"]

_SUPPORTED_VERSION: Final = 1
_DETECTOR_ACTIONS: Final = ("mask", "pseudonymize")
_KEY_ACTIONS: Final = ("drop", "mask", "pseudonymize", "keep")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
_TOKEN = re.compile(r"[A-Z][A-Z0-9_]{0,62}\Z")
# audit.redaction.count / .error / .over_budget / .reserved are written by the redactor itself.
_RESERVED_NAMES: Final = frozenset({"count", "error", "over_budget", "reserved"})
_RESERVED_PREFIX: Final = "audit.redaction."
_TOP_KEYS: Final = frozenset(
    {"version", "defaults", "limits", "key_normalization", "allow_keys", "key_rules", "detectors", "custom_detectors"}
)
_DEFAULT_KEYS: Final = frozenset({"action", "pseudonym_length"})
_LIMIT_KEYS: Final = frozenset({"max_record_chars"})
_DETECTOR_KEYS: Final = frozenset(
    {
        "name",
        "token",
        "pattern",
        "patterns",
        "action",
        "validate",
        "options",
        "decode",
        "requires",
        "normalize",
        "enabled",
        "description",
    }
)
DEFAULT_MAX_RECORD_CHARS: Final = 1 << 20
"""Characters of text one record may make the redactor inspect (``limits.max_record_chars``)."""
_KEY_RULE_KEYS: Final = frozenset({"name", "token", "keys", "action", "enabled", "description"})
_MAX_REPEAT: Final = 1000  # RE2's limit on {n,m}
_LEADING_FLAGS = re.compile(r"\(\?([ims]+)\)")


class RedactionRuleError(ConfigError):
    """The redaction rule file is unreadable or invalid; the message names file, line and key.

    Attributes:
        source: the file (or ``<string>``).
        line: 1-based line of the offending key, or ``None`` when unknown.
        key: dotted path of the offending key, e.g. ``detectors[2].pattern``.
    """

    def __init__(self, source: str, line: int | None, key: str, message: str) -> None:
        self.source = source
        self.line = line
        self.key = key
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Detector:
    """A value detector: where its regex matches (and its validator agrees), the text is replaced.

    Attributes:
        name: lower-case identifier; counts are recorded as ``audit.redaction.<name>``.
        token: upper-case label of the replacement, ``[EMAIL]`` or ``[EMAIL:3f9a…]``.
        pattern: the RE2-compatible source (several ``patterns`` are joined as alternatives).
        regex: *pattern* compiled with :data:`re.ASCII`.
        action: ``mask`` or ``pseudonymize``.
        validate: name of a validator in :data:`~otel_audit.redact.detectors.VALIDATORS`.
        options: the validator's options (``regions`` of ``phone``...), as given.
        validator: the validator built with *options* (``None`` without *validate*).
        decode: decoders of :data:`~otel_audit.redact.decoders.DECODERS` whose decoded view of
            each string the pattern also runs on (matches map back to the original text).
        requires: optional cheap pre-check; strings it does not match skip this detector
            (with *decode*, it is checked on the decoded view).
        requires_regex: *requires* compiled.
        normalize: canonical form a pseudonym is computed from (``none``, ``lower``, ``digits``…).
        custom: ``True`` for entries of ``custom_detectors``.
        line: line of the entry in the rule file.
    """

    name: str
    token: str
    pattern: str
    regex: re.Pattern[str]
    action: DetectorAction
    validate: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    validator: Validator | None = field(default=None, compare=False, repr=False)
    decode: tuple[str, ...] = ()
    requires: str | None = None
    requires_regex: re.Pattern[str] | None = None
    normalize: str = "none"
    description: str = ""
    custom: bool = False
    line: int | None = None

    @property
    def post_validated(self) -> bool:
        """Whether matches need a validator or decoder the collector cannot run (it differs there)."""
        return self.validate is not None or bool(self.decode)


@dataclass(frozen=True, slots=True)
class KeyRule:
    """A rule on map keys (body keys at any depth and attribute keys) whose regex matches.

    Attributes:
        name: lower-case identifier; counts are recorded as ``audit.redaction.<name>``.
        token: upper-case label used by ``mask`` and ``pseudonymize``.
        keys: RE2-compatible regex searched in the key (unanchored; use ``^``/``$``).
        regex: *keys* compiled with :data:`re.ASCII`.
        action: ``drop`` the entry, ``mask`` or ``pseudonymize`` its whole value, or ``keep``
            it verbatim (no detector runs on it).
        line: line of the entry in the rule file.
    """

    name: str
    token: str
    keys: str
    regex: re.Pattern[str]
    action: KeyAction
    description: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RedactionRules:
    """The validated content of one rule file.

    Attributes:
        source: where the rules came from.
        default_action: action of detectors that name none.
        pseudonym_length: hex characters of the HMAC-SHA256 kept in a pseudonym token.
        max_record_chars: characters of text one record may make the redactor inspect; a record
            over it is withheld (``limits.max_record_chars``).
        key_normalization: the steps of :mod:`otel_audit.redact.keys` applied to a key before
            the key rules are matched.
        allow_keys: attribute names never touched, compared exactly (no prefixes, no
            normalisation); never an ``audit.redaction.*`` name.
        key_rules: key rules, first match wins.
        detectors: enabled detectors, built-in then custom; on overlapping matches at the same
            position the one listed first wins.
    """

    source: str
    default_action: DetectorAction
    pseudonym_length: int
    allow_keys: frozenset[str]
    key_rules: tuple[KeyRule, ...]
    detectors: tuple[Detector, ...]
    max_record_chars: int = DEFAULT_MAX_RECORD_CHARS
    key_normalization: tuple[str, ...] = DEFAULT_KEY_NORMALIZATION

    def is_allowed(self, key: str) -> bool:
        """Return whether the attribute *key* is on the allow-list (never redacted): exact names only."""
        return key in self.allow_keys

    @property
    def needs_secret(self) -> bool:
        """Whether any detector or key rule pseudonymizes (and so needs a secret)."""
        return any(d.action == "pseudonymize" for d in self.detectors) or any(
            k.action == "pseudonymize" for k in self.key_rules
        )


@dataclass(frozen=True, slots=True)
class Re2Pattern:
    """One RE2-compatible pattern of the rule file, as the collector renderer needs it.

    Attributes:
        kind: ``detector`` (matches values) or ``key`` (matches keys).
        name, token, action: as in the rule.
        pattern: the raw pattern, valid for Go's ``regexp`` (RE2) and Python's ``re``.
        post_validated: the in-process redactor also runs a validator (Luhn, mod-97…) on each
            match, or decoders; without them, the collector masks every raw match (a superset)
            and misses encoded values.
    """

    kind: Literal["detector", "key"]
    name: str
    token: str
    action: str
    pattern: str
    post_validated: bool


def re2_patterns(rules: RedactionRules) -> tuple[Re2Pattern, ...]:
    """Return every key-rule and detector pattern of *rules*, in rule-file order."""
    keys = tuple(Re2Pattern("key", k.name, k.token, k.action, k.keys, False) for k in rules.key_rules)
    values = tuple(
        Re2Pattern("detector", d.name, d.token, d.action, d.pattern, d.post_validated) for d in rules.detectors
    )
    return keys + values


def default_rules_path() -> Path:
    """Return the rule file to use when none is given.

    ``OTEL_AUDIT_REDACTION_RULES`` if set; else ``redaction.yaml`` packaged beside this module;
    else ``collector-config/redaction.yaml`` of a source checkout.
    """
    configured = envvars.OTEL_AUDIT_REDACTION_RULES.resolve()
    if configured is not None:
        return Path(configured)
    packaged = Path(__file__).with_name("redaction.yaml")
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "collector-config" / "redaction.yaml"


def load_rules(path: str | Path | None = None) -> RedactionRules:
    """Read and validate the rule file at *path* (default: :func:`default_rules_path`).

    Raises:
        RedactionRuleError: the file cannot be read, is not YAML, or breaks a rule.
    """
    file = Path(path) if path is not None else default_rules_path()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RedactionRuleError(str(file), None, "", f"cannot read the rule file: {exc}") from exc
    return parse_rules(text, source=str(file))


def parse_rules(text: str, *, source: str = "<string>") -> RedactionRules:
    """Validate the rule-file content *text*; *source* names it in error messages.

    Raises:
        RedactionRuleError: *text* is not YAML or breaks a rule.
    """
    try:
        document = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except _DuplicateKeyError as exc:
        raise RedactionRuleError(source, exc.line, exc.key, "duplicate key") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RedactionRuleError(source, line, "", f"not valid YAML: {problem}") from None
    return _Parser(source).rules(document)


def check_re2_syntax(pattern: str) -> str | None:
    """Return why *pattern* is not portable between Python ``re`` and RE2, or ``None`` if it is.

    This is a syntax screen, not a compiler: Python still compiles the pattern afterwards, and
    the test suite compiles every shipped pattern with Go's ``regexp``.
    """
    for index, token, in_class in _scan_tokens(pattern):
        problem = _token_problem(pattern, index, token, in_class)
        if problem is not None:
            return f"{problem} at offset {index}"
    return None


# -- implementation -----------------------------------------------------------------------------


class _LineDict(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.line: int | None = None
        self.lines: dict[Any, int] = {}


class _LineList(list[Any]):
    """A YAML sequence that remembers the line of itself and of each item."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self.line: int | None = None
        self.lines: list[int] = []


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key = key
        self.line = line


class _LineLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    """SafeLoader that records line numbers and refuses duplicate keys (PyYAML keeps the last)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise _DuplicateKeyError(str(key), key_node.start_mark.line + 1)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    sequence = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line_of(container: Any, key: Any) -> int | None:
    if isinstance(container, _LineDict):
        return container.lines.get(key, container.line)
    if isinstance(container, _LineList) and isinstance(key, int) and 0 <= key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", None)


class _Parser:
    """Turns the loaded YAML document into :class:`RedactionRules`, raising on the first problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.names: dict[str, str] = {}

    def fail(self, container: Any, key: Any, path: str, message: str) -> RedactionRuleError:
        return RedactionRuleError(self.source, _line_of(container, key), path, message)

    def rules(self, document: Any) -> RedactionRules:
        if not isinstance(document, Mapping):
            raise self.fail(document, None, "", "the rule file must be a YAML mapping")
        self.check_keys(document, "", _TOP_KEYS)
        version = document.get("version")
        if version != _SUPPORTED_VERSION:
            raise self.fail(document, "version", "version", f"must be {_SUPPORTED_VERSION} (got {version!r})")
        defaults = document.get("defaults") or _LineDict()
        if not isinstance(defaults, Mapping):
            raise self.fail(document, "defaults", "defaults", "must be a mapping")
        self.check_keys(defaults, "defaults", _DEFAULT_KEYS)
        default_action = self.choice(defaults, "action", "defaults.action", _DETECTOR_ACTIONS, "mask")
        length = defaults.get("pseudonym_length", 16)
        if not isinstance(length, int) or isinstance(length, bool) or not 8 <= length <= 64:
            raise self.fail(defaults, "pseudonym_length", "defaults.pseudonym_length", "must be an integer 8..64")
        limits = document.get("limits") or _LineDict()
        if not isinstance(limits, Mapping):
            raise self.fail(document, "limits", "limits", "must be a mapping")
        self.check_keys(limits, "limits", _LIMIT_KEYS)
        max_chars = limits.get("max_record_chars", DEFAULT_MAX_RECORD_CHARS)
        if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1024:
            raise self.fail(limits, "max_record_chars", "limits.max_record_chars", "must be an integer >= 1024")
        key_steps = self.steps(document, "key_normalization", KEY_NORMALIZERS, DEFAULT_KEY_NORMALIZATION)
        allow_keys = self.allow_list(document)
        key_rules = tuple(self.key_rule(item, index, rules) for index, item, rules in self.items(document, "key_rules"))
        detectors = tuple(
            self.detector(item, index, rules, default_action, custom=section == "custom_detectors")
            for section in ("detectors", "custom_detectors")
            for index, item, rules in self.items(document, section)
        )
        return RedactionRules(
            source=self.source,
            default_action=cast("DetectorAction", default_action),
            pseudonym_length=length,
            allow_keys=frozenset(allow_keys),
            key_rules=tuple(rule for rule in key_rules if rule is not None),
            detectors=tuple(detector for detector in detectors if detector is not None),
            max_record_chars=max_chars,
            key_normalization=key_steps,
        )

    def steps(
        self, container: Mapping[str, Any], key: str, known: Mapping[str, Any], default: tuple[str, ...]
    ) -> tuple[str, ...]:
        """A list of step names (decoders, key normalisation), each one of *known*."""
        if key not in container:
            return default
        value = container[key]
        if not isinstance(value, list) or not all(isinstance(step, str) for step in value):
            raise self.fail(container, key, key, f"must be a list of: {', '.join(known)}")
        unknown = [step for step in value if step not in known]
        if unknown or len(set(value)) != len(value):
            problem = f"unknown step {unknown[0]!r}" if unknown else "a step is listed twice"
            raise self.fail(container, key, key, f"{problem} (known: {', '.join(known)})")
        return tuple(value)

    def items(self, document: Mapping[str, Any], section: str) -> Iterator[tuple[int, Any, Any]]:
        entries = document.get(section)
        if entries is None:
            return
        if not isinstance(entries, list):
            raise self.fail(document, section, section, "must be a list")
        for index, item in enumerate(entries):
            yield index, item, entries

    def check_keys(self, mapping: Mapping[str, Any], path: str, allowed: frozenset[str]) -> None:
        for key in mapping:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(mapping, key, where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def choice(self, mapping: Mapping[str, Any], key: str, path: str, choices: Sequence[str], default: str) -> str:
        value = mapping.get(key, default)
        if value not in choices:
            raise self.fail(mapping, key, path, f"must be one of {', '.join(choices)} (got {value!r})")
        return str(value)

    def text(self, mapping: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                raise self.fail(mapping, key, path, "is required")
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(mapping, key, path, "must be a non-empty string (quote patterns with single quotes)")
        return value

    def required_text(self, mapping: Mapping[str, Any], key: str, path: str) -> str:
        value = self.text(mapping, key, path, required=True)
        if value is None:  # pragma: no cover - text() raised already
            raise self.fail(mapping, key, path, "is required")
        return value

    def flag(self, mapping: Mapping[str, Any], key: str, path: str) -> bool:
        value = mapping.get(key, True)
        if not isinstance(value, bool):
            raise self.fail(mapping, key, path, "must be true or false")
        return value

    def allow_list(self, document: Mapping[str, Any]) -> list[str]:
        entries = document.get("allow_keys") or []
        if not isinstance(entries, list):
            raise self.fail(document, "allow_keys", "allow_keys", "must be a list of attribute keys")
        exact: list[str] = []
        for index, entry in enumerate(entries):
            path = f"allow_keys[{index}]"
            if not isinstance(entry, str) or not entry:
                raise self.fail(entries, index, path, "must be an attribute name")
            if "*" in entry:
                raise self.fail(entries, index, path, "exact attribute names only: prefixes ('*') are not allowed")
            if entry.startswith(_RESERVED_PREFIX):
                raise self.fail(
                    entries, index, path, f"{_RESERVED_PREFIX}* attributes are written by the redactor, never allowed"
                )
            exact.append(entry)
        return exact

    def name(self, item: Mapping[str, Any], path: str) -> str:
        name = self.required_text(item, "name", f"{path}.name")
        if not _NAME.match(name):
            raise self.fail(item, "name", f"{path}.name", "must match [a-z][a-z0-9_]* (it names a count attribute)")
        if name in _RESERVED_NAMES:
            raise self.fail(item, "name", f"{path}.name", f"{name!r} is reserved for audit.redaction.{name}")
        if name in self.names:
            raise self.fail(item, "name", f"{path}.name", f"duplicate name (already used by {self.names[name]})")
        self.names[name] = path
        return name

    def token(self, item: Mapping[str, Any], name: str, path: str) -> str:
        token = self.text(item, "token", f"{path}.token", required=False) or name.upper()
        if not _TOKEN.match(token):
            raise self.fail(item, "token", f"{path}.token", "must match [A-Z][A-Z0-9_]*")
        return token

    def regex(self, container: Any, key: Any, path: str, pattern: str) -> re.Pattern[str]:
        problem = check_re2_syntax(pattern)
        if problem is not None:
            raise self.fail(container, key, path, f"not portable to RE2: {problem}: {pattern!r}")
        try:
            return re.compile(pattern, re.ASCII)
        except re.error as exc:
            raise self.fail(container, key, path, f"invalid regex: {exc}: {pattern!r}") from None

    def key_rule(self, item: Any, index: int, entries: Any) -> KeyRule | None:
        path = f"key_rules[{index}]"
        if not isinstance(item, Mapping):
            raise self.fail(entries, index, path, "must be a mapping")
        self.check_keys(item, path, _KEY_RULE_KEYS)
        name = self.name(item, path)
        token = self.token(item, name, path)
        keys = self.required_text(item, "keys", f"{path}.keys")
        regex = self.regex(item, "keys", f"{path}.keys", keys)
        action = self.choice(item, "action", f"{path}.action", _KEY_ACTIONS, "mask")
        description = self.text(item, "description", f"{path}.description", required=False) or ""
        if not self.flag(item, "enabled", f"{path}.enabled"):
            return None
        return KeyRule(name, token, keys, regex, cast("KeyAction", action), description, _line_of(entries, index))

    def detector(self, item: Any, index: int, entries: Any, default_action: str, *, custom: bool) -> Detector | None:
        path = f"{'custom_detectors' if custom else 'detectors'}[{index}]"
        if not isinstance(item, Mapping):
            raise self.fail(entries, index, path, "must be a mapping")
        self.check_keys(item, path, _DETECTOR_KEYS)
        name = self.name(item, path)
        token = self.token(item, name, path)
        pattern = self.detector_pattern(item, path)
        regex = self.regex(item, "patterns" if "patterns" in item else "pattern", f"{path}.pattern", pattern)
        action = self.choice(item, "action", f"{path}.action", _DETECTOR_ACTIONS, default_action)
        validate = self.text(item, "validate", f"{path}.validate", required=False)
        if validate is not None and validate not in VALIDATORS:
            known = ", ".join(sorted(VALIDATORS))
            raise self.fail(item, "validate", f"{path}.validate", f"unknown validator {validate!r} (known: {known})")
        options, validator = self.validator(item, path, validate)
        decode = self.steps(item, "decode", DECODERS, ())
        requires = self.text(item, "requires", f"{path}.requires", required=False)
        requires_regex = self.regex(item, "requires", f"{path}.requires", requires) if requires is not None else None
        normalize = self.choice(item, "normalize", f"{path}.normalize", tuple(NORMALIZERS), "none")
        description = self.text(item, "description", f"{path}.description", required=False) or ""
        if _can_match_empty(regex):
            raise self.fail(item, "pattern", f"{path}.pattern", "can match the empty string")
        if not self.flag(item, "enabled", f"{path}.enabled"):
            return None
        return Detector(
            name=name,
            token=token,
            pattern=pattern,
            regex=regex,
            action=cast("DetectorAction", action),
            validate=validate,
            options=options,
            validator=validator,
            decode=decode,
            requires=requires,
            requires_regex=requires_regex,
            normalize=normalize,
            description=description,
            custom=custom,
            line=_line_of(entries, index),
        )

    def validator(
        self, item: Mapping[str, Any], path: str, validate: str | None
    ) -> tuple[Mapping[str, Any], Validator | None]:
        """The detector's ``options`` (checked against its validator) and the validator built with them."""
        options = item.get("options") or _LineDict()
        if not isinstance(options, Mapping):
            raise self.fail(item, "options", f"{path}.options", "must be a mapping")
        if validate is None:
            if options:
                raise self.fail(item, "options", f"{path}.options", "options need a validator ('validate')")
            return MappingProxyType({}), None
        spec = VALIDATORS[validate]
        for key in options:
            if key not in spec.options:
                allowed = ", ".join(sorted(spec.options)) or "none"
                raise self.fail(
                    options, key, f"{path}.options.{key}", f"unknown option of {validate} (known: {allowed})"
                )
        frozen = MappingProxyType({key: tuple(v) if isinstance(v, list) else v for key, v in options.items()})
        try:
            return frozen, spec.build(frozen)
        except ValueError as exc:
            raise self.fail(item, "options", f"{path}.options", str(exc)) from None

    def detector_pattern(self, item: Mapping[str, Any], path: str) -> str:
        if ("pattern" in item) == ("patterns" in item):
            raise self.fail(item, "pattern", f"{path}.pattern", "give exactly one of 'pattern' or 'patterns'")
        if "pattern" in item:
            return self.required_text(item, "pattern", f"{path}.pattern")
        patterns = item["patterns"]
        if not isinstance(patterns, list) or not patterns:
            raise self.fail(item, "patterns", f"{path}.patterns", "must be a non-empty list of patterns")
        alternatives = []
        for index, source in enumerate(patterns):
            if not isinstance(source, str) or not source:
                raise self.fail(patterns, index, f"{path}.patterns[{index}]", "must be a non-empty string")
            self.regex(patterns, index, f"{path}.patterns[{index}]", source)
            # "(?i)x" is only legal at the start of a whole pattern; scope it: "(?i:x)".
            flags = _LEADING_FLAGS.match(source)
            scoped = f"(?{flags.group(1)}:{source[flags.end() :]})" if flags is not None else source
            alternatives.append(f"(?:{scoped})")
        return "|".join(alternatives)


# -- RE2 portability screen ---------------------------------------------------------------------

_GROUP_PROBLEMS: Final = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?P=", "named backreference"),
    ("(?>", "atomic group"),
    ("(?#", "comment group"),
    ("(?(", "conditional group"),
    ("(?<", "(?<name>…) named group (write (?P<name>…))"),
)
_ESCAPE_PROBLEMS: Final = {
    "Z": "\\Z (Python only; RE2 has \\z)",
    "z": "\\z (RE2 only; Python has \\Z)",
    "u": "\\u escape (Python only; write the character or \\xHH)",
    "U": "\\U escape (Python only)",
    "N": "\\N{…} escape (Python only)",
    "p": "\\p{…} class (RE2 only)",
    "P": "\\P{…} class (RE2 only)",
    "Q": "\\Q…\\E quoting (RE2 only)",
    "E": "\\E (RE2 only)",
    "C": "\\C (RE2 only)",
    "G": "\\G",
    "K": "\\K",
    "k": "\\k backreference",
    "g": "\\g backreference",
}


def _scan_tokens(pattern: str) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(offset, token, inside_character_class)``; an escape is one two-char token."""
    index = 0
    in_class = False
    class_start = -1
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if char == "\\":
            yield index, pattern[index : index + 2], in_class
            index += 2
            continue
        if in_class:
            # "]" right after "[" or "[^" is a literal, not the end of the class.
            if (
                char == "]"
                and index > class_start + 1
                and not (index == class_start + 2 and pattern[class_start + 1] == "^")
            ):
                in_class = False
            yield index, char, True
            index += 1
            continue
        if char == "[":
            in_class = True
            class_start = index
        yield index, char, False
        index += 1


def _token_problem(pattern: str, index: int, token: str, in_class: bool) -> str | None:
    if token.startswith("\\"):
        return _escape_problem(pattern, index, token[1:], in_class)
    if in_class:
        is_posix = token == "[" and pattern[index + 1 : index + 2] in (":", "=", ".")
        return "POSIX class [[:…:]] (RE2 only)" if is_posix else None
    if token == "(":
        return _group_problem(pattern[index:])
    if token in "*+" and index > 0:
        escaped_previous = index > 1 and pattern[index - 2] == "\\"
        nested = pattern[index - 1] in "*+?}" and not escaped_previous
        return "possessive or nested quantifier" if nested else None
    if token == "{":
        return _repeat_problem(pattern[index:])
    return None


def _escape_problem(pattern: str, index: int, escaped: str, in_class: bool) -> str | None:
    problem: str | None
    if not escaped:
        problem = "trailing backslash"
    elif escaped.isdigit():
        problem = "octal escape" if escaped == "0" or in_class else "backreference"
    elif escaped == "x" and pattern[index + 2 : index + 3] == "{":
        problem = "\\x{…} escape (RE2 only; write \\xHH or the character)"
    elif escaped == "b" and in_class:
        problem = "\\b inside a character class"
    else:
        problem = _ESCAPE_PROBLEMS.get(escaped)
    return problem


def _group_problem(rest: str) -> str | None:
    if not rest.startswith("(?") or rest.startswith("(?P<"):
        return None
    for prefix, name in _GROUP_PROBLEMS:
        if rest.startswith(prefix):
            return name
    flags = re.match(r"\(\?([a-zA-Z-]*)[:)]", rest)
    if flags is not None and not set(flags.group(1)) <= set("ims-"):
        return f"inline flags {flags.group(1)!r} (only i, m and s are portable)"
    return None


def _repeat_problem(rest: str) -> str | None:
    repeat = re.match(r"\{(\d*)(,?)(\d*)\}", rest)
    if repeat is None:
        return None
    low, comma, high = repeat.groups()
    if not low and comma:
        return "{,n} repetition (Python only; write {0,n})"
    if any(part and int(part) > _MAX_REPEAT for part in (low, high)):
        return f"repetition count above {_MAX_REPEAT} (RE2's limit)"
    return None


def _can_match_empty(regex: re.Pattern[str]) -> bool:
    """Whether *regex* has a zero-width match anywhere (``x*``, ``(?:)``, ``\\b``, ``a?``).

    A search of ``""`` alone misses patterns whose empty match needs context; the parser's
    minimum width does not (the Go port checks the same minimum on its syntax tree).
    """
    return int(_sre_parser.parse(regex.pattern, regex.flags).getwidth()[0]) == 0
