"""Numeric thresholds: value + unit + comparator + subject bound in one span, the value normalised
(26,900,000 → 2.69e7; 10^26; 2.5x10^25; "ten percent"; "twenty-one (21) days"; "tens of billions";
"twice the amount"; 2.5万), and the dates that govern something ("by January 15, 2026") as ISO dates.
A number is a threshold only when a unit attaches to it (or it sits in a table whose header names the
unit): identifiers such as "Part 744" or "NIST 800-53" never do, and a number inside a formula or an
example ("counting … D = A × B + C, as 2 operations") is not a limit.

The comparator comes from the words governing the number ("more than", "not more than", "no earlier
than … prior to", "the greater of X or twice …", "between … and …"); the subject is the noun phrase
the number limits, read from its clause ("aggregate TPP of the items exported to one destination per
calendar year"), not the section heading."""

from __future__ import annotations

import re
from functools import lru_cache

from .nlp import spacy  # noqa: F401 - first, so that spaCy loads without torch (see nlp)

# isort: split

from spacy.language import Language
from spacy.tokens import Doc

from ..paths import CJK_CLASS
from .common import NUMBER, add_span, load_patterns, number_value, sentence_end, span_scorer, text_of

GROUP = "thresholds"
RANGE_GLUE = re.compile(
    r"^\s*(?:or more\s+)?(?:and|to|through|–|-|—|和|到|至)\s*(?:less than|fewer than|not more than|up to|below)?\s*$",
    re.I,
)
FORMULA_AFTER = re.compile(r"^\s*[×*]\s|^\s*x\s+['‘\w]")  # "2 × 'MacTOPS'" is a formula, not a limit
IDENTIFIER_BEFORE = re.compile(
    r"(?:§{1,2}|\bparts?|\bParts?|\bECCNs?|\bparagraphs?|\bSupplement No\.|\bNo\.|\bNotes?|\bSection|\bsections?|"
    r"\bcategory|\bCategory|\bGroup|\bVol\.|\bE\.O\.|\bPub\. L\.|\bStat\.|\bNIST|\bFR|\bCFR|\bU\.S\.C\.|"
    r"\bp\.|\bpp\.)\s*$"
)


@lru_cache(maxsize=1)
def unit_patterns():
    compiled = []
    for row in load_patterns("thresholds"):
        compiled.append(
            {
                **row,
                "before_re": re.compile(r"(?:" + row["before"] + r")\s*$", re.I) if row.get("before") else None,
                "after_re": re.compile(r"^\s*(?:" + row["after"] + r")", re.I) if row.get("after") else None,
                "prefix_re": re.compile(r"(?:" + row["prefix"] + r")\s*$") if row.get("prefix") else None,
            }
        )
    return compiled


@lru_cache(maxsize=1)
def comparator_patterns():
    """Comparator phrases by where they stand: before the number, right after it, after the unit."""
    found: dict[str, list] = {"before": [], "after": [], "after_unit": []}
    for row in load_patterns("comparators"):
        phrase = re.escape(row["phrase"]).replace(r"\ ", r"\s+")
        if row["where"] == "before":
            pattern = r"(?:^|(?<=[^\w]))" + phrase + r"(?:\s+(?:a|an|the|of|a total of|aggregate|greater|lesser))*\s*$"
        else:
            pattern = r"^\s*(?:的)?" + phrase + (r"\b" if phrase[-1:].isalpha() and phrase.isascii() else "")
        found[row["where"]].append((re.compile(pattern, re.I), row["comparator"]))
    return found


# a negation that governs the comparator: "may not receive more than" (a ceiling), but not "weights that
# are not published —that has been trained on more than 10^26" (a relative clause in between)
NEGATION = re.compile(
    r"\b(?:cannot|can not|may not|must not|shall not|will not|does not|do not|did not|not)\s+"
    r"(?:(?!that\b|which\b|who\b)[\w’'-]+\s+){0,4}$",
    re.I,
)
# "no earlier than 60 calendar days prior to": the direction of the period turns the comparator
EARLIER_LATER = re.compile(
    r"(?:(?P<neg>\b(?:no|not|never)\b)(?:[^.;]|(?<=\b[A-Z])\.|\.(?!\s)){0,160}?)?"
    r"\b(?P<which>earlier|later|sooner)\s+than\s*$",
    re.I,
)
BACKWARDS = re.compile(r"^\s*(?:prior to|before|preceding|in advance)\b", re.I)
# "not to exceed the greater of $250,000 per violation or an amount that is twice …": one governor
ALTERNATIVE_GLUE = re.compile(
    r"^\s*(?:per [\w-]+(?: [\w-]+)?)?\s*(?:,\s*[^,;()]{1,60},)?\s*,?\s*(?:or|and|nor)\s+"
    r"(?:an amount (?:that is|equal to|of)\s+)?$",
    re.I,
)
# sentences whose numbers are an example or a formula, not a limit the rule sets
EXAMPLE = re.compile(
    r"^\s*(?:For example|For instance|Example|E\.g\.|Illustration)\b|\bformula\b|"
    r"\b[A-Z]\s*=\s*[A-Z0-9]",
    re.I,
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DATE = re.compile(r"\b(?P<month>" + "|".join(MONTHS) + r")\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4})\b")
DATE_GOVERNOR = re.compile(
    r"\b(?P<word>on or before|on or after|no later than|not later than|before|after|by|until|"
    r"through|"
    r"effective|beginning|beginning on|starting|as of|prior to|from|since)\s+(?:the\s+)?$",
    re.I,
)
DATE_COMPARATOR = {
    "on or before": "<=",
    "no later than": "<=",
    "not later than": "<=",
    "before": "<",
    "by": "<=",
    "until": "<=",
    "through": "<=",
    "prior to": "<",
    "on or after": ">=",
    "after": ">",
    "beginning": ">=",
    "beginning on": ">=",
    "starting": ">=",
    "from": ">=",
    "since": ">=",
    "effective": "=",
    "as of": "=",
}
# words that close the subject phrase on its left: verbs and particles between it and the number
SUBJECT_TAIL = re.compile(
    r"(?:\s+(?:of|is|are|be|been|being|must|shall|may|will|would|should|can|cannot|not|no|to|exceed|exceeds|exceeding|"
    r"that|which|with|has|have|had|by|a|an|the|at|in|for|on|within|under|over|than|more|less|least|most|fewer|greater|"
    r"up|only|total|aggregate|equal|equals|reach|reaches|receive|received|set|sets|above|below|from|into|"
    r"during|after|before|prior|per|or|and|either|any|all|each|'|‘|’|“|”))+\s*$",
    re.I,
)
CLAUSE_VERB = re.compile(
    r"\s(?:may|must|shall|will|cannot|can|should|is|are|was|were|has|have|does|do)(?:\s+not)?\s", re.I
)
SUBJECT_HEAD = re.compile(
    r"^(?:(?:\([^)]{1,5}\)\s*)+|(?:the|a|an|and|or|but|that|which|if|any|such|where|when|"
    r"unless|provided|however|each|all)\s+)+",
    re.I,
)
CLAUSE_BREAK = re.compile(
    r"[;:—]\s*|\.\s+(?=[A-Z(“\"])|,\s+(?=(?:and|or|but|which|unless|provided|if|where|when)\b)|"
    r"^(?:\s*\([^)]{1,5}\))+\s*"
)


POST_COMPARATOR = re.compile(r"^\s*(?:or more|or greater|or higher|or less|or fewer)\s+", re.I)


COMPARATOR_TAIL = re.compile(
    r"\s+(?:more than|less than|fewer than|at least|at most|up to|not more than|not less than|"
    r"no more than|greater than|not exceeding|exceeding|below|above|under|over)\s*$",
    re.I,
)


def _unit_for(text: str, start: int, end: int, multiplier: bool = False):
    """The unit attached to the number text[start:end]: (row, span start, span end) or None. A
    multiplier ("twice") takes only the units made for it, and those units take only multipliers."""
    after_text = text[end : end + 80]
    skip = POST_COMPARATOR.match(after_text)
    shifted = after_text[skip.end() :] if skip else after_text
    for row in unit_patterns():
        if bool(row.get("requires")) != multiplier or row.get("requires_comparator"):
            continue
        if row["prefix_re"] and row["prefix_re"].search(text[max(0, start - 3) : start]):
            return row, start - len(row["prefix_re"].search(text[max(0, start - 3) : start]).group(0)), end
        if row["after_re"]:
            match = row["after_re"].match(shifted)
            if match:
                if row.get("unit_from"):  # a physical unit as a symbol ("16 GHz", "90 W") or a word ("4.5 Kelvin")
                    unit = re.sub(r"\s+", " ", match.group(row["unit_from"]))
                    if row.get("lower"):
                        unit = unit.lower()
                        unit = unit + "s" if unit in ("nanometer", "micrometer", "millimeter") else unit
                    row = {**row, "unit": unit}
                return row, start, end + (skip.end() if skip else 0) + match.end()
    if multiplier:
        return None
    before_text = text[max(0, start - 90) : start]
    # "an aggregate TPP of more than 3,200,000": the comparator may stand between the unit and the number
    tail = COMPARATOR_TAIL.search(before_text)
    for candidate in ([before_text[: tail.start()]] if tail else []) + [before_text]:
        for row in unit_patterns():
            if row["before_re"] and not row.get("requires"):
                match = row["before_re"].search(candidate)
                if match:
                    return row, start - (len(before_text) - match.start()), end
    # last: a count of the things named after the number ("one or more Accounts"), which stands only
    # under a comparator (see ThresholdFinder)
    for row in unit_patterns():
        if row.get("requires_comparator") and row["after_re"]:
            match = row["after_re"].match(shifted)
            if match:
                return row, start, end + (skip.end() if skip else 0) + match.end()
    return None


def _comparator(text: str, span_start: int, span_end: int, number_start: int, number_end: int) -> tuple[str, int, int]:
    """Comparator from the words around the number; returns it with the widened span bounds.
    "cannot … more than 25%" is a ceiling, so a negated "more than" becomes <=."""
    patterns = comparator_patterns()
    window = text[max(0, number_start - 200) : number_start]
    direction = EARLIER_LATER.search(window)
    if direction:
        # "not later than 10 days after" ≤ 10; "no earlier than 60 days prior to" ≤ 60; "no … shall be
        # required to … earlier than 180 days following" ≥ 180; "earlier than 30 days after" < 30
        backwards = bool(BACKWARDS.match(text[span_end : span_end + 30]))
        later = direction.group("which").lower() == "later"
        if direction.group("neg"):
            comparator = (">=" if later else "<=") if backwards else ("<=" if later else ">=")
        else:
            comparator = ("<" if later else ">") if backwards else (">" if later else "<")
        start = number_start - (len(window) - direction.start("which"))
        return comparator, min(span_start, start), span_end
    for where, anchor in (("after", number_end), ("after_unit", span_end)):
        after_text = text[anchor : anchor + 30]
        for pattern, comparator in patterns[where]:
            match = pattern.match(after_text)
            if match:
                return comparator, span_start, max(span_end, anchor + match.end())
    for anchor in (number_start, span_start):
        window = text[max(0, anchor - 45) : anchor]
        for pattern, comparator in patterns["before"]:
            match = pattern.search(window)
            if match:
                start = anchor - (len(window) - match.start())
                if comparator in (">", ">=") and NEGATION.search(text[max(0, start - 50) : start]):
                    comparator = "<=" if comparator == ">" else "<"
                return comparator, min(span_start, start), span_end
    return "=", span_start, span_end


def _heading_subject(info: dict) -> str:
    parts = [p for p in (info.get("section_title", ""), info.get("caption", "")) if p]
    return " — ".join(parts) or info.get("section_path", "")


def _subject(text: str, span_start: int, span_end: int, info: dict) -> str:
    """The noun phrase the number limits: its clause up to the comparator, less the verbs and
    particles before the number, and the complement after the unit when it says what is counted
    ("per calendar year", "of notification", "following the issuance of determinations")."""
    left = text[:span_start]
    breaks = [m.end() for m in CLAUSE_BREAK.finditer(left)]
    clause = left[breaks[-1] if breaks else 0 :]
    verb = CLAUSE_VERB.search(clause)
    if verb and not SUBJECT_HEAD.sub("", clause[: verb.start()].strip(" ,") + " ").strip(" ,"):
        # "…, and cannot transfer … more than 7%": the subject is the sentence's ("The UVEU")
        stops = [m.end() for m in re.finditer(r"(?<!\bNo)(?<!\b[A-Z])\.\s+(?=[A-Z“\"(])", left)]
        sentence = left[stops[-1] if stops else 0 :]
        first = CLAUSE_VERB.search(sentence)
        opening = SUBJECT_HEAD.sub("", sentence[: first.start()].strip(" .,:")).strip(" ,") if first else ""
        opening = re.split(r"[:;]\s*", opening)[-1]
        clause = opening + " " + clause[verb.start() :]
        verb = CLAUSE_VERB.search(clause)
    if verb and verb.start() > 2:
        # "[Any determination …] may not [remain in effect for] more than 365 days": the clause's
        # subject, with the predicate that the number bounds
        head = SUBJECT_HEAD.sub("", clause[: verb.start()].strip(" ,")).strip(" ,")
        predicate = SUBJECT_TAIL.sub("", " " + clause[verb.end() :]).strip(" ,")
        words = head.split()
        head = " ".join(words[:10]) + (" …" if len(words) > 10 else "")
        predicate = " ".join(predicate.split()[:6])
        subject = f"{head} ({predicate})" if predicate and head else head or predicate
    else:
        phrase = SUBJECT_HEAD.sub("", SUBJECT_TAIL.sub("", " " + clause).strip(" ,")).strip(" ,")
        subject = " ".join(phrase.split()[-10:])
    right = re.match(
        r"^\s*(?P<c>(?:per|of|after|following|prior to|before|from|for|in|to|on)\b[^,;.()]{1,90})", text[span_end:]
    )
    if right:
        complement = " ".join(right.group("c").split()[:14])
        subject = f"{subject} {complement}".strip() if subject else complement
    if len(subject) < 3 or not re.search(rf"[A-Za-z{CJK_CLASS}]", subject):
        return _heading_subject(info)
    return subject


def _lead_in_comparator(lead_in: str) -> str | None:
    """The comparator a lead-in ending in a colon or dash hands to its items."""
    text = lead_in.rstrip()
    if not text.endswith((":", "—", "-")):
        return None
    tail = text[-80:].rstrip(":—- ")
    for pattern, comparator in comparator_patterns()["before"]:
        if pattern.search(tail):
            if comparator in (">", ">=") and NEGATION.search(tail[: max(0, len(tail) - 20)]):
                return "<=" if comparator == ">" else "<"
            return comparator
    return None


def _example_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a paragraph that give an example or a formula."""
    out, start = [], 0
    while start < len(text):
        end = sentence_end(text, start)
        if end <= start:
            break
        if EXAMPLE.search(text[start:end]):
            out.append((start, end))
        start = end
    return out


@Language.factory("regkb_thresholds")
def make_thresholds(nlp: Language, name: str):
    return ThresholdFinder()


class ThresholdFinder:
    def __call__(self, doc: Doc) -> Doc:
        doc.spans[GROUP] = []
        info = doc.user_data
        if info.get("kind") == "table":
            self._table_row(doc)
            return doc
        text = text_of(doc)
        examples = _example_spans(text)
        # the day and year of a date ("January 15, 2026") limit nothing; the date itself may (_dates)
        dates = [d.span() for d in DATE.finditer(text)]
        numbers = [
            m
            for m in NUMBER.finditer(text)
            if number_value(m) is not None  # beyond any float ("10^2650"): no limit anyone states
            and not IDENTIFIER_BEFORE.search(text[max(0, m.start() - 20) : m.start()])
            and not FORMULA_AFTER.match(text[m.end() : m.end() + 4])
            and not any(a <= m.start() < b for a, b in examples + dates)
        ]
        units = [_unit_for(text, *m.span(), multiplier=bool(m.group("mult"))) for m in numbers]
        # ranges share one unit: "of 2400 or more and less than 4800", "100,000 到 400,000 个 GPU"
        for index in range(len(numbers)):
            if units[index] is not None:
                continue
            before = units[index - 1] if index else None
            after = units[index + 1] if index + 1 < len(numbers) else None
            start, end = numbers[index].span()
            if before and RANGE_GLUE.match(text[numbers[index - 1].end() : start]):
                units[index] = (before[0], start, end)
            elif after and RANGE_GLUE.match(text[end : numbers[index + 1].start()]):
                units[index] = (after[0], start, end, ">=")
                units[index + 1] = (*after[:3], "<=")
        found_rows = []
        for match, found in zip(numbers, units):
            if found is None:
                continue
            row, span_start, span_end = found[:3]
            comparator, span_start, span_end = _comparator(text, span_start, span_end, *match.span())
            if len(found) == 4 and comparator == "=":
                comparator = found[3]  # an end of a range "from … to …"
            if (
                comparator == "="
                and found_rows
                and found_rows[-1][4] != "="
                and ALTERNATIVE_GLUE.match(text[found_rows[-1][1] : span_start])
            ):
                comparator = found_rows[-1][4]  # "not to exceed the greater of $250,000 … or twice the amount"
            if row.get("requires_comparator") and comparator == "=":
                continue  # "one Covered ICTS Transaction" is a count only under "at least", "one or more" …
            found_rows.append([span_start, span_end, row, number_value(match), comparator])
        # "70% 至 90%", "from 10 to 20 days": a range of two stated amounts is a floor and a ceiling
        for low, high in zip(found_rows, found_rows[1:]):
            if (
                low[2]["unit"] == high[2]["unit"]
                and low[4] == high[4] == "="
                and RANGE_GLUE.match(text[low[1] : high[0]])
            ):
                low[4], high[4] = ">=", "<="
        # an item under a lead-in that sets the comparator: "… may not exceed the greater of: (i) $250,000 …;
        # (ii) An amount that is twice …", "… a quantity of computing power greater than: (1) 10^25 …"
        governor = _lead_in_comparator(info.get("lead_in", ""))
        if governor:
            for found in found_rows:
                if found[4] == "=" and found[0] < 80:
                    found[4] = governor
        seen: set[tuple[int, int]] = set()
        for span_start, span_end, row, value, comparator in found_rows:
            if (span_start, span_end) in seen:
                continue  # one row per number
            seen.add((span_start, span_end))
            add_span(
                doc,
                GROUP,
                span_start,
                span_end,
                row["unit"],
                {
                    "value": value,
                    "unit": row["unit"],
                    "quantity": row["quantity"],
                    "comparator": comparator,
                    "subject": _subject(text, span_start, span_end, info),
                    "value_text": "",
                },
            )
        self._dates(doc, text, info, examples)
        return doc

    def _dates(self, doc: Doc, text: str, info: dict, examples: list[tuple[int, int]]) -> None:
        """A date that governs something ("by January 15, 2026", "effective March 1, 2025"), as an ISO
        date; a date in a citation or a signature line governs nothing and is left alone."""
        for match in DATE.finditer(text):
            if any(a <= match.start() < b for a, b in examples):
                continue
            governor = DATE_GOVERNOR.search(text[max(0, match.start() - 30) : match.start()])
            if not governor:
                continue
            month = MONTHS.index(match.group("month")) + 1
            iso = f"{match.group('year')}-{month:02d}-{int(match.group('day')):02d}"
            start = match.start() - (min(30, match.start()) - governor.start())
            add_span(
                doc,
                GROUP,
                start,
                match.end(),
                "date",
                {
                    "value": None,
                    "value_text": iso,
                    "unit": "date",
                    "quantity": "date",
                    "comparator": DATE_COMPARATOR.get(governor.group("word").lower(), "="),
                    "subject": _subject(text, start, match.end(), info),
                },
            )

    def _table_row(self, doc: Doc) -> None:
        """A row of a table whose header names the unit: "2025 Q1 | 633,000,000" under
        "Quarter | Cumulative Per-Company Per-Country Allocation in TPP"."""
        header = doc.user_data.get("table_header", "")
        cells = text_of(doc).split(" | ")
        if text_of(doc) == header or len(cells) < 2:
            return
        header_cells = header.split(" | ")
        unit = next((row for row in unit_patterns() if row.get("after_re") and row["unit"] == "TPP"), None)
        offset = 0
        for index, cell in enumerate(cells):
            match = NUMBER.fullmatch(cell.strip())
            match = match if match and number_value(match) is not None else None
            column = header_cells[index] if index < len(header_cells) else ""
            if match and index > 0 and unit and re.search(r"\bTPP\b|total processing performance", column, re.I):
                start = offset + cell.index(cell.strip())
                comparator = "<=" if re.search(r"allocation|limit|cap|maximum", column, re.I) else "="
                add_span(
                    doc,
                    GROUP,
                    start,
                    start + len(cell.strip()),
                    "TPP",
                    {
                        "value": number_value(match),
                        "unit": "TPP",
                        "quantity": unit["quantity"],
                        "comparator": comparator,
                        "subject": f"{column} ({cells[0].strip()})",
                        "value_text": "",
                    },
                )
            offset += len(cell) + 3

    score = staticmethod(span_scorer(GROUP))
