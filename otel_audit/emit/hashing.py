"""Canonical JSON and the input hash.

The input hash is the lower-case hex SHA-256 of the UTF-8 bytes of the input's canonical JSON.
Canonical JSON is RFC 8785 (JSON Canonicalization Scheme) applied to the input after it has
been *normalized* into plain JSON values by :func:`normalize`. ``docs/input-hash.md`` is the
specification for other languages; ``tests/data/input_hash_vectors.json`` holds test vectors.

Normalization (Python value → JSON value):

=========================  ====================================================================
Python                     JSON
=========================  ====================================================================
``None``, ``bool``, ``str``  themselves (lone surrogates become U+FFFD)
``int``                    a number when ``|n| <= 2**53 - 1``, else ``{"$bigint": "<digits>"}``
``float``                  a number; NaN/±Infinity become ``{"$float": "NaN"|"Infinity"|"-Infinity"}``
``Decimal``                its string (``"12.50"``); non-finite as ``$float``
mapping                    object; keys become strings (``true``, ``null``, numbers as JSON text)
list, tuple                array
set, frozenset             array sorted by the canonical JSON of the elements
bytes, bytearray, memoryview  ``{"$bytes": "<standard base64>"}``
datetime                   ISO 8601; aware ones converted to UTC with a ``Z`` suffix
date, time                 ISO 8601
timedelta                  total seconds (number)
UUID, Path                 their string
Enum                       its ``value``, normalized
numpy ndarray              ``{"$ndarray": {"dtype": "<str>", "shape": [..], "data": <nested lists>}}``
numpy scalar               its Python value
dataclass instance         object of its fields
pydantic model             object from ``model_dump()`` (v2) or ``dict()`` (v1)
anything else              ``{"$object": "<module.QualName>", "repr": "<repr, ≤ 256 chars>"}``
=========================  ====================================================================

Nesting deeper than :data:`MAX_DEPTH` is cut with ``{"$truncated": "max depth"}``, so a cyclic
structure cannot hang the export thread.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import hashlib
import json
import math
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePath
from typing import Any, NamedTuple

__all__ = [
    "MAX_DEPTH",
    "Encoded",
    "JSONValue",
    "canonical_json",
    "encode",
    "flat_canonical_bytes",
    "hash_input",
    "normalize",
]

JSONValue = Any
"""A value made only of dict (str keys), list, str, int, float, bool and None."""

MAX_DEPTH = 64
"""Deepest nesting that is normalized; deeper values become ``{"$truncated": "max depth"}``."""

_MAX_SAFE_INT = 2**53 - 1
_REPR_LIMIT = 256

# Python's repr of a non-integral float equals ECMAScript's Number::toString (what RFC 8785
# prescribes) inside this range; outside it, formatting is done by _es6_number.
_PLAIN_FLOAT_MIN = 1e-4
_PLAIN_FLOAT_MAX = 1e16

_UTF16_DIVERGES = "\ue000"

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True).encode
_dumps_unsorted = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_encode_string: Callable[[str], str] = json.encoder.encode_basestring  # what _dumps escapes strings with


class _Normalizer:
    """One normalization pass; collects numbers that need ES6 formatting."""

    __slots__ = ("nonce", "special", "utf16_order")

    def __init__(self) -> None:
        self.special: list[str] | None = None
        self.nonce = ""
        self.utf16_order = False

    def number(self, value: float) -> JSONValue:
        if not math.isfinite(value):
            return {"$float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
        magnitude = abs(value)
        if value.is_integer():
            if magnitude <= _MAX_SAFE_INT:
                return int(value)  # exact, and what ES6 prints for it
        elif _PLAIN_FLOAT_MIN <= magnitude < _PLAIN_FLOAT_MAX:
            return value
        # Stand in a unique string token; canonical_json swaps it for the ES6 text.
        if self.special is None:
            self.special = []
            self.nonce = os.urandom(6).hex()
        self.special.append(_es6_number(value))
        return f"\x00{self.nonce}:{len(self.special) - 1}\x00"

    def value(self, obj: Any, depth: int) -> JSONValue:  # noqa: PLR0911, PLR0912
        # Exact-type checks first: they are the common case and the cheapest.
        kind = type(obj)
        if kind is str:
            return obj
        if kind is int:
            return obj if -_MAX_SAFE_INT <= obj <= _MAX_SAFE_INT else {"$bigint": str(obj)}
        if kind is float:
            return self.number(obj)
        if obj is None or kind is bool:
            return obj
        if depth >= MAX_DEPTH:
            return {"$truncated": "max depth"}
        depth += 1
        if kind is dict or isinstance(obj, Mapping):
            return self.mapping(obj, depth)
        if kind is list or kind is tuple:
            return self.sequence(obj, depth)
        if isinstance(obj, str):
            return str(obj) if not isinstance(obj, enum.Enum) else self.value(obj.value, depth)
        if isinstance(obj, enum.Enum):
            return self.value(obj.value, depth)
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, int):
            return self.value(int(obj), depth)
        if isinstance(obj, float):
            return self.number(float(obj))
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return {"$bytes": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, (set, frozenset)):
            items = [self.value(item, depth) for item in obj]
            return sorted(items, key=lambda item: _canonical_text(item, self))
        if isinstance(obj, (list, tuple)):
            return self.sequence(obj, depth)
        if isinstance(obj, _dt.datetime):
            if obj.tzinfo is not None and obj.utcoffset() is not None:
                return obj.astimezone(_dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"
            return obj.isoformat()
        if isinstance(obj, (_dt.date, _dt.time)):
            return obj.isoformat()
        if isinstance(obj, _dt.timedelta):
            return self.number(obj.total_seconds())
        if isinstance(obj, decimal.Decimal):
            if obj.is_finite():
                return str(obj)
            # float() refuses a signalling NaN; every NaN encodes alike.
            return self.number(math.nan if obj.is_nan() else float(obj))
        if isinstance(obj, (uuid.UUID, PurePath)):
            return str(obj)
        return self.foreign(obj, depth)

    def element(self, item: Any, depth: int) -> JSONValue:
        """Normalize one member of a container; the common types are handled inline."""
        kind = type(item)
        if kind is str or kind is bool or item is None:
            return item
        if kind is float:
            if (_PLAIN_FLOAT_MIN <= item < _PLAIN_FLOAT_MAX or -_PLAIN_FLOAT_MAX < item <= -_PLAIN_FLOAT_MIN) and (
                not item.is_integer()
            ):
                return item
            return self.number(item)
        if kind is int and -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
            return item
        return self.value(item, depth)

    def sequence(self, obj: Any, depth: int) -> list[JSONValue]:
        element = self.element
        return [element(item, depth) for item in obj]

    def mapping(self, obj: Mapping[Any, Any], depth: int) -> dict[str, JSONValue]:
        element = self.element
        items = {(key if type(key) is str else self.key(key)): element(item, depth) for key, item in obj.items()}
        joined = "".join(items)
        if not joined.isascii() and max(joined) >= _UTF16_DIVERGES:
            # RFC 8785 orders keys by UTF-16 code units, which differs from code-point order
            # (what json's sort_keys uses) only for characters from U+E000 up.
            self.utf16_order = True
        return items

    def key(self, key: Any) -> str:
        if type(key) is str:
            return key
        if isinstance(key, str):
            return str(key)
        if key is None or isinstance(key, (bool, int, float)):
            normalized = self.value(key, 0)
            if isinstance(normalized, str):
                return normalized
            return _dumps(normalized)
        return str(key)

    def foreign(self, obj: Any, depth: int) -> JSONValue:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
            return self.mapping(fields, depth)
        dump = getattr(obj, "model_dump", None)  # pydantic v2
        if callable(dump) and not isinstance(obj, type):
            return self.value(dump(), depth)
        if _is_numpy(obj):
            return self.numpy(obj, depth)
        legacy = getattr(obj, "dict", None)  # pydantic v1
        if callable(legacy) and hasattr(obj, "__fields__") and not isinstance(obj, type):
            return self.value(legacy(), depth)
        kind = type(obj)
        text = repr(obj)
        if len(text) > _REPR_LIMIT:
            text = text[:_REPR_LIMIT]
        return {"$object": f"{kind.__module__}.{kind.__qualname__}", "repr": text}

    def numpy(self, obj: Any, depth: int) -> JSONValue:
        if hasattr(obj, "shape") and getattr(obj, "ndim", 0) > 0:
            array = {"dtype": str(obj.dtype), "shape": list(obj.shape), "data": obj.tolist()}
            return {"$ndarray": self.mapping(array, depth)}
        return self.value(obj.item(), depth)


def _is_numpy(obj: Any) -> bool:
    module = type(obj).__module__
    return module == "numpy" or module.startswith("numpy.")


def _es6_number(value: float) -> str:
    """Format a finite float as ECMAScript's Number::toString does (RFC 8785 §3.2.2.3)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # value = 0.DIGITS × 10**point
    point = len(int_part) + (int(exp_text) if exp_text else 0)
    if int_part == "0":
        stripped = frac_part.lstrip("0")
        point = -(len(frac_part) - len(stripped)) + (int(exp_text) if exp_text else 0)
        digits = stripped
    digits = digits.rstrip("0") or "0"
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    head = digits[0] + ("." + digits[1:] if count > 1 else "")
    return f"{sign}{head}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def _utf16_sorted(value: JSONValue) -> JSONValue:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: key.encode("utf-16-be", "surrogatepass"))
        return {key: _utf16_sorted(value[key]) for key in keys}
    if isinstance(value, list):
        return [_utf16_sorted(item) for item in value]
    return value


def _canonical_text(value: JSONValue, normalizer: _Normalizer) -> str:
    text = _dumps_unsorted(_utf16_sorted(value)) if normalizer.utf16_order else _dumps(value)
    if normalizer.special is not None:
        nonce = normalizer.nonce
        for index, number in enumerate(normalizer.special):
            text = text.replace(f'"\\u0000{nonce}:{index}\\u0000"', number)
    return text


def normalize(obj: Any) -> JSONValue:
    """Return *obj* as plain JSON values, per the table in this module's docstring."""
    return canonical_json(obj)[0]


def canonical_json(obj: Any) -> tuple[JSONValue, str]:
    """Normalize *obj* and return ``(normalized_value, canonical_json_text)``.

    The text is RFC 8785 canonical JSON of the normalized value; its UTF-8 bytes are what
    :func:`hash_input` hashes.
    """
    return _canonical(obj)[:2]


def _canonical(obj: Any) -> tuple[JSONValue, str, bytes]:
    if type(obj) is dict:
        value = _flat_normalized(obj)
        if value is not None:
            text = _dumps(value)
            try:
                return value, text, text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: the full pass replaces it
                pass
    return _normalized_canonical(obj)


def _normalized_canonical(obj: Any) -> tuple[JSONValue, str, bytes]:
    normalizer = _Normalizer()
    value = normalizer.value(obj, 0)
    try:
        text = _canonical_text(value, normalizer)
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        value = _replace_surrogates(value)
        text = _canonical_text(value, normalizer)
        data = text.encode("utf-8")
    if normalizer.special is not None:
        value = _unplace(value, normalizer)
    return value, text, data


def _flat_normalized(obj: dict[Any, Any]) -> dict[str, JSONValue] | None:
    """:class:`_Normalizer`'s result for a *flat* input, in one pass, or ``None`` if *obj* is not flat.

    Flat: ``str`` keys below U+E000; values that are ``str``, ``bool``, ``None``, ``int`` within
    ±(2**53 - 1), ``float`` that needs no ES6 formatting (integral within that range, which
    becomes an ``int``, or non-integral inside [1e-4, 1e16) by magnitude), or a ``list`` of such
    scalars. That is a typical model input (a feature dict, a feature vector). For those the
    normalizer changes nothing but integral floats, and the text is ``_dumps`` of the result,
    exactly as on the full path.
    """
    if not set(map(type, obj)) <= _STR_ONLY:
        return None
    values = _flat_values(obj.values(), lists=True)
    if values is None:
        return None
    joined = "".join(obj)
    if not joined.isascii() and max(joined) >= _UTF16_DIVERGES:
        return None
    return dict(zip(obj, values, strict=True))


def _flat_values(items: Iterable[Any], *, lists: bool) -> list[JSONValue] | None:
    """*items* normalized, if each is a flat scalar (or, with *lists*, a list of them); else ``None``."""
    out: list[JSONValue] = []
    for item in items:
        kind = type(item)
        if kind is float:
            if item.is_integer():
                if not -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
                    return None
                out.append(int(item))
                continue
            if not (_PLAIN_FLOAT_MIN <= item < _PLAIN_FLOAT_MAX or -_PLAIN_FLOAT_MAX < item <= -_PLAIN_FLOAT_MIN):
                return None
        elif kind is int:
            if not -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
                return None
        elif kind is list and lists:
            inner = _flat_values(item, lists=False)
            if inner is None:
                return None
            out.append(inner)
            continue
        elif not (kind is str or kind is bool or item is None):
            return None
        out.append(item)
    return out


def _replace_surrogates(value: JSONValue) -> JSONValue:
    if isinstance(value, str):
        if value.isascii():
            return value
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def _unplace(value: JSONValue, normalizer: _Normalizer) -> JSONValue:
    """Swap number tokens back for floats so the normalized value holds real numbers."""
    prefix = f"\x00{normalizer.nonce}:"
    if isinstance(value, str):
        if value.startswith(prefix):
            return float(normalizer.special[int(value[len(prefix) : -1])])  # type: ignore[index]
        return value
    if isinstance(value, dict):
        return {k: _unplace(v, normalizer) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplace(v, normalizer) for v in value]
    return value


def flat_canonical_bytes(obj: dict[str, Any]) -> bytes | None:  # noqa: PLR0911, PLR0912 - one branch per kind, inline
    """The UTF-8 canonical JSON of a *flat* object, without the normalization pass, or ``None``
    when *obj* is not flat (then use :func:`canonical_json`; the bytes are the same).

    Flat: ``str`` keys below U+E000 (where code-point and UTF-16 order agree); values that are
    ``str`` without lone surrogates, ``None``, ``bool``, ``int`` within ±(2**53 - 1), ``float``
    that is integral within that range or non-integral inside [1e-4, 1e16) by magnitude (where
    Python's repr is ECMAScript's), or a ``dict`` of such keys to such strings. Those are already
    their own normalized form, so the text is written member by member with json's own string
    escaping, keys sorted. Leaf objects of the seal are flat: this is twice as fast as normalizing.
    """
    keys = tuple(obj)
    if not set(map(type, keys)) <= _STR_ONLY:  # a str subclass key would hit a plain key's plan
        return None
    plan = _members_plan(keys)
    if plan is None:
        return None
    members = []
    for key, prefix in plan:
        value = obj[key]
        kind = type(value)
        text: str | None
        if kind is str:
            text = _encode_string(value)
        elif kind is dict:
            text = _flat_strings(value)
        elif kind is int:
            if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
                return None
            text = str(value)
        elif kind is float:
            text = _flat_float(value)
        elif kind is bool:
            text = "true" if value else "false"
        elif value is None:
            text = "null"
        else:
            return None
        if text is None:
            return None
        members.append(prefix + text)
    try:
        return f"{{{','.join(members)}}}".encode()
    except UnicodeEncodeError:  # a lone surrogate
        return None


_STR_ONLY = {str}
_MEMBER_PLANS: dict[tuple[str, ...], tuple[tuple[str, str], ...] | None] = {}
_MEMBER_PLANS_KEPT = 256


def _members_plan(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
    """The keys (``str``) in canonical order, each with its encoded ``"key":`` prefix; ``None`` if
    one sorts differently in UTF-16. Remembered per key tuple, a few hundred (a leaf object
    always has the same keys)."""
    try:
        return _MEMBER_PLANS[keys]
    except KeyError:
        pass
    plan = None
    if all(_plain_key(key) for key in keys):
        plan = tuple((key, _encode_string(key) + ":") for key in sorted(keys))
    if len(_MEMBER_PLANS) < _MEMBER_PLANS_KEPT:
        _MEMBER_PLANS[keys] = plan
    return plan


def _plain_key(key: object) -> bool:
    """True for a ``str`` key that sorts the same by code point as by UTF-16 code unit."""
    return type(key) is str and (key.isascii() or max(key) < _UTF16_DIVERGES)


def _flat_float(value: float) -> str | None:
    magnitude = abs(value)
    if value.is_integer():
        return str(int(value)) if magnitude <= _MAX_SAFE_INT else None
    return repr(value) if _PLAIN_FLOAT_MIN <= magnitude < _PLAIN_FLOAT_MAX else None


def _flat_strings(mapping: dict[Any, Any]) -> str | None:
    """A flat object's nested ``dict`` of strings, or ``None`` if it is not one."""
    members = []
    try:
        keys = sorted(mapping)
    except TypeError:
        return None
    for key in keys:
        value = mapping[key]
        if type(value) is not str or not _plain_key(key):
            return None
        members.append(f"{_encode_string(key)}:{_encode_string(value)}")
    return f"{{{','.join(members)}}}"


def hash_input(obj: Any) -> str:
    """Return the lower-case hex SHA-256 of the canonical JSON of *obj*."""
    return hashlib.sha256(_canonical(obj)[2]).hexdigest()


def encode(obj: Any) -> Encoded:
    """Normalize *obj* once and return its value, canonical text and hash together."""
    value, text, data = _canonical(obj)
    return Encoded(value, text, hashlib.sha256(data).hexdigest())


class Encoded(NamedTuple):
    """A value normalized for the audit record: JSON value, canonical text, SHA-256 hex."""

    value: JSONValue
    text: str
    sha256: str
