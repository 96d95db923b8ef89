"""Docket-wide precision of the positions, on the audits: positions drawn at random from a build of the
whole OSTP docket (outside every gold set) and judged by a reader (annotations/dev/audit.docket-1.jsonl,
annotations/heldout/audit.docket-2.jsonl). For a knowledge base built from the docket, how many of the
audited positions it still holds, of those the reader found to be positions on the rule and of the others:
the precision of what it keeps among them. It cannot see positions the audited build did not have.

    .venv/bin/python -m pipeline.cli --workspace W import ../shared/dockets/ostp-ai-action-plan-rfi-2025/text
    .venv/bin/python -m pipeline.cli --workspace W build
    .venv/bin/python bench/bench_audit.py W/regkb.db

Held-out audits print their figures only, never their rows."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDITS = sorted((ROOT / "annotations").rglob("audit.*.jsonl"))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="a knowledge base built from the whole docket")
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db}: no such knowledge base")
    conn = sqlite3.connect(args.db)
    results = {}
    for audit in AUDITS:
        held_out = audit.parent.name == "heldout"
        rows = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
        kept = {True: 0, False: 0}
        total = {True: 0, False: 0}
        lost = []
        stances = agreeing = 0  # the kept positions' stances against the reader's
        for row in rows:
            total[row["position"]] += 1
            head = squash(row["quote"])[:40]
            found = [
                (squash(q), stance)
                for q, stance in conn.execute("select quote, stance from positions where doc_id = ?", (row["doc"],))
            ]
            match = next((stance for q, stance in found if head in q or q[:40] in squash(row["quote"])), None)
            if match is not None:
                kept[row["position"]] += 1
                if row["position"] and row.get("stance_should_be"):
                    stances += 1
                    agreeing += match == row["stance_should_be"]
            elif row["position"]:
                lost.append(row["quote"][:100])
        precision = kept[True] / max(1, kept[True] + kept[False])
        results[audit.stem] = {
            "positions_kept": f"{kept[True]}/{total[True]}",
            "others_kept": f"{kept[False]}/{total[False]}",
            "precision_of_kept": round(precision, 3),
            "stance_agreement": f"{agreeing}/{stances}",
        }
        print(
            f"{audit.stem:<16} positions kept {kept[True]}/{total[True]}, others kept {kept[False]}/{total[False]}, "
            f"precision of what is kept {precision:.2f}, stance as the reader's {agreeing}/{stances}"
        )
        if not held_out:
            for quote in lost:
                print(f"  lost: {quote}")
    out = ROOT / "outputs" / "bench_audit.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
