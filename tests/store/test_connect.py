"""Opening stores: DSN forms, the one-process lock of on-disk chDB, clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otel_audit.errors import ConfigError, StoreError, StoreNotFoundError
from otel_audit.store.connect import Store, open_store, parse_dsn
from otel_audit.store.schema import apply_schema


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


class TestOpenWithoutCreate:
    def test_missing_folder_raises_and_creates_nothing(self, tmp_path: Path) -> None:
        """create=False on a folder that does not exist raises StoreNotFoundError naming it; no folder appears."""
        missing = tmp_path / "a" / "store"
        with pytest.raises(StoreNotFoundError, match=f"no audit store at {missing}"):
            open_store(f"chdb://{missing}", create=False)
        assert not (tmp_path / "a").exists()

    def test_relative_dsn_gets_the_absolute_hint(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """chdb://var/x resolves against the working directory and the message suggests chdb:///var/x."""
        monkeypatch.chdir(tmp_path)
        with pytest.raises(StoreNotFoundError, match=r"did you mean chdb:///var/x\?") as raised:
            open_store("chdb://var/x", create=False)
        assert str(tmp_path / "var" / "x") in str(raised.value)
        assert list(tmp_path.iterdir()) == []

    def test_file_is_not_a_store(self, tmp_path: Path) -> None:
        """A DSN naming a file is refused and the file left as it was."""
        path = tmp_path / "store"
        path.write_text("x")
        with pytest.raises(StoreNotFoundError, match="is not a folder"):
            open_store(f"chdb://{path}", create=False)
        assert path.read_text() == "x"

    def test_unknown_database_is_not_created(self, store: Store, engine_path: Path) -> None:
        """An unknown ?database= raises, lists the databases holding a store (closest first), creates nothing."""
        wanted = store.database + "_typo"
        with pytest.raises(StoreNotFoundError, match=f"has no database {wanted!r}") as raised:
            open_store(f"chdb://{engine_path}?database={wanted}", create=False)
        assert f"closest first: ?database={store.database}" in str(raised.value)
        assert not store.query("SELECT count() FROM system.databases WHERE name = {n:String}", {"n": wanted}).rows[0][0]

    def test_database_without_schema_raises(self, store_dsn: str) -> None:
        """A database that exists but holds no otel-audit schema is not a store to read; with it, it is."""
        writer = open_store(store_dsn)
        with pytest.raises(StoreNotFoundError, match="holds no otel-audit store"):
            open_store(store_dsn, create=False)
        apply_schema(writer)
        assert open_store(store_dsn, create=False) is writer

    @pytest.mark.slow
    def test_fresh_process_reads_only_what_exists(self, tmp_path: Path) -> None:
        """In a new process (the CLI's case): an unknown database exits 5 and is not created; the store itself opens."""
        path = tmp_path / "store"
        make = "from otel_audit.store.connect import open_store; from otel_audit.store.schema import apply_schema; "
        make += f"apply_schema(open_store('chdb://{path}'))"
        subprocess.run([sys.executable, "-c", make], check=True, timeout=120)
        metadata = sorted(p.name for p in (path / "metadata").iterdir())

        def cli(dsn: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "otel_audit.cli", "report", "model-usage", "--model", "m", "--store", dsn]
            return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

        unknown = cli(f"chdb://{path}?database=prod")
        assert unknown.returncode == 5, unknown.stderr
        assert "has no database 'prod'" in unknown.stderr and "?database=default" in unknown.stderr
        assert sorted(p.name for p in (path / "metadata").iterdir()) == metadata
        empty = cli(f"chdb://{path}")
        assert empty.returncode == 4, empty.stderr
        assert "holds no prediction of any model yet" in empty.stderr
