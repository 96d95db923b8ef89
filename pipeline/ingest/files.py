"""Opening source files: only regular files are ever opened (a named pipe would block the build for
ever, a device never ends), and a file's SHA-256."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from ..models import DocumentError

FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a named pipe (FIFO)")."""
    return next((name for test, name in FILE_KINDS if test(mode)), "not a regular file")


def open_regular(path: Path | str):
    """Open a file for reading in binary, only if it is a regular file: a named pipe would block the
    build for ever and a device (/dev/zero) never ends, so neither is ever opened for reading. The
    mode is checked before opening (opening some devices has effects) and again on the open file,
    which is opened non-blocking so that a FIFO swapped in between cannot block either. Raises
    DocumentError naming the file."""
    name = str(path)
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise DocumentError(name, "file not found") from None
    except OSError as exc:
        raise DocumentError(name, f"cannot read it ({exc.strerror})") from exc
    if not stat.S_ISREG(before.st_mode):
        raise DocumentError(name, f"not a regular file ({file_kind(before.st_mode)})")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise DocumentError(name, f"cannot read it ({exc.strerror})") from exc
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise DocumentError(name, f"not a regular file ({file_kind(mode)})")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def sha256_file(path: Path) -> str:
    """The file's SHA-256 (lower-case hex). Raises DocumentError for a file that is missing, unreadable
    or not a regular file."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        except OSError as exc:
            raise DocumentError(str(path), f"cannot read it ({exc.strerror})") from exc
    return digest.hexdigest()
