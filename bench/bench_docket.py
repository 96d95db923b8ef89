"""Benchmark on the real docket (issue 13): `regkb import` and a cold `regkb build` of N real responses
(every k-th file of ../shared/dockets/ostp-ai-action-plan-rfi-2025/text, N = 1,000 by default) with the
corpus manifest (the rule), in a fresh workspace; then search latency in a fresh process (the first
hybrid query, which loads the query embedder and the vector index, then BM25 and hybrid p50/p95 over
30 queries, twice each), a no-change rebuild, adding one more real response (import + build: the
incremental path) and `regkb triage`. Peak memory is the PSS of the whole
process tree (the command and its worker processes), sampled every 0.1 s with psutil, and given per
build stage (the stages' durations come from `regkb build --json`; they run one after another).

    .venv/bin/python bench/bench_docket.py [--documents 1000 3000] [--keep DIR] [--profile]

--profile instead builds the first size cold in this process under cProfile with one worker (the
parse runs in-process, so its functions are seen) and prints the top functions by own and cumulative
time, per stage where a function belongs to one.

Prints the figures and writes outputs/bench_docket-<N>.json (or into --keep's folder)."""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DOCKET = ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
BUILD_STAGES = ["parse", "term_usages", "embed", "dedupe", "link", "triage", "store"]


def tree_pss(process: psutil.Process) -> int:
    """Bytes of proportional set size of a process and all its descendants (USS/RSS where PSS is not
    readable)."""
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def measured(
    cmd: list[str], env: dict | None = None, ok: tuple[int, ...] = (0,)
) -> tuple[float, str, list[tuple[float, int]]]:
    """Run cmd; its wall time, stdout and (seconds since start, tree PSS) samples. ok: the exit codes
    that are no failure (a build that reports a document it could not read exits 1 and still builds)."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    samples: list[tuple[float, int]] = []
    process = psutil.Process(child.pid)

    def sample() -> None:
        while child.poll() is None:
            try:
                samples.append((time.perf_counter() - started, tree_pss(process)))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = child.communicate()
    thread.join()
    seconds = time.perf_counter() - started
    if child.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({child.returncode}):\n{err[-3000:]}")
    return seconds, out, samples


def peak(samples: list[tuple[float, int]], start: float = 0.0, end: float = float("inf")) -> float:
    inside = [pss for at, pss in samples if start <= at <= end]
    return round(max(inside) / 2**20, 1) if inside else 0.0


QUERIES = [
    "AI diffusion rule",
    "Framework for Artificial Intelligence Diffusion",
    "export controls on AI chips",
    "rescind the diffusion rule tiers",
    "country caps on advanced computing",
    "model weights export controls",
    "ECCN 4E091",
    "§ 740.27",
    "validated end user program",
    "Tier 2 countries",
    "open-source models",
    "open-weight models national security",
    "copyright fair use training data",
    "energy grid data centers",
    "nuclear power for data centers",
    "federal procurement of AI",
    "state AI laws preemption",
    "workforce training AI literacy",
    "healthcare AI regulation FDA",
    "privacy and personal data",
    "China competition DeepSeek",
    "semiconductor manufacturing CHIPS Act",
    "NIST AI Safety Institute",
    "small business compliance burden",
    "deepfakes election integrity",
    "K-12 education",
    "liability for AI harms",
    "critical infrastructure cybersecurity",
    "immigration high-skilled talent",
    "stop AI art theft protect artists",
]
PASSES = 2

# Runs in a fresh child process, so the first hybrid query pays what a user's first `regkb search`
# pays in-process (the query embedder and the vector index load lazily).
LATENCY = r"""
import json, math, statistics, sys, time
started = time.perf_counter()
from pipeline.query import search
db, queries, passes = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
imported = time.perf_counter() - started
started = time.perf_counter()
search(db, "first query: loads the query embedder and the vector index", limit=10, mode="hybrid")
out = {"import_s": round(imported, 2), "first_hybrid_s": round(time.perf_counter() - started, 2),
       "queries": len(queries) * passes}
def pct(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
for mode in ("bm25", "hybrid", "semantic"):
    took = []
    for _ in range(passes):
        for query in queries:
            started = time.perf_counter()
            search(db, query, limit=10, mode=mode)
            took.append((time.perf_counter() - started) * 1000)
    out[mode + "_p50_ms"] = round(statistics.median(took), 1)
    out[mode + "_p95_ms"] = round(pct(took, 0.95), 1)
print(json.dumps(out))
"""


def load() -> list[float]:
    return [round(x, 2) for x in psutil.getloadavg()]


def pick(documents: int) -> tuple[list[Path], int]:
    files = sorted(DOCKET.glob("*.txt"))
    step = max(1, len(files) // documents)
    return files[::step][:documents], step


class Reported(dict):
    """The figures, each step's printed to stderr as it is measured (a long run that fails late keeps
    what it measured)."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        print(json.dumps({key: value}), file=sys.stderr, flush=True)


def held_out(chosen: list[Path]) -> Path:
    """The response added after the cold build: the smallest of more than 20 KB not among those built,
    or, when every response is built (the whole docket), the smallest such one of them, left out of the
    cold build."""
    pool = [
        path
        for path in sorted(DOCKET.glob("*.txt"), key=lambda f: (f.stat().st_size, f.name))
        if path.stat().st_size > 20_000
    ]
    outside = [path for path in pool if path not in set(chosen)]
    return (outside or pool)[0]


def measure_size(documents: int, work: Path) -> dict:
    chosen, step = pick(documents)
    extra = held_out(chosen)
    chosen = [path for path in chosen if path != extra]
    letters, ws = work / "letters", work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.rmtree(letters, ignore_errors=True)
    letters.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        shutil.copyfile(path, letters / path.name)
    regkb = [sys.executable, "-m", "pipeline.cli", "--workspace", str(ws)]
    results: dict = Reported(
        {"documents": len(chosen), "every": step, "cpus": psutil.cpu_count(), "load_before": load()}
    )

    seconds, out, samples = measured(regkb + ["import", str(letters), "--json"])
    listed = json.loads(out)
    results["import"] = {
        "seconds": round(seconds, 2),
        "listed": listed["added"],
        "skipped": len(listed["skipped"]),
        "peak_pss_mb": peak(samples),
    }

    seconds, out, samples = measured(regkb + ["build", "--json"], ok=(0, 1))
    report = json.loads(out)
    stages, at = {}, 0.0
    launch = seconds - report["seconds"]  # interpreter start and imports before build() starts its clock
    for name in BUILD_STAGES:
        length = report["stages"].get(name)
        if length is None:
            continue
        start = launch + (0.0 if name == "parse" else at)
        end = launch + (length if name == "parse" else at + length)
        stages[name] = {"seconds": round(length, 1), "peak_pss_mb": peak(samples, start, end + 0.1)}
        at = end - launch
    db = ws / "regkb.db"
    results["build"] = {
        "seconds": round(seconds, 1),
        "paragraphs": report["paragraphs"],
        "built": len(report["built"]),
        "problems": len(report["problems"]),
        "peak_pss_mb": peak(samples),
        "stages": stages,
        "db_mb": round(db.stat().st_size / 2**20, 1),
        "load_after": load(),
    }
    conn = sqlite3.connect(db)
    sizes = dict(
        conn.execute(
            "select copies, count(*) from (select cluster_id, max(copies) as copies "
            "from document_clusters group by cluster_id) group by copies"
        )
    )
    conn.close()
    results["campaigns"] = {
        "clusters_of_2_or_more": sum(n for copies, n in sizes.items() if copies > 1),
        "letters_in_them": sum(copies * n for copies, n in sizes.items() if copies > 1),
        "largest": max(sizes, default=0),
    }

    seconds, out, _ = measured([sys.executable, "-c", LATENCY, str(db), json.dumps(QUERIES), str(PASSES)])
    results["search"] = {**json.loads(out), "process_s": round(seconds, 2), "load": load()}

    seconds, out, samples = measured(regkb + ["build", "--json"], ok=(0, 1))
    results["no_change_rebuild"] = {"seconds": round(seconds, 2), "up_to_date": json.loads(out)["up_to_date"]}

    # one more real response, not among those built: import it and build (the incremental path)
    shutil.copyfile(extra, letters / extra.name)
    imported, _, _ = measured(regkb + ["import", str(letters), "--json"])
    seconds, out, samples = measured(regkb + ["build", "--json"], ok=(0, 1))
    report = json.loads(out)
    results["add_one_letter"] = {
        "file": extra.name,
        "import_s": round(imported, 2),
        "build_s": round(seconds, 1),
        "built": report["built"],
        "write": report.get("write"),
        "peak_pss_mb": peak(samples),
        "stages": {k: round(v, 1) for k, v in report.get("stages", {}).items()},
    }

    seconds, out, samples = measured(regkb + ["triage", "--limit", "5", "--json"])
    results["triage"] = {"seconds": round(seconds, 1), "peak_pss_mb": peak(samples)}
    results["load_after"] = load()
    return results


def profile(documents: int, work: Path, top: int = 40) -> str:
    """A cold build of `documents` responses with the rule in this process under cProfile, one worker
    (every stage in-process); the top functions by own time and by cumulative time."""
    import cProfile
    import io
    import pstats

    from pipeline import workspace
    from pipeline.build import build
    from pipeline.importer import import_folder
    from pipeline.manifest import DEFAULT_MANIFEST

    chosen, _ = pick(documents)
    letters, ws = work / "letters", work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    letters.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        shutil.copyfile(path, letters / path.name)
    workspace.choose(ws)
    manifest = ws / "manifest.toml"
    import_folder(letters, manifest, others=[DEFAULT_MANIFEST])
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    report = build([DEFAULT_MANIFEST, manifest], db_path=ws / "regkb.db", cache_dir=ws / "cache", workers=1)
    profiler.disable()
    wall = time.perf_counter() - started
    profiler.dump_stats(str(work / "build.prof"))
    text = io.StringIO()
    text.write(
        f"cold build of {len(chosen)} responses + the rule, one worker, in-process: {wall:.1f} s wall, "
        f"load {load()}\nstages: {json.dumps({k: round(v, 1) for k, v in report.stages.items()})}\n"
    )
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, nargs="+", default=[1000])
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the workspaces in")
    parser.add_argument("--profile", action="store_true", help="cProfile a cold build of the first size")
    args = parser.parse_args()
    out_dir = args.keep or ROOT / "outputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.profile:
        work = Path(tempfile.mkdtemp(prefix="bench-docket-profile-", dir=args.keep))
        text = profile(args.documents[0], work)
        (out_dir / f"bench_docket-profile-{args.documents[0]}.txt").write_text(text, encoding="utf-8")
        print(text)
        return
    for documents in args.documents:
        work = (args.keep / f"docket-{documents}") if args.keep else Path(tempfile.mkdtemp(prefix="bench-docket-"))
        results = measure_size(documents, work)
        target = out_dir / f"bench_docket-{results['documents']}.json"
        target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(results, indent=2), flush=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
