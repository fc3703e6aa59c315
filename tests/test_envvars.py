"""otel_audit.envvars: each variable declared once, resolved one way, documented from the declaration."""

from __future__ import annotations

import ast
import importlib.util
import logging
from pathlib import Path

import pytest

import otel_audit
from otel_audit import envvars
from otel_audit.errors import ConfigError
from otel_audit.export.batching import QueuePolicy
from otel_audit.store.sandbox import QueryLimits
from otel_audit.store.schema import DEFAULT_LANDING_DAYS, DEFAULT_TTL_DAYS

_REPO = Path(otel_audit.__file__).resolve().parent.parent
_PACKAGE = _REPO / "otel_audit"


def _docs_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("envvars_table", _REPO / "docs" / "envvars_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestSetting:
    def test_argument_beats_environment_beats_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An argument wins; else the variable; else the declared default."""
        setting = envvars.OTEL_AUDIT_QUEUE_SIZE
        assert setting.resolve() == 16384
        monkeypatch.setenv(setting, "100")
        assert setting.resolve() == 100
        assert setting.resolve(7) == 7

    def test_a_fallback_variable_is_read_before_the_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """OTEL_AUDIT_EXPORT_BATCH_SIZE falls back to the SDK's OTEL_BLRP_MAX_EXPORT_BATCH_SIZE, then 8192."""
        setting = envvars.OTEL_AUDIT_EXPORT_BATCH_SIZE
        assert setting.resolve() == 8192
        monkeypatch.setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "300")
        assert setting.resolve() == 300
        monkeypatch.setenv("OTEL_AUDIT_EXPORT_BATCH_SIZE", "200")
        assert setting.resolve() == 200

    def test_a_bad_value_is_logged_and_replaced_by_the_default(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A malformed or out-of-range variable is named in a warning and the default is used."""
        monkeypatch.setenv("OTEL_AUDIT_QUEUE_SIZE", "lots")
        monkeypatch.setenv("OTEL_AUDIT_TTL_DAYS", "-3")
        monkeypatch.setenv("OTEL_AUDIT_SPANS", "maybe")
        with caplog.at_level(logging.WARNING, logger="otel_audit.envvars"):
            assert envvars.OTEL_AUDIT_QUEUE_SIZE.resolve() == 16384
            assert envvars.OTEL_AUDIT_TTL_DAYS.resolve() == 365
            assert envvars.OTEL_AUDIT_SPANS.resolve() is True
        text = caplog.text
        assert "OTEL_AUDIT_QUEUE_SIZE='lots' is not an integer" in text
        assert "OTEL_AUDIT_TTL_DAYS='-3' must be at least 0" in text
        assert "OTEL_AUDIT_SPANS='maybe' is not a boolean" in text

    def test_a_secret_is_never_echoed(self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
        """A secret's bad value is not written to the log."""
        weird = envvars.Setting("OTEL_AUDIT_TEST_SECRET", parse=int, default=0, doc="d", kind="secret", secret=True)
        monkeypatch.setenv(weird, "hunter2")
        with caplog.at_level(logging.WARNING, logger="otel_audit.envvars"):
            assert weird.resolve() == 0
        assert "hunter2" not in caplog.text and "OTEL_AUDIT_TEST_SECRET is not a valid value" in caplog.text

    def test_a_bad_argument_raises_under_its_own_name(self) -> None:
        """An out-of-range argument is a ConfigError naming the argument."""
        with pytest.raises(ConfigError, match="queue_size must be at least 1, not 0"):
            envvars.OTEL_AUDIT_QUEUE_SIZE.resolve(0)

    def test_a_setting_is_its_name(self) -> None:
        """A Setting is the variable's name wherever a name goes."""
        assert envvars.OTEL_AUDIT_STORE == "OTEL_AUDIT_STORE" and f"{envvars.OTEL_AUDIT_STORE}" == "OTEL_AUDIT_STORE"
        assert envvars.OTEL_EXPORTER_OTLP_ENDPOINT.name == "OTEL_EXPORTER_OTLP_ENDPOINT"


class TestQueuePolicy:
    def test_export_batch_size_zero_is_an_error(self) -> None:
        """export_batch_size=0 is refused with a clear message, not taken as "the default"."""
        with pytest.raises(ConfigError, match="export_batch_size must be at least 1, not 0"):
            QueuePolicy.resolve(export_batch_size=0)
        with pytest.raises(ConfigError, match="export_batch_size must be at least 1, not 0"):
            otel_audit.configure(store=False, log_exporters=[], export_batch_size=0)

    def test_the_policy_is_frozen_and_resolved_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The policy is a frozen value: arguments, else OTEL_AUDIT_*, else OTEL_BLRP_*, else defaults."""
        monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "250")
        monkeypatch.setenv("OTEL_AUDIT_BLOCK_TIMEOUT_MS", "40")
        policy = QueuePolicy.resolve(queue_size=10)
        assert policy == QueuePolicy(
            max_queue_size=10, max_export_batch_size=8192, schedule_delay_millis=250, block_timeout_millis=40
        )
        assert QueuePolicy.resolve(block_timeout_ms=-1).block_timeout_millis is None
        with pytest.raises(AttributeError):
            policy.max_queue_size = 1  # type: ignore[misc]


class TestDeclarations:
    def test_defaults_agree_with_the_modules_that_apply_them(self) -> None:
        """The declared defaults are the ones the schema and the query sandbox use."""
        assert envvars.OTEL_AUDIT_TTL_DAYS.default == DEFAULT_TTL_DAYS
        assert envvars.OTEL_AUDIT_LANDING_DAYS.default == DEFAULT_LANDING_DAYS
        limits = QueryLimits()
        assert envvars.OTEL_AUDIT_QUERY_TIMEOUT_S.default == limits.max_execution_time_s
        assert envvars.OTEL_AUDIT_QUERY_MAX_ROWS.default == limits.max_result_rows
        assert envvars.OTEL_AUDIT_QUERY_MAX_MEMORY.default == limits.max_memory_bytes

    def test_only_envvars_reads_the_environment(self) -> None:
        """No other module of the package reads os.environ or calls os.getenv."""
        readers = []
        for path in sorted(_PACKAGE.rglob("*.py")):
            if path == _PACKAGE / "envvars.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("environ", "getenv", "environb")
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "os"
                ):
                    readers.append(f"{path.relative_to(_REPO)}:{node.lineno}")
        assert not readers, readers

    def test_every_own_variable_is_a_setting(self) -> None:
        """Every OTEL_AUDIT_* Setting is listed in SETTINGS, once."""
        declared = [value for name, value in vars(envvars).items() if isinstance(value, envvars.Setting)]
        assert sorted(map(str, declared)) == sorted(set(map(str, envvars.SETTINGS)))


class TestDocs:
    def test_configuration_md_has_the_generated_table(self) -> None:
        """docs/configuration.md's table equals markdown_table() (run `python docs/envvars_table.py --write`)."""
        path = _REPO / "docs" / "configuration.md"
        text = path.read_text()
        assert _docs_script().with_table(text) == text, "run: python docs/envvars_table.py --write"
        assert envvars.markdown_table() in text

    def test_every_setting_is_in_the_table(self) -> None:
        """Each declared variable has its row."""
        table = envvars.markdown_table()
        for setting in envvars.SETTINGS:
            assert f"| `{setting.name}` |" in table
