"""Query: read-only search over the knowledge base. User text never reaches FTS5 or SQL as syntax:
it is tokenised here and every term is quoted, so quotes, AND/OR, '*' or SQL fragments are just
words to look for."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .models import RegkbError
from .paths import CJK, CJK_CLASS
from .store import open_readonly

if TYPE_CHECKING:  # numpy loads only when a semantic search needs it
    import numpy as np

TOKEN = re.compile(rf'"(?P<phrase>[^"]+)"|(?P<word>[\w{CJK_CLASS}][\w{CJK_CLASS}.-]*)(?P<star>\*)?')


class QueryError(RegkbError):
    pass


@dataclass
class Hit:
    id: str
    doc_id: str
    doc_title: str
    section_path: str
    page: int
    page_label: str | None
    pin_cite: str
    snippet: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _terms(query: str) -> list[str]:
    """FTS5 terms from free text: quoted phrases stay phrases, 'word*' is a prefix, a run of
    Chinese characters becomes a phrase of characters (the index spaces them apart)."""
    terms: list[str] = []
    balanced = query.count('"') % 2 == 0
    text = query if balanced else query.replace('"', " ")
    for match in TOKEN.finditer(text):
        phrase, word = match.group("phrase"), match.group("word")
        if phrase is not None:
            words = [w for w in re.findall(rf"[\w{CJK_CLASS}]+", phrase)]
            if words:
                terms.append(_quote(" ".join(_spaced(w) for w in words)))
            continue
        word = word.strip(".-")
        if not word:
            continue
        if CJK.search(word):
            terms.append(_quote(_spaced(word)))
        else:
            for part in re.findall(r"\w+", word):
                terms.append(
                    _quote(part) + ("*" if match.group("star") and part == re.findall(r"\w+", word)[-1] else "")
                )
    return terms


def _spaced(word: str) -> str:
    return CJK.sub(lambda m: f" {m.group(0)} ", word).strip() if CJK.search(word) else word


def connect_readonly(db_path: str | Path) -> sqlite3.Connection:
    db_path = Path(db_path)
    if not db_path.exists():
        raise RegkbError(f"{db_path}: no knowledge base here yet; run `regkb build` first")
    if not db_path.is_file():
        raise RegkbError(f"{db_path}: is a folder, not a knowledge base file")
    conn = open_readonly(db_path)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("select 1 from paragraphs_fts limit 1")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise RegkbError(f"{db_path}: not a regkb knowledge base ({exc})") from exc
    return conn


# BM25 in two steps: the ranking (rowids and scores only), then the rows and their snippets for the
# few ranked: selecting the snippet and the joined columns in the ranking query computed them for every
# match before the sort (80 of 190 ms for a common word in the whole docket's 169,000 paragraphs)
RANK_SQL = """
select paragraphs_fts.rowid as rowid, bm25(paragraphs_fts, 1.0, 0.6) as score
from paragraphs_fts {join}
where paragraphs_fts match :match {filters}
order by score, paragraphs_fts.rowid
limit :limit
"""
ROWS_SQL = """
select p.rowid as rowid, p.id, p.doc_id, d.title as doc_title, p.section_path, p.page, p.page_label, p.pin_cite
from paragraphs p join documents d on d.id = p.doc_id
where p.rowid in ({marks})
"""
SNIPPET_SQL = (
    "select snippet(paragraphs_fts, 0, '[', ']', ' … ', 16) from paragraphs_fts "
    "where paragraphs_fts match :match and rowid = :rowid"
)
# The fallback after an all-terms search leaves out the terms found in more than this share of the
# paragraphs (and at least COMMON_AT_LEAST of them), as Lucene's cutoff frequency does: BM25 gives them
# next to no weight, and ranking every paragraph that says "AI" (57,000 of the docket's 169,000) took
# 60-100 ms of a search. A knowledge base the size of the corpus has no term that common.
COMMON_SHARE = 0.10
COMMON_AT_LEAST = 5_000


MODES = ("bm25", "hybrid", "semantic")
RRF_K = 60  # reciprocal rank fusion's damping constant (Cormack et al. 2009)
CANDIDATES = 50  # how deep each ranking goes before fusion


def search(
    db_path: str | Path,
    query: str,
    doc: str | None = None,
    section: str | None = None,
    limit: int = 10,
    mode: str = "bm25",
) -> list[Hit]:
    """Search paragraphs. "bm25": all terms must match; if that finds fewer than `limit`, paragraphs
    matching some of the terms follow, ranked below. "semantic": nearest by embedding. "hybrid":
    both rankings fused by reciprocal rank (1 / (60 + rank), summed)."""
    if limit < 1:
        raise QueryError("--limit must be at least 1")
    if mode not in MODES:
        raise QueryError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    terms = _terms(query or "")
    if not terms and mode == "bm25" or not (query or "").strip():
        raise QueryError(f"nothing to search for in {query!r}: give at least one word")
    filters, params = "", {}
    if doc:
        filters += " and p.doc_id = :doc"
        params["doc"] = doc
    if section:
        filters += " and p.section_path like :section escape '\\'"
        params["section"] = re.sub(r"([%_\\])", r"\\\1", section) + "%"
    with connect_readonly(db_path) as conn:
        if mode == "bm25":
            return _bm25(conn, query, terms, filters, params, limit)
        lexical = _bm25(conn, query, terms, filters, params, CANDIDATES) if mode == "hybrid" and terms else []
        semantic = _nearest(conn, Path(db_path), query, doc, section, CANDIDATES)
    fused: dict[str, float] = {}
    hits = {hit.id: hit for hit in semantic}
    hits.update({hit.id: hit for hit in lexical})  # a BM25 hit has the highlighted snippet
    for ranking in (lexical, semantic):
        for rank, hit in enumerate(ranking, start=1):
            fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
    ordered = sorted(fused, key=lambda hit_id: -fused[hit_id])[:limit]
    return [Hit(**{**hits[hit_id].to_dict(), "score": round(fused[hit_id], 6)}) for hit_id in ordered]


def _bm25(conn: sqlite3.Connection, query: str, terms: list[str], filters: str, params: dict, limit: int) -> list[Hit]:
    join = "join paragraphs p on p.rowid = paragraphs_fts.rowid" if filters else ""
    rank_sql = RANK_SQL.format(join=join, filters=filters)
    ranked: dict[int, tuple[str, float]] = {}  # rowid → (the match that found it, score), best first
    try:
        for match in dict.fromkeys([" AND ".join(terms), " OR ".join(_uncommon(conn, terms))]):
            if not match:
                continue
            for rowid, score in conn.execute(rank_sql, {**params, "limit": limit, "match": match}):
                if rowid not in ranked and len(ranked) < limit:
                    ranked[rowid] = (match, score)
            if len(ranked) >= limit:
                break
        if not ranked:
            return []
        rows = {
            row["rowid"]: row for row in conn.execute(ROWS_SQL.format(marks=",".join("?" * len(ranked))), list(ranked))
        }
        hits = []
        for rowid, (match, score) in ranked.items():
            snippet = conn.execute(SNIPPET_SQL, {"match": match, "rowid": rowid}).fetchone()[0]
            row = {key: rows[rowid][key] for key in rows[rowid].keys() if key != "rowid"}
            hits.append(Hit(**row, snippet=_unspace(snippet), score=score))
        return hits
    except sqlite3.OperationalError as exc:
        raise QueryError(f"cannot search for {query!r}: {exc}") from exc


def _uncommon(conn: sqlite3.Connection, terms: list[str]) -> list[str]:
    """The terms of the fallback search: those in at most COMMON_SHARE of the paragraphs (counted up to
    that many, so a common term costs no more than the cut-off)."""
    if len(terms) < 2:
        return terms
    paragraphs = conn.execute("select max(rowid) from paragraphs").fetchone()[0] or 0
    cutoff = max(COMMON_AT_LEAST, int(paragraphs * COMMON_SHARE))
    if paragraphs <= cutoff:
        return terms
    count = "select count(*) from (select 1 from paragraphs_fts where paragraphs_fts match ? limit ?)"
    return [term for term in terms if conn.execute(count, (term, cutoff + 1)).fetchone()[0] <= cutoff]


@lru_cache(maxsize=4)
def _vector_index(db_path: str, modified_ns: int) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Every paragraph's id, document, section path and embedding, read once per knowledge-base
    file version (the build replaces the file, so its mtime names the version)."""
    import numpy as np

    with connect_readonly(db_path) as conn:
        try:
            rows = conn.execute(
                "select e.paragraph_id, p.doc_id, p.section_path, e.vector from embeddings e "
                "join paragraphs p on p.id = e.paragraph_id order by p.rowid"
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise QueryError(
                f"{db_path}: this knowledge base has no embeddings (built by an older regkb?): {exc}"
            ) from exc
    matrix = (
        np.frombuffer(b"".join(row["vector"] for row in rows), dtype=np.float32).reshape(len(rows), -1)
        if rows
        else np.zeros((0, 0), dtype=np.float32)
    )
    return [r["paragraph_id"] for r in rows], [r["doc_id"] for r in rows], [r["section_path"] for r in rows], matrix


@lru_cache(maxsize=4)
def _ann(db_path: str, modified_ns: int):
    """The knowledge base's approximate-nearest-neighbour index (pipeline.vectorindex), read once per
    file version; None when it has none (a small knowledge base: exact search is as fast)."""
    with connect_readonly(db_path) as conn:
        try:
            row = conn.execute("select paragraph_ids, data from vector_index limit 1").fetchone()
        except sqlite3.OperationalError:
            return None  # built before the index existed
    if row is None:
        return None
    from .vectorindex import Loaded

    return Loaded(row["paragraph_ids"], row["data"])


def _exact(db_path: Path, vector, doc: str | None, section: str | None, limit: int) -> list[tuple[str, float]]:
    """The nearest paragraphs by cosine over every embedding (or every one the filters keep): the
    oracle the index is held to, and the way for small knowledge bases and filtered searches."""
    import numpy as np

    ids, doc_ids, paths, matrix = _vector_index(str(db_path), Path(db_path).stat().st_mtime_ns)
    if doc or section:
        keep = [
            i
            for i in range(len(ids))
            if (not doc or doc_ids[i] == doc) and (not section or paths[i].startswith(section))
        ]
        matrix = matrix[keep]
    else:
        keep = range(len(ids))
    if not keep:
        return []
    similarity = matrix @ vector
    return [(ids[keep[i]], float(similarity[i])) for i in np.argsort(-similarity)[:limit]]


def _nearest(
    conn: sqlite3.Connection, db_path: Path, query: str, doc: str | None, section: str | None, limit: int
) -> list[Hit]:
    from . import embed

    vector = embed.encode([query])[0]
    index = None if doc or section else _ann(str(db_path), Path(db_path).stat().st_mtime_ns)
    found = index.search(vector, limit) if index is not None else _exact(db_path, vector, doc, section, limit)
    if not found:
        return []
    scores = dict(found)
    marks = ",".join("?" * len(found))
    rows = {
        row["id"]: row
        for row in conn.execute(
            "select p.id, p.doc_id, d.title as doc_title, p.section_path, p.page, p.page_label, p.pin_cite, p.text "
            f"from paragraphs p join documents d on d.id = p.doc_id where p.id in ({marks})",
            [i for i, _ in found],
        )
    }
    return [
        Hit(
            id=row["id"],
            doc_id=row["doc_id"],
            doc_title=row["doc_title"],
            section_path=row["section_path"],
            page=row["page"],
            page_label=row["page_label"],
            pin_cite=row["pin_cite"],
            snippet=_opening(row["text"]),
            score=round(scores[row["id"]], 4),
        )
        for row in (rows[i] for i, _ in found if i in rows)
    ]


def _opening(text: str, words: int = 30) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _unspace(snippet: str) -> str:
    """Undo the index's spacing of CJK characters in a snippet."""
    if not CJK.search(snippet):
        return snippet
    # the index put a space on both sides of every CJK character; keep only those between
    # Chinese and Latin letters or digits, where the source may well have had one
    snippet = re.sub(rf"(?<=[{CJK_CLASS}\]]) (?![A-Za-z0-9])", "", snippet)
    return re.sub(rf"(?<![A-Za-z0-9]) (?=[{CJK_CLASS}\[])", "", snippet)


def get_paragraph(db_path: str | Path, paragraph_id: str) -> dict:
    with connect_readonly(db_path) as conn:
        row = conn.execute(
            "select p.*, d.title as doc_title from paragraphs p join documents d on d.id = p.doc_id where p.id = ?",
            (paragraph_id,),
        ).fetchone()
    if row is None:
        raise RegkbError(f"no paragraph with id {paragraph_id!r}")
    return dict(row)


def list_documents(db_path: str | Path) -> list[dict]:
    with connect_readonly(db_path) as conn:
        rows = conn.execute(
            "select d.*, count(p.id) as paragraphs from documents d left join paragraphs p on p.doc_id = d.id "
            "group by d.id order by d.date, d.id"
        ).fetchall()
    return [dict(row) for row in rows]
