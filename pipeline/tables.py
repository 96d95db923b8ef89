"""Comparison tables from the knowledge base: definitions with scope, the country × list
membership matrix, thresholds grouped by quantity and provision, organisation × topic positions,
and claims (what a document says the rule does) against the rule's text. Built as (columns, rows) and
rendered to Markdown, CSV, HTML or JSON; writing the file is the store's job."""
from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3

import pycountry

from .paths import root_of
from .patterns import load_patterns

TABLES = ("definitions", "countries", "thresholds", "positions", "claims", "dates", "diff", "contradictions")
FORMATS = {"md": "md", "csv": "csv", "html": "html", "json": "json"}


def definitions_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    rows = conn.execute("""
        select d.term, d.kind, d.scope, p.section_path, p.pin_cite, d.definition, d.doc_id,
               (select count(*) from term_usages u where u.term_id = d.id) as uses
        from definitions d join paragraphs p on p.id = d.paragraph_id
        order by d.doc_id, lower(d.term)""").fetchall()
    columns = ["term", "kind", "scope", "defined in", "pin cite", "uses", "definition", "document"]
    return columns, [[r["term"], r["kind"], r["scope"], r["section_path"], r["pin_cite"], r["uses"],
                      _clip(r["definition"], 300), r["doc_id"]] for r in rows]


def country_list_columns(lists) -> list[str]:
    """One column name per detected list: its label, document, section and pin cite; two lists of
    one paragraph with the same label are told apart by their order ("… #2")."""
    names: list[str] = []
    for found in lists:
        name = f"{_clip(found['label'], 60)} [{found['doc_id']}, {found['section_path'] or '—'}, {found['pin_cite']}]"
        count = sum(1 for other in names if other == name or other.startswith(name + " #"))
        names.append(name if not count else f"{name} #{count + 1}")
    return names


def countries_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """ISO codes as rows, each detected list as a column headed by its label and pin cite."""
    lists = conn.execute("""
        select l.id, l.label, l.doc_id, p.section_path, p.pin_cite from country_lists l
        join paragraphs p on p.id = l.paragraph_id order by l.doc_id, p.ordinal""").fetchall()
    members: dict[str, set[str]] = {}
    for row in conn.execute("select list_id, iso2 from country_list_members where iso2 is not null"):
        members.setdefault(row["list_id"], set()).add(row["iso2"])
    codes = sorted({code for found in members.values() for code in found})
    columns = ["iso2", "country"] + country_list_columns(lists)
    rows = []
    for code in codes:
        rows.append([code, _country(code)] + ["✓" if code in members.get(l["id"], set()) else "" for l in lists])
    return columns, rows


def thresholds_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    rows = conn.execute("""
        select t.quantity, t.comparator, t.value, t.unit, t.subject, t.matched_text, t.doc_id,
               p.section_path, p.pin_cite
        from thresholds t join paragraphs p on p.id = t.paragraph_id""").fetchall()
    ordered = sorted(rows, key=lambda r: (r["quantity"], r["doc_id"], root_of(r["section_path"]), r["section_path"], r["value"]))
    columns = ["quantity", "provision", "section path", "comparator", "value", "unit", "subject", "matched text",
               "pin cite", "document"]
    return columns, [[r["quantity"], root_of(r["section_path"]) or "—", r["section_path"], r["comparator"],
                      _number(r["value"]), r["unit"], r["subject"], r["matched_text"], r["pin_cite"], r["doc_id"]]
                     for r in ordered]


def positions_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """Organisation × topic: how many positions (a form-letter campaign counts once, its copies
    tallied) and one cited quote per cell, an objection or request before support."""
    topics = [row["topic"] for row in load_patterns("topics") if "topic" in row] + ["other"]
    rows = conn.execute("""
        select o.id, o.org, o.topic, o.stance, o.quote, o.doc_id, p.pin_cite,
               (select count(*) from positions c where c.duplicate_of = o.id) as copies
        from positions o join paragraphs p on p.id = o.paragraph_id
        where o.duplicate_of is null
        order by o.org, o.topic, case o.stance when 'oppose' then 0 when 'request_change' then 1 else 2 end,
                 length(o.quote)""").fetchall()
    cells: dict[tuple[str, str], list[sqlite3.Row]] = {}
    for row in rows:
        cells.setdefault((row["org"], row["topic"]), []).append(row)
    used = [t for t in topics if any(topic == t for _, topic in cells)]
    table = []
    for org in sorted({org for org, _ in cells}):
        line = [org]
        for topic in used:
            found = cells.get((org, topic), [])
            if not found:
                line.append("")
                continue
            copies = sum(r["copies"] for r in found)
            first = found[0]
            line.append(f"{len(found)}" + (f" (+{copies} copies)" if copies else "")
                        + f": {first['stance']} “{_clip(first['quote'], 160)}” ({first['pin_cite']}) [{first['id']}]")
        table.append(line)
    return ["organisation"] + used, table


def _rule_list(conn: sqlite3.Connection, members: dict[str, set[str]], wanted: set[str]) -> sqlite3.Row | None:
    """The rule's own list (regulatory text of the main rule document) that best matches a claimed list."""
    lists = conn.execute("""
        select l.id, l.label, p.section_path, p.pin_cite from country_lists l
        join paragraphs p on p.id = l.paragraph_id join documents d on d.id = l.doc_id
        where d.doc_type = 'rule' and p.section_path like 'Supplement%'
        order by d.page_count desc, p.ordinal""").fetchall()
    def overlap(row) -> float:
        theirs = members.get(row["id"], set())
        return len(theirs & wanted) / len(theirs | wanted) if theirs | wanted else 0.0
    best = max(lists, key=overlap, default=None)
    return best if best is not None and overlap(best) >= 0.3 else None


def claims_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """What a letter or report says the rule does against what the rule text says: its country
    lists against the rule's list they describe (country by country, differences first), and the
    figures it states in passages that take a position or list countries against the rule's
    figures of the same unit."""
    columns = ["document", "claim", "claim pin cite", "kind", "the document says", "the rule says",
               "rule pin cite", "verdict"]
    members: dict[str, set[str]] = {}
    for row in conn.execute("select list_id, iso2 from country_list_members where iso2 is not null"):
        members.setdefault(row["list_id"], set()).add(row["iso2"])
    out: list[list] = []
    claimed = conn.execute("""
        select l.id, l.doc_id, l.label, p.pin_cite from country_lists l join paragraphs p on p.id = l.paragraph_id
        join documents d on d.id = l.doc_id where d.doc_type != 'rule' order by l.doc_id, p.ordinal""").fetchall()
    for claim in claimed:
        wanted = members.get(claim["id"], set())
        rule = _rule_list(conn, members, wanted) if len(wanted) >= 3 else None
        if rule is None:
            continue
        theirs = members.get(rule["id"], set())
        rule_where = f"{rule['section_path']}: {_clip(rule['label'], 60)}"
        out.append([claim["doc_id"], _clip(claim["label"], 60), claim["pin_cite"], "country list (count)",
                    f"{len(wanted)} countries", f"{len(theirs)} destinations", rule["pin_cite"],
                    "same count" if len(wanted) == len(theirs) else "counts differ"])
        for code, says, rule_says, verdict in sorted(
                [(c, "listed", "not listed", "only in the document") for c in wanted - theirs]
                + [(c, "not listed", "listed", "only in the rule") for c in theirs - wanted]
                + [(c, "listed", "listed", "agrees") for c in wanted & theirs],
                key=lambda item: (item[3] == "agrees", item[3], item[0])):
            out.append([claim["doc_id"], _clip(claim["label"], 60), claim["pin_cite"], f"country {code} ({_country(code)})",
                        says, f"{rule_says} in {rule_where}", rule["pin_cite"], verdict])
    # figures: a claim is compared only with the rule's figures of the same unit on the same subject
    rule_figures: dict[str, list[tuple[sqlite3.Row, set[str]]]] = {}
    for row in conn.execute("""
            select t.value, t.unit, t.comparator, t.matched_text, t.char_start, t.char_end, p.text, p.section_path,
                   p.pin_cite from thresholds t
            join paragraphs p on p.id = t.paragraph_id join documents d on d.id = t.doc_id
            where d.doc_type = 'rule' order by d.page_count desc, p.ordinal"""):
        rule_figures.setdefault(row["unit"], []).append((row, figure_subjects(row)))
    stated = conn.execute("""
        select t.doc_id, t.value, t.unit, t.comparator, t.matched_text, t.char_start, t.char_end, p.text, p.pin_cite
        from thresholds t
        join paragraphs p on p.id = t.paragraph_id join documents d on d.id = t.doc_id
        where d.doc_type != 'rule' and (t.paragraph_id in (select paragraph_id from positions)
                                        or t.paragraph_id in (select paragraph_id from country_lists))
        order by t.doc_id, p.ordinal, t.char_start""").fetchall()
    for claim in stated:
        subjects = figure_subjects(claim)
        comparable = [row for row, theirs in rule_figures.get(claim["unit"], []) if subjects & theirs]
        exact = [r for r in comparable if abs(r["value"] - claim["value"]) <= 1e-9 * max(abs(r["value"]), 1)]
        nearest = exact[0] if exact else min(comparable, key=lambda r: abs(r["value"] - claim["value"]), default=None)
        subject = ", ".join(sorted(subjects)) or "no subject the rule's figures have"
        if nearest is None:
            rule_says, verdict = "—", "no provision states this"
        else:
            rule_says = (f"{_number(nearest['value'])} {nearest['unit']} (“{_clip(nearest['matched_text'], 60)}”, "
                         f"{nearest['section_path'] or '—'})")
            verdict = "matches" if exact else (f"differs (rule: {_number(nearest['value'])} {nearest['unit']} "
                                               f"at {nearest['pin_cite'] or nearest['section_path']})")
        out.append([claim["doc_id"], claim["matched_text"], claim["pin_cite"], f"figure ({claim['unit']}; {subject})",
                    f"{claim['comparator']} {_number(claim['value'])} {claim['unit']}", rule_says,
                    nearest["pin_cite"] if nearest else "", verdict])
    return columns, out


def _context(text: str, start: int, end: int) -> str:
    """The sentence a figure stands in, with the one before it (what a figure is about is often said
    just before: "…the rules take effect only 60 days after publication")."""
    before = max(text.rfind(mark, 0, max(start - 1, 0)) for mark in ".。;；")
    before = max(text.rfind(mark, 0, before) for mark in ".。;；") if before > 0 else before
    after = [i for i in (text.find(mark, end) for mark in ".。;；") if i >= 0]
    return text[before + 1:(min(after) + 1) if after else len(text)]


def figure_subjects(row) -> set[str]:
    """The subjects (patterns/claims.jsonl) of a figure of this unit, from the words around it."""
    around = _context(row["text"] or "", row["char_start"] or 0, row["char_end"] or 0)
    found = set()
    for subject in load_patterns("claims"):
        if row["unit"] in subject["units"] and any(re.search(cue, around, re.I) for cue in subject["cues"]):
            found.add(subject["subject"])
    return found


def _country(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def _dates(conn):
    from .dates import dates_table
    return dates_table(conn)


def _diff(conn):
    from .diff import diff_table
    return diff_table(conn)


def _contradictions(conn):
    from .contradictions import contradictions_table
    return contradictions_table(conn)


BUILDERS = {"definitions": definitions_table, "countries": countries_table, "thresholds": thresholds_table,
            "positions": positions_table, "claims": claims_table, "dates": _dates, "diff": _diff,
            "contradictions": _contradictions}
TITLES = {"definitions": "Defined terms and their scope", "countries": "Countries × lists",
          "thresholds": "Thresholds by quantity and provision", "positions": "Who objects to what: organisation × topic",
          "claims": "What documents say the rule does vs. the rule text",
          "dates": "Dates and periods that govern something, resolved", "diff": "Public inspection vs. published text",
          "contradictions": "The rule against itself"}


def build_table(conn: sqlite3.Connection, name: str) -> tuple[list[str], list[list]]:
    conn.row_factory = sqlite3.Row
    return BUILDERS[name](conn)


def render(columns: list[str], rows: list[list], fmt: str, title: str = "") -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue()
    if fmt == "html":
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "\n".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
        return (f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<h1>{html.escape(title)}</h1><table border='1'><thead><tr>{head}</tr></thead>"
                f"<tbody>\n{body}\n</tbody></table>\n")
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")
    lines = [f"# {title}", "", "| " + " | ".join(cell(c) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float | None) -> str:
    if value is None:  # a calendar date (unit 'date'): its value is value_text
        return ""
    return f"{value:.6g}" if abs(value) >= 1e9 or (value and abs(value) < 1e-3) else f"{value:,.10g}"
