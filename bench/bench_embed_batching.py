"""How the build's embedder (pipeline.embed, onnxruntime) spends the cores, side by side in one run over
the paragraphs of the shared corpus: batch sizes, and one session running each batch on every core
(intra-op threads) against one single-threaded session per core taking batches in turn.

    .venv/bin/python bench/bench_embed_batching.py [--runs N]

Every arrangement embeds the same texts (the corpus's paragraphs, read and segmented once: bench_embed's
pickle) the same number of times; the least wall time of the runs is reported, with the smallest cosine
of its vectors to the first arrangement's (the same model: padding is masked, so batching moves nothing
beyond float rounding). Figures go to outputs/bench_embed_batching.json with the load average."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from bench_embed import OUT, corpus_data  # noqa: E402

from pipeline import embed  # noqa: E402


def intra_op(runner, texts: list[str], batch: int, cores: int) -> np.ndarray:
    """What embed.encode did before: one session of `cores` intra-op threads, batch after batch."""
    session = runner.session(cores)
    encodings = runner.tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    out = np.zeros((len(texts), embed.DIMENSIONS), dtype=np.float32)
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        out[chunk] = runner.embed_batch(session, [encodings[i] for i in chunk])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    (OUT / "bench-embed").mkdir(parents=True, exist_ok=True)
    data = corpus_data(OUT / "bench-embed" / "corpus.pickle")
    texts = sorted({text for _, _, text in data["paragraphs"]})
    cores = os.cpu_count() or 1
    runner = embed.model("onnx")
    runner.encode(texts[:64])  # sessions made, first-run costs out of the measurement
    arrangements = [(f"one session of {cores} threads, batches of {b}", "intra", b) for b in (64, 32, 16, 8)]
    arrangements += [(f"{cores} sessions of 1 thread, batches of {b}", "sessions", b) for b in (64, 16, 8)]
    rows, reference = [], None
    load_before = os.getloadavg()
    for label, kind, batch in arrangements:
        best, vectors = float("inf"), None
        for _ in range(args.runs):
            started = time.perf_counter()
            if kind == "intra":
                vectors = intra_op(runner, texts, batch, cores)
            else:
                vectors = runner.encode(texts, batch_size=batch, threads=cores)  # the build's call
            best = min(best, time.perf_counter() - started)
        reference = vectors if reference is None else reference
        cosine = float((vectors * reference).sum(axis=1).min())
        rows.append({"arrangement": label, "seconds": round(best, 2), "min_cosine_to_first": round(cosine, 7)})
        print(f"{label:<45} {best:6.2f} s   min cosine {cosine:.7f}", flush=True)
    result = {
        "texts": len(texts),
        "cores": cores,
        "runs": args.runs,
        "default_batch": embed.BATCH,
        "rows": rows,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    (OUT / "bench_embed_batching.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
