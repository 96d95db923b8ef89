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

LETTER = ManifestEntry(
    id="synthetic-letter",
    title="Synthetic letter",
    doc_type="comment",
    author_org="ITI",
    date="2025-01-07",
    language="en",
    url="",
    file="x",
)

BODY = [
    "The Information Technology Industry Council (a SYNTHETIC letter) writes about the",
    "final rule. Models trained on more than 10",  # the exponent is drawn after this, then BODY_AFTER
    "the country caps in the rule would harm all of the exporters of the most advanced new comput-",
    "ing integrated circuits in every allied market of the United States.",
]
FOOTNOTES = [
    "See 90 FR 4544 (Jan. 15, 2025).",
    "BIS, press release of January 13, 2025.",
    "Synthetic: no such survey exists.",
]
BODY_AFTER = " operations would need a license under this rule, and"


def _draw_page(c: canvas.Canvas, number: int, total: int, footnote: bool) -> None:
    c.setFont("Helvetica", 9)
    c.drawString(
        72, 760, f"Information Technology Industry Council — comments on RIN 0694-AJ90 — Page {number} of {total}"
    )
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
    assert [line.text for line in raw.pages[0].lines] == [ln for ln in content.split("\n") if ln]


def test_html_drops_scripts_and_navigation(tmp_path):
    path = tmp_path / "statement.html"
    path.write_text(
        """<!doctype html><html><head><title>t</title><script>var x = "NOT TEXT";</script></head>
    <body><nav>Home | About</nav><article><h1>SIA Statement</h1><p>We are <b>concerned</b> by the
    rule.<p>Second paragraph<ul><li>first point</li><li>second point</li></ul>
    <table><tr><th>Tier</th><th>Cap</th></tr><tr><td>Tier 2</td><td>50,000</td></tr></table>
    </article><footer>© SIA</footer></body></html>""",
        encoding="utf-8",
    )
    lines = read_document(path).pages[0].lines
    texts = [line.text for line in lines]
    assert texts == [
        "SIA Statement",
        "We are concerned by the rule.",
        "Second paragraph",
        "first point",
        "second point",
        "Tier | Cap",
        "Tier 2 | 50,000",
    ]
    assert lines[0].bold and lines[-1].kind == "table"


def test_markdown_headings_and_printed_page_numbers(tmp_path):
    path = tmp_path / "letter.md"
    path.write_text(
        "# Export controls\n\nWe ask BIS to withdraw the rule and publish a proposed rule.\n\n1\n\n"
        "## Country caps\n\nThe caps harm allies.\n\n2\n",
        encoding="utf-8",
    )
    paragraphs = segment(read_document(path), LETTER)
    assert [(p.section_path, p.page_label) for p in paragraphs] == [
        ("Export controls", "1"),
        ("Export controls", "1"),
        ("Country caps", "2"),
        ("Country caps", "2"),
    ]


# ----------------------------------------------------------------------------- text page furniture


@pytest.mark.parametrize("number", ["{n}", "— {n} —", "- {n} -", "Page {n}", "Page {n} of 3"])
def test_a_paragraph_runs_on_past_a_printed_page_number_set_apart_by_blank_lines(tmp_path, number):
    page = lambda n: "\n" + " " * 30 + number.format(n=n) + "\n\n"  # noqa: E731
    path = tmp_path / "statement.txt"
    path.write_text(
        "Model weights\n\n"
        "Controlling the weights of closed frontier models sets a precedent that will be\n"
        "hard to contain. Policymakers should drop the controls on model weights until there\n"
        + page(1)
        + "is evidence that they can be enforced without harming American developers.\n\n"
        "Compliance costs fall on start-ups and mid-sized cloud firms, who can least afford\n"
        "them.\n" + page(2) + "To keep the United States ahead, rescind the rule.\n" + page(3),
        encoding="utf-8",
    )
    raw = read_document(path)
    assert [p.label for p in raw.pages] == ["1", "2", "3"]
    paragraphs = [p for p in segment(raw, LETTER) if p.kind == "body"]
    assert [p.text.split()[0] for p in paragraphs] == ["Controlling", "Compliance", "To"]
    assert paragraphs[0].text.endswith(
        "until there is evidence that they can be enforced without harming American developers."
    )
    assert paragraphs[0].page == 1 and paragraphs[2].page == 3  # a paragraph keeps the page it starts on


# ----------------------------------------------------------------------------- PDF letterhead and notes


def _letterhead_body_and_notes_pdf(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Helvetica", 9)
    c.drawString(
        72, 740, "700 K Street NW, Suite 600 · Washington, DC 20001 · Telephone (202) 737-8888 · www.example.org"
    )
    c.setFont("Helvetica", 8)
    c.drawString(72, 729, "Printed on recycled paper")
    c.setFont("Times-Roman", 11)
    body = [
        "Section 742.6(b)(10) limits the total processing performance that may be licensed to",
        "most countries to a fixed allocation through 2027, which treats computing power as a",
        "scarce commodity when the strength of American industry is its ability to sell to every",
        "trustworthy customer in every market where it competes. A data center operator in",
        "Malaysia or Brazil cannot plan a multi-year investment when it does not know whether",
        "its country's quota will be exhausted by others first, and the Department should drop",
        "the caps in favour of end-user screening and the existing licensing process.",
    ]
    for row, text in enumerate(body):
        c.drawString(72, 690 - row * 15, text)
    c.setFont("Times-Roman", 8)
    c.drawString(72, 100, "1 By our arithmetic, an allocation of 790,000,000 TPP is roughly the output of fifty")
    c.drawString(80, 90, "thousand of today's most advanced accelerators.")  # a hanging indent
    c.drawString(72, 80, "2 See 90 FR 4544.")
    c.save()
    return path


def test_pdf_lines_of_different_type_sizes_are_different_blocks(tmp_path):
    paragraphs = segment(read_document(_letterhead_body_and_notes_pdf(tmp_path / "letter.pdf")), LETTER)
    # a 9 pt address line and an 8 pt line right below it at the usual spacing
    assert [p.text for p in paragraphs[:2]] == [
        "700 K Street NW, Suite 600 · Washington, DC 20001 · Telephone (202) 737-8888 · www.example.org",
        "Printed on recycled paper",
    ]


def test_pdf_a_footnote_keeps_its_wrapped_line_with_a_hanging_indent(tmp_path):
    paragraphs = segment(read_document(_letterhead_body_and_notes_pdf(tmp_path / "letter.pdf")), LETTER)
    notes = [p.text for p in paragraphs if p.kind == "footnote"]
    # only a note number starts a note, not the indent of its second line
    assert notes == [
        "1 By our arithmetic, an allocation of 790,000,000 TPP is roughly the output of fifty "
        "thousand of today's most advanced accelerators.",
        "2 See 90 FR 4544.",
    ]


def test_pdf_a_line_of_mixed_type_sizes_stays_in_its_paragraph(tmp_path):
    # a real rule has a paragraph whose last line is set partly in 11 pt among 12 pt lines
    path = tmp_path / "rule.pdf"
    c = canvas.Canvas(str(path), pagesize=letter)
    lines = [
        "The VEU must perform ongoing monitoring, evaluation, and end user due diligence of all",
        "the vetting requirements and cooperate with the auditing of records and facilities. Failure to",
    ]
    c.setFont("Times-Roman", 12)
    for row, text in enumerate(lines):
        c.drawString(72, 700 - row * 15, text)
    c.drawString(72, 670, "comply ")
    c.setFont("Times-Roman", 11)
    c.drawString(
        72 + c.stringWidth("comply ", "Times-Roman", 12), 670, "with BIS may result in revocation of VEU status."
    )
    c.setFont("Times-Roman", 12)
    c.drawString(108, 640, "A second paragraph starts with an indent and ends here.")
    c.save()
    paragraphs = segment(read_document(path), LETTER)
    assert len(paragraphs) == 2
    assert paragraphs[0].text.endswith("Failure to comply with BIS may result in revocation of VEU status.")


# ----------------------------------------------------------------------------- HTML and Markdown


def test_html_keeps_the_articles_own_header_and_marks_list_items(tmp_path):
    path = tmp_path / "blog.html"
    path.write_text(
        """<!doctype html><html><body>
    <header id="masthead"><div class="brand">Company Blog</div><nav><a href="/">Home</a></nav></header>
    <article><header class="entry-header"><h1>Statement on the Rule</h1>
      <div class="entry-meta">January 13, 2025 by Avery Placeholder</div></header>
      <div class="entry-content"><h2>What we oppose</h2>
      <ul><li>Caps on countries will not make anyone safer.</li><li>Tiers insult allies.</li></ul></div>
      <footer class="entry-footer"><p>Posted in Public Policy</p></footer>
    </article><footer id="colophon"><p>Copyright 2025</p></footer></body></html>""",
        encoding="utf-8",
    )
    lines = read_document(path).pages[0].lines
    assert [(line.text, line.kind) for line in lines] == [
        ("Statement on the Rule", "body"),
        ("January 13, 2025 by Avery Placeholder", "body"),
        ("What we oppose", "body"),
        ("Caps on countries will not make anyone safer.", "list"),
        ("Tiers insult allies.", "list"),
        ("Posted in Public Policy", "body"),
    ]
    paragraphs = segment(read_document(path), LETTER)
    assert [(p.kind, p.section_path) for p in paragraphs[:2]] == [
        ("heading", "Statement on the Rule"),
        ("body", "Statement on the Rule"),
    ]  # a byline
    assert [p.kind for p in paragraphs[3:5]] == ["list", "list"]


def test_markdown_lists_and_emphasis_lose_their_markup(tmp_path):
    path = tmp_path / "blog.md"
    path.write_text(
        "# The Rule Gets Security **Backwards**\n\n*By Morgan Placeholder*\n\n"
        "In short, the rule:\n\n"
        "- sorts the world into *three* tiers;\n"
        "- sets limits on computing power for everyone in the middle of the\n"
        "  list of countries;\n"
        "1. adds a small-shipment exception, see [§ 740.29](https://www.ecfr.gov/x).\n\n"
        "Commerce should accept __ISO 27001__ instead. snake_case and 2 * 3 stay.\n\n"
        "*Tags: export controls*\n",
        encoding="utf-8",
    )
    got = [(p.kind, p.section_path, p.text) for p in segment(read_document(path), LETTER)]
    title = "The Rule Gets Security Backwards"
    assert got == [
        ("heading", title, title),
        ("body", title, "By Morgan Placeholder"),
        ("body", title, "In short, the rule:"),
        ("list", title, "sorts the world into three tiers;"),
        ("list", title, "sets limits on computing power for everyone in the middle of the list of countries;"),
        ("list", title, "1. adds a small-shipment exception, see § 740.29."),
        ("body", title, "Commerce should accept ISO 27001 instead. snake_case and 2 * 3 stay."),
        ("body", title, "Tags: export controls"),  # an italic note in Markdown with # headings is no heading
    ]


# ----------------------------------------------------------------------------- text-only pages

RULE_PDF = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "2025-00636-public-inspection.pdf"


def _text_only_pdf(path: Path) -> Path:
    """Page 1 draws nothing but text, some of it hidden (invisible, white in RGB and in CMYK, off the page),
    some set sideways and a superscript; page 2 says the same over a filled box, so it is read through
    pdfplumber's objects."""
    c = canvas.Canvas(str(path), pagesize=letter)
    for boxed in (False, True):
        if boxed:
            c.setFillColorRGB(0.9, 0.9, 0.9)
            c.rect(60, 560, 300, 30, fill=1)
            c.setFillColorRGB(0, 0, 0)
        c.setFont("Times-Roman", 12)
        c.drawString(72, 700, "Visible words on a page of text only, about the export of advanced chips.")
        c.drawString(72, 684, "Models trained on more than 10")
        c.setFont("Times-Roman", 7)
        c.drawString(72 + c.stringWidth("Models trained on more than 10", "Times-Roman", 12) + 0.5, 689, "26")
        c.setFont("Times-Roman", 12)
        c.saveState()
        text = c.beginText(72, 668)
        text.setTextRenderMode(3)
        text.textLine("INVISIBLE words for the text layer only")
        c.drawText(text)
        c.restoreState()
        c.setFillColorRGB(1, 1, 1)
        c.drawString(72, 652, "WHITE words on the white page")
        c.setFillColorCMYK(0, 0, 0, 0)
        c.drawString(72, 636, "CMYKWHITE words on the white page")
        c.setFillColorRGB(0, 0, 0)
        c.drawString(-700, 620, "OFFPAGE words left of the page")
        c.saveState()
        c.translate(560, 200)
        c.rotate(90)
        c.drawString(0, 0, "Sideways words read upward")
        c.restoreState()
        c.showPage()
    c.save()
    return path


def _plumbers_chars(page) -> list[dict]:
    from pipeline.ingest.pdf import CHAR_KEYS

    return [{key: char[key] for key in CHAR_KEYS if key in char} for char in page.chars]


def test_text_only_pages_give_the_characters_pdfplumber_gives(tmp_path):
    """A page that draws only text is read from pdfminer's layout straight into the dicts pdfplumber makes
    (the keys regkb reads): the same values, character for character, on the rule's real pages and on a
    generated page with hidden, sideways and superscript text; a page that draws anything else is left
    to pdfplumber."""
    import pdfplumber

    from pipeline.ingest.guards import start_inflate_budget
    from pipeline.ingest.pdf import _char_dicts, _text_only

    start_inflate_budget()
    with pdfplumber.open(RULE_PDF) as pdf:
        pages = pdf.pages[:48]
        text_only = [(page, _text_only(page)) for page in pages]
        fast = [(page, chars) for page, chars in text_only if chars is not None]
        assert 20 <= len(fast) < len(pages)  # both kinds of page are among them
        for page, chars in fast:
            assert _char_dicts(page, chars) == _plumbers_chars(page), page.page_number
        for page, chars in text_only:
            if chars is None:
                assert page.lines or page.rects or page.curves or page.images, page.page_number
    from pypdf import PdfWriter
    from pypdf.generic import RectangleObject

    path = _text_only_pdf(tmp_path / "text-only.pdf")
    shifted = PdfWriter(clone_from=path)  # a media box that does not start at (0, 0)
    shifted.pages[0].mediabox = RectangleObject([30, 40, 600, 780])
    shifted.write(tmp_path / "shifted.pdf")
    for name in ("text-only.pdf", "shifted.pdf"):
        with pdfplumber.open(tmp_path / name) as pdf:
            first, boxed = pdf.pages
            chars = _text_only(first)
            assert chars is not None and _text_only(boxed) is None
            assert _char_dicts(first, chars) == _plumbers_chars(first), name
            assert {char["render_mode"] for char in _char_dicts(first, chars)} == {0, 3}


def test_a_text_only_page_reads_as_it_does_through_pdfplumber(tmp_path, monkeypatch):
    """read_document on the generated pages, then with every page sent through pdfplumber's objects: the
    same lines, and the hidden words are left out on both pages."""
    import pipeline.ingest.pdf as pdf_mod

    path = _text_only_pdf(tmp_path / "text-only.pdf")

    def lines_of(raw):
        return [
            [
                (
                    line.text,
                    line.x0,
                    line.x1,
                    line.top,
                    line.bottom,
                    line.size,
                    line.bold,
                    line.starts_block,
                    line.after_short,
                    line.kind,
                )
                for line in page.lines
            ]
            for page in raw.pages
        ]

    fast = read_document(path)
    monkeypatch.setattr(pdf_mod, "_text_only", lambda page: None)
    assert lines_of(read_document(path)) == lines_of(fast)
    for page in fast.pages:
        texts = [line.text for line in page.lines]
        assert texts[:2] == [
            "Visible words on a page of text only, about the export of advanced chips.",
            "Models trained on more than 10^26",
        ]
        assert texts[-1] == "Sideways words read upward"
        assert not any(word in " ".join(texts) for word in ("INVISIBLE", "WHITE", "OFFPAGE"))
