"""The oversight report: how humans reviewed one model's predictions, and how right it was.

``otel-audit report oversight --model M [--since --until]`` reads the decisions on the record
(``audit_events``: reviews, ground truth, feedback; docs/conventions.md) about the predictions of
*M* in ``[since, until)``:

* **review coverage**: the share of predictions with at least one review;
* **override rate**: overrides per review, by model version and by reviewer (escalations too);
* **time to review**: seconds from a prediction to its first review, p50 and p95;
* **agreement with ground truth**, by version: accuracy of the prediction's output label against
  the latest observed outcome, and the confusion matrix (predicted label x observed outcome);
  predictions without a label, and erased labels or outcomes, are left out of it;
* **decisions on unknown predictions**: decisions made in the period about *M* (or naming no
  model) whose prediction is not in the store. They are kept, sealed and listed, never dropped.

A decision names its prediction by ``TargetRecordId``; one that gives none by
``TargetRequestId``. The SQL is in ``clickhouse/queries/oversight_*.sql``.
:func:`otel_audit.answer.queries.oversight` is the report (it checks the model and states an
empty period in words); this module computes its figures.
"""

from __future__ import annotations

from typing import Any

from otel_audit.periods import stated_bound
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["UNKNOWN_LIMIT", "oversight_figures"]

UNKNOWN_LIMIT = 1000
"""Most decisions on unknown predictions listed (all are counted)."""


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def oversight_figures(
    store: Store, model: str, params: dict[str, Any], since: Any = None, until: Any = None
) -> dict[str, Any]:
    """Review coverage, override rates, time to review, agreement with ground truth and
    decisions on unknown predictions of *model* in the period of *params* (``model``, ``since``,
    ``until`` query parameters; *since*/*until* as given, for the period stated)."""
    versions = store.query(query_sql("oversight_versions"), params).dicts()
    times = store.query(query_sql("oversight_review_time"), params).dicts()
    reviewers = store.query(query_sql("oversight_reviewers"), params).dicts()
    confusion = store.query(query_sql("oversight_confusion"), params).dicts()
    unknown = store.query(query_sql("oversight_unknown"), {**params, "limit": UNKNOWN_LIMIT}).dicts()

    per_version_time = {row["version"]: row["seconds_p50_p95"] for row in times if not row["all_versions"]}
    overall_time = next((row["seconds_p50_p95"] for row in times if row["all_versions"]), None)
    compared: dict[str, int] = {}
    correct: dict[str, int] = {}
    for row in confusion:
        compared[row["version"]] = compared.get(row["version"], 0) + row["predictions"]
        if row["predicted"] == row["actual"]:
            correct[row["version"]] = correct.get(row["version"], 0) + row["predictions"]
    rows = []
    for row in versions:
        version = row["version"]
        seconds = per_version_time.get(version)
        rows.append(
            {
                "version": version,
                "predictions": row["predictions"],
                "reviewed": row["reviewed"],
                "review_coverage_share": _rate(row["reviewed"], row["predictions"]),
                "reviews": row["reviews"],
                "overrides": row["overrides"],
                "override_rate": _rate(row["overrides"], row["reviews"]),
                "escalations": row["escalations"],
                "review_seconds_p50": seconds[0] if seconds else None,
                "review_seconds_p95": seconds[1] if seconds else None,
                "labelled": row["labelled"],
                "compared": compared.get(version, 0),
                "correct": correct.get(version, 0),
                "accuracy": _rate(correct.get(version, 0), compared.get(version, 0)),
                "feedback": row["feedback"],
            }
        )
    total = sum(row["predictions"] for row in rows)
    reviewed = sum(row["reviewed"] for row in rows)
    reviews = sum(row["reviews"] for row in rows)
    overrides = sum(row["overrides"] for row in rows)
    first = min((row["first_prediction"] for row in versions), default=None)
    last = max((row["last_prediction"] for row in versions), default=None)
    report: dict[str, Any] = {
        "report": "oversight",
        "model": model,
        "since": stated_bound(since, first),
        "until": stated_bound(until, last),
        "total_predictions": total,
        "reviewed_predictions": reviewed,
        "review_coverage_share": _rate(reviewed, total),
        "reviews": reviews,
        "overrides": overrides,
        "override_rate": _rate(overrides, reviews),
        "escalations": sum(row["escalations"] for row in rows),
        "review_seconds_p50": overall_time[0] if overall_time else None,
        "review_seconds_p95": overall_time[1] if overall_time else None,
        "labelled_predictions": sum(row["labelled"] for row in rows),
        "accuracy": _rate(sum(correct.values()), sum(compared.values())),
        "feedback": sum(row["feedback"] for row in rows),
        "unknown_target_decisions": len(unknown),
        "versions": rows,
        "reviewers": [
            {
                "reviewer": row["reviewer"],
                "reviews": row["reviews"],
                "overrides": row["overrides"],
                "override_rate": _rate(row["overrides"], row["reviews"]),
                "escalations": row["escalations"],
                "predictions_reviewed": row["predictions_reviewed"],
                "review_seconds_p50": row["seconds_p50"],
            }
            for row in reviewers
        ],
        "confusion": confusion,
        "unknown_targets": unknown,
    }
    return report
