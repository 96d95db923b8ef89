"""The extractor contract (pipeline/extract/contract.py): the declarations are what the components,
the rows, the store's provenance checks, the schema and `regkb evaluate` actually use."""

from __future__ import annotations

import re
import sqlite3

import pytest

from pipeline import evaluate, store
from pipeline.extract import contract
from pipeline.extract.run import pipeline


@pytest.mark.slow  # the real corpus's knowledge base (conftest real_kb)
def test_every_component_of_the_pipeline_is_declared_and_fills_only_its_groups(real_db):
    nlp = pipeline("en")
    assert tuple(nlp.pipe_names) == contract.COMPONENTS
    # a paragraph of the published regulatory text that defines a term (as the build found)
    text = real_db.execute(
        "select p.text from definitions d join paragraphs p on p.id = d.paragraph_id "
        "where d.doc_id = 'bis-2025-00636-regtext' order by d.id limit 1"
    ).fetchone()[0]
    doc = nlp.make_doc(text)
    for name, component in nlp.pipeline:
        declared = {output.group for spec in contract.CONTRACTS if spec.component == name for output in spec.outputs}
        before = set(doc.spans)
        doc = component(doc)
        assert set(doc.spans) - before <= declared, name
    assert doc.spans["definitions"], "the definitions component found nothing in its own kind of sentence"


@pytest.mark.slow  # the real corpus's knowledge base (conftest real_kb)
def test_the_knowledge_base_has_every_declared_column(real_db):
    for output in contract.outputs():
        columns = {row[1] for row in real_db.execute(f"pragma table_info({output.table})")}
        missing = set(output.all_columns()) - columns
        assert not missing, f"{output.table} lacks the declared columns {missing}"


@pytest.mark.slow  # the real corpus's knowledge base (conftest real_kb)
def test_rows_carry_the_declared_id_prefix_and_quote_their_paragraph(real_db):
    for output in contract.outputs():
        if output.id_prefix:
            ids = [row[0] for row in real_db.execute(f"select id from {output.table} limit 500")]
            assert ids and all(re.fullmatch(rf"{output.id_prefix}:[0-9a-f]{{12}}", i) for i in ids), output.table
    # the store verifies exactly the declared quote columns, on every build
    assert {t: c for t, c in store.PROVENANCE_TABLES.items() if t != "term_usages"} == contract.provenance_tables()
    assert store.provenance_mismatches(real_db) == []


@pytest.mark.slow  # the real corpus's knowledge base (conftest real_kb)
def test_store_refuses_a_row_whose_declared_quote_is_not_its_paragraph(real_kb, tmp_path):
    copy = tmp_path / "kb.db"
    with sqlite3.connect(real_kb.db_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as conn:
        conn.execute(
            "update thresholds set matched_text = matched_text || 'x' where rowid = (select min(rowid) from thresholds)"
        )
        found = store.provenance_mismatches(conn)
    assert [row["table"] for row in found] == ["thresholds"]


def test_evaluate_scores_each_component_with_the_scorer_it_declares():
    assert set(evaluate.SCORERS) == {spec.gold for spec in contract.CONTRACTS}
    for spec in contract.CONTRACTS:
        assert evaluate.SCORERS[spec.gold].__name__ == f"score_{spec.gold}"
