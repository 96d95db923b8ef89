"""`regkb import DIR`: the manifest for a folder of documents (a docket's responses), written without
copying a file. Each document gets an id (its file name, lower-case, in the manifest's id form), a
title, doc_type `comment`, its organisation (from a regulations.gov bulk-download metadata CSV when
given; else the regulations.gov cover sheet's "Organization:" / "Name:", an FDMS header's submitter
line, the letterhead or the "The Full Name (ABBR)" of its opening, else the file name), the date it
states (the cover sheet's "Received:", else the first date of its first page), its sha256 and its file,
named relative to the folder, which the manifest declares once (`folder = [...]`, see
workspace.declared_folders). Re-running adds only files not yet listed. Empty or few-byte files are
skipped and said. Only the first few kilobytes of a file are read for its fields: 10,000 files take
seconds.

No spaCy, no torch."""

from __future__ import annotations

import csv
import datetime
import os
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .lexicon import mend_split_words
from .manifest import ID_PATTERN, _toml_string, entries_from_text, replace_manifest, validate_fields
from .models import RegkbError

SUFFIXES = (".txt", ".pdf", ".html", ".htm", ".md", ".markdown")
MIN_CHARACTERS = 16  # fewer non-space characters than this: an empty or few-byte file, skipped
HEAD_BYTES = 8192
NOTE = "# the folders of the documents `regkb import` listed below, where they lie (relative: from here)"

MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
LONG_DATE = re.compile(_MONTH + r"\s+(\d{1,2})\s*,\s*(\d{4})", re.I)
SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b")
# the regulations.gov cover sheet, through PyPDF2's split words ("Organi zation:", "Nam e:")
RECEIVED = re.compile(r"Received:\s*" + LONG_DATE.pattern, re.I)
ORGANIZATION = re.compile(r"^\s*O\s?r\s?g\s?a\s?n\s?i\s?z\s?a\s?t\s?i\s?o\s?n\s*:[ \t]*(\S[^\n]*)$", re.M | re.I)
AGENCY = re.compile(r"^\s*Gover\s?n\s?m\s?ent\s+Agency\s*:[ \t]*(\S[^\n]*)$", re.M | re.I)
NAME = re.compile(r"^\s*N\s?a\s?m\s?e\s*:[ \t]*(\S[^\n]*)$", re.M | re.I)
SUBMITTED_BY = re.compile(r"Com\s?m\s?ent\s+Submitted\s+by\s+([^\n]+)", re.I)
DOCUMENT_NUMBER = re.compile(r"Docum\s?ent:\s*(NSF_FRDOC_\S+)", re.I)
# the FDMS header of the short responses: "3/13/2025  via FDMS" then "Nabeel Bacchus, no email"
FDMS = re.compile(r"\A\s*\d{1,2}/\d{1,2}/\d{4}\s+via FDMS\s*\n\s*([^\n,]+)", re.I)
RE_LINE = re.compile(r"^\s*(?:Re|RE|Subject)\s*:\s*(\S[^\n]{5,200})$", re.M)
# the words an organisation's name ends with: the kind of body it is, or its legal form
ORG_NOUNS = (
    "Association|Council|Institute|Foundation|Center|Centre|Coalition|Society|Alliance|University|College|"
    "Group|Federation|Chamber|Network|Union|Academy|Laboratory|Partnership|Consortium|Project|Initiative|"
    "Committee"
)
LEGAL_FORMS = r"Corporation|Corp\.?|Inc\.?|LLC|Company"
ORG_WORDS = re.compile(rf"\b({ORG_NOUNS}|{LEGAL_FORMS})\b")
# the docket's own suffixes on file names: "SIA-AI-RFI-2025", "Jane-Doe-RFI-2025-2", "OpenAI-RFI-2025"
# (OpenAI), "Jane-Doe-4-AI-RFI-2025" (a fourth submission of Jane Doe's)
NAME_SUFFIX = re.compile(r"(?:[-_ ]+\d{1,2})?(?:[-_ ]+AI)?[-_ ]*RFI[-_ ]*2025(?:[-_ ]*\(?\d+\)?)?$", re.I)
# a cover sheet's next field on the same line as the one read: "Name: Amari Harkness   Email: …"
NEXT_FIELD = re.compile(
    r"\s+(?:E-?mail|Address|Organi[sz]ation|Phone|City|State|Country|Category|Submitter|Title|Tracking)\s*:.*$", re.I
)
# a label before the name on a line of the letter's own ("Submitter: Paul E. Roege, …")
FIELD_LABEL = re.compile(r"^(?:Submitter|Submitted by|From|Author|Name|By)\s*:[\s:]*", re.I)
ON_BEHALF = re.compile(r"\bon behalf of (?:the )?(?=[A-Z])", re.I)  # "Peter Berkery on behalf of the Association …"
# words a full name ends with that a file name often leaves out ("Mount-Sinai-Health": "… Health System");
# not a legal form ("Palantir" is Palantir Technologies Inc. already: the name is whole without it)
NAME_ENDS = ORG_NOUNS + "|System|Systems|Organi[sz]ation|Agency|Services|Trust|Hospital"
DOCKET_NUMBER_NAME = re.compile(r"^AI-RFI-2025-(\d+)$", re.I)


@dataclass
class ImportReport:
    manifest: Path
    folder: Path
    added: list[str] = field(default_factory=list)
    already: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    seconds: float = 0.0


def _fix_split(value: str) -> str:
    """PyPDF2's "Inform ation Technology" → "Information Technology" (a space after m inside a word),
    and any other word it split where the lexicon knows the whole ("Am erican Chamber of Comm erce");
    a cover sheet's next field on the same line is not part of the value."""
    value = NEXT_FIELD.sub("", value)
    value = re.sub(r"(?<=[a-z])m (?=[a-z])", "m", value)
    value = re.sub(r"(?<=[A-Z])m (?=[a-z])", "m", value)  # "Am erica", "CrowdSm art", "Am y"
    value = re.sub(r"(?<=[A-Za-z][a-z]) m\b", "m", value)  # "Si m" → "Sim"
    value = mend_split_words(" ".join(value.split())).strip(" .,;:")
    return "Anonymous" if value.lower() == "anonymous anonymous" else value


def _date(match: re.Match | None) -> str:
    if not match:
        return ""
    month, day, year = match.groups()[-3:]
    try:
        return datetime.date(int(year), MONTHS[month.lower()], int(day)).isoformat()
    except (ValueError, KeyError):
        return ""


def _slash_date(match: re.Match | None) -> str:
    if not match:
        return ""
    try:
        return datetime.date(int(match.group(3)), int(match.group(1)), int(match.group(2))).isoformat()
    except ValueError:
        return ""


def name_from_file(stem: str, head: str = "") -> str:
    """ "SIA-AI-RFI-2025" → "SIA", "Jane-Doe-RFI-2025" → "Jane Doe"; a name the file runs together
    ("AidanOGara", "MistralAI") as the document's opening writes it ("Aidan O'Gara", "Mistral AI")."""
    bare = NAME_SUFFIX.sub("", stem) or stem
    name = " ".join(re.split(r"[-_]+", bare)).strip() or stem
    name = written_form(name, head) or name
    return whole_name(name, head) or name


def whole_name(name: str, head: str) -> str:
    """The document's fuller form of a name its file name shortened: the same words followed by up to
    three capitalised words ending in an organisation's word, on one line ("Mount Sinai Health" →
    "Mount Sinai Health System"); "" when the opening has none."""
    words = name.split()
    if not words or not head:
        return ""
    found = re.search(
        r"(?<![\w-])"
        + r"[ \t]+".join(re.escape(word) for word in words)
        + rf"((?:[ \t]+(?:of|for|and|&|(?!The\b)[A-Z][\w&'’-]*)){{0,2}}[ \t]+(?:{NAME_ENDS}))(?![\w-])",
        head[:HEAD_BYTES],
    )
    return " ".join(found.group(0).split()) if found else ""


CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def written_form(name: str, head: str) -> str:
    """How the document's opening writes a name that a file name ran together: its parts (split at
    case changes) separated by spaces or punctuation, in any case; "" when it does not."""
    parts = [part for word in name.split() for part in CAMEL_PART.findall(word)]
    if len(parts) < 2 or len(parts) == len(name.split()):
        return ""
    found = re.search(
        r"(?<![A-Za-z])"
        + "".join(("([\\s'’.-]{0,2})" if i else "") + re.escape(part) for i, part in enumerate(parts))
        + r"(?![a-z])",
        head[:HEAD_BYTES],
        re.I,
    )
    if not found:
        return ""
    written = found.group(0)
    if written.isupper() or written.islower():  # a letterhead's capitals: the file's letters, the text's spaces
        written = parts[0] + "".join(sep + part for sep, part in zip(found.groups(), parts[1:]))
    return " ".join(written.split())


def fields_from_head(head: str, stem: str) -> dict[str, str]:
    """What the opening of a document says about its author, date and title; each field says where
    it came from (`org_source`)."""
    found: dict[str, str] = {}
    org = ORGANIZATION.search(head)
    name = NAME.search(head)
    submitted = SUBMITTED_BY.search(head)
    fdms = FDMS.search(head)
    attached = attached_from(head)
    given = _fix_split(org.group(1)) if org else ""
    if attached and (not given or not set(attached.lower().split()) & set(given.lower().split())):
        # the comments attached are another body's than the submitter's organisation (Digital Liberty's,
        # submitted by Americans for Tax Reform; a coalition's, submitted by one of its members)
        found["org"], found["org_source"] = attached, "cover sheet General Comment"
    elif org and given:
        found["org"], found["org_source"] = _fix_split(org.group(1)), "cover sheet Organization"
    elif AGENCY.search(head) and _fix_split(AGENCY.search(head).group(1)):
        found["org"], found["org_source"] = _fix_split(AGENCY.search(head).group(1)), "cover sheet Government Agency"
    elif submitted and _fix_split(submitted.group(1)):
        found["org"], found["org_source"] = _fix_split(submitted.group(1)), "cover sheet Comment Submitted by"
    elif name and _fix_split(name.group(1)):
        found["org"], found["org_source"] = _fix_split(name.group(1)), "cover sheet Name"
    elif fdms and _fix_split(fdms.group(1)):
        found["org"], found["org_source"] = _fix_split(fdms.group(1)), "FDMS header"
    else:
        letterhead = _letterhead(head, stem)
        if letterhead:
            found["org"], found["org_source"] = letterhead, "letterhead"
    number = DOCUMENT_NUMBER.search(head)
    if number:
        found["document_number"] = number.group(1)
    found["date"] = (
        _date(RECEIVED.search(head))
        or _date(LONG_DATE.search(head[:3000]))
        or _slash_date(SLASH_DATE.search(head[:400]))
    )
    title = RE_LINE.search(head[:3000])
    if title:
        found["title"] = " ".join(title.group(1).split())
    return found


# a cover sheet's General Comment that says whose comments are attached: "See attached PDF for Digital
# Liberty's comments" (the submitter's Organization was Americans for Tax Reform), "Please see the
# attached comments of the Global Data Alliance", "On behalf of the Independent Community Bankers of
# America (ICBA), please find attached our comment letter"
GENERAL_COMMENT = re.compile(r"^\s*General Comment\s*\n\s*(?P<text>[^\n]{0,400})", re.M)
ATTACHED_FROM = re.compile(
    r"\b(?:comments?|letter|response|submission)\s+(?:of|from)\s+(?:the\s+)?(?P<of>[A-Z0-9][^\n.,;:()]{1,80})"
    r"|\b(?:for|see)\s+(?:the\s+)?(?P<own>[A-Z][\w&.'’ -]{1,60}?)['’]s\s+comments?\b"
    r"|\bon behalf of\s+(?:the\s+)?(?P<behalf>[A-Z0-9][^\n.,;:()]{1,80})"
)


def attached_from(head: str) -> str:
    """The organisation a regulations.gov cover sheet's General Comment says the attached comments are
    from, or "" (it must speak of an attachment: "… on behalf of the American People" is no author)."""
    found = GENERAL_COMMENT.search(head[:HEAD_BYTES])
    if not found:
        return ""
    text = _fix_split(found.group("text"))
    if not re.search(r"\battach", text, re.I):
        return ""
    match = ATTACHED_FROM.search(text)
    if not match:
        return ""
    words: list[str] = []
    for word in (match.group("of") or match.group("own") or match.group("behalf")).split():
        if not (word[:1].isupper() or word[:1].isdigit() or word.lower() in ORG_CONNECTOR and words):
            break
        words.append(word)
    while words and words[-1].lower() in ORG_CONNECTOR:
        words.pop()
    name = " ".join(words)
    # a name of words ("21 higher education organizations" names none)
    named = len([w for w in words if w[:1].isalpha() and w.lower() not in ORG_CONNECTOR]) >= 2
    return name if named and not ADDRESSEE.search(name) else ""


# the docket's own numbering of the responses it received ("AI-RFI-2025-1384"): no name in it
NUMBERED = re.compile(r"[A-Z]{1,4}-RFI-\d{4}-\d+", re.I)
CONNECTOR = {"of", "for", "and", "the", "on", "in", "&", "to"}


def acronym_letters(short: str) -> list[str]:
    """The capitals an acronym is made of, a leading count spelled out ("3C" → C, C, C)."""
    counted = re.match(r"^(\d)([A-Z])", short)
    if counted:
        short = counted.group(2) * int(counted.group(1)) + short[2:]
    return [c for c in short if c.isupper()]


def _initials(word: str) -> list[str]:
    """The letters a word can give an acronym: its capitals ("CostQuest", "Hardware-Enabled", "CPAs",
    "AI"), or a connector's first letter ("for" in ASFAI), which an acronym may also leave out."""
    if word.lower() in CONNECTOR:
        return [word[0].upper()] if word[0].isalpha() else []
    return [c for c in word if c.isupper()]


def spelled_out(short: str, before: str) -> str:
    """The name an acronym in parentheses stands for, from the words just before it ("The Am erican
    College of Radiology (ACR)" → "American College of Radiology"): of the run of capitalised words
    and connectors that ends there (split words mended), the shortest ending of two words or more
    that starts with the acronym's first letter and whose words' letters (_initials) hold its
    capitals in order; "" when none does ("Authors and Publishers" for ASCAP)."""
    text = mend_split_words(" ".join(re.split(r"[.;:!?()]\s", before)[-1].split()))
    run: list[str] = []
    for word in reversed(text.split()):
        if word[:1].isupper() or word.lower() in CONNECTOR and run:
            run.insert(0, word)
        else:
            break
    letters = acronym_letters(short)
    for start in range(len(run) - 2, -1, -1):  # the shortest ending of two words or more first
        word = run[start]
        if word.lower() in CONNECTOR or not _initials(word) or _initials(word)[0] != letters[0]:
            continue
        found = iter(c for w in run[start:] for c in _initials(w))
        if all(letter in found for letter in letters):
            name = re.sub(r"(?<=[a-z])\d+$|[’']s$", "", " ".join(run[start:]))  # "Association1", "Council’s"
            return name.strip(" ,–-")
    return ""


def _letterhead(head: str, stem: str) -> str:
    """ "The Security Industry Association (SIA) appreciates" when the file is named SIA; else an
    organisation-like line (Association, Council, Inc., University …) among the first lines."""
    short = name_from_file(stem)
    if re.fullmatch(r"[A-Za-z0-9&]{2,12}", short) and not NUMBERED.fullmatch(stem):
        bracketed = list(re.finditer(r"\(\s*" + re.escape(short) + r"\s*\)", head[:4000]))
        if len(acronym_letters(short)) >= 2:
            for spelled in bracketed:
                full = spelled_out(short, head[max(0, spelled.start() - 200) : spelled.start()])
                if full:
                    return f"{full} ({short})"
            if bracketed:
                return ""  # the document spells the acronym out in words that do not make it: the file's name
        else:
            spelled = re.search(
                r"((?:[A-Z][\w&'-]*\s+)(?:(?:of|for|and|the|on|&)\s+|[A-Z][\w&'-]*\s+){0,8})\(\s*"
                + re.escape(short)
                + r"\s*\)",
                head[:4000],
            )
            if spelled:
                full = " ".join(spelled.group(1).split())
                full = re.split(r"\b(?:The|the)\s+", full)[-1]  # "Strategy The Institute for …" → "Institute for …"
                if len(full.split()) >= 2:
                    return f"{full} ({short})"
    for line in [mend_split_words(line.strip()) for line in head[:1500].splitlines() if line.strip()][:6]:
        if 4 <= len(line) <= 90 and ORG_WORDS.search(line) and not re.search(r"\b(Dear|Re:|RE:)", line):
            line = FIELD_LABEL.sub("", " ".join(line.split()))
            line = ON_BEHALF.split(line)[-1]  # the organisation a person writes for is the author
            line = re.split(r"(?<=[a-z])\. ", line)[-1].strip(" ,.")  # after a sentence's end
            named = org_in_line(line)
            if named and not ADDRESSEE.search(named):
                return named
    return ""


# the agencies the request for information came from: the letter's addressee, not its author
ADDRESSEE = re.compile(r"Office of Science|\bScience Foundation\b|Networking and Information Technology", re.I)
# words that open or frame a letter's lines, capitalised but no part of its author's name
FRAMING = {
    "comments",
    "comment",
    "response",
    "responses",
    "submitted",
    "submission",
    "submi",
    "prepared",
    "introduction",
    "re",
    "subject",
    "external",
    "by",
    "from",
    "written",
    "recommendations",
    "to",
    "request",
    "official",
    "document",
    "organization",
    "filing",
    "the",
    "this",
    "on",
    "behalf",
    "dear",
    # a signatory's title before the organisation it holds it in
    "fellow",
    "president",
    "director",
    "chair",
    "chairman",
    "professor",
    "dean",
    "ceo",
    "founder",
    "member",
    "vice",
    "associate",
    "executive",
    "chief",
    "officer",
    "principal",
    "consultant",
} | set(MONTHS)  # and a date after it ("AI Applied Consortium March 15, 2025")
ORG_CONNECTOR = {"of", "for", "and", "the", "&", "at", "on", "in", "de", "du", "la"}
ORG_WORD = re.compile(rf"(?:{ORG_NOUNS}|{LEGAL_FORMS})")  # a whole word (ORG_WORDS finds one in a text)


def org_in_line(line: str) -> str:
    """The organisation a letterhead line names, without what frames it: the run of capitalised words
    (and connectors) around its organisation word ("Authors Alliance appreciates the opportunity …"
    → "Authors Alliance"; "Greg Hirth, Vice President for Research, Brown University" → "Brown
    University"; "Comments of the Electronic Frontier Foundation" → "Electronic Frontier Foundation"),
    a legal form after a comma kept ("SuperThinks, LLC"); "" when the word heads no such run. The
    caller has mended the line's split words."""
    line = re.sub(r"^.*\b(?:Company|Organi[sz]ation|Institution|Employer)(?: Name)?\s*:\s*", "", line)
    words = re.findall(r"[\w&.’'/-]+,?|[^\w\s]", line)

    def bare(word: str) -> str:
        return re.sub(r"[’']s$", "", word.rstrip(","))

    def part(word: str) -> bool:  # a word a name can hold
        low = bare(word).lower()
        return low in ORG_CONNECTOR or (word[:1].isupper() or word[:1].isdigit()) and low not in FRAMING

    for index, word in enumerate(words):
        if not ORG_WORD.fullmatch(bare(word)):
            continue
        legal = bool(re.fullmatch(LEGAL_FORMS, bare(word)))
        start = index
        while start > 0 and part(words[start - 1]):
            if words[start - 1].endswith(",") and not (legal and start == index):
                break
            start -= 1
        end = index + 1
        while end < len(words) and part(words[end]) and not re.search(r"[’']s$", words[end - 1]):
            if words[end - 1].endswith(",") and not re.fullmatch(LEGAL_FORMS, bare(words[end])):
                break
            end += 1
        run = list(words[start:end])
        while len(run) > 1 and bare(run[-1]).lower() in ORG_CONNECTOR:
            run.pop()
        # no connector, date or footnote mark before the name ("15, 2025 Applied …", "1Joint Center")
        while run and (bare(run[0]).lower() in ORG_CONNECTOR or bare(run[0]).isdigit()):
            run.pop(0)
        if run:
            run[0] = re.sub(r"^\d+(?=[A-Z])", "", run[0])
        name = re.sub(r"[’']s$", "", " ".join(run)).strip(" ,")
        if len(name.split()) >= 2:
            return name
    return ""


def read_metadata(csv_path: Path) -> dict[str, dict[str, str]]:
    """A regulations.gov bulk download's metadata CSV, by every key a file can be matched on: the
    Document ID (NSF_FRDOC_0001-DRAFT-3147), its trailing number, and attachment file names."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RegkbError(f"{csv_path}: cannot read the metadata CSV ({exc})") from exc
    if rows and "Document ID" not in rows[0]:
        raise RegkbError(
            f"{csv_path}: not a regulations.gov metadata CSV (no 'Document ID' column; "
            f"columns: {', '.join(list(rows[0])[:8])})"
        )
    by_key: dict[str, dict[str, str]] = {}
    for row in rows:
        doc_id = (row.get("Document ID") or "").strip()
        if not doc_id:
            continue
        by_key[doc_id.lower()] = row
        number = re.search(r"(\d+)$", doc_id)
        if number:
            by_key.setdefault(f"#{int(number.group(1))}", row)
        for attachment in re.split(r"[,\s]+", row.get("Attachment Files") or ""):
            if attachment:
                by_key.setdefault(Path(attachment).stem.lower(), row)
    return by_key


def _from_metadata(row: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    person = " ".join(
        part for part in ((row.get("First Name") or "").strip(), (row.get("Last Name") or "").strip()) if part
    )
    org = (row.get("Organization Name") or "").strip() or person
    if org:
        found["org"], found["org_source"] = org, "metadata CSV"
    for column in ("Received Date", "Posted Date", "Author Date"):
        value = (row.get(column) or "").strip()
        if re.match(r"\d{4}-\d{2}-\d{2}", value):
            found["date"] = value[:10]
            break
    if (row.get("Title") or "").strip():
        found["title"] = row["Title"].strip()
    return found


def make_id(stem: str, taken: set[str]) -> str:
    base = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9._-]+", "-", stem.lower())).strip("-._")[:76] or "document"
    if len(base) < 2:
        base = f"doc-{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    assert ID_PATTERN.fullmatch(candidate), candidate
    return candidate


def _head_and_hash(path: Path) -> tuple[str, str, int]:
    """The file's first HEAD_BYTES as text, its sha256 and its count of non-space characters (up
    to MIN_CHARACTERS), in one read. A text file with NUL bytes that is not UTF-16 is refused here,
    as the build would refuse it (RegkbError naming the file): a docket's one binary file among
    10,000 is said at import, not left to fail every build."""
    import hashlib

    from .ingest import open_regular
    from .ingest.decode import decode_text

    digest = hashlib.sha256()
    head = b""
    nul = False
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            if len(head) < HEAD_BYTES:
                head += block[: HEAD_BYTES - len(head)]
            nul = nul or b"\x00" in block
            digest.update(block)
    text = head.decode("utf-8", errors="replace")
    if path.suffix.lower() == ".pdf" or head.startswith(b"%PDF"):
        text = ""
    elif nul:  # rare: read it whole, as the build would, and decode it (UTF-16 has NULs and is text)
        with open_regular(path) as handle:
            text = decode_text(handle.read(), str(path))[:HEAD_BYTES]
    return text, digest.hexdigest(), len(re.sub(rb"\s+", b"", head[:4096]))


def _existing(manifest: Path) -> tuple[str, list[str], list]:
    """The manifest's text, its declared folders (as written) and entries."""
    if not manifest.exists():
        return "", [], []
    text = manifest.read_text(encoding="utf-8")
    entries = entries_from_text(text, manifest)
    head = text.split("\n[[", 1)[0] if not text.lstrip().startswith("[[") else ""
    try:
        value = tomllib.loads(head).get("folder", []) if head.strip() else []
    except tomllib.TOMLDecodeError as exc:
        raise RegkbError(f"{manifest}: manifest is not valid TOML ({exc})") from exc
    return text, [value] if isinstance(value, str) else list(value), entries


def import_folder(
    folder: Path,
    manifest: Path,
    metadata: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    others: list[Path] = (),
) -> ImportReport:
    """List every document of `folder` not yet in `manifest` and write them into it, all or nothing.
    `others` are the manifests built together with it (the package's corpus manifest): their ids are
    not reused, and a file they already list (same sha256) is skipped and said."""
    import time

    started = time.perf_counter()
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise RegkbError(f"{folder}: not a folder")
    manifest = Path(manifest).expanduser().resolve()
    report = ImportReport(manifest=manifest, folder=folder)
    text, folders, entries = _existing(manifest)
    by_key = read_metadata(metadata) if metadata else {}
    listed_files = {(e.file) for e in entries}
    taken = {e.id for e in entries}
    elsewhere: dict[str, tuple[str, Path]] = {}
    for other in others:
        if Path(other).resolve() != manifest and Path(other).exists():
            for entry in entries_from_text(Path(other).read_text(encoding="utf-8"), Path(other)):
                taken.add(entry.id)
                if entry.sha256:
                    elsewhere[entry.sha256] = (entry.id, Path(other))
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise RegkbError(f"{folder}: no documents here ({', '.join(SUFFIXES)})")
    fresh: list[dict[str, str]] = []
    undated: list[dict[str, str]] = []
    stated_dates: Counter[str] = Counter()
    for done, path in enumerate(files, start=1):
        relative = path.relative_to(folder).as_posix()
        if relative in listed_files:
            report.already += 1
        else:
            try:
                head, sha256, characters = _head_and_hash(path)
            except RegkbError as exc:
                report.skipped.append((relative, str(exc)))
                head = None
            if head is not None and sha256 in elsewhere:
                report.skipped.append(
                    (relative, f"{path}: already listed as {elsewhere[sha256][0]} in {elsewhere[sha256][1]}, skipped")
                )
            elif head is not None and characters < MIN_CHARACTERS:
                report.skipped.append(
                    (relative, f"{path}: empty or a few bytes ({path.stat().st_size} bytes), skipped")
                )
            elif head is not None:
                stem = path.stem
                found = fields_from_head(head, stem)
                row = by_key.get(found.get("document_number", "").lower()) or by_key.get(stem.lower())
                number = DOCKET_NUMBER_NAME.match(stem)
                if not row and number:
                    row = by_key.get(f"#{int(number.group(1))}")
                if row:
                    found.update(_from_metadata(row))
                org = found.get("org") or (f"unnamed submitter ({stem})" if number else name_from_file(stem, head))
                doc_id = make_id(stem, taken)
                taken.add(doc_id)
                values = {
                    "id": doc_id,
                    "title": found.get("title") or f"{org}: {stem}",
                    "doc_type": "comment",
                    "author_org": org[:300],
                    "date": found.get("date", ""),
                    "language": "en",
                    "file": relative,
                    "sha256": sha256,
                    "note": f"imported from {path.name}; organisation from the {found.get('org_source', 'file name')}",
                }
                if values["date"]:
                    stated_dates[values["date"]] += 1
                else:
                    undated.append(values)
                fresh.append(values)
        if progress:
            progress(path.name, done, len(files))
    common = stated_dates.most_common(1)[0][0] if stated_dates else datetime.date.today().isoformat()
    for values in undated:
        values["date"] = common
        values["note"] += f"; no date stated: {common} is the folder's most common date"
    if not fresh and str(folder) in _resolved(folders, manifest):
        report.seconds = time.perf_counter() - started
        return report  # nothing new: the manifest is not rewritten
    lines: list[str] = []
    for values in fresh:
        checked = validate_fields(values, f"{folder / values['file']}")
        lines += ["", "[[document]]"] + [f"{name} = {_toml_string(value)}" for name, value in checked.items()]
    _write(manifest, text, folders, folder, lines)
    report.added = [values["id"] for values in fresh]
    report.seconds = time.perf_counter() - started
    return report


def _resolved(folders: list[str], manifest: Path) -> list[str]:
    return [str((manifest.parent / Path(f).expanduser()).resolve()) for f in folders]


def _write(manifest: Path, text: str, folders: list[str], folder: Path, lines: list[str]) -> None:
    """The manifest with the folder declared in its header and the new entries appended, swapped in
    whole: an interruption leaves the old manifest as it was."""
    if str(folder) not in _resolved(folders, manifest):
        folders = folders + [
            os.path.relpath(folder, manifest.parent) if folder.is_relative_to(manifest.parent) else str(folder)
        ]
    old_head, body = text, ""
    if text.lstrip().startswith("[["):
        old_head, body = "", text
    elif "\n[[" in text:
        old_head, body = text[: text.index("\n[[") + 1], text[text.index("\n[[") + 1 :]
    kept = [line for line in old_head.splitlines() if not re.match(r"\s*folder\s*=", line) and line != NOTE]
    header = "\n".join([NOTE, f"folder = [{', '.join(_toml_string(f) for f in folders)}]"] + kept).rstrip() + "\n"
    new_text = header + ("\n" + body.lstrip("\n") if body.strip() else "") + "\n".join(lines) + "\n"
    if len(entries_from_text(new_text, manifest)) != len(entries_from_text(text, manifest)) + sum(
        1 for line in lines if line == "[[document]]"
    ):
        raise RegkbError(f"{manifest}: internal error: the new entries would not read back")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    replace_manifest(manifest, new_text, "importing")
