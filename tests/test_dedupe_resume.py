"""Campaign detection taken up where the last build left it (issue 13: adding one letter to the
docket spent 47 s comparing all 10,000 letters again). Real letters: 500 of the shorter responses of
the real docket, where the template campaigns are."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from pipeline import dedupe
from pipeline.link import corpus as link_corpus
from tests.conftest import REAL_CORPUS

DOCKET = REAL_CORPUS.parent / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"


@pytest.fixture(scope="module")
def letters() -> tuple[dict[str, str], dict[str, np.ndarray]]:
    files = sorted(sorted(DOCKET.glob("*.txt"), key=lambda f: (f.stat().st_size, f.name))[:3000:6])
    texts = {path.stem: path.read_text(encoding="utf-8", errors="replace") for path in files}
    return texts, {doc_id: dedupe.signature(text) for doc_id, text in texts.items()}


def pairs_of(found: list[dedupe.Pair]) -> list[tuple]:
    return [(p.a, p.b, round(p.jaccard, 9), p.method) for p in found]


def test_the_band_index_finds_the_candidates_datasketch_finds(letters):
    """BandIndex is datasketch's MinHashLSH (same bands and rows for the threshold) kept as plain
    dictionaries: the same candidates for every real letter, queried before it is added."""
    _, signatures = letters
    lsh = MinHashLSH(threshold=dedupe.GREY_ZONE, num_perm=dedupe.PERMUTATIONS)
    index = dedupe.BandIndex(dedupe.GREY_ZONE, dedupe.PERMUTATIONS)
    nonempty = 0
    for doc_id, values in signatures.items():
        if not len(values):
            continue
        minhash = MinHash(num_perm=dedupe.PERMUTATIONS, hashvalues=values, scheme=dedupe.SCHEME)
        expected = set(lsh.query(minhash))
        assert index.query(values) == expected, doc_id
        nonempty += bool(expected)
        lsh.insert(doc_id, minhash)
        index.insert(doc_id, values)
    assert nonempty > 50  # the sample has campaigns: the comparison is not between empty sets


def test_taking_up_the_progress_finds_what_a_fresh_run_finds(letters):
    texts, signatures = letters
    fresh, progress = dedupe.find_copies(texts, {}, signatures)
    assert len(fresh) > 100 and progress["resumed_after"] == 0

    # the last letter added: only it is compared
    ids = list(texts)
    head = {doc_id: texts[doc_id] for doc_id in ids[:-1]}
    _, earlier = dedupe.find_copies(head, {}, signatures)
    again, after = dedupe.find_copies(texts, {}, signatures, resume=earlier)
    assert after["resumed_after"] == len(ids) - 1
    assert pairs_of(again) == pairs_of(fresh) and after["group"] == progress["group"]

    # a letter in the middle changed: taken up before it, the same as a fresh run over the new texts
    middle = ids[len(ids) // 2]
    changed = {**texts, middle: texts[middle] + " We urge the repeal of the AI diffusion rule."}
    changed_signatures = {**signatures, middle: dedupe.signature(changed[middle])}
    resumed, partial = dedupe.find_copies(changed, {}, changed_signatures, resume=progress)
    assert partial["resumed_after"] == len(ids) // 2
    assert pairs_of(resumed) == pairs_of(dedupe.find_copies(changed, {}, changed_signatures)[0])

    # a letter given an embedding is a different step: what depends on it is found again
    vectors = {middle: np.ones(4, dtype=np.float32) / 2}
    _, embedded = dedupe.find_copies(texts, vectors, signatures, resume=progress)
    assert embedded["resumed_after"] == len(ids) // 2

    # progress of another kind of run is not taken up
    assert dedupe.find_copies(texts, {}, signatures, resume={**progress, "version": "0"})[1]["resumed_after"] == 0


def test_the_link_stage_keeps_the_progress_in_the_cache(letters, tmp_path, monkeypatch):
    texts, signatures = letters
    first = link_corpus.copies_found(texts, {}, signatures, tmp_path)
    taken_up = []
    real = dedupe.find_copies

    def spying(*args, **kwargs):
        pairs, progress = real(*args, **kwargs)
        taken_up.append(progress["resumed_after"])
        return pairs, progress

    monkeypatch.setattr(dedupe, "find_copies", spying)
    assert pairs_of(link_corpus.copies_found(texts, {}, signatures, tmp_path)) == pairs_of(first)
    assert taken_up == [len(texts)]
    # another code version: the progress is not trusted
    monkeypatch.setattr(link_corpus.store, "code_version", lambda: "another")
    link_corpus.copies_found(texts, {}, signatures, tmp_path)
    assert taken_up[-1] == 0


def test_a_damaged_progress_costs_a_fresh_run(letters, tmp_path):
    texts, signatures = letters
    expected = pairs_of(dedupe.find_copies(texts, {}, signatures)[0])
    _, progress = dedupe.find_copies(texts, {}, signatures)
    for damaged in (
        {"version": dedupe.PROGRESS_VERSION, "steps": "x"},
        {"version": dedupe.PROGRESS_VERSION},
        {**progress, "group": 5},
        {**progress, "found": [["a"]]},
        {**progress, "group": {doc_id: "nobody" for doc_id in progress["group"]}},
        ["not", "a", "table"],
    ):
        assert pairs_of(dedupe.find_copies(texts, {}, signatures, resume=damaged)[0]) == expected
