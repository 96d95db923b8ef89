"""Defined terms in every form real rules use, found by uniform finders in the eRegs manner: each
finder is a row of pipeline/patterns/definitions.jsonl and each returns the same record (term, kind,
scope, the span of the whole definition, the target of a pointer or a definition by reference).

The forms: entries of a definitions section ("Appropriate agency heads means …", "The term X
means …", "Knowledge has the meaning set out in 15 CFR 772.1", "X includes …", "X or Y means …"),
"For purposes of this section/part/paragraph (x), X means …", "As used in this part, X means",
quoted terms ("‘cumulative TPP’ is …"), § 772.1 glossary entries and pointers ("Model Weights.
See ECCN 4E091"), captioned local definitions, the Technical Notes of ECCNs, definitions by
reference ("as the term “knowledge” is defined in 15 CFR 772.1") and parenthetical short forms
that the rule goes on to use ("Infrastructure as a Service (IaaS)").

The stored definition is the whole definition: a definition inside running text is its sentence; an
entry is its paragraph and the sub-paragraphs under it. Scope is found by walking up the section
path: an explicit "for purposes of …" phrase (in the sentence or in the section's lead-in) wins;
a definitions section defines for its part (or the subpart its lead-in names); otherwise the
provision the definition sits in."""

from __future__ import annotations

import re
from functools import lru_cache

from .nlp import spacy  # noqa: F401 - first, so that spaCy loads without torch (see nlp)

# isort: split

from spacy.language import Language
from spacy.tokens import Doc

from .common import add_span, caption, load_patterns, root_of, sentence_end, span_scorer, text_of

GROUP = "definitions"
EMBEDDED = {"short_form", "is_defined_in", "as_defined_by"}
ENTRY_KINDS = {"entry_means", "entry_quoted", "entry_reference", "entry_includes", "the_term", "the_term_reference"}
# an unquoted term is a noun phrase: no finite verb, no clause opener
NOT_IN_TERM = re.compile(
    r"\b(?:is|are|was|were|been|may|shall|must|will|has|have|had|does|do|if|when|whether|"
    r"unless|this|these|those|its|their|pursuant)\b",
    re.I,
)
NOT_TERM_START = re.compile(
    r"^(?:If|When|Where|Each|Any|All|No|This|These|That|Such|In|For|An?|The|Upon|After|Before|"
    r"Except|Unless|Nothing|Notwithstanding|However|It)\b"
)
MINOR = {"of", "and", "the", "as", "a", "an", "for", "to", "in", "on", "or", "by", "with", "&"}


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


def _part_of(section_path: str) -> str | None:
    match = re.search(r"§ (\d{1,4})\.", section_path) or re.search(r"Part (\d{1,4})", section_path)
    return match.group(1) if match else None


def resolve_scope(section_path: str, phrase: str | None, subpart: str = "", definitions_section: bool = False) -> str:
    """eRegs-style: an explicit "for purposes of this section/part/subpart/paragraph (x)" wins;
    then a definitions section defines for its part; otherwise the provision the definition sits
    in (section, supplement, ECCN); § 772.1 defines for the whole EAR."""
    root = root_of(section_path)
    part = _part_of(section_path)
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
        if re.search(r"\bthis subpart\b", phrase):
            return subpart or (f"Part {part}" if part else root)
        if re.search(r"\bthis (?:part|chapter|title)\b", phrase):
            return f"Part {part}" if part else root
        if re.search(r"\bthis supplement\b", phrase):
            return root
        if re.search(r"\bthe EAR\b|Export Administration Regulations", phrase):
            return "EAR"
    if section_path.startswith("§ 772.1"):
        return "EAR"
    if definitions_section and root.startswith("§") and part:
        return subpart or f"Part {part}"
    return root


def _same_term_variant(term: str, alternative: str, joiner: str) -> bool:
    """ "Party or parties to a Transaction" is one term; "Person owned by, controlled by, or subject
    to …" is one term (an enumeration inside it); "Training or training run" are two names."""
    if joiner.startswith(","):
        return True
    words, other = term.lower().split(), alternative.lower().split()
    if len(words) == 1 and len(other) > 1:
        stem = words[0]
        return other[0] in {stem + "s", stem + "es", stem[:-1] + "ies"}
    return False


def _acronym_fits(long_form: str, short: str) -> str | None:
    """The words of `long_form` (counted back from its end) whose initials spell the short form
    ("Infrastructure as a Service" → "IaaS", "Abuse of IaaS Products Deterrence Program" → "ADP"),
    or None. Letters of the short form may also come from inside a word ("IaaS": I-a-a-S)."""
    letters = [c.lower() for c in short if c.isalnum()]
    words = [word.strip("’'") for word in re.findall(r"[\w’'-]+", long_form)]
    for count in range(1, min(len(words), 12) + 1):
        chosen = words[-count:]
        if chosen[0].lower() in MINOR:
            continue
        if _spells(letters, chosen):
            return " ".join(chosen)
    return None


def _spells(letters: list[str], words: list[str]) -> bool:
    """Can the letters be read off the words in order, each content word giving at least its
    initial? (minor words may give a letter or none)."""

    def walk(li: int, wi: int) -> bool:
        if wi == len(words):
            return li == len(letters)
        word = words[wi].lower()
        minor = word in MINOR
        if li == len(letters):
            return minor and walk(li, wi + 1)
        if (minor or wi > 0) and walk(li, wi + 1):
            return True
        if word[0] != letters[li]:
            return False
        # this word gives its initial and possibly more letters from inside it
        position, taken = 1, li + 1
        if walk(taken, wi + 1):
            return True
        while taken < len(letters) and position < len(word):
            found = word.find(letters[taken], position)
            if found < 0:
                break
            position, taken = found + 1, taken + 1
            if walk(taken, wi + 1):
                return True
        return False

    return len(letters) >= 2 and walk(0, 0)


def _is_country_name(term: str) -> bool:
    """ "(China)", "(Cuba)": a list entry's short form. A code that happens to be a country's ISO
    code ("AIA" is Anguilla's alpha-3) is not a name."""
    return term in _country_names() or term.lower() in _country_names()


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    """The gazetteer's names, as written and lower-cased (codes of three letters or fewer left out)."""
    from .countries import gazetteer

    names = [name for name in gazetteer() if len(name) > 3]
    return frozenset(names + [name.lower() for name in names])


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
        text = text_of(doc)
        path = info.get("section_path", "")
        definitional = is_definitional(text, path, info.get("parent_caption", ""))
        glossary = path.startswith("§ 772.1")
        is_rule = info.get("doc_type", "rule") == "rule"
        entry = bool(info.get("definitions_section")) or bool(re.match(r"^(?:\([^)]{1,4}\)\s*)*The terms?\s", text))
        taken: list[tuple[int, int]] = []
        seen_terms: set[str] = set()
        for row, pattern in self.patterns:
            context = row.get("context")
            if (
                (context == "definitional" and not definitional)
                or (context == "glossary" and not glossary)
                or (context == "technical_note" and not re.search(r"technical note", path, re.I))
                or (context == "entry" and not entry)
                or (context in ("rule", "short_form") and not is_rule)
            ):
                continue
            for match in pattern.finditer(text):
                found = self._record(row, match, text, info, path)
                if found is None:
                    continue
                start, end, fields = found
                key = normalise_term(fields["term"])
                if row["name"] in EMBEDDED:
                    # a short form or a definition by reference may sit inside another definition
                    if key in seen_terms:
                        continue
                elif any(start < b and a < end for a, b in taken) or key in seen_terms:
                    continue
                else:
                    taken.append((start, end))
                seen_terms.add(key)
                add_span(doc, GROUP, start, end, "DEFINITION", fields)
                for extra_term, extra_kind in fields.pop("_extra", []):
                    if normalise_term(extra_term) in seen_terms:
                        continue
                    seen_terms.add(normalise_term(extra_term))
                    add_span(
                        doc,
                        GROUP,
                        start,
                        end,
                        "ABBREVIATION" if extra_kind == "abbreviation" else "DEFINITION",
                        {**fields, "term": extra_term, "kind": extra_kind},
                    )
        return doc

    def _record(self, row: dict, match: re.Match, text: str, info: dict, path: str):
        """The finder's match as (span start, span end, fields), or None when it is no definition."""
        groups = match.groupdict()
        term = (groups.get("term") or "").strip().strip(",")
        if len(normalise_term(term)) < 2 or re.fullmatch(r"[\d\s.]+", term):
            return None
        name, kind = row["name"], row["kind"]
        unquoted = name in ("entry_means", "entry_reference", "entry_includes", "as_defined_by")
        if unquoted and (
            len(term.split()) > 16
            or NOT_IN_TERM.search(term)
            or NOT_TERM_START.match(term)
            or term.endswith((" and", " or", " of", " the"))
        ):
            return None
        extra: list[tuple[str, str]] = []
        alternative = (groups.get("alt") or "").strip()
        if alternative:
            joiner = text[match.end("term") : match.start("alt")]
            if _same_term_variant(term, alternative, joiner.strip()):
                term = text[match.start("term") : match.end("alt")]
            elif len(alternative.split()) > 16 or NOT_IN_TERM.search(alternative):
                return None
            else:
                shorter = len(alternative) < len(term)
                extra.append((alternative, "abbreviation" if shorter else kind))
        abbreviation = groups.get("abbr") or groups.get("abbr2")
        if abbreviation and kind != "short_form":
            extra.append((abbreviation, "abbreviation"))
        if kind == "short_form":
            return self._short_form(match, term, text, info, path)
        # the span: an entry is its whole paragraph from the term on; a definition in running text
        # is its sentence
        if name in ENTRY_KINDS:
            start, end = match.start(), len(text.rstrip())
        else:
            start, end = self._sentence_of(text, match)
        if kind == "means" and re.match(r"(?:shall |does not |do not )?include", groups.get("verb") or ""):
            kind = "includes"  # a finder that takes either verb ("the term “document” includes …")
        elif kind == "means" and normalise_term(caption(text)) == normalise_term(term):
            kind = "caption"
        elif kind == "means" and re.search(r"technical note", path, re.I):
            kind = "technical_note"
        scope_phrase = (
            groups.get("scope")
            or info.get("scope_phrase")
            or next(iter(re.findall(r"For (?:the )?purposes? of ([^,:]{3,60})[,:]", text)), None)
        )
        definition = text[start:end].strip()
        continuation = info.get("continuation", "")
        if continuation and (name in ENTRY_KINDS or definition.endswith((":", "—", "-"))):
            definition = definition + "\n" + continuation
        fields = {
            "term": term,
            "definition": definition[:4000],
            "kind": kind,
            "scope": resolve_scope(path, scope_phrase, info.get("subpart", ""), bool(info.get("definitions_title"))),
            "target": (groups.get("target") or "").strip().rstrip("."),
            "_extra": extra,
        }
        return start, end, fields

    @staticmethod
    def _sentence_of(text: str, match: re.Match) -> tuple[int, int]:
        """The sentence holding the match: back to the previous sentence end, on to the next."""
        bounds = [
            m.end()
            for m in re.finditer(r"(?<!\b[A-Z])(?<!\bNo)(?<!\be\.g)(?<!\bi\.e)\.\s+(?=[A-Z“\"‘(])", text)
            if m.end() <= match.start()
        ]
        return (bounds[-1] if bounds else 0), sentence_end(text, match.end())

    @staticmethod
    def _short_form(match: re.Match, term: str, text: str, info: dict, path: str):
        """ "Infrastructure as a Service (IaaS)": kept when the short form spells its long form or is
        quoted ("(the 'Act')"), and the document uses it again; a country's name in parentheses is a
        list's short form, not a term the rule defines."""
        quoted = bool(match.group("q"))
        long_form = _acronym_fits(match.group("long"), term) if " " not in term else None
        words = re.findall(r"[\w’'-]+", match.group("long"))
        if (
            not long_form
            and re.match(r"\((?:the|hereinafter)\s", text[match.end("long") : match.end()].lstrip(", "))
            and term.split()[-1].lower() in (w.lower() for w in words[-8:])
        ):
            # "Executive Order 14105 (the Order)", "Secretary of the Treasury (the Secretary)": a short
            # form made of the long form's own head word
            long_form = " ".join(words[-8:])
        comma_form = match.group("long").endswith(",") or text[match.end("long") : match.start("term")].startswith(",")
        if not (quoted or long_form or comma_form):
            return None
        if _is_country_name(term):
            return None
        # introduced for later use: the document uses the short form on its own after this point
        document_text = info.get("document_text", text)
        after = info.get("document_offset", 0) + match.end()
        # (its plural or singular too: "MMICs described in …", "the FPGA"; quoted uses count)
        forms = "|".join(re.escape(f) for f in {term, term + "s", term[:-1] if term.endswith("s") else term})
        bare = re.compile(rf"(?<![\w-])(?<!\()(?<!\(“)(?<!\(\")(?:{forms})(?![\w-]|[”\"’']?\))").search(
            document_text, after
        )
        if bare is None:
            return None
        start = match.start("long") + (len(match.group("long")) - len(long_form) if long_form else 0)
        if comma_form and not long_form:
            start = match.start("term") - 1
        end = match.end()
        part = _part_of(path)
        return (
            start,
            end,
            {
                "term": term,
                "definition": text[start:end],
                "kind": "short_form",
                "scope": info.get("subpart") or (f"Part {part}" if part else root_of(path)),
                "target": long_form or "",
                "_extra": [],
            },
        )

    score = staticmethod(span_scorer(GROUP))
