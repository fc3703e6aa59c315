"""Audit HTTP requests to an ASGI app (FastAPI, Starlette, any ASGI 3 app): one prediction per request.

Usage::

    from otel_audit.instrumentation.asgi import AuditMiddleware

    app.add_middleware(AuditMiddleware, routes=["/predict"], model="fraud_detector",
                       version="v3.2.1", user_id_header="x-user-id")

or ``AsgiInstrumentor().instrument()`` (what ``opentelemetry-instrument`` runs), which adds the
middleware, configured from the environment, to every Starlette/FastAPI app built afterwards.

For each request whose path is one of *routes* (exact match, or prefix match for entries
ending in ``*``; all paths when none are given) the middleware records one prediction:

* input: the request body (parsed JSON when the content type is JSON, else text), so
  ``audit.input.hash`` is ``hash_input(json.loads(body))``; output: the response body alike;
* model: *model*, else the request path; version: *version*;
* ``user.id``: the *user_id_header* header, else ``scope["user"].identity`` / ``display_name``
  of an authenticated user (Starlette's ``AuthenticationMiddleware``);
* ``http.route``, ``http.request.method``, ``http.response.status_code``.

Predictions made while the request runs (an instrumented model, ``audit_prediction``) inherit
the user id and the request id through :class:`otel_audit.audit_scope`. Bodies larger than
*max_body_bytes* are recorded as ``{"$truncated": <size>, "sha256": <hex of the bytes>}``.

Environment (read by the middleware when an argument is not given):
``OTEL_AUDIT_ASGI_ROUTES`` (comma-separated), ``OTEL_AUDIT_ASGI_MODEL``,
``OTEL_AUDIT_ASGI_MODEL_VERSION`` (default ``unversioned``), ``OTEL_AUDIT_ASGI_USER_HEADER``
(default ``x-user-id``), ``OTEL_AUDIT_ASGI_MAX_BODY_BYTES`` (default 1 MiB).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from otel_audit import envvars, semconv
from otel_audit.emit.call import begin, close, extract
from otel_audit.emit.prediction import Prediction, audit_scope, new_request_id
from otel_audit.instrumentation._base import Patcher, audit_runtime, site

__all__ = ["AsgiInstrumentor", "AuditMiddleware"]

_instruments = ("starlette >= 0.40",)
_SITE = site("asgi")


_DEFAULT_VERSION = "unversioned"
_DEFAULT_USER_HEADER = "x-user-id"
_DEFAULT_MAX_BODY = 1 << 20

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Body:
    """Bytes of one body, kept up to a bound."""

    __slots__ = ("chunks", "digest", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.digest = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.digest.update(chunk)
        if self.size <= self.limit:
            self.chunks.append(chunk)

    def value(self, content_type: str) -> Any:
        if self.size > self.limit:
            return {"$truncated": self.size, "sha256": self.digest.hexdigest()}
        raw = b"".join(self.chunks)
        if not raw:
            return None
        if "json" in content_type:
            try:
                return json.loads(raw)
            except ValueError:
                pass
        return raw.decode("utf-8", errors="replace")


def _header(headers: list[tuple[bytes, bytes]] | None, name: bytes) -> str | None:
    for key, value in headers or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class AuditMiddleware:
    """ASGI middleware auditing each request to the configured routes as one prediction.

    Args:
        app: the ASGI app to wrap.
        routes: paths to audit (``"/predict"``, or ``"/v1/*"`` for a prefix); all when empty.
        model: model name recorded (default: the request path).
        version: model version recorded.
        user_id_header: request header naming the user.
        max_body_bytes: largest body recorded whole.

    Raises:
        ValueError: an argument is invalid.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Collection[str] | None = None,
        model: str | None = None,
        version: str | None = None,
        user_id_header: str | None = None,
        max_body_bytes: int | None = None,
    ) -> None:
        self.app = app
        if routes is None:
            routes = envvars.OTEL_AUDIT_ASGI_ROUTES.resolve()
        if isinstance(routes, str):
            raise ValueError("routes must be a collection of paths, not one string")
        self._exact = frozenset(r for r in routes if not r.endswith("*"))
        self._prefixes = tuple(r[:-1] for r in routes if r.endswith("*"))
        self._all = not routes
        self.model = envvars.OTEL_AUDIT_ASGI_MODEL.resolve(model or None)
        self.version = envvars.OTEL_AUDIT_ASGI_MODEL_VERSION.resolve(version or None)
        header = envvars.OTEL_AUDIT_ASGI_USER_HEADER.resolve(user_id_header or None)
        self._user_header = header.lower().encode("latin-1")
        self.max_body_bytes = (
            max_body_bytes if max_body_bytes is not None else envvars.OTEL_AUDIT_ASGI_MAX_BODY_BYTES.resolve()
        )
        if self.max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, not {self.max_body_bytes}")

    def _audits(self, path: str) -> bool:
        return self._all or path in self._exact or path.startswith(self._prefixes)

    def _user(self, scope: Scope) -> str | None:
        from_header = _header(scope.get("headers"), self._user_header)
        if from_header:
            return from_header
        user = scope.get("user")
        if user is not None and getattr(user, "is_authenticated", False):
            who = getattr(user, "identity", None) or getattr(user, "display_name", None)
            return str(who) if who else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or not self._audits(scope.get("path", "")) or not is_instrumentation_enabled():
            await self.app(scope, receive, send)
            return
        prediction, _ = begin(_SITE, lambda: self._prediction(scope))
        if prediction is None:
            await self.app(scope, receive, send)
            return
        request_body = _Body(self.max_body_bytes)
        response_body = _Body(self.max_body_bytes)
        status: list[int] = []
        response_type: list[str] = []

        async def receive_wrapper() -> Message:
            message = await receive()
            if message.get("type") == "http.request":
                request_body.add(message.get("body", b""))
            return message

        async def send_wrapper(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                status.append(int(message.get("status", 0)))
                response_type.append(_header(message.get("headers"), b"content-type") or "")
            elif kind == "http.response.body":
                response_body.add(message.get("body", b""))
            await send(message)

        error: BaseException | None = None
        try:
            with audit_scope(user_id=prediction.user_id, request_id=prediction.request_id):
                await self.app(scope, receive_wrapper, send_wrapper)
        except BaseException as raised:
            error = raised
            raise
        finally:
            prediction.stop()
            exchange = {
                "request": request_body,
                "request_type": _header(scope.get("headers"), b"content-type") or "",
                "response": response_body,
                "response_type": response_type,
                "status": status,
            }
            extract(_SITE, prediction, "finish", _record_exchange, args=(prediction,), kwargs=exchange)
            close(_SITE, prediction, error)

    def _prediction(self, scope: Scope) -> Prediction:
        path = scope.get("path", "")
        route = scope.get("route")
        return audit_runtime().prediction(
            model=self.model or path,
            version=self.version,
            user_id=self._user(scope),
            request_id=new_request_id(),
            operation="http",
            attributes={
                semconv.AUDIT_INSTRUMENTATION: "asgi",
                semconv.HTTP_REQUEST_METHOD: scope.get("method", ""),
                semconv.HTTP_ROUTE: getattr(route, "path", None) or path,
            },
        )


def _record_exchange(
    prediction: Prediction,
    *,
    request: _Body,
    request_type: str,
    response: _Body,
    response_type: list[str],
    status: list[int],
) -> None:
    """Set the request and response bodies and the status on *prediction* (an extractor step)."""
    prediction.input = request.value(request_type)
    prediction.output = response.value(response_type[0] if response_type else "")
    if status:
        attributes = dict(prediction.attributes or {})
        attributes[semconv.HTTP_RESPONSE_STATUS_CODE] = status[0]
        prediction.attributes = attributes
        prediction.label = str(status[0])


class AsgiInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Add :class:`AuditMiddleware` (configured from the environment or ``instrument(**options)``)
    to every Starlette/FastAPI app whose middleware stack is built while instrumented."""

    _patcher = Patcher()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        import starlette.applications

        AuditMiddleware(_noop_app, **kwargs)  # validate the options now, not on the first request
        owners: list[type] = [starlette.applications.Starlette]
        try:
            import fastapi

            owners.append(fastapi.FastAPI)
        except ImportError:
            pass

        def make_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def build_middleware_stack(app: Any) -> Any:
                return AuditMiddleware(original(app), **kwargs)

            return build_middleware_stack

        for owner in owners:
            if "build_middleware_stack" in vars(owner):
                self._patcher.wrap(owner, "build_middleware_stack", make_wrapper)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patcher.restore()


async def _noop_app(scope: Scope, receive: Receive, send: Send) -> None:
    return None
