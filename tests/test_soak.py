"""A scaled-down soak (the full one is `python bench/soak.py`): faults lose and duplicate nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from soak import run_soak


class TestSoak:
    @pytest.mark.slow
    def test_outage_and_sigkill_lose_nothing(self, tmp_path: Path) -> None:
        """20k predictions via OTLP to serve, a store outage and a SIGKILL: stored == acknowledged, no duplicates."""
        figures = run_soak(20_000, 4000.0, 1.0, tmp_path, log=lambda message: None)
        assert figures["acknowledged"] == figures["emitted"] == 20_000
        assert figures["stored_rows"] == figures["stored_unique"] == figures["audit_predictions"] == 20_000
        assert figures["duplicates"] == 0 and figures["client_drops"] == 0
        assert figures["server_dropped"] == {"logs": 0, "spans": 0}
        assert figures["server_store_retries"] > 0, "the outage did not make a write fail"
        assert figures["replayed_records"] > 0, "the SIGKILL left nothing to replay: it tested nothing"
