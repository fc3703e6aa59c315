"""Throughput of redaction in the real collector, side by side: records per second through ``otelcol-audit``.

One run, one binary, three pipelines (``otlp`` receiver, file exporter, rendered from the shipped
rule file by ``otel_audit.redact.collector``):

* ``passthrough``: ``memory_limiter`` + ``batch``, no redaction;
* ``auditredaction``: ``memory_limiter`` + ``auditredaction`` + ``batch`` (otel-audit's processor,
  what the production, single-box and file-sink profiles run);
* ``contrib-only``: ``memory_limiter`` + ``transform/redact`` + ``redaction`` + ``transform/finish``
  + ``batch`` (the contrib-only profile's processors).

The collector is pinned to one core (``taskset -c CPU`` and ``GOMAXPROCS=1``); this client runs on
the other core. Requests are OTLP/HTTP protobuf, pre-encoded before the clock starts, ``--batch``
records each, cycled from ``--corpus`` (``pii``: ``tests/data/pii_corpus.jsonl``, nested bodies with
2-5 planted values per record; ``redaction``: ``redaction_corpus.jsonl``); ``--connections``
persistent connections post them concurrently, so the collector never waits for the client. The
clock stops when the collector's own metric ``otelcol_exporter_sent_log_records`` reaches
``--n``; then the file is checked to hold every record. The file is written under ``--sink-dir``
(``/dev/shm`` where it exists): on a disk, the kernel's page writeback and journal made each
record's ``write`` cost 5 to 9 µs of the collector's CPU depending on how much was already dirty,
which moved the ratios more than the processor did. Rounds interleave the pipelines (best of
``--rounds`` each). ``--pprof FILE`` also takes a CPU profile of the collector during the last
round of ``--pprof-pipeline`` (``auditredaction``; pprof extension) and prints its top functions
(needs ``go``).

Run: python bench/bench_collector.py [--n 20000] [--batch 500] [--rounds 3] [--connections 2]
     [--corpus pii|redaction] [--cpu 0] [--pprof FILE] [--pipelines passthrough,auditredaction,contrib-only]
     [--binary .build/otelcol-audit/otelcol-audit] [--sink-dir /dev/shm]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from otel_audit.redact import collector, load_rules  # noqa: E402 - after the path tweak

BINARY = ROOT / ".build" / "otelcol-audit" / "otelcol-audit"
SHM = Path("/dev/shm")  # tmpfs: the sink's writes cost memory copies, not disk writeback
RULES = ROOT / "collector-config" / "redaction.yaml"
CORPORA = {"pii": "pii_corpus.jsonl", "redaction": "redaction_corpus.jsonl"}
BATCH = {"send_batch_size": 500, "timeout": "200ms"}


def any_value(value: Any) -> AnyValue:  # noqa: PLR0911 - one branch per AnyValue kind
    """*value* as an OTLP ``AnyValue``."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, Mapping):
        if set(value) == {"$corpus.bytes"}:
            return AnyValue(bytes_value=value["$corpus.bytes"].encode())
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    return AnyValue()


def key_values(values: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=str(k), value=any_value(v)) for k, v in values.items()]


def requests(records: list[dict[str, Any]], n: int, batch: int) -> list[bytes]:
    """*n* log records cycled from *records*, as OTLP protobuf request bodies of *batch* records."""
    encoded = []
    for r in records:
        body = r["body"] if "body" in r else {"input": r["input"], "output": r["output"]}
        encoded.append(
            LogRecord(
                time_unix_nano=1_700_000_000_000_000_000, body=any_value(body), attributes=key_values(r["attributes"])
            )
        )
    bodies = []
    for start in range(0, n, batch):
        logs = [encoded[i % len(encoded)] for i in range(start, min(n, start + batch))]
        request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=logs)])])
        bodies.append(request.SerializeToString())
    return bodies


def configs(pprof_port: int) -> dict[str, dict[str, Any]]:
    """The three pipelines, each with the file exporter and a batch processor before it."""
    rules = load_rules(RULES)
    made = {}
    for name, profile in (
        ("passthrough", "file-sink"),
        ("auditredaction", "file-sink"),
        ("contrib-only", "contrib-only"),
    ):
        config = collector.render_config(rules, profile, rules_file=str(RULES), sink="file")  # type: ignore[arg-type]
        config["processors"]["batch"] = dict(BATCH)
        for pipeline in config["service"]["pipelines"].values():
            if name == "passthrough":
                pipeline["processors"] = ["memory_limiter"]
            pipeline["processors"].append("batch")
        if name == "passthrough":
            del config["processors"][collector.PROCESSOR]
        # Every pipeline carries the (idle unless asked) pprof extension: the same binary setup.
        config["extensions"]["pprof"] = {"endpoint": f"127.0.0.1:{pprof_port}"}
        config["service"]["extensions"].append("pprof")
        made[name] = config
    return made


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sent_records(metrics_port: int) -> float:
    """``otelcol_exporter_sent_log_records`` of the collector (0 before the first export)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.split("{")[0].split(" ")[0].removesuffix("_total") == "otelcol_exporter_sent_log_records"
    )


def post_all(port: int, bodies: list[bytes], connections: int) -> None:
    """Post every body once over *connections* persistent connections; each must be accepted."""
    lock = threading.Lock()
    position = iter(range(len(bodies)))
    errors: list[str] = []

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                index = next(position, None)
            if index is None or errors:
                break
            connection.request("POST", "/v1/logs", bodies[index], {"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"HTTP {response.status}")
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"the collector refused requests: {errors[:3]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process *pid* so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    config: dict[str, Any], bodies: list[bytes], tmp: Path, args: argparse.Namespace, *, pprof: Path | None
) -> tuple[float, float]:
    """Seconds from the first request to the last record exported on a fresh pinned collector,
    and the CPU seconds the collector spent meanwhile."""
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    out = tmp / "out.jsonl"
    out.unlink(missing_ok=True)
    http_port, grpc, health, metrics = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "GOMAXPROCS": "1",
        collector.ENV_OTLP_HTTP_ENDPOINT: f"127.0.0.1:{http_port}",
        collector.ENV_OTLP_GRPC_ENDPOINT: f"127.0.0.1:{grpc}",
        collector.ENV_HEALTH_ENDPOINT: f"127.0.0.1:{health}",
        collector.ENV_METRICS_PORT: str(metrics),
        collector.ENV_FILE_PATH: str(out),
    }
    command = [str(args.binary), "--config", str(path)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(args.cpu), *command]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    profiler = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}/", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("collector did not become healthy") from None
                time.sleep(0.05)
        if pprof is not None:
            endpoint = config["extensions"]["pprof"]["endpoint"]
            url = f"http://{endpoint}/debug/pprof/profile?seconds={args.pprof_seconds}"
            profiler = threading.Thread(target=lambda: pprof.write_bytes(urllib.request.urlopen(url).read()))
            profiler.start()
        start, cpu_start = time.perf_counter(), cpu_seconds(process.pid)
        post_all(http_port, bodies, args.connections)
        n = args.n
        while sent_records(metrics) < n:
            time.sleep(0.01)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(process.pid) - cpu_start
        if profiler is not None:
            profiler.join()
        with out.open("rb") as stream:
            written = sum(line.count(b'"timeUnixNano"') for line in stream)
        if written != n:
            raise RuntimeError(f"{written} of {n} records in the file sink")
        return elapsed, cpu
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="pii")
    parser.add_argument("--cpu", type=int, default=0, help="the collector's core (the client takes the others)")
    parser.add_argument("--pprof", type=Path, help="write a CPU profile of the last round of --pprof-pipeline here")
    parser.add_argument("--pprof-pipeline", default="auditredaction")
    parser.add_argument("--pprof-seconds", type=int, default=5)
    parser.add_argument("--pipelines", default="passthrough,auditredaction,contrib-only", help="which, comma-separated")
    parser.add_argument("--binary", type=Path, default=BINARY, help="the collector to run (another build, to compare)")
    parser.add_argument(
        "--sink-dir", type=Path, default=SHM if SHM.is_dir() else None, help="where the file exporter writes"
    )
    args = parser.parse_args()
    if not args.binary.is_file():
        sys.exit(f"{args.binary} is missing: run `make collector`")
    others = set(range(os.cpu_count() or 1)) - {args.cpu}
    if others:
        os.sched_setaffinity(0, others)
    corpus = [json.loads(line) for line in (ROOT / "tests" / "data" / CORPORA[args.corpus]).open(encoding="utf-8")]
    bodies = requests(corpus, args.n, args.batch)
    pinned = f"taskset -c {args.cpu}, " if shutil.which("taskset") else ""
    print(
        f"{args.n} {args.corpus} corpus records in OTLP/HTTP protobuf requests of {args.batch}, "
        f"{args.connections} connections, best of {args.rounds} rounds; collector {pinned}GOMAXPROCS=1; "
        f"file sink in {args.sink_dir or tempfile.gettempdir()}"
    )
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(dir=args.sink_dir) as tmp:
        chosen = args.pipelines.split(",")
        pipelines = {name: config for name, config in configs(free_port()).items() if name in chosen}
        for round_number in range(args.rounds):
            this_round: dict[str, float] = {}
            for name, config in pipelines.items():
                last = round_number == args.rounds - 1 and name == args.pprof_pipeline
                seconds, cpu = run(config, bodies, Path(tmp), args, pprof=args.pprof if last else None)
                this_round[name] = seconds
                best[name] = min(best.get(name, seconds), seconds)
                best_cpu[name] = min(best_cpu.get(name, cpu), cpu)
            if "passthrough" in this_round:
                for name, seconds in this_round.items():
                    ratios.setdefault(name, []).append(seconds / this_round["passthrough"])
    # This box is a VM whose speed drifts between runs: besides the best of each pipeline, the
    # median of the ratios measured back to back in one round, and the collector's CPU time.
    base, base_cpu = best.get("passthrough"), best_cpu.get("passthrough")
    for name, seconds in best.items():
        per_record, cpu = seconds * 1e6 / args.n, best_cpu[name] * 1e6 / args.n
        line = f"{name:15s} {args.n / seconds:10,.0f} records/s  ({per_record:6.1f} µs/record, CPU {cpu:5.1f} µs)"
        if base and base_cpu:
            median, cpu_ratio = statistics.median(ratios[name]), best_cpu[name] / base_cpu
            line += f"  {seconds / base:5.2f}x the passthrough time"
            line += f" (per-round median {median:4.2f}x, CPU {cpu_ratio:4.2f}x)"
        print(line)
    if args.pprof and shutil.which("go"):
        top = subprocess.run(
            ["go", "tool", "pprof", "-top", "-nodecount=25", str(args.binary), str(args.pprof)],
            capture_output=True,
            text=True,
            check=False,
        )
        print(top.stdout or top.stderr)


if __name__ == "__main__":
    main()
