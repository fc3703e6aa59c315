"""Where a running ``otel-audit serve`` tells the store owner's other processes how to reach it.

While it runs, ``otel-audit.serve.json`` in an on-disk store's directory names its pid, URL,
gRPC port, database, whether ingest needs a token, and the file holding the query token; the
CLI reads it to send its queries through the server (:mod:`otel_audit.store.front_door`). A
query token the server made itself is written beside it (``otel-audit.query-token``, else in the
spool directory for a store with no directory). Both files are private to the store's owner
(``0600``) and are removed when the server stops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from otel_audit._files import write_private_file
from otel_audit.store.base import Store
from otel_audit.store.front_door import QUERY_TOKEN_FILE, SERVE_FILE

__all__ = ["SERVE_FILE", "query_token_path", "serve_file_path", "write_serve_file"]


def serve_file_path(store: Store) -> Path | None:
    """The serve file of an on-disk chDB store; ``None`` for any other store."""
    if store.kind == "chdb" and store.location != ":memory:":
        return Path(store.location) / SERVE_FILE
    return None


def query_token_path(store: Store, spool_directory: Path) -> Path:
    """Where a query token made by the server is kept: the store's directory, else the spool's."""
    if store.kind == "chdb" and store.location != ":memory:":
        return Path(store.location) / QUERY_TOKEN_FILE
    return spool_directory / QUERY_TOKEN_FILE


def write_serve_file(
    path: Path,
    *,
    url: str,
    grpc_port: int | None,
    database: str,
    ingest_token_required: bool,
    query_token_file: Path | None,
) -> None:
    """Write the serve file at *path* for this process, replacing any older one at once."""
    info = {
        "pid": os.getpid(),
        "url": url,
        "grpc_port": grpc_port,
        "database": database,
        "ingest_token_required": ingest_token_required,
        "query_token_file": None if query_token_file is None else str(query_token_file.resolve()),
    }
    temporary = path.with_suffix(".tmp")
    write_private_file(temporary, json.dumps(info))
    os.replace(temporary, path)
