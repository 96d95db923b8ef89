"""Build the knowledge base: manifest → ingest → segment → store, document by document.

A document that cannot be read is reported (file and problem) and the others still build; if the
old knowledge base had it, its rows are carried over so nothing already there is lost."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import dedupe, embed, store, triage, workspace
from . import manifest as manifest_mod
from .document import document_row
from .engine import run as run_engine
from .ingest import sha256_file
from .link import position_links, relevant_positions, term_usages
from .models import DocumentError, ManifestEntry, Paragraph, RegkbError

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

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "db": str(self.db_path), "ok": self.ok, "up_to_date": self.up_to_date,
            "built": self.built, "cached": self.cached, "carried_over": self.carried_over,
            "missing": [{"id": e.id, "url": e.url, "file": e.file} for e in self.missing],
            "problems": self.problems, "paragraphs": self.paragraphs, "seconds": round(self.seconds, 3),
            "stages": {name: round(value, 3) for name, value in self.stages.items()}, "write": self.write,
        }


def _merge(into: dict[str, list[dict]], rows: dict[str, list[dict]]) -> None:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)


def vectors_for(texts: list[str], cache_dir: Path):
    """Unit embedding vectors of texts (a matrix in the same order), computed once per text and
    cached by text hash across builds."""
    import numpy as np

    keys = [embed.text_key(text) for text in texts]
    known = store.load_vectors(cache_dir, sorted(set(keys)))
    missing = sorted({key: text for key, text in zip(keys, texts) if key not in known}.items())
    if missing:
        fresh = embed.encode([text for _, text in missing])
        new = {key: embed.to_blob(vector) for (key, _), vector in zip(missing, fresh)}
        store.save_vectors(cache_dir, new)
        known.update(new)
    if not texts:
        return np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    return np.vstack([embed.from_blob(known[key]) for key in keys])


def link_corpus(documents: list[dict], paragraphs: list[Paragraph], extracted: dict[str, list[dict]],
                cache_dir: Path, stages: dict[str, float], embed_letters: str = "auto") -> None:
    """Embed the paragraphs (for hybrid search; which ones: embedded_paragraphs) and every position
    quote; find copies among the letters (form-letter campaigns); link each position to the
    regulatory text of the rule (the rule document with the most pages is the one cited)."""
    import numpy as np

    mark = time.perf_counter()
    chosen = embedded_paragraphs(documents, paragraphs, extracted, cache_dir, embed_letters)
    row_of = {index: row for row, index in enumerate(chosen)}  # paragraph index → row of matrix
    matrix = vectors_for([paragraphs[i].text for i in chosen], cache_dir)
    stages["embed"] = time.perf_counter() - mark
    mark = time.perf_counter()
    extracted["embeddings"] = [{"paragraph_id": paragraphs[i].id, "model": embed.MODEL_NAME,
                                "vector": embed.to_blob(v)} for i, v in zip(chosen, matrix)]
    letters = [d for d in documents if d["doc_type"] != "rule"]
    rows_of: dict[str, list[int]] = {}
    texts_of: dict[str, list[str]] = {}
    for index, paragraph in enumerate(paragraphs):
        texts_of.setdefault(paragraph.doc_id, []).append(paragraph.text)
        if index in row_of:
            rows_of.setdefault(paragraph.doc_id, []).append(row_of[index])
    texts = {d["id"]: "\n".join(texts_of.get(d["id"], [])) for d in letters}
    means = {doc_id: matrix[rows].mean(axis=0) for doc_id, rows in rows_of.items() if doc_id in texts}
    means = {doc_id: vector / (np.linalg.norm(vector) or 1.0) for doc_id, vector in means.items()}
    extracted["document_clusters"] = dedupe.clusters(letters, dedupe.near_duplicates(texts, means))
    positions = extracted.get("positions", [])
    dedupe.mark_duplicate_positions(positions, extracted["document_clusters"])
    stages["dedupe"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rules = sorted((d for d in documents if d["doc_type"] == "rule"), key=lambda d: -(d["page_count"] or 0))
    if not rules or not positions:
        extracted["position_links"] = []
        return
    regulatory = [i for i, p in enumerate(paragraphs)
                  if p.doc_id == rules[0]["id"] and p.section_path.startswith(("§", "Supplement", "ECCN"))]
    quotes = vectors_for([row["quote"] for row in positions], cache_dir)
    keep = relevant_positions(positions, paragraphs, None, documents, extracted.get("definitions", []), quotes)
    positions[:] = [row for row, kept in zip(positions, keep) if kept]  # only positions on a rule of the KB
    quotes = quotes[np.asarray(keep, dtype=bool)]
    extracted["position_links"] = position_links(positions, [paragraphs[i] for i in regulatory],
                                                 matrix[[row_of[i] for i in regulatory]], quotes)
    stages["link"] = time.perf_counter() - mark


# Up to this many paragraphs of letters, every paragraph is embedded (about a minute of the build on two
# cores); beyond it ("auto"), only the letters that engage with a rule (triage.engaging: they name it,
# its provisions or export controls, or hold a position) are: in 1,000 real responses of the OSTP docket
# that was 48 letters, a quarter of the letters' paragraphs. The others are still found by BM25 (and by
# the hybrid search's BM25 half), and their campaigns by their shingles.
EMBED_ALL_UP_TO = 20_000
EMBED_LETTERS = ("auto", "all", "engaging")


def embedded_paragraphs(documents: list[dict], paragraphs: list[Paragraph], extracted: dict[str, list[dict]],
                        cache_dir: Path | None, embed_letters: str = "auto") -> list[int]:
    """The indices of the paragraphs to embed: every paragraph of the rules, and the letters'
    paragraphs as embed_letters says ("all"; "engaging": only the letters that engage with a rule;
    "auto": all up to EMBED_ALL_UP_TO letter paragraphs, else engaging)."""
    if embed_letters not in EMBED_LETTERS:
        raise RegkbError(f"embed_letters must be one of {', '.join(EMBED_LETTERS)}, not {embed_letters!r}")
    rules = {d["id"] for d in documents if d["doc_type"] == "rule"}
    letter_paragraphs = sum(1 for p in paragraphs if p.doc_id not in rules)
    if embed_letters == "all" or (embed_letters == "auto" and letter_paragraphs <= EMBED_ALL_UP_TO):
        return list(range(len(paragraphs)))
    wanted = rules | triage.engaging(documents, paragraphs, extracted, cache_dir)
    return [i for i, p in enumerate(paragraphs) if p.doc_id in wanted]


def usages_by_document(definitions: list[dict], paragraphs: list[Paragraph], cache_dir: Path) -> list[dict]:
    """Where each defined term is used (link.term_usages), document by document: a document's usages
    depend only on the definitions and its own paragraphs, so they are memoised by both and a build
    that adds one letter searches only that letter."""
    terms = hashlib.blake2b(repr([(d["id"], d["term"], d["paragraph_id"]) for d in definitions]).encode(),
                            digest_size=16).hexdigest()
    by_doc: dict[str, list[Paragraph]] = {}
    for paragraph in paragraphs:
        by_doc.setdefault(paragraph.doc_id, []).append(paragraph)
    keys = {doc: hashlib.blake2b((terms + repr([(p.id, p.text) for p in doc_paragraphs])).encode(),
                                 digest_size=16).hexdigest() for doc, doc_paragraphs in by_doc.items()}
    known = store.load_memo(cache_dir, "term_usages", sorted(set(keys.values())))
    missing = [doc for doc in by_doc if keys[doc] not in known]
    fresh: dict[str, list[dict]] = {keys[doc]: [] for doc in missing}
    for row in term_usages(definitions, [p for doc in missing for p in by_doc[doc]]):
        fresh[keys[row["doc_id"]]].append(row)
    store.save_memo(cache_dir, "term_usages", fresh)
    known.update(fresh)
    return [row for doc in by_doc for row in known[keys[doc]]]


def build(manifest_path: manifest_mod.ManifestPaths = None, corpus: str | Path | None = None,
          db_path: str | Path | None = None, cache_dir: str | Path | None = None, force: bool = False,
          workers: int | None = None, progress: Callable[[str, int, int], None] | None = None,
          engine: str = "local", scheduler: str | None = None, embed_letters: str = "auto") -> BuildReport:
    """Build the knowledge base. Documents are parsed by the engine ("local": a process pool over
    documents on this machine; "dask": the cluster at `scheduler`), then linked and written here."""
    started = time.perf_counter()
    ws = workspace.current()  # in the checkout: DEFAULT_DB and DEFAULT_CACHE, as before workspaces
    db_path = Path(db_path or (DEFAULT_DB if ws.checkout else ws.ensure().db))
    cache_dir = Path(cache_dir or (DEFAULT_CACHE if ws.checkout else ws.cache))
    # before any work: a --db that names something other than a knowledge base (the manifest, a notes
    # file, a device, a named pipe) is refused and left untouched, as is a folder that cannot be written
    store.check_target(db_path)
    entries = manifest_mod.load_manifest(manifest_path)
    dirs = manifest_mod.corpus_dirs(corpus, manifest_path)
    report = BuildReport(db_path=db_path)

    located: list[tuple[ManifestEntry, Path]] = []
    for entry in entries:
        try:
            path = manifest_mod.locate(entry, dirs)
        except RegkbError as exc:
            report.problems.append({"doc_id": entry.id, "file": entry.file, "problem": str(exc)})
            continue
        if path is not None:
            located.append((entry, path))
        elif entry.url:
            report.missing.append(entry)  # fetchable: `regkb fetch` can bring it
        else:
            report.problems.append({"doc_id": entry.id, "file": entry.file,
                                    "problem": f"{entry.file}: file not found"})

    version = store.code_version()
    hashes: dict[str, str] = {}
    for entry, path in located:
        try:
            hashes[entry.id] = sha256_file(path)  # a named pipe or a device is refused, never opened
        except DocumentError as exc:
            report.problems.append({"doc_id": entry.id, "file": str(path), "problem": str(exc)})
        except OSError as exc:
            report.problems.append({"doc_id": entry.id, "file": str(path), "problem": f"{path}: {exc.strerror}"})
    fingerprint = hashlib.sha256(json.dumps(
        [version, sorted(hashes.items()), [e.__dict__ for e in entries], embed_letters], sort_keys=True).encode()
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
        cached = None if force else store.load_cached(cache_dir, hashes[entry.id], version)
        if cached and (not entry.sha256 or entry.sha256 == hashes[entry.id]):
            cached["document"].update(document_row(entry, hashes[entry.id], cached["document"]["page_count"],
                                                   cached["document"]["media"], path.name))
            by_id[entry.id] = cached["document"], cached["paragraphs"], cached["extracted"]
            report.cached.append(entry.id)
        else:
            jobs.append((entry, path))
    # parsing will take seconds: load the embedding model meanwhile
    model_loading = embed.preload() if jobs and engine == "local" else None
    for parsed in run_engine(jobs, engine, workers, scheduler, progress):
        if parsed.problem:
            report.problems.append({"doc_id": parsed.entry.id, "file": str(dict(jobs)[parsed.entry]),
                                    "problem": parsed.problem})
            continue
        store.save_cached(cache_dir, hashes[parsed.entry.id], version, parsed.document, parsed.paragraphs,
                          parsed.extracted)
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
    link_corpus(documents, paragraphs, extracted, cache_dir, report.stages, embed_letters)
    mark = time.perf_counter()
    extracted["triage"] = triage.kb_rows(documents, paragraphs, extracted, cache_dir)  # relevance to the rules (issue 13)
    report.stages["triage"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report.paragraphs = len(paragraphs)
    info = {"fingerprint": fingerprint if not report.problems else "", "code_version": version,
            "paragraphs": str(len(paragraphs)), "built_at": store.now(),
            "missing": json.dumps([e.id for e in report.missing])}
    report.write = store.write_knowledge_base(db_path, documents, paragraphs, report.problems, info, extracted,
                                              incremental=not force)
    report.stages["store"] = time.perf_counter() - mark
    if model_loading:
        # when every vector was cached the load may still run: a daemon thread cut off at exit prints
        # a half traceback on stderr, which --json users would read
        model_loading.join()
    report.seconds = time.perf_counter() - started
    return report
