"""Shared constants and helpers of the redaction tests (imported by conftest and the tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RULES_PATH = ROOT / "collector-config" / "redaction.yaml"
DATA = ROOT / "tests" / "data"
SECRET = b"test-secret-of-at-least-16-bytes"


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """Every line of ``tests/data/<name>`` as a dict."""
    with (DATA / name).open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON-like *value*, map keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)
