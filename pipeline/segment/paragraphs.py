"""segment(): a document's pages of lines → paragraphs, each with its kind, section path, stable id and
pin cite; footnotes are placed under the paragraph that carries their marker."""

from __future__ import annotations

import re

from ..models import ManifestEntry, Paragraph, RawDocument
from .blocks import Block, make_blocks, merge_section_titles, split_bold_heads
from .letters import letter_furniture, mark_contents_titles
from .patterns import LEADING_MARKERS, PARA_MARKER
from .pins import paragraph_id, pin_of
from .structure import Structure, classify

# a footnote's marker in the text: "later.^1" or "China.¹", not the exponent of "10^26"
SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def is_rule_document(raw: RawDocument, entry: ManifestEntry) -> bool:
    return entry.doc_type == "rule"


def segment(raw: RawDocument, entry: ManifestEntry) -> list[Paragraph]:
    lines = [line for page in raw.pages for line in page.lines]
    labels = {page.number: page.label for page in raw.pages}
    rule = is_rule_document(raw, entry)
    if not rule:
        lines = mark_contents_titles(lines)
    blocks = merge_section_titles(make_blocks(lines))
    if rule:
        blocks = split_bold_heads(blocks)
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
            path = (holder or footnote_parent or state.path() or "footnotes") + (
                f" > footnote {number.group(1)}" if number else " > footnote"
            )
        else:
            path = state.path()
            footnote_parent = path
        if block.kind == "list":
            kind = "list"
        page, page_end = block.page, block.lines[-1].page
        label = labels.get(page)
        end_label = labels.get(page_end) if page_end != page else None
        pin = pin_of(raw, entry, page, label, path, page_end, end_label)
        paragraphs.append(
            Paragraph(
                id=paragraph_id(entry.id, path, text, seen),
                doc_id=entry.id,
                ordinal=len(paragraphs) + 1,
                section_path=path,
                page=page,
                page_label=label,
                pin_cite=pin.render(),
                text=text,
                kind=kind,
                page_end=pin.page_end,
                page_end_label=end_label,
                pin_source=pin.source,
                pin_locator=pin.locator,
            )
        )
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
