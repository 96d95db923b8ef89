"""Positions → relevance: whether a candidate position is about a rule in the knowledge base. The
extractor proposes argumentative sentences in any letter; only this stage sees the rules, so only it
judges which are positions on them: by what names a rule (citations, its distinctive defined terms,
its title, the glossary) and by its subject matter (the words the rules use far more than others)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..lexicon import for_matching
from ..models import Paragraph
from ..paths import CJK
from ..patterns import load_patterns
from .provisions import CITATION

RULE_WORDS = re.compile(
    r"\b(?:interim final rule|final rule|proposed rule|IFR|NPRM|rulemaking|"
    r"the (?:rule|regulations?)|"
    r"(?:this|these|the) rules)\b",
    re.I,
)


def rule_lexicon(documents: list[dict], definitions: list[dict], paragraphs: list[Paragraph] = ()) -> re.Pattern | None:
    """The words that name the rules of the knowledge base: their distinctive defined terms (several
    words, or an acronym), the glossary's names for provisions, and the rules' titles ("Framework for
    Artificial Intelligence Diffusion", "… Diffusion rule"). A defined term that most letters use
    anyway ("artificial intelligence", "data center") says nothing about which rule a letter is on:
    a term is kept only when at most DISTINCTIVE of the other documents use it."""
    rule_ids = {d["id"] for d in documents if d.get("doc_type") == "rule"}
    sample = letter_sample(documents)
    texts: dict[str, list[str]] = {}
    for paragraph in paragraphs:
        if paragraph.doc_id in sample:
            texts.setdefault(paragraph.doc_id, []).append(paragraph.text)
    letters = [" ".join(parts) for parts in texts.values()]
    # a letter can use a term only if it has every word of it: an index of the letters' words spares
    # the regex search of every letter for every term (14 of 19 s of linking 1,000 real responses)
    having: dict[str, set[int]] = {}
    for index, text in enumerate(letters):
        for word in set(TOKEN.findall(text.lower())):
            having.setdefault(word, set()).add(index)
    parts: set[str] = set()
    for definition in definitions:
        term = (definition.get("term") or "").strip()
        if (
            definition.get("doc_id") in rule_ids
            and (len(term.split()) >= 2 or (term.isupper() and len(term) >= 3))
            and len(term) <= 60
        ):
            body = r"\s+".join(re.escape(w) for w in term.split())
            pattern = re.compile(rf"(?<![\w-]){body}s?(?![\w-])", 0 if term.isupper() else re.I)
            if not letters or sum(
                bool(pattern.search(letters[i])) for i in _candidates(term, having, len(letters))
            ) <= DISTINCTIVE * len(letters):
                word = rf"(?<![\w-]){body}s?(?![\w-])"
                parts.add(rf"(?-i:{word})" if term.isupper() else word)
    parts |= title_parts(documents)
    for row in load_patterns("glossary"):
        parts.update(cue for cue in row["cues"] if not CJK.search(cue))
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in sorted(parts, key=lambda p: (-len(p), p))), re.I)


def title_parts(documents: list[dict]) -> set[str]:
    """The patterns of the rules' titles ("Framework for Artificial Intelligence Diffusion", "…
    Diffusion rule"): what names a rule outright."""
    parts: set[str] = set()
    for document in documents:
        if document.get("doc_type") != "rule":
            continue
        title = re.split(r"[(:;]", document.get("title") or "")[0].strip()
        words = re.findall(r"[A-Za-z][\w-]+", title)
        if len(words) >= 2:
            parts.add(r"\s+".join(map(re.escape, words)))
            parts.add(rf"{re.escape(words[-1])}\s+(?:rules?|framework|regulations?|IFR)")
    return parts


def title_pattern(documents: list[dict]) -> re.Pattern | None:
    parts = title_parts(documents)
    return re.compile("|".join(f"(?:{p})" for p in sorted(parts, key=lambda p: (-len(p), p))), re.I) if parts else None


DISTINCTIVE = 0.3
TOKEN = re.compile(r"\w+")
# How often the letters use a word is estimated on at most this many of them (a fixed sample: those
# whose ids hash lowest), so that a 10,000-response docket costs what 2,000 cost and adding one letter
# does not re-read every other; a knowledge base of up to this many letters is read whole.
LETTER_SAMPLE = 2_000


def letter_sample(documents: list[dict]) -> set[str]:
    """The ids of the letters (every document but the rules) the word statistics are taken from."""
    import hashlib

    letters = [d["id"] for d in documents if d.get("doc_type") != "rule"]
    if len(letters) <= LETTER_SAMPLE:
        return set(letters)
    return set(sorted(letters, key=lambda i: hashlib.blake2b(i.encode(), digest_size=8).digest())[:LETTER_SAMPLE])


def _candidates(term: str, having: dict[str, set[int]], count: int) -> set[int] | range:
    """Of count letters, those that have every word of term (its last word also with a plural s):
    the only ones its pattern can match."""
    words = TOKEN.findall(term.lower())
    if not words:
        return range(count)
    found = having.get(words[-1], set()) | having.get(words[-1] + "s", set())
    for word in words[:-1]:
        found = found & having.get(word, set())
        if not found:
            break
    return found


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
SUBJECT_LOG_ODDS = 0.8  # how much more often a rule's paragraphs use a word than the other rules' do
SUBJECT_MIN_SHARE = 0.005  # and in at least this share of its own paragraphs (not one stray mention)
SUBJECT_MIN_COUNT = 5
OFF_SUBJECT_LETTER_SHARE = 0.5
OFF_SUBJECT_PER_WORD = 3  # a sentence with more than 3 other-area words per subject word (plus one) is
# about another policy area


def content_words(text: str) -> set[str]:
    """The content words of a text, lower case, a plural reduced to its singular; stop words and words
    of two letters left out."""
    stems = _STEMS
    out = set()
    for word in set(WORD.findall(text.lower())):
        stem = stems.get(word, "")
        if stem == "":
            if len(stems) > 1_000_000:
                stems.clear()
            stem = stems[word] = _stem(word)
        if stem is not None:
            out.add(stem)
    return out


_STEMS: dict[str, str | None] = {}  # word → its stem (None: not a content word); a docket repeats its words


def _stem(word: str) -> str | None:
    from spacy.lang.en.stop_words import STOP_WORDS

    from ..extract.nlp import spacy  # noqa: F401 - spaCy without torch

    if len(word) <= 2 or word in STOP_WORDS:
        return None
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and len(word) > 4 and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass
class SubjectMatter:
    """The rules' distinctive words and the words of other policy areas (see above); core: those of
    the rules' words that ordinary English hardly uses (see core_words)."""

    on: set[str]
    off: set[str]
    core: set[str] = field(default_factory=set)
    core_by_rule: dict[str, set[str]] = field(default_factory=dict)  # each rule's own (its cite → words)

    def grounded(self, text: str) -> bool:
        """Whether a text uses a word of what the rules regulate that plain English hardly uses
        ("export", "reexport", "destination", "diversion" for the AI rule)."""
        return bool(self.core_in(text))

    def core_in(self, text: str) -> set[str]:
        words = content_words(squash(text))
        parts = {_stem(part) for word in words if "-" in word for part in word.split("-")}  # "export-controlled"
        return (words | parts) & self.core

    def rules_of(self, words: set[str]) -> set[str]:
        """The rules (cites) whose own core words these are."""
        return {rule for rule, core in self.core_by_rule.items() if words & core}

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

    sample = letter_sample(documents)
    rule_of = {d["id"]: d.get("cite_as") or d["id"] for d in documents if d.get("doc_type") == "rule"}
    per_rule: dict[str, Counter] = {}
    sizes: Counter = Counter()
    letters: Counter = Counter()
    letter_docs: dict[str, set[str]] = {}
    letter_count = 0
    for paragraph in paragraphs:
        if paragraph.doc_id not in rule_of and paragraph.doc_id not in sample:
            continue
        words = content_words(squash(paragraph.text))
        if paragraph.doc_id in rule_of:
            rule = rule_of[paragraph.doc_id]
            per_rule.setdefault(rule, Counter()).update(words)
            sizes[rule] += 1
        elif paragraph.doc_id in sample:
            letters.update(words)
            letter_count += 1
            for word in words:
                letter_docs.setdefault(word, set()).add(paragraph.doc_id)
    on: set[str] = set()
    on_by_rule: dict[str, set[str]] = {}
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
                on_by_rule.setdefault(rule, set()).add(word)
    used = sum(per_rule.values(), Counter())
    # used by several letters, not by most (a word most letters use is plain English: "role", "American")
    letter_total = len({doc for docs in letter_docs.values() for doc in docs})
    off = {
        word
        for word, docs in letter_docs.items()
        if 2 <= len(docs) <= OFF_SUBJECT_LETTER_SHARE * letter_total and used[word] <= 1
    }
    core = core_words(on, per_rule)
    by_rule = {rule: core & words for rule, words in on_by_rule.items()}
    return SubjectMatter(on=on, off=off, core=core, core_by_rule=by_rule)


# A rule's core words are its distinctive words that it uses far more often than ordinary English does
# (the log of its rate of use, against the word's log probability in English (spaCy's lexeme table),
# above CORE_OVER_ENGLISH): "export", "reexport", "destination", "diversion", "TPP" for the AI rule,
# not "administration", "advanced" or "security", which every policy letter uses. A word that merely
# names the rule's subject in passing ("tiers", "chips", "the rule") shows a letter is on the rule only
# with one of these near it. Measured against English, not against the letters of the knowledge base,
# so that it does not depend on which letters were added.
CORE_OVER_ENGLISH = 6.0


def core_words(on: set[str], per_rule: dict) -> set[str]:
    """Of the rules' distinctive words, those far more frequent in the rules than in English."""
    import math

    used: dict[str, int] = {}
    for counts in per_rule.values():
        for word, count in counts.items():
            used[word] = used.get(word, 0) + count
    total = sum(used.values()) or 1
    drafting = {word for row in load_patterns("drafting") for word in row["words"]}
    candidates = {w for w in on if w not in drafting}
    prob = english_probabilities({form for w in candidates for form in (w, w + "s", w + "es")})

    def english(word: str) -> float:  # the stem, or its plural
        return max(
            prob.get(word, ENGLISH_FLOOR), prob.get(word + "s", ENGLISH_FLOOR), prob.get(word + "es", ENGLISH_FLOOR)
        )

    return {w for w in candidates if math.log((used.get(w, 0) + 0.5) / total) - english(w) > CORE_OVER_ENGLISH}


ENGLISH_FLOOR = -19.5  # the log probability of a word spaCy's table does not list (its rarest)


def english_probabilities(words: set[str]) -> dict[str, float]:
    """The log probabilities in English (spaCy's lexeme table) of these words. The table (a million
    entries, 0.7-1.1 s to parse) is read once per relevance model, which the build memoises, and not kept."""
    import gzip
    import json
    from importlib.resources import files

    if not words:
        return {}
    table = json.loads(gzip.decompress((files("spacy_lookups_data") / "data" / "en_lexeme_prob.json.gz").read_bytes()))
    return {word: table[word] for word in words if word in table}


squash = for_matching  # the text the positions' cues match, so both stages read the same words


def previous_sentence(text: str, start: int) -> str:
    from ..extract.positions import sentence_spans

    before = [text[a:b] for a, b in sentence_spans(text[:start]) if b <= start]
    return before[-1] if before else ""


def other_regime(text: str) -> str:
    """The other regime a sentence names (patterns/regimes.jsonl), or ""."""
    squashed = squash(text)
    return next((name for name, pattern in _regimes() if pattern.search(squashed)), "")


@lru_cache(maxsize=1)
def _regimes() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((row["regime"], re.compile(row["regex"], re.I)) for row in load_patterns("regimes"))


def relevance_model(
    documents: list[dict], definitions: list[dict], paragraphs: list[Paragraph]
) -> tuple[re.Pattern | None, SubjectMatter]:
    """What relevant_positions judges by: the words that name the rules (rule_lexicon) and their
    subject matter (subject_matter)."""
    return rule_lexicon(documents, definitions, paragraphs), subject_matter(documents, paragraphs)


def model_inputs(documents: list[dict], definitions: list[dict], paragraphs: list[Paragraph]) -> str:
    """A digest of everything relevance_model reads: the rules' documents, definitions and paragraphs
    and the sampled letters' paragraphs (a build that adds a letter outside the sample has the same)."""
    import hashlib

    rules = {d["id"] for d in documents if d.get("doc_type") == "rule"}
    read = rules | letter_sample(documents)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(
        repr(
            (
                sorted(
                    (d["id"], d.get("doc_type"), d.get("title"), d.get("cite_as"))
                    for d in documents
                    if d["id"] in rules
                ),
                sorted(read),
                [(d.get("doc_id"), d.get("term")) for d in definitions if d.get("doc_id") in rules],
            )
        ).encode("utf-8", "surrogatepass")
    )
    for paragraph in paragraphs:
        if paragraph.doc_id in read:
            digest.update(f"{paragraph.doc_id}\x1f{paragraph.text}\x1e".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def model_to_json(model: tuple[re.Pattern | None, SubjectMatter]) -> dict:
    lexicon, subject = model
    return {
        "lexicon": [lexicon.pattern, lexicon.flags] if lexicon is not None else None,
        "on": sorted(subject.on),
        "off": sorted(subject.off),
        "core": sorted(subject.core),
        "core_by_rule": {rule: sorted(words) for rule, words in subject.core_by_rule.items()},
    }


def model_from_json(value: dict) -> tuple[re.Pattern | None, SubjectMatter]:
    lexicon = re.compile(value["lexicon"][0], value["lexicon"][1]) if value["lexicon"] else None
    by_rule = {rule: set(words) for rule, words in value.get("core_by_rule", {}).items()}
    return lexicon, SubjectMatter(
        on=set(value["on"]), off=set(value["off"]), core=set(value.get("core", [])), core_by_rule=by_rule
    )


def relevant_positions(
    positions: list[dict],
    paragraphs: list[Paragraph],
    matrix,
    documents: list[dict],
    definitions: list[dict],
    quote_vectors,
    model: tuple[re.Pattern | None, SubjectMatter] | None = None,
) -> list[bool]:
    """Per position, whether it is about a rule in the knowledge base: it cites a rule or names it by
    its title (or its letter says in its opening that it comments on one); or, naming no other regime
    (patterns/regimes.jsonl: the AI Act, state laws, China's own controls), with a core word of what the
    rules regulate in it, its paragraph or its section's headings (SubjectMatter.grounded), it names a
    rule's term or glossary name, or speaks of what a rule regulates (its distinctive words) and not
    mostly of another policy area, or, naming nothing itself ("Such an approach should …"), follows a
    sentence of its paragraph that does. A section heading that names export controls does
    not make a sentence on energy permitting or standards bodies inside it a position on the rule.
    When only words vouch for a position, and only the words of the rule the relevance classifier was
    trained for, the classifier reads its sentence too (Classifier). matrix: unused; quote_vectors: the
    candidates' unit embeddings (aligned with positions), or None (no classifier)."""
    rule_ids = {d["id"] for d in documents if d.get("doc_type") == "rule"}
    if not any(p.doc_id in rule_ids for p in paragraphs) or not positions:
        return [True] * len(positions)
    lexicon, subject = model or relevance_model(documents, definitions, paragraphs)
    by_id = {p.id: p for p in paragraphs}
    # the paragraph before each, in its document: what an anaphor opening a paragraph refers back to
    before_of: dict[str, Paragraph] = {}
    last: dict[str, Paragraph] = {}
    for paragraph in sorted(paragraphs, key=lambda p: (p.doc_id, p.ordinal)):
        if paragraph.doc_id in last:
            before_of[paragraph.id] = last[paragraph.doc_id]
        last[paragraph.doc_id] = paragraph
    # a comment that says in its opening which rule of the KB it comments on ("Comments of … on the
    # Hospital Price Transparency rule") argues about that rule unless a sentence is plainly elsewhere
    from ..extract.positions import ANAPHOR, ANAPHOR_REACH, comments_on_a_rule

    openings: dict[str, list[str]] = {}
    for paragraph in paragraphs:
        if len(openings.setdefault(paragraph.doc_id, [])) < 4:
            openings[paragraph.doc_id].append(paragraph.text)
    comment_ids = {d["id"] for d in documents if d.get("doc_type") == "comment"}
    titles = title_pattern(documents)
    # … and names one of the knowledge base's rules there (its title or a citation of it)
    commenting = {
        doc
        for doc, texts in openings.items()
        if doc in comment_ids
        and any(comments_on_a_rule(text) for text in texts)
        and any(CITATION.search(text) or (titles is not None and titles.search(text)) for text in texts)
    }
    # the classifier judges a rule's positions only where that rule is in the knowledge base and the
    # candidates' embeddings are at hand
    classifier = relevance_classifier() if quote_vectors is not None else None
    if classifier is not None and classifier.rule not in {d.get("cite_as") for d in documents if d["id"] in rule_ids}:
        classifier = None
    keep = []
    for index, position in enumerate(positions):
        quote = position["quote"]
        if position.get("doc_id") in commenting and not subject.elsewhere(quote):
            keep.append(True)
            continue
        if CJK.search(quote) or CITATION.search(quote) or (titles is not None and titles.search(quote)):
            keep.append(True)  # Chinese: the extractor's own anchors decided (the model reads English only)
            continue
        if other_regime(quote):
            keep.append(False)  # on another regime ("the AI Act", "state-level approaches"), not a rule here
            continue
        paragraph = by_id.get(position["paragraph_id"])
        start = position.get("char_start", 0)
        # "Such controls could …", "But they come at a cost": the sentence's subject is the previous one's
        anaphoric = bool(ANAPHOR.search(squash(quote)[:ANAPHOR_REACH]))
        before = previous_sentence(paragraph.text, start) if paragraph else ""
        earlier = before_of.get(position["paragraph_id"]) if anaphoric else None
        if anaphoric and not before and earlier is not None:
            before = previous_sentence(earlier.text, len(earlier.text))  # the last sentence of the paragraph before
        # a term, a glossary name or a word of the rules' subject names it only with a core word of what
        # the rules regulate in the sentence, its paragraph or its section's headings (or, for an
        # anaphor, the paragraph it refers back to): "tiers", "AI chips", "the rule" alone are a
        # security tier system, a CHIPS Act credit, a copyright rule
        own = subject.core_in(quote)  # the sentence's own core words
        grounds = set(own)
        if paragraph is not None:
            grounds |= subject.core_in(paragraph.text) | subject.core_in(paragraph.section_path)
        if earlier is not None:
            grounds |= subject.core_in(earlier.text)
        if not grounds:
            keep.append(False)
            continue
        # a core word in the sentence itself puts it on the rules' subject, however many words of its
        # own it argues in ("Effective implementation of export controls requires addressing smuggling,
        # closing loopholes, …": words the rule's text never uses)
        named = bool(names_a_rule(quote, lexicon))
        verdict = (
            named
            or bool(own)
            or subject.about(quote)
            or (
                bool(before)
                and (anaphoric or not subject.elsewhere(quote))
                and (subject.about(before) or bool(names_a_rule(before, lexicon)))
            )
        )
        if (
            verdict
            and classifier is not None
            and not own
            and not named
            and subject.rules_of(grounds) <= {classifier.rule}
        ):
            # only the words around it vouched for it (its paragraph's, its section's), and only words of
            # the rule the classifier knows: the sentence must also read like the positions on that rule
            # readers marked
            verdict = classifier.on_the_rule(quote_vectors[index])
        keep.append(verdict)
    return keep


@dataclass(frozen=True)
class Classifier:
    """A logistic regression over a candidate's unit sentence embedding, for one rule (its cite): a
    position on that rule or an argument on another subject (patterns/relevance_classifier.json,
    trained by bench/train_relevance.py on development gold and audits; trained without one of the
    two development audits, it kept all 44 of their positions and 19 of their 96 other sentences)."""

    rule: str
    weights: object  # numpy vector
    bias: float
    threshold: float

    def on_the_rule(self, vector) -> bool:
        import math

        return 1 / (1 + math.exp(-(float(self.weights @ vector) + self.bias))) >= self.threshold


@lru_cache(maxsize=1)
def relevance_classifier() -> Classifier:
    import json

    import numpy as np

    from ..patterns import PATTERNS_DIR

    data = json.loads((PATTERNS_DIR / "relevance_classifier.json").read_text(encoding="utf-8"))
    return Classifier(
        rule=data["rule"],
        weights=np.asarray(data["weights"], dtype=np.float32),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
    )
