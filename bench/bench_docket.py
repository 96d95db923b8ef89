"""Benchmark on the real docket (issue 13): `regkb import` and a cold `regkb build` of N real responses
(every k-th file of ../shared/dockets/ostp-ai-action-plan-rfi-2025/text, N = 1,000 by default) with the
corpus manifest (the rule), in a fresh workspace; then `regkb triage`. Peak memory is the PSS of the
whole process tree (the command and its worker processes), sampled every 0.1 s with psutil, and given
per build stage (the stages' durations come from `regkb build --json`; they run one after another).

    .venv/bin/python bench/bench_docket.py [--documents 1000] [--keep DIR]

Prints a table and writes bench/docket-<N>.json (or into --keep's folder)."""
from __future__ import annotations

import argparse
import json
import shutil
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


def measured(cmd: list[str], env: dict | None = None) -> tuple[float, str, list[tuple[float, int]]]:
    """Run cmd; its wall time, stdout and (seconds since start, tree PSS) samples."""
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
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({child.returncode}):\n{err[-3000:]}")
    return seconds, out, samples


def peak(samples: list[tuple[float, int]], start: float = 0.0, end: float = float("inf")) -> float:
    inside = [pss for at, pss in samples if start <= at <= end]
    return round(max(inside) / 2**20, 1) if inside else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the workspace in")
    args = parser.parse_args()
    files = sorted(DOCKET.glob("*.txt"))
    step = max(1, len(files) // args.documents)
    chosen = files[::step][:args.documents]
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-docket-"))
    letters, ws = work / "letters", work / "ws"
    shutil.rmtree(work / "ws", ignore_errors=True)
    letters.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        shutil.copyfile(path, letters / path.name)
    regkb = [sys.executable, "-m", "pipeline.cli", "--workspace", str(ws)]
    results: dict = {"documents": len(chosen), "every": step, "cpus": psutil.cpu_count()}

    seconds, out, samples = measured(regkb + ["import", str(letters), "--json"])
    listed = json.loads(out)
    results["import"] = {"seconds": round(seconds, 2), "listed": listed["added"], "skipped": len(listed["skipped"]),
                         "peak_pss_mb": peak(samples)}

    seconds, out, samples = measured(regkb + ["build", "--json"])
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
    results["build"] = {"seconds": round(seconds, 1), "paragraphs": report["paragraphs"], "built": len(report["built"]),
                        "problems": len(report["problems"]), "peak_pss_mb": peak(samples), "stages": stages,
                        "db_mb": round((ws / "regkb.db").stat().st_size / 2**20, 1)}

    seconds, out, samples = measured(regkb + ["build", "--json"])
    results["no_change_rebuild"] = {"seconds": round(seconds, 2), "up_to_date": json.loads(out)["up_to_date"]}

    seconds, out, samples = measured(regkb + ["triage", "--limit", "5", "--json"])
    results["triage"] = {"seconds": round(seconds, 1), "peak_pss_mb": peak(samples)}

    target = (args.keep or ROOT / "bench") / f"docket-{len(chosen)}.json"
    target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
