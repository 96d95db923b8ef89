"""The per-document unit of work: ingest → segment → extract one file into its documents row,
paragraphs and extracted rows. Every engine runs it (build's local pool, the Dask workers, through
engine.parse_one), and the forkserver imports it to warm up; it knows nothing of caches, the
corpus or the knowledge base, which the orchestrator (build.py) owns."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

from .ingest import MAX_LINE_CHARS, read_document
from .models import DocumentError, ManifestEntry, Paragraph, RegkbError
from .segment import segment


def document_row(entry: ManifestEntry, sha256: str, page_count: int, media: str, file_name: str) -> dict:
    return {
        "id": entry.id,
        "title": entry.title,
        "doc_type": entry.doc_type,
        "author_org": entry.author_org,
        "date": entry.date,
        "language": entry.language,
        "source_url": entry.url,
        "file_sha256": sha256,
        "page_count": page_count,
        "media": media,
        "file_name": file_name,
        "cite_as": entry.cite_as,
        "status": "built",
        "published": entry.published,
    }


def parse_document(
    path: Path,
    entry: ManifestEntry,
    pdf_pages: list | None = None,
    segmented: Callable[[list[Paragraph]], None] | None = None,
) -> tuple[dict, list[Paragraph], dict[str, list[dict]]]:
    """Ingest, segment and extract one file (no cache): the per-document unit of work. Whatever goes
    wrong with one document is a DocumentError naming its file, so the build reports it and goes on
    with the others: an exception from reading, segmenting or extracting (a bug a strange document
    brings out, spaCy refusing a text, memory running out) as much as a document regkb refuses.
    pdf_pages: a long PDF's pages, read in page ranges by the engine's pool. segmented: called with the
    paragraphs before extraction starts (the build begins embedding them meanwhile)."""
    from .extract import extract  # spaCy loads only when a document has to be parsed

    raw = _stage("reading", path, read_document, path, expected_sha256=entry.sha256, pdf_pages=pdf_pages)
    paragraphs = _stage("segmenting", path, segment, raw, entry)
    if not paragraphs:
        raise DocumentError(str(path), "no paragraphs could be segmented from this document")
    longest = max(paragraphs, key=lambda p: len(p.text))
    if len(longest.text) > MAX_LINE_CHARS:  # segment keeps paragraphs far shorter; extraction cannot take this
        raise DocumentError(
            str(path),
            f"a paragraph of {len(longest.text):,} characters on page {longest.page}; the "
            f"limit for one paragraph is {MAX_LINE_CHARS:,}",
        )
    if segmented:
        segmented(paragraphs)
    extracted = _stage("extracting", path, extract, paragraphs, entry.language, entry)
    return document_row(entry, raw.sha256, len(raw.pages), raw.media, path.name), paragraphs, extracted


def _stage(doing: str, path: Path, step, *args, **kwargs):
    """Run one stage of a document's work; any exception but a DocumentError becomes one, naming the
    file, the stage, the error and where it was raised (for a bug report), never a traceback that stops
    the build."""
    try:
        return step(*args, **kwargs)
    except DocumentError:
        raise
    except RegkbError as exc:
        raise DocumentError(str(path), str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the point: no exception of one document stops the others
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        message = str(exc)
        message = message if len(message) <= 300 else message[:300] + " …"
        raise DocumentError(
            str(path),
            f"{doing} failed: {type(exc).__name__}{where}: {message} "
            "(a problem of regkb's with this document: please report it)",
        ) from exc
