"""The per-document budget of every reader: bytes, characters in one line, HTML nesting depth, PDF
pages, characters on one PDF page, bytes inflated from compressed PDF streams. Anything beyond it is a
BudgetExceeded, which read_document turns into a DocumentError naming the file, never a hang.

The readers look these up here when they run (`limits.MAX_PDF_PAGES`), so a test that sets one on this
module reaches every reader; setting the copy that pipeline.ingest re-exports changes nothing."""

from __future__ import annotations

from pathlib import Path

from ..models import DocumentError, Page

MAX_FILE_BYTES = 200 * 1024 * 1024
# Text, HTML and Markdown are read whole and every line becomes an object: 16 MB of text took 195 MB
# of memory and 30 s to segment, so a 200 MB text would need gigabytes and an hour before extraction
# and embedding even start. No letter comes near: the 168-page rule is 0.6 MB as text.
MAX_TEXT_BYTES = 16 * 1024 * 1024
# One line (a paragraph of a text that never breaks its lines, an HTML <p>): the longest paragraph of the
# real corpus is under 5,000 characters; spaCy refuses 1,000,000 (E088) and needs about 1 GB per 100,000
# for its parser, so a paragraph longer than this is a dump, not prose anyone cites.
MAX_LINE_CHARS = 100_000
# HTML elements nested deeper than this are machine output, not a page (browsers stop nesting at 512)
MAX_HTML_DEPTH = 10_000
# PDF: pages of one document (the rule has 168) and characters on one page (a dense Federal Register
# page holds about 12,000)
MAX_PDF_PAGES = 3_000
MAX_PAGE_CHARS = 200_000
# Bytes a compressed PDF stream may inflate to, one stream and all streams of one document together
# (the 168-page rule inflates to about 10 MB in all): a 2 MB stream of zeros inflates to 2 GB
MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_INFLATED_BYTES = 256 * 1024 * 1024
# below this many pages a process pool costs more than it saves
PARALLEL_MIN_PAGES = 24


class BudgetExceeded(Exception):
    """Raised by a reader when a document goes beyond the per-document budget; read_document turns it
    into a DocumentError naming the file."""


def check_line_lengths(pages: list[Page], path: Path | None = None) -> None:
    for page in pages:
        for line in page.lines:
            if len(line.text) > MAX_LINE_CHARS:
                problem = (
                    f"a paragraph of {len(line.text):,} characters on page {page.number}; the limit for one "
                    f"paragraph is {MAX_LINE_CHARS:,} (is this a data dump rather than a document?)"
                )
                if path is not None:
                    raise DocumentError(str(path), problem)
                raise BudgetExceeded(problem)
