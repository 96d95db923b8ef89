"""PDF I/O: opening a PDF with pdfplumber, its pages read one by one or in page ranges (the engine's pool's tasks),
and of each page what pdfplumber knows: its characters, which of them a reader can see, its ruled
tables. The geometry that turns characters into lines is layout's; headers and footers are furniture's.

A page that draws nothing but text (no line, rectangle, curve or image: two thirds of the rule's pages)
has its characters read straight from pdfminer's layout, as the dicts pdfplumber would make of them with
only the keys regkb reads (CHAR_KEYS): pdfplumber resolves every attribute of every object into its
dicts, which took as long as pdfminer's interpretation of the page. Lines, rectangles and images decide
tables and whether text is hidden, so a page with any of them goes through pdfplumber's objects whole."""

from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path

from ..models import DocumentError, Line, Page, RawDocument
from . import limits
from .furniture import lift_margins
from .guards import INFLATED, start_inflate_budget
from .layout import chars_to_lines, inside_box, into_frame, mark_blocks, mark_page_starts, order_columns, text_angle
from .limits import BudgetExceeded


def _pdf_error(path: Path, exc: Exception) -> DocumentError:
    if INFLATED["refused"]:
        return DocumentError(str(path), INFLATED["refused"])
    # pdfplumber wraps pdfminer's errors: look through the chain and the wrapped arguments
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        chain.extend(arg for arg in current.args if isinstance(arg, BaseException))
        current = current.__cause__ or current.__context__
    for error in chain:
        if isinstance(error, BudgetExceeded):
            return DocumentError(str(path), str(error))
        if "Password" in type(error).__name__ or "Encrypt" in type(error).__name__ or "encrypt" in str(error).lower():
            return DocumentError(str(path), "encrypted PDF: it needs a password to be read")
    root = chain[-1]
    return DocumentError(str(path), f"corrupt or truncated PDF ({type(root).__name__}: {root})")


def _regular_pdf(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def long_pdf_pages(path: Path) -> int:
    """The page count of a PDF with enough pages to be worth reading in page ranges across the
    engine's pool (limits.PARALLEL_MIN_PAGES), else 0. Counting pages walks the page tree only; a file
    that cannot even be opened is not long (its parse reports the problem)."""
    if path.suffix.lower() != ".pdf" or not _regular_pdf(path) or path.stat().st_size > limits.MAX_FILE_BYTES:
        return 0  # too large (or a pipe, a device): the parse refuses it without pdfminer scanning it
    import pdfplumber

    start_inflate_budget()
    try:
        with pdfplumber.open(path) as pdf:
            count = len(pdf.pages)
    except Exception:  # noqa: BLE001 - pdfminer raises many types; the real parse names the problem
        return 0
    return count if limits.PARALLEL_MIN_PAGES <= count <= limits.MAX_PDF_PAGES else 0


def is_long_pdf(path: Path) -> bool:
    return long_pdf_pages(path) > 0


def page_ranges(page_count: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous slices of a long PDF's pages, three per worker (each worker parses the document's
    shared objects once per slice), as [first, last) page indices."""
    workers = max(1, min(workers, page_count // 8))
    chunk = -(-page_count // (workers * 3))
    return [(start, min(start + chunk, page_count)) for start in range(0, page_count, chunk)]


def read_pdf(path: Path, digest: str, pages: list[Page] | None = None) -> RawDocument:
    """A PDF's pages, read here one by one, or given: read in page ranges (read_page_range) by the
    engine's pool, which schedules them with the other documents."""
    import pdfplumber

    start_inflate_budget()
    if pages is None:
        try:
            with pdfplumber.open(path) as pdf:
                page_count = len(pdf.pages)
                if page_count == 0:
                    raise DocumentError(str(path), "PDF has no pages")
                if page_count > limits.MAX_PDF_PAGES:
                    raise DocumentError(
                        str(path), f"PDF has {page_count:,} pages; the limit is {limits.MAX_PDF_PAGES:,}"
                    )
                pages = [_read_pdf_page(pdf.pages[i], i + 1) for i in range(page_count)]
        except DocumentError:
            raise
        except Exception as exc:  # pdfminer raises many unrelated types for broken files
            raise _pdf_error(path, exc) from exc
    if INFLATED["refused"]:  # refused inside pdfminer, which carried on without the stream
        raise DocumentError(str(path), INFLATED["refused"])
    if not any(line for page in pages for line in page.lines):
        raise DocumentError(str(path), "PDF has no text layer (scanned or image-only): it needs OCR first")
    document = RawDocument(path=str(path), sha256=digest, media="pdf", pages=pages)
    lift_margins(document)
    mark_page_starts(document.pages)
    return document


def read_page_range(path: str, first: int, last: int) -> list[Page]:
    """Pages [first, last) of a PDF (a task of the engine's pool). A problem travels as a plain
    exception naming it: DocumentError's two-argument constructor does not survive unpickling."""
    import pdfplumber

    start_inflate_budget()
    try:
        with pdfplumber.open(path) as pdf:
            pages = [_read_pdf_page(pdf.pages[i], i + 1) for i in range(first, last)]
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many types
        # the problem is worked out here (the inflation budget is this process's)
        raise BudgetExceeded(_pdf_error(Path(path), exc).problem) from None
    if INFLATED["refused"]:
        raise BudgetExceeded(INFLATED["refused"])
    return pages


def _read_pdf_page(page, number: int) -> Page:
    """One page's lines in reading order: text a reader cannot see is left out, text set at an angle is
    read in its own direction (after the page's upright text), ruled tables become rows."""
    text_only = _text_only(page)
    count = len(text_only) if text_only is not None else len(page.chars)
    if count > limits.MAX_PAGE_CHARS:
        raise BudgetExceeded(
            f"page {number} holds {count:,} characters; the limit for one page is {limits.MAX_PAGE_CHARS:,}"
        )
    drawn = text_only is None
    chars = page.chars if drawn else _char_dicts(page, text_only)
    hidden = _hidden_chars(page, chars, drawn)
    if hidden and drawn:
        page = page.filter(lambda obj: id(obj) not in hidden)  # tables are read without them too
        chars = page.chars
    elif hidden:
        chars = [char for char in chars if id(char) not in hidden]
    upright: list[dict] = []
    turned: dict[int, list[dict]] = {}
    for char in chars:
        angle = text_angle(char)
        if angle:
            turned.setdefault(angle, []).append(char)
        else:
            upright.append(char)
    table_lines, table_boxes = _table_rows(page, number) if drawn else ([], [])
    if table_boxes:
        upright = [c for c in upright if not any(inside_box(c, box) for box in table_boxes)]
    lines, mixed_sizes = chars_to_lines(upright, number, page.width)
    lines.extend(table_lines)
    lines.sort(key=lambda line: (line.top, line.x0))
    lines = order_columns(lines, page.width)
    mark_blocks(lines, mixed_sizes)
    for angle in sorted(turned):
        frame_chars, frame_width = into_frame(turned[angle], angle, page.bbox)
        rotated, rotated_mixed = chars_to_lines(frame_chars, number, frame_width)
        rotated.sort(key=lambda line: (line.top, line.x0))
        rotated = order_columns(rotated, frame_width)
        mark_blocks(rotated, rotated_mixed)
        if rotated and lines:
            rotated[0].starts_block = True  # a sidebar or a caption set sideways is not the text before it
        lines.extend(rotated)
    return Page(number=number, lines=lines)


# text rendering modes (PDF 1.7, 9.3.6) and the colours each paints with: 3 paints nothing, 7 only clips
PAINTED_WITH = {
    0: ("non_stroking_color",),
    1: ("stroking_color",),
    2: ("non_stroking_color", "stroking_color"),
    3: (),
    4: ("non_stroking_color",),
    5: ("stroking_color",),
    6: ("non_stroking_color", "stroking_color"),
    7: (),
}


# what regkb reads of a character (layout, text_angle, _hidden_chars): the keys _char_dicts gives
CHAR_KEYS = (
    "text",
    "x0",
    "x1",
    "top",
    "bottom",
    "size",
    "fontname",
    "matrix",
    "non_stroking_color",
    "stroking_color",
    "ncs",
    "render_mode",
)


def _text_only(page) -> list | None:
    """The page's characters (pdfminer's LTChar objects, in pdfplumber's order) when the page draws nothing
    else, or None: a page that draws a line, a rectangle, a curve or an image (or is read with options
    _char_dicts does not reproduce) is read through pdfplumber's objects."""
    from pdfminer.layout import LTChar, LTContainer

    if page.pdf.laparams is not None or page.pdf.unicode_norm is not None:
        return None
    chars = []
    pending = [iter(page.layout._objs)]  # pdfplumber's walk (containers' children in place), with a stack
    while pending:
        for obj in pending[-1]:
            if isinstance(obj, LTChar):
                if not isinstance(obj.fontname, str):
                    return None  # pdfplumber repairs a byte-encoded font name
                chars.append(obj)
            elif isinstance(obj, LTContainer):
                pending.append(iter(obj._objs))
                break
            else:
                return None
        else:
            pending.pop()
    return chars


@lru_cache(maxsize=256)
def _colour_space(name) -> str:
    from pdfplumber.utils.pdfinternals import resolve_and_decode

    return resolve_and_decode(name)


def _char_dicts(page, chars: list) -> list[dict]:
    """pdfplumber's Page.process_object for characters, only the CHAR_KEYS (tests/test_ingest.py holds
    the two to the same values on real pages)."""
    shift_x, shift_top = page.mediabox[:2]
    height = page.height
    out = []
    for char in chars:
        state = char.graphicstate
        x0, x1 = (char.x0 + shift_x, char.x1 + shift_x) if shift_x != 0 else (char.x0, char.x1)
        made = {
            "text": char.get_text(),
            "x0": x0,
            "x1": x1,
            "top": (height - char.y1) + shift_top,
            "bottom": (height - char.y0) + shift_top,
            "size": char.size,
            "fontname": char.fontname,
            "matrix": char.matrix,
            "non_stroking_color": state.ncolor if isinstance(state.ncolor, tuple) else (state.ncolor,),
            "stroking_color": state.scolor if isinstance(state.scolor, tuple) else (state.scolor,),
            "ncs": _colour_space(char.ncs.name),
        }
        if hasattr(char, "render_mode"):
            made["render_mode"] = char.render_mode
        out.append(made)
    return out


def _hidden_chars(page, chars: list[dict], drawn: bool = True) -> set[int]:
    """Ids of the characters a reader of the page cannot see: drawn outside the page, in an invisible
    rendering mode, or in white on a white page. Invisible text over an image is an OCR text layer (a
    scanned letter made searchable), and white text on a dark box or an image is seen: both are kept.
    `drawn` is False for a page that draws nothing but text (no image or box to be seen over)."""
    left, top, right, bottom = page.bbox
    hidden: set[int] = set()
    suspicious: list[tuple[dict, bool]] = []
    for char in chars:
        x = (char["x0"] + char["x1"]) / 2
        y = (char["top"] + char["bottom"]) / 2
        if not (left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1):
            hidden.add(id(char))
            continue
        painted = PAINTED_WITH.get(char.get("render_mode", 0), ("non_stroking_color",))
        if not painted:
            suspicious.append((char, True))
        elif all(_is_white(char.get(key), char.get("ncs") if key == "non_stroking_color" else None) for key in painted):
            suspicious.append((char, False))
    if suspicious:
        images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images] if drawn else []
        dark = (
            images
            + [
                (r["x0"], r["top"], r["x1"], r["bottom"])
                for r in page.rects + page.curves
                if r.get("fill") and not _is_white(r.get("non_stroking_color"), None)
            ]
            if drawn
            else []
        )
        for char, invisible in suspicious:
            if not any(inside_box(char, box) for box in (images if invisible else dark)):
                hidden.add(id(char))
    return hidden


def _is_white(color, space: str | None) -> bool:
    """True for white in DeviceGray, DeviceRGB or DeviceCMYK (and calibrated or ICC spaces with as many
    components); an indexed, pattern or separation colour is not judged."""
    if space in ("Indexed", "Pattern", "Separation", "DeviceN") or not isinstance(color, (tuple, list)) or not color:
        return False
    if not all(isinstance(v, (int, float)) for v in color):
        return False
    if len(color) in (1, 3):
        return min(color) >= 0.95
    if len(color) == 4:
        return max(color) <= 0.05
    return False


def _table_rows(page, number: int) -> tuple[list[Line], list[tuple]]:
    """Ruled tables become one line per row, cells joined by " | "."""
    if not (page.lines or page.rects):
        return [], []
    lines: list[Line] = []
    boxes: list[tuple] = []
    for table in page.find_tables():
        rows = table.extract()
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue
        boxes.append(table.bbox)
        for row, cells in zip(table.rows, rows):
            text = " | ".join(re.sub(r"\s+", " ", cell or "").strip() for cell in cells)
            if text.replace("|", "").strip():
                lines.append(
                    Line(
                        text=text,
                        page=number,
                        x0=row.bbox[0],
                        x1=row.bbox[2],
                        top=row.bbox[1],
                        size=0,
                        kind="table",
                        starts_block=True,
                    )
                )
    return lines, boxes
