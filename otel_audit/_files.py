"""Files otel-audit creates are its owner's alone, and files it reads as evidence are plain files.

Everything otel-audit writes (store and spool directories, keys, archives, evidence packs,
receipts, reports, the owner and serve files) may hold personal data or secrets, so it is
created ``0700`` (directories) or ``0600`` (files) whatever the process umask, and never
through a symbolic link planted where the file is expected. Whatever otel-audit reads as
evidence (packs, receipts, manifests, archives) must be a regular file: a FIFO would block
forever and a symbolic link could swap in another file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from otel_audit.errors import FileRefusedError

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "make_private_dir",
    "open_private_file",
    "open_regular_file",
    "private_umask",
    "read_regular_file",
    "write_private_file",
]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def make_private_dir(path: str | os.PathLike[str]) -> Path:
    """Create *path* (and any missing parents) as ``0700`` directories; tighten it if it exists.

    Parents that already exist are left as they are: they may be shared (``/tmp``, ``$HOME``).

    Raises:
        FileRefusedError: *path* exists and is not a directory (a symbolic link included).
    """
    directory = Path(path)
    missing: list[Path] = []
    cursor = directory
    while not cursor.exists() and not cursor.is_symlink():
        missing.append(cursor)
        if cursor.parent == cursor:
            break
        cursor = cursor.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=PRIVATE_DIR_MODE)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise FileRefusedError(f"{directory} is not a directory")
    if stat.S_IMODE(info.st_mode) != PRIVATE_DIR_MODE and info.st_uid == os.geteuid():
        os.chmod(directory, PRIVATE_DIR_MODE)
    return directory


@contextlib.contextmanager
def open_private_file(path: str | os.PathLike[str], *, exclusive: bool = False) -> Iterator[BinaryIO]:
    """Open *path* for writing as a ``0600`` file, never through a symbolic link, for a writer that
    takes a file object (pyarrow's Parquet writer): no process-wide umask change is needed.

    Args:
        path: the file to create, or to truncate if it exists.
        exclusive: refuse a file that exists already (``O_EXCL``), e.g. a key or a manifest.

    Raises:
        FileRefusedError: *path* is a symbolic link or not a regular file.
        FileExistsError: *exclusive* and *path* exists.
    """
    target = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC) | _NOFOLLOW | _NONBLOCK
    try:
        fd = os.open(target, flags, PRIVATE_FILE_MODE)
    except OSError:
        if target.is_symlink():
            raise FileRefusedError(f"refusing to write through the symbolic link {target}") from None
        raise
    with os.fdopen(fd, "wb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRefusedError(f"{target} is not a regular file")
        os.fchmod(fd, PRIVATE_FILE_MODE)
        os.set_blocking(fd, True)
        yield handle


def write_private_file(
    path: str | os.PathLike[str], data: bytes | str, *, encoding: str = "utf-8", exclusive: bool = False
) -> Path:
    """Write *data* to *path* as a ``0600`` file, replacing its content, never through a symlink.

    Args:
        path: the file to write.
        data: its content; text is encoded with *encoding*, and written as given (no newline
            translation).
        encoding: the encoding of text *data*.
        exclusive: refuse a file that exists already instead of replacing it.

    Raises:
        FileRefusedError: *path* is a symbolic link or not a regular file.
        FileExistsError: *exclusive* and *path* exists.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    with open_private_file(path, exclusive=exclusive) as handle:
        handle.write(payload)
    return Path(path)


@contextlib.contextmanager
def open_regular_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open *path* for reading; it must be a regular file reached without a symbolic link.

    The check and the read use one descriptor, so the file cannot be swapped in between.

    Raises:
        FileRefusedError: *path* is a symbolic link, a FIFO, a socket, a device or a directory.
        FileNotFoundError: *path* does not exist.
    """
    source = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(source, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except OSError as error:
        if source.is_symlink():
            raise FileRefusedError(f"{source} is a symbolic link; evidence is read from regular files only") from None
        if isinstance(error, IsADirectoryError):
            raise FileRefusedError(f"{source} is a directory, not a file") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FileRefusedError(f"{source} is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise FileRefusedError(f"{source} is not a regular file (a FIFO, socket or device is refused)")
        os.set_blocking(fd, True)
        yield handle


def read_regular_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> bytes:
    """Return the bytes of *path*, which must be a regular file reached without a symbolic link.

    Raises:
        FileRefusedError: *path* is a symbolic link, a FIFO, a device, a directory, or larger
            than *max_bytes*.
        FileNotFoundError: *path* does not exist.
    """
    with open_regular_file(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise FileRefusedError(f"{path} is {size} bytes; the limit is {max_bytes}")
        return handle.read()


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Create files as ``0600`` and directories as ``0700`` inside the block (for other writers).

    The umask is process-wide: use it only around writes done by a library (pyarrow's Parquet
    writer) in otel-audit's own commands, never around a host application's code.
    """
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
