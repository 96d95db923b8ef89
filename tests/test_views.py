"""The comparison tables as SQL views (issue 15, migration 009): the views are in a knowledge base built
from the real corpus (the rule, its regulatory text, the letters and news, the synthetic letters beside
them: conftest's real_kb), their columns are what `regkb table` prints, the one part SQL cannot compute
(what a figure is about) is stored by the build as readmodel computes it, and `regkb table`, the report
and datasette read the same rows from them."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from pipeline.models import RegkbError
from pipeline.readmodel import (
    ALL_VIEWS,
    COUNTRY_LIST_COLUMNS,
    LINK_COLUMNS,
    VIEWS,
    clip,
    figure_subjects,
    missing_views,
    number_text,
    provision,
    register,
    topics,
)
from pipeline.store import MIGRATIONS
from pipeline.tables import build_table
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow  # the real corpus's knowledge base is built once per session (conftest real_kb)

# what `regkb table NAME` printed before the tables were views, column by column
TABLE_COLUMNS = {
    "definitions": ["term", "kind", "scope", "defined in", "pin cite", "uses", "definition", "document"],
    "thresholds": [
        "quantity",
        "provision",
        "section path",
        "comparator",
        "value",
        "unit",
        "subject",
        "matched text",
        "pin cite",
        "document",
    ],
    "claims": [
        "document",
        "claim",
        "claim pin cite",
        "kind",
        "the document says",
        "the rule says",
        "rule pin cite",
        "verdict",
    ],
}


def _columns(conn: sqlite3.Connection, view: str) -> list[str]:
    return [row[1] for row in register(conn).execute(f"pragma table_info({view})")]


def test_a_built_knowledge_base_has_the_views_and_the_migration_that_made_them(real_db):
    assert "009_views" in [name for name, _ in MIGRATIONS]
    assert "009_views" in {row[0] for row in real_db.execute("select name from _migrations")}
    assert missing_views(real_db) == []
    register(real_db)
    for view in ALL_VIEWS:
        assert real_db.execute(f"select count(*) from {view}").fetchone()[0] > 0, view


def test_the_views_columns_are_what_regkb_table_prints_then_the_paragraph_they_quote(real_db):
    for name, columns in TABLE_COLUMNS.items():
        found = _columns(real_db, VIEWS[name])
        assert found[: len(columns)] == columns, name
        assert found[len(columns) :] and set(found[len(columns) :]) <= set(LINK_COLUMNS), name
    assert _columns(real_db, VIEWS["countries"])[:3] == ["iso2", "country", "list"]
    assert _columns(real_db, VIEWS["positions"])[:3] == ["organisation", "topic", "positions"]


def test_a_view_read_without_the_read_models_functions_names_the_one_missing(real_kb):
    conn = sqlite3.connect(real_kb.db_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: clip"):
            conn.execute(f"select * from {VIEWS['definitions']}").fetchall()
        assert register(conn).execute(f"select count(*) from {VIEWS['definitions']}").fetchone()[0] > 0
    finally:
        conn.close()


def test_the_stored_figure_subjects_are_what_the_read_model_reads_around_each_figure(real_db):
    stored = {(row["threshold_id"], row["subject"]) for row in real_db.execute("select * from figure_subjects")}
    recomputed = set()
    for row in real_db.execute("""select t.id, t.unit, t.char_start, t.char_end, p.text from thresholds t
                                  join paragraphs p on p.id = t.paragraph_id"""):
        recomputed |= {(row["id"], subject) for subject in figure_subjects(row)}
    assert stored == recomputed and len(stored) > 50
    # the Chinese article's “60天” after publication is about when the rule takes effect
    sixty = real_db.execute("""select s.subject from figure_subjects s join thresholds t on t.id = s.threshold_id
                               where t.doc_id = 'ruanjian-2025-01-08-industry-reactions' and t.matched_text = '60天'
                               """).fetchall()
    assert [row[0] for row in sixty] == ["effective or compliance date"]


def test_the_claims_view_compares_a_stated_figure_with_the_rules_figure_on_the_same_subject(real_db):
    register(real_db)
    rows = real_db.execute(f"""select * from {VIEWS["claims"]} where document = 'ruanjian-2025-01-08-industry-reactions'
                               and claim = '60天'""").fetchall()
    assert len(rows) == 1
    row = rows[0]
    assert row["kind"] == "figure (days; effective or compliance date)" and row["the document says"] == "= 60 days"
    # the rule counts 120 days from publication (Preamble > DATES), not 60: a claim the rule does not make
    assert row["the rule says"].startswith("120 days (") and row["verdict"].startswith("differs (rule: 120 days at ")
    quoted = real_db.execute("select pin_cite from paragraphs where id = ?", (row["rule_paragraph_id"],)).fetchone()
    assert quoted[0] == row["rule pin cite"]


def test_the_views_functions_are_the_read_models():
    assert clip("  a\n b\t c ", 10) == "a b c" and clip("abcdefghij", 5) == "abcd…"
    assert number_text(1e26) == "1e+26" and number_text(4800.0) == "4,800" and number_text(None) == ""
    assert provision("§ 740.29(h)(2)") == "§ 740.29" and provision("ECCN 3A090.a.1") == "ECCN 3A090"
    assert provision("§ see below > x") == "§ see below"  # root_of finds no section number: not an error


def test_reading_the_tables_loads_neither_spacy_nor_torch():
    probe = """
import json, sys
import pipeline.readmodel, pipeline.tables, pipeline.report, pipeline.query, pipeline.cite
print(json.dumps(sorted(m for m in ("spacy", "torch", "sentence_transformers") if m in sys.modules)))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


# ----------------------------------------------------------------------------- the tables read from the views


def test_the_countries_matrix_is_the_membership_of_every_list(real_db):
    columns, rows = build_table(real_db, "countries")
    lists = [row["list_id"] for row in real_db.execute(f"select list_id from {COUNTRY_LIST_COLUMNS} order by position")]
    assert columns[:2] == ["iso2", "country"] and len(columns) == 2 + len(lists) == len(set(columns))
    assert any(name.endswith("] #2") for name in columns), "two lists of one name are told apart"
    members = {
        (row[0], row[1])
        for row in real_db.execute("select iso2, list_id from country_list_members where iso2 is not null")
    }
    shown = {(row[0], list_id) for row in rows for list_id, cell in zip(lists, row[2:]) if cell == "✓"}
    assert shown == members
    assert [row[0] for row in rows] == sorted({code for code, _ in members})
    assert dict((row[0], row[1]) for row in rows)["AE"] == "United Arab Emirates"


def test_the_positions_matrix_counts_every_position_once_and_quotes_an_objection_first(real_db):
    columns, rows = build_table(real_db, "positions")
    counts = {
        (row[0], row[1]): row[2]
        for row in real_db.execute(
            "select org, topic, count(*) from positions where duplicate_of is null group by org, topic"
        )
    }
    assert columns[0] == "organisation" and columns[1:] == [t for t in topics() if t in {t for _, t in counts}]
    stance_of = dict(real_db.execute("select id, stance from positions").fetchall())
    shown = {}
    for row in rows:
        for topic, cell in zip(columns[1:], row[1:]):
            if cell:
                shown[(row[0], topic)] = int(cell.split(":")[0].split(" ")[0])
                quoted = cell.rsplit("[", 1)[1].rstrip("]")
                stances = {
                    s
                    for (s,) in real_db.execute(
                        "select stance from positions where org = ? and topic = ? and duplicate_of is null",
                        (row[0], topic),
                    )
                }
                if stances & {"oppose", "request_change"}:
                    assert stance_of[quoted] in {"oppose", "request_change"}, cell
    assert shown == counts and sum(counts.values()) > 20
    assert [row[0] for row in rows] == sorted({org for org, _ in counts})


def test_a_knowledge_base_built_before_the_views_is_told_to_rebuild(real_kb, tmp_path):
    old = tmp_path / "old.db"
    shutil.copyfile(real_kb.db_path, old)
    with sqlite3.connect(old) as conn:
        for view in ALL_VIEWS[::-1]:
            conn.execute(f"drop view {view}")
    conn = sqlite3.connect(old)
    try:
        for name in VIEWS:
            with pytest.raises(RegkbError, match=r"built by an older regkb\?\); run `regkb build` again"):
                build_table(conn, name)
        assert build_table(conn, "dates")[1], "a table computed in Python still reads the old knowledge base"
    finally:
        conn.close()


# ----------------------------------------------------------------------------- one source, three surfaces


@pytest.fixture(scope="module")
def client(real_kb):
    from tests.test_views_ui import Client

    served = Client(real_kb.db_path)
    yield served
    served.loop.close()


def _served(client, page: str) -> list[dict]:
    response = client.get(f"/regkb/{page}.json", _shape="array", _size="max")
    assert response.status_code == 200, (page, response.text[:300])
    return response.json()


def _datasette_table(client, name: str, columns: list[str]) -> list[list]:
    """The table `regkb table NAME` prints, as datasette serves it: a view, or a matrix over the long view."""
    if name == "countries":
        return [list(row.values()) for row in _served(client, "country_matrix")]
    if name == "positions":
        cells = {(row["organisation"], row["topic"]): row["cell"] for row in _served(client, VIEWS["positions"])}
        organisations = dict.fromkeys(org for org, _ in cells)
        return [[org] + [cells.get((org, topic), "") for topic in columns[1:]] for org in organisations]
    return [[row[column] for column in columns] for row in _served(client, VIEWS[name])]


def test_regkb_table_the_report_and_datasette_give_the_same_rows(real_kb, client, tmp_path):
    from bs4 import BeautifulSoup
    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.report import write_report

    write_report(real_kb.db_path, tmp_path / "report", ("html",))
    page = BeautifulSoup((tmp_path / "report" / "report.html").read_text(encoding="utf-8"), "html.parser")
    for name in VIEWS:
        result = CliRunner().invoke(
            main, ["table", name, "--db", str(real_kb.db_path), "--format", "json", "--out", str(tmp_path / "tables")]
        )
        assert result.exit_code == 0, result.output
        printed = json.loads((tmp_path / "tables" / f"{name}.json").read_text(encoding="utf-8"))
        columns, rows = list(printed[0]), [list(row.values()) for row in printed]
        assert len(rows) >= 10, f"{name}: {len(rows)} rows prove little"
        table = page.select_one(f"#table-{name} table")
        assert [th.get_text() for th in table.select("thead th")] == columns, name
        assert [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")] == [
            [str(value) for value in row] for row in rows
        ], name
        served = _datasette_table(client, name, columns)
        assert served == rows, name


def test_a_views_page_has_the_raised_time_limit_but_its_where_does_not(client):
    import time

    assert client.get(f"/regkb/{VIEWS['claims']}.json", _shape="array").status_code == 200
    endless = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    started = time.monotonic()
    response = client.get(f"/regkb/{VIEWS['claims']}.json", _where=f"length(kind) in ({endless})")
    assert response.status_code == 400 and "SQL query took too long" in response.text
    assert time.monotonic() - started < 2.5
