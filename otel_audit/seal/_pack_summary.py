"""``summary.html``: the page of an evidence pack a person reads first.

One self-contained HTML file (inline CSS, no script, no external resource) that says what the pack
holds (model, period, records, the checkpoint it is proven against and who signed it, every file
with its SHA-256) and how to check it offline with ``otel-audit verify-pack``. It is written
after the other files and before ``MANIFEST``, which lists it too: it cannot be altered unseen
either. It restates the machine-readable files for people; the evidence is those files.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from html import escape
from typing import Any

from otel_audit.seal.checkpoint import note_signers

__all__ = ["FILE_CONTENTS", "SUMMARY", "VERIFY_PACK_COMMAND", "render_summary"]

SUMMARY = "summary.html"
"""The summary's file name in the pack."""

VERIFY_PACK_COMMAND = "otel-audit verify-pack {folder} --verifier-key {key}"
"""The offline check, as the summary prints it (the CLI's ``verify-pack`` arguments)."""

FILE_CONTENTS = {
    "records.parquet": "the model's records in the period, one per stored record, with their leaf index",
    "proofs.json": "the inclusion proof of each record in the latest checkpoint's tree",
    "checkpoints.json": "every signed checkpoint up to the latest, and the consistency proof between each two",
    "erasures.json": "the erasure-log rows of these records (content removed under GDPR, seal kept)",
    "events.json": "the reviews, ground truth and feedback about these records, each with its inclusion proof",
    "model-usage.json": "the model-usage report for the same model and period",
    "pack.json": "what the pack covers, machine-readable: model, period, tree size, root, counts, key",
}
"""What each file of a pack holds, in words."""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem; color: #222;
       max-width: 60rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code, pre { font-size: .85rem; overflow-wrap: anywhere; white-space: pre-wrap; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .6rem; }
.note { color: #555; } table.files td:first-child code { white-space: nowrap; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _rows(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(name)}</th><td>{value}</td></tr>" for name, value in rows)
    return f"<table><tbody>{body}</tbody></table>"


def render_summary(
    pack: Mapping[str, Any],
    files: Mapping[str, tuple[str, int]],
    checkpoint_note: str,
    folder: str,
) -> str:
    """The summary page of a pack.

    Args:
        pack: the content of ``pack.json``.
        files: ``(sha256 hex, size in bytes)`` of every other file of the pack, by name.
        checkpoint_note: the latest signed checkpoint (C2SP signed note) the records are proven against.
        folder: the pack folder's name, for the command line shown.

    Returns:
        The page, UTF-8 HTML text.
    """
    model = _e(pack.get("model"))
    signers = note_signers(checkpoint_note)
    signed_by = ", ".join(f"{_e(name)} (key id <code>{_e(key_id)}</code>)" for name, key_id in signers) or "–"
    period = (
        f"{_e(pack.get('since') or 'no records')} to {_e(pack.get('until') or 'no records')} (UTC; "
        "the bounds given, else the first and last record's times)"
    )
    covered = _rows(
        [
            ("Model", model),
            ("Period", period),
            ("Records", f"{int(pack.get('records') or 0):,}"),
            ("Erased records", f"{int(pack.get('erased_records') or 0):,} (content removed, seal kept)"),
            ("Tree size", f"{int(pack.get('tree_size') or 0):,} leaves (all models of the store)"),
            ("Root hash (hex)", f"<code>{_e(pack.get('root'))}</code>"),
            ("Log origin", _e(pack.get("origin"))),
            ("Checkpoint signed by", signed_by),
            ("Pack created", f"{_e(pack.get('created_at'))} (UTC)"),
            ("Format", _e(pack.get("format"))),
        ]
    )
    listing = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{escape(FILE_CONTENTS.get(name, ''))}</td>"
        f'<td style="text-align:right">{size:,}</td><td><code>{_e(digest)}</code></td></tr>'
        for name, (digest, size) in sorted(files.items())
    )
    key = str(pack.get("verifier_key") or "KEY")
    command = VERIFY_PACK_COMMAND.format(folder=shlex.quote(folder), key=shlex.quote(key))
    key_ids = ", ".join(key_id for _, key_id in signers)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>Evidence pack: {model}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Evidence pack: {model}</h1>",
        '<p class="note">This page describes the pack for people. The evidence is the files listed below; '
        "<code>MANIFEST</code> signs their checksums and this page's, so none of them can be changed unseen.</p>",
        "<h2>What it covers</h2>",
        covered,
        "<h2>Files</h2>",
        '<table class="files"><thead><tr><th>File</th><th>Holds</th><th>Bytes</th><th>SHA-256</th></tr></thead>',
        f"<tbody>{listing}</tbody></table>",
        "<p>Also <code>MANIFEST</code>: a signed note (C2SP) listing the SHA-256 of every file above and of "
        f"<code>{SUMMARY}</code>.</p>",
        "<h2>Latest signed checkpoint</h2>",
        f"<pre>{_e(checkpoint_note)}</pre>",
        "<h2>How to verify it offline</h2>",
        "<ol>",
        "<li>Get the store owner's <strong>verifier key</strong> (the <code>.pub</code> text written by "
        "<code>otel-audit keygen</code>) through a channel you trust, not from this folder. The pack says it "
        f"was signed with <code>{_e(key)}</code>"
        + (f" (key id <code>{_e(key_ids)}</code>)" if key_ids else "")
        + ": compare.</li>",
        "<li>Install otel-audit (<code>pip install otel-audit</code>) on any machine; the check needs no "
        "store and no network.</li>",
        f"<li>From the folder that holds the pack, run (with the key you obtained):<pre>{_e(command)}</pre></li>",
        "<li>Exit status 0 and <code>\"ok\": true</code>: the manifest's signature, every file's checksum, every "
        "checkpoint signature and consistency proof, and every record's inclusion proof check out. "
        "Exit status 1 names the first file or record that does not.</li>",
        "</ol>",
        '<p class="note">What a pack proves: each record in it was sealed, unchanged, into the signed tree. '
        "It does not prove that no other record of the model exists in the period (the tree holds every "
        "model's records); <code>otel-audit verify</code> on the store does.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
