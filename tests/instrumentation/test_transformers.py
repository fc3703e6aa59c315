"""The transformers instrumentor, on a tiny BERT and tokenizer built from a config (no download)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

import otel_audit
from otel_audit.instrumentation.torch import TorchInstrumentor, fingerprint
from otel_audit.instrumentation.transformers import TransformersInstrumentor
from otel_audit.store.connect import Store
from tests.instrumentation.conftest import records

_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "great", "product", "arrived", "broken", "ok"]


def _classifier(tmp_path: Path) -> Any:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(_VOCAB) + "\n", encoding="utf-8")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(_VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=2,
    )
    model = BertForSequenceClassification(config).eval()
    return transformers.pipeline(
        "text-classification", model=model, tokenizer=BertTokenizer(vocab_file=str(vocab)), device="cpu"
    )


class TestTransformersInstrumentor:
    def test_pipeline_batch_is_one_record_with_task_and_rows(
        self, runtime: otel_audit.AuditRuntime, store: Store, tmp_path: Path, instrumentors: list[Any]
    ) -> None:
        """A 2-text call is one record: task, fingerprint version, per-text hashes; the model inside is not audited."""
        classify = _classifier(tmp_path)
        texts = ["great product", "arrived broken"]
        expected = classify(texts)
        instrumentors.extend([TransformersInstrumentor(), TorchInstrumentor()])
        TransformersInstrumentor().instrument()
        TorchInstrumentor().instrument()
        assert classify(texts) == expected
        [row] = records(runtime, store)
        assert row["ModelName"] == "BertForSequenceClassification"
        assert row["ModelVersion"] == fingerprint(classify.model)
        assert (row["Operation"], row["BatchSize"]) == ("text-classification", 2)
        assert row["InputHash"] == otel_audit.hash_input(texts)
        attributes = row["Attributes"]
        assert attributes["ml.model.task"] == "text-classification"
        assert attributes["audit.batch.input_hashes"] == [otel_audit.hash_input(t) for t in texts]
        assert attributes["audit.batch.outputs"] == [otel_audit.canonical_json(o)[1] for o in expected]

    def test_revision_is_the_version_when_known(
        self, runtime: otel_audit.AuditRuntime, store: Store, tmp_path: Path, instrumentors: list[Any]
    ) -> None:
        """A model id and commit hash on the config become the model name and version."""
        classify = _classifier(tmp_path)
        classify.model.config._name_or_path = "acme/tiny-bert"
        classify.model.config._commit_hash = "0123abcd"
        instrumentors.append(TransformersInstrumentor())
        TransformersInstrumentor().instrument()
        classify("ok")
        [row] = records(runtime, store)
        assert (row["ModelName"], row["ModelVersion"], row["BatchSize"]) == ("acme/tiny-bert", "0123abcd", 1)
        assert row["Attributes"]["ml.model.revision"] == "0123abcd"
        assert "audit.batch.input_hashes" not in row["Attributes"]

    def test_uninstrument_restores_pipeline_call(self, instrumentors: list[Any]) -> None:
        """After uninstrument() Pipeline.__call__ is the library's own again."""
        from transformers.pipelines.base import Pipeline

        original = Pipeline.__call__
        instrumentors.append(TransformersInstrumentor())
        TransformersInstrumentor().instrument()
        assert Pipeline.__call__ is not original
        TransformersInstrumentor().uninstrument()
        assert Pipeline.__call__ is original
