"""Evidence packs: written from the store, verified offline, broken by any changed byte."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from otel_audit.seal import SealError
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.erasure import erase
from otel_audit.seal.evidence import build_pack, verify_pack
from otel_audit.seal.sealer import seal
from otel_audit.store.connect import Store


@pytest.fixture
def pack(filled: Store, signer: NoteSigner, emit: Callable[..., None], tmp_path: Path) -> Path:
    """A pack of model fraud over two checkpoints, with another model's records in the tree and one erasure."""
    seal(filled, signer)
    emit(5, start=20, model="credit")
    emit(3, start=40)
    erase(filled, request_id="r40")
    seal(filled, signer)
    out = tmp_path / "pack"
    build_pack(filled, signer, "fraud", out)
    return out


class TestEvidencePack:
    def test_pack_verifies_offline(self, pack: Path, signer: NoteSigner) -> None:
        """A fresh pack verifies with only the folder and the verifier key."""
        summary = verify_pack(pack, signer.verifier)
        assert summary["verified_records"] == 15 and summary["tree_size"] == 20
        assert summary["erased_records"] == 1 and summary["model"] == "fraud"
        assert sorted(path.name for path in pack.iterdir()) == [
            "MANIFEST",
            "checkpoints.json",
            "erasures.json",
            "model-usage.json",
            "pack.json",
            "proofs.json",
            "records.parquet",
        ]
        records = pq.read_table(pack / "records.parquet").to_pylist()
        assert {record["model_name"] for record in records} == {"fraud"}
        assert json.loads((pack / "model-usage.json").read_text())["total_predictions"] == 15
        checkpoints = json.loads((pack / "checkpoints.json").read_text())
        assert [c["tree_size"] for c in checkpoints["checkpoints"]] == [12, 20]
        assert len(checkpoints["consistency"]) == 1

    def test_any_changed_byte_fails(self, pack: Path, signer: NoteSigner) -> None:
        """Flipping a byte anywhere in the manifest, or at the start, middle or end of any file, fails."""
        for path in sorted(pack.iterdir()):
            original = path.read_bytes()
            positions = range(len(original)) if path.name == "MANIFEST" else {0, len(original) // 2, len(original) - 1}
            for position in positions:
                changed = bytearray(original)
                changed[position] ^= 0x01
                path.write_bytes(bytes(changed))
                with pytest.raises(SealError):
                    verify_pack(pack, signer.verifier)
            path.write_bytes(original)
        assert verify_pack(pack, signer.verifier)["verified_records"] == 15

    def test_extra_missing_file_and_wrong_key_fail(self, pack: Path, signer: NoteSigner) -> None:
        """An added or removed file, or another key, fails verification."""
        (pack / "note.txt").write_text("added")
        with pytest.raises(SealError, match="differ from the manifest"):
            verify_pack(pack, signer.verifier)
        (pack / "note.txt").unlink()
        with pytest.raises(SealError, match="not signed by key"):
            verify_pack(pack, NoteSigner("audit.test", os.urandom(32)).verifier)
        (pack / "erasures.json").unlink()
        with pytest.raises(SealError):
            verify_pack(pack, signer.verifier)

    def test_pack_needs_sealed_records_and_an_empty_folder(
        self, filled: Store, signer: NoteSigner, emit: Callable[..., None], tmp_path: Path
    ) -> None:
        """Packing refuses unsealed records and a non-empty folder."""
        with pytest.raises(SealError, match="nothing is sealed"):
            build_pack(filled, signer, "fraud", tmp_path / "a")
        seal(filled, signer)
        emit(1, start=90)
        with pytest.raises(SealError, match="not sealed yet"):
            build_pack(filled, signer, "fraud", tmp_path / "b")
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / "x").write_text("x")
        with pytest.raises(SealError, match="not empty"):
            build_pack(filled, signer, "fraud", tmp_path / "c")
