"""A CI-sized slice of the real docket (issue 13) built end to end: every 30th response and every
response of the triage check list, imported (`regkb import`) and built with the corpus manifest (the
rule), then triaged by the build and searched."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeline.build import build
from pipeline.importer import import_folder
from pipeline.ingest import sha256_file
from pipeline.manifest import DEFAULT_MANIFEST
from pipeline.query import search

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCKET = PROJECT_ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
CHECKLIST = [
    json.loads(line)
    for line in (PROJECT_ROOT / "annotations" / "docket" / "triage_checklist.jsonl").read_text().splitlines()
]


@pytest.mark.slow
def test_a_slice_of_the_docket_builds_end_to_end(real_kb, tmp_path):
    files = sorted(DOCKET.glob("*.txt"))
    chosen = sorted(set(files[::30]) | {DOCKET / row["file"] for row in CHECKLIST})
    assert 400 <= len(chosen) <= 520
    letters = tmp_path / "letters"
    letters.mkdir()
    for path in chosen:
        shutil.copyfile(path, letters / path.name)
    manifest = tmp_path / "ws" / "manifest.toml"
    imported = import_folder(letters, manifest, others=[DEFAULT_MANIFEST])
    assert len(imported.added) >= 380
    db = tmp_path / "ws" / "regkb.db"
    # the rule's parse comes from the session's cache (tests/conftest.py real_kb): only the slice is parsed
    report = build([DEFAULT_MANIFEST, manifest], db_path=db, cache_dir=real_kb.db_path.parent / "cache")
    assert report.ok, report.problems[:3]
    assert len(report.built) >= len(imported.added)
    conn = sqlite3.connect(db)
    docs = conn.execute("select count(*) from documents where status = 'built'").fetchone()[0]
    assert docs >= len(imported.added) + 10
    triage = {doc_id: relevance for doc_id, relevance in conn.execute("select doc_id, relevance from triage")}
    # a docket file by its name, or (the corpus manifest's copy of ITI's response) by its hash
    by_sha = dict(conn.execute("select file_sha256, id from documents"))
    by_file = {path.name: by_sha[sha256_file(path)] for path in chosen if sha256_file(path) in by_sha}
    positives = [row["file"] for row in CHECKLIST if row["names_rule"]]
    engaged = [f for f in positives if triage.get(by_file.get(f)) in ("names the rule", "discusses its provisions")]
    assert len(engaged) / len(positives) >= 0.95, sorted(set(positives) - set(engaged))
    # positions were found in the docket's letters on the rule, and they link to its provisions
    with_positions = {doc_id for (doc_id,) in conn.execute("select distinct doc_id from positions")}
    assert len(with_positions & set(by_file.values())) >= 15
    conn.close()
    hits = search(db, "AI diffusion rule tiers", limit=20)
    assert any(hit.doc_id in set(by_file.values()) and hit.doc_id.endswith("rfi-2025") for hit in hits)
