"""Signed manifests: one signed note that vouches for every file of a folder.

Evidence packs (:mod:`otel_audit.seal.evidence`) and signed archives
(:mod:`otel_audit.store.archive`) carry a file ``MANIFEST``: a C2SP signed note
(:mod:`otel_audit.seal.checkpoint`) whose text is::

    <format line: otel-audit-evidence/1 or otel-audit-archive/2>
    <lower-case hex SHA-256> <file name>        one line per file, sorted by name

A folder verifies only if all of these hold:

* ``MANIFEST`` is a regular file whose bytes are the signed note exactly (a CR LF line ending
  is named as such, never normalized) and its signature is by the verifier key;
* its first line is the expected format, every other line is a checksum and a plain file name,
  each name once;
* the folder holds exactly the listed files and ``MANIFEST``, each a regular file: a symbolic
  link, FIFO, socket, device or sub-folder is refused before anything is read from it;
* each file's SHA-256 is the listed one. :func:`read_listed` returns the bytes it checked, so
  what is parsed afterwards is what was verified (no second read that could see another file).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from otel_audit._files import open_regular_file, read_regular_file, write_private_file
from otel_audit.errors import FileRefusedError
from otel_audit.seal._errors import NoteError, SealError
from otel_audit.seal.checkpoint import NoteSigner, NoteVerifier, decode_note, open_note, sign_note

__all__ = ["MANIFEST", "check_folder", "file_sha256", "open_manifest", "read_listed", "write_manifest"]

MANIFEST = "MANIFEST"
"""The signed manifest's file name."""

_LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) (?P<name>[^/\\\s]+)")
_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    """The lower-case hex SHA-256 of the regular file *path*, read in blocks.

    Raises:
        FileRefusedError: *path* is not a regular file (see :func:`otel_audit._files.open_regular_file`).
    """
    digest = hashlib.sha256()
    with open_regular_file(path) as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, fmt: str, names: Iterable[str], signer: NoteSigner) -> dict[str, str]:
    """Sign the checksums of the files *names* of *folder* into a new ``MANIFEST`` (``0600``).

    Returns:
        The checksum of every file, by name.

    Raises:
        FileExistsError: *folder* already holds a ``MANIFEST``.
    """
    digests = {name: file_sha256(folder / name) for name in sorted(names)}
    text = "".join([f"{fmt}\n", *(f"{digest} {name}\n" for name, digest in digests.items())])
    write_private_file(folder / MANIFEST, sign_note(text, signer), exclusive=True)
    return digests


def check_folder(folder: Path, names: Iterable[str]) -> None:
    """Check that *folder* holds exactly the regular files *names* (no link, FIFO or sub-folder).

    Raises:
        SealError: *folder* is not a folder, or holds another set of entries, or one that is
            not a regular file.
    """
    try:
        entries = {entry.name: entry for entry in os.scandir(folder)}
    except OSError as error:
        raise SealError(f"cannot list {folder}: {error.strerror or error}") from None
    for name, entry in sorted(entries.items()):
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            raise SealError(f"{name} is {kind}; evidence is read from regular files only")
    expected = set(names)
    if set(entries) != expected:
        extra, missing = sorted(set(entries) - expected), sorted(expected - set(entries))
        raise SealError(
            f"the folder's files differ from the manifest's (extra: {extra or 'none'}, missing: {missing or 'none'})"
        )


def open_manifest(folder: Path, fmt: str, verifier: NoteVerifier) -> dict[str, str]:
    """Verify the ``MANIFEST`` of *folder* and that the folder holds exactly its files.

    The files' checksums are checked when they are read, by :func:`read_listed`.

    Returns:
        The signed checksum of every listed file, by name.

    Raises:
        SealError: the manifest is missing, not a regular file, not its signed bytes, not signed
            by *verifier*, not of format *fmt*, or the folder's files differ from its list.
    """
    try:
        text = open_note(decode_note(read_regular_file(folder / MANIFEST), MANIFEST), verifier)
    except FileNotFoundError:
        raise SealError(f"{folder} has no {MANIFEST}") from None
    except (OSError, FileRefusedError, NoteError) as error:
        raise SealError(f"{MANIFEST}: {error}") from None
    first, *lines = text.rstrip("\n").split("\n")
    if first != fmt:
        raise SealError(f"{MANIFEST} is not an {fmt} manifest")
    listed: dict[str, str] = {}
    for line in lines:
        match = _LINE.fullmatch(line)
        if match is None or match["name"] in listed or match["name"] == MANIFEST:
            raise SealError(f"{MANIFEST}: bad line {line!r}")
        listed[match["name"]] = match["digest"]
    check_folder(folder, [*listed, MANIFEST])
    return listed


def read_listed(folder: Path, name: str, digest: str) -> bytes:
    """The bytes of *folder*/*name*, checked against its manifest checksum *digest*.

    Raises:
        SealError: the file is not a regular file, cannot be read, or its checksum differs.
    """
    try:
        data = read_regular_file(folder / name)
    except (OSError, FileRefusedError) as error:
        raise SealError(f"{name}: {error}") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise SealError(f"{name}: checksum differs from the manifest (the file was altered)")
    return data
