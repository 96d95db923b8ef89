"""A letter's furniture: the short lines that look like headings but are not (letterhead, date,
addressee and subject line before the salutation; the valediction and the signature under it; address
lines, bylines, runs of short lines)."""

from __future__ import annotations

import re
from dataclasses import replace

from ..models import Line
from .blocks import Block

# the furniture of a letter, which is never a heading: "Dear …:", "Sincerely,", address lines
SALUTATION = re.compile(r"^(?:Dear|To|Hello|Hi|Greetings)\b[^.;!?]{0,60}[,:]$")
VALEDICTION = re.compile(
    r"^(?:(?:Very |Most )?(?:Sincerely|Respectfully|Truly|Cordially|Faithfully)(?: (?:yours|submitted))?|"
    r"(?:With )?(?:(?:Best|Kind|Warm|Warmest) )?Regards|Yours,?(?: (?:truly|sincerely|faithfully))?)[,.]?$",
    re.I,
)
ADDRESS_LINE = re.compile(
    r",\s*[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?\b"  # "Washington, DC 20230"
    r"|\b\d{1,5}\s+(?:[A-Z0-9][\w.'’-]*\s+){1,4}(?:Street|St\.|Avenue|Ave\.|Road|Rd\.|Boulevard|Blvd\.|Drive|"
    r"Lane|Way|Place|Plaza|Court|Parkway|Square)(?!\w)"  # "1401 Constitution Avenue NW"
    r"|\b(?:Suite|P\.\s?O\.\s?Box)\s+\d"
    r"|[\w.+-]+@[\w-]+\.\w|\bwww\.|https?://"
    r"|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"
)  # a telephone number
# "By Jane Doe, …", "January 13, 2025 by Jane Doe": who wrote it and when, not what it is about
BYLINE = re.compile(
    r"^(?:By (?:[A-Z][\w.'’-]*\s?){2,4}(?:,|[(—–|]|$)|"
    r"(?:[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}),? (?:by|[—–|·]) )"
)


def _is_short_line(block: Block) -> bool:
    text = block.text.strip()
    return (
        block.kind == "body"
        and len(block.lines) == 1
        and len(text) <= 100
        and len(text.split()) <= 12
        and not text.endswith((".", "?", "!", ";"))
    )


def letter_furniture(blocks: list[Block]) -> set[int]:
    """Indexes of the blocks of a letter that are its furniture, not headings, though they are short
    lines like headings: everything before the salutation (letterhead, date, addressee, subject
    line), the valediction and the signature under it, address lines, bylines, and any run of
    consecutive short lines (an address or a signature: a heading stands apart from the text
    around it)."""
    furniture = {
        i for i, block in enumerate(blocks) if ADDRESS_LINE.search(block.text) or BYLINE.match(block.text.strip())
    }
    first_page = blocks[0].page if blocks else 0
    for index, block in enumerate(blocks):
        if block.page != first_page:
            break
        if len(block.lines) == 1 and len(block.text.split()) <= 8 and SALUTATION.match(block.text.strip()):
            furniture.update(range(index + 1))
            break
    for index, block in enumerate(blocks):
        if len(block.lines) != 1 or not VALEDICTION.match(block.text.strip()):
            continue
        furniture.add(index)
        # the signature: short lines on the same page, the first after the space left for signing
        for offset, after in enumerate(blocks[index + 1 :], start=1):
            if not _is_short_line(after) or after.page != block.page or (offset > 1 and after.lines[0].starts_block):
                break
            furniture.add(index + offset)
    # runs of short lines that follow each other with no paragraph space between them (bold lines
    # are left out: they are a heading wrapped onto two lines)
    runs: list[list[int]] = []
    for index, block in enumerate(blocks):
        if not _is_short_line(block) or block.lines[0].bold:
            continue
        if (
            runs
            and runs[-1][-1] == index - 1
            and not block.lines[0].starts_block
            and block.page == blocks[index - 1].page
        ):
            runs[-1].append(index)
        else:
            runs.append([index])
    furniture.update(index for run in runs if len(run) >= 2 for index in run)
    return furniture


# a table of contents' entry: its title, a run of dot leaders, the page ("•EU-US collaboration ..... 2")
CONTENTS_ENTRY = re.compile(
    r"^\s*(?:[•●▪◦\-–*]\s*|(?:\d{1,2}|[IVX]{1,4}|[A-Z])[.)]\s+)?(?P<title>\S.*?)\s*(?:\.\s?){5,}\s*\d{1,3}\s*$"
)


def _title_key(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text).strip().lower()


def mark_contents_titles(lines: list[Line]) -> list[Line]:
    """A letter that lists its sections in a table of contents names its headings: a later line
    whose text is an entry's title, alone on its line, starts a block of its own and so does the line
    after it (text hard-wrapped with no blank line ran "EU-US collaboration" into the paragraph it
    heads, and everything after "Table of contents" fell under that heading). The lines as given,
    those two marked anew."""
    titles: set[str] = set()
    entries: set[int] = set()
    for index, line in enumerate(lines):
        found = CONTENTS_ENTRY.match(line.text)
        if found and len(found.group("title")) <= 100:
            titles.add(_title_key(found.group("title")))
            entries.add(index)
    if len(titles) < 3:
        return lines  # two dotted lines are not a table of contents
    out = list(lines)
    for index in range(min(entries), len(lines)):
        if index not in entries and _title_key(lines[index].text) in titles and len(lines[index].text) <= 100:
            for marked in range(index, min(index + 2, len(lines))):
                out[marked] = replace(out[marked], starts_block=True)
    return out
