"""Strict JSON (otel_audit._json): non-finite floats as strings, nothing but RFC 8259 out."""

from __future__ import annotations

import decimal
import json
import math
from typing import Any

import pytest

from otel_audit._json import finite_or_string, non_finite_name, strict_json


def _strict_loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity tokens, as a strict parser does."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


class TestStrictJson:
    def test_non_finite_floats_are_strings_everywhere(self) -> None:
        """NaN and ±Infinity become "NaN", "Infinity", "-Infinity" in values, keys, lists and tuples."""
        value = {"a": math.nan, "b": [math.inf, (-math.inf, 1.5)], math.inf: {"c": -0.0}}
        assert _strict_loads(strict_json(value)) == {
            "a": "NaN",
            "b": ["Infinity", ["-Infinity", 1.5]],
            "Infinity": {"c": -0.0},
        }

    def test_default_results_follow_the_rule(self) -> None:
        """What *default* returns for an unknown type is made strict too."""
        text = strict_json([decimal.Decimal(1)], default=lambda obj: [float(obj), math.nan])
        assert _strict_loads(text) == [[1.0, "NaN"]]

    def test_unknown_type_without_default_raises(self) -> None:
        """An object JSON has no type for raises TypeError, as json.dumps does."""
        with pytest.raises(TypeError):
            strict_json({"d": decimal.Decimal("1.5")})

    def test_text_and_finite_numbers_unchanged(self) -> None:
        """Strings (non-ASCII kept), ints, finite floats, bools and None encode as json.dumps does."""
        value = {"s": "é[/]:smile:", "i": -3, "f": -3.5, "t": True, "n": None}
        assert strict_json(value, indent=2, sort_keys=True) == json.dumps(
            value, indent=2, sort_keys=True, ensure_ascii=False
        )
        assert finite_or_string(value) == value

    def test_names(self) -> None:
        """non_finite_name spells the protobuf JSON mapping's names and refuses finite values."""
        assert [non_finite_name(v) for v in (math.nan, math.inf, -math.inf)] == ["NaN", "Infinity", "-Infinity"]
        with pytest.raises(ValueError, match="finite"):
            non_finite_name(1.0)
