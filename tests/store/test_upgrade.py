"""Every store a past otel-audit made upgrades in place, keeps its records and still verifies.

A past release is its code, taken from git (``git archive``) and run in a subprocess with the
archive as ``PYTHONPATH``: no venv per release, and chDB allows one store per process. Then this
code opens the store, applies the migrations it lacks, and must read, count, seal and verify
every old record.

* :class:`TestUpgradeFromEverySchema`: a store made by each commit that changed
  ``clickhouse/schema/`` (listed by ``git log``), at its own retention and landing period.
* :class:`TestUpgradeFromTheLastRelease`: the release before migration 090 (record identity),
  whose plain OpenTelemetry clients' records were merged by span id.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "f57c6b8698749d68481c87d098eb4a944744a986"
"""main before record identity: schema version 80, RecordId = TraceId-SpanId, else the request id."""
_PACKAGE = ("otel_audit", "clickhouse", "collector-config")

pytestmark = pytest.mark.slow


@functools.cache
def schema_commits() -> list[str]:
    """Every commit that changed ``clickhouse/schema/``, oldest first (none without git history)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--reverse", "--format=%H", "--", "clickhouse/schema/"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.split() if done.returncode == 0 else []


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``release(commit)``: the package and SQL of *commit*, unpacked from git (once per commit)."""
    unpacked: dict[str, Path] = {}

    def unpack(commit: str) -> Path:
        if commit not in unpacked:
            folder = tmp_path_factory.mktemp(f"release-{commit[:7]}")
            archive = folder / "release.tar"
            listed = subprocess.run(
                ["git", "-C", str(ROOT), "ls-tree", "--name-only", commit, *_PACKAGE],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout.split()  # collector-config came later than the package
            subprocess.run(
                ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), commit, *listed],
                check=True,
                timeout=120,
            )
            with tarfile.open(archive) as tar:
                tar.extractall(folder, filter="data")
            unpacked[commit] = folder
        return unpacked[commit]

    return unpack


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


MAKE_STORE_SCRIPT = """
import datetime as dt, inspect, json, sys
from otel_audit import semconv
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema, schema_version

dsn, key = sys.argv[1], bytes.fromhex(sys.argv[2])
store = open_store(dsn)
# Not the defaults, so the upgrade shows that it keeps them.
options = {"ttl_days": 400}
if "landing_days" in inspect.signature(apply_schema).parameters:
    options["landing_days"] = 3
apply_schema(store, **options)
# Six predictions two hours back (a closed hour at any minute), as a collector would insert them.
at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=2)
rows = range(6)
store.insert_columns(
    "otel_logs",
    [
        [at + dt.timedelta(seconds=n) for n in rows],
        [f"{n + 1:032x}" for n in rows],
        [f"{n + 1:016x}" for n in rows],
        ["legacy-service"] * len(rows),
        [json.dumps({semconv.BODY_INPUT: {"n": n}, semconv.BODY_OUTPUT: {"label": "ok"}}) for n in rows],
        [
            {
                semconv.GEN_AI_REQUEST_MODEL: "legacy",
                semconv.ML_MODEL_VERSION: "v1",
                semconv.USER_ID: f"u{n % 2}",
                semconv.AUDIT_REQUEST_ID: f"req-{n}",
            }
            for n in rows
        ],
        [{"service.version": "1.0"}] * len(rows),
        [semconv.EVENT_PREDICTION] * len(rows),
    ],
    ["Timestamp", "TraceId", "SpanId", "ServiceName", "Body", "LogAttributes", "ResourceAttributes", "EventName"],
)
try:
    from otel_audit.seal.checkpoint import NoteSigner
    from otel_audit.seal.sealer import seal
except ImportError:  # before the seal existed
    sealed = 0
else:
    sealed = seal(store, NoteSigner("upgrade.test", key)).sealed
print(json.dumps({
    "version": schema_version(store),
    "rows": store.query("SELECT count() FROM audit_predictions").rows[0][0],
    "sealed": sealed,
    "landing_days": options.get("landing_days"),
}))
store.close()
"""

UPGRADE_STORE_SCRIPT = """
import datetime as dt, json, re, sys
from otel_audit import semconv
from otel_audit.answer import queries
from otel_audit.answer.rollups import build_rollups
from otel_audit.seal import NoteSigner
from otel_audit.seal.sealer import seal
from otel_audit.seal.verify import verify
from otel_audit.store.connect import open_store
from otel_audit.store.schema import apply_schema, schema_version
from otel_audit.store.sql import schema_files

dsn, fresh_dsn, key, landing_days = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), int(sys.argv[4])
signer = NoteSigner("upgrade.test", key)
store = open_store(dsn, create=False)
apply_schema(store)  # this code's defaults: retention 365, landing 7 days
first = verify(store, signer.verifier)
sealed = seal(store, signer).sealed
after = verify(store, signer.verifier)
# A record stored after the upgrade goes through the current view, resource included.
at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=2)
store.insert_columns(
    "otel_logs",
    [[at], ["ab" * 16], ["cd" * 8], ["legacy-service"],
     [json.dumps({semconv.BODY_INPUT: {"n": 99}, semconv.BODY_OUTPUT: {"label": "ok"}})],
     [{semconv.GEN_AI_REQUEST_MODEL: "legacy", semconv.ML_MODEL_VERSION: "v1", semconv.AUDIT_REQUEST_ID: "req-new"}],
     [{"service.version": "2.0"}], [semconv.EVENT_PREDICTION]],
    ["Timestamp", "TraceId", "SpanId", "ServiceName", "Body", "LogAttributes", "ResourceAttributes", "EventName"],
)
built = build_rollups(store).periods
# The same schema made from scratch by this code, at the old store's retention and landing period.
fresh = open_store(fresh_dsn)
apply_schema(fresh, ttl_days=400, landing_days=landing_days)

def described(opened):
    rows = opened.query(
        "SELECT name, engine, create_table_query FROM system.tables WHERE database = {db:String}",
        {"db": opened.database},
    ).rows
    # Tables an upgrade creates get the retention it is given (365): compare all but the TTL.
    return {name: re.sub(r"\\bTTL .*?(?=\\sSETTINGS|$)", "TTL …", query.replace(opened.database + ".", ""), flags=re.S)
            for name, engine, query in rows}

print(json.dumps({
    "version": schema_version(store),
    "applied": sorted({row[0] for row in store.query("SELECT Version FROM otel_audit_schema_migrations").rows}),
    "files": sorted(version for version, _, _ in schema_files()),
    "tables": described(store),
    "fresh_tables": described(fresh),
    "otel_logs_ttl": store.query(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'otel_logs'",
        {"db": store.database},
    ).rows[0][0],
    "inputs": store.query("SELECT RequestId, Input FROM audit_predictions ORDER BY RequestId").rows,
    "resource": store.query(
        "SELECT ResourceAttributes FROM audit_predictions WHERE RequestId = 'req-new'"
    ).rows[0][0],
    "counted": queries.model_usage(store, "legacy")["total_predictions"],
    "first": sorted({p.kind for p in first.problems}),
    "checked": first.records_checked,
    "sealed": sealed,
    "after_ok": after.ok,
    "after": [str(p) for p in after.problems],
    "leaves": after.leaves,
    "rollup_periods": built,
}))
"""


class TestUpgradeFromEverySchema:
    @pytest.mark.parametrize("commit", schema_commits(), ids=lambda commit: commit[:7])
    def test_store_made_by_this_commit_upgrades_and_verifies(
        self, commit: str, release: Callable[[str], Path], tmp_path: Path
    ) -> None:
        """The store upgrades without SchemaError to this code's tables, columns and views, keeps
        its retention, and its old records are read, counted, sealed and verified."""
        dsn, fresh = f"chdb://{tmp_path / 'store'}?database=upgraded", f"chdb://{tmp_path / 'store'}?database=fresh"
        key = bytes(range(32)).hex()
        before = _run(MAKE_STORE_SCRIPT, release(commit), dsn, key, home=tmp_path)
        assert before["rows"] == 6
        landing = before["landing_days"] or 7  # a store without a landing rule gets this code's default

        after = _run(UPGRADE_STORE_SCRIPT, ROOT, dsn, fresh, key, str(landing), home=tmp_path)
        assert after["applied"] == after["files"] and after["version"] == max(after["files"])  # type: ignore[arg-type]
        assert after["tables"] == after["fresh_tables"]  # every current table, column, index and view
        # The retention the store was made with stays; the landing rule is there, its own if it had one.
        assert re.search(
            rf"TTL toDateTime\(Timestamp\) \+ toIntervalDay\(400\), toDateTime\(Timestamp\) \+ "
            rf"toIntervalDay\({landing}\) WHERE EventName = 'ai.prediction'",
            str(after["otel_logs_ttl"]),
        ), after["otel_logs_ttl"]
        inputs = dict(after["inputs"])  # type: ignore[arg-type]
        assert {f"req-{n}": f'{{"n":{n}}}' for n in range(6)}.items() <= inputs.items()
        assert after["resource"] == {"service.version": "2.0"}
        assert after["counted"] == 7
        assert after["checked"] == 6
        assert set(after["first"]) <= {"unsealed record"}, after["first"]  # type: ignore[arg-type]
        assert after["sealed"] == 6 - before["sealed"]  # type: ignore[operator]
        assert after["after_ok"] and after["leaves"] == 6, after["after"]


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


class TestUpgradeFromTheLastRelease:
    def test_every_record_kept_counted_and_verified(self, release: Callable[[str], Path], tmp_path: Path) -> None:
        """Records the old id merged are counted again after 090; old leaves still verify; nothing is lost."""
        dsn, key = f"chdb://{tmp_path / 'store'}", bytes(range(32)).hex()
        before = _run(OLD_RELEASE_SCRIPT, release(RELEASE), dsn, key, home=tmp_path)
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
