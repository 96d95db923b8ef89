"""Numeric thresholds: value + unit + comparator + subject bound in one span, the value normalised
(26,900,000 → 2.69e7; 10^26; 2.5x10^25; "ten percent"; 2.5万). A number is a threshold only when a
unit attaches to it (or it sits in a table whose header names the unit): identifiers such as
"Part 744" or "NIST 800-53" never do."""
from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from .common import NUMBER, add_span, load_patterns, number_value, span_scorer

GROUP = "thresholds"
RANGE_GLUE = re.compile(r"^\s*(?:or more\s+)?(?:and|to|through|–|-|—|和|到|至)\s*(?:less than|fewer than|not more than|up to|below)?\s*$", re.I)
FORMULA_AFTER = re.compile(r"^\s*[×*]\s|^\s*x\s+['‘\w]")  # "2 × 'MacTOPS'" is a formula, not a limit
IDENTIFIER_BEFORE = re.compile(
    r"(?:§{1,2}|\bparts?|\bParts?|\bECCNs?|\bparagraphs?|\bSupplement No\.|\bNo\.|\bNotes?|\bSection|\bsections?|"
    r"\bcategory|\bCategory|\bGroup|\bVol\.|\bE\.O\.|\bPub\. L\.|\bStat\.|\bNIST|\bFR|\bCFR|\bU\.S\.C\.|\bp\.|\bpp\.)\s*$")


@lru_cache(maxsize=1)
def unit_patterns():
    compiled = []
    for row in load_patterns("thresholds"):
        compiled.append({
            **row,
            "before_re": re.compile(r"(?:" + row["before"] + r")\s*$", re.I) if row.get("before") else None,
            "after_re": re.compile(r"^\s*(?:" + row["after"] + r")", re.I) if row.get("after") else None,
            "prefix_re": re.compile(r"(?:" + row["prefix"] + r")\s*$") if row.get("prefix") else None,
        })
    return compiled


@lru_cache(maxsize=1)
def comparator_patterns():
    """Comparator phrases by where they stand: before the number, right after it, after the unit."""
    found: dict[str, list] = {"before": [], "after": [], "after_unit": []}
    for row in load_patterns("comparators"):
        phrase = re.escape(row["phrase"]).replace(r"\ ", r"\s+")
        if row["where"] == "before":
            pattern = r"(?:^|(?<=[^\w]))" + phrase + r"(?:\s+(?:a|an|the|of|a total of|aggregate))*\s*$"
        else:
            pattern = r"^\s*(?:的)?" + phrase + (r"\b" if phrase[-1:].isalpha() and phrase.isascii() else "")
        found[row["where"]].append((re.compile(pattern, re.I), row["comparator"]))
    return found


NEGATION = re.compile(r"\b(?:cannot|can not|may not|must not|shall not|will not|not)\b[^.;]{0,40}$", re.I)


POST_COMPARATOR = re.compile(r"^\s*(?:or more|or greater|or higher|or less|or fewer)\s+", re.I)


def _unit_for(text: str, start: int, end: int):
    """The unit attached to the number text[start:end]: (row, span start, span end) or None."""
    after_text = text[end:end + 80]
    skip = POST_COMPARATOR.match(after_text)
    shifted = after_text[skip.end():] if skip else after_text
    for row in unit_patterns():
        if row["prefix_re"] and row["prefix_re"].search(text[max(0, start - 3):start]):
            return row, start - len(row["prefix_re"].search(text[max(0, start - 3):start]).group(0)), end
        if row["after_re"]:
            match = row["after_re"].match(shifted)
            if match:
                return row, start, end + (skip.end() if skip else 0) + match.end()
    before_text = text[max(0, start - 90):start]
    for row in unit_patterns():
        if row["before_re"]:
            match = row["before_re"].search(before_text)
            if match:
                return row, start - (len(before_text) - match.start()), end
    return None


def _comparator(text: str, span_start: int, span_end: int, number_start: int, number_end: int) -> tuple[str, int, int]:
    """Comparator from the words around the number; returns it with the widened span bounds.
    "cannot … more than 25%" is a ceiling, so a negated "more than" becomes <=."""
    patterns = comparator_patterns()
    for where, anchor in (("after", number_end), ("after_unit", span_end)):
        after_text = text[anchor:anchor + 30]
        for pattern, comparator in patterns[where]:
            match = pattern.match(after_text)
            if match:
                return comparator, span_start, max(span_end, anchor + match.end())
    for anchor in (number_start, span_start):
        window = text[max(0, anchor - 45):anchor]
        for pattern, comparator in patterns["before"]:
            match = pattern.search(window)
            if match:
                start = anchor - (len(window) - match.start())
                if comparator in (">", ">=") and NEGATION.search(text[max(0, start - 50):start]):
                    comparator = "<="
                return comparator, min(span_start, start), span_end
    return "=", span_start, span_end


def _subject(info: dict) -> str:
    parts = [p for p in (info.get("section_title", ""), info.get("caption", "")) if p]
    return " — ".join(parts) or info.get("section_path", "")


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
        text = doc.text
        numbers = [m for m in NUMBER.finditer(text)
                   if number_value(m) is not None  # beyond any float ("10^2650"): no limit anyone states
                   and not IDENTIFIER_BEFORE.search(text[max(0, m.start() - 20):m.start()])
                   and not FORMULA_AFTER.match(text[m.end():m.end() + 4])]
        units = [_unit_for(text, *m.span()) for m in numbers]
        # ranges share one unit: "of 2400 or more and less than 4800", "100,000 到 400,000 个 GPU"
        for index in range(len(numbers)):
            if units[index] is not None:
                continue
            before = units[index - 1] if index else None
            after = units[index + 1] if index + 1 < len(numbers) else None
            start, end = numbers[index].span()
            if before and RANGE_GLUE.match(text[numbers[index - 1].end():start]):
                units[index] = (before[0], start, end)
            elif after and RANGE_GLUE.match(text[end:numbers[index + 1].start()]):
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
            found_rows.append([span_start, span_end, row, number_value(match), comparator])
        # "70% 至 90%", "from 10 to 20 days": a range of two stated amounts is a floor and a ceiling
        for low, high in zip(found_rows, found_rows[1:]):
            if low[2]["unit"] == high[2]["unit"] and low[4] == high[4] == "=" and RANGE_GLUE.match(text[low[1]:high[0]]):
                low[4], high[4] = ">=", "<="
        for span_start, span_end, row, value, comparator in found_rows:
            add_span(doc, GROUP, span_start, span_end, row["unit"], {
                "value": value, "unit": row["unit"], "quantity": row["quantity"],
                "comparator": comparator, "subject": _subject(info),
            })
        return doc

    def _table_row(self, doc: Doc) -> None:
        """A row of a table whose header names the unit: "2025 Q1 | 633,000,000" under
        "Quarter | Cumulative Per-Company Per-Country Allocation in TPP"."""
        header = doc.user_data.get("table_header", "")
        cells = doc.text.split(" | ")
        if doc.text == header or len(cells) < 2:
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
                add_span(doc, GROUP, start, start + len(cell.strip()), "TPP", {
                    "value": number_value(match), "unit": "TPP", "quantity": unit["quantity"],
                    "comparator": comparator, "subject": f"{column} ({cells[0].strip()})",
                })
            offset += len(cell) + 3

    score = staticmethod(span_scorer(GROUP))
