"""otel-audit's own diagnostics through structlog: key=value on a terminal, JSON on request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from otel_audit import envvars
from otel_audit.diagnostics import configure_logging, get_logger
from otel_audit.errors import ConfigError


@pytest.fixture
def restore_root() -> Iterator[None]:
    """Put the root logger's handlers and level back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


@pytest.mark.usefixtures("restore_root")
class TestConfigureLogging:
    def test_console_is_key_value(self) -> None:
        """By default an event is one line: time, level, event, then its fields as key=value."""
        out = io.StringIO()
        configure_logging(stream=out)
        get_logger("otel_audit.test").info("serve started", http_port=4318, store="chdb:///x")
        (line,) = _lines(out)
        assert "[info" in line and "serve started" in line and "[otel_audit.test]" in line
        assert "http_port=4318" in line and "store=chdb:///x" in line

    def test_json_by_argument_and_by_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """json gives one object per line with the event's fields, chosen by argument or OTEL_AUDIT_LOG_FORMAT."""
        for how in ("argument", "environment"):
            out = io.StringIO()
            if how == "environment":
                monkeypatch.setenv(envvars.OTEL_AUDIT_LOG_FORMAT, "JSON")
                configure_logging(stream=out)
            else:
                configure_logging("json", stream=out)
            get_logger("otel_audit.test").warning("store write failed; retrying", retry_in_s=0.05, name="x")
            (line,) = _lines(out)
            event = json.loads(line)
            assert event["event"] == "store write failed; retrying" and event["level"] == "warning"
            assert event["retry_in_s"] == 0.05 and event["logger"] == "otel_audit.test" and event["timestamp"]
            assert event["name_"] == "x"  # a field named like a LogRecord attribute is kept, renamed

    def test_other_libraries_and_exceptions_render_too(self) -> None:
        """Plain logging records (gRPC, the SDK, older otel-audit calls) and tracebacks come out the same way."""
        out = io.StringIO()
        configure_logging("json", stream=out)
        logging.getLogger("grpc").warning("channel %s closed", "c1")
        try:
            raise ValueError("bad batch")
        except ValueError:
            get_logger("otel_audit.test").exception("unexpected error storing a spooled batch", batch=3)
        foreign, failure = (json.loads(line) for line in _lines(out))
        assert foreign == {**foreign, "event": "channel c1 closed", "logger": "grpc", "level": "warning"}
        assert failure["batch"] == 3 and "ValueError: bad batch" in failure["exception"]

    def test_called_again_replaces_its_handler(self) -> None:
        """A second call replaces the first one's handler: no line is written twice."""
        first, second = io.StringIO(), io.StringIO()
        configure_logging(stream=first)
        configure_logging(stream=second)
        get_logger("otel_audit.test").info("once")
        assert first.getvalue() == "" and len(_lines(second)) == 1

    def test_level_filters_before_any_work(self) -> None:
        """Events below the level are dropped (and a bad format argument is a ConfigError)."""
        out = io.StringIO()
        configure_logging(stream=out, level=logging.WARNING)
        get_logger("otel_audit.test").info("hidden")
        assert out.getvalue() == ""
        with pytest.raises(ConfigError, match="console, json"):
            configure_logging("xml", stream=out)

    def test_bad_environment_value_warns_and_uses_console(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An unknown OTEL_AUDIT_LOG_FORMAT is named in a warning and console is used."""
        out = io.StringIO()
        configure_logging(stream=out)  # so the warning has somewhere to go
        monkeypatch.setenv(envvars.OTEL_AUDIT_LOG_FORMAT, "yaml")
        configure_logging(stream=out)
        assert "unknown log format" in out.getvalue() and "value=yaml" in out.getvalue()


class TestGetLogger:
    def test_fields_are_record_extras(self, caplog: pytest.LogCaptureFixture) -> None:
        """Without configure_logging an event is a plain logging record whose extras are its fields."""
        with caplog.at_level(logging.INFO, logger="otel_audit.test"):
            get_logger("otel_audit.test").info("serve stopped", drained=True, logs_stored=3)
        (record,) = caplog.records
        assert record.getMessage() == "serve stopped" and record.name == "otel_audit.test"
        assert (record.drained, record.logs_stored) == (True, 3)  # type: ignore[attr-defined]
