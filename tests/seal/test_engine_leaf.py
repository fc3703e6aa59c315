"""The leaf hashes the engine computes for seal equal leaf.py's, or the row is hashed in Python.

seal takes a prediction's leaf hash from the engine (``_seal_engine_leaf.sql``) when
``_seal_engine_leafable.sql`` says the engine's JSON is exactly RFC 8785; verify, receipts and
evidence packs recompute leaves in Python. So every engine hash must be byte for byte the one
:func:`otel_audit.seal.leaf.leaf_hash` gives, and every row it cannot promise that for must be
left to Python.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_audit import semconv
from otel_audit.seal import stored as stored_module
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.leaf import leaf_hash
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

_COLUMNS = [
    "Timestamp", "RecordId", "ModelName", "ModelVersion", "PipelineVersion", "Operation", "InputHash", "UserId",
    "RequestId", "Outcome", "ErrorType", "ErrorMessage", "OutputLabel", "LatencyMs", "BatchSize", "ServiceName",
    "TraceId", "SpanId", "Input", "Output", "Attributes",
]  # fmt: skip
_EVERYTHING = {"since": dt.datetime(1970, 1, 1), "until": dt.datetime(2262, 1, 1)}
_INSERT = {"insert_deduplicate": 0}
_TOMBSTONE = '{"$erased":{"at":"2026-01-01T00:00:00Z","sha256":"' + "ab" * 32 + '"}}'
_ids = itertools.count()
_BASE = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=1)


def _row(**changes: Any) -> dict[str, Any]:
    n = next(_ids)
    row: dict[str, Any] = {
        "Timestamp": _BASE + dt.timedelta(microseconds=n),
        "RecordId": f"rec-{n}",
        "ModelName": "fraud",
        "ModelVersion": "v1",
        "PipelineVersion": "",
        "Operation": "predict",
        "InputHash": "0" * 64,
        "UserId": "u1",
        "RequestId": f"req-{n}",
        "Outcome": "ok",
        "ErrorType": "",
        "ErrorMessage": "",
        "OutputLabel": "legit",
        "LatencyMs": 12.5,
        "BatchSize": 1,
        "ServiceName": "svc",
        "TraceId": f"{n:032x}",
        "SpanId": f"{n:016x}",
        "Input": '{"amount":12.5}',
        "Output": '{"label":"legit"}',
        "Attributes": {"audit.schema.version": "1"},
    }
    row.update(changes)
    return row


def _insert(store: Store, rows: list[dict[str, Any]]) -> None:
    store.insert_columns("audit_predictions", [[row[c] for row in rows] for c in _COLUMNS], _COLUMNS)


def _engine_and_python(store: Store, escape_slashes: int = 1) -> dict[str, tuple[str, str]]:
    """Per record id: the engine's leaf hash ('' if left to Python) and leaf.py's, the engine
    escaping '/' in JSON or not (*escape_slashes*: a server profile may say either)."""
    slashes = {"output_format_json_escape_forward_slashes": escape_slashes}
    engine = store.query(query_sql("seal_unsealed"), {**_EVERYTHING, "limit": 10**9}, settings=slashes).dicts()
    python = {
        row["record_id"]: leaf_hash(row).hex() for row in store.query(query_sql("seal_records"), _EVERYTHING).dicts()
    }
    return {row["record_id"]: (row["engine_leaf_hash"], python[row["record_id"]]) for row in engine}


# What each row holds, and whether the engine hashes it (True) or leaves it to Python (False).
_CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "plain": ({}, True),
    "quotes, backslashes, slashes": ({"ErrorMessage": 'say "hi" \\ a/b /\\ \\"/ \\\\ /'}, True),
    "a backslash before a slash": ({"ErrorMessage": "c\\/"}, False),
    "two backslashes before a slash": ({"Attributes": {"k": "c\\\\/"}}, False),
    "short escapes and DEL": ({"UserId": "a\tb\nc\rd\be\ff\x7fg\x01h\x10"}, True),
    "non-ASCII text": ({"ModelName": "modèle-π 😀 日本 \ufeff", "Attributes": {"note": "ça va 😀"}}, True),
    "content attribute": (
        {"Attributes": {semconv.AUDIT_BATCH_OUTPUTS: '["a","b"]', "z": "1", "A": "2", "_": "3"}},
        True,
    ),
    "attribute keys in byte order": ({"Attributes": {"b": "1", "a": "2", "B": "3", "a.b": "4", "a_b": "5"}}, True),
    "empty attributes": ({"Attributes": {}}, True),
    "latency 0": ({"LatencyMs": 0.0}, True),
    "latency -0.0": ({"LatencyMs": -0.0}, True),
    "latency 1e-4": ({"LatencyMs": 1e-4}, True),
    "latency integral": ({"LatencyMs": 1e15}, True),
    "latency 2**53 - 1": ({"LatencyMs": float(2**53 - 1)}, True),
    "latency fraction near 1e15": ({"LatencyMs": 999999999999999.9}, True),
    "latency negative": ({"LatencyMs": -3.25}, True),
    "upper-case escape U+000B": ({"ErrorMessage": "a\x0bb"}, False),
    "upper-case escape U+001F": ({"Attributes": {"k": "a\x1fb"}}, False),
    "U+2028": ({"Outcome": "a\u2028b"}, False),
    "U+2029": ({"Attributes": {"k": "a\u2029b"}}, False),
    "non-ASCII key": ({"Attributes": {"clé": "v"}}, False),
    "astral key": ({"Attributes": {"\U0001f600": "v", "\ue000": "w"}}, False),
    "tombstoned input": ({"Input": _TOMBSTONE}, False),
    "tombstoned output": ({"Output": _TOMBSTONE}, False),
    "tombstoned label": ({"OutputLabel": _TOMBSTONE}, False),
    "tombstoned content attribute": ({"Attributes": {semconv.AUDIT_BATCH_OUTPUTS: _TOMBSTONE}}, False),
    "latency 2**53": ({"LatencyMs": float(2**53)}, False),
    "latency below 1e-4": ({"LatencyMs": 9e-5}, False),
    "latency NaN": ({"LatencyMs": math.nan}, False),
    "latency infinite": ({"LatencyMs": math.inf}, False),
}


@pytest.mark.parametrize("escape_slashes", [1, 0])
def test_every_case_is_hashed_as_leaf_py_hashes_it(store: Store, escape_slashes: int) -> None:
    """Each case: hashed by the engine exactly as in Python, or left to Python, whether the
    engine escapes '/' in JSON or not."""
    rows = {name: _row(**changes) for name, (changes, _) in _CASES.items()}
    _insert(store, list(rows.values()))
    hashes = _engine_and_python(store, escape_slashes)
    for name, (_, by_engine) in _CASES.items():
        engine, python = hashes[rows[name]["RecordId"]]
        assert (engine != "") == by_engine, name
        assert engine in ("", python), name


def test_invalid_utf8_is_left_to_python(store: Store) -> None:
    """Bytes that are not UTF-8 (inserted by SQL, as a client can) are hashed in Python, even
    when two texts hold the halves of one character."""
    _insert(store, [_row(RecordId="bytes-1")])
    store.command(
        "INSERT INTO audit_predictions (Timestamp, RecordId, RequestId, ErrorMessage) "
        "SELECT now64(9) - INTERVAL 1 HOUR, 'bytes-2', 'req-b', unhex('61ff62')",
        settings=_INSERT,
    )
    # Halves of one character in two texts: each is invalid, though joined they would be 'é'.
    store.command(
        "INSERT INTO audit_predictions (Timestamp, RecordId, RequestId, ServiceName, TraceId) "
        "SELECT now64(9) - INTERVAL 1 HOUR, 'bytes-3', 'req-c', unhex('c3'), unhex('a9')",
        settings=_INSERT,
    )
    engine = {
        row["record_id"]: row["engine_leaf_hash"]
        for row in store.query(query_sql("seal_unsealed"), {**_EVERYTHING, "limit": 10}).dicts()
    }
    assert engine["bytes-1"] != "" and engine["bytes-2"] == "" and engine["bytes-3"] == ""


def test_a_key_the_map_holds_twice_is_left_to_python(store: Store, signer: NoteSigner) -> None:
    """A Map can hold one key twice (a client sent it so); Python reads one value per key, so the
    row is hashed in Python, and the sealed store verifies."""
    store.command(
        "INSERT INTO audit_predictions (Timestamp, RecordId, RequestId, Attributes) "
        "SELECT now64(9) - INTERVAL 1 HOUR, 'twice', 'req-t', map('k', '1', 'k', '2', 'a', '3')",
        settings=_INSERT,
    )
    _insert(store, [_row(RecordId="once", Attributes={"k": "2", "a": "3"})])
    hashes = _engine_and_python(store)
    assert hashes["twice"][0] == "" and hashes["once"][0] != ""
    assert seal(store, signer).sealed == 2
    report = verify(store, signer.verifier)
    assert report.ok, report.problems[:3]


@pytest.mark.parametrize("block_rows", [2, stored_module.WHOLE_ROW_BLOCK_ROWS])
def test_seal_with_both_kinds_of_rows_verifies(
    store: Store, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch, block_rows: int
) -> None:
    """A store mixing rows the engine hashes and rows Python hashes, sealed in two batches,
    verifies (verify recomputes every leaf in Python): the two are one tree. (Tombstones are
    left out: stored without an erasure log entry, verify would call them unlogged erasures.)
    Whole rows come to Python a block at a time, here also in blocks of two."""
    monkeypatch.setattr(stored_module, "WHOLE_ROW_BLOCK_ROWS", block_rows)
    cases = [changes for name, (changes, _) in _CASES.items() if not name.startswith("tombstoned")]
    _insert(store, [_row(**changes) for changes in cases])
    assert seal(store, signer, limit=11).sealed == 11
    assert seal(store, signer).sealed == len(cases) - 11
    report = verify(store, signer.verifier)
    assert report.ok, report.problems[:3]
    assert report.tree_size == len(cases) == report.records_checked
    # seal and verify both take the engine's hashes: each stored leaf must be leaf.py's too.
    python = {
        row["record_id"]: leaf_hash(row).hex() for row in store.query(query_sql("seal_records"), _EVERYTHING).dicts()
    }
    stored = dict(store.query("SELECT RecordId, LeafHash FROM audit_seal_leaves").rows)
    assert stored == python


def test_whole_rows_are_hashed_a_block_at_a_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_hashed hashes each whole row as its block arrives, and the engine does send them in
    blocks of WHOLE_ROW_BLOCK_ROWS: the rows and their order are the query's."""
    _insert(store, [_row(**changes) for changes, _ in _CASES.values()])
    whole = store.query(query_sql("seal_records_in_python"), _EVERYTHING).dicts()
    assert len(whole) > 4
    _, blocks = store.query_blocks(query_sql("seal_records_in_python"), _EVERYTHING, settings={"max_block_size": 2})
    assert {len(block) for block in blocks} <= {1, 2}
    monkeypatch.setattr(stored_module, "WHOLE_ROW_BLOCK_ROWS", 2)
    hashed = stored_module.read_hashed(store, "seal_records_in_python", _EVERYTHING, lambda row: (row, leaf_hash(row)))
    assert [row["record_id"] for row, _ in hashed] == [row["record_id"] for row in whole]
    assert [digest for _, digest in hashed] == [leaf_hash(row) for row in whole]


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12) | st.sampled_from(["a\\/b", "\\", "/", "x/"])
_ASCII_KEYS = st.text(st.characters(max_codepoint=127), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(_TEXT, min_size=4, max_size=4),
    latency=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**60), 2**60).map(float),
    attributes=st.dictionaries(_ASCII_KEYS | _TEXT, _TEXT, max_size=4),
)
def test_any_row_the_engine_hashes_matches(
    store: Store, texts: list[str], latency: float, attributes: dict[str, str]
) -> None:
    """Random text (any character but a lone surrogate), latency and attributes: when the engine
    hashes the row, its hash is leaf.py's; an ordinary row (ASCII keys, no escapes toJSONString
    writes otherwise, a latency in range) is always hashed by the engine."""
    row = _row(
        ErrorMessage=texts[0],
        UserId=texts[1],
        Input=texts[2],
        Output=texts[3],
        LatencyMs=latency,
        Attributes=attributes,
    )
    _insert(store, [row])
    engine, python = _engine_and_python(store)[row["RecordId"]]
    assert engine in ("", python)
    written = [texts[0], texts[1], *attributes, *attributes.values()]  # the texts written as JSON strings
    plain_text = not any(
        "\\/" in text or any(c in "\x0b\x0e\x0f\x1a\x1b\x1c\x1d\x1e\x1f\u2028\u2029" for c in text) for text in written
    )
    plain_latency = math.isfinite(latency) and (
        abs(latency) <= 2**53 - 1 if latency.is_integer() else 1e-4 <= abs(latency) < 1e16
    )
    ordinary = plain_text and plain_latency and all(key.isascii() for key in attributes)
    assert (engine != "") == ordinary, (texts, latency, attributes)
    store.command("TRUNCATE TABLE audit_predictions")


def test_the_engine_prints_a_latency_as_python_does(store: Store) -> None:
    """Inside the range the engine is trusted with ([1e-4, 1e16), not integral), the engine's
    toString of a float is Python's repr (the shortest round-trip decimal, as ES6 prints it):
    2,000 floats of every scale and digit count, passed bit for bit."""
    rng = random.Random(20261202)
    values = []
    while len(values) < 2000:
        value = 10 ** rng.uniform(-4, 16) * rng.choice((1, -1))
        if rng.random() < 0.5:
            value = float(f"{value:.{rng.randint(1, 17)}g}")
        if 1e-4 <= abs(value) < 1e16 and not value.is_integer():
            values.append(value)
    bits = ", ".join(f"reinterpretAsFloat64(unhex('{struct.pack('<d', value).hex()}'))" for value in values)
    [(printed,)] = store.query(f"SELECT arrayMap(x -> toString(x), [{bits}])").rows
    assert [repr(value) for value in values] == list(printed)


def test_the_engine_text_is_json(store: Store) -> None:
    """A sanity check of the fragment itself: its leaf text parses as the JSON leaf.py writes."""
    _insert(store, [_row(ErrorMessage='a/"b"')])
    fragment = query_sql("_seal_engine_leaf").split("lower(hex(SHA256(concat(", 1)[1].rsplit(")))),", 1)[0]
    text = store.query(
        f"SELECT {query_sql('_seal_engine_leafable')}, substring(concat({fragment}), 2) FROM audit_predictions"
    ).rows[0][1]
    assert json.loads(text)["error_message"] == 'a/"b"' and json.loads(text)["v"] == 3


@pytest.mark.parametrize("value", ["", "tombstone"])
def test_tombstone_detection_needs_the_prefix(store: Store, value: str) -> None:
    """Text that only looks like a tombstone further in is hashed by the engine."""
    text = f'x{{"$erased":{value}}}'
    _insert(store, [_row(Input=text)])
    engine, python = next(iter(_engine_and_python(store).values()))
    assert engine == python
