"""Report rollups: the same exact answers with and without them, stale periods never used."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import random
import uuid
from typing import Any

import pytest
from answer_seed import DAYS, START, Prediction, Seeded, insert_predictions, make_prediction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from otel_audit.answer import queries, rollups
from otel_audit.answer.rollups import build_rollups
from otel_audit.cli import app
from otel_audit.errors import UnknownModelError
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema
from otel_audit.store.sql import query_sql

LATER = START + dt.timedelta(days=DAYS + 30)
"""A 'now' after every seeded record: all seeded periods are closed."""

# Periods with partial hours and days at both ends, and the whole store.
PERIODS = [
    (None, None),
    (START + dt.timedelta(hours=13, minutes=17, seconds=5), START + dt.timedelta(days=4, hours=7, minutes=45)),
    (START + dt.timedelta(days=2), START + dt.timedelta(days=3)),
]
USERS = ("u1", "u2", "<script>alert(1)</script>")


def _answers(seeded: Seeded) -> list[Any]:
    store = seeded.store
    answers: list[Any] = []
    for since, until in PERIODS:
        for model in ("fraud_detector", "credit_scorer"):
            answers.append(queries.model_usage(store, model, since=since, until=until))
        for user in USERS:
            answers.append(queries.data_access(store, user, since=since, until=until)["models"])
            # A short list: with rollups, only the newest days that hold 5 predictions are read.
            answers.append(queries.data_access(store, user, since=since, until=until, limit=5)["requests"])
    for hours in (0, 40, 84, 90, 200):
        answers.append(queries.version_at(store, "fraud_detector", START + dt.timedelta(hours=hours)))
    return answers


def _current(seeded: Seeded, rollup: str) -> list[dt.datetime]:
    everything = {"since": dt.datetime(1970, 1, 1), "until": dt.datetime(2200, 1, 1)}
    rows = seeded.store.query(query_sql("rollup_current"), everything).dicts()
    return [row["period"] for row in rows if row["rollup"] == rollup]


def _built_at(seeded: Seeded, hour: dt.datetime) -> dt.datetime:
    [(built_at,)] = seeded.store.query(
        "SELECT max(BuiltAt) FROM audit_rollup_builds WHERE RollupName = 'usage_hourly' AND Period = {h:DateTime}",
        {"h": hour},
    ).rows
    return built_at


class TestRollups:
    def test_reports_are_the_same_with_rollups(self, seeded: Seeded) -> None:
        """Every usage, data-access and version-at answer is identical before and after the build,
        and matches the seed (the fixture's duplicate row counts once)."""
        before = _answers(seeded)
        result = build_rollups(seeded.store, now=LATER)
        hours = {p.timestamp.replace(minute=0, second=0, microsecond=0) for p in seeded.predictions}
        days = {p.timestamp.replace(hour=0, minute=0, second=0, microsecond=0) for p in seeded.predictions}
        assert result.periods == {"usage_hourly": len(hours), "user_daily": len(days)}
        assert result.source_rows["usage_hourly"] == len(seeded.predictions) + 1  # + the duplicate row
        assert _current(seeded, "usage_hourly") == sorted(hours)
        assert _answers(seeded) == before

        usage = queries.model_usage(seeded.store, "fraud_detector")
        mine = seeded.of("fraud_detector")
        assert usage["total_predictions"] == len(mine)
        assert usage["errors"] == sum(p.outcome == "error" for p in mine)
        assert usage["unique_users"] == len({p.user for p in mine})
        assert usage["versions_used"] == {v: sum(p.version == v for p in mine) for v in ("v2.0", "v1.0")}
        assert usage["latency_ms"]["max"] == max(p.latency_ms for p in mine)
        assert usage["first_prediction"] == mine[0].timestamp and usage["last_prediction"] == mine[-1].timestamp
        access = queries.data_access(seeded.store, "u1")
        assert access["total_requests"] == sum(p.user == "u1" for p in seeded.predictions)

    def test_reports_read_the_rollup(self, seeded: Seeded) -> None:
        """A forged rollup row under the current build shows up in the report: the rollup, not
        the rows, answered (so the equality above is not vacuous)."""
        build_rollups(seeded.store, now=LATER)
        hour = seeded.of("credit_scorer")[0].timestamp.replace(minute=0, second=0, microsecond=0)
        built_at = _built_at(seeded, hour)
        honest = queries.model_usage(seeded.store, "credit_scorer")["total_predictions"]
        seeded.store.command(
            "INSERT INTO audit_usage_hourly (Hour, ModelName, ModelVersion, BuiltAt, Predictions)"
            " SELECT {h:DateTime}, 'credit_scorer', 'v9.1', {b:DateTime64(6)}, countState() FROM numbers(5)",
            {"h": hour, "b": built_at},
        )
        assert queries.model_usage(seeded.store, "credit_scorer")["total_predictions"] == honest + 5

    def test_late_and_duplicate_records_make_their_period_stale(self, seeded: Seeded) -> None:
        """A record arriving in a built hour, or a second copy of one, takes that hour and day off
        the rollup until the next build, which rebuilds only those; answers stay exact."""
        build_rollups(seeded.store, now=LATER)
        old, copied = seeded.of("fraud_detector")[10], seeded.of("credit_scorer")[3]
        moment = old.timestamp + dt.timedelta(seconds=1)
        late = dataclasses.replace(old, record_id="f" * 32 + "-" + "f" * 16, request_id="late-1", timestamp=moment)
        insert_predictions(seeded.store, [late, copied])  # a new record, and a second copy of one
        stale_hours = {p.timestamp.replace(minute=0, second=0, microsecond=0) for p in (late, copied)}
        assert not stale_hours & set(_current(seeded, "usage_hourly"))

        fraud = queries.model_usage(seeded.store, "fraud_detector")["total_predictions"]
        credit = queries.model_usage(seeded.store, "credit_scorer")["total_predictions"]
        assert (fraud, credit) == (len(seeded.of("fraud_detector")) + 1, len(seeded.of("credit_scorer")))
        before = _answers(seeded)

        result = build_rollups(seeded.store, now=LATER)
        stale_days = {hour.replace(hour=0) for hour in stale_hours}
        assert result.periods == {"usage_hourly": len(stale_hours), "user_daily": len(stale_days)}
        assert stale_hours <= set(_current(seeded, "usage_hourly"))
        assert _answers(seeded) == before
        assert build_rollups(seeded.store, now=LATER).periods == {"usage_hourly": 0, "user_daily": 0}

    def test_open_periods_are_not_built(self, seeded: Seeded) -> None:
        """Only hours and days that ended before now minus the grace period are built."""
        now = START + dt.timedelta(days=2, hours=5, minutes=3)
        build_rollups(seeded.store, now=now, grace=dt.timedelta(minutes=5))
        hours = {p.timestamp.replace(minute=0, second=0, microsecond=0) for p in seeded.predictions}
        closed = START + dt.timedelta(days=2, hours=4)  # 5:03 minus 5 minutes: hour 4 is still open
        assert _current(seeded, "usage_hourly") == sorted(hour for hour in hours if hour < closed)
        assert _current(seeded, "user_daily") == [START, START + dt.timedelta(days=1)]

    def test_a_build_without_its_build_row_is_never_read(self, seeded: Seeded) -> None:
        """Rollup rows whose build did not record itself (a crash between the two inserts) are ignored."""
        before = _answers(seeded)
        hour = seeded.of("credit_scorer")[0].timestamp.replace(minute=0, second=0, microsecond=0)
        seeded.store.command(
            "INSERT INTO audit_usage_hourly (Hour, ModelName, ModelVersion, BuiltAt, Predictions)"
            " SELECT {h:DateTime}, 'credit_scorer', 'v9.1', now64(6), countState() FROM numbers(5)",
            {"h": hour},
        )
        assert _answers(seeded) == before

    def test_small_chunks_give_the_same_rollups(self, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
        """Chunking the build (bounded memory for the deduplication) changes nothing."""
        before = _answers(seeded)
        monkeypatch.setattr(rollups, "CHUNK_ROWS", 7)
        result = build_rollups(seeded.store, now=LATER)
        assert result.periods["usage_hourly"] > 7
        [(builds,)] = seeded.store.query("SELECT uniqExact(BuiltAt) FROM audit_rollup_builds").rows
        assert builds > 2
        assert _answers(seeded) == before

    def test_cli_builds_then_has_nothing_left(self, seeded: Seeded, store_dsn: str) -> None:
        """`otel-audit rollup` builds every closed period once; a second run finds nothing to do."""
        hours = len({p.timestamp.replace(minute=0, second=0, microsecond=0) for p in seeded.predictions})
        days = len({p.timestamp.date() for p in seeded.predictions})
        first = CliRunner().invoke(app, ["rollup", "--store", store_dsn])
        assert first.exit_code == 0, first.output
        assert f"built {hours} hour(s) and {days} day(s) of rollups over {len(seeded.predictions) + 1} stored rows" in (
            first.output
        )
        second = CliRunner().invoke(app, ["rollup", "--store", store_dsn])
        assert "built 0 hour(s) and 0 day(s)" in second.output
        bad = CliRunner().invoke(app, ["rollup", "--store", store_dsn, "--since", "yesterday"])
        assert bad.exit_code == 2 and "ISO 8601" in bad.output

    def test_rebuild_replaces_current_builds(self, seeded: Seeded) -> None:
        """--rebuild builds current periods again; the newest build is the one read."""
        build_rollups(seeded.store, now=LATER)
        before = _answers(seeded)
        again = build_rollups(seeded.store, now=LATER, rebuild=True)
        assert again.periods == build_rollups(seeded.store, now=LATER, rebuild=True).periods
        assert again.periods["usage_hourly"] == len(_current(seeded, "usage_hourly")) > 0
        [(builds,)] = seeded.store.query("SELECT count() FROM audit_rollup_builds").rows
        assert builds == 3 * sum(again.periods.values())
        assert _answers(seeded) == before

    def test_rows_the_counter_missed_are_counted_by_the_next_build(self, seeded: Seeded) -> None:
        """Rows stored without a count (before the counter existed, or attached by an administrator)
        are counted by the next build, and the answers are the same as before."""
        before = _answers(seeded)
        seeded.store.command("TRUNCATE TABLE audit_hour_rows")
        build_rollups(seeded.store, now=LATER)
        counts = seeded.store.query(
            "SELECT (SELECT sum(Rows) FROM audit_hour_rows), (SELECT count() FROM audit_predictions)"
        ).rows
        assert counts == [(len(seeded.predictions) + 1, len(seeded.predictions) + 1)]
        assert _answers(seeded) == before


# -- any interleaving of arrivals, duplicates and builds -----------------------------------------

_POOL_RNG = random.Random(11)
POOL = [
    dataclasses.replace(
        make_prediction(_POOL_RNG, index),
        timestamp=START + dt.timedelta(minutes=_POOL_RNG.randrange(48 * 60), microseconds=index),
        model=("m_a", "m_b")[index % 2],
        version=("v1", "v2")[index % 3 == 0],
    )
    for index in range(60)
]
"""Records over two days that the steps below insert (again, for duplicates) in any order."""

_insert = st.tuples(st.just("insert"), st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=15))
_build = st.tuples(st.just("build"), st.integers(0, 60))  # "now", in hours after START


class TestAnyHistory:
    @pytest.mark.slow
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        steps=st.lists(st.one_of(_insert, _build), min_size=1, max_size=6),
        since_minutes=st.integers(0, 47 * 60),
        length_minutes=st.integers(1, 48 * 60),
    )
    def test_answers_match_the_records_whatever_was_built(
        self, store_dsn: str, steps: list[tuple[str, Any]], since_minutes: int, length_minutes: int
    ) -> None:
        """Inserts (with duplicates, late arrivals) and builds at any times in any order: usage and
        data-access answers equal the figures of the distinct records inserted."""
        store = open_store(f"{store_dsn.partition('?')[0]}?database=h_{uuid.uuid4().hex}")
        apply_schema(store)
        inserted: dict[str, Prediction] = {}
        for kind, argument in steps:
            if kind == "insert":
                batch = [POOL[i] for i in argument]
                insert_predictions(store, batch)
                inserted.update((p.record_id, p) for p in batch)
            else:
                build_rollups(store, now=START + dt.timedelta(hours=argument))
        since = START + dt.timedelta(minutes=since_minutes, seconds=7)
        until = since + dt.timedelta(minutes=length_minutes)
        inside = [p for p in inserted.values() if since <= p.timestamp < until]
        for model in ("m_a", "m_b"):
            mine = [p for p in inside if p.model == model]
            if all(p.model != model for p in inserted.values()):
                with pytest.raises(UnknownModelError):  # a model never stored is not an answer of 0
                    queries.model_usage(store, model, since=since, until=until)
                continue
            usage = queries.model_usage(store, model, since=since, until=until)
            assert usage["total_predictions"] == len(mine)
            if mine:
                assert usage["errors"] == sum(p.outcome == "error" for p in mine)
                assert usage["unique_users"] == len({p.user for p in mine})
                assert usage["versions_used"] == dict(collections.Counter(p.version for p in mine))
                assert usage["latency_ms"]["max"] == max(p.latency_ms for p in mine)
        for user in USERS:
            access = queries.data_access(store, user, since=since, until=until, limit=3)
            theirs = [p for p in inside if p.user == user]
            assert access["models_used"] == dict(collections.Counter(p.model for p in theirs))
            newest = sorted(theirs, key=lambda p: p.timestamp, reverse=True)[:3]
            assert [r["request_id"] for r in access["requests"]] == [p.request_id for p in newest]
