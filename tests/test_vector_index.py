"""The approximate-nearest-neighbour index (pipeline.vectorindex, issue 13) against its oracle, exact
cosine over every embedding, on real documents: the rule's regulatory text and a sample of the real
docket's responses. The index is built only from ANN_FROM vectors up (a docket); the test lowers the
threshold so that a CI-sized knowledge base gets one."""

from __future__ import annotations

import sqlite3
import tomllib

import pytest

from pipeline import query, vectorindex
from pipeline.build import build
from pipeline.manifest import DEFAULT_MANIFEST

from .conftest import write_manifest
from .test_engine import docket_sample

pytestmark = pytest.mark.slow  # two builds of real documents (about 20 s)

QUERIES = [
    "export controls on advanced AI chips",
    "country caps on computing power",
    "model weights of frontier models",
    "energy for data centers",
    "copyright and training data",
    "open-source AI models",
    "small businesses",
    "validated end user authorization",
    "license exception for low processing performance",
    "China and DeepSeek",
    "healthcare and medical AI",
    "workforce and education",
    "state laws preemption",
    "federal procurement",
]


def rule_text_manifest(tmp_path, real_corpus):
    documents = tomllib.loads(DEFAULT_MANIFEST.read_text(encoding="utf-8"))["document"]
    rule = [
        d
        for d in documents
        if d["doc_type"] == "rule" and not d["file"].endswith(".pdf") and (real_corpus / d["file"]).exists()
    ]
    assert rule, "the rule's published regulatory text is expected in the real corpus"
    return write_manifest(tmp_path / "rule.toml", rule)


@pytest.fixture(scope="module")
def kbs(tmp_path_factory, real_corpus):
    """The same documents built twice: with the index (threshold lowered) and without (as a small
    knowledge base is built)."""
    work = tmp_path_factory.mktemp("ann")
    manifests = [rule_text_manifest(work, real_corpus), docket_sample(work, every=100)]
    plain = build(manifests, corpus=real_corpus, db_path=work / "plain.db", cache_dir=work / "cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vectorindex, "ANN_FROM", 100)
        indexed = build(manifests, corpus=real_corpus, db_path=work / "indexed.db", cache_dir=work / "cache")
    assert plain.ok and indexed.ok, (plain.problems, indexed.problems)
    return plain.db_path, indexed.db_path


def test_the_index_is_stored_in_the_knowledge_base_for_every_embedding(kbs):
    plain, indexed = kbs
    with sqlite3.connect(plain) as conn:
        assert conn.execute("select count(*) from vector_index").fetchone()[0] == 0  # small: exact search only
    with sqlite3.connect(indexed) as conn:
        ((vectors, library, ids),) = conn.execute("select vectors, library, paragraph_ids from vector_index")
        embedded = conn.execute("select count(*) from embeddings").fetchone()[0]
    assert library == "usearch" and vectors == embedded >= 1000


def test_the_index_finds_what_exact_cosine_finds(kbs):
    """Top 10 of the index against the exact top 10 of the same knowledge base, by similarity (a
    campaign's identical paragraphs tie): at least 95 % found, scores the exact cosine."""
    _, indexed = kbs
    from pipeline import embed

    loaded = query._ann(str(indexed), indexed.stat().st_mtime_ns)
    assert loaded is not None
    found_share = []
    for text in QUERIES:
        vector = embed.encode([text])[0]
        exact = query._exact(indexed, vector, None, None, 10)
        approximate = loaded.search(vector, 10)
        tenth = exact[-1][1]
        exact_scores = dict(query._exact(indexed, vector, None, None, 10_000))
        found_share.append(sum(exact_scores[pid] >= tenth - 1e-5 for pid, _ in approximate) / 10)
        for pid, score in approximate:
            assert score == pytest.approx(exact_scores[pid], abs=1e-4)
    assert sum(found_share) / len(found_share) >= 0.95, found_share


def test_semantic_and_hybrid_search_use_the_index_and_filters_stay_exact(kbs):
    plain, indexed = kbs
    for mode in ("semantic", "hybrid"):
        with_index = [hit.id for hit in query.search(indexed, "export controls on AI chips", mode=mode, limit=5)]
        without = [hit.id for hit in query.search(plain, "export controls on AI chips", mode=mode, limit=5)]
        assert len(with_index) == 5 and len(set(with_index) & set(without)) >= 4, (with_index, without)
    with sqlite3.connect(indexed) as conn:
        doc = conn.execute(
            "select doc_id from paragraphs p join embeddings e on e.paragraph_id = p.id "
            "where doc_id like 'ai-rfi%' or doc_id not like '%rule%' limit 1"
        ).fetchone()[0]
    hits = query.search(indexed, "artificial intelligence policy", doc=doc, mode="semantic", limit=3)
    assert hits and {hit.doc_id for hit in hits} == {doc}


def test_a_build_takes_up_the_previous_index_and_adds_only_the_new_vectors(kbs, monkeypatch):
    """Adding one letter to the docket added all 42,000 vectors to a fresh index again (9 s): the index
    of the previous build (kept in the cache) is taken up when its paragraphs are the first of the
    new ones with the same vectors, and only the vectors after them are added."""
    import numpy as np

    _, indexed = kbs
    with sqlite3.connect(indexed) as conn:
        rows = conn.execute(
            "select e.paragraph_id, e.vector, e.model from embeddings e join paragraphs p on p.id = e.paragraph_id "
            "order by p.rowid"
        ).fetchall()
    ids = [row[0] for row in rows]
    matrix = np.vstack([np.frombuffer(row[1], dtype=np.float32) for row in rows])
    model = rows[0][2]
    monkeypatch.setattr(vectorindex, "ANN_FROM", 100)
    earlier = vectorindex.build_row(ids[:-200], matrix[:-200], model)
    index, held = vectorindex._taken_up(earlier, ids, matrix, model)
    assert index is not None and held == len(ids) - 200
    later = vectorindex.build_row(ids, matrix, model, previous=earlier)
    assert later["vectors"] == len(ids)
    loaded = vectorindex.Loaded(later["paragraph_ids"], later["data"])
    assert np.array_equal(np.asarray(loaded.index.get(np.arange(len(ids), dtype=np.uint64))), matrix)
    for position in (0, len(ids) // 2, len(ids) - 1):  # each vector finds itself (or a copy's), the new ones too
        found, similarity = loaded.search(matrix[position], 1)[0]
        assert similarity > 0.9999 and np.array_equal(matrix[ids.index(found)], matrix[position])
    assert vectorindex.build_row(ids, matrix, model, previous=later) is later  # nothing new: the same row

    # not taken up: another vector among the first, other paragraphs first, another model, damage
    changed = matrix.copy()
    changed[3] = changed[4]
    assert vectorindex._taken_up(earlier, ids, changed, model) == (None, 0)
    assert vectorindex._taken_up(earlier, ids[1:] + ids[:1], matrix, model) == (None, 0)
    assert vectorindex._taken_up(earlier, ids, matrix, "another-model") == (None, 0)
    assert vectorindex._taken_up({**earlier, "data": b"not an index"}, ids, matrix, model) == (None, 0)
    assert vectorindex._taken_up({**earlier, "paragraph_ids": "[1"}, ids, matrix, model) == (None, 0)


def test_the_build_keeps_its_index_in_the_cache(kbs):
    from pipeline import store

    _, indexed = kbs
    kept = store.load_index_row(indexed.parent / "cache")
    with sqlite3.connect(indexed) as conn:
        (stored,) = conn.execute("select paragraph_ids, data from vector_index").fetchall()
    assert kept is not None and (kept["paragraph_ids"], kept["data"]) == stored
