"""The extractor contract: what each spaCy component promises, as data (no spaCy here).

A component matches, then sets spans in its span group(s) and records a finding beside each span
(common.add_span). Each group it fills is declared here as an Output: the table its rows go to, the
row columns and which finding field fills each, the id prefix and the finding fields hashed into the
id, and the column that quotes the paragraph (its provenance). From these declarations come

- the rows (extract.run builds every table's rows through `rows_of`, one way for all components),
- the provenance checks the store runs on every build (`provenance_tables`: text[char_start:char_end]
  must equal the quote column), and the schema test (the knowledge base has every declared column),
- the scorers: spaCy's span scorer over the group (the component's `score`), and the gold scorer
  `regkb evaluate` uses for the component (`gold`: the name of a scorer in pipeline.evaluate)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

PROVENANCE = {"char_start": int, "char_end": int}


@dataclass(frozen=True)
class Output:
    group: str  # doc.spans key the component fills
    table: str  # knowledge-base table the rows go to
    columns: dict[str, str]  # row column → finding field (in row order, after doc_id/paragraph_id)
    types: dict[str, type]  # row column → SQLite affinity (str, int, float)
    id_prefix: str = ""  # rows get an id "prefix:sha1(paragraph, start, *id_fields)[:12]"
    id_fields: tuple[str, ...] = ()
    quote: str = "matched_text"  # the column that quotes the paragraph at char_start:char_end
    members: Output | None = None  # a child table whose rows come from finding["members"]
    count_column: str = ""  # a column holding len(finding["members"])

    def all_columns(self) -> dict[str, type]:
        head = {"id": str} if self.id_prefix else {}
        parent = {"list_id": str} if self.table == "country_list_members" else {}
        base = {"doc_id": str} if self.table != "country_list_members" else {}
        return {**head, **parent, **base, "paragraph_id": str, **self.types, **PROVENANCE}


@dataclass(frozen=True)
class Contract:
    component: str  # the spaCy factory name
    outputs: tuple[Output, ...]
    gold: str = ""  # the gold set / pipeline.evaluate scorer of this component
    doc: str = field(default="", compare=False)


def row_id(prefix: str, paragraph_id: str, start: int, extra: str = "") -> str:
    return f"{prefix}:" + hashlib.sha1(f"{paragraph_id}\x1f{start}\x1f{extra}".encode()).hexdigest()[:12]


DEFINITIONS = Output(
    "definitions",
    "definitions",
    columns={
        "term": "term",
        "definition": "definition",
        "scope": "scope",
        "kind": "kind",
        "target": "target",
        "matched_text": "matched_text",
    },
    types={"term": str, "definition": str, "scope": str, "kind": str, "target": str, "matched_text": str},
    id_prefix="def",
    id_fields=("term",),
)
COUNTRY_MENTIONS = Output(
    "countries",
    "country_mentions",
    columns={"name": "name", "iso2": "iso2", "matched_text": "matched_text"},
    types={"name": str, "iso2": str, "matched_text": str},
)
COUNTRY_LIST_MEMBERS = Output(
    "country_lists",
    "country_list_members",
    columns={
        "position": "position",
        "name": "name",
        "iso2": "iso2",
        "matched_text": "matched_text",
        "part_of": "part_of",
    },
    types={"position": int, "name": str, "iso2": str, "matched_text": str, "part_of": str},
)
COUNTRY_LISTS = Output(
    "country_lists",
    "country_lists",
    columns={"label": "label", "style": "style", "member_count": "", "matched_text": "matched_text"},
    types={"label": str, "style": str, "member_count": int, "matched_text": str},
    id_prefix="list",
    members=COUNTRY_LIST_MEMBERS,
    count_column="member_count",
)
COUNTRY_GROUP_REFS = Output(
    "country_groups",
    "country_group_refs",
    columns={"group_name": "group", "matched_text": "matched_text"},
    types={"group_name": str, "matched_text": str},
)
THRESHOLDS = Output(
    "thresholds",
    "thresholds",
    columns={
        "quantity": "quantity",
        "comparator": "comparator",
        "value": "value",
        "unit": "unit",
        "subject": "subject",
        "value_text": "value_text",
        "matched_text": "matched_text",
    },
    types={
        "quantity": str,
        "comparator": str,
        "value": float,
        "unit": str,
        "subject": str,
        "value_text": str,
        "matched_text": str,
    },
    id_prefix="thr",
    id_fields=("value", "unit"),
)
POSITIONS = Output(
    "positions",
    "positions",
    columns={"org": "org", "stance": "stance", "topic": "topic", "quote": "matched_text", "cue": "cue"},
    types={"org": str, "stance": str, "topic": str, "quote": str, "cue": str},
    id_prefix="pos",
    quote="quote",
)

CONTRACTS = (
    Contract(
        "regkb_definitions",
        (DEFINITIONS,),
        gold="definitions",
        doc="defined terms with their definition, scope and kind",
    ),
    Contract(
        "regkb_countries",
        (COUNTRY_MENTIONS, COUNTRY_LISTS, COUNTRY_GROUP_REFS),
        gold="country_lists",
        doc="country names, lists of countries (with their members) and references to country groups",
    ),
    Contract(
        "regkb_thresholds",
        (THRESHOLDS,),
        gold="thresholds",
        doc="numeric thresholds with comparator, value, unit and subject",
    ),
    Contract(
        "regkb_positions",
        (POSITIONS,),
        gold="positions",
        doc="positions of a comment's author on the rule: stance, topic and the exact quote",
    ),
)
COMPONENTS = tuple(contract.component for contract in CONTRACTS)


def outputs() -> list[Output]:
    """Every declared output, children included, in a stable order."""
    found = []
    for contract in CONTRACTS:
        for output in contract.outputs:
            found.append(output)
            if output.members:
                found.append(output.members)
    return found


def table_names() -> list[str]:
    return list(dict.fromkeys(output.table for output in outputs()))


def provenance_tables() -> dict[str, str]:
    """Table → the column that must equal its paragraph's text at char_start:char_end."""
    return {output.table: output.quote for output in outputs()}


def rows_of(output: Output, found: dict, doc_id: str, paragraph_id: str, text: str) -> list[tuple[str, dict]]:
    """The (table, row) pairs one finding of a group gives: its own row, then its members' rows."""
    row: dict = {}
    if output.id_prefix:
        row["id"] = row_id(
            output.id_prefix, paragraph_id, found["start"], "".join(str(found[name]) for name in output.id_fields)
        )
    row.update({"doc_id": doc_id, "paragraph_id": paragraph_id})
    for column, source in output.columns.items():
        if column == output.count_column:
            row[column] = len(found.get("members", []))
        else:
            row[column] = found.get(source, "" if output.types[column] is str else None)
    row["char_start"], row["char_end"] = found["start"], found["end"]
    out = [(output.table, row)]
    if output.members:
        out.extend(member_rows(output.members, row["id"], found["members"], lambda _: (paragraph_id, text)))
    return out


def member_rows(output: Output, list_id: str, members: list[dict], holder) -> list[tuple[str, dict]]:
    """Rows of a child table: each member quotes the paragraph holder(member) gives (id, text)."""
    out = []
    for position, member in enumerate(members, start=1):
        paragraph_id, text = holder(member)
        row = {"list_id": list_id, "paragraph_id": paragraph_id}
        for column, source in output.columns.items():
            if column == "position":
                row[column] = position
            elif column == "matched_text":
                row[column] = text[member["start"] : member["end"]]
            else:
                row[column] = member.get(source)
        row["char_start"], row["char_end"] = member["start"], member["end"]
        out.append((output.table, row))
    return out
