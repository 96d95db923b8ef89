"""`regkb report` on the real rule with the letters: a self-contained HTML page and its Markdown
twin whose tables are the knowledge base's comparison tables, whose quotes are each cited
(organisation, document, date, pin cite), and whose figures are embedded and captioned."""

from __future__ import annotations

import base64
import re
import sqlite3

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from pipeline.cite import lookup, render
from pipeline.cli import main
from pipeline.models import RegkbError
from pipeline.readmodel import TABLE_TEXT, TABLES
from pipeline.report import write_report
from pipeline.tables import build_table
from tests.test_serve import SCREENSHOTS, browser, letters_kb  # noqa: F401  (letters_kb: conftest's real_kb)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(letters_kb, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("report")
    written = write_report(letters_kb, out, ("html", "md"))
    return out, written


@pytest.fixture(scope="module")
def page(report):
    return BeautifulSoup((report[0] / "report.html").read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def kb(letters_kb):  # noqa: F811
    conn = sqlite3.connect(letters_kb)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _positions(kb) -> list[sqlite3.Row]:
    return kb.execute("""
        select o.id, o.org, o.quote, d.title, p.page, p.page_label from positions o
        join paragraphs p on p.id = o.paragraph_id join documents d on d.id = o.doc_id
        where o.duplicate_of is null""").fetchall()


def _expected_citation(position: sqlite3.Row, kb_path) -> str:
    """What `regkb cite` says of the position, without the quote; it names who holds the position,
    the document and the page."""
    citation = render(lookup(kb_path, position["id"]), "text").removesuffix(f": “{position['quote']}”")
    assert position["org"] in citation and position["title"] in citation, citation
    if position["page"] > 1:
        assert f", at {position['page_label'] or position['page']}" in citation, citation
    return citation


def _markdown_section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _markdown_table(section: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    cells = [[cell.replace("\\|", "|") for cell in re.split(r"(?<!\\) \| ", line[2:-2])] for line in lines]
    return cells[0], cells[1:]


def test_writes_the_page_its_twin_and_the_figure_files(report):
    out, written = report
    assert [p.relative_to(out).as_posix() for p in written] == [
        "report.html",
        "figures/positions-heatmap.svg",
        "figures/country-lists.svg",
        "figures/dates-timeline.svg",
        "report.md",
    ]
    assert all(p.stat().st_size > 1000 for p in written)


def test_the_html_page_needs_nothing_from_the_network(page):
    assert page.find("style") and not page.find_all(["script", "link", "iframe", "object", "embed"])
    sources = [tag["src"] for tag in page.find_all(src=True)]
    assert sources and all(src.startswith("data:image/svg+xml;base64,") for src in sources)
    assert "url(" not in page.find("style").text and "@import" not in page.find("style").text


def test_the_html_page_opens_from_disk_in_a_browser_that_is_offline(report, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    browser.get((report[0] / "report.html").as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "regkb report"
    figures = browser.find_elements(By.TAG_NAME, "figure")
    assert len(figures) == 3  # the heatmap, the country lists and the dates timeline
    for figure in figures:
        image = figure.find_element(By.TAG_NAME, "img")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 300", image)
        assert figure.find_element(By.TAG_NAME, "figcaption").text.startswith("Figure ")
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
    assert [url for url in fetched if not url.startswith("data:")] == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figures[0].screenshot(str(SCREENSHOTS / "report-heatmap.png"))
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "organisations"))
    browser.save_screenshot(str(SCREENSHOTS / "report-organisations.png"))


def test_every_comparison_table_in_the_html_is_the_knowledge_bases(page, kb):
    for name in TABLES:
        columns, rows = build_table(kb, name)
        table = page.select_one(f"#table-{name} table")
        assert [th.get_text() for th in table.select("thead th")] == columns, name
        shown = [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")]
        assert shown == [[str(value) for value in row] for row in rows], name
        assert rows, f"{name} is empty: the test would prove nothing"


def test_every_comparison_table_in_the_markdown_is_the_knowledge_bases(report, kb):
    text = (report[0] / "report.md").read_text(encoding="utf-8")
    for name in TABLES:
        columns, rows = build_table(kb, name)
        shown_columns, shown = _markdown_table(_markdown_section(text, TABLE_TEXT[name][0]))
        assert shown_columns == columns, name
        assert shown == [[str(value).replace("\n", " ") for value in row] for row in rows], name


def test_the_inventory_lists_every_document_with_source_and_licence(page, kb):
    table = page.select_one("#corpus table")
    columns = [th.get_text() for th in table.select("thead th")]
    shown = {
        row["doc_id"]: row
        for row in (dict(zip(columns, (td.get_text() for td in tr.find_all("td")))) for tr in table.select("tbody tr"))
    }
    assert sorted(shown) == sorted(doc_id for (doc_id,) in kb.execute("select id from documents"))
    assert shown["bis-2025-00636-pi"]["licence"].startswith("Public domain")
    assert shown["bis-2025-00636-pi"]["source"] == "https://public-inspection.federalregister.gov/2025-00636.pdf"
    assert shown["openai-2025-03-13-ai-action-plan"]["licence"] == "© OpenAI; quoted for research and comment"
    assert all(
        row["licence"].startswith("SYNTHETIC") for doc_id, row in shown.items() if doc_id.startswith("synthetic-")
    )


def test_every_quote_in_the_html_carries_its_citation(page, kb, letters_kb):  # noqa: F811
    positions = {row["id"]: row for row in _positions(kb)}
    quotes = page.select("#organisations blockquote.quote")
    assert sorted(q["id"] for q in quotes) == sorted(positions)
    assert any(position["page"] > 1 for position in positions.values()), "no page to cite: the test would prove less"
    for quote in quotes:
        position = positions[quote["id"]]
        assert quote.p.get_text() == f"“{' '.join(position['quote'].split())}”"
        assert quote.select_one("footer cite").get_text() == _expected_citation(position, letters_kb)
    headings = [h.get_text() for h in page.select("#organisations h3")]
    assert headings == sorted({row["org"] for row in positions.values()})


def test_every_quote_in_the_markdown_carries_its_citation(report, kb, letters_kb):  # noqa: F811
    text = _markdown_section((report[0] / "report.md").read_text(encoding="utf-8"), "Positions by organisation")
    shown = re.findall(r"^> (“.*”)\n>\n> — (.*?) · [^·\n]+(?: · \+\d+ copies)?$", text, re.M)
    expected = [(f"“{' '.join(p['quote'].split())}”", _expected_citation(p, letters_kb)) for p in _positions(kb)]
    assert sorted(shown) == sorted(expected)


def test_a_form_letter_campaign_counts_once_with_its_copies_tallied(page, kb):
    campaigns = kb.execute("""
        select distinct o.org, k.copies - 1 as more from document_clusters k
        join positions o on o.doc_id = k.doc_id and o.duplicate_of is null
        where k.representative = k.doc_id and k.copies > 1""").fetchall()
    assert campaigns, "no campaign in the knowledge base: the test would prove nothing"
    summaries = {h3.get_text(): h3.find_next_sibling("p").get_text() for h3 in page.select("#organisations h3")}
    for campaign in campaigns:
        assert f"a form-letter campaign: {campaign['more']} more copies of the letter" in summaries[campaign["org"]]
    for quote in page.select("#organisations blockquote.quote"):
        copies = kb.execute("select count(*) from positions where duplicate_of = ?", (quote["id"],)).fetchone()[0]
        tags = [tag.get_text() for tag in quote.select(".tag")]
        assert (f"+{copies} copies" in tags) == (copies > 0), (quote["id"], tags)


def test_figures_are_embedded_with_captions_that_say_what_they_show(page, report, kb):
    figures = page.select("figure")
    assert [f["id"] for f in figures] == ["figure-positions-heatmap", "figure-country-lists", "figure-dates-timeline"]
    positions = len(_positions(kb))
    lists = kb.execute("select count(*) from country_lists").fetchone()[0]
    captions = [f.figcaption.get_text() for f in figures]
    assert (
        captions[0].startswith("Figure 1. Positions by organisation and topic.")
        and f"{positions} positions" in captions[0]
    )
    assert captions[1].startswith("Figure 2. Country-list membership.") and f"the {lists} country lists" in captions[1]
    # the timeline draws each date of the dates table from December 2024 on, and its caption counts them
    _, date_rows = build_table(kb, "dates")
    days = sorted({row[0] for row in date_rows if row[0] != "—" and row[0] >= "2024-12-01"})
    assert days, "no resolved date in the knowledge base: the timeline test would prove nothing"
    assert (
        captions[2].startswith("Figure 3. The rule's dates on the calendar.")
        and "publication on 2025-01-15" in captions[2]
    )
    drawn = int(re.search(r"(\d+) dates from December 2024 on", captions[2]).group(1))
    assert drawn >= len(days)
    timeline = base64.b64decode(figures[2].img["src"].split(",", 1)[1]).decode("utf-8")
    assert all(f"<!-- {day}  " in timeline for day in days), [d for d in days if f"<!-- {d}  " not in timeline]
    heatmap = base64.b64decode(figures[0].img["src"].split(",", 1)[1]).decode("utf-8")
    assert "<svg" in heatmap
    for (org,) in kb.execute("select distinct org from positions where duplicate_of is null"):
        assert f"<!-- {org} -->" in heatmap  # matplotlib notes each text it draws as paths
    markdown = (report[0] / "report.md").read_text(encoding="utf-8")
    for number, slug in enumerate(("positions-heatmap", "country-lists", "dates-timeline"), start=1):
        assert re.search(
            rf"^!\[Figure {number}\. [^]]+\]\(figures/{slug}\.svg\)\n\n\*Figure {number}\. ", markdown, re.M
        )
        assert (report[0] / "figures" / f"{slug}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_the_same_knowledge_base_gives_the_same_report(report, letters_kb, tmp_path):  # noqa: F811
    again = write_report(letters_kb, tmp_path, ("html", "md"))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in report[1]]


def test_a_report_replaces_the_old_one_whole_keeping_its_mode_and_link(letters_kb, tmp_path):  # noqa: F811
    """The report's files are written by the store's atomic writer: beside the old file, then renamed over
    it (an interrupted write leaves the old report), with the old file's mode, through a symbolic link."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "report.html").write_text("old report", encoding="utf-8")
    (out / "report.html").chmod(0o640)
    (elsewhere / "report.md").write_text("old twin", encoding="utf-8")
    (out / "report.md").symlink_to(elsewhere / "report.md")
    written = write_report(letters_kb, out, ("html", "md"))
    assert (out / "report.html").stat().st_mode & 0o777 == 0o640
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert (out / "report.md").is_symlink()
    assert (elsewhere / "report.md").read_text(encoding="utf-8").startswith("# regkb")
    assert out / "report.md" in written
    leftovers = [p.name for p in [*out.rglob(".*"), *elsewhere.glob(".*")]]
    assert leftovers == [], "no temporary file is left beside the report"


def test_one_format_writes_only_its_files(letters_kb, tmp_path):  # noqa: F811
    assert write_report(letters_kb, tmp_path / "h", ("html",)) == [tmp_path / "h" / "report.html"]
    assert not (tmp_path / "h" / "figures").exists()
    assert write_report(letters_kb, tmp_path / "m", ("md",))[-1] == tmp_path / "m" / "report.md"
    assert not (tmp_path / "m" / "report.html").exists()


def test_regkb_report_on_the_command_line(letters_kb, tmp_path):  # noqa: F811
    result = CliRunner().invoke(main, ["report", "--db", str(letters_kb), "--out", str(tmp_path), "--format", "html"])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {tmp_path / 'report.html'}\n"
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "missing.db"), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "regkb: error:" in result.output and "Traceback" not in result.output


def test_bad_input_is_a_clear_error(letters_kb, tmp_path):  # noqa: F811
    with pytest.raises(RegkbError, match="no knowledge base here yet"):
        write_report(tmp_path / "missing.db", tmp_path / "out", ("html",))
    (tmp_path / "notes.db").write_text("not a database", encoding="utf-8")
    with pytest.raises(RegkbError, match="not a regkb knowledge base"):
        write_report(tmp_path / "notes.db", tmp_path / "out", ("html",))
    with sqlite3.connect(tmp_path / "old.db") as old:
        old.execute("create virtual table paragraphs_fts using fts5(text, section_path)")
        old.execute("create table documents (id text)")
    with pytest.raises(RegkbError, match=r"no paragraphs, definitions, .* table \(built by an older regkb\?\)"):
        write_report(tmp_path / "old.db", tmp_path / "out", ("html",))
    for formats in (("pdf",), ()):
        with pytest.raises(RegkbError, match="report format must be one or more of html, md"):
            write_report(letters_kb, tmp_path / "out", formats)
    assert not (tmp_path / "out").exists()


def test_a_knowledge_base_with_nothing_to_draw_has_no_empty_figures(tmp_path, recwarn):
    """One letter with no country list: no country-list figure (an empty image, with matplotlib's
    warning, said less than the table's "no rows"); its positions still get their heatmap. With no rule in
    it there is no diff of the rule's two versions, and the section says so instead of failing the report."""
    from pipeline.build import build
    from tests.conftest import write_manifest

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "letter.txt").write_text(
        "SYNTHETIC TEST LETTER.\n\nCountry caps\n\nWe oppose the country caps of the interim final rule.\n",
        encoding="utf-8",
    )
    manifest = write_manifest(tmp_path / "manifest.toml", [{"id": "one-letter", "file": "letter.txt"}])
    assert build(manifest, tmp_path / "corpus", tmp_path / "kb.db", cache_dir=tmp_path / "cache").ok
    written = write_report(tmp_path / "kb.db", tmp_path / "out", ("html", "md"))
    assert [path.name for path in written if path.suffix == ".svg"] == ["positions-heatmap.svg"]
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "figures/country-lists.svg" not in markdown and "figures/positions-heatmap.svg" in markdown
    assert "figures/dates-timeline.svg" not in markdown
    diff = _markdown_section(markdown, TABLE_TEXT["diff"][0])
    assert "No rows: not in this knowledge base" in diff and "bis-2025-00636-pi" in diff
    page = BeautifulSoup((tmp_path / "out" / "report.html").read_text(encoding="utf-8"), "html.parser")
    assert "not in this knowledge base" in page.select_one("#table-diff").get_text()
    assert not [w for w in recwarn if "singular" in str(w.message)]
