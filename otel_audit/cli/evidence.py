"""Tamper-evidence commands: keygen, seal, verify, prove, verify-receipt, evidence, verify-pack,
erase (see ``docs/tamper-evidence.md``).

Keys: ``--signing-key`` is the private ``NAME.key`` that signs (``seal``, ``evidence``; default
``$OTEL_AUDIT_SEAL_KEY``), ``--verifier-key`` the public ``NAME.pub`` (or its text) that checks
(``verify``, ``verify-receipt``, ``verify-pack``). Given the other kind, a command says which key
it got and which it expects. ``verify`` checks checkpoint signatures: without ``--verifier-key`` it
fails (exit 2) unless ``--waive-signatures`` says to check the tree and records only.

``verify``, ``verify-receipt`` and ``verify-pack`` exit with 1 when the evidence does not verify
(naming the first bad record or file), 2 on a usage or store error. ``verify``, ``prove`` and
``evidence`` read an existing store only (exit 5 if the DSN names none); ``evidence`` of a model
the store has never seen exits 4, and a pack of zero records needs ``--allow-empty``. Evidence is
read as bytes from regular files only (a symbolic link or FIFO is refused), and every file these
commands write (keys, receipts, packs, checkpoint notes) is created ``0600`` in ``0700`` folders.
``erase --dry-run`` lists the records ``erase`` would change, and changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from otel_audit import envvars
from otel_audit.cli._common import (
    EXIT_NOT_VERIFIED,
    errors_as_exit,
    fail,
    load_signing_key,
    load_verifier_key,
    open_cli_store,
    progress,
    reading,
    terminal_width,
    write_out,
)
from otel_audit.cli._options import (
    PANEL_EVIDENCE,
    ModelOption,
    SigningKeyOption,
    SinceOption,
    StoreOption,
    UntilOption,
    VerifierKeyOption,
    out_option,
    verifier_key_option,
)

if TYPE_CHECKING:
    from otel_audit.seal.checkpoint import Checkpoint, NoteVerifier

__all__ = ["register"]

_MAX_NOTE_BYTES = 1 << 20
"""A checkpoint note is a few hundred bytes; a larger --checkpoint file is not one."""


def keygen(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Key name (shown in signature lines), e.g. audit.example.com.")
    ],
    out: Annotated[Path, out_option("Folder for NAME.key and NAME.pub (created 0700).")] = Path(),
) -> None:
    """Create an Ed25519 signing key (NAME.key, mode 0600) and its verifier key (NAME.pub)."""
    from otel_audit.seal import generate_key

    with errors_as_exit():
        private, public = generate_key(name, out)
        typer.echo(f"signing key {private} (keep it secret); verifier key {public}: {public.read_text().strip()}")


def seal(
    store: StoreOption = None,
    signing_key: SigningKeyOption = None,
    origin: Annotated[str | None, typer.Option(help="Checkpoint origin (default $OTEL_AUDIT_SEAL_ORIGIN).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Seal at most this many records.")] = None,
    out: Annotated[
        Path | None, out_option("Also write the newest signed checkpoint to FILE, to publish (verify --checkpoint).")
    ] = None,
) -> None:
    """Seal the records not sealed yet into the Merkle tree and sign a checkpoint."""
    from otel_audit.seal import SealError
    from otel_audit.seal import seal as seal_records
    from otel_audit.seal.stored import load_checkpoints

    with errors_as_exit():
        signer = load_signing_key(signing_key)
        chosen = envvars.OTEL_AUDIT_SEAL_ORIGIN.resolve(origin or None)
        opened = open_cli_store(store, create=True)
        with progress("sealing"):
            result = seal_records(opened, signer, origin=chosen, limit=limit)
        typer.echo(f"sealed {result.sealed} records; tree size {result.tree_size}, root {result.root.hex()}")
        if out is not None:
            checkpoints = load_checkpoints(opened)
            if not checkpoints:
                raise SealError(f"nothing is sealed yet: no checkpoint to write to {out}")
            write_out(out, checkpoints[-1].note)
            typer.echo(f"wrote the checkpoint of tree size {checkpoints[-1].tree_size} to {out}", err=True)


def verify(
    verifier_key: Annotated[
        str | None, verifier_key_option("Verifier key of the checkpoints: the NAME.pub file from keygen, or its text.")
    ] = None,
    waive_signatures: Annotated[
        bool,
        typer.Option(
            "--waive-signatures", help="Check the tree and records without a verifier key (signatures NOT checked)."
        ),
    ] = False,
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
    from otel_audit.seal import verify as verify_store

    if verifier_key is None and not waive_signatures:
        raise fail(
            "verify checks the checkpoint signatures: pass --verifier-key NAME.pub, or --waive-signatures "
            "to check the tree and records only"
        )
    if verifier_key is not None and waive_signatures:
        raise fail("--verifier-key and --waive-signatures exclude each other")
    with errors_as_exit():
        verifier = load_verifier_key(verifier_key) if verifier_key else None
        pinned = _pinned_checkpoint(checkpoint, verifier) if checkpoint else None
        opened = open_cli_store(store)
        with progress("verifying") as step:
            report = verify_store(
                opened,
                verifier,
                since=since,
                until=until,
                allow_unsealed=allow_unsealed,
                pinned=pinned,
                min_tree_size=min_tree_size,
                progress=step,
            )
        data = report.as_dict()
        data["problems"] = data["problems"][:20]
        typer.echo(render_report(data, "json"))
        if not report.ok:
            typer.echo(f"otel-audit: verification FAILED: first bad {report.first_bad}", err=True)
            raise typer.Exit(EXIT_NOT_VERIFIED)
        if verifier is None:
            typer.echo("otel-audit: warning: --waive-signatures: checkpoint signatures were NOT checked", err=True)


def _pinned_checkpoint(path: Path, verifier: NoteVerifier | None) -> Checkpoint:
    """The published checkpoint note in *path*, its signature checked by *verifier*."""
    from otel_audit._files import read_regular_file
    from otel_audit.errors import FileRefusedError
    from otel_audit.seal import SealError
    from otel_audit.seal.checkpoint import decode_note, open_note, parse_checkpoint

    if verifier is None:
        raise SealError(
            "--checkpoint needs --verifier-key: a published checkpoint counts only if its signature is checked"
        )
    try:
        data = read_regular_file(path, max_bytes=_MAX_NOTE_BYTES)
    except (OSError, FileRefusedError) as error:
        raise SealError(f"cannot read checkpoint {path}: {error}") from None
    return parse_checkpoint(open_note(decode_note(data, f"checkpoint {path}"), verifier))


def prove(
    request_id: Annotated[
        str | None, typer.Argument(metavar="REQUEST_ID", help="Request id of the prediction.", show_default=False)
    ] = None,
    record_id: Annotated[str | None, typer.Option(help="Record id, when the request has several.")] = None,
    event: Annotated[
        str | None,
        typer.Option(
            metavar="RECORD_ID",
            help="Prove an audit event instead (a review, ground truth, feedback or access event), by its record id.",
        ),
    ] = None,
    out: Annotated[Path | None, out_option("Write the receipt to FILE (created 0600) instead of stdout.")] = None,
    store: StoreOption = None,
) -> None:
    """Emit the inclusion receipt (record, audit path, signed checkpoint) of one prediction or event.

    A prediction's receipt and the receipt of a review of it (`--event`), made after the same
    seal, verify against one signed checkpoint, the review's leaf after the prediction's.
    """
    from otel_audit.seal.receipts import build_event_receipt, build_receipt, encode_receipt

    with errors_as_exit():
        if (request_id is None) == (event is None):
            raise typer.BadParameter("give a REQUEST_ID or --event RECORD_ID (one of them)", param_hint="REQUEST_ID")
        if event is not None and record_id is not None:
            raise typer.BadParameter("--record-id picks a prediction's record; an event is named by --event")
        if event is not None:
            with reading(store, "prove", subject=event, subject_kind="record") as read:
                text = encode_receipt(build_event_receipt(read.store, event))
                read.records = 1
        else:
            assert request_id is not None
            with reading(store, "prove", subject=request_id, subject_kind="request") as read:
                text = encode_receipt(build_receipt(read.store, request_id, record_id=record_id))
                read.records = 1
        if out is None:
            typer.echo(text, nl=False)
        else:
            write_out(out, text)


def verify_receipt(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Receipt file written by `prove`.")],
    verifier_key: VerifierKeyOption,
) -> None:
    """Check a receipt offline, with only the verifier key."""
    from otel_audit._files import read_regular_file
    from otel_audit.errors import FileRefusedError
    from otel_audit.seal import SealError
    from otel_audit.seal.receipts import verify_receipt as check

    with errors_as_exit():
        verifier = load_verifier_key(verifier_key)
        try:
            data = read_regular_file(file)
        except OSError as error:
            raise SealError(f"cannot read receipt {file}: {error.strerror or error}") from None
        except FileRefusedError as error:
            typer.echo(f"otel-audit: receipt does NOT verify: {error}", err=True)
            raise typer.Exit(EXIT_NOT_VERIFIED) from None
        try:
            summary = check(data, verifier)
        except SealError as error:
            typer.echo(f"otel-audit: receipt does NOT verify: {error}", err=True)
            raise typer.Exit(EXIT_NOT_VERIFIED) from None
        typer.echo(json.dumps({"ok": True, **summary}, indent=2))


def erase(
    user: Annotated[str | None, typer.Option(help="Erase the content of every record of this user id.")] = None,
    request_id: Annotated[str | None, typer.Option(help="Erase the content of this request's record(s).")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the erasure log), e.g. a ticket id.")] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the records that would be erased; change nothing.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Replace stored inputs/outputs with tombstones that keep the seal valid (GDPR Art. 17)."""
    from otel_audit.answer.reports import render_rows
    from otel_audit.seal.erasure import erase as erase_records
    from otel_audit.seal.erasure import erasure_targets

    with errors_as_exit():
        if dry_run:
            subject, kind = (user, "user") if user else (request_id or "", "request")
            with reading(store, "erase --dry-run", subject=subject, subject_kind=kind) as read:
                targets = erasure_targets(read.store, user=user, request_id=request_id)
                read.records = len(targets)
            who = f"user {user!r}" if user else f"request {request_id!r}"
            typer.echo(
                f"would erase the content (input, output, label, content attributes) of {len(targets)} record(s) "
                f"of {who}; nothing was changed (--dry-run)"
            )
            if targets:
                text = render_rows(["record_id", "request_id"], targets, "table", width=terminal_width())
                typer.echo(text, nl=False)
            return
        result = erase_records(open_cli_store(store, create=True), user=user, request_id=request_id, reason=reason)
        decisions = f" and of {len(result.events)} decision(s) about them" if result.events else ""
        typer.echo(f"erased the content of {result.records} records{decisions} at {result.erased_at.isoformat()}Z")


def evidence(
    model: ModelOption,
    out: Annotated[Path, out_option("New, empty folder for the pack.")],
    since: SinceOption = None,
    until: UntilOption = None,
    signing_key: SigningKeyOption = None,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Write the pack even when the period holds no record of the model.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Export one model's records, checkpoints, proofs and usage report as a signed evidence pack."""
    from otel_audit.seal.evidence import build_pack

    with errors_as_exit():
        signer = load_signing_key(signing_key)
        with (
            reading(store, "evidence", subject=model, subject_kind="model", since=since, until=until) as read,
            progress("packing evidence"),
        ):
            pack = build_pack(read.store, signer, model, out, since=since, until=until, allow_empty=allow_empty)
            read.records = int(pack["records"])
        typer.echo(f"evidence pack of {pack['records']} records of {model} in {out} (tree size {pack['tree_size']})")


def verify_pack(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="Evidence pack folder.")],
    verifier_key: VerifierKeyOption,
) -> None:
    """Verify an evidence pack offline, with only the verifier key."""
    from otel_audit.seal import SealError
    from otel_audit.seal.evidence import verify_pack as check

    with errors_as_exit():
        verifier = load_verifier_key(verifier_key)
        try:
            summary = check(folder, verifier)
        except SealError as error:
            typer.echo(f"otel-audit: evidence pack does NOT verify: {error}", err=True)
            raise typer.Exit(EXIT_NOT_VERIFIED) from None
        typer.echo(json.dumps({"ok": True, **summary}, indent=2))
        if not summary["verified_records"]:
            typer.echo("otel-audit: note: the pack verifies but holds no record (made with --allow-empty)", err=True)


def register(app: typer.Typer) -> None:
    """Add the evidence commands to *app*, under their help panel."""
    for command in (keygen, seal, verify, prove, verify_receipt, evidence, verify_pack, erase):
        app.command(command.__name__.replace("_", "-"), rich_help_panel=PANEL_EVIDENCE)(command)
