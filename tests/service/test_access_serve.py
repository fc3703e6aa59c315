"""Reads through a running ``otel-audit serve`` are audited by the server: one event per command or request."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from otel_audit import semconv
from otel_audit.cli import app

runner = CliRunner()

_EVENTS_SQL = (
    "SELECT Actor AS actor, AccessCommand AS command, AccessSubject AS subject, AccessRecords AS records, "
    "AccessOutcome AS outcome, RecordId AS record_id, "
    f"Attributes['{semconv.AUDIT_ACCESS_SUBJECT_KIND}'] AS kind "
    f"FROM audit_events WHERE EventName = '{semconv.EVENT_ACCESS}' ORDER BY Timestamp"
)


def _request(count: int, user: str) -> bytes:
    records = [
        {
            "timeUnixNano": str(time.time_ns() + index),
            "eventName": semconv.EVENT_PREDICTION,
            "body": {"kvlistValue": {"values": [{"key": "input", "value": {"intValue": str(index)}}]}},
            "attributes": [
                {"key": k, "value": {"stringValue": v}}
                for k, v in {
                    semconv.GEN_AI_REQUEST_MODEL: "door",
                    semconv.ML_MODEL_VERSION: "v1",
                    semconv.AUDIT_REQUEST_ID: f"door-{index}",
                    semconv.AUDIT_INPUT_HASH: hashlib.sha256(str(index).encode()).hexdigest(),
                    semconv.USER_ID: user,
                }.items()
            ],
        }
        for index in range(count)
    ]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}).encode()


def _query(server: Any, sql: str) -> tuple[int, dict[str, Any]]:
    status, body = server.post("/v1/query", json.dumps({"sql": sql}).encode(), "application/json", server.query_headers)
    return status, json.loads(body)


def _events(server: Any) -> list[dict[str, Any]]:
    """The access events, read by a plain query (which leaves its own `/v1/query` event, excluded here)."""
    status, reply = _query(server, _EVENTS_SQL)
    assert status == 200 and reply["error"] is None, reply
    return [dict(zip(reply["columns"], row, strict=True)) for row in reply["rows"]]


def _store_pseudonym(server: Any, subject: str) -> str:
    status, reply = _query(
        server,
        "SELECT argMin(Value, SetAt) FROM otel_audit_settings WHERE Name = 'access_subject_key'",
    )
    assert status == 200, reply
    return hmac.new(bytes.fromhex(reply["rows"][0][0]), subject.encode(), hashlib.sha256).hexdigest()


# Every report through serve: its arguments, the subject it reads about and the subject's kind
# (the server's records: model `door`, user `jane`, requests `door-0`.., see _request).
_REPORTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "report model-usage": (("--model", "door"), "door", "model"),
    "report data-access": (("--user", "jane"), "jane", "user"),
    "report version-at": (("--model", "door", "--at", "2100-01-01"), "door", "model"),
    "report version-timeline": (("--model", "door"), "door", "model"),
    "report outcomes": ((), "", ""),
    "report redactions": ((), "", ""),
    "report request": (("door-1",), "door-1", "request"),
    "report reproduce": (("door-1",), "door-1", "request"),
    "report input": (("{input_hash}",), "{input_hash}", "input"),
    "report conflicts": ((), "", ""),
    "report compliance": (("--model", "door"), "door", "model"),
    "report access-log": (("--subject", "jane"), "jane", "user"),
    "report oversight": (("--model", "door"), "door", "model"),
}


def _wait_signed(server: Any, where: str, count: int) -> None:
    """Wait (60 s at most) until *count* leaves matching *where* lie in a signed checkpoint's tree."""
    sql = (
        f"SELECT count() FROM audit_seal_leaves WHERE {where} "
        "AND LeafIndex < (SELECT max(TreeSize) FROM audit_seal_checkpoints)"
    )
    deadline = time.monotonic() + 60
    while True:
        status, reply = _query(server, sql)
        if status == 200 and reply["rows"][0][0] == count:
            return
        assert time.monotonic() < deadline, f"not signed within 60 s ({where}): {reply}"
        time.sleep(0.2)


class TestReadsThroughServe:
    def test_every_report_leaves_one_event(self, serve_factory: Any) -> None:
        """Each report run through serve leaves exactly one access event: the token's name, the
        command, the subject's pseudonym under the server's key, the records the report returned."""
        import typer

        from otel_audit.answer.access import records_in

        group: Any = typer.main.get_command(app)
        assert {f"report {name}" for name in group.commands["report"].commands} == set(_REPORTS)
        server = serve_factory("reports")
        assert server.post("/v1/logs", _request(5, "jane"), "application/json")[0] == 200
        server.wait_drained()
        status, reply = _query(server, "SELECT InputHash FROM audit_predictions WHERE RequestId = 'door-1'")
        assert status == 200, reply
        values = {"input_hash": reply["rows"][0][0]}
        for command, (arguments, subject, kind) in sorted(_REPORTS.items()):
            before = len(_events(server))
            args = [*command.split(), *(a.format(**values) for a in arguments), "--store", server.dsn, "-f", "json"]
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (command, result.stderr)
            new = [e for e in _events(server)[before:] if e["command"] != "/v1/query"]
            assert len(new) == 1, (command, new)
            [event] = new
            about = subject.format(**values)
            assert (event["command"], event["actor"], event["outcome"]) == (command, "query-token", "ok")
            assert event["subject"] == (_store_pseudonym(server, about) if about else ""), command
            report = json.loads(result.stdout)
            expected = report["reads"] if command.endswith("access-log") else records_in(report)
            assert event["records"] == expected, command
            assert event["kind"] == kind, command
        assert server.terminate() == 0

    def test_each_command_leaves_one_event_as_the_token(self, serve_factory: Any) -> None:
        """A report, `query` and `report access-log` through serve leave one event each, actor the token's name."""
        server = serve_factory("access")
        assert server.post("/v1/logs", _request(5, "jane"), "application/json")[0] == 200
        server.wait_drained()
        commands = [
            ["report", "data-access", "--user", "jane"],
            ["report", "model-usage", "--model", "door"],
            ["query", "SELECT RequestId FROM audit_predictions"],
            ["report", "access-log", "--subject", "jane"],
        ]
        outputs = []
        for command in commands:
            result = runner.invoke(app, [*command, "--store", server.dsn, "-f", "json"])
            assert result.exit_code == 0, result.stderr
            outputs.append(json.loads(result.stdout))
        events = [e for e in _events(server) if e["command"] != "/v1/query"]
        assert [e["command"] for e in events] == [
            "report data-access", "report model-usage", "query", "report access-log",
        ]  # fmt: skip
        assert {e["actor"] for e in events} == {"query-token"}
        jane = _store_pseudonym(server, "jane")
        assert [e["subject"] for e in events] == [jane, _store_pseudonym(server, "door"), "", jane]
        assert [e["records"] for e in events] == [5, 5, 5, 1]
        assert all(e["outcome"] == "ok" for e in events)
        # access-log through serve filtered by the server's pseudonym; data-access lists the readers.
        assert [e["command"] for e in outputs[3]["events"]] == ["report data-access"]
        result = runner.invoke(app, ["report", "data-access", "--user", "jane", "--store", server.dsn, "-f", "json"])
        readers = json.loads(result.stdout)["accessed_by"]
        assert [(r["actor"], r["command"]) for r in readers] == [
            ("query-token", "report data-access"), ("query-token", "report access-log"),
        ]  # fmt: skip
        assert server.terminate() == 0

    def test_plain_queries_and_refusals(self, serve_factory: Any) -> None:
        """A plain /v1/query leaves one event with its row count; a refused one an event marked refused."""
        server = serve_factory("plain")
        assert server.post("/v1/logs", _request(3, "ann"), "application/json")[0] == 200
        server.wait_drained()
        status, reply = _query(server, "SELECT RequestId FROM audit_predictions")
        assert status == 200 and len(reply["rows"]) == 3
        status, reply = _query(server, "SELECT * FROM url('http://127.0.0.1:1/')")
        assert status == 400 and reply.get("refused")
        result = runner.invoke(app, ["query", "SELECT * FROM file('/etc/passwd')", "--store", server.dsn])
        assert result.exit_code == 2 and "refused" in result.stderr
        events = _events(server)
        plain = [(e["command"], e["records"], e["outcome"]) for e in events]
        assert plain == [("/v1/query", 3, "ok"), ("/v1/query", 0, "refused"), ("query", 0, "refused")]
        assert server.terminate() == 0

    def test_a_session_never_ended_is_written_at_stop(self, serve_factory: Any) -> None:
        """A client that opened a session and died still leaves its event (written when the server stops)."""
        server = serve_factory("abandoned")
        assert server.post("/v1/logs", _request(2, "bob"), "application/json")[0] == 200
        server.wait_drained()
        begin = {"begin": {"command": "report data-access", "subject": "bob", "subject_kind": "user"}}
        status, body = server.post("/v1/access", json.dumps(begin).encode(), "application/json", server.query_headers)
        assert status == 200, body
        session = json.loads(body)["session"]
        document = {"sql": "SELECT RequestId FROM audit_predictions", "access_session": session}
        status, _ = server.post("/v1/query", json.dumps(document).encode(), "application/json", server.query_headers)
        assert status == 200
        assert [e for e in _events(server) if e["command"] != "/v1/query"] == []
        assert server.terminate() == 0
        restarted = serve_factory("abandoned")
        events = [e for e in _events(restarted) if e["command"] != "/v1/query"]
        assert [(e["command"], e["records"]) for e in events] == [("report data-access", 2)]
        assert restarted.terminate() == 0

    def test_prove_evidence_and_archive_through_serve(self, serve_factory: Any, tmp_path: Path, store_dsn: str) -> None:
        """`prove` (a request's and an event's receipt), `evidence` and `archive` through serve each
        leave one event as the token, with its subject and count; the receipts verify."""
        assert runner.invoke(app, ["keygen", "audit.test", "--out", str(tmp_path / "k")]).exit_code == 0
        key, verifier = tmp_path / "k" / "audit.test.key", tmp_path / "k" / "audit.test.pub"
        server = serve_factory("proofs", args=["--signing-key", str(key), "--seal-interval", "0.2"])
        assert server.post("/v1/logs", _request(4, "kim"), "application/json")[0] == 200
        server.wait_drained()
        # The scheduled seal signs a checkpoint over the four predictions, then over the first
        # access event (a leaf counts once a signed checkpoint's tree holds it).
        _wait_signed(server, "Kind = ''", 4)
        first = _events(server)[0]["record_id"]
        _wait_signed(server, f"RecordId = '{first}'", 1)
        before = len(_events(server))
        commands = [
            ["prove", "door-2", "--out", str(tmp_path / "request.receipt")],
            ["prove", "--event", first, "--out", str(tmp_path / "event.receipt")],
            ["evidence", "--model", "door", "--out", str(tmp_path / "pack"), "--signing-key", str(key)],
            ["archive", "--before", "2100-01-01", "--out", str(tmp_path / "archive"), "--signing-key", str(key)],
        ]
        for command in commands:
            result = runner.invoke(app, [*command, "--store", server.dsn])
            assert result.exit_code == 0, (command, result.stderr)
        for receipt in ("request.receipt", "event.receipt"):
            checked = runner.invoke(app, ["verify-receipt", str(tmp_path / receipt), "--verifier-key", str(verifier)])
            assert checked.exit_code == 0, checked.stderr
        # The archive made through the server is typed as a local one: it verifies and restores
        # (into this process's chDB engine: one engine per process).
        restored = runner.invoke(
            app,
            ["restore", str(tmp_path / "archive"), "--out", f"evidence_copy_{os.getpid()}", "--verifier-key",
             str(verifier), "--store", store_dsn],
        )  # fmt: skip
        assert restored.exit_code == 0, restored.stderr
        assert (
            "signature checked;" in restored.stderr
            and "restored records verify against the archived seal" in restored.stderr
        )
        events = [e for e in _events(server)[before:] if e["command"] != "/v1/query"]
        assert [e["command"] for e in events] == ["prove", "prove", "evidence", "archive"]
        assert {e["actor"] for e in events} == {"query-token"} and all(e["outcome"] == "ok" for e in events)
        subjects = [
            _store_pseudonym(server, "door-2"),
            _store_pseudonym(server, first),
            _store_pseudonym(server, "door"),
            "",
        ]
        assert [e["subject"] for e in events] == subjects
        assert [e["records"] for e in events][:2] == [1, 1] and all(e["records"] >= 4 for e in events[2:])
        assert server.terminate() == 0

    def test_access_endpoint_needs_the_query_token(self, serve_factory: Any) -> None:
        """/v1/access is guarded like /v1/query."""
        server = serve_factory("guard")
        status, _ = server.post("/v1/access", b'{"begin": {}}', "application/json")
        assert status == 401
        assert server.terminate() == 0
