"""The knowledge base file: the only place it is written. A new database is written beside the old one,
every quote verified against its paragraph, then swapped in atomically under a per-folder writer lock, so
a crash or a bad document never damages the existing knowledge base. Also the reads a build needs from
the previous knowledge base (build info, a failed document's rows to carry over)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import stat
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..models import Paragraph, RegkbError
from ..paths import CJK
from .schema import CORPUS_TABLES, MIGRATIONS, PROVENANCE_TABLES, fts_text, migrate

# ----------------------------------------------------------------------------- reading the old KB


def open_readonly(db_path: Path) -> sqlite3.Connection:
    """A read-only connection. The name is URI-quoted: a '?', '#' or '%' in it stays part of the name
    instead of becoming a URI parameter."""
    return sqlite3.connect(f"file:{urllib.parse.quote(str(Path(db_path).resolve()))}?mode=ro", uri=True)


def read_build_info(db_path: Path) -> dict[str, str]:
    if not _is_regular(db_path):  # a FIFO would block the open for ever
        return {}
    try:
        with open_readonly(db_path) as conn:
            return dict(conn.execute("select key, value from build_info").fetchall())
    except sqlite3.Error:
        return {}


def previous_rows(db_path: Path, doc_id: str) -> tuple[dict | None, list[Paragraph], dict[str, list[dict]]]:
    """A document's rows in the existing knowledge base, to carry over when it fails to rebuild."""
    if not _is_regular(db_path):
        return None, [], {}
    try:
        db = sqlite_utils.Database(open_readonly(db_path))
        documents = list(db["documents"].rows_where("id = ?", [doc_id]))
        rows = db["paragraphs"].rows_where("doc_id = ?", [doc_id], order_by="ordinal")
        # a knowledge base built before a column existed has no value for it: the field's default
        paragraphs = [Paragraph(**{k: row[k] for k in Paragraph.__dataclass_fields__ if k in row}) for row in rows]
        ids = [p.id for p in paragraphs]
        extracted: dict[str, list[dict]] = {}
        tables = set(db.table_names())
        for table in PROVENANCE_TABLES:
            if table in tables and table not in CORPUS_TABLES and ids:
                marks = ",".join("?" * len(ids))
                extracted[table] = list(db[table].rows_where(f"paragraph_id in ({marks})", ids))
        return (documents[0] if documents else None), paragraphs, extracted
    except sqlite3.Error:
        return None, [], {}


# ----------------------------------------------------------------------------- writing


def verify_paragraphs(paragraphs: list[Paragraph]) -> None:
    """Provenance checks that must hold for every build: unique ids, a page, non-empty text."""
    seen: set[str] = set()
    for paragraph in paragraphs:
        if paragraph.id in seen:
            raise RegkbError(f"internal error: duplicate paragraph id {paragraph.id}")
        seen.add(paragraph.id)
        if not paragraph.page or paragraph.page < 1:
            raise RegkbError(f"internal error: paragraph {paragraph.id} has no page")
        if not paragraph.text.strip():
            raise RegkbError(f"internal error: paragraph {paragraph.id} is empty")


def provenance_mismatches(conn: sqlite3.Connection, limit: int = 20) -> list[dict]:
    """Rows whose matched_text is not what their paragraph says at their offsets."""
    found: list[dict] = []
    for table, column in PROVENANCE_TABLES.items():
        rows = conn.execute(
            f"select t.rowid, t.paragraph_id, t.{column}, substr(p.text, t.char_start + 1, t.char_end - t.char_start) "
            f"from {table} t left join paragraphs p on p.id = t.paragraph_id "
            f"where p.id is null or substr(p.text, t.char_start + 1, t.char_end - t.char_start) is not t.{column} "
            f"limit ?",
            (limit,),
        ).fetchall()
        found.extend(
            {"table": table, "rowid": r[0], "paragraph_id": r[1], "matched_text": r[2], "source_says": r[3]}
            for r in rows
        )
    return found


def write_knowledge_base(
    db_path: Path,
    documents: list[dict],
    paragraphs: list[Paragraph],
    problems: list[dict],
    info: dict[str, str],
    extracted: dict[str, list[dict]] | None = None,
    incremental: bool = True,
) -> str:
    """Write the new knowledge base next to db_path, verify every quote against its paragraph, then
    atomically replace db_path. Any failure leaves db_path as it was: a full disk or a folder that
    cannot be written is one RegkbError saying so. db_path is replaced only when it is a knowledge
    base (or absent, or empty); through a symbolic link, the file it leads to is.

    When db_path is a knowledge base of the same schema and code version, the write is incremental:
    the old file is copied and only the (document, table) pairs whose rows changed are rewritten in
    the copy (digests in document_digests), so adding one letter to 10,000 does not rewrite the
    other 9,999. Returns "full" or "incremental (N of M document tables rewritten)"."""
    verify_paragraphs(paragraphs)
    db_path = Path(os.path.realpath(db_path))
    extracted = extracted or {}
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with _writer_lock(db_path.parent):
            check_target(db_path)  # again, under the lock: another process may have put something there
            _remove_leftovers(db_path)
            groups = _groups(documents, paragraphs, extracted)
            old = _old_digests(db_path, info) if incremental else None
            if old is not None:
                changed = {key for key, (digest, _) in groups.items() if old.get(key) != digest} | (
                    set(old) - set(groups)
                )
                docs = {doc for doc, _ in groups} | {doc for doc, _ in old}
                rewritten = {doc for doc, table in changed if table == "paragraphs"}
                if len(rewritten) <= max(1, len(docs) // 3):  # beyond that, writing afresh is cheaper
                    _delta_write_and_swap(db_path, groups, changed, problems, info)
                    return f"incremental ({len(changed)} of {len(groups)} document tables rewritten)"
            _write_and_swap(db_path, documents, paragraphs, problems, info, extracted, groups)
            return "full"
    except sqlite3.Error as exc:  # "database or disk is full", "disk I/O error"
        raise RegkbError(
            f"{db_path}: could not write the knowledge base ({exc}); the previous knowledge base is unchanged"
        ) from exc
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename and str(exc.filename) != str(db_path) else ""
        raise RegkbError(
            f"{db_path}: could not write the knowledge base ({exc.strerror or exc}{where}); the "
            "previous knowledge base is unchanged"
        ) from exc


# ----------------------------------------------------------------------------- incremental writes

GLOBAL = ""  # the "document" of rows that belong to no single document (e.g. an index over all)
# how a table's rows in the knowledge base are found by document, most specific first; tables that are
# written before the tables their rows are found through
ATTRIBUTION = ("doc_id", "position_id", "paragraph_id")
DEPENDENTS_FIRST = ("position_links", "country_list_members", "embeddings", "term_usages")


def _groups(
    documents: list[dict], paragraphs: list[Paragraph], extracted: dict[str, list[dict]]
) -> dict[tuple[str, str], tuple[str, list[dict]]]:
    """(document, table) → (digest of its rows, rows), for every table the build writes."""
    doc_of_paragraph = {p.id: p.doc_id for p in paragraphs}
    doc_of_position = {row["id"]: row["doc_id"] for row in extracted.get("positions", [])}
    grouped: dict[tuple[str, str], list[dict]] = {}
    for document in documents:
        grouped.setdefault((document["id"], "documents"), []).append(document)
    for paragraph in paragraphs:
        grouped.setdefault((paragraph.doc_id, "paragraphs"), []).append(paragraph.to_row())
    for table, rows in extracted.items():
        for row in rows:
            if "doc_id" in row:
                doc = row["doc_id"]
            elif "position_id" in row:
                doc = doc_of_position.get(row["position_id"], GLOBAL)
            elif "paragraph_id" in row:
                doc = doc_of_paragraph.get(row["paragraph_id"], GLOBAL)
            else:
                doc = GLOBAL
            grouped.setdefault((doc, table), []).append(row)
    return {key: (_digest(rows), rows) for key, rows in grouped.items()}


def _digest(rows: list[dict]) -> str:
    """A digest of rows: their keys in order, their text and numbers, their blobs (embedding vectors)
    in hexadecimal, through one JSON encoding (sorting each row's items in Python took 9 s for the
    docket's 900,000 rows)."""
    encoded = json.dumps(rows, sort_keys=True, ensure_ascii=False, default=_blob_text)
    return hashlib.blake2b(encoded.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _blob_text(value):
    if isinstance(value, bytes):
        return {"blob": value.hex()}
    raise TypeError(f"internal error: a row holds {type(value).__name__}, which the knowledge base cannot store")


def _old_digests(db_path: Path, info: dict[str, str]) -> dict[tuple[str, str], str] | None:
    """The digests of the knowledge base at db_path, when an incremental write onto it gives what a
    full write would: same migrations, same code version. Else None."""
    if not _is_regular(db_path) or not is_knowledge_base(db_path):
        return None
    try:
        with open_readonly(db_path) as conn:
            applied = {row[0] for row in conn.execute("select name from _migrations")}
            version = dict(conn.execute("select key, value from build_info")).get("code_version")
            if applied != {name for name, _ in MIGRATIONS} or version != info.get("code_version"):
                return None
            return {
                (doc, table): digest
                for doc, table, digest in conn.execute("select doc_id, table_name, digest from document_digests")
            }
    except sqlite3.Error:
        return None


def _delta_write_and_swap(
    db_path: Path, groups: dict, changed: set[tuple[str, str]], problems: list[dict], info: dict[str, str]
) -> None:
    temp = _new_temp(db_path)
    conn = None
    try:
        shutil.copyfile(db_path, temp)
        conn = sqlite3.connect(temp)
        db = sqlite_utils.Database(conn)
        by_table: dict[str, set[str]] = {}
        for doc, table in changed:
            by_table.setdefault(table, set()).add(doc)
        order = (
            [t for t in DEPENDENTS_FIRST if t in by_table]
            + sorted(t for t in by_table if t not in DEPENDENTS_FIRST and t not in ("paragraphs", "documents"))
            + [t for t in ("paragraphs", "documents") if t in by_table]
        )
        with conn:
            for table in order:  # out with the old rows, found through the old knowledge base
                _delete_rows(conn, table, by_table[table])
            for table in order:
                rows = [row for doc in sorted(by_table[table]) for row in groups.get((doc, table), (None, []))[1]]
                if rows:
                    db[table].insert_all(
                        rows, pk="id" if table in ("documents", "paragraphs") else None, batch_size=1000
                    )
            if "paragraphs" in by_table:
                _index_paragraphs(conn, sorted(by_table["paragraphs"]))
            conn.executemany("delete from document_digests where doc_id = ? and table_name = ?", sorted(changed))
            conn.executemany(
                "insert into document_digests values (?, ?, ?)",
                [(doc, table, groups[(doc, table)][0]) for doc, table in sorted(changed) if (doc, table) in groups],
            )
            conn.execute("delete from build_problems")
            db["build_problems"].insert_all(problems)
            conn.execute("delete from build_info")
            db["build_info"].insert_all(({"key": k, "value": v} for k, v in info.items()), pk="key")
        _finish(conn, temp, db_path)
        conn = None
    finally:
        if conn is not None:
            conn.close()
        if temp.exists():
            temp.unlink()


def _delete_rows(conn: sqlite3.Connection, table: str, docs: set[str]) -> None:
    """Delete a table's rows of these documents (GLOBAL: the rows that belong to none)."""
    columns = {row[1] for row in conn.execute(f"pragma table_info({table})")}
    if not columns:
        return
    marks = ",".join("?" * len(docs))
    ids = sorted(docs)
    if table == "documents":
        conn.execute(f"delete from documents where id in ({marks})", ids)
    elif table == "paragraphs":
        conn.execute(
            f"delete from paragraphs_fts where rowid in (select rowid from paragraphs where doc_id in ({marks}))", ids
        )
        conn.execute(f"delete from paragraphs where doc_id in ({marks})", ids)
    elif GLOBAL in docs and not columns & set(ATTRIBUTION):
        conn.execute(f"delete from {table}")
    elif "doc_id" in columns:
        conn.execute(f"delete from {table} where doc_id in ({marks})", ids)
    elif "position_id" in columns:
        conn.execute(
            f"delete from {table} where position_id in (select id from positions where doc_id in ({marks}))", ids
        )
    elif "paragraph_id" in columns:
        conn.execute(
            f"delete from {table} where paragraph_id in (select id from paragraphs where doc_id in ({marks}))", ids
        )
    else:
        conn.execute(f"delete from {table}")


def _index_paragraphs(conn: sqlite3.Connection, doc_ids: list[str] | None = None) -> None:
    """Full-text index the paragraphs (of these documents): CJK characters spaced apart."""
    where, params = ("", [])
    if doc_ids is not None:
        where, params = (f" WHERE doc_id IN ({','.join('?' * len(doc_ids))})", doc_ids)
    conn.execute(
        "INSERT INTO paragraphs_fts(rowid, text, section_path) SELECT rowid, text, section_path FROM "
        f"paragraphs{where}",
        params,
    )
    rows = conn.execute(f"SELECT rowid, text FROM paragraphs{where}", params).fetchall()
    conn.executemany(
        "UPDATE paragraphs_fts SET text = ? WHERE rowid = ?",
        [(fts_text(text), rowid) for rowid, text in rows if CJK.search(text)],
    )


def _finish(conn: sqlite3.Connection, temp: Path, db_path: Path) -> None:
    """Verify every quote of the new database, then swap it in."""
    mismatches = provenance_mismatches(conn)
    if mismatches:
        conn.close()
        first = mismatches[0]
        raise RegkbError(
            f"provenance check failed: {len(mismatches)} extracted row(s) do not quote their paragraph, e.g. "
            f"{first['table']} row in {first['paragraph_id']}: {first['matched_text']!r} but the source says "
            f"{first['source_says']!r}; the knowledge base was not replaced"
        )
    conn.execute("PRAGMA optimize")
    conn.close()
    os.replace(temp, db_path)


# the first bytes of every SQLite 3 database file
SQLITE_HEADER = b"SQLite format 3\x00"
# tables every regkb knowledge base has had since its first migration
KB_TABLES = {"_migrations", "documents", "paragraphs", "build_info"}


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def is_knowledge_base(path: Path) -> bool:
    """A regular file that is an SQLite database with regkb's tables. Read without opening anything
    that is not a regular file, and read-only."""
    from ..ingest import open_regular
    from ..models import DocumentError

    try:
        with open_regular(path) as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                return False
    except (DocumentError, OSError):
        return False
    try:
        conn = open_readonly(path)
        try:
            tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return KB_TABLES <= tables


def check_target(db_path: Path) -> None:
    """Refuse to write the knowledge base over anything that is not one. db_path may be absent, an
    empty file or a knowledge base; a manifest, a notes file, any other database, a device or a named
    pipe given as --db is left exactly as it is, with a RegkbError saying why. A folder that cannot
    be written is said before any document is parsed."""
    path = Path(db_path)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise RegkbError(f"{path}: cannot use it as the knowledge base ({exc.strerror})") from exc
    if found is not None:
        from ..ingest import file_kind

        if stat.S_ISDIR(found.st_mode):
            raise RegkbError(f"{path}: is a folder, not a knowledge base file; give --db a file name")
        if not stat.S_ISREG(found.st_mode):
            raise RegkbError(f"{path}: is {file_kind(found.st_mode)}, not a knowledge base file; it was left as it is")
        if found.st_size and not is_knowledge_base(path):
            raise RegkbError(
                f"{path}: exists and is not a regkb knowledge base, so it was left as it is (a build "
                "replaces only a knowledge base); give --db a new file name or move that file away"
            )
    folder = Path(os.path.realpath(path)).parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise RegkbError(
            f"{folder}: cannot write in this folder (read-only?), so the knowledge base "
            f"{path.name} cannot be written there"
        )


def remove_unfinished_writes(db_path: Path) -> None:
    """Delete what writes killed before they could clean up left beside db_path (a temporary
    database as large as the knowledge base), unless a write is under way now. A build that finds
    nothing changed writes nothing, so it cleans up here."""
    if db_path.parent.is_dir():
        try:
            with _writer_lock(db_path.parent, wait=False) as held:
                if held:
                    _remove_leftovers(db_path)
        except OSError:
            pass  # cleaning up is a courtesy; a folder that cannot be written is reported by the write


@contextmanager
def _writer_lock(folder: Path, wait: bool = True):
    """One writer at a time per folder; yields whether the lock is held (always, when waiting). The
    lock is on the folder itself (no lock file to leave behind) and the kernel releases it when its
    holder dies, even by SIGKILL."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(descriptor)


def _remove_leftovers(db_path: Path) -> None:
    """Temp files (and SQLite journals) of killed writes: under the writer lock no other write is in
    progress, so every one of them is dead."""
    for leftover in db_path.parent.glob(f".{db_path.name}.*.building*"):
        leftover.unlink(missing_ok=True)


def _new_temp(db_path: Path) -> Path:
    """An empty file beside db_path for the new database. Created with mode 0666 less the umask, as
    any file the user makes (mkstemp's 0600 made every knowledge base private to its builder), or
    with the mode of the knowledge base it replaces."""
    try:
        mode = stat.S_IMODE(os.stat(db_path).st_mode)
    except OSError:
        mode = None
    while True:
        temp = db_path.parent / f".{db_path.name}.{secrets.token_hex(6)}.building"
        try:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            if mode is not None:
                os.fchmod(descriptor, mode)
        finally:
            os.close(descriptor)
        return temp


def _write_and_swap(
    db_path: Path,
    documents: list[dict],
    paragraphs: list[Paragraph],
    problems: list[dict],
    info: dict[str, str],
    extracted: dict[str, list[dict]],
    groups: dict,
) -> None:
    temp = _new_temp(db_path)
    conn = None
    try:
        conn = sqlite3.connect(temp)
        db = sqlite_utils.Database(conn)
        migrate(db)
        with conn:
            db["documents"].insert_all(documents, pk="id")
            db["paragraphs"].insert_all((p.to_row() for p in paragraphs), pk="id", batch_size=500)
            _index_paragraphs(conn)
            for table, rows in extracted.items():
                db[table].insert_all(rows, batch_size=1000)
            db["build_problems"].insert_all(problems)
            db["build_info"].insert_all(({"key": k, "value": v} for k, v in info.items()), pk="key")
            conn.executemany(
                "insert into document_digests values (?, ?, ?)",
                [(doc, table, digest) for (doc, table), (digest, _) in sorted(groups.items())],
            )
        _finish(conn, temp, db_path)
        conn = None
    finally:
        if conn is not None:
            conn.close()  # a failed write's connection is let go before its file
        if temp.exists():
            temp.unlink()
