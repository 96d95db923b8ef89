"""Ingest: the only stage that reads source files. Turns a PDF, HTML, Markdown or text file into
pages of lines in reading order, with running headers, footers and page numbers lifted out and
superscripts kept ("10^26", not "1026").

Every reader runs in time linear (or n log n) in its input, and a per-document budget (bytes, characters
in one line, HTML nesting depth, PDF pages, characters on one PDF page, bytes inflated from compressed
PDF streams) turns anything beyond it into a DocumentError naming the file, never a hang: see
bench/bench_scaling.py and tests/test_scaling.py."""
from __future__ import annotations

import hashlib
import io
import math
import os
import re
import stat
import statistics
import zlib
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from pathlib import Path

from .models import DocumentError, Line, Page, RawDocument
from .pool import process_pool

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


FR_HEADER = re.compile(
    r"Federal Register\s*/\s*Vol\.\s*(?P<vol>\d+),\s*No\.\s*\d+\s*/.*?/\s*(?P<page>\d{3,6})\s*$"
)
FR_HEADER_LEADING_PAGE = re.compile(r"^(?P<page>\d{3,6})\s+Federal Register\s*/\s*Vol\.\s*(?P<vol>\d+)")
PUBLIC_INSPECTION_BANNER = re.compile(r"scheduled to be published in the\s*Federal Register", re.I)
FR_DOC_IN_BANNER = re.compile(r"federalregister\.gov/d/(\d{4}-\d{5})")
# "7", "- 7 -", "— 7 —", "Page 7", "Page 7 of 12"
BARE_PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*(\d{1,4})\s*[-–—]?(?:\s+of\s+\d{1,4})?$", re.I)
# longer lines are never a page number or a print header; the patterns' neighbouring \s* made them
# quadratic on a line of spaces ("page" and 100,000 spaces)
PAGE_NUMBER_MAX_CHARS = 40
HEADER_MAX_CHARS = 400


def page_number(text: str) -> re.Match | None:
    """BARE_PAGE_NUMBER on a (stripped) line, only when the line is short enough to be one."""
    return BARE_PAGE_NUMBER.fullmatch(text) if len(text) <= PAGE_NUMBER_MAX_CHARS else None


FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
              (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


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


def read_document(path: Path | str, expected_sha256: str = "", workers: int | None = None) -> RawDocument:
    """Read one source file. Raises DocumentError naming the file and the problem."""
    path = Path(path)
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise DocumentError(str(path), "empty file (0 bytes)")
        try:
            head = handle.read(1024)
            media = media_of(path, head)
            limit = MAX_FILE_BYTES if media == "pdf" else MAX_TEXT_BYTES
            if size > limit:  # before hashing: a huge file is refused without being read
                raise DocumentError(str(path), f"file too large ({size:,} bytes; the limit for a {media} file is "
                                               f"{limit:,})")
            # text is read whole (it is at most MAX_TEXT_BYTES) and hashed as read; a PDF is hashed here
            # and parsed from its path
            data = head + handle.read() if media != "pdf" else b""
        except OSError as exc:
            raise DocumentError(str(path), f"cannot read it ({exc.strerror})") from exc
    digest = hashlib.sha256(data).hexdigest() if media != "pdf" else sha256_file(path)
    if expected_sha256 and digest != expected_sha256.lower():
        raise DocumentError(
            str(path), f"sha256 mismatch: manifest says {expected_sha256}, file has {digest}"
        )
    try:
        if media == "pdf":
            return _read_pdf(path, digest, workers)
        text = decode_text(data, str(path))
        del data
        if media == "html":
            pages = _html_pages(text)
        elif media == "markdown":
            pages = _text_pages(text, markdown=True)
        else:
            pages = _text_pages(text, markdown=False)
    except BudgetExceeded as exc:
        raise DocumentError(str(path), str(exc)) from None
    if not any(page.lines for page in pages):
        raise DocumentError(str(path), f"no text found in this {media} file")
    _check_line_lengths(pages, path)  # HTML paragraphs (a text file's lines were checked as they were read)
    return RawDocument(path=str(path), sha256=digest, media=media, pages=pages)


def _check_line_lengths(pages: list[Page], path: Path | None = None) -> None:
    for page in pages:
        for line in page.lines:
            if len(line.text) > MAX_LINE_CHARS:
                problem = (f"a paragraph of {len(line.text):,} characters on page {page.number}; the limit for one "
                           f"paragraph is {MAX_LINE_CHARS:,} (is this a data dump rather than a document?)")
                if path is not None:
                    raise DocumentError(str(path), problem)
                raise BudgetExceeded(problem)


# ----------------------------------------------------------------------------- text decoding

BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),  # before UTF-16: FF FE starts both
        (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# the Unicode blocks of text in a Latin script, as charset_normalizer names them
LATIN_BLOCKS = {"Basic Latin", "Control character", "Latin-1 Supplement", "Latin Extended-A", "Latin Extended-B",
                "Latin Extended Additional", "General Punctuation", "Currency Symbols", "Letterlike Symbols"}


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as text: BOMs first, then UTF-16 without a BOM, UTF-8 (with stray Windows-1252
    bytes), then the best-scoring legacy encoding."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(name, f"undecodable text: bad {codec} ({exc.reason})") from exc
    try:
        # NUL is never text: a stray one in UTF-8 is dropped; many of them mean UTF-16 or binary
        text = data.decode("utf-8")
        if text.count("\x00") <= 1 + len(text) // 1000:
            return text.replace("\x00", "")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise DocumentError(name, "undecodable text: binary data (NUL bytes) in a text file")
    mixed = _utf8_with_stray_cp1252(data)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise DocumentError(name, "undecodable text: not UTF-8 and no other encoding fits")
    if set(best.alphabets) <= LATIN_BLOCKS:
        # charset_normalizer cannot tell the Latin code pages apart on a letter's few accented
        # letters (it read "café" and "naïve" in Latin-1 as cp1250 "café", "naďve"); Windows-1252,
        # a superset of Latin-1's letters, is what such files are written in
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark, or None. The NUL bytes of its ASCII characters (line
    ends, spaces, digits) sit on one side of each pair: odd offsets in little-endian, even in
    big-endian (CJK characters such as 一 U+4E00 put a few on the other side). Binary data has its NULs
    anywhere, and a stray NUL in text is too rare to count."""
    odd = data[1::2].count(0)
    even = data[0::2].count(0)
    if len(data) % 2 or max(odd, even) < max(len(data) // 100, 2) or min(odd, even) > max(odd, even) // 4:
        return None
    try:
        text = data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


# bytes that are not UTF-8, as errors="surrogateescape" keeps them; and real non-ASCII characters
ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
DECODED_NON_ASCII = re.compile("[\x80-\udc7f\udd00-\U0010ffff]")


def _utf8_with_stray_cp1252(data: bytes) -> str | None:
    """A UTF-8 file with a few single bytes of Windows-1252 pasted in (a "café" from an old
    editor): UTF-8 with those bytes read as Windows-1252. None unless every undecodable byte is a
    lone byte among text and there is real UTF-8 beside them."""
    text = data.decode("utf-8", errors="surrogateescape")
    runs = ESCAPED_BYTES.findall(text)
    if any(len(run) > 1 for run in runs) or not DECODED_NON_ASCII.search(text):
        return None
    try:
        return ESCAPED_BYTES.sub(lambda m: bytes([ord(m.group(0)) - 0xDC00]).decode("cp1252"), text)
    except UnicodeDecodeError:  # one of the five bytes Windows-1252 leaves undefined
        return None


# ----------------------------------------------------------------------------- text and markdown

# The Markdown syntax regkb reads, as regular expressions. They are the specification, not the
# implementation: run with re.sub, the lazy `.*?`/`.+?` made them quadratic in the length of a line
# ("**a " × 50,000, 200 KB, took minutes; "# x" with 100,000 trailing spaces too). The functions below
# give the same results in linear time (tests/test_scaling.py checks both, on generated lines).
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
MARKDOWN_ITEM = re.compile(r"^(?:(?P<bullet>[-*+])|\d{1,3}[.)])\s+(?=\S)")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
# **bold**, __bold__, *emphasis*, _emphasis_: the markers hug the words they wrap, so "2 * 3" and
# snake_case stay as they are
MARKDOWN_EMPHASIS = [re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])"),
                     re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
                     re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
                     re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)")]
# each emphasis pattern as (where it can open, where it can close, marker length): the same lookarounds
EMPHASIS_MARKERS = [(re.compile(r"(?<![\w*])\*\*(?=\S)"), re.compile(r"(?<=\S)\*\*(?![\w*])"), 2),
                    (re.compile(r"(?<!\w)__(?=\S)"), re.compile(r"(?<=\S)__(?!\w)"), 2),
                    (re.compile(r"(?<![\w*])\*(?=[^\s*])"), re.compile(r"(?<=[^\s*])\*(?![\w*])"), 1),
                    (re.compile(r"(?<!\w)_(?=[^\s_])"), re.compile(r"(?<=[^\s_])_(?!\w)"), 1)]
HEADING_START = re.compile(r"(#{1,6})\s+")
# a GFM table: a header row, a delimiter row (|---|:---:|), body rows; cells split at unescaped pipes
TABLE_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def _text_pages(text: str, markdown: bool) -> list[Page]:
    """Lines of a text file, split into pages at printed page numbers and form feeds."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(raw_lines, start=1):
        if len(raw) > MAX_LINE_CHARS:  # before any pattern runs over it
            raise BudgetExceeded(f"line {number:,} is {len(raw):,} characters long with no line break; the limit for "
                                 f"one paragraph is {MAX_LINE_CHARS:,} (is this a data dump rather than a document?)")
    numbered = _printed_page_number_lines(raw_lines)
    tables, delimiters = _markdown_tables(raw_lines) if markdown else (set(), set())
    pages: list[Page] = [Page(number=1)]
    blank_before = True
    page_break = False
    last_text = ""
    last_kind = "body"
    wrapped = _is_hard_wrapped(raw_lines)
    for index, raw in enumerate(raw_lines):
        # blank lines that set a page end or a printed page number apart are page furniture, not a
        # paragraph break: whether a paragraph runs on to the next page depends on where its text stopped
        if "\f" in raw:
            pages.append(Page(number=len(pages) + 1))
            raw = raw.replace("\f", "")
            page_break, blank_before = True, False
        if index in numbered:
            pages[-1].label = numbered[index]
            pages.append(Page(number=len(pages) + 1))
            page_break, blank_before = True, False
            continue
        if index in delimiters:
            continue
        stripped = raw.strip()
        if not stripped:
            blank_before = blank_before or not page_break
            continue
        if index in tables:
            # one line per row, cells joined by " | " as a PDF's or an HTML page's table rows are
            row = " | ".join(cell for cell in _markdown_cells(stripped) if cell)
            if row:
                pages[-1].lines.append(Line(text=row, page=pages[-1].number, x1=len(raw.rstrip()), kind="table",
                                            starts_block=True))
                last_text, last_kind = row, "table"
            blank_before = page_break = False
            continue
        runs_on = False
        if page_break:
            # a paragraph runs on across the page break unless the last page ended a sentence
            runs_on = not blank_before and bool(last_text) and not last_text.endswith((".", "!", "?", ":", "”", '"'))
            blank_before = not runs_on
            page_break = False
        last_text = stripped
        bold = opens_item = False
        kind = "body"
        if markdown:
            heading = _markdown_heading(stripped)
            item = MARKDOWN_ITEM.match(stripped)
            if heading is not None:
                stripped, bold = heading, True
            elif item:
                # a bullet is layout; a number is part of what the item says ("2. Export Controls")
                stripped = stripped[item.end():] if item.group("bullet") else stripped
                kind, opens_item = "list", True
            elif last_kind == "list" and not blank_before:
                kind = "list"  # the wrapped rest of a list item
            stripped = _markdown_inline(stripped).strip()
            if not stripped:
                # an image without alt text (![](chart.png)) or an empty heading: nothing to read, and
                # an empty paragraph failed the whole build in store.verify_paragraphs
                continue
        last_kind = kind
        pages[-1].lines.append(
            Line(text=stripped, page=pages[-1].number, x1=len(raw.rstrip()), bold=bold, kind=kind,
                 starts_block=bold or opens_item or (not runs_on and (blank_before or not wrapped)))
        )
        blank_before = bold
    _mark_short_text_lines(pages)
    if pages and not pages[-1].lines and len(pages) > 1:
        pages.pop()
    _move_page_end_footnotes(pages)
    return pages


def _markdown_tables(lines: list[str]) -> tuple[set[int], set[int]]:
    """Indexes of the lines of GFM tables (header and body rows) and of their delimiter rows: a line
    holding a pipe, then a delimiter row, then the rows up to a blank line or a line without a pipe."""
    rows: set[int] = set()
    delimiters: set[int] = set()
    index = 1
    while index < len(lines):
        line = lines[index].strip()
        if "|" in line and "-" in line and "|" in lines[index - 1] and index - 1 not in rows \
                and TABLE_DELIMITER.fullmatch(line):
            rows.add(index - 1)
            delimiters.add(index)
            index += 1
            while index < len(lines) and lines[index].strip() and "|" in lines[index]:
                rows.add(index)
                index += 1
            continue
        index += 1
    return rows, delimiters


def _markdown_cells(row: str) -> list[str]:
    """The cells of a table row, each as the words it says (inline markup removed)."""
    inner = row.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return [_markdown_inline(cell.replace("\\|", "|")).strip() for cell in CELL_SEPARATOR.split(inner)]


def _markdown_heading(line: str) -> str | None:
    """The title of an ATX heading ("## Title ##" → "Title"), or None: what MARKDOWN_HEADING's group 2
    is, without its lazy scan (the shortest title leaves the longest run of spaces, then #, at the end)."""
    start = HEADING_START.match(line)
    if start is None:
        return None
    return line[start.end():].rstrip("#").rstrip()


def _markdown_inline(text: str) -> str:
    """The words of a Markdown line without its markup: emphasis markers and link targets go. The same
    as MARKDOWN_LINK.sub(r"\1", …) and then each MARKDOWN_EMPHASIS.sub(r"\1", …), in linear time."""
    text = _strip_links(text)
    for opener, closer, width in EMPHASIS_MARKERS:
        # emphasis never spans a line end (`.` stops there), and its lookarounds see one as a space
        text = "\n".join(_strip_emphasis(part, opener, closer, width) for part in text.split("\n"))
    return text


def _positions(pattern: re.Pattern, text: str) -> list[int]:
    return [match.start() for match in pattern.finditer(text)]


def _first_at(positions: list[int], at: int) -> int:
    """The first position >= at, or -1."""
    index = bisect_left(positions, at)
    return positions[index] if index < len(positions) else -1


def _strip_emphasis(text: str, opener: re.Pattern, closer: re.Pattern, width: int) -> str:
    """One MARKDOWN_EMPHASIS pattern, replaced by its group: the regex takes the leftmost opening marker
    that has a closing marker after at least one character, and the nearest such closing marker. Which
    places can open and which can close depends only on the characters around them, so both are listed
    once and paired left to right."""
    opens = _positions(opener, text)
    if not opens:
        return text
    closes = _positions(closer, text)
    out: list[str] = []
    done = 0
    at = 0
    while True:
        start = _first_at(opens, at)
        if start < 0:
            break
        end = _first_at(closes, start + width + 1)
        if end < 0:
            break  # no later opening marker has a closing one after it either
        out += [text[done:start], text[start + width:end]]
        done = at = end + width
    out.append(text[done:])
    return "".join(out)


LINK_TARGET_STOP = re.compile(r"[)\s]")
NOT_SPACE = re.compile(r"\S")


def _strip_links(text: str) -> str:
    """MARKDOWN_LINK.sub(r"\1", text) in linear time. The link text runs from a "[" to the first "]"
    after it, so every "[" before the same "]" stands or falls with what follows that "]"; each "]" is
    looked at once, and the target's end, the title's quotes and the closing parenthesis are found by
    bisection in position lists made once."""
    if "](" not in text:
        return text
    opens = [i for i, char in enumerate(text) if char == "["]
    closes = [i for i, char in enumerate(text) if char == "]"]
    stops = _positions(LINK_TARGET_STOP, text)
    quotes = [i for i, char in enumerate(text) if char == '"']
    solid = None  # positions of non-space characters, made when a link has a title

    def link_end(after: int) -> int:
        """Where a link ends when its text closes just before `after`, or -1."""
        nonlocal solid
        if text[after:after + 1] != "(":
            return -1
        stop = _first_at(stops, after + 1)
        if stop < 0:
            return -1
        if text[stop] == ")":
            return stop + 1
        if solid is None:
            solid = _positions(NOT_SPACE, text)
        title = _first_at(solid, stop)
        if title < 0 or text[title] != '"':
            return -1
        title_end = _first_at(quotes, title + 1)
        if title_end < 0 or text[title_end + 1:title_end + 2] != ")":
            return -1
        return title_end + 2

    out: list[str] = []
    done = at = 0
    while True:
        start = _first_at(opens, at)
        if start < 0:
            break
        close = _first_at(closes, start + 1)
        if close < 0:
            break
        end = link_end(close + 1)
        if end < 0:
            at = close + 1
            continue
        begin = start - 1 if start - 1 >= at and text[start - 1] == "!" else start
        out += [text[done:begin], text[start + 1:close]]
        done = at = end
    out.append(text[done:])
    return "".join(out)


def _is_hard_wrapped(lines: list[str]) -> bool:
    """True when paragraphs are wrapped onto many lines of similar length (a PDF's text dump),
    False when each paragraph sits on one line (blank-line separated or unwrapped)."""
    lengths = [len(line.rstrip()) for line in lines if line.strip()]
    if len(lengths) < 5:
        return False
    # regulatory text with one paragraph per line has short lines too (list items "(A) Mobile
    # networks;"), but a fifth of its lines are far longer than any wrapping width
    if sum(1 for length in lengths if length > 200) >= 0.2 * len(lengths):
        return False
    return statistics.median(lengths) < 120


def _printed_page_number_lines(lines: list[str]) -> dict[int, str]:
    """Indexes of lines that are printed page numbers ("2", "- 2 -", "Page 2 of 3") counting
    1, 2, 3 … in order."""
    candidates = [(i, int(m.group(1))) for i, line in enumerate(lines)
                  if (m := page_number(line.strip()))]
    found: dict[int, str] = {}
    expected, run = 1, 0
    for index, number in candidates:
        # the first page of a letter often prints no number (the sequence starts at 2), and a file
        # may hold the document twice (a comment with its letter attached again): a run restarts
        if number == expected or (run == 0 and number == 2) or (run >= 2 and number in (1, 2)):
            run = run + 1 if number == expected else 1
            found[index] = str(number)
            expected = number + 1
    # a real sequence of page numbers has at least two pages and reaches near the end of the file
    if len(found) < 2:
        return {}
    return found


def _mark_short_text_lines(pages: list[Page]) -> None:
    """In hard-wrapped text, a line that ends a sentence well short of the usual width ends its
    paragraph: the next line starts a new one even without a blank line."""
    widths = [line.x1 for page in pages for line in page.lines]
    if not widths:
        return
    # the wrapping width: PDF-extracted text mixes wrapped lines with long runs the extractor joined
    # (a fifth of ITI's lines are over 200 characters), which are no measure of where lines wrap
    median = statistics.median(widths)
    wrapped = sorted(width for width in widths if width <= 1.5 * median)
    usual = wrapped[int(len(wrapped) * 0.9)] if wrapped else sorted(widths)[int(len(widths) * 0.9)]
    previous: Line | None = None
    for page in pages:
        for line in page.lines:
            if previous is not None:
                first_word = len(line.text.split(" ", 1)[0])
                ends_sentence = previous.text.rstrip().endswith((".", "!", "?", ":", "”", '"', ";"))
                short = previous.x1 + 1 + first_word < usual - 2
                # a line under 60% of the width is a heading or a paragraph's last line, punctuated or not
                if short and (ends_sentence or previous.x1 < 0.6 * usual):
                    line.after_short = True
            previous = line


# "4 OpenAI: Building …": a note number, then text that does not read on ("12 months earlier")
FOOTNOTE_START = re.compile(r"^(\d{1,3})\s+[^\sa-z]")


def _move_page_end_footnotes(pages: list[Page]) -> None:
    """Footnotes printed at the end of a page (just before its page number) become footnote
    lines, each starting its own block. They are recognised by a run of consecutive footnote
    numbers at the very end of the page."""
    for page in pages:
        if not page.label:
            continue
        lines = page.lines
        start = None
        numbers: list[int] = []
        for index in range(len(lines) - 1, max(-1, len(lines) - 16), -1):
            match = FOOTNOTE_START.match(lines[index].text)
            if match:
                numbers.append(int(match.group(1)))
                if sorted(numbers) == list(range(min(numbers), max(numbers) + 1)):
                    start = index
                else:
                    break
        if start is None:
            continue
        for line in lines[start:]:
            line.kind = "footnote"
            line.starts_block = bool(FOOTNOTE_START.match(line.text))


# ----------------------------------------------------------------------------- HTML

# a <div> counts for the text it holds itself (a byline, a dateline), not for the blocks inside it
BLOCK_TAGS = ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "dt", "dd",
              "figcaption", "caption", "div"]


CONTAINER_TAGS = set(BLOCK_TAGS) | {"ul", "ol", "dl", "table", "div", "section", "article"}


def _own_text(element) -> str:
    """An element's text without that of the blocks nested in it (they are read on their own),
    so broken markup such as an unclosed <p> around a list loses nothing and repeats nothing.
    Walked with a stack, not recursion: inline tags nested thousands deep (<b><b><b>…) raised
    RecursionError, which no caller expects from a bad document. Comments, CDATA and processing
    instructions are not text a reader sees (a commented-out draft showed up as a paragraph)."""
    from bs4.element import NavigableString, PreformattedString

    parts = []
    pending = list(reversed(element.contents))
    while pending:
        node = pending.pop()
        if isinstance(node, PreformattedString):
            continue
        if isinstance(node, NavigableString):
            parts.append(str(node))
        elif node.name not in CONTAINER_TAGS:
            pending.extend(reversed(node.contents))
    return "".join(parts)


def _html_pages(text: str) -> list[Page]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    depth = _nesting_depth(soup)
    if depth > MAX_HTML_DEPTH:
        raise BudgetExceeded(f"HTML elements nested {depth:,} deep; the limit is {MAX_HTML_DEPTH:,}")
    for tag in soup(["script", "style", "noscript", "nav", "form", "svg", "iframe", "template", "aside"]):
        if not tag.decomposed:  # one nested in a removed one went with it (removing it again cost its subtree again)
            tag.decompose()
    _drop_site_chrome(soup)
    root = soup.find("article") or soup.find("main") or soup.body or soup
    in_cells = _inside_cells(root)
    page = Page(number=1)
    for element in root.find_all(BLOCK_TAGS):
        if id(element) in in_cells:
            continue  # a paragraph or list in a table cell is read as part of its row
        if element.name == "tr":
            cells = _row_cells(element)
            content, kind = " | ".join(c for c in cells if c), "table"
        else:
            content, kind = _own_text(element), "list" if element.name == "li" else "body"
        content = re.sub(r"\s+", " ", content).strip()
        if not content:
            continue
        heading = element.name in ("h1", "h2", "h3", "h4", "h5", "h6")
        page.lines.append(Line(text=content, page=1, bold=heading, kind=kind, starts_block=True))
    if not page.lines:  # markup without block elements: fall back to its text lines
        return _text_pages(root.get_text("\n"), markdown=False)
    return [page]


def _nesting_depth(soup) -> int:
    """How deep elements nest, walked with a stack."""
    deepest = 0
    pending = [(soup, 0)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in getattr(node, "contents", ()) if getattr(child, "name", None))
    return deepest


def _inside_cells(root) -> set[int]:
    """Ids of the block elements (other than rows) inside a table cell, whose text their row reads: a
    <p> in a <td> came out twice, as a paragraph and in its row. A table nested in a cell has rows and
    cells of its own. One walk with a stack."""
    inside: set[int] = set()
    pending = [(root, False)]
    while pending:
        node, in_cell = pending.pop()
        for child in getattr(node, "contents", ()):
            name = getattr(child, "name", None)
            if name is None:
                continue
            if name == "table" or name == "tr":
                pending.append((child, False))
                continue
            if in_cell and name in BLOCK_TAGS:
                inside.add(id(child))
            pending.append((child, in_cell or name in ("td", "th")))
    return inside


def _drop_site_chrome(soup) -> None:
    """A site's header and footer are chrome; an article's own header holds its title and byline (a
    header nested in a removed one is gone with it). One walk that knows whether it is inside an
    <article> or <main>: asking each header for its ancestors made deeply nested headers quadratic."""
    chrome = []
    pending = [(soup, False)]
    while pending:
        node, inside = pending.pop()
        for child in getattr(node, "contents", ()):
            name = getattr(child, "name", None)
            if name is None:
                continue
            if name in ("header", "footer") and not inside:
                chrome.append(child)  # its descendants go with it
            else:
                pending.append((child, inside or name in ("article", "main")))
    for tag in chrome:
        tag.decompose()


def _row_cells(row) -> list[str]:
    """The cells of a table row (<td>, <th>), each as its words. A table nested in a cell is read as its
    own rows, not again inside the cell around it: for every <tr>, all the cells and text below it made
    nested tables quadratic in size and cubic in time (800 deep took 107 s), and repeated each row's text
    in every row around it. Walked with a stack; text a reader does not see (comments, CDATA) is left out."""
    from bs4.element import NavigableString, PreformattedString

    cells: list[list[str]] = []
    pending = [(child, -1) for child in reversed(row.contents)]
    while pending:
        node, cell = pending.pop()
        if isinstance(node, PreformattedString):
            continue
        if isinstance(node, NavigableString):
            if cell >= 0:
                cells[cell].append(str(node))
            continue
        if node.name in ("table", "tr"):
            continue  # a nested table (or an unclosed row's next row) is read on its own
        if node.name in ("td", "th"):
            cells.append([])
            cell = len(cells) - 1
        pending.extend((child, cell) for child in reversed(node.contents))
    return [" ".join(part.strip() for part in parts if part.strip()) for parts in cells]


# ----------------------------------------------------------------------------- PDF

def _pdf_error(path: Path, exc: Exception) -> DocumentError:
    if _INFLATED["refused"]:
        return DocumentError(str(path), _INFLATED["refused"])
    # pdfplumber wraps pdfminer's errors: look through the chain and the wrapped arguments
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        chain.extend(arg for arg in current.args if isinstance(arg, BaseException))
        current = current.__cause__ or current.__context__
    for error in chain:
        if isinstance(error, BudgetExceeded):
            return DocumentError(str(path), str(error))
        if "Password" in type(error).__name__ or "Encrypt" in type(error).__name__ or "encrypt" in str(error).lower():
            return DocumentError(str(path), "encrypted PDF: it needs a password to be read")
    root = chain[-1]
    return DocumentError(str(path), f"corrupt or truncated PDF ({type(root).__name__}: {root})")


# ----------------------------------------------------------------------------- PDF: inflation budget

# bytes inflated since the document was opened (in this process), and the problem once one is refused
_INFLATED: dict = {"bytes": 0, "refused": ""}
_GUARDED = False


class InflateRefused(Exception):
    """A compressed stream would inflate past the budget (raised inside pdfminer, reported by _read_pdf)."""


def _start_inflate_budget() -> None:
    _install_pdf_guards()
    _INFLATED.update(bytes=0, refused="")


def _inflate_room() -> int:
    return max(0, min(MAX_STREAM_BYTES, MAX_INFLATED_BYTES - _INFLATED["bytes"]))


def _refuse_inflation() -> None:
    if _INFLATED["bytes"] + MAX_STREAM_BYTES <= MAX_INFLATED_BYTES:
        problem = (f"a compressed stream inflates to more than {MAX_STREAM_BYTES:,} bytes, the limit for one "
                   "stream (a decompression bomb?)")
    else:
        problem = (f"its compressed streams inflate to more than {MAX_INFLATED_BYTES:,} bytes in all, the limit "
                   "for one document (a decompression bomb?)")
    # kept as well as raised: should pdfminer swallow the exception somewhere, the read still fails
    _INFLATED["refused"] = problem
    raise InflateRefused(problem)


def _accept(out: bytes | bytearray) -> bytes:
    _INFLATED["bytes"] += len(out)
    return bytes(out)


def _inflate(data: bytes) -> bytes:
    """zlib.decompress for pdfminer, which never stops inflating: this one stops one byte past the budget."""
    room = _inflate_room()
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, room + 1)
    if len(out) > room:
        _refuse_inflation()
    if not inflater.eof:  # what zlib.decompress says of a stream that stops short
        raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return _accept(out)


def _inflate_damaged(data: bytes) -> bytes:
    """pdfminer's decompress_corrupted (what it falls back to when a stream's checksum is wrong: keep what
    inflates) with the budget, and in linear time: it fed one byte at a time and appended to a bytes
    object, quadratic in the output. Fed in chunks; the chunk holding the damage is fed again byte by
    byte from a copy of the state before it."""
    room = _inflate_room()
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    size = 0
    step = 4096  # a chunk inflates to at most about 4 MB, so the budget is checked often enough
    for start in range(0, len(data), step):
        chunk = data[start:start + step]
        before = inflater.copy()
        try:
            out = inflater.decompress(chunk)
        except zlib.error:
            inflater = before
            for offset in range(len(chunk)):
                try:
                    out = inflater.decompress(chunk[offset:offset + 1])
                except zlib.error:
                    if start + offset < len(data) - 3:
                        raise  # as pdfminer's: damage before the checksum is an error
                    return _accept(b"".join(parts))
                size += len(out)
                if size > room:
                    _refuse_inflation()
                parts.append(out)
            continue
        size += len(out)
        if size > room:
            _refuse_inflation()
        parts.append(out)
    return _accept(b"".join(parts))


def _lzw_decode(data: bytes) -> bytes:
    """pdfminer's lzwdecode, stopped at the budget (one LZW code can stand for thousands of bytes)."""
    from pdfminer.lzw import LZWDecoder

    room = _inflate_room()
    parts: list[bytes] = []
    size = 0
    for part in LZWDecoder(io.BytesIO(data)).run():
        size += len(part)
        if size > room:
            _refuse_inflation()
        parts.append(part)
    return _accept(b"".join(parts))


def _run_length_decode(data: bytes) -> bytes:
    """RunLengthDecode (PDF 1.7, 7.4.5) with the budget: pdfminer's rldecode built a list of one Python
    int per output byte (8 bytes each), so 2 MB of runs took 2 GB."""
    room = _inflate_room()
    out = bytearray()
    index = 0
    while index < len(data):
        length = data[index]
        index += 1
        if length == 128:
            break
        if length < 128:
            out += data[index:index + length + 1]
            index += length + 1
        elif index < len(data):
            out += data[index:index + 1] * (257 - length)
            index += 1
        if len(out) > room:
            _refuse_inflation()
    return _accept(out)


def _install_pdf_guards() -> None:
    """Put the budgeted decoders in pdfminer's place (it decodes every stream whole, with no limit) and
    record each character's text rendering mode (pdfplumber does not expose it: mode 3 is invisible)."""
    global _GUARDED
    if _GUARDED:
        return
    import types

    from pdfminer import pdftypes
    from pdfminer.layout import LTChar
    from pdfplumber import page as plumber_page

    capped_zlib = types.SimpleNamespace(**{name: getattr(zlib, name) for name in dir(zlib)
                                           if not name.startswith("__")})
    capped_zlib.decompress = _inflate
    pdftypes.zlib = capped_zlib
    pdftypes.decompress_corrupted = _inflate_damaged
    pdftypes.lzwdecode = _lzw_decode
    pdftypes.rldecode = _run_length_decode

    device = plumber_page.PDFPageAggregatorWithMarkedContent
    render_string, render_char = device.render_string, device.render_char

    def string_with_mode(self, textstate, *args, **kwargs):
        self.regkb_render_mode = getattr(textstate, "render", 0)
        return render_string(self, textstate, *args, **kwargs)

    def char_with_mode(self, *args, **kwargs):
        advance = render_char(self, *args, **kwargs)
        made = self.cur_item._objs
        if made and isinstance(made[-1], LTChar):
            made[-1].render_mode = getattr(self, "regkb_render_mode", 0)
        return advance

    device.render_string, device.render_char = string_with_mode, char_with_mode
    plumber_page.ALL_ATTRS.add("render_mode")
    _GUARDED = True


# ----------------------------------------------------------------------------- PDF: pages

def _regular_pdf(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def is_long_pdf(path: Path) -> bool:
    """A PDF with enough pages to be worth reading page-parallel. Counting pages walks the page
    tree only; a file that cannot even be opened is not long (its parse reports the problem)."""
    if path.suffix.lower() != ".pdf" or not _regular_pdf(path) or path.stat().st_size > MAX_FILE_BYTES:
        return False  # too large (or a pipe, a device): the parse refuses it without pdfminer scanning it
    import pdfplumber

    _start_inflate_budget()
    try:
        with pdfplumber.open(path) as pdf:
            return len(pdf.pages) >= PARALLEL_MIN_PAGES
    except Exception:  # noqa: BLE001 - pdfminer raises many types; the real parse names the problem
        return False


def _read_pdf(path: Path, digest: str, workers: int | None) -> RawDocument:
    import pdfplumber

    _start_inflate_budget()
    try:
        with pdfplumber.open(path) as pdf:
            page_count = len(pdf.pages)
            if page_count == 0:
                raise DocumentError(str(path), "PDF has no pages")
            if page_count > MAX_PDF_PAGES:
                raise DocumentError(str(path), f"PDF has {page_count:,} pages; the limit is {MAX_PDF_PAGES:,}")
            if page_count < PARALLEL_MIN_PAGES or workers == 1:
                pages = [_read_pdf_page(pdf.pages[i], i + 1) for i in range(page_count)]
            else:
                pages = None
    except DocumentError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated types for broken files
        raise _pdf_error(path, exc) from exc
    if pages is None:
        pages = _read_pdf_pages_parallel(path, page_count, workers or os.cpu_count() or 1)
    if _INFLATED["refused"]:  # refused inside pdfminer, which carried on without the stream
        raise DocumentError(str(path), _INFLATED["refused"])
    if not any(line for page in pages for line in page.lines):
        raise DocumentError(str(path), "PDF has no text layer (scanned or image-only): it needs OCR first")
    document = RawDocument(path=str(path), sha256=digest, media="pdf", pages=pages)
    _lift_margins(document)
    _mark_page_starts(document.pages)
    return document


def _mark_page_starts(pages: list[Page]) -> None:
    """The first line of a page starts anew when the last line of the page before stopped short."""
    for before, page in zip(pages, pages[1:]):
        last = next((l for l in reversed(before.lines) if l.kind == "body"), None)
        first = next((l for l in page.lines if l.kind == "body"), None)
        if last is None or first is None:
            continue
        widths = sorted(l.x1 for l in before.lines if l.kind == "body")
        right = widths[int(len(widths) * 0.9)]
        if right - last.x1 > first.first_word_width + (first.size or 10):
            first.after_short = True


def _read_pdf_page_range(path: str, first: int, last: int) -> list[Page]:
    import pdfplumber

    _start_inflate_budget()
    try:
        with pdfplumber.open(path) as pdf:
            pages = [_read_pdf_page(pdf.pages[i], i + 1) for i in range(first, last)]
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many types
        # the problem is worked out here (the inflation budget is this process's) and travels as a plain
        # exception: DocumentError's two-argument constructor does not survive unpickling
        raise BudgetExceeded(_pdf_error(Path(path), exc).problem) from None
    if _INFLATED["refused"]:
        raise BudgetExceeded(_INFLATED["refused"])
    return pages


def _read_pdf_pages_parallel(path: Path, page_count: int, workers: int) -> list[Page]:
    workers = max(1, min(workers, page_count // 8))
    # contiguous slices: each worker parses the document's shared objects once
    chunk = -(-page_count // (workers * 3))
    bounds = [(start, min(start + chunk, page_count)) for start in range(0, page_count, chunk)]
    try:
        with process_pool(workers) as pool:
            parts = list(pool.map(_read_pdf_page_range, [str(path)] * len(bounds),
                                  [b[0] for b in bounds], [b[1] for b in bounds]))
    except DocumentError:
        raise
    except Exception as exc:
        raise _pdf_error(path, exc) from exc
    return [page for part in parts for page in part]


def _read_pdf_page(page, number: int) -> Page:
    """One page's lines in reading order: text a reader cannot see is left out, text set at an angle is
    read in its own direction (after the page's upright text), ruled tables become rows."""
    chars = page.chars
    if len(chars) > MAX_PAGE_CHARS:
        raise BudgetExceeded(f"page {number} holds {len(chars):,} characters; the limit for one page is "
                             f"{MAX_PAGE_CHARS:,}")
    hidden = _hidden_chars(page, chars)
    if hidden:
        page = page.filter(lambda obj: id(obj) not in hidden)  # tables are read without them too
        chars = page.chars
    upright: list[dict] = []
    turned: dict[int, list[dict]] = {}
    for char in chars:
        angle = _text_angle(char)
        if angle:
            turned.setdefault(angle, []).append(char)
        else:
            upright.append(char)
    table_lines, table_boxes = _table_rows(page, number)
    if table_boxes:
        upright = [c for c in upright if not any(_inside(c, box) for box in table_boxes)]
    lines, mixed_sizes = _chars_to_lines(upright, number, page.width)
    lines.extend(table_lines)
    lines.sort(key=lambda line: (line.top, line.x0))
    lines = _order_columns(lines, page.width)
    _mark_blocks(lines, mixed_sizes)
    for angle in sorted(turned):
        frame_chars, frame_width = _into_frame(turned[angle], angle, page.bbox)
        rotated, rotated_mixed = _chars_to_lines(frame_chars, number, frame_width)
        rotated.sort(key=lambda line: (line.top, line.x0))
        rotated = _order_columns(rotated, frame_width)
        _mark_blocks(rotated, rotated_mixed)
        if rotated and lines:
            rotated[0].starts_block = True  # a sidebar or a caption set sideways is not the text before it
        lines.extend(rotated)
    return Page(number=number, lines=lines)


# text rendering modes (PDF 1.7, 9.3.6) and the colours each paints with: 3 paints nothing, 7 only clips
PAINTED_WITH = {0: ("non_stroking_color",), 1: ("stroking_color",), 2: ("non_stroking_color", "stroking_color"),
                3: (), 4: ("non_stroking_color",), 5: ("stroking_color",),
                6: ("non_stroking_color", "stroking_color"), 7: ()}


def _hidden_chars(page, chars: list[dict]) -> set[int]:
    """Ids of the characters a reader of the page cannot see: drawn outside the page, in an invisible
    rendering mode, or in white on a white page. Invisible text over an image is an OCR text layer (a
    scanned letter made searchable), and white text on a dark box or an image is seen: both are kept."""
    left, top, right, bottom = page.bbox
    hidden: set[int] = set()
    suspicious: list[tuple[dict, bool]] = []
    for char in chars:
        x = (char["x0"] + char["x1"]) / 2
        y = (char["top"] + char["bottom"]) / 2
        if not (left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1):
            hidden.add(id(char))
            continue
        painted = PAINTED_WITH.get(char.get("render_mode", 0), ("non_stroking_color",))
        if not painted:
            suspicious.append((char, True))
        elif all(_is_white(char.get(key), char.get("ncs") if key == "non_stroking_color" else None) for key in painted):
            suspicious.append((char, False))
    if suspicious:
        images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images]
        dark = images + [(r["x0"], r["top"], r["x1"], r["bottom"]) for r in page.rects + page.curves
                         if r.get("fill") and not _is_white(r.get("non_stroking_color"), None)]
        for char, invisible in suspicious:
            if not any(_inside(char, box) for box in (images if invisible else dark)):
                hidden.add(id(char))
    return hidden


def _is_white(color, space: str | None) -> bool:
    """True for white in DeviceGray, DeviceRGB or DeviceCMYK (and calibrated or ICC spaces with as many
    components); an indexed, pattern or separation colour is not judged."""
    if space in ("Indexed", "Pattern", "Separation", "DeviceN") or not isinstance(color, (tuple, list)) or not color:
        return False
    if not all(isinstance(v, (int, float)) for v in color):
        return False
    if len(color) in (1, 3):
        return min(color) >= 0.95
    if len(color) == 4:
        return max(color) <= 0.05
    return False


def _text_angle(char: dict) -> int:
    """The direction the character's text runs in, in whole degrees counter-clockwise (0 for upright
    text, and for text tilted less than 5°, which reads as upright)."""
    matrix = char.get("matrix") or (1, 0, 0, 1, 0, 0)
    a, b = matrix[0], matrix[1]
    if not (a or b):
        return 0
    angle = round(math.degrees(math.atan2(b, a))) % 360
    return 0 if angle <= 5 or angle >= 355 else angle


def _into_frame(chars: list[dict], angle: int, bbox: tuple) -> tuple[list[dict], float]:
    """Characters of text running at `angle` turned so that it runs left to right, in a frame whose
    origin is the turned page's corner; also the frame's width (the turned page's)."""
    phi = math.radians(angle)
    cos, sin = math.cos(phi), math.sin(phi)

    def turn(x: float, y: float) -> tuple[float, float]:  # y grows downward, as `top` does
        return x * cos - y * sin, x * sin + y * cos

    corners = [turn(x, y) for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
    shift_x = min(p[0] for p in corners)
    shift_y = min(p[1] for p in corners)
    width = max(p[0] for p in corners) - shift_x
    out = []
    for char in chars:
        points = [turn(x, y) for x in (char["x0"], char["x1"]) for y in (char["top"], char["bottom"])]
        xs = [p[0] - shift_x for p in points]
        ys = [p[1] - shift_y for p in points]
        out.append({**char, "x0": min(xs), "x1": max(xs), "top": min(ys), "bottom": max(ys),
                    "size": max(ys) - min(ys)})
    return out, width


def _inside(char: dict, box: tuple) -> bool:
    x0, top, x1, bottom = box
    mid_x = (char["x0"] + char["x1"]) / 2
    mid_y = (char["top"] + char["bottom"]) / 2
    return x0 <= mid_x <= x1 and top <= mid_y <= bottom


def _table_rows(page, number: int) -> tuple[list[Line], list[tuple]]:
    """Ruled tables become one line per row, cells joined by " | "."""
    if not (page.lines or page.rects):
        return [], []
    lines: list[Line] = []
    boxes: list[tuple] = []
    for table in page.find_tables():
        rows = table.extract()
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue
        boxes.append(table.bbox)
        for row, cells in zip(table.rows, rows):
            text = " | ".join(re.sub(r"\s+", " ", cell or "").strip() for cell in cells)
            if text.replace("|", "").strip():
                lines.append(Line(text=text, page=number, x0=row.bbox[0], x1=row.bbox[2], top=row.bbox[1],
                                  size=0, kind="table", starts_block=True))
    return lines, boxes


def _chars_to_lines(chars: list[dict], number: int, page_width: float) -> tuple[list[Line], set[int]]:
    """Group characters into lines by baseline. Small characters next to a line are its
    superscripts or subscripts, written as ^x and _x; small characters on their own form lines.
    Also returns the ids of the lines set in no one type size (a tenth or more of their characters
    in other sizes), whose size says nothing about where a paragraph starts."""
    if not chars:
        return [], set()
    sizes = Counter(round(c["size"], 1) for c in chars if c["text"].strip())
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    small_limit = 0.8 * body
    big = sorted((c for c in chars if c["size"] >= small_limit), key=lambda c: (c["bottom"], c["x0"]))
    groups: list[list[dict]] = []
    for char in big:
        if groups and abs(char["bottom"] - groups[-1][0]["bottom"]) <= 2.0:
            groups[-1].append(char)
        else:
            groups.append([char])
    homes = [_Home(group) for group in groups]
    leftovers: list[dict] = []
    marks: dict[int, str] = {}
    for char in sorted((c for c in chars if c["size"] < small_limit), key=lambda c: c["x0"]):
        home = _script_home(char, homes)
        if home is None:
            leftovers.append(char)
            continue
        marks[id(char)] = "^" if char["bottom"] < home.median_bottom() - 0.2 * body else "_"
        home.add(char)
    leftovers.sort(key=lambda c: (c["bottom"], c["x0"]))
    for char in leftovers:
        if groups and groups[-1] and groups[-1][0]["size"] < small_limit and \
                abs(char["bottom"] - groups[-1][0]["bottom"]) <= 1.5:
            groups[-1].append(char)
        else:
            groups.append([char])
    pieces = [piece for group in groups for piece in _split_at_gutters(group, body)]
    lines: list[Line] = []
    mixed: set[int] = set()
    for piece in pieces:
        printed = [round(c["size"], 1) for c in piece if c["text"].strip()]
        if not printed:
            continue
        line = _line_from_chars(piece, number, marks)
        if printed.count(line.size) < 0.9 * len(printed):
            mixed.add(id(line))
        lines.append(line)
    return lines, mixed


def _split_at_gutters(group: list[dict], body: float) -> list[list[dict]]:
    """Characters on one baseline but across a column gutter belong to different lines. The right
    edge of the piece so far is kept as it grows (taking the maximum over the piece for every
    character made a long line quadratic: 40,000 characters took 143 s)."""
    ordered = sorted(group, key=lambda c: c["x0"])
    pieces = [[ordered[0]]]
    right = ordered[0]["x1"]
    for char in ordered[1:]:
        if char["x0"] - right > 2.5 * body:
            pieces.append([char])
            right = char["x1"]
        else:
            pieces[-1].append(char)
            right = max(right, char["x1"])
    return pieces


class _Home:
    """A line being assembled, with what _script_home asks of it kept up to date as characters join:
    its vertical extent, its characters by left and by right edge, and its baselines in order."""

    def __init__(self, chars: list[dict]):
        self.chars = chars  # the group itself: characters added here are added to it
        self.top = min(c["top"] for c in chars)
        self.bottom = max(c["bottom"] for c in chars)
        by_left = sorted(chars, key=lambda c: c["x0"])
        self.lefts = [c["x0"] for c in by_left]
        self.by_left = by_left
        self.rights = sorted(c["x1"] for c in chars)
        self.bottoms = sorted(c["bottom"] for c in chars)
        self.widest = max(c["x1"] - c["x0"] for c in chars)

    def add(self, char: dict) -> None:
        self.chars.append(char)
        self.top = min(self.top, char["top"])
        self.bottom = max(self.bottom, char["bottom"])
        at = bisect_right(self.lefts, char["x0"])
        self.lefts.insert(at, char["x0"])
        self.by_left.insert(at, char)
        insort(self.rights, char["x1"])
        insort(self.bottoms, char["bottom"])
        self.widest = max(self.widest, char["x1"] - char["x0"])

    def median_bottom(self) -> float:
        """statistics.median of the characters' bottoms."""
        middle = len(self.bottoms) // 2
        if len(self.bottoms) % 2:
            return self.bottoms[middle]
        return (self.bottoms[middle - 1] + self.bottoms[middle]) / 2

    def collides(self, char: dict) -> bool:
        """A character of the line overlaps `char` by more than 0.3 of its width. Only characters whose
        left edge lies within the widest character's width of `char` can, so only those are looked at."""
        width = char["x1"] - char["x0"]
        least = 0.3 * width
        start = bisect_left(self.lefts, char["x0"] + least - self.widest - 1e-6)
        stop = bisect_right(self.lefts, char["x1"] - least + 1e-6)
        for other in self.by_left[start:stop]:
            if min(other["x1"], char["x1"]) - max(other["x0"], char["x0"]) > least:
                return True
        return False

    def touches(self, char: dict) -> bool:
        """A character of the line ends just before `char` begins (scripts follow their base)."""
        index = bisect_left(self.rights, char["x0"] - 3 - 1e-6)
        while index < len(self.rights) and self.rights[index] < char["x0"] + 1 + 1e-6:
            if -1 < char["x0"] - self.rights[index] < 3:
                return True
            index += 1
        return False


def _script_home(char: dict, homes: list[_Home]) -> _Home | None:
    """The line a small character is a superscript/subscript of: its middle lies within the
    line's height, a character of the line is right beside it, and it collides with none."""
    mid = (char["top"] + char["bottom"]) / 2
    for home in homes:
        if not (home.top - 1 <= mid <= home.bottom + 1):
            continue
        if home.collides(char):
            return None
        return home if home.touches(char) else None
    return None


def _line_from_chars(group: list[dict], number: int, marks: dict[int, str]) -> Line:
    group.sort(key=lambda c: c["x0"])
    parts: list[str] = []
    previous = None
    current_mark = ""
    first_word_end = None
    for char in group:
        text = char["text"]
        mark = marks.get(id(char), "")
        if previous is not None:
            gap = char["x0"] - previous["x1"]
            if gap > 0.15 * max(previous["size"], 1) and text != " " and previous["text"] != " ":
                parts.append(" ")
                current_mark = ""
        if mark and mark != current_mark:
            parts.append(mark)
        current_mark = mark
        if text == " " or (parts and parts[-1] == " "):
            if first_word_end is None and previous is not None:
                first_word_end = previous["x1"]
        parts.append(text)
        previous = char
    content = re.sub(r"\s+", " ", "".join(parts)).strip()
    sizes = Counter(round(c["size"], 1) for c in group if c["text"].strip())
    bold_chars = sum(1 for c in group if "Bold" in c.get("fontname", "") and c["text"].strip())
    printable = sum(1 for c in group if c["text"].strip()) or 1
    x0 = min(c["x0"] for c in group)
    x1 = max(c["x1"] for c in group)
    return Line(
        text=content, page=number, x0=x0, x1=x1,
        top=min(c["top"] for c in group), bottom=max(c["bottom"] for c in group),
        size=sizes.most_common(1)[0][0] if sizes else 0.0,
        bold=bold_chars / printable > 0.6, first_word_width=(first_word_end or x1) - x0,
    )


def _order_columns(lines: list[Line], page_width: float) -> list[Line]:
    """Two- or three-column pages: find gutters no body line crosses and read column by column.
    Lines that cross every gutter (titles spanning the page) keep their place between bands."""
    body = [line for line in lines if line.kind == "body"]
    if len(body) < 12:
        return lines
    gutters = []
    x = page_width * 0.2
    # every 2 pt across the middle of the page; on pages wider than 3,333 pt (no paper is) at most 1,000 places
    step = max(2.0, page_width * 0.6 / 1000)
    while x < page_width * 0.8:
        crossing = sum(1 for line in body if line.x0 < x < line.x1)
        left = sum(1 for line in body if line.x1 <= x)
        right = sum(1 for line in body if line.x0 >= x)
        if crossing <= len(body) * 0.05 and left >= 5 and right >= 5:
            gutters.append(x)
        x += step
    if not gutters:
        return lines
    # merge neighbouring gutter positions into one cut each
    cuts: list[tuple[float, float]] = []
    for position in gutters:
        if cuts and position - cuts[-1][1] <= 2 * step:
            cuts[-1] = (cuts[-1][0], position)
        else:
            cuts.append((position, position))
    edges = [(a + b) / 2 for a, b in cuts]

    def column_of(line: Line) -> int | None:
        spans = [e for e in edges if line.x0 < e < line.x1]
        if spans:
            return None
        return sum(1 for e in edges if line.x0 >= e)

    ordered: list[Line] = []
    band: list[Line] = []
    for line in sorted(lines, key=lambda line: line.top):
        column = column_of(line)
        if column is None:
            ordered.extend(sorted(band, key=lambda l: (column_of(l), l.top)))
            band = []
            ordered.append(line)
        else:
            band.append(line)
    ordered.extend(sorted(band, key=lambda l: (column_of(l), l.top)))
    for line in ordered:
        line.column = column_of(line) or 0
    return ordered


def _mark_blocks(lines: list[Line], mixed_sizes: set[int]) -> None:
    """Layout evidence that a line starts a paragraph: a first-line indent, a larger gap than the
    page's usual line spacing, a change of font size, or a previous line that stopped although the
    next word would fit."""
    body = [line for line in lines if line.kind == "body"]
    if not body:
        return
    by_column: dict[int, list[Line]] = {}
    for line in body:
        by_column.setdefault(line.column, []).append(line)
    for column_lines in by_column.values():
        left = Counter(round(line.x0) for line in column_lines).most_common(1)[0][0]
        right = sorted(line.x1 for line in column_lines)[int(len(column_lines) * 0.9)]
        gaps = [b.top - a.bottom for a, b in zip(column_lines, column_lines[1:])
                if b.top > a.top]
        usual_gap = statistics.median(gaps) if gaps else 0.0
        previous: Line | None = None
        for index, line in enumerate(column_lines):
            if previous is None:
                if line.x0 - left >= 8:
                    line.starts_block = True
                previous = line
                continue
            if line.x0 - previous.x0 >= 8:
                line.starts_block = True
            gap = line.top - previous.bottom
            if gap > max(usual_gap * 1.6, usual_gap + 4):
                line.starts_block = True
            # a paragraph keeps its type size: a 9 pt address line and an 8 pt notice are two blocks
            if line.size and previous.size and abs(line.size - previous.size) >= 1 \
                    and not {id(line), id(previous)} & mixed_sizes:
                line.starts_block = True
            # an indented block quote has its own right edge; a short list has none worth the name
            window = column_lines[max(0, index - 4):index + 4]
            local_right = max(l.x1 for l in window)
            edge = local_right if local_right - left >= 0.6 * (right - left) else right
            room = edge - previous.x1
            # ragged right edges leave up to a word's room; a paragraph's end leaves more
            if room > line.first_word_width + (line.size or 10):
                line.after_short = True
            previous = line


def _lift_margins(document: RawDocument) -> None:
    """Remove running headers, footers and page numbers from the text; keep what they say
    about the page (the printed page label, the Federal Register citation)."""
    pages = document.pages
    heights = [max((l.bottom for l in p.lines), default=0) for p in pages]
    page_height = max(heights) if heights else 792
    margin = 0.09 * page_height

    extremes: dict[int, tuple[list[Line], float, float]] = {}

    def in_margin(line: Line, page: Page) -> bool:
        # the page's highest and lowest line, worked out once per list of lines (not once per line: a
        # page of thousands of lines made this quadratic)
        known = extremes.get(id(page))
        if known is None or known[0] is not page.lines:
            tops = [other.top for other in page.lines]
            known = extremes[id(page)] = (page.lines, min(tops), max(tops))
        _, highest, lowest = known
        return line.top <= highest + 1 or line.top >= lowest - 1 or \
            line.top < margin or line.bottom > page_height - margin

    # 1. the public-inspection banner on the first page
    first = pages[0]
    banner = [line for line in first.lines if line.size and line.size < 9 and line.top < margin * 1.5]
    banner_text = " ".join(line.text for line in banner)
    if PUBLIC_INSPECTION_BANNER.search(banner_text):
        match = FR_DOC_IN_BANNER.search(banner_text)
        document.public_inspection = match.group(1) if match else "public inspection"
        lifted = {id(line) for line in banner}
        first.lines = [line for line in first.lines if id(line) not in lifted]

    # 2. Federal Register print headers and bare page numbers
    for page in pages:
        keep = []
        for line in page.lines:
            text = line.text.strip()
            header = len(text) <= HEADER_MAX_CHARS and (FR_HEADER.search(text) or FR_HEADER_LEADING_PAGE.search(text))
            if header and in_margin(line, page):
                page.label = header.group("page")
                document.fr_citation = f"{header.group('vol')} FR"
                continue
            number = page_number(text)
            if number and in_margin(line, page) and line.kind != "table":
                page.label = page.label or number.group(1)
                continue
            keep.append(line)
        page.lines = keep

    # 3. other running headers/footers: margin lines repeating (digits aside) on many pages
    if len(pages) >= 3:
        def shape(text: str) -> str:
            return re.sub(r"\d+", "#", text.strip().lower())

        counts = Counter(shape(line.text) for page in pages for line in page.lines if in_margin(line, page))
        threshold = max(3, int(len(pages) * 0.3))
        repeated = {text for text, count in counts.items() if count >= threshold}
        for page in pages:
            page.lines = [line for line in page.lines
                          if not (in_margin(line, page) and shape(line.text) in repeated)]

    # 4. footnotes: a smaller font below the body text at the foot of the page
    sizes = Counter(line.size for page in pages for line in page.lines if line.kind == "body" and line.size)
    body_size = sizes.most_common(1)[0][0] if sizes else 0
    for page in pages:
        body_lines = [l for l in page.lines if l.kind == "body"]
        if not body_lines or not body_size:
            continue
        last_body = max((l.top for l in body_lines if l.size >= body_size * 0.9), default=0)
        note = None
        for line in body_lines:
            if line.size and line.size < body_size * 0.9 and line.top > last_body:
                line.kind = "footnote"
                # only a note number starts a note (the next one in sequence, so a wrapped line that
                # begins "90 FR 4544" stays in its note); a hanging indent or a short line does not
                start = FOOTNOTE_START.match(line.text)
                line.starts_block = bool(start) and (note is None or int(start.group(1)) == note + 1)
                line.after_short = False
                if line.starts_block:
                    note = int(start.group(1))
