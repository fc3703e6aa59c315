"""Arbitrary inputs through the API at volume (hypothesis): no crash in the caller, nothing lost.

Nested maps and lists of unicode, huge integers, NaN and infinities, bytes, datetimes, decimals,
sets, objects with no JSON form, deep nesting past the normalizer's limit and values of 100 KB:
each prediction must return normally, and every record must be stored (with the hash the test
computes for the same value) or counted as dropped with a reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import otel_audit
from otel_audit.store.connect import Store


class _Opaque:
    """An object with no JSON form (its repr is its only description)."""

    def __init__(self, tag: int) -> None:
        self.tag = tag

    def __repr__(self) -> str:
        return f"Opaque({self.tag})"


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": [value]}
    return value


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.binary(max_size=40)
    | st.datetimes(timezones=st.none() | st.just(dt.timezone.utc))
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.uuids()
    | st.integers(0, 1000).map(_Opaque)
    | st.integers(70, 90).map(_deep)
    | st.text(min_size=1, max_size=3).map(lambda s: s * 30_000)  # up to ~100 KB
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-5, 5), children, max_size=4)
        | st.frozensets(st.integers() | st.text(max_size=5), max_size=4)
    ),
    max_leaves=12,
)


class TestInputsAtVolume:
    def test_every_arbitrary_input_is_stored_or_counted(self, store: Store) -> None:
        """Hundreds of arbitrary inputs never raise in the caller, and each is stored with its hash."""
        otel_audit.configure(store=store, spans=False, schedule_delay_ms=50)
        emitted: dict[str, str] = {}

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(value=_values, output=_values)
        def emit(value: Any, output: Any) -> None:
            request_id = f"prop-{len(emitted)}"
            expected = otel_audit.hash_input(value)
            with otel_audit.audit_prediction(model="prop", version="1", input=value, request_id=request_id) as p:
                p.output = output
            emitted[request_id] = expected

        emit()
        assert otel_audit.flush(120)
        stats = otel_audit.stats()
        stored = dict(store.query("SELECT RequestId, InputHash FROM audit_predictions").rows)
        dropped = stats["dropped"]
        assert len(stored) + dropped == len(emitted) >= 300
        assert dropped == 0, stats["counters"]
        assert stored == emitted
