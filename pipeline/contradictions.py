"""The rule against itself: where a rule's own text disagrees with itself, each case with both pin cites.
Built from the extracted facts, not from a list of known cases:

- ``quantity`` — a passage that cites a provision (the preamble's "Note 1 to the ECCN states that ECCN
  4E091 …") states a figure of a quantity the provision itself states, and the provision has no figure
  of that quantity and unit with that value (nearest value within a factor of ten reported);
- ``definition`` — one term defined in two wordings in the same document (wordings less than 90 %
  alike after case and punctuation are set aside); the scopes are shown, since a section may define a
  term for itself on purpose;
- ``cross-reference`` — a paragraph of the regulatory text cites a paragraph ("paragraph (b)(3) of this
  section", "§ 740.29(h)(3)") of a provision the rule sets out, whose parent the rule sets out with its
  subparagraphs, but not that one.

Read side: no spaCy, no torch."""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz

from .paths import root_of

SAME_WORDING = 90.0
ECCN = re.compile(r"\bECCN\s+(\d[A-E]\d{3})((?:\.[a-z0-9]+)*)")
NOTE = re.compile(r"\bNote\s+(\d+)\s+to\s+(?:the\s+)?ECCN(?:\s+(\d[A-E]\d{3}))?")
SECTION = re.compile(r"§\s*(\d{3}\.\d+[a-z]?)((?:\((?:[a-z]{1,4}|\d{1,2}|[A-Z])\))*)")
THIS_SECTION = re.compile(r"\bparagraphs?\s+((?:\((?:[a-z]{1,4}|\d{1,2}|[A-Z])\))+)\s+of\s+this\s+section")
SUPPLEMENT = re.compile(r"\bSupplement\s+No\.\s*(\d+)\s+to\s+(?:part|Part)\s+(\d+)")


@dataclass
class Contradiction:
    kind: str  # quantity | definition | cross-reference
    doc_id: str
    subject: str
    first: str  # what the first place says
    first_pin_cite: str
    first_paragraph: str
    second: str
    second_pin_cite: str
    second_paragraph: str
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def _under(path: str, provision: str) -> bool:
    return path == provision or any(path.startswith(provision + sep) for sep in ("(", " >", "."))


def references(text: str, own_root: str = "") -> list[str]:
    """The provisions a passage cites, as section paths."""
    found = []
    for m in NOTE.finditer(text):
        code = m.group(2) or next((e.group(1) for e in ECCN.finditer(text)), None)
        if code:
            found.append(f"ECCN {code} > Notes > {m.group(1)}")
    for m in ECCN.finditer(text):
        found.append(f"ECCN {m.group(1)}{m.group(2) or ''}")
    for m in SECTION.finditer(text):
        found.append(f"§ {m.group(1)}{m.group(2) or ''}")
    if own_root.startswith("§"):
        for m in THIS_SECTION.finditer(text):
            found.append(f"{own_root}{m.group(1)}")
    for m in SUPPLEMENT.finditer(text):
        found.append(f"Supplement No. {m.group(1)} to Part {m.group(2)}")
    return list(dict.fromkeys(found))


def find(conn: sqlite3.Connection, doc_ids: list[str] | None = None) -> list[Contradiction]:
    conn.row_factory = sqlite3.Row
    docs = [r["id"] for r in conn.execute("select id from documents where doc_type = 'rule' order by id")]
    if doc_ids:
        docs = [d for d in docs if d in doc_ids]
    out: list[Contradiction] = []
    for doc in docs:
        paragraphs = conn.execute(
            "select id, section_path, pin_cite, text, ordinal from paragraphs where doc_id = ? order by ordinal", (doc,)
        ).fetchall()
        out += _quantities(conn, doc, paragraphs)
        out += _definitions(conn, doc)
        out += _cross_references(doc, paragraphs)
    return out


def _quantities(conn, doc: str, paragraphs) -> list[Contradiction]:
    paths = [p["section_path"] or "" for p in paragraphs]
    figures = conn.execute(
        """select t.id, t.quantity, t.unit, t.value, t.comparator, t.matched_text, t.char_start,
                                     t.char_end, p.id as paragraph_id, p.section_path, p.pin_cite, p.text
                              from thresholds t join paragraphs p on p.id = t.paragraph_id
                              where t.doc_id = ? and t.value is not null and t.unit != 'date'""",
        (doc,),
    ).fetchall()
    out, seen = [], set()
    for figure in figures:
        own = figure["section_path"] or ""
        around = _context(figure["text"] or "", figure["char_start"] or 0, figure["char_end"] or 0)
        for ref in references(around, root_of(own) if own else ""):
            if _under(own, ref) or not any(_under(p, ref) for p in paths):
                continue
            theirs = [
                f
                for f in figures
                if _under(f["section_path"] or "", ref)
                and f["unit"] == figure["unit"]
                and f["quantity"] == figure["quantity"]
                and f["paragraph_id"] != figure["paragraph_id"]
            ]
            if not theirs or any(_same(f["value"], figure["value"]) for f in theirs):
                continue
            nearest = min(
                theirs, key=lambda f: abs(math.log(abs(f["value"]) or 1e-12) - math.log(abs(figure["value"]) or 1e-12))
            )
            if (
                not nearest["value"]
                or not figure["value"]
                or max(nearest["value"] / figure["value"], figure["value"] / nearest["value"]) > 10
            ):
                continue
            key = (figure["id"], nearest["paragraph_id"])
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Contradiction(
                    "quantity",
                    doc,
                    f"{figure['quantity']} ({figure['unit']}) in {ref}",
                    f"{figure['comparator']} {_n(figure['value'])}: “{figure['matched_text']}” ({own or '—'})",
                    figure["pin_cite"],
                    figure["paragraph_id"],
                    f"{nearest['comparator']} {_n(nearest['value'])}: “{nearest['matched_text']}” "
                    f"({nearest['section_path']})",
                    nearest["pin_cite"],
                    nearest["paragraph_id"],
                    f"the passage cites {ref}, which states {', '.join(sorted({_n(f['value']) for f in theirs}))} "
                    f"{figure['unit']}, never {_n(figure['value'])}",
                )
            )
    return out


def _definitions(conn, doc: str) -> list[Contradiction]:
    rows = conn.execute(
        """select d.id, d.term, d.kind, d.scope, d.definition, p.id as paragraph_id, p.pin_cite,
                                  p.section_path from definitions d join paragraphs p on p.id = d.paragraph_id
                           where d.doc_id = ? and d.kind not in ('pointer', 'reference')
                           order by p.ordinal""",
        (doc,),
    ).fetchall()
    terms: dict[tuple[str, bool], list] = {}
    for row in rows:
        if _for_a_case(row["definition"]):
            continue
        # a short form's expansion is compared with other expansions, a definition with definitions
        terms.setdefault((row["term"].lower(), row["kind"] in ("short_form", "abbreviation")), []).append(row)
    out = []
    for _, defs in terms.items():
        wordings: list[list] = []
        for d in defs:
            for group in wordings:
                if _same_wording(_wording(d), _wording(group[0])):
                    group.append(d)
                    break
            else:
                wordings.append([d])
        for i in range(1, len(wordings)):
            a, b = wordings[0][0], wordings[i][0]
            same_scope = a["scope"] == b["scope"]
            out.append(
                Contradiction(
                    "definition",
                    doc,
                    f"“{a['term']}”",
                    f"{a['definition']} (scope {a['scope'] or '—'})",
                    a["pin_cite"],
                    a["paragraph_id"],
                    f"{b['definition']} (scope {b['scope'] or '—'})",
                    b["pin_cite"],
                    b["paragraph_id"],
                    (
                        "two wordings in the same scope"
                        if same_scope
                        else f"two wordings, scopes {a['scope'] or '—'} and {b['scope'] or '—'}"
                    )
                    + f"; {len(wordings[0])} and {len(wordings[i])} definition(s) use each",
                )
            )
    return out


def _for_a_case(text: str) -> bool:
    """A definition given for one case ("For interleaved ADCs, the 'sample rate' is …") or the lead-in of a
    list of cases ("'Adjusted update rate' for DACs is:") is one of several on purpose, not a second wording."""
    text = (text or "").strip()
    return text.endswith(":") or bool(re.match(r"^For (?!purposes\b)", text))


def _wording(d) -> str:
    """The defining words: case, punctuation and the scope clause ("For purposes of this license exception,")
    set aside, since the scope is compared on its own; for a short form, its expansion."""
    text = (d["definition"] or "").strip().replace("(s)", "s")
    if d["kind"] in ("short_form", "abbreviation"):
        cut = re.search(r"\(\W?" + re.escape(d["term"]) + r"\W?\)", text)
        text = text[: cut.start()] if cut else text
        text = re.sub(r"^\d+\.\s*", "", text)
    text = re.sub(r"^for purposes of [^,]{3,80},\s*", "", text.lower())
    text = re.sub(r"[\W_]+", " ", text).strip()
    term = re.sub(r"[\W_]+", " ", d["term"].lower()).strip()
    return re.sub(rf"^(?:the )?{re.escape(term)} (?:is|means|refers to) ", "", text)


def _same_wording(a: str, b: str) -> bool:
    """Alike (90 % or more), or one is the other with words added around it (a qualifier at the end,
    a sentence before it, a letter cut at the start of a line)."""
    shorter, longer = sorted((a, b), key=len)
    return fuzz.ratio(a, b) >= SAME_WORDING or (len(shorter) >= 8 and shorter in longer)


def _cross_references(doc: str, paragraphs) -> list[Contradiction]:
    paths = {p["section_path"] or "" for p in paragraphs}
    texts = [(p["section_path"] or "", p["text"]) for p in paragraphs]
    roots = {root_of(p) for p in paths if p}
    out, seen = [], set()
    for p in paragraphs:
        own = p["section_path"] or ""
        if not own or own.startswith("Preamble"):
            continue
        text = p["text"] or ""
        for ref in references(text, root_of(own)):
            if not ref.startswith("§") or "(" not in ref or root_of(ref) not in roots:
                continue
            if any(_under(q, ref) for q in paths):
                continue
            parent, marker = ref[: ref.rindex("(")], ref[ref.rindex("(") :]
            children = _children(parent, paths)
            if parent not in paths or not _complete(children):
                # the rule does not set out that level whole (it revises (a) and (c) of a section): the
                # reference is to the EAR as it stands
                continue
            if any(
                root_of(q) == root_of(ref) and q.endswith(marker) and (t or "").lstrip().startswith(marker)
                for q, t in texts
            ):
                continue  # that paragraph is there, filed at another path
            if (ref, p["id"]) in seen:
                continue
            seen.add((ref, p["id"]))
            out.append(
                Contradiction(
                    "cross-reference",
                    doc,
                    ref,
                    f"cites {ref}: “{_clip(text, 200)}”",
                    p["pin_cite"],
                    p["id"],
                    f"{parent} has {', '.join(children)} only",
                    "",
                    "",
                    f"no paragraph at {ref} in this document",
                )
            )
    return out


ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]


def _rank(marker: str) -> tuple[str, int] | None:
    """'(c)' → ('letter', 2), '(3)' → ('number', 2), '(iv)' → ('roman', 3), '(B)' → ('capital', 1)."""
    m = marker.strip("()")
    if m.isdigit():
        return "number", int(m) - 1
    if m in ROMAN and (len(m) > 1 or m == "i"):  # (v) and (x) read as letters
        return "roman", ROMAN.index(m)
    if len(m) == 1 and m.islower():
        return "letter", ord(m) - ord("a")
    if len(m) == 1 and m.isupper():
        return "capital", ord(m) - ord("A")
    return None


def _children(parent: str, paths: set[str]) -> list[str]:
    return sorted({"(" + q[len(parent) + 1 :].split(")")[0] + ")" for q in paths if q.startswith(parent + "(")})


def _complete(children: list[str]) -> bool:
    """Whether the subparagraphs a rule sets out run without a gap from the first ((a), (1), (i), (A))."""
    ranks = [_rank(c) for c in children]
    if not ranks or any(r is None for r in ranks) or len({r[0] for r in ranks}) != 1:
        return False
    return sorted(r[1] for r in ranks) == list(range(len(ranks)))


def _context(text: str, start: int, end: int) -> str:
    """The sentence a figure stands in, with the one before it (as pipeline.tables reads a claim's figure;
    not imported from there: tables builds this module's table)."""
    before = max(text.rfind(mark, 0, max(start - 1, 0)) for mark in ".。;；")
    before = max(text.rfind(mark, 0, before) for mark in ".。;；") if before > 0 else before
    after = [i for i in (text.find(mark, end) for mark in ".。;；") if i >= 0]
    return text[before + 1 : (min(after) + 1) if after else len(text)]


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1)


def _n(value: float) -> str:
    return f"{value:.3g}" if abs(value) >= 1e6 else f"{value:,.10g}"


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


CONTRADICTION_COLUMNS = [
    "kind",
    "subject",
    "first says",
    "first pin cite",
    "second says",
    "second pin cite",
    "note",
    "document",
]


def contradictions_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    return CONTRADICTION_COLUMNS, [
        [c.kind, c.subject, c.first, c.first_pin_cite, c.second, c.second_pin_cite, c.note, c.doc_id]
        for c in find(conn)
    ]
