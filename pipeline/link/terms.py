"""Defined terms → the paragraphs that use them. A defined term is used wherever it appears outside
its defining paragraph; a one-word term in lower case ("operations", "parameters") counts only where
the text sets it in quotes, as the EAR does for defined terms."""

from __future__ import annotations

import re

from ..models import Paragraph

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
                rows.append(
                    {
                        "term_id": definition["id"],
                        "paragraph_id": paragraph.id,
                        "doc_id": paragraph.doc_id,
                        "matched_text": match.group(0),
                        "char_start": match.start(),
                        "char_end": match.end(),
                    }
                )
    return rows
