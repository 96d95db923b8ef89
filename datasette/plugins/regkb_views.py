"""regkb's issue-14 views as datasette pages: what researchers ask next, answered by the same library
functions as the CLI commands and the report, on the database datasette serves (immutable, read-only).

- /-/regkb                     the list of these pages (also in datasette's menu and the database's cog menu)
- /-/regkb/diff?section=…      `regkb diff`: the public-inspection PDF against the published text
                               (a=, b= other documents; all=1 lists the unchanged paragraphs too)
- /-/regkb/provision?path=…    `regkb provision`: a provision's whole story (doc= a rule document)
- /-/regkb/term?name=…         `regkb term`: a term's definitions, wordings and uses
- /-/regkb/dates               `regkb table dates`: the rule's dates resolved into a timeline
- /-/regkb/contradictions      `regkb contradictions`: where the rule disagrees with itself (doc=)

Each page is a template of datasette/templates/ (regkb-*.html) extending datasette's base page, so it
looks like the others; every value is escaped by Jinja (a letter's words may be markup). Every pin cite
whose paragraph is known links to that paragraph's page. A bad parameter (missing, too long, a NUL) is
answered 400 and a provision, term or document the knowledge base does not have 404, both on datasette's
own error page. Read side: neither spaCy nor torch is imported (tests/test_house.py).
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlencode

from datasette.utils import tilde_encode
from datasette.utils.asgi import BadRequest, NotFound, Response

from datasette import hookimpl
from pipeline.contradictions import find as find_contradictions
from pipeline.dates import claimed_dates, governing_dates
from pipeline.diff import PUBLIC_INSPECTION, PUBLISHED, compare, status_label
from pipeline.models import RegkbError
from pipeline.story import provision_story, term_story

KB = "regkb"
BASE = "/-/regkb"
MAX_PARAMETER = 300  # characters: a section path, provision, term or document id is far shorter
UNCHANGED = ("identical", "unchanged", "typography")
ANCHORS = {
    "date": "calendar date",
    "publication": "after publication",
    "event": "after an event (flagged)",
    "duration": "a duration (no start)",
}

PAGES = [  # (path, menu label, what it answers, an example's parameters)
    (
        "diff",
        "Versions compared",
        "the public-inspection PDF against the published regulatory text, paragraph by "
        "paragraph: unchanged, changed (word by word) or only in one version",
        {},
    ),
    (
        "provision",
        "A provision's story",
        "its text, the definitions it uses, thresholds, country lists, what the "
        "preamble says about it, its changes between versions and every position on it",
        {"path": "§ 742.6(b)(10)"},
    ),
    (
        "term",
        "A term's story",
        "every definition of a term, grouped by wording, with scope and pin cite, and every paragraph that uses it",
        {"name": "ultimate consignee"},
    ),
    (
        "dates",
        "Dates of the rule",
        "every date and period that governs something, resolved to a calendar date where "
        "it is counted from publication",
        {},
    ),
    (
        "contradictions",
        "The rule against itself",
        "the same quantity with different values, a term defined in two "
        "wordings, cross-references to paragraphs the rule does not contain",
        {},
    ),
]


# ----------------------------------------------------------------------------- parameters and data


def _parameter(request, name: str, required: bool = False, default: str | None = None) -> str | None:
    value = request.args.get(name)
    if value is not None:
        value = " ".join(value.split())
    if not value:
        if required:
            raise BadRequest(f"give ?{name}=… (see {BASE} for examples)")
        return default
    if "\x00" in value:
        raise BadRequest(f"?{name}= may not contain a NUL character")
    if len(value) > MAX_PARAMETER:
        raise BadRequest(f"?{name}= is {len(value)} characters long; at most {MAX_PARAMETER}")
    return value


async def _read(datasette, fn):
    """fn(conn) on a connection of the served knowledge base; what the knowledge base does not hold is a 404."""
    if KB not in datasette.databases:
        raise NotFound("no knowledge base is served")
    try:
        return await datasette.get_database(KB).execute_fn(fn)
    except RegkbError as exc:
        raise NotFound(str(exc)) from exc


def _paragraphs_of(conn: sqlite3.Connection, table: str, ids) -> dict[str, str]:
    """The paragraph each row of an extracted table (definitions, thresholds, positions) quotes."""
    ids = [i for i in dict.fromkeys(ids) if i]
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            conn.execute(
                f"select id, paragraph_id from {table} where id in ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
        )
    return found


def _view_url(datasette, page: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return datasette.urls.path(f"{BASE}/{page}") + (f"?{query}" if query else "")


def _context(datasette, request, title: str, **values) -> dict:
    def paragraph_url(paragraph_id: str | None) -> str | None:
        return datasette.urls.row(KB, "paragraphs", tilde_encode(paragraph_id)) if paragraph_id else None

    def row_url(table: str, pk: str) -> str:
        return datasette.urls.row(KB, table, tilde_encode(pk))

    return {
        "title": title,
        "database": KB,
        "database_color": lambda database: "ff0000",
        "pages": PAGES,
        "paragraph_url": paragraph_url,
        "row_url": row_url,
        "view_url": lambda page, **params: _view_url(datasette, page, **params),
        "base": datasette.urls.path(BASE),
        **values,
    }


async def _render(datasette, request, template: str, title: str, **values) -> Response:
    html = await datasette.render_template(template, _context(datasette, request, title, **values), request=request)
    return Response.html(html)


# ----------------------------------------------------------------------------- pages


async def index(datasette, request):
    return await _render(datasette, request, "regkb-views.html", "What researchers ask next")


async def diff(datasette, request):
    section = _parameter(request, "section")
    doc_a = _parameter(request, "a", default=PUBLIC_INSPECTION)
    doc_b = _parameter(request, "b", default=PUBLISHED)
    show_all = _parameter(request, "all") not in (None, "0", "false", "no")

    def read(conn):
        comparison = compare(conn, doc_a, doc_b, section)
        rows = []
        for row in comparison.rows:
            if row.status in UNCHANGED and not show_all:
                continue
            rows.append(
                {
                    **row.to_dict(),
                    "label": status_label(row, doc_a, doc_b),
                    "a_ids": (row.a_id or "").split("+") if row.a_id else [],
                }
            )
        order = {"changed": 0, "only_in_b": 1, "only_in_a": 2}
        if not show_all:
            rows.sort(key=lambda r: order.get(r["status"], 3))
        return comparison.counts(), rows

    counts, rows = await _read(datasette, read)
    return await _render(
        datasette,
        request,
        "regkb-diff.html",
        f"{doc_b} against {doc_a}" + (f" under {section}" if section else ""),
        counts=counts,
        rows=rows,
        section=section or "",
        doc_a=doc_a,
        doc_b=doc_b,
        show_all=show_all,
    )


async def provision(datasette, request):
    path = _parameter(request, "path", required=True)
    doc_id = _parameter(request, "doc")

    def read(conn):
        story = provision_story(conn, path, doc_id)
        definition_paragraphs = _paragraphs_of(conn, "definitions", [d["id"] for d in story["uses"]])
        threshold_paragraphs = _paragraphs_of(conn, "thresholds", [t["id"] for t in story["thresholds"]])
        list_paragraphs = _paragraphs_of(conn, "country_lists", [cl["id"] for cl in story["country_lists"]])
        quotes = [q for group in story["positions"] for q in group["quotes"]]
        position_paragraphs = _paragraphs_of(conn, "positions", [q["id"] for q in quotes])
        defines_paragraphs = _paragraphs_of(conn, "definitions", [d["id"] for d in story["defines"]])
        return story, {
            **definition_paragraphs,
            **threshold_paragraphs,
            **list_paragraphs,
            **position_paragraphs,
            **defines_paragraphs,
        }

    story, paragraph_of = await _read(datasette, read)
    return await _render(
        datasette,
        request,
        "regkb-provision.html",
        f"{story['provision']}: its whole story",
        story=story,
        paragraph_of=paragraph_of,
        total=sum(g["count"] for g in story["positions"]),
    )


async def term(datasette, request):
    name = _parameter(request, "name", required=True)

    def read(conn):
        story = term_story(conn, name)
        ids = [d["id"] for d in story["definitions"]] + [d["id"] for d in story["mentioned_in"]]
        return story, _paragraphs_of(conn, "definitions", ids)

    story, paragraph_of = await _read(datasette, read)
    return await _render(
        datasette,
        request,
        "regkb-term.html",
        f"“{story['term']}”: its whole story",
        story=story,
        paragraph_of=paragraph_of,
    )


async def dates(datasette, request):
    def read(conn):
        rows = [{**g.to_dict(), "anchor_label": ANCHORS.get(g.anchor, g.anchor)} for g in governing_dates(conn)]
        claims = claimed_dates(conn)
        return rows, claims, _paragraphs_of(conn, "thresholds", [c["id"] for c in claims])

    rows, claims, paragraph_of = await _read(datasette, read)
    return await _render(
        datasette,
        request,
        "regkb-dates.html",
        "Dates of the rule",
        rows=rows,
        claims=claims,
        paragraph_of=paragraph_of,
        resolved=sum(1 for r in rows if r["resolved"]),
    )


async def contradictions(datasette, request):
    doc_id = _parameter(request, "doc")

    def read(conn):
        if (
            doc_id
            and conn.execute("select 1 from documents where id = ? and doc_type = 'rule'", (doc_id,)).fetchone() is None
        ):
            raise RegkbError(f"no rule document {doc_id!r} in the knowledge base (see `regkb docs`)")
        return [c.to_dict() for c in find_contradictions(conn, [doc_id] if doc_id else None)]

    found = await _read(datasette, read)
    return await _render(
        datasette, request, "regkb-contradictions.html", "The rule against itself", found=found, doc_id=doc_id or ""
    )


@hookimpl
def register_routes():
    return [
        (rf"^{BASE}/?$", index),
        (rf"^{BASE}/diff$", diff),
        (rf"^{BASE}/provision$", provision),
        (rf"^{BASE}/term$", term),
        (rf"^{BASE}/dates$", dates),
        (rf"^{BASE}/contradictions$", contradictions),
    ]


def _links(datasette) -> list[dict]:
    return [{"href": datasette.urls.path(BASE), "label": "regkb: what researchers ask next"}] + [
        {"href": _view_url(datasette, page, **example), "label": label} for page, label, _, example in PAGES
    ]


@hookimpl
def menu_links(datasette):
    return _links(datasette)


@hookimpl
def database_actions(datasette, database):
    return _links(datasette) if database == KB else None
