"""The Markdown regkb reads: ATX headings, list items, GFM tables, and inline markup (emphasis, links,
images) taken away, all in time linear in the line."""

from __future__ import annotations

import re
from bisect import bisect_left

# The Markdown syntax regkb reads, as regular expressions. They are the specification, not the
# implementation: run with re.sub, the lazy `.*?`/`.+?` made them quadratic in the length of a line
# ("**a " × 50,000, 200 KB, took minutes; "# x" with 100,000 trailing spaces too). The functions below
# give the same results in linear time (tests/test_scaling.py checks both, on generated lines).
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
MARKDOWN_ITEM = re.compile(r"^(?:(?P<bullet>[-*+])|\d{1,3}[.)])\s+(?=\S)")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
# **bold**, __bold__, *emphasis*, _emphasis_: the markers hug the words they wrap, so "2 * 3" and
# snake_case stay as they are
MARKDOWN_EMPHASIS = [
    re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"),
]
# each emphasis pattern as (where it can open, where it can close, marker length): the same lookarounds
EMPHASIS_MARKERS = [
    (re.compile(r"(?<![\w*])\*\*(?=\S)"), re.compile(r"(?<=\S)\*\*(?![\w*])"), 2),
    (re.compile(r"(?<!\w)__(?=\S)"), re.compile(r"(?<=\S)__(?!\w)"), 2),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])"), re.compile(r"(?<=[^\s*])\*(?![\w*])"), 1),
    (re.compile(r"(?<!\w)_(?=[^\s_])"), re.compile(r"(?<=[^\s_])_(?!\w)"), 1),
]
HEADING_START = re.compile(r"(#{1,6})\s+")
# a GFM table: a header row, a delimiter row (|---|:---:|), body rows; cells split at unescaped pipes
TABLE_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def markdown_tables(lines: list[str]) -> tuple[set[int], set[int]]:
    """Indexes of the lines of GFM tables (header and body rows) and of their delimiter rows: a line
    holding a pipe, then a delimiter row, then the rows up to a blank line or a line without a pipe."""
    rows: set[int] = set()
    delimiters: set[int] = set()
    index = 1
    while index < len(lines):
        line = lines[index].strip()
        if (
            "|" in line
            and "-" in line
            and "|" in lines[index - 1]
            and index - 1 not in rows
            and TABLE_DELIMITER.fullmatch(line)
        ):
            rows.add(index - 1)
            delimiters.add(index)
            index += 1
            while index < len(lines) and lines[index].strip() and "|" in lines[index]:
                rows.add(index)
                index += 1
            continue
        index += 1
    return rows, delimiters


def markdown_cells(row: str) -> list[str]:
    """The cells of a table row, each as the words it says (inline markup removed)."""
    inner = row.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return [markdown_inline(cell.replace("\\|", "|")).strip() for cell in CELL_SEPARATOR.split(inner)]


def markdown_heading(line: str) -> str | None:
    """The title of an ATX heading ("## Title ##" → "Title"), or None: what MARKDOWN_HEADING's group 2
    is, without its lazy scan (the shortest title leaves the longest run of spaces, then #, at the end)."""
    start = HEADING_START.match(line)
    if start is None:
        return None
    return line[start.end() :].rstrip("#").rstrip()


def markdown_inline(text: str) -> str:
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
        out += [text[done:start], text[start + width : end]]
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
        if text[after : after + 1] != "(":
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
        if title_end < 0 or text[title_end + 1 : title_end + 2] != ")":
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
        out += [text[done:begin], text[start + 1 : close]]
        done = at = end
    out.append(text[done:])
    return "".join(out)
