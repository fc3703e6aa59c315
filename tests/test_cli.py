"""The otel-audit CLI, in-process on the test's store (real chDB)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.store.connect import Store

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_store(store_dsn: str) -> str:
    """A store filled by `otel-audit demo`."""
    code, out, err = _invoke("demo", "--store", store_dsn, "--count", "600")
    assert code == 0, err
    assert "wrote 600 predictions (0 were there already)" in out
    return store_dsn


class TestReports:
    def test_demo_versions_and_json_report(self, demo_store: str) -> None:
        """demo rolls fraud_detector from v3.2.0 to v3.2.1 halfway; the JSON report shows both."""
        code, out, _ = _invoke(
            "report", "model-usage", "--model", "fraud_detector", "--store", demo_store, "-f", "json"
        )
        assert code == 0
        report = json.loads(out)
        assert report["versions_used"] == {"v3.2.0": 100, "v3.2.1": 100}
        assert report["unique_users"] == 5
        assert sum(report["prediction_distribution"].values()) == 200

    def test_data_access_csv_lists_every_request(self, demo_store: str, store: Store) -> None:
        """The CSV data-access report has one row per prediction made for the user."""
        code, out, _ = _invoke("report", "data-access", "--user", "analyst_jane", "--store", demo_store, "-f", "csv")
        assert code == 0
        rows = list(csv.DictReader(io.StringIO(out)))
        expected = store.query("SELECT count() FROM audit_predictions WHERE UserId = 'analyst_jane'").rows[0][0]
        assert len(rows) == expected > 0
        assert set(rows[0]) >= {"timestamp", "request_id", "model", "version", "outcome", "input_hash"}

    def test_request_and_input_reports(self, demo_store: str, store: Store) -> None:
        """A stored request id and its input hash are found again through the CLI."""
        request_id, digest = store.query("SELECT RequestId, InputHash FROM audit_predictions LIMIT 1").rows[0]
        code, out, _ = _invoke("report", "request", request_id, "--store", demo_store, "-f", "json")
        assert code == 0 and json.loads(out)["records"][0]["input_hash"] == digest
        code, out, _ = _invoke("report", "input", digest, "--store", demo_store, "-f", "json")
        assert code == 0 and request_id in {p["request_id"] for p in json.loads(out)["predictions"]}

    def test_version_at_table(self, demo_store: str) -> None:
        """The table format renders the version-at report."""
        code, out, _ = _invoke(
            "report", "version-at", "--model", "credit_scorer", "--at", "2100-01-01", "--store", demo_store
        )
        assert code == 0
        assert "latest_before" in out and "v1.5.0" in out

    def test_query_is_read_only(self, demo_store: str) -> None:
        """query runs SELECTs and refuses writes with one line."""
        code, out, _ = _invoke(
            "query", "SELECT count() AS n FROM audit_predictions", "--store", demo_store, "-f", "json"
        )
        assert code == 0 and json.loads(out) == [{"n": 600}]
        code, _, err = _invoke("query", "DROP TABLE audit_predictions", "--store", demo_store)
        assert code == 2 and "refused: only one SELECT" in err
        code, _, err = _invoke("query", "INSERT INTO otel_logs (Body) VALUES ('x')", "--store", demo_store)
        assert code == 2 and "refused: only one SELECT" in err

    def test_bad_arguments_are_one_line_errors(self, store: Store, store_dsn: str) -> None:
        """Bad time, hash and format give one-line errors and exit code 2."""
        code, _, err = _invoke("report", "model-usage", "--model", "m", "--since", "yesterday", "--store", store_dsn)
        assert code == 2 and "ISO 8601" in err
        code, _, err = _invoke("report", "input", "nothex", "--store", store_dsn)
        assert code == 2 and "SHA-256" in err
        code, _, err = _invoke("report", "model-usage", "--model", "m", "-f", "xml", "--store", store_dsn)
        assert code == 2 and "--format" in err

    def test_schema_command(self, store_dsn: str) -> None:
        """schema creates the tables and prints the version."""
        code, out, _ = _invoke("schema", "--store", store_dsn, "--ttl-days", "200")
        assert code == 0 and out.startswith("schema version ")
        code, _, err = _invoke("schema", "--store", store_dsn, "--ttl-days", "30")
        assert code == 2 and "six months" in err


_READ_ONLY = (
    ("report", "model-usage", "--model", "fraud_detector"),
    ("report", "data-access", "--user", "analyst_jane"),
    ("report", "compliance", "--model", "fraud_detector"),
    ("query", "SELECT 1"),
    ("verify", "--waive-signatures"),
    ("prove", "req-1"),
    ("evidence", "--model", "fraud_detector", "--out", "pack", "--signing-key", "{key}"),
    ("archive", "--before", "2026-04-01", "--out", "archive", "--unsigned"),
    ("status",),
)
"""Every command that only reads the store, with the arguments it needs."""


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seal signing key made by `otel-audit keygen`, outside the test's folder."""
    folder = tmp_path_factory.mktemp("keys")
    assert _invoke("keygen", "audit.test", "--out", str(folder))[0] == 0
    return folder / "audit.test.key"


class TestNoSuchStore:
    @pytest.mark.parametrize("command", _READ_ONLY, ids=lambda c: c[0] if c[0] != "report" else c[1])
    def test_misspelt_path_is_exit_5_and_creates_nothing(
        self, command: tuple[str, ...], signing_key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A read-only command on a path that does not exist exits 5 naming the path, and creates nothing."""
        monkeypatch.chdir(tmp_path)
        missing = tmp_path / "audit-stor"
        arguments = [argument.format(key=signing_key) for argument in command]
        code, _, err = _invoke(*arguments, "--store", f"chdb://{missing}")
        assert code == 5
        line = _one_line(err)
        assert f"no audit store at {missing}" in line and "does not exist" in line
        assert not missing.exists()
        assert list(tmp_path.iterdir()) == []

    def test_two_slash_dsn_is_a_relative_path_and_says_so(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """chdb://tmp/x is the relative path tmp/x: the message shows where it looked and suggests chdb:///tmp/x."""
        monkeypatch.chdir(tmp_path)
        code, _, err = _invoke("report", "model-usage", "--model", "m", "--store", "chdb://tmp/audit")
        assert code == 5
        line = _one_line(err)
        assert str(tmp_path / "tmp" / "audit") in line
        assert "chdb://tmp/audit is the relative path tmp/audit; did you mean chdb:///tmp/audit?" in line
        assert not (tmp_path / "tmp").exists()

    def test_folder_without_a_store_is_left_untouched(self, tmp_path: Path) -> None:
        """A folder that exists but holds no chDB store is refused before the engine writes its files into it."""
        folder = tmp_path / "not-a-store"
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
        code, _, err = _invoke("query", "SELECT 1", "--store", f"chdb://{folder}")
        assert code == 5 and "holds no chDB store" in _one_line(err)
        assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]

    def test_unknown_database_is_exit_5_and_not_created(self, store: Store, engine_path: Path) -> None:
        """?database= naming no database exits 5, lists the databases that hold a store, and creates none."""
        wanted = store.database + "x"
        code, _, err = _invoke("report", "outcomes", "--store", f"chdb://{engine_path}?database={wanted}")
        assert code == 5
        line = _one_line(err)
        assert f"has no database {wanted!r}" in line
        assert f"closest first: ?database={store.database}," in line or line.endswith(f"?database={store.database}")
        databases = store.query("SELECT name FROM system.databases").rows
        assert (wanted,) not in databases

    def test_database_without_schema_is_exit_5(self, store_dsn: str) -> None:
        """A database a writer created but that holds no otel-audit schema is not a store to read."""
        from otel_audit.store.connect import open_store

        bare = open_store(store_dsn)  # created, no schema applied
        code, _, err = _invoke("query", "SELECT 1", "--store", store_dsn)
        assert code == 5 and "holds no otel-audit store" in _one_line(err)
        tables = bare.query("SELECT count() FROM system.tables WHERE database = currentDatabase()").rows[0][0]
        assert tables == 0


# --- every report the same way, one name per idea, a demo that is a demo ------------------------


def _commands() -> dict[tuple[str, ...], Any]:
    """Every command of the CLI's typer/click tree by its path (``("report", "model-usage")``), groups excluded."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            found[path] = command

    walk(typer.main.get_command(app), ())
    return found


def _options(command: Any) -> list[Any]:
    return [param for param in command.params if param.param_type_name == "option"]


@pytest.fixture(scope="module")
def report_store(engine_path: Path) -> str:
    """One store filled by `otel-audit demo` for the whole module (reports only read it)."""
    dsn = f"chdb://{engine_path}?database=cli_reports_{os.getpid()}"
    code, _, err = _invoke("demo", "--store", dsn, "--count", "300")
    assert code == 0, err
    return dsn


@pytest.fixture(scope="module")
def report_facts(report_store: str) -> dict[str, str]:
    """A stored request id, its input hash and record id."""
    from otel_audit.store.connect import open_store

    row = (
        open_store(report_store)
        .query(
            "SELECT RequestId, InputHash, RecordId FROM audit_predictions WHERE ModelName = 'fraud_detector' LIMIT 1"
        )
        .rows[0]
    )
    return {"request_id": row[0], "input_hash": row[1], "record_id": row[2]}


_REPORTS: dict[str, tuple[str, ...]] = {
    "model-usage": ("--model", "fraud_detector"),
    "data-access": ("--user", "analyst_jane"),
    "version-at": ("--model", "fraud_detector", "--at", "2100-01-01"),
    "version-timeline": ("--model", "fraud_detector"),
    "outcomes": (),
    "redactions": (),
    "request": ("{request_id}",),
    "reproduce": ("{request_id}",),
    "input": ("{input_hash}",),
    "conflicts": (),
    "access-log": (),
    "compliance": ("--model", "fraud_detector"),
    "oversight": ("--model", "fraud_detector"),
}
"""Every `report` subcommand with the arguments it needs on the demo store."""


def _report_args(name: str, facts: dict[str, str]) -> list[str]:
    return ["report", name, *(argument.format(**facts) for argument in _REPORTS[name])]


class TestEveryReport:
    def test_the_list_covers_every_report(self) -> None:
        """_REPORTS names every `report` subcommand, so each is checked in every format below."""
        assert {path[1] for path in _commands() if path[0] == "report"} == set(_REPORTS)

    @pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
    @pytest.mark.parametrize("name", sorted(_REPORTS))
    def test_out_in_each_format(
        self, name: str, fmt: str, report_store: str, report_facts: dict[str, str], tmp_path: Path
    ) -> None:
        """`report NAME -f FMT --out FILE` writes FILE 0600 in that format, prints nothing on stdout and says so."""
        out = tmp_path / f"{name}.{fmt}"
        code, stdout, err = _invoke(
            *_report_args(name, report_facts), "--store", report_store, "-f", fmt, "-o", str(out)
        )
        assert code == 0, err
        assert stdout == "" and f"wrote {out}" in err
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        text = out.read_text(encoding="utf-8")
        if fmt == "json":
            assert json.loads(text)["report"] == name
        elif fmt == "csv":
            assert next(csv.reader(io.StringIO(text)))
        elif fmt == "html":
            assert text.lstrip().lower().startswith("<!doctype html")
        else:
            assert f"otel-audit report: {name}" in text

    @pytest.mark.parametrize("fmt", ["table", "json", "csv"])
    def test_query_out(self, fmt: str, report_store: str, tmp_path: Path) -> None:
        """`query --out FILE` writes the result in each of its formats."""
        out = tmp_path / f"query.{fmt}"
        sql = "SELECT ModelName AS model, count() AS n FROM audit_predictions GROUP BY model ORDER BY model"
        code, stdout, err = _invoke("query", sql, "--store", report_store, "-f", fmt, "--out", str(out))
        assert code == 0 and stdout == "", err
        assert "sentiment_classifier" in out.read_text(encoding="utf-8")
        assert stat.S_IMODE(out.stat().st_mode) == 0o600


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


class TestTables:
    @pytest.mark.parametrize("name", ["request", "reproduce", "input", "data-access", "model-usage", "outcomes"])
    def test_fit_an_80_column_terminal(self, name: str, report_store: str, report_facts: dict[str, str]) -> None:
        """With COLUMNS=80 no line of a table is wider than 80, and ids and hashes are shown whole."""
        args = [*_report_args(name, report_facts), "--store", report_store]
        result = runner.invoke(app, args, env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.stderr
        assert max(len(line) for line in _lines(result.stdout)) <= 80
        if name in ("request", "reproduce", "input"):
            assert report_facts["input_hash"] in result.stdout and report_facts["record_id"] in result.stdout

    def test_one_record_is_shown_vertically(self, report_store: str, report_facts: dict[str, str]) -> None:
        """A list of one record (a request's) is a field | value table, whatever the width."""
        args = [*_report_args("request", report_facts), "--store", report_store]
        result = runner.invoke(app, args, env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.stderr
        lines = _lines(result.stdout)
        cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
        assert ["input_hash", report_facts["input_hash"]] in cells

    def test_wide_terminal_keeps_rows_side_by_side(self, report_store: str, report_facts: dict[str, str]) -> None:
        """Where the rows of data-access fit, each stays one line holding its request id and whole input hash."""
        args = ["report", "data-access", "--user", "analyst_jane", "--store", report_store]
        result = runner.invoke(app, args, env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.stderr
        rows = [line for line in _lines(result.stdout) if re.search(r"│ demo-7-\d{6} ", line)]
        assert len(rows) > 1 and all(re.search(r"│ [0-9a-f]{64} │", row) for row in rows)
        assert "requests 1/" not in result.stdout

    def test_counts_are_integers_and_rates_percentages(self, report_store: str) -> None:
        """Counts print as integers and the error rate as a percentage with its significant digits."""
        code, out, err = _invoke("report", "outcomes", "--store", report_store)
        assert code == 0, err
        cells = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in _lines(out) if line.count("│") == 3}
        assert cells["total_predictions"] == "300"
        assert re.fullmatch(r"\d+(\.\d+)?%", cells["error_rate"]), cells["error_rate"]
        assert ".000" not in out


class TestOptionNames:
    _SHARED = ("--store", "--since", "--until", "--format")

    def test_no_second_name_for_an_idea(self) -> None:
        """No command spells an output location or a key any other way than --out, --signing-key, --verifier-key."""
        for path, command in _commands().items():
            for option in _options(command):
                flags = set(option.opts) | set(option.secondary_opts)
                assert not flags & {"--to", "--into", "--key", "--seal-key", "--rules", "--output"}, (path, flags)
                assert (option.name == "out") == ("--out" in flags), (path, flags)
                if option.name == "out":
                    assert set(option.opts) == {"--out", "-o"}, path
                assert not any("key" in flag for flag in flags) or flags <= {"--signing-key", "--verifier-key"}, path

    def test_signing_and_verifying_commands_name_their_key(self) -> None:
        """Commands that sign take --signing-key; commands that check take --verifier-key; none takes both."""
        commands = _commands()
        for path, command in commands.items():
            flags = {flag for option in _options(command) for flag in option.opts}
            assert not {"--signing-key", "--verifier-key"} <= flags, path
        for name in ("seal", "evidence", "archive", "serve"):
            assert "--signing-key" in {f for o in _options(commands[(name,)]) for f in o.opts}, name
        for name in ("verify", "verify-receipt", "verify-pack", "restore"):
            assert "--verifier-key" in {f for o in _options(commands[(name,)]) for f in o.opts}, name

    def test_shared_options_are_defined_once(self) -> None:
        """--store, --since, --until and a report's --format read the same everywhere (the demo's store and
        query's formats aside)."""
        helps: dict[str, set[str | None]] = {flag: set() for flag in self._SHARED}
        for path, command in _commands().items():
            for option in _options(command):
                for flag in self._SHARED:
                    if flag in option.opts and path not in (("demo",), ("query",)):
                        helps[flag].add(option.help)
        assert all(len(texts) == 1 for texts in helps.values()), helps

    def test_every_report_takes_format_and_out(self) -> None:
        """Each `report` subcommand has -f/--format and -o/--out."""
        for path, command in _commands().items():
            if path[0] == "report":
                flags = {flag for option in _options(command) for flag in option.opts}
                assert {"--format", "-f", "--out", "-o"} <= flags, path

    def test_help_groups_commands_by_job(self) -> None:
        """Every top-level command sits in one of the four help panels, shown as record, report, evidence, operate."""
        from otel_audit.cli import _options as options

        panels = [options.PANEL_RECORD, options.PANEL_REPORT, options.PANEL_EVIDENCE, options.PANEL_OPERATE]
        root: Any = typer.main.get_command(app)
        for name, command in root.commands.items():
            assert getattr(command, "rich_help_panel", None) in panels, name
        result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
        titles = [line for line in result.stdout.splitlines() if line.startswith("╭─ ") and "Options" not in line]
        assert [panel for panel in panels if any(panel in title for title in titles)] == panels
        assert [next(i for i, t in enumerate(titles) if p in t) for p in panels] == sorted(range(len(panels)))


@pytest.fixture
def sealed_demo(demo_store: str, tmp_path: Path) -> tuple[str, Path, Path]:
    """The demo store sealed with a key pair from `keygen`: (DSN, signing key, verifier key)."""
    assert _invoke("keygen", "audit.cli", "--out", str(tmp_path / "keys"))[0] == 0
    private, public = tmp_path / "keys" / "audit.cli.key", tmp_path / "keys" / "audit.cli.pub"
    code, _, err = _invoke("seal", "--store", demo_store, "--signing-key", str(private))
    assert code == 0, err
    return demo_store, private, public


class TestKeys:
    def test_verify_without_a_key_is_not_ok(self, sealed_demo: tuple[str, Path, Path]) -> None:
        """verify with no verifier key exits 2 naming --verifier-key and --waive-signatures, and prints no verdict."""
        store_dsn, _, _ = sealed_demo
        code, out, err = _invoke("verify", "--store", store_dsn)
        assert code == 2 and out == ""
        assert "--verifier-key" in err and "--waive-signatures" in err and len(err.strip().splitlines()) == 1

    def test_waived_signatures_are_said_to_be_unchecked(self, sealed_demo: tuple[str, Path, Path]) -> None:
        """--waive-signatures checks the tree, reports signatures_checked false and warns on stderr."""
        store_dsn, _, public = sealed_demo
        code, out, err = _invoke("verify", "--store", store_dsn, "--waive-signatures")
        assert code == 0, err
        assert json.loads(out)["signatures_checked"] is False and "NOT checked" in err
        code, out, err = _invoke("verify", "--store", store_dsn, "--verifier-key", str(public))
        assert code == 0 and json.loads(out)["signatures_checked"] is True, err
        code, _, err = _invoke("verify", "--store", store_dsn, "--verifier-key", str(public), "--waive-signatures")
        assert code == 2 and "exclude each other" in err

    def test_the_wrong_kind_of_key_is_named(self, sealed_demo: tuple[str, Path, Path], tmp_path: Path) -> None:
        """A verifier key given to --signing-key, or a signing key to --verifier-key, says which key it is."""
        store_dsn, private, public = sealed_demo
        code, _, err = _invoke("seal", "--store", store_dsn, "--signing-key", str(public))
        assert code == 2 and f"{public} is a verifier key" in err and "--signing-key expects" in err
        code, _, err = _invoke("verify", "--store", store_dsn, "--verifier-key", str(private))
        assert code == 2 and f"{private} is a signing key" in err and "--verifier-key expects" in err
        code, _, err = _invoke("verify-pack", str(tmp_path), "--verifier-key", private.read_text().strip())
        assert code == 2 and "is a signing key" in err and private.read_text().strip() not in err

    def test_a_verifier_key_with_plus_signs_is_still_named(self, store_dsn: str, tmp_path: Path) -> None:
        """A verifier key whose base64 holds '+' (the separator of its fields) is still recognised as one."""
        from otel_audit.seal import generate_key

        for index in range(200):
            _, public = generate_key(f"k{index}", tmp_path)
            if "+" in public.read_text().split("+", 2)[2]:
                break
        code, _, err = _invoke("seal", "--store", store_dsn, "--signing-key", str(public))
        assert code == 2 and f"{public} is a verifier key" in err


class TestEraseDryRun:
    def test_lists_the_records_and_changes_nothing(self, demo_store: str, store: Store) -> None:
        """erase --dry-run lists every record of the user by id and request, and the store stays as it was."""
        wanted = store.query(
            "SELECT DISTINCT RecordId, RequestId FROM audit_predictions WHERE UserId = 'ops_bot' ORDER BY RecordId"
        ).rows
        before = store.query("SELECT sum(cityHash64(Input, Output)) FROM audit_predictions").rows
        code, out, err = _invoke("erase", "--user", "ops_bot", "--dry-run", "--store", demo_store)
        assert code == 0, err
        assert f"would erase the content (input, output, label, content attributes) of {len(wanted)} record(s)" in out
        assert all(record_id in out and request_id in out for record_id, request_id in wanted)
        assert store.query("SELECT sum(cityHash64(Input, Output)) FROM audit_predictions").rows == before
        assert store.query("SELECT count() FROM audit_erasures").rows[0][0] == 0
        code, out, _ = _invoke("erase", "--user", "ops_bot", "--store", demo_store)
        assert code == 0 and f"erased the content of {len(wanted)} records" in out


class TestQueryErrors:
    def test_unknown_column_lists_the_tables_columns(self, demo_store: str) -> None:
        """A misspelt column is named, with the columns of the table the statement reads, on one line."""
        code, _, err = _invoke("query", "SELECT ModelNmae FROM audit_predictions", "--store", demo_store)
        assert code == 2
        line = _one_line(err)
        assert "unknown column 'ModelNmae'" in line and "audit_predictions has " in line
        assert "ModelName" in line and "InputHash" in line and "only read-only statements" not in line

    def test_query_refuses_html(self, demo_store: str) -> None:
        """query has no html format, and says which formats it has."""
        code, _, err = _invoke("query", "SELECT 1", "--store", demo_store, "-f", "html")
        assert code == 2 and "table, json, csv" in _one_line(err)


def _demo_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh user: no OTEL_AUDIT_*, HOME and XDG_DATA_HOME in *tmp_path* (not created)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_AUDIT_", "OTEL_EXPORTER_OTLP"))}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"), COLUMNS="120")
    return env


def _held(out: str) -> dict[str, str]:
    """Model -> predictions in the demo store, from the table `demo` prints."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
    return {row[0]: row[2] for row in rows}


class TestDemo:
    @pytest.mark.slow
    def test_own_store_idempotent_and_next_commands_work(self, tmp_path: Path) -> None:
        """demo writes into ./otel-audit-demo, never the default store; a second run writes nothing and shows the
        same counts; the three commands it suggests run against that store."""
        work = tmp_path / "work"
        work.mkdir()
        env = _demo_env(tmp_path)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "otel_audit.cli", *args]
            return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)

        first, second = run("demo", "--count", "150"), run("demo", "--count", "150")
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        dsn = f"chdb://{work / 'otel-audit-demo'}"
        assert f"demo store {dsn}: wrote 150 predictions (0 were there already)" in first.stdout
        assert f"demo store {dsn}: wrote 0 predictions (150 were there already)" in second.stdout
        assert (
            _held(first.stdout)
            == _held(second.stdout)
            == {
                "credit_scorer": "50",
                "fraud_detector": "50",
                "sentiment_classifier": "50",
            }
        )
        assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()
        assert sorted(path.name for path in work.iterdir()) == ["otel-audit-demo"]
        suggested = [line.strip() for line in second.stdout.splitlines() if line.startswith("  otel-audit ")]
        assert len(suggested) == 3 and all(f"--store {dsn}" in line for line in suggested)
        for line in suggested:
            done = run(*shlex.split(line)[1:])
            assert done.returncode == 0, done.stderr
        assert (work / "fraud_detector.html").is_file()

    def test_refuses_the_default_store(self, tmp_path: Path) -> None:
        """demo pointed at the default store exits 2 and creates nothing there."""
        default = tmp_path / "xdg" / "otel-audit" / "store"
        result = runner.invoke(
            app, ["demo", "--store", f"chdb://{default}"], env={"XDG_DATA_HOME": str(tmp_path / "xdg")}
        )
        assert result.exit_code == 2 and "never into the default store" in result.stderr
        assert not (tmp_path / "xdg").exists()
