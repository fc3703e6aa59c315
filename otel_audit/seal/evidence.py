"""Evidence packs: what an auditor needs to check one model's records offline.

A pack is a folder:

==================  =================================================================
file                content
==================  =================================================================
``records.parquet``  the model's records in the period, one per stored record: the leaf fields
                     (:data:`otel_audit.seal.leaf.RECORD_FIELDS`), ``output_label``/``input``/
                     ``output`` as stored (tombstones if erased) and ``leaf_index``
``proofs.json``      the inclusion path of every record in the latest checkpoint's tree
``checkpoints.json`` every signed checkpoint up to the latest, and the RFC 9162 consistency
                     proof from each to the next
``erasures.json``    the erasure-log rows of the pack's records (and of their decisions)
``events.json``      the decisions on the record about the pack's records (reviews, ground
                     truth, feedback): each one's event leaf (version 4), its content as stored
                     (``null`` when erased) and its inclusion path; packs written before it
                     existed, which neither have nor list it, still verify
``model-usage.json`` the ``otel-audit report model-usage`` report for the same model and period
``pack.json``        what the pack covers: model, period, origin, tree size, counts, verifier key
``summary.html``     the same for people, with every file's SHA-256 and the exact ``otel-audit
                     verify-pack`` command line (self-contained, no script)
``MANIFEST``         a signed note: ``otel-audit-evidence/1`` then ``<sha256 hex> <file>`` per file,
                     ``summary.html`` included (:mod:`otel_audit.seal.manifest`)
==================  =================================================================

The folder is created ``0700`` and its files ``0600``, whatever the umask.

:func:`verify_pack` needs only the folder and the verifier key. It checks the manifest's
signature over its exact bytes, that the folder holds exactly the listed files, each a regular
file (a symbolic link or FIFO is refused, never followed or waited on), with those checksums,
every checkpoint signature and consistency proof, and every record's leaf and inclusion proof.
Each file is read once: what is parsed is the bytes whose checksum was checked. ``summary.html``
is checked like every file; packs written before it existed, which neither have nor list it,
still verify.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

from otel_audit._files import make_private_dir, open_private_file, write_private_file
from otel_audit.answer import queries
from otel_audit.answer.reports import render_report
from otel_audit.periods import EPOCH, FAR_FUTURE, to_utc
from otel_audit.seal._errors import NoteError, SealError
from otel_audit.seal._pack_summary import SUMMARY, render_summary
from otel_audit.seal.checkpoint import NoteSigner, NoteVerifier, open_note, parse_checkpoint, strict_b64decode
from otel_audit.seal.leaf import (
    EVENT_CONTENT_FIELDS,
    RECORD_FIELDS,
    event_leaf_object,
    is_tombstone,
    leaf_data,
    leaf_hashes,
)
from otel_audit.seal.manifest import file_sha256, open_manifest, read_listed, write_manifest
from otel_audit.seal.merkle import MerkleTree, hash_leaf, verify_consistency, verify_inclusion
from otel_audit.seal.stored import load_checkpoints, load_leaves
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["PACK_FORMAT", "SUMMARY", "build_pack", "verify_pack"]

PACK_FORMAT = "otel-audit-evidence/1"
_FILES = ("checkpoints.json", "erasures.json", "model-usage.json", "pack.json", "proofs.json", "records.parquet")
_EVENTS = "events.json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _records_table(rows: list[dict[str, Any]], indexes: list[int]) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {"leaf_index": pa.array(indexes, pa.uint64())}
    for name in (*RECORD_FIELDS, "output_label", "input", "output"):
        values = [row[name] for row in rows]
        if name == "attributes":
            columns[name] = pa.array([list(value.items()) for value in values], pa.map_(pa.string(), pa.string()))
        elif name == "latency_ms":
            columns[name] = pa.array(values, pa.float64())
        elif name == "batch_size":
            columns[name] = pa.array(values, pa.uint32())
        else:
            columns[name] = pa.array(values, pa.string())
    return pa.table(columns)


def build_pack(
    store: Store,
    signer: NoteSigner,
    model: str,
    out: Path,
    *,
    since: Any = None,
    until: Any = None,
    allow_empty: bool = False,
) -> dict[str, Any]:
    """Write the evidence pack of *model* over ``[since, until)`` into the empty folder *out*.

    ``pack.json`` states the period as the reports do (docs/reports.md): the bounds given, else
    the times of the first and last record packed (``null`` for none).

    Returns:
        The content of ``pack.json``.

    Raises:
        UnknownModelError: the store has never seen *model* (nothing is written).
        SealError: *out* is not empty, nothing is sealed, the period holds no record of *model*
            and *allow_empty* is false, a record of the period is not sealed yet or no longer
            matches its leaf.
    """
    import pyarrow.parquet as pq

    start, end = to_utc(since, EPOCH), to_utc(until, FAR_FUTURE)
    queries.require_model(store, model)
    if out.exists() and any(out.iterdir()):
        raise SealError(f"{out} is not empty; an evidence pack needs a new folder")
    checkpoints = load_checkpoints(store)
    if not checkpoints:
        raise SealError("nothing is sealed yet; run `otel-audit seal` first")
    latest = checkpoints[-1]
    leaves = load_leaves(store)[: latest.tree_size]
    index_of = {leaf["LeafHash"]: i for i, leaf in enumerate(leaves)}
    rows = store.query(query_sql("seal_model_records"), {"model": model, "since": start, "until": end}).dicts()
    usage = queries.model_usage(store, model, since=since, until=until)
    if not rows and not allow_empty:
        raise SealError(
            f"{usage.get('note') or f'no records of model {model!r} in the period'}: a pack of zero "
            "records proves nothing about them; pass --allow-empty to write one anyway, or choose another period"
        )
    indexes = []
    sealed_ids = {leaf["RecordId"] for leaf in leaves}
    for row in rows:
        # Found by its hash, in whichever leaf version it was sealed as (one id may name two rows).
        index = next((index_of[h.hex()] for h in leaf_hashes(row) if h.hex() in index_of), None)
        if index is None and row["record_id"] in sealed_ids:
            raise SealError(f"record {row['record_id']} differs from its sealed leaf; run `otel-audit verify`")
        if index is None:
            raise SealError(f"record {row['record_id']} is not sealed yet; run `otel-audit seal` first")
        indexes.append(index)
    tree = MerkleTree([bytes.fromhex(leaf["LeafHash"]) for leaf in leaves])
    events = _pack_events(store, rows, index_of, tree, latest.tree_size)
    make_private_dir(out)
    with open_private_file(out / "records.parquet", exclusive=True) as handle:
        pq.write_table(_records_table(rows, indexes), handle)
    proofs = [
        {
            "record_id": row["record_id"],
            "leaf_index": index,
            "path": [_b64(node) for node in tree.inclusion_proof(index, latest.tree_size)],
        }
        for row, index in zip(rows, indexes, strict=True)
    ]
    _write(out / "proofs.json", _json({"tree_size": latest.tree_size, "proofs": proofs}))
    consistency = [
        {
            "from": old.tree_size,
            "to": new.tree_size,
            "proof": [_b64(node) for node in tree.consistency_proof(old.tree_size, new.tree_size)],
        }
        for old, new in itertools.pairwise(checkpoints)
    ]
    notes = [{"tree_size": cp.tree_size, "note": cp.note} for cp in checkpoints]
    _write(out / "checkpoints.json", _json({"checkpoints": notes, "consistency": consistency}))
    _write(out / _EVENTS, _json({"tree_size": latest.tree_size, "events": events}))
    wanted = {row["record_id"] for row in rows} | {event["record"]["record_id"] for event in events}
    erasures = [row for row in store.query(query_sql("seal_erasures")).dicts() if row["RecordId"] in wanted]
    _write(out / "erasures.json", _json(erasures))
    _write(out / "model-usage.json", render_report(usage, "json") + "\n")
    pack = {
        "format": PACK_FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "model": model,
        "since": None if usage["since"] is None else usage["since"].isoformat(),
        "until": None if usage["until"] is None else usage["until"].isoformat(),
        "origin": parse_checkpoint(latest.note.partition("\n\n")[0] + "\n").origin,
        "tree_size": latest.tree_size,
        "root": latest.root_hex,
        "records": len(rows),
        "events": len(events),
        "erased_records": len({row["RecordId"] for row in erasures}),
        "verifier_key": str(signer.verifier),
    }
    _write(out / "pack.json", _json(pack))
    files = {name: (file_sha256(out / name), (out / name).stat().st_size) for name in (*_FILES, _EVENTS)}
    _write(out / SUMMARY, render_summary(pack, files, latest.note, out.name))
    write_manifest(out, PACK_FORMAT, (*_FILES, _EVENTS, SUMMARY), signer)
    return pack


def _pack_events(
    store: Store, rows: list[dict[str, Any]], index_of: dict[str, int], tree: MerkleTree, size: int
) -> list[dict[str, Any]]:
    """The decisions about the pack's *rows*, each with its leaf, stored content and inclusion path.

    Raises:
        SealError: a decision is not sealed yet, or no longer matches its leaf.
    """
    params = {
        "record_ids": [row["record_id"] for row in rows],
        "request_ids": sorted({row["request_id"] for row in rows if row["request_id"]}),
    }
    events = []
    for row in store.query(query_sql("seal_model_events"), params).dicts():
        leaf = event_leaf_object(row)
        index = index_of.get(hash_leaf(leaf_data(leaf)).hex())
        if index is None:
            raise SealError(
                f"{row['event_name']} {row['record_id']} is not sealed yet or differs from its leaf; "
                "run `otel-audit seal`, then `otel-audit verify`"
            )
        content = {name: None if is_tombstone(row[name]) else row[name] for name in EVENT_CONTENT_FIELDS}
        path = [_b64(node) for node in tree.inclusion_proof(index, size)]
        events.append({"record": leaf, "content": content, "leaf_index": index, "path": path})
    return events


def _verify_events(data: bytes, latest: Any) -> int:
    """Check ``events.json``: every event's content against its leaf, and its leaf in the signed tree."""
    stored = _load_json(_EVENTS, data)
    if stored.get("tree_size") != latest.size:
        raise SealError("events.json names another tree size than the latest checkpoint")
    for event in stored["events"]:
        record, index = event["record"], event["leaf_index"]
        name = f"{record.get('kind')} {record.get('record_id')}"
        for field, text in event["content"].items():
            if text is not None and hashlib.sha256(text.encode()).hexdigest() != record.get(f"{field}_sha256"):
                raise SealError(f"{name}: its {field} does not match the hash in its leaf")
        nodes = _decode_path(event["path"], name)
        if not verify_inclusion(hash_leaf(leaf_data(record)), index, latest.size, nodes, latest.root):
            raise SealError(f"{name} (leaf {index}) is not in the signed tree")
    return len(stored["events"])


def _write(path: Path, text: str) -> None:
    write_private_file(path, text, exclusive=True)


def _load_json(name: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError as error:
        raise SealError(f"{name}: {error}") from None


def _decode_path(nodes: Any, what: str) -> list[bytes]:
    try:
        return [strict_b64decode(node) for node in nodes]
    except (binascii.Error, ValueError, TypeError):
        raise SealError(f"{what}: a proof hash is not base64") from None


def verify_pack(folder: Path, verifier: NoteVerifier) -> dict[str, Any]:  # noqa: PLR0912
    """Verify an evidence pack offline.

    Returns:
        ``pack.json``'s content plus ``verified_records``.

    Raises:
        SealError: the first problem found (altered, missing or extra file, bad signature or proof).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    listed = open_manifest(folder, PACK_FORMAT, verifier)
    if set(listed) - {SUMMARY, _EVENTS} != set(_FILES):
        raise SealError(f"the manifest lists {sorted(listed)}, an evidence pack holds {sorted(_FILES)} (and {SUMMARY})")
    data = {name: read_listed(folder, name, digest) for name, digest in listed.items()}

    pack = _load_json("pack.json", data["pack.json"])
    stored = _load_json("checkpoints.json", data["checkpoints.json"])
    checkpoints = []
    for item in stored["checkpoints"]:
        try:
            checkpoint = parse_checkpoint(open_note(item["note"], verifier))
        except NoteError as error:
            raise SealError(f"checkpoint of tree size {item.get('tree_size')}: {error}") from None
        checkpoints.append(checkpoint)
    if not checkpoints:
        raise SealError("the pack has no checkpoint")
    for proof, old, new in zip(stored["consistency"], checkpoints, checkpoints[1:], strict=False):
        nodes = _decode_path(proof["proof"], "consistency proof")
        if not verify_consistency(old.size, new.size, old.root, new.root, nodes):
            raise SealError(f"checkpoint {old.size} is not a prefix of checkpoint {new.size}")
    if len(stored["consistency"]) != len(checkpoints) - 1:
        raise SealError("checkpoints.json lacks a consistency proof")
    latest = checkpoints[-1]
    proofs = _load_json("proofs.json", data["proofs.json"])
    if proofs["tree_size"] != latest.size or pack["tree_size"] != latest.size:
        raise SealError("proofs.json or pack.json name another tree size than the latest checkpoint")
    try:
        records = pq.read_table(pa.BufferReader(data["records.parquet"])).to_pylist()
    except (pa.ArrowException, OSError) as error:
        raise SealError(f"records.parquet: {error}") from None
    if len(records) != len(proofs["proofs"]) or len(records) != pack["records"]:
        raise SealError("records.parquet, proofs.json and pack.json disagree on the number of records")
    for record, proof in zip(records, proofs["proofs"], strict=True):
        record["attributes"] = dict(record["attributes"])
        index = record["leaf_index"]
        if proof["record_id"] != record["record_id"] or proof["leaf_index"] != index:
            raise SealError(f"record {record['record_id']}: its proof is for another record")
        if record["model_name"] != pack["model"]:
            raise SealError(f"record {record['record_id']} is of model {record['model_name']}, not {pack['model']}")
        nodes = _decode_path(proof["path"], f"record {record['record_id']}")
        if not any(verify_inclusion(h, index, latest.size, nodes, latest.root) for h in leaf_hashes(record)):
            raise SealError(f"record {record['record_id']} (leaf {index}) is not in the signed tree")
    usage = _load_json("model-usage.json", data["model-usage.json"])
    if usage.get("total_predictions") != len(records):
        raise SealError("model-usage.json counts another number of predictions than records.parquet holds")
    verified_events = _verify_events(data[_EVENTS], latest) if _EVENTS in data else 0
    return {**pack, "verified_records": len(records), "verified_events": verified_events}
