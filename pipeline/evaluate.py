"""Evaluate the extractors against hand-made gold annotations (annotations/*.jsonl) and report
the parse health of the knowledge base. Pure scoring over rows; the CLI does the reading."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from .extract.contract import CONTRACTS
from .extract.definitions import normalise_term
from .link import within

# CI fails below these (issue 3's acceptance floors)
FLOORS = {"definitions": 0.95, "thresholds": 0.90, "country_lists": 1.0, "positions": 0.60}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@dataclass
class Score:
    name: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[dict] = field(default_factory=list)  # gold items not found
    spurious: list[dict] = field(default_factory=list)  # extracted rows matching no gold item
    notes: dict = field(default_factory=dict)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.true_positives,
            "fp": self.false_positives,
            "fn": self.false_negatives,
            "notes": self.notes,
            "misses": self.misses,
            "spurious": self.spurious,
        }


class Locator:
    """Finds a gold item's paragraph: same document, page ± 1, anchor in the text."""

    def __init__(self, conn: sqlite3.Connection):
        self.by_doc_page: dict[tuple[str, int], list[sqlite3.Row]] = {}
        self.by_doc: dict[str, list[sqlite3.Row]] = {}  # in page order, for anchors located anywhere
        for row in conn.execute(
            "select id, doc_id, page, section_path, text from paragraphs order by doc_id, page, ordinal"
        ):
            self.by_doc_page.setdefault((row["doc_id"], row["page"]), []).append(row)
            self.by_doc.setdefault(row["doc_id"], []).append(row)
        self.paths = {row["id"]: row["section_path"] for rows in self.by_doc_page.values() for row in rows}

    def locate(self, item: dict) -> sqlite3.Row | None:
        anchor = _squash(item["anchor"])
        for page in (item["page"], item["page"] - 1, item["page"] + 1):
            for row in self.by_doc_page.get((item["doc"], page), []):
                if anchor in _squash(row["text"]):
                    return row
        # a text without physical pages, or a page the annotator could only estimate from printed
        # page numbers: the first paragraph of the document holding the anchor
        return next((row for row in self.by_doc.get(item["doc"], []) if anchor in _squash(row["text"])), None)


def _covered(coverage: dict, doc_id: str, section_path: str) -> bool:
    return any(section_path.startswith(prefix) for prefix in coverage.get(doc_id, []))


def _present_gold(conn, gold: list[dict], score: Score) -> list[dict]:
    """Gold items for documents in this knowledge base; the others are set aside and counted."""
    present = {row[0] for row in conn.execute("select id from documents")}
    kept = [item for item in gold if item.get("doc") in present]
    score.notes["gold_for_documents_not_in_kb"] = len(gold) - len(kept)
    return kept


def _split_gold(rows: list[dict]) -> tuple[dict, list[dict]]:
    """The coverage (document → section-path prefixes annotated exhaustively) and the gold items;
    several files of one kind (positions.jsonl, positions_synthetic.jsonl) each bring their own."""
    coverage: dict[str, list[str]] = {}
    for row in rows:
        for doc_id, prefixes in row.get("coverage", {}).items():
            coverage.setdefault(doc_id, []).extend(prefixes)
    return coverage, [row for row in rows if "coverage" not in row]


def _predictions(conn, table: str, coverage: dict) -> list[dict]:
    rows = conn.execute(f"select t.*, p.section_path, p.page from {table} t join paragraphs p on p.id = t.paragraph_id")
    return [dict(row) for row in rows if _covered(coverage, row["doc_id"], row["section_path"])]


def score_definitions(conn, gold_rows: list[dict]) -> Score:
    coverage, gold = _split_gold(gold_rows)
    locator = Locator(conn)
    score = Score("definitions")
    gold = _present_gold(conn, gold, score)
    predicted = _predictions(conn, "definitions", coverage)
    unused = {(p["paragraph_id"], normalise_term(p["term"])): p for p in predicted}
    scope_right = scope_total = whole = whole_total = 0
    for item in gold:
        paragraph = locator.locate(item)
        key = (paragraph["id"] if paragraph else None, normalise_term(item["term"]))
        if key in unused:
            found = unused.pop(key)
            score.true_positives += 1
            scope_total += 1
            if item.get("ends_with"):
                # the stored definition is the whole definition: it runs to the words gold ends it with
                whole_total += 1
                if _squash(item["ends_with"]) in _squash(found.get("definition") or ""):
                    whole += 1
                else:
                    score.notes.setdefault("cut_definitions", []).append(
                        {
                            "term": item["term"],
                            "gold_ends_with": item["ends_with"],
                            "extracted_ends": _squash(found.get("definition") or "")[-60:],
                        }
                    )
            if found["scope"] == item.get("scope"):
                scope_right += 1
            else:
                score.notes.setdefault("scope_disagreements", []).append(
                    {"term": item["term"], "gold": item.get("scope"), "extracted": found["scope"]}
                )
        else:
            score.false_negatives += 1
            score.misses.append(
                {
                    "term": item["term"],
                    "section_path": item.get("section_path"),
                    "page": item["page"],
                    "located": bool(paragraph),
                }
            )
    score.false_positives = len(unused)
    score.spurious = [
        {"term": p["term"], "section_path": p["section_path"], "page": p["page"]} for p in unused.values()
    ]
    score.notes["scope_accuracy"] = round(scope_right / scope_total, 4) if scope_total else None
    score.notes["whole_definition_accuracy"] = round(whole / whole_total, 4) if whole_total else None
    return score


def _same_value(a, b) -> bool:
    """Numbers within a relative 1e-6; dates (ISO strings, stored in value_text) by equality."""
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return str(a) == str(b)
    return abs(float(a) - float(b)) <= 1e-6 * max(abs(float(a)), abs(float(b)), 1e-12)


def score_thresholds(conn, gold_rows: list[dict]) -> Score:
    coverage, gold = _split_gold(gold_rows)
    locator = Locator(conn)
    score = Score("thresholds")
    gold = _present_gold(conn, gold, score)
    remaining = _predictions(conn, "thresholds", coverage)
    comparator_wrong = 0
    for item in gold:
        paragraph = locator.locate(item)
        candidates = [
            p
            for p in remaining
            if paragraph
            and p["paragraph_id"] == paragraph["id"]
            and p["unit"] == item["unit"]
            and _same_value(
                p["value"] if p["unit"] != "date" else p.get("value_text"),
                item["value"] if item["unit"] == "date" else float(item["value"]),
            )
        ]
        exact = [p for p in candidates if p["comparator"] == item["comparator"]]
        if exact:
            remaining.remove(exact[0])
            score.true_positives += 1
            continue
        if candidates:
            comparator_wrong += 1
        score.false_negatives += 1
        score.misses.append(
            {
                "value": item["value"],
                "unit": item["unit"],
                "comparator": item["comparator"],
                "section_path": item.get("section_path"),
                "page": item["page"],
                "anchor": item["anchor"],
                "located": bool(paragraph),
                "extracted_comparator": candidates[0]["comparator"] if candidates else None,
            }
        )
    score.false_positives = len(remaining)
    score.spurious = [
        {
            "value": p["value"],
            "unit": p["unit"],
            "comparator": p["comparator"],
            "section_path": p["section_path"],
            "matched_text": p["matched_text"],
        }
        for p in remaining
    ]
    score.notes["right_value_and_unit_wrong_comparator"] = comparator_wrong
    return score


def score_country_lists(conn, gold_rows: list[dict]) -> Score:
    """Lists with members (group-only references are scored as group references, not lists)."""
    coverage, gold = _split_gold(gold_rows)
    locator = Locator(conn)
    score = Score("country_lists")
    gold = _present_gold(conn, gold, score)
    lists = _predictions(conn, "country_lists", coverage)
    members: dict[str, list[str]] = {}
    member_paragraphs: dict[str, set[str]] = {}
    for row in conn.execute("select list_id, iso2, paragraph_id from country_list_members"):
        members.setdefault(row["list_id"], []).append(row["iso2"])
        member_paragraphs.setdefault(row["list_id"], set()).add(row["paragraph_id"])
    unused = {row["id"]: row for row in lists}
    exact = member_tp = member_fp = member_fn = 0
    for item in (g for g in gold if len(g.get("members", [])) >= 3):
        paragraph = locator.locate(item)
        # a list given as (1)(2)(3) items sits on its first item; its members on their own paragraphs
        candidates = [
            row
            for row in unused.values()
            if paragraph
            and (row["paragraph_id"] == paragraph["id"] or paragraph["id"] in member_paragraphs.get(row["id"], ()))
        ]
        expected = set(item["members"])
        best = max(candidates, key=lambda row: len(expected & set(members.get(row["id"], []))), default=None)
        if best is None:
            score.false_negatives += 1
            member_fn += len(expected)
            score.misses.append(
                {"label": item.get("label"), "section_path": item.get("section_path"), "located": bool(paragraph)}
            )
            continue
        unused.pop(best["id"])
        got = set(m for m in members.get(best["id"], []) if m)
        member_tp += len(expected & got)
        member_fp += len(got - expected)
        member_fn += len(expected - got)
        if got == expected:
            exact += 1
            score.true_positives += 1
        else:
            score.false_negatives += 1
            score.misses.append(
                {"label": item.get("label"), "missing": sorted(expected - got), "extra": sorted(got - expected)}
            )
    score.false_positives = len(unused)
    score.spurious = [{"label": row["label"], "section_path": row["section_path"]} for row in unused.values()]
    score.notes.update(
        {
            "lists_exact": exact,
            "member_precision": round(member_tp / (member_tp + member_fp), 4) if member_tp + member_fp else None,
            "member_recall": round(member_tp / (member_tp + member_fn), 4) if member_tp + member_fn else None,
        }
    )
    return score


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return max(shared, 0) / max(1, min(a[1] - a[0], b[1] - b[0]))


LEGAL_SUFFIX = re.compile(r"[,\s]+(?:Inc|Incorporated|Corporation|Corp|Co|LLC|Ltd|L\.P|LP|PLC)\.?$", re.I)


APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})
# a cover sheet's "Organization:" field often gives the name and then its short form after a dash:
# "American Chamber of Commerce in Portugal - Am Cham Portugal"
ALIAS_DASH = re.compile(r"\s+[-–—]\s+")


def _org_names(org: str) -> set[str]:
    """The names one organisation goes by in a string: as given, without a legal suffix, without
    and as its parenthesised acronym ("Center for a New American Security (CNAS)" → also "CNAS"),
    each side of a " - " alias, without a leading "The"; compared in lower case with typographic
    apostrophes made plain and without spaces ("Am Cham Portugal" is "AmCham Portugal", "O’Gara" is
    "O'Gara")."""
    name = (org or "").translate(APOSTROPHES).strip()
    names = {name}
    bracketed = re.match(r"^(.*?)\s*\(([^()]{2,20})\)$", name)
    if bracketed:
        names |= {bracketed.group(1), bracketed.group(2)}
    aliases = ALIAS_DASH.split(name)
    if len(aliases) == 2 and all(len(a) >= 2 for a in aliases):
        names |= set(aliases)
    names |= {LEGAL_SUFFIX.sub("", n) for n in list(names)}
    names |= {re.sub(r"^the\s+", "", n, flags=re.I) for n in list(names)}  # "The AI Policy Network"
    return {re.sub(r"\s+", "", n).lower() for n in names if n.strip()}


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’&-]*", name) if w[0].isupper())


def _same_org(extracted: str, gold: str) -> bool:
    """Two names for the same organisation: equal once a legal suffix or a parenthesised acronym is
    set aside, or one is the other's acronym ("ARI", "Americans for Responsible Innovation")."""
    a, b = _org_names(extracted), _org_names(gold)
    if a & b:
        return True
    return any(
        x.upper() == _initials(y).upper() or y.upper() == _initials(x).upper()
        for x in map(str.strip, (extracted, gold))
        for y in map(str.strip, (extracted, gold))
        if x != y and len(x) >= 2 and x.isupper()
    )


def _quote_span(text: str, quote: str) -> tuple[int, int]:
    """Where a gold quote lies in its paragraph: exactly, else with runs of white space made equal
    (gold is checked as a whitespace-normalised substring), else by its opening or closing words."""
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    words = quote.split()
    if not words:
        return -1, -1
    loose = r"\s*".join(re.escape(w) for w in words)
    match = re.search(loose, text)
    if match:
        return match.start(), match.end()
    head = re.search(r"\s*".join(re.escape(w) for w in words[:6]), text)
    tail = re.search(r"\s*".join(re.escape(w) for w in words[-6:]), text)
    if head:
        return head.start(), min(len(text), head.start() + len(quote))
    if tail:
        return max(0, tail.end() - len(quote)), tail.end()
    return -1, -1


def score_positions(conn, gold_rows: list[dict]) -> Score:
    """A position is found when an extracted quote in the gold item's paragraph covers at least half
    of the gold quote (or the gold quote half of it). Attribution, stance and topic are scored on the
    found ones; links by whether a top-3 linked paragraph lies in the provision the gold names first
    (and in any provision it names). Gold items for documents not in this knowledge base are set
    aside and counted, so one gold folder serves the real corpus and the synthetic fixtures."""
    coverage, gold = _split_gold(gold_rows)
    present = {row[0] for row in conn.execute("select id from documents")}
    locator = Locator(conn)
    score = Score("positions")
    remaining = _predictions(conn, "positions", coverage)  # copies in a campaign are still positions
    links: dict[str, list[str]] = {}
    for row in conn.execute(
        "select l.position_id, p.section_path from position_links l "
        "join paragraphs p on p.id = l.paragraph_id order by l.position_id, l.rank"
    ):
        links.setdefault(row["position_id"], []).append(row["section_path"])
    agree = {"org": 0, "stance": 0, "topic": 0}
    matched_quotes: dict[str, set[str]] = {}  # per document, the quotes found: a verbatim repeat is no new position
    link_first = link_any = link_top1 = linked = 0
    absent = 0
    for item in gold:
        if item["doc"] not in present:
            absent += 1
            continue
        paragraph = locator.locate(item)
        span = _quote_span(paragraph["text"], item["quote"]) if paragraph else (-1, -1)
        candidates = [
            p
            for p in remaining
            if paragraph
            and p["paragraph_id"] == paragraph["id"]
            and _overlap(span, (p["char_start"], p["char_end"])) >= 0.5
        ]
        if not candidates:
            score.false_negatives += 1
            score.misses.append(
                {
                    "doc": item["doc"],
                    "page": item["page"],
                    "org": item["org"],
                    "stance": item["stance"],
                    "topic": item["topic"],
                    "quote": item["quote"][:160],
                    "located": bool(paragraph),
                }
            )
            continue
        found = max(candidates, key=lambda p: _overlap(span, (p["char_start"], p["char_end"])))
        remaining.remove(found)
        matched_quotes.setdefault(found["doc_id"], set()).update({_squash(found["quote"]), _squash(item["quote"])})
        score.true_positives += 1
        for field_name in agree:
            if found[field_name] == item[field_name] or field_name == "org" and _same_org(found["org"], item["org"]):
                agree[field_name] += 1
            else:
                score.notes.setdefault(f"{field_name}_disagreements", []).append(
                    {"quote": item["quote"][:80], "gold": item[field_name], "extracted": found[field_name]}
                )
        if item.get("links"):
            linked += 1
            paths = links.get(found["id"], [])[:3]
            link_first += any(within(path, item["links"][0]) for path in paths)
            link_top1 += bool(paths) and any(within(paths[0], prefix) for prefix in item["links"])
            hit = any(within(path, prefix) for path in paths for prefix in item["links"])
            link_any += hit
            if not hit:
                score.notes.setdefault("link_misses", []).append(
                    {"quote": item["quote"][:80], "gold": item["links"], "extracted": paths}
                )
    # the same words again in the same document (an executive summary restated in the body, a letter
    # attached twice) are the position already found, neither right nor wrong a second time
    repeats = [p for p in remaining if _squash(p["quote"]) in matched_quotes.get(p["doc_id"], set())]
    remaining = [p for p in remaining if p not in repeats]
    score.notes["verbatim_repeats"] = len(repeats)
    score.false_positives = len(remaining)
    score.spurious = [
        {
            "doc": p["doc_id"],
            "page": p["page"],
            "org": p["org"],
            "stance": p["stance"],
            "topic": p["topic"],
            "quote": p["quote"][:160],
        }
        for p in remaining
    ]
    found_count = score.true_positives or 1
    score.notes.update({f"{name}_accuracy": round(count / found_count, 4) for name, count in agree.items()})
    score.notes.update(
        {
            "links_top1": round(link_top1 / linked, 4) if linked else None,
            "links_top3_first": round(link_first / linked, 4) if linked else None,
            "links_top3_any": round(link_any / linked, 4) if linked else None,
            "gold_with_links": linked,
            "gold_for_documents_not_in_kb": absent,
        }
    )
    return score


# each extractor component declares the gold scorer it is measured by (extract.contract)
SCORERS = {contract.gold: globals()[f"score_{contract.gold}"] for contract in CONTRACTS}


def parse_health(conn) -> dict:
    """Signs that parsing or extraction went wrong somewhere, whatever the gold covers."""
    definition_paths = [
        row[0]
        for row in conn.execute(
            "select distinct p.section_path from definitions d join paragraphs p on p.id = d.paragraph_id"
        )
    ]
    empty_definition_sections = []
    # a section or a captioned paragraph headed "Definitions" that yielded no definition
    for row in conn.execute(
        "select doc_id, section_path, text, pin_cite from paragraphs where text like '%Definition%' "
        "and kind = 'heading' and (section_path like '§%' or section_path like 'Supplement%')"
    ):
        if not any(path.startswith(row["section_path"]) for path in definition_paths):
            empty_definition_sections.append(
                {
                    "doc_id": row["doc_id"],
                    "section_path": row["section_path"],
                    "text": row["text"][:80],
                    "pin_cite": row["pin_cite"],
                }
            )
    limit_words = re.compile(
        r"\b(?:up to|not exceeding|may not exceed|more than|less than|at least|or more|greater than)\s+[\d,.]+\b"
    )
    with_thresholds = {row[0] for row in conn.execute("select distinct paragraph_id from thresholds")}
    unitless = []
    for row in conn.execute(
        "select id, section_path, text from paragraphs where doc_id in "
        "(select id from documents where doc_type = 'rule')"
    ):
        if row["id"] not in with_thresholds and limit_words.search(row["text"]):
            unitless.append(
                {
                    "paragraph_id": row["id"],
                    "section_path": row["section_path"],
                    "text": limit_words.search(row["text"]).group(0),
                }
            )
    unresolved = [
        dict(row)
        for row in conn.execute(
            "select m.name, p.section_path, p.pin_cite from country_list_members m "
            "join paragraphs p on p.id = m.paragraph_id where m.iso2 is null"
        )
    ]
    pageless = conn.execute("select count(*) from paragraphs where page is null or page < 1").fetchone()[0]
    subjectless = [
        dict(row)
        for row in conn.execute(
            "select t.value, t.unit, t.matched_text, p.section_path, p.pin_cite from thresholds t "
            "join paragraphs p on p.id = t.paragraph_id "
            "where coalesce(t.subject, '') = '' or t.subject = p.section_path"
        )
    ]
    return {
        "definition_sections_without_definitions": empty_definition_sections,
        "numbers_without_subject": subjectless[:50],
        "numbers_without_subject_count": len(subjectless),
        "preamble_outline_breaks": outline_breaks(conn),
        "table_of_contents_disagreements": toc_disagreements(conn),
        "numeric_limits_without_unit": unitless[:50],
        "numeric_limits_without_unit_count": len(unitless),
        "unresolved_country_names": unresolved,
        "paragraphs_without_page": pageless,
    }


OUTLINE_MARKER = re.compile(r"^(?P<m>[IVX]{1,5}|[A-Z]|\d{1,2}|[a-z]|[ivx]{1,5})\.\s")


def _marker_type(marker: str, parent: str | None) -> str:
    """ "I"/"V"/"X" are Roman at the top and letters below; "i"/"v"/"x" are Roman under a letter."""
    if re.fullmatch(r"[IVX]+", marker) and (len(marker) > 1 or parent is None):
        return "ROMAN"
    if re.fullmatch(r"[ivx]+", marker) and (len(marker) > 1 or parent == "lower"):
        return "roman"
    return "digit" if marker.isdigit() else "upper" if marker.isupper() else "lower"


def outline_breaks(conn) -> list[dict]:
    """Preamble headings whose numbering does not follow from the headings before them: a marker
    type nested under itself, or an ordinal that skips ("C." after "A."). The outline a reader
    sees is the section paths; a break says where the source's numbering (or the parse) slipped."""
    out = []
    rows = conn.execute(
        "select doc_id, section_path, text, pin_cite from paragraphs where kind = 'heading' "
        "and section_path like 'Preamble > %' order by doc_id, ordinal"
    ).fetchall()
    last: dict[tuple[str, str], str] = {}  # (doc, parent path) → previous sibling's marker
    for row in rows:
        parts = row["section_path"].split(" > ")
        markers = [m.group("m") for m in (OUTLINE_MARKER.match(part) for part in parts) if m]
        if not markers:
            continue
        types, parent = [], None
        for marker in markers:
            parent = _marker_type(marker, parent)
            types.append(parent)
        if len(set(types)) < len(types):
            out.append(
                {
                    "doc_id": row["doc_id"],
                    "section_path": row["section_path"],
                    "problem": "a numbering type repeats down the outline",
                    "pin_cite": row["pin_cite"],
                }
            )
            continue
        key = (row["doc_id"], " > ".join(parts[:-1]))
        marker, previous = markers[-1], last.get(key)
        expected = _next_marker(previous) if previous else None
        first = marker in ("I", "A", "1", "a", "i")
        if (previous and marker != expected) or (not previous and not first):
            out.append(
                {
                    "doc_id": row["doc_id"],
                    "section_path": row["section_path"],
                    "problem": f"'{marker}.' follows '{previous or 'nothing'}.'",
                    "pin_cite": row["pin_cite"],
                }
            )
        last[key] = marker
    return out


def toc_disagreements(conn) -> list[dict]:
    """A preamble's table of contents against the headings found: each entry of the contents
    ("II. Expanded Advanced Computing …", "A. New Worldwide License Requirements") that no heading
    of the document matches, and each numbered heading the contents do not list."""
    out = []
    for (doc_id,) in conn.execute(
        "select distinct doc_id from paragraphs where kind = 'heading' and text like 'Table of Contents%'"
    ):
        rows = conn.execute(
            "select text, kind, section_path, pin_cite from paragraphs where doc_id = ? order by ordinal", (doc_id,)
        ).fetchall()
        # SQL's like ignores case: "TABLE OF CONTENTS" in a letter is one too
        start = next(
            i
            for i, r in enumerate(rows)
            if r["kind"] == "heading" and r["text"].lower().startswith("table of contents")
        )
        entries: list[str] = []
        end = start + 1
        for row in rows[start + 1 :]:
            lines = [line.strip() for line in row["text"].split("\n") if line.strip()]
            if row["kind"] == "heading" or not lines or not all(OUTLINE_MARKER.match(line + " ") for line in lines):
                break
            entries.extend(" ".join(line.split()) for line in lines)
            end += 1
        key = lambda text: re.sub(r"\W+", " ", text).strip().lower()  # noqa: E731
        headings = [
            r
            for r in rows[end:]
            if r["kind"] == "heading"
            and r["section_path"].startswith("Preamble")
            and OUTLINE_MARKER.match(r["text"] + " ")
        ]
        found = {key(r["text"]) for r in headings}
        listed = {key(entry) for entry in entries}
        out += [
            {"doc_id": doc_id, "entry": entry, "problem": "listed in the contents, no such heading found"}
            for entry in entries
            if key(entry) not in found
        ]
        out += [
            {
                "doc_id": doc_id,
                "entry": r["text"][:100],
                "problem": "heading not in the contents",
                "pin_cite": r["pin_cite"],
            }
            for r in headings
            if key(r["text"]) not in listed
        ]
    return out


def _next_marker(marker: str) -> str:
    romans = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]
    if marker.lower() in romans and (len(marker) > 1 or marker in ("i", "I")):
        following = romans[romans.index(marker.lower()) + 1]
        return following.upper() if marker.isupper() else following
    if marker.isdigit():
        return str(int(marker) + 1)
    return chr(ord(marker) + 1)


def evaluate(conn: sqlite3.Connection, gold: dict[str, list[dict]]) -> dict:
    conn.row_factory = sqlite3.Row
    by_kind: dict[str, list[dict]] = {}
    by_set: dict[str, dict[str, list[dict]]] = {}
    for key, rows in gold.items():  # "positions_synthetic" is more gold for "positions"
        folder, _, name = key.rpartition("/")
        kind = next((k for k in SCORERS if name == k or name.startswith((f"{k}_", f"{k}."))), None)
        if kind:
            by_kind.setdefault(kind, []).extend(rows)
            set_name = folder.split("/")[0] if folder else ("synthetic" if "synthetic" in name else "corpus")
            by_set.setdefault(set_name, {}).setdefault(kind, []).extend(rows)
    scores = {name: SCORERS[name](conn, rows).to_dict() for name, rows in by_kind.items()}
    # each set of gold alone: the corpus the extractors were first built on, the other rules and the
    # docket that nobody tuned for, the synthetic fixtures (only when they are built in)
    sets = {
        set_name: {
            kind: {k: v for k, v in SCORERS[kind](conn, rows).to_dict().items() if k not in ("misses", "spurious")}
            for kind, rows in kinds.items()
        }
        for set_name, kinds in sorted(by_set.items())
    }
    sets = {
        name: {kind: score for kind, score in kinds.items() if score["tp"] + score["fn"]}
        for name, kinds in sets.items()
    }
    failing = [name for name, score in scores.items() if score["f1"] < FLOORS.get(name, 0)]
    return {
        "scores": scores,
        "by_set": {k: v for k, v in sets.items() if v},
        "floors": FLOORS,
        "failing": failing,
        "health": parse_health(conn),
    }
