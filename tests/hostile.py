"""Generators of hostile (and of unlucky but ordinary) inputs, shared by the scaling and limits tests and
by bench/bench_scaling.py. Each generator takes a size and returns (file name, bytes); the same size
always gives the same bytes. Every text is SYNTHETIC."""

from __future__ import annotations

import io
import struct
import zlib

WORDS = (
    "export controls on advanced computing items should follow the rule of law and the "
    "interests of allies who build data centres under strict security requirements while "
    "licence exceptions keep trade open for trusted partners"
).split()


def _words(count: int, start: int = 0) -> list[str]:
    return [WORDS[(start + i * 7) % len(WORDS)] for i in range(count)]


def _fill(words: list[str], width: int) -> list[str]:
    """Greedy line filling, every line as close to `width` as the words allow."""
    lines, current = [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def wrapped_block(lines: int) -> tuple[str, bytes]:
    """`lines` hard-wrapped lines of about 56 characters, no blank line and no sentence end: one
    paragraph as a PDF's text dump gives it (1,500 lines are 84 KB)."""
    text = _fill(_words(lines * 9), 56)[:lines]
    return f"wrapped-{lines}.txt", ("SYNTHETIC\n" + "\n".join(text) + "\n").encode()


def wrapped_paragraphs(lines: int) -> tuple[str, bytes]:
    """`lines` hard-wrapped lines with no blank line, in paragraphs of eight lines whose last line
    stops short after a full stop: PDF-extracted comments of a real docket."""
    out = ["SYNTHETIC comments"]
    paragraph = 0
    while len(out) < lines:
        body = _fill(_words(70, paragraph), 60)[:7]
        out.extend(body)
        out.append(f"Paragraph {paragraph} ends here.")
        paragraph += 1
    return f"paragraphs-{lines}.txt", ("\n".join(out[:lines]) + "\n").encode()


def markdown_table(rows: int) -> tuple[str, bytes]:
    """A Markdown (GFM) table of `rows` rows under a heading (500 rows are about 15 KB)."""
    out = ["# SYNTHETIC thresholds", "", "| country | TPP | tier |", "|---|---:|:---:|"]
    out += [f"| Country {i} | {790_000 + i} | {1 + i % 3} |" for i in range(rows)]
    return f"table-{rows}.md", ("\n".join(out) + "\n").encode()


def markdown_emphasis(count: int) -> tuple[str, bytes]:
    """ "**a " repeated: emphasis markers that open and never close (50,000 are 200 KB)."""
    return f"emphasis-{count}.md", ("SYNTHETIC\n\n" + "**a " * count + "\n").encode()


def markdown_brackets(count: int) -> tuple[str, bytes]:
    """Link syntax that never completes: "[" and "](" runs with no closing bracket or parenthesis."""
    return f"brackets-{count}.md", ("SYNTHETIC\n\n" + "[a](b " * count + "\n\n" + "[" * count + "\n").encode()


def html_nested_tables(depth: int) -> tuple[str, bytes]:
    """<table><tr><td> nested `depth` deep, a word in every cell (800 deep is about 27 KB)."""
    opening = "".join(f"<table><tr><td>cell {i}" for i in range(depth))
    closing = "</td></tr></table>" * depth
    return f"nested-{depth}.html", (
        f"<!doctype html><html><body><p>SYNTHETIC</p>{opening}{closing}</body></html>"
    ).encode()


def html_nested_sections(depth: int) -> tuple[str, bytes]:
    """<article> holding headers, asides and divs nested `depth` deep."""
    opening = "".join(f"<header><div>heading {i}<aside>aside {i}" for i in range(depth))
    closing = "</aside></div></header>" * depth
    return f"sections-{depth}.html", (
        f"<!doctype html><html><body><article><p>SYNTHETIC</p>{opening}{closing}</article></body></html>"
    ).encode()


def pdf_long_line(chars: int) -> tuple[str, bytes]:
    """One page holding one line of `chars` characters (the page is made wide enough to hold it)."""
    from reportlab.pdfgen import canvas

    text = (" ".join(_words(chars // 5 + 1)))[:chars]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(chars * 5.2 + 144, 300), pageCompression=1)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, 200, "SYNTHETIC")
    pdf.drawString(72, 150, text)
    pdf.showPage()
    pdf.save()
    return f"line-{chars}.pdf", buffer.getvalue()


def long_paragraph(chars: int) -> tuple[str, bytes]:
    """One paragraph of `chars` characters on one line (1.26 million failed spaCy with E088)."""
    text = (" ".join(_words(chars // 5 + 1)))[:chars]
    return f"paragraph-{chars}.txt", ("SYNTHETIC\n\n" + text + "\n").encode()


# ----------------------------------------------------------------------------- a compressed-stream bomb


def _zeros_deflate(total: int, chunk: int = 1 << 20) -> bytes:
    """A zlib stream that inflates to `total` zero bytes, made without ever holding them: each
    full-flushed block of one chunk of zeros compresses to the same bytes, so one block is
    compressed and repeated. The Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    assert total % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "full-flushed blocks of zeros must compress alike"
    end = compressor.flush()
    adler = ((total % 65521) << 16) | 1
    return b"\x78\xda" + first + block * (total // chunk - 1) + end + struct.pack(">I", adler)


def pdf_bomb(inflated: int = 2 << 30) -> tuple[str, bytes]:
    """A one-page PDF (about 2 MB) whose content stream inflates to `inflated` bytes (2 GiB)."""
    stream = _zeros_deflate(inflated)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return "bomb.pdf", pdf_of(objects)


def pdf_of(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1, the first the catalogue) with its cross-reference
    table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
