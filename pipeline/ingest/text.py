"""Plain text and Markdown files → pages of lines: pages split at form feeds and printed page numbers,
paragraph starts from blank lines or, in hard-wrapped text, from lines that stop short."""

from __future__ import annotations

import re
import statistics

from ..models import Line, Page
from . import limits
from .furniture import move_page_end_footnotes, printed_page_number_lines
from .limits import BudgetExceeded
from .markdown import MARKDOWN_ITEM, markdown_cells, markdown_heading, markdown_inline, markdown_tables


def text_pages(text: str, markdown: bool) -> list[Page]:
    """Lines of a text file, split into pages at printed page numbers and form feeds."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(raw_lines, start=1):
        if len(raw) > limits.MAX_LINE_CHARS:  # before any pattern runs over it
            raise BudgetExceeded(
                f"line {number:,} is {len(raw):,} characters long with no line break; the limit for "
                f"one paragraph is {limits.MAX_LINE_CHARS:,} (is this a data dump rather than a "
                "document?)"
            )
    numbered = printed_page_number_lines(raw_lines)
    tables, delimiters = markdown_tables(raw_lines) if markdown else (set(), set())
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
            row = " | ".join(cell for cell in markdown_cells(stripped) if cell)
            if row:
                pages[-1].lines.append(
                    Line(text=row, page=pages[-1].number, x1=len(raw.rstrip()), kind="table", starts_block=True)
                )
                last_text, last_kind = row, "table"
            blank_before = page_break = False
            continue
        runs_on = False
        if page_break:
            # a paragraph runs on across the page break unless the last page ended a sentence
            runs_on = not blank_before and bool(last_text) and not last_text.endswith((".", "!", "?", ":", "”", '"'))
            blank_before = not runs_on
            page_break = False
        # a line that goes on with the sentence the line before left open ("… remain vigilant that vast" /
        # "exports of advanced AI chips …"): one paragraph, though each line of the file is one
        runs_on = runs_on or (not blank_before and continues(last_text, stripped))
        last_text = stripped
        bold = opens_item = False
        kind = "body"
        if markdown:
            heading = markdown_heading(stripped)
            item = MARKDOWN_ITEM.match(stripped)
            if heading is not None:
                stripped, bold = heading, True
            elif item:
                # a bullet is layout; a number is part of what the item says ("2. Export Controls")
                stripped = stripped[item.end() :] if item.group("bullet") else stripped
                kind, opens_item = "list", True
            elif last_kind == "list" and not blank_before:
                kind = "list"  # the wrapped rest of a list item
            stripped = markdown_inline(stripped).strip()
            if not stripped:
                # an image without alt text (![](chart.png)) or an empty heading: nothing to read, and
                # an empty paragraph failed the whole build in store.verify_paragraphs
                continue
        last_kind = kind
        pages[-1].lines.append(
            Line(
                text=stripped,
                page=pages[-1].number,
                x1=len(raw.rstrip()),
                bold=bold,
                kind=kind,
                starts_block=bold or opens_item or (not runs_on and (blank_before or not wrapped)),
            )
        )
        blank_before = bold
    _mark_short_text_lines(pages)
    if pages and not pages[-1].lines and len(pages) > 1:
        pages.pop()
    move_page_end_footnotes(pages)
    return pages


# what ends a sentence, a clause of a list or a parenthesis: the line after it may start anew
SENTENCE_STOPS = (".", "!", "?", ":", ";", "”", '"', ")", "]")
LIST_MARKER = re.compile(r"^[a-z]{1,4}[.)]\s|^[a-z][.)]\S")  # "b. Balanced …", "iv) …", "a.Text"


def continues(before: str, line: str) -> bool:
    """Whether a line goes on with the sentence of the line before it: that line stops with no
    sentence's end and this one opens in lower case, not with a list item's letter ("b.", "iv)").
    In the docket's PDF-extracted letters 2,522 lines of 188 files do (none of the rules' texts):
    every one of a sample of 40 was the rest of a sentence cut at a page or column break."""
    before = before.rstrip()
    return bool(before) and not before.endswith(SENTENCE_STOPS) and line[:1].islower() and not LIST_MARKER.match(line)


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
                if short and (ends_sentence or previous.x1 < 0.6 * usual) and not continues(previous.text, line.text):
                    line.after_short = True
            previous = line
