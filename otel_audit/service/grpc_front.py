"""``otel-audit serve``'s OTLP/gRPC front: ``LogsService/Export`` and ``TraceService/Export``.

The same intake as OTLP/HTTP (:meth:`AuditServer.ingest`), the same ingest token (gRPC metadata
``authorization: Bearer …``) and the same body limit (``grpc.max_receive_message_length``).
Refusals map to gRPC status codes: a wrong token is ``UNAUTHENTICATED``, a malformed request
``INVALID_ARGUMENT``, a full spool ``UNAVAILABLE`` (OTLP clients retry).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from otel_audit.errors import ConfigError
from otel_audit.export.otlp import MalformedRequestError
from otel_audit.service.spool import SpoolFullError

if TYPE_CHECKING:
    from otel_audit.service.server import AuditServer

__all__ = ["start_grpc"]


def start_grpc(app: AuditServer, host: str, port: int) -> tuple[Any, int]:
    """Listen for OTLP/gRPC on *host*:*port* (0 = any free port); return the server and its port.

    Raises:
        ConfigError: the address cannot be bound.
    """
    import grpc

    def handler(signal_name: str) -> Any:
        def export(body: bytes, context: Any) -> bytes:
            metadata = dict(context.invocation_metadata())
            if not app.authorized(metadata.get("authorization"), "ingest"):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
            try:
                response = app.ingest(signal_name, body, json_encoded=False)
            except MalformedRequestError as error:
                app.counters.add("requests.malformed")
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            except (SpoolFullError, OSError) as error:
                context.abort(grpc.StatusCode.UNAVAILABLE, f"server busy: {error}")
            return response.SerializeToString()  # type: ignore[no-any-return]

        return grpc.unary_unary_rpc_method_handler(export)

    limit = app.config.max_body_bytes
    server = grpc.server(
        ThreadPoolExecutor(max_workers=4, thread_name_prefix="otel-audit-serve-grpc"),
        options=[("grpc.max_receive_message_length", limit), ("grpc.so_reuseport", 0)],
    )
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.logs.v1.LogsService", {"Export": handler("logs")}
            ),
            grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.trace.v1.TraceService", {"Export": handler("spans")}
            ),
        )
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    if not bound:
        raise ConfigError(f"cannot listen for OTLP/gRPC on {address}")
    server.start()
    return server, bound
