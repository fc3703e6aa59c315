"""Per-prediction receipts: an inclusion proof a person can check offline.

A receipt is one canonical JSON object (RFC 8785, as :mod:`otel_audit.emit.hashing` writes it)
followed by a newline::

    {"checkpoint": "<signed note>", "format": "otel-audit-receipt/1",
     "inclusion_path": ["<base64 hash>", ...], "input": "<stored input text>" | null,
     "leaf_index": 7, "output": "<stored output text>" | null,
     "record": {<leaf object, see otel_audit.seal.leaf>}, "tree_size": 12}

:func:`verify_receipt` accepts the file only if its bytes are exactly that canonical encoding, so
changing any byte of it makes verification fail. It needs only the verifier key. A receipt whose
content is intact but whose bytes are not (line endings changed to CR LF, whitespace added,
re-indented by a JSON pretty-printer) is refused with a message that says which, since a
re-formatted file cannot be told from an edited one by its signature: keep the original bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from otel_audit.emit.hashing import canonical_json
from otel_audit.seal._errors import NoteError, SealError
from otel_audit.seal.checkpoint import NoteVerifier, open_note, parse_checkpoint, strict_b64decode
from otel_audit.seal.leaf import LEAF_VERSION, event_leaf_object, is_tombstone, leaf_data, leaf_object
from otel_audit.seal.merkle import MerkleTree, hash_leaf, verify_inclusion
from otel_audit.seal.stored import load_checkpoints, load_leaves
from otel_audit.store.connect import Store
from otel_audit.store.sql import query_sql

__all__ = ["RECEIPT_FORMAT", "build_event_receipt", "build_receipt", "encode_receipt", "verify_receipt"]

RECEIPT_FORMAT = "otel-audit-receipt/1"
_KEYS = {"checkpoint", "format", "inclusion_path", "input", "leaf_index", "output", "record", "tree_size"}


def build_receipt(store: Store, request_id: str, *, record_id: str | None = None) -> dict[str, Any]:
    """The receipt of the record of *request_id*, proven against the latest checkpoint.

    Raises:
        SealError: no such record, several records and no *record_id*, the record is not sealed
            yet, or it no longer matches its leaf.
    """
    rows = store.query(query_sql("seal_request_records"), {"request_id": request_id}).dicts()
    if record_id is not None:
        rows = [row for row in rows if row["record_id"] == record_id]
    if not rows:
        raise SealError(f"no audit record with request id {request_id!r}")
    if len(rows) > 1:
        ids = ", ".join(row["record_id"] for row in rows)
        raise SealError(f"request id {request_id!r} has several records ({ids}); pick one with --record-id")
    record = rows[0]
    leaves = load_leaves(store)
    # The leaf is found by its hash (one id may name two rows, each sealed), in the leaf version
    # it was sealed as.
    by_hash = {stored["LeafHash"]: i for i, stored in enumerate(leaves)}
    leaf, index = leaf_object(record), None
    for version in (LEAF_VERSION, 2):
        candidate = leaf_object(record, version)
        index = by_hash.get(hash_leaf(leaf_data(candidate)).hex())
        if index is not None:
            leaf = candidate
            break
    checkpoints = load_checkpoints(store)
    if index is None:
        if any(stored["RecordId"] == record["record_id"] for stored in leaves):
            raise SealError(f"record {record['record_id']} differs from its sealed leaf; run `otel-audit verify`")
        raise SealError(f"record {record['record_id']} is not sealed yet; run `otel-audit seal`")
    if not checkpoints or checkpoints[-1].tree_size <= index:
        raise SealError(f"record {record['record_id']} is not sealed yet; run `otel-audit seal`")
    latest = checkpoints[-1]
    tree = MerkleTree([bytes.fromhex(row["LeafHash"]) for row in leaves[: latest.tree_size]])
    path = tree.inclusion_proof(index, latest.tree_size)
    return {
        "format": RECEIPT_FORMAT,
        "record": leaf,
        "input": None if is_tombstone(record["input"]) else record["input"],
        "output": None if is_tombstone(record["output"]) else record["output"],
        "leaf_index": index,
        "tree_size": latest.tree_size,
        "inclusion_path": [base64.b64encode(node).decode() for node in path],
        "checkpoint": latest.note,
    }


def build_event_receipt(store: Store, record_id: str) -> dict[str, Any]:
    """The receipt of the audit event (review, ground truth, feedback, access event) *record_id*.

    Same format as a prediction's (:func:`build_receipt`): ``record`` is the event's version-4
    leaf, ``input`` and ``output`` are ``null``; :func:`verify_receipt` checks it unchanged. With
    the receipt of the prediction it names, it proves both are in one signed tree, in order.

    Raises:
        SealError: no such event, several stored rows under its id, or it is not sealed yet.
    """
    rows = store.query(query_sql("seal_event_record"), {"record_id": record_id}).dicts()
    if not rows:
        raise SealError(f"no audit event with record id {record_id!r}")
    if len(rows) > 1:
        raise SealError(f"record id {record_id!r} names {len(rows)} different stored events; run `otel-audit verify`")
    leaf = event_leaf_object(rows[0])
    leaves = load_leaves(store)
    index = {stored["LeafHash"]: i for i, stored in enumerate(leaves)}.get(hash_leaf(leaf_data(leaf)).hex())
    checkpoints = load_checkpoints(store)
    if index is None or not checkpoints or checkpoints[-1].tree_size <= index:
        raise SealError(
            f"{leaf['kind']} {record_id} is not sealed yet, or differs from its leaf; run `otel-audit seal`"
        )
    latest = checkpoints[-1]
    tree = MerkleTree([bytes.fromhex(row["LeafHash"]) for row in leaves[: latest.tree_size]])
    return {
        "format": RECEIPT_FORMAT,
        "record": leaf,
        "input": None,
        "output": None,
        "leaf_index": index,
        "tree_size": latest.tree_size,
        "inclusion_path": [base64.b64encode(node).decode() for node in tree.inclusion_proof(index, latest.tree_size)],
        "checkpoint": latest.note,
    }


def encode_receipt(receipt: dict[str, Any]) -> str:
    """The receipt file text: canonical JSON and a newline."""
    return canonical_json(receipt)[1] + "\n"


def _reformatting(data: bytes, canonical: bytes) -> str:
    """How *data* differs from the *canonical* bytes of the same receipt, in words."""
    if b"\r" in data and data.replace(b"\r\n", b"\n") == canonical:
        return "its line endings were changed to CR LF"
    if data.strip() == canonical.strip():
        return "whitespace was added or removed around it"
    if b"\n" in data.strip():
        return "it was re-indented (pretty-printed)"
    return "its JSON was re-written (spacing, key order or escapes differ)"


def verify_receipt(data: bytes | str, verifier: NoteVerifier) -> dict[str, Any]:
    """Check a receipt offline and return what it proves.

    Args:
        data: the receipt file's bytes, exactly as read (text is taken as its UTF-8 encoding).
        verifier: the seal's verifier key.

    Returns:
        ``record_id``, ``request_id``, ``timestamp``, ``model``, ``leaf_index``, ``tree_size``,
        ``origin`` and ``root`` (hex).

    Raises:
        SealError: the receipt is malformed, altered, or not signed by *verifier*.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        receipt = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise SealError("receipt is not JSON (UTF-8)") from None
    if not isinstance(receipt, dict) or set(receipt) != _KEYS or receipt["format"] != RECEIPT_FORMAT:
        raise SealError(f"not an {RECEIPT_FORMAT} receipt")
    try:
        canonical = encode_receipt(receipt).encode("utf-8")
    except (TypeError, ValueError):
        raise SealError(f"not an {RECEIPT_FORMAT} receipt: it holds values canonical JSON cannot encode") from None
    if raw != canonical:
        raise SealError(
            f"receipt is not in its canonical byte form: {_reformatting(raw, canonical)}; it was re-formatted "
            "or edited: keep the original bytes written by `otel-audit prove`"
        )
    try:
        checkpoint = parse_checkpoint(open_note(receipt["checkpoint"], verifier))
    except NoteError as error:
        raise SealError(f"receipt checkpoint: {error}") from None
    record = receipt["record"]
    index, size = receipt["leaf_index"], receipt["tree_size"]
    if not isinstance(record, dict) or not isinstance(index, int) or size != checkpoint.size:
        raise SealError("receipt tree size differs from its checkpoint's")
    for name, key in (("input", "input_sha256"), ("output", "output_sha256")):
        content = receipt[name]
        if content is not None and hashlib.sha256(content.encode()).hexdigest() != record.get(key):
            raise SealError(f"receipt {name} does not match the hash in the record")
    try:
        path = [strict_b64decode(node) for node in receipt["inclusion_path"]]
    except (binascii.Error, ValueError, TypeError):
        raise SealError("receipt inclusion path is not base64") from None
    if not verify_inclusion(hash_leaf(leaf_data(record)), index, size, path, checkpoint.root):
        raise SealError("inclusion proof does not lead to the signed root: the record or proof was altered")
    return {
        "record_id": record.get("record_id"),
        "request_id": record.get("request_id"),
        "timestamp": record.get("timestamp"),
        "model": record.get("model_name"),
        "leaf_index": index,
        "tree_size": size,
        "origin": checkpoint.origin,
        "root": checkpoint.root.hex(),
    }
