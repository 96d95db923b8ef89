"""Files the user asked for, written whole or not at all: manifests, table files, reports, fetched and
added documents. Each is written beside its target under a temporary name (keeping the mode of the file
it replaces), synced, then renamed over it, so an interruption or a full disk leaves the old file as it
was; through a symbolic link, the file it leads to is replaced."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
from pathlib import Path


def _temp_beside(target: Path, doing: str) -> Path:
    return target.parent / f".{target.name}.{secrets.token_hex(6)}.{doing}"


def replace_file(path: str | Path, content: str | bytes, doing: str = "writing") -> Path:
    """Write content (text as UTF-8) to path atomically; returns the path. OSError on failure, with
    the old file untouched and no temporary file left."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    temp = _temp_beside(target, doing)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as out:
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return Path(path)


def copy_file(source: Path, target: Path, sha256: str, doing: str = "adding") -> Path:
    """Copy source to target whole or not at all, checking that the copy has the expected sha256 (a
    file that changes while it is copied is refused with ValueError)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(target, doing)
    try:
        shutil.copyfile(source, temp)
        digest = hashlib.sha256()
        with open(temp, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            raise ValueError(f"{source}: the file changed while it was being copied; try again")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def write_table_file(path: Path, content: str) -> Path:
    """A table file (CSV, Markdown, JSON...) the user asked for."""
    return replace_file(path, content)
