"""A provision's whole story and a term's whole story, from what the knowledge base holds.

`provision_story`: the provision's text with pin cites, the definitions it uses (term usages) and those it
gives, its thresholds and country lists, what the preamble says about it (preamble paragraphs that cite
it, or sit under a heading naming its caption), its changes between the two versions of the rule
(pipeline.diff) and every position linked to it, grouped by stance and organisation, each quote with its
pin cite and the copies a form-letter campaign made of it.

`term_story`: every definition of a term (scope, kind, pin cite), the definitions that send the reader
elsewhere (pointers, references: "Model Weights. See ECCN 4E091"), and every paragraph that uses it.
Read side: no spaCy, no torch."""

from __future__ import annotations

import re
import sqlite3

from .diff import PUBLIC_INSPECTION, PUBLISHED, compare, describe, status_label
from .models import RegkbError

STANCE_ORDER = ("oppose", "request_change", "support", "neutral")


def normalise_provision(text: str) -> str:
    """'740.29', '§740.29', '§ 740.29' → '§ 740.29'; 'ECCN 4E091', 'Supplement No. 5 to Part 740' as they are."""
    text = " ".join((text or "").split())
    if re.match(r"^§?\s*\d{3}\.\d", text):
        return "§ " + text.lstrip("§ ").strip()
    return text


def under(path: str | None, provision: str) -> bool:
    """Whether a section path is the provision or inside it ('§ 740.29(h)(1)' is in '§ 740.29'; '§ 740.2' is not)."""
    path = path or ""
    return path == provision or any(path.startswith(provision + sep) for sep in ("(", " >", ".", " "))


def _in_clause(column: str = "p.section_path") -> str:
    return (
        f"({column} = :p or {column} like :p || '(%' or {column} like :p || ' >%' "
        f"or {column} like :p || '.%' or {column} like :p || ' %')"
    )


def provision_story(conn: sqlite3.Connection, provision: str, doc_id: str | None = None) -> dict:
    conn.row_factory = sqlite3.Row
    provision = normalise_provision(provision)
    rule_docs = [
        r["id"] for r in conn.execute("select id from documents where doc_type = 'rule' order by page_count desc, id")
    ]
    candidates = [doc_id] if doc_id else rule_docs
    doc = next(
        (
            d
            for d in candidates
            if conn.execute(
                f"select 1 from paragraphs p where p.doc_id = :d and {_in_clause()} limit 1", {"d": d, "p": provision}
            ).fetchone()
        ),
        None,
    )
    if doc is None:
        raise RegkbError(
            f"no paragraph of {'document ' + doc_id if doc_id else 'any rule'} is at {provision!r}: give a "
            f"section path as `regkb search` shows it, e.g. '§ 740.29' or '§ 742.6(b)(10)'"
        )
    params = {"d": doc, "p": provision}
    paragraphs = [
        dict(r)
        for r in conn.execute(
            "select p.id, p.section_path, p.pin_cite, p.text, p.kind from paragraphs p "
            f"where p.doc_id = :d and {_in_clause()} "
            "order by p.ordinal",
            params,
        )
    ]
    ids = [p["id"] for p in paragraphs]
    marks = ",".join("?" * len(ids))
    uses = [
        dict(r)
        for r in conn.execute(
            f"""
        select d.id, d.term, d.scope, d.kind, dp.pin_cite, count(*) as uses, min(u.matched_text) as as_written
        from term_usages u join definitions d on d.id = u.term_id join paragraphs dp on dp.id = d.paragraph_id
        where u.paragraph_id in ({marks}) and d.kind != 'short_form' and d.doc_id = ?
        group by d.id order by lower(d.term), d.scope""",
            [*ids, doc],
        )
    ]
    gives = [
        dict(r)
        for r in conn.execute(
            f"""
        select d.id, d.term, d.scope, d.kind, d.definition, p.pin_cite from definitions d
        join paragraphs p on p.id = d.paragraph_id where d.paragraph_id in ({marks}) order by p.ordinal""",
            ids,
        )
    ]
    thresholds = [
        dict(r)
        for r in conn.execute(
            f"""
        select t.id, t.quantity, t.comparator, t.value, t.value_text, t.unit, t.matched_text, p.section_path, p.pin_cite
        from thresholds t join paragraphs p on p.id = t.paragraph_id where t.paragraph_id in ({marks})
        order by p.ordinal, t.char_start""",
            ids,
        )
    ]
    lists = [
        dict(r)
        for r in conn.execute(
            f"""
        select l.id, l.label, l.member_count, p.pin_cite from country_lists l join paragraphs p on p.id = l.paragraph_id
        where l.paragraph_id in ({marks}) order by p.ordinal""",
            ids,
        )
    ]
    groups = [
        dict(r)
        for r in conn.execute(
            f"""
        select g.group_name, count(*) as mentions, min(p.pin_cite) as pin_cite from country_group_refs g
        join paragraphs p on p.id = g.paragraph_id where g.paragraph_id in ({marks}) group by g.group_name""",
            ids,
        )
    ]
    preamble = _preamble(conn, doc, provision, paragraphs)
    changes = []
    versions = {
        r["id"] for r in conn.execute("select id from documents where id in (?, ?)", (PUBLIC_INSPECTION, PUBLISHED))
    }
    if len(versions) == 2 and doc in versions:
        comparison = compare(conn, PUBLIC_INSPECTION, PUBLISHED)
        for row in comparison.rows:
            if under(row.section_path, provision) or under(row.a_section_path, provision):
                if row.status in ("identical", "unchanged", "typography"):
                    continue
                changes.append(
                    {
                        "status": status_label(row, PUBLIC_INSPECTION, PUBLISHED),
                        "section_path": row.section_path,
                        "changes": describe(row),
                        "a_pin_cite": row.a_pin_cite,
                        "b_pin_cite": row.b_pin_cite,
                    }
                )
    positions = _positions(conn, provision)
    return {
        "provision": provision,
        "doc_id": doc,
        "heading": _heading(paragraphs),
        "paragraphs": paragraphs,
        "uses": uses,
        "defines": gives,
        "thresholds": thresholds,
        "country_lists": lists,
        "country_groups": groups,
        "preamble": preamble,
        "changes": changes,
        "positions": positions,
    }


def _heading(paragraphs: list[dict]) -> str:
    for p in paragraphs:
        if p["kind"] == "heading" or re.match(r"^§ \d", p["text"] or ""):
            return p["text"]
    return paragraphs[0]["text"][:120] if paragraphs else ""


def _caption(heading: str) -> str:
    """'§ 740.29 License Exception Low Processing Performance (LPP).' → 'License Exception Low
    Processing Performance'."""
    caption = re.sub(r"^§\s*[\d.]+\s*", "", heading or "").strip().rstrip(".")
    caption = re.sub(r"^\([a-z0-9]+\)\s*", "", caption)
    return re.sub(r"\s*\([^)]*\)$", "", caption).strip()


def _preamble(conn: sqlite3.Connection, doc: str, provision: str, paragraphs: list[dict]) -> list[dict]:
    number = provision.replace("§ ", "")
    caption = _caption(_heading(paragraphs)) if provision.startswith("§") and "(" not in provision else ""
    rows = conn.execute(
        """select id, section_path, pin_cite, text from paragraphs
                           where doc_id = ? and section_path like 'Preamble%' order by ordinal""",
        (doc,),
    ).fetchall()
    cite = re.compile(rf"(?<![\d.]){re.escape(number)}(?![\d])" + (r"(?!\.\d)" if "(" not in number else ""))
    out = []
    for row in rows:
        why = ""
        if cite.search(row["text"] or ""):
            why = f"cites {number}"
        elif caption and len(caption) > 12 and caption.lower() in (row["section_path"] or "").lower():
            why = f"under a heading naming “{caption}”"
        if why:
            out.append(
                {
                    "id": row["id"],
                    "section_path": row["section_path"],
                    "pin_cite": row["pin_cite"],
                    "text": row["text"],
                    "why": why,
                }
            )
    return out


def _positions(conn: sqlite3.Connection, provision: str) -> list[dict]:
    """Positions linked to the provision (any version of the rule), originals only, best link first,
    grouped by stance then organisation; a campaign's copies are counted on the original."""
    rows = conn.execute(
        f"""
        select o.id, o.org, o.stance, o.topic, o.quote, o.doc_id, pp.pin_cite,
               min(l.rank) as rank, group_concat(distinct l.method) as methods,
               group_concat(distinct p.section_path) as linked_to,
               (select count(*) from positions c where c.duplicate_of = o.id) as copies,
               (select max(c.copies) from document_clusters c where c.doc_id = o.doc_id) as campaign
        from position_links l join paragraphs p on p.id = l.paragraph_id
        join positions o on o.id = l.position_id join paragraphs pp on pp.id = o.paragraph_id
        where {_in_clause()} and o.duplicate_of is null
        group by o.id order by o.org, o.stance, rank, o.doc_id""",
        {"p": provision},
    ).fetchall()
    grouped: dict[str, dict[str, list[dict]]] = {}
    for row in rows:
        grouped.setdefault(row["stance"], {}).setdefault(row["org"], []).append(dict(row))
    out = []
    for stance in sorted(grouped, key=lambda s: STANCE_ORDER.index(s) if s in STANCE_ORDER else 9):
        for org, quotes in sorted(grouped[stance].items()):
            out.append(
                {
                    "stance": stance,
                    "org": org,
                    "count": len(quotes),
                    "copies": sum(q["copies"] for q in quotes),
                    "campaign_documents": max((q["campaign"] or 1) for q in quotes),
                    "quotes": quotes,
                }
            )
    return out


def term_story(conn: sqlite3.Connection, term: str) -> dict:
    conn.row_factory = sqlite3.Row
    wanted = " ".join(term.split()).strip("“”\"'‘’").lower()
    forms = {wanted, wanted.rstrip("s"), wanted + "s"}
    marks = ",".join("?" * len(forms))
    definitions = [
        dict(r)
        for r in conn.execute(
            f"""
        select d.id, d.doc_id, d.term, d.kind, d.scope, d.target, d.definition, p.section_path, p.pin_cite,
               (select count(*) from term_usages u where u.term_id = d.id) as uses
        from definitions d join paragraphs p on p.id = d.paragraph_id
        where lower(d.term) in ({marks}) order by d.doc_id, p.ordinal""",
            list(forms),
        )
    ]
    if not definitions:
        raise RegkbError(f"no definition of {term!r} in the knowledge base (see `regkb table definitions`)")
    by_reference = [d for d in definitions if d["kind"] in ("pointer", "reference")]
    # definitions elsewhere whose text sends the reader to this term's definition or uses the term as its subject
    mentions = [
        dict(r)
        for r in conn.execute(
            f"""
        select d.id, d.doc_id, d.term, d.kind, d.scope, d.definition, p.pin_cite from definitions d
        join paragraphs p on p.id = d.paragraph_id
        where lower(d.term) not in ({marks}) and d.kind != 'short_form' and instr(lower(d.definition), ?) > 0
        order by d.doc_id, p.ordinal""",
            [*forms, wanted],
        )
    ]
    ids = [d["id"] for d in definitions]
    usages = [
        dict(r)
        for r in conn.execute(
            f"""
        select p.id, p.doc_id, p.section_path, p.pin_cite, p.text, count(*) as times, min(u.matched_text) as as_written
        from term_usages u join paragraphs p on p.id = u.paragraph_id
        where u.term_id in ({",".join("?" * len(ids))}) group by p.id order by p.doc_id, p.ordinal""",
            ids,
        )
    ]
    from .contradictions import _same_wording
    from .contradictions import _wording as defining_words

    wordings: list[list[dict]] = []  # alike wordings together, as the contradiction finder groups them
    for d in definitions:
        if d["kind"] in ("pointer", "reference"):
            continue
        group = next((g for g in wordings if _same_wording(defining_words(d), defining_words(g[0]))), None)
        if group is None:
            wordings.append([d])
        else:
            group.append(d)
    return {
        "term": term,
        "definitions": definitions,
        "wordings": wordings,
        "by_reference": by_reference,
        "mentioned_in": mentions,
        "usages": usages,
    }


def definition_term(conn: sqlite3.Connection, definition_id: str) -> str:
    row = conn.execute("select term from definitions where id = ?", (definition_id,)).fetchone()
    if row is None:
        raise RegkbError(f"no definition with id {definition_id!r} (see `regkb table definitions`)")
    return row[0]
