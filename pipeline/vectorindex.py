"""An approximate-nearest-neighbour index over the paragraphs' embeddings, for semantic and hybrid
search at docket size (issue 13). The build makes it (link.corpus) and the store keeps it inside the
knowledge base, so the atomic swap covers it; the read side (query) loads it from those bytes. Exact
cosine over every vector stays the oracle (tests) and the way for small knowledge bases and filtered
searches.

Chosen by bench/bench_ann.py on the embeddings of 1,000 real docket responses (18,735 vectors) and on
a five-fold noisy copy of them (93,675, synthetic): usearch's HNSW, f32, cosine; expansion 200 at
search time finds 98 % (real) and 96 % (synthetic ×5) of the exact top 10 in 0.3–0.7 ms, against
exact numpy's 1–12 ms once the matrix is in memory; what the exact path costs at that size is
reading every vector out of SQLite in a fresh process. hnswlib found as much as fast but loads only
from a file (or a pickle, which a knowledge base from elsewhere must never be trusted with);
sqlite-vec needs SQLite extension loading, which this Python's sqlite3 lacks. Imports neither spaCy
nor torch."""

from __future__ import annotations

import json

import numpy as np

LIBRARY = "usearch"
ANN_FROM = 20_000  # vectors; below this exact search over all of them takes under 10 ms: no index
EXPANSION_SEARCH = 200  # candidates kept while searching (recall against speed; see above)


def build_row(
    paragraph_ids: list[str], matrix: np.ndarray, model: str, threads: int = 2, previous: dict | None = None
) -> dict | None:
    """The index over the vectors (rows of matrix, unit length, aligned with paragraph_ids) as one row
    for the knowledge base's vector_index table; None below ANN_FROM vectors.

    previous: the row of an earlier build. When its paragraphs are the first of these, with the same
    vectors, its index is taken up and only the vectors after them are added, in the order a fresh
    index would add them: a build that adds one letter to the docket added all 42,000 again (9 s)."""
    if len(paragraph_ids) < ANN_FROM:
        return None
    from usearch.index import Index

    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    index, start = _taken_up(previous, paragraph_ids, matrix, model)
    if index is not None and start == len(paragraph_ids):
        return previous
    if index is None:
        index, start = Index(ndim=matrix.shape[1], metric="cos", dtype="f32"), 0
    index.add(np.arange(start, len(paragraph_ids), dtype=np.uint64), matrix[start:], threads=threads)
    return {
        "model": model,
        "library": LIBRARY,
        "vectors": len(paragraph_ids),
        "paragraph_ids": json.dumps(paragraph_ids),
        "data": bytes(index.save()),
    }


def _taken_up(previous: dict | None, paragraph_ids: list[str], matrix: np.ndarray, model: str):
    """(the previous index, how many of these vectors it holds) when it holds the first of them
    exactly; (None, 0) otherwise (another model or library, other paragraphs, other vectors, damage)."""
    if not previous or previous.get("model") != model or previous.get("library") != LIBRARY:
        return None, 0
    try:
        from usearch.index import Index

        ids = json.loads(previous["paragraph_ids"])
        if not isinstance(ids, list) or not 0 < len(ids) <= len(paragraph_ids) or paragraph_ids[: len(ids)] != ids:
            return None, 0
        index = Index.restore(bytearray(previous["data"]))
        if index is None or len(index) != len(ids) or index.ndim != matrix.shape[1]:
            return None, 0
        held = np.asarray(index.get(np.arange(len(ids), dtype=np.uint64)), dtype=np.float32)
        if held.shape != (len(ids), matrix.shape[1]) or not np.array_equal(held, matrix[: len(ids)]):
            return None, 0
        return index, len(ids)
    except (ValueError, TypeError, KeyError, RuntimeError, json.JSONDecodeError):
        return None, 0


class Loaded:
    """An index read back from its row: search(vector, k) → [(paragraph id, cosine similarity)]."""

    def __init__(self, paragraph_ids: str, data: bytes):
        from usearch.index import Index

        self.ids = json.loads(paragraph_ids)
        self.index = Index.restore(bytearray(data))
        self.index.expansion_search = EXPANSION_SEARCH

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        matches = self.index.search(np.asarray(vector, dtype=np.float32), min(k, len(self.ids)))
        return [(self.ids[int(key)], 1.0 - float(distance)) for key, distance in zip(matches.keys, matches.distances)]
