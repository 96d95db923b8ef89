"""Caches a build reuses: each document's rows by file hash and code version (JSON files), and embedding
vectors by text key (one SQLite file). Both are shortcuts only: a damaged or unwritable cache costs
recomputation, never a build."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from dataclasses import asdict
from pathlib import Path

from ..models import Paragraph

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # pipeline/


def code_version() -> str:
    """Hash of the pipeline's own code and patterns: cached work is reused only while they are unchanged."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in (".py", ".jsonl", ".yaml", ".json", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(sha256: str, entry) -> str:
    """What a parsed document is cached by: its file's content and the manifest entry it was parsed as.
    Paragraph ids carry the document's id and positions its author, so two entries with the same file
    (a campaign's identical copies) or an entry whose organisation was corrected are parsed as
    themselves, never handed another's rows."""
    fields = {name: value for name, value in sorted(vars(entry).items()) if name != "note"}
    return hashlib.sha256(f"{sha256}\x1f{json.dumps(fields, sort_keys=True)}".encode()).hexdigest()


def cache_path(cache_dir: Path, key: str, version: str) -> Path:
    return cache_dir / f"{key[:24]}-{version}.json"


def load_cached(cache_dir: Path, key: str, version: str) -> dict | None:
    path = cache_path(cache_dir, key, version)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["paragraphs"] = [Paragraph(**row) for row in data["paragraphs"]]
        return data
    except (ValueError, TypeError, KeyError):
        return None  # a damaged cache entry is only a missed shortcut


def save_cached(
    cache_dir: Path,
    key: str,
    version: str,
    document: dict,
    paragraphs: list[Paragraph],
    extracted: dict[str, list[dict]],
) -> None:
    """Cache one document's rows. A cache that cannot be written (a full disk, a read-only folder) is
    only a missed shortcut: the build goes on, and its knowledge base write says what is wrong."""
    path = cache_path(cache_dir, key, version)
    payload = {"document": document, "paragraphs": [asdict(p) for p in paragraphs], "extracted": extracted}
    temp = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False)
        os.replace(temp, path)
    except OSError:
        if temp:
            Path(temp).unlink(missing_ok=True)


def load_vectors(cache_dir: Path, keys: list[str]) -> dict[str, bytes]:
    """Cached embedding vectors by text key (see embed.text_key); missing keys are absent."""
    path = cache_dir / "embeddings.sqlite"
    if not path.exists() or not keys:
        return {}
    found: dict[str, bytes] = {}
    try:
        with sqlite3.connect(path) as conn:
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                found.update(
                    conn.execute(
                        f"select key, vector from vectors where key in ({','.join('?' * len(chunk))})", chunk
                    ).fetchall()
                )
    except sqlite3.Error:
        return {}  # a damaged cache only costs recomputation
    return found


def save_vectors(cache_dir: Path, vectors: dict[str, bytes]) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(cache_dir / "embeddings.sqlite") as conn:
            conn.execute("create table if not exists vectors (key text primary key, vector blob)")
            conn.executemany("insert or replace into vectors values (?, ?)", vectors.items())
    except (sqlite3.Error, OSError):
        pass  # the cache is an optimisation; the knowledge base gets the vectors regardless


def load_memo(cache_dir: Path, kind: str, keys: list[str]) -> dict[str, object]:
    """Results of a build stage memoised by input key (see save_memo); missing keys are absent."""
    path = cache_dir / "memo.sqlite"
    if not path.exists() or not keys:
        return {}
    found: dict[str, object] = {}
    try:
        with sqlite3.connect(path) as conn:
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                rows = conn.execute(
                    f"select key, value from memo where kind = ? and key in ({','.join('?' * len(chunk))})",
                    [kind, *chunk],
                ).fetchall()
                found.update((key, json.loads(value)) for key, value in rows)
    except (sqlite3.Error, ValueError):
        return {}  # a damaged memo only costs recomputation
    return found


def memoised(cache_dir: Path, kind: str, keys: dict[str, str], compute) -> dict[str, object]:
    """item → value, each value memoised under keys[item] (the digest of the item's inputs):
    compute(missing items) → {item: value} runs only for the items whose key is not yet known."""
    known = load_memo(cache_dir, kind, sorted(set(keys.values())))
    first = {key: item for item, key in reversed(keys.items()) if key not in known}  # one item per new key
    fresh = {keys[item]: value for item, value in compute(list(first.values())).items()} if first else {}
    save_memo(cache_dir, kind, fresh)
    known.update(fresh)
    return {item: known[key] for item, key in keys.items()}


def save_memo(cache_dir: Path, kind: str, values: dict[str, object]) -> None:
    """Memoise a stage's results (JSON values) by the key of their inputs: a later build whose
    inputs for a document are the same reuses them instead of recomputing."""
    if not values:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(cache_dir / "memo.sqlite") as conn:
            conn.execute("create table if not exists memo (kind text, key text, value text, primary key (kind, key))")
            conn.executemany(
                "insert or replace into memo values (?, ?, ?)",
                [(kind, key, json.dumps(value, ensure_ascii=False)) for key, value in values.items()],
            )
    except (sqlite3.Error, OSError):
        pass  # the memo is an optimisation


def load_index_row(cache_dir: Path) -> dict | None:
    """The vector index row of the latest build (vectorindex.build_row), for the next build to take up;
    None when there is none or it cannot be read."""
    path = cache_dir / "vector_index.sqlite"
    if not path.exists():
        return None
    try:
        with sqlite3.connect(path) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("select model, library, vectors, paragraph_ids, data from latest").fetchone()
        return dict(row) if row else None
    except sqlite3.Error:
        return None  # a damaged cache only costs recomputation


def save_index_row(cache_dir: Path, row: dict) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(cache_dir / "vector_index.sqlite") as conn:
            conn.execute(
                "create table if not exists latest (model text, library text, vectors integer, "
                "paragraph_ids text, data blob)"
            )
            conn.execute("delete from latest")
            conn.execute(
                "insert into latest values (:model, :library, :vectors, :paragraph_ids, :data)",
                {key: row[key] for key in ("model", "library", "vectors", "paragraph_ids", "data")},
            )
    except (sqlite3.Error, OSError):
        pass  # the cache is an optimisation
