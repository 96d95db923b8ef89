"""Segment: pages of lines → paragraphs with a stable id, a section path and a pin cite.

Pure functions, no I/O. The structure of a Federal Register rule is recognised the way eRegs'
regulations-parser does it: a state machine walks the paragraphs in order and keeps the stack of
open levels (preamble captions and outline headings; PART, §, paragraph markers (a)(1)(i)(A);
supplements; Commerce Control List entries and their Notes). Letters get their headings."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from .models import Line, ManifestEntry, Paragraph, RawDocument
from .paths import CJK

# ----------------------------------------------------------------------------- patterns

PARA_MARKER = re.compile(r"\((?P<m>[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\)")
LEADING_MARKERS = re.compile(r"^(?:\((?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\)\s*)+")
# "(h) Definitions—(1) Ultimate consignee." starts two paragraphs in one line
HEADED_CHILD = re.compile(
    r"^(?P<head>\((?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\)\s+(?:[^.—:]{1,90}?(?:\.|:)|[^—:]{1,250}?(?:—|--)))\s*"
    r"(?P<child>\((?:1|i|A|a)\)(?:\((?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\))*\s+\S.*)$", re.S)
# CFR parts have one to four digits (15 CFR part 7, part 791); "§" may be followed by any space the
# typesetter used (a thin, no-break or narrow no-break space, or none: Python's \s takes them all)
PART_HEADING = re.compile(r"^PART\s+(?P<part>\d{1,4})\s*(?:[—–-]|$)", re.I)
SUBPART_HEADING = re.compile(r"^Subpart\s+(?P<subpart>[A-Z]{1,2})\s*(?:[—–-]|$)")
SECTION_HEADING = re.compile(r"^§{1,2}\s*(?P<section>\d{1,4}\.\d+[a-z]?)(?:\s+(?P<title>.*))?$", re.S)
SUPPLEMENT_HEADING = re.compile(
    r"^Supplement\s+No\.\s*(?P<no>\d+)\s+to\s+Part\s+(?P<part>\d{1,4})\s*(?:[—–-]|$)", re.I)
# the sentence that ends an FR preamble and opens the regulatory text
REGULATORY_LEAD_IN = re.compile(
    r"^(?:For|Accordingly, for) the reasons (?:stated|set (?:out|forth)|discussed|given) in the preamble\b.{0,400}?"
    r"\b(?:amends?|adds?|revises?|proposes to amend)\b", re.S | re.I)
# an entry of a definitions section, unmarked: "Appropriate agency heads means …", "The term
# controlled foreign entity means …", "Knowledge has the same meaning as in § 772.1"
DEFINITION_ENTRY = re.compile(
    r"^(?:The\s+terms?\s+)?[“\"‘']?[A-Z][^;:]{0,160}?[”\"’']?,?\s+(?:means|mean|shall mean|has the (?:same )?meaning|"
    r"have the (?:same )?meanings?|is defined|includes|refers to)\b")
AMENDMENT = re.compile(
    r"^(?P<no>\d{1,3})\.\s+(?=(?:[^.]|\.(?=\d)|(?<=[Nn]o)\.){0,250}?\b(?:amended|amend|added|adding|add|revised|revising|revise|removed|"
    r"removing|remove|redesignat\w*|continues to read|is revised)\b)", re.I)
AMENDMENT_STEP = re.compile(r"^[a-z]\.\s+(?:Revis|Add|Remov|Redesignat|In\b|By\b)", re.I)
AUTHORITY = re.compile(r"^Authority:\s")
ECCN_HEADING = re.compile(r"^(?P<eccn>\d[A-E]\d{3})\s+(?=\S)(?!\d)")
CCL_CAPTION = re.compile(
    r"^(?P<caption>License Requirements|List Based License Exceptions|List of Items Controlled|"
    r"Special Conditions for STA|(?:Technical )?[Nn]otes?(?: \d+)?(?: to [^:]{1,60})?|N\.B\.)\s*:?\s*"
    r"(?:\(|$|:)", re.S)
CCL_ITEM = re.compile(r"^(?P<item>[a-z](?:\.\d{1,2}|\.[a-z])*)\.\s+\S")
PREAMBLE_CAPTION = re.compile(
    r"^(?P<caption>AGENCY|ACTION|SUMMARY|DATES|ADDRESSES|FOR FURTHER INFORMATION CONTACT|"
    r"SUPPLEMENTARY INFORMATION)\s*:")
OUTLINE_HEADING = re.compile(r"^(?P<m>[IVX]{1,5}|[A-Z]|\d{1,2}|[a-z]|[ivx]{1,5})\.\s+(?P<title>\S.*)$", re.S)
LIST_OF_SUBJECTS = re.compile(r"^List of Subjects\b")
ELLIPSIS = re.compile(r"^(?:\*\s*){3,}$")
BULLET_ONLY = re.compile(r"^[●•▪◦‣·\-–]$")
DATE_LINE = re.compile(r"^(?:[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}-\d{2}-\d{2})$")
# the furniture of a letter, which is never a heading: "Dear …:", "Sincerely,", address lines
SALUTATION = re.compile(r"^(?:Dear|To|Hello|Hi|Greetings)\b[^.;!?]{0,60}[,:]$")
VALEDICTION = re.compile(
    r"^(?:(?:Very |Most )?(?:Sincerely|Respectfully|Truly|Cordially|Faithfully)(?: (?:yours|submitted))?|"
    r"(?:With )?(?:(?:Best|Kind|Warm|Warmest) )?Regards|Yours,?(?: (?:truly|sincerely|faithfully))?)[,.]?$", re.I)
ADDRESS_LINE = re.compile(
    r",\s*[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?\b"  # "Washington, DC 20230"
    r"|\b\d{1,5}\s+(?:[A-Z0-9][\w.'’-]*\s+){1,4}(?:Street|St\.|Avenue|Ave\.|Road|Rd\.|Boulevard|Blvd\.|Drive|"
    r"Lane|Way|Place|Plaza|Court|Parkway|Square)(?!\w)"  # "1401 Constitution Avenue NW"
    r"|\b(?:Suite|P\.\s?O\.\s?Box)\s+\d"
    r"|[\w.+-]+@[\w-]+\.\w|\bwww\.|https?://"
    r"|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")  # a telephone number
# "By Jane Doe, …", "January 13, 2025 by Jane Doe": who wrote it and when, not what it is about
BYLINE = re.compile(r"^(?:By (?:[A-Z][\w.'’-]*\s?){2,4}(?:,|[(—–|]|$)|"
                    r"(?:[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}),? (?:by|[—–|·]) )")
# a footnote's marker in the text: "later.^1" or "China.¹", not the exponent of "10^26"
SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
         "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18,
         "xix": 19, "xx": 20, "xxi": 21, "xxii": 22, "xxiii": 23, "xxiv": 24, "xxv": 25}


# ----------------------------------------------------------------------------- marker levels

def marker_types(marker: str) -> list[tuple[str, int]]:
    """Every (type, ordinal) a paragraph marker can stand for: 'i' is a letter or a numeral."""
    kinds: list[tuple[str, int]] = []
    if marker.isdigit():
        kinds.append(("digit", int(marker)))
    if marker.lower() in ROMAN:
        kinds.append(("roman" if marker.islower() else "ROMAN", ROMAN[marker.lower()]))
    if len(marker) == 1 and marker.isalpha():
        kinds.append(("lower" if marker.islower() else "upper", ord(marker.lower()) - 96))
    elif len(marker) == 2 and marker.isalpha() and marker[0] == marker[1] and marker.islower():
        kinds.append(("lower", 26 + ord(marker[0]) - 96))  # (aa) follows (z)
    return kinds


# the level that conventionally nests under each level in the CFR: (a)(1)(i)(A)(1)(i)
CHILD_TYPE = {"lower": "digit", "digit": "roman", "roman": "upper", "upper": "digit"}


def _resolve_ambiguous(kinds: list[tuple[str, int]], levels: list, next_marker: str | None) -> list[tuple[str, int]]:
    """(i), (v), (x) are letters or numerals. eRegs' rule: a numeral when the next marker is the
    numeral that follows, or when a numeral is what nests under the current level; else a letter."""
    names = {kind for kind, _ in kinds}
    if not {"lower", "roman"} <= names:
        return kinds
    roman = next(k for k in kinds if k[0] == "roman")
    letter = next(k for k in kinds if k[0] == "lower")
    numerals = {v: k for k, v in ROMAN.items()}
    if next_marker == numerals.get(roman[1] + 1):
        return [roman]
    if next_marker == chr(96 + letter[1] + 1):
        return [letter]
    for depth in range(len(levels) - 1, -1, -1):
        kind, ordinal, _ = levels[depth]
        if kind == "roman" and ordinal + 1 == roman[1]:
            return [roman]
        if kind == "lower" and ordinal + 1 == letter[1]:
            # a letter continues unless a numeral nests right here
            if levels and CHILD_TYPE.get(levels[-1][0]) == "roman" and roman[1] == 1:
                return [roman]
            return [letter]
    # no sequence to follow: "(i)" and "(ii)" are numerals, a lone "(v)" or "(x)" a letter
    return [roman] if roman[1] == 1 or len(next(k for k, v in ROMAN.items() if v == roman[1])) > 1 else [letter]


@dataclass
class MarkerStack:
    """Open levels of an outline: [(type, ordinal, label)]. A marker continues the deepest level
    whose next ordinal it is, starts a child level when it is a first marker (a, 1, i, A), and
    otherwise resumes the nearest level of its type (amended text skips with * * *)."""

    levels: list[tuple[str, int, str]] = field(default_factory=list)

    def push(self, marker: str, next_marker: str | None = None) -> None:
        kinds = _resolve_ambiguous(marker_types(marker), self.levels, next_marker)
        if not kinds:
            return
        for depth in range(len(self.levels) - 1, -1, -1):
            level_type, ordinal, _ = self.levels[depth]
            for kind, value in kinds:
                if kind == level_type and value == ordinal + 1:
                    del self.levels[depth:]
                    self.levels.append((kind, value, marker))
                    return
        firsts = [k for k in kinds if k[1] == 1]
        if firsts:
            # 'i' right under a letter level is roman unless it continues the letters (handled above)
            kind = next((k for k in firsts if k[0] in ("roman", "ROMAN")), firsts[0])
            self.levels.append((kind[0], 1, marker))
            return
        for depth in range(len(self.levels) - 1, -1, -1):
            level_type = self.levels[depth][0]
            for kind, value in kinds:
                if kind == level_type:
                    del self.levels[depth:]
                    self.levels.append((kind, value, marker))
                    return
        preferred = kinds[-1] if kinds[0][0] in ("roman", "ROMAN") and len(marker) == 1 else kinds[0]
        if preferred[0] == "lower":
            self.levels.clear()
        self.levels.append((preferred[0], preferred[1], marker))

    def clear(self) -> None:
        self.levels.clear()

    def labels(self) -> list[str]:
        return [label for _, _, label in self.levels]


# ----------------------------------------------------------------------------- blocks

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
    r"\d{1,2}(?:\.[a-z](?:\.\d{1,2})?)?\.\s+[A-Z“‘'\"]|License Requirements|List Based License|List of Items Controlled|"
    r"Special Conditions for|Related (?:Controls|Definitions?):|Items:|Reason for Control:|"
    r"N\.B\.:|Authority:|\d{1,3}\.\s+(?:The|Section|Part|Supplement|Amend|Add|Revise|In\b)|"
    r"\((?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\)\s*(?:[A-Z“‘\"\[(]|\*))")


def _is_list_item(line: Line) -> bool:
    text = line.text.strip()
    words = text.split()
    return (0 < len(words) <= 6 and text[0].isupper() and not text.endswith((".", ";", ":", ","))
            and not STRONG_START.match(text) and not OUTLINE_HEADING.match(text))


LEADING_ELLIPSIS = re.compile(r"^((?:\*\s*){3,})(?=[^*\s])")


def _split_leading_ellipsis(lines: list[Line]) -> list[Line]:
    """"* * * * * 18. Amend …" on one line: the stars end the previous text, a new block follows.
    The rest is a new Line: changing the document's own (as this did) made a second segment() of
    the same document give other paragraphs and ids."""
    out: list[Line] = []
    for line in lines:
        match = LEADING_ELLIPSIS.match(line.text)
        if match and line.text[match.end():].strip():
            out.append(Line(text=match.group(1).strip(), page=line.page, x0=line.x0, x1=line.x1,
                            top=line.top, bottom=line.bottom, size=line.size, starts_block=True))
            line = replace(line, text=line.text[match.end():].strip(), starts_block=True)
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
    following = lines[index + 1:index + 3]
    if len(following) < 2 or any(line.kind != "body" for line in following):
        return False
    first, second = following
    return ((first.starts_block or first.after_short) and not _is_list_item(first)
            and not (second.starts_block or second.after_short))


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
        full = current is not None and (chars[id(current)] + len(line.text) > max_chars
                                        or len(current.lines) >= max_lines)
        lead_in = not full and current is not None and current.lines[-1].kind == "body" and (
            # a body block's text ends as its last line does (join_lines only ever adds at the end)
            current.kind == "list" or (current.kind == "body" and current.lines[-1].text.endswith(":")
                                       and not _heads_prose(lines, index)))
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
            or (STRONG_START.match(line.text) and (previous_text.rstrip().endswith((".", ":", ";", "”", "]"))
                                                   or _is_heading_line(previous_text)))
            or ELLIPSIS.match(line.text) or ELLIPSIS.match(previous_text)
            or (line.kind == "body" and _is_caption_line(line, previous_text))
            or (current is not None and len(current.lines) == 1 and _is_caption_line(current.lines[0], ".")
                and not (current.lines[0].text.isupper() and line.text.isupper()))  # a capitals heading wraps
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


# ----------------------------------------------------------------------------- structure

@dataclass
class Structure:
    """Where the walk is in the document."""

    mode: str = "front"  # front | preamble | regulatory | letter
    caption: str = ""  # preamble caption (SUMMARY, SUPPLEMENTARY INFORMATION …)
    outline: MarkerStack = field(default_factory=MarkerStack)
    outline_titles: dict[int, str] = field(default_factory=dict)
    part: str = ""
    subpart: str = ""
    section: str = ""
    supplement: str = ""
    eccn: str = ""
    ccl_caption: str = ""
    paragraphs: MarkerStack = field(default_factory=MarkerStack)
    amendment: str = ""
    amended_path: list[str] = field(default_factory=list)  # "(a)(9)(ii)" named by the instruction
    next_marker: str | None = None  # first marker of the next marked paragraph (lookahead)
    headings: list[str] = field(default_factory=list)  # letter headings
    subcaption: str = ""  # an unnumbered preamble heading ("Rulemaking Requirements")

    def enter_part(self, part: str) -> None:
        self.mode, self.part, self.subpart = "regulatory", part, ""
        self.section = self.supplement = self.eccn = self.ccl_caption = self.amendment = ""
        self.paragraphs.clear()
        self.outline.clear()

    def path(self) -> str:
        if self.mode == "letter":
            return " > ".join(self.headings)
        if self.mode in ("front", "preamble"):
            parts = ["Preamble"] + [part for part in (self.caption, self.subcaption) if part]
            parts += [self.outline_titles[i] for i in range(len(self.outline.levels)) if i in self.outline_titles]
            return " > ".join(parts)
        if self.eccn:
            item = self.eccn + "".join("." + m for m in self.paragraphs.labels())
            if self.ccl_caption:
                return " > ".join([f"ECCN {self.eccn}", self.ccl_caption] + self.outline.labels())
            return f"ECCN {item}"
        markers = "".join(f"({m})" for m in self.paragraphs.labels())
        if self.section:
            return f"§ {self.section}{markers}"
        if self.supplement:
            outline = " > ".join(self.outline.labels())
            return self.supplement + markers + (f" > {outline}" if outline else "")
        if self.amendment:
            return f"Part {self.part} > amendatory instruction {self.amendment}" if self.part \
                else f"amendatory instruction {self.amendment}"
        if self.subpart:
            return f"Part {self.part}, Subpart {self.subpart}" if self.part else f"Subpart {self.subpart}"
        return f"Part {self.part}" if self.part else "Regulatory text"


def classify(block: Block, state: Structure, is_rule: bool, can_be_heading: bool = True) -> str | None:
    """Update the structure for this block; return its paragraph kind, or None to emit nothing.
    `can_be_heading` is False for a letter's furniture (address, salutation, signature)."""
    text = block.text.strip()
    if block.kind == "footnote":
        return "footnote"
    if ELLIPSIS.match(text):
        return None
    if not is_rule:
        return _classify_letter(block, state, can_be_heading)
    if block.kind == "table":
        return "table"

    part = PART_HEADING.match(text)
    if part:
        state.enter_part(part.group("part"))
        return "heading"
    subpart = SUBPART_HEADING.match(text)
    if state.mode == "front" and (subpart or _section_heading(text)):
        # regulatory text as it arrives without a preamble: "Subpart D—…" or "§ 7.300" first
        state.mode = "regulatory"
    elif state.mode == "preamble" and REGULATORY_LEAD_IN.match(text):
        # "For the reasons set out in the preamble, … amends 15 CFR part 7 as follows:" ends the
        # preamble even where no "PART 7—" heading follows (a text that starts at the sections)
        state.mode, state.caption, state.subcaption = "regulatory", "", ""
        state.outline.clear()
        state.outline_titles.clear()
        return "amendment"
    elif state.mode == "preamble" and state.caption == "List of Subjects" and (subpart or _section_heading(text)):
        state.mode = "regulatory"
    if state.mode in ("front", "preamble"):
        return _classify_preamble(block, state)
    if subpart:
        state.subpart = subpart.group("subpart")
        state.section = state.supplement = state.eccn = state.ccl_caption = ""
        state.paragraphs.clear()
        state.outline.clear()
        return "heading"

    amendment = AMENDMENT.match(text)
    # instructions are numbered upward through the rule; a numbered note in the CCL is not one
    if amendment and int(amendment.group("no")) >= int(state.amendment or 0):
        state.section = state.supplement = state.eccn = state.ccl_caption = ""
        state.paragraphs.clear()
        state.outline.clear()
        state.amendment = amendment.group("no")
        named = re.search(r"paragraphs?\s+((?:\([^)\s]{1,5}\))+)", text)
        state.amended_path = PARA_MARKER.findall(named.group(1)) if named else []
        return "amendment"
    if AUTHORITY.match(text) or (state.amendment and not state.section and not state.supplement
                                 and AMENDMENT_STEP.match(text)):
        return "amendment"
    supplement = SUPPLEMENT_HEADING.match(text)
    if supplement:
        state.section = state.eccn = state.ccl_caption = ""
        state.supplement = f"Supplement No. {supplement.group('no')} to Part {supplement.group('part')}"
        state.paragraphs.clear()
        state.outline.clear()
        return "heading"
    section = _section_heading(text)
    if section:
        state.section = section.group("section")
        part = section.group("section").split(".")[0]
        if part != state.part:
            state.part, state.subpart = part, ("" if state.part else state.subpart)
        state.supplement = state.eccn = state.ccl_caption = ""
        state.paragraphs.clear()
        return "heading"
    if state.supplement.endswith("to Part 774"):
        kind = _classify_ccl(block, state, text)
        if kind:
            return kind
    markers = LEADING_MARKERS.match(text)
    if not markers and state.section and state.paragraphs.levels and DEFINITION_ENTRY.match(text):
        # the next entry of a definitions section closes the sub-paragraphs of the one before
        state.paragraphs.clear()
    if markers and (state.section or state.supplement):
        found = PARA_MARKER.findall(markers.group(0))
        if not state.paragraphs.levels:
            _seed_from_amendment(state, found)
        for index, marker in enumerate(found):
            lookahead = found[index + 1] if index + 1 < len(found) else state.next_marker
            state.paragraphs.push(marker, lookahead)
        remainder = text[markers.end():].strip()
        return None if not remainder or ELLIPSIS.match(remainder) else "body"
    if state.supplement and not state.eccn:
        outline = OUTLINE_HEADING.match(text)
        if outline:
            state.paragraphs.clear()
            state.outline.push(outline.group("m"))
            return "heading" if looks_like_heading(block) else "body"
        if looks_like_heading(block):
            # an unnumbered caption ("Baseline Security") belongs to the Roman-numeral part, not the item before it
            del state.outline.levels[1:]
            return "heading"
    return "heading" if looks_like_heading(block) else "body"


def _section_heading(text: str) -> re.Match | None:
    """"§ 7.300 Purpose and scope." or "§ 791.2" alone — not a sentence that starts with a citation
    ("§ 740.2(a) applies …")."""
    section = SECTION_HEADING.match(text)
    title = (section.group("title") or "").strip() if section else ""
    if section and (not title or title[:1].isupper() or title[:1] in "“\"‘'"):
        return section
    return None


def looks_like_heading(block: Block) -> bool:
    """A one-line caption: short, and not ending the way a sentence or list item ends."""
    text = block.text.strip()
    return (len(block.lines) == 1 and 2 < len(text) <= 100 and len(text.split()) <= 12
            and not text.endswith((".", ",", ";", ":", "?", "!", "”", '"', " and", " or"))
            and not CJK.search(text) and (text[:1].isupper() or text[:1].isdigit())
            and not DATE_LINE.match(text))


def _seed_from_amendment(state: Structure, markers: list[str]) -> None:
    """Amended text may start deep inside a section ("revising paragraph (a)(9)(ii)" prints only
    "(ii) …"): the instruction names the ancestors, so open them first."""
    path = state.amended_path
    for start in range(1, len(path)):
        if path[start:start + len(markers)] == markers[:len(path) - start]:
            for ancestor in path[:start]:
                state.paragraphs.push(ancestor)
            return


def _classify_ccl(block: Block, state: Structure, text: str) -> str | None:
    eccn = ECCN_HEADING.match(text)
    if eccn:
        state.eccn, state.ccl_caption = eccn.group("eccn"), ""
        state.paragraphs.clear()
        state.outline.clear()
        return "heading"
    if not state.eccn:
        return None
    caption = CCL_CAPTION.match(text)
    if caption:
        state.ccl_caption = re.sub(r"\s+", " ", caption.group("caption")).strip()
        if state.ccl_caption in ("List of Items Controlled",):
            state.ccl_caption = ""
        state.outline.clear()
        state.paragraphs.clear()
        return "heading" if len(text) < 100 else "body"
    item = CCL_ITEM.match(text)
    if item and not state.ccl_caption:
        state.paragraphs.clear()
        for part in item.group("item").split("."):
            state.paragraphs.levels.append(("ccl", 0, part))
        return "body"
    if item and state.ccl_caption:
        parts = item.group("item").split(".")
        numbered = state.outline.levels[:1] if state.outline.levels and state.outline.levels[0][2].isdigit() else []
        depth = 1 if numbered else 0
        letters = [label for _, _, label in state.outline.levels[depth:depth + 1]]
        continues_note = len(parts) == 1 and (parts[0] == "a" or bool(letters and ord(parts[0]) == ord(letters[0]) + 1))
        if not continues_note:
            # "c." after note "3." cannot belong to it: the list of items resumes
            state.ccl_caption = ""
            state.outline.clear()
            state.paragraphs.levels = [("ccl", 0, part) for part in parts]
            return "body"
        state.outline.levels = numbered + [("ccl", 0, part) for part in parts]
        return "body"
    numbered = re.match(r"^(\d{1,2}(?:\.[a-z](?:\.\d{1,2})?)?)\.\s+\S", text)
    if numbered and state.ccl_caption:
        state.outline.clear()
        state.outline.levels.extend(("ccl", 0, part) for part in numbered.group(1).split("."))
        return "body"
    return None


def _classify_preamble(block: Block, state: Structure) -> str:
    text = block.text.strip()
    caption = PREAMBLE_CAPTION.match(text)
    if caption:
        state.mode = "preamble"
        state.caption = caption.group("caption")
        state.subcaption = ""
        state.outline.clear()
        state.outline_titles.clear()
        return "body" if len(text) > len(caption.group(0)) + 2 else "heading"
    if LIST_OF_SUBJECTS.match(text):
        state.caption = "List of Subjects"
        state.subcaption = ""
        state.outline.clear()
        state.outline_titles.clear()
        return "heading"
    heading = OUTLINE_HEADING.match(text)
    bold = all(line.bold for line in block.lines)
    # a caption is one short line, or (where the source has fonts) a bold run wrapped over lines
    compact = (len(block.lines) == 1 and len(text) < 140) or (bold and len(text) < 250)
    if state.mode == "preamble" and heading and compact and not text.endswith((".", ";", ",")):
        marker = heading.group("m")
        before = [kind for kind, _, _ in state.outline.levels]
        state.outline.push(marker)
        depth = len(state.outline.levels) - 1
        kind = state.outline.levels[-1][0]
        if depth > 1 and kind in before[:depth] and state.outline.levels[-1][1] == 1:
            # "A." right after "1." under "C.": a type never repeats down an outline's path, so this is
            # a numbering slip for a sibling of "1.", not its child (parse health reports it, from the paths)
            del state.outline.levels[-2]
            depth -= 1
        if depth == 0:
            state.subcaption = ""
        state.outline_titles = {i: t for i, t in state.outline_titles.items() if i < depth}
        state.outline_titles[depth] = re.sub(r"\s+", " ", text)
        return "heading"
    if (state.mode == "preamble" and bold and not heading and len(text) < 120
            and not text.endswith((".", ";", ",", ":")) and text[:1].isupper()):
        # an unnumbered bold heading ("Rulemaking Requirements", "Export Control Reform Act of
        # 2018") closes the numbered outline: what follows is not part of "IV. New Definition"
        state.subcaption = re.sub(r"\s+", " ", text)
        state.outline.clear()
        state.outline_titles.clear()
        return "heading"
    return "body"


def _classify_letter(block: Block, state: Structure, can_be_heading: bool) -> str:
    state.mode = "letter"
    text = block.text.strip()
    first = block.lines[0]
    if can_be_heading and (first.bold or (looks_like_heading(block) and block.kind == "body")):
        state.headings = [re.sub(r"\s+", " ", text)]
        return "heading"
    return "body"


def _is_short_line(block: Block) -> bool:
    text = block.text.strip()
    return (block.kind == "body" and len(block.lines) == 1 and len(text) <= 100 and len(text.split()) <= 12
            and not text.endswith((".", "?", "!", ";")))


def letter_furniture(blocks: list[Block]) -> set[int]:
    """Indexes of the blocks of a letter that are its furniture, not headings, though they are short
    lines like headings: everything before the salutation (letterhead, date, addressee, subject
    line), the valediction and the signature under it, address lines, bylines, and any run of
    consecutive short lines (an address or a signature: a heading stands apart from the text
    around it)."""
    furniture = {i for i, block in enumerate(blocks)
                 if ADDRESS_LINE.search(block.text) or BYLINE.match(block.text.strip())}
    first_page = blocks[0].page if blocks else 0
    for index, block in enumerate(blocks):
        if block.page != first_page:
            break
        if len(block.lines) == 1 and len(block.text.split()) <= 8 and SALUTATION.match(block.text.strip()):
            furniture.update(range(index + 1))
            break
    for index, block in enumerate(blocks):
        if len(block.lines) != 1 or not VALEDICTION.match(block.text.strip()):
            continue
        furniture.add(index)
        # the signature: short lines on the same page, the first after the space left for signing
        for offset, after in enumerate(blocks[index + 1:], start=1):
            if not _is_short_line(after) or after.page != block.page or \
                    (offset > 1 and after.lines[0].starts_block):
                break
            furniture.add(index + offset)
    # runs of short lines that follow each other with no paragraph space between them (bold lines
    # are left out: they are a heading wrapped onto two lines)
    runs: list[list[int]] = []
    for index, block in enumerate(blocks):
        if not _is_short_line(block) or block.lines[0].bold:
            continue
        if runs and runs[-1][-1] == index - 1 and not block.lines[0].starts_block \
                and block.page == blocks[index - 1].page:
            runs[-1].append(index)
        else:
            runs.append([index])
    furniture.update(index for run in runs if len(run) >= 2 for index in run)
    return furniture


# ----------------------------------------------------------------------------- paragraphs

FR_STEM = re.compile(r"^\d+ FR \d+$")


def _pages(first: str, last: str | None) -> str:
    return f"{first}–{last}" if last and last != first else first


def pin_parts(raw: RawDocument, entry: ManifestEntry, page: int, label: str | None, section: str,
              page_end: int | None = None, end_label: str | None = None) -> tuple[str, str]:
    """The pin cite as (source, locator): where in the cited document the paragraph is. A paragraph
    that runs over a page break cites both pages; a source without page numbers gives no page."""
    if raw.fr_citation and label:
        return raw.fr_citation, _pages(label, end_label)
    if raw.public_inspection:
        return f"{raw.public_inspection} (public inspection)", "at " + _pages(str(page), str(page_end or page))
    stem = entry.cite_as or f"{entry.author_org}, {entry.title} ({entry.date})"
    if label:
        return stem, "at " + _pages(label, end_label)
    if len(raw.pages) > 1:
        return stem, f"at [{_pages(str(page), str(page_end or page))}]"
    if section.startswith(("§", "Supplement", "ECCN", "Part ", "Subpart ")):
        return stem, section
    return stem, ""


def render_pin(source: str, locator: str) -> str:
    """"90 FR 4559–4560", "2025-00636 (public inspection) at 66–67", "ITI, … at 9"; a citation to a
    document's first page ("90 FR 4544") is said not to be a pin cite when the source has no pages."""
    if not locator:
        return f"{source} (page not in this source)" if FR_STEM.match(source) else source
    if locator.startswith("at "):
        return f"{source} {locator}"
    if FR_STEM.match(source) and not locator[:1].isdigit():
        return f"{source} (page not in this source), {locator}"
    return f"{source} {locator}" if locator[:1].isdigit() else f"{source}, {locator}"


def pin_cite(raw: RawDocument, entry: ManifestEntry, page: int, label: str | None, section: str,
             page_end: int | None = None, end_label: str | None = None) -> str:
    return render_pin(*pin_parts(raw, entry, page, label, section, page_end, end_label))


def paragraph_id(doc_id: str, section_path: str, text: str, seen: dict[str, int]) -> str:
    """Content-addressed: the same text under the same section keeps its id on every rebuild,
    and an unrelated edit elsewhere in the document does not renumber it."""
    digest = hashlib.sha1(f"{section_path}\x1f{text}".encode()).hexdigest()[:12]
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return f"{doc_id}:{digest}" + (f"-{count}" if count else "")


def is_rule_document(raw: RawDocument, entry: ManifestEntry) -> bool:
    return entry.doc_type == "rule"


def segment(raw: RawDocument, entry: ManifestEntry) -> list[Paragraph]:
    lines = [line for page in raw.pages for line in page.lines]
    labels = {page.number: page.label for page in raw.pages}
    rule = is_rule_document(raw, entry)
    blocks = _merge_section_titles(make_blocks(lines))
    if rule:
        blocks = _split_bold_heads(blocks)
    state = Structure(mode="front" if rule else "letter")
    paragraphs: list[Paragraph] = []
    seen: dict[str, int] = {}
    footnote_parent = ""
    upcoming = _next_markers(blocks)
    not_headings = set() if rule else letter_furniture(blocks)
    if raw.media == "markdown" and any(line.bold for line in lines):
        # Markdown that marks its headings with # marks all of them: an italic note is not one
        not_headings.update(i for i, block in enumerate(blocks) if not block.lines[0].bold)
    for index, block in enumerate(blocks):
        state.next_marker = upcoming[index]
        kind = classify(block, state, rule, index not in not_headings)
        if kind is None:
            continue
        text = block.text.strip()
        if kind == "footnote":
            number = re.match(r"^(\d{1,3})\s", text)
            holder = _marker_holder(paragraphs, number.group(1), block.page) if number else ""
            path = (holder or footnote_parent or state.path() or "footnotes") + \
                (f" > footnote {number.group(1)}" if number else " > footnote")
        else:
            path = state.path()
            footnote_parent = path
        if block.kind == "list":
            kind = "list"
        page, page_end = block.page, block.lines[-1].page
        label = labels.get(page)
        end_label = labels.get(page_end) if page_end != page else None
        source, locator = pin_parts(raw, entry, page, label, path, page_end, end_label)
        paragraphs.append(Paragraph(
            id=paragraph_id(entry.id, path, text, seen), doc_id=entry.id, ordinal=len(paragraphs) + 1,
            section_path=path, page=page, page_label=label, pin_cite=render_pin(source, locator), text=text,
            kind=kind, page_end=page_end if page_end != page else None, page_end_label=end_label,
            pin_source=source, pin_locator=locator,
        ))
    return paragraphs


def _marker_holder(paragraphs: list[Paragraph], number: str, page: int) -> str:
    """The section path of the paragraph whose text carries footnote marker `number`: one on the
    note's page, or the paragraph running onto that page from the one before; "" if none does."""
    digits = r"\d⁰¹²³⁴⁵⁶⁷⁸⁹"
    marker = re.compile(rf"(?<![{digits}^])(?:\^{number}|{number.translate(SUPERSCRIPT_DIGITS)})(?![{digits}])")
    for paragraph in reversed(paragraphs):
        if paragraph.kind == "footnote":
            continue
        if marker.search(paragraph.text):
            return paragraph.section_path
        if paragraph.page < page:
            break
    return ""


def _next_markers(blocks: list[Block]) -> list[str | None]:
    """For each block, the first paragraph marker of the next block that starts with one."""
    out: list[str | None] = [None] * len(blocks)
    following: str | None = None
    for index in range(len(blocks) - 1, -1, -1):
        out[index] = following
        match = LEADING_MARKERS.match(blocks[index].text)
        if match:
            following = PARA_MARKER.findall(match.group(0))[0]
    return out


BARE_OUTLINE_MARKER = re.compile(r"^(?:[IVX]{1,5}|[A-Z]|\d{1,2}|[a-z]|[ivx]{1,5})\.$")


def _split_bold_heads(blocks: list[Block]) -> list[Block]:
    """A bold caption run into its paragraph ("i. Impact of AI Diffusion … The proliferation …",
    "C. Data Center Validated End-Users (DC VEUs): … In October 2024, BIS …"): where the source
    has fonts, the bold lines at a block's start are a heading of their own."""
    out: list[Block] = []
    for block in blocks:
        if out and BARE_OUTLINE_MARKER.match(out[-1].text.strip()) and block.lines[0].bold \
                and all(line.bold for line in out[-1].lines):
            # "iii." set on a line of its own, its caption after it: one heading
            block = Block(out.pop().lines + block.lines, kind=block.kind)
        cut = next((i for i, line in enumerate(block.lines) if not line.bold), len(block.lines))
        head = join_lines(block.lines[:cut], " ")
        if block.kind == "body" and 0 < cut < len(block.lines) and cut <= 3 and len(head) < 250 \
                and not head.rstrip().endswith((",", ";")):
            out.append(Block(block.lines[:cut]))
            out.append(Block(block.lines[cut:]))
            continue
        out.append(block)
    return out


def _merge_section_titles(blocks: list[Block]) -> list[Block]:
    """"§ 740.28" alone on a line, its title on the next: one heading."""
    out: list[Block] = []
    for block in blocks:
        if out and re.fullmatch(r"§{1,2}\s*\d{1,4}\.\d+[a-z]?", out[-1].text.strip()) and block.kind == "body":
            out[-1].lines.extend(block.lines)
            continue
        out.append(block)
    return out
