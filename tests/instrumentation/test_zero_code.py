"""`opentelemetry-instrument python app.py` audits an unmodified app into OTEL_AUDIT_STORE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import tomllib

import otel_audit

_ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(__file__).parent / "scripts" / "zero_code_app.py"


def _shipped_entry_points() -> dict[str, str]:
    pyproject = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(pyproject["project"]["entry-points"]["opentelemetry_instrumentor"])


def _python_path(tmp_path: Path) -> str:
    """The worktree, plus pyproject's instrumentor entry points if the installed metadata predates them."""
    paths = [str(_ROOT)]
    shipped = _shipped_entry_points()
    installed = {e.name for e in entry_points(group="opentelemetry_instrumentor")}
    if not set(shipped) <= installed:
        dist_info = tmp_path / "site" / "otel_audit_worktree-0.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: otel-audit-worktree\nVersion: 0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in shipped.items())
        (dist_info / "entry_points.txt").write_text(f"[opentelemetry_instrumentor]\n{lines}")
        paths.append(str(tmp_path / "site"))
    return os.pathsep.join(paths)


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, cwd=_ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class TestZeroCode:
    def test_unmodified_app_reaches_the_store(self, tmp_path: Path) -> None:
        """An app run under opentelemetry-instrument leaves one batch record, findable by a row's hash."""
        dsn = f"chdb://{tmp_path / 'app-store'}"
        env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "PYTHONPATH"))}
        env.update(
            OTEL_AUDIT_STORE=dsn,
            OTEL_AUDIT_SCHEDULE_DELAY_MS="50",
            OTEL_TRACES_EXPORTER="none",
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="none",
            PYTHONPATH=_python_path(tmp_path),
        )
        launcher = str(Path(sys.executable).with_name("opentelemetry-instrument"))
        output = json.loads(_run([launcher, sys.executable, str(_SCRIPT)], env))

        features = np.arange(24, dtype=np.float64).reshape(8, 3) / 10
        report = json.loads(
            _run(
                [
                    sys.executable,
                    "-m",
                    "otel_audit.cli",
                    "report",
                    "input",
                    otel_audit.hash_input(features[2]),
                    "--store",
                    dsn,
                    "--format",
                    "json",
                ],
                env,
            )
        )
        [row] = report["batch_rows"]
        assert row["model"] == "LogisticRegression"
        assert row["version"].startswith("sha256:")
        assert (row["batch_size"], row["row"]) == (4, 2)
        assert row["row_output"] == str(output["predictions"][2])
        whole = json.loads(
            _run(
                [
                    sys.executable,
                    "-m",
                    "otel_audit.cli",
                    "report",
                    "input",
                    otel_audit.hash_input(features[:4]),
                    "--store",
                    dsn,
                    "--format",
                    "json",
                ],
                env,
            )
        )
        assert whole["found"] == 1
