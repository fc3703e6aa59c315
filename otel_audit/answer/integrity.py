"""The integrity section of a compliance report: what the seal covers, and whether it still holds.

:func:`integrity` answers, for one model and period, while the report is built:

* the last signed checkpoint of the store's Merkle tree (tree size, root, origin, when it was
  signed) and who signed it: the key name and key id of each signature line of its C2SP note;
* how many of the model's records in the period a leaf seals, and how many are not sealed yet;
* the result of :func:`otel_audit.seal.verify.verify` over the records of the period (every model:
  the tree is shared) and the whole tree: ``ok``, the number of problems and the first one, which
  names the first bad record. Records not sealed yet are counted, not failed (a scheduled sealer
  lags behind intake); a store never sealed has no checkpoint and says so.

Checkpoint signatures are checked only with a verifier key; without one the section says
``signatures_checked: false``, and a forged checkpoint whose root matches forged leaves would go
unseen. The key must come from the store's owner, not from the store.
"""

from __future__ import annotations

import base64
import contextlib
from typing import TYPE_CHECKING, Any

from otel_audit.errors import OtelAuditError
from otel_audit.seal.checkpoint import note_signers, parse_checkpoint
from otel_audit.seal.stored import load_checkpoints
from otel_audit.seal.verify import verify
from otel_audit.store.sql import query_sql

if TYPE_CHECKING:
    from otel_audit.seal.checkpoint import NoteVerifier
    from otel_audit.store.connect import Store

__all__ = ["PROBLEMS_SHOWN", "integrity"]

PROBLEMS_SHOWN = 20
"""Most verification problems a report lists (all are counted)."""


def _checkpoint(store: Store) -> dict[str, Any] | None:
    checkpoints = load_checkpoints(store)
    if not checkpoints:
        return None
    last = checkpoints[-1]
    origin = ""
    with contextlib.suppress(OtelAuditError):  # verify() reports a malformed note; size and root are the row's
        origin = parse_checkpoint(last.note.partition("\n\n")[0] + "\n").origin
    signers = note_signers(last.note)
    return {
        "tree_size": last.tree_size,
        "root": last.root_hex,
        "root_base64": base64.b64encode(bytes.fromhex(last.root_hex)).decode() if last.root_hex else "",
        "origin": origin,
        "signed_at": last.sealed_at,
        "signer": ", ".join(name for name, _ in signers),
        "signer_key_id": ", ".join(key_id for _, key_id in signers),
        "checkpoints": len(checkpoints),
    }


def integrity(
    store: Store,
    model: str,
    params: dict[str, Any],
    *,
    since: Any = None,
    until: Any = None,
    verifier: NoteVerifier | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """The integrity section of *model*'s compliance report (see the module docstring).

    Args:
        store: the audit store.
        model: the model the report is about.
        params: the report's query bounds (``since``, ``until``: datetimes).
        since, until: the bounds the caller gave (``None`` for open): verification checks the
            records stored in that period, and the whole tree.
        verifier: the checkpoint verifier key; ``None`` checks no signature (stated).
        check: run the verification (it reads every record of the period: about 29,000 a
            second); ``False`` states that it was skipped.

    Returns:
        Plain data: ``status`` (``verified``, ``failed``, ``not sealed``: no checkpoint and no
        problem, or ``not run``: verification could not run, with ``error``), ``verified``
        (``True``/``False``, ``None`` when not run), ``signatures_checked``, ``verifier_key``,
        ``checkpoint`` (``None`` when the store was never sealed); the model's ``records``,
        ``sealed_records`` and ``unsealed_records`` in the period; ``store_unsealed_records``,
        ``records_checked``, ``problems`` (their number), ``first_bad_record``, ``first_problem``
        and ``problem_list`` (at most :data:`PROBLEMS_SHOWN`).
    """
    counts = store.query(query_sql("compliance_sealed"), {"model": model, **params}).dicts()[0]
    section: dict[str, Any] = {
        "status": "not run",
        "verified": None,
        "signatures_checked": verifier is not None,
        "verifier_key": f"{verifier.name}+{verifier.key_id.hex()}" if verifier is not None else None,
        "checkpoint": _checkpoint(store),
        "records": counts["records"],
        "sealed_records": counts["sealed"],
        "unsealed_records": counts["records"] - counts["sealed"],
    }
    if not check:
        section["error"] = "verification skipped when the report was made"
        return section
    try:
        report = verify(store, verifier, since=since, until=until, allow_unsealed=True)
    except OtelAuditError as error:
        section["error"] = f"verification could not run: {error}"
        return section
    first = report.first_bad
    status = "verified" if report.ok else "failed"
    if report.ok and section["checkpoint"] is None:
        status = "not sealed"
    section.update(
        {
            "status": status,
            "verified": report.ok,
            "records_checked": report.records_checked,
            "store_unsealed_records": report.unsealed,
            "problems": len(report.problems),
            "first_bad_record": first.record_id if first is not None else None,
            "first_problem": str(first) if first is not None else None,
            "problem_list": [str(problem) for problem in report.problems[:PROBLEMS_SHOWN]],
        }
    )
    return section
