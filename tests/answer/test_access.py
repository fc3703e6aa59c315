"""Every read of the audit trail leaves one ``audit.access`` event, on a local chDB store."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from otel_audit import semconv
from otel_audit.answer.access import (
    ACCESS_INBOX,
    AccessAuditError,
    AccessEvent,
    audited_read,
    subject_key,
    write_access_event,
)
from otel_audit.cli import app
from otel_audit.store.connect import Store, open_store

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _events(store: Store) -> list[dict[str, Any]]:
    """Every access event of *store*, oldest first (read with the library, which is not audited)."""
    sql = (
        "SELECT Actor AS actor, AccessCommand AS command, AccessSubject AS subject, AccessRecords AS records, "
        "AccessOutcome AS outcome, AccessPeriodStart AS period_start, AccessPeriodEnd AS period_end, "
        f"Attributes['{semconv.AUDIT_ACCESS_SUBJECT_KIND}'] AS kind "
        f"FROM audit_events WHERE EventName = '{semconv.EVENT_ACCESS}' ORDER BY Timestamp"
    )
    return store.query(sql).dicts()


def _pseudonym(store: Store, subject: str) -> str:
    return hmac.new(subject_key(store), subject.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def demo(engine_path: Path) -> dict[str, str]:
    """A demo store and one of its request ids and input hashes."""
    dsn = f"chdb://{engine_path}?database=access_{os.getpid()}"
    code, _, err = _invoke("demo", "--store", dsn, "--count", "120")
    assert code == 0, err
    row = (
        open_store(dsn)
        .query("SELECT RequestId, InputHash FROM audit_predictions WHERE UserId = 'analyst_jane' LIMIT 1")
        .rows[0]
    )
    return {"dsn": dsn, "request_id": row[0], "input_hash": row[1]}


_READS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "report model-usage": (("--model", "fraud_detector"), "fraud_detector", "model"),
    "report data-access": (("--user", "analyst_jane"), "analyst_jane", "user"),
    "report version-at": (("--model", "fraud_detector", "--at", "2100-01-01"), "fraud_detector", "model"),
    "report version-timeline": (("--model", "fraud_detector"), "fraud_detector", "model"),
    "report outcomes": ((), "", ""),
    "report redactions": ((), "", ""),
    "report request": (("{request_id}",), "{request_id}", "request"),
    "report reproduce": (("{request_id}",), "{request_id}", "request"),
    "report input": (("{input_hash}",), "{input_hash}", "input"),
    "report conflicts": ((), "", ""),
    "report compliance": (("--model", "fraud_detector"), "fraud_detector", "model"),
    "report access-log": (("--subject", "analyst_jane"), "analyst_jane", "user"),
    "report oversight": (("--model", "fraud_detector"), "fraud_detector", "model"),
}
"""Every report: its arguments, the subject it reads about and the subject's kind."""


class TestEveryReadIsAudited:
    def test_the_list_covers_every_report(self) -> None:
        """_READS names every `report` subcommand."""
        import typer

        group: Any = typer.main.get_command(app)
        assert {f"report {name}" for name in group.commands["report"].commands} == set(_READS)

    @pytest.mark.parametrize("command", sorted(_READS))
    def test_each_report_leaves_one_event(self, command: str, demo: dict[str, str]) -> None:
        """A report leaves exactly one event: the OS user, the command, the subject's pseudonym, a count."""
        store = open_store(demo["dsn"])
        arguments, subject, kind = _READS[command]
        before = len(_events(store))
        code, out, err = _invoke(
            *command.split(), *(a.format(**demo) for a in arguments), "--store", demo["dsn"], "-f", "json"
        )
        assert code == 0, err
        events = _events(store)
        assert len(events) == before + 1
        event = events[-1]
        subject = subject.format(**demo)
        assert event["command"] == command and event["outcome"] == "ok"
        assert event["actor"] and event["kind"] == kind
        assert event["subject"] == (_pseudonym(store, subject) if subject else "")
        assert subject not in json.dumps(event) or not subject
        from otel_audit.answer.access import records_in

        assert event["records"] == (
            json.loads(out)["reads"] if command.endswith("access-log") else records_in(json.loads(out))
        )

    def test_query_leaves_one_event_with_its_row_count(self, demo: dict[str, str]) -> None:
        """`query` leaves one event counting the rows it returned."""
        store = open_store(demo["dsn"])
        before = len(_events(store))
        code, _, err = _invoke("query", "SELECT RequestId FROM audit_predictions LIMIT 7", "--store", demo["dsn"])
        assert code == 0, err
        events = _events(store)
        assert len(events) == before + 1
        assert (events[-1]["command"], events[-1]["records"], events[-1]["outcome"]) == ("query", 7, "ok")

    def test_a_refused_query_leaves_a_refused_event(self, demo: dict[str, str]) -> None:
        """A statement the sandbox refuses still leaves its event, marked refused, with no records."""
        store = open_store(demo["dsn"])
        before = len(_events(store))
        code, _, err = _invoke("query", "SELECT * FROM file('/etc/passwd')", "--store", demo["dsn"])
        assert code == 2 and "refused" in err
        events = _events(store)
        assert len(events) == before + 1
        assert (events[-1]["command"], events[-1]["records"], events[-1]["outcome"]) == ("query", 0, "refused")

    def test_archive_leaves_one_event(self, demo: dict[str, str], tmp_path: Path) -> None:
        """`archive` is a read too: one event, with its period's end and the rows it wrote."""
        store = open_store(demo["dsn"])
        before = len(_events(store))
        code, _, err = _invoke(
            "archive", "--before", "2100-01-01", "--out", str(tmp_path / "a"), "--unsigned", "--store", demo["dsn"]
        )
        assert code == 0, err
        events = _events(store)
        assert len(events) == before + 1
        assert events[-1]["command"] == "archive" and events[-1]["period_end"].startswith("2100-01-01")
        assert events[-1]["records"] > 0

    def test_prove_and_evidence_leave_one_event_each(self, store_dsn: str, tmp_path: Path) -> None:
        """`prove` (a request's receipt) and `evidence` (a model's pack) each leave one event."""
        assert _invoke("demo", "--store", store_dsn, "--count", "20")[0] == 0
        code, _, err = _invoke("keygen", "test", "--out", str(tmp_path / "k"))
        assert code == 0, err
        key = tmp_path / "k" / "test.key"
        assert _invoke("seal", "--store", store_dsn, "--signing-key", str(key))[0] == 0
        store = open_store(store_dsn)
        request_id = store.query("SELECT RequestId FROM audit_predictions LIMIT 1").rows[0][0]
        before = len(_events(store))
        code, _, err = _invoke("prove", request_id, "--store", store_dsn)
        assert code == 0, err
        code, _, err = _invoke(
            "evidence", "--model", "fraud_detector", "--out", str(tmp_path / "pack"),
            "--signing-key", str(key), "--store", store_dsn,
        )  # fmt: skip
        assert code == 0, err
        events = _events(store)[before:]
        assert [(e["command"], e["kind"]) for e in events] == [("prove", "request"), ("evidence", "model")]
        assert events[0]["subject"] == _pseudonym(store, request_id) and events[0]["records"] == 1
        assert events[1]["subject"] == _pseudonym(store, "fraud_detector") and events[1]["records"] > 0


class TestAccessLogAndDataAccess:
    def test_access_log_filters_by_subject(self, store_dsn: str) -> None:
        """`report access-log --subject U` lists only the reads about U."""
        assert _invoke("demo", "--store", store_dsn, "--count", "40")[0] == 0
        for user in ("analyst_jane", "analyst_jane", "ops_bot"):
            assert _invoke("report", "data-access", "--user", user, "--store", store_dsn)[0] == 0
        code, out, err = _invoke(
            "report", "access-log", "--subject", "analyst_jane", "--store", store_dsn, "-f", "json"
        )
        assert code == 0, err
        report = json.loads(out)
        assert report["reads"] == 2 and {e["command"] for e in report["events"]} == {"report data-access"}
        code, out, _ = _invoke("report", "access-log", "--store", store_dsn, "-f", "json")
        assert json.loads(out)["reads"] == 4  # 3 data-access and the first access-log (this one is written after)

    def test_data_access_shows_who_else_read_the_subject(self, store_dsn: str) -> None:
        """A data subject's export lists the earlier reads of that subject's records, by whom."""
        assert _invoke("demo", "--store", store_dsn, "--count", "40")[0] == 0
        store = open_store(store_dsn)
        write_access_event(
            store,
            AccessEvent(actor="auditor-x", command="report data-access", subject=_pseudonym(store, "analyst_jane")),
        )
        code, out, err = _invoke("report", "data-access", "--user", "analyst_jane", "--store", store_dsn, "-f", "json")
        assert code == 0, err
        readers = json.loads(out)["accessed_by"]
        assert [(r["actor"], r["command"]) for r in readers] == [("auditor-x", "report data-access")]

    def test_data_access_counts_reads_of_the_subjects_requests(self, store_dsn: str) -> None:
        """A read of one of the subject's requests (by request id) is a read of the subject's records."""
        assert _invoke("demo", "--store", store_dsn, "--count", "40")[0] == 0
        store = open_store(store_dsn)
        mine = store.query("SELECT RequestId FROM audit_predictions WHERE UserId = 'analyst_jane' LIMIT 1").rows[0][0]
        other = store.query("SELECT RequestId FROM audit_predictions WHERE UserId != 'analyst_jane' LIMIT 1").rows[0][0]
        assert _invoke("report", "request", mine, "--store", store_dsn)[0] == 0
        assert _invoke("report", "request", other, "--store", store_dsn)[0] == 0
        code, out, err = _invoke("report", "data-access", "--user", "analyst_jane", "--store", store_dsn, "-f", "json")
        assert code == 0, err
        readers = json.loads(out)["accessed_by"]
        assert [(r["command"], r["subject_kind"], r["subject"]) for r in readers] == [
            ("report request", "request", _pseudonym(store, mine))
        ]

    def test_pseudonym_uses_the_redaction_secret_when_set(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        """With OTEL_AUDIT_REDACTION_SECRET set, the pseudonym is HMAC-SHA256 under it."""
        monkeypatch.setenv("OTEL_AUDIT_REDACTION_SECRET", "s3cret-s3cret-s3cret")
        with audited_read(store, "test", subject="u1", subject_kind="user") as read:
            read.records = 3
        expected = hmac.new(b"s3cret-s3cret-s3cret", b"u1", hashlib.sha256).hexdigest()
        assert _events(store)[-1]["subject"] == expected


class TestSwitch:
    def test_off_is_recorded_and_stops_events(self, store_dsn: str) -> None:
        """Only the owner's `schema --access-audit off` stops events, and it is itself an event."""
        assert _invoke("demo", "--store", store_dsn, "--count", "20")[0] == 0
        code, out, err = _invoke("schema", "--store", store_dsn, "--access-audit", "off")
        assert code == 0 and "access audit off" in out, err
        store = open_store(store_dsn)
        events = _events(store)
        assert events[-1]["command"] == "access-audit off"
        assert _invoke("report", "outcomes", "--store", store_dsn)[0] == 0
        assert len(_events(store)) == len(events)
        assert _invoke("schema", "--store", store_dsn, "--access-audit", "on")[0] == 0
        assert _invoke("report", "outcomes", "--store", store_dsn)[0] == 0
        assert [e["command"] for e in _events(store)][-2:] == ["access-audit on", "report outcomes"]

    def test_no_reader_option_switches_it_off(self) -> None:
        """No reading command has an option that names access auditing."""
        import typer

        group: Any = typer.main.get_command(app)
        for name, command in group.commands.items():
            for sub in getattr(command, "commands", {name: command}).values():
                assert not [p for p in sub.params if "access" in (p.name or "") and name != "schema"]


class TestFailClosed:
    def test_a_read_whose_event_cannot_be_written_fails(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        """When the event cannot be written, the read raises AccessAuditError: nothing is read unaudited."""
        subject_key(store)  # made now, so the failure below is the event's

        def refuse(*args: Any, **kwargs: Any) -> None:
            from otel_audit.errors import StoreError

            raise StoreError("read-only user")

        monkeypatch.setattr(store, "insert_columns", refuse)
        with pytest.raises(AccessAuditError, match="not audited"), audited_read(store, "report outcomes") as read:
            read.records = 1


class TestInbox:
    """Access events enter through ``audit_access_inbox``, the one table a server's auditor may write."""

    def test_an_inbox_row_is_only_ever_an_access_event(self, store: Store) -> None:
        """Whatever a row of the inbox says, its view makes it an audit.access log record, typed and sealable."""
        disguised = {
            semconv.LOG_RECORD_UID: "inbox-row-1",
            semconv.AUDIT_ACCESS_ACTOR: "mallory",
            semconv.GEN_AI_REQUEST_MODEL: "fraud_detector",
            semconv.AUDIT_REVIEW_DECISION: "accept",
        }
        store.insert_columns(
            ACCESS_INBOX,
            [[dt.datetime(2026, 1, 2, 3, 4, 5)], [disguised], ["9.9"]],
            ["Timestamp", "LogAttributes", "ScopeVersion"],
        )
        logs = store.query(
            "SELECT EventName, ServiceName, ScopeName, Body FROM otel_logs "
            f"WHERE LogAttributes['{semconv.LOG_RECORD_UID}'] = 'inbox-row-1'"
        ).rows
        assert logs == [(semconv.EVENT_ACCESS, "otel-audit", semconv.SCOPE_NAME, "")]
        events = store.query("SELECT EventName, Actor FROM audit_events WHERE RecordId = 'inbox-row-1'").rows
        assert events == [(semconv.EVENT_ACCESS, "mallory")]
        predictions = store.query("SELECT count() FROM audit_predictions").rows[0][0]
        assert predictions == 0

    def test_a_reader_that_may_write_only_the_inbox_is_audited(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A reader whose every insert but the inbox's is refused (a server's auditor) reads, audited."""
        from otel_audit.answer.access import ensure_subject_key
        from otel_audit.errors import StoreError

        ensure_subject_key(store)  # the schema owner's `otel-audit schema` makes it
        allowed = store.insert_columns

        def auditor_insert(table: str, *args: Any, **kwargs: Any) -> Any:
            if table != ACCESS_INBOX:
                raise StoreError(f"auditor: not enough privileges to insert into {table}")
            return allowed(table, *args, **kwargs)

        monkeypatch.setattr(store, "insert_columns", auditor_insert)
        with audited_read(store, "report data-access", subject="u7", subject_kind="user") as read:
            read.records = 4
        [event] = [e for e in _events(store) if e["command"] == "report data-access"]
        assert event["records"] == 4 and event["subject"] == _pseudonym(store, "u7")

    def test_without_a_key_a_reader_that_cannot_make_one_is_told_what_to_run(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No secret, no stored key, no right to write one: the error names `otel-audit schema`."""
        from otel_audit.errors import StoreError

        monkeypatch.delenv("OTEL_AUDIT_REDACTION_SECRET", raising=False)

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise StoreError("not enough privileges")

        monkeypatch.setattr(store, "insert_columns", refuse)
        with pytest.raises(AccessAuditError, match="otel-audit schema"):
            subject_key(store)

    def test_schema_makes_the_key(self, store_dsn: str) -> None:
        """`otel-audit schema` leaves the store with its pseudonym key, so readers never write one."""
        code, _, err = _invoke("schema", "--store", store_dsn)
        assert code == 0, err
        rows = (
            open_store(store_dsn)
            .query("SELECT count() FROM otel_audit_settings WHERE Name = 'access_subject_key'")
            .rows
        )
        assert rows == [(1,)]
