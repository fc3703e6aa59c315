"""The tamper-evidence commands of the otel-audit CLI, in-process on the test's store."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.store.connect import Store

runner = CliRunner()
_SYNC = {"mutations_sync": 2}


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """A key pair made by `otel-audit keygen`."""
    code, out, err = _invoke("keygen", "audit.cli", "--out", str(tmp_path / "keys"))
    assert code == 0, err
    assert "audit.cli+" in out
    return tmp_path / "keys" / "audit.cli.key", tmp_path / "keys" / "audit.cli.pub"


class TestSealCommands:
    def test_seal_verify_and_tamper(self, filled: Store, store_dsn: str, keys: tuple[Path, Path]) -> None:
        """seal then verify exits 0; after a tampering verify exits 1 and names the record."""
        private, public = keys
        code, out, err = _invoke("seal", "--store", store_dsn, "--signing-key", str(private))
        assert code == 0, err
        assert "sealed 12 records; tree size 12" in out
        code, out, err = _invoke("verify", "--store", store_dsn, "--verifier-key", str(public))
        assert code == 0, err
        assert json.loads(out)["ok"] is True
        record_id = filled.query("SELECT RecordId FROM audit_predictions WHERE RequestId = 'r9'").rows[0][0]
        filled.command("ALTER TABLE audit_predictions DELETE WHERE RequestId = 'r9'", settings={"mutations_sync": 2})
        code, out, err = _invoke("verify", "--store", store_dsn, "--verifier-key", str(public))
        assert code == 1
        assert json.loads(out)["first_bad_record"] == record_id
        assert f"first bad record {record_id}" in err and "deleted record" in err

    def test_prove_erase_evidence(self, filled: Store, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path) -> None:
        """prove / verify-receipt, erase and evidence / verify-pack work end to end."""
        private, public = keys
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private))[0] == 0
        receipt = tmp_path / "r3.json"
        code, _, err = _invoke("prove", "r3", "--store", store_dsn, "--out", str(receipt))
        assert code == 0, err
        code, out, _ = _invoke("verify-receipt", str(receipt), "--verifier-key", str(public))
        assert code == 0 and json.loads(out)["request_id"] == "r3"
        receipt.write_text(receipt.read_text().replace('"u0"', '"u1"'))
        code, _, err = _invoke("verify-receipt", str(receipt), "--verifier-key", str(public))
        assert code == 1 and "does NOT verify" in err
        code, out, _ = _invoke("erase", "--user", "u0", "--reason", "GDPR-42", "--store", store_dsn)
        assert code == 0 and "erased the content of 4 records" in out
        code, out, _ = _invoke("verify", "--store", store_dsn, "--verifier-key", str(public))
        assert code == 0 and json.loads(out)["erased_records"] == 4
        pack = tmp_path / "pack"
        code, out, err = _invoke(
            "evidence", "--model", "fraud", "--out", str(pack), "--store", store_dsn, "--signing-key", str(private)
        )
        assert code == 0, err
        code, out, _ = _invoke("verify-pack", str(pack), "--verifier-key", public.read_text().strip())
        assert code == 0 and json.loads(out)["verified_records"] == 12

    def test_errors_are_one_line(self, store_dsn: str, tmp_path: Path) -> None:
        """A missing key or selector is a one-line error with exit code 2."""
        code, _, err = _invoke("seal", "--store", store_dsn)
        assert code == 2 and "no signing key" in err
        code, _, err = _invoke("erase", "--store", store_dsn)
        assert code == 2 and "exactly one of" in err
        code, _, err = _invoke("verify-pack", str(tmp_path), "--verifier-key", str(tmp_path / "missing.pub"))
        assert code == 2 and "cannot read verifier key" in err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, killed after two minutes (for commands that could block)."""
    command = [sys.executable, "-c", "from otel_audit.cli import main; main()", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)


def _evidence(store_dsn: str, private: Path, pack: Path) -> None:
    """`otel-audit evidence` of model fraud into *pack*."""
    code, _, err = _invoke(
        "evidence", "--model", "fraud", "--out", str(pack), "--store", store_dsn, "--signing-key", str(private)
    )
    assert code == 0, err


@pytest.fixture
def sealed_pack(filled: Store, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path) -> Path:
    """An evidence pack of the 12 sealed predictions, made by `otel-audit evidence`."""
    private, _ = keys
    assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private))[0] == 0
    pack = tmp_path / "pack"
    _evidence(store_dsn, private, pack)
    return pack


class TestEvidenceBytes:
    def test_crlf_or_reformatted_receipt_is_refused(
        self, filled: Store, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        """A receipt whose bytes changed but not its content (CR LF, pretty-printed) fails and says how."""
        private, public = keys
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private))[0] == 0
        receipt = tmp_path / "r3.json"
        assert _invoke("prove", "r3", "--store", store_dsn, "--out", str(receipt))[0] == 0
        original = receipt.read_bytes()
        receipt.write_bytes(original.replace(b"\n", b"\r\n"))
        code, _, err = _invoke("verify-receipt", str(receipt), "--verifier-key", str(public))
        assert code == 1 and "line endings were changed to CR LF" in err and "keep the original bytes" in err
        receipt.write_bytes(json.dumps(json.loads(original), indent=2).encode() + b"\n")
        code, _, err = _invoke("verify-receipt", str(receipt), "--verifier-key", str(public))
        assert code == 1 and "re-indented (pretty-printed)" in err
        receipt.write_bytes(original + b" ")
        code, _, err = _invoke("verify-receipt", str(receipt), "--verifier-key", str(public))
        assert code == 1 and "whitespace was added" in err
        receipt.write_bytes(original)
        assert _invoke("verify-receipt", str(receipt), "--verifier-key", str(public))[0] == 0

    def test_crlf_manifest_is_refused(self, sealed_pack: Path, keys: tuple[Path, Path]) -> None:
        """A pack MANIFEST with CR LF line endings fails verify-pack, naming the line endings."""
        manifest = sealed_pack / "MANIFEST"
        original = manifest.read_bytes()
        manifest.write_bytes(original.replace(b"\n", b"\r\n"))
        code, _, err = _invoke("verify-pack", str(sealed_pack), "--verifier-key", str(keys[1]))
        assert code == 1 and "MANIFEST" in err and "CR LF" in err
        manifest.write_bytes(original)
        assert _invoke("verify-pack", str(sealed_pack), "--verifier-key", str(keys[1]))[0] == 0

    def test_symlinked_pack_file_is_refused(self, sealed_pack: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
        """A pack file replaced by a symbolic link to an identical copy is refused, not followed."""
        copy = tmp_path / "erasures.json"
        shutil.move(sealed_pack / "erasures.json", copy)
        (sealed_pack / "erasures.json").symlink_to(copy)
        code, _, err = _invoke("verify-pack", str(sealed_pack), "--verifier-key", str(keys[1]))
        assert code == 1 and "erasures.json is a symbolic link" in err

    def test_fifo_in_pack_is_refused_without_blocking(self, sealed_pack: Path, keys: tuple[Path, Path]) -> None:
        """A FIFO in place of a pack file is refused at once (the command used to wait forever)."""
        (sealed_pack / "records.parquet").unlink()
        os.mkfifo(sealed_pack / "records.parquet")
        done = _run_cli("verify-pack", str(sealed_pack), "--verifier-key", str(keys[1]))
        assert done.returncode == 1 and "records.parquet is not a regular file" in done.stderr
        (sealed_pack / "MANIFEST").unlink()
        os.mkfifo(sealed_pack / "MANIFEST")
        done = _run_cli("verify-pack", str(sealed_pack), "--verifier-key", str(keys[1]))
        assert done.returncode == 1 and "not a regular file" in done.stderr

    def test_fifo_or_symlinked_receipt_is_refused(self, keys: tuple[Path, Path], tmp_path: Path) -> None:
        """verify-receipt refuses a FIFO (without waiting for a writer) and a symbolic link."""
        os.mkfifo(tmp_path / "receipt.json")
        done = _run_cli("verify-receipt", str(tmp_path / "receipt.json"), "--verifier-key", str(keys[1]))
        assert done.returncode == 1 and "not a regular file" in done.stderr
        (tmp_path / "link.json").symlink_to(tmp_path / "receipt.json")
        code, _, err = _invoke("verify-receipt", str(tmp_path / "link.json"), "--verifier-key", str(keys[1]))
        assert code == 1 and "symbolic link" in err


class TestPublishedHead:
    def test_deleted_newest_batch_fails_only_against_a_pinned_head(
        self, filled: Store, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path, emit: Callable[..., None]
    ) -> None:
        """Deleting the newest batch with its leaves and checkpoint passes plain verify, fails --checkpoint of the
        published head and --min-tree-size; a rewritten tree of the same size fails as forked."""
        private, public = keys
        old, head = tmp_path / "12.note", tmp_path / "20.note"
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private), "--out", str(old))[0] == 0
        emit(8, start=12)
        code, _, err = _invoke("seal", "--store", store_dsn, "--signing-key", str(private), "--out", str(head))
        assert code == 0 and "tree size 20" in err
        assert head.read_text().split("\n")[1] == "20" and _mode(head) == 0o600
        requests = ", ".join(f"'r{n}'" for n in range(12, 20))
        filled.command(f"ALTER TABLE audit_predictions DELETE WHERE RequestId IN ({requests})", settings=_SYNC)
        filled.command("ALTER TABLE audit_seal_leaves DELETE WHERE LeafIndex >= 12", settings=_SYNC)
        filled.command("ALTER TABLE audit_seal_checkpoints DELETE WHERE TreeSize = 20", settings=_SYNC)

        verify = ("verify", "--store", store_dsn, "--verifier-key", str(public))
        code, out, _ = _invoke(*verify)
        assert code == 0 and json.loads(out)["tree_size"] == 12  # the limit: the store alone looks fine
        code, out, err = _invoke(*verify, "--checkpoint", str(head))
        assert code == 1 and "truncated tree" in err and json.loads(out)["pinned_tree_size"] == 20
        code, _, err = _invoke(*verify, "--min-tree-size", "20")
        assert code == 1 and "the published head 20" in err
        assert _invoke(*verify, "--checkpoint", str(old))[0] == 0
        assert _invoke(*verify, "--min-tree-size", "12")[0] == 0

        emit(8, start=50)
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private))[0] == 0
        assert _invoke(*verify)[0] == 0
        code, _, err = _invoke(*verify, "--checkpoint", str(head))
        assert code == 1 and "forked tree" in err

    def test_pinned_checkpoint_needs_a_key_and_its_bytes(
        self, filled: Store, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        """--checkpoint without --verifier-key, or with its line endings changed, is a one-line error."""
        private, public = keys
        note = tmp_path / "head.note"
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private), "--out", str(note))[0] == 0
        code, _, err = _invoke("verify", "--store", store_dsn, "--waive-signatures", "--checkpoint", str(note))
        assert code == 2 and "--checkpoint needs --verifier-key" in err
        note.write_bytes(note.read_bytes().replace(b"\n", b"\r\n"))
        code, _, err = _invoke("verify", "--store", store_dsn, "--verifier-key", str(public), "--checkpoint", str(note))
        assert code == 2 and "CR LF" in err


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask for one test, restored after it."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


class TestPrivateFiles:
    def test_keys_receipts_packs_and_notes_are_private(
        self, umask: int, filled: Store, store_dsn: str, tmp_path: Path
    ) -> None:
        """Whatever the umask, keys, checkpoint notes, receipts and packs are 0600 in 0700 folders."""
        folder = tmp_path / "keys" / "sub"
        assert _invoke("keygen", "audit.cli", "--out", str(folder))[0] == 0
        private, public = folder / "audit.cli.key", folder / "audit.cli.pub"
        assert (_mode(folder), _mode(private), _mode(public)) == (0o700, 0o600, 0o600)
        note, receipt, pack = tmp_path / "head.note", tmp_path / "r1.json", tmp_path / "out" / "pack"
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(private), "--out", str(note))[0] == 0
        assert _invoke("prove", "r1", "--store", store_dsn, "--out", str(receipt))[0] == 0
        _evidence(store_dsn, private, pack)
        assert (_mode(note), _mode(receipt), _mode(pack)) == (0o600, 0o600, 0o700)
        assert {path.name: _mode(path) for path in pack.iterdir()} == {path.name: 0o600 for path in pack.iterdir()}
        assert _invoke("verify-pack", str(pack), "--verifier-key", str(public))[0] == 0
