"""A store made by the release before schema 090 upgrades in place and keeps every record.

The old release is the code itself, taken from git at :data:`RELEASE` (the last commit before
record identity changed) and run in a subprocess: it writes records the way it did, seals them
with its own sealer, and shows the bug (plain OpenTelemetry clients' records merged by span id).
Then this code opens the store, applies migration 090, and must count, keep and verify them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "f57c6b8698749d68481c87d098eb4a944744a986"
"""main before issue 12: schema version 80, RecordId = TraceId-SpanId, else the request id."""

OLD_RELEASE_SCRIPT = """
import json, os, sys, time
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
import otel_audit
from otel_audit.answer import queries
from otel_audit.export.clickhouse import ClickHouseLogRecordExporter
from otel_audit.seal import NoteSigner
from otel_audit.seal.sealer import seal
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema, schema_version

dsn, key = sys.argv[1], bytes.fromhex(sys.argv[2])
store = open_store(dsn)
apply_schema(store)
# A plain OpenTelemetry client: three predictions logged in one request span, four outside any span.
provider = LoggerProvider(resource=Resource({"service.name": "plain-sdk"}))
provider.add_log_record_processor(SimpleLogRecordProcessor(ClickHouseLogRecordExporter(store, create_schema=False)))
logger = provider.get_logger("plain")
tracer = TracerProvider().get_tracer("plain")
def predict(n):
    logger.emit(
        body={"input": {"n": n}, "output": {"label": "ok"}},
        event_name="ai.prediction",
        severity_number=SeverityNumber.INFO,
        attributes={"gen_ai.request.model": "legacy", "ml.model.version": "v1", "user.id": "u"},
    )
with tracer.start_as_current_span("request"):
    for n in range(3):
        predict(n)
for n in range(3, 7):
    predict(n)
# And otel-audit's own SDK path: three predictions, each its own span.
otel_audit.configure(store=store, service_name="sdk", schedule_delay_ms=50)
for n in range(3):
    with otel_audit.audit_prediction(model="legacy", version="v1", input={"sdk": n}) as p:
        p.output = "ok"
otel_audit.shutdown()
sealed = seal(store, NoteSigner("upgrade.test", key))
print(json.dumps({
    "version": schema_version(store),
    "rows": store.query("SELECT count() FROM audit_predictions").rows[0][0],
    "counted": queries.model_usage(store, "legacy")["total_predictions"],
    "sealed": sealed.sealed,
}))
store.close()
"""


@pytest.fixture(scope="module")
def old_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package and SQL of :data:`RELEASE`, unpacked from git."""
    folder = tmp_path_factory.mktemp("release")
    archive = folder / "release.tar"
    subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "archive",
            "--format=tar",
            "-o",
            str(archive),
            RELEASE,
            "otel_audit",
            "clickhouse",
            "collector-config",
        ],
        check=True,
        timeout=120,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


UPGRADE_SCRIPT = """
import json, sys
from otel_audit.answer import queries
from otel_audit.seal import NoteSigner
from otel_audit.seal.sealer import seal, verify
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema, schema_version

signer = NoteSigner("upgrade.test", bytes.fromhex(sys.argv[2]))
store = open_store(sys.argv[1], create=False)
apply_schema(store)
first = verify(store, signer.verifier)
sealed = seal(store, signer).sealed
after = verify(store, signer.verifier)
print(json.dumps({
    "version": schema_version(store),
    "rows": store.query("SELECT count() FROM audit_predictions").rows[0][0],
    "row_hashes": store.query("SELECT uniqExact(RowHash) FROM audit_predictions").rows[0][0],
    "counted": queries.model_usage(store, "legacy")["total_predictions"],
    "first": sorted({p.kind for p in first.problems}),
    "checked": first.records_checked,
    "sealed": sealed,
    "after": sorted({p.kind for p in after.problems}),
    "unsealed_after": after.unsealed,
    "leaves_after": after.leaves,
}))
"""


def _run(script: str, cwd: Path, *args: str, home: Path) -> dict[str, object]:
    """Run *script* with the package found in *cwd* (a store can be open in one process only)."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


class TestUpgradeFromTheLastRelease:
    def test_every_record_kept_counted_and_verified(self, old_release: Path, tmp_path: Path) -> None:
        """Records the old id merged are counted again after 090; old leaves still verify; nothing is lost."""
        dsn, key = f"chdb://{tmp_path / 'store'}", bytes(range(32)).hex()
        before = _run(OLD_RELEASE_SCRIPT, old_release, dsn, key, home=tmp_path)
        assert before["version"] == 80 and before["rows"] == 10
        assert before["counted"] < 10  # the bug this migration fixes: records merged by span id

        after = _run(UPGRADE_SCRIPT, ROOT, dsn, key, home=tmp_path)
        assert after["version"] >= 90
        assert after["rows"] == after["row_hashes"] == 10  # nothing lost, each row its own
        assert after["counted"] == 10
        assert after["checked"] == 10
        # The rows the old id merged share that id: reported as such, then sealed, never blamed.
        assert set(after["first"]) <= {"conflicting copies", "unsealed record"}, after["first"]  # type: ignore[arg-type]
        assert after["sealed"] == 10 - before["sealed"]  # type: ignore[operator]
        assert set(after["after"]) <= {"conflicting copies"}  # type: ignore[arg-type]
        assert after["unsealed_after"] == 0 and after["leaves_after"] == 10
