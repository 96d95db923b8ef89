"""Build engines: the local process pool and a Dask distributed cluster (two worker processes on
this machine, as CI runs it) give the same knowledge base, row for row."""

from __future__ import annotations

import sqlite3
import time
import tomllib

import numpy as np
import pytest

from pipeline import engine
from pipeline.build import build
from pipeline.manifest import DEFAULT_MANIFEST, load_manifest
from pipeline.models import RegkbError

from .conftest import SYNTHETIC, write_manifest

# tables whose rows are data; build_info and _migrations say when and by what code, not what
SKIP_TABLES = {"build_info", "_migrations"}


def real_text_manifest(tmp_path, real_corpus):
    """The real corpus without the 168-page PDF (parsed page by page on one worker it would take
    the test minutes): the published regulatory text, the OpenAI response and the Chinese article."""
    documents = tomllib.loads(DEFAULT_MANIFEST.read_text(encoding="utf-8"))["document"]
    present = [d for d in documents if not d["file"].endswith(".pdf") and (real_corpus / d["file"]).exists()]
    assert len(present) >= 3, "the real corpus's text documents are expected beside the project"
    return write_manifest(tmp_path / "real-text.toml", present)


def table_rows(db_path) -> dict[str, list[tuple]]:
    """Every row of every data table, sorted by its text and integer columns."""
    conn = sqlite3.connect(db_path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "select name from sqlite_master where type = 'table' and name not like '%_fts%' "
                "and name not like 'sqlite_%'"
            )
        ]
        return {
            name: sorted(conn.execute(f"select * from [{name}]"), key=lambda row: repr(exact_part(row)))
            for name in sorted(set(names) - SKIP_TABLES)
        }
    finally:
        conn.close()


def exact_part(row: tuple) -> tuple:
    return tuple(None if isinstance(v, (float, bytes)) else v for v in row)


def numbers(row: tuple) -> np.ndarray:
    """A row's scores and embedding vectors as one array of floats."""
    parts = [
        np.frombuffer(v, dtype=np.float32) if isinstance(v, bytes) else np.array([v])
        for v in row
        if isinstance(v, (float, bytes))
    ]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


def assert_same_rows(table: str, ours: list[tuple], theirs: list[tuple]) -> None:
    """Text and integers equal; scores and vectors equal to 1e-4: the same text embedded in a batch
    of another size differs in the last bits, which must not count as a different knowledge base."""
    assert [exact_part(r) for r in ours] == [exact_part(r) for r in theirs], f"{table} differs"
    for mine, other in zip(ours, theirs):
        assert np.allclose(numbers(mine), numbers(other), atol=1e-4), f"{table}: {exact_part(mine)} differs in a number"


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    # processes, not threads: what a real cluster does (pickling every task and result)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="4GiB"
    ) as cluster:
        yield cluster.scheduler_address


DOCKET = DEFAULT_MANIFEST.parents[1].parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"


def docket_sample(tmp_path, every: int = 400):
    """A sample of the real docket (every 400th of its 10,063 responses: 26 of them, one-line notes to
    long reports, cover sheets and campaigns among them), listed by `regkb import` as a user would."""
    from pipeline.importer import import_folder

    letters = tmp_path / "docket"
    letters.mkdir()
    for path in sorted(DOCKET.glob("*.txt"))[::every]:
        (letters / path.name).write_bytes(path.read_bytes())
    manifest = tmp_path / "docket.toml"
    import_folder(letters, manifest, others=[DEFAULT_MANIFEST])
    return manifest


@pytest.mark.slow
def test_dask_build_gives_the_same_rows_as_the_local_build(tmp_path, real_corpus, dask_cluster):
    manifests = [real_text_manifest(tmp_path, real_corpus), SYNTHETIC / "manifest.toml", docket_sample(tmp_path)]
    local = build(manifests, corpus=real_corpus, db_path=tmp_path / "local.db", cache_dir=tmp_path / "cache-local")
    dask = build(
        manifests,
        corpus=real_corpus,
        db_path=tmp_path / "dask.db",
        cache_dir=tmp_path / "cache-dask",
        engine="dask",
        scheduler=dask_cluster,
    )
    assert local.ok and dask.ok, (local.problems, dask.problems)
    assert sorted(dask.built) == sorted(local.built) and len(local.built) >= 10
    docket = {entry.id for entry in load_manifest(manifests[2])}
    assert len(docket) >= 20 and docket <= set(local.built), docket - set(local.built)

    local_rows, dask_rows = table_rows(local.db_path), table_rows(dask.db_path)
    assert local_rows.keys() == dask_rows.keys()
    # the tables that carry the results, non-empty: an engine that lost everything would also "match"
    for table in (
        "paragraphs",
        "definitions",
        "thresholds",
        "country_lists",
        "positions",
        "position_links",
        "embeddings",
    ):
        assert local_rows[table], table
    for table in local_rows:
        assert_same_rows(table, dask_rows[table], local_rows[table])


@pytest.mark.slow
def test_dask_build_reports_a_bad_document_by_file_and_builds_the_rest(tmp_path, dask_cluster):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(
        "We oppose the interim final rule. The country caps in § 740.27 would cut allies off from American chips.\n",
        encoding="utf-8",
    )
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    manifest = write_manifest(
        tmp_path / "m.toml", [{"id": "good", "file": "good.txt"}, {"id": "broken", "file": "broken.pdf"}]
    )
    report = build(
        manifest,
        corpus=corpus,
        db_path=tmp_path / "kb.db",
        cache_dir=tmp_path / "cache",
        engine="dask",
        scheduler=dask_cluster,
    )
    assert report.built == ["good"]
    [problem] = report.problems
    assert problem["doc_id"] == "broken" and problem["file"].endswith("broken.pdf")
    assert "PDF" in problem["problem"]


def test_dask_engine_without_a_reachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("We support the rule.\n", encoding="utf-8")
    manifest = write_manifest(tmp_path / "m.toml", [{"id": "letter-a", "file": "a.txt"}])
    with pytest.raises(RegkbError, match="--scheduler"):
        build(manifest, corpus=corpus, db_path=tmp_path / "kb.db", cache_dir=tmp_path / "c", engine="dask")
    # nobody listens on port 9: the client retries until its connect timeout (20 s by default), so
    # the test gives it one second
    jobs = [(entry, corpus / entry.file) for entry in load_manifest(manifest)]
    started = time.monotonic()
    with pytest.raises(RegkbError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        list(engine.run(jobs, "dask", scheduler="tcp://127.0.0.1:9", connect_timeout=1))
    assert time.monotonic() - started < 15
    monkeypatch.setattr(engine, "DASK_CONNECT_TIMEOUT", 1)  # build() runs the engine with the default
    with pytest.raises(RegkbError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        build(
            manifest,
            corpus=corpus,
            db_path=tmp_path / "kb.db",
            cache_dir=tmp_path / "c",
            engine="dask",
            scheduler="tcp://127.0.0.1:9",
        )
    assert not (tmp_path / "kb.db").exists()
