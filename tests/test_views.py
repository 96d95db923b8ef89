"""The comparison tables as SQL views (issue 15, migration 009): the views are in a knowledge base built
from the real corpus (the rule, its regulatory text, the letters and news, the synthetic letters beside
them: conftest's real_kb), their columns are what `regkb table` prints, the one part SQL cannot compute
(what a figure is about) is stored by the build as readmodel computes it, and `regkb table`, the report
and datasette read the same rows from them."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from pipeline.readmodel import (ALL_VIEWS, LINK_COLUMNS, VIEWS, clip, figure_subjects, missing_views, number_text,
                                provision, register)
from pipeline.store import MIGRATIONS
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow  # the real corpus's knowledge base is built once per session (conftest real_kb)

# what `regkb table NAME` printed before the tables were views, column by column
TABLE_COLUMNS = {
    "definitions": ["term", "kind", "scope", "defined in", "pin cite", "uses", "definition", "document"],
    "thresholds": ["quantity", "provision", "section path", "comparator", "value", "unit", "subject", "matched text",
                   "pin cite", "document"],
    "claims": ["document", "claim", "claim pin cite", "kind", "the document says", "the rule says", "rule pin cite",
               "verdict"],
}


def _columns(conn: sqlite3.Connection, view: str) -> list[str]:
    return [row[1] for row in conn.execute(f"pragma table_info({view})")]


def test_a_built_knowledge_base_has_the_views_and_the_migration_that_made_them(real_db):
    assert [name for name, _ in MIGRATIONS][-1] == "009_views"
    assert "009_views" in {row[0] for row in real_db.execute("select name from _migrations")}
    assert missing_views(real_db) == []
    register(real_db)
    for view in ALL_VIEWS:
        assert real_db.execute(f"select count(*) from {view}").fetchone()[0] > 0, view


def test_the_views_columns_are_what_regkb_table_prints_then_the_paragraph_they_quote(real_db):
    for name, columns in TABLE_COLUMNS.items():
        found = _columns(real_db, VIEWS[name])
        assert found[:len(columns)] == columns, name
        assert found[len(columns):] and set(found[len(columns):]) <= set(LINK_COLUMNS), name
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
    rows = real_db.execute(f"""select * from {VIEWS['claims']} where document = 'ruanjian-2025-01-08-industry-reactions'
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
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
