"""otel-audit's own diagnostics: structlog over the standard library's ``logging``.

Usage::

    from otel_audit.diagnostics import configure_logging, get_logger

    configure_logging()                 # serve and the CLI: once, at start, in a process they own
    log = get_logger(__name__)
    log.info("serve started", http_port=4318, replayed=0)

``otel-audit``'s modules log through :func:`get_logger`: a structlog logger whose events become
standard ``logging`` records (the event as the message, its fields as the record's extras), so
an application that embeds otel-audit keeps full control through its own ``logging`` setup, and
pytest's ``caplog`` sees every field. :func:`configure_logging` is for the processes otel-audit
owns (``otel-audit serve``, the CLI): it puts one handler on the root logger whose structlog
formatter renders every record, otel-audit's and its libraries', the same way on stderr:

* ``console`` (default): ``2026-03-28T12:00:00.123Z [info     ] serve started  http_port=4318 …``,
  coloured when the stream is a terminal;
* ``json``: one object per line, ``{"event": "serve started", "http_port": 4318, "level": "info",
  "logger": "otel_audit.service.server", "timestamp": "…"}``.

Configuration: argument > :envvar:`OTEL_AUDIT_LOG_FORMAT` > ``console``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final, TextIO, cast

import structlog

from otel_audit import envvars
from otel_audit.errors import ConfigError

__all__ = ["LOG_FORMATS", "configure_logging", "get_logger"]

LOG_FORMATS: Final = ("console", "json")
"""The values of :envvar:`OTEL_AUDIT_LOG_FORMAT` and of :func:`configure_logging`'s *fmt*."""

_DEFAULT_FORMAT: Final = "console"
_HANDLER_NAME: Final = "otel-audit"

# Attributes every LogRecord has: an event field of one of these names would make logging refuse
# the record ("Attempt to overwrite 'name' in LogRecord"), so such a field gets a trailing "_";
# exc_info, stack_info and stacklevel are logging's own arguments and pass as they are.
_RECORD_KEYS: Final = (
    frozenset(logging.LogRecord("n", 0, "p", 0, "m", (), None).__dict__) | {"message", "asctime"}
) - frozenset(structlog.stdlib.LOG_KWARG_NAMES)


def _keep_record_keys(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Rename the fields that would clash with a LogRecord attribute (``name`` -> ``name_``)."""
    for key in [key for key in event_dict if key in _RECORD_KEYS]:
        event_dict[key + "_"] = event_dict.pop(key)
    return event_dict


_PROCESSORS: Final = (
    structlog.stdlib.filter_by_level,  # a disabled level costs one check, no processing
    _keep_record_keys,
    structlog.stdlib.render_to_log_kwargs,
)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named *name* whose events are standard ``logging`` records.

    It does not depend on the process's structlog configuration (an application's own stays
    untouched): ``log.info("event", key=value)`` becomes a record of logger *name* with the
    message ``event`` and the extra attribute ``key``.
    """
    return cast(
        structlog.stdlib.BoundLogger,
        structlog.wrap_logger(
            logging.getLogger(name), processors=list(_PROCESSORS), wrapper_class=structlog.stdlib.BoundLogger
        ),
    )


def _format(fmt: str | None) -> tuple[str, str | None]:
    """The format to use, and the unknown :envvar:`OTEL_AUDIT_LOG_FORMAT` value to warn about."""
    if fmt is not None:
        if fmt not in LOG_FORMATS:
            raise ConfigError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
        return fmt, None
    raw = envvars.OTEL_AUDIT_LOG_FORMAT.raw()
    if raw is None:
        return _DEFAULT_FORMAT, None
    if raw.lower() not in LOG_FORMATS:
        return _DEFAULT_FORMAT, raw
    return raw.lower(), None


def configure_logging(
    fmt: str | None = None, *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Render every log record of this process through structlog, on *stream*; return the handler.

    Call it once at the start of a process otel-audit owns (``otel-audit serve``, the CLI),
    never from a library call: it sets the root logger's level and replaces the handler a
    previous call installed (other handlers are left alone).

    Args:
        fmt: ``console`` (key=value lines) or ``json`` (one object per line); default
            :envvar:`OTEL_AUDIT_LOG_FORMAT`, else ``console``.
        level: the root logger's level.
        stream: where to write (default ``sys.stderr``).

    Returns:
        The handler added to the root logger (remove it to undo).

    Raises:
        ConfigError: *fmt* is not one of :data:`LOG_FORMATS`.
    """
    chosen, unknown = _format(fmt)
    out = stream if stream is not None else sys.stderr
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    renderer: Any
    if chosen == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
        tail: list[Any] = [structlog.processors.format_exc_info]
    else:
        # Plain tracebacks: a rich one shows local variables, and serve's hold tokens.
        renderer = structlog.dev.ConsoleRenderer(colors=_isatty(out), exception_formatter=structlog.dev.plain_traceback)
        tail = []
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # Every record arrives as a stdlib record: these turn it (with its extras) into an event dict.
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
        )
    )
    root.addHandler(handler)
    root.setLevel(level)
    if unknown is not None:
        get_logger(__name__).warning(
            "unknown log format; using the default",
            variable=envvars.OTEL_AUDIT_LOG_FORMAT,
            value=unknown,
            expected="|".join(LOG_FORMATS),
            default=_DEFAULT_FORMAT,
        )
    return handler


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
