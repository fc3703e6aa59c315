"""Canonical JSON (RFC 8785 after normalization) and the input hash."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import hashlib
import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_audit.emit import hashing
from otel_audit.emit.hashing import MAX_DEPTH, canonical_json, encode, flat_canonical_bytes, hash_input, normalize

VECTORS = Path(__file__).parents[1] / "data" / "input_hash_vectors.json"
CROSSLANG = Path(__file__).parents[1] / "crosslang"


def _node_canonicalize(vectors: Path) -> list[dict[str, str]]:
    """The canonical text and SHA-256 of each JSON vector in *vectors*, from Node's npm
    `canonicalize` (an independent RFC 8785 implementation)."""
    node = shutil.which("node")
    assert node, "node is required (installed by .ci/run)"
    assert (CROSSLANG / "node_modules" / "canonicalize").is_dir(), "run: npm ci --prefix tests/crosslang"
    out = subprocess.run(
        [node, str(CROSSLANG / "check_vectors.mjs"), str(vectors)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return json.loads(out)


def _vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


class TestVectors:
    @pytest.mark.parametrize("vector", _vectors()["json"], ids=lambda v: v["name"])
    def test_json_vector(self, vector: dict[str, str]) -> None:
        """Each JSON input canonicalizes to the hand-written text and hashes to its SHA-256."""
        value = json.loads(vector["input"])
        assert canonical_json(value)[1] == vector["canonical"]
        assert hash_input(value) == vector["sha256"]

    @pytest.mark.parametrize("vector", _vectors()["python"], ids=lambda v: v["name"])
    def test_python_vector(self, vector: dict[str, str]) -> None:
        """Each non-JSON Python value gets the normalized encoding docs/input-hash.md defines."""
        namespace = {"datetime": datetime, "decimal": decimal, "uuid": uuid, "numpy": numpy}
        value = eval(vector["python"], namespace)
        assert canonical_json(value)[1] == vector["canonical"]
        assert hash_input(value) == vector["sha256"]

    def test_vectors_match_an_independent_rfc8785_implementation(self) -> None:
        """Node's npm `canonicalize` (RFC 8785) produces the same canonical text and hash."""
        theirs = _node_canonicalize(VECTORS)
        ours = _vectors()["json"]
        assert len(theirs) == len(ours)
        for their, our in zip(theirs, ours, strict=True):
            assert their["canonical"] == our["canonical"], our["name"]
            assert their["sha256"] == our["sha256"], our["name"]


class TestNormalize:
    def test_hash_is_sha256_of_canonical_text(self) -> None:
        """hash_input is the hex SHA-256 of the UTF-8 canonical text."""
        value = {"b": [1, 2.5], "a": "é"}
        assert hash_input(value) == hashlib.sha256('{"a":"é","b":[1,2.5]}'.encode()).hexdigest()

    def test_key_order_does_not_change_the_hash(self) -> None:
        """Two dicts with the same items in different insertion order hash alike."""
        assert hash_input({"x": 1, "y": 2}) == hash_input({"y": 2, "x": 1})

    def test_dataclass_and_pydantic(self) -> None:
        """Dataclasses and pydantic models encode as objects of their fields."""

        @dataclasses.dataclass
        class Point:
            x: int
            y: float

        class Model(pydantic.BaseModel):
            name: str
            point: tuple[int, int]

        assert canonical_json(Point(1, 2.5))[1] == '{"x":1,"y":2.5}'
        assert canonical_json(Model(name="a", point=(1, 2)))[1] == '{"name":"a","point":[1,2]}'

    def test_unknown_object_is_described_not_raised(self) -> None:
        """An object with no JSON form becomes a $object description."""

        class Opaque:
            def __repr__(self) -> str:
                return "<opaque>"

        assert normalize(Opaque()) == {
            "$object": f"{__name__}.TestNormalize.test_unknown_object_is_described_not_raised.<locals>.Opaque",
            "repr": "<opaque>",
        }

    def test_cycle_is_cut_at_max_depth(self) -> None:
        """A self-referencing list is truncated instead of recursing forever."""
        cyclic: list[Any] = []
        cyclic.append(cyclic)
        value = normalize(cyclic)
        depth = 0
        while isinstance(value, list):
            value = value[0]
            depth += 1
        assert value == {"$truncated": "max depth"}
        assert depth == MAX_DEPTH

    def test_lone_surrogate_becomes_replacement_character(self) -> None:
        """A string that is not valid Unicode is encoded with U+FFFD instead of failing."""
        assert canonical_json({"t": "a\ud800b"})[1] == '{"t":"a\ufffdb"}'

    def test_normalized_value_keeps_real_numbers(self) -> None:
        """Numbers needing ES6 formatting are floats again in the normalized value."""
        value, text = canonical_json({"tiny": 1e-7, "huge": 1e300})
        assert value == {"huge": 1e300, "tiny": 1e-7}
        assert text == '{"huge":1e+300,"tiny":1e-7}'


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(
        st.recursive(
            st.none()
            | st.booleans()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
            | st.text(),
            lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
            max_leaves=30,
        )
    )
    def test_canonical_text_is_json_of_the_same_value(self, value: Any) -> None:
        """The canonical text parses back (as a JSON reader with IEEE doubles would) to the input."""
        text = canonical_json(value)[1]
        reparsed = json.loads(text, parse_int=_as_double_when_unsafe)
        assert reparsed == value
        assert canonical_json(reparsed)[1] == text


# Keys and strings from every Unicode plane, lone surrogates and characters from U+E000 (where
# code-point and UTF-16 order differ) included.
_ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
_FLAT_TEXT = st.text(st.characters(max_codepoint=0xD7FF), max_size=8)  # below U+E000, no surrogate
_FLAT_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(min_value=1e-4, max_value=1e16, exclude_max=True).filter(lambda f: f <= 2**53 - 1 or not f.is_integer())
    | st.floats(min_value=-1e9, max_value=1e9).map(float.__floor__).map(float)
    | _FLAT_TEXT
)
_FLAT_OBJECTS = st.dictionaries(
    _FLAT_TEXT,
    _FLAT_SCALARS | st.dictionaries(_FLAT_TEXT, _FLAT_TEXT, max_size=4),
    max_size=8,
)
_ANY_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | _ANY_TEXT | st.binary(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_ANY_TEXT | st.integers(), children, max_size=3),
    max_leaves=12,
)


class _Color(str, enum.Enum):
    RED = "red"


class TestFlatFastPath:
    """flat_canonical_bytes: the normalization pass skipped for flat objects (the seal's leaves)."""

    @settings(max_examples=400, deadline=None)
    @given(_FLAT_OBJECTS)
    def test_flat_objects_take_the_fast_path_with_the_same_bytes(self, obj: dict[str, Any]) -> None:
        """A flat object is encoded without normalization, to exactly canonical_json's bytes."""
        fast = flat_canonical_bytes(obj)
        assert fast is not None
        assert fast == canonical_json(obj)[1].encode("utf-8")

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(_ANY_TEXT | st.integers() | st.booleans(), _ANY_VALUES, max_size=5))
    def test_anything_else_is_refused_or_the_same_bytes(self, obj: dict[Any, Any]) -> None:
        """Any object: either None (not flat) or canonical_json's bytes, never other bytes."""
        fast = flat_canonical_bytes(obj)
        if fast is not None:
            assert fast == canonical_json(obj)[1].encode("utf-8")

    @pytest.mark.parametrize(
        "obj",
        [
            {"a": 1e16},  # ES6 prints 10000000000000000, repr 1e+16
            {"a": 1e-5},  # ES6 1e-5, repr 1e-05
            {"a": 2.0**53},  # an integral float beyond the safe range
            {"a": 2**53},
            {"a": float("nan")},
            {"a": "\ud800"},  # a lone surrogate becomes U+FFFD
            {"\ue000": 1, "\U0001f600": 2},  # UTF-16 orders these the other way round
            {"a": {"\ue000": "x", "\U0001f600": "y"}},
            {"a": {"k": 1}},  # a nested value that is not a string
            {"a": [1]},
            {1: "x"},
            {_Color.RED: 1},  # a str subclass whose str() is not its text
            {"a": b"x"},
        ],
    )
    def test_values_that_need_normalizing_are_refused(self, obj: dict[Any, Any]) -> None:
        """Every value whose canonical form differs from json.dumps goes to the full path."""
        assert flat_canonical_bytes(obj) is None

    def test_a_str_subclass_key_does_not_reuse_a_plain_keys_plan(self) -> None:
        """Keys equal to a remembered plan's but of a str subclass go to the full path."""
        assert flat_canonical_bytes({"red": 1}) == b'{"red":1}'
        assert flat_canonical_bytes({_Color.RED: 1}) is None
        assert canonical_json({_Color.RED: 1})[1] != '{"red":1}'

    def test_integral_floats_print_as_integers(self) -> None:
        """12.0 is 12 in RFC 8785 (json.dumps would write 12.0); -0.0 is 0."""
        assert flat_canonical_bytes({"b": 12.0, "a": -0.0}) == b'{"a":0,"b":12}'

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
    @given(st.lists(_FLAT_OBJECTS, min_size=25, max_size=25))
    def test_flat_objects_match_an_independent_rfc8785_implementation(self, objects: list[dict[str, Any]]) -> None:
        """Node's npm `canonicalize` writes the fast path's bytes for random flat objects."""
        with tempfile.TemporaryDirectory() as folder:
            vectors = Path(folder) / "flat.json"
            vectors.write_text(
                json.dumps({"json": [{"name": str(i), "input": json.dumps(obj)} for i, obj in enumerate(objects)]}),
                encoding="utf-8",
            )
            canonical = _node_canonicalize(vectors)
        for obj, theirs in zip(objects, canonical, strict=True):
            assert flat_canonical_bytes(obj) == theirs["canonical"].encode("utf-8"), obj


_FLAT_INPUTS = st.dictionaries(
    _FLAT_TEXT,
    _FLAT_SCALARS | st.lists(_FLAT_SCALARS, max_size=6),
    max_size=8,
)


class TestFlatInputFastPath:
    """A flat input (scalars, lists of scalars) is normalized in one pass: the same value, text and hash."""

    @staticmethod
    def _both(obj: Any) -> tuple[str, str]:
        # repr tells 2 from 2.0: the normalized value must match in type, not only in ==.
        return repr(hashing._canonical(obj)), repr(hashing._normalized_canonical(obj))

    @settings(max_examples=400, deadline=None)
    @given(_FLAT_INPUTS)
    def test_flat_inputs_take_the_fast_path_with_the_full_pass_result(self, obj: dict[str, Any]) -> None:
        assert hashing._flat_normalized(obj) is not None
        fast, full = self._both(obj)
        assert fast == full

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(_ANY_TEXT | st.integers() | st.booleans(), _ANY_VALUES, max_size=5))
    def test_any_input_gives_the_full_pass_result(self, obj: dict[Any, Any]) -> None:
        fast, full = self._both(obj)
        assert fast == full

    @pytest.mark.parametrize(
        "obj",
        [
            {"a": 1e16},
            {"a": [1e-5]},
            {"a": 2.0**53},
            {"a": [2**53]},
            {"a": float("inf")},
            {"a": [float("nan")]},
            {"\ue000": 1, "\U0001f600": 2},
            {"a": [[1]]},
            {"a": {"k": "v"}},
            {"a": (1, 2)},
            {1: "x"},
            {_Color.RED: 1},
            {"a": _Color.RED},
            {"a": b"x"},
        ],
    )
    def test_inputs_that_need_normalizing_are_refused(self, obj: dict[Any, Any]) -> None:
        assert hashing._flat_normalized(obj) is None
        fast, full = self._both(obj)
        assert fast == full

    def test_integral_floats_become_integers(self) -> None:
        encoded = encode({"b": [1.0, 0.5], "a": -0.0})
        assert encoded.text == '{"a":0,"b":[1,0.5]}'
        assert [type(item) for item in encoded.value["b"]] == [int, float]
        assert type(encoded.value["a"]) is int

    def test_a_lone_surrogate_becomes_a_replacement_character(self) -> None:
        assert encode({"s": "x\ud800", "n": 1.5}).text == '{"n":1.5,"s":"x\ufffd"}'


def _as_double_when_unsafe(digits: str) -> int | float:
    number = int(digits)
    return number if abs(number) <= 2**53 - 1 else float(digits)
