"""The read model: what every surface that shows the comparison tables (`regkb table`, the report,
datasette) takes from one place. The tables themselves are SQL views of the knowledge base (migration
009 of store.schema); this module says what they are called, their titles and descriptions, the
taxonomy order of the positions matrix and the labels of the two matrices, and holds what the views
need from Python:

- the SQL functions the views call (`register` puts them on a connection; datasette's plugin does the
  same): `provision` (the provision a section path belongs to), `country_name`, `clip` (a text on one
  line, cut to a length) and `number_text` (a figure as the tables print it);
- the one comparison SQL cannot make, which subjects a stated figure is about (regexes over the words
  around it, patterns/claims.jsonl): computed by the build (`figure_subject_rows`) and stored in the
  table figure_subjects, which the claims view joins.

Read side: neither spaCy nor torch is imported (tests/test_house.py)."""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache

from .paths import root_of
from .patterns import load_patterns

# every comparison table, in the order `regkb table --help`, the report's steps and the workbook list them
TABLES = ("definitions", "countries", "thresholds", "positions", "claims", "dates", "diff", "contradictions")
# table → (title, what it shows): the title heads `regkb table`'s Markdown and HTML, the report's section
# and datasette's page; the description leads the report's section and datasette's page
TABLE_TEXT = {
    "definitions": (
        "Definitions with scope",
        "Every defined term, the scope it applies to, where it is defined and how often it is used.",
    ),
    "countries": (
        "Countries × lists",
        "Every country list detected in the corpus as a column (label, document, section, pin cite), "
        "every country it names as a row (ISO 3166-1 alpha-2); ✓ marks membership.",
    ),
    "thresholds": (
        "Thresholds by quantity and provision",
        "Every number that sets a limit or states a quantity, grouped by what it measures and by the "
        "provision it sits in.",
    ),
    "positions": (
        "Positions: organisation × topic",
        "How many positions each organisation takes on each topic, with the first objection or request "
        "of each cell quoted and pin-cited; copies in a form-letter campaign are counted once and tallied.",
    ),
    "claims": (
        "Claims against the rule",
        "What a letter or report says the rule does against the rule's text: its country lists against "
        "the rule's list they describe, country by country, and the figures it states against the rule's "
        "figures in the same unit.",
    ),
    "dates": (
        "Dates that govern something, resolved",
        "Every date and period of a rule with what it governs, its provision and pin cite: a period counted "
        "from publication resolved with the publication date (2025-01-15), one counted from an event flagged. "
        "Only the rules' own dates: what letters and news say about them is a claim (the Chinese article's "
        "“60天” after publication is no date of the rule; `regkb table claims`).",
    ),
    "diff": (
        "Public inspection vs. published text",
        "Each published paragraph against its public-inspection counterpart (aligned by section path and text "
        "similarity): unchanged, unchanged but for spacing or typography, changed (the word-level changes), or "
        "only in one version. `regkb diff` lists only what differs.",
    ),
    "contradictions": (
        "The rule against itself",
        "Where a rule disagrees with itself, found from the extracted figures, definitions and "
        "cross-references, each with both pin cites (`regkb contradictions`).",
    ),
}
TITLES = {name: title for name, (title, _) in TABLE_TEXT.items()}

# the views of migration 009: a table's rows (definitions, thresholds, claims), or its long form (one row
# per matrix cell: countries, positions), whose first columns are what `regkb table` prints, in its order;
# the columns after them name the paragraph a row quotes (LINK_COLUMNS), for datasette's links
VIEWS = {
    "definitions": "definitions_with_scope",
    "thresholds": "thresholds_by_provision",
    "claims": "claims_vs_rule",
    "countries": "countries_by_list",
    "positions": "positions_by_topic",
}
COUNTRY_LIST_COLUMNS = "country_list_columns"  # the countries matrix's columns: one per detected list, in order
ALL_VIEWS = (*VIEWS.values(), COUNTRY_LIST_COLUMNS)
LINK_COLUMNS = ("paragraph_id", "claim_paragraph_id", "rule_paragraph_id", "list_id", "position_id")
# the matrices' label columns, before one column per list or topic
COUNTRY_MATRIX_LABELS = ("iso2", "country")
POSITIONS_MATRIX_LABEL = "organisation"
CHECK = "✓"  # a list that names the country
# the datasette pages the plugin makes, with what they show (titles and descriptions for its metadata)
DATASETTE_TEXT = {
    "country_matrix": TABLE_TEXT["countries"],
    "positions_matrix": (
        "Positions counted: organisation × topic",
        "How many positions (objections, requested changes, support) each organisation takes on "
        "each topic. A form-letter campaign counts once; its copies are tallied in `copies`. "
        "Click an organisation for its positions and quotes; `regkb table positions` quotes the "
        "first objection of each cell (view positions_by_topic).",
    ),
    COUNTRY_LIST_COLUMNS: (
        "Country lists as matrix columns",
        "Every detected country list in the order of the countries × lists matrix, with the "
        "column name the matrix gives it (label, document, section, pin cite; “#2” for a "
        "second list of that name).",
    ),
    VIEWS["countries"]: (
        "Countries × lists, one row per membership",
        "The long form of the countries × lists matrix: each country a list names, with the "
        "list's column name. The matrix is country_matrix.",
    ),
    VIEWS["positions"]: (
        "Positions: organisation × topic, one row per cell",
        "The long form of `regkb table positions`: per organisation and topic, the positions "
        "(by stance), their copies in form-letter campaigns and the cell the matrix shows (the "
        "first objection or request, quoted and pin-cited). The counts are positions_matrix.",
    ),
    VIEWS["definitions"]: TABLE_TEXT["definitions"],
    VIEWS["thresholds"]: TABLE_TEXT["thresholds"],
    VIEWS["claims"]: TABLE_TEXT["claims"],
}


@lru_cache(maxsize=1)
def topics() -> tuple[str, ...]:
    """The topics of the positions matrix in the taxonomy's order (patterns/topics.jsonl), then "other"."""
    return tuple(row["topic"] for row in load_patterns("topics") if "topic" in row) + ("other",)


# ----------------------------------------------------------------------------- the views' SQL functions


def clip(text: str | None, limit: int) -> str:
    """The text on one line (runs of whitespace as one space), cut to limit characters with “…”."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number_text(value: float | None) -> str:
    """A figure as the tables print it: thousands separated, very large and very small in exponent form;
    a calendar date (unit 'date', whose value is its value_text) has none."""
    if value is None:
        return ""
    return f"{value:.6g}" if abs(value) >= 1e9 or (value and abs(value) < 1e-3) else f"{value:,.10g}"


def country_name(code: str | None) -> str | None:
    """The common name of an ISO 3166-1 alpha-2 code (the code itself when pycountry has none)."""
    if not code:
        return None
    import pycountry  # here: `regkb --help` reads the table names from this module

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def provision(section_path: str | None) -> str:
    """The provision a section path belongs to (paths.root_of); a path that starts like a section, an
    ECCN or a supplement but does not go on like one (“§ see below”) is its own first part."""
    path = section_path or ""
    try:
        return root_of(path)
    except AttributeError:  # root_of's pattern did not match
        return path.split(" > ")[0]


FUNCTIONS = {
    "provision": (1, provision),
    "country_name": (1, country_name),
    "clip": (2, clip),
    "number_text": (1, number_text),
}


def register(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Put the views' SQL functions on a connection (any connection that reads the views needs them)."""
    for name, (arity, function) in FUNCTIONS.items():
        conn.create_function(name, arity, function, deterministic=True)
    return conn


def missing_views(conn: sqlite3.Connection) -> list[str]:
    """The read model's views a knowledge base lacks (one built before migration 009)."""
    present = {row[0] for row in conn.execute("select name from sqlite_master where type = 'view'")}
    return [name for name in ALL_VIEWS if name not in present]


# ----------------------------------------------------------------------------- figure subjects


def _context(text: str, start: int, end: int) -> str:
    """The sentence a figure stands in, with the one before it (what a figure is about is often said
    just before: "…the rules take effect only 60 days after publication")."""
    before = max(text.rfind(mark, 0, max(start - 1, 0)) for mark in ".。;；")
    before = max(text.rfind(mark, 0, before) for mark in ".。;；") if before > 0 else before
    after = [i for i in (text.find(mark, end) for mark in ".。;；") if i >= 0]
    return text[before + 1 : (min(after) + 1) if after else len(text)]


@lru_cache(maxsize=1)
def _subjects() -> tuple[tuple[str, frozenset[str], tuple[re.Pattern, ...]], ...]:
    return tuple(
        (subject["subject"], frozenset(subject["units"]), tuple(re.compile(cue, re.I) for cue in subject["cues"]))
        for subject in load_patterns("claims")
    )


def figure_subjects(row) -> set[str]:
    """The subjects (patterns/claims.jsonl) of a figure of this unit, from the words around it: row has
    the figure's unit, char_start and char_end and its paragraph's text."""
    around = None
    found = set()
    for subject, units, cues in _subjects():
        if row["unit"] not in units:
            continue
        if around is None:
            around = _context(row["text"] or "", row["char_start"] or 0, row["char_end"] or 0)
        if any(cue.search(around) for cue in cues):
            found.add(subject)
    return found


def figure_subject_rows(paragraphs, thresholds: list[dict]) -> list[dict]:
    """Rows of the table figure_subjects: each threshold's subjects, read in its paragraph."""
    text_of = {paragraph.id: paragraph.text for paragraph in paragraphs}
    rows = []
    for threshold in thresholds:
        found = figure_subjects({**threshold, "text": text_of.get(threshold["paragraph_id"], "")})
        rows.extend(
            {
                "threshold_id": threshold["id"],
                "doc_id": threshold["doc_id"],
                "paragraph_id": threshold["paragraph_id"],
                "subject": subject,
            }
            for subject in sorted(found)
        )
    return rows
