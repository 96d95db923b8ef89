"""Plain data passed between the stages: ingest → segment → (extract → link) → store → query."""

from __future__ import annotations

from dataclasses import dataclass, field


class RegkbError(Exception):
    """An error the user can act on; the CLI prints it without a traceback."""


class DocumentError(RegkbError):
    """A source document that cannot be used, naming the file and the problem."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def __reduce__(self):
        # crosses the process pool intact (the default pickles only the message, one argument)
        return (type(self), (self.path, self.problem))


@dataclass(frozen=True)
class ManifestEntry:
    id: str
    title: str
    doc_type: str  # rule | comment | statement | news | analysis
    author_org: str
    date: str
    language: str
    file: str
    url: str = ""  # the public original; documents a user adds may have none
    sha256: str = ""
    cite_as: str = ""  # citation stem, e.g. "90 FR 4544"; pin cites add the page
    published: str = ""  # official publication date when it differs from `date` (a rule filed before it is printed)
    note: str = ""


@dataclass
class Line:
    """One line of source text in reading order, with what layout tells about it."""

    text: str
    page: int  # 1-based physical page (or printed-page sequence for text files)
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    first_word_width: float = 0.0  # lets the previous line's free room be judged
    column: int = 0
    bold: bool = False
    # "body", "table" (a row of a ruled table, cells joined by " | "), "footnote"
    kind: str = "body"
    # ingest's judgement that this line starts a new paragraph (indent, gap, blank line …)
    starts_block: bool = False
    # the previous line on the page ended early (room was left), so this one starts anew
    after_short: bool = False


@dataclass
class Page:
    number: int  # 1-based physical page
    label: str | None = None  # printed page label ("4559", "7") where the source prints one
    lines: list[Line] = field(default_factory=list)


@dataclass
class RawDocument:
    """What ingest read from one file: pages of lines, nothing interpreted yet."""

    path: str
    sha256: str
    media: str  # pdf | text | markdown | html
    pages: list[Page]
    # citation facts ingest could read off the document itself
    fr_citation: str | None = None  # "90 FR" when Federal Register print headers were seen
    public_inspection: str | None = None  # FR Doc. number when the public-inspection banner was seen


@dataclass
class Paragraph:
    id: str
    doc_id: str
    ordinal: int
    section_path: str
    page: int
    page_label: str | None
    pin_cite: str
    text: str
    kind: str = "body"  # body | heading | list | table | footnote | amendment
    # the pin cite as data (pin_cite is its rendering): the paragraph's last page when it runs over a
    # page break, the citation stem ("90 FR", "2025-00636 (public inspection)", "ITI, Comments …") and
    # the locator after it ("4559–4560", "at 66–67", "§ 740.29"); pin_locator is "" when the source
    # does not say where in the cited document the paragraph is (no page numbers)
    page_end: int | None = None
    page_end_label: str | None = None
    pin_source: str = ""
    pin_locator: str = ""

    def to_row(self) -> dict:
        return dict(self.__dict__)  # every field is a plain value: asdict's deep copy took 12 s for the docket
