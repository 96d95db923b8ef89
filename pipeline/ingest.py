"""Ingest: the only stage that reads source files. Turns a PDF, HTML, Markdown or text file into
pages of lines in reading order, with running headers, footers and page numbers lifted out and
superscripts kept ("10^26", not "1026")."""
from __future__ import annotations

import hashlib
import os
import re
import statistics
from collections import Counter
from pathlib import Path

from .models import DocumentError, Line, Page, RawDocument
from .pool import process_pool

MAX_FILE_BYTES = 200 * 1024 * 1024
# Text, HTML and Markdown are read whole and every line becomes an object: 16 MB of text took 195 MB
# of memory and 30 s to segment, so a 200 MB text would need gigabytes and an hour before extraction
# and embedding even start. No letter comes near: the 168-page rule is 0.6 MB as text.
MAX_TEXT_BYTES = 16 * 1024 * 1024
# below this many pages a process pool costs more than it saves
PARALLEL_MIN_PAGES = 24

FR_HEADER = re.compile(
    r"Federal Register\s*/\s*Vol\.\s*(?P<vol>\d+),\s*No\.\s*\d+\s*/.*?/\s*(?P<page>\d{3,6})\s*$"
)
FR_HEADER_LEADING_PAGE = re.compile(r"^(?P<page>\d{3,6})\s+Federal Register\s*/\s*Vol\.\s*(?P<vol>\d+)")
PUBLIC_INSPECTION_BANNER = re.compile(r"scheduled to be published in the\s*Federal Register", re.I)
FR_DOC_IN_BANNER = re.compile(r"federalregister\.gov/d/(\d{4}-\d{5})")
# "7", "- 7 -", "— 7 —", "Page 7", "Page 7 of 12"
BARE_PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*(\d{1,4})\s*[-–—]?(?:\s+of\s+\d{1,4})?$", re.I)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
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
    if not path.exists():
        raise DocumentError(str(path), "file not found")
    if not path.is_file():
        raise DocumentError(str(path), "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(str(path), "empty file (0 bytes)")
    with open(path, "rb") as handle:
        head = handle.read(1024)
    media = media_of(path, head)
    limit = MAX_FILE_BYTES if media == "pdf" else MAX_TEXT_BYTES
    if size > limit:  # before hashing: a huge file is refused without being read
        raise DocumentError(str(path), f"file too large ({size:,} bytes; the limit for a {media} file is {limit:,})")
    digest = sha256_file(path)
    if expected_sha256 and digest != expected_sha256.lower():
        raise DocumentError(
            str(path), f"sha256 mismatch: manifest says {expected_sha256}, file has {digest}"
        )
    if media == "pdf":
        return _read_pdf(path, digest, workers)
    data = path.read_bytes()
    text = decode_text(data, str(path))
    if media == "html":
        pages = _html_pages(text)
    elif media == "markdown":
        pages = _text_pages(text, markdown=True)
    else:
        pages = _text_pages(text, markdown=False)
    if not any(page.lines for page in pages):
        raise DocumentError(str(path), f"no text found in this {media} file")
    return RawDocument(path=str(path), sha256=digest, media=media, pages=pages)


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

MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
MARKDOWN_ITEM = re.compile(r"^(?:(?P<bullet>[-*+])|\d{1,3}[.)])\s+(?=\S)")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
# **bold**, __bold__, *emphasis*, _emphasis_: the markers hug the words they wrap, so "2 * 3" and
# snake_case stay as they are
MARKDOWN_EMPHASIS = [re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])"),
                     re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
                     re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
                     re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)")]


def _text_pages(text: str, markdown: bool) -> list[Page]:
    """Lines of a text file, split into pages at printed page numbers and form feeds."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = _printed_page_number_lines(raw_lines)
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
        stripped = raw.strip()
        if not stripped:
            blank_before = blank_before or not page_break
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
            heading = MARKDOWN_HEADING.match(stripped)
            item = MARKDOWN_ITEM.match(stripped)
            if heading:
                stripped, bold = heading.group(2), True
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


def _markdown_inline(text: str) -> str:
    """The words of a Markdown line without its markup: emphasis markers and link targets go."""
    text = MARKDOWN_LINK.sub(r"\1", text)
    for pattern in MARKDOWN_EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text


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
                  if (m := BARE_PAGE_NUMBER.fullmatch(line.strip()))]
    found: dict[int, str] = {}
    expected = 1
    for index, number in candidates:
        if number == expected:
            found[index] = str(number)
            expected += 1
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
    usual = sorted(widths)[int(len(widths) * 0.9)]
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
    for tag in soup(["script", "style", "noscript", "nav", "form", "svg", "iframe", "template", "aside"]):
        tag.decompose()
    # a site's header and footer are chrome; an article's own header holds its title and byline
    # (a header nested in a removed one is gone with it)
    for tag in soup(["header", "footer"]):
        if not tag.decomposed and tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    page = Page(number=1)
    for element in root.find_all(BLOCK_TAGS):
        if element.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in element.find_all(["td", "th"])]
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


# ----------------------------------------------------------------------------- PDF

def _pdf_error(path: Path, exc: Exception) -> DocumentError:
    # pdfplumber wraps pdfminer's errors: look through the chain and the wrapped arguments
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        chain.extend(arg for arg in current.args if isinstance(arg, BaseException))
        current = current.__cause__ or current.__context__
    for error in chain:
        if "Password" in type(error).__name__ or "Encrypt" in type(error).__name__ or "encrypt" in str(error).lower():
            return DocumentError(str(path), "encrypted PDF: it needs a password to be read")
    root = chain[-1]
    return DocumentError(str(path), f"corrupt or truncated PDF ({type(root).__name__}: {root})")


def is_long_pdf(path: Path) -> bool:
    """A PDF with enough pages to be worth reading page-parallel. Counting pages walks the page
    tree only; a file that cannot even be opened is not long (its parse reports the problem)."""
    if path.suffix.lower() != ".pdf" or path.stat().st_size > MAX_FILE_BYTES:
        return False  # too large to read at all: pdfminer would scan all of it only for the parse to refuse it
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            return len(pdf.pages) >= PARALLEL_MIN_PAGES
    except Exception:  # noqa: BLE001 - pdfminer raises many types; the real parse names the problem
        return False


def _read_pdf(path: Path, digest: str, workers: int | None) -> RawDocument:
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            page_count = len(pdf.pages)
            if page_count == 0:
                raise DocumentError(str(path), "PDF has no pages")
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

    with pdfplumber.open(path) as pdf:
        return [_read_pdf_page(pdf.pages[i], i + 1) for i in range(first, last)]


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
    chars = [c for c in page.chars if c.get("upright", True)]
    table_lines, table_boxes = _table_rows(page, number)
    if table_boxes:
        chars = [c for c in chars if not any(_inside(c, box) for box in table_boxes)]
    lines, mixed_sizes = _chars_to_lines(chars, number, page.width)
    lines.extend(table_lines)
    lines.sort(key=lambda line: (line.top, line.x0))
    lines = _order_columns(lines, page.width)
    _mark_blocks(lines, mixed_sizes)
    return Page(number=number, lines=lines)


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
    leftovers: list[dict] = []
    marks: dict[int, str] = {}
    for char in sorted((c for c in chars if c["size"] < small_limit), key=lambda c: c["x0"]):
        home = _script_home(char, groups)
        if home is None:
            leftovers.append(char)
            continue
        baseline = statistics.median(c["bottom"] for c in home)
        marks[id(char)] = "^" if char["bottom"] < baseline - 0.2 * body else "_"
        home.append(char)
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
    """Characters on one baseline but across a column gutter belong to different lines."""
    ordered = sorted(group, key=lambda c: c["x0"])
    pieces = [[ordered[0]]]
    for char in ordered[1:]:
        if char["x0"] - max(c["x1"] for c in pieces[-1]) > 2.5 * body:
            pieces.append([char])
        else:
            pieces[-1].append(char)
    return pieces


def _script_home(char: dict, groups: list[list[dict]]) -> list[dict] | None:
    """The line a small character is a superscript/subscript of: its middle lies within the
    line's height, a character of the line is right beside it, and it collides with none."""
    mid = (char["top"] + char["bottom"]) / 2
    for group in groups:
        top = min(c["top"] for c in group)
        bottom = max(c["bottom"] for c in group)
        if not (top - 1 <= mid <= bottom + 1):
            continue
        near = False
        for other in group:
            overlap = min(other["x1"], char["x1"]) - max(other["x0"], char["x0"])
            if overlap > 0.3 * (char["x1"] - char["x0"]):
                return None
            # scripts follow their base ("10" then "26"), they do not precede it
            if -1 < char["x0"] - other["x1"] < 3:
                near = True
        return group if near else None
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
    while x < page_width * 0.8:
        crossing = sum(1 for line in body if line.x0 < x < line.x1)
        left = sum(1 for line in body if line.x1 <= x)
        right = sum(1 for line in body if line.x0 >= x)
        if crossing <= len(body) * 0.05 and left >= 5 and right >= 5:
            gutters.append(x)
        x += 2
    if not gutters:
        return lines
    # merge neighbouring gutter positions into one cut each
    cuts: list[tuple[float, float]] = []
    for position in gutters:
        if cuts and position - cuts[-1][1] <= 4:
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

    def in_margin(line: Line, page: Page) -> bool:
        top_lines = [l.top for l in page.lines]
        return line.top <= min(top_lines) + 1 or line.top >= max(top_lines) - 1 or \
            line.top < margin or line.bottom > page_height - margin

    # 1. the public-inspection banner on the first page
    first = pages[0]
    banner = [line for line in first.lines if line.size and line.size < 9 and line.top < margin * 1.5]
    banner_text = " ".join(line.text for line in banner)
    if PUBLIC_INSPECTION_BANNER.search(banner_text):
        match = FR_DOC_IN_BANNER.search(banner_text)
        document.public_inspection = match.group(1) if match else "public inspection"
        first.lines = [line for line in first.lines if line not in banner]

    # 2. Federal Register print headers and bare page numbers
    for page in pages:
        keep = []
        for line in page.lines:
            text = line.text.strip()
            header = FR_HEADER.search(text) or FR_HEADER_LEADING_PAGE.search(text)
            if header and in_margin(line, page):
                page.label = header.group("page")
                document.fr_citation = f"{header.group('vol')} FR"
                continue
            number = BARE_PAGE_NUMBER.fullmatch(text)
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
