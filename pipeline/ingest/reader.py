"""read_document, the one entry point: what kind of file it is (PDF, HTML, Markdown, text), whether it
is within the size limit for its kind and its manifest checksum, then the reader for its kind."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..models import DocumentError, Page, RawDocument
from . import limits
from .decode import decode_text
from .files import open_regular, sha256_file
from .html import html_pages
from .limits import BudgetExceeded, check_line_lengths
from .pdf import read_pdf
from .text import text_pages


def media_of(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF") or suffix == ".pdf":
        return "pdf"
    if suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    if re.match(rb"\s*(<!doctype html|<html)", head[:200], re.I):
        return "html"
    return "text"


def read_document(path: Path | str, expected_sha256: str = "", pdf_pages: list[Page] | None = None) -> RawDocument:
    """Read one source file. Raises DocumentError naming the file and the problem. pdf_pages: a PDF's
    pages already read (in page ranges by the engine's pool), to assemble instead of reading."""
    path = Path(path)
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise DocumentError(str(path), "empty file (0 bytes)")
        try:
            head = handle.read(1024)
            media = media_of(path, head)
            limit = limits.MAX_FILE_BYTES if media == "pdf" else limits.MAX_TEXT_BYTES
            if size > limit:  # before hashing: a huge file is refused without being read
                raise DocumentError(
                    str(path), f"file too large ({size:,} bytes; the limit for a {media} file is {limit:,})"
                )
            # text is read whole (it is at most limits.MAX_TEXT_BYTES) and hashed as read; a PDF is hashed here
            # and parsed from its path
            data = head + handle.read() if media != "pdf" else b""
        except OSError as exc:
            raise DocumentError(str(path), f"cannot read it ({exc.strerror})") from exc
    digest = hashlib.sha256(data).hexdigest() if media != "pdf" else sha256_file(path)
    if expected_sha256 and digest != expected_sha256.lower():
        raise DocumentError(str(path), f"sha256 mismatch: manifest says {expected_sha256}, file has {digest}")
    try:
        if media == "pdf":
            return read_pdf(path, digest, pdf_pages)
        text = decode_text(data, str(path))
        del data
        if media == "html":
            pages = html_pages(text)
        elif media == "markdown":
            pages = text_pages(text, markdown=True)
        else:
            pages = text_pages(text, markdown=False)
    except BudgetExceeded as exc:
        raise DocumentError(str(path), str(exc)) from None
    if not any(page.lines for page in pages):
        raise DocumentError(str(path), f"no text found in this {media} file")
    check_line_lengths(pages, path)  # HTML paragraphs (a text file's lines were checked as they were read)
    return RawDocument(path=str(path), sha256=digest, media=media, pages=pages)
