"""Build the knowledge base: manifest → ingest → segment → store, document by document.

A document that cannot be read is reported (file and problem) and the others still build; if the
old knowledge base had it, its rows are carried over so nothing already there is lost."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import embed, store, triage, workspace
from . import manifest as manifest_mod
from .document import document_row
from .engine import run as run_engine
from .ingest import sha256_file
from .link import link_corpus, usages_by_document
from .link.early import EarlyVectors
from .models import DocumentError, ManifestEntry, Paragraph, RegkbError
from .readmodel import figure_subject_rows

PROJECT_ROOT = manifest_mod.PROJECT_ROOT
DEFAULT_DB = PROJECT_ROOT / "outputs" / "regkb.db"
DEFAULT_CACHE = PROJECT_ROOT / "outputs" / "cache"


@dataclass
class BuildReport:
    db_path: Path
    built: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    carried_over: list[str] = field(default_factory=list)
    missing: list[ManifestEntry] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    paragraphs: int = 0
    up_to_date: bool = False
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, for bench/
    write: str = ""  # how the knowledge base was written: "full" or "incremental (…)" (store.kb)
    embedded_early: int = 0  # texts embedded while the parsing went on (link.early)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "db": str(self.db_path),
            "ok": self.ok,
            "up_to_date": self.up_to_date,
            "built": self.built,
            "cached": self.cached,
            "carried_over": self.carried_over,
            "missing": [{"id": e.id, "url": e.url, "file": e.file} for e in self.missing],
            "problems": self.problems,
            "paragraphs": self.paragraphs,
            "seconds": round(self.seconds, 3),
            "embedded_early": self.embedded_early,
            "stages": {name: round(value, 3) for name, value in self.stages.items()},
            "write": self.write,
        }


# a file changed again within this many seconds of being hashed could keep its size and times: its hash
# is not remembered until it is older (git's "racy" index entries)
SETTLED_SECONDS = 2.0


def file_hashes(located: list[tuple[ManifestEntry, Path]], cache_dir: Path, report: BuildReport) -> dict[str, str]:
    """doc id → its file's SHA-256. A hash is remembered in the cache under the file's device, inode,
    size, modification and change times, and read back while they are the same: a no-change rebuild of
    the whole docket read 32 MB (3.5 s with a cold page cache) to learn that nothing had changed. A
    named pipe or a device is refused, never opened; a file that cannot be read is a problem."""

    def identity(path: Path) -> str | None:
        try:
            info = os.stat(path)
        except OSError:
            return None  # sha256_file says what is wrong
        if not stat.S_ISREG(info.st_mode) or max(info.st_mtime, info.st_ctime) >= settled:
            return None
        return hashlib.sha256(
            f"{os.fsencode(path)!r}:{info.st_dev}:{info.st_ino}:{info.st_size}:"
            f"{info.st_mtime_ns}:{info.st_ctime_ns}".encode()
        ).hexdigest()

    settled = time.time() - SETTLED_SECONDS
    keys = {entry.id: key for entry, path in located if (key := identity(path))}
    known = store.load_memo(cache_dir, "sha256", sorted(set(keys.values())))
    hashes: dict[str, str] = {}
    fresh: dict[str, str] = {}
    for entry, path in located:
        key = keys.get(entry.id)
        if key in known:
            hashes[entry.id] = known[key]
            continue
        try:
            hashes[entry.id] = sha256_file(path)
        except DocumentError as exc:
            report.problems.append({"doc_id": entry.id, "file": str(path), "problem": str(exc)})
            continue
        except OSError as exc:
            report.problems.append({"doc_id": entry.id, "file": str(path), "problem": f"{path}: {exc.strerror}"})
            continue
        if key and identity(path) == key:  # unchanged while it was read
            fresh[key] = hashes[entry.id]
    store.save_memo(cache_dir, "sha256", fresh)
    return hashes


def _merge(into: dict[str, list[dict]], rows: dict[str, list[dict]]) -> None:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)


def build(
    manifest_path: manifest_mod.ManifestPaths = None,
    corpus: str | Path | None = None,
    db_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    embed_letters: str = "auto",
) -> BuildReport:
    """Build the knowledge base. Documents are parsed by the engine ("local": a process pool over
    documents on this machine; "dask": the cluster at `scheduler`), then linked and written here."""
    started = time.perf_counter()
    ws = workspace.current()  # in the checkout: DEFAULT_DB and DEFAULT_CACHE, as before workspaces
    db_path = Path(db_path or (DEFAULT_DB if ws.checkout else ws.ensure().db))
    cache_dir = Path(cache_dir or (DEFAULT_CACHE if ws.checkout else ws.cache))
    # before any work: a --db that names something other than a knowledge base (the manifest, a notes
    # file, a device, a named pipe) is refused and left untouched, as is a folder that cannot be written
    store.check_target(db_path)
    own_folders: dict[str, list[Path]] = {}
    entries = manifest_mod.load_manifest(manifest_path, own_folders)
    dirs = manifest_mod.corpus_dirs(corpus, manifest_path)
    report = BuildReport(db_path=db_path)

    located: list[tuple[ManifestEntry, Path]] = []
    locator = manifest_mod.Locator(dirs, own_folders=own_folders)
    for entry in entries:
        try:
            path = locator.locate(entry)
        except RegkbError as exc:
            report.problems.append({"doc_id": entry.id, "file": entry.file, "problem": str(exc)})
            continue
        if path is not None:
            located.append((entry, path))
        elif entry.url:
            report.missing.append(entry)  # fetchable: `regkb fetch` can bring it
        else:
            report.problems.append({"doc_id": entry.id, "file": entry.file, "problem": f"{entry.file}: file not found"})

    version = store.code_version()
    hashes = file_hashes(located, cache_dir, report)
    fingerprint = hashlib.sha256(
        json.dumps(
            [version, sorted(hashes.items()), [e.__dict__ for e in entries], embed_letters], sort_keys=True
        ).encode()
    ).hexdigest()

    store.remove_unfinished_writes(db_path)
    previous = store.read_build_info(db_path)
    if not force and not report.problems and previous.get("fingerprint") == fingerprint:
        report.up_to_date = True
        report.paragraphs = int(previous.get("paragraphs", 0))
        report.seconds = time.perf_counter() - started
        return report

    by_id: dict[str, tuple[dict, list[Paragraph], dict[str, list[dict]]]] = {}
    jobs: list[tuple[ManifestEntry, Path]] = []
    for entry, path in located:
        if entry.id not in hashes:
            continue
        cached = None if force else store.load_cached(cache_dir, store.cache_key(hashes[entry.id], entry), version)
        if cached and (not entry.sha256 or entry.sha256 == hashes[entry.id]):
            cached["document"].update(
                document_row(
                    entry, hashes[entry.id], cached["document"]["page_count"], cached["document"]["media"], path.name
                )
            )
            by_id[entry.id] = cached["document"], cached["paragraphs"], cached["extracted"]
            report.cached.append(entry.id)
        else:
            jobs.append((entry, path))
    # parsing will take seconds: load the embedding model meanwhile, and embed each document's
    # paragraphs as soon as they exist with what the parsing leaves of the cores (link.early)
    early = model_loading = None
    if jobs and engine == "local" and embed.runner_name() == "onnx":
        rules = {entry.id for entry in entries if entry.doc_type == "rule"}
        cached_letters = sum(len(rows[1]) for doc_id, rows in by_id.items() if doc_id not in rules)
        early = EarlyVectors(cache_dir, embed_letters, letter_paragraphs=cached_letters)
    elif jobs and engine == "local":
        model_loading = embed.preload()
    try:
        parsed_all = list(run_engine(jobs, engine, workers, scheduler, progress, ready=early and early.ready))
    except BaseException:
        if early:
            early.finish()
        raise
    for parsed in parsed_all:
        if parsed.problem:
            report.problems.append(
                {"doc_id": parsed.entry.id, "file": str(dict(jobs)[parsed.entry]), "problem": parsed.problem}
            )
            continue
        store.save_cached(
            cache_dir,
            store.cache_key(hashes[parsed.entry.id], parsed.entry),
            version,
            parsed.document,
            parsed.paragraphs,
            parsed.extracted,
        )
        store.save_vectors(cache_dir, parsed.vectors)
        by_id[parsed.entry.id] = parsed.document, parsed.paragraphs, parsed.extracted
        report.built.append(parsed.entry.id)

    documents: list[dict] = []
    paragraphs: list[Paragraph] = []
    extracted: dict[str, list[dict]] = {}
    for entry, _ in located:  # manifest order, whatever order the work finished in
        if entry.id in by_id:
            document, doc_paragraphs, doc_extracted = by_id[entry.id]
            documents.append(document)
            paragraphs.extend(doc_paragraphs)
            _merge(extracted, doc_extracted)

    for problem in report.problems:
        old_document, old_paragraphs, old_extracted = store.previous_rows(db_path, problem["doc_id"])
        if old_document and problem["doc_id"] not in {d["id"] for d in documents}:
            old_document["status"] = "stale: kept from the previous build because this build failed to read it"
            documents.append(old_document)
            paragraphs.extend(old_paragraphs)
            _merge(extracted, old_extracted)
            report.carried_over.append(problem["doc_id"])

    report.stages["parse"] = time.perf_counter() - started
    mark = time.perf_counter()
    extracted["term_usages"] = usages_by_document(extracted.get("definitions", []), paragraphs, cache_dir)
    report.stages["term_usages"] = time.perf_counter() - mark
    if early:
        mark = time.perf_counter()
        report.embedded_early = early.finish()
        report.stages["embed_wait"] = time.perf_counter() - mark
    link_corpus(documents, paragraphs, extracted, cache_dir, report.stages, embed_letters)
    mark = time.perf_counter()
    extracted["triage"] = triage.kb_rows(
        documents, paragraphs, extracted, cache_dir
    )  # relevance to the rules (issue 13)
    # what each figure is about, for the claims view (the one comparison SQL cannot make; readmodel)
    extracted["figure_subjects"] = figure_subject_rows(paragraphs, extracted.get("thresholds", []))
    report.stages["triage"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report.paragraphs = len(paragraphs)
    info = {
        "fingerprint": fingerprint if not report.problems else "",
        "code_version": version,
        "paragraphs": str(len(paragraphs)),
        "built_at": store.now(),
        "missing": json.dumps([e.id for e in report.missing]),
    }
    report.write = store.write_knowledge_base(
        db_path, documents, paragraphs, report.problems, info, extracted, incremental=not force
    )
    report.stages["store"] = time.perf_counter() - mark
    if model_loading:
        # when every vector was cached the load may still run: a daemon thread cut off at exit prints
        # a half traceback on stderr, which --json users would read
        model_loading.join()
    report.seconds = time.perf_counter() - started
    return report
