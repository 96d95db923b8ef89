"""Trains the positions' relevance classifier (pipeline/patterns/relevance_classifier.json): a logistic
regression over the sentence embedding (the model the build uses) of a candidate position, telling a
position on the rule from an argument on another subject (copyright, energy, research funding, AI safety,
chip subsidies …) that the word tests let through.

Trained only on development material read by people, never on held-out sets:
- positives: every quote of the development gold (annotations/docket/positions.docket-{a,b}.jsonl,
  annotations/dev/positions.docket-{c,d}.jsonl) and the audited positions that were on the rule;
- negatives: the audited positions that were not (annotations/dev/audit.docket-{1,3}.jsonl).

    .venv/bin/python bench/train_relevance.py [--check]

Prints each audit's AUC when trained on the other material alone (leave one source out), then writes
the weights trained on all of it. --check: print only, write nothing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import embed  # noqa: E402

GOLD = [
    ROOT / "annotations" / "docket" / "positions.docket-a.jsonl",
    ROOT / "annotations" / "docket" / "positions.docket-b.jsonl",
    ROOT / "annotations" / "dev" / "positions.docket-c.jsonl",
    ROOT / "annotations" / "dev" / "positions.docket-d.jsonl",
]
AUDITS = [ROOT / "annotations" / "dev" / "audit.docket-1.jsonl", ROOT / "annotations" / "dev" / "audit.docket-3.jsonl"]
OUT = ROOT / "pipeline" / "patterns" / "relevance_classifier.json"
C = 1.0  # the regression's inverse regularisation
RULE = "90 FR 4544"  # the rule (its cite) whose positions the material marks
THRESHOLD = 0.5  # a candidate scoring below this is not on the rule (when only words vouched for it)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("{")]


def material() -> list[tuple[str, str, bool]]:
    """(source, quote, on the rule) of every training item."""
    out = []
    for path in GOLD:
        out += [(path.stem, row["quote"], True) for row in rows(path) if row.get("quote")]
    for path in AUDITS:
        out += [(path.stem, row["quote"], bool(row["position"])) for row in rows(path)]
    return out


def fit(vectors: np.ndarray, labels: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(vectors, labels)


def main() -> None:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    items = material()
    sources = np.array([s for s, _, _ in items])
    vectors = embed.encode([q for _, q, _ in items])
    labels = np.array([y for _, _, y in items])
    for audit in AUDITS:
        held = sources == audit.stem
        model = fit(vectors[~held], labels[~held])
        scores = model.predict_proba(vectors[held])[:, 1]
        kept = scores >= THRESHOLD
        truth = labels[held]
        positions = f"{int(truth[kept].sum())}/{int(truth.sum())}"
        others = f"{int((~truth[kept]).sum())}/{int((~truth).sum())}"
        print(
            f"{audit.stem}: AUC {roc_auc_score(truth, scores):.3f} trained without it; at {THRESHOLD} it keeps "
            f"{positions} positions and {others} others"
        )
    if args.check:
        return
    model = fit(vectors, labels)
    OUT.write_text(
        json.dumps(
            {
                "about": "positions' relevance classifier: logistic regression over the unit sentence embedding; "
                "trained by bench/train_relevance.py on development gold and audits only",
                "rule": RULE,
                "embedding_model": embed.MODEL_NAME,
                "trained_on": [str(p.relative_to(ROOT)) for p in GOLD + AUDITS],
                "items": len(items),
                "threshold": THRESHOLD,
                "bias": round(float(model.intercept_[0]), 6),
                "weights": [round(float(w), 6) for w in model.coef_[0]],
            }
        )
        + "\n"
    )
    print(f"wrote {OUT.relative_to(ROOT)} ({len(items)} items, {int(labels.sum())} on the rule)")


if __name__ == "__main__":
    main()
