"""The tamper-evidence commands of the otel-audit CLI, in-process on the test's store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.store.connect import Store

runner = CliRunner()


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
        code, out, err = _invoke("seal", "--store", store_dsn, "--key", str(private))
        assert code == 0, err
        assert "sealed 12 records; tree size 12" in out
        code, out, err = _invoke("verify", "--store", store_dsn, "--key", str(public))
        assert code == 0, err
        assert json.loads(out)["ok"] is True
        record_id = filled.query("SELECT RecordId FROM audit_predictions WHERE RequestId = 'r9'").rows[0][0]
        filled.command("ALTER TABLE audit_predictions DELETE WHERE RequestId = 'r9'", settings={"mutations_sync": 2})
        code, out, err = _invoke("verify", "--store", store_dsn, "--key", str(public))
        assert code == 1
        assert json.loads(out)["first_bad_record"] == record_id
        assert f"first bad record {record_id}" in err and "deleted record" in err

    def test_prove_erase_evidence(self, filled: Store, store_dsn: str, keys: tuple[Path, Path], tmp_path: Path) -> None:
        """prove / verify-receipt, erase and evidence / verify-pack work end to end."""
        private, public = keys
        assert _invoke("seal", "--store", store_dsn, "--key", str(private))[0] == 0
        receipt = tmp_path / "r3.json"
        code, _, err = _invoke("prove", "r3", "--store", store_dsn, "--out", str(receipt))
        assert code == 0, err
        code, out, _ = _invoke("verify-receipt", str(receipt), "--key", str(public))
        assert code == 0 and json.loads(out)["request_id"] == "r3"
        receipt.write_text(receipt.read_text().replace('"u0"', '"u1"'))
        code, _, err = _invoke("verify-receipt", str(receipt), "--key", str(public))
        assert code == 1 and "does NOT verify" in err
        code, out, _ = _invoke("erase", "--user", "u0", "--reason", "GDPR-42", "--store", store_dsn)
        assert code == 0 and "erased the content of 4 records" in out
        code, out, _ = _invoke("verify", "--store", store_dsn, "--key", str(public))
        assert code == 0 and json.loads(out)["erased_records"] == 4
        pack = tmp_path / "pack"
        code, out, err = _invoke(
            "evidence", "--model", "fraud", "--out", str(pack), "--store", store_dsn, "--key", str(private)
        )
        assert code == 0, err
        code, out, _ = _invoke("verify-pack", str(pack), "--key", public.read_text().strip())
        assert code == 0 and json.loads(out)["verified_records"] == 12

    def test_errors_are_one_line(self, store_dsn: str, tmp_path: Path) -> None:
        """A missing key or selector is a one-line error with exit code 2."""
        code, _, err = _invoke("seal", "--store", store_dsn)
        assert code == 2 and "no signing key" in err
        code, _, err = _invoke("erase", "--store", store_dsn)
        assert code == 2 and "exactly one of" in err
        code, _, err = _invoke("verify-pack", str(tmp_path), "--key", str(tmp_path / "missing.pub"))
        assert code == 2 and "cannot read verifier key" in err
