"""Evidence packs: written from the store, verified offline, broken by any changed byte."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.errors import UnknownModelError
from otel_audit.seal import SealError
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.erasure import erase
from otel_audit.seal.evidence import PACK_FORMAT, build_pack, verify_pack
from otel_audit.seal.manifest import open_manifest, write_manifest
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
            "events.json",
            "model-usage.json",
            "pack.json",
            "proofs.json",
            "records.parquet",
            "summary.html",
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
        assert runner.invoke(app, ["seal", "--store", store_dsn, "--signing-key", key]).exit_code == 0
        common = ["--store", store_dsn, "--signing-key", key]
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
        checked = runner.invoke(app, ["verify-pack", str(tmp_path / "c"), "--verifier-key", public])
        assert checked.exit_code == 0 and "holds no record" in checked.stderr


class _Page(HTMLParser):
    """The tags and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class TestPackSummary:
    def test_summary_states_the_pack_and_is_signed(self, pack: Path, signer: NoteSigner) -> None:
        """summary.html names the model, period, counts, checkpoint and signer, and every file with the
        checksum MANIFEST signs; MANIFEST lists it too."""
        page = _Page()
        page.feed((pack / "summary.html").read_text(encoding="utf-8"))
        text = " ".join(" ".join(page.text).split())
        stated = json.loads((pack / "pack.json").read_text())
        listed = open_manifest(pack, PACK_FORMAT, signer.verifier)
        assert "summary.html" in listed
        for name, digest in listed.items():
            if name != "summary.html":
                assert f"{name} " in text and digest in text
        assert "Evidence pack: fraud" in text and "Records 15" in text and "Tree size 20 leaves" in text
        assert f"{stated['since']} to {stated['until']}" in text and stated["root"] in text
        assert f"Checkpoint signed by audit.test (key id {signer.verifier.key_id.hex()}" in text
        # Self-contained: no script, nothing fetched.
        assert not [tag for tag, _ in page.tags if tag in ("script", "img", "iframe", "object")]
        assert [v for _, attrs in page.tags for k, v in attrs.items() if k in ("src", "href")] == ["data:,"]

    def test_the_command_it_prints_verifies_the_pack(
        self, pack: Path, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The exact `otel-audit verify-pack` command line of the summary, run beside the pack, verifies it."""
        page = _Page()
        page.feed((pack / "summary.html").read_text(encoding="utf-8"))
        (command,) = [line.strip() for line in page.text if line.strip().startswith("otel-audit verify-pack")]
        argv = shlex.split(command)
        assert argv[:3] == ["otel-audit", "verify-pack", "pack"] and str(signer.verifier) in argv
        monkeypatch.chdir(pack.parent)
        result = CliRunner().invoke(app, argv[1:])
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["verified_records"] == 15

    def test_an_altered_summary_fails(self, pack: Path, signer: NoteSigner) -> None:
        """A changed word in summary.html fails verify-pack like any other file."""
        summary = pack / "summary.html"
        summary.write_text(summary.read_text(encoding="utf-8").replace("Records", "Recordz", 1), encoding="utf-8")
        with pytest.raises(SealError, match=r"summary\.html: checksum differs"):
            verify_pack(pack, signer.verifier)

    def test_a_pack_from_before_the_summary_still_verifies(self, pack: Path, signer: NoteSigner) -> None:
        """A pack written before summary.html existed (neither in the folder nor in MANIFEST) verifies as before."""
        (pack / "summary.html").unlink()
        (pack / "MANIFEST").unlink()
        write_manifest(pack, PACK_FORMAT, [p.name for p in pack.iterdir()], signer)
        assert verify_pack(pack, signer.verifier)["verified_records"] == 15
