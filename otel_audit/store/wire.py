"""JSON encoding of query parameters and result rows between ``serve`` and its front-door clients.

Plain JSON loses types the reports rely on (datetimes, dates, decimals, UUIDs, tuples, maps
with non-string keys), so those travel as ``{"$t": TYPE, "v": VALUE}`` objects; so do the
non-finite floats, as ``{"$t": "float", "v": "NaN" | "Infinity" | "-Infinity"}``, which keeps
every reply strict JSON. Only Python on
both ends reads this format; it is not a public API.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import ipaddress
import math
import uuid
from typing import Any

from otel_audit._json import non_finite_name

__all__ = ["decode_value", "encode_value"]


def encode_value(value: Any) -> Any:  # noqa: PLR0911 - one branch per type
    """Return *value* as JSON-ready data, tagging the types JSON does not have."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$t": "float", "v": non_finite_name(value)}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dt.datetime):
        return {"$t": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$t": "decimal", "v": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$t": "uuid", "v": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"$t": "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, tuple):
        return {"$t": "tuple", "v": [encode_value(item) for item in value]}
    if isinstance(value, dict):
        return {"$t": "map", "v": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, (list, set, frozenset)):
        return [encode_value(item) for item in value]
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    return str(value)


_DECODERS: dict[str, Any] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "decimal": decimal.Decimal,
    "uuid": uuid.UUID,
    "bytes": base64.b64decode,
    "float": float,
}


def decode_value(value: Any) -> Any:
    """Invert :func:`encode_value`."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        tag = value.get("$t")
        if tag == "tuple":
            return tuple(decode_value(item) for item in value["v"])
        if tag == "map":
            return {_hashable(decode_value(k)): decode_value(v) for k, v in value["v"]}
        if tag in _DECODERS:
            return _DECODERS[tag](value["v"])
        raise ValueError(f"unknown encoded value {value!r:.80}")
    return value


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key
