"""`regkb serve` end to end: the real rule with the letters (real and synthetic) served by datasette
on a free loopback port, driven in headless Chromium (Debian's chromium and chromium-driver) through
search → paragraph page → its neighbour → positions matrix, with screenshots in outputs/screenshots/;
the comparison views and canned queries against the tables `regkb table` makes; every write refused."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import yaml

from pipeline.build import build
from pipeline.models import RegkbError
from pipeline.readmodel import ALL_VIEWS, DATASETTE_TEXT, VIEWS
from pipeline.serve import METADATA, datasette_args, free_port, run
from pipeline.tables import build_table
from tests.conftest import PROJECT_ROOT, write_manifest

pytestmark = pytest.mark.slow

SCREENSHOTS = PROJECT_ROOT / "outputs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LINKED_TABLES = (
    "definitions",
    "term_usages",
    "country_lists",
    "country_list_members",
    "country_mentions",
    "country_group_refs",
    "thresholds",
    "positions",
    "position_links",
)


@pytest.fixture(scope="session")
def letters_kb(real_kb) -> Path:
    """conftest's knowledge base: the real rule and letters with the synthetic letters beside them (the
    positions matrix needs letters). Served immutable, so these tests leave it as it was."""
    return real_kb.db_path


def _start(
    command: list[str], log: Path, ready_url: str | None = None, timeout: float = 90
) -> tuple[subprocess.Popen, str]:
    """Start a server; wait for its URL (printed by `regkb serve`, or given) to answer."""
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited ({process.returncode}):\n{log.read_text()}"
        printed = re.search(r"browse the knowledge base at (\S+)", log.read_text())
        url = ready_url or (printed and printed.group(1))
        if url:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return process, url
            except (urllib.error.URLError, ConnectionError):
                pass
        time.sleep(0.3)
    process.terminate()
    raise AssertionError(f"server did not answer within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(letters_kb, tmp_path_factory):
    """`regkb serve --port 0` as the user runs it; yields the URL it prints (…/regkb)."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    process, url = _start([sys.executable, "-m", "pipeline.cli", "serve", "--db", str(letters_kb), "--port", "0"], log)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/regkb")
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        assert path.exists(), (
            f"{path} is missing: apt-get install -y chromium chromium-driver (the Makefile's setup does)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1100"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(10)
    yield driver
    driver.quit()


def _json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _rows(server: str, path: str, **params) -> list[dict]:
    query = urllib.parse.urlencode({"_shape": "array", "_size": "max", **params})
    return _json(f"{server}/{path}.json?{query}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- in the browser


def _follow(browser, link) -> None:
    """Click a link and wait until the browser has left the page."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    page = browser.current_url
    link.click()
    WebDriverWait(browser, 20).until(expected_conditions.url_changes(page))


def test_search_open_a_paragraph_follow_its_context_and_see_the_positions_matrix(server, browser, letters_kb):
    from selenium.webdriver.common.by import By

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(server)
    _follow(browser, browser.find_element(By.LINK_TEXT, "Search paragraphs"))
    box = browser.find_element(By.NAME, "words")
    box.send_keys("low processing performance")
    _follow(browser, browser.find_element(By.CSS_SELECTOR, "form.sql input[type=submit]"))

    first = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert first.find_element(By.CSS_SELECTOR, "td.col-section_path").text == "§ 740.29"
    highlighted = {mark.text.lower() for mark in first.find_elements(By.CSS_SELECTOR, "td.col-snippet mark")}
    assert highlighted == {"low", "processing", "performance"}
    browser.save_screenshot(str(SCREENSHOTS / "search.png"))

    pin_cite_link = first.find_element(By.CSS_SELECTOR, "td.col-pin_cite a")
    pin_cite = pin_cite_link.text
    _follow(browser, pin_cite_link)
    assert browser.find_element(By.CSS_SELECTOR, "h1.regkb-pin-cite").text == pin_cite
    assert browser.find_element(By.CSS_SELECTOR, ".regkb-section").text.startswith("§ 740.29 ·")
    assert (
        "License Exception Low Processing Performance (LPP)"
        in browser.find_element(By.CSS_SELECTOR, ".regkb-text").text
    )
    assert "Licence: Public domain" in browser.find_element(By.CSS_SELECTOR, ".regkb-document").text
    context = browser.find_elements(By.CSS_SELECTOR, "ol.regkb-context li")
    here = [i for i, item in enumerate(context) if "here" in item.get_attribute("class")]
    assert len(context) == 7 and here == [3], "three paragraphs either side, this one in the middle"
    browser.save_screenshot(str(SCREENSHOTS / "paragraph.png"))

    following = context[4]
    following_text = following.find_element(By.CSS_SELECTOR, ".text").text
    _follow(browser, following.find_element(By.CSS_SELECTOR, "a.context-link"))
    assert browser.find_element(By.CSS_SELECTOR, ".regkb-text").text == following_text
    assert browser.find_element(By.CSS_SELECTOR, ".regkb-section").text.startswith("§ 740.29(a) ·")

    browser.get(server)
    _follow(browser, browser.find_element(By.LINK_TEXT, DATASETTE_TEXT["positions_matrix"][0]))
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns th")]
    assert headers[:6] == ["org", "positions", "oppose", "request_change", "support", "copies"]
    assert {"country_caps", "tiers", "process", "model_weights"} <= set(headers)
    shown = {
        row.find_element(By.CSS_SELECTOR, "td.col-org").text: row
        for row in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    }
    assert {"ITI", "ITIF", "NVIDIA", "OpenAI", "Oracle", "SIA"} <= set(shown)
    with sqlite3.connect(letters_kb) as conn:
        iti_process = conn.execute(
            "select count(*) from positions where org = 'ITI' and topic = 'process' and duplicate_of is null"
        ).fetchone()[0]
    assert iti_process > 0
    assert shown["ITI"].find_element(By.CSS_SELECTOR, "td.col-process").text == str(iti_process)
    browser.save_screenshot(str(SCREENSHOTS / "positions.png"))

    _follow(browser, shown["ITI"].find_element(By.CSS_SELECTOR, "td.col-org a"))
    assert "ITI" in browser.find_element(By.CSS_SELECTOR, "h3").text  # "N rows where org = ITI …"
    assert browser.find_elements(By.CSS_SELECTOR, "td.col-paragraph_id a[href*='/regkb/paragraphs/']")


# ----------------------------------------------------------------------------- writes


def test_writes_are_refused_and_the_file_is_unchanged(server, letters_kb):
    before = _sha256(letters_kb)
    attempts = [
        (
            "POST",
            f"{server}/paragraphs/-/insert",
            json.dumps({"row": {"id": "x", "text": "injected"}}),
            "application/json",
        ),
        ("POST", f"{server}/-/create", json.dumps({"table": "injected", "row": {"a": 1}}), "application/json"),
        ("POST", f"{server}/paragraphs", "text=injected", "application/x-www-form-urlencoded"),
        ("POST", f"{server}/positions_matrix", "sql=delete from paragraphs", "application/x-www-form-urlencoded"),
    ] + [
        ("GET", f"{server}.json?" + urllib.parse.urlencode({"sql": sql}), None, None)
        for sql in (
            "delete from paragraphs",
            "insert into build_info (key, value) values ('injected', 'yes')",
            "update documents set title = 'injected'",
            "drop table positions",
            "select 1; delete from paragraphs",
        )
    ]
    for method, url, body, content_type in attempts:
        request = urllib.request.Request(
            url,
            data=body.encode() if body else None,
            method=method,
            headers={"Content-Type": content_type} if content_type else {},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code >= 400, (method, url)
    assert _rows(server, "build_info", key="injected") == []
    assert not [row for row in _rows(server, "paragraphs", text="injected")]
    assert _sha256(letters_kb) == before


def test_a_canned_write_query_cannot_write_an_immutable_database(letters_kb, tmp_path):
    """Even a write query declared in the metadata is refused: the file is opened immutable."""
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    metadata["databases"]["regkb"]["queries"]["wipe"] = {"sql": "delete from paragraphs", "write": True}
    (tmp_path / "metadata.yaml").write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
    port = free_port("127.0.0.1")
    args = datasette_args(letters_kb, "127.0.0.1", port)
    args[args.index("--metadata") + 1] = str(tmp_path / "metadata.yaml")
    before = _sha256(letters_kb)
    process, url = _start(
        [sys.executable, "-m", "datasette", *args],
        tmp_path / "serve.log",
        ready_url=f"http://127.0.0.1:{port}/regkb/wipe",
    )
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = opener.open(url, timeout=30).read().decode()
        assert "cannot be executed because the database is immutable" in page
        token = re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(
                urllib.request.Request(url, data=urllib.parse.urlencode({"csrftoken": token}).encode(), method="POST"),
                timeout=30,
            )
        assert refused.value.code == 403 and "Database is immutable" in refused.value.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=20)
    with sqlite3.connect(f"file:{letters_kb}?mode=ro", uri=True) as conn:
        assert conn.execute("select count(*) from paragraphs").fetchone()[0] > 2000
    assert _sha256(letters_kb) == before


# ----------------------------------------------------------------------------- canned queries and metadata


@pytest.fixture(scope="module")
def tables(letters_kb):
    conn = sqlite3.connect(letters_kb)
    try:
        yield {
            name: build_table(conn, name) for name in ("definitions", "countries", "thresholds", "positions", "claims")
        }
    finally:
        conn.close()


def test_positions_matrix_counts_match_the_positions_table(server, tables):
    columns, rows = tables["positions"]
    matrix = {row["org"]: row for row in _rows(server, "positions_matrix")}
    assert sorted(matrix) == sorted(row[0] for row in rows)
    for row in rows:
        for topic, cell in zip(columns[1:], row[1:]):
            assert matrix[row[0]][topic] == (int(cell.split(" ")[0].rstrip(":")) if cell else 0), (row[0], topic)
        assert matrix[row[0]]["positions"] == sum(matrix[row[0]][t] for t in columns[1:])


def test_country_matrix_is_the_countries_table(server, tables):
    columns, rows = tables["countries"]
    matrix = _rows(server, "country_matrix")
    assert [list(row.keys()) for row in matrix[:1]] == [columns]
    assert [list(row.values()) for row in matrix] == rows


def test_the_comparison_views_are_their_tables_row_for_row(server, tables):
    for name in ("definitions", "thresholds", "claims"):
        columns, rows = tables[name]
        served = _rows(server, VIEWS[name])
        assert [list(row)[: len(columns)] for row in served[:1]] == [columns], name
        assert [[row[column] for column in columns] for row in served] == rows and rows, name
    verdicts = {row[7] for row in tables["claims"][1]}
    assert {"only in the document", "counts differ", "no provision states this"} <= verdicts
    assert any(verdict.startswith("differs (rule: ") for verdict in verdicts), "a figure compared with the rule's"


def test_the_positions_cells_are_the_positions_table(server, tables):
    columns, rows = tables["positions"]
    cells = {(row["organisation"], row["topic"]): row["cell"] for row in _rows(server, VIEWS["positions"])}
    assert [
        [org] + [cells.get((org, topic), "") for topic in columns[1:]] for org in sorted({o for o, _ in cells})
    ] == rows


def test_every_row_from_a_paragraph_links_to_its_page(server):
    paragraph_link = re.compile(r'<a [^>]*href="/regkb/paragraphs/[^"]+"')
    for table in LINKED_TABLES:
        page = urllib.request.urlopen(f"{server}/{table}?_size=20", timeout=30).read().decode()
        rows = page.count("<tr>") - 1
        assert rows > 0 and len(paragraph_link.findall(page)) >= rows, table
    for query, params in (
        (VIEWS["thresholds"], {}),
        (VIEWS["definitions"], {}),
        (VIEWS["claims"], {}),
        (VIEWS["positions"], {}),
        (VIEWS["countries"], {}),
        ("search", {"words": "model weights"}),
        ("paragraph_context", {}),
    ):
        if query == "paragraph_context":
            params = {"id": _rows(server, "positions", _size=1)[0]["paragraph_id"]}
        page = urllib.request.urlopen(f"{server}/{query}?{urllib.parse.urlencode(params)}", timeout=30).read().decode()
        rows = len(re.findall(r"<tr>\s*<td", page))
        assert rows > 0 and len(paragraph_link.findall(page)) >= rows, query


def test_metadata_describes_every_public_table_and_column(server, letters_kb):
    metadata = _json(f"{server.rsplit('/', 1)[0]}/-/metadata.json")
    described = metadata["databases"]["regkb"]["tables"]
    with sqlite3.connect(letters_kb) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "select name from sqlite_master where type = 'table' and name not like 'paragraphs_fts%'"
            )
        ]
        for table in tables:
            assert described.get(table, {}).get("description"), f"{table} has no description"
            if described[table].get("hidden"):
                continue
            assert described[table].get("title"), table
            columns = [row[1] for row in conn.execute(f"pragma table_info({table})")]
            assert sorted(described[table]["columns"]) == sorted(columns), table
    shown = {table["name"] for table in _json(f"{server}.json")["tables"] if not table["hidden"]}
    assert "embeddings" not in shown and "_migrations" not in shown and {"paragraphs", "positions"} <= shown
    facets = _json(f"{server}/positions.json?_size=0")["facet_results"]
    assert {"org", "stance", "topic"} <= set(facets)
    assert {"iso2"} <= set(_json(f"{server}/country_list_members.json?_size=0")["facet_results"])
    assert {"quantity"} <= set(_json(f"{server}/thresholds.json?_size=0")["facet_results"])
    assert {"doc_id", "section_path"} <= set(_json(f"{server}/paragraphs.json?_size=0")["facet_results"])


def test_corpus_query_gives_every_document_a_source_and_licence(server, letters_kb):
    corpus = {row["doc_id"]: row for row in _rows(server, "corpus")}
    with sqlite3.connect(letters_kb) as conn:
        assert sorted(corpus) == sorted(doc_id for (doc_id,) in conn.execute("select id from documents"))
    assert corpus["bis-2025-00636-pi"]["licence"].startswith("Public domain")
    assert corpus["openai-2025-03-13-ai-action-plan"]["licence"] == "© OpenAI; quoted for research and comment"
    assert all(
        row["licence"].startswith("SYNTHETIC") for doc_id, row in corpus.items() if doc_id.startswith("synthetic-")
    )
    assert corpus["bis-2025-00636-pi"]["source"] == "https://public-inspection.federalregister.gov/2025-00636.pdf"


def test_table_search_and_hostile_words_in_the_search_query(server):
    hits = _rows(server, "paragraphs", _search="low processing performance")
    assert any(hit["section_path"] == "§ 740.29" for hit in hits)
    for words in ('"', "AND OR NOT", "*", "'; drop table paragraphs; --", "出口管制"):
        _rows(server, "search", words=words)  # answers (possibly nothing), never an error
    assert not _rows(server, "search", words="")


# ----------------------------------------------------------------------------- hostile parameters

HOSTILE_VALUES = [
    "'; DROP TABLE paragraphs; --",
    '") OR 1=1 --',
    "1=1); DELETE FROM paragraphs; --",
    "x' UNION SELECT sql, 1, 2, 3 FROM sqlite_master --",
    "*",
    '"',
    "-1",
    "99999999999",
    "nan",
    "NEAR(caps rule)",
    "caps) OR (1",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "\x00",
    "~2F~2E~2E",
    "出口管制",
    "a" * 3000,
    "",
]
# every query-string parameter of a datasette table page (documented or read by its code), and filters
TABLE_PARAMETERS = [
    "_search",
    "_search_text",
    "_searchmode",
    "_sort",
    "_sort_desc",
    "_facet",
    "_facet_array",
    "_facet_date",
    "_facet_size",
    "_where",
    "_col",
    "_nocol",
    "_size",
    "_next",
    "_shape",
    "_labels",
    "_nolabels",
    "_nofacet",
    "_nocount",
    "_nosuggest",
    "_fts_table",
    "_fts_pk",
    "_through",
    "_timelimit",
    "_ttl",
    "_trace",
    "_extra",
    "_json",
    "_nl",
    "_stream",
    "_dl",
    "_hash",
    "text__exact",
    "text__contains",
    "text__glob",
    "text__like",
    "rowid__in",
    "page__gt",
    "doc_id__notin",
    "section_path__startswith",
    "kind__isnull",
]
# arbitrary SQL that tries to leave the read-only sandbox: write elsewhere, load code, run for ever
ESCAPE_SQL = [
    "attach database '{tmp}/attached.db' as a",
    "vacuum into '{tmp}/copy.db'",
    "select load_extension('{tmp}/evil')",
    "select writefile('{tmp}/written', 'x')",
    "pragma writable_schema = 1",
    "pragma journal_mode = delete",
    "create temp table t (x)",
    "select fts5(1)",
    "select * from paragraphs; drop table paragraphs",
    "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n",
]


def _status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_hostile_values_in_every_datasette_parameter_answer_and_change_nothing(server, letters_kb, tmp_path):
    """Every table parameter, every named parameter of every canned query, row ids and raw SQL that
    tries to escape: datasette answers each (a 4xx at worst, never a 5xx or a hang), the file is
    byte-identical, nothing is written beside it or in tmp_path, and the server still serves."""
    before = _sha256(letters_kb)
    neighbours = sorted(p.name for p in letters_kb.parent.iterdir())
    answers: dict[int, int] = {}

    def answered(url: str) -> None:
        status = _status(url)
        assert status < 500, (status, url[:300])
        answers[status] = answers.get(status, 0) + 1

    for parameter in TABLE_PARAMETERS:
        for value in HOSTILE_VALUES:
            for table in ("paragraphs", "positions"):
                answered(f"{server}/{table}.json?" + urllib.parse.urlencode({parameter: value}))
            answered(f"{server}/paragraphs?" + urllib.parse.urlencode({parameter: value}))  # the HTML page too
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    canned = metadata["databases"]["regkb"]["queries"]
    named = {name: re.findall(r"(?<!:):(\w+)", query["sql"]) for name, query in canned.items()}
    assert set(named["search"]) == {"words"} and set(named["paragraph_context"]) == {"id"}
    views = [(view, ["_sort", "_where", "_facet", "_size", "_next", "kind__contains"]) for view in ALL_VIEWS]
    for name, parameters in [*named.items(), ("positions_matrix", ["x"]), ("country_matrix", ["x"]), *views]:
        for parameter in set(parameters) | {"_shape", "_hide_sql", "_timelimit"}:
            for value in HOSTILE_VALUES:
                answered(f"{server}/{name}.json?" + urllib.parse.urlencode({parameter: value}))
                answered(f"{server}/{name}?" + urllib.parse.urlencode({parameter: value}))
    for value in HOSTILE_VALUES:
        answered(f"{server}/paragraphs/" + urllib.parse.quote(value or "x", safe=""))
        answered(f"{server}/" + urllib.parse.quote(value or "x", safe="") + ".json")
    for sql in ESCAPE_SQL:
        answered(f"{server}.json?" + urllib.parse.urlencode({"sql": sql.format(tmp=tmp_path), "_timelimit": "999999"}))
    assert answers.get(200, 0) > 100 and sum(count for status, count in answers.items() if status >= 400) > 20, answers
    assert list(tmp_path.iterdir()) == [], "a query wrote a file"
    assert sorted(p.name for p in letters_kb.parent.iterdir()) == neighbours
    assert _sha256(letters_kb) == before
    assert _rows(server, "search", words="low processing performance"), "the server still serves"


def test_text_from_a_document_is_shown_as_text_never_run(tmp_path):
    """A letter whose words are markup (script, event handlers, a fake <mark>) is escaped on every page
    that shows it: search snippets, the paragraph page, table pages and the positions of its author."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    attack = "<script>alert('regkb')</script> <img src=x onerror=alert(2)>"
    (corpus / "letter.txt").write_text(
        "SYNTHETIC TEST LETTER with markup in its words.\n\nCountry caps\n\n"
        f"We oppose the country caps of the interim final rule. {attack} <mark>not a match</mark>\n",
        encoding="utf-8",
    )
    manifest = write_manifest(
        tmp_path / "manifest.toml",
        [{"id": "markup-letter", "file": "letter.txt", "author_org": "Org <b onmouseover=alert(3)>"}],
    )
    report = build(manifest, corpus, tmp_path / "kb.db", cache_dir=tmp_path / "cache")
    assert report.ok, report.problems
    port = free_port("127.0.0.1")
    process, url = _start(
        [sys.executable, "-m", "datasette", *datasette_args(tmp_path / "kb.db", "127.0.0.1", port)],
        tmp_path / "serve.log",
        ready_url=f"http://127.0.0.1:{port}/regkb",
    )
    try:
        with sqlite3.connect(tmp_path / "kb.db") as conn:
            paragraph_id = conn.execute("select id from paragraphs where text like '%<script>%'").fetchone()[0]
        pages = [
            f"{url}/search?words=caps",
            f"{url}/paragraphs?_search=caps",
            f"{url}/paragraphs?text__contains=script",
            f"{url}/paragraphs/" + urllib.parse.quote(paragraph_id, safe=""),
            f"{url}/positions",
            f"{url}/documents",
            f"{url}/positions_matrix",
        ]
        shown = {}
        for page in pages:
            with urllib.request.urlopen(page, timeout=60) as response:
                shown[page] = html = response.read().decode()
            assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html, page
        assert "&lt;script&gt;alert" in shown[pages[3]], "the paragraph page shows the words as text"
        assert "&lt;b onmouseover" in shown[pages[4]], "the positions page shows the organisation as text"
    finally:
        process.terminate()
        process.wait(timeout=20)


# ----------------------------------------------------------------------------- bad input


def test_serve_refuses_a_missing_file_or_one_that_is_not_a_knowledge_base(tmp_path):
    with pytest.raises(RegkbError, match="no knowledge base here yet"):
        run(tmp_path / "missing.db", port=0)
    (tmp_path / "notes.db").write_text("not a database", encoding="utf-8")
    with pytest.raises(RegkbError, match="not a regkb knowledge base"):
        run(tmp_path / "notes.db", port=0)


def test_serve_refuses_a_port_in_use(letters_kb):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RegkbError, match="cannot listen on 127.0.0.1"):
            run(letters_kb, port=taken.getsockname()[1])
