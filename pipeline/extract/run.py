"""Run the extractor components over one document's paragraphs: the blank spaCy pipeline ("en", or
"zh" for Chinese documents) with every component of extract.contract, the context each paragraph
gives them, and the rows their findings become (through the contract, one way for all). Pure: no I/O."""

from __future__ import annotations

import re
from functools import lru_cache

from .nlp import spacy  # first, so that spaCy loads without torch (see nlp)

# isort: split

from spacy.language import Language

from ..models import ManifestEntry, Paragraph
from . import contract, countries, definitions, positions, thresholds  # noqa: F401  (registers the factories)
from .common import caption, findings, root_of
from .contract import COMPONENTS


@lru_cache(maxsize=2)
def pipeline(language: str = "en") -> Language:
    nlp = spacy.blank("zh" if language.startswith("zh") else "en")
    for name in COMPONENTS:
        nlp.add_pipe(name)
    return nlp


def section_titles(paragraphs: list[Paragraph]) -> dict[str, str]:
    """ "§ 740.29" → "License Exception Low Processing Performance (LPP)", from heading paragraphs."""
    titles = {}
    for paragraph in paragraphs:
        if paragraph.kind == "heading":
            match = re.match(
                r"^(§{1,2}\s*[\d.]+[a-z]?|Supplement No\. \d+ to Part \d+|\d[A-E]\d{3})\s*[—–-]?\s*(.+)$",
                paragraph.text,
                re.I,
            )
            if match:
                number = re.sub(r"^§{1,2}\s*", "§ ", match.group(1))
                key = number if not re.match(r"\d[A-E]", number) else f"ECCN {number}"
                titles.setdefault(key, f"{key} {match.group(2).strip()}"[:160])
    return titles


LEAD_IN = re.compile(
    r"^(?:\([a-z0-9]{1,3}\)\s*)?(?:Definitions?\.\s*)?(?:For (?:the )?purposes? of|As used in) "
    r"(?P<scope>[^,:—]{3,80})[,:—–-]?\s*$|"
    r"^(?:\([a-z0-9]{1,3}\)\s*)?(?:Definitions?\.\s*)?(?:For (?:the )?purposes? of|As used in) "
    r"(?P<scope2>[^,:—]{3,80})(?::|—|–|--)"
)
RUNS_ON = (":", "—", "–", "-", "either", "following")


def _subparts(paragraphs: list[Paragraph]) -> tuple[dict[str, str], set[str]]:
    """Each section's subpart, "§ 7.301" → "Part 7, Subpart D", from the subpart headings it follows;
    and the sections of a subpart headed "Definitions" (one term to a section, as 31 CFR 850 does)."""
    out: dict[str, str] = {}
    in_definitions: set[str] = set()
    current = ""
    defining = False  # inside a subpart headed "Definitions"
    for paragraph in paragraphs:
        path = paragraph.section_path
        if paragraph.kind == "heading" and re.fullmatch(r"(?:Part \d{1,4}, )?Subpart [A-Z]{1,2}", path):
            current = path
            defining = bool(re.search(r"\bDefinitions?\b", paragraph.text))
        elif paragraph.kind == "heading" and re.fullmatch(r"Part \d{1,4}", path):
            current, defining = "", False
        elif current and path.startswith("§"):
            root = root_of(path)
            part = re.match(r"§ (\d{1,4})\.", root)
            label = current if current.startswith("Part") or not part else f"Part {part.group(1)}, {current}"
            out.setdefault(root, label)
            if defining:
                in_definitions.add(root)
    return out, in_definitions


def _continuations(paragraphs: list[Paragraph], whole_sections: set[str] = frozenset()) -> list[str]:
    """The sub-paragraphs that a paragraph ending in a lead-in (":", "—", "either") runs on into:
    the paragraphs right after it whose section path lies under its own. In a section that defines
    one term (a definitions subpart's "§ 850.206 Controlled foreign entity."), the definition at the
    section's head runs on through the whole section."""
    out = [""] * len(paragraphs)
    opened: set[str] = set()  # sections whose first paragraph has been seen
    for index, paragraph in enumerate(paragraphs):
        root = root_of(paragraph.section_path)
        whole = root in whole_sections and paragraph.kind != "heading" and root not in opened
        if paragraph.kind != "heading":
            opened.add(root)
        if not whole and not paragraph.text.rstrip().endswith(RUNS_ON):
            continue
        parts: list[str] = []
        prefix = root if whole else paragraph.section_path + "("
        for following in paragraphs[index + 1 :]:
            if (
                not following.section_path.startswith(prefix)
                or sum(map(len, parts)) > 4000
                or following.kind == "heading"
            ):
                break
            parts.append(following.text)
        out[index] = "\n".join(parts)
    return out


def contexts(paragraphs: list[Paragraph], entry: ManifestEntry | None = None) -> list[dict]:
    """What each component may know about a paragraph besides its text."""
    titles = section_titles(paragraphs)
    subparts, definition_subpart_sections = _subparts(paragraphs)
    continuations = _continuations(paragraphs, definition_subpart_sections)
    document_text = "\n".join(paragraph.text for paragraph in paragraphs)
    offsets, at = [], 0
    for paragraph in paragraphs:
        offsets.append(at)
        at += len(paragraph.text) + 1
    lead_ins: dict[str, str] = {}  # a section's "For the purposes of this subpart:"
    speakers = (
        positions.attribution(paragraphs, entry.doc_type, entry.author_org, entry.title)
        if entry
        else [{"doc_type": "rule"}] * len(paragraphs)
    )
    out = []
    header = ""
    parent_captions: dict[str, str] = {}
    parent_texts: dict[str, str] = {}  # a marked paragraph's lead-in: the paragraph of its parent path
    previous_kind = ""
    for index, (paragraph, speaker) in enumerate(zip(paragraphs, speakers)):
        if paragraph.kind == "table" and previous_kind != "table":
            header = paragraph.text
        own_caption = caption(paragraph.text)
        parent = paragraph.section_path.rsplit("(", 1)[0] if paragraph.section_path.count("(") else ""
        parent_captions[paragraph.section_path] = own_caption
        parent_texts[paragraph.section_path] = paragraph.text
        root = root_of(paragraph.section_path)
        lead_in = LEAD_IN.match(paragraph.text.strip())
        if lead_in and root.startswith("§"):
            lead_ins[root] = lead_in.group("scope") or lead_in.group("scope2")
        section_title = titles.get(root, root if root.startswith(("§", "ECCN", "Supplement")) else "")
        definitions_title = bool(
            re.search(r"\bdefinitions?\b", section_title, re.I)
            and root.startswith("§")
            or root in definition_subpart_sections
        )
        definitions_section = bool(
            definitions_title
            or root in lead_ins
            or re.search(r"\bdefinitions?\b", parent_captions.get(parent, ""), re.I)
        )
        out.append(
            {
                "doc_id": paragraph.doc_id,
                "paragraph_id": paragraph.id,
                "section_path": paragraph.section_path,
                "kind": paragraph.kind,
                "caption": own_caption,
                "parent_caption": parent_captions.get(parent, ""),
                "section_title": section_title,
                "table_header": header if paragraph.kind == "table" else "",
                **speaker,
                # a definitions subpart defines for its part
                "subpart": "" if root in definition_subpart_sections else subparts.get(root, ""),
                "definitions_section": definitions_section,
                "definitions_title": definitions_title or root in lead_ins,
                "scope_phrase": lead_ins.get(root),
                "continuation": continuations[index],
                "document_text": document_text,
                "document_offset": offsets[index],
                "lead_in": parent_texts.get(parent, "") if parent else "",
            }
        )
        previous_kind = paragraph.kind
    return out


def extract(
    paragraphs: list[Paragraph], language: str = "en", entry: ManifestEntry | None = None
) -> dict[str, list[dict]]:
    """All extracted rows of one document's paragraphs, by table name. Positions are looked for only
    when the manifest entry says who wrote the document (and it is not the rule)."""
    nlp = pipeline(language)
    rows: dict[str, list[dict]] = {table: [] for table in contract.table_names()}
    infos = contexts(paragraphs, entry)
    docs = []
    for paragraph, info in zip(paragraphs, infos):
        doc = nlp.make_doc(paragraph.text)
        doc.user_data.update(info)
        doc.user_data["text"] = paragraph.text  # extract.common.text_of
        docs.append(doc)
    groups = [output for spec in contract.CONTRACTS for output in spec.outputs]
    for paragraph, doc in zip(paragraphs, nlp.pipe(docs)):
        for output in groups:
            for found in findings(doc, output.group):
                for table, row in contract.rows_of(output, found, paragraph.doc_id, paragraph.id, paragraph.text):
                    rows[table].append(row)
    _item_lists(paragraphs, rows)
    return rows


def _item_lists(paragraphs: list[Paragraph], rows: dict[str, list[dict]]) -> None:
    """Lists whose entries are (1)(2)(3) paragraphs: the list row sits on its first item, each member
    on the paragraph that names it."""
    taken = {row["paragraph_id"] for row in rows["country_lists"]}
    for found in countries.item_lists(paragraphs):
        first = paragraphs[found["paragraph_index"]]
        if first.id in taken:
            continue
        list_id = contract.row_id("list", first.id, 0, "items")
        body = first.text.rstrip()
        rows["country_lists"].append(
            {
                "id": list_id,
                "doc_id": first.doc_id,
                "paragraph_id": first.id,
                "label": found["label"],
                "style": "items",
                "member_count": len(found["members"]),
                "matched_text": body,
                "char_start": 0,
                "char_end": len(body),
            }
        )
        for table, row in contract.member_rows(
            contract.COUNTRY_LIST_MEMBERS,
            list_id,
            found["members"],
            lambda member: (paragraphs[member["paragraph_index"]].id, paragraphs[member["paragraph_index"]].text),
        ):
            rows[table].append(row)
