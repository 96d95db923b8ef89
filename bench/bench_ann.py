"""Vector search at docket size (issue 13): exact cosine (numpy, the oracle) against the candidate
approximate-nearest-neighbour libraries usearch (HNSW), hnswlib (HNSW) and sqlite-vec (a vec0 table
inside the knowledge base, searched in C), side by side in one run on the embeddings of a real
knowledge base: build time, load time in a fresh process's terms (from the bytes stored in SQLite),
query latency p50/p95 for k = 10 (the search's limit; hybrid asks for more), recall@10 against exact,
and size.

    .venv/bin/python bench/bench_ann.py KB.db [--scale 1 3 10] [--queries 200]

--scale N repeats the real vectors N times with small noise (SYNTHETIC growth, labelled so in the
output) to see how each grows towards the 10,000-response docket; scale 1 is the real set. Queries are
real paragraphs' vectors (the nearest neighbour of a paragraph's own vector is itself: recall counts
the whole top 10). Writes outputs/bench_ann.json."""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
K = 10


def pct(values, share):
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def timed(fn, queries):
    took, found = [], []
    for q in queries:
        started = time.perf_counter()
        found.append(fn(q))
        took.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(took), 3), "p95_ms": pct(took, 0.95)}, found


def recall(found, queries, matrix):
    """Share of the true top 10 found, by similarity: a hit counts when it is at least as near as the
    true 10th (a docket's campaigns hold identical paragraphs, whose ties any order may break)."""
    shares = []
    for f, q in zip(found, queries):
        similarity = matrix @ q
        tenth = np.partition(-similarity, K - 1)[K - 1] * -1
        shares.append(sum(similarity[int(i)] >= tenth - 1e-5 for i in list(f)[:K]) / K)
    return round(float(np.mean(shares)), 4)


def run(matrix: np.ndarray, queries: np.ndarray) -> dict:
    out = {}
    truth_fn = lambda q: np.argpartition(-(matrix @ q), K)[:K]  # noqa: E731
    out["exact_numpy"], truth = timed(truth_fn, queries)
    # load cost of exact: the matrix from the bytes as stored (one blob per row)
    blobs = [row.tobytes() for row in matrix]
    started = time.perf_counter()
    np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
    out["exact_numpy"]["load_s"] = round(time.perf_counter() - started, 3)

    from usearch.index import Index

    started = time.perf_counter()
    index = Index(ndim=matrix.shape[1], metric="cos", dtype="f32")
    index.add(np.arange(len(matrix)), matrix, threads=2)
    built = time.perf_counter() - started
    data = bytes(index.save())
    started = time.perf_counter()
    loaded = Index.restore(bytearray(data))
    load = time.perf_counter() - started
    out["usearch_f32"] = {"build_s": round(built, 2), "load_s": round(load, 3), "mb": round(len(data) / 2**20, 1)}
    for ef in (64, 200):
        loaded.expansion_search = ef
        stats, found = timed(lambda q: loaded.search(q, K).keys, queries)
        out["usearch_f32"][f"ef{ef}"] = {**stats, "recall_at_10": recall(found, queries, matrix)}
    started = time.perf_counter()
    index = Index(ndim=matrix.shape[1], metric="cos", dtype="i8")
    index.add(np.arange(len(matrix)), matrix, threads=2)
    built = time.perf_counter() - started
    data = bytes(index.save())
    loaded = Index.restore(bytearray(data))
    stats, found = timed(lambda q: loaded.search(q, K).keys, queries)
    out["usearch_i8"] = {
        **stats,
        "build_s": round(built, 2),
        "mb": round(len(data) / 2**20, 1),
        "recall_at_10": recall(found, queries, matrix),
    }

    import hnswlib

    started = time.perf_counter()
    h = hnswlib.Index(space="cosine", dim=matrix.shape[1])
    h.init_index(max_elements=len(matrix), ef_construction=200, M=16)
    h.set_num_threads(2)
    h.add_items(matrix, np.arange(len(matrix)))
    built = time.perf_counter() - started
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        h.save_index(f.name)
        size = Path(f.name).stat().st_size
        started = time.perf_counter()
        h2 = hnswlib.Index(space="cosine", dim=matrix.shape[1])
        h2.load_index(f.name)
        load = time.perf_counter() - started
    out["hnswlib"] = {"build_s": round(built, 2), "load_s": round(load, 3), "mb": round(size / 2**20, 1)}
    for ef in (64, 200):
        h2.set_ef(ef)
        stats, found = timed(lambda q: h2.knn_query(q, k=K)[0][0], queries)
        out["hnswlib"][f"ef{ef}"] = {**stats, "recall_at_10": recall(found, queries, matrix)}

    import sqlite_vec

    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        out["sqlite_vec"] = {
            "unavailable": "this Python's sqlite3 was built without loadable extensions "
            "(no enable_load_extension): sqlite-vec cannot be loaded"
        }
        return out
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "v.db")
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        started = time.perf_counter()
        conn.execute(f"create virtual table v using vec0(embedding float[{matrix.shape[1]}] distance_metric=cosine)")
        conn.executemany(
            "insert into v(rowid, embedding) values (?, ?)", ((i, row.tobytes()) for i, row in enumerate(matrix))
        )
        conn.commit()
        built = time.perf_counter() - started
        stats, found = timed(
            lambda q: [
                r for (r,) in conn.execute("select rowid from v where embedding match ? and k = ?", (q.tobytes(), K))
            ],
            queries,
        )
        conn.close()
        size = (Path(tmp) / "v.db").stat().st_size
    out["sqlite_vec"] = {
        **stats,
        "build_s": round(built, 2),
        "mb": round(size / 2**20, 1),
        "recall_at_10": recall(found, queries, matrix),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with sqlite3.connect(args.db) as conn:
        blobs = [v for (v,) in conn.execute("select vector from embeddings")]
    real = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
    rng = np.random.default_rng(0)
    results = {"db": str(args.db), "real_vectors": len(real)}
    for scale in args.scale:
        if scale == 1:
            matrix = real
        else:  # SYNTHETIC: the real vectors repeated with noise, renormalised
            noisy = [real] + [real + rng.normal(0, 0.02, real.shape).astype(np.float32) for _ in range(scale - 1)]
            matrix = np.vstack(noisy)
            matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        queries = matrix[rng.choice(len(real), size=min(args.queries, len(real)), replace=False)]
        label = "real" if scale == 1 else f"SYNTHETIC x{scale}"
        results[f"{len(matrix)} vectors ({label})"] = run(np.ascontiguousarray(matrix, dtype=np.float32), queries)
        print(
            json.dumps({f"{len(matrix)} ({label})": results[f"{len(matrix)} vectors ({label})"]}, indent=1), flush=True
        )
    target = ROOT / "outputs" / "bench_ann.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
