"""Version comparison: one document's paragraphs against another's (by default the rule's public-inspection
PDF against its regulatory text as published). Paragraphs are aligned by section path first and text
similarity second (rapidfuzz), one to one, then each paragraph of the second version is classified:

- ``unchanged`` — the same words and punctuation (``identical`` when even the spacing is the same);
- ``changed`` — aligned with a paragraph of the first version whose words differ; the word-level
  changes are listed, e.g. "[INSERT DATE 365 DAYS FROM DATE OF PUBLICATION IN THE FEDERAL REGISTER]"
  → "January 15, 2026";
- ``only in <second>`` — no paragraph of the first version is like it;

and each paragraph of the first version that nothing matched is ``only in <first>`` when it sits in a
provision the second version contains; paragraphs of provisions the second version does not contain
at all (the published regulatory text here leaves out the preamble and part 774) are counted as
outside its coverage, not listed. Read side: no spaCy, no torch."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .models import RegkbError
from .paths import root_of

PUBLIC_INSPECTION = "bis-2025-00636-pi"
PUBLISHED = "bis-2025-00636-regtext"
TOKEN = re.compile(r"\w+|[^\w\s]")
SAME_SECTION_CUTOFF = 50.0  # a paragraph at the same section path is its counterpart from this similarity on
MOVED_CUTOFF = 75.0  # one at another section path (renumbered, or a parse slip) needs more


@dataclass
class Change:
    op: str  # replace | insert | delete
    old: str
    new: str


@dataclass
class Aligned:
    status: str  # identical | unchanged (spacing) | typography | changed | only_in_a | only_in_b
    section_path: str
    a_id: str | None = None
    b_id: str | None = None
    a_section_path: str | None = None
    a_pin_cite: str | None = None
    b_pin_cite: str | None = None
    a_text: str = ""
    b_text: str = ""
    similarity: float = 0.0
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    doc_a: str
    doc_b: str
    section: str | None
    rows: list[Aligned]
    outside: int  # paragraphs of doc_a in provisions doc_b does not contain

    def counts(self) -> dict[str, int]:
        counts = {"identical": 0, "unchanged": 0, "typography": 0, "changed": 0, "only_in_a": 0, "only_in_b": 0}
        for row in self.rows:
            counts[row.status] += 1
        counts["b_paragraphs"] = sum(1 for r in self.rows if r.b_id)
        counts["outside_b"] = self.outside
        return counts


def tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text or ""))


def _norm(text: str) -> str:
    return " ".join(m.group(0) for m in tokens(text)).lower()


def word_changes(a: str, b: str) -> list[Change]:
    """The word-level changes from a to b, each with the original characters of both sides."""
    ta, tb = tokens(a), tokens(b)
    spans: list[list[int]] = []  # adjacent edits are one change: [src_start, src_end, dest_start, dest_end]
    for op in Levenshtein.opcodes([m.group(0) for m in ta], [m.group(0) for m in tb]):
        if op.tag == "equal":
            continue
        if spans and spans[-1][1] == op.src_start and spans[-1][3] == op.dest_start:
            spans[-1][1], spans[-1][3] = op.src_end, op.dest_end
        else:
            spans.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
    changes = []
    for i1, i2, j1, j2 in spans:
        old = a[ta[i1].start() : ta[i2 - 1].end()] if i2 > i1 else ""
        new = b[tb[j1].start() : tb[j2 - 1].end()] if j2 > j1 else ""
        changes.append(Change("replace" if old and new else "insert" if new else "delete", old, new))
    return changes


QUOTES = str.maketrans({"‘": "'", "’": "'", "`": "'", "“": '"', "”": '"', "–": "-", "—": "-", "‐": "-", "|": " "})


def _typeset(text: str) -> str:
    """Text with what typesetting changes taken out: quote and dash forms, table rules, letter case,
    words broken at a line end and joined again ("foreign- produced", "foreignproduced")."""
    text = (text or "").translate(QUOTES).lower()
    text = re.sub(r"c\.\s*f\.\s*r\.", "cfr", text)
    return re.sub(r"[\W_]+", "", text)


def _rows(conn: sqlite3.Connection, doc_id: str, section: str | None) -> list[sqlite3.Row]:
    rows = conn.execute(
        "select id, section_path, pin_cite, text, ordinal from paragraphs where doc_id = ? order by ordinal", (doc_id,)
    ).fetchall()
    if section:
        rows = [r for r in rows if (r["section_path"] or "").startswith(section)]
    return rows


def compare(
    conn: sqlite3.Connection, doc_a: str = PUBLIC_INSPECTION, doc_b: str = PUBLISHED, section: str | None = None
) -> Comparison:
    conn.row_factory = sqlite3.Row
    for doc in (doc_a, doc_b):
        if conn.execute("select 1 from documents where id = ?", (doc,)).fetchone() is None:
            raise RegkbError(f"no document {doc!r} in the knowledge base (see `regkb docs`)")
    a_rows, b_rows = _rows(conn, doc_a, section), _rows(conn, doc_b, section)
    a_norm = {r["id"]: _norm(r["text"]) for r in a_rows}
    b_norm = {r["id"]: _norm(r["text"]) for r in b_rows}
    by_path: dict[str, list[sqlite3.Row]] = {}
    for row in a_rows:
        by_path.setdefault(row["section_path"] or "", []).append(row)
    # 1. same section path: every pair scored, assigned best first, one to one
    pairs = []
    for b in b_rows:
        for a in by_path.get(b["section_path"] or "", []):
            score = 100.0 if a_norm[a["id"]] == b_norm[b["id"]] else fuzz.ratio(a_norm[a["id"]], b_norm[b["id"]])
            if score >= SAME_SECTION_CUTOFF:
                # ties broken by closeness in the order of the section
                pairs.append((score, -abs(a["ordinal"] - b["ordinal"]), a["id"], b["id"]))
    match: dict[str, tuple[str, float]] = {}
    used: set[str] = set()
    for score, _, a_id, b_id in sorted(pairs, reverse=True):
        if b_id not in match and a_id not in used:
            match[b_id] = (a_id, score)
            used.add(a_id)
    # 2. the rest against any paragraph of the first version nobody took (moved, renumbered)
    free = {r["id"]: a_norm[r["id"]] for r in a_rows if r["id"] not in used}
    for b in b_rows:
        if b["id"] in match or not free:
            continue
        best = process.extractOne(b_norm[b["id"]], free, scorer=fuzz.ratio, score_cutoff=MOVED_CUTOFF)
        if best:
            match[b["id"]] = (best[2], best[1])
            used.add(best[2])
            del free[best[2]]
    _join_split_paragraphs(a_rows, b_rows, a_norm, b_norm, match, used)
    a_by_id = {r["id"]: r for r in a_rows}
    b_by_id = {r["id"]: r for r in b_rows}
    out: list[Aligned] = []
    for b in b_rows:
        if b["id"] not in match:
            out.append(
                Aligned("only_in_b", b["section_path"] or "", b_id=b["id"], b_pin_cite=b["pin_cite"], b_text=b["text"])
            )
            continue
        a_ids, score = match[b["id"]]
        a_parts = [a_by_id[i] for i in a_ids.split("+")]
        b_parts = [b_by_id[i] for i in _group_of(b["id"], match)]
        a_text = "\n".join(r["text"] for r in a_parts)
        b_text = "\n".join(r["text"] for r in b_parts)
        out.append(
            Aligned(
                _status(a_text, b_text),
                b["section_path"] or "",
                a_id=a_ids,
                b_id=b["id"],
                a_section_path=a_parts[0]["section_path"],
                a_pin_cite=a_parts[0]["pin_cite"],
                b_pin_cite=b["pin_cite"],
                a_text=a_text,
                b_text=b_text,
                similarity=round(score, 1),
                changes=word_changes(a_text, b_text) if _status(a_text, b_text) == "changed" else [],
            )
        )
    covered = {root_of(r["section_path"]) for r in b_rows if r["section_path"]}
    outside = 0
    for a in a_rows:
        if a["id"] in used:
            continue
        if a["section_path"] and root_of(a["section_path"]) in covered:
            out.append(
                Aligned(
                    "only_in_a",
                    a["section_path"],
                    a_id=a["id"],
                    a_section_path=a["section_path"],
                    a_pin_cite=a["pin_cite"],
                    a_text=a["text"],
                )
            )
        else:
            outside += 1
    return Comparison(doc_a, doc_b, section, out, outside)


def _status(a: str, b: str) -> str:
    if a == b:
        return "identical"
    if [m.group(0) for m in tokens(a)] == [m.group(0) for m in tokens(b)]:
        return "unchanged"  # spacing only
    if _typeset(a) == _typeset(b):
        return "typography"
    return "changed"


def _group_of(b_id: str, match: dict) -> list[str]:
    """The paragraphs of the second version aligned with the same paragraph(s) of the first, in order."""
    a_ids = match[b_id][0]
    return [other for other, (ids, _) in match.items() if ids == a_ids]


def _join_split_paragraphs(a_rows, b_rows, a_norm, b_norm, match, used) -> None:
    """One version's paragraph is two of the other's when a heading or a note caption was set apart
    ("Note 7 to paragraph (l)(1):"): a neighbour nobody matched joins its aligned paragraph when the
    joined text is closer to the counterpart than the paragraph alone."""
    a_pos = {r["id"]: i for i, r in enumerate(a_rows)}
    b_pos = {r["id"]: i for i, r in enumerate(b_rows)}
    for b_id, (a_id, score) in list(match.items()):
        if score >= 100:
            continue
        i = a_pos[a_id]
        for j, before in ((i - 1, True), (i + 1, False)):
            if 0 <= j < len(a_rows) and a_rows[j]["id"] not in used:
                neighbour = a_rows[j]["id"]
                joined = f"{a_norm[neighbour]} {a_norm[a_id]}" if before else f"{a_norm[a_id]} {a_norm[neighbour]}"
                better = fuzz.ratio(joined, b_norm[b_id])
                if better > score + 2:
                    a_id = f"{neighbour}+{a_id}" if before else f"{a_id}+{neighbour}"
                    a_norm[a_id], score = joined, better
                    used.add(neighbour)
                    match[b_id] = (a_id, score)
                    break
    for b_id, (a_id, score) in list(match.items()):
        if score >= 100:
            continue
        k = b_pos[b_id]
        for j, before in ((k - 1, True), (k + 1, False)):
            if 0 <= j < len(b_rows) and b_rows[j]["id"] not in match:
                neighbour = b_rows[j]["id"]
                joined = f"{b_norm[neighbour]} {b_norm[b_id]}" if before else f"{b_norm[b_id]} {b_norm[neighbour]}"
                better = fuzz.ratio(a_norm[a_id], joined)
                if better > score + 2:
                    match[b_id] = (a_id, better)
                    match[neighbour] = (a_id, better)
                    break
    # keep the dict in the second version's order for _group_of
    ordered = sorted(match.items(), key=lambda item: b_pos[item[0]])
    match.clear()
    match.update(ordered)


STATUS_LABELS = {
    "identical": "unchanged",
    "unchanged": "unchanged (spacing only)",
    "typography": "unchanged (typography only)",
    "changed": "changed",
    "only_in_a": "only in {a}",
    "only_in_b": "only in {b}",
}


def describe(row: Aligned, limit: int = 400) -> str:
    """The changes as "old → new" pieces ("+ new" for an insertion, "− old" for a deletion)."""
    parts = []
    for change in row.changes:
        if change.op == "insert":
            parts.append(f"+ “{_clip(change.new, limit)}”")
        elif change.op == "delete":
            parts.append(f"− “{_clip(change.old, limit)}”")
        else:
            parts.append(f"“{_clip(change.old, limit)}” → “{_clip(change.new, limit)}”")
    return "; ".join(parts)


def status_label(row: Aligned, doc_a: str, doc_b: str) -> str:
    return STATUS_LABELS[row.status].format(a=doc_a, b=doc_b)


DIFF_COLUMNS = [
    "section path",
    "status",
    "changes",
    "public-inspection pin cite",
    "published pin cite",
    "similarity",
    "public-inspection text",
    "published text",
]


def diff_table(
    conn: sqlite3.Connection,
    doc_a: str = PUBLIC_INSPECTION,
    doc_b: str = PUBLISHED,
    section: str | None = None,
    include_unchanged: bool = True,
) -> tuple[list[str], list[list]]:
    comparison = compare(conn, doc_a, doc_b, section)
    columns = [
        "section path",
        "status",
        "changes",
        f"{doc_a} pin cite",
        f"{doc_b} pin cite",
        "similarity",
        f"{doc_a} text",
        f"{doc_b} text",
    ]
    order = {"changed": 0, "only_in_b": 1, "only_in_a": 2, "typography": 3, "unchanged": 4, "identical": 5}
    rows = []
    for row in comparison.rows:
        if not include_unchanged and row.status in ("identical", "unchanged", "typography"):
            continue
        rows.append(
            [
                row.section_path,
                status_label(row, doc_a, doc_b),
                describe(row, 160),
                row.a_pin_cite or "",
                row.b_pin_cite or "",
                row.similarity,
                _clip(row.a_text, 300),
                _clip(row.b_text, 300),
            ]
        )
    return columns, rows if include_unchanged else sorted(rows, key=lambda r: order.get(r[1], 9))


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
