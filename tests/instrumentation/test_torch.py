"""The PyTorch instrumentor, on a tiny model built in the test."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import otel_audit
from otel_audit.instrumentation.torch import TorchInstrumentor, fingerprint, label
from otel_audit.store.connect import Store
from tests.instrumentation.conftest import records


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).eval()


class TestTorchInstrumentor:
    def test_eval_call_is_one_record_with_row_hashes(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """An eval-mode batch call is one record (sub-modules not audited), with per-row hashes."""
        model = _model()
        batch = torch.rand(5, 3)
        expected = model(batch)
        instrumentors.append(TorchInstrumentor())
        TorchInstrumentor().instrument()
        with torch.no_grad():
            result = model(batch)
        assert torch.equal(result, expected.detach())
        [row] = records(runtime, store)
        assert (row["ModelName"], row["ModelVersion"], row["BatchSize"]) == ("Sequential", fingerprint(model), 5)
        assert row["InputHash"] == otel_audit.hash_input(batch.numpy())
        assert row["Attributes"]["audit.batch.input_hashes"] == [otel_audit.hash_input(r.numpy()) for r in batch]
        assert row["Attributes"]["audit.batch.outputs"][0] == otel_audit.canonical_json(result[0].numpy())[1]

    def test_training_calls_are_not_audited(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """A call in train mode with gradients on leaves no record; the same call in eval mode does."""
        model = label(_model().train(), model="scorer", version="v2")
        instrumentors.append(TorchInstrumentor())
        TorchInstrumentor().instrument()
        model(torch.rand(2, 3)).sum().backward()
        model.eval()
        model(torch.rand(2, 3))
        rows = records(runtime, store)
        assert [(r["ModelName"], r["ModelVersion"]) for r in rows] == [("scorer", "v2")]

    def test_fingerprint_follows_load_state_dict(self) -> None:
        """Equal weights give equal fingerprints; load_state_dict with other weights changes it."""
        model = _model()
        assert fingerprint(model) == fingerprint(_model())
        before = fingerprint(model)
        model.load_state_dict({name: value + 1 for name, value in model.state_dict().items()})
        assert fingerprint(model) != before

    def test_exception_is_unchanged_and_audited(
        self, runtime: otel_audit.AuditRuntime, store: Store, instrumentors: list[Any]
    ) -> None:
        """A shape mismatch raises torch's own RuntimeError and is recorded as an error."""
        model = _model()
        with pytest.raises(RuntimeError) as uninstrumented:
            model(torch.rand(2, 7))
        instrumentors.append(TorchInstrumentor())
        TorchInstrumentor().instrument()
        with pytest.raises(RuntimeError) as instrumented:
            model(torch.rand(2, 7))
        assert str(instrumented.value) == str(uninstrumented.value)
        [row] = records(runtime, store)
        assert (row["Outcome"], row["ErrorType"]) == ("error", "RuntimeError")

    def test_uninstrument_restores_module_call(self, instrumentors: list[Any]) -> None:
        """After uninstrument() nn.Module.__call__ is torch's own again."""
        original = torch.nn.Module.__call__
        instrumentors.append(TorchInstrumentor())
        TorchInstrumentor().instrument()
        assert torch.nn.Module.__call__ is not original
        TorchInstrumentor().uninstrument()
        assert torch.nn.Module.__call__ is original
