"""``serve`` holds against an attacker on the same machine, tried against a real server.

Every attack of the threat model (docs/security.md) has a test here: the query sandbox through
the server and its front door, credentials by role, what a web page in a browser can send,
malformed HTTP framing, idle and excess connections, strict JSON, a large result, and the modes
of everything the server creates.
"""

from __future__ import annotations

import json
import math
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from serve_process import ROOT, ServeProcess

from otel_audit.store.connect import open_store
from otel_audit.store.front_door import FrontDoorStore

CANARY = "canary-5d21c9"


def _logs_json(prefix: str, count: int) -> dict[str, Any]:
    records = [
        {
            "timeUnixNano": str(time.time_ns()),
            "eventName": "ai.prediction",
            "body": {"stringValue": "{}"},
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "hardening"}},
                {"key": "audit.request.id", "value": {"stringValue": f"{prefix}-{index}"}},
            ],
        }
        for index in range(count)
    ]
    return {"resourceLogs": [{"resource": {}, "scopeLogs": [{"scope": {}, "logRecords": records}]}]}


def _query(server: ServeProcess, sql: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    status, body = server.post(
        "/v1/query", json.dumps({"sql": sql}).encode(), "application/json", headers or server.query_headers
    )
    return status, json.loads(body)


def _stored(server: ServeProcess, prefix: str) -> int:
    server.wait_drained()
    _, reply = _query(
        server, f"SELECT count() FROM otel_logs WHERE LogAttributes['audit.request.id'] LIKE '{prefix}-%'"
    )
    return int(reply["rows"][0][0])


def _raw(server: ServeProcess, request: bytes, *, read_timeout: float = 10.0) -> tuple[bytes, bool]:
    """Send raw bytes; return everything the server answered and whether it closed the connection."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as connection:
        connection.sendall(request)
        received = b""
        closed = False
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            received += chunk
            if b"\r\n\r\n" in received and received.count(b"HTTP/1.1") >= 1:
                connection.settimeout(1.0)  # any second response would arrive promptly
        return received, closed


class TestSandboxThroughServe:
    def test_escapes_refused_nothing_touched_records_still_stored(
        self, serve_factory: Any, tmp_path: Path, local_http: tuple[str, list[str]]
    ) -> None:
        """File reads (the query token itself included), writes and network reads are refused; ingest goes on."""
        url, hits = local_http
        server = serve_factory()
        canary = tmp_path / "canary.txt"
        canary.write_text(CANARY)
        out = tmp_path / "outfile.txt"
        token_file = server.info["query_token_file"]
        escapes = [
            f"SELECT * FROM file('{canary}', 'LineAsString')",
            f"SELECT * FROM file('{token_file}', 'LineAsString')",
            f"SELECT file('{token_file}')",
            f"SELECT _path FROM file('{tmp_path}/*', 'LineAsString')",
            f"SELECT 'x' AS x INTO OUTFILE '{out}' TRUNCATE",
            f"SELECT 'x' AS x INTO OUTFILE '{out}' APPEND",
            f"SELECT * FROM url('{url}', 'LineAsString')",
            "DROP TABLE otel_logs",
            "INSERT INTO otel_logs (Body) VALUES ('forged')",
            "SELECT sleepEachRow(1) FROM numbers(100)",
        ]
        for sql in escapes:
            status, reply = _query(server, sql)
            assert status == 400 and reply.get("refused") is True, (sql, reply)
            assert CANARY not in json.dumps(reply) and server.query_token not in json.dumps(reply)
        assert not out.exists() and hits == []
        status, reply = _query(server, "SELECT nope FROM otel_logs")
        assert status == 400 and "refused" not in reply and "UNKNOWN_IDENTIFIER" in reply["error"]
        body = json.dumps(_logs_json("after-escapes", 3)).encode()
        assert server.post("/v1/logs", body, "application/json")[0] == 200
        assert _stored(server, "after-escapes") == 3

    def test_cli_through_the_front_door_is_sandboxed(self, serve_factory: Any, tmp_path: Path) -> None:
        """`otel-audit query` in another process, through the server, is refused with the reason."""
        server = serve_factory()
        canary = tmp_path / "canary.txt"
        canary.write_text(CANARY)
        result = subprocess.run(
            [
                *(sys.executable, "-m", "otel_audit.cli", "query"),
                f"SELECT * FROM file('{canary}', 'LineAsString')",
                *("--store", server.dsn),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert result.returncode == 2 and "refused: table function file()" in result.stderr
        assert CANARY not in result.stdout + result.stderr


class TestCredentials:
    def test_query_needs_the_query_token(self, serve_factory: Any, tmp_path: Path) -> None:
        """Without a token, or with the ingest token, queries and status get 401 and the connection closes."""
        token_file = tmp_path / "ingest-token"
        token_file.write_text("ingest-secret\n")
        server = serve_factory(args=["--token-file", str(token_file)])
        for headers in ({}, {"Authorization": "Bearer ingest-secret"}, {"Authorization": "Bearer wrong"}):
            status, _ = server.post("/v1/query", b'{"sql": "SELECT 1"}', "application/json", headers)
            assert status == 401
        assert _query(server, "SELECT 1")[1]["rows"] == [[1]]
        body = json.dumps(_logs_json("ingest-only", 1)).encode()
        query_token = {"Authorization": f"Bearer {server.query_token}"}
        assert server.post("/v1/logs", body, "application/json", query_token)[0] == 401
        assert server.post("/v1/logs", body, "application/json", {"Authorization": "Bearer ingest-secret"})[0] == 200

    def test_other_users_cannot_read_the_query_token(self, serve_factory: Any) -> None:
        """The token file and the serve file are 0600 in a 0700 store directory."""
        server = serve_factory()
        for path in (Path(server.info["query_token_file"]), server.path / "otel-audit.serve.json"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(server.path.stat().st_mode) == 0o700


class TestBrowsersCannotQuery:
    def test_simple_requests_foreign_origins_and_hosts_are_refused(self, serve_factory: Any) -> None:
        """A text/plain POST (no preflight), any Origin, and a rebound Host are refused before the SQL is read."""
        server = serve_factory()
        token = server.query_headers
        sql = b'{"sql": "SELECT 1"}'
        assert server.post("/v1/query", sql, "text/plain", token)[0] == 415
        assert server.post("/v1/query", sql, "application/x-www-form-urlencoded", token)[0] == 415
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Host": "evil.example"},
            {"Host": f"rebind.example:{server.url.rsplit(':', 1)[1]}"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            status, reply = server.post("/v1/query", sql, "application/json", {**token, **headers})
            assert status == 403, (headers, reply)
        assert server.post("/v1/query", sql, "application/json", {**token, "Host": "localhost"})[0] == 200


class TestHttpFraming:
    @pytest.mark.parametrize(
        "framing",
        [
            b"Content-Length: -1\r\n",
            b"Content-Length: +5\r\n",
            b"Content-Length: 0x10\r\n",
            b"Content-Length: 5\r\nContent-Length: 6\r\n",
            b"Transfer-Encoding: chunked\r\n",
        ],
    )
    def test_bad_lengths_get_400_and_close(self, shared_server: ServeProcess, framing: bytes) -> None:
        """Negative, signed, hex or conflicting lengths and negative chunk sizes are 400, never a read to EOF."""
        body = b"-1\r\nxxxx\r\n0\r\n\r\n" if b"chunked" in framing else b"{}"
        request = (
            b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + framing
            + b"\r\n"
            + body
        )
        received, closed = _raw(shared_server, request)
        assert received.startswith(b"HTTP/1.1 400"), received[:200]
        assert closed
        assert shared_server.status()["pid"] == shared_server.info["pid"]

    def test_after_401_the_body_is_not_a_second_request(self, shared_server: ServeProcess) -> None:
        """A refused request's unread body never runs as the next request on the connection."""
        smuggled = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        request = (
            b"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(smuggled)}\r\n\r\n".encode()
            + smuggled
        )
        received, closed = _raw(shared_server, request)
        assert received.startswith(b"HTTP/1.1 401") and received.count(b"HTTP/1.1 ") == 1, received
        assert closed


class TestConnections:
    def test_idle_connections_are_closed_and_excess_ones_refused(self, serve_factory: Any) -> None:
        """With 3 slots, a 4th connection gets 503; idle ones are closed after the socket timeout."""
        server = serve_factory(args=["--max-connections", "3", "--socket-timeout", "1"])
        port = int(server.url.rsplit(":", 1)[1])
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            assert extra.recv(4096).startswith(b"HTTP/1.1 503")
        for connection in idle:
            assert connection.recv(4096) == b""  # closed by the server after ~1 s of silence
            connection.close()
        assert server.status()["connections_refused"] >= 1


class TestResults:
    def test_non_finite_numbers_are_strict_json(self, shared_server: ServeProcess) -> None:
        """NaN and infinities travel as tagged strings: the reply parses strictly and decodes to floats."""
        status, body = shared_server.post(
            "/v1/query",
            json.dumps({"sql": "SELECT nan AS a, inf AS b, -inf AS c, 1.5 AS d"}).encode(),
            "application/json",
            shared_server.query_headers,
        )

        def refuse(token: str) -> None:
            raise ValueError(f"not JSON: {token}")

        assert status == 200
        json.loads(body, parse_constant=refuse)
        store = open_store(shared_server.dsn)
        assert isinstance(store, FrontDoorStore)
        [(a, b, c, d)] = store.read("SELECT nan AS a, inf AS b, -inf AS c, 1.5 AS d").rows
        assert math.isnan(a) and b == math.inf and c == -math.inf and d == 1.5

    @pytest.mark.slow
    def test_a_large_result_streams_in_flat_memory(self, serve_factory: Any) -> None:
        """2M rows stream out without the server holding them: its peak memory grows by far less than the reply."""
        server = serve_factory(env={"OTEL_AUDIT_QUERY_MAX_ROWS": "5000000"})

        def peak_kb() -> int:
            for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
            raise AssertionError("no VmHWM")

        before = peak_kb()
        port = int(server.url.rsplit(":", 1)[1])
        body = json.dumps({"sql": "SELECT number, toString(number * 7919) AS s FROM numbers(2000000)"}).encode()
        head = (
            f"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {server.query_token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        received = 0
        tail = b""
        with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
            connection.sendall(head + body)
            while chunk := connection.recv(1 << 20):
                received += len(chunk)
                tail = (tail + chunk)[-200:]
        grown_mb = (peak_kb() - before) / 1024
        assert received > 30 * 1024 * 1024 and b'"error": null}' in tail
        assert grown_mb < 150, f"serve's peak memory grew {grown_mb:.0f} MB for a {received / 2**20:.0f} MB reply"

    def test_the_row_limit_is_an_error_not_a_silent_truncation(self, serve_factory: Any) -> None:
        """Past the pinned row limit the reply ends with an error, and the front door raises it."""
        server = serve_factory(env={"OTEL_AUDIT_QUERY_MAX_ROWS": "1000"})
        status, reply = _query(server, "SELECT number FROM numbers(100000)")
        assert status in (200, 400)
        assert "TOO_MANY_ROWS_OR_BYTES" in (reply.get("error") or "")


class TestPrivateFiles:
    def test_everything_serve_creates_is_the_owners_alone(self, tmp_path: Path) -> None:
        """Under umask 000, store, spool, serve, token and owner files are 0700/0600; no SQL in the owner file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_AUDIT_")}
        server = ServeProcess(tmp_path / "store", env=env)
        previous = os.umask(0)
        try:
            server.start()
        finally:
            os.umask(previous)
        try:
            body = json.dumps(_logs_json("private", 2)).encode()
            assert server.post("/v1/logs", body, "application/json")[0] == 200
            server.wait_drained()
            owner = json.loads((server.path / "otel-audit.owner.json").read_text())
            assert owner["command"].endswith("serve") and "--store" not in owner["command"]
            spool = Path(str(server.path) + ".spool")
            for root in (server.path, spool):
                for directory, _, files in os.walk(root):
                    assert stat.S_IMODE(os.stat(directory).st_mode) & 0o077 == 0, directory
                    for name in files:
                        mode = stat.S_IMODE(os.lstat(os.path.join(directory, name)).st_mode)
                        assert mode & 0o077 == 0, (os.path.join(directory, name), oct(mode))
        finally:
            server.terminate()
