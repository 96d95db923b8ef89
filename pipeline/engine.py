"""Where the per-document work (ingest → segment → extract, and on a cluster embed too) runs: in this
process, in a local process pool over documents (both cores by default), or on a Dask distributed
cluster. Whatever the engine, results come back to the one process that writes the knowledge base,
and in manifest order, so every engine yields the same rows."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .document import parse_document
from .ingest import long_pdf_pages, page_ranges, read_page_range
from .models import DocumentError, ManifestEntry, Paragraph
from .pool import process_pool

ENGINES = ("local", "dask")
Ready = Callable[[ManifestEntry, list[Paragraph], "dict[str, list[dict]] | None"], None]
# how long to keep trying to reach a Dask scheduler before saying it cannot be reached, in seconds
DASK_CONNECT_TIMEOUT = 20.0


@dataclass
class Parsed:
    entry: ManifestEntry
    document: dict | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    extracted: dict[str, list[dict]] = field(default_factory=dict)
    vectors: dict[str, bytes] = field(default_factory=dict)  # text key → embedding, when the worker embedded
    problem: str = ""


def parse_one(
    entry: ManifestEntry,
    path: Path,
    pdf_pages: list | None = None,
    embed_texts: bool = False,
    segmented: Callable[[list[Paragraph]], None] | None = None,
) -> Parsed:
    """The per-document unit of work. A bad document is a Parsed with its problem, not an exception:
    exceptions with custom constructors do not survive pickling between processes. pdf_pages: a long
    PDF's pages, read in page ranges by the pool; segmented: see parse_document (in this process only)."""
    try:
        document, paragraphs, extracted = parse_document(path, entry, pdf_pages, segmented)
    except DocumentError as exc:
        return Parsed(entry, problem=str(exc))
    vectors = {}
    if embed_texts:
        from . import embed

        texts = sorted({p.text for p in paragraphs} | {row["quote"] for row in extracted.get("positions", [])})
        vectors = {embed.text_key(t): embed.to_blob(v) for t, v in zip(texts, embed.encode(texts))}
    return Parsed(entry, document, paragraphs, extracted, vectors)


def parse_shipped(entry: ManifestEntry, name: str, content: bytes) -> Parsed:
    """On a cluster worker: the file arrives as bytes (no shared filesystem needed), under its own
    name so its extension still says what it is."""
    with tempfile.TemporaryDirectory(prefix="regkb-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        return parse_one(entry, path, embed_texts=True)


def run(
    jobs: list[tuple[ManifestEntry, Path]],
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    connect_timeout: float | None = None,
    ready: Ready | None = None,
) -> Iterator[Parsed]:
    """Parse every (entry, path); yields in the order of jobs. `connect_timeout` bounds the wait for
    the Dask scheduler (default DASK_CONNECT_TIMEOUT, read at call time). `ready(entry, paragraphs,
    extracted)` is called in this process as soon as a document's paragraphs exist, in whatever order
    the work finishes: once with extracted None when a document parsed here is segmented (its
    extraction is still to run), and once with its extracted rows when it is done."""
    workers = workers or os.cpu_count() or 1
    results: dict[str, Parsed] = {}
    done = 0

    def finished(parsed: Parsed) -> None:
        nonlocal done
        done += 1
        results[parsed.entry.id] = parsed
        if ready and not parsed.problem:
            ready(parsed.entry, parsed.paragraphs, parsed.extracted)
        if progress:
            progress(parsed.entry.id, done, len(jobs))

    if progress and jobs:
        progress("", 0, len(jobs))  # the total, before the first (long) document is done
    if engine == "dask":
        for parsed in _on_dask(jobs, scheduler, DASK_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout):
            finished(parsed)
    elif engine == "local":
        _on_local(jobs, workers, finished, ready)
    else:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    for entry, _ in jobs:
        yield results[entry.id]


def _on_local(
    jobs: list[tuple[ManifestEntry, Path]], workers: int, finished: Callable[[Parsed], None], ready: Ready | None
) -> None:
    """One process pool for everything: a long PDF (the rule) is read in page ranges across it, first,
    and the other documents are one task each; when every range of a PDF is in, its pages are
    assembled, segmented and extracted in a thread of this process, while the pool goes on with the
    rest and this thread takes in what the pool returns (`ready` hears of each document as it comes,
    not after the PDF). One document alone parses in this process: starting a pool (the forkserver
    imports and builds the pipelines, then forks) would cost more than the document (a 15-page
    letter alone: 8.6 s)."""
    long = {entry.id: long_pdf_pages(path) for entry, path in jobs} if workers > 1 else {}
    big = [(entry, path) for entry, path in jobs if long.get(entry.id)]
    rest = [job for job in jobs if not long.get(job[0].id)]

    def here(entry: ManifestEntry, path: Path, pages: list | None = None) -> Parsed:
        segmented = (lambda paragraphs: ready(entry, paragraphs, None)) if ready else None
        return parse_one(entry, path, pages, segmented=segmented)

    if not big and len(rest) <= 1 or workers <= 1:
        for entry, path in jobs:
            finished(here(entry, path))
        return
    with process_pool(workers) as pool, ThreadPoolExecutor(1, thread_name_prefix="regkb-assemble") as assemble:
        ranges: dict[object, tuple[ManifestEntry, Path, int]] = {}
        for entry, path in big:
            for index, (first, last) in enumerate(page_ranges(long[entry.id], workers)):
                # the first range is read here while the forkserver imports spaCy and forks the
                # workers (about a second in which this process would only wait)
                executor = assemble if (entry, path) == big[0] and index == 0 else pool
                ranges[executor.submit(read_page_range, str(path), first, last)] = (entry, path, index)
        tasks = {pool.submit(parse_one, entry, path): entry for entry, path in rest}
        parts: dict[str, dict[int, list]] = {entry.id: {} for entry, _ in big}
        waiting = Counter(entry.id for entry, _, _ in ranges.values())
        failed: set[str] = set()
        assembled = []
        for future in as_completed([*ranges, *tasks]):
            if future in tasks:
                finished(future.result())
                continue
            entry, path, index = ranges[future]
            if future.exception() is not None:
                failed.add(entry.id)
            else:
                parts[entry.id][index] = future.result()
            waiting[entry.id] -= 1
            if waiting[entry.id] == 0:
                if entry.id in failed:  # read again page by page: the problem named as a serial read names it
                    assembled.append(assemble.submit(here, entry, path))
                else:
                    pages = [page for i in sorted(parts[entry.id]) for page in parts[entry.id][i]]
                    assembled.append(assemble.submit(here, entry, path, pages))
                parts.pop(entry.id)
        for future in assembled:
            finished(future.result())


def _on_dask(jobs: list[tuple[ManifestEntry, Path]], scheduler: str | None, timeout: float) -> Iterator[Parsed]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    from .models import RegkbError

    if not scheduler:
        raise RegkbError("--engine dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    try:
        client = Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise RegkbError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    with client:
        futures = [
            client.submit(parse_shipped, entry, path.name, path.read_bytes(), pure=False) for entry, path in jobs
        ]
        for future in dask_completed(futures):
            yield future.result()
