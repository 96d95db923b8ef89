"""The knowledge base's schema: migrations applied in order (each once, recorded in _migrations), the
tables whose rows quote their paragraph, and the text the full-text index sees."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import sqlite_utils

from ..extract.contract import provenance_tables
from ..paths import CJK


def _m001_core(db: sqlite_utils.Database) -> None:
    db["documents"].create({
        "id": str, "title": str, "doc_type": str, "author_org": str, "date": str, "language": str,
        "source_url": str, "file_sha256": str, "page_count": int, "media": str, "file_name": str,
        "cite_as": str, "status": str,
    }, pk="id")
    db["paragraphs"].create({
        "id": str, "doc_id": str, "ordinal": int, "section_path": str, "page": int, "page_label": str,
        "pin_cite": str, "text": str, "kind": str,
    }, pk="id", foreign_keys=[("doc_id", "documents", "id")])
    db["paragraphs"].create_index(["doc_id", "ordinal"])
    db["paragraphs"].create_index(["section_path"])
    db.execute(
        "CREATE VIRTUAL TABLE paragraphs_fts USING fts5(text, section_path, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    db["build_info"].create({"key": str, "value": str}, pk="key")
    db["build_problems"].create({"doc_id": str, "file": str, "problem": str})


def _m002_extraction(db: sqlite_utils.Database) -> None:
    provenance = {"matched_text": str, "char_start": int, "char_end": int}
    db["definitions"].create({
        "id": str, "doc_id": str, "paragraph_id": str, "term": str, "definition": str, "scope": str,
        "kind": str, "target": str, **provenance}, pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("paragraph_id", "paragraphs", "id")])
    db["term_usages"].create({"term_id": str, "paragraph_id": str, "doc_id": str, **provenance},
                             foreign_keys=[("term_id", "definitions", "id"), ("paragraph_id", "paragraphs", "id")])
    db["country_lists"].create({
        "id": str, "doc_id": str, "paragraph_id": str, "label": str, "style": str, "member_count": int,
        **provenance}, pk="id", foreign_keys=[("paragraph_id", "paragraphs", "id")])
    db["country_list_members"].create({
        "list_id": str, "paragraph_id": str, "position": int, "name": str, "iso2": str, **provenance},
        foreign_keys=[("list_id", "country_lists", "id"), ("paragraph_id", "paragraphs", "id")])
    db["country_mentions"].create({"doc_id": str, "paragraph_id": str, "name": str, "iso2": str, **provenance},
                                  foreign_keys=[("paragraph_id", "paragraphs", "id")])
    db["country_group_refs"].create({"doc_id": str, "paragraph_id": str, "group_name": str, **provenance},
                                    foreign_keys=[("paragraph_id", "paragraphs", "id")])
    db["thresholds"].create({
        "id": str, "doc_id": str, "paragraph_id": str, "quantity": str, "comparator": str, "value": float,
        "unit": str, "subject": str, **provenance}, pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("paragraph_id", "paragraphs", "id")])
    for table in ("definitions", "term_usages", "country_lists", "country_list_members", "country_mentions",
                  "country_group_refs", "thresholds"):
        db[table].create_index(["paragraph_id"])


def _m003_positions(db: sqlite_utils.Database) -> None:
    db["positions"].create({
        "id": str, "doc_id": str, "paragraph_id": str, "org": str, "stance": str, "topic": str, "quote": str,
        "char_start": int, "char_end": int, "cue": str, "duplicate_of": str}, pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("paragraph_id", "paragraphs", "id")])
    db["positions"].create_index(["paragraph_id"])
    db["positions"].create_index(["org", "topic"])
    db["position_links"].create({"position_id": str, "paragraph_id": str, "rank": int, "score": float,
                                 "method": str, "matched_text": str},
                                foreign_keys=[("position_id", "positions", "id"), ("paragraph_id", "paragraphs", "id")])
    db["position_links"].create_index(["position_id"])
    db["embeddings"].create({"paragraph_id": str, "model": str, "vector": bytes}, pk="paragraph_id",
                            foreign_keys=[("paragraph_id", "paragraphs", "id")])
    db["document_clusters"].create({"doc_id": str, "cluster_id": str, "representative": str, "copies": int,
                                    "similarity": float, "method": str}, pk="doc_id",
                                   foreign_keys=[("doc_id", "documents", "id")])


def _m004_published(db: sqlite_utils.Database) -> None:
    db["documents"].add_column("published", str)


def _m005_pin_cites(db: sqlite_utils.Database) -> None:
    """Pin cites as data: the last page of a paragraph that runs over a page break, and the cite's
    stem and locator (pin_cite stays, as their rendering)."""
    for column, kind in (("page_end", int), ("page_end_label", str), ("pin_source", str), ("pin_locator", str)):
        db["paragraphs"].add_column(column, kind)
    db["thresholds"].add_column("value_text", str)  # a date's ISO form ("2026-01-15"); value is then NULL
    # a territory a list names as part of another entry ("China, including Hong Kong"): the entry's code
    db["country_list_members"].add_column("part_of", str)


def _m008_digests(db: sqlite_utils.Database) -> None:
    """What each document contributed to each table, as a digest of its rows: an incremental write
    rewrites only the (document, table) pairs whose digest changed (store.kb)."""
    db["document_digests"].create({"doc_id": str, "table_name": str, "digest": str}, pk=("doc_id", "table_name"))


MIGRATIONS = [("001_core", _m001_core), ("002_extraction", _m002_extraction), ("003_positions", _m003_positions),
              ("004_published", _m004_published), ("005_pin_cites", _m005_pin_cites),
              ("008_digests", _m008_digests)]
# every row of these tables quotes its paragraph: text[char_start:char_end] == the named column. The
# extractors' tables come from their declarations (extract.contract); term usages are the link stage's.
PROVENANCE_TABLES = {**provenance_tables(), "term_usages": "matched_text"}
# rows computed across documents (links, usages, clusters): rebuilt every time, never carried over
CORPUS_TABLES = ("term_usages", "position_links", "document_clusters")


def migrate(db: sqlite_utils.Database) -> None:
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    done = {row["name"] for row in db["_migrations"].rows}
    for name, step in MIGRATIONS:
        if name not in done:
            step(db)
            db["_migrations"].insert({"name": name, "applied_at": now()})


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fts_text(text: str) -> str:
    """Text as the FTS index sees it: CJK characters spaced apart, so each is a token and a
    Chinese word can be found as a phrase of characters."""
    if not CJK.search(text):
        return text
    return re.sub(r" {2,}", " ", CJK.sub(lambda m: f" {m.group(0)} ", text)).strip()
