"""Typed compliance queries over ``audit_predictions``.

Every function runs SQL from ``clickhouse/queries/`` with server-side bound parameters and
returns plain data (dicts, lists, datetimes) that :mod:`otel_audit.answer.reports` renders.
Times are UTC; naive datetimes are taken as UTC.

Answers are honest about what they cover (docs/reports.md, "Periods and empty answers"):

* a report about one model first checks that the store has seen it, else raises
  :class:`~otel_audit.errors.UnknownModelError` naming the known models, closest first;
* ``since``/``until`` in a report are the period it states: the bound given, else the time of
  the first (last) record it covers, else ``None`` (no records). The open-period bounds
  :data:`~otel_audit.periods.EPOCH` and :data:`~otel_audit.periods.FAR_FUTURE` only bound
  queries; no report carries them (periods and bounds live in :mod:`otel_audit.periods`);
* an answer of zero records carries a ``note`` that says so in words, with the period.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from typing import TYPE_CHECKING, Any

from otel_audit import semconv
from otel_audit.emit.hashing import hash_input
from otel_audit.errors import QueryError, UnknownModelError
from otel_audit.periods import EPOCH, FAR_FUTURE, query_period, stated_bound, to_utc
from otel_audit.store.base import redact_dsn
from otel_audit.store.connect import Store, StoreResult
from otel_audit.store.sql import query_sql

if TYPE_CHECKING:
    from otel_audit.seal.checkpoint import NoteVerifier

__all__ = [  # EPOCH, FAR_FUTURE and to_utc are otel_audit.periods', kept importable from here
    "EPOCH",
    "FAR_FUTURE",
    "LATENCY_EDGES_MS",
    "REDACTION_PREFIX",
    "compliance",
    "conflicts",
    "data_access",
    "input_lookup",
    "model_usage",
    "outcome_mix",
    "oversight",
    "redaction_counts",
    "reproduce",
    "request_record",
    "require_model",
    "to_utc",
    "version_at",
    "version_timeline",
]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")

LATENCY_EDGES_MS: tuple[float, ...] = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
"""Upper bounds (exclusive, ms) of the latency histogram's buckets; a last bucket holds the rest."""

REDACTION_PREFIX = semconv.AUDIT_REDACTION_PREFIX
"""Prefix of the attributes the redaction processors set on a record (counted, never interpreted)."""


def _run(store: Store, name: str, parameters: dict[str, Any]) -> StoreResult:
    return store.query(query_sql(name), parameters)


def require_model(store: Store, model: str) -> None:
    """Return if the store holds a prediction of *model*.

    Raises:
        UnknownModelError: it holds none; the error lists the models it does hold, closest first.
    """
    if _run(store, "model_known", {"model": model}).rows[0][0]:
        return
    known = [str(row[0]) for row in _run(store, "known_models", {}).rows]
    closest = difflib.get_close_matches(model, known, n=len(known), cutoff=0.0) if known else []
    raise UnknownModelError(model, closest, redact_dsn(store.dsn))


def _iso(value: dt.datetime) -> str:
    return value.isoformat() + "Z"


def _no_records(what: str, since: Any, until: Any) -> str:
    """The ``note`` of an answer of zero records: *what* there is none of, and in which period."""
    if since is None and until is None:
        return f"no {what} in the whole store (no --since or --until given)"
    if until is None:
        return f"no {what} since {_iso(to_utc(since, EPOCH))}"
    if since is None:
        return f"no {what} before {_iso(to_utc(until, EPOCH))}"
    return f"no {what} from {_iso(to_utc(since, EPOCH))} to {_iso(to_utc(until, EPOCH))} (exclusive)"


def _bounds(rows: list[dict[str, Any]], first: str, last: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The earliest *first* and latest *last* time over *rows*; ``None`` for no rows."""
    if not rows:
        return None, None
    return min(row[first] for row in rows), max(row[last] for row in rows)


def model_usage(store: Store, model: str, *, since: Any = None, until: Any = None) -> dict[str, Any]:
    """Usage of *model* in ``[since, until)``: counts, outcome/label/version mix, latency, users.

    Raises:
        UnknownModelError: the store has never seen *model*.
    """
    params = {"model": model, **query_period(since, until)}
    require_model(store, model)
    return _model_usage(store, model, params, since, until)


def _model_usage(store: Store, model: str, params: dict[str, Any], since: Any, until: Any) -> dict[str, Any]:
    summary = _run(store, "model_usage", params).dicts()[0]
    predictions = summary["predictions"]
    first, last = (summary["first_prediction"], summary["last_prediction"]) if predictions else (None, None)
    report: dict[str, Any] = {
        "report": "model-usage",
        "model": model,
        "since": stated_bound(since, first),
        "until": stated_bound(until, last),
        "total_predictions": predictions,
    }
    if not predictions:
        report["note"] = _no_records(f"predictions of model {model!r}", since, until)
        return report
    report.update(
        {
            "ok": summary["ok"],
            "errors": summary["errors"],
            "rows_predicted": summary["rows_predicted"],
            "unique_users": summary["distinct_users"],
            "outcome_distribution": _by_count(summary["outcomes"]),
            "prediction_distribution": _by_count(summary["labels"]),
            "versions_used": _by_count(summary["versions"]),
            "latency_ms": {
                **dict(zip(("p50", "p95", "p99"), summary["latency_ms_p50_p95_p99"], strict=True)),
                "max": summary["latency_max_ms"],
                # 12 significant digits: the float sum's last bits depend on the merge order.
                "mean": float(f"{summary['latency_mean_ms']:.12g}"),
            },
            "first_prediction": summary["first_prediction"],
            "last_prediction": summary["last_prediction"],
        }
    )
    return report


def _by_count(counts: dict[str, int]) -> dict[str, int]:
    """*counts* ordered by count, largest first, then by value."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def data_access(
    store: Store, user_id: str, *, since: Any = None, until: Any = None, limit: int = 1000
) -> dict[str, Any]:
    """Every model that answered *user_id* in ``[since, until)``, and the predictions themselves."""
    params = {"user": user_id, **query_period(since, until)}
    models = _run(store, "data_access_summary", params).dicts()
    # The newest *limit* predictions lie in the newest days that hold at least that many.
    newest = params["since"]
    seen = 0
    for day, predictions in _run(store, "data_access_days", params).rows:
        seen += predictions
        if seen >= limit:
            newest = max(newest, day)
            break
    requests = _run(store, "data_access_requests", {**params, "since": newest, "limit": limit}).dicts()
    decisions = _run(store, "data_access_decisions", {**params, "limit": limit}).dicts()
    first, last = _bounds(models, "first_prediction", "last_prediction")
    report = {
        "report": "data-access",
        "user_id": user_id,
        "since": stated_bound(since, first),
        "until": stated_bound(until, last),
        "total_requests": sum(row["predictions"] for row in models),
        "models_used": {row["model"]: row["predictions"] for row in models},
        "models": models,
        "requests": requests,
        "requests_truncated": len(requests) >= limit,
        "decisions": decisions,
        "decisions_truncated": len(decisions) >= limit,
    }
    if not models:
        report["note"] = _no_records(f"predictions for user {user_id!r}", since, until)
    return report


def version_at(store: Store, model: str, at: Any) -> dict[str, Any]:
    """Which version(s) of *model* served at time *at*.

    A version "served at T" when T lies between its first and last recorded prediction. When
    none does, ``latest_before`` names the last version seen before T.

    Raises:
        UnknownModelError: the store has never seen *model*.
    """
    when = to_utc(at, EPOCH)
    require_model(store, model)
    versions = _run(store, "version_at", {"model": model, "at": when, "since": EPOCH, "until": FAR_FUTURE}).dicts()
    for row in versions:
        row["serving_at"] = bool(row["serving_at"])
    serving = [row["version"] for row in versions if row["serving_at"]]
    before = [row for row in versions if row["last_prediction"] <= when]
    latest_before = max(before, key=lambda row: row["last_prediction"])["version"] if before else None
    return {
        "report": "version-at",
        "model": model,
        "at": when,
        "serving": serving,
        "latest_before": latest_before,
        "versions": versions,
    }


def request_record(store: Store, request_id: str) -> dict[str, Any]:
    """The full stored record(s) of *request_id* (input, output, model, version, timing…), and
    the decisions about them (reviews, ground truth, feedback), oldest first."""
    records = _run(store, "request", {"request_id": request_id}).dicts()
    decisions = _run(store, "request_decisions", {"request_id": request_id}).dicts()
    return {
        "report": "request",
        "request_id": request_id,
        "found": len(records),
        "records": records,
        "decisions": decisions,
    }


def user_request_ids(store: Store, user_id: str, *, limit: int = 100_000) -> list[str]:
    """The distinct request ids of *user_id*'s predictions (at most *limit*)."""
    return [str(row[0]) for row in _run(store, "user_request_ids", {"user": user_id, "limit": limit}).rows]


def conflicts(store: Store, *, since: Any = None, until: Any = None, limit: int = 10_000) -> dict[str, Any]:
    """Record ids that name more than one different stored row, with every variant.

    A retry that stored a record twice is not a conflict (same row); two different rows under
    one id are: both are kept and counted by every report, and ``verify`` flags the id.
    """
    rows = _run(store, "conflicts", {**query_period(since, until), "limit": limit}).dicts()
    times = [row["timestamp"] for row in rows]
    report: dict[str, Any] = {
        "report": "conflicts",
        "since": stated_bound(since, min(times, default=None)),
        "until": stated_bound(until, max(times, default=None)),
        "record_ids": len({row["record_id"] for row in rows}),
        "variants": len(rows),
        "conflicts": rows,
    }
    if not rows:
        report["note"] = _no_records("record ids shared by different records", since, until)
    return report


def input_lookup(store: Store, input_hash: str, *, limit: int = 1000) -> dict[str, Any]:
    """All predictions made for the input whose canonical hash is *input_hash*.

    Whole-input matches are under ``predictions``; rows of batch calls whose per-row hash
    matches are under ``batch_rows`` (with the row's position and output).

    Raises:
        QueryError: *input_hash* is not 64 lower-case hex digits.
    """
    digest = input_hash.strip().lower()
    if not _HEX64.match(digest):
        raise QueryError(f"{input_hash!r} is not a SHA-256 hex digest (64 hex digits)")
    rows = _run(store, "input_hash", {"input_hash": digest, "limit": limit}).dicts()
    report = {"report": "input", "input_hash": digest, "found": len(rows), "predictions": rows}
    # rows of batch calls (one record per call), found by their per-row hashes (audit.batch.input_hashes)
    batch_rows = _run(store, "input_hash_batch_rows", {"input_hash": digest, "limit": limit}).dicts()
    if batch_rows:
        report["found"] = len(rows) + len(batch_rows)
        report["batch_rows"] = batch_rows
    return report


def version_timeline(store: Store, model: str, *, since: Any = None, until: Any = None) -> dict[str, Any]:
    """Which versions of *model* served when in ``[since, until)``, and when the version changed.

    ``versions`` lists each version with its first and last prediction and ``replaced``: the
    version of the prediction just before its first one (``""`` for the first version). Each
    version but the first is a change point in ``changes``. ``daily`` counts predictions per UTC
    day and version.

    Raises:
        UnknownModelError: the store has never seen *model*.
    """
    params = {"model": model, **query_period(since, until)}
    require_model(store, model)
    return _version_timeline(store, model, params, since, until)


def _version_timeline(store: Store, model: str, params: dict[str, Any], since: Any, until: Any) -> dict[str, Any]:
    versions = _run(store, "version_timeline_versions", params).dicts()
    daily = _run(store, "daily_by_version", params).dicts()
    changes = [
        {"at": row["first_prediction"], "from_version": row["replaced"], "to_version": row["version"]}
        for row in versions
        if row["replaced"]
    ]
    first, last = _bounds(versions, "first_prediction", "last_prediction")
    report = {
        "report": "version-timeline",
        "model": model,
        "since": stated_bound(since, first),
        "until": stated_bound(until, last),
        "total_predictions": sum(row["predictions"] for row in versions),
        "versions": versions,
        "changes": changes,
        "daily": daily,
    }
    if not versions:
        report["note"] = _no_records(f"predictions of model {model!r}", since, until)
    return report


def outcome_mix(store: Store, model: str = "", *, since: Any = None, until: Any = None) -> dict[str, Any]:
    """Outcomes and error types of *model* (every model when empty) in ``[since, until)``.

    Raises:
        UnknownModelError: *model* is given and the store has never seen it.
    """
    params = {"model": model, **query_period(since, until)}
    if model:
        require_model(store, model)
    return _outcome_mix(store, model, params, since, until)


def _outcome_mix(store: Store, model: str, params: dict[str, Any], since: Any, until: Any) -> dict[str, Any]:
    rows = _run(store, "outcome_mix", params).dicts()
    totals: dict[str, int] = {}
    errors: dict[str, int] = {}
    for row in rows:
        totals[row["outcome"]] = totals.get(row["outcome"], 0) + row["predictions"]
        if row["outcome"] != "ok":
            key = row["error_type"] or "(none)"
            errors[key] = errors.get(key, 0) + row["predictions"]
    total = sum(totals.values())
    first, last = _bounds(rows, "first_seen", "last_seen")
    report = {
        "report": "outcomes",
        "model": model or "*",
        "since": stated_bound(since, first),
        "until": stated_bound(until, last),
        "total_predictions": total,
        "outcome_distribution": totals,
        "error_types": errors,
        "error_rate": (total - totals.get("ok", 0)) / total if total else 0.0,
        "rows": rows,
    }
    if not rows:
        report["note"] = _no_records(f"predictions of model {model!r}" if model else "predictions", since, until)
    return report


def redaction_counts(store: Store, model: str = "", *, since: Any = None, until: Any = None) -> dict[str, Any]:
    """How many predictions carry each ``audit.redaction.*`` attribute, per model, in ``[since, until)``.

    ``nonzero`` counts the predictions where the value is a number above 0 (something was
    redacted, for ``audit.redaction.count``); ``value_sum`` adds the numeric values up. The
    period stated is that of the predictions examined, whether they carry such an attribute or not.

    Raises:
        UnknownModelError: *model* is given and the store has never seen it.
    """
    params = {"model": model, "prefix": REDACTION_PREFIX, **query_period(since, until)}
    if model:
        require_model(store, model)
    return _redaction_counts(store, model, params, since, until)


def _redaction_counts(store: Store, model: str, params: dict[str, Any], since: Any, until: Any) -> dict[str, Any]:
    rows = _run(store, "redaction_counts", params).dicts()
    examined = _run(store, "period_bounds", {key: params[key] for key in ("model", "since", "until")}).dicts()[0]
    first, last = (
        (examined["first_prediction"], examined["last_prediction"]) if examined["stored_rows"] else (None, None)
    )
    by_attribute: dict[str, int] = {}
    for row in rows:
        by_attribute[row["attribute"]] = by_attribute.get(row["attribute"], 0) + row["predictions"]
    report = {
        "report": "redactions",
        "model": model or "*",
        "since": stated_bound(since, first),
        "until": stated_bound(until, last),
        "by_attribute": by_attribute,
        "rows": rows,
    }
    of_model = f" of model {model!r}" if model else ""
    if not examined["stored_rows"]:
        report["note"] = _no_records(f"predictions{of_model}", since, until)
    elif not rows:
        report["note"] = _no_records(f"predictions{of_model} carrying {REDACTION_PREFIX}* attributes", since, until)
    return report


def reproduce(store: Store, request_id: str) -> dict[str, Any]:
    """What is needed to reproduce *request_id*: its record, model and pipeline version, input.

    For each stored record, ``input_hash_verified`` says whether the stored input still hashes to
    the recorded input hash (False once redaction changed the input), and ``same_input`` lists
    every output the same model version gave for the same input.
    """
    records = _run(store, "request", {"request_id": request_id}).dicts()
    steps = []
    for record in records:
        try:
            stored_hash = hash_input(json.loads(record["input"])) if record["input"] else ""
        except ValueError:
            stored_hash = ""
        same_input = _run(
            store,
            "same_input_outputs",
            {"input_hash": record["input_hash"], "model": record["model"], "version": record["version"]},
        ).dicts()
        steps.append(
            {
                "record_id": record["record_id"],
                "timestamp": record["timestamp"],
                "model": record["model"],
                "version": record["version"],
                "pipeline_version": record["pipeline_version"],
                "input_hash": record["input_hash"],
                "input_hash_verified": stored_hash == record["input_hash"],
                "input": record["input"],
                "output": record["output"],
                "outcome": record["outcome"],
                "same_input": same_input,
            }
        )
    return {"report": "reproduce", "request_id": request_id, "found": len(records), "records": steps}


def compliance(
    store: Store,
    model: str,
    *,
    since: Any = None,
    until: Any = None,
    verifier: NoteVerifier | None = None,
    check_integrity: bool = True,
) -> dict[str, Any]:
    """Everything the HTML compliance page shows for *model* in ``[since, until)``.

    Usage summary, version timeline with daily volume per version, latency histogram (buckets
    bounded by :data:`LATENCY_EDGES_MS`), outcome/error mix, redactions and integrity. The period
    and ``note`` are those of the usage summary; ``bounds`` says where each end of the period
    comes from (``given``, exclusive for ``until``, or the ``first record``/``last record``).

    ``redaction`` counts predictions, never attributes: ``predictions`` in the period,
    ``redacted`` (``audit.redaction.count`` above 0), ``failed`` (redaction failed closed,
    ``audit.redaction.error``) and ``by_detector`` (predictions where ``audit.redaction.<name>``
    is above 0), each a share of all ``predictions``.

    ``integrity`` is :func:`otel_audit.answer.integrity.integrity`: the last signed checkpoint,
    its signer, sealed and unsealed records, and a verification run made now (signatures are
    checked only with *verifier*; ``check_integrity=False`` skips the run and says so).

    Raises:
        UnknownModelError: the store has never seen *model*.
    """
    from otel_audit.answer.integrity import integrity

    params = {"model": model, **query_period(since, until)}
    require_model(store, model)
    usage = _model_usage(store, model, params, since, until)
    timeline = _version_timeline(store, model, params, since, until)
    outcomes = _outcome_mix(store, model, params, since, until)
    counts = {
        row["bucket"]: row["predictions"]
        for row in _run(store, "latency_histogram", {**params, "edges": list(LATENCY_EDGES_MS)}).dicts()
    }
    lows = (0.0, *LATENCY_EDGES_MS)
    highs = (*LATENCY_EDGES_MS, None)
    histogram = [
        {"low_ms": low, "high_ms": high, "predictions": counts.get(index, 0)}
        for index, (low, high) in enumerate(zip(lows, highs, strict=True), start=1)
    ]
    report = {
        "report": "compliance",
        "model": model,
        "since": usage["since"],
        "until": usage["until"],
        "bounds": {
            "since": "given" if since is not None else "first record",
            "until": "given, exclusive" if until is not None else "last record",
        },
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        "summary": {k: v for k, v in usage.items() if k not in ("report", "model", "since", "until", "note")},
        "integrity": integrity(
            store, model, params, since=since, until=until, verifier=verifier, check=check_integrity
        ),
        "redaction": _compliance_redaction(store, params),
        "versions": timeline["versions"],
        "changes": timeline["changes"],
        "daily": timeline["daily"],
        "latency_histogram": histogram,
        "outcomes": outcomes["rows"],
        "oversight": _compliance_oversight(store, model, since, until),
    }
    if "note" in usage:
        report["note"] = usage["note"]
    return report


def oversight(store: Store, model: str, *, since: Any = None, until: Any = None) -> dict[str, Any]:
    """Human oversight of *model* in ``[since, until)``: review coverage, override rates by
    version and reviewer, time to review, agreement with ground truth, decisions on unknown
    predictions (:mod:`otel_audit.answer.oversight`).

    Raises:
        UnknownModelError: the store has never seen *model*.
    """
    from otel_audit.answer.oversight import oversight_figures

    params = {"model": model, **query_period(since, until)}
    require_model(store, model)
    report = oversight_figures(store, model, params, since, until)
    if not report["total_predictions"]:
        report["note"] = _no_records(f"predictions of model {model!r}", since, until)
    return report


def _compliance_oversight(store: Store, model: str, since: Any, until: Any) -> dict[str, Any]:
    """The oversight report's figures for the compliance page (the model is known already)."""
    from otel_audit.answer.oversight import oversight_figures

    report = oversight_figures(store, model, {"model": model, **query_period(since, until)}, since, until)
    return {k: v for k, v in report.items() if k not in ("report", "model", "since", "until", "note")}


def _compliance_redaction(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    """Predictions with any redaction, failed redactions and predictions per detector (see :func:`compliance`)."""
    row = _run(store, "compliance_redactions", params).dicts()[0]
    names, predictions = row["by_detector"]
    by_detector = {
        name.removeprefix(REDACTION_PREFIX): int(count) for name, count in zip(names, predictions, strict=True)
    }
    return {
        "predictions": row["predictions"],
        "redacted": row["redacted"],
        "failed": row["failed"],
        "by_detector": _by_count(by_detector),
    }
