"""Soak: predictions through the full path (SDK → OTLP/HTTP → serve → store) with faults.

At a sustained rate, this process audits predictions with ``otel_audit`` configured for OTLP to
a real ``otel-audit serve`` subprocess on loopback. Meanwhile the store is made unavailable for
``--outage`` seconds (serve's test-only fault injection detaches ``otel_logs``); later the server
is killed with SIGKILL while acknowledged records wait unstored in its spool, and restarted on
the same port. At the end: the store's count must equal
the records the client's exporter had acknowledged, with no duplicates; the peak resident memory
of each process is printed, and every drop counter.

Run: python bench/soak.py --n 1000000 --rate 5000 --outage 60
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUERY_TOKEN = "soak-query-token"  # serve's /status and /debug/fault need the query token
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Server:
    """One ``otel-audit serve`` on a fixed port, restartable."""

    store: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    peak_rss_kib: int = 0
    log: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_AUDIT_")}
        env["OTEL_AUDIT_SERVE_FAULTS"] = "1"
        log = self.store.parent / f"serve-{len(self.log)}.log"
        self.log.append(log)
        token_file = self.store.parent / "query-token"
        token_file.write_text(QUERY_TOKEN)
        command = [sys.executable, "-m", "otel_audit.cli", "serve", "--store", f"chdb://{self.store}",
                   "--port", str(self.port), "--grpc-port", "-1", "--query-token-file", str(token_file)]  # fmt: skip
        with log.open("wb") as stream:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(self._request("/status"), timeout=2) as response:
                    if json.load(response)["pid"] == self.process.pid:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not start: {log.read_text()[-2000:]}")

    def sample_memory(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.peak_rss_kib = max(self.peak_rss_kib, _peak_rss_kib(self.process.pid))

    def _request(self, path: str, data: bytes | None = None) -> urllib.request.Request:
        """A request to *path* carrying the query token (status and faults need it)."""
        request = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST")
        request.add_header("Authorization", f"Bearer {QUERY_TOKEN}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        return request

    def fault(self, action: str) -> None:
        with urllib.request.urlopen(self._request("/debug/fault", json.dumps({"action": action}).encode()), timeout=30):
            pass

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self._request("/status"), timeout=30) as response:
            return json.load(response)  # type: ignore[no-any-return]

    def kill(self) -> None:
        assert self.process is not None
        self.sample_memory()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> int:
        assert self.process is not None
        self.sample_memory()
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(300)


def run_soak(n: int, rate: float, outage_s: float, workdir: Path, *, log: Any = print) -> dict[str, Any]:
    """Run the soak; return the figures (see the module docstring)."""
    import otel_audit
    from otel_audit.store.connect import open_store

    server = Server(workdir / "store", _free_port())
    server.start()
    otel_audit.configure(store=False, otlp_endpoint=server.url, redact=False, spans=False, service_name="soak")
    outage_at, kill_at = n // 4, 3 * n // 4
    faults: list[threading.Thread] = []

    def outage() -> None:
        # The outage lasts until a write has failed against it (bounded), then outage_s more: a
        # fixed pause alone can fall where the client happens to send nothing.
        retries = server.status()["retries"]
        server.fault("detach_logs")
        log(f"store unavailable for {outage_s:.0f} s after the first failed write")
        deadline = time.monotonic() + 60
        while server.status()["retries"] == retries:
            assert time.monotonic() < deadline, "no write reached the store while it was away"
            time.sleep(0.05)
        time.sleep(outage_s)
        server.fault("attach_logs")
        log("store back")

    retries_before_kill = 0

    def kill_and_restart() -> None:
        # Let acknowledged records pile up unstored in the spool while emission goes on, then
        # kill: the restart must replay them (a detached table is attached again at start-up).
        nonlocal retries_before_kill
        server.fault("detach_logs")
        deadline = time.monotonic() + 60
        while server.status()["spool"]["requests"] == 0:
            assert time.monotonic() < deadline, "no request reached the spool while the store was away"
            time.sleep(0.05)
        log("SIGKILL serve, restart")
        retries_before_kill = server.status()["retries"]
        server.kill()
        server.start()

    started = time.monotonic()
    for index in range(n):
        # Sustained rate: never run ahead of the schedule.
        ahead = started + index / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        with otel_audit.audit_prediction(
            model="soak", version="v1", user_id=f"u{index % 997}", input={"i": index, "pad": "x" * 200},
            request_id=f"soak-{index}",
        ) as prediction:  # fmt: skip
            prediction.output = index % 3
        if index == outage_at:
            faults.append(threading.Thread(target=outage, daemon=True))
            faults[-1].start()
        if index == kill_at:
            for thread in faults:
                thread.join()  # one fault at a time: the outage is over before the kill
            faults.append(threading.Thread(target=kill_and_restart, daemon=True))
            faults[-1].start()
        if index % 10_000 == 0:
            server.sample_memory()
    emitted_s = time.monotonic() - started
    for thread in faults:
        thread.join()
    assert otel_audit.flush(600), "the client could not export everything"
    acknowledged = otel_audit.stats()["counters"].get("logs.exported", 0)
    client_drops = otel_audit.stats()["dropped"]
    otel_audit.shutdown()
    deadline = time.monotonic() + 600
    while server.status()["spool"]["requests"] and time.monotonic() < deadline:
        time.sleep(0.5)
    status = server.status()
    store = open_store(server.store and f"chdb://{server.store}")  # the running server's front door
    [(rows, unique, predictions)] = store.query(
        "SELECT (SELECT count() FROM otel_logs WHERE ServiceName = 'soak'),"
        " (SELECT uniqExact(LogAttributes['audit.request.id']) FROM otel_logs WHERE ServiceName = 'soak'),"
        " (SELECT count() FROM audit_predictions WHERE ModelName = 'soak')"
    ).rows
    server.stop()
    figures = {
        "emitted": n,
        "acknowledged": acknowledged,
        "stored_rows": rows,
        "stored_unique": unique,
        "audit_predictions": predictions,
        "duplicates": rows - unique,
        "client_drops": client_drops,
        "server_dropped": status["dropped"],
        "server_store_retries": retries_before_kill + status["retries"],
        "replayed_records": status["spool"]["replayed_records"],
        "emit_rate_per_s": round(n / emitted_s),
        "serve_peak_rss_mib": round(server.peak_rss_kib / 1024, 1),
        "client_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=5000.0, help="predictions per second")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the store is unavailable")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="otel-audit-soak-") as tmp:
        figures = run_soak(args.n, args.rate, args.outage, Path(tmp))
    for name, value in figures.items():
        print(f"{name:<22} {value}")
    ok = figures["stored_unique"] == figures["acknowledged"] == args.n and figures["duplicates"] == 0
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
