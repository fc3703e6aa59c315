"""Commands of otel-audit's Go module, built from this checkout for the tests that run them.

Go is required: CI installs it, and a machine without Go fails the tests that need it rather
than skipping them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "collector" / "processor" / "auditredactionprocessor"


def _go() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if found is None:
        pytest.fail("Go is needed to build otel-audit's Go commands (install Go 1.26)")
    return found


def _source_key() -> str:
    digest = hashlib.sha256()
    for path in sorted(MODULE.rglob("*")):
        if path.is_file() and path.suffix in {".go", ".mod", ".sum"}:
            stat = path.stat()
            digest.update(f"{path.relative_to(MODULE)}:{stat.st_mtime_ns}:{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]


def build_command(name: str) -> Path:
    """``cmd/<name>`` of the module, built once per source state under ``.build/go-commands/``."""
    target = ROOT / ".build" / "go-commands" / _source_key() / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false"}
        result = subprocess.run(
            [_go(), "build", "-p=2", "-o", str(target), f"./cmd/{name}"],
            cwd=MODULE,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"go build ./cmd/{name} failed:\n{result.stderr}")
    return target
