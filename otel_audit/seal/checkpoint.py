"""Ed25519 keys, C2SP signed notes and tlog checkpoints.

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint):

* **Key id**: the first 4 bytes of SHA-256(``name`` || 0x0A || 0x01 || 32-byte public key); 0x01
  is the Ed25519 signature type.
* **Verifier key** (the ``.pub`` file): ``name+<key id, 8 hex>+<base64(0x01 || public key)>``.
* **Private key** (the ``.key`` file, mode 0600):
  ``PRIVATE+KEY+name+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>``.
* **Signed note**: UTF-8 text ending in a newline, a blank line, then one line per signature,
  ``— <name> <base64(key id || 64-byte Ed25519 signature of the text)>``.
* **Checkpoint** text: the origin line, the tree size in decimal, the base64 root hash, each on
  its own line (optional extension lines may follow).

A signed note is verified as the bytes that were signed: a note file read back with its line
endings changed to CR LF, or re-encoded, is refused by :func:`decode_note` with a message that
says so, never normalized.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from otel_audit._files import make_private_dir, write_private_file
from otel_audit.seal._errors import KeyFormatError, NoteError

__all__ = [
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "decode_note",
    "format_checkpoint",
    "generate_key",
    "load_signer",
    "load_verifier",
    "note_signers",
    "open_note",
    "parse_checkpoint",
    "sign_note",
    "strict_b64decode",
]

_ED25519 = b"\x01"
_EM_DASH = "\u2014"
_SIGNATURE_PREFIX = _EM_DASH + " "


def _check_name(name: str) -> str:
    if not name or any(ch.isspace() for ch in name) or "+" in name:
        raise KeyFormatError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def strict_b64decode(text: str) -> bytes:
    """Decode standard base64, refusing any text that is not the canonical encoding of its bytes.

    Plain decoding ignores the unused low bits of the last character, so two texts would decode
    to one value; refusing them means that any changed character is detected.

    Raises:
        ValueError: *text* is not canonical base64.
    """
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def _b64decode(text: str, what: str) -> bytes:
    try:
        return strict_b64decode(text)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class NoteVerifier:
    """A named Ed25519 public key that checks signature lines of signed notes."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        """Parse a verifier key ``name+hexid+base64(0x01||pub)``.

        Raises:
            KeyFormatError: *text* is not such a key, or its id does not match the key.
        """
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("a verifier key looks like name+1a2b3c4d+AbC...= (three '+'-separated parts)")
        name, hex_id, encoded = parts
        _check_name(name)
        raw = _b64decode(encoded, "verifier key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise KeyFormatError("verifier key is not an Ed25519 key (0x01 + 32 bytes)")
        try:
            key_id = bytes.fromhex(hex_id)
        except ValueError:
            raise KeyFormatError("verifier key id is not 8 hex digits") from None
        if key_id != _key_id(name, raw[1:]):
            raise KeyFormatError(f"verifier key id {hex_id} does not match key {name}")
        return cls(name, key_id, raw[1:])

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(_ED25519 + self.public_key).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if *signature* is this key's Ed25519 signature of *message*."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class NoteSigner:
    """A named Ed25519 private key that signs notes."""

    __slots__ = ("_private", "name", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = _check_name(name)
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = NoteVerifier(name, _key_id(name, public), public)

    @classmethod
    def parse(cls, text: str) -> NoteSigner:
        """Parse a private key ``PRIVATE+KEY+name+hexid+base64(0x01||seed)``.

        Raises:
            KeyFormatError: *text* is not such a key.
        """
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise KeyFormatError("a signing key looks like PRIVATE+KEY+name+1a2b3c4d+AbC...=")
        _, _, name, hex_id, encoded = parts
        raw = _b64decode(encoded, "signing key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise KeyFormatError("signing key is not an Ed25519 key (0x01 + 32 bytes)")
        signer = cls(name, raw[1:])
        if signer.verifier.key_id.hex() != hex_id.lower():
            raise KeyFormatError(f"signing key id {hex_id} does not match key {name}")
        return signer

    def private_text(self) -> str:
        """The private key in its file format (keep it secret)."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(_ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of *message*."""
        return self._private.sign(message)


def generate_key(name: str, directory: Path) -> tuple[Path, Path]:
    """Write a new key pair ``<name>.key`` and ``<name>.pub`` into *directory*.

    Both files are created ``0600`` whatever the umask (share the ``.pub`` text, not the file's
    mode), and *directory* ``0700`` when it is created (an existing one is left as it is).

    Raises:
        KeyFormatError: *name* is not a valid key name, or a file of that name already exists.
    """
    signer = NoteSigner(name, os.urandom(32))
    if not directory.is_dir():
        make_private_dir(directory)
    private, public = directory / f"{name}.key", directory / f"{name}.pub"
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise KeyFormatError(f"{path} already exists; refusing to overwrite a key")
    try:
        write_private_file(private, signer.private_text() + "\n", encoding="ascii", exclusive=True)
        write_private_file(public, str(signer.verifier) + "\n", encoding="ascii", exclusive=True)
    except FileExistsError as error:
        raise KeyFormatError(f"{error.filename} already exists; refusing to overwrite a key") from None
    return private, public


def _read(path: Path | str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFormatError(f"cannot read {what} {path}: {error}") from None


def load_signer(path: Path | str) -> NoteSigner:
    """Read a private key file written by :func:`generate_key`."""
    return NoteSigner.parse(_read(path, "signing key"))


def load_verifier(path_or_text: Path | str) -> NoteVerifier:
    """Read a verifier key from a ``.pub`` file, or parse it if given the key text itself."""
    text = str(path_or_text)
    if "+" in text and not Path(text).exists():
        return NoteVerifier.parse(text)
    return NoteVerifier.parse(_read(path_or_text, "verifier key"))


def sign_note(text: str, signer: NoteSigner) -> str:
    """Return the signed note: *text* (must end in a newline), a blank line, one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end with a newline and contain no blank line")
    signature = signer.verifier.key_id + signer.sign(text.encode())
    return f"{text}\n{_SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signature).decode()}\n"


def decode_note(data: bytes, what: str) -> str:
    """The text of the signed note file *data*, refused unless it can be the bytes that were signed.

    Notes are UTF-8 with ``\\n`` line endings and never contain a carriage return, so a CR means
    the file was converted (CR LF line endings), which the signature would reject anyway; this
    says so instead.

    Raises:
        NoteError: *data* is not UTF-8, or its line endings were changed.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError(f"{what} is not UTF-8 text") from None
    if "\r" in text:
        change = "its line endings were changed to CR LF" if "\r\n" in text else "a carriage return was added"
        raise NoteError(f"{what} is not in its signed byte form: {change}; keep the original bytes")
    return text


def open_note(note: str, verifier: NoteVerifier) -> str:
    """Check *note* is signed by *verifier* and return its text.

    Signature lines from other keys are ignored, as the spec says.

    Raises:
        NoteError: the note is malformed, or carries no valid signature by *verifier*.
    """
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("malformed signed note: no blank line before the signatures, or no final newline")
    text += "\n"
    found = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(_SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = strict_b64decode(encoded)
        except (binascii.Error, ValueError):
            raise NoteError(f"signature of {name!r} is not valid base64") from None
        if len(raw) < 5:
            raise NoteError(f"signature of {name!r} is too short")
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        if not verifier.verify(text.encode(), raw[4:]):
            raise NoteError(f"signature by {name} does not verify")
        found = True
    if not found:
        raise NoteError(f"not signed by key {verifier.name}+{verifier.key_id.hex()}")
    return text


def note_signers(note: str) -> list[tuple[str, str]]:
    """The ``(key name, key id hex)`` of every signature line of the signed note *note*.

    Nothing is verified here (that is :func:`open_note`'s job): this says who
    *claims* to have signed. A line that is not a well-formed signature is skipped.
    """
    _, separator, block = note.rpartition("\n\n")
    if not separator:
        return []
    signers = []
    for line in block.splitlines():
        if not line.startswith(_SIGNATURE_PREFIX):
            continue
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = strict_b64decode(encoded)
        except (binascii.Error, ValueError):
            continue
        if len(raw) >= 5:
            signers.append((name, raw[:4].hex()))
    return signers


@dataclass(frozen=True)
class Checkpoint:
    """The content of a tlog checkpoint: origin, tree size, root hash."""

    origin: str
    size: int
    root: bytes


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """The checkpoint text (unsigned) for a tree of *size* leaves with *root*."""
    if not origin or "\n" in origin:
        raise NoteError(f"checkpoint origin {origin!r} must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint text (as returned by :func:`open_note`).

    Raises:
        NoteError: it is not a checkpoint.
    """
    lines = text.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = strict_b64decode(root_text)
    except (binascii.Error, ValueError):
        raise NoteError("checkpoint root hash is not valid base64") from None
    if len(root) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)
