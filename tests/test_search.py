"""Search on a small knowledge base built from synthetic letters: ranking, filters, and user
input that must never reach FTS5 or SQL as syntax."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.build import build
from pipeline.cli import main
from pipeline.query import QueryError, search
from tests.conftest import write_manifest


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "iti.txt").write_text(
        "SYNTHETIC TEST LETTER, not a real ITI document.\n\nExport controls\n\n"
        "We object to the country caps on advanced computing integrated circuits.\n\n"
        "License Exception LPP is too narrow for low processing performance shipments.\n\n"
        "模型权重的出口管制将损害美国的领导地位。\n",
        encoding="utf-8",
    )
    (corpus / "sia.txt").write_text(
        "SYNTHETIC TEST STATEMENT, not a real SIA document.\n\nThe rule was rushed as an interim final rule.\n",
        encoding="utf-8",
    )
    manifest = write_manifest(
        root / "manifest.toml",
        [
            {"id": "iti-synthetic", "file": "iti.txt", "author_org": "ITI"},
            {"id": "sia-synthetic", "file": "sia.txt", "author_org": "SIA", "doc_type": "statement"},
        ],
    )
    report = build(manifest, corpus, root / "kb.db", cache_dir=root / "cache")
    assert report.ok, report.problems
    return report.db_path


def test_ranked_hits_with_provenance(small_kb):
    hits = search(small_kb, "country caps")
    assert hits[0].doc_id == "iti-synthetic"
    assert hits[0].section_path == "Export controls"
    assert "[country] [caps]" in hits[0].snippet
    assert hits[0].pin_cite.startswith("Test Org") or hits[0].pin_cite.startswith("ITI")


def test_all_terms_first_then_some(small_kb):
    hits = search(small_kb, "interim rule caps", limit=5)
    assert {h.doc_id for h in hits} == {"iti-synthetic", "sia-synthetic"}
    assert hits[0].doc_id == "sia-synthetic"  # has both "interim" and "rule"... and ranks first


def test_filters(small_kb):
    assert all(h.doc_id == "sia-synthetic" for h in search(small_kb, "rule", doc="sia-synthetic"))
    assert search(small_kb, "caps", section="Export") and not search(small_kb, "caps", section="Nothing%")


def test_prefix_phrase_and_chinese(small_kb):
    assert search(small_kb, "comput*")
    assert search(small_kb, '"low processing performance"')
    assert not search(small_kb, '"performance low processing"')
    assert search(small_kb, "出口管制")[0].doc_id == "iti-synthetic"


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "AND OR",
        "caps AND",
        "NOT",
        "*",
        "caps*)",
        "'; DROP TABLE paragraphs; --",
        "text:caps",
        "NEAR(caps rule)",
        "^caps",
        "caps OR 1=1",
        "\\x00",
        "((( caps",
        "-caps",
        "§ 740.29(a)",
        "section_path:§",
    ],
)
def test_hostile_queries_never_raise_anything_but_a_clear_message(small_kb, query):
    try:
        hits = search(small_kb, query, section="x%_'\\", doc="'; drop table documents; --")
        assert hits == []
        search(small_kb, query)
    except QueryError as exc:
        assert "nothing to search for" in str(exc)
    runner = CliRunner()
    result = runner.invoke(main, ["search", "--db", str(small_kb), "--json", "--", query])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        json.loads(result.output)
    import sqlite3

    with sqlite3.connect(small_kb) as conn:
        assert conn.execute("select count(*) from paragraphs").fetchone()[0] > 0


def test_missing_knowledge_base_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["search", "caps", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no knowledge base here yet" in result.output
