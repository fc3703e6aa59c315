"""One minute of sustained load through the real collector: memory stays bounded, nothing is lost.

``otelcol-audit`` runs the shipped ``collector-config/file-sink.yaml`` (``memory_limiter``, then
``auditredaction``, then the file exporter) on loopback. One client thread posts OTLP/HTTP
protobuf requests of redaction-corpus records at a fixed pace (:data:`RATE` records/s for
:data:`SECONDS` s, so the load is bounded), each request tagged with a unique batch id in its
resource. Meanwhile the collector's resident memory is sampled from ``/proc``. Asserted: every
request was accepted (HTTP 200), every record of every batch is in the file sink exactly once,
the collector's own metrics count no refused, failed or dropped record, its log reports none,
and its memory stays under :data:`MAX_RSS_MIB` without growing in the second half of the run.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import CONFIG_DIR, free_port, start_collector, stop_collector
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from redaction_corpus import load_corpus, to_python

from otel_audit import semconv
from otel_audit.redact import collector

SECONDS = 60
RATE = 1_000
"""Records per second the client sends (bounded: the test is about staying up, not top speed)."""
PER_REQUEST = 100
MAX_RSS_MIB = 400
"""Resident memory the collector must stay under (it idles at ~60 MiB)."""
BATCH_KEY = "load.batch"
PLACEHOLDER = "batch-XXXXXXXX"
"""Replaced in the encoded request by ``batch-%08d`` (same length: the protobuf stays valid)."""


def any_value(value: Any) -> AnyValue:  # noqa: PLR0911 - one branch per AnyValue kind
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(item) for item in value]))
    return AnyValue()


def key_values(values: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=str(key), value=any_value(item)) for key, item in values.items()]


def templates(corpus: list[dict[str, Any]]) -> list[bytes]:
    """The corpus as protobuf requests of :data:`PER_REQUEST` records, the batch id a placeholder."""
    records = [
        LogRecord(
            time_unix_nano=1_700_000_000_000_000_000,
            event_name=semconv.EVENT_PREDICTION,
            body=any_value({semconv.BODY_INPUT: to_python(r["input"]), semconv.BODY_OUTPUT: to_python(r["output"])}),
            attributes=key_values({**to_python(r["attributes"]), semconv.AUDIT_REQUEST_ID: r["id"]}),
        )
        for r in corpus
    ]
    encoded = []
    for start in range(0, len(records) - PER_REQUEST + 1, PER_REQUEST):
        request = ExportLogsServiceRequest(
            resource_logs=[
                ResourceLogs(
                    resource=Resource(attributes=key_values({BATCH_KEY: PLACEHOLDER})),
                    scope_logs=[ScopeLogs(log_records=records[start : start + PER_REQUEST])],
                )
            ]
        )
        data = request.SerializeToString()
        assert data.count(PLACEHOLDER.encode()) == 1
        encoded.append(data)
    return encoded


class Sampler(threading.Thread):
    """Samples a process's resident memory (MiB) every half second until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.done.wait(0.5):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
            except OSError:
                return
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                self.samples.append((time.monotonic() - start, int(match.group(1)) / 1024))


def metrics(port: int) -> dict[str, float]:
    """The collector's own metrics (Prometheus text) by name and labels, ``_total`` suffixes removed."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            name, brace, labels = series.partition("{")
            values[name.removesuffix("_total") + brace + labels] = float(value)
    return values


def total(seen: Mapping[str, float], name: str) -> float:
    """*name* summed over its label sets."""
    return sum(value for series, value in seen.items() if series.partition("{")[0] == name)


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Run the load; yield what the client, the sampler, the metrics, the log and the sink saw."""
    metrics_port = free_port()
    bodies = templates(load_corpus())
    running = start_collector(tmp_path, CONFIG_DIR / "file-sink.yaml", {collector.ENV_METRICS_PORT: str(metrics_port)})
    sampler = Sampler(running.process.pid)
    sampler.start()
    statuses: Counter[int] = Counter()
    sent = 0
    try:
        host, port = running.http_endpoint.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        interval = PER_REQUEST / RATE
        start = time.monotonic()
        requests = SECONDS * RATE // PER_REQUEST
        for number in range(requests):
            pause = start + number * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            body = bodies[number % len(bodies)].replace(PLACEHOLDER.encode(), f"batch-{number:08d}".encode())
            connection.request("POST", "/v1/logs", body, {"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
            sent += PER_REQUEST
        elapsed = time.monotonic() - start
        connection.close()
        deadline = time.monotonic() + 60
        seen: dict[str, float] = {}
        while time.monotonic() < deadline:
            seen = metrics(metrics_port)
            if total(seen, "otelcol_exporter_sent_log_records") >= sent:
                break
            time.sleep(0.5)
        time.sleep(1)  # one more sample after the last write
        sampler.done.set()
        sampler.join()
        seen = metrics(metrics_port)
    finally:
        sampler.done.set()
        stop_collector(running)
    batches: Counter[str] = Counter()
    for line in running.output.read_bytes().splitlines():
        for resource_logs in json.loads(line).get("resourceLogs", []):
            resource = {a["key"]: a["value"].get("stringValue") for a in resource_logs["resource"]["attributes"]}
            batches[resource[BATCH_KEY]] += sum(len(s.get("logRecords", [])) for s in resource_logs["scopeLogs"])
    yield {
        "sent": sent,
        "requests": requests,
        "elapsed": elapsed,
        "statuses": statuses,
        "rss": sampler.samples,
        "metrics": seen,
        "log": running.log.read_text(errors="replace"),
        "batches": batches,
    }


@pytest.mark.slow
def test_one_minute_of_sustained_load(loaded: dict[str, Any]) -> None:
    """Bounded memory, every record once in the sink, nothing refused, failed or dropped."""
    rss = [mib for _, mib in loaded["rss"]]
    half = len(rss) // 2
    print(
        f"\nload: {loaded['sent']} records in {loaded['elapsed']:.1f} s; collector RSS MiB "
        f"min {min(rss):.0f} max {max(rss):.0f}, first-half max {max(rss[:half]):.0f}, second-half max "
        f"{max(rss[half:]):.0f}; metrics "
        + ", ".join(f"{k}={v:g}" for k, v in sorted(loaded["metrics"].items()) if re.search("log_records|items", k))
    )
    assert loaded["statuses"] == {200: loaded["requests"]}
    assert loaded["elapsed"] < SECONDS + 5, "the collector did not keep the pace"
    assert loaded["batches"] == {f"batch-{n:08d}": PER_REQUEST for n in range(loaded["requests"])}
    seen = loaded["metrics"]
    assert total(seen, "otelcol_receiver_accepted_log_records") == loaded["sent"]
    assert total(seen, "otelcol_exporter_sent_log_records") == loaded["sent"]
    for processor in ("memory_limiter", "auditredaction"):
        labels = f'{{otel_signal="logs",processor="{processor}"}}'
        incoming, outgoing = (
            seen["otelcol_processor_incoming_items" + labels],
            seen["otelcol_processor_outgoing_items" + labels],
        )
        assert incoming == outgoing == loaded["sent"], processor
    lost = {k: v for k, v in seen.items() if re.search("refused|failed|dropped", k) and v}
    assert lost == {}
    assert not re.search(r"(?i)refus|dropp|\terror\t", loaded["log"]), loaded["log"][-3000:]
    assert max(rss) < MAX_RSS_MIB
    assert max(rss[half:]) < max(rss[:half]) * 1.25 + 16, "resident memory kept growing"
