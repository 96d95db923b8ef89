"""Comparison tables from the knowledge base: definitions with scope, the country × list
membership matrix, thresholds grouped by quantity and provision. Built as (columns, rows) and
rendered to Markdown, CSV, HTML or JSON; writing the file is the store's job."""
from __future__ import annotations

import csv
import html
import io
import json
import sqlite3

import pycountry

from .extract.common import root_of

TABLES = ("definitions", "countries", "thresholds")
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


def countries_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """ISO codes as rows, each detected list as a column headed by its label and pin cite."""
    lists = conn.execute("""
        select l.id, l.label, l.doc_id, p.section_path, p.pin_cite from country_lists l
        join paragraphs p on p.id = l.paragraph_id order by l.doc_id, p.ordinal""").fetchall()
    members: dict[str, set[str]] = {}
    for row in conn.execute("select list_id, iso2 from country_list_members where iso2 is not null"):
        members.setdefault(row["list_id"], set()).add(row["iso2"])
    codes = sorted({code for found in members.values() for code in found})
    columns = ["iso2", "country"] + [f"{_clip(l['label'], 60)} [{l['doc_id']}, {l['section_path'] or '—'}, {l['pin_cite']}]"
                                     for l in lists]
    rows = []
    for code in codes:
        country = pycountry.countries.get(alpha_2=code)
        name = getattr(country, "common_name", None) or (country.name if country else code)
        rows.append([code, name] + ["✓" if code in members.get(l["id"], set()) else "" for l in lists])
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


BUILDERS = {"definitions": definitions_table, "countries": countries_table, "thresholds": thresholds_table}


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


def _number(value: float) -> str:
    return f"{value:.6g}" if abs(value) >= 1e9 or (value and abs(value) < 1e-3) else f"{value:,.10g}"
