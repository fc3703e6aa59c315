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


class SchemaError(StoreError):
    """The store's schema is missing, newer than this code, or was altered."""


class QueryError(OtelAuditError):
    """A report or query was refused (bad parameters, or not read-only)."""


class FileRefusedError(OtelAuditError):
    """A file was refused: a symbolic link, FIFO or device where a regular file must be."""
