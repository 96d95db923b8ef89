"""Bad input, end to end: `read_document` names the file and the problem, `build` reports it and
still builds the other documents, `regkb build` exits 1 with `regkb: error: <path>: <problem>` on
stderr, and an existing knowledge base never loses what it had.

Every fixture is generated here (reportlab, pypdf, Pillow); nothing binary is committed. The
user-files folder and the default cache are pointed into tmp_path so no test sees or leaves files
in the project tree.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

import pipeline.build as build_mod
import pipeline.manifest as manifest_mod
from pipeline.build import build
from pipeline.cli import main
from pipeline.ingest import read_document
from pipeline.manifest import load_manifest, locate
from pipeline.models import DocumentError, ManifestEntry, RawDocument, RegkbError

# ----------------------------------------------------------------------------- generated fixtures

GOOD_LETTER = (
    "SYNTHETIC TEST LETTER (not a real document)\n\n"
    "Re: Framework for Artificial Intelligence Diffusion — comments of the Test Org\n\n"
    "The Test Org welcomes the opportunity to comment on the interim final rule. Our members "
    "build data centres on three continents and export advanced computing items every week.\n\n"
    "Country caps\n\n"
    "We object to the country caps in the interim final rule. A cap on total processing "
    "performance per country punishes allies that have signed every assurance asked of them.\n\n"
    "Model weights\n\n"
    "The controls on closed model weights should follow the compute threshold of 10^26 "
    "operations, not a moving target. Café owners in Zürich will not train frontier models.\n\n"
    "Respectfully submitted, the Test Org.\n"
)
GOOD_PHRASE = "country caps in the interim final rule"
PDF_PHRASE = "synthetic memo about validated end users"


def make_pdf(path: Path, pages: int = 3) -> Path:
    """A small, valid, text-bearing PDF (uncompressed so it is comfortably over 3000 bytes)."""
    pdf = canvas.Canvas(str(path), pageCompression=0)
    for page in range(pages):
        y = 770
        for line in range(20):
            y -= 20
            pdf.drawString(72, y, f"Line {line} of the memo discusses license exceptions and data centre security.")
            if line == 8:  # in the body, not the margins (which are lifted as running headers)
                y -= 20
                pdf.drawString(72, y, f"On page {page + 1} this is a {PDF_PHRASE}.")
        pdf.showPage()
    pdf.save()
    return path


def write_truncated_pdf(path: Path, scratch: Path) -> None:
    whole = make_pdf(scratch / f"whole-{path.stem}.pdf").read_bytes()
    assert len(whole) > 3000, "the generated PDF must be longer than the cut"
    path.write_bytes(whole[:3000])


def write_garbage_pdf(path: Path, scratch: Path) -> None:
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)


def write_encrypted_pdf(path: Path, scratch: Path) -> None:
    writer = PdfWriter()
    for page in PdfReader(make_pdf(scratch / f"plain-{path.stem}.pdf", pages=1)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner-secret")
    with open(path, "wb") as out:
        writer.write(out)
    assert PdfReader(path).is_encrypted


def write_empty(path: Path, scratch: Path) -> None:
    path.write_bytes(b"")


def write_image_pdf(path: Path, scratch: Path) -> None:
    Image.new("RGB", (600, 800), "white").save(path, "PDF")


def write_good_letter(path: Path, scratch: Path) -> None:
    path.write_text(GOOD_LETTER, encoding="utf-8")


def write_undecodable(path: Path, scratch: Path) -> None:
    path.write_bytes(bytes(range(256)) * 20)


# name: (file name in the corpus, writer or None for "not there", pinned sha256, expected problem)
BAD_CASES = {
    "missing": ("absent-letter.txt", None, "", "file not found"),
    "truncated-pdf": ("truncated.pdf", write_truncated_pdf, "", "corrupt or truncated PDF"),
    "garbage-pdf": ("garbage.pdf", write_garbage_pdf, "", "corrupt or truncated PDF"),
    "encrypted-pdf": ("locked.pdf", write_encrypted_pdf, "", "encrypted"),
    "empty-file": ("empty.txt", write_empty, "", "empty file"),
    "image-only-pdf": ("scan.pdf", write_image_pdf, "", "OCR"),
    "wrong-hash": ("pinned.txt", write_good_letter, "0" * 64, "sha256 mismatch"),
    "undecodable-text": ("binary.txt", write_undecodable, "", "undecodable"),
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A corpus folder, and the user-files folder and default cache moved into tmp_path."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setattr(manifest_mod, "USER_FILES", tmp_path / "user-files")
    monkeypatch.setattr(build_mod, "DEFAULT_CACHE", tmp_path / "default-cache")
    monkeypatch.delenv("REGKB_CORPUS", raising=False)
    monkeypatch.delenv("REGKB_MANIFEST", raising=False)
    return tmp_path


def write_manifest(path: Path, documents: list[dict]) -> Path:
    lines = []
    for doc in documents:
        entry = {"title": doc["id"], "doc_type": "comment", "author_org": "Test Org", "date": "2025-01-07",
                 "language": "en", "url": "", **doc}
        lines.append("[[document]]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in entry.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def bad_manifest(root: Path, case: str) -> tuple[Path, Path]:
    """good letter + one bad document; returns (manifest, bad file path as located in the corpus)."""
    name, writer, sha, _ = BAD_CASES[case]
    corpus = root / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    if writer is not None:
        writer(corpus / name, root)
    bad = {"id": "bad-doc", "file": name}
    if sha:
        bad["sha256"] = sha
    manifest = write_manifest(root / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"}, bad])
    return manifest, (corpus / name).resolve()


def rows(db: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def paragraph_rows(db: Path, doc_id: str) -> list[tuple]:
    return rows(db, "select * from paragraphs where doc_id = ? order by ordinal", (doc_id,))


def paragraph_texts(db: Path, doc_id: str) -> list[str]:
    return [r[0] for r in rows(db, "select text from paragraphs where doc_id = ? order by ordinal", (doc_id,))]


def assert_good_doc_built(db: Path) -> None:
    texts = paragraph_texts(db, "good-doc")
    assert len(texts) >= 3, texts
    assert any(GOOD_PHRASE in text for text in texts), texts
    assert any("Zürich" in text for text in texts), "UTF-8 text must survive the build"
    assert rows(db, "select status from documents where id = 'good-doc'") == [("built",)]


def cli_build(root: Path, manifest: Path, *extra: str):
    runner = CliRunner()  # click >= 8.2: stdout and stderr are captured separately
    return runner.invoke(main, ["build", "--manifest", str(manifest), "--corpus", str(root / "corpus"),
                                "--db", str(root / "kb.db"), *extra])


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- read_document


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_read_document_names_file_and_problem(tmp_path, case):
    name, writer, sha, problem = BAD_CASES[case]
    path = tmp_path / name
    if writer is not None:
        writer(path, tmp_path)
    with pytest.raises(DocumentError) as caught:
        read_document(path, expected_sha256=sha)
    error = caught.value
    assert isinstance(error, RegkbError)
    assert error.path == str(path)
    assert problem in error.problem
    assert str(error) == f"{path}: {error.problem}"


def test_read_document_wrong_hash_reports_both_hashes(tmp_path):
    path = tmp_path / "letter.txt"
    write_good_letter(path, tmp_path)
    actual = file_digest(path)
    with pytest.raises(DocumentError) as caught:
        read_document(path, expected_sha256="0" * 64)
    assert "0" * 64 in caught.value.problem and actual in caught.value.problem
    # the right hash (in either case) is accepted
    assert read_document(path, expected_sha256=actual.upper()).sha256 == actual


def test_read_document_accepts_the_good_fixtures(tmp_path):
    """The bad fixtures are bad for the reason tested, not because the generators are broken."""
    letter = tmp_path / "letter.txt"
    write_good_letter(letter, tmp_path)
    text = read_document(letter)
    assert isinstance(text, RawDocument) and text.media == "text"
    assert any(GOOD_PHRASE in line.text for page in text.pages for line in page.lines)
    pdf = read_document(make_pdf(tmp_path / "memo.pdf"))
    assert pdf.media == "pdf" and len(pdf.pages) == 3
    assert any(PDF_PHRASE in line.text for page in pdf.pages for line in page.lines)


def test_read_document_undecodable_is_not_sniffed_as_another_format(tmp_path):
    # a .dat name: media is sniffed from the bytes, which are neither PDF nor HTML
    path = tmp_path / "blob.dat"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(DocumentError, match="undecodable"):
        read_document(path)


def test_read_document_directory_and_blank_text(tmp_path):
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(DocumentError, match="not a regular file"):
        read_document(folder)
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\n\t\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="no text found"):
        read_document(blank)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=20_000), flips=st.lists(
    st.tuples(st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=255)), max_size=8))
def test_read_document_damaged_pdf_never_escapes_as_another_error(tmp_path_factory, cut, flips):
    """Any truncation or byte damage of a valid PDF reads or raises DocumentError, nothing else."""
    folder = tmp_path_factory.mktemp("fuzz")
    data = bytearray(make_pdf(folder / "whole.pdf", pages=1).read_bytes())
    data = data[:cut % len(data) or 1]
    for position, value in flips:
        data[position % len(data)] = value
    path = folder / "damaged.pdf"
    path.write_bytes(bytes(data))
    try:
        read_document(path)
    except DocumentError as error:
        assert error.path == str(path) and error.problem


# ----------------------------------------------------------------------------- manifest-level errors


def test_duplicate_ids_rejected_by_the_manifest(env):
    manifest = write_manifest(env / "manifest.toml", [{"id": "dup-doc", "file": "a.txt"},
                                                     {"id": "dup-doc", "file": "b.txt"}])
    with pytest.raises(RegkbError, match="duplicate document id 'dup-doc'"):
        load_manifest(manifest)
    with pytest.raises(RegkbError, match="duplicate document id"):
        build(manifest, env / "corpus", env / "kb.db", cache_dir=env / "cache")
    assert not (env / "kb.db").exists(), "a manifest error must not create a knowledge base"


def test_locate_refuses_a_path_climbing_out_of_the_corpus(env):
    (env / "outside.txt").write_text(GOOD_LETTER, encoding="utf-8")  # it exists: refusal, not "missing"
    entry = ManifestEntry(id="escape", title="t", doc_type="comment", author_org="o", date="2025-01-07",
                          language="en", url="", file="../outside.txt")
    with pytest.raises(RegkbError, match="outside the corpus"):
        locate(entry, [env / "corpus"])
    nested = ManifestEntry(**{**entry.__dict__, "file": "sub/../../outside.txt"})
    with pytest.raises(RegkbError, match="outside the corpus"):
        locate(nested, [env / "corpus"])


# ----------------------------------------------------------------------------- library build


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_build_reports_the_bad_document_and_builds_the_rest(env, case):
    manifest, bad_path = bad_manifest(env, case)
    db = env / "kb.db"
    report = build(manifest, env / "corpus", db, cache_dir=env / "cache")
    problem = BAD_CASES[case][3]
    assert not report.ok
    assert [p["doc_id"] for p in report.problems] == ["bad-doc"]
    found = report.problems[0]
    assert set(found) == {"doc_id", "file", "problem"}
    assert problem in found["problem"]
    assert bad_path.name in found["problem"] and bad_path.name in found["file"]
    assert report.built == ["good-doc"]
    assert report.missing == [] and report.carried_over == []
    assert_good_doc_built(db)
    assert paragraph_texts(db, "bad-doc") == []
    assert rows(db, "select id from documents where id = 'bad-doc'") == []
    recorded = rows(db, "select doc_id, problem from build_problems")
    assert recorded == [("bad-doc", found["problem"])]
    # a failed build is never "up to date": the next one tries again
    assert rows(db, "select value from build_info where key = 'fingerprint'") == [("",)]
    again = build(manifest, env / "corpus", db, cache_dir=env / "cache")
    assert not again.up_to_date and [p["doc_id"] for p in again.problems] == ["bad-doc"]
    assert again.cached == ["good-doc"]


def test_build_refuses_a_file_outside_the_corpus(env):
    corpus = env / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (env / "outside.txt").write_text("SECRET OUTSIDE TEXT that must never be read.\n", encoding="utf-8")
    manifest = write_manifest(env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"},
                                                     {"id": "escape", "file": "../outside.txt"}])
    report = build(manifest, corpus, env / "kb.db", cache_dir=env / "cache")
    assert [(p["doc_id"], p["file"]) for p in report.problems] == [("escape", "../outside.txt")]
    assert "outside the corpus" in report.problems[0]["problem"]
    assert "../outside.txt" in report.problems[0]["problem"]
    assert_good_doc_built(env / "kb.db")
    assert rows(env / "kb.db", "select count(*) from paragraphs where text like '%SECRET OUTSIDE%'") == [(0,)]


def test_missing_file_with_a_url_is_fetchable_not_an_error(env):
    """Contrast with case 1: a missing file that has a url is listed as missing, the build is ok."""
    corpus = env / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    manifest = write_manifest(env / "manifest.toml", [
        {"id": "good-doc", "file": "good-letter.txt"},
        {"id": "later-doc", "file": "later.pdf", "url": "https://example.org/later.pdf"}])
    report = build(manifest, corpus, env / "kb.db", cache_dir=env / "cache")
    assert report.ok and [e.id for e in report.missing] == ["later-doc"]
    assert_good_doc_built(env / "kb.db")


# ----------------------------------------------------------------------------- CLI


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("regkb: error: ")]


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_cli_build_exits_1_naming_file_and_problem(env, case):
    manifest, bad_path = bad_manifest(env, case)
    result = cli_build(env, manifest)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped exception
    assert "Traceback" not in result.output
    problem = BAD_CASES[case][3]
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    if case == "missing":
        assert lines[0] == f"regkb: error: {bad_path.name}: file not found"
    else:
        assert lines[0].startswith(f"regkb: error: {bad_path}: "), lines[0]
        assert problem in lines[0]
    assert "regkb: error" not in result.stdout  # errors go to stderr only
    assert result.stdout.startswith(f"built {env / 'kb.db'}")
    assert_good_doc_built(env / "kb.db")


def test_cli_build_json_report_and_stderr(env):
    manifest, bad_path = bad_manifest(env, "encrypted-pdf")
    result = cli_build(env, manifest, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["built"] == ["good-doc"]
    assert [p["doc_id"] for p in report["problems"]] == ["bad-doc"]
    assert "encrypted" in report["problems"][0]["problem"]
    assert error_lines(result) == [f"regkb: error: {report['problems'][0]['problem']}"]
    assert str(bad_path) in result.stderr
    assert_good_doc_built(env / "kb.db")


def test_cli_build_duplicate_ids_exit_1(env):
    (env / "corpus" / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    manifest = write_manifest(env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"},
                                                     {"id": "good-doc", "file": "good-letter.txt"}])
    result = cli_build(env, manifest)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert error_lines(result) == [f"regkb: error: {manifest}: duplicate document id 'good-doc'"]
    assert result.stdout == ""
    assert not (env / "kb.db").exists()


def test_cli_build_path_outside_corpus_exit_1(env):
    corpus = env / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (env / "outside.txt").write_text("SECRET OUTSIDE TEXT that must never be read.\n", encoding="utf-8")
    manifest = write_manifest(env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"},
                                                     {"id": "escape", "file": "../outside.txt"}])
    result = cli_build(env, manifest)
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and "../outside.txt" in lines[0] and "outside the corpus" in lines[0]
    assert_good_doc_built(env / "kb.db")
    assert rows(env / "kb.db", "select count(*) from paragraphs where text like '%SECRET OUTSIDE%'") == [(0,)]


# ----------------------------------------------------------------------------- existing knowledge base


def two_good_documents(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    make_pdf(corpus / "memo.pdf")
    return write_manifest(root / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"},
                                                   {"id": "memo-doc", "file": "memo.pdf"}])


BREAKAGES = {
    "truncated": lambda path, root: write_truncated_pdf(path, root),
    "encrypted": lambda path, root: write_encrypted_pdf(path, root),
    "emptied": lambda path, root: write_empty(path, root),
    "deleted": lambda path, root: path.unlink(),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_cli_existing_kb_keeps_a_document_that_now_fails(env, breakage):
    manifest = two_good_documents(env)
    db = env / "kb.db"
    first = cli_build(env, manifest)
    assert first.exit_code == 0, first.output
    memo_before = paragraph_rows(db, "memo-doc")
    good_before = paragraph_rows(db, "good-doc")
    assert memo_before and any(PDF_PHRASE in str(row) for row in memo_before)
    assert good_before

    BREAKAGES[breakage](env / "corpus" / "memo.pdf", env)
    result = cli_build(env, manifest)
    assert result.exit_code == 1, result.output
    lines = error_lines(result)
    assert len(lines) == 1 and "memo.pdf" in lines[0], result.stderr
    assert "kept: memo-doc from the previous build" in result.stdout

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        status = conn.execute("select status from documents where id = 'memo-doc'").fetchone()[0]
        # the carried-over paragraphs are still found by full-text search
        found = conn.execute("select count(*) from paragraphs_fts where paragraphs_fts match 'validated'").fetchone()
    finally:
        conn.close()
    assert status.startswith("stale")
    assert paragraph_rows(db, "memo-doc") == memo_before
    assert paragraph_rows(db, "good-doc") == good_before
    assert found[0] >= 1
    assert [p.name for p in env.iterdir() if p.name.startswith(".kb.db")] == [], "no temp files left behind"


def test_library_carry_over_survives_repeated_failures_and_recovers(env):
    manifest = two_good_documents(env)
    db = env / "kb.db"
    cache = env / "cache"
    assert build(manifest, env / "corpus", db, cache_dir=cache).ok
    memo_before = paragraph_rows(db, "memo-doc")
    memo_pdf = (env / "corpus" / "memo.pdf").read_bytes()

    write_truncated_pdf(env / "corpus" / "memo.pdf", env)
    for attempt in range(2):  # the second failed build carries over from the first one's stale copy
        report = build(manifest, env / "corpus", db, cache_dir=cache)
        assert not report.ok, attempt
        assert report.carried_over == ["memo-doc"], attempt
        assert "corrupt or truncated PDF" in report.problems[0]["problem"]
        assert paragraph_rows(db, "memo-doc") == memo_before, attempt
        assert rows(db, "select status from documents where id = 'memo-doc'")[0][0].startswith("stale")
        assert paragraph_texts(db, "good-doc")

    (env / "corpus" / "memo.pdf").write_bytes(memo_pdf)  # fixed: back to built, no longer stale
    report = build(manifest, env / "corpus", db, cache_dir=cache)
    assert report.ok and report.carried_over == []
    assert rows(db, "select status from documents where id = 'memo-doc'") == [("built",)]
    assert paragraph_rows(db, "memo-doc") == memo_before


BROKEN_MANIFESTS = {
    "duplicate-id": ('[[document]]\nid = "good-doc"\ntitle = "a"\ndoc_type = "comment"\nauthor_org = "o"\n'
                     'date = "2025-01-07"\nlanguage = "en"\nurl = ""\nfile = "good-letter.txt"\n\n' * 2,
                     "duplicate document id"),
    "invalid-toml": ("[[document]\nid = ", "not valid TOML"),
    "bad-doc-type": ('[[document]]\nid = "good-doc"\ntitle = "a"\ndoc_type = "memo"\nauthor_org = "o"\n'
                     'date = "2025-01-07"\nlanguage = "en"\nurl = ""\nfile = "good-letter.txt"\n',
                     "doc_type must be one of"),
}


@pytest.mark.parametrize("broken", sorted(BROKEN_MANIFESTS))
def test_a_build_that_raises_leaves_the_db_byte_identical(env, broken):
    manifest = two_good_documents(env)
    db = env / "kb.db"
    assert cli_build(env, manifest).exit_code == 0
    digest = file_digest(db)
    listing = sorted(p.name for p in env.iterdir())

    text, message = BROKEN_MANIFESTS[broken]
    manifest.write_text(text, encoding="utf-8")
    result = cli_build(env, manifest)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = error_lines(result)
    assert len(lines) == 1 and message in lines[0] and str(manifest) in lines[0]
    assert file_digest(db) == digest
    with pytest.raises(RegkbError, match=message):
        build(manifest, env / "corpus", db, cache_dir=env / "cache")
    assert file_digest(db) == digest
    assert sorted(p.name for p in env.iterdir()) == listing
    assert paragraph_texts(db, "memo-doc") and paragraph_texts(db, "good-doc")


def test_manifest_entry_without_url_is_a_clean_error_or_builds(env):
    """`url` is not in manifest.REQUIRED, so an entry without it must either build (url taken as
    empty) or be refused with a RegkbError naming the manifest; never an escaped TypeError."""
    (env / "corpus" / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    manifest = env / "manifest.toml"
    manifest.write_text('[[document]]\nid = "good-doc"\ntitle = "a"\ndoc_type = "comment"\nauthor_org = "o"\n'
                        'date = "2025-01-07"\nlanguage = "en"\nfile = "good-letter.txt"\n', encoding="utf-8")
    try:
        entries = load_manifest(manifest)
    except RegkbError as error:
        assert str(manifest) in str(error) and "url" in str(error)
    else:
        assert [e.url for e in entries] == [""]
    result = cli_build(env, manifest)
    assert isinstance(result.exception, SystemExit) or result.exception is None, repr(result.exception)
    if result.exit_code == 0:
        assert_good_doc_built(env / "kb.db")
    else:
        assert result.exit_code == 1 and len(error_lines(result)) == 1
