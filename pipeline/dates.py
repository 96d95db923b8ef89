"""Dates and periods that govern something in a rule, resolved into a timeline.

Built on what the build extracted: the thresholds of unit 'date' (a calendar date, ISO in value_text) and
of the period units (days, weeks, months, years), plus two things the extractor leaves alone: the
public-inspection placeholders ("[INSERT DATE 120 DAYS FROM DATE OF PUBLICATION IN THE FEDERAL
REGISTER]") and calendar dates after a governing word ("effective January 13. 2025"). Each row says what
it governs (the caption of its paragraph, "Compliance date:", or the clause it stands in), its provision
and pin cite, and what it is counted from:

- ``date`` — a calendar date written in the text;
- ``publication`` — a period counted from the rule's publication in the Federal Register: resolved
  with the document's publication date (the manifest's ``published``, else its ``date``);
- ``event`` — a period counted from something that happens ("within 30 days of receipt", "180 days
  before", "60 days in advance"): flagged, no calendar date;
- ``duration`` — a length with no starting point (a four-year validity, "the past 12 months", "every
  six months"): no calendar date.

Only documents of type rule: what a letter or a news report says about the rule's dates (the Chinese
article's "60 days after publication") is a claim, compared in `regkb table claims`, never a date of the
rule. Read side: no spaCy, no torch."""

from __future__ import annotations

import calendar
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import date as Date
from datetime import timedelta

from .paths import root_of

PERIOD_UNITS = {"days", "weeks", "months", "years"}
PLACEHOLDER = re.compile(
    r"\[INSERT DATE (\d+) (DAYS?|MONTHS?|YEARS?) (?:FROM|AFTER) (?:THE )?DATE OF PUBLICATION"
    r"(?: IN THE FEDERAL REGISTER)?\s*\]?",
    re.I,
)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
CALENDAR = re.compile(rf"\b({MONTHS}) (\d{{1,2}})[.,]? (\d{{4}})\b")
GOVERNING = re.compile(
    r"\b(effective|effective date(?: of this rule)? on|on or before|no later than|not later than|by|"
    r"before|until|beginning|as of|starting)\s+(?:the\s+)?$",
    re.I,
)
PUBLICATION = re.compile(
    r"^\W*(?:days?|months?|years?)?\W*\s*(?:after|from|following|of)\s+(?:the\s+)?"
    r"(?:date\s+of\s+)?publication",
    re.I,
)
EVENT = re.compile(
    r"^[\s\]]*(?:(?:calendar|business)\s+)?(?:days?|months?|years?)?\s*"
    r"(?P<rel>after|from|following|of|before|prior to|in advance(?: of)?|preceding)\s+"
    r"(?P<event>[^.;:]{3,90})",
    re.I,
)
CAPTION = re.compile(r"^(?:DATES:\s*)?(?P<caption>[A-Z][A-Za-z ,'’-]{2,60}?)(?:\.|:)\s")


@dataclass
class Governing:
    doc_id: str
    paragraph_id: str
    provision: str
    section_path: str
    pin_cite: str
    written: str  # as the text says it
    governs: str
    anchor: str  # date | publication | event | duration
    counted_from: str  # the publication date, the event, or ""
    resolved: str  # ISO date, or ""
    source: str  # threshold id, or "placeholder" / "date in text"
    value: float | None = None
    unit: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def add_period(start: Date, value: float, unit: str) -> Date:
    count = int(value)
    if unit.startswith("day"):
        return start + timedelta(days=count)
    if unit.startswith("week"):
        return start + timedelta(weeks=count)
    months = count * (12 if unit.startswith("year") else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    return Date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def _caption(text: str) -> str:
    found = CAPTION.match(text or "")
    return found.group("caption").strip() if found else ""


# where a sentence or clause ends: not the point of "No. 10", "U.S.", "e.g."
BOUNDARY = re.compile(r"(?<!\bNo)(?<!\bno)(?<!\bNos)(?<!U\.S)(?<!e\.g)(?<!i\.e)[.;:]\s+(?=[A-Z(\[•“])")


def _clause(text: str, start: int, end: int, limit: int = 170) -> str:
    starts = [m.end() for m in BOUNDARY.finditer(text, 0, start)]
    ends = [m.start() + 1 for m in BOUNDARY.finditer(text, end)]
    first = starts[-1] if starts else 0
    clause = text[first : ends[0] if ends else len(text)].strip()
    if len(clause) <= limit:
        return clause
    # a long sentence: the words that lead up to the date, which say what it is the date of
    lead = max(first, start - (limit - (end - start)))
    lead = text.find(" ", lead) + 1 if lead > first else first
    return ("…" if lead > first else "") + text[lead:end].strip() + "…"


def _what(text: str, start: int, end: int) -> str:
    caption = _caption(text)
    clause = _clause(text, start, end)
    return f"{caption}: {clause}" if caption and not clause.startswith(caption) else clause


def _anchor(text: str, start: int, end: int, placeholders: list[re.Match]) -> tuple[str, str]:
    if any(p.start() <= start < p.end() or start <= p.start() < end for p in placeholders):
        return "publication", ""
    after = text[end : end + 120]
    if PUBLICATION.match(after):
        return "publication", ""
    event = EVENT.match(after)
    if event:
        what = event.group("event").strip().rstrip(",")
        return "event", f"{event.group('rel')} {what}"
    written = text[start:end]
    rel = re.search(r"\b(prior to|before|in advance(?: of)?|after|following)\s*$", written, re.I)
    if rel:  # the relation is part of the number as extracted ("180 days prior to"): the event follows
        what = re.match(r"\s*([^.;:]{3,90})", text[end:])
        return "event", f"{rel.group(1)} {what.group(1).strip() if what else '(the event the sentence names)'}"
    before = text[max(0, start - 40) : start].lower()
    if re.search(r"\bwithin\s*$", before) or written.lower().startswith("within"):
        # "within 30 days" with no "of …": the sentence names the event; say it is one
        return "event", "(the event the sentence names)"
    return "duration", ""


def governing_dates(conn: sqlite3.Connection, doc_ids: list[str] | None = None) -> list[Governing]:
    conn.row_factory = sqlite3.Row
    docs = {
        r["id"]: r
        for r in conn.execute(
            "select id, coalesce(nullif(published, ''), date) as published from documents where doc_type = 'rule'"
        )
    }
    if doc_ids:
        docs = {k: v for k, v in docs.items() if k in doc_ids}
    out: list[Governing] = []
    if not docs:
        return out
    marks = ",".join("?" * len(docs))
    paragraphs = {
        r["id"]: r
        for r in conn.execute(
            f"select id, doc_id, section_path, pin_cite, text, ordinal from paragraphs where doc_id in ({marks})",
            list(docs),
        )
    }
    placeholders = {pid: list(PLACEHOLDER.finditer(p["text"] or "")) for pid, p in paragraphs.items()}
    covered: dict[str, list[tuple[int, int]]] = {}
    for t in conn.execute(
        f"""select id, paragraph_id, doc_id, value, unit, value_text, matched_text, char_start, char_end
                              from thresholds where doc_id in ({marks}) and (unit = 'date' or unit in
                              ('days', 'weeks', 'months', 'years'))""",
        list(docs),
    ):
        p = paragraphs[t["paragraph_id"]]
        text, start, end = p["text"], t["char_start"], t["char_end"]
        covered.setdefault(p["id"], []).append((start, end))
        published = docs[t["doc_id"]]["published"]
        if t["unit"] == "date":
            anchor, counted, resolved = "date", "", t["value_text"] or ""
        else:
            anchor, counted = _anchor(text, start, end, placeholders[p["id"]])
            resolved = ""
            if anchor == "publication" and published:
                counted = f"publication ({published})"
                resolved = add_period(Date.fromisoformat(published), t["value"], t["unit"]).isoformat()
        written = _written(text, start, end, placeholders[p["id"]])
        out.append(
            Governing(
                t["doc_id"],
                p["id"],
                root_of(p["section_path"] or "") or "—",
                p["section_path"] or "",
                p["pin_cite"],
                written,
                _what(text, start, end),
                anchor,
                counted,
                resolved,
                t["id"],
                t["value"],
                t["unit"],
            )
        )
    for pid, found in placeholders.items():
        p = paragraphs[pid]
        for match in found:
            if any(s < match.end() and match.start() < e for s, e in covered.get(pid, [])):
                continue
            published = docs[p["doc_id"]]["published"]
            value, unit = float(match.group(1)), match.group(2).lower().rstrip("s") + "s"
            resolved = add_period(Date.fromisoformat(published), value, unit).isoformat() if published else ""
            out.append(
                Governing(
                    p["doc_id"],
                    pid,
                    root_of(p["section_path"] or "") or "—",
                    p["section_path"] or "",
                    p["pin_cite"],
                    match.group(0),
                    _what(p["text"], match.start(), match.end()),
                    "publication",
                    f"publication ({published})" if published else "",
                    resolved,
                    "placeholder",
                    value,
                    unit,
                )
            )
            covered.setdefault(pid, []).append((match.start(), match.end()))
    for pid, p in paragraphs.items():
        text = p["text"] or ""
        for match in CALENDAR.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in covered.get(pid, [])):
                continue
            if not GOVERNING.search(text[max(0, match.start() - 40) : match.start()]):
                continue  # a date a rule is cited by ("the October 7, 2022 rule") governs nothing
            month = list(calendar.month_name).index(match.group(1))
            try:
                iso = Date(int(match.group(3)), month, int(match.group(2))).isoformat()
            except ValueError:
                continue
            lead = GOVERNING.search(text[max(0, match.start() - 40) : match.start()]).group(0)
            out.append(
                Governing(
                    p["doc_id"],
                    pid,
                    root_of(p["section_path"] or "") or "—",
                    p["section_path"] or "",
                    p["pin_cite"],
                    f"{lead}{match.group(0)}".strip(),
                    _what(text, match.start(), match.end()),
                    "date",
                    "",
                    iso,
                    "date in text",
                )
            )
    order = {"date": 0, "publication": 0, "event": 1, "duration": 2}
    ordinal = {pid: p["ordinal"] for pid, p in paragraphs.items()}
    out.sort(key=lambda g: (order[g.anchor], g.resolved or "9999", g.doc_id, ordinal[g.paragraph_id]))
    return out


def _written(text: str, start: int, end: int, placeholders: list[re.Match]) -> str:
    for p in placeholders:
        if p.start() <= start < p.end() or start <= p.start() < end:
            lead = text[min(start, p.start()) : p.start()]
            return (lead + p.group(0)).strip()
    return text[start:end]


DATES_COLUMNS = [
    "resolved date",
    "counted from",
    "written",
    "governs",
    "anchor",
    "provision",
    "section path",
    "pin cite",
    "document",
    "source",
]


def dates_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    rows = []
    for g in governing_dates(conn):
        anchor = {
            "date": "calendar date",
            "publication": "after publication",
            "event": "after an event (flagged)",
            "duration": "a duration (no start)",
        }[g.anchor]
        rows.append(
            [
                g.resolved or "—",
                g.counted_from or ("—" if g.anchor != "event" else "an event"),
                g.written,
                g.governs,
                anchor,
                g.provision,
                g.section_path,
                g.pin_cite,
                g.doc_id,
                g.source,
            ]
        )
    return DATES_COLUMNS, rows


def claimed_dates(conn: sqlite3.Connection) -> list[dict]:
    """Periods from publication that documents other than rules state (claims about the rule's dates),
    with whether any date of the rule is that period after publication."""
    conn.row_factory = sqlite3.Row
    rule = {(g.value, g.unit) for g in governing_dates(conn) if g.anchor == "publication"}
    out = []
    for row in conn.execute("""select t.doc_id, t.value, t.unit, t.matched_text, t.id, p.pin_cite, p.text, t.char_start
                               from thresholds t join paragraphs p on p.id = t.paragraph_id
                               join documents d on d.id = t.doc_id
                               where d.doc_type != 'rule' and t.unit in ('days', 'weeks', 'months', 'years')"""):
        around = (row["text"] or "")[max(0, row["char_start"] - 40) : row["char_start"] + 40]
        if not re.search(r"publication|published|发布|公报|Federal Register|take effect|生效", around, re.I):
            continue
        out.append(
            {
                "document": row["doc_id"],
                "says": row["matched_text"],
                "pin cite": row["pin_cite"],
                "id": row["id"],
                "value": row["value"],
                "unit": row["unit"],
                "in the rule": (row["value"], row["unit"]) in rule,
            }
        )
    return out
