"""Store: the only stage that writes the knowledge base, and the one writer of every other file regkb
makes for the user.

- schema: migrations and the tables whose rows quote their paragraph
- kb: write a new knowledge base beside the old one, verify provenance, swap it in under a lock; the
  reads a build needs from the previous knowledge base
- cache: each document's rows by file hash and code version, embedding vectors by text key
- files: manifests, table files, reports and documents written whole or not at all
"""

from __future__ import annotations

from .cache import (
    cache_key,
    code_version,
    load_cached,
    load_index_row,
    load_memo,
    load_vectors,
    memoised,
    save_cached,
    save_index_row,
    save_memo,
    save_vectors,
)
from .files import copy_file, replace_file, write_table_file
from .kb import (
    check_target,
    is_knowledge_base,
    open_readonly,
    previous_rows,
    provenance_mismatches,
    read_build_info,
    remove_unfinished_writes,
    verify_paragraphs,
    write_knowledge_base,
)
from .schema import CORPUS_TABLES, MIGRATIONS, PROVENANCE_TABLES, fts_text, migrate, now

__all__ = [
    "CORPUS_TABLES",
    "MIGRATIONS",
    "PROVENANCE_TABLES",
    "check_target",
    "code_version",
    "copy_file",
    "fts_text",
    "is_knowledge_base",
    "cache_key",
    "load_cached",
    "memoised",
    "load_memo",
    "load_vectors",
    "migrate",
    "now",
    "open_readonly",
    "previous_rows",
    "provenance_mismatches",
    "read_build_info",
    "remove_unfinished_writes",
    "replace_file",
    "save_cached",
    "save_memo",
    "save_vectors",
    "load_index_row",
    "save_index_row",
    "verify_paragraphs",
    "write_knowledge_base",
    "write_table_file",
]
