"""Incremental builds (issue 13): adding, changing or removing a letter rewrites only the document
tables that changed (store.kb), and the knowledge base is the one a full build of the same corpus
writes, table by table. Real documents: the rule's published regulatory text and four responses
from the real docket."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeline import store
from pipeline.build import build
from tests.conftest import REAL_CORPUS, write_manifest

pytestmark = pytest.mark.slow  # builds of the real rule and docket responses (about 35 s)

DOCKET = REAL_CORPUS.parent / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
RULE = {
    "id": "rule",
    "doc_type": "rule",
    "file": "2025-00636-published-regtext.txt",
    "title": "AI Diffusion rule",
    "author_org": "Bureau of Industry and Security (BIS)",
    "cite_as": "90 FR 4544",
}
LETTERS = [
    {"id": name.split("-")[0].lower(), "file": name, "author_org": name.split("-")[0]}
    for name in ("Google-RFI-2025.txt", "Intel-AI-RFI-2025.txt", "CNAS-AI-RFI-2025.txt", "IFP-AI-RFI-2025.txt")
]
SKIP_COLUMNS = {"built_at"}
OFF_SUBJECT = {
    "id": "1day-sooner",
    "file": "1Day-Sooner-RFI-2025.txt",
    "author_org": "1Day Sooner",
}  # no export controls


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("incremental-corpus")
    shutil.copy(REAL_CORPUS / RULE["file"], folder)
    for letter in [*LETTERS, OFF_SUBJECT]:
        shutil.copy(DOCKET / letter["file"], folder)
    return folder


def contents(db_path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, as sorted tuples (rowids aside), and what the full-text index finds."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "select name from sqlite_master where type = 'table' and name "
                "not like 'paragraphs_fts%' and name not like 'sqlite_%'"
            )
        ]
        out = {}
        for table in tables:
            columns = [
                row[1]
                for row in conn.execute(f"pragma table_info({table})")
                if row[1] not in SKIP_COLUMNS and not (table == "_migrations" and row[1] == "applied_at")
            ]
            rows = conn.execute(f"select {', '.join(columns)} from {table}").fetchall()
            if table == "build_info":
                rows = [row for row in rows if row[0] != "built_at"]
            out[table] = sorted(rows, key=repr)
        for word in ("export", "diffusion", "semiconductor*", "compute"):
            out[f"fts:{word}"] = sorted(
                row[0]
                for row in conn.execute(
                    "select p.id from paragraphs_fts f join paragraphs p on p.rowid = f.rowid "
                    "where paragraphs_fts match ?",
                    (word,),
                )
            )
        return out
    finally:
        conn.close()


def build_of(corpus: Path, folder: Path, docs: list[dict], db: Path, cache: Path):
    manifest = write_manifest(folder / f"manifest-{len(docs)}-{docs[-1]['id']}.toml", docs)
    report = build(manifest, corpus=corpus, db_path=db, cache_dir=cache)
    assert report.ok, report.problems
    return report


def assert_same(a: Path, b: Path) -> None:
    left, right = contents(a), contents(b)
    assert left.keys() == right.keys()
    for table in left:
        assert left[table] == right[table], f"{table} differs between the incremental and the full build"


def test_adding_changing_and_removing_a_letter_rewrites_only_what_changed(corpus, tmp_path):
    cache = tmp_path / "cache"
    kb = tmp_path / "kb.db"
    first = build_of(corpus, tmp_path, [RULE, *LETTERS[:3]], kb, cache)
    assert first.write == "full"  # nothing to build on

    added = build_of(corpus, tmp_path, [RULE, *LETTERS], kb, cache)
    assert added.built == [LETTERS[3]["id"]] and added.write.startswith("incremental")
    rewritten, total = map(int, added.write.split("(")[1].split(" document")[0].split(" of "))
    assert 0 < rewritten < total / 2
    full = build_of(corpus, tmp_path, [RULE, *LETTERS], tmp_path / "full-4.db", tmp_path / "cache-full")
    assert full.write == "full"
    assert_same(kb, tmp_path / "full-4.db")

    removed = build_of(corpus, tmp_path, [RULE, *LETTERS[1:]], kb, cache)
    assert removed.write.startswith("incremental")
    build_of(corpus, tmp_path, [RULE, *LETTERS[1:]], tmp_path / "full-3.db", cache)
    assert_same(kb, tmp_path / "full-3.db")
    assert (
        sqlite3.connect(kb)
        .execute("select count(*) from paragraphs where doc_id = ?", (LETTERS[0]["id"],))
        .fetchone()[0]
        == 0
    )

    # a letter whose metadata changes (its organisation) is rewritten, its paragraphs' rows included
    renamed = [RULE, *LETTERS[1:3], {**LETTERS[3], "author_org": "Institute for Progress (IFP)"}]
    changed = build_of(corpus, tmp_path, renamed, kb, cache)
    assert changed.write.startswith("incremental")
    build_of(corpus, tmp_path, renamed, tmp_path / "full-renamed.db", cache)
    assert_same(kb, tmp_path / "full-renamed.db")


def test_an_incremental_write_that_fails_leaves_the_previous_knowledge_base(corpus, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    kb = tmp_path / "kb.db"
    build_of(corpus, tmp_path, [RULE, *LETTERS[:2]], kb, cache)
    before = kb.read_bytes()

    def crash(conn, temp, db_path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.kb, "_finish", crash)
    with pytest.raises(Exception, match="previous knowledge base is unchanged"):
        build_of(corpus, tmp_path, [RULE, *LETTERS[:3]], kb, cache)
    assert kb.read_bytes() == before
    assert not list(tmp_path.glob(".kb.db.*"))  # no temporary copy left behind


def test_at_docket_size_only_the_letters_that_engage_with_the_rule_are_embedded(corpus, tmp_path):
    docs = [RULE, *LETTERS[:2], OFF_SUBJECT]
    manifest = write_manifest(tmp_path / "manifest.toml", docs)
    counts = {}
    for mode in ("auto", "engaging"):
        report = build(
            manifest, corpus=corpus, db_path=tmp_path / f"{mode}.db", cache_dir=tmp_path / "cache", embed_letters=mode
        )
        assert report.ok, report.problems
        conn = sqlite3.connect(tmp_path / f"{mode}.db")
        counts[mode] = dict(
            conn.execute(
                "select p.doc_id, count(e.paragraph_id) from paragraphs p left join "
                "embeddings e on e.paragraph_id = p.id group by p.doc_id"
            ).fetchall()
        )
        paragraphs = dict(conn.execute("select doc_id, count(*) from paragraphs group by doc_id").fetchall())
    # a corpus this small is embedded whole; "engaging" leaves out the letter that never touches the rule
    assert counts["auto"] == paragraphs
    assert counts["engaging"][OFF_SUBJECT["id"]] == 0
    assert all(counts["engaging"][doc["id"]] == paragraphs[doc["id"]] for doc in docs[:3])
    # the letter left out is still found by the full-text search
    from pipeline.query import search

    hits = search(tmp_path / "engaging.db", "Food and Drug Administration", doc=OFF_SUBJECT["id"], mode="bm25")
    assert hits and hits[0].doc_id == OFF_SUBJECT["id"]


def test_identical_copies_under_two_ids_rebuild_from_the_cache_as_themselves(corpus, tmp_path):
    """A campaign files the same bytes under many names (the real docket has hundreds of identical
    responses). Each copy is its own document: rebuilt from the cache (and with a copy's organisation
    corrected in the manifest), every paragraph keeps its own document's id and every position its own
    author. The cache once keyed documents by content alone, so the second build handed one copy's
    rows to the other (a duplicate paragraph id: the build failed)."""
    shutil.copy(corpus / "Google-RFI-2025.txt", corpus / "Google-copy.txt")
    copy = {"id": "google-copy", "file": "Google-copy.txt", "author_org": "Copy Campaign"}
    docs = [RULE, LETTERS[0], copy]
    cache = tmp_path / "cache"
    first = build_of(corpus, tmp_path, docs, tmp_path / "first.db", cache)
    assert "google-copy" in first.built
    renamed = {**copy, "author_org": "Copy Campaign, corrected"}
    again = build_of(corpus, tmp_path, [RULE, LETTERS[0], renamed], tmp_path / "again.db", cache)
    assert "google" in again.cached
    with sqlite3.connect(tmp_path / "again.db") as conn:
        prefixes = dict(
            conn.execute("select doc_id, count(*) from paragraphs where id like doc_id || ':%' group by doc_id")
        )
        counts = dict(conn.execute("select doc_id, count(*) from paragraphs group by doc_id"))
        orgs = {org for (org,) in conn.execute("select distinct org from positions where doc_id = 'google-copy'")}
    assert prefixes["google"] == counts["google"] == prefixes["google-copy"] == counts["google-copy"]
    assert orgs == {"Copy Campaign, corrected"}
