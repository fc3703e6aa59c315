"""Honest answers, through the CLI on a seeded store (docs/reports.md, "Periods and empty answers").

A model the store has never seen is exit 4 naming the known models, closest first; an answer of
zero records says so in words with its period; the period shown is the bounds given or the first
and last record's times, never the queries' open bounds 1970-01-01 and 2262-04-11.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from answer_seed import Seeded
from typer.testing import CliRunner

from otel_audit.cli import app

OPEN_BOUNDS = ("1970-01-01", "2262-04-11")

_MODEL_REPORTS = (
    ("model-usage",),
    ("version-at", "--at", "2026-03-30T00:00:00Z"),
    ("version-timeline",),
    ("compliance",),
    ("outcomes",),
    ("redactions",),
)
"""Every report that takes --model, with its other required options."""

_PERIOD_REPORTS = (
    ("model-usage", "--model", "fraud_detector"),
    ("data-access", "--user", "u1"),
    ("version-timeline", "--model", "fraud_detector"),
    ("outcomes",),
    ("outcomes", "--model", "credit_scorer"),
    ("redactions",),
    ("redactions", "--model", "credit_scorer"),
    ("compliance", "--model", "fraud_detector"),
)
"""Every report that states a period."""


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="microseconds") + "Z"


class TestUnknownModel:
    @pytest.mark.parametrize("report", _MODEL_REPORTS, ids=lambda r: r[0])
    @pytest.mark.parametrize("fmt", ["table", "json"])
    def test_exit_4_names_the_known_models_closest_first(
        self, seeded: Seeded, store_dsn: str, report: tuple[str, ...], fmt: str
    ) -> None:
        """A misspelt model is exit 4 with one line listing the known models, the close one first; stdout is empty."""
        code, out, err = _invoke("report", *report, "--model", "fraud_detectr", "--store", store_dsn, "-f", fmt)
        assert code == 4 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "no prediction of model 'fraud_detectr'" in lines[0]
        assert lines[0].endswith("known models, closest first: 'fraud_detector', 'credit_scorer'")

    def test_every_model_is_still_answered(self, seeded: Seeded, store_dsn: str) -> None:
        """Without --model, outcomes and redactions cover every model and check no name."""
        code, out, _ = _invoke("report", "outcomes", "--store", store_dsn, "-f", "json")
        assert code == 0 and json.loads(out)["total_predictions"] == len(seeded.predictions)


class TestEmptyAnswers:
    @pytest.mark.parametrize("report", [r for r in _MODEL_REPORTS if r[0] != "version-at"], ids=lambda r: r[0])
    def test_known_model_empty_period_is_zero_with_a_note(
        self, seeded: Seeded, store_dsn: str, report: tuple[str, ...]
    ) -> None:
        """A known model with no records in the period answers 0, exit 0, with a note naming the period."""
        period = ("--since", "2020-01-01", "--until", "2020-02-01")
        code, out, _ = _invoke(
            "report", *report, "--model", "fraud_detector", *period, "--store", store_dsn, "-f", "json"
        )
        assert code == 0
        answer = json.loads(out)
        assert answer["note"] == (
            "no predictions of model 'fraud_detector' from 2020-01-01T00:00:00Z to 2020-02-01T00:00:00Z (exclusive)"
        )
        assert (answer["since"], answer["until"]) == ("2020-01-01T00:00:00.000000Z", "2020-02-01T00:00:00.000000Z")

    def test_user_without_records_says_so_in_every_format(self, seeded: Seeded, store_dsn: str) -> None:
        """data-access of a user with no records: a note in JSON and the table, on stderr for CSV, and no period."""
        note = "no predictions for user 'nobody' in the whole store (no --since or --until given)"
        code, out, _ = _invoke("report", "data-access", "--user", "nobody", "--store", store_dsn, "-f", "json")
        answer = json.loads(out)
        assert code == 0 and answer["note"] == note and answer["total_requests"] == 0
        assert answer["since"] is None and answer["until"] is None
        code, out, _ = _invoke("report", "data-access", "--user", "nobody", "--store", store_dsn)
        assert code == 0 and note in out
        assert [line for line in out.splitlines() if "since" in line and "no records" in line]
        code, _, err = _invoke("report", "data-access", "--user", "nobody", "--store", store_dsn, "-f", "csv")
        assert code == 0 and err.strip() == f"otel-audit: note: {note}"
        code, out, _ = _invoke("report", "data-access", "--user", "nobody", "--store", store_dsn, "-f", "html")
        assert code == 0 and "Period: no records." in out and "no predictions for user &#x27;nobody&#x27;" in out

    def test_user_note_names_the_bounds_given(self, seeded: Seeded, store_dsn: str) -> None:
        """With one bound given, the note names it and the other bound is unknown (no records)."""
        code, out, _ = _invoke(
            "report", "data-access", "--user", "u1", "--since", "2030-01-01", "--store", store_dsn, "-f", "json"
        )
        answer = json.loads(out)
        assert code == 0 and answer["note"] == "no predictions for user 'u1' since 2030-01-01T00:00:00Z"
        assert (answer["since"], answer["until"]) == ("2030-01-01T00:00:00.000000Z", None)


class TestPeriods:
    @pytest.mark.parametrize("report", _PERIOD_REPORTS, ids=" ".join)
    @pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
    def test_open_bounds_are_never_printed(
        self, seeded: Seeded, store_dsn: str, report: tuple[str, ...], fmt: str
    ) -> None:
        """No report, in any format, prints 1970-01-01 or 2262-04-11 for a period left open."""
        code, out, err = _invoke("report", *report, "--store", store_dsn, "-f", fmt)
        assert code == 0, err
        assert not [bound for bound in OPEN_BOUNDS if bound in out + err]

    def test_open_period_is_the_first_and_last_record(self, seeded: Seeded, store_dsn: str) -> None:
        """Without --since/--until, since and until are the times of the first and last record answered."""
        mine = seeded.of("fraud_detector")
        code, out, _ = _invoke("report", "model-usage", "--model", "fraud_detector", "--store", store_dsn, "-f", "json")
        answer = json.loads(out)
        assert code == 0 and "note" not in answer
        assert (answer["since"], answer["until"]) == (_iso(mine[0].timestamp), _iso(mine[-1].timestamp))
        theirs = sorted(p.timestamp for p in seeded.predictions if p.user == "u1")
        code, out, _ = _invoke("report", "data-access", "--user", "u1", "--store", store_dsn, "-f", "json")
        answer = json.loads(out)
        assert (answer["since"], answer["until"]) == (_iso(theirs[0]), _iso(theirs[-1]))
        code, out, _ = _invoke("report", "model-usage", "--model", "fraud_detector", "--store", store_dsn, "-f", "html")
        assert f"Period: {mine[0].timestamp:%Y-%m-%d %H:%M:%S}" in out

    def test_given_bounds_are_shown_as_given(self, seeded: Seeded, store_dsn: str) -> None:
        """With --since and --until, the report states exactly those bounds."""
        code, out, _ = _invoke(
            "report", "outcomes", "--since", "2026-03-30", "--until", "2026-04-01T12:00:00Z",
            "--store", store_dsn, "-f", "json",
        )  # fmt: skip
        answer = json.loads(out)
        assert code == 0 and (answer["since"], answer["until"]) == (
            "2026-03-30T00:00:00.000000Z",
            "2026-04-01T12:00:00.000000Z",
        )
