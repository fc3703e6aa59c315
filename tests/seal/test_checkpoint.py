"""Ed25519 keys and C2SP signed notes / checkpoints."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest

from otel_audit.seal import KeyFormatError, NoteError
from otel_audit.seal.checkpoint import (
    NoteSigner,
    NoteVerifier,
    format_checkpoint,
    generate_key,
    load_signer,
    load_verifier,
    open_note,
    parse_checkpoint,
    sign_note,
)


class TestKeys:
    def test_keygen_round_trip(self, tmp_path: Path) -> None:
        """keygen writes a 0600 private key and a verifier key that load back to the same key."""
        private, public = generate_key("audit.example", tmp_path)
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        signer, verifier = load_signer(private), load_verifier(public)
        assert signer.verifier == verifier
        assert load_verifier(public.read_text().strip()) == verifier
        with pytest.raises(KeyFormatError, match="already exists"):
            generate_key("audit.example", tmp_path)

    def test_key_id_follows_the_spec(self) -> None:
        """The key id is SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
        signer = NoteSigner("example.com", bytes(32))
        public = signer.verifier.public_key
        assert signer.verifier.key_id == hashlib.sha256(b"example.com\n\x01" + public).digest()[:4]
        name, hex_id, encoded = str(signer.verifier).split("+")
        assert (name, hex_id) == ("example.com", signer.verifier.key_id.hex())
        assert base64.b64decode(encoded) == b"\x01" + public

    def test_bad_keys_are_refused(self) -> None:
        """Malformed keys and names raise KeyFormatError."""
        verifier = str(NoteSigner("k", os.urandom(32)).verifier)
        for text in ("", "a+b", verifier.replace("k+", "j+", 1), "k+zzzzzzzz+AAAA"):
            with pytest.raises(KeyFormatError):
                NoteVerifier.parse(text)
        with pytest.raises(KeyFormatError):
            NoteSigner("has space", os.urandom(32))
        with pytest.raises(KeyFormatError):
            NoteSigner.parse("PRIVATE+KEY+k+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode())


class TestSignedNote:
    def test_checkpoint_round_trip(self) -> None:
        """A signed checkpoint opens with its key and parses back to origin, size and root."""
        signer = NoteSigner("log", os.urandom(32))
        root = hashlib.sha256(b"r").digest()
        note = sign_note(format_checkpoint("example.com/log", 42, root), signer)
        assert note.startswith(f"example.com/log\n42\n{base64.b64encode(root).decode()}\n\n\u2014 log ")
        checkpoint = parse_checkpoint(open_note(note, signer.verifier))
        assert (checkpoint.origin, checkpoint.size, checkpoint.root) == ("example.com/log", 42, root)

    def test_other_keys_and_edits_fail(self) -> None:
        """Another key, an edited body and an edited signature are all refused; unknown signers are ignored."""
        signer, other = NoteSigner("log", os.urandom(32)), NoteSigner("log", os.urandom(32))
        note = sign_note(format_checkpoint("o", 1, bytes(32)), signer)
        with pytest.raises(NoteError, match="not signed by key"):
            open_note(note, other.verifier)
        with pytest.raises(NoteError):
            open_note(note.replace("\n1\n", "\n2\n"), signer.verifier)
        cosigned = note + sign_note(format_checkpoint("o", 1, bytes(32)), other).split("\n\n")[1].replace(
            "\u2014 log", "\u2014 witness"
        )
        assert open_note(cosigned, signer.verifier) == format_checkpoint("o", 1, bytes(32))
        for bad in ("no blank line\n", format_checkpoint("o", 1, bytes(32)) + "\nnot a signature\n"):
            with pytest.raises(NoteError):
                open_note(bad, signer.verifier)

    def test_parse_checkpoint_rejects_garbage(self) -> None:
        """Size and root lines are validated."""
        for text in ("o\n01\nAAAA\n", "o\nx\nAAAA\n", "o\n1\nAAAA\n", "o\n1\n"):
            with pytest.raises(NoteError):
                parse_checkpoint(text)
