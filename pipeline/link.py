"""Link: connect extracted facts to the paragraphs that use them. A defined term is used wherever
it appears outside its defining paragraph; a one-word term in lower case ("operations",
"parameters") counts only where the text sets it in quotes, as the EAR does for defined terms."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Paragraph
from .patterns import load_patterns

QUOTES_OPEN, QUOTES_CLOSE = "‘'“\"`", "’'”\""


def usage_pattern(term: str) -> re.Pattern:
    words = [re.escape(w) for w in term.split()]
    body = r"\s+".join(words)
    if len(words) == 1 and term.islower():
        return re.compile(rf"[{QUOTES_OPEN}]{body}s?[{QUOTES_CLOSE}]", re.I)
    return re.compile(rf"(?<![\w-]){body}s?(?![\w-])", 0 if term.isupper() else re.I)


def term_usages(definitions: list[dict], paragraphs: list[Paragraph]) -> list[dict]:
    rows = []
    lowered = [paragraph.text.lower() for paragraph in paragraphs]
    for definition in definitions:
        pattern = usage_pattern(definition["term"])
        needle = definition["term"].split()[0].lower()
        for paragraph, text in zip(paragraphs, lowered):
            if needle not in text or paragraph.id == definition["paragraph_id"]:
                continue  # the substring test spares most regex searches
            match = pattern.search(paragraph.text)
            if match:
                rows.append({"term_id": definition["id"], "paragraph_id": paragraph.id, "doc_id": paragraph.doc_id,
                             "matched_text": match.group(0), "char_start": match.start(), "char_end": match.end()})
    return rows


# ----------------------------------------------------------------------------- positions → provisions

# "§ 742.6(b)(10)", "§§ 740.27", "Supplement No. 5 to part 740", "ECCN 4E091" / "4E091"
CITATION = re.compile(
    r"§§?\s*(?P<section>7\d\d\.\d+[a-z]?)(?P<paragraphs>(?:\((?:[a-z]{1,2}|\d{1,3}|[ivxl]{1,6}|[A-Z])\))*)"
    r"|Supplement No\.\s*(?P<supplement>\d+) to [Pp]art (?:7\d\d; )?(?P<part>7\d\d)"
    r"|(?:ECCN\s*)?(?<![\w.])(?P<eccn>\d[A-E]\d{3})(?![\w])")
LINKS_PER_POSITION = 3
METHOD_ORDER = ("reference", "glossary", "topic", "embedding", "context")
CJK = re.compile(r"[\u3400-\u9fff]")


def cited_provisions(text: str, topic: str = "") -> list[tuple[str, str, str]]:
    """(section-path prefix, matched text, method) for each provision a passage names: explicit
    citations first, then the glossary's names for provisions, in order of appearance, then where
    its topic points (patterns/topics.jsonl)."""
    found: list[tuple[int, str, str, str]] = []
    for match in CITATION.finditer(text):
        if match.group("section"):
            prefix = f"§ {match.group('section')}{match.group('paragraphs')}"
        elif match.group("supplement"):
            prefix = f"Supplement No. {match.group('supplement')} to Part {match.group('part')}"
        else:
            prefix = f"ECCN {match.group('eccn')}"
        found.append((0, match.start(), prefix, match.group(0)))
    for row in load_patterns("glossary"):
        hits = [m for cue in row["cues"] for m in re.finditer(cue, text, re.I)]
        if hits:
            first = min(hits, key=lambda m: m.start())
            found.extend((1, first.start(), prefix, first.group(0)) for prefix in row["links"])
    for row in load_patterns("topics"):
        if row.get("topic") == topic:
            found.extend((2, index, prefix, "") for index, prefix in enumerate(row["provisions"]))
    out, seen = [], set()
    for rank, _, prefix, matched in sorted(found):
        if prefix not in seen:
            seen.add(prefix)
            out.append((prefix, matched, METHOD_ORDER[rank]))
    return out


def within(section_path: str, prefix: str) -> bool:
    """"§ 740.29(b)(1)" is within "§ 740.29"; "§ 740.2" is not a prefix of "§ 740.29"."""
    if not section_path.startswith(prefix):
        return False
    rest = section_path[len(prefix):]
    return not rest or rest[0] in "( >." and not (rest[0] == "." and rest[1:2].isdigit())


FIGURE = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\s*(?:%|percent|TPP|days)\b", re.I)
STATES_SUBJECT, STATES_FIGURE = 0.08, 0.05


def topic_words(topic: str) -> tuple[re.Pattern, ...]:
    """The cues of a topic (patterns/topics.jsonl): the words a provision on it uses."""
    for row in load_patterns("topics"):
        if row.get("topic") == topic:
            return tuple(re.compile(cue, re.I) for cue in row["cues"] if not CJK.search(cue))
    return ()


def states(text: str, words: tuple[re.Pattern, ...]) -> float:
    """How plainly a rule paragraph states a provision on the topic: its words, and a figure."""
    named = any(p.search(text) for p in words)
    return (STATES_SUBJECT if named else 0.0) + (STATES_FIGURE if named and FIGURE.search(text) else 0.0)


def root_section(section_path: str) -> str:
    """"§ 180.90(a)" → "§ 180.90"; "Supplement No. 5 to Part 740 > …" → "Supplement No. 5 to Part 740"."""
    head = section_path.split(" > ")[0]
    return re.sub(r"^(§\s*[\d.]+[a-z]?)\(.*$", r"\1", head)


def position_links(positions: list[dict], targets: list[Paragraph], target_vectors, quote_vectors) -> list[dict]:
    """Each position's top rule paragraphs: those it names (by citation or glossary term) or its
    topic points to, the best paragraph of that provision by embedding similarity; then the nearest
    by embedding alone, except for Chinese quotes (the model reads English only: their similarities
    are noise). target_vectors: matrix aligned with targets; quote_vectors: aligned with positions."""
    import numpy as np

    rows: list[dict] = []
    if not targets:
        return rows
    members_of: dict[str, list[int]] = {}  # provision → its paragraphs; a docket names the same few thousands of times
    provisions = [prefix for row in load_patterns("topics") for prefix in row.get("provisions", [])]
    taxonomy_fits = any(within(t.section_path, prefix) for prefix in provisions for t in targets)
    argued: dict[tuple[str, str], list[int]] = {}  # (document, speaker) → first links of its positions
    unlinked: list[dict] = []
    for position, vector in zip(positions, quote_vectors):
        similarity = target_vectors @ vector
        chosen: list[tuple[int, float, str, str]] = []
        words = topic_words(position.get("topic", ""))
        for prefix, matched, method in cited_provisions(position["quote"], position.get("topic", "")):
            if prefix not in members_of:
                members_of[prefix] = [i for i, p in enumerate(targets) if within(p.section_path, prefix)]
            members = members_of[prefix]
            if members and len(chosen) < LINKS_PER_POSITION:
                # the paragraph that states the rule the position is about (names its subject and
                # gives its figure) before one that only mentions it
                best = max(members, key=lambda i: similarity[i] + states(targets[i].text, words))
                if best not in {c[0] for c in chosen}:
                    chosen.append((best, float(similarity[best]), method, matched))
        for index in ([] if CJK.search(position["quote"]) else np.argsort(-similarity)):
            if len(chosen) >= LINKS_PER_POSITION:
                break
            if int(index) not in {c[0] for c in chosen}:
                chosen.append((int(index), float(similarity[index]), "embedding", ""))
        if chosen and position.get("topic") in ("other", "", None) and not taxonomy_fits:
            # the documented topics are this corpus's rule's; on another rule, the section it is most about
            position["topic"] = root_section(targets[chosen[0][0]].section_path)
        if chosen:
            argued.setdefault((position["doc_id"], position.get("org", "")), []).extend(c[0] for c in chosen[:1])
        else:
            unlinked.append(position)
        rows.extend({"position_id": position["id"], "paragraph_id": targets[i].id, "rank": rank,
                     "score": round(score, 4), "method": method, "matched_text": matched}
                    for rank, (i, score, method, matched) in enumerate(chosen, start=1))
    # a Chinese quote that names no provision (the embedding model reads English only) is about what
    # its speaker argues about elsewhere in the document: the provisions its other positions link to first
    for position in unlinked:
        firsts = argued.get((position["doc_id"], position.get("org", "")), [])
        ranked = sorted(set(firsts), key=lambda i: (-firsts.count(i), firsts.index(i)))[:LINKS_PER_POSITION]
        rows.extend({"position_id": position["id"], "paragraph_id": targets[i].id, "rank": rank, "score": 0.0,
                     "method": "context", "matched_text": ""} for rank, i in enumerate(ranked, start=1))
    return rows


# ----------------------------------------------------------------------------- positions → relevance

# A candidate position is kept when it is about a rule in the knowledge base: it names the rule or one
# of its provisions, uses one of the rules' defined terms or glossary names, argues in a section whose
# heading does, or reads like the rules' own paragraphs (embedding similarity). The extractor proposes
# argumentative sentences; only this stage sees the rules, so only it judges relevance.
RELEVANT_SIMILARITY = 0.40   # cosine to the nearest paragraph of a rule (all-MiniLM-L6-v2), when neither the
                             # sentence nor its paragraph, section heading or document title names a rule
RULE_WORDS = re.compile(r"\b(?:interim final rule|final rule|proposed rule|IFR|NPRM|rulemaking|"
                        r"the (?:rule|regulations?)|"
                        r"(?:this|these|the) rules)\b", re.I)
STOP = set("a an and the of for to in on by with from at as or is are be this that these those its it".split())


def rule_lexicon(documents: list[dict], definitions: list[dict], paragraphs: list[Paragraph] = ()) -> re.Pattern | None:
    """The words that name the rules of the knowledge base: their distinctive defined terms (several
    words, or an acronym), the glossary's names for provisions, and the rules' titles ("Framework for
    Artificial Intelligence Diffusion", "… Diffusion rule"). A defined term that most letters use
    anyway ("artificial intelligence", "data center") says nothing about which rule a letter is on:
    a term is kept only when at most DISTINCTIVE of the other documents use it."""
    rule_ids = {d["id"] for d in documents if d.get("doc_type") == "rule"}
    texts: dict[str, list[str]] = {}
    for paragraph in paragraphs:
        if paragraph.doc_id not in rule_ids:
            texts.setdefault(paragraph.doc_id, []).append(paragraph.text)
    letters = [" ".join(parts) for parts in texts.values()]
    parts: set[str] = set()
    for definition in definitions:
        term = (definition.get("term") or "").strip()
        if definition.get("doc_id") in rule_ids and (len(term.split()) >= 2 or (term.isupper() and len(term) >= 3)) \
                and len(term) <= 60:
            body = r"\s+".join(re.escape(w) for w in term.split())
            pattern = re.compile(rf"(?<![\w-]){body}s?(?![\w-])", 0 if term.isupper() else re.I)
            if not letters or sum(bool(pattern.search(text)) for text in letters) <= DISTINCTIVE * len(letters):
                word = rf"(?<![\w-]){body}s?(?![\w-])"
                parts.add(rf"(?-i:{word})" if term.isupper() else word)
    for document in documents:
        if document.get("doc_type") != "rule":
            continue
        title = re.split(r"[(:;]", document.get("title") or "")[0].strip()
        words = re.findall(r"[A-Za-z][\w-]+", title)
        if len(words) >= 2:
            parts.add(r"\s+".join(map(re.escape, words)))
            parts.add(rf"{re.escape(words[-1])}\s+(?:rules?|framework|regulations?|IFR)")
    for row in load_patterns("glossary"):
        parts.update(cue for cue in row["cues"] if not CJK.search(cue))
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in sorted(parts, key=len, reverse=True)), re.I)


DISTINCTIVE = 0.3


def names_a_rule(text: str, lexicon: re.Pattern | None) -> str:
    """What in a passage names a rule of the knowledge base ('' when nothing does)."""
    for pattern in (CITATION, lexicon, RULE_WORDS):
        match = pattern.search(text) if pattern is not None else None
        if match:
            return match.group(0)
    return ""


# ----------------------------------------------------------------------------- positions → subject matter

# What a rule regulates, learned from the knowledge base: a rule's distinctive words are those its
# paragraphs use far more often than the other rules' paragraphs (or, with one rule, than the other
# documents): "export", "license", "chips", "countries" for an export-control rule; "vehicles",
# "hardware" for a supply-chain rule. Other policy areas speak in words no rule of the knowledge base
# uses at all though several letters do ("ISO", "NEPA", "nucleic", "DARPA", "appropriations").
WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
SUBJECT_LOG_ODDS = 0.8     # how much more often a rule's paragraphs use a word than the other rules' do
SUBJECT_MIN_SHARE = 0.005  # and in at least this share of its own paragraphs (not one stray mention)
SUBJECT_MIN_COUNT = 5
OFF_SUBJECT_LETTER_SHARE = 0.5
OFF_SUBJECT_PER_WORD = 3   # a sentence with more than 3 other-area words per subject word (plus one) is
                           # about another policy area


def content_words(text: str) -> set[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    out = set()
    for word in WORD.findall(text.lower()):
        if len(word) <= 2 or word in STOP_WORDS:
            continue
        if word.endswith("ies") and len(word) > 5:
            word = word[:-3] + "y"
        elif word.endswith("sses"):
            word = word[:-2]
        elif word.endswith("s") and len(word) > 4 and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return out


@dataclass
class SubjectMatter:
    """The rules' distinctive words and the words of other policy areas (see above)."""
    on: set[str]
    off: set[str]

    def counts(self, text: str) -> tuple[int, int]:
        words = content_words(squash(text))
        return len(words & self.on), len(words & self.off)

    def about(self, text: str) -> bool:
        on, off = self.counts(text)
        return on > 0 and off <= OFF_SUBJECT_PER_WORD * on + 1

    def elsewhere(self, text: str) -> bool:
        """Speaks of another policy area and of nothing any rule regulates."""
        on, off = self.counts(text)
        return off > OFF_SUBJECT_PER_WORD * on + 1


def subject_matter(documents: list[dict], paragraphs: list[Paragraph]) -> SubjectMatter:
    import math
    from collections import Counter

    kind = {d["id"]: d.get("doc_type") for d in documents}
    rule_of = {d["id"]: d.get("cite_as") or d["id"] for d in documents if d.get("doc_type") == "rule"}
    per_rule: dict[str, Counter] = {}
    sizes: Counter = Counter()
    letters: Counter = Counter()
    letter_docs: dict[str, set[str]] = {}
    letter_count = 0
    for paragraph in paragraphs:
        words = content_words(squash(paragraph.text))
        if paragraph.doc_id in rule_of:
            rule = rule_of[paragraph.doc_id]
            per_rule.setdefault(rule, Counter()).update(words)
            sizes[rule] += 1
        elif kind.get(paragraph.doc_id):
            letters.update(words)
            letter_count += 1
            for word in words:
                letter_docs.setdefault(word, set()).add(paragraph.doc_id)
    on: set[str] = set()
    for rule, counts in per_rule.items():
        # against each other rule on its own: a small rule's sample makes common words ("united",
        # "maintain") look distinctive against the others pooled
        others = [(c, sizes[r]) for r, c in per_rule.items() if r != rule] or [(letters, letter_count)]
        for word, count in counts.items():
            if count < max(SUBJECT_MIN_SHARE * sizes[rule], SUBJECT_MIN_COUNT):
                continue
            share = math.log((count + 0.5) / (sizes[rule] + 1))
            if all(share - math.log((other[word] + 0.5) / (size + 1)) > SUBJECT_LOG_ODDS for other, size in others):
                on.add(word)
    used = sum(per_rule.values(), Counter())
    # used by several letters, not by most (a word most letters use is plain English: "role", "American")
    letter_total = len({doc for docs in letter_docs.values() for doc in docs})
    off = {word for word, docs in letter_docs.items()
           if 2 <= len(docs) <= OFF_SUBJECT_LETTER_SHARE * letter_total and used[word] <= 1}
    return SubjectMatter(on=on, off=off)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def previous_sentence(text: str, start: int) -> str:
    from .extract.positions import sentence_spans

    before = [text[a:b] for a, b in sentence_spans(text[:start]) if b <= start]
    return before[-1] if before else ""


def relevant_positions(positions: list[dict], paragraphs: list[Paragraph], matrix, documents: list[dict],
                       definitions: list[dict], quote_vectors) -> list[bool]:
    """Per position, whether it is about a rule in the knowledge base: it names a rule or one of its
    provisions; or it speaks of what a rule regulates (its distinctive words, see SubjectMatter) and
    not mostly of another policy area; or, naming nothing itself ("Such an approach should …"), it
    follows a sentence of its paragraph that does. A section heading that names export controls does
    not make a sentence on energy permitting or standards bodies inside it a position on the rule.
    matrix, quote_vectors: unused (embedding similarity barely separates positions on the rule
    from others: both 0.4–0.8); kept for the caller."""
    rule_ids = {d["id"] for d in documents if d.get("doc_type") == "rule"}
    if not any(p.doc_id in rule_ids for p in paragraphs) or not positions:
        return [True] * len(positions)
    lexicon = rule_lexicon(documents, definitions, paragraphs)
    subject = subject_matter(documents, paragraphs)
    by_id = {p.id: p for p in paragraphs}
    # a comment that says in its opening which rule of the KB it comments on ("Comments of … on the
    # Hospital Price Transparency rule") argues about that rule unless a sentence is plainly elsewhere
    from .extract.positions import comments_on_a_rule

    openings: dict[str, list[str]] = {}
    for paragraph in paragraphs:
        if len(openings.setdefault(paragraph.doc_id, [])) < 4:
            openings[paragraph.doc_id].append(paragraph.text)
    comment_ids = {d["id"] for d in documents if d.get("doc_type") == "comment"}
    commenting = {doc for doc, texts in openings.items()
                  if doc in comment_ids and any(comments_on_a_rule(text) for text in texts)}
    keep = []
    for position in positions:
        quote = position["quote"]
        if position.get("doc_id") in commenting and not subject.elsewhere(quote):
            keep.append(True)
            continue
        if CJK.search(quote) or names_a_rule(quote, lexicon):
            keep.append(True)  # Chinese: the extractor's own anchors decided (the model reads English only)
            continue
        if subject.about(quote):
            keep.append(True)
            continue
        paragraph = by_id.get(position["paragraph_id"])
        before = previous_sentence(paragraph.text, position.get("char_start", 0)) if paragraph else ""
        joined = bool(before) and not subject.elsewhere(quote) and (
            subject.about(before) or bool(names_a_rule(before, lexicon)))
        keep.append(joined)
    return keep
