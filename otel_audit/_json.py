"""Strict JSON: what otel-audit emits as JSON is JSON (RFC 8259), never Python's NaN extension.

Python's :mod:`json` writes ``NaN``, ``Infinity`` and ``-Infinity`` as bare tokens, which strict
parsers (browsers' ``JSON.parse``, Go, jq, most databases) refuse. Here a non-finite float
becomes the *string* ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, the spelling of the protobuf
JSON mapping, wherever it sits (map values and keys, list and tuple items), and the encoder runs
with ``allow_nan=False`` so anything that slips past raises instead of emitting invalid JSON.

Usage::

    from otel_audit._json import strict_json

    strict_json({"mean": float("nan"), "max": float("inf")})  # '{"mean": "NaN", "max": "Infinity"}'

:func:`finite_or_string` applies the same rule to data that another encoder will write (a
wire format that tags its values, say).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["finite_or_string", "non_finite_name", "strict_json"]


def non_finite_name(value: float) -> str:
    """The JSON string for the non-finite float *value*: ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.

    Raises:
        ValueError: *value* is finite.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    raise ValueError(f"{value!r} is finite")


def finite_or_string(value: Any) -> Any:
    """Return *value* with every non-finite float replaced by its name (:func:`non_finite_name`).

    Mappings (keys too), lists and tuples are walked; they come back as ``dict`` and ``list``.
    Anything else is returned unchanged.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else non_finite_name(value)
    if isinstance(value, Mapping):
        return {finite_or_string(key): finite_or_string(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_string(item) for item in value]
    return value


def strict_json(
    value: Any,
    *,
    indent: int | None = None,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """Encode *value* as strict JSON text (UTF-8 characters kept, non-finite floats as strings).

    Args:
        value: JSON-ready data; non-finite floats anywhere in it are allowed.
        indent: as for :func:`json.dumps`.
        sort_keys: as for :func:`json.dumps`.
        default: called for objects JSON has no type for, as for :func:`json.dumps`; what it
            returns is encoded by the same rule.

    Raises:
        TypeError: an object JSON has no type for, and no *default*.
    """
    wrapped = None if default is None else (lambda obj: finite_or_string(default(obj)))
    return json.dumps(
        finite_or_string(value),
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
        sort_keys=sort_keys,
        default=wrapped,
    )
