"""serve redacts OTLP requests at the door (nothing personal reaches spool or store) and seals on a schedule."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from serve_process import ServeProcess

from otel_audit import semconv
from otel_audit.store.connect import open_store
from otel_audit.store.sql import query_sql

_EMAIL = "ann.lee@example.org"
_PHONE = "+44 20 7946 0958"


def _request(prefix: str, time_ns: int | None = None) -> bytes:
    attributes = {
        semconv.GEN_AI_REQUEST_MODEL: "door_model",
        semconv.ML_MODEL_VERSION: "v1",
        semconv.AUDIT_REQUEST_ID: prefix,
        "customer.contact": f"write to {_EMAIL}",
    }
    body = {"kvlistValue": {"values": [
        {"key": "input", "value": {"kvlistValue": {"values": [
            {"key": "note", "value": {"stringValue": f"call {_PHONE} or {_EMAIL}"}},
            {"key": "password", "value": {"stringValue": "hunter2"}},
        ]}}},
    ]}}  # fmt: skip
    record = {
        "timeUnixNano": str(time_ns or time.time_ns()),
        "eventName": semconv.EVENT_PREDICTION,
        "body": body,
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
    }
    document: dict[str, Any] = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    return json.dumps(document).encode()


def _spooled_bytes(server: ServeProcess) -> bytes:
    spool = Path(str(server.path) + ".spool")
    return b"".join(path.read_bytes() for path in spool.rglob("*") if path.is_file())


class TestServeRedaction:
    def test_personal_data_never_reaches_spool_or_store(self, serve_factory: Any) -> None:
        """With the default rules, e-mail, phone and a password are gone before spooling; counts are recorded."""
        server = serve_factory("redacting", env={"OTEL_AUDIT_SERVE_FAULTS": "1"})
        server.fault("detach_logs")  # keep the request in the spool, so the spool itself can be inspected
        status, _ = server.post("/v1/logs", _request("door-1"), "application/json")
        assert status == 200
        spooled = _spooled_bytes(server)
        assert b"door-1" in spooled
        assert _EMAIL.encode() not in spooled and b"7946" not in spooled and b"hunter2" not in spooled
        server.fault("attach_logs")
        server.wait_drained()
        store = open_store(server.dsn)  # through the front door of the running server
        [(body, attributes)] = store.query(
            "SELECT Body, LogAttributes FROM otel_logs WHERE LogAttributes['audit.request.id'] = 'door-1'"
        ).rows
        assert json.loads(body) == {"input": {"note": "call [PHONE] or [EMAIL]"}}
        assert attributes["customer.contact"] == "write to [EMAIL]"
        assert attributes["audit.redaction.email"] == "2" and attributes["audit.redaction.credential"] == "1"
        assert server.terminate() == 0

    def test_no_redact_keeps_the_data(self, serve_factory: Any) -> None:
        """--no-redact stores what was sent (for deployments whose collector already redacted)."""
        server = serve_factory("plain", args=["--no-redact"])
        status, _ = server.post("/v1/logs", _request("door-2"), "application/json")
        assert status == 200
        server.wait_drained()
        [(body,)] = (
            open_store(server.dsn)
            .query("SELECT Body FROM otel_logs WHERE LogAttributes['audit.request.id'] = 'door-2'")
            .rows
        )
        assert _EMAIL in body and "hunter2" in body
        assert server.terminate() == 0


class TestScheduledSeal:
    def test_serve_seals_on_a_schedule_and_the_store_verifies(self, serve_factory: Any, tmp_path: Path) -> None:
        """With --signing-key, serve seals stored records every interval; verify passes once it stops."""
        import subprocess
        import sys

        from serve_process import ROOT

        keys = tmp_path / "keys"
        subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "keygen", "audit.test", "--out", str(keys)],
            cwd=ROOT, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        server = serve_factory("sealed", args=["--signing-key", str(keys / "audit.test.key"), "--seal-interval", "0.2"])
        for index in range(3):
            status, _ = server.post("/v1/logs", _request(f"sealed-{index}"), "application/json")
            assert status == 200
        server.wait_drained()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (server.status()["seal"] or {}).get("sealed", 0) < 3:
            time.sleep(0.1)
        seal_status = server.status()["seal"]
        assert seal_status["sealed"] == 3 and seal_status["failures"] == 0 and seal_status["tree_size"] == 3
        assert server.terminate() == 0
        verified = subprocess.run(
            [sys.executable, "-m", "otel_audit.cli", "verify", "--store", server.dsn,
             "--verifier-key", str(keys / "audit.test.pub")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr

    def test_verify_beside_the_scheduled_seal(self, serve_factory: Any, tmp_path: Path) -> None:
        """Plain verify run again and again on a live server that seals every 50 ms passes every
        time: each run's own reads are access events that the next seal signs while the following
        run reads the tree, so it meets leaves written before their checkpoint."""
        from typer.testing import CliRunner

        from otel_audit.cli import app

        runner = CliRunner()
        assert runner.invoke(app, ["keygen", "audit.test", "--out", str(tmp_path / "k")]).exit_code == 0
        key, verifier = tmp_path / "k" / "audit.test.key", tmp_path / "k" / "audit.test.pub"
        server = serve_factory("racing", args=["--signing-key", str(key), "--seal-interval", "0.05"])
        for index in range(5):
            assert server.post("/v1/logs", _request(f"race-{index}"), "application/json")[0] == 200
        server.wait_drained()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (server.status()["seal"] or {}).get("sealed", 0) < 5:
            time.sleep(0.05)
        verify = ["verify", "--store", server.dsn, "--verifier-key", str(verifier)]
        results = [runner.invoke(app, verify) for _ in range(12)]
        assert [r.exit_code for r in results] == [0] * 12, [r.stderr for r in results if r.exit_code]
        reports = [json.loads(r.stdout) for r in results]
        assert reports[-1]["tree_size"] > reports[0]["tree_size"] >= 5  # the reads were sealed meanwhile
        assert server.terminate() == 0


class TestServeRollups:
    def test_builds_rollups_of_closed_hours_on_a_schedule(self, serve_factory: Any) -> None:
        """With --rollup-interval, serve builds the report rollups of the hours that closed; a
        record from two hours ago is in a current rollup, one from now is not (its hour is open)."""
        server = serve_factory("rollups", args=["--rollup-interval", "0.2"])
        # Two hours back: its hour ended more than the 5-minute grace ago, whatever the clock says.
        hour_ago = time.time_ns() - 7_300 * 10**9
        for prefix, moment in (("rolled-old", hour_ago), ("rolled-new", None)):
            status, _ = server.post("/v1/logs", _request(prefix, moment), "application/json")
            assert status == 200
        server.wait_drained()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (server.status()["rollups"]["last_built"] or {}).get("usage_hourly"):
            time.sleep(0.1)
        assert server.status()["rollups"]["failures"] == 0
        store = open_store(server.dsn)  # through the front door of the running server
        everything = {"since": dt.datetime(1970, 1, 1), "until": dt.datetime(2200, 1, 1)}
        current = [row["period"] for row in store.query(query_sql("rollup_current"), everything).dicts()
                   if row["rollup"] == "usage_hourly"]  # fmt: skip
        assert [calendar.timegm(period.timetuple()) for period in current] == [hour_ago // 10**9 // 3600 * 3600]
        usage = store.query(
            "SELECT countMerge(Predictions) FROM audit_usage_hourly WHERE ModelName = 'door_model'"
        ).rows
        assert usage == [(1,)]
        assert server.terminate() == 0
