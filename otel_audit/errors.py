"""The error hierarchy raised at otel-audit's boundaries (config, store, CLI, service).

The prediction path never raises these into the caller: it logs and counts instead.

Errors that come from the ClickHouse engine (chDB or a server) carry the engine's numeric error
code and its symbolic name (:attr:`StoreError.code`, :attr:`StoreError.name`), the way
clickhouse-connect's own ``DatabaseError`` does. Callers decide by them, through the
:class:`EngineCode` constants, never by searching the message text.
"""

from __future__ import annotations

import enum

__all__ = [
    "DATA_ERROR_CODES",
    "AccessDeniedError",
    "ConfigError",
    "EngineCode",
    "FileRefusedError",
    "OtelAuditError",
    "QueryError",
    "SchemaError",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "UnknownModelError",
]


class EngineCode(enum.IntEnum):
    """The ClickHouse error codes otel-audit decides by (``system.errors``; the name is the engine's)."""

    CANNOT_PARSE_TEXT = 6
    CANNOT_PARSE_ESCAPE_SEQUENCE = 25
    CANNOT_PARSE_QUOTED_STRING = 26
    CANNOT_PARSE_INPUT_ASSERTION_FAILED = 27
    BAD_ARGUMENTS = 36
    CANNOT_PARSE_DATE = 38
    CANNOT_PARSE_DATETIME = 41
    ILLEGAL_TYPE_OF_ARGUMENT = 43
    UNKNOWN_IDENTIFIER = 47
    NOT_IMPLEMENTED = 48
    LOGICAL_ERROR = 49
    TYPE_MISMATCH = 53
    UNKNOWN_TABLE = 60
    SYNTAX_ERROR = 62
    CANNOT_PARSE_NUMBER = 72
    CANNOT_OPEN_FILE = 76
    TOO_LARGE_STRING_SIZE = 131
    READONLY = 164
    TOO_DEEP_AST = 167
    TOO_BIG_AST = 168
    QUERY_IS_TOO_LARGE = 229
    TOO_DEEP_RECURSION = 306
    CANNOT_PARSE_UUID = 376
    CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING = 441
    CANNOT_PARSE_BOOL = 467
    CANNOT_PARSE_IPV4 = 675
    CANNOT_PARSE_IPV6 = 676


DATA_ERROR_CODES: frozenset[int] = frozenset(
    {
        EngineCode.TYPE_MISMATCH,
        EngineCode.ILLEGAL_TYPE_OF_ARGUMENT,
        EngineCode.TOO_LARGE_STRING_SIZE,
        EngineCode.CANNOT_PARSE_TEXT,
        EngineCode.CANNOT_PARSE_ESCAPE_SEQUENCE,
        EngineCode.CANNOT_PARSE_QUOTED_STRING,
        EngineCode.CANNOT_PARSE_INPUT_ASSERTION_FAILED,
        EngineCode.CANNOT_PARSE_DATE,
        EngineCode.CANNOT_PARSE_DATETIME,
        EngineCode.CANNOT_PARSE_NUMBER,
        EngineCode.CANNOT_PARSE_UUID,
        EngineCode.CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING,
        EngineCode.CANNOT_PARSE_BOOL,
        EngineCode.CANNOT_PARSE_IPV4,
        EngineCode.CANNOT_PARSE_IPV6,
    }
)
"""Codes of data the store will never accept, however often it is sent (wrong types, unparsable values)."""


class OtelAuditError(Exception):
    """Base class of every error otel-audit raises on purpose."""


class ConfigError(OtelAuditError, ValueError):
    """An argument or environment variable has a value otel-audit cannot use."""


class StoreError(OtelAuditError):
    """The audit store could not be opened, written or read.

    Args:
        message: what failed, for a person.
        code: the engine's numeric error code (compare with :class:`EngineCode`), if it gave one.
        name: the engine's symbolic name of that code (``TYPE_MISMATCH``), if known.
    """

    def __init__(self, message: str = "", *, code: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.name = name

    @property
    def data_error(self) -> bool:
        """True when the engine refused the data itself (:data:`DATA_ERROR_CODES`): resending cannot help."""
        return self.code in DATA_ERROR_CODES


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
    """A report or query was refused (bad parameters, or not read-only).

    Args:
        message: what was refused and why.
        code, name: the engine's error code and name when the engine failed the statement
            (as for :class:`StoreError`); ``None`` when otel-audit refused it.
    """

    def __init__(self, message: str = "", *, code: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.name = name


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
