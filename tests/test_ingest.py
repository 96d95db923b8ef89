"""Ingest on generated inputs: PDFs made with reportlab (headers, footers, page numbers,
superscripts, hyphenation, footnotes, two columns), text in several encodings, HTML, Markdown."""
from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from pipeline.ingest import read_document
from pipeline.models import ManifestEntry
from pipeline.segment import segment

LETTER = ManifestEntry(id="synthetic-letter", title="Synthetic letter", doc_type="comment", author_org="ITI",
                       date="2025-01-07", language="en", url="", file="x")

BODY = [
    "The Information Technology Industry Council (a SYNTHETIC letter) writes about the",
    "final rule. Models trained on more than 10",  # the exponent is drawn after this, then BODY_AFTER
    "the country caps in the rule would harm all of the exporters of the most advanced new comput-",
    "ing integrated circuits in every allied market of the United States.",
]
FOOTNOTES = ["See 90 FR 4544 (Jan. 15, 2025).", "BIS, press release of January 13, 2025.",
             "Synthetic: no such survey exists."]
BODY_AFTER = " operations would need a license under this rule, and"


def _draw_page(c: canvas.Canvas, number: int, total: int, footnote: bool) -> None:
    c.setFont("Helvetica", 9)
    c.drawString(72, 760, f"Information Technology Industry Council — comments on RIN 0694-AJ90 — Page {number} of {total}")
    c.drawCentredString(306, 40, str(number))
    y = 700
    c.setFont("Times-Roman", 12)
    c.drawString(108, y, BODY[0])
    y -= 16
    c.drawString(72, y, BODY[1])
    width = c.stringWidth(BODY[1], "Times-Roman", 12)
    c.setFont("Times-Roman", 7)
    exponent = "26" if number == 1 else "25"
    c.drawString(72 + width + 0.5, y + 5, exponent)
    c.setFont("Times-Roman", 12)
    c.drawString(72 + width + 1 + c.stringWidth(exponent, "Times-Roman", 7), y, BODY_AFTER)
    y -= 16
    c.drawString(72, y, BODY[2])
    y -= 16
    c.drawString(72, y, BODY[3])
    y -= 16
    c.drawString(108, y, f"This is the second paragraph on page {number}; it ends here.")
    if footnote:
        c.setFont("Times-Roman", 8)
        c.drawString(72, 80, f"{number} {FOOTNOTES[number - 1]}")
    c.showPage()


def make_pdf(path: Path, pages: int = 3) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    for number in range(1, pages + 1):
        _draw_page(c, number, pages, footnote=True)
    c.save()
    return path


def test_pdf_margins_superscripts_hyphens_and_footnotes(tmp_path):
    raw = read_document(make_pdf(tmp_path / "letter.pdf"))
    assert [p.label for p in raw.pages] == ["1", "2", "3"]
    text = "\n".join(line.text for page in raw.pages for line in page.lines)
    assert "Page 1 of 3" not in text and "Information Technology Industry Council —" not in text
    paragraphs = segment(raw, LETTER)
    body = [p for p in paragraphs if p.kind == "body"]
    assert "more than 10^26 operations" in body[0].text
    assert "more than 10^25 operations" in [p for p in body if p.page == 2][0].text
    assert "advanced new computing integrated circuits" in body[0].text
    assert body[1].text == "This is the second paragraph on page 1; it ends here."
    notes = [p for p in paragraphs if p.kind == "footnote"]
    assert [n.text for n in notes] == [f"{n} {FOOTNOTES[n - 1]}" for n in (1, 2, 3)]
    assert all(p.pin_cite.endswith(f"at {p.page}") for p in paragraphs)


def test_two_column_pages_read_column_by_column(tmp_path):
    path = tmp_path / "columns.pdf"
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Times-Roman", 10)
    for row in range(20):
        c.drawString(50, 700 - row * 14, f"left column line {row:02d} text")
        c.drawString(330, 700 - row * 14, f"right column line {row:02d} text")
    c.save()
    lines = [line.text for line in read_document(path).pages[0].lines]
    assert lines[:20] == [f"left column line {row:02d} text" for row in range(20)]
    assert lines[20:] == [f"right column line {row:02d} text" for row in range(20)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030", "latin-1"])
def test_text_encodings(tmp_path, encoding):
    content = "Comments on the AI Diffusion rule\n\nWe oppose the caps, says the café owner.\n"
    if encoding == "gb18030":
        content = "人工智能扩散出口管制框架\n\n信息技术产业委员会反对该规则。这项规则将对美国公司施加任意限制。\n"
    path = tmp_path / f"letter-{encoding}.txt"
    path.write_bytes(content.encode(encoding))
    raw = read_document(path)
    assert [line.text for line in raw.pages[0].lines] == [l for l in content.split("\n") if l]


def test_html_drops_scripts_and_navigation(tmp_path):
    path = tmp_path / "statement.html"
    path.write_text("""<!doctype html><html><head><title>t</title><script>var x = "NOT TEXT";</script></head>
    <body><nav>Home | About</nav><article><h1>SIA Statement</h1><p>We are <b>concerned</b> by the
    rule.<p>Second paragraph<ul><li>first point</li><li>second point</li></ul>
    <table><tr><th>Tier</th><th>Cap</th></tr><tr><td>Tier 2</td><td>50,000</td></tr></table>
    </article><footer>© SIA</footer></body></html>""", encoding="utf-8")
    lines = read_document(path).pages[0].lines
    texts = [line.text for line in lines]
    assert texts == ["SIA Statement", "We are concerned by the rule.", "Second paragraph", "first point",
                     "second point", "Tier | Cap", "Tier 2 | 50,000"]
    assert lines[0].bold and lines[-1].kind == "table"


def test_markdown_headings_and_printed_page_numbers(tmp_path):
    path = tmp_path / "letter.md"
    path.write_text("# Export controls\n\nWe ask BIS to withdraw the rule and publish a proposed rule.\n\n1\n\n"
                    "## Country caps\n\nThe caps harm allies.\n\n2\n", encoding="utf-8")
    paragraphs = segment(read_document(path), LETTER)
    assert [(p.section_path, p.page_label) for p in paragraphs] == [
        ("Export controls", "1"), ("Export controls", "1"), ("Country caps", "2"), ("Country caps", "2")]
