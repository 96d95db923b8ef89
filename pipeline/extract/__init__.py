"""Extract: paragraphs → defined terms, country lists, thresholds and positions, each row carrying the
paragraph id and the exact matched text (with its offsets) it came from.

The extractors are spaCy components on a blank pipeline ("en", or "zh" for Chinese documents):
each matches, sets its span group, and has a scorer. This module runs them and turns the spans
into rows. Pure: no I/O."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import spacy
from spacy.language import Language

from ..models import ManifestEntry, Paragraph
from . import countries, definitions, positions, thresholds  # noqa: F401  (registers the factories)
from .common import caption, findings, root_of

COMPONENTS = ("regkb_definitions", "regkb_countries", "regkb_thresholds", "regkb_positions")


@lru_cache(maxsize=2)
def pipeline(language: str = "en") -> Language:
    nlp = spacy.blank("zh" if language.startswith("zh") else "en")
    for name in COMPONENTS:
        nlp.add_pipe(name)
    return nlp


def _row_id(kind: str, paragraph_id: str, start: int, extra: str = "") -> str:
    return f"{kind}:" + hashlib.sha1(f"{paragraph_id}\x1f{start}\x1f{extra}".encode()).hexdigest()[:12]


def section_titles(paragraphs: list[Paragraph]) -> dict[str, str]:
    """"§ 740.29" → "License Exception Low Processing Performance (LPP)", from heading paragraphs."""
    titles = {}
    for paragraph in paragraphs:
        if paragraph.kind == "heading":
            match = re.match(r"^(§ [\d.]+[a-z]?|Supplement No\. \d+ to Part \d+|\d[A-E]\d{3})\s*[—–-]?\s*(.+)$",
                             paragraph.text, re.I)
            if match:
                key = match.group(1) if not re.match(r"\d[A-E]", match.group(1)) else f"ECCN {match.group(1)}"
                titles.setdefault(key, f"{key} {match.group(2).strip()}"[:160])
    return titles


def contexts(paragraphs: list[Paragraph], entry: ManifestEntry | None = None) -> list[dict]:
    """What each component may know about a paragraph besides its text."""
    titles = section_titles(paragraphs)
    speakers = positions.attribution(paragraphs, entry.doc_type, entry.author_org, entry.title) if entry else \
        [{"doc_type": "rule"}] * len(paragraphs)
    out = []
    header = ""
    parent_captions: dict[str, str] = {}
    previous_kind = ""
    for paragraph, speaker in zip(paragraphs, speakers):
        if paragraph.kind == "table" and previous_kind != "table":
            header = paragraph.text
        own_caption = caption(paragraph.text)
        parent = paragraph.section_path.rsplit("(", 1)[0] if paragraph.section_path.count("(") else ""
        parent_captions[paragraph.section_path] = own_caption
        root = root_of(paragraph.section_path)
        out.append({
            "doc_id": paragraph.doc_id, "paragraph_id": paragraph.id, "section_path": paragraph.section_path,
            "kind": paragraph.kind, "caption": own_caption, "parent_caption": parent_captions.get(parent, ""),
            "section_title": titles.get(root, root if root.startswith(("§", "ECCN", "Supplement")) else ""),
            "table_header": header if paragraph.kind == "table" else "", **speaker,
        })
        previous_kind = paragraph.kind
    return out


def extract(paragraphs: list[Paragraph], language: str = "en", entry: ManifestEntry | None = None
            ) -> dict[str, list[dict]]:
    """All extracted rows of one document's paragraphs, by table name. Positions are looked for only
    when the manifest entry says who wrote the document (and it is not the rule)."""
    nlp = pipeline(language)
    rows: dict[str, list[dict]] = {"definitions": [], "country_lists": [], "country_list_members": [],
                                   "country_mentions": [], "country_group_refs": [], "thresholds": [],
                                   "positions": []}
    infos = contexts(paragraphs, entry)
    docs = []
    for paragraph, info in zip(paragraphs, infos):
        doc = nlp.make_doc(paragraph.text)
        doc.user_data.update(info)
        docs.append(doc)
    for paragraph, doc in zip(paragraphs, nlp.pipe(docs)):
        base = {"doc_id": paragraph.doc_id, "paragraph_id": paragraph.id}
        for found in findings(doc, "definitions"):
            rows["definitions"].append({
                "id": _row_id("def", paragraph.id, found["start"], found["term"]), **base, "term": found["term"],
                "definition": found["definition"], "scope": found["scope"], "kind": found["kind"],
                "target": found["target"], "matched_text": found["matched_text"],
                "char_start": found["start"], "char_end": found["end"],
            })
        for found in findings(doc, "countries"):
            rows["country_mentions"].append({**base, "name": found["name"], "iso2": found["iso2"],
                                             "matched_text": found["matched_text"], "char_start": found["start"],
                                             "char_end": found["end"]})
        for found in findings(doc, "country_lists"):
            list_id = _row_id("list", paragraph.id, found["start"])
            rows["country_lists"].append({
                "id": list_id, **base, "label": found["label"], "style": found["style"],
                "member_count": len(found["members"]), "matched_text": found["matched_text"],
                "char_start": found["start"], "char_end": found["end"],
            })
            for position, member in enumerate(found["members"], start=1):
                rows["country_list_members"].append({
                    "list_id": list_id, "paragraph_id": paragraph.id, "position": position, "name": member["name"],
                    "iso2": member["iso2"], "matched_text": paragraph.text[member["start"]:member["end"]],
                    "char_start": member["start"], "char_end": member["end"],
                })
        for found in findings(doc, "country_groups"):
            rows["country_group_refs"].append({**base, "group_name": found["group"], "matched_text": found["matched_text"],
                                               "char_start": found["start"], "char_end": found["end"]})
        for found in findings(doc, "thresholds"):
            rows["thresholds"].append({
                "id": _row_id("thr", paragraph.id, found["start"], f"{found['value']}{found['unit']}"), **base,
                "quantity": found["quantity"], "comparator": found["comparator"], "value": found["value"],
                "unit": found["unit"], "subject": found["subject"], "matched_text": found["matched_text"],
                "char_start": found["start"], "char_end": found["end"],
            })
        for found in findings(doc, "positions"):
            rows["positions"].append({
                "id": _row_id("pos", paragraph.id, found["start"]), **base, "org": found["org"],
                "stance": found["stance"], "topic": found["topic"], "quote": found["matched_text"],
                "cue": found["cue"], "char_start": found["start"], "char_end": found["end"],
            })
    return rows
