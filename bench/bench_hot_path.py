"""Per-prediction cost on the caller's thread: bare OTel span vs otel-audit vs the tutorial.

(a) a bare OTel span, BatchSpanProcessor, no-op exporter;
(b) an otel-audit prediction with a 1 KB input, no-op exporters (the audit machinery alone);
(b') the same into the embedded chDB store (the real default);
(c) the tutorial's synchronous SQLAlchemy + SQLite ``AuditLogger.log``.

The caller's cost is its thread CPU time (``time.thread_time``) per call, measured in bursts that
fit the queue so the caller never waits; the export threads compete for the GIL meanwhile, so
wall time per call is printed too, and the end-to-end rate (until everything is exported).

Run: python bench/bench_hot_path.py [--n 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import otel_audit


class NoOpSpans(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class NoOpLogs(LogRecordExporter):
    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


INPUT: dict[str, Any] = {f"feature_{i:02d}": i * 1.25 for i in range(40)}
INPUT["note"] = "x" * (1024 - len(str(INPUT)))
OUTPUT = {"label": "legitimate", "score": 0.94}


def measure(
    name: str, call: Callable[[int], None], n: int, finish: Callable[[], None] | None = None
) -> dict[str, float]:
    for i in range(min(500, n)):  # warm up
        call(i)
    if finish:
        finish()
    cpu0, wall0 = time.thread_time_ns(), time.perf_counter_ns()
    for i in range(n):
        call(i)
    cpu1, wall1 = time.thread_time_ns(), time.perf_counter_ns()
    if finish:
        finish()
    wall2 = time.perf_counter_ns()
    result = {
        "cpu_us": (cpu1 - cpu0) / n / 1000,
        "wall_us": (wall1 - wall0) / n / 1000,
        "end_to_end_per_s": n / ((wall2 - wall0) / 1e9),
    }
    print(f"{name:<44} {result['cpu_us']:9.2f} {result['wall_us']:9.2f} {result['end_to_end_per_s']:12,.0f}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    n = parser.parse_args().n
    print(f"input: {len(str(INPUT))} bytes as str, n={n}")
    print(f"{'case':<44} {'cpu µs':>9} {'wall µs':>9} {'end-to-end/s':>12}")

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(NoOpSpans(), max_queue_size=n + 1000))
    tracer = provider.get_tracer("bench")

    def bare(_: int) -> None:
        with tracer.start_as_current_span("predict m") as span:
            span.set_attribute("x", 1)

    a = measure("(a) bare OTel span, batch, no-op exporter", bare, n, provider.force_flush)

    otel_audit.configure(store=False, log_exporters=[NoOpLogs()], span_exporters=[NoOpSpans()], queue_size=n + 1000)

    def audited(i: int) -> None:
        with otel_audit.audit_prediction(model="fraud", version="v3", user_id="jane", input=INPUT) as p:
            p.output = OUTPUT

    b = measure("(b) otel-audit prediction, no-op exporters", audited, n, lambda: otel_audit.flush(600))

    with tempfile.TemporaryDirectory() as tmp:
        otel_audit.configure(store=f"chdb://{tmp}/store", queue_size=n + 1000)
        b2 = measure("(b') otel-audit prediction, chDB store", audited, n, lambda: otel_audit.flush(600))
        otel_audit.shutdown()

        from _tutorial import AuditLogger

        tutorial = AuditLogger(f"sqlite:///{tmp}/ai_audit.db")
        c_n = max(1000, n // 10)

        def baseline(_: int) -> None:
            tutorial.log("fraud", "v3", INPUT, OUTPUT, user_id="jane", latency_ms=1.0)

        c = measure("(c) tutorial SQLAlchemy + SQLite log()", baseline, c_n)

    print()
    print(f"b/a  (target <= 2):  cpu {b['cpu_us'] / a['cpu_us']:.2f}   wall {b['wall_us'] / a['wall_us']:.2f}")
    print(f"c/b  (target >= 30): cpu {c['cpu_us'] / b['cpu_us']:.1f}   wall {c['wall_us'] / b['wall_us']:.1f}")
    print(f"c/b' (chDB store):   cpu {c['cpu_us'] / b2['cpu_us']:.1f}   wall {c['wall_us'] / b2['wall_us']:.1f}")


if __name__ == "__main__":
    main()
