"""Evidence packs: written from the store, verified offline, broken by any changed byte."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.errors import UnknownModelError
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


class TestHonestPacks:
    def test_open_period_is_the_records_own(self, pack: Path) -> None:
        """pack.json and model-usage.json state the first and last record's times, not the open bounds."""
        records = pq.read_table(pack / "records.parquet").to_pylist()
        stated = json.loads((pack / "pack.json").read_text())
        assert stated["since"][:19] == min(r["timestamp"] for r in records)[:19].replace(" ", "T")
        assert stated["until"][:19] == max(r["timestamp"] for r in records)[:19].replace(" ", "T")
        for name in ("pack.json", "model-usage.json"):
            text = (pack / name).read_text()
            assert "1970-01-01" not in text and "2262-04-11" not in text

    def test_unknown_model_writes_nothing(self, filled: Store, signer: NoteSigner, tmp_path: Path) -> None:
        """A model the store has never seen is an UnknownModelError naming the known one; no folder is made."""
        seal(filled, signer)
        with pytest.raises(UnknownModelError, match="closest first: 'fraud'"):
            build_pack(filled, signer, "frad", tmp_path / "pack", allow_empty=True)
        assert not (tmp_path / "pack").exists()

    def test_empty_pack_needs_allow_empty(self, filled: Store, signer: NoteSigner, tmp_path: Path) -> None:
        """A period with no record of the model is refused unless allow_empty; then the pack verifies, empty."""
        seal(filled, signer)
        period = {"since": "2001-01-01", "until": "2001-02-01"}
        with pytest.raises(
            SealError, match=r"no predictions of model 'fraud' from 2001-01-01T00:00:00Z .*--allow-empty"
        ):
            build_pack(filled, signer, "fraud", tmp_path / "refused", **period)
        assert not (tmp_path / "refused").exists()
        stated = build_pack(filled, signer, "fraud", tmp_path / "empty", allow_empty=True, **period)
        assert stated["records"] == 0 and (stated["since"], stated["until"]) == (
            "2001-01-01T00:00:00",
            "2001-02-01T00:00:00",
        )
        assert verify_pack(tmp_path / "empty", signer.verifier)["verified_records"] == 0

    def test_cli_typo_and_empty_pack(self, filled: Store, store_dsn: str, tmp_path: Path) -> None:
        """`evidence --model typo` exits 4, an empty period exits 2 naming --allow-empty; neither writes a file."""
        runner = CliRunner()
        assert runner.invoke(app, ["keygen", "audit.test", "--out", str(tmp_path / "keys")]).exit_code == 0
        key = str(tmp_path / "keys" / "audit.test.key")
        assert runner.invoke(app, ["seal", "--store", store_dsn, "--key", key]).exit_code == 0
        common = ["--store", store_dsn, "--key", key]
        typo = runner.invoke(app, ["evidence", "--model", "frod", "--out", str(tmp_path / "a"), *common])
        assert typo.exit_code == 4 and "known models, closest first: 'fraud'" in typo.stderr
        period = ["--since", "2001-01-01", "--until", "2001-02-01"]
        empty = runner.invoke(app, ["evidence", "--model", "fraud", "--out", str(tmp_path / "b"), *period, *common])
        assert empty.exit_code == 2 and "--allow-empty" in empty.stderr
        assert len(empty.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
        allowed = runner.invoke(
            app, ["evidence", "--model", "fraud", "--out", str(tmp_path / "c"), *period, *common, "--allow-empty"]
        )
        assert allowed.exit_code == 0 and "evidence pack of 0 records" in allowed.stdout
        public = (tmp_path / "keys" / "audit.test.pub").read_text().strip()
        checked = runner.invoke(app, ["verify-pack", str(tmp_path / "c"), "--key", public])
        assert checked.exit_code == 0 and "holds no record" in checked.stderr
