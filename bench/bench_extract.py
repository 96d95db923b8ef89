"""Extraction cost, side by side in one run: the extractors of this working tree against those of an
earlier revision, over the same segmented paragraphs of the shared corpus (the rule's PDF, the
published text, the other rules, the letters and news of corpus/manifest.toml).

    .venv/bin/python bench/bench_extract.py [--baseline REV] [--runs N]

The documents are read and segmented once, with this tree's code, and pickled; each side then runs
only extract() over them in a fresh process (so neither warms the other's caches), best of N runs.
Issue 11's target: the general extractors add no more than 5 s to the cold build of the corpus."""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMER = textwrap.dedent("""
    import pickle, sys, time
    sys.path.insert(0, sys.argv[1])
    from pipeline.extract import extract
    from pipeline.models import ManifestEntry, Paragraph
    docs = pickle.load(open(sys.argv[2], "rb"))
    fields = set(Paragraph.__dataclass_fields__)
    prepared = []
    for entry, language, rows in docs:
        paragraphs = [Paragraph(**{k: v for k, v in row.items() if k in fields}) for row in rows]
        prepared.append((ManifestEntry(**entry), language, paragraphs))
    extract(prepared[0][2][:5], prepared[0][1], prepared[0][0])  # build the spaCy pipelines once
    started = time.perf_counter()
    counts = {}
    for entry, language, paragraphs in prepared:
        for table, rows in extract(paragraphs, language, entry).items():
            counts[table] = counts.get(table, 0) + len(rows)
    print(time.perf_counter() - started, sorted(counts.items()))
""")


def segmented(path: Path) -> None:
    from pipeline.ingest import read_document
    from pipeline.manifest import corpus_dirs, load_manifest, locate
    from pipeline.segment import segment

    docs = []
    dirs = corpus_dirs()
    for entry in load_manifest():
        found = locate(entry, dirs)
        if found is None:
            continue
        paragraphs = segment(read_document(found), entry)
        docs.append((entry.__dict__, entry.language, [p.to_row() for p in paragraphs]))
    path.write_bytes(pickle.dumps(docs))


def timed(tree: Path, data: Path, runs: int) -> tuple[float, str]:
    best, counts = float("inf"), ""
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", TIMER, str(tree), str(data)], check=True, capture_output=True, text=True, cwd=tree
        ).stdout.strip()
        seconds, _, counts = out.partition(" ")
        best = min(best, float(seconds))
    return best, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="1b9da66", help="the revision to compare with (default: before issue 11)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "paragraphs.pickle"
        segmented(data)
        baseline = Path(work) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(baseline), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        paragraphs = sum(len(rows) for _, _, rows in pickle.loads(data.read_bytes()))
        try:
            before, before_counts = timed(baseline, data, args.runs)
            after, after_counts = timed(ROOT, data, args.runs)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, capture_output=True)
    print(f"extract() over the shared corpus ({paragraphs} paragraphs), best of {args.runs}:")
    print(f"  {args.baseline:<12} {before:6.2f} s   {before_counts}")
    print(f"  {'this tree':<12} {after:6.2f} s   {after_counts}")
    print(f"  added: {after - before:+.2f} s (target: at most +5 s)")


if __name__ == "__main__":
    main()
