"""Every comparison table as one Excel workbook (XlsxWriter): one sheet per table, the header row frozen
and filtered, and each pin cite a hyperlink to its page in the source (the public-inspection PDF's page,
the Federal Register document, the letter's URL). The tables are the ones `regkb table` writes
(pipeline.tables.build_table), so the workbook and the other formats cannot disagree. Read side."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import xlsxwriter

from .models import RegkbError
from .tables import BUILDERS, TABLES, TITLES, build_table

MAX_CELL = 32767  # Excel's limit on the characters of a cell
MAX_URL = 2079  # and on a hyperlink


def pin_cite_links(conn: sqlite3.Connection) -> dict[str, str]:
    """pin cite → URL of the page it names (a PDF with #page=N, otherwise the document's URL)."""
    links: dict[str, str] = {}
    for row in conn.execute("""select p.pin_cite, p.page, d.source_url, d.media from paragraphs p
                               join documents d on d.id = p.doc_id where coalesce(d.source_url, '') != ''"""):
        pin, page, url, media = row
        if not pin or pin in links:
            continue
        is_pdf = (media or "") == "pdf" or url.lower().endswith(".pdf")
        links[pin] = f"{url}#page={page}" if is_pdf and page else url
    return links


def write_workbook(conn: sqlite3.Connection, path: Path, names: tuple[str, ...] | list[str] = TABLES) -> Path:
    path = check_workbook_path(path)
    conn.row_factory = sqlite3.Row
    links = pin_cite_links(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    book = xlsxwriter.Workbook(str(partial), {"strings_to_urls": False, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    link = book.add_format({"font_color": "blue", "underline": 1, "text_wrap": True, "valign": "top"})
    try:
        for name in names:
            if name not in BUILDERS:
                continue
            columns, rows = build_table(conn, name)
            sheet = book.add_worksheet(_sheet_name(name))
            sheet.write_row(0, 0, [_cell(c) for c in columns], bold)
            pin_columns = {i for i, c in enumerate(columns) if "pin cite" in c.lower()}
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    value = _cell(value)
                    url = links.get(value) if c in pin_columns and isinstance(value, str) else None
                    if url and len(url) <= MAX_URL:
                        sheet.write_url(r, c, url, link, string=value)
                    elif isinstance(value, (int, float)):
                        sheet.write_number(r, c, value)
                    else:
                        sheet.write_string(r, c, value, wrap)
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(len(rows), 1), max(len(columns) - 1, 0))
            for c, column in enumerate(columns):
                longest = max([len(str(column))] + [len(str(row[c])) for row in rows[:200]])
                sheet.set_column(c, c, min(max(10, longest * 0.9), 60))
            sheet.set_header(f"&L{TITLES.get(name, name)}")
        book.close()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def check_workbook_path(path: Path) -> Path:
    """The workbook's path as given, or a RegkbError naming what is wrong with it: empty (which pathlib
    reads as the current folder), a folder, something other than a file, or in a folder that cannot be
    written. Said before the tables are built, so a bad --out costs nothing and leaves nothing behind."""
    import os

    if str(path).strip() in ("", ".") or not path.name or path.name in (".", ".."):
        raise RegkbError(
            f"--out {str(path)!r}: is empty or a folder, not a workbook file name; give a file such as regkb.xlsx"
        )
    if path.is_dir():
        raise RegkbError(
            f"{path}: is a folder, not a workbook file; give --out a file name such as {path / 'regkb.xlsx'}"
        )
    if path.exists() and not path.is_file():
        raise RegkbError(f"{path}: is not a regular file; give --out a workbook file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise RegkbError(f"{path}: cannot be written (no permission)")
    folder = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise RegkbError(f"{path}: {folder} is not a folder, so the workbook cannot be written there")
    if folder is not None and not os.access(folder, os.W_OK | os.X_OK):
        raise RegkbError(f"{path}: the folder {folder} cannot be written (no permission)")
    return path


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", name)[:31]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
