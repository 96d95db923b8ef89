"""Lines → blocks: paragraphs, list items, table rows and footnotes, from the layout evidence ingest
left on each line (a first-line indent, a gap, a line that stopped short) and from the text (a strong
start such as "§ 740.2" or "(a)", a caption, an ellipsis), in time linear in the lines. Also the block
predicates and merges the walk uses (a one-line caption, a bold head run into its paragraph)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..models import Line
from ..paths import CJK
from .patterns import (
    BULLET_ONLY,
    DATE_LINE,
    ELLIPSIS,
    HEADED_CHILD,
    OUTLINE_HEADING,
    PART_HEADING,
    SECTION_HEADING,
    SUPPLEMENT_HEADING,
)


@dataclass
class Block:
    lines: list[Line]
    kind: str = "body"
    item_starts: set[int] = field(default_factory=set)  # list items begin at these line indexes

    @property
    def text(self) -> str:
        if not self.item_starts:
            return join_lines(self.lines, " ")
        cuts = [0] + sorted(self.item_starts) + [len(self.lines)]
        return "\n".join(join_lines(self.lines[a:b], " ") for a, b in zip(cuts, cuts[1:]) if a < b)

    @property
    def page(self) -> int:
        return self.lines[0].page


def join_lines(lines: list[Line], separator: str) -> str:
    """Join wrapped lines; a hyphen at a line end joins the word ("per-\ncalendar" stays
    hyphenated only when the next part starts with a capital or digit)."""
    out = ""
    for line in lines:
        text = line.text
        if not out:
            out = text
        elif separator == " " and re.search(r"[A-Za-z]-$", out[-2:]) and re.match(r"[a-z]", text):
            # "comput-|ing" was split by the typesetter; "non-|governmental" keeps its hyphen (only the
            # joined text's last characters are looked at: searching all of it per line was quadratic)
            keep = re.search(r"\b(?:non|self|in|co|re|pre|end|well|high|low|dual|third|closed|open)-$", out[-12:], re.I)
            out = (out if keep else out[:-1]) + text
        elif separator == " " and (CJK.search(out[-1:]) or CJK.match(text)):
            out += text
        else:
            out += separator + text
    return out


STRONG_START = re.compile(
    r"^(?:§\s*\d|PART\s+\d{1,4}|Subpart\s+[A-Z]{1,2}\s*[—–-]|Supplement No\.|SUPPLEMENT NO\.|\d[A-E]\d{3}\s|"
    r"Technical Notes?:|Notes?(?: \d+)?:|"
    r"(?:AGENCY|ACTION|SUMMARY|DATES|ADDRESSES|FOR FURTHER INFORMATION CONTACT|SUPPLEMENTARY INFORMATION):|"
    r"List of Subjects|[IVX]{1,4}\.\s+[A-Z]{3}|[a-z](?:\.\d{1,2}|\.[a-z]){0,4}\.\s+[A-Z“‘'\"]|"
    r"\d{1,2}(?:\.[a-z](?:\.\d{1,2})?)?\.\s+[A-Z“‘'\"]|License Requirements|List Based License|"
    r"List of Items Controlled|Special Conditions for|Related (?:Controls|Definitions?):|Items:|Reason for Control:|"
    r"N\.B\.:|Authority:|\d{1,3}\.\s+(?:The|Section|Part|Supplement|Amend|Add|Revise|In\b)|"
    r"\((?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\)\s*(?:[A-Z“‘\"\[(]|\*))"
)


def _is_list_item(line: Line) -> bool:
    text = line.text.strip()
    words = text.split()
    return (
        0 < len(words) <= 6
        and text[0].isupper()
        and not text.endswith((".", ";", ":", ","))
        and not STRONG_START.match(text)
        and not OUTLINE_HEADING.match(text)
    )


LEADING_ELLIPSIS = re.compile(r"^((?:\*\s*){3,})(?=[^*\s])")


def _split_leading_ellipsis(lines: list[Line]) -> list[Line]:
    """ "* * * * * 18. Amend …" on one line: the stars end the previous text, a new block follows.
    The rest is a new Line: changing the document's own (as this did) made a second segment() of
    the same document give other paragraphs and ids."""
    out: list[Line] = []
    for line in lines:
        match = LEADING_ELLIPSIS.match(line.text)
        if match and line.text[match.end() :].strip():
            out.append(
                Line(
                    text=match.group(1).strip(),
                    page=line.page,
                    x0=line.x0,
                    x1=line.x1,
                    top=line.top,
                    bottom=line.bottom,
                    size=line.size,
                    starts_block=True,
                )
            )
            line = replace(line, text=line.text[match.end() :].strip(), starts_block=True)
        out.append(line)
    return out


def _resumed_block(blocks: list[Block], line: Line) -> Block | None:
    """Text that runs on past footnotes at a page foot: a lower-case line after footnote blocks
    continues the last body paragraph if that one stopped mid-sentence."""
    if line.kind != "body" or not line.text[:1].islower() or not blocks or blocks[-1].kind != "footnote":
        return None
    for block in reversed(blocks):
        if block.kind == "footnote":
            continue
        # the text's last visible character is its last line's: no joining of the whole block per line
        end = next((last.text.rstrip() for last in reversed(block.lines) if last.text.strip()), "")
        if block.kind == "body" and not end.endswith((".", "!", "?", ":", ";", "”", '"')):
            return block
        return None
    return None


def _is_caption_line(line: Line, previous_text: str) -> bool:
    """A short Title Case line after a finished sentence is a caption ("Baseline Security",
    "Export Restrictions"), even where layout gives no other sign."""
    text = line.text.strip()
    words = text.split()
    if not (1 <= len(words) <= 8) or text.endswith((".", ",", ";", ":", "?", "!")):
        return False
    if not previous_text.rstrip().endswith((".", ";", ":", "”", ")")):
        return False
    minor = {"and", "or", "of", "the", "for", "to", "in", "on", "a", "an", "with", "by"}
    return all(w[:1].isupper() or w.lower() in minor or not w[:1].isalpha() for w in words) and text[:1].isupper()


def _is_heading_line(text: str) -> bool:
    return bool(SUPPLEMENT_HEADING.match(text) or PART_HEADING.match(text) or SECTION_HEADING.match(text))


def _heads_prose(lines: list[Line], index: int) -> bool:
    """The line is set apart and followed by a paragraph of wrapped running text: a caption over
    that paragraph ("Model weights" after "… the following statement:"), not a list's first item."""
    following = lines[index + 1 : index + 3]
    if len(following) < 2 or any(line.kind != "body" for line in following):
        return False
    first, second = following
    return (
        (first.starts_block or first.after_short)
        and not _is_list_item(first)
        and not (second.starts_block or second.after_short)
    )


def make_blocks(lines: list[Line], max_chars: int = 10_000, max_lines: int = 250) -> list[Block]:
    """Lines → blocks (paragraphs, list items, table rows, footnotes), in time linear in the lines: a
    block's text is never joined while it grows (joining it for every line made 1,500 wrapped lines
    with no blank line, 84 KB, run for minutes). What the text would say at its end is the end of its
    last line; `chars` counts the characters of each block's lines.

    A block that has reached `max_chars` characters or `max_lines` lines ends there and the next line
    starts a new one: a text with no paragraph breaks at all (a dump of a PDF's text with no blank
    line and no short line) is cut into paragraphs of that size instead of becoming one paragraph of
    the whole file, which extraction (spaCy) cannot take and whose text costs its length times its
    lines to join. The longest paragraph of the real corpus (3,002 characters) is far below both."""
    blocks: list[Block] = []
    chars: dict[int, int] = {}  # id(block) → characters in its lines
    lines = _split_leading_ellipsis(lines)
    for index, line in enumerate(lines):
        current = blocks[-1] if blocks else None
        previous_text = current.lines[-1].text if current else ""
        # short lines after a lead-in ending in ":" are items of a list (the lines themselves are
        # body text; lines the source marks as list items are blocks of their own)
        full = current is not None and (
            chars[id(current)] + len(line.text) > max_chars or len(current.lines) >= max_lines
        )
        lead_in = (
            not full
            and current is not None
            and current.lines[-1].kind == "body"
            and (
                # a body block's text ends as its last line does (join_lines only ever adds at the end)
                current.kind == "list"
                or (current.kind == "body" and current.lines[-1].text.endswith(":") and not _heads_prose(lines, index))
            )
        )
        if lead_in and line.kind == "body" and _is_list_item(line) and (line.starts_block or line.after_short):
            current.kind = "list"
            current.item_starts.add(len(current.lines))
            current.lines.append(line)
            chars[id(current)] += len(line.text)
            continue
        new_block = (
            current is None
            or full
            or line.starts_block
            or line.after_short
            or line.kind != current.lines[-1].kind
            or line.kind == "table"
            or (current.kind == "list" and line.kind != "list")
            or (
                STRONG_START.match(line.text)
                and (previous_text.rstrip().endswith((".", ":", ";", "”", "]")) or _is_heading_line(previous_text))
            )
            or ELLIPSIS.match(line.text)
            or ELLIPSIS.match(previous_text)
            or (line.kind == "body" and _is_caption_line(line, previous_text))
            or (
                current is not None
                and len(current.lines) == 1
                and _is_caption_line(current.lines[0], ".")
                and not (current.lines[0].text.isupper() and line.text.isupper())
            )  # a capitals heading wraps
        )
        # a lone bullet's text is one character, so only a block of at most one character is joined
        if current and chars[id(current)] <= 1 and BULLET_ONLY.match(current.text):
            new_block = False
        resumed = _resumed_block(blocks, line)
        if resumed is not None and (chars[id(resumed)] + len(line.text) > max_chars or len(resumed.lines) >= max_lines):
            resumed = None
        if resumed is not None:
            resumed.lines.append(line)
            chars[id(resumed)] += len(line.text)
            continue
        if new_block:
            blocks.append(Block([line], kind=line.kind if line.kind in ("table", "footnote", "list") else "body"))
            chars[id(blocks[-1])] = len(line.text)
        else:
            current.lines.append(line)
            chars[id(current)] += len(line.text)
    return _split_headed_children(blocks)


def _split_headed_children(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        while block.kind == "body" and (match := HEADED_CHILD.match(block.text)):
            page = block.lines[0].page
            out.append(Block([Line(text=match.group("head"), page=page)]))
            block = Block([Line(text=match.group("child"), page=page)])
        out.append(block)
    return out


def looks_like_heading(block: Block) -> bool:
    """A one-line caption: short, and not ending the way a sentence or list item ends."""
    text = block.text.strip()
    return (
        len(block.lines) == 1
        and 2 < len(text) <= 100
        and len(text.split()) <= 12
        and not text.endswith((".", ",", ";", ":", "?", "!", "”", '"', " and", " or"))
        and not CJK.search(text)
        and (text[:1].isupper() or text[:1].isdigit())
        and not DATE_LINE.match(text)
    )


BARE_OUTLINE_MARKER = re.compile(r"^(?:[IVX]{1,5}|[A-Z]|\d{1,2}|[a-z]|[ivx]{1,5})\.$")


def split_bold_heads(blocks: list[Block]) -> list[Block]:
    """A bold caption run into its paragraph ("i. Impact of AI Diffusion … The proliferation …",
    "C. Data Center Validated End-Users (DC VEUs): … In October 2024, BIS …"): where the source
    has fonts, the bold lines at a block's start are a heading of their own."""
    out: list[Block] = []
    for block in blocks:
        if (
            out
            and BARE_OUTLINE_MARKER.match(out[-1].text.strip())
            and block.lines[0].bold
            and all(line.bold for line in out[-1].lines)
        ):
            # "iii." set on a line of its own, its caption after it: one heading
            block = Block(out.pop().lines + block.lines, kind=block.kind)
        cut = next((i for i, line in enumerate(block.lines) if not line.bold), len(block.lines))
        head = join_lines(block.lines[:cut], " ")
        if (
            block.kind == "body"
            and 0 < cut < len(block.lines)
            and cut <= 3
            and len(head) < 250
            and not head.rstrip().endswith((",", ";"))
        ):
            out.append(Block(block.lines[:cut]))
            out.append(Block(block.lines[cut:]))
            continue
        out.append(block)
    return out


def merge_section_titles(blocks: list[Block]) -> list[Block]:
    """ "§ 740.28" alone on a line, its title on the next: one heading."""
    out: list[Block] = []
    for block in blocks:
        if out and re.fullmatch(r"§{1,2}\s*\d{1,4}\.\d+[a-z]?", out[-1].text.strip()) and block.kind == "body":
            out[-1].lines.extend(block.lines)
            continue
        out.append(block)
    return out
