"""Peak memory and speed of ``verify`` (and ``seal``) at two store sizes, side by side.

For each ``--sizes`` N: ``bench/datagen.py`` fills a fresh chDB store with N realistic records
(about 1 KB of input each), then three fresh processes each open the store and report their
peak RSS (``ru_maxrss``) and rate:

* ``seal``: seal every record, in one call (``--seal-chunk 0``, the default) or in calls of
  ``--seal-chunk`` records;
* ``baseline``: open the store and count the predictions (the engine's own footprint);
* ``verify``: ``otel_audit.seal.verify`` of everything, with signatures checked.

``--windows 20000,50000`` runs the three on a copy of the same unsealed store once per window
size (records seal and verify read at a time; the shipped sizes otherwise), side by side.

Printed per size (and window): the baseline, seal's and verify's peaks and their excess over the
baseline (the figures that must stay flat), and the seal and verify rates; then the ratio of the
excesses between the sizes (1.00 = independent of the number of records). Stores go under
``--folder`` and are deleted afterwards unless ``--keep``.

Run: python bench/bench_verify_memory.py [--sizes 1000000,3000000] [--windows W,W] [--folder /tmp] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each measurement runs in a process of its own, so ru_maxrss is that step's peak alone.
_CHILD = r"""
import json, os, resource, sys, time
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import open_store

step, dsn, key, chunk, window = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if window:
    sys.modules["otel_audit.seal.sealer"].SEAL_CHUNK_ROWS = window
    sys.modules["otel_audit.seal.verify"].VERIFY_WINDOW_ROWS = window
signer = NoteSigner("bench", key)
store = open_store(dsn)
started = time.perf_counter()
count = 0
if step == "baseline":
    count = int(store.query("SELECT count() FROM audit_predictions").rows[0][0])
elif step == "seal":
    while (result := seal(store, signer, limit=chunk or None)).sealed:
        count += result.sealed
elif step == "verify":
    report = verify(store, signer.verifier)
    assert report.ok, report.problems[:3]
    count = report.records_checked
seconds = time.perf_counter() - started
store.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"count": count, "seconds": seconds, "peak": peak}))
"""


def child(step: str, dsn: str, key: str, chunk: int, window: int) -> dict[str, float]:
    """Run one measurement in a fresh process; its JSON line."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, step, dsn, key, str(chunk), str(window)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode:
        sys.exit(f"{step} on {dsn} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,3000000", help="comma-separated record counts")
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    parser.add_argument("--seal-chunk", type=int, default=0, help="records per seal call (0: all in one)")
    parser.add_argument("--windows", default="0", help="comma-separated records per window (0: shipped)")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    windows = [int(window) for window in args.windows.split(",")]
    key = os.urandom(32).hex()
    mib = 1024 * 1024
    excess: dict[int, list[tuple[float, float]]] = {window: [] for window in windows}
    print(
        f"{'records':>10} {'window':>7} {'baseline MiB':>13} {'seal MiB':>9} {'excess':>7} {'verify MiB':>11} "
        f"{'excess':>7} {'seal rec/s':>11} {'verify rec/s':>13}"
    )
    for size in sizes:
        filled = args.folder / f"otel-audit-verify-bench-{size}"
        shutil.rmtree(filled, ignore_errors=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "datagen.py"), "--n", str(size), "--store", f"chdb://{filled}"],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            for window in windows:
                path = filled
                if len(windows) > 1:  # each window size seals its own copy of the same unsealed store
                    path = filled.with_name(f"{filled.name}-window-{window}")
                    shutil.rmtree(path, ignore_errors=True)
                    shutil.copytree(filled, path, symlinks=True)  # the engine's links are relative
                dsn = f"chdb://{path}"
                try:
                    sealed = child("seal", dsn, key, args.seal_chunk, window)
                    baseline = child("baseline", dsn, key, 0, window)
                    verified = child("verify", dsn, key, 0, window)
                finally:
                    if not args.keep and path != filled:
                        shutil.rmtree(path, ignore_errors=True)
                excess[window].append((sealed["peak"] - baseline["peak"], verified["peak"] - baseline["peak"]))
                seal_excess, verify_excess = excess[window][-1]
                print(
                    f"{size:>10,} {window or 'shipped':>7} {baseline['peak'] / mib:>13,.0f} "
                    f"{sealed['peak'] / mib:>9,.0f} {seal_excess / mib:>7,.0f} "
                    f"{verified['peak'] / mib:>11,.0f} {verify_excess / mib:>7,.0f} "
                    f"{sealed['count'] / sealed['seconds']:>11,.0f} {verified['count'] / verified['seconds']:>13,.0f}",
                    flush=True,
                )
        finally:
            if not args.keep:
                shutil.rmtree(filled, ignore_errors=True)
    for window, pairs in excess.items():
        if len(pairs) > 1:
            (seal_first, verify_first), (seal_last, verify_last) = pairs[0], pairs[-1]
            print(
                f"window {window or 'shipped'}: excess over the baseline, {sizes[-1]:,} vs {sizes[0]:,} records: "
                f"seal {seal_last / seal_first:.2f}x, verify {verify_last / verify_first:.2f}x"
            )


if __name__ == "__main__":
    main()
