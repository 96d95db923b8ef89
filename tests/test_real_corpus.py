"""End to end on the real documents in ../shared/corpus: the 168-page rule, the published
regulatory text, the Chinese news article and OpenAI's response."""

from __future__ import annotations

import re

import pytest

from pipeline.build import build
from pipeline.manifest import DEFAULT_MANIFEST
from pipeline.query import search
from tests.conftest import SYNTHETIC

pytestmark = pytest.mark.slow

PI = "bis-2025-00636-pi"
REGTEXT = "bis-2025-00636-regtext"
OPENAI = "openai-2025-03-13-ai-action-plan"
NEWS_ZH = "ruanjian-2025-01-08-industry-reactions"

SUPPLEMENT_5_A = [
    "Australia",
    "Belgium",
    "Canada",
    "Denmark",
    "Finland",
    "France",
    "Germany",
    "Ireland",
    "Italy",
    "Japan",
    "Netherlands",
    "New Zealand",
    "Norway",
    "Republic of Korea",
    "Spain",
    "Sweden",
    "Taiwan",
    "United Kingdom",
    "United States",
]


def paragraphs(db, doc_id, where="1=1", params=()):
    return db.execute(
        f"select * from paragraphs where doc_id = ? and {where} order by ordinal", (doc_id, *params)
    ).fetchall()


def test_all_four_documents_and_168_pages(real_kb, real_db):
    docs = {row["id"]: row for row in real_db.execute("select * from documents")}
    # every manifest document whose file is on this machine: the rule's two versions, the letters and
    # news of the corpus, the two other real rules and the docket responses with gold
    from pipeline.manifest import corpus_dirs, load_manifest, locate

    on_disk = {entry.id for entry in load_manifest() if locate(entry, corpus_dirs()) is not None}
    assert {PI, REGTEXT, OPENAI, NEWS_ZH} <= on_disk
    assert {d for d in docs if not d.startswith("synthetic-")} == on_disk
    assert docs[PI]["page_count"] == 168
    pages = {row[0] for row in real_db.execute("select distinct page from paragraphs where doc_id = ?", (PI,))}
    assert len(pages) >= 165  # every page but a few that only continue a table or list
    assert max(pages) == 168
    assert docs[OPENAI]["page_count"] == 15
    # the industry letters that are not on this machine are reported, not silently dropped
    assert {e.id for e in real_kb.missing} >= {"iti-2025-01-07-letter-raimondo", "nvidia-2025-01-13-blog"}


def test_supplement_5_paragraph_a_lists_the_19_destinations(real_db):
    rows = paragraphs(real_db, PI, "section_path = ?", ("Supplement No. 5 to Part 740(a)",))
    assert len(rows) == 1
    row = rows[0]
    assert row["page"] in (59, 60)
    # the list runs over a page break: the pin cite names both pages
    pages = f"{row['page']}–{row['page_end']}" if row["page_end"] else str(row["page"])
    assert row["pin_cite"] == f"2025-00636 (public inspection) at {pages}"
    lines = row["text"].split("\n")
    assert lines[0] == "(a) Destinations eligible:"
    assert lines[1:] == SUPPLEMENT_5_A
    published = paragraphs(real_db, REGTEXT, "section_path = ?", ("Supplement No. 5 to Part 740(a)",))
    assert published and published[0]["text"].split("\n")[1:] == SUPPLEMENT_5_A


def test_superscripts_survive_in_4e091(real_db):
    heading = paragraphs(real_db, PI, "section_path = 'ECCN 4E091' and text like '4E091%'")
    assert heading, "the ECCN 4E091 heading paragraph"
    assert "10^26 or more" in heading[0]["text"]
    assert "1026" not in heading[0]["text"]
    notes = paragraphs(real_db, PI, "section_path like 'ECCN 4E091 > Notes%' and text like '%published%'")
    assert any("2.5x10^25" in row["text"] for row in notes)
    preamble = " ".join(r["text"] for r in paragraphs(real_db, PI, "section_path like 'Preamble%'"))
    assert "more than 10^26 computational operations" in preamble
    assert not re.search(r"\b10(26|25) (?:computational|or more|‘operations)", preamble)


def test_no_running_headers_or_bare_page_numbers(real_db):
    # the rule and the corpus's letters and news (the docket's PDF-extracted responses keep footnote
    # numbers set on lines of their own, which are not page furniture)
    for row in real_db.execute(
        "select doc_id, text from paragraphs where doc_id in (?, ?, ?, ?)", (PI, REGTEXT, OPENAI, NEWS_ZH)
    ):
        text = row["text"]
        assert "scheduled to be published in the" not in text, text[:80]
        assert not re.fullmatch(r"\s*\d{1,3}\s*", text), (row["doc_id"], text)
        assert not re.search(r"(?m)^\s*\d{1,3}\s*$", text), (row["doc_id"], text[:80])


@pytest.mark.parametrize(
    "section_path, starts_with",
    [
        ("§ 740.29(a)", "(a) Scope. License Exception LPP authorizes"),
        ("§ 740.29(h)(1)", "(1) Ultimate consignee."),
        ("§ 740.29(h)(2)", "(2) Cumulative TPP."),
        ("§ 740.28(d)", "(d) Private sector end user."),
        ("§ 734.9(h)(1)(i)(B)(2)", "(2) An integrated circuit"),
        ("§ 740.2(a)(9)(ii)", "(ii) The item is identified"),
        ("§ 742.6(b)(10)(iii)(A)(1)", "(A)(1) Policy for Country Group D:5 and Macau."),
        ("§ 748.15(a)(2)(iii)(B)", "(B) NVEU TPP Allocation."),
        ("§ 748.15(f)(2)", "(2) Reviews."),
        ("ECCN 4E091 > Technical Notes > 1", "1. ‘Parameters’ refers to"),
        ("Supplement No. 10 to Part 748 > II > 14 > a", "a. Advanced AI model weights"),
    ],
)
def test_section_paths_follow_the_cfr_hierarchy(real_db, section_path, starts_with):
    rows = paragraphs(real_db, PI, "section_path = ?", (section_path,))
    assert any(row["text"].startswith(starts_with) for row in rows), [r["text"][:60] for r in rows]


def test_preamble_and_amendatory_structure(real_db):
    paths = {row["section_path"] for row in paragraphs(real_db, PI)}
    assert "Preamble > SUMMARY" in paths
    assert "Preamble > DATES" in paths
    assert any(p.startswith("Preamble > SUPPLEMENTARY INFORMATION > I. Background") for p in paths)
    assert "Part 740 > amendatory instruction 9" in paths
    assert "Supplement No. 1 to Part 774" in paths
    nveu = paragraphs(real_db, PI, "kind = 'table' and text like '2025 Q1 |%'")
    assert nveu and nveu[0]["text"] == "2025 Q1 | 633,000,000"


def test_letter_pages_and_footnotes(real_db):
    caps = paragraphs(real_db, OPENAI, "text like '%eliminate country caps on compute%'")
    assert caps and caps[0]["page_label"] == "8" and caps[0]["pin_cite"].endswith("at 8")
    notes = paragraphs(real_db, OPENAI, "kind = 'footnote'")
    assert {n["text"].split()[0] for n in notes} >= {"1", "2", "3", "4", "5"}
    assert all("footnote" in n["section_path"] for n in notes)
    heading = paragraphs(real_db, OPENAI, "kind = 'heading' and text like '2. Export Controls%'")
    assert heading


def test_chinese_article_segments_into_paragraphs(real_db):
    rows = paragraphs(real_db, NEWS_ZH)
    assert len(rows) > 20
    assert any(r["text"].startswith("奥克斯曼在 1 月 7 日的信中表示") for r in rows)
    hits = search(real_db_path(real_db), "出口管制", doc=NEWS_ZH, limit=5)
    assert hits and all(h.doc_id == NEWS_ZH for h in hits)
    assert "[出口管制]" in hits[0].snippet.replace("][", "")


def real_db_path(conn):
    return conn.execute("pragma database_list").fetchone()["file"]


def test_search_finds_lpp_in_top_three(real_kb):
    hits = search(real_kb.db_path, "low processing performance license exception", limit=3)
    assert any(h.section_path.startswith("§ 740.29") for h in hits), [h.section_path for h in hits]
    model_weights = search(real_kb.db_path, "model weights", section="§", limit=10)
    assert model_weights and all(h.section_path.startswith("§") for h in model_weights)


def test_ids_are_stable_and_rebuild_is_cached(real_kb, real_db, real_corpus, tmp_path, monkeypatch):
    before = {row["id"] for row in real_db.execute("select id from paragraphs")}
    manifests = [DEFAULT_MANIFEST, SYNTHETIC / "manifest.toml"]
    cache = real_kb.db_path.parent / "cache"
    # every paragraph's embedding is cached by text hash: a forced re-parse must not encode again
    monkeypatch.setattr("pipeline.embed.encode", lambda texts, **_: pytest.fail(f"re-encoded {len(texts)} texts"))
    again = build(manifests, corpus=None, db_path=tmp_path / "again.db", cache_dir=cache, force=True)
    import sqlite3

    with sqlite3.connect(again.db_path) as conn:
        after = {row[0] for row in conn.execute("select id from paragraphs")}
    assert before == after
    unchanged = build(manifests, corpus=None, db_path=tmp_path / "again.db", cache_dir=cache)
    assert unchanged.up_to_date and unchanged.seconds < 5
