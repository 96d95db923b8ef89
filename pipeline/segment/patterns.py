"""The text patterns of a rule's structure, shared by the blocks and the walk: paragraph markers, the
headings of parts, subparts, sections and supplements, the preamble's captions and outline, amendatory
instructions, the Commerce Control List's entries."""

from __future__ import annotations

import re

# a marker's letters or digits, and its parentheses: govinfo's text prints the italic digit markers of
# the fifth level with a space inside, "( 1)", "( 2)"
_MARK = r"(?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])"
_OPEN, _CLOSE = r"\([ \u00a0]?", r"[ \u00a0]?\)"
PARA_MARKER = re.compile(rf"{_OPEN}(?P<m>{_MARK}){_CLOSE}")
LEADING_MARKERS = re.compile(rf"^(?:{_OPEN}{_MARK}{_CLOSE}\s*)+")
# "(h) Definitions—(1) Ultimate consignee." starts two paragraphs in one line
HEADED_CHILD = re.compile(
    rf"^(?P<head>{_OPEN}{_MARK}{_CLOSE}\s+(?:[^.—:]{{1,90}}?(?:\.|:)|[^—:]{{1,250}}?(?:—|--)))\s*"
    rf"(?P<child>{_OPEN}(?:1|i|A|a){_CLOSE}(?:{_OPEN}{_MARK}{_CLOSE})*\s+\S.*)$",
    re.S,
)
# CFR parts have one to four digits (15 CFR part 7, part 791); "§" may be followed by any space the
# typesetter used (a thin, no-break or narrow no-break space, or none: Python's \s takes them all)
PART_HEADING = re.compile(r"^PART\s+(?P<part>\d{1,4})\s*(?:[—–-]|$)", re.I)
SUBPART_HEADING = re.compile(r"^Subpart\s+(?P<subpart>[A-Z]{1,2})\s*(?:[—–-]|$)")
SECTION_HEADING = re.compile(r"^§{1,2}\s*(?P<section>\d{1,4}\.\d+[a-z]?)(?:\s+(?P<title>.*))?$", re.S)
SUPPLEMENT_HEADING = re.compile(r"^Supplement\s+No\.\s*(?P<no>\d+)\s+to\s+Part\s+(?P<part>\d{1,4})\s*(?:[—–-]|$)", re.I)
# the sentence that ends an FR preamble and opens the regulatory text
REGULATORY_LEAD_IN = re.compile(
    r"^(?:For|Accordingly, for) the reasons (?:stated|set (?:out|forth)|discussed|given) in the preamble\b.{0,400}?"
    r"\b(?:amends?|adds?|revises?|proposes to amend)\b",
    re.S | re.I,
)
# an entry of a definitions section, unmarked: "Appropriate agency heads means …", "The term
# controlled foreign entity means …", "Knowledge has the same meaning as in § 772.1"
DEFINITION_ENTRY = re.compile(
    r"^(?:The\s+terms?\s+)?[“\"‘']?[A-Z][^;:]{0,160}?[”\"’']?,?\s+(?:means|mean|shall mean|has the (?:same )?meaning|"
    r"have the (?:same )?meanings?|is defined|includes|refers to)\b"
)
AMENDMENT = re.compile(
    r"^(?P<no>\d{1,3})\.\s+(?=(?:[^.]|\.(?=\d)|(?<=[Nn]o)\.){0,250}?\b(?:amended|amend|added|adding|add|revised|revising|revise|removed|"
    r"removing|remove|redesignat\w*|continues to read|is revised)\b)",
    re.I,
)
AMENDMENT_STEP = re.compile(r"^[a-z]\.\s+(?:Revis|Add|Remov|Redesignat|In\b|By\b)", re.I)
AUTHORITY = re.compile(r"^Authority:\s")
ECCN_HEADING = re.compile(r"^(?P<eccn>\d[A-E]\d{3})\s+(?=\S)(?!\d)")
CCL_CAPTION = re.compile(
    r"^(?P<caption>License Requirements|List Based License Exceptions|List of Items Controlled|"
    r"Special Conditions for STA|(?:Technical )?[Nn]otes?(?: \d+)?(?: to [^:]{1,60})?|N\.B\.)\s*:?\s*"
    r"(?:\(|$|:)",
    re.S,
)
CCL_ITEM = re.compile(r"^(?P<item>[a-z](?:\.\d{1,2}|\.[a-z])*)\.\s+\S")
PREAMBLE_CAPTION = re.compile(
    r"^(?P<caption>AGENCY|ACTION|SUMMARY|DATES|ADDRESSES|FOR FURTHER INFORMATION CONTACT|"
    r"SUPPLEMENTARY INFORMATION)\s*:"
)
OUTLINE_HEADING = re.compile(r"^(?P<m>[IVX]{1,5}|[A-Z]|\d{1,2}|[a-z]|[ivx]{1,5})\.\s+(?P<title>\S.*)$", re.S)
LIST_OF_SUBJECTS = re.compile(r"^List of Subjects\b")
ELLIPSIS = re.compile(r"^(?:\*\s*){3,}$")
BULLET_ONLY = re.compile(r"^[●•▪◦‣·\-–]$")
DATE_LINE = re.compile(r"^(?:[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}-\d{2}-\d{2})$")
# a letter's numbered, labelled heading: "Recommendation 6.2: Restrict China's access to leading inference
# chips.", "Priority 3 – …" (PDF text splits the label: "Recom mendation"); its number says its level
LABELLED_HEADING = re.compile(
    r"^(?P<label>Recom\s?men\s?dations?|Priority|Pillar|Proposal|Principle|Theme|Goal|Objective)\s+"
    r"(?P<number>\d{1,2}(?:\.\d{1,2}){0,3})\s*[:.–—-]\s+\S",
    re.I,
)
LABELLED_HEADING_WORDS = 30  # at most this many words: a longer line is a sentence that opens with a label
