"""Paragraph ids and pin cites. An id is content-addressed (section path and text), so it survives
rebuilds and edits elsewhere; a pin cite is data (source, locator, the page a paragraph ends on) and its
text is rendered from that."""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

from ..models import ManifestEntry, RawDocument

FR_STEM = re.compile(r"^\d+ FR \d+$")


def _pages(first: str, last: str | None) -> str:
    return f"{first}–{last}" if last and last != first else first


class Pin(NamedTuple):
    """A pin cite as data: the source cited ("90 FR", "2025-00636 (public inspection)", "ITI, Letter …
    (2025-01-07)"), the locator within it ("4559–4560", "at 66–67", "at [3]", "§ 7.300", or "" where the
    source gives none) and, for a paragraph that runs over a page break, the page it ends on (the
    document's page number; None on one page). The cite as text is rendered from these (render)."""

    source: str
    locator: str
    page_end: int | None = None

    def render(self) -> str:
        return render_pin(self.source, self.locator)


def pin_of(
    raw: RawDocument,
    entry: ManifestEntry,
    page: int,
    label: str | None,
    section: str,
    page_end: int | None = None,
    end_label: str | None = None,
) -> Pin:
    """Where in the cited document the paragraph is. A paragraph that runs over a page break cites both
    pages; a source without page numbers gives no page."""
    ends = page_end if page_end is not None and page_end != page else None
    if raw.fr_citation and label:
        return Pin(raw.fr_citation, _pages(label, end_label), ends)
    if raw.public_inspection:
        return Pin(
            f"{raw.public_inspection} (public inspection)", "at " + _pages(str(page), str(page_end or page)), ends
        )
    stem = entry.cite_as or f"{entry.author_org}, {entry.title} ({entry.date})"
    if label:
        return Pin(stem, "at " + _pages(label, end_label), ends)
    if len(raw.pages) > 1:
        return Pin(stem, f"at [{_pages(str(page), str(page_end or page))}]", ends)
    if section.startswith(("§", "Supplement", "ECCN", "Part ", "Subpart ")):
        return Pin(stem, section, ends)
    return Pin(stem, "", ends)


def render_pin(source: str, locator: str) -> str:
    """ "90 FR 4559–4560", "2025-00636 (public inspection) at 66–67", "ITI, … at 9"; a citation to a
    document's first page ("90 FR 4544") is said not to be a pin cite when the source has no pages."""
    if not locator:
        return f"{source} (page not in this source)" if FR_STEM.match(source) else source
    if locator.startswith("at "):
        return f"{source} {locator}"
    if FR_STEM.match(source) and not locator[:1].isdigit():
        return f"{source} (page not in this source), {locator}"
    return f"{source} {locator}" if locator[:1].isdigit() else f"{source}, {locator}"


def pin_cite(
    raw: RawDocument,
    entry: ManifestEntry,
    page: int,
    label: str | None,
    section: str,
    page_end: int | None = None,
    end_label: str | None = None,
) -> str:
    """The pin cite as text ("90 FR 4559–4560")."""
    return pin_of(raw, entry, page, label, section, page_end, end_label).render()


def paragraph_id(doc_id: str, section_path: str, text: str, seen: dict[str, int]) -> str:
    """Content-addressed: the same text under the same section keeps its id on every rebuild,
    and an unrelated edit elsewhere in the document does not renumber it."""
    digest = hashlib.sha1(f"{section_path}\x1f{text}".encode()).hexdigest()[:12]
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return f"{doc_id}:{digest}" + (f"-{count}" if count else "")
