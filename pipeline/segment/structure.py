"""The walk over a document's blocks that keeps its structure, and the section path of each block: the
preamble's captions and numbered outline, PART, Subpart, §, paragraph markers, supplements, amendatory
instructions, Commerce Control List entries and their Notes; in a letter, its headings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .blocks import Block, looks_like_heading
from .markers import MarkerStack
from .patterns import (
    AMENDMENT,
    AMENDMENT_STEP,
    AUTHORITY,
    CCL_CAPTION,
    CCL_ITEM,
    DEFINITION_ENTRY,
    ECCN_HEADING,
    ELLIPSIS,
    LABELLED_HEADING,
    LABELLED_HEADING_WORDS,
    LEADING_MARKERS,
    LIST_OF_SUBJECTS,
    OUTLINE_HEADING,
    PARA_MARKER,
    PART_HEADING,
    PREAMBLE_CAPTION,
    REGULATORY_LEAD_IN,
    SECTION_HEADING,
    SUBPART_HEADING,
    SUPPLEMENT_HEADING,
)


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
            return (
                f"Part {self.part} > amendatory instruction {self.amendment}"
                if self.part
                else f"amendatory instruction {self.amendment}"
            )
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
    if AUTHORITY.match(text) or (
        state.amendment and not state.section and not state.supplement and AMENDMENT_STEP.match(text)
    ):
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
        remainder = text[markers.end() :].strip()
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
    """ "§ 7.300 Purpose and scope." or "§ 791.2" alone — not a sentence that starts with a citation
    ("§ 740.2(a) applies …")."""
    section = SECTION_HEADING.match(text)
    title = (section.group("title") or "").strip() if section else ""
    if section and (not title or title[:1].isupper() or title[:1] in "“\"‘'"):
        return section
    return None


def _seed_from_amendment(state: Structure, markers: list[str]) -> None:
    """Amended text may start deep inside a section ("revising paragraph (a)(9)(ii)" prints only
    "(ii) …"): the instruction names the ancestors, so open them first."""
    path = state.amended_path
    for start in range(1, len(path)):
        if path[start : start + len(markers)] == markers[: len(path) - start]:
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
        letters = [label for _, _, label in state.outline.levels[depth : depth + 1]]
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
    if (
        state.mode == "preamble"
        and bold
        and not heading
        and len(text) < 120
        and not text.endswith((".", ";", ",", ":"))
        and text[:1].isupper()
    ):
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
    labelled = LABELLED_HEADING.match(text)
    if can_be_heading and labelled and len(block.lines) <= 2 and len(text.split()) <= LABELLED_HEADING_WORDS:
        # "Recommendation 6.2: …" comes under "Recommendation 6: …", though it may end with a full stop
        number = labelled.group("number")
        parents = []
        for heading in state.headings:
            above = LABELLED_HEADING.match(heading)
            if above and number.startswith(above.group("number") + "."):
                parents.append(heading)
        state.headings = [*parents, re.sub(r"\s+", " ", text)]
        return "heading"
    if can_be_heading and (first.bold or (looks_like_heading(block) and block.kind == "body")):
        state.headings = [re.sub(r"\s+", " ", text)]
        return "heading"
    return "body"
