"""Embedding that starts while documents parse (pipeline/link/early.py), on real documents: it takes
what the link stage would embed and nothing else, its vectors are the link stage's, and a real build
that uses it gives every paragraph the vector a late embedding gives."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from pipeline import embed, store
from pipeline.build import build
from pipeline.ingest import read_document
from pipeline.link.early import EarlyVectors
from pipeline.manifest import load_manifest, locate
from pipeline.segment import segment
from tests.conftest import write_manifest

pytestmark = pytest.mark.slow  # several builds of real documents (about 30 s)


@pytest.fixture(scope="module")
def documents(real_corpus):
    found = {}
    for entry in load_manifest():
        if entry.id in ("bis-2025-00636-regtext", "openai-2025-03-13-ai-action-plan"):
            found[entry.doc_type] = entry, segment(read_document(locate(entry, [real_corpus])), entry)
    assert set(found) == {"rule", "comment"}, found.keys()
    return found


def cached(cache_dir, texts):
    return store.load_vectors(cache_dir, sorted({embed.text_key(t) for t in texts}))


def test_rules_are_embedded_first_and_letters_only_when_the_link_stage_would(documents, tmp_path):
    rule, rule_paragraphs = documents["rule"]
    letter, letter_paragraphs = documents["comment"]
    texts = {p.text for p in rule_paragraphs}
    # "auto" with the letters already past the limit: the letter's paragraphs are the link stage's to choose
    early = EarlyVectors(tmp_path / "over", "auto", up_to=10, letter_paragraphs=0)
    early.ready(letter, letter_paragraphs, None)
    early.ready(rule, rule_paragraphs, None)
    done = early.finish(drain=True)
    assert 0 < done <= len(texts)
    kept = cached(tmp_path / "over", [p.text for p in letter_paragraphs] + sorted(texts))
    assert set(kept) <= {embed.text_key(t) for t in texts}  # nothing of the letter
    for mode, expected in (("engaging", 0), ("all", 1), ("auto", 1)):
        early = EarlyVectors(tmp_path / mode, mode, up_to=10_000)
        early.ready(letter, letter_paragraphs, {"positions": [{"quote": "a quote of a position"}]})
        early.finish(drain=True)
        got = cached(tmp_path / mode, [p.text for p in letter_paragraphs])
        assert (len(got) > 0) == bool(expected), mode
        assert cached(tmp_path / mode, ["a quote of a position"])  # quotes are embedded whatever the mode


def test_early_vectors_are_the_link_stage_vectors(documents, tmp_path):
    rule, paragraphs = documents["rule"]
    early = EarlyVectors(tmp_path, "auto", up_to=20_000)
    early.ready(rule, paragraphs[:300], None)
    assert early.finish(drain=True) == len({p.text for p in paragraphs[:300]})
    found = cached(tmp_path, [p.text for p in paragraphs[:300]])
    texts = [t for t in dict.fromkeys(p.text for p in paragraphs[:300]) if embed.text_key(t) in found]
    late = embed.encode(texts)
    ahead = np.vstack([embed.from_blob(found[embed.text_key(t)]) for t in texts])
    assert np.min(np.sum(late * ahead, axis=1)) > 0.99999


def test_a_real_build_embeds_while_parsing_and_stores_the_same_vectors(real_corpus, tmp_path):
    entries = [e for e in load_manifest() if e.id in ("bis-2025-00636-regtext", "openai-2025-03-13-ai-action-plan")]
    manifest = write_manifest(
        tmp_path / "manifest.toml",
        [vars(e) for e in entries],
    )
    report = build(manifest, corpus=real_corpus, db_path=tmp_path / "kb.db", cache_dir=tmp_path / "cache", workers=2)
    assert report.ok, report.problems
    assert report.embedded_early > 0
    with sqlite3.connect(tmp_path / "kb.db") as conn:
        rows = conn.execute(
            "select p.text, e.vector from paragraphs p join embeddings e on e.paragraph_id = p.id"
        ).fetchall()
    assert len(rows) == report.paragraphs
    texts = [text for text, _ in rows]
    stored = np.vstack([embed.from_blob(blob) for _, blob in rows])
    assert np.min(np.sum(stored * embed.encode(texts), axis=1)) > 0.99999
