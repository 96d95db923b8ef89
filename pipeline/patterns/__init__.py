"""Extraction and linking patterns, kept as data: one JSON object per line in the *.jsonl files here."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PATTERNS_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def load_patterns(name: str) -> tuple[dict, ...]:
    """One JSON object per line; blank lines and // comments are skipped."""
    rows = []
    path = PATTERNS_DIR / f"{name}.jsonl"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return tuple(rows)
