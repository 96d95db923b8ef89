"""Issue 14: versions compared, dates resolved, a provision's and a term's whole story, the rule against itself,
every table as Excel. Fixtures written here for the contradiction finder (one rule that contradicts itself, one
that does not); the acceptance checks on the real corpus (slow: they need the real build)."""

from __future__ import annotations

import sqlite3

import pytest

from pipeline.contradictions import find
from pipeline.dates import add_period, claimed_dates, governing_dates
from pipeline.diff import compare, word_changes
from pipeline.story import provision_story, term_story

SCHEMA = """
create table documents (id text primary key, title text, doc_type text, author_org text, date text, published text,
                        source_url text, media text, page_count int);
create table paragraphs (id text primary key, doc_id text, ordinal int, section_path text, page int, pin_cite text,
                         text text, kind text);
create table definitions (id text primary key, doc_id text, paragraph_id text, term text, definition text, scope text,
                          kind text, target text);
create table thresholds (id text primary key, doc_id text, paragraph_id text, quantity text, comparator text,
                         value real, unit text, subject text, matched_text text, char_start int, char_end int,
                         value_text text);
"""


def rule(paragraphs, definitions=(), thresholds=(), doc="rule-x", published="2025-01-15"):
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.executescript(SCHEMA)
    conn.execute(
        "insert into documents values (?, 'A rule', 'rule', 'Agency', ?, ?, '', 'text', 1)", (doc, published, published)
    )
    for i, (path, text) in enumerate(paragraphs):
        conn.execute(
            "insert into paragraphs values (?, ?, ?, ?, 1, ?, ?, 'body')",
            (f"{doc}:p{i}", doc, i, path, f"X at {i}", text),
        )
    for i, (p, term, text, scope, kind) in enumerate(definitions):
        conn.execute(
            "insert into definitions values (?, ?, ?, ?, ?, ?, ?, '')",
            (f"def:{i}", doc, f"{doc}:p{p}", term, text, scope, kind),
        )
    for i, (p, quantity, comparator, value, unit, matched) in enumerate(thresholds):
        text = conn.execute("select text from paragraphs where id = ?", (f"{doc}:p{p}",)).fetchone()[0]
        start = text.index(matched)
        conn.execute(
            "insert into thresholds values (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, '')",
            (f"thr:{i}", doc, f"{doc}:p{p}", quantity, comparator, value, unit, matched, start, start + len(matched)),
        )
    return conn


CONTRADICTING = dict(
    paragraphs=[
        ("Preamble > Summary", "Note 1 to ECCN 9E999 exempts models trained with no more than 3x10^25 operations."),
        ("ECCN 9E999", "9E999 Parameters of models trained with 10^26 or more operations."),
        ("ECCN 9E999 > Notes > 1", "1. 9E999 does not control models derived with more than 4x10^25 operations."),
        ("§ 801.1", "§ 801.1 Definitions."),
        ("§ 801.1(a)", "(a) Operator means the person who runs the facility."),
        ("§ 801.2", "§ 801.2 Licence exception."),
        ("§ 801.2(a)", "(a) Operator means the parent company that owns the facility outright."),
        ("§ 801.2(b)", "(b) Eligibility. An operator qualifies as paragraph (c) of this section provides."),
    ],
    definitions=[
        (4, "operator", "Operator means the person who runs the facility.", "§ 801.1", "means"),
        (6, "Operator", "Operator means the parent company that owns the facility outright.", "§ 801.2", "means"),
    ],
    thresholds=[
        (0, "training operations", "<=", 3e25, "operations", "no more than 3x10^25 operations"),
        (1, "training operations", ">=", 1e26, "operations", "10^26 or more operations"),
        (2, "training operations", ">", 4e25, "operations", "more than 4x10^25 operations"),
    ],
)

CONSISTENT = dict(
    paragraphs=[
        ("Preamble > Summary", "Note 1 to ECCN 9E999 exempts models trained with no more than 4x10^25 operations."),
        ("ECCN 9E999", "9E999 Parameters of models trained with 10^26 or more operations."),
        ("ECCN 9E999 > Notes > 1", "1. 9E999 does not control models derived with more than 4x10^25 operations."),
        ("§ 801.1", "§ 801.1 Definitions."),
        ("§ 801.1(a)", "(a) For purposes of this part, operator means the person who runs the facility."),
        ("§ 801.1(b)", "(b) Eligibility. An operator qualifies as paragraph (a) of this section provides."),
        ("§ 801.2", "§ 801.2 Licence exception."),
        ("§ 801.2(a)", "(a) For purposes of this section, the operator is the person who runs the facility."),
        # a reference to a section the rule revises only in part is to the regulations as they stand
        ("§ 801.3(c)", "(c) As § 801.3(b) provides, nothing here changes."),
    ],
    definitions=[
        (
            4,
            "operator",
            "For purposes of this part, operator means the person who runs the facility.",
            "Part 801",
            "means",
        ),
        (
            7,
            "operator",
            "For purposes of this section, the operator is the person who runs the facility.",
            "§ 801.2",
            "means",
        ),
    ],
    thresholds=[
        (0, "training operations", "<=", 4e25, "operations", "no more than 4x10^25 operations"),
        (1, "training operations", ">=", 1e26, "operations", "10^26 or more operations"),
        (2, "training operations", ">", 4e25, "operations", "more than 4x10^25 operations"),
    ],
)


def test_the_contradiction_finder_reports_each_kind_on_a_rule_that_contradicts_itself():
    found = find(rule(**CONTRADICTING))
    kinds = sorted(c.kind for c in found)
    assert kinds == ["cross-reference", "definition", "quantity"], found
    quantity = next(c for c in found if c.kind == "quantity")
    assert "3e+25" in quantity.first and "4e+25" in quantity.second
    assert quantity.first_pin_cite == "X at 0" and quantity.second_pin_cite == "X at 2"
    definition = next(c for c in found if c.kind == "definition")
    assert "person who runs" in definition.first and "parent company" in definition.second
    reference = next(c for c in found if c.kind == "cross-reference")
    assert reference.subject == "§ 801.2(c)" and reference.first_pin_cite == "X at 7"


def test_the_contradiction_finder_reports_nothing_on_a_rule_that_agrees_with_itself():
    assert find(rule(**CONSISTENT)) == []


def test_word_changes_keep_a_placeholder_and_its_date_as_one_change():
    changes = word_changes(
        "certify on or before [INSERT DATE 365 DAYS FROM DATE OF PUBLICATION IN THE FEDERAL REGISTER]. If the owner",
        "certify on or before January 15, 2026. If the owner",
    )
    assert [(c.old, c.new) for c in changes] == [
        ("[INSERT DATE 365 DAYS FROM DATE OF PUBLICATION IN THE FEDERAL REGISTER]", "January 15, 2026")
    ]


def test_dates_resolve_from_publication_and_flag_events():
    conn = rule(
        [
            (
                "Preamble > DATES",
                "Compliance date: You must comply by [INSERT DATE 120 DAYS FROM DATE OF "
                "PUBLICATION IN THE FEDERAL REGISTER].",
            ),
            ("§ 801.4", "The owner must notify BIS within 30 days of certification."),
        ],
        thresholds=[(0, "period", "=", 120, "days", "120 DAYS"), (1, "period", "<=", 30, "days", "within 30 days")],
    )
    found = {g.anchor: g for g in governing_dates(conn)}
    assert found["publication"].resolved == "2025-05-15" and found["publication"].governs.startswith("Compliance date")
    assert found["event"].resolved == "" and "certification" in found["event"].counted_from
    assert add_period(__import__("datetime").date(2025, 1, 31), 1, "months").isoformat() == "2025-02-28"


@pytest.mark.slow
def test_diff_classifies_every_published_paragraph(real_db):
    comparison = compare(real_db)
    counts = comparison.counts()
    published = real_db.execute("select count(*) from paragraphs where doc_id = 'bis-2025-00636-regtext'").fetchone()[0]
    assert counts["b_paragraphs"] == published
    assert sum(counts[k] for k in ("identical", "unchanged", "typography", "changed", "only_in_b")) == published
    changed = [r for r in comparison.rows if r.status == "changed"]
    assert any(
        c.old.startswith("[INSERT DATE 365 DAYS") and c.new == "January 15, 2026" for r in changed for c in r.changes
    )


@pytest.mark.slow
def test_dates_hold_the_compliance_dates_and_not_the_articles_60_days(real_db):
    dates = governing_dates(real_db)
    compliance = [g for g in dates if g.governs.startswith("Compliance date") and g.anchor == "publication"]
    assert {g.resolved for g in compliance} == {"2025-05-15", "2026-01-15"}
    assert all(g.pin_cite == "2025-00636 (public inspection) at 1" for g in compliance)
    assert not any(g.anchor == "publication" and g.value == 60 for g in dates)
    assert all(not g.doc_id.startswith("ruanjian") for g in dates)
    claims = claimed_dates(real_db)
    assert any(c["document"].startswith("ruanjian") and c["value"] == 60 and not c["in the rule"] for c in claims)


@pytest.mark.slow
def test_provision_story_lists_openai_and_itif_with_quotes(real_db):
    story = provision_story(real_db, "§ 742.6(b)(10)")
    orgs = {g["org"]: g for g in story["positions"]}
    assert "OpenAI" in orgs and "ITIF" in orgs
    assert any("country caps" in q["quote"] for g in story["positions"] if g["org"] == "OpenAI" for q in g["quotes"])
    assert any(g["org"] == "ITIF" and g["stance"] == "oppose" for g in story["positions"])
    assert any(
        q["doc_id"].startswith("ruanjian") for g in story["positions"] if g["org"] == "ITIF" for q in g["quotes"]
    )
    assert story["preamble"] and story["paragraphs"][0]["pin_cite"].startswith("2025-00636 (public inspection) at")


@pytest.mark.slow
def test_term_story_shows_both_wordings_of_ultimate_consignee(real_db):
    story = term_story(real_db, "ultimate consignee")
    texts = [w[0]["definition"] for w in story["wordings"]]
    assert len(texts) == 2
    assert any("ultimate parent entity" in t for t in texts) and any("entity that has ownership" in t for t in texts)
    assert story["usages"]


@pytest.mark.slow
def test_contradictions_on_the_real_rule(real_db):
    found = find(real_db, ["bis-2025-00636-pi"])
    assert any(
        c.kind == "quantity" and "ECCN 4E091 > Notes > 1" in c.subject and c.second_pin_cite.endswith("at 143")
        for c in found
    )
    assert any(c.kind == "definition" and "ultimate consignee" in c.subject for c in found)


@pytest.mark.slow
def test_every_table_as_excel(real_db, tmp_path):
    import openpyxl

    from pipeline.tables import TABLES
    from pipeline.xlsx import write_workbook

    path = write_workbook(real_db, tmp_path / "regkb.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(TABLES)
    sheet = book["dates"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    pin = header.index("pin cite") + 1
    assert any(sheet.cell(row=r, column=pin).hyperlink for r in range(2, sheet.max_row + 1))
