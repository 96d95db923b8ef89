"""Ingest: the only stage that reads source files. Turns a PDF, HTML, Markdown or text file into
pages of lines in reading order, with running headers, footers and page numbers lifted out and
superscripts kept ("10^26", not "1026").

Every reader runs in time linear (or n log n) in its input, and a per-document budget (bytes, characters
in one line, HTML nesting depth, PDF pages, characters on one PDF page, bytes inflated from compressed
PDF streams) turns anything beyond it into a DocumentError naming the file, never a hang: see
bench/bench_scaling.py and tests/test_scaling.py.

One module per job:
  reader     read_document, the entry point: media type, size limits, checksum, dispatch
  files      opening only regular files, SHA-256 of a file
  limits     the per-document budget (read where used: set a budget on `limits`, not here)
  decode     bytes → text (BOMs, UTF-16, UTF-8 with stray cp1252, legacy encodings)
  text       plain text and Markdown files → pages of lines
  markdown   the Markdown syntax, in linear time
  html       HTML → lines
  pdf        PDF I/O: pdfplumber pages, page ranges in a process pool, visible characters, ruled tables
  guards     what regkb puts into pdfminer: budgeted stream decoders, text rendering modes
  layout     pure geometry: characters → lines, superscripts, columns, paragraph starts
  furniture  running headers and footers, page numbers, the FR print header, page-foot footnotes

This module only re-exports what the rest of regkb (and its tests) import from pipeline.ingest."""

from __future__ import annotations

from .files import file_kind, open_regular, sha256_file
from .furniture import page_number
from .layout import chars_to_lines, line_from_chars
from .limits import (
    MAX_FILE_BYTES,
    MAX_HTML_DEPTH,
    MAX_INFLATED_BYTES,
    MAX_LINE_CHARS,
    MAX_PAGE_CHARS,
    MAX_PDF_PAGES,
    MAX_STREAM_BYTES,
    MAX_TEXT_BYTES,
    PARALLEL_MIN_PAGES,
    BudgetExceeded,
)
from .markdown import MARKDOWN_EMPHASIS, MARKDOWN_HEADING, MARKDOWN_LINK, markdown_heading, markdown_inline
from .pdf import is_long_pdf, long_pdf_pages, page_ranges, read_page_range
from .reader import media_of, read_document
from .text import text_pages

# the names the tests have always used for these (tests/test_scaling.py, tests/test_properties.py)
_chars_to_lines = chars_to_lines
_line_from_chars = line_from_chars
_markdown_heading = markdown_heading
_markdown_inline = markdown_inline
_text_pages = text_pages

__all__ = [
    "MARKDOWN_EMPHASIS",
    "MARKDOWN_HEADING",
    "MARKDOWN_LINK",
    "MAX_FILE_BYTES",
    "MAX_HTML_DEPTH",
    "MAX_INFLATED_BYTES",
    "MAX_LINE_CHARS",
    "MAX_PAGE_CHARS",
    "MAX_PDF_PAGES",
    "MAX_STREAM_BYTES",
    "MAX_TEXT_BYTES",
    "PARALLEL_MIN_PAGES",
    "BudgetExceeded",
    "chars_to_lines",
    "file_kind",
    "is_long_pdf",
    "line_from_chars",
    "long_pdf_pages",
    "page_ranges",
    "read_page_range",
    "markdown_heading",
    "markdown_inline",
    "media_of",
    "open_regular",
    "page_number",
    "read_document",
    "sha256_file",
    "text_pages",
]
