"""Comparison tables from the knowledge base: definitions with scope, the country × list
membership matrix, thresholds grouped by quantity and provision, organisation × topic positions,
and claims (what a document says the rule does) against the rule's text, read from the knowledge
base's views (store.schema, migration 009; pipeline.readmodel names them); dates, the diff of the
rule's two versions and its contradictions computed by their modules. Built as (columns, rows) and
rendered to Markdown, CSV, HTML or JSON; writing the file is the store's job."""

from __future__ import annotations

import csv
import html
import io
import json
import sqlite3

from .models import RegkbError
from .readmodel import (
    CHECK,
    COUNTRY_LIST_COLUMNS,
    COUNTRY_MATRIX_LABELS,
    LINK_COLUMNS,
    POSITIONS_MATRIX_LABEL,
    TABLES,
    TITLES,  # noqa: F401 - taken from here by xlsx and the tests
    VIEWS,
    figure_subjects,  # noqa: F401
    missing_views,
    register,
    topics,
)

# what other modules and tests took from here before the read model had its own module
from .readmodel import clip as _clip  # noqa: F401
from .readmodel import country_name as _country  # noqa: F401
from .readmodel import number_text as _number  # noqa: F401

FORMATS = {"md": "md", "csv": "csv", "html": "html", "json": "json"}


def view_rows(conn: sqlite3.Connection, view: str) -> tuple[list[str], list[list]]:
    """A view's rows without the columns that only name a row's paragraph (readmodel.LINK_COLUMNS)."""
    cursor = conn.execute(f"select * from {view}")
    names = [column[0] for column in cursor.description]
    keep = [i for i, name in enumerate(names) if name not in LINK_COLUMNS]
    return [names[i] for i in keep], [[row[i] for i in keep] for row in cursor]


def definitions_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    return view_rows(conn, VIEWS["definitions"])


def thresholds_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    return view_rows(conn, VIEWS["thresholds"])


def claims_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """What a letter or report says the rule does against what the rule text says (view claims_vs_rule)."""
    return view_rows(conn, VIEWS["claims"])


def countries_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """ISO codes as rows, each detected list as a column headed by its label and pin cite: the view
    countries_by_list pivoted on the columns of country_list_columns."""
    lists = conn.execute(f"select list_id, list from {COUNTRY_LIST_COLUMNS} order by position").fetchall()
    found: dict[str, tuple[str, set[str]]] = {}
    for iso2, country, list_id in conn.execute(f"select iso2, country, list_id from {VIEWS['countries']}"):
        found.setdefault(iso2, (country, set()))[1].add(list_id)
    rows = [
        [code, country] + [CHECK if list_id in members else "" for list_id, _ in lists]
        for code, (country, members) in found.items()
    ]
    return list(COUNTRY_MATRIX_LABELS) + [name for _, name in lists], rows


def positions_table(conn: sqlite3.Connection) -> tuple[list[str], list[list]]:
    """Organisation × topic: the view positions_by_topic pivoted, the topics in the taxonomy's order
    (only those some organisation takes)."""
    cells: dict[str, dict[str, str]] = {}
    for organisation, topic, cell in conn.execute(f"select organisation, topic, cell from {VIEWS['positions']}"):
        cells.setdefault(organisation, {})[topic] = cell
    used = [topic for topic in topics() if any(topic in row for row in cells.values())]
    return [POSITIONS_MATRIX_LABEL] + used, [
        [organisation] + [row.get(topic, "") for topic in used] for organisation, row in cells.items()
    ]


def _dates(conn):
    from .dates import dates_table

    return dates_table(conn)


def _diff(conn):
    from .diff import diff_table

    return diff_table(conn)


def _contradictions(conn):
    from .contradictions import contradictions_table

    return contradictions_table(conn)


BUILDERS = {
    "definitions": definitions_table,
    "countries": countries_table,
    "thresholds": thresholds_table,
    "positions": positions_table,
    "claims": claims_table,
    "dates": _dates,
    "diff": _diff,
    "contradictions": _contradictions,
}
assert tuple(BUILDERS) == TABLES


def build_table(conn: sqlite3.Connection, name: str) -> tuple[list[str], list[list]]:
    conn.row_factory = sqlite3.Row
    register(conn)
    if name in VIEWS:
        missing = missing_views(conn)
        if missing:
            raise RegkbError(
                f"this knowledge base lacks the view{'s' * (len(missing) > 1)} {', '.join(missing)} "
                "(built by an older regkb?); run `regkb build` again"
            )
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
        return (
            f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><table border='1'><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{body}\n</tbody></table>\n"
        )

    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", "", "| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
