"""Report: the knowledge base as one self-contained HTML page (CSS inline, figures embedded, nothing
fetched) and its Markdown twin (figures as SVG files beside it): the corpus inventory with sources
and licences, every comparison table of pipeline/tables.py (read from the knowledge base's views, as
`regkb table` and datasette read them; titles and leads from pipeline/readmodel.py), each
organisation's positions with cited quotes, and figures (organisation × topic heatmap, country-list
membership, from the same views) with captions saying what data they show. The same knowledge base
gives the same bytes; the files are written whole or not at all (store.files)."""

from __future__ import annotations

import base64
import html
import io
import json
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .cite import as_text, lookup
from .models import RegkbError
from .progress import Progress
from .query import connect_readonly
from .readmodel import COUNTRY_LIST_COLUMNS, TABLE_TEXT, TABLES, VIEWS, missing_views, provision, register
from .readmodel import topics as taxonomy
from .serve import METADATA
from .store.files import replace_file
from .tables import build_table, render

FORMATS = ("html", "md")
NEEDED_TABLES = (
    "documents",
    "paragraphs",
    "definitions",
    "term_usages",
    "country_lists",
    "country_list_members",
    "thresholds",
    "positions",
    "document_clusters",
    "build_info",
)
STANCES = ("oppose", "request_change", "support", "neutral")


@dataclass
class Figure:
    slug: str
    title: str
    caption: str
    svg: str


@dataclass
class Quote:
    id: str
    org: str
    stance: str
    topic: str
    text: str
    doc_id: str
    copies: int  # positions copying this one in a form-letter campaign
    letter_copies: int  # other letters of the campaign this quote's letter leads
    citation: str  # who holds it, document, date, pin cite


@dataclass
class Content:
    info: dict[str, str]
    inventory: tuple[list[str], list[list]]
    tables: dict[str, tuple[list[str], list[list]]]
    quotes: list[Quote]
    topics: list[str]
    figures: dict[str, Figure]
    absent: dict[str, str] = field(default_factory=dict)  # table → why this knowledge base cannot make it


# what making the report does, in order, one progress step each: the tables, then the figures
STEPS = (*(f"{name} table" for name in TABLES), "positions heatmap", "country-list chart", "dates timeline")


def write_report(
    db_path: Path, out_dir: Path, formats: tuple[str, ...], progress: Progress | None = None
) -> list[Path]:
    """Write report.html and/or report.md (with figures/) into out_dir; return the paths written.
    progress(step, done, total) is called after each table and figure is made."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise RegkbError(
            f"report format must be one or more of {', '.join(FORMATS)}, not {', '.join(unknown) or 'none'}"
        )
    content = gather(db_path, progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "html" in formats:
        written.append(replace_file(out_dir / "report.html", to_html(content)))
    if "md" in formats:
        for figure in content.figures.values():
            written.append(replace_file(out_dir / "figures" / f"{figure.slug}.svg", figure.svg))
        written.append(replace_file(out_dir / "report.md", to_markdown(content)))
    return written


def _check_tables(conn: sqlite3.Connection, db_path: Path) -> None:
    present = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    missing = [name for name in NEEDED_TABLES if name not in present]
    if missing:
        raise RegkbError(
            f"{db_path}: this knowledge base has no {', '.join(missing)} table "
            f"(built by an older regkb?); run `regkb build` again"
        )
    views = missing_views(conn)
    if views:
        raise RegkbError(
            f"{db_path}: this knowledge base lacks the view{'s' * (len(views) > 1)} {', '.join(views)} "
            f"(built by an older regkb?); run `regkb build` again"
        )


def gather(db_path: Path, progress: Progress | None = None) -> Content:
    with closing(connect_readonly(db_path)) as conn:
        _check_tables(conn, db_path)
        return _gather(register(conn), db_path, progress)


def _citation(db_path: Path, position_id: str) -> str:
    """The position's citation as `regkb cite` gives it, without the quote (the report shows that above)."""
    cited = lookup(db_path, position_id)
    return as_text(cited).removesuffix(f": “{cited.quote}”")


def _gather(conn: sqlite3.Connection, db_path: Path, progress: Progress | None) -> Content:
    info = {row["key"]: row["value"] for row in conn.execute("select key, value from build_info")}
    corpus_sql = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["regkb"]["queries"]["corpus"]["sql"]
    cursor = conn.execute(corpus_sql, {"doc": ""})
    inventory = ([column[0] for column in cursor.description], [list(row) for row in cursor])
    topics = list(taxonomy())
    quotes = [
        Quote(**dict(row), citation=_citation(db_path, row["id"]))
        for row in conn.execute("""
        select o.id, o.org, o.stance, o.topic, o.quote as text, o.doc_id,
               (select count(*) from positions c where c.duplicate_of = o.id) as copies,
               coalesce((select k.copies - 1 from document_clusters k
                         where k.doc_id = o.doc_id and k.representative = o.doc_id), 0) as letter_copies
        from positions o join paragraphs p on p.id = o.paragraph_id join documents d on d.id = o.doc_id
        where o.duplicate_of is null
        order by o.org, d.date, d.id, p.ordinal, o.char_start""")
    ]
    quotes.sort(key=lambda q: (q.org, topics.index(q.topic) if q.topic in topics else len(topics)))
    done = iter(range(1, len(STEPS) + 1))

    def made(step: str) -> None:
        number = next(done)
        if progress:
            progress(step, number, len(STEPS))

    tables, absent = {}, {}
    for name in TABLES:
        # a table about documents this knowledge base does not hold (the diff of the rule's two versions in
        # a KB of letters) is said to be absent in its section, not an error that loses the whole report
        try:
            tables[name] = build_table(conn, name)
        except RegkbError as exc:
            tables[name], absent[name] = ([], []), str(exc)
        made(f"{name} table")
    # a figure of nothing says less than its table's "no rows" (and matplotlib warns on an empty image)
    figures = {"positions": positions_heatmap(conn, quotes, topics)} if quotes else {}
    made("positions heatmap")
    chart = country_list_chart(conn)
    if chart:
        figures["countries"] = chart
    made("country-list chart")
    timeline = None if "dates" in absent else dates_timeline(conn)
    if timeline:
        figures["dates"] = timeline
    made("dates timeline")
    return Content(info, inventory, tables, quotes, topics, figures, absent)


# ----------------------------------------------------------------------------- figures


def _svg(figure) -> str:
    import matplotlib

    # fixed ids and no date: the same data gives the same file; text as paths needs no fonts to view
    with matplotlib.rc_context({"svg.hashsalt": "regkb", "svg.fonttype": "path"}):
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def positions_heatmap(conn: sqlite3.Connection, quotes: list[Quote], topics: list[str]) -> Figure:
    """The positions table's counts (view positions_by_topic) as a heatmap."""
    # matplotlib's object API (no pyplot): no global figure state, no GUI backend
    import numpy as np
    from matplotlib.figure import Figure as MplFigure

    counts = {
        (org, topic): n
        for org, topic, n in conn.execute(f"select organisation, topic, positions from {VIEWS['positions']}")
    }
    orgs = sorted({org for org, _ in counts})
    used = [t for t in topics if any(topic == t for _, topic in counts)]
    data = np.array([[counts.get((org, topic), 0) for topic in used] for org in orgs]).reshape(len(orgs), len(used))
    figure = MplFigure(figsize=(2.5 + 0.75 * len(used), 1.2 + 0.38 * len(orgs)), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(data, cmap="Blues", aspect="auto", vmin=0)
    axes.set_xticks(range(len(used)), labels=[t.replace("_", " ") for t in used], rotation=35, ha="right")
    axes.set_yticks(range(len(orgs)), labels=orgs)
    for (row, column), value in np.ndenumerate(data):
        if value:
            axes.text(
                column,
                row,
                str(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > data.max() / 2 else "black",
            )
    figure.colorbar(image, ax=axes, label="positions", shrink=0.8)
    documents = len({q.doc_id for q in quotes})
    return Figure(
        "positions-heatmap",
        "Positions by organisation and topic",
        (
            f"Each cell counts the positions (sentences objecting to, asking to change or supporting the rule) "
            f"an organisation takes on a topic: {len(quotes)} positions of {len(orgs)} organisations in {documents} "
            f"documents; a form-letter campaign counts once. Data: table positions (rows with no duplicate_of); "
            f"topics of the taxonomy that no position takes are left out."
        ),
        _svg(figure),
    )


def country_list_chart(conn: sqlite3.Connection) -> Figure | None:
    """The countries × lists table (views country_list_columns and countries_by_list) as a chart."""
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure as MplFigure

    lists = conn.execute(f"""select list_id, document, "section path" as section_path from {COUNTRY_LIST_COLUMNS}
                             order by position""").fetchall()
    members = {(row["list_id"], row["iso2"]) for row in conn.execute(f"select list_id, iso2 from {VIEWS['countries']}")}
    codes = sorted({code for _, code in members})
    if not codes:
        return None
    data = np.array([[(item["list_id"], code) in members for item in lists] for code in codes], dtype=int).reshape(
        len(codes), len(lists)
    )
    figure = MplFigure(figsize=(2.5 + 0.55 * len(lists), 1.5 + 0.2 * len(codes)), layout="constrained")
    axes = figure.subplots()
    axes.imshow(data, cmap=ListedColormap(["#eef1f5", "#1f4e79"]), aspect="auto", vmin=0, vmax=1)
    labels = [
        f"L{i} {item['document']}"
        + (f" · {provision(item['section_path'])}" if item["section_path"] and item["section_path"].isascii() else "")
        for i, item in enumerate(lists, start=1)
    ]
    axes.set_xticks(range(len(lists)), labels=labels, rotation=40, ha="right", fontsize=7)
    axes.set_yticks(range(len(codes)), labels=codes, fontsize=7)
    axes.set_xticks(np.arange(-0.5, len(lists)), minor=True)
    axes.set_yticks(np.arange(-0.5, len(codes)), minor=True)
    axes.grid(which="minor", color="white", linewidth=1.5)
    axes.tick_params(which="minor", length=0)
    documents = len({item["document"] for item in lists})
    return Figure(
        "country-lists",
        "Country-list membership",
        (
            f"Columns: the {len(lists)} country lists detected in {documents} documents (document and provision; "
            f"in the order of the countries × lists table, whose headers give each list's label and pin cite). "
            f"Rows: the {len(codes)} countries they name (ISO 3166-1 alpha-2). A filled square means the list names "
            f"the country. Data: tables country_lists and country_list_members (views country_list_columns and "
            f"countries_by_list)."
        ),
        _svg(figure),
    )


def dates_timeline(conn: sqlite3.Connection) -> Figure | None:
    """The rules' dates resolved to the calendar, one row per thing governed (pipeline.dates)."""
    from datetime import date as Date

    from matplotlib.figure import Figure as MplFigure

    from .dates import governing_dates

    found: dict[tuple[str, str], set[str]] = {}
    for g in governing_dates(conn):
        if g.resolved and g.resolved >= "2024-12-01":
            label = (g.governs.split(":")[0] if ":" in g.governs[:40] else g.provision)[:40]
            found.setdefault((g.resolved, label), set()).add(g.pin_cite)
    if not found:
        return None
    items = sorted(found)
    figure = MplFigure(figsize=(8, 1.2 + 0.32 * len(items)), layout="constrained")
    axes = figure.subplots()
    for i, (day, label) in enumerate(items):
        axes.plot([Date.fromisoformat(day)], [i], "o", color="#1f4e79")
        axes.annotate(
            f"{day}  {label}", (Date.fromisoformat(day), i), xytext=(6, -3), textcoords="offset points", fontsize=7
        )
    axes.set_yticks([])
    axes.invert_yaxis()
    axes.margins(x=0.35)
    axes.tick_params(axis="x", labelsize=7)
    return Figure(
        "dates-timeline",
        "The rule's dates on the calendar",
        (
            f"Each point is a date a rule sets (a calendar date in its text, or a period counted from publication "
            f"on 2025-01-15, resolved), labelled with what it governs (its paragraph's caption or provision); "
            f"{len(items)} dates from December 2024 on. Periods counted from an event have no place on a calendar and "
            f"are in the table only. Data: table thresholds (unit date and periods) and the public-inspection "
            f"placeholders, through pipeline/dates.py."
        ),
        _svg(figure),
    )


# ----------------------------------------------------------------------------- HTML

CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1f24; margin: 0 auto;
       max-width: 1200px; padding: 1em 2em 4em; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #1f4e79; padding-bottom: 0.2em; margin-top: 2em; }
nav ol { columns: 2; } .lead { color: #444; }
.table-wrapper { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-size: 0.82em; }
th, td { border: 1px solid #c9d1d9; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
th { background: #eef1f5; position: sticky; top: 0; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e1e4e8; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.4em; }
blockquote.quote { border-left: 4px solid #1f4e79; margin: 0.8em 0; padding: 0.2em 1em; background: #f6f8fa; }
blockquote.quote p { margin: 0.3em 0; }
blockquote.quote footer { font-size: 0.88em; color: #444; }
.tag { font-size: 0.8em; background: #e1e4e8; border-radius: 3px; padding: 0 0.4em; margin-left: 0.4em; }
.synthetic { color: #a40000; font-weight: bold; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _bare_table(columns: list[str], rows: list[list], fmt: str) -> str:
    """tables.render makes a standalone page (html) or a titled file (md); the report wants the table alone."""
    rendered = render(columns, rows, fmt)
    return rendered[rendered.index("<table") :] if fmt == "html" else rendered.split("\n", 2)[2]


def _summary(quotes: list[Quote], topics: list[str]) -> tuple[str, list[tuple[str, int]]]:
    stances = Counter(q.stance for q in quotes)
    by_topic = Counter(q.topic for q in quotes)
    letter_copies = {q.doc_id: q.letter_copies for q in quotes}
    documents = letter_copies.keys()
    copies = sum(letter_copies.values())
    text = (
        f"{len(quotes)} position{'s' * (len(quotes) != 1)} in "
        f"{len(documents)} document{'s' * (len(documents) != 1)}: "
        + ", ".join(f"{stances[s]} {s.replace('_', ' ')}" for s in STANCES if stances[s])
        + (f"; a form-letter campaign: {copies} more copies of the letter, signed by others" if copies else "")
        + "."
    )
    return text, sorted(
        by_topic.items(), key=lambda item: (-item[1], topics.index(item[0]) if item[0] in topics else 99)
    )


def _by_org(content: Content) -> dict[str, list[Quote]]:
    grouped: dict[str, list[Quote]] = {}
    for quote in content.quotes:
        grouped.setdefault(quote.org, []).append(quote)
    return grouped


def _info_line(content: Content) -> str:
    info = content.info
    missing = json.loads(info.get("missing") or "[]")
    line = (
        f"Knowledge base built {info.get('built_at', '?')} (code version {info.get('code_version', '?')}): "
        f"{len(content.inventory[1])} documents, {info.get('paragraphs', '?')} paragraphs."
    )
    if missing:
        line += f" Listed in the manifest but not on the machine that built it: {', '.join(missing)}."
    return line


def to_html(content: Content) -> str:
    sections = [
        ("corpus", "Corpus"),
        ("positions", TABLE_TEXT["positions"][0]),
        ("organisations", "Positions by organisation"),
    ]
    sections += [
        (name, TABLE_TEXT[name][0])
        for name in ("countries", "claims", "thresholds", "definitions", "dates", "diff", "contradictions")
    ]
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>regkb report: the AI Diffusion rule (90 FR 4544) and the reaction to it</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>regkb report</h1>",
        "<p class='lead'>The BIS interim final rule <em>Framework for Artificial Intelligence Diffusion</em> "
        "(FR Doc. 2025-00636, 90 FR 4544, RIN 0694-AJ90) and the comment letters, statements and news around it.</p>",
        f"<p class='lead'>{_e(_info_line(content))}</p>",
        "<nav><h2>Contents</h2><ol>"
        + "".join(f"<li><a href='#{slug}'>{_e(title)}</a></li>" for slug, title in sections)
        + "</ol></nav>",
        "<section id='corpus'><h2>Corpus</h2>",
        "<p>The documents, their sources and licences. The rule is a work of the U.S. Government (public domain); "
        "letters, statements and news are © their authors and quoted here for research and comment; documents marked "
        "<span class='synthetic'>SYNTHETIC</span> are test fixtures written for regkb, not the words of any real "
        "organisation.</p>",
        f"<div class='table-wrapper'>{_bare_table(*content.inventory, 'html')}</div></section>",
    ]
    for slug, _ in sections[1:]:
        if slug == "organisations":
            parts.append(_organisations_html(content))
            continue
        title, lead = TABLE_TEXT[slug]
        parts.append(f"<section id='{slug}'><h2>{_e(title)}</h2><p>{_e(lead)}</p>")
        if slug in content.figures:
            parts.append(_figure_html(content.figures[slug], list(content.figures).index(slug) + 1))
        if slug in content.absent:
            parts.append(f"<p class='absent' id='table-{slug}'>{_e(_absent_note(content.absent[slug]))}</p></section>")
            continue
        columns, rows = content.tables[slug]
        parts.append(
            f"<div class='table-wrapper' id='table-{slug}'>{_bare_table(columns, rows, 'html')}</div></section>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _absent_note(reason: str) -> str:
    return f"No rows: not in this knowledge base ({reason})."


def _figure_html(figure: Figure, number: int) -> str:
    data = base64.b64encode(figure.svg.encode("utf-8")).decode("ascii")
    return (
        f"<figure id='figure-{figure.slug}'><img src='data:image/svg+xml;base64,{data}' alt='{_e(figure.title)}'>"
        f"<figcaption><strong>Figure {number}. {_e(figure.title)}.</strong> {_e(figure.caption)}</figcaption>"
        "</figure>"
    )


def _organisations_html(content: Content) -> str:
    parts = [
        "<section id='organisations'><h2>Positions by organisation</h2>",
        "<p>Each organisation's positions on the rule, by topic, each quoted exactly and cited: "
        "organisation, document, date, pin cite.</p>",
    ]
    for org, quotes in _by_org(content).items():
        text, topics = _summary(quotes, content.topics)
        parts.append(
            f"<h3>{_e(org)}</h3><p>{_e(text)} Topics: "
            + ", ".join(f"{_e(t.replace('_', ' '))} {n}" for t, n in topics)
            + ".</p>"
        )
        for quote in quotes:
            copies = f"<span class='tag'>+{quote.copies} copies</span>" if quote.copies else ""
            parts.append(
                f"<blockquote class='quote' id='{_e(quote.id)}'><p>“{_e(' '.join(quote.text.split()))}”</p>"
                f"<footer>— <cite>{_e(quote.citation)}</cite>"
                f"<span class='tag'>{_e(quote.stance.replace('_', ' '))}</span>"
                f"<span class='tag'>{_e(quote.topic.replace('_', ' '))}</span>{copies}</footer></blockquote>"
            )
    parts.append("</section>")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- Markdown


def to_markdown(content: Content) -> str:
    lines = [
        "# regkb report",
        "",
        "The BIS interim final rule *Framework for Artificial Intelligence Diffusion* (FR Doc. 2025-00636, "
        "90 FR 4544, RIN 0694-AJ90) and the comment letters, statements and news around it.",
        "",
        _info_line(content),
        "",
        "## Corpus",
        "",
        "The documents, their sources and licences. The rule is a work of the U.S. Government (public domain); "
        "letters, statements and news are © their authors and quoted here for research and comment; documents "
        "marked SYNTHETIC are test fixtures written for regkb, not the words of any real organisation.",
        "",
        _bare_table(*content.inventory, "md"),
    ]
    for slug in (
        "positions",
        "organisations",
        "countries",
        "claims",
        "thresholds",
        "definitions",
        "dates",
        "diff",
        "contradictions",
    ):
        if slug == "organisations":
            lines += _organisations_md(content)
            continue
        title, lead = TABLE_TEXT[slug]
        lines += [f"## {title}", "", lead, ""]
        if slug in content.figures:
            figure = content.figures[slug]
            number = list(content.figures).index(slug) + 1
            lines += [
                f"![Figure {number}. {figure.title}](figures/{figure.slug}.svg)",
                "",
                f"*Figure {number}. {figure.title}.* {figure.caption}",
                "",
            ]
        lines.append(
            _absent_note(content.absent[slug]) if slug in content.absent else _bare_table(*content.tables[slug], "md")
        )
    return "\n".join(lines)


def _organisations_md(content: Content) -> list[str]:
    lines = [
        "## Positions by organisation",
        "",
        "Each organisation's positions on the rule, by topic, each quoted exactly and cited: "
        "organisation, document, date, pin cite.",
        "",
    ]
    for org, quotes in _by_org(content).items():
        text, topics = _summary(quotes, content.topics)
        lines += [
            f"### {org}",
            "",
            f"{text} Topics: " + ", ".join(f"{t.replace('_', ' ')} {n}" for t, n in topics) + ".",
            "",
        ]
        for quote in quotes:
            copies = f" · +{quote.copies} copies" if quote.copies else ""
            lines += [
                f"> “{' '.join(quote.text.split())}”",
                ">",
                f"> — {quote.citation} · {quote.stance.replace('_', ' ')}, {quote.topic.replace('_', ' ')}{copies}",
                "",
            ]
    return lines
