"""``otel-audit serve``'s HTTP front: OTLP/HTTP intake, the query endpoint, status.

What the front enforces before a request reaches the server (each refusal is a 4xx/5xx with a
one-line JSON ``{"error": ...}``, or an OTLP ``Status`` on the OTLP paths, and the server stays up):

* **Credentials by role.** The ingest token guards ``/v1/logs`` and ``/v1/traces``; the query
  token guards ``/v1/query``, ``/v1/access``, ``/status`` and ``/debug/fault``. Neither grants the other. A 401
  closes the connection without reading the body.
* **No browser can query.** ``/v1/query`` takes only ``Content-Type: application/json`` (a page
  cannot send that cross-origin without a preflight, which is never answered), refuses any
  request carrying an ``Origin`` header (no page is served here, so every origin is foreign), and
  checks ``Host`` against the names the server is bound to (DNS rebinding).
* **Bounded bodies.** ``Content-Length`` must be decimal digits; chunk sizes hex digits;
  anything else (``-1``, ``+5``, ``0x10``) is a 400 that closes the connection. Bodies above
  ``max_body_bytes`` get 413, gzip bombs 413.
* **Bounded connections.** Every socket has a timeout (an idle keep-alive connection is closed),
  and at most ``max_connections`` are served at once; the next one gets a 503 and is closed.

Query results are streamed in blocks as one JSON document
``{"columns": [...], "rows": [...], "error": null}``, so a large result never sits whole in the
server's memory; if the engine stops the query after rows were sent (time or row limit),
``"error"`` carries the reason and the client must treat the rows as incomplete. Values that
JSON lacks travel tagged (:mod:`otel_audit.store.wire`); non-finite floats too, so the reply is
strict JSON.

Every query is audited (:mod:`otel_audit.answer.access`): a request leaves one ``audit.access``
event whose actor is the query token's name, unless it names an ``access_session`` opened by
``POST /v1/access`` (``{"begin": {"command", "subject", "subject_kind", "since", "until"}}`` ->
``{"session", "subject": pseudonym, "audited"}``; ``{"end": {"session", "records", "outcome"}}``),
in which case the session's one event covers all its queries. An event that cannot be written
fails the request: a 500, or for rows already streamed a non-null ``"error"``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2

from otel_audit import semconv
from otel_audit.diagnostics import get_logger
from otel_audit.errors import OtelAuditError, QueryError
from otel_audit.export.otlp import MalformedRequestError
from otel_audit.service.spool import SpoolFullError
from otel_audit.store.front_door import ARROW_FORMAT
from otel_audit.store.sandbox import QueryRefusedError
from otel_audit.store.wire import decode_value, encode_value

if TYPE_CHECKING:
    from otel_audit.service.server import AuditServer

__all__ = ["HttpFront"]

_logger = get_logger(__name__)

_DRAIN_BYTES = 128 * 1024 * 1024  # an oversize body up to this is read and discarded so the client sees 413
_DECIMAL = re.compile(rb"^[0-9]{1,19}$")
_HEX = re.compile(rb"^[0-9A-Fa-f]{1,15}$")
_OTLP_PATHS = {"/v1/logs": "logs", "/v1/traces": "spans"}
_PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class HttpError(Exception):
    """A request refused with *status*; ``close`` ends the connection after the reply."""

    def __init__(self, status: int, message: str, *, close: bool = False, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close
        self.retry_after = retry_after


class HttpFront(ThreadingHTTPServer):
    """The listening socket: one daemon thread per connection, at most ``max_connections`` at once."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: AuditServer) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._slots = threading.BoundedSemaphore(app.config.max_connections)
        # The socket timeout ends idle keep-alive connections and stalled clients.
        handler = type("_TimedHandler", (_Handler,), {"timeout": app.config.socket_timeout_s})
        super().__init__(address, handler)
        self.allowed_hosts = _allowed_hosts(app.config.host, self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread, or answer 503 and close it when all slots are taken."""
        if not self._slots.acquire(blocking=False):
            self.app.counters.add("http.connections_refused")
            try:
                request.settimeout(1.0)
                body = b'{"error": "too many connections; retry later"}'
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                    b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, free its slot, then close it: a client that sees the close finds
        the slot free (freed after the close, a reconnect could still be refused)."""
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - as socketserver does: log it, close the connection
            self.handle_error(request, client_address)
        finally:
            self._slots.release()
            self.shutdown_request(request)


def _allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The ``Host`` values that name this server; ``None`` for a wildcard bind (any name, token required)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = {shown, *_LOOPBACK_NAMES} if shown in _LOOPBACK_NAMES else {shown}
    return frozenset({*(n.lower() for n in names), *(f"{n.lower()}:{port}" for n in names)})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HttpFront
    server_version = "otel-audit-serve"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if _logger.isEnabledFor(logging.DEBUG):  # formatted only when someone reads it
            _logger.debug("http", client=self.address_string(), line=format % args)

    # --- plumbing ---

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, document: Any) -> None:
        self._send(status, json.dumps(document, allow_nan=False).encode(), "application/json")

    def _read_body(self) -> bytes:
        limit = self.server.app.config.max_body_bytes
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            body = self._read_chunked(limit)
        elif self.headers.get("Transfer-Encoding"):
            raise HttpError(501, "only the chunked Transfer-Encoding is supported", close=True)
        else:
            length = self._content_length(required=True)
            if length > limit:
                if length <= _DRAIN_BYTES:
                    self._discard(length)
                raise HttpError(413, f"body of {length} bytes exceeds the limit of {limit} bytes", close=True)
            body = self.rfile.read(length)
            if len(body) != length:
                raise HttpError(400, "body shorter than Content-Length", close=True)
        encoding = self.headers.get("Content-Encoding", "identity").lower()
        if encoding == "gzip":
            return self._gunzip(body)
        if encoding not in ("identity", ""):
            raise HttpError(415, f"unsupported Content-Encoding {encoding!r}; use gzip or none")
        return body

    def _content_length(self, *, required: bool) -> int:
        values = self.headers.get_all("Content-Length") or []
        if not values:
            if required:
                raise HttpError(411, "Content-Length or chunked Transfer-Encoding is required", close=True)
            return 0
        if len(set(values)) != 1 or not _DECIMAL.match(values[0].strip().encode()):
            raise HttpError(400, "Content-Length must be one non-negative decimal number", close=True)
        return int(values[0])

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                return
            length -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size_total = 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";")[0].strip()
            if not _HEX.match(size_text):
                raise HttpError(400, "malformed chunked encoding: a chunk size must be hex digits", close=True)
            size = int(size_text, 16)
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(parts)
            size_total += size
            if size_total > limit:
                raise HttpError(413, f"body exceeds the limit of {limit} bytes", close=True)
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(8) not in (b"\r\n", b"\n"):
                raise HttpError(400, "malformed chunked encoding: chunk shorter than its size", close=True)
            parts.append(chunk)

    def _gunzip(self, body: bytes) -> bytes:
        limit = self.server.app.config.max_decoded_bytes
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error as error:
            raise HttpError(400, f"invalid gzip body: {error}") from None
        if len(data) > limit:
            raise HttpError(413, f"gzip body inflates beyond the limit of {limit} bytes")
        if not inflater.eof:
            raise HttpError(400, "truncated gzip body")
        return data

    def _authorize(self, scope: str) -> None:
        if not self.server.app.authorized(self.headers.get("Authorization"), scope):
            # The body is not read, so the connection cannot be reused: close it.
            raise HttpError(401, f"missing or wrong {scope} token", close=True)

    def _same_machine_client(self) -> None:
        """Refuse what a web page could send: a foreign Host (DNS rebinding) or any Origin."""
        allowed = self.server.allowed_hosts
        host = (self.headers.get("Host") or "").strip().lower()
        if allowed is not None and host not in allowed:
            raise HttpError(403, f"Host {host[:100]!r} does not name this server", close=True)
        if self.headers.get("Origin") is not None or self.headers.get("Sec-Fetch-Site") not in (None, "none"):
            raise HttpError(403, "cross-origin requests are refused (no web page may query the store)", close=True)

    def _fail(self, error: HttpError, *, as_otlp: str | None = None, extra: dict[str, Any] | None = None) -> None:
        if error.close:
            self.close_connection = True
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        if error.close:
            headers["Connection"] = "close"
        if as_otlp is not None:
            code = {400: code_pb2.INVALID_ARGUMENT, 401: code_pb2.UNAUTHENTICATED, 503: code_pb2.UNAVAILABLE}
            status = status_pb2.Status(code=code.get(error.status, code_pb2.INVALID_ARGUMENT), message=error.message)
            if as_otlp == "json":
                self._send(error.status, json_format.MessageToJson(status).encode(), "application/json", headers)
            else:
                self._send(error.status, status.SerializeToString(), "application/x-protobuf", headers)
            return
        document = {"error": error.message, **(extra or {})}
        self._send(error.status, json.dumps(document).encode(), "application/json", headers)

    # --- routes ---

    def do_GET(self) -> None:
        try:
            if self.path.split("?")[0] != "/status":
                raise HttpError(404, f"no such endpoint {self.path[:100]}")
            self._same_machine_client()
            self._authorize("query")
            self._send_json(200, self.server.app.status())
        except HttpError as error:
            self._fail(error)

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        signal_name = _OTLP_PATHS.get(path)
        if signal_name is not None:
            self._otlp(signal_name)
            return
        try:
            if path == "/v1/query":
                self._query()
            elif path == "/v1/access":
                self._access()
            elif path == "/debug/fault" and self.server.app.config.fault_injection:
                self._same_machine_client()
                self._authorize("query")
                self.server.app.fault(json.loads(self._read_body())["action"])
                self._send_json(200, {"ok": True})
            else:
                raise HttpError(404, f"no such endpoint {path[:100]}", close=True)
        except HttpError as error:
            self._fail(error, extra={"refused": True} if error.status == 400 and _refused(error) else None)

    def _otlp(self, signal_name: str) -> None:
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        reply = "protobuf" if content_type in _PROTOBUF_TYPES else "json"
        app = self.server.app
        try:
            self._authorize("ingest")
            if content_type not in (*_PROTOBUF_TYPES, "application/json"):
                self._discard(min(self._content_length(required=False), _DRAIN_BYTES))
                raise HttpError(415, f"unsupported Content-Type {content_type!r}; use application/x-protobuf or json")
            body = self._read_body()
            try:
                response = app.ingest(signal_name, body, json_encoded=reply == "json")
            except MalformedRequestError as error:
                app.counters.add("requests.malformed")
                raise HttpError(400, str(error)) from None
            except SpoolFullError as error:
                raise HttpError(503, f"server busy: {error}", retry_after=1) from None
            except OSError as error:
                raise HttpError(503, f"cannot spool the request: {error}", retry_after=1) from None
        except HttpError as error:
            self._fail(error, as_otlp=reply)
            return
        if reply == "json":
            self._send(200, json_format.MessageToJson(response, indent=None).encode(), "application/json")
        else:
            self._send(200, response.SerializeToString(), "application/x-protobuf")

    def _query(self) -> None:
        self._same_machine_client()
        self._authorize("query")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._discard(min(self._content_length(required=False), _DRAIN_BYTES))
            raise HttpError(415, "the query endpoint takes application/json only", close=True)
        try:
            request = json.loads(self._read_body())
            sql = request["sql"]
            parameters = {str(k): decode_value(v) for k, v in (request.get("parameters") or {}).items()}
            if not isinstance(sql, str):
                raise TypeError("sql must be a string")
        except HttpError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
            raise HttpError(400, f"bad query request: {error}") from None
        app = self.server.app
        session = request.get("access_session") if isinstance(request, dict) else None
        if session is not None and not (isinstance(session, str) and app.access.known(session)):
            raise HttpError(400, "unknown or ended access session")
        answer_format = request.get("format", "json")
        if answer_format not in ("json", ARROW_FORMAT):
            raise HttpError(400, f"bad query request: format must be json or {ARROW_FORMAT}")
        if answer_format == ARROW_FORMAT:
            self._query_arrow(sql, parameters, session)
            return
        with self._sandboxed(session):
            columns, blocks = app.store.read_blocks(sql, parameters)
            first = next(blocks, [])
        app.counters.add("queries.answered")
        self._stream_rows(columns, first, blocks, session=session)

    @contextmanager
    def _sandboxed(self, session: str | None) -> Iterator[None]:
        """Run a query's start: a refusal by the sandbox or an engine error is counted, audited
        (``refused`` / ``error``, 0 records) and answered 400."""
        app = self.server.app
        try:
            yield
        except QueryRefusedError as error:
            app.counters.add("queries.refused")
            self._audit_plain(session, 0, semconv.ACCESS_OUTCOME_REFUSED)
            raise _RefusedError(str(error)) from None
        except OtelAuditError as error:
            app.counters.add("queries.failed")
            self._audit_plain(session, 0, semconv.ACCESS_OUTCOME_ERROR)
            raise HttpError(400, str(error)) from None

    def _query_arrow(self, sql: str, parameters: dict[str, Any], session: str | None) -> None:
        """The rows of one sandboxed query as one Arrow IPC stream, typed by the engine (a front
        door's ``query_arrow``: archives). The whole result is built before the reply, so the
        access event is written first and a failure to write it is an error, not a partial reply."""
        import pyarrow as pa

        app = self.server.app
        with self._sandboxed(session):
            table = app.store.read_arrow(sql, parameters)
        unaudited = self._audit_plain(session, table.num_rows, semconv.ACCESS_OUTCOME_OK)
        if unaudited is not None:
            raise HttpError(500, f"the query was not audited, so it fails: {unaudited}")
        app.counters.add("queries.answered")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        body = sink.getvalue().to_pybytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.apache.arrow.stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _audit_plain(self, session: str | None, rows: int, outcome: str) -> str | None:
        """Audit one query: count it into its *session*, else write its own access event. Returns
        the error to report when the event could not be written (fail closed), else ``None``."""
        app = self.server.app
        if session is not None:
            app.access.count(session, rows)
            return None
        try:
            app.access.plain(app.config.query_token_name, rows, outcome)
        except OtelAuditError as error:
            app.counters.add("access.unaudited")
            if outcome != semconv.ACCESS_OUTCOME_OK:
                raise HttpError(500, str(error)) from None
            return str(error)
        return None

    def _access(self) -> None:
        """``POST /v1/access``: open (``{"begin": {...}}``) or close (``{"end": {...}}``) the access
        session of one client command, whose queries then leave one access event in all."""
        self._same_machine_client()
        self._authorize("query")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._discard(min(self._content_length(required=False), _DRAIN_BYTES))
            raise HttpError(415, "the access endpoint takes application/json only", close=True)
        try:
            request = json.loads(self._read_body())
            begin, end = request.get("begin"), request.get("end")
            if not isinstance(begin, dict) and not isinstance(end, dict):
                raise TypeError("give begin or end")
        except HttpError:
            raise
        except (ValueError, TypeError, AttributeError, RecursionError) as error:
            raise HttpError(400, f"bad access request: {error}") from None
        app = self.server.app
        try:
            if isinstance(begin, dict):
                self._send_json(200, app.access.begin(app.config.query_token_name, begin))
                return
            app.access.end(end)
        except KeyError:
            raise HttpError(400, "unknown or ended access session") from None
        except (ValueError, TypeError) as error:
            raise HttpError(400, f"bad access request: {error}") from None
        except OtelAuditError as error:
            app.counters.add("access.unaudited")
            raise HttpError(500, str(error)) from None
        self._send_json(200, {"ok": True})

    def _stream_rows(
        self, columns: list[str], first: list[tuple[Any, ...]], blocks: Any, *, session: str | None = None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self._chunk(b'{"columns": ' + json.dumps(columns).encode() + b', "rows": [')
        error: str | None = None
        separator = b""
        sent = 0
        try:
            block: list[tuple[Any, ...]] | None = first
            while block is not None:
                if block:
                    sent += len(block)
                    rows = b", ".join(json.dumps(encode_value(row)["v"], allow_nan=False).encode() for row in block)
                    self._chunk(separator + rows)
                    separator = b", "
                block = next(blocks, None)
        except QueryError as failure:
            error = str(failure)
            self.server.app.counters.add("queries.failed")
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
        # The rows are out; an access event that cannot be written turns the reply into an error.
        unaudited = self._audit_plain(session, sent, semconv.ACCESS_OUTCOME_OK)
        if unaudited is not None:
            error = f"the query was not audited, so it fails: {unaudited}"
        self._chunk(b'], "error": ' + json.dumps(error).encode() + b"}")
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


class _RefusedError(HttpError):
    """The sandbox refused the statement (400, with ``"refused": true`` in the reply)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def _refused(error: HttpError) -> bool:
    return isinstance(error, _RefusedError)
