"""regkb's datasette plugin: what metadata.yaml and the templates cannot say on their own.

- the knowledge base is published as /regkb whatever its file is called, so the metadata, the
  templates and every link can name it;
- SQL functions: `fts_match` (the search syntax of `regkb search`) for the search query, and the
  functions the comparison views call (pipeline.readmodel.register: `provision`, `country_name`,
  `clip`, `number_text`), so that the views `regkb table` and the report read are served as they are;
- the views' titles and descriptions, from pipeline.readmodel (one wording for every surface);
- the two canned queries whose columns come from the data, over the views: the positions matrix
  counted (one column per topic of the taxonomy in pipeline/patterns/topics.jsonl) and the country ×
  list matrix (one column per list found in this build: `regkb table countries`);
- cells: a paragraph id or pin cite in query results and views links to the paragraph's page, a
  position or list id to its row, an organisation to its positions, search snippets show their highlights;
- the paragraph page's context: its document (source, licence) and neighbouring paragraphs;
- errors answered with their own status (see the note on rich below), and a bad query-string value
  answered 400, not 500;
- a POST (or any other write method) to a table or to a canned query that is not a write query
  answered 405 Method Not Allowed, not datasette 0.65's 500;
- arbitrary SQL (the ?sql= page, a table's _where, anything but a canned query) stopped after
  ARBITRARY_SQL_TIME_LIMIT_MS: the server's sql_time_limit_ms (5 s, see pipeline/serve.py) is raised
  for the canned queries and the comparison views' pages (without a `_where`) only, so a recursive CTE
  cannot burn seconds of CPU per request.
"""

from __future__ import annotations

import contextvars
import json
import re
import sqlite3
from urllib.parse import parse_qs, unquote, urlencode

import datasette.handle_exception as default_errors  # a module, so pluggy does not take its hook as ours
import markupsafe
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import BadRequest
from datasette.views.base import DatasetteError

from datasette import hookimpl
from pipeline.query import _terms, _unspace
from pipeline.readmodel import (
    ALL_VIEWS,
    CHECK,
    COUNTRY_LIST_COLUMNS,
    COUNTRY_MATRIX_LABELS,
    DATASETTE_TEXT,
    VIEWS,
    register,
    topics,
)

KB = "regkb"
INTERNAL = ("_internal", "_memory")
# what any SQL but a canned query's or a comparison view's may take (datasette's own default): the server's
# limit is raised for those, which join thousands of rows
ARBITRARY_SQL_TIME_LIMIT_MS = 1000
# the canned queries this plugin adds (the others are in metadata.yaml)
PLUGIN_QUERIES = ("positions_matrix", "country_matrix")
# /regkb/<table or canned query>[.json|.csv]: the pages a POST can reach a view through
PAGE = re.compile(r"^/regkb/([^/]+?)(?:\.(?:json|csv))?$")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
# a result column naming a row of another table than paragraphs (views and queries know no foreign keys)
ROW_LINKS = {"position_id": "positions", "list_id": "country_lists", "threshold_id": "thresholds"}
# whether the request being answered is a canned query's or a view's (each request runs in its own context)
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
        return (
            _unparsable(request.args.get("_timelimit"), int)
            or _unparsable(request.args.get("_through"), _through_object)
            # a view's pages are counted by offset: its `_next` is a number (a table's is a key)
            or (_is_view(request.path) and _unparsable(request.args.get("_next"), int))
        )
    return False


def _is_view(path: str) -> bool:
    page = PAGE.match(path)
    return page is not None and tilde_decode(page.group(1)) in ALL_VIEWS


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
        return await execute(
            sql,
            params,
            truncate=truncate,
            custom_time_limit=custom_time_limit,
            page_size=page_size,
            log_sql_errors=log_sql_errors,
        )

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
                await send(
                    {
                        "type": "http.response.start",
                        "status": 405,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"allow", b"GET, HEAD"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            token = _CANNED_REQUEST.set(canned is not None or (page is not None and _view_page(page, scope)))
            try:
                return await app(scope, receive, send)
            finally:
                _CANNED_REQUEST.reset(token)

        return regkb_app

    return wrap


def _view_page(page: re.Match, scope) -> bool:
    """A comparison view's page without SQL of the request's own (`_where`): the view's SQL is ours."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return _is_view(page.group(0)) and not {"_where", "sql"} & query.keys()


@hookimpl
def prepare_connection(conn):
    # an empty search matches nothing rather than failing: FTS5 rejects an empty expression
    conn.create_function("fts_match", 1, lambda words: " AND ".join(_terms(words or "")) or '""', deterministic=True)
    register(conn)  # what the comparison views call


@hookimpl
def get_metadata(datasette, key, database, table):
    """The comparison views' titles and descriptions, as the report and `regkb table` word them; the
    metadata file's own say (it has none for the views) would come first."""
    views = {
        name: {"title": title, "description": description}
        for name, (title, description) in DATASETTE_TEXT.items()
        if name in ALL_VIEWS
    }
    return {"databases": {KB: {"tables": views}}}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _name(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def positions_matrix() -> dict:
    """Positions counted by organisation, stance and topic (one column per topic of the taxonomy), from the
    view positions_by_topic, whose cells `regkb table positions` shows."""
    per_topic = ",\n  ".join(
        f"sum(case when topic = {_literal(t)} then positions else 0 end) as {_name(t)}" for t in topics()
    )
    title, description = DATASETTE_TEXT["positions_matrix"]
    return {
        "title": title,
        "description": description,
        "hide_sql": True,
        "sql": f"""select organisation as org,
  sum(positions) as positions,
  sum(oppose) as oppose,
  sum(request_change) as request_change,
  sum(support) as support,
  sum(copies) as copies,
  {per_topic}
from {VIEWS["positions"]}
group by organisation
order by organisation""",
    }


async def country_matrix(db) -> dict:
    """`regkb table countries`: the view countries_by_list pivoted, one column per list of
    country_list_columns."""
    lists = (await db.execute(f"select list_id, list from {COUNTRY_LIST_COLUMNS} order by position")).rows
    per_list = "".join(
        f",\n  max(case when list_id = {_literal(item['list_id'])} then {_literal(CHECK)} else '' end) as "
        + _name(item["list"])
        for item in lists
    )
    code, country = COUNTRY_MATRIX_LABELS
    title, description = DATASETTE_TEXT["country_matrix"]
    return {
        "title": title,
        "description": description,
        "hide_sql": True,
        "sql": f"""select iso2 as {_name(code)}, country as {_name(country)}{per_list}
from {VIEWS["countries"]}
group by iso2
order by iso2""",
    }


@hookimpl
def canned_queries(datasette, database):
    if database != KB:
        return None

    async def queries():
        return {
            "positions_matrix": positions_matrix(),
            "country_matrix": await country_matrix(datasette.get_database(KB)),
        }

    return queries


def _paragraph_link(datasette, database: str, paragraph_id: str, label: str) -> markupsafe.Markup:
    href = datasette.urls.row(database, "paragraphs", tilde_encode(paragraph_id))
    return markupsafe.Markup('<a class="paragraph-link" href="{}">{}</a>').format(href, label)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Query results and the comparison views: table pages already link their foreign keys. A view's
    columns are named as `regkb table` prints them ("pin cite", "claim pin cite")."""
    if (table is not None and table not in ALL_VIEWS) or database != KB or not isinstance(value, str) or not value:
        return None
    column = column.replace(" ", "_")
    if column == "snippet":
        # the snippet marks matches with <mark>; everything else in it is the source's text
        escaped = str(markupsafe.escape(_unspace(value)))
        return markupsafe.Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))
    if column in ("org", "organisation"):
        href = datasette.urls.table(database, "positions") + "?" + urlencode({"org": value, "duplicate_of__isnull": 1})
        return markupsafe.Markup('<a href="{}">{}</a>').format(href, value)
    if column == "paragraph_id" or column.endswith("_paragraph_id"):
        return _paragraph_link(datasette, database, value, value)
    if column in ROW_LINKS:
        href = datasette.urls.row(database, ROW_LINKS[column], tilde_encode(value))
        return markupsafe.Markup('<a href="{}">{}</a>').format(href, value)
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
        return {
            "context": context,
            "document": document,
            "row_url": lambda table, pk: datasette.urls.row(KB, table, tilde_encode(pk)),
        }

    return paragraph_page
