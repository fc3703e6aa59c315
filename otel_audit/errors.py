"""The error hierarchy raised at otel-audit's boundaries (config, store, CLI, service).

The prediction path never raises these into the caller: it logs and counts instead.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ConfigError",
    "FileRefusedError",
    "OtelAuditError",
    "QueryError",
    "SchemaError",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "UnknownModelError",
]


class OtelAuditError(Exception):
    """Base class of every error otel-audit raises on purpose."""


class ConfigError(OtelAuditError, ValueError):
    """An argument or environment variable has a value otel-audit cannot use."""


class StoreError(OtelAuditError):
    """The audit store could not be opened, written or read."""


class AccessDeniedError(StoreError):
    """A server refused the credentials (``otel-audit serve``'s query token, a ClickHouse user)."""


class StoreLockedError(StoreError):
    """An on-disk chDB store is already open in another process (chDB allows one)."""


class StoreNotFoundError(StoreError):
    """A DSN names no audit store: no such folder, no chDB store in it, no such database, or no
    otel-audit schema there; raised only where the store must already exist (read-only commands)."""


class SchemaError(StoreError):
    """The store's schema is missing, newer than this code, or was altered."""


class QueryError(OtelAuditError):
    """A report or query was refused (bad parameters, or not read-only)."""


_KNOWN_SHOWN = 10
"""Most known model names an :class:`UnknownModelError` message lists."""


class UnknownModelError(QueryError):
    """A report asked about a model the store holds no prediction of.

    Args:
        model: the name asked about.
        known: the models the store does hold, closest to *model* first.
        where: the store, for the message.
    """

    def __init__(self, model: str, known: list[str], where: str) -> None:
        self.model = model
        self.known = known
        shown = ", ".join(repr(name) for name in known[:_KNOWN_SHOWN])
        if len(known) > _KNOWN_SHOWN:
            shown += f" (and {len(known) - _KNOWN_SHOWN} more)"
        models = f"known models, closest first: {shown}" if known else "it holds no prediction of any model yet"
        super().__init__(f"the store {where} has no prediction of model {model!r}; {models}")


class FileRefusedError(OtelAuditError):
    """A file was refused: a symbolic link, FIFO or device where a regular file must be."""
