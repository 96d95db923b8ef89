"""Benchmark on the real corpus: cold build, no-change rebuild, search latency, peak memory.

    .venv/bin/python bench/bench_build.py [--corpus DIR] [--runs N]

Writes outputs/bench.json and prints a table. Targets (issue 2, this 2-core machine): cold build
<= 20 s, no-change rebuild <= 1 s, search p50 <= 20 ms."""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "low processing performance license exception", "model weights", "country allocation", "TPP",
    "total processing performance", "Supplement No. 5", "Macau", "Country Group D:5", "validated end user",
    "UVEU", "NVEU", "data center", "FedRAMP", "4E091", "3A090", "10^26 operations", "published",
    "license exception AIA", "advanced compute manufacturing", "ultimate consignee", "cumulative TPP",
    "red flag", "infrastructure as a service", "compliance date", "interim final rule", "comments",
    "national security", "foreign direct product", "headquartered", "presumption of approval",
    "presumption of denial", "semiconductor", "integrated circuits", "reexport", "transfer in-country",
    "security requirements", "personnel vetting", "NIST 800-53", "quarterly allocation", "2027",
    "diffusion", "China", "country caps", "tiers", "export controls", "OpenAI", "PRC", "democratic AI",
    "出口管制", "人工智能", "美国", "ITIF", "arms embargo", "closed-weight", "open-weight", "fine-tuning",
]


def run(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--runs", type=int, default=3, help="search passes over the query list")
    args = parser.parse_args()
    regkb = str(Path(sys.executable).parent / "regkb")
    with tempfile.TemporaryDirectory() as work:
        db = Path(work) / "regkb.db"
        cache = Path(work) / "cache"
        build_cmd = [sys.executable, "-c",
                     "import sys; from pipeline.build import build; "
                     f"r = build(corpus={args.corpus!r}, db_path={str(db)!r}, cache_dir={str(cache)!r}); "
                     "sys.exit(0 if r.ok else 1)"]
        cold = run(build_cmd)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        nochange_cli = run([regkb, "build", "--corpus", args.corpus, "--db", str(db)])  # default cache is cold
        nochange_cli = run([regkb, "build", "--corpus", args.corpus, "--db", str(db)])
        db.unlink()
        cached = run(build_cmd)  # cache warm, database rebuilt from it

        sys.path.insert(0, str(ROOT))
        from pipeline.query import search

        latencies = []
        for _ in range(args.runs):
            for query in QUERIES:
                started = time.perf_counter()
                search(db, query, limit=10)
                latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    figures = {
        "cold_build_s": round(cold, 2),
        "rebuild_from_cache_s": round(cached, 2),
        "no_change_rebuild_cli_s": round(nochange_cli, 2),
        "search_queries": len(latencies),
        "search_p50_ms": round(statistics.median(latencies), 2),
        "search_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "peak_rss_build_mb": round(peak_mb, 1),
    }
    out = ROOT / "outputs" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    for key, value in figures.items():
        print(f"{key:<26} {value}")


if __name__ == "__main__":
    main()
