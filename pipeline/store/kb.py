"""The knowledge base file: the only place it is written. A new database is written beside the old one,
every quote verified against its paragraph, then swapped in atomically under a per-folder writer lock, so
a crash or a bad document never damages the existing knowledge base. Also the reads a build needs from
the previous knowledge base (build info, a failed document's rows to carry over)."""
from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
import stat
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..models import Paragraph, RegkbError
from ..paths import CJK
from .schema import CORPUS_TABLES, PROVENANCE_TABLES, fts_text, migrate

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
            f"limit ?", (limit,)).fetchall()
        found.extend({"table": table, "rowid": r[0], "paragraph_id": r[1], "matched_text": r[2], "source_says": r[3]}
                     for r in rows)
    return found


def write_knowledge_base(db_path: Path, documents: list[dict], paragraphs: list[Paragraph],
                         problems: list[dict], info: dict[str, str], extracted: dict[str, list[dict]] | None = None) -> None:
    """Write a complete new knowledge base next to db_path, verify every quote against its
    paragraph, then atomically replace db_path. Any failure leaves db_path as it was: a full disk or a
    folder that cannot be written is one RegkbError saying so. db_path is replaced only when it is a
    knowledge base (or absent, or empty); through a symbolic link, the file it leads to is."""
    verify_paragraphs(paragraphs)
    db_path = Path(os.path.realpath(db_path))
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with _writer_lock(db_path.parent):
            check_target(db_path)  # again, under the lock: another process may have put something there
            _remove_leftovers(db_path)
            _write_and_swap(db_path, documents, paragraphs, problems, info, extracted)
    except sqlite3.Error as exc:  # "database or disk is full", "disk I/O error"
        raise RegkbError(f"{db_path}: could not write the knowledge base ({exc}); the previous knowledge base "
                         "is unchanged") from exc
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(db_path) else ""
        raise RegkbError(f"{db_path}: could not write the knowledge base: {exc.strerror or exc}{where}; the "
                         "previous knowledge base is unchanged") from exc


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
            raise RegkbError(f"{path}: exists and is not a regkb knowledge base, so it was left as it is (a build "
                             "replaces only a knowledge base); give --db a new file name or move that file away")
    folder = Path(os.path.realpath(path)).parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise RegkbError(f"{folder}: cannot write in this folder (read-only?), so the knowledge base "
                         f"{path.name} cannot be written there")


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


def _write_and_swap(db_path: Path, documents: list[dict], paragraphs: list[Paragraph], problems: list[dict],
                    info: dict[str, str], extracted: dict[str, list[dict]] | None) -> None:
    temp = _new_temp(db_path)
    conn = None
    try:
        conn = sqlite3.connect(temp)
        db = sqlite_utils.Database(conn)
        migrate(db)
        with conn:
            db["documents"].insert_all(documents, pk="id")
            db["paragraphs"].insert_all((p.to_row() for p in paragraphs), pk="id", batch_size=500)
            conn.execute(
                "INSERT INTO paragraphs_fts(rowid, text, section_path) SELECT rowid, text, section_path FROM paragraphs"
            )
            cjk_rows = [(fts_text(p.text), p.id) for p in paragraphs if CJK.search(p.text)]
            conn.executemany(
                "UPDATE paragraphs_fts SET text = ? WHERE rowid = (SELECT rowid FROM paragraphs WHERE id = ?)", cjk_rows
            )
            for table, rows in (extracted or {}).items():
                db[table].insert_all(rows, batch_size=1000)
            db["build_problems"].insert_all(problems)
            db["build_info"].insert_all(({"key": k, "value": v} for k, v in info.items()), pk="key")
        mismatches = provenance_mismatches(conn)
        if mismatches:
            conn.close()
            first = mismatches[0]
            raise RegkbError(
                f"provenance check failed: {len(mismatches)} extracted row(s) do not quote their paragraph, e.g. "
                f"{first['table']} row in {first['paragraph_id']}: {first['matched_text']!r} but the source says "
                f"{first['source_says']!r}; the knowledge base was not replaced")
        conn.execute("PRAGMA optimize")
        conn.close()
        os.replace(temp, db_path)
    finally:
        if conn is not None:
            conn.close()  # closing twice is harmless; a failed write's connection is let go before its file
        if temp.exists():
            temp.unlink()
