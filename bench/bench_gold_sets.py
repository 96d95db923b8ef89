"""Positions scored on gold sets whose documents are kept out of the corpus, as a new user would meet
them: each set's documents (from its "coverage" line) are copied from the real docket, listed by
`regkb import` (authors from the documents themselves), built with the corpus in a fresh workspace,
and scored by `regkb evaluate` against that set alone.

    .venv/bin/python bench/bench_gold_sets.py [GOLD.jsonl ...] [--work DIR] [--misses]

Default sets: annotations/heldout/positions.heldout.jsonl (held out: never looked at while tuning,
so only its figures are printed) and annotations/dev/positions.docket-c.jsonl (development: its
misses and spurious rows are printed with --misses). Figures go to outputs/bench_gold_sets.json."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKET = ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
DEFAULT_SETS = [
    ROOT / "annotations" / "heldout" / "positions.heldout.jsonl",
    ROOT / "annotations" / "dev" / "positions.docket-c.jsonl",
]
HELD_OUT = "heldout"


def covered(gold: Path) -> list[str]:
    for line in gold.read_text(encoding="utf-8").splitlines():
        if line.startswith("{") and "coverage" in line:
            return sorted(json.loads(line)["coverage"])
    raise SystemExit(f"{gold}: no coverage line (which documents the set covers)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--work", type=Path, help="keep the workspace here (default: a temporary folder)")
    parser.add_argument("--misses", action="store_true", help="print the misses and spurious rows of non-held-out sets")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="regkb-gold-"))
    letters, ws = work / "letters", work / "ws"
    shutil.rmtree(work / "ws", ignore_errors=True)
    shutil.rmtree(letters, ignore_errors=True)
    letters.mkdir(parents=True)
    files = {path.stem.lower(): path for path in DOCKET.glob("*.txt")}
    for gold in args.gold:
        for doc in covered(gold):
            if doc not in files:
                raise SystemExit(f"{gold}: {doc} is not a file of {DOCKET}")
            shutil.copyfile(files[doc], letters / files[doc].name)
    regkb = [sys.executable, "-m", "pipeline.cli", "--workspace", str(ws)]
    subprocess.run(regkb + ["import", str(letters), "--json"], check=True, capture_output=True, cwd=ROOT)
    built = subprocess.run(regkb + ["build", "--json"], capture_output=True, text=True, cwd=ROOT)
    if built.returncode not in (0, 1):
        raise SystemExit(built.stderr)
    results = {}
    for gold in args.gold:
        name = gold.stem.split(".")[-1]  # "heldout", "heldout-2", "docket-c"
        held_out = gold.parent.name == HELD_OUT
        folder = work / "annotations" / name
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "docket").mkdir(parents=True)
        (folder / "docket" / gold.name).symlink_to(gold.resolve())
        done = subprocess.run(
            regkb + ["evaluate", "--db", str(ws / "regkb.db"), "--annotations", str(folder), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        score = json.loads(done.stdout)["scores"]["positions"]
        notes = score["notes"]
        results[name] = {
            "documents": len(covered(gold)),
            **{k: score[k] for k in ("precision", "recall", "f1", "tp", "fp", "fn")},
            **{
                k: notes.get(k)
                for k in (
                    "stance_accuracy",
                    "org_accuracy",
                    "topic_accuracy",
                    "links_top1",
                    "links_top3_any",
                    "gold_with_links",
                    "gold_for_documents_not_in_kb",
                )
            },
        }
        print(
            f"{name:<10} P {score['precision']:.3f}  R {score['recall']:.3f}  F1 {score['f1']:.3f}  "
            f"(tp {score['tp']}, fp {score['fp']}, fn {score['fn']}; stance {notes.get('stance_accuracy')}, "
            f"org {notes.get('org_accuracy')}, topic {notes.get('topic_accuracy')}, "
            f"links top-1 / top-3 {notes.get('links_top1')} / {notes.get('links_top3_any')} "
            f"of {notes.get('gold_with_links')}, gold outside the KB {notes.get('gold_for_documents_not_in_kb')})",
            flush=True,
        )
        if args.misses and not held_out:
            for kind in ("misses", "spurious"):
                for row in score[kind]:
                    print(f"  {kind[:4]} {row['doc']:<26} {row.get('stance', ''):<14} {row['quote'][:150]}")
    out = ROOT / "outputs" / "bench_gold_sets.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
