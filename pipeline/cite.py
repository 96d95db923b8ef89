"""Citations for anything in the knowledge base — a paragraph, definition, threshold, country list or
position — with its document, author organisation, date, URL, pin cite and the exact quoted text,
as plain text, Markdown, BibTeX or CSL-JSON. Reading is query's job; formatting here is pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

from .models import RegkbError
from .query import connect_readonly

FORMATS = ("text", "markdown", "bibtex", "csl-json")
# id prefix → (table, column holding the quoted text, what it is)
KINDS = {
    "def": ("definitions", "matched_text", "definition"),
    "thr": ("thresholds", "matched_text", "threshold"),
    "pos": ("positions", "quote", "position"),
    "list": ("country_lists", "matched_text", "country list"),
}
FR_CITE = re.compile(r"^(?P<volume>\d+) FR (?P<page>\d+)$")  # a document's citation (cite_as): "90 FR 4544"
# a pin cite's source (paragraphs.pin_source) for the public-inspection version: "2025-00636 (public inspection)"
PUBLIC_INSPECTION = " (public inspection)"


@dataclass
class Citable:
    id: str
    kind: str  # paragraph | definition | threshold | country list | position
    quote: str
    holder: str  # who holds a position (the reported organisation); else the document's author
    doc_id: str
    title: str
    author_org: str
    doc_type: str
    date: str  # ISO date the document bears (a rule: its publication date)
    url: str
    cite_as: str
    section_path: str
    page: int
    page_label: str | None
    pin_cite: str  # the rendering of pin_source and pin_locator
    paragraph_id: str
    pin_source: str = ""  # the pin cite as data: "90 FR", "2025-00636 (public inspection)", the letter's stem
    pin_locator: str = ""  # where in it: "4559", "at 66–67", "at [3]", "§ 740.29"; "" when the source has no pages


def lookup(db_path: str | Path, item_id: str) -> Citable:
    prefix = item_id.split(":", 1)[0]
    with connect_readonly(db_path) as conn:
        if prefix in KINDS:
            table, column, kind = KINDS[prefix]
            row = conn.execute(
                f"select paragraph_id, {column} as quote"
                + (", org" if table == "positions" else "")
                + f" from {table} where id = ?",
                (item_id,),
            ).fetchone()
            paragraph_id = row["paragraph_id"] if row else None
        else:
            row, kind, paragraph_id = None, "paragraph", item_id
        context = conn.execute(
            """
            select p.id, p.section_path, p.page, p.page_label, p.pin_cite, p.pin_source, p.pin_locator, p.text,
                   d.id as doc_id, d.title,
                   d.author_org, d.doc_type, coalesce(nullif(d.published, ''), d.date) as date, d.source_url, d.cite_as
            from paragraphs p join documents d on d.id = p.doc_id where p.id = ?""",
            (paragraph_id,),
        ).fetchone()
    if context is None or (prefix in KINDS and row is None):
        raise RegkbError(
            f"nothing to cite with id {item_id!r}: give a paragraph, definition (def:…), threshold "
            f"(thr:…), country list (list:…) or position (pos:…) id as `regkb search`, "
            f"`regkb table` show them"
        )
    return Citable(
        id=item_id,
        kind=kind,
        quote=row["quote"] if row else context["text"],
        holder=(row["org"] if row is not None and "org" in row.keys() else "") or context["author_org"],
        doc_id=context["doc_id"],
        title=context["title"],
        author_org=context["author_org"],
        doc_type=context["doc_type"],
        date=context["date"] or "",
        url=context["source_url"] or "",
        cite_as=context["cite_as"] or "",
        section_path=context["section_path"] or "",
        page=context["page"],
        page_label=context["page_label"],
        pin_cite=context["pin_cite"],
        paragraph_id=context["id"],
        pin_source=context["pin_source"] or "",
        pin_locator=context["pin_locator"] or "",
    )


def _long_date(iso: str) -> str:
    try:
        day = Date.fromisoformat(iso)
    except ValueError:
        return iso
    month = day.strftime("%b") + ("." if day.month not in (5, 6, 7) else "")
    return f"{'Sept.' if day.month == 9 else month} {day.day}, {day.year}"


def _plain_title(item: Citable) -> str:
    """The document's title without the bracketed version note ("(interim final rule, …)")."""
    return re.sub(r"\s*\((?:interim final rule|regulatory text)[^)]*\)$", "", item.title).split(": regulatory text")[0]


def _where(item: Citable) -> str:
    """The pin, from the pin cite's source and locator: Federal Register page, public-inspection page,
    printed page, with the section."""
    section = item.section_path if item.section_path.startswith(("§", "Supplement", "ECCN", "Part")) else ""
    source, locator = item.pin_source, item.pin_locator
    if source.endswith(PUBLIC_INSPECTION) and locator.startswith("at "):
        where = f"public-inspection version, FR Doc. {source.removesuffix(PUBLIC_INSPECTION)}, {locator}"
        return f"{section}; {where}" if section else where
    if _is_volume(source) and locator.isdecimal():  # "90 FR" and its page
        return ", ".join(filter(None, [locator, section]))
    if item.cite_as and source == item.cite_as:  # the document's own citation: what the cite adds to it
        return section or item.pin_cite[len(source) :].strip(", ")
    label = item.page_label or (str(item.page) if item.page and item.page > 1 else "")
    return ", ".join(filter(None, [f"at {label}" if label else "", section]))


def _is_volume(source: str) -> bool:
    """A Federal Register volume as a pin cite's source: "90 FR"."""
    volume, _, register = source.partition(" ")
    return register == "FR" and volume.isdecimal()


def _is_federal_register(item: Citable) -> bool:
    return item.doc_type == "rule" and bool(FR_CITE.match(item.cite_as))


def _reported(item: Citable) -> str:
    """ "ITI (as reported by …)" when the position's holder is not the document's author."""
    if item.kind == "position" and item.holder and item.holder not in item.author_org:
        return f"{item.holder}, as reported in "
    return ""


def as_text(item: Citable) -> str:
    if _is_federal_register(item):
        fr = FR_CITE.match(item.cite_as)
        head = (
            f"{item.author_org}, {_plain_title(item)}, {fr.group('volume')} Fed. Reg. {fr.group('page')} "
            f"({_long_date(item.date)}) (interim final rule)"
        )
    else:
        head = f"{_reported(item)}{item.author_org}, {_plain_title(item)} ({_long_date(item.date)})"
    parts = [head, _where(item), item.url]
    return ", ".join(p for p in parts if p) + f": “{item.quote}”"


def as_markdown(item: Citable) -> str:
    title = f"[{_plain_title(item)}]({item.url})" if item.url else f"*{_plain_title(item)}*"
    source = (
        f"{item.author_org}, {title}, {item.cite_as} ({_long_date(item.date)})"
        if _is_federal_register(item)
        else f"{_reported(item)}{item.author_org}, {title} ({_long_date(item.date)})"
    )
    return f"> {item.quote}\n\n— {source}, {_where(item) or item.pin_cite} (`{item.id}`)"


def _bibtex_escape(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text).replace("~", r"\textasciitilde{}")


def as_bibtex(item: Citable) -> str:
    key = (
        re.sub(r"[^A-Za-z0-9]+", "", item.doc_id.split("-")[0])
        + (item.date[:4] or "nd")
        + re.sub(r"[^A-Za-z0-9]", "", item.id.split(":")[-1])[:8]
    )
    fields = {
        "author": "{" + _bibtex_escape(item.author_org) + "}",
        "title": _bibtex_escape(_plain_title(item)),
        "date": item.date,
        "year": item.date[:4],
    }
    if _is_federal_register(item):
        fr = FR_CITE.match(item.cite_as)
        fields["howpublished"] = f"{fr.group('volume')} Fed. Reg. {fr.group('page')}"
    if item.url:
        fields["url"] = item.url
    holder = f"position of {item.holder}" if item.kind == "position" else ""
    fields["note"] = _bibtex_escape("; ".join(filter(None, [holder, _where(item), f"quoted: “{item.quote}”"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    return f"@misc{{{key},\n{body}\n}}"


def as_csl(item: Citable) -> dict:
    kind = {"rule": "legislation", "news": "article-newspaper"}.get(item.doc_type, "document")
    record = {
        "id": item.id,
        "type": kind,
        "title": _plain_title(item),
        "author": [{"literal": item.author_org}],
        "URL": item.url,
        "note": f"{_where(item)}; quoted: “{item.quote}”".lstrip("; "),
        "section": item.section_path,
    }
    try:
        day = Date.fromisoformat(item.date)
        record["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    except ValueError:
        pass
    if _is_federal_register(item):
        fr = FR_CITE.match(item.cite_as)
        record.update({"container-title": "Federal Register", "volume": fr.group("volume"), "page": fr.group("page")})
    elif item.page_label or item.page:
        record["page"] = str(item.page_label or item.page)
    if item.kind == "position":  # CSL-JSON has no variable for it: "custom" holds such pairs, the note says it
        record["custom"] = {"position_of": item.holder}
        record["note"] = f"position of {item.holder}; {record['note']}"
    return {k: v for k, v in record.items() if v}


def render(item: Citable, fmt: str) -> str:
    if fmt == "text":
        return as_text(item)
    if fmt == "markdown":
        return as_markdown(item)
    if fmt == "bibtex":
        return as_bibtex(item)
    if fmt == "csl-json":
        return json.dumps([as_csl(item)], indent=2, ensure_ascii=False)
    raise RegkbError(f"unknown citation format {fmt!r}: use one of {', '.join(FORMATS)}")
