"""Extraction and linking patterns, kept as data: one JSON object per line in the *.jsonl files here.
The same JSON Lines reader (// comments and blank lines skipped) serves the gold annotations."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ..models import RegkbError

PATTERNS_DIR = Path(__file__).resolve().parent


def read_jsonl(path: str | Path) -> list[dict]:
    """JSON Lines with // comments; a line that is not JSON is a RegkbError naming the file and line."""
    rows = []
    path = Path(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("//"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RegkbError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    return rows


@cache
def load_patterns(name: str) -> tuple[dict, ...]:
    """The patterns of pipeline/patterns/NAME.jsonl."""
    return tuple(read_jsonl(PATTERNS_DIR / f"{name}.jsonl"))
