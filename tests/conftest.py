"""Shared fixtures. The real corpus sits beside the project (../shared/corpus); tests that need it
fail loudly when it is absent rather than skip."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.build import build
from pipeline.manifest import DEFAULT_MANIFEST

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
RULE_PDF = REAL_CORPUS / "2025-00636-public-inspection.pdf"
SYNTHETIC = PROJECT_ROOT / "tests" / "fixtures" / "synthetic"


@pytest.fixture(scope="session")
def real_corpus() -> Path:
    assert RULE_PDF.exists(), f"the real corpus is expected at {REAL_CORPUS} (see corpus/README.md)"
    return REAL_CORPUS


@pytest.fixture(scope="session")
def real_kb(real_corpus, tmp_path_factory):
    """The knowledge base built cold (no cache) from the real corpus and, beside it, the synthetic
    letters (tests/fixtures/synthetic: the industry letters themselves are not available offline)."""
    work = tmp_path_factory.mktemp("real-kb")
    # the default corpus folders: ../shared/corpus and the real material beside it (the other rules and
    # the docket responses the manifest lists)
    report = build(
        [DEFAULT_MANIFEST, SYNTHETIC / "manifest.toml"],
        corpus=None,
        db_path=work / "regkb.db",
        cache_dir=work / "cache",
    )
    assert report.ok, report.problems
    return report


@pytest.fixture(scope="session")
def real_db(real_kb):
    conn = sqlite3.connect(real_kb.db_path)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def write_manifest(path: Path, documents: list[dict]) -> Path:
    """A manifest file for tests: each dict is one [[document]] (defaults filled in)."""
    lines = []
    for doc in documents:
        entry = {
            "title": doc.get("id", "t"),
            "doc_type": "comment",
            "author_org": "Test Org",
            "date": "2025-01-07",
            "language": "en",
            "url": "",
            **doc,
        }
        lines.append("[[document]]")
        lines.extend(f'{key} = "{value}"' for key, value in entry.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
