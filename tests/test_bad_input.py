"""Bad input, end to end: `read_document` names the file and the problem, `build` reports it and
still builds the other documents, `regkb build` exits 1 with `regkb: error: <path>: <problem>` on
stderr, and an existing knowledge base never loses what it had.

Every BAD_CASES entry runs through three tests: `test_read_document_names_file_and_problem` (the
error names file and problem), `test_build_reports_the_bad_document_and_builds_the_rest` (reported,
the good document built, a failed build is never "up to date") and
`test_cli_build_exits_1_naming_file_and_problem` (exit 1, one error line on stderr). Every BREAKAGES
entry breaks one document of an existing knowledge base:
`test_cli_existing_kb_keeps_a_document_that_now_fails` (exit 1, its rows kept as "stale" and still
searchable, the other document's rows unchanged).

Catalogue: each kind of bad input, what regkb does, and the tests that hold it.

- truncated PDF: "corrupt or truncated PDF (…)". BAD_CASES truncated-pdf; BREAKAGES truncated-pdf;
  test_read_document_damaged_pdf_never_escapes_as_another_error;
  test_library_carry_over_survives_repeated_failures_and_recovers.
- corrupt PDF: "corrupt or truncated PDF (…)". BAD_CASES garbage-pdf; the damaged-PDF property test.
- encrypted PDF: "encrypted PDF: it needs a password to be read". BAD_CASES encrypted-pdf; BREAKAGES
  encrypted-pdf; test_cli_build_json_report_and_stderr.
- PDF with no text layer: "PDF has no text layer (…): it needs OCR first". BAD_CASES image-only-pdf;
  BREAKAGES scanned-pdf.
- zero-byte file: "empty file (0 bytes)"; blank text "no text found". BAD_CASES empty-file; BREAKAGES
  emptied-pdf; test_read_document_directory_and_blank_text.
- huge file: refused before it is read, "file too large (N bytes; the limit for a text file is
  16,777,216)"; PDFs up to 200 MiB (see ingest.MAX_TEXT_BYTES). BAD_CASES oversized-text,
  oversized-pdf; BREAKAGES oversized-text, oversized-pdf;
  test_a_200_mb_text_file_is_refused_without_being_read (< 1 s, peak memory < 64 MB);
  test_cli_build_with_a_200_mb_text_file_builds_the_rest.
- HTML with scripts and broken markup: read as a browser shows it (no script, style, comment,
  CDATA, nav, footer; unclosed tags; 5,000 nested tags); nothing left: "no text found in this html
  file"; Markdown markup leaves no empty line. test_read_document_html_keeps_what_a_browser_shows;
  test_build_html_with_scripts_and_broken_markup; BAD_CASES script-only-html;
  test_build_markdown_whose_markup_leaves_empty_lines;
  test_read_document_any_text_file_reads_or_raises_document_error.
- mixed encodings: UTF-8 (BOM), UTF-16 with and without BOM, UTF-32, GB18030, Latin-1, Windows-1252,
  UTF-8 with a Latin-1 paragraph: the paragraphs of the UTF-8 text; "undecodable text: …" otherwise.
  test_read_document_decodes_every_encoding_to_the_same_lines;
  test_build_reads_a_corpus_of_mixed_encodings; BAD_CASES truncated-utf16, undecodable-text;
  BREAKAGES truncated-utf16, undecodable-text; the any-text-file property test.
- wrong hash in manifest: "sha256 mismatch: manifest says …, file has …". BAD_CASES wrong-hash;
  BREAKAGES wrong-hash; test_read_document_wrong_hash_reports_both_hashes.
- path outside the corpus: "… points outside the corpus folders", never read.
  test_locate_refuses_a_path_climbing_out_of_the_corpus;
  test_build_refuses_a_file_outside_the_corpus[*]; test_cli_build_path_outside_corpus_exit_1[*];
  BREAKAGES outside-the-corpus.
- duplicate document ids: the manifest is refused as a whole (which of two documents is meant cannot
  be guessed): "<manifest>: duplicate document id 'x'", exit 1, nothing written, the knowledge base
  byte-identical. test_duplicate_ids_rejected_by_the_manifest;
  test_duplicate_id_across_two_manifests_leaves_the_kb_byte_identical;
  test_cli_build_duplicate_ids_exit_1; test_a_build_that_raises_leaves_the_db_byte_identical[duplicate-id].

Every fixture is generated here (reportlab, pypdf, Pillow); nothing binary is committed. The
user-files folder and the default cache are pointed into tmp_path so no test sees or leaves files
in the project tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
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
from pipeline.ingest import MAX_FILE_BYTES, MAX_TEXT_BYTES, read_document
from pipeline.manifest import load_manifest, locate
from pipeline.models import DocumentError, ManifestEntry, RawDocument, RegkbError
from tests.conftest import PROJECT_ROOT

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


def write_sparse(path: Path, head: bytes, size: int) -> None:
    """A file of `size` bytes that starts with `head`; the rest is a hole, so no disk is used."""
    with open(path, "wb") as out:
        out.write(head)
        out.truncate(size)


def write_oversized_text(path: Path, scratch: Path) -> None:
    write_sparse(path, GOOD_LETTER.encode(), MAX_TEXT_BYTES + 1)


def write_oversized_pdf(path: Path, scratch: Path) -> None:
    write_sparse(path, make_pdf(scratch / f"small-{path.stem}.pdf").read_bytes(), MAX_FILE_BYTES + 1)


def write_truncated_utf16(path: Path, scratch: Path) -> None:
    path.write_bytes(GOOD_LETTER.encode("utf-16")[:-1])  # a BOM, then half of the last character


def write_script_only_html(path: Path, scratch: Path) -> None:
    path.write_text(
        "<!doctype html><html><head><script>document.write('<p>made by script</p>')</script></head>"
        "<body><noscript><p>Enable JavaScript.</p></noscript><script>render()</script></body></html>",
        encoding="utf-8",
    )


def write_fifo(path: Path, scratch: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)  # opened, it blocks until a writer comes: it must never be opened


def write_huge_paragraph(path: Path, scratch: Path) -> None:
    from tests.hostile import long_paragraph

    path.write_bytes(long_paragraph(1_260_000)[1])  # spaCy's E088 stopped the whole build


def write_deflate_bomb(path: Path, scratch: Path) -> None:
    from tests.hostile import pdf_bomb

    path.write_bytes(pdf_bomb(128 << 20)[1])  # 130 KB inflating to 128 MiB: past the 64 MiB of one stream


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
    "oversized-text": ("dump.txt", write_oversized_text, "", "file too large"),
    "oversized-pdf": ("archive.pdf", write_oversized_pdf, "", "file too large"),
    "truncated-utf16": ("letter-utf16.txt", write_truncated_utf16, "", "undecodable text: bad utf-16"),
    "script-only-html": ("widget.html", write_script_only_html, "", "no text found in this html file"),
    # issue 16
    "fifo": ("pipe.txt", write_fifo, "", "not a regular file (a named pipe (FIFO))"),
    "huge-paragraph": ("dump.txt", write_huge_paragraph, "", "line 3 is 1,260,000 characters long"),
    "deflate-bomb": ("bomb.pdf", write_deflate_bomb, "", "a compressed stream inflates to more than 67,108,864 bytes"),
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
        entry = {
            "title": doc["id"],
            "doc_type": "comment",
            "author_org": "Test Org",
            "date": "2025-01-07",
            "language": "en",
            "url": "",
            **doc,
        }
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
    return runner.invoke(
        main,
        ["build", "--manifest", str(manifest), "--corpus", str(root / "corpus"), "--db", str(root / "kb.db"), *extra],
    )


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


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=1, max_value=20_000),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=255)), max_size=8
    ),
)
def test_read_document_damaged_pdf_never_escapes_as_another_error(tmp_path_factory, cut, flips):
    """Any truncation or byte damage of a valid PDF reads or raises DocumentError, nothing else."""
    folder = tmp_path_factory.mktemp("fuzz")
    data = bytearray(make_pdf(folder / "whole.pdf", pages=1).read_bytes())
    data = data[: cut % len(data) or 1]
    for position, value in flips:
        data[position % len(data)] = value
    path = folder / "damaged.pdf"
    path.write_bytes(bytes(data))
    try:
        read_document(path)
    except DocumentError as error:
        assert error.path == str(path) and error.problem


# ----------------------------------------------------------------------------- encodings, hostile HTML, huge files

CHINESE_LETTER = (
    "人工智能扩散出口管制框架\n\n信息技术产业委员会反对该规则。这项规则将对美国公司施加任意限制。\n\n"
    "美国信息技术产业委员会（ITI）表示，出口管制应当与盟友协调。\n"
)
# what a Latin-1 file can hold: GOOD_LETTER without its em dash
LATIN_LETTER = GOOD_LETTER.replace("—", "-") + "\nA naïve señor in Besançon agrees.\n"
CP1252_LETTER = GOOD_LETTER + "\n“Smart quotes” – and a €5 fee – are Windows-1252.\n"
# name: (the text, its bytes on disk)
ENCODED_LETTERS = {
    "utf-8-bom": (GOOD_LETTER, GOOD_LETTER.encode("utf-8-sig")),
    "utf-16-bom": (GOOD_LETTER, GOOD_LETTER.encode("utf-16")),
    "utf-16-le-no-bom": (GOOD_LETTER, GOOD_LETTER.encode("utf-16-le")),
    "utf-16-be-no-bom": (GOOD_LETTER, GOOD_LETTER.encode("utf-16-be")),
    "utf-16-le-no-bom-chinese": (CHINESE_LETTER, CHINESE_LETTER.encode("utf-16-le")),
    "utf-32-bom": (GOOD_LETTER, GOOD_LETTER.encode("utf-32")),
    "gb18030": (CHINESE_LETTER, CHINESE_LETTER.encode("gb18030")),
    "latin-1": (LATIN_LETTER, LATIN_LETTER.encode("latin-1")),
    "windows-1252": (CP1252_LETTER, CP1252_LETTER.encode("cp1252")),
    # one paragraph pasted from an old editor into a UTF-8 file
    "utf-8-with-latin-1-paragraph": (
        GOOD_LETTER + "\nSecond café in Zürich, naïve.\n",
        GOOD_LETTER.encode() + "\nSecond café in Zürich, naïve.\n".encode("latin-1"),
    ),
    "utf-8-with-stray-nul": (GOOD_LETTER, GOOD_LETTER.replace("Café", "Caf\x00é").encode()),
}


def lines_of(path: Path) -> list[str]:
    return [line.text for page in read_document(path).pages for line in page.lines]


@pytest.mark.parametrize("name", sorted(ENCODED_LETTERS))
def test_read_document_decodes_every_encoding_to_the_same_lines(tmp_path, name):
    text, data = ENCODED_LETTERS[name]
    reference = tmp_path / "reference.txt"
    reference.write_text(text, encoding="utf-8")
    encoded = tmp_path / f"{name}.txt"
    encoded.write_bytes(data)
    assert lines_of(encoded) == lines_of(reference)


def test_build_reads_a_corpus_of_mixed_encodings(env):
    """One build over letters in every encoding: each has exactly the paragraphs of its UTF-8 twin."""
    corpus = env / "corpus"
    documents = []
    for name, (text, data) in ENCODED_LETTERS.items():
        (corpus / f"{name}.txt").write_bytes(data)
        (corpus / f"{name}-utf8.txt").write_text(text, encoding="utf-8")
        language = "zh" if text == CHINESE_LETTER else "en"
        documents += [
            {"id": name, "file": f"{name}.txt", "language": language},
            {"id": f"{name}-utf8", "file": f"{name}-utf8.txt", "language": language},
        ]
    manifest = write_manifest(env / "manifest.toml", documents)
    result = cli_build(env, manifest)
    assert result.exit_code == 0, result.output
    db = env / "kb.db"
    for name in ENCODED_LETTERS:
        assert paragraph_texts(db, name) == paragraph_texts(db, f"{name}-utf8"), name
        assert paragraph_texts(db, name), name
    assert not [text for (text,) in rows(db, "select text from paragraphs") if "\x00" in text]


# every piece of text a browser would not show carries one of these words
HIDDEN = (
    "SCRIPT",
    "STYLE",
    "COMMENT",
    "ATTRIBUTE",
    "CDATA",
    "INSTRUCTION",
    "NOSCRIPT",
    "TEMPLATE",
    "IFRAME",
    "NAV",
    "FOOTER",
    "TITLE",
)
HOSTILE_HTML = (
    "<!doctype html><html><head><title>TITLE TEXT</title>"
    "<script>document.write('<p>SCRIPT TEXT</p>'); var end = '</div>';</script>"
    "<style>p::after { content: 'STYLE TEXT' }</style></head>\n"
    "<body><nav><p>NAV TEXT</p></nav><article><h1>Comments of the Test Org</h1>\n"
    "<p>We object to the <b>country caps<!-- COMMENT TEXT --></b> in the interim final rule.\n"
    "<p>A paragraph never closed<ul><li>first point<li>second point</ul>\n"
    "<div><span>Unclosed span <i>and italic <b>and bold</div>\n"
    "<p onclick='alert(\"ATTRIBUTE TEXT\")'>Attributes are not text.</p>\n"
    "<p>" + "<b>" * 5000 + "Words nested five thousand tags deep." + "</b>" * 5000 + "</p>\n"
    "<![CDATA[ CDATA TEXT ]]><?php echo 'INSTRUCTION TEXT'; ?>\n"
    "<p>Caf&eacute; in Z&uuml;rich &amp; &#x4E2D;&#25991; stay.</p>\n"
    "<noscript><p>NOSCRIPT TEXT</p></noscript><template><p>TEMPLATE TEXT</p></template>"
    "<iframe><p>IFRAME TEXT</p></iframe>\n"
    "</article><footer><p>FOOTER TEXT</p></footer><script>var late = 'SCRIPT TEXT';</script>"
)
HOSTILE_HTML_LINES = [
    "Comments of the Test Org",
    "We object to the country caps in the interim final rule.",
    "A paragraph never closed",
    "first point",
    "second point",
    "Unclosed span and italic and bold",
    "Attributes are not text.",
    "Words nested five thousand tags deep.",
    "Café in Zürich & 中文 stay.",
]


def test_read_document_html_keeps_what_a_browser_shows(tmp_path):
    path = tmp_path / "statement.html"
    path.write_text(HOSTILE_HTML, encoding="utf-8")
    assert lines_of(path) == HOSTILE_HTML_LINES


def test_build_html_with_scripts_and_broken_markup(env):
    (env / "corpus" / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (env / "corpus" / "statement.html").write_text(HOSTILE_HTML, encoding="utf-8")
    manifest = write_manifest(
        env / "manifest.toml",
        [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "html-doc", "file": "statement.html"}],
    )
    result = cli_build(env, manifest)
    assert result.exit_code == 0, result.output
    texts = paragraph_texts(env / "kb.db", "html-doc")
    assert " ".join(texts) == " ".join(HOSTILE_HTML_LINES)
    assert not [word for word in HIDDEN for text in texts if word in text]
    assert_good_doc_built(env / "kb.db")


def test_build_markdown_whose_markup_leaves_empty_lines(env):
    """An image without alt text or an empty heading is no paragraph (an empty one failed the whole
    build: store refuses empty paragraphs)."""
    (env / "corpus" / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (env / "corpus" / "post.md").write_text(
        "# Our view\n\n![](chart.png)\n\n# #\n\n[ ](https://example.org)\n\n"
        "We object to the **country caps** in the rule.\n",
        encoding="utf-8",
    )
    manifest = write_manifest(
        env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "post", "file": "post.md"}]
    )
    result = cli_build(env, manifest)
    assert result.exit_code == 0, result.output
    assert paragraph_texts(env / "kb.db", "post") == ["Our view", "We object to the country caps in the rule."]


# pieces of markup, text and damage that hostile or broken text files are made of
MARKUP_PIECES = [
    "<p>",
    "</p>",
    "<b>",
    "</b>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<div>",
    "<li>",
    "<h1>",
    "<table><tr><td>",
    "&amp;",
    "&#0;",
    "&#xD800;",
    "<![CDATA[",
    "]]>",
    "# ",
    "## ",
    "- ",
    "* ",
    "**",
    "![](x.png)",
    "[](y)",
    "2",
    "Page 3 of 9",
    "\f",
    "word",
    "Café",
    "中文",
    "\x00",
    "\n",
    "\n\n",
    " ",
    "<",
    ">",
    "'",
    '"',
    "\ufeff",
    "\udc80",
]


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    suffix=st.sampled_from([".txt", ".html", ".md", ".dat"]),
    data=st.one_of(
        st.binary(min_size=1, max_size=3000),
        st.tuples(
            st.lists(st.sampled_from(MARKUP_PIECES), min_size=1, max_size=60).map("".join),
            st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030", "cp1252"]),
        ).map(lambda pair: pair[0].encode(pair[1], errors="surrogateescape" if pair[1] == "utf-8" else "replace")),
    ),
)
def test_read_document_any_text_file_reads_or_raises_document_error(tmp_path_factory, suffix, data):
    """Whatever the bytes of a text, HTML or Markdown file: DocumentError naming the file, or lines of
    text with neither NULs nor empty lines (segment would make empty paragraphs of them)."""
    path = tmp_path_factory.mktemp("fuzz") / f"document{suffix}"
    path.write_bytes(data)
    try:
        raw = read_document(path)
    except DocumentError as error:
        assert error.path == str(path) and error.problem
        return
    texts = [line.text for page in raw.pages for line in page.lines]
    assert texts and all(text.strip() for text in texts)
    assert not [text for text in texts if "\x00" in text]


@pytest.fixture(scope="module")
def huge_text(tmp_path_factory) -> Path:
    """200 MB of real letter text (not a sparse file): what a careless export of a docket looks like."""
    path = tmp_path_factory.mktemp("huge") / "docket-dump.txt"
    block = (GOOD_LETTER * 400).encode()
    with open(path, "wb") as out:
        for _ in range(200_000_000 // len(block) + 1):
            out.write(block)
    assert path.stat().st_size >= 200_000_000
    return path


def test_a_200_mb_text_file_is_refused_without_being_read(huge_text):
    """In a fresh interpreter: the refusal takes well under a second and the process never holds
    the file (peak memory stays near the interpreter's own, ~20 MB, far below 200 MB). VmHWM, not
    ru_maxrss: Linux carries the forking pytest's peak across exec into ru_maxrss."""
    probe = (
        "import sys, time\n"
        "from pipeline.ingest import read_document\n"
        "from pipeline.models import DocumentError\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    read_document(sys.argv[1])\n"
        "except DocumentError as error:\n"
        "    print(error)\n"
        "print(time.perf_counter() - started)\n"
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(huge_text)], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    message, seconds, peak_kib = result.stdout.splitlines()
    assert message.startswith(f"{huge_text}: file too large ({huge_text.stat().st_size:,} bytes")
    assert f"{MAX_TEXT_BYTES:,}" in message
    assert float(seconds) < 1.0
    assert int(peak_kib) < 64 * 1024


def test_cli_build_with_a_200_mb_text_file_builds_the_rest(env, huge_text):
    (env / "corpus" / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    os.link(huge_text, env / "corpus" / huge_text.name)  # a second name, not a copy of 200 MB
    manifest = write_manifest(
        env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "dump", "file": huge_text.name}]
    )
    result = cli_build(env, manifest)
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"regkb: error: {env / 'corpus' / huge_text.name}: file too large "
        f"({huge_text.stat().st_size:,} bytes; the limit for a text file is {MAX_TEXT_BYTES:,})"
    ]
    assert_good_doc_built(env / "kb.db")
    assert paragraph_texts(env / "kb.db", "dump") == []


# ----------------------------------------------------------------------------- manifest-level errors


def test_duplicate_ids_rejected_by_the_manifest(env):
    manifest = write_manifest(
        env / "manifest.toml", [{"id": "dup-doc", "file": "a.txt"}, {"id": "dup-doc", "file": "b.txt"}]
    )
    with pytest.raises(RegkbError, match="duplicate document id 'dup-doc'"):
        load_manifest(manifest)
    with pytest.raises(RegkbError, match="duplicate document id"):
        build(manifest, env / "corpus", env / "kb.db", cache_dir=env / "cache")
    assert not (env / "kb.db").exists(), "a manifest error must not create a knowledge base"


def test_manifest_file_name_with_a_nul_is_refused(env):
    """TOML can spell a NUL ("\\u0000"); no file system can hold one, and Path.exists() raised ValueError."""
    manifest = write_manifest(env / "manifest.toml", [{"id": "nul-doc", "file": "letter\x00.txt"}])
    with pytest.raises(RegkbError, match="nul-doc.*NUL character"):
        load_manifest(manifest)
    result = cli_build(env, manifest)
    assert result.exit_code == 1 and "NUL character" in result.stderr and "Traceback" not in result.output


def test_duplicate_id_across_two_manifests_leaves_the_kb_byte_identical(env):
    """A folder of letters travelling with its own manifest reuses an id of the main one."""
    manifest = two_good_documents(env)
    assert cli_build(env, manifest).exit_code == 0
    digest = file_digest(env / "kb.db")
    letters = env / "letters"
    letters.mkdir()
    (letters / "copy.txt").write_text(GOOD_LETTER, encoding="utf-8")
    second = write_manifest(letters / "manifest.toml", [{"id": "good-doc", "file": "copy.txt"}])
    result = cli_build(env, manifest, "--manifest", str(second))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert error_lines(result) == [
        f"regkb: error: {second}: duplicate document id 'good-doc' (already listed in another manifest)"
    ]
    assert file_digest(env / "kb.db") == digest


def test_locate_refuses_a_path_climbing_out_of_the_corpus(env):
    (env / "outside.txt").write_text(GOOD_LETTER, encoding="utf-8")  # it exists: refusal, not "missing"
    entry = ManifestEntry(
        id="escape",
        title="t",
        doc_type="comment",
        author_org="o",
        date="2025-01-07",
        language="en",
        url="",
        file="../outside.txt",
    )
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


def link_out_of_the_corpus(root: Path) -> str:
    (root / "corpus" / "letter-link.txt").symlink_to(root / "outside.txt")
    return "letter-link.txt"


# how a manifest entry can name a file outside the corpus folder: relative climbs, an absolute path,
# and a link inside the folder that leads out of it
ESCAPES = {
    "parent": lambda root: "../outside.txt",
    "nested-parent": lambda root: "sub/../../outside.txt",
    "absolute": lambda root: str(root / "outside.txt"),
    "symlink": link_out_of_the_corpus,
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_build_refuses_a_file_outside_the_corpus(env, escape):
    corpus = env / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (env / "outside.txt").write_text("SECRET OUTSIDE TEXT that must never be read.\n", encoding="utf-8")
    outside = ESCAPES[escape](env)
    manifest = write_manifest(
        env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "escape", "file": outside}]
    )
    report = build(manifest, corpus, env / "kb.db", cache_dir=env / "cache")
    assert [(p["doc_id"], p["file"]) for p in report.problems] == [("escape", outside)]
    assert "outside the corpus" in report.problems[0]["problem"]
    assert outside in report.problems[0]["problem"]
    assert_good_doc_built(env / "kb.db")
    assert rows(env / "kb.db", "select count(*) from paragraphs where text like '%SECRET OUTSIDE%'") == [(0,)]


def test_missing_file_with_a_url_is_fetchable_not_an_error(env):
    """Contrast with case 1: a missing file that has a url is listed as missing, the build is ok."""
    corpus = env / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    manifest = write_manifest(
        env / "manifest.toml",
        [
            {"id": "good-doc", "file": "good-letter.txt"},
            {"id": "later-doc", "file": "later.pdf", "url": "https://example.org/later.pdf"},
        ],
    )
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
    manifest = write_manifest(
        env / "manifest.toml",
        [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "good-doc", "file": "good-letter.txt"}],
    )
    result = cli_build(env, manifest)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert error_lines(result) == [f"regkb: error: {manifest}: duplicate document id 'good-doc'"]
    assert result.stdout == ""
    assert not (env / "kb.db").exists()


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_cli_build_path_outside_corpus_exit_1(env, escape):
    corpus = env / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (env / "outside.txt").write_text("SECRET OUTSIDE TEXT that must never be read.\n", encoding="utf-8")
    outside = ESCAPES[escape](env)
    manifest = write_manifest(
        env / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "escape", "file": outside}]
    )
    result = cli_build(env, manifest)
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and outside in lines[0] and "outside the corpus" in lines[0]
    assert_good_doc_built(env / "kb.db")
    assert rows(env / "kb.db", "select count(*) from paragraphs where text like '%SECRET OUTSIDE%'") == [(0,)]


# ----------------------------------------------------------------------------- existing knowledge base


def two_good_documents(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "good-letter.txt").write_text(GOOD_LETTER, encoding="utf-8")
    make_pdf(corpus / "memo.pdf")
    return write_manifest(
        root / "manifest.toml", [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "memo-doc", "file": "memo.pdf"}]
    )


def pin_a_wrong_hash(path: Path, root: Path) -> None:
    write_manifest(
        root / "manifest.toml",
        [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "memo-doc", "file": "memo.pdf", "sha256": "0" * 64}],
    )


def move_out_of_the_corpus(path: Path, root: Path) -> None:
    path.rename(root / path.name)
    write_manifest(
        root / "manifest.toml",
        [{"id": "good-doc", "file": "good-letter.txt"}, {"id": "memo-doc", "file": f"../{path.name}"}],
    )


# name: (document that breaks, its file, how it breaks, the problem reported)
BREAKAGES = {
    "truncated-pdf": ("memo-doc", "memo.pdf", write_truncated_pdf, "corrupt or truncated PDF"),
    "encrypted-pdf": ("memo-doc", "memo.pdf", write_encrypted_pdf, "encrypted"),
    "scanned-pdf": ("memo-doc", "memo.pdf", write_image_pdf, "OCR"),
    "oversized-pdf": ("memo-doc", "memo.pdf", write_oversized_pdf, "file too large"),
    "emptied-pdf": ("memo-doc", "memo.pdf", write_empty, "empty file"),
    "deleted-pdf": ("memo-doc", "memo.pdf", lambda path, root: path.unlink(), "file not found"),
    "wrong-hash": ("memo-doc", "memo.pdf", pin_a_wrong_hash, "sha256 mismatch"),
    "outside-the-corpus": ("memo-doc", "memo.pdf", move_out_of_the_corpus, "outside the corpus"),
    "oversized-text": ("good-doc", "good-letter.txt", write_oversized_text, "file too large"),
    "undecodable-text": ("good-doc", "good-letter.txt", write_undecodable, "undecodable"),
    "truncated-utf16": ("good-doc", "good-letter.txt", write_truncated_utf16, "bad utf-16"),
    "replaced-by-a-fifo": ("good-doc", "good-letter.txt", write_fifo, "not a regular file"),
    "deflate-bomb": ("memo-doc", "memo.pdf", write_deflate_bomb, "decompression bomb"),
}
# a word each document's paragraphs hold, to show full-text search still finds the kept copy
SEARCH_WORD = {"memo-doc": "validated", "good-doc": "caps"}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_cli_existing_kb_keeps_a_document_that_now_fails(env, breakage):
    doc_id, file_name, breaks, problem = BREAKAGES[breakage]
    manifest = two_good_documents(env)
    db = env / "kb.db"
    first = cli_build(env, manifest)
    assert first.exit_code == 0, first.output
    before = {doc: paragraph_rows(db, doc) for doc in SEARCH_WORD}
    assert any(PDF_PHRASE in str(row) for row in before["memo-doc"])
    assert any(GOOD_PHRASE in str(row) for row in before["good-doc"])

    breaks(env / "corpus" / file_name, env)
    result = cli_build(env, manifest)
    assert result.exit_code == 1, result.output
    lines = error_lines(result)
    assert len(lines) == 1 and file_name in lines[0] and problem in lines[0], result.stderr
    assert f"kept: {doc_id} from the previous build" in result.stdout

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        status = conn.execute("select status from documents where id = ?", (doc_id,)).fetchone()[0]
        # the carried-over paragraphs are still found by full-text search
        found = conn.execute(
            "select count(*) from paragraphs_fts f join paragraphs p on p.rowid = f.rowid "
            "where paragraphs_fts match ? and p.doc_id = ?",
            (SEARCH_WORD[doc_id], doc_id),
        ).fetchone()
    finally:
        conn.close()
    assert status.startswith("stale")
    assert {doc: paragraph_rows(db, doc) for doc in SEARCH_WORD} == before
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
    "duplicate-id": (
        '[[document]]\nid = "good-doc"\ntitle = "a"\ndoc_type = "comment"\nauthor_org = "o"\n'
        'date = "2025-01-07"\nlanguage = "en"\nurl = ""\nfile = "good-letter.txt"\n\n' * 2,
        "duplicate document id",
    ),
    "invalid-toml": ("[[document]\nid = ", "not valid TOML"),
    "bad-doc-type": (
        '[[document]]\nid = "good-doc"\ntitle = "a"\ndoc_type = "memo"\nauthor_org = "o"\n'
        'date = "2025-01-07"\nlanguage = "en"\nurl = ""\nfile = "good-letter.txt"\n',
        "doc_type must be one of",
    ),
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
    manifest.write_text(
        '[[document]]\nid = "good-doc"\ntitle = "a"\ndoc_type = "comment"\nauthor_org = "o"\n'
        'date = "2025-01-07"\nlanguage = "en"\nfile = "good-letter.txt"\n',
        encoding="utf-8",
    )
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
