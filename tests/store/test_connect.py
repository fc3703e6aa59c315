"""Opening stores: DSN forms, the one-process lock of on-disk chDB, clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otel_audit.errors import ConfigError, StoreError
from otel_audit.store.connect import open_store, parse_dsn


class TestParseDsn:
    @pytest.mark.parametrize(
        ("dsn", "expected"),
        [
            ("chdb://memory", ("chdb", ":memory:", "default")),
            ("chdb:///var/lib/audit", ("chdb", "/var/lib/audit", "default")),
            ("chdb:///var/lib/audit?database=prod", ("chdb", "/var/lib/audit", "prod")),
            ("http://localhost:8123/audit", ("http", "http://localhost:8123/audit", "audit")),
            ("https://u:p@ch.example:8443", ("https", "https://u:p@ch.example:8443", "default")),
        ],
    )
    def test_forms(self, dsn: str, expected: tuple[str, str, str]) -> None:
        """Each documented DSN form is understood."""
        kind, location, database = parse_dsn(dsn)
        assert (kind if kind != "http" or not location.startswith("https") else "https", location, database) == expected

    def test_relative_path_is_resolved(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """chdb://relative/path is resolved against the working directory."""
        monkeypatch.chdir(tmp_path)
        assert parse_dsn("chdb://data/store")[1] == str(tmp_path / "data" / "store")

    @pytest.mark.parametrize("dsn", ["", "sqlite:///x.db", "chdb:///x?database=a;drop", "postgres://h"])
    def test_bad_dsn(self, dsn: str) -> None:
        """An unusable DSN is a ConfigError naming the accepted forms."""
        with pytest.raises(ConfigError):
            parse_dsn(dsn)


class TestLock:
    def test_second_process_gets_a_one_line_explanation(self, engine_path: Path, store_dsn: str) -> None:
        """The CLI in another process, on a store this process holds, prints one line and exits 3."""
        open_store(store_dsn)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "otel_audit.cli",
                "report",
                "model-usage",
                "--model",
                "m",
                "--store",
                f"chdb://{engine_path}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 3
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "is open in pid " in lines[0] and "otel-audit serve" in lines[0]

    def test_library_raises_store_locked_error(self, engine_path: Path, store_dsn: str) -> None:
        """In another process the library raises StoreLockedError (a StoreError), not a chDB error."""
        open_store(store_dsn)
        script = textwrap.dedent(f"""
            from otel_audit.store.connect import open_store
            from otel_audit.errors import StoreLockedError
            try:
                open_store("chdb://{engine_path}")
            except StoreLockedError as error:
                print("locked:", error)
        """)
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        assert out.startswith("locked: the store ")

    def test_second_path_in_one_process_is_refused(self, tmp_path: Path, store_dsn: str) -> None:
        """chDB runs one store per process: opening another path names the problem."""
        open_store(store_dsn)
        with pytest.raises(StoreError, match="one store per process"):
            open_store(f"chdb://{tmp_path / 'other'}")
