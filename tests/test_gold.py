"""The positions gold files are what every figure of the positions extractor rests on: each item has
the fields annotations/README.md documents, with values of the documented kinds, and its anchor,
quote and reason are in the real docket response it is about. (A helper's file once carried a
reason sentence split into characters as its "links"; the scorer read each character as a
provision.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.patterns import load_patterns

ROOT = Path(__file__).resolve().parents[1]
DOCKET = ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
GOLD = sorted((ROOT / "annotations").rglob("positions*.jsonl"))
STANCES = {"support", "oppose", "request_change", "neutral"}
PROVISION = re.compile(r"^(?:§ ?\d|Supplement No\.|ECCN |Part \d)")


def items(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("//"):
            rows.append({**json.loads(line), "_line": number})
    return rows


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("path", GOLD, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_positions_gold_item_has_the_documented_fields(path):
    topics = {row["topic"] for row in load_patterns("topics") if "topic" in row} | {"other"}
    rows = items(path)
    assert rows and "coverage" in rows[0], f"{path}: the first line is the coverage"
    for row in rows[1:]:
        where = f"{path.name}:{row['_line']}"
        assert {"doc", "page", "anchor", "quote", "org", "stance", "topic", "links"} <= set(row), where
        assert row["stance"] in STANCES and row["topic"] in topics, where
        assert isinstance(row["links"], list) and all(
            isinstance(link, str) and PROVISION.match(link) for link in row["links"]
        ), (where, row["links"])
        assert row["doc"] in rows[0]["coverage"], where


@pytest.mark.parametrize(
    "path", [p for p in GOLD if p.parent.name in ("docket", "dev", "heldout")], ids=lambda p: p.name
)
def test_docket_gold_quotes_are_in_the_real_responses(path):
    files = {p.stem.lower(): p for p in DOCKET.glob("*.txt")}
    texts: dict[str, str] = {}
    for row in items(path)[1:]:
        if row["doc"] not in files:
            continue  # a corpus document (ITI's March comments), located by regkb evaluate
        text = texts.setdefault(row["doc"], squash(files[row["doc"]].read_text(encoding="utf-8")))
        for field in ("anchor", "quote", "reason"):
            if row.get(field):
                assert squash(row[field]) in text, f"{path.name}:{row['_line']} {field} not in {row['doc']}"
