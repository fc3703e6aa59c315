"""``otel-audit`` tamper-evidence commands: keygen, seal, verify, prove, verify-receipt, erase,
evidence, verify-pack (see ``docs/tamper-evidence.md``).

``verify``, ``verify-receipt`` and ``verify-pack`` exit with 1 when the evidence does not verify
(naming the first bad record or file), 2 on a usage or store error. ``verify``, ``prove`` and
``evidence`` read an existing store only (exit 5 if the DSN names none); ``evidence`` of a model
the store has never seen exits 4, and a pack of zero records needs ``--allow-empty``. Evidence is read as bytes from
regular files only (a symbolic link or FIFO is refused), and every file these commands write
(keys, receipts, packs, checkpoint notes) is created ``0600`` in ``0700`` folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from otel_audit import envvars

if TYPE_CHECKING:
    from otel_audit.seal.checkpoint import Checkpoint, NoteVerifier

__all__ = ["register"]

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store DSN (chdb:///path, chdb://memory, http://host:8123).", show_default=False),
]
SigningKeyOption = Annotated[
    Path | None,
    typer.Option("--key", help="Signing key file (default: $OTEL_AUDIT_SEAL_KEY).", show_default=False),
]
VerifierOption = Annotated[str, typer.Option("--key", help="Verifier key: a .pub file or the key text.")]
SinceOption = Annotated[str | None, typer.Option(help="Start of the period (ISO 8601, UTC).")]
UntilOption = Annotated[str | None, typer.Option(help="End of the period, exclusive (ISO 8601, UTC).")]


def _signing_key(path: Path | None) -> Path:
    from otel_audit.seal import SealError

    chosen = path or envvars.env_str(envvars.OTEL_AUDIT_SEAL_KEY)
    if not chosen:
        raise SealError("no signing key: pass --key FILE or set OTEL_AUDIT_SEAL_KEY (create one with keygen)")
    return Path(chosen)


def keygen(
    name: Annotated[str, typer.Argument(help="Key name (shown in signature lines), e.g. audit.example.com.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for NAME.key and NAME.pub.")] = Path(),
) -> None:
    """Create an Ed25519 signing key (NAME.key, mode 0600) and its verifier key (NAME.pub)."""
    from otel_audit.cli import _errors
    from otel_audit.seal import generate_key

    with _errors():
        private, public = generate_key(name, out)
        typer.echo(f"signing key {private} (keep it secret); verifier key {public}: {public.read_text().strip()}")


def seal(
    store: StoreOption = None,
    key: SigningKeyOption = None,
    origin: Annotated[str | None, typer.Option(help="Checkpoint origin (default $OTEL_AUDIT_SEAL_ORIGIN).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Seal at most this many records.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the newest signed checkpoint here, to publish (verify --checkpoint)."),
    ] = None,
) -> None:
    """Seal the records not sealed yet into the Merkle tree and sign a checkpoint."""
    from otel_audit._cli_common import write_out
    from otel_audit.cli import _errors, _open
    from otel_audit.seal import SealError, load_signer
    from otel_audit.seal import seal as seal_records
    from otel_audit.seal.sealer import load_checkpoints

    with _errors():
        signer = load_signer(_signing_key(key))
        chosen = origin or envvars.env_str(envvars.OTEL_AUDIT_SEAL_ORIGIN)
        opened = _open(store, create=True)
        result = seal_records(opened, signer, origin=chosen, limit=limit)
        typer.echo(f"sealed {result.sealed} records; tree size {result.tree_size}, root {result.root.hex()}")
        if out is not None:
            checkpoints = load_checkpoints(opened)
            if not checkpoints:
                raise SealError(f"nothing is sealed yet: no checkpoint to write to {out}")
            write_out(out, checkpoints[-1].note)
            typer.echo(f"wrote the checkpoint of tree size {checkpoints[-1].tree_size} to {out}", err=True)


def verify(
    key: Annotated[str | None, typer.Option("--key", help="Verifier key (.pub file or text).")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    allow_unsealed: Annotated[bool, typer.Option(help="Do not fail on records not sealed yet.")] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="A signed checkpoint published earlier (seal --out): fail unless the stored tree still extends it.",
        ),
    ] = None,
    min_tree_size: Annotated[
        int, typer.Option("--min-tree-size", min=0, help="Fail unless the newest checkpoint covers N leaves at least.")
    ] = 0,
    store: StoreOption = None,
) -> None:
    """Recompute the tree from the stored records; name the first bad record, exit 1 if any."""
    from otel_audit.answer.reports import render_report
    from otel_audit.cli import _errors, _open
    from otel_audit.seal import load_verifier
    from otel_audit.seal import verify as verify_store

    with _errors():
        verifier = load_verifier(key) if key else None
        pinned = _pinned_checkpoint(checkpoint, verifier) if checkpoint else None
        report = verify_store(
            _open(store),
            verifier,
            since=since,
            until=until,
            allow_unsealed=allow_unsealed,
            pinned=pinned,
            min_tree_size=min_tree_size,
        )
        data = report.as_dict()
        data["problems"] = data["problems"][:20]
        typer.echo(render_report(data, "json"))
        if not report.ok:
            typer.echo(f"otel-audit: verification FAILED: first bad {report.first_bad}", err=True)
            raise typer.Exit(1)
        if verifier is None:
            typer.echo("otel-audit: warning: no --key given, checkpoint signatures were not checked", err=True)


def _pinned_checkpoint(path: Path, verifier: NoteVerifier | None) -> Checkpoint:
    """The published checkpoint note in *path*, its signature checked by *verifier*."""
    from otel_audit._files import read_regular_file
    from otel_audit.errors import FileRefusedError
    from otel_audit.seal import SealError
    from otel_audit.seal.checkpoint import decode_note, open_note, parse_checkpoint

    if verifier is None:
        raise SealError("--checkpoint needs --key: a published checkpoint counts only if its signature is checked")
    try:
        data = read_regular_file(path, max_bytes=_MAX_NOTE_BYTES)
    except (OSError, FileRefusedError) as error:
        raise SealError(f"cannot read checkpoint {path}: {error}") from None
    return parse_checkpoint(open_note(decode_note(data, f"checkpoint {path}"), verifier))


_MAX_NOTE_BYTES = 1 << 20
"""A checkpoint note is a few hundred bytes; a larger --checkpoint file is not one."""


def prove(
    request_id: Annotated[str, typer.Argument(help="Request id of the prediction.")],
    record_id: Annotated[str | None, typer.Option(help="Record id, when the request has several.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the receipt here (default stdout).")] = None,
    store: StoreOption = None,
) -> None:
    """Emit the inclusion receipt (record, audit path, signed checkpoint) of one prediction."""
    from otel_audit._cli_common import write_out
    from otel_audit.cli import _errors, _open
    from otel_audit.seal.receipts import build_receipt, encode_receipt

    with _errors():
        text = encode_receipt(build_receipt(_open(store), request_id, record_id=record_id))
        if out is None:
            typer.echo(text, nl=False)
        else:
            write_out(out, text)


def verify_receipt(
    file: Annotated[Path, typer.Argument(help="Receipt file written by `prove`.")],
    key: VerifierOption,
) -> None:
    """Check a receipt offline, with only the verifier key."""
    from otel_audit._files import read_regular_file
    from otel_audit.cli import _errors
    from otel_audit.errors import FileRefusedError
    from otel_audit.seal import SealError, load_verifier
    from otel_audit.seal.receipts import verify_receipt as check

    with _errors():
        verifier = load_verifier(key)
        try:
            data = read_regular_file(file)
        except OSError as error:
            raise SealError(f"cannot read receipt {file}: {error.strerror or error}") from None
        except FileRefusedError as error:
            typer.echo(f"otel-audit: receipt does NOT verify: {error}", err=True)
            raise typer.Exit(1) from None
        try:
            summary = check(data, verifier)
        except SealError as error:
            typer.echo(f"otel-audit: receipt does NOT verify: {error}", err=True)
            raise typer.Exit(1) from None
        typer.echo(json.dumps({"ok": True, **summary}, indent=2))


def erase(
    user: Annotated[str | None, typer.Option(help="Erase the content of every record of this user id.")] = None,
    request_id: Annotated[str | None, typer.Option(help="Erase the content of this request's record(s).")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the erasure log), e.g. a ticket id.")] = "",
    store: StoreOption = None,
) -> None:
    """Replace stored inputs/outputs with tombstones that keep the seal valid (GDPR Art. 17)."""
    from otel_audit.cli import _errors, _open
    from otel_audit.seal.erasure import erase as erase_records

    with _errors():
        result = erase_records(_open(store, create=True), user=user, request_id=request_id, reason=reason)
        typer.echo(f"erased the content of {result.records} records at {result.erased_at.isoformat()}Z")


def evidence(
    model: Annotated[str, typer.Option(help="Model name.")],
    out: Annotated[Path, typer.Option("--out", help="New, empty folder for the pack.")],
    since: SinceOption = None,
    until: UntilOption = None,
    key: SigningKeyOption = None,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Write the pack even when the period holds no record of the model.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Export one model's records, checkpoints, proofs and usage report as a signed evidence pack."""
    from otel_audit.cli import _errors, _open
    from otel_audit.seal import load_signer
    from otel_audit.seal.evidence import build_pack

    with _errors():
        signer = load_signer(_signing_key(key))
        pack = build_pack(_open(store), signer, model, out, since=since, until=until, allow_empty=allow_empty)
        typer.echo(f"evidence pack of {pack['records']} records of {model} in {out} (tree size {pack['tree_size']})")


def verify_pack(
    folder: Annotated[Path, typer.Argument(help="Evidence pack folder.")],
    key: VerifierOption,
) -> None:
    """Verify an evidence pack offline, with only the verifier key."""
    from otel_audit.cli import _errors
    from otel_audit.seal import SealError, load_verifier
    from otel_audit.seal.evidence import verify_pack as check

    with _errors():
        verifier = load_verifier(key)
        try:
            summary = check(folder, verifier)
        except SealError as error:
            typer.echo(f"otel-audit: evidence pack does NOT verify: {error}", err=True)
            raise typer.Exit(1) from None
        typer.echo(json.dumps({"ok": True, **summary}, indent=2))
        if not summary["verified_records"]:
            typer.echo("otel-audit: note: the pack verifies but holds no record (made with --allow-empty)", err=True)


def register(app: typer.Typer) -> None:
    """Add the tamper-evidence commands to the ``otel-audit`` app."""
    for command in (keygen, seal, verify, prove, verify_receipt, erase, evidence, verify_pack):
        app.command(command.__name__.replace("_", "-"))(command)
