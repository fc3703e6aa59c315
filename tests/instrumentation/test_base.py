"""Shared instrumentation machinery: entry points, failure isolation, row splitting."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomllib
from opentelemetry import trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sklearn.linear_model import LogisticRegression

import otel_audit
from otel_audit.instrumentation._base import CallFacts, Patcher, audited_call, rows_of
from otel_audit.instrumentation.sklearn import SklearnInstrumentor
from otel_audit.store.connect import Store
from tests.instrumentation.conftest import records

_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _model() -> LogisticRegression:
    features = np.arange(12, dtype=float).reshape(6, 2)
    return LogisticRegression().fit(features, [0, 1, 0, 1, 0, 1])


class TestEntryPoints:
    def test_every_shipped_entry_point_is_an_instrumentor_with_an_extra(self) -> None:
        """Each opentelemetry_instrumentor entry point loads a BaseInstrumentor whose framework has an extra."""
        project = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]
        shipped = project["entry-points"]["opentelemetry_instrumentor"]
        assert set(shipped) == {f"otel_audit_{n}" for n in ("sklearn", "torch", "transformers", "openai", "asgi")}
        for name, target in shipped.items():
            module, _, attribute = target.partition(":")
            instrumentor = getattr(importlib.import_module(module), attribute)
            assert issubclass(instrumentor, BaseInstrumentor)
            assert instrumentor().instrumentation_dependencies()
            assert name.removeprefix("otel_audit_") in project["optional-dependencies"]


class TestFailureIsolation:
    def test_broken_configuration_leaves_the_call_unaudited_not_broken(
        self, monkeypatch: pytest.MonkeyPatch, instrumentors: list[Any]
    ) -> None:
        """With an unusable OTEL_AUDIT_STORE predictions still return their results; each lost record is counted."""
        model = _model()
        features = np.ones((2, 2))
        expected = model.predict(features)
        monkeypatch.setenv("OTEL_AUDIT_STORE", "bogus://nowhere")
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        np.testing.assert_array_equal(model.predict(features), expected)
        np.testing.assert_array_equal(model.predict(features), expected)
        stats = otel_audit.stats()
        assert stats["counters"]["instrumentation.dropped.setup_error"] == 2
        assert stats["dropped"] == 2

    def test_failing_output_and_finish_steps_are_noted_not_raised(
        self, runtime: otel_audit.AuditRuntime, store: Store
    ) -> None:
        """An instrumentor whose output and finish steps raise returns the call's result; the record names both."""
        model = _model()
        features = np.ones((3, 2))
        expected = model.predict(features)

        def facts() -> CallFacts:
            return CallFacts(model="lr", version="1", input=features, batch_size=3, rows=True, max_rows=10)

        def finish(prediction: Any, result: Any) -> None:
            raise AttributeError("no usage on this response")

        result = audited_call("sklearn", facts, lambda: model.predict(features), output=lambda r: r["x"], finish=finish)
        np.testing.assert_array_equal(result, expected)
        assert trace.get_current_span() is trace.INVALID_SPAN
        [record] = records(runtime, store)
        assert record["Output"] == "null" and record["BatchSize"] == 3
        assert json.loads(record["Attributes"]["audit.extractor.error"]) == [
            "output: IndexError",
            "finish: AttributeError",
        ]
        assert len(record["Attributes"]["audit.batch.input_hashes"]) == 3
        assert "audit.batch.outputs" not in record["Attributes"]
        assert otel_audit.stats()["counters"]["instrumentation.extractor_errors"] == 2

    def test_suppressed_calls_are_not_audited(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """Inside suppress_instrumentation() no record is made."""
        model = _model()
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        with suppress_instrumentation():
            model.predict(np.ones((1, 2)))
        model.predict(np.ones((1, 2)))
        assert len(records(runtime, store)) == 1


class TestPatcher:
    def test_inherited_attribute_is_removed_not_copied_on_restore(self) -> None:
        """Patching a method a class inherits, then restoring, leaves the class without its own copy."""

        class Base:
            def run(self) -> str:
                return "base"

        class Child(Base):
            pass

        patcher = Patcher()
        assert patcher.wrap(Child, "run", lambda original: lambda self: "wrapped " + original(self))
        assert not patcher.wrap(Child, "run", lambda original: original)
        assert Child().run() == "wrapped base"
        patcher.restore()
        assert "run" not in vars(Child)
        assert Child().run() == "base"


class TestRowsOf:
    def test_rows_of_arrays_lists_and_scalars(self) -> None:
        """Arrays and lists split on their first axis and are bounded; scalars and strings are one row."""
        count, head = rows_of(np.arange(10).reshape(5, 2), 2)
        assert count == 5 and [r.tolist() for r in head] == [[0, 1], [2, 3]]
        assert rows_of(["a", "b", "c"], 10) == (3, ["a", "b", "c"])
        assert rows_of("text", 10) == (1, ["text"])
        assert rows_of({"a": 1}, 10) == (1, [{"a": 1}])
