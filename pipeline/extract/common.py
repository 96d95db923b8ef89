"""What the extractor components share: pattern tables (data files in pipeline/patterns/),
numbers written every way the documents write them, span bookkeeping and span scoring."""

from __future__ import annotations

import math
import re

from .nlp import spacy  # noqa: F401 - first, so that spaCy loads without torch (see nlp)

# isort: split

from spacy.scorer import Scorer
from spacy.tokens import Doc, Span

from ..patterns import load_patterns  # noqa: F401  (the components' shared loader)
from ..segment.patterns import LEADING_MARKERS as OUTLINE_MARKERS


def text_of(doc: Doc) -> str:
    """A paragraph's text, as run.extract put it in user_data: Doc.text rebuilds the string from
    every token each time it is read (seven times a paragraph, 40 % of extraction on docket letters)."""
    return doc.user_data.get("text") or doc.text


def add_span(doc: Doc, group: str, start: int, end: int, label: str, fields: dict) -> Span | None:
    """Record a match as a span of the group. What was found (the exact characters and the fields)
    goes beside it in doc.user_data: spaCy keys span extensions by offsets alone, so a term and
    its abbreviation over the same characters would overwrite each other there."""
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    if span is None:
        return None
    doc.spans[group] = list(doc.spans.get(group, [])) + [span]
    doc.user_data.setdefault(("regkb", group), []).append(
        {"start": start, "end": end, "matched_text": text_of(doc)[start:end], **fields}
    )
    return span


def findings(doc: Doc, group: str) -> list[dict]:
    """What add_span recorded for a group, in span order."""
    return doc.user_data.get(("regkb", group), [])


def span_scorer(group: str):
    """A component's scorer: precision/recall/F over its span group, as spaCy scores span groups."""

    def score(examples, **kwargs):
        return Scorer.score_spans(
            examples,
            f"spans_{group}",
            getter=lambda doc, _: doc.spans.get(group, []),
            has_annotation=lambda doc: group in doc.spans,
            allow_overlap=True,
            **kwargs,
        )

    return score


# a full stop that ends a sentence: not the one of "U.S.", "e.g.", "No. 5", "§ 740.2", "Inc."
SENTENCE_STOP = re.compile(
    r"(?<!\b[A-Z])(?<!\bNo)(?<!\bInc)(?<!\bCo)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!?]"
    r"(?=[”\"’')]*(?:\s+[A-Z“\"‘(\[]|\s*$))"
)


def sentence_end(text: str, position: int) -> int:
    """Where the sentence running at `position` ends (past its full stop), or the text's end."""
    match = SENTENCE_STOP.search(text, position)
    if not match:
        return len(text.rstrip())
    end = match.end()
    while end < len(text) and text[end] in "”\"’')":
        end += 1
    return end


# ----------------------------------------------------------------------------- numbers

WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
_WORD = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,^§/:-])(?:"
    r"(?P<mant>\d+(?:\.\d+)?)\s*[x×]\s*10\^(?P<exp>[−-]?\d+)"
    r"|10\^(?P<pow>[−-]?\d+)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<cjk>\s*[万亿])?(?P<scale>\s+(?:million|billion|trillion)\b)?"
    rf"|(?P<word>(?:{_WORD})(?:[- ](?:{_WORD}))?)(?:\s*\((?P<paren>\d{{1,3}}(?:,\d{{3}})*)\))?"  # "twenty-one (21)"
    r"|(?P<vague>tens|hundreds) of (?P<vscale>thousands|millions|billions|trillions)"  # "tens of billions"
    r"|(?P<mult>twice|thrice|double|triple)(?=\s+the\b)"  # "twice the amount of the transaction"
    r")(?![A-Za-z0-9_^]|\.\d|,\d{3})",
    re.I,
)


def number_value(match: re.Match) -> float | None:
    """The number a match states, or None when no float holds it: "10^2650" (a footnote marker run
    into an exponent) overflowed float() with an exception that failed the whole build, and 10 ** n
    for a long n would take minutes to compute."""
    exponent = match.group("exp") or match.group("pow")
    if exponent is not None:
        power = int(exponent.replace("−", "-")) if len(exponent) <= 6 else None
        if power is None or abs(power) > 300:
            return None
        value = float(match.group("mant") or 1) * 10**power
        return value if math.isfinite(value) else None
    if match.group("num"):
        value = float(match.group("num").replace(",", ""))
        multiplier = (match.group("cjk") or match.group("scale") or "").strip().lower()
        value *= {"万": 1e4, "亿": 1e8, "million": 1e6, "billion": 1e9, "trillion": 1e12}.get(multiplier, 1)
        return value if math.isfinite(value) else None
    if match.group("paren"):
        return float(match.group("paren").replace(",", ""))
    if match.group("vague"):
        scale = {"thousands": 1e3, "millions": 1e6, "billions": 1e9, "trillions": 1e12}[match.group("vscale").lower()]
        return (10 if match.group("vague").lower() == "tens" else 100) * scale
    if match.group("mult"):
        return {"twice": 2.0, "double": 2.0, "thrice": 3.0, "triple": 3.0}[match.group("mult").lower()]
    words = re.split(r"[- ]", match.group("word").lower())
    total = 0
    for word in words:
        total = total * 100 if word == "hundred" else total + WORD_NUMBERS[word]
    return float(total)


# ----------------------------------------------------------------------------- structure helpers

# the outline's markers ("(d)", "( 2)") or a numbered list's ("a.", "3.1.")
LEADING_MARKERS = re.compile(OUTLINE_MARKERS.pattern + r"|^(?:[a-z]|\d{1,2})(?:\.[a-z\d]{1,2})*\.\s+")


def caption(text: str) -> str:
    """ "(d) Private sector end user. A …" → "Private sector end user"."""
    body = LEADING_MARKERS.sub("", text, count=1)
    match = re.match(r"([A-Z][^.—:]{2,80}?)(?:\.|—|:|--)(?:\s|$)", body)
    return match.group(1).strip() if match and body != text else ""


from ..paths import root_of  # noqa: E402,F401  (spaCy-free, shared with the read side)
