"""The scikit-learn instrumentor, on a real fitted pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import otel_audit
from otel_audit.answer import queries
from otel_audit.instrumentation.sklearn import SklearnInstrumentor, fingerprint, label
from otel_audit.store.connect import Store
from tests.instrumentation.conftest import records


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(7)
    features = rng.rand(40, 3)
    return features, (features[:, 0] + features[:, 1] > 1).astype(int)


def _pipeline() -> Pipeline:
    features, labels = _data()
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(features, labels)


class TestSklearnInstrumentor:
    def test_batch_call_is_one_record_with_row_hashes_and_outputs(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """A pipeline's predict on 5 rows is one record: batch size 5, each row's hash and output."""
        pipeline = _pipeline()
        features, _ = _data()
        expected = pipeline.predict(features[:5])
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        result = pipeline.predict(features[:5])
        np.testing.assert_array_equal(result, expected)
        [row] = records(runtime, store)
        assert row["ModelName"] == "Pipeline"
        assert row["ModelVersion"] == fingerprint(pipeline)
        assert row["Operation"] == "predict"
        assert row["BatchSize"] == 5
        assert row["InputHash"] == otel_audit.hash_input(features[:5])
        attributes = row["Attributes"]
        assert attributes["audit.instrumentation"] == "sklearn"
        assert attributes["audit.batch.input_hashes"] == [otel_audit.hash_input(r) for r in features[:5]]
        assert attributes["audit.batch.outputs"] == [str(int(v)) for v in expected]
        assert "audit.batch.truncated" not in attributes

    def test_every_prediction_method_is_audited_once(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """predict_proba, decision_function and transform each give exactly one record (steps are not audited)."""
        pipeline = _pipeline()
        features, _ = _data()
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        pipeline.predict_proba(features[:2])
        pipeline.decision_function(features[:2])
        pipeline[0].transform(features[:2])
        rows = records(runtime, store)
        assert [(r["ModelName"], r["Operation"]) for r in rows] == [
            ("Pipeline", "predict_proba"),
            ("Pipeline", "decision_function"),
            ("StandardScaler", "transform"),
        ]

    def test_label_names_model_and_version(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """label() overrides the class name and the fingerprint."""
        pipeline = label(_pipeline(), model="credit_scorer", version="v1.5.0")
        features, _ = _data()
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        pipeline.predict(features[:1])
        [row] = records(runtime, store)
        assert (row["ModelName"], row["ModelVersion"]) == ("credit_scorer", "v1.5.0")

    def test_rows_beyond_the_bound_are_marked_truncated(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """With max_rows=3 a 10-row batch keeps 3 row hashes and says it was truncated."""
        pipeline = _pipeline()
        features, _ = _data()
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument(max_rows=3)
        pipeline.predict(features[:10])
        [row] = records(runtime, store)
        assert row["BatchSize"] == 10
        assert len(row["Attributes"]["audit.batch.input_hashes"]) == 3
        assert row["Attributes"]["audit.batch.truncated"] == "true"

    def test_exception_is_unchanged_and_audited(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """A wrong feature count raises sklearn's own ValueError, and the record says error."""
        pipeline = _pipeline()
        with pytest.raises(ValueError) as uninstrumented:
            pipeline.predict(np.ones((2, 5)))
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        with pytest.raises(ValueError) as instrumented:
            pipeline.predict(np.ones((2, 5)))
        assert str(instrumented.value) == str(uninstrumented.value)
        [row] = records(runtime, store)
        assert row["Outcome"] == "error"
        assert row["ErrorType"] == "ValueError"

    def test_row_lookup_finds_the_batch_prediction(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """Each row is indexed by its hash; report input with one row's hash finds the call, the row and its output."""
        pipeline = _pipeline()
        features, _ = _data()
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        outputs = pipeline.predict(features[:6])
        records(runtime, store)
        indexed = store.query("SELECT RowHash, Row FROM audit_batch_rows ORDER BY Row").dicts()
        assert [(r["RowHash"], r["Row"]) for r in indexed] == [
            (otel_audit.hash_input(f), i) for i, f in enumerate(features[:6])
        ]
        report = queries.input_lookup(store, otel_audit.hash_input(features[4]))
        [hit] = report["batch_rows"]
        assert (hit["row"], hit["row_output"], hit["batch_size"]) == (4, str(int(outputs[4])), 6)

    def test_fitting_is_not_audited(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """fit and fit_transform (and the transforms they run inside) leave no record."""
        features, labels = _data()
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, labels)
        StandardScaler().fit_transform(features)
        pipeline.predict(features[:1])
        assert [r["Operation"] for r in records(runtime, store)] == ["predict"]

    def test_fingerprint_is_stable_and_follows_refit(self) -> None:
        """Equal fits give equal fingerprints; refitting on other data changes it."""
        features, labels = _data()
        first, second = _pipeline(), _pipeline()
        assert fingerprint(first) == fingerprint(second)
        before = fingerprint(first)
        first.fit(features[:20], labels[:20])
        assert fingerprint(first) != before

    def test_uninstrument_restores_the_originals(self, instrumentors: list[Any]) -> None:
        """After uninstrument() every patched method is the library's own again."""
        originals = {
            "pipeline": Pipeline.__dict__["predict"],
            "linear": LogisticRegression.predict,
            "scaler": StandardScaler.transform,
        }
        instrumentor = SklearnInstrumentor()
        instrumentors.append(instrumentor)
        instrumentor.instrument()
        assert LogisticRegression.predict is not originals["linear"]
        instrumentor.uninstrument()
        assert Pipeline.__dict__["predict"] is originals["pipeline"]
        assert LogisticRegression.predict is originals["linear"]
        assert StandardScaler.transform is originals["scaler"]

    def test_unavailable_methods_stay_unavailable(self, instrumentors: list[Any]) -> None:
        """A pipeline without a final predictor still has no predict while instrumented."""
        features, labels = _data()
        transformer_only = make_pipeline(StandardScaler()).fit(features, labels)
        instrumentors.append(SklearnInstrumentor())
        SklearnInstrumentor().instrument()
        assert not hasattr(transformer_only, "predict")
        assert hasattr(_pipeline(), "predict_proba")
