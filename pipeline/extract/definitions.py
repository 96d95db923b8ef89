"""Defined terms: quoted terms with means/is defined as/refers to, "For purposes of …, X means",
§ 772.1 glossary entries (including pointers such as "Model Weights. See ECCN 4E091"), captioned
local definitions and the Technical Notes of ECCNs. Scope is found by walking up the section path."""
from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from .common import add_span, caption, load_patterns, root_of, span_scorer

GROUP = "definitions"


def normalise_term(term: str) -> str:
    return re.sub(r"\s+", " ", term.strip(" ‘’'“”\"`.,")).lower()


def is_definitional(text: str, section_path: str, parent_caption: str) -> bool:
    """Where "X is …" defines X: technical notes, glossaries, definition paragraphs."""
    return bool(
        re.search(r"technical note|\bnotes?\b", section_path, re.I)
        or section_path.startswith("§ 772.1")
        or re.search(r"\bFor (?:the )?purposes? of\b", text)
        or "definition" in parent_caption.lower()
        or caption(text)
    )


def resolve_scope(section_path: str, phrase: str | None) -> str:
    """eRegs-style: an explicit "for purposes of this section/part/paragraph (x)" wins; otherwise the
    provision the definition sits in (section, supplement, ECCN); § 772.1 defines for the whole EAR."""
    root = root_of(section_path)
    if phrase:
        phrase = phrase.strip()
        eccn = re.search(r"\b(\d[A-E]\d{3})\b", phrase)
        if eccn:
            return f"ECCN {eccn.group(1)}"
        if re.search(r"\bthis (?:section|license exception|exception)\b", phrase):
            return root
        paragraph = re.search(r"\bparagraph\s+((?:\([^)]{1,5}\))+)", phrase)
        if paragraph and root.startswith("§"):
            return root + paragraph.group(1)
        if re.search(r"\bthis paragraph\b", phrase):
            return section_path.rsplit("(", 1)[0] if section_path.count("(") > 1 else section_path
        if re.search(r"\bthis part\b", phrase):
            part = re.search(r"§ (\d{3})\.", section_path) or re.search(r"Part (\d{3})", section_path)
            return f"Part {part.group(1)}" if part else root
        if re.search(r"\bthis supplement\b", phrase):
            return root
        if re.search(r"\bthe EAR\b|Export Administration Regulations", phrase):
            return "EAR"
    if section_path.startswith("§ 772.1"):
        return "EAR"
    return root


@Language.factory("regkb_definitions")
def make_definitions(nlp: Language, name: str):
    return DefinitionFinder()


class DefinitionFinder:
    """Match → set annotations: each definition is a span in doc.spans["definitions"]."""

    def __init__(self):
        self.patterns = [(row, re.compile(row["regex"], re.M)) for row in load_patterns("definitions")]

    def __call__(self, doc: Doc) -> Doc:
        doc.spans[GROUP] = []
        info = doc.user_data
        path = info.get("section_path", "")
        definitional = is_definitional(doc.text, path, info.get("parent_caption", ""))
        glossary = path.startswith("§ 772.1")
        taken: list[tuple[int, int]] = []
        for row, pattern in self.patterns:
            context = row.get("context")
            if ((context == "definitional" and not definitional) or (context == "glossary" and not glossary)
                    or (context == "technical_note" and not re.search(r"technical note", path, re.I))):
                continue
            for match in pattern.finditer(doc.text):
                start, end = match.span()
                if any(start < b and a < end for a, b in taken):
                    continue
                term = match.group("term").strip()
                if len(normalise_term(term)) < 2 or re.fullmatch(r"[\d\s.]+", term):
                    continue
                taken.append((start, end))
                scope_phrase = match.groupdict().get("scope")
                if not scope_phrase:
                    scope_phrase = next(iter(re.findall(r"For (?:the )?purposes? of ([^,:]{3,60})[,:]", doc.text)), None)
                definition = doc.text[match.start("term"):].strip()
                kind = row["kind"]
                if kind == "means" and normalise_term(caption(doc.text)) == normalise_term(term):
                    kind = "caption"
                elif kind == "means" and re.search(r"technical note", path, re.I):
                    kind = "technical_note"
                fields = {"term": term, "definition": definition[:1500], "kind": kind,
                          "scope": resolve_scope(path, scope_phrase),
                          "target": (match.groupdict().get("target") or "").strip()}
                add_span(doc, GROUP, start, end, "DEFINITION", fields)
                alternative = match.groupdict().get("alt")
                if alternative:
                    add_span(doc, GROUP, start, end, "DEFINITION", {**fields, "term": alternative.strip()})
                abbreviation = match.groupdict().get("abbr") or match.groupdict().get("abbr2")
                if abbreviation:
                    add_span(doc, GROUP, start, end, "ABBREVIATION",
                             {**fields, "term": abbreviation, "kind": "abbreviation"})
        return doc

    score = staticmethod(span_scorer(GROUP))
