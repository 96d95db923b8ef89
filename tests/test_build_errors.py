"""Bad input through `regkb build`: each problem is named with its file, the other documents
still build, the exit status is 1, and the existing knowledge base loses nothing."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from pipeline.cli import main
from tests.conftest import write_manifest

GOOD_LETTER = ("SYNTHETIC TEST LETTER (not a real document).\n\nExport controls\n\n"
               "We object to the country caps in the interim final rule.\n")


def small_pdf(path):
    c = canvas.Canvas(str(path))
    c.drawString(72, 700, "SYNTHETIC PDF letter about the AI diffusion rule and its country caps.")
    c.save()
    return path


def encrypted_pdf(path, tmp):
    writer = PdfWriter()
    for page in PdfReader(small_pdf(tmp / "plain.pdf")).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(path, "wb") as out:
        writer.write(out)


BAD_INPUTS = {
    "missing": (None, "file not found"),
    "corrupt.pdf": (lambda p, t: p.write_bytes(small_pdf(t / "whole.pdf").read_bytes()[:400]), "corrupt or truncated PDF"),
    "encrypted.pdf": (encrypted_pdf, "encrypted PDF"),
    "empty.txt": (lambda p, t: p.write_bytes(b""), "empty file"),
    "scan.pdf": (lambda p, t: Image.new("RGB", (300, 400), "white").save(p, "PDF"), "needs OCR"),
    "undecodable.txt": (lambda p, t: p.write_bytes(bytes(range(256)) * 8), "undecodable text"),
    "wrong-hash.txt": (lambda p, t: p.write_text(GOOD_LETTER), "sha256 mismatch"),
}


def run_build(root, manifest):
    runner = CliRunner()
    return runner.invoke(main, ["build", "--manifest", str(manifest), "--corpus", str(root / "corpus"),
                                "--db", str(root / "kb.db")], catch_exceptions=False)


def paragraphs_of(db, doc_id):
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("select text from paragraphs where doc_id = ? order by ordinal", (doc_id,))]


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_document_is_named_and_the_rest_builds(tmp_path, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD_LETTER, encoding="utf-8")
    make, problem = BAD_INPUTS[name]
    bad_file = "absent.txt" if make is None else name
    if make:
        make(corpus / name, tmp_path)
    bad = {"id": "bad-doc", "file": bad_file}
    if name == "wrong-hash.txt":
        bad["sha256"] = "0" * 64
    manifest = write_manifest(tmp_path / "manifest.toml", [{"id": "good-doc", "file": "good.txt"}, bad])
    result = run_build(tmp_path, manifest)
    assert result.exit_code == 1
    assert problem in result.output and bad_file in result.output
    assert "Traceback" not in result.output
    assert any("country caps" in text for text in paragraphs_of(tmp_path / "kb.db", "good-doc"))


def test_existing_knowledge_base_keeps_a_document_that_now_fails(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD_LETTER, encoding="utf-8")
    small_pdf(corpus / "letter.pdf")
    manifest = write_manifest(tmp_path / "manifest.toml", [{"id": "good-doc", "file": "good.txt"},
                                                           {"id": "pdf-doc", "file": "letter.pdf"}])
    assert run_build(tmp_path, manifest).exit_code == 0
    before = paragraphs_of(tmp_path / "kb.db", "pdf-doc")
    assert before
    (corpus / "letter.pdf").write_bytes(b"%PDF-1.4\n garbage")
    result = run_build(tmp_path, manifest)
    assert result.exit_code == 1 and "letter.pdf" in result.output
    assert paragraphs_of(tmp_path / "kb.db", "pdf-doc") == before
    with sqlite3.connect(tmp_path / "kb.db") as conn:
        status = conn.execute("select status from documents where id = 'pdf-doc'").fetchone()[0]
    assert status.startswith("stale")
    assert paragraphs_of(tmp_path / "kb.db", "good-doc")


def test_a_broken_manifest_leaves_the_database_byte_identical(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD_LETTER, encoding="utf-8")
    manifest = write_manifest(tmp_path / "manifest.toml", [{"id": "good-doc", "file": "good.txt"}])
    assert run_build(tmp_path, manifest).exit_code == 0
    digest = hashlib.sha256((tmp_path / "kb.db").read_bytes()).hexdigest()
    for broken in ([{"id": "good-doc", "file": "good.txt"}, {"id": "good-doc", "file": "good.txt"}],
                   [{"id": "good-doc", "file": "good.txt"}, {"id": "escape", "file": "../outside.txt"}]):
        write_manifest(manifest, broken)
        result = run_build(tmp_path, manifest)
        assert result.exit_code == 1
        assert "duplicate document id" in result.output or "outside the corpus" in result.output
        if "duplicate" in result.output:
            assert hashlib.sha256((tmp_path / "kb.db").read_bytes()).hexdigest() == digest
    assert paragraphs_of(tmp_path / "kb.db", "good-doc")
