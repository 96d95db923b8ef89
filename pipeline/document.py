"""The per-document unit of work: ingest → segment → extract one file into its documents row,
paragraphs and extracted rows. Every engine runs it (build's local pool, the Dask workers, through
engine.parse_one), and the forkserver imports it to warm up; it knows nothing of caches, the
corpus or the knowledge base, which the orchestrator (build.py) owns."""
from __future__ import annotations

from pathlib import Path

from .ingest import read_document
from .models import DocumentError, ManifestEntry, Paragraph
from .segment import segment


def document_row(entry: ManifestEntry, sha256: str, page_count: int, media: str, file_name: str) -> dict:
    return {
        "id": entry.id, "title": entry.title, "doc_type": entry.doc_type, "author_org": entry.author_org,
        "date": entry.date, "language": entry.language, "source_url": entry.url, "file_sha256": sha256,
        "page_count": page_count, "media": media, "file_name": file_name, "cite_as": entry.cite_as,
        "status": "built", "published": entry.published,
    }


def parse_document(path: Path, entry: ManifestEntry, workers: int | None = None
                   ) -> tuple[dict, list[Paragraph], dict[str, list[dict]]]:
    """Ingest, segment and extract one file (no cache): the per-document unit of work."""
    from .extract import extract  # spaCy loads only when a document has to be parsed

    raw = read_document(path, expected_sha256=entry.sha256, workers=workers)
    paragraphs = segment(raw, entry)
    if not paragraphs:
        raise DocumentError(str(path), "no paragraphs could be segmented from this document")
    extracted = extract(paragraphs, entry.language, entry)
    return document_row(entry, raw.sha256, len(raw.pages), raw.media, path.name), paragraphs, extracted
