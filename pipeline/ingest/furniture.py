"""Page furniture: running headers and footers, printed page numbers, the Federal Register's print
header and public-inspection banner (what they say about the page is kept: its printed label, the FR
citation), and footnotes at the foot of a page. Pure functions on lines, no I/O."""

from __future__ import annotations

import re
from collections import Counter

from ..models import Line, Page, RawDocument

FR_HEADER = re.compile(r"Federal Register\s*/\s*Vol\.\s*(?P<vol>\d+),\s*No\.\s*\d+\s*/.*?/\s*(?P<page>\d{3,6})\s*$")
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


def printed_page_number_lines(lines: list[str]) -> dict[int, str]:
    """Indexes of lines that are printed page numbers ("2", "- 2 -", "Page 2 of 3") counting
    1, 2, 3 … in order."""
    candidates = [(i, int(m.group(1))) for i, line in enumerate(lines) if (m := page_number(line.strip()))]
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


# "4 OpenAI: Building …": a note number, then text that does not read on ("12 months earlier")
FOOTNOTE_START = re.compile(r"^(\d{1,3})\s+[^\sa-z]")


def move_page_end_footnotes(pages: list[Page]) -> None:
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


def lift_margins(document: RawDocument) -> None:
    """Remove running headers, footers and page numbers from the text; keep what they say
    about the page (the printed page label, the Federal Register citation)."""
    pages = document.pages
    heights = [max((ln.bottom for ln in p.lines), default=0) for p in pages]
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
        return (
            line.top <= highest + 1 or line.top >= lowest - 1 or line.top < margin or line.bottom > page_height - margin
        )

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
            page.lines = [line for line in page.lines if not (in_margin(line, page) and shape(line.text) in repeated)]

    # 4. footnotes: a smaller font below the body text at the foot of the page
    sizes = Counter(line.size for page in pages for line in page.lines if line.kind == "body" and line.size)
    body_size = sizes.most_common(1)[0][0] if sizes else 0
    for page in pages:
        body_lines = [ln for ln in page.lines if ln.kind == "body"]
        if not body_lines or not body_size:
            continue
        last_body = max((ln.top for ln in body_lines if ln.size >= body_size * 0.9), default=0)
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
