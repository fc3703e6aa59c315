"""The single-box deployment end to end: SDK → real collector (redaction) → otel-audit serve → store.

Python emits audit records with personal data over OTLP to ``otelcol-audit`` running the shipped
``collector-config/single-box.yaml``; the collector redacts them (its ``auditredaction``
processor) and forwards with its ``otlp_http`` exporter to a real ``otel-audit serve`` (started
with ``--no-redact``, so only the collector's redaction stands between the data and the store);
the records are then read back through serve's query front door. The redaction corpus goes the
same way, and every record must be stored exactly once.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path[:0] = [str(Path(__file__).parent / "service"), str(Path(__file__).parent / "redact")]

from collector_corpus import items, send  # noqa: E402
from collector_helpers import CONFIG_DIR, RunningCollector, start_collector, stop_collector  # noqa: E402
from redaction_corpus import load_corpus  # noqa: E402
from serve_process import ServeProcess  # noqa: E402

import otel_audit  # noqa: E402
from otel_audit.answer import queries  # noqa: E402
from otel_audit.redact import collector  # noqa: E402
from otel_audit.store.connect import open_store  # noqa: E402

_EMAIL = "li.wei@example.com"
_CARD = "4111 1111 1111 1111"


@pytest.fixture
def single_box(tmp_path: Path) -> Iterator[tuple[ServeProcess, RunningCollector]]:
    """serve (not redacting) behind the collector running the single-box config."""
    server = ServeProcess(tmp_path / "store", args=["--no-redact"]).start()
    running = start_collector(
        tmp_path, CONFIG_DIR / "single-box.yaml", extra_env={collector.ENV_SERVE_ENDPOINT: server.url}
    )
    try:
        yield server, running
    finally:
        stop_collector(running)
        server.terminate()


def _stored(server: ServeProcess, expected: int) -> list[Any]:
    store = open_store(server.dsn)
    deadline = time.monotonic() + 60
    rows: list[Any] = []
    while time.monotonic() < deadline:
        rows = store.query(
            "SELECT Body, LogAttributes FROM otel_logs WHERE LogAttributes['gen_ai.request.model'] = 'box_model'"
        ).rows
        if len(rows) >= expected:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"{len(rows)} of {expected} records reached the store")


class TestSingleBox:
    def test_records_arrive_redacted_and_reports_work(self, single_box: tuple[ServeProcess, RunningCollector]) -> None:
        """Every record reaches serve's store with no planted e-mail or card, and the reports read them."""
        server, running = single_box
        otel_audit.configure(store=False, otlp_endpoint=running.http_endpoint, redact=False, schedule_delay_ms=50)
        for index in range(20):
            with otel_audit.audit_prediction(
                model="box_model", version="v1", user_id=f"user-{index % 4}",
                input={"note": f"refund to {_EMAIL}, card {_CARD}", "amount": index},
            ) as p:  # fmt: skip
                p.output = {"label": "approve" if index % 2 else "decline"}
        assert otel_audit.flush(60)
        rows = _stored(server, 20)
        assert len(rows) == 20
        text = json.dumps([[body, dict(attributes)] for body, attributes in rows])
        assert _EMAIL not in text and _CARD not in text and _CARD.replace(" ", "") not in text
        assert all("4111" not in body for body, _ in rows)  # not in text: a random hex id may hold "4111"
        assert all(json.loads(body)["input"]["note"] != "" for body, _ in rows)
        report = queries.model_usage(open_store(server.dsn), "box_model")
        assert report["total_predictions"] == 20
        assert report["versions_used"] == {"v1": 20}
        assert report["prediction_distribution"] == {"approve": 10, "decline": 10}
        assert report["unique_users"] == 4

    @pytest.mark.slow  # the redaction corpus through the collector into serve: about 10 s
    def test_every_record_stored_exactly_once(self, single_box: tuple[ServeProcess, RunningCollector]) -> None:
        """The redaction corpus through the collector into serve: one log row and one span row per record."""
        server, running = single_box
        records = items(load_corpus(), [])
        send(running.http_endpoint, records)
        store = open_store(server.dsn)
        wanted = {item.id: 1 for item in records}
        counts: dict[str, dict[str, int]] = {}
        deadline = time.monotonic() + 120
        settled_at = None
        while time.monotonic() < deadline:
            counts = {
                table: dict(
                    store.query(
                        f"SELECT {column}['audit.request.id'], toInt64(count()) FROM {table} "
                        f"WHERE {column}['gen_ai.request.model'] = 'corpus_model' GROUP BY 1"
                    ).rows
                )
                for table, column in (("otel_logs", "LogAttributes"), ("otel_traces", "SpanAttributes"))
            }
            complete = all(sum(found.values()) >= len(records) for found in counts.values())
            if complete and settled_at is None:
                settled_at = time.monotonic()  # then wait a little: a duplicate could still be on its way
            if settled_at is not None and time.monotonic() - settled_at > 3:
                break
            time.sleep(0.3)
        assert counts["otel_logs"] == wanted
        assert counts["otel_traces"] == wanted
