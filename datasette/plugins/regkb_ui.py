"""regkb's datasette plugin: what metadata.yaml and the templates cannot say on their own.

- the knowledge base is published as /regkb whatever its file is called, so the metadata, the
  templates and every link can name it;
- SQL functions that let canned queries use regkb's own logic: `fts_match` (the search syntax of
  `regkb search`), `provision` (the provision a section path belongs to), `country_name`;
- the two canned queries whose columns come from the data: the positions matrix (one column per
  topic of the taxonomy in pipeline/patterns/topics.jsonl) and the country × list matrix (one
  column per list found in this build);
- cells: a paragraph id or pin cite in query results links to the paragraph's page, an organisation
  to its positions, search snippets show their highlights;
- the paragraph page's context: its document (source, licence) and neighbouring paragraphs;
- errors answered with their own status (see the note on rich below), and a bad query-string value
  answered 400, not 500;
- a POST (or any other write method) to a table or to a canned query that is not a write query
  answered 405 Method Not Allowed, not datasette 0.65's 500;
- arbitrary SQL (the ?sql= page, a table's _where, anything but a canned query) stopped after
  ARBITRARY_SQL_TIME_LIMIT_MS: the server's sql_time_limit_ms (5 s, see pipeline/serve.py) is raised
  for the canned matrices only, so a recursive CTE cannot burn seconds of CPU per request.
"""
from __future__ import annotations

import contextvars
import json
import re
import sqlite3
from urllib.parse import unquote, urlencode

import markupsafe
import datasette.handle_exception as default_errors  # a module, so pluggy does not take its hook as ours
from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import BadRequest
from datasette.views.base import DatasetteError

from pipeline.paths import root_of
from pipeline.patterns import load_patterns
from pipeline.query import _terms, _unspace
from pipeline.tables import _clip, _country

KB = "regkb"
INTERNAL = ("_internal", "_memory")
# what any SQL but a canned query's may take (datasette's own default): the server's limit is raised for
# the canned matrices, which join thousands of rows
ARBITRARY_SQL_TIME_LIMIT_MS = 1000
# the canned queries this plugin adds (the others are in metadata.yaml)
PLUGIN_QUERIES = ("positions_matrix", "country_matrix")
# /regkb/<table or canned query>[.json|.csv]: the pages a POST can reach a view through
PAGE = re.compile(r"^/regkb/([^/]+?)(?:\.(?:json|csv))?$")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
# whether the request being answered is a canned query's (each request runs in its own context)
_CANNED_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar("regkb_canned_request", default=False)

# datasette 0.65 logs every error with rich when rich is installed (regkb depends on it), also outside an
# except block, where rich raises: an unknown URL or a POST to a write endpoint then answers 500 instead
# of 404. Without rich, datasette logs nothing extra and answers with the error's own status.
default_errors.rich = None


@hookimpl
def handle_exception(datasette, request, exception):
    """Datasette 0.65 answers some values of its own query-string parameters with a 500, as if the
    server had failed: a `_sort` column the table lacks, a `_timelimit` that is no number, a
    `_through` that is no JSON, a NUL in a facet or `_where`. They are the request's fault: answered
    with datasette's own 400 page and message. Every other error keeps datasette's handling."""
    if not _bad_parameter(request, exception):
        return None
    return default_errors.handle_exception(datasette, request, BadRequest(str(exception)))


def _bad_parameter(request, exception: Exception) -> bool:
    if isinstance(exception, DatasetteError):
        return str(exception.message).startswith("Cannot sort table by")
    if isinstance(exception, sqlite3.ProgrammingError):
        return "null character" in str(exception) and "\x00" in unquote(request.query_string)
    if isinstance(exception, (ValueError, TypeError, KeyError)):  # json.JSONDecodeError is a ValueError
        return (_unparsable(request.args.get("_timelimit"), int)
                or _unparsable(request.args.get("_through"), _through_object))
    return False


def _through_object(value: str) -> dict:
    """`_through` is a JSON object naming table, column and value."""
    through = json.loads(value)
    if not isinstance(through, dict) or not {"table", "column", "value"} <= through.keys():
        raise ValueError("_through must be a JSON object with table, column and value")
    return through


def _unparsable(value: str | None, parse) -> bool:
    if value is None:
        return False
    try:
        parse(value)
    except ValueError:
        return True
    return False


@hookimpl
def startup(datasette):
    served = [name for name in datasette.databases if name not in INTERNAL]
    if served and KB not in served:
        database = datasette.databases[served[0]]
        datasette.remove_database(served[0])
        datasette.add_database(database, name=KB)
    if KB in datasette.databases:
        _limit_arbitrary_sql(datasette.databases[KB])


def _limit_arbitrary_sql(database) -> None:
    """Every query on the knowledge base but a canned query's runs under ARBITRARY_SQL_TIME_LIMIT_MS
    (datasette takes the smaller of a query's own limit and the server's)."""
    if getattr(database, "regkb_limited", False):
        return
    execute = database.execute

    async def limited(sql, params=None, truncate=False, custom_time_limit=None, page_size=None, log_sql_errors=True):
        if not _CANNED_REQUEST.get():
            custom_time_limit = min(custom_time_limit or ARBITRARY_SQL_TIME_LIMIT_MS, ARBITRARY_SQL_TIME_LIMIT_MS)
        return await execute(sql, params, truncate=truncate, custom_time_limit=custom_time_limit,
                             page_size=page_size, log_sql_errors=log_sql_errors)

    database.execute = limited
    database.regkb_limited = True


def _canned(datasette, name: str) -> dict | None:
    """The canned query of that name ({} for the plugin's own), or None. Read from the metadata, not
    through datasette.get_canned_queries, which runs the country matrix's SQL each time."""
    if name in PLUGIN_QUERIES:
        return {}
    query = (datasette.metadata("queries", database=KB) or {}).get(name)
    if query is None:
        return None
    return query if isinstance(query, dict) else {"sql": query}


@hookimpl
def asgi_wrapper(datasette):
    """A POST to a table or to a canned query that does not write is a method the page does not take:
    405 (datasette 0.65 failed it with a 500: an assertion for a table, a view returning a tuple for a
    canned query). A write query keeps datasette's answer (403: the database is immutable). Marks
    canned-query requests for _limit_arbitrary_sql."""
    def wrap(app):
        async def regkb_app(scope, receive, send):
            if scope.get("type") != "http":
                return await app(scope, receive, send)
            page = PAGE.match(scope.get("path", ""))
            canned = _canned(datasette, tilde_decode(page.group(1))) if page else None
            if page and scope.get("method", "GET") not in READ_METHODS and not (canned and canned.get("write")):
                body = b"405 Method Not Allowed: the knowledge base is read-only; this page answers GET\n"
                await send({"type": "http.response.start", "status": 405,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            token = _CANNED_REQUEST.set(canned is not None)
            try:
                return await app(scope, receive, send)
            finally:
                _CANNED_REQUEST.reset(token)
        return regkb_app
    return wrap


@hookimpl
def prepare_connection(conn):
    # an empty search matches nothing rather than failing: FTS5 rejects an empty expression
    conn.create_function("fts_match", 1, lambda words: " AND ".join(_terms(words or "")) or '""',
                         deterministic=True)
    conn.create_function("provision", 1, lambda path: root_of(path or ""), deterministic=True)
    conn.create_function("country_name", 1, lambda code: _country(code) if code else None, deterministic=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _name(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def positions_matrix() -> dict:
    topics = [row["topic"] for row in load_patterns("topics") if "topic" in row] + ["other"]
    per_topic = ",\n  ".join(f"sum(topic = {_literal(t)}) as {_name(t)}" for t in topics)
    return {
        "title": "Positions: organisation × topic",
        "description": "How many positions (objections, requested changes, support) each organisation takes "
                       "on each topic. A form-letter campaign counts once; its copies are tallied in `copies`. "
                       "Click an organisation for its positions and quotes.",
        "hide_sql": True,
        "sql": f"""select org,
  count(*) as positions,
  sum(stance = 'oppose') as oppose,
  sum(stance = 'request_change') as request_change,
  sum(stance = 'support') as support,
  sum((select count(*) from positions c where c.duplicate_of = o.id)) as copies,
  {per_topic}
from positions o
where duplicate_of is null
group by org
order by org""",
    }


async def country_matrix(db) -> dict:
    lists = (await db.execute("""
        select l.id, l.label, l.doc_id, p.section_path, p.pin_cite from country_lists l
        join paragraphs p on p.id = l.paragraph_id order by l.doc_id, p.ordinal""")).rows
    from pipeline.tables import country_list_columns  # one naming of the columns for both surfaces

    per_list = "".join(
        f",\n  max(case when list_id = {_literal(l['id'])} then '✓' else '' end) as " + _name(name)
        for l, name in zip(lists, country_list_columns(lists)))
    return {
        "title": "Countries × lists",
        "description": "One row per country (ISO 3166-1 alpha-2) named in any detected country list, one column "
                       "per list (its label, document, section and pin cite); ✓ where the list names the country. "
                       "Supplement No. 5 to Part 740(a) beside a letter's list shows what the letter adds or leaves out.",
        "hide_sql": True,
        "sql": f"""select iso2, country_name(iso2) as country{per_list}
from (select distinct list_id, iso2 from country_list_members where iso2 is not null)
group by iso2
order by iso2""",
    }


@hookimpl
def canned_queries(datasette, database):
    if database != KB:
        return None

    async def queries():
        return {"positions_matrix": positions_matrix(),
                "country_matrix": await country_matrix(datasette.get_database(KB))}
    return queries


def _paragraph_link(datasette, database: str, paragraph_id: str, label: str) -> markupsafe.Markup:
    href = datasette.urls.row(database, "paragraphs", tilde_encode(paragraph_id))
    return markupsafe.Markup('<a class="paragraph-link" href="{}">{}</a>').format(href, label)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Query results only: table pages already link paragraph_id through its foreign key."""
    if table is not None or database != KB or not isinstance(value, str) or not value:
        return None
    if column == "snippet":
        # the snippet marks matches with <mark>; everything else in it is the source's text
        escaped = str(markupsafe.escape(_unspace(value)))
        return markupsafe.Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))
    if column == "org":
        href = datasette.urls.table(database, "positions") + "?" + urlencode({"org": value, "duplicate_of__isnull": 1})
        return markupsafe.Markup('<a href="{}">{}</a>').format(href, value)
    if column == "paragraph_id" or column.endswith("_paragraph_id"):
        return _paragraph_link(datasette, database, value, value)
    if column == "pin_cite" or column.endswith("_pin_cite"):
        paragraph_column = column[: -len("pin_cite")] + "paragraph_id"
        if paragraph_column in row.keys() and row[paragraph_column]:
            return _paragraph_link(datasette, database, row[paragraph_column], value)
    return None


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    if view_name != "row" or table != "paragraphs" or database != KB:
        return None

    async def paragraph_page():
        """The document and the neighbouring paragraphs, by the same canned queries the UI lists."""
        db = datasette.get_database(KB)
        paragraph_id = tilde_decode(request.url_vars["pks"])
        context_sql = (await datasette.get_canned_query(KB, "paragraph_context", request.actor))["sql"]
        context = (await db.execute(context_sql, {"id": paragraph_id})).rows
        here = [row for row in context if row["this_paragraph"]]
        document = None
        if here:
            corpus_sql = (await datasette.get_canned_query(KB, "corpus", request.actor))["sql"]
            found = (await db.execute(corpus_sql, {"doc": here[0]["doc_id"]})).rows
            document = found[0] if found else None
        return {"context": context, "document": document,
                "row_url": lambda table, pk: datasette.urls.row(KB, table, tilde_encode(pk))}
    return paragraph_page
