"""serve's ingest helper (``otel-audit-ingest``, Go) maps logs batches to the rows Python maps.

Python's :func:`~otel_audit.service.mapping.map_payloads` is the reference: the same spooled
requests, mapped by the helper and in Python, must give equal Arrow tables (types, values, map
entries in order, content ids included) for the project's corpora, for generated requests with
every kind of value, and through a real ``serve`` against one without the helper. A batch the
helper refuses, or a helper that died, must give exactly Python's outcome.

Go is required: CI installs it, and a machine without Go fails here rather than skipping.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from go_module import build_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from serve_process import ServeProcess

from otel_audit import semconv
from otel_audit.redact import Redactor, load_rules
from otel_audit.service.mapping import map_payloads
from otel_audit.service.native import IngestHelper, find_helper
from otel_audit.service.redaction import _set_any, redact_logs_request
from otel_audit.service.spool import KIND_LOGS
from otel_audit.stats import pipeline_stats
from otel_audit.store.connect import open_store

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def helper_binary() -> Path:
    """``otel-audit-ingest`` built from this checkout."""
    return build_command("otel-audit-ingest")


@pytest.fixture(scope="module")
def helper(helper_binary: Path) -> Iterator[IngestHelper]:
    running = IngestHelper(helper_binary)
    yield running
    running.close()


def _assert_same(helper: IngestHelper, payloads: list[bytes]) -> pa.Table:
    """The helper's table for *payloads* equals Python's; return it."""
    expected, corrupt = map_payloads(KIND_LOGS, payloads)
    pending = helper.submit_logs(payloads)
    got, got_corrupt = pending.result()
    assert not pending.in_python, "the helper refused a batch Python maps"
    assert got_corrupt == corrupt == 0
    assert got.table.schema.equals(expected.table.schema)
    if not got.table.equals(expected.table):
        for name in expected.table.column_names:
            want, have = expected.table.column(name).to_pylist(), got.table.column(name).to_pylist()
            for index, (a, b) in enumerate(zip(want, have, strict=True)):
                assert a == b or _both_nan(a, b), f"{name}[{index}]: Python {a!r}, helper {b!r}"
        pytest.fail("tables differ")
    return got.table


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _any(value: Any) -> AnyValue:
    message = AnyValue()
    _set_any(message, value)
    return message


def _corpus_requests(name: str, redactor: Redactor | None, batch: int = 50) -> list[bytes]:
    """The records of a corpus file as spooled requests: redacted at the door when *redactor* is set."""
    lines = [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]
    now = time.time_ns() // 10**9 * 10**9  # within the store's retention
    payloads = []
    for start in range(0, len(lines), batch):
        records = []
        for index, item in enumerate(lines[start : start + batch]):
            body = item["body"] if "body" in item else {"input": item.get("input"), "output": item.get("output")}
            records.append(
                LogRecord(
                    time_unix_nano=now + index,
                    body=_any(body),
                    attributes=[KeyValue(key=k, value=_any(v)) for k, v in item.get("attributes", {}).items()],
                    event_name=semconv.EVENT_PREDICTION,
                )
            )
        request = ExportLogsServiceRequest(
            resource_logs=[
                ResourceLogs(
                    resource=Resource(attributes=[KeyValue(key="service.name", value=_any("corpus"))]),
                    scope_logs=[
                        ScopeLogs(scope=InstrumentationScope(name="otel_audit", version="1"), log_records=records)
                    ],
                )
            ]
        )
        if redactor is not None:
            redact_logs_request(redactor, request)
        payloads.append(request.SerializeToString())
    return payloads


@pytest.mark.parametrize("corpus", ["pii_corpus.jsonl", "pii_near_misses.jsonl", "redaction_corpus.jsonl"])
@pytest.mark.parametrize("redacted", [True, False], ids=["redacted", "raw"])
def test_corpora_map_as_in_python(helper: IngestHelper, corpus: str, redacted: bool) -> None:
    redactor = Redactor(load_rules(ROOT / "collector-config" / "redaction.yaml")) if redacted else None
    payloads = _corpus_requests(corpus, redactor)
    table = _assert_same(helper, payloads)
    assert table.num_rows > 50
    uids = [dict(pairs).get(semconv.LOG_RECORD_UID) for pairs in table.column("LogAttributes").to_pylist()]
    assert all(uids), "every prediction without an id gets a content id"


# --- generated requests ---------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_keys = st.one_of(
    st.sampled_from(["a", "b", "service.name", semconv.LOG_RECORD_UID, "é", "\u2028", "ключ", "😀", ""]), _text
)
_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e16, 1e-5, 1e-4, 0.1, 5e-324, 1.7976931348623157e308, 123456789.0, 1e22]),
)
_scalars = st.one_of(
    _text,
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    _floats,
    st.binary(max_size=8),
    st.none(),
)


def _array(items: list[AnyValue]) -> AnyValue:
    value = AnyValue()
    value.array_value.SetInParent()
    value.array_value.values.extend(items)
    return value


def _kvlist(items: list[tuple[str, AnyValue]]) -> AnyValue:
    value = AnyValue()
    value.kvlist_value.SetInParent()
    value.kvlist_value.values.extend(KeyValue(key=k, value=v) for k, v in items)
    return value


_values = st.recursive(
    _scalars.map(_any),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(_array),
        st.lists(st.tuples(_keys, children), max_size=4).map(_kvlist),  # duplicate keys too
    ),
    max_leaves=10,
)
_attributes = st.lists(st.builds(KeyValue, key=_keys, value=_values), max_size=5)
_stamps = st.one_of(st.just(0), st.integers(0, 2**63 - 1), st.just(1_700_000_000_000_000_000))
_events = st.sampled_from(["", semconv.EVENT_PREDICTION, *semconv.AUDIT_EVENTS, "app.other"])


@st.composite
def _records(draw: st.DrawFn) -> LogRecord:
    record = LogRecord(
        time_unix_nano=draw(_stamps),
        observed_time_unix_nano=draw(_stamps),
        severity_number=draw(st.integers(0, 255)),
        severity_text=draw(_text),
        attributes=draw(_attributes),
        flags=draw(st.integers(0, 2**32 - 1)),
        trace_id=draw(st.sampled_from([b"", bytes(16), bytes(range(16))])),
        span_id=draw(st.sampled_from([b"", bytes(8), bytes(range(8, 16))])),
        event_name=draw(_events),
    )
    body = draw(st.one_of(st.none(), st.just(AnyValue()), _values))
    if body is not None:
        record.body.CopyFrom(body)
    return record


@st.composite
def _requests(draw: st.DrawFn) -> bytes:
    resources = []
    for _ in range(draw(st.integers(1, 2))):
        scopes = []
        for _ in range(draw(st.integers(1, 2))):
            records = draw(st.lists(_records(), min_size=1, max_size=4))
            records += [records[0]] * draw(st.integers(0, 2))  # identical records: numbered repeats
            scope = ScopeLogs(log_records=records, schema_url=draw(_text))
            if draw(st.booleans()):
                scope.scope.CopyFrom(
                    InstrumentationScope(name=draw(_text), version=draw(_text), attributes=draw(_attributes))
                )
            scopes.append(scope)
        resources.append(
            ResourceLogs(resource=Resource(attributes=draw(_attributes)), scope_logs=scopes, schema_url=draw(_text))
        )
    return ExportLogsServiceRequest(resource_logs=resources).SerializeToString()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_requests(), min_size=1, max_size=3))
def test_generated_requests_map_as_in_python(helper: IngestHelper, payloads: list[bytes]) -> None:
    _assert_same(helper, payloads)


# --- what the helper refuses, and a helper that dies -----------------------------------------------


def test_a_batch_with_an_unreadable_payload_is_pythons(helper: IngestHelper) -> None:
    good = _corpus_requests("pii_corpus.jsonl", None)[:2]
    payloads = [good[0], b"\x0a\xff\xff\xff\xff\x0f", good[1]]
    expected, corrupt = map_payloads(KIND_LOGS, payloads)
    pending = helper.submit_logs(payloads)
    got, got_corrupt = pending.result()
    assert pending.in_python
    assert (got_corrupt, corrupt) == (1, 1)
    assert got.table.equals(expected.table)
    _assert_same(helper, good)  # and the helper still answers the next batch


def test_a_batch_python_rejects_raises_the_same(helper: IngestHelper) -> None:
    """A severity past 255 fails Python's uint8 column: the helper path raises the same error."""
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[LogRecord(severity_number=300)])])]  # type: ignore[arg-type]
    ).SerializeToString()
    with pytest.raises(Exception) as python_error:
        map_payloads(KIND_LOGS, [request])
    with pytest.raises(type(python_error.value)):
        helper.submit_logs([request]).result()


def test_a_dead_helper_leaves_python_mapping_every_batch(helper_binary: Path) -> None:
    dying = IngestHelper(helper_binary)
    payloads = _corpus_requests("pii_near_misses.jsonl", None)
    sent = dying.submit_logs(payloads)  # in flight when the helper dies
    before = pipeline_stats.snapshot()["counters"].get("serve.ingest_helper_failures", 0)
    dying._process.kill()  # type: ignore[union-attr] # the fault under test
    expected, _ = map_payloads(KIND_LOGS, payloads)
    assert sent.result()[0].table.equals(expected.table)
    assert not dying.alive
    later = dying.submit_logs(payloads)
    assert later.in_python and later.result()[0].table.equals(expected.table)
    assert pipeline_stats.snapshot()["counters"]["serve.ingest_helper_failures"] == before + 1
    dying.close()


def test_find_helper(tmp_path: Path, helper_binary: Path) -> None:
    assert find_helper("off") is None
    assert find_helper(str(helper_binary)) == helper_binary
    with pytest.raises(Exception, match="not an executable file"):
        find_helper(str(tmp_path / "missing"))


# --- through a real serve ---------------------------------------------------------------------------


def _stored(server: ServeProcess) -> list[tuple[Any, ...]]:
    server.wait_drained()
    store = open_store(server.dsn)
    try:
        sql = "SELECT * EXCEPT (ResourceAttributes, ScopeAttributes, LogAttributes), " \
              "toString(ResourceAttributes), toString(ScopeAttributes), toString(LogAttributes) " \
              "FROM otel_logs ORDER BY Timestamp, Body, toString(LogAttributes)"  # fmt: skip
        return [tuple(row) for row in store.query(sql).rows]
    finally:
        store.close()


def test_serve_with_the_helper_stores_the_rows_serve_without_it_does(serve_factory: Any, helper_binary: Path) -> None:
    """The same requests (PII redacted at the door, identical records, plain SDK encodings) into two servers."""
    payloads = _corpus_requests("pii_corpus.jsonl", None)[:4] + _corpus_requests("redaction_corpus.jsonl", None)[:2]
    with_helper = serve_factory("helper", args=["--ingest-helper", str(helper_binary)])
    without = serve_factory("python", args=["--ingest-helper", "off"])
    sent = [*payloads, payloads[0]]  # the first request again, as a retry sends it
    for server in (with_helper, without):
        for payload in sent:
            status, _ = server.post("/v1/logs", payload, "application/x-protobuf")
            assert status == 200
    helper_rows, python_rows = _stored(with_helper), _stored(without)
    records = [ExportLogsServiceRequest.FromString(p).resource_logs[0].scope_logs[0].log_records for p in sent]
    assert len(helper_rows) == sum(map(len, records)) == 350
    assert helper_rows == python_rows
    assert "mapping logs batches with the ingest helper" in with_helper.log.read_text()
    assert "ingest helper" not in without.log.read_text()


def test_serve_refuses_a_helper_path_that_is_no_program(tmp_path: Path) -> None:
    """A wrong --ingest-helper is a clear error before anything listens or opens the store."""
    not_a_program = tmp_path / "otel-audit-ingest"
    not_a_program.write_text("#!/bin/sh\n")  # not executable
    command = [sys.executable, "-m", "otel_audit.cli", "serve", "--store", f"chdb://{tmp_path / 'store'}"]
    result = subprocess.run(
        [*command, "--port", "0", "--grpc-port", "-1", "--ingest-helper", str(not_a_program)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "is not an executable file" in result.stderr + result.stdout
    assert not (tmp_path / "store").exists()


def test_the_helper_works_beyond_1024_open_descriptors(helper_binary: Path) -> None:
    """A busy serve (chDB's files, many connections) holds descriptors past select()'s limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        crowded = IngestHelper(helper_binary)
        try:
            _assert_same(crowded, _corpus_requests("pii_near_misses.jsonl", None))
        finally:
            crowded.close()
    finally:
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_helper_answering_garbage_is_given_up(tmp_path: Path) -> None:
    """A well-shaped answer with a TraceId that is no UTF-8 (a broken helper) fails Arrow's full
    validation: the helper is given up and Python maps, so nothing malformed is inserted."""
    liar = tmp_path / "otel-audit-ingest"
    liar.write_text(
        f"#!{sys.executable}\n"
        "import struct, sys\n"
        "stdin, out = sys.stdin.buffer, sys.stdout.buffer\n"
        "op, n = struct.unpack('<II', stdin.read(8))\n"
        "for _ in range(n):\n"
        "    stdin.read(struct.unpack('<I', stdin.read(4))[0])\n"
        "out.write(struct.pack('<III', 0, 1, 38))\n"
        "for index in range(38):\n"
        "    buffer = {1: struct.pack('<ii', 0, 1), 2: b'\\xff'}.get(index, bytes(8))\n"
        "    out.write(struct.pack('<Q', len(buffer)) + buffer)\n"
        "out.flush()\n"
        "stdin.read()\n"
    )
    liar.chmod(0o755)
    lying = IngestHelper(liar)
    payloads = _corpus_requests("pii_near_misses.jsonl", None)[:1]
    before = pipeline_stats.snapshot()["counters"].get("serve.ingest_helper_failures", 0)
    got, _ = lying.submit_logs(payloads).result()
    expected, _ = map_payloads(KIND_LOGS, payloads)
    assert got.table.equals(expected.table)
    assert not lying.alive
    assert pipeline_stats.snapshot()["counters"]["serve.ingest_helper_failures"] == before + 1
    lying.close()
