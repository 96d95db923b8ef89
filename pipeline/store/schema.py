"""The knowledge base's schema: migrations applied in order (each once, recorded in _migrations), the
tables whose rows quote their paragraph, and the text the full-text index sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlite_utils

from ..extract.contract import provenance_tables
from ..paths import CJK


def _m001_core(db: sqlite_utils.Database) -> None:
    db["documents"].create(
        {
            "id": str,
            "title": str,
            "doc_type": str,
            "author_org": str,
            "date": str,
            "language": str,
            "source_url": str,
            "file_sha256": str,
            "page_count": int,
            "media": str,
            "file_name": str,
            "cite_as": str,
            "status": str,
        },
        pk="id",
    )
    db["paragraphs"].create(
        {
            "id": str,
            "doc_id": str,
            "ordinal": int,
            "section_path": str,
            "page": int,
            "page_label": str,
            "pin_cite": str,
            "text": str,
            "kind": str,
        },
        pk="id",
        foreign_keys=[("doc_id", "documents", "id")],
    )
    db["paragraphs"].create_index(["doc_id", "ordinal"])
    db["paragraphs"].create_index(["section_path"])
    db.execute(
        "CREATE VIRTUAL TABLE paragraphs_fts USING fts5(text, section_path, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    db["build_info"].create({"key": str, "value": str}, pk="key")
    db["build_problems"].create({"doc_id": str, "file": str, "problem": str})


def _m002_extraction(db: sqlite_utils.Database) -> None:
    provenance = {"matched_text": str, "char_start": int, "char_end": int}
    db["definitions"].create(
        {
            "id": str,
            "doc_id": str,
            "paragraph_id": str,
            "term": str,
            "definition": str,
            "scope": str,
            "kind": str,
            "target": str,
            **provenance,
        },
        pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("paragraph_id", "paragraphs", "id")],
    )
    db["term_usages"].create(
        {"term_id": str, "paragraph_id": str, "doc_id": str, **provenance},
        foreign_keys=[("term_id", "definitions", "id"), ("paragraph_id", "paragraphs", "id")],
    )
    db["country_lists"].create(
        {"id": str, "doc_id": str, "paragraph_id": str, "label": str, "style": str, "member_count": int, **provenance},
        pk="id",
        foreign_keys=[("paragraph_id", "paragraphs", "id")],
    )
    db["country_list_members"].create(
        {"list_id": str, "paragraph_id": str, "position": int, "name": str, "iso2": str, **provenance},
        foreign_keys=[("list_id", "country_lists", "id"), ("paragraph_id", "paragraphs", "id")],
    )
    db["country_mentions"].create(
        {"doc_id": str, "paragraph_id": str, "name": str, "iso2": str, **provenance},
        foreign_keys=[("paragraph_id", "paragraphs", "id")],
    )
    db["country_group_refs"].create(
        {"doc_id": str, "paragraph_id": str, "group_name": str, **provenance},
        foreign_keys=[("paragraph_id", "paragraphs", "id")],
    )
    db["thresholds"].create(
        {
            "id": str,
            "doc_id": str,
            "paragraph_id": str,
            "quantity": str,
            "comparator": str,
            "value": float,
            "unit": str,
            "subject": str,
            **provenance,
        },
        pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("paragraph_id", "paragraphs", "id")],
    )
    for table in (
        "definitions",
        "term_usages",
        "country_lists",
        "country_list_members",
        "country_mentions",
        "country_group_refs",
        "thresholds",
    ):
        db[table].create_index(["paragraph_id"])


def _m003_positions(db: sqlite_utils.Database) -> None:
    db["positions"].create(
        {
            "id": str,
            "doc_id": str,
            "paragraph_id": str,
            "org": str,
            "stance": str,
            "topic": str,
            "quote": str,
            "char_start": int,
            "char_end": int,
            "cue": str,
            "duplicate_of": str,
        },
        pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("paragraph_id", "paragraphs", "id")],
    )
    db["positions"].create_index(["paragraph_id"])
    db["positions"].create_index(["org", "topic"])
    db["position_links"].create(
        {"position_id": str, "paragraph_id": str, "rank": int, "score": float, "method": str, "matched_text": str},
        foreign_keys=[("position_id", "positions", "id"), ("paragraph_id", "paragraphs", "id")],
    )
    db["position_links"].create_index(["position_id"])
    db["embeddings"].create(
        {"paragraph_id": str, "model": str, "vector": bytes},
        pk="paragraph_id",
        foreign_keys=[("paragraph_id", "paragraphs", "id")],
    )
    db["document_clusters"].create(
        {"doc_id": str, "cluster_id": str, "representative": str, "copies": int, "similarity": float, "method": str},
        pk="doc_id",
        foreign_keys=[("doc_id", "documents", "id")],
    )


def _m004_published(db: sqlite_utils.Database) -> None:
    db["documents"].add_column("published", str)


def _m005_pin_cites(db: sqlite_utils.Database) -> None:
    """Pin cites as data: the last page of a paragraph that runs over a page break, and the cite's
    stem and locator (pin_cite stays, as their rendering)."""
    for column, kind in (("page_end", int), ("page_end_label", str), ("pin_source", str), ("pin_locator", str)):
        db["paragraphs"].add_column(column, kind)
    db["thresholds"].add_column("value_text", str)  # a date's ISO form ("2026-01-15"); value is then NULL
    # a territory a list names as part of another entry ("China, including Hong Kong"): the entry's code
    db["country_list_members"].add_column("part_of", str)


def _m008_digests(db: sqlite_utils.Database) -> None:
    """What each document contributed to each table, as a digest of its rows: an incremental write
    rewrites only the (document, table) pairs whose digest changed (store.kb)."""
    db["document_digests"].create({"doc_id": str, "table_name": str, "digest": str}, pk=("doc_id", "table_name"))


# The comparison tables as views (migration 009). Their first columns are what `regkb table` prints, in its
# order; the columns after them name the paragraph each row quotes. They call the SQL functions of
# pipeline.readmodel (provision, country_name, clip, number_text), which every reader puts on its
# connection (readmodel.register; datasette's plugin): a plain sqlite3 shell reads the tables, not these.
# Ties of every order are broken by rowid, the order the rows were written in.
VIEWS_009 = {
    "definitions_with_scope": """
        select d.term as term, d.kind as kind, d.scope as scope, p.section_path as "defined in",
               p.pin_cite as "pin cite", coalesce(u.uses, 0) as uses, clip(d.definition, 300) as definition,
               d.doc_id as document, d.paragraph_id as paragraph_id
        from definitions d join paragraphs p on p.id = d.paragraph_id
        left join (select term_id, count(*) as uses from term_usages group by term_id) u on u.term_id = d.id
        order by d.doc_id, lower(d.term), d.rowid""",
    "thresholds_by_provision": """
        select t.quantity as quantity, coalesce(nullif(provision(p.section_path), ''), '—') as provision,
               p.section_path as "section path", t.comparator as comparator, number_text(t.value) as value,
               t.unit as unit, t.subject as subject, t.matched_text as "matched text", p.pin_cite as "pin cite",
               t.doc_id as document, t.paragraph_id as paragraph_id
        from thresholds t join paragraphs p on p.id = t.paragraph_id
        order by t.quantity, t.doc_id, provision(p.section_path), p.section_path, t.value, t.rowid""",
    # one column of the countries matrix per list: its label, document, section and pin cite; a second list
    # of the same name is "… #2"
    "country_list_columns": """
        select row_number() over (order by doc_id, ordinal, r) as position,
               name || case when row_number() over (partition by name order by doc_id, ordinal, r) > 1
                            then ' #' || row_number() over (partition by name order by doc_id, ordinal, r)
                            else '' end as list,
               list_id, label, doc_id as document, section_path as "section path", pin_cite as "pin cite",
               paragraph_id
        from (select l.id as list_id, l.label, l.doc_id, p.section_path, p.pin_cite, p.id as paragraph_id,
                     p.ordinal, l.rowid as r,
                     clip(l.label, 60) || ' [' || l.doc_id || ', ' || coalesce(nullif(p.section_path, ''), '—')
                     || ', ' || coalesce(p.pin_cite, '') || ']' as name
              from country_lists l join paragraphs p on p.id = l.paragraph_id)
        order by position""",
    "countries_by_list": """
        select m.iso2 as iso2, country_name(m.iso2) as country, c.list as list, c.list_id as list_id,
               c.paragraph_id as paragraph_id
        from (select distinct list_id, iso2 from country_list_members where iso2 is not null) m
        join country_list_columns c on c.list_id = m.list_id
        order by m.iso2, c.position""",
    # a cell of the positions matrix: the positions an organisation takes on a topic (a form-letter copy
    # counts once, its copies tallied) and the first of them quoted, an objection or request before support
    "positions_by_topic": """
        select organisation, topic, positions, oppose, request_change, support, copies,
               positions || case when copies then ' (+' || copies || ' copies)' else '' end || ': ' || stance
               || ' “' || clip(quote, 160) || '” (' || coalesce(pin_cite, '') || ') [' || id || ']' as cell,
               id as position_id, paragraph_id
        from (select o.org as organisation, o.topic, o.stance, o.quote, o.id, o.paragraph_id, p.pin_cite,
                     row_number() over (partition by o.org, o.topic order by case o.stance when 'oppose' then 0
                         when 'request_change' then 1 else 2 end, length(o.quote), o.rowid) as n,
                     count(*) over cell as positions, sum(o.stance = 'oppose') over cell as oppose,
                     sum(o.stance = 'request_change') over cell as request_change,
                     sum(o.stance = 'support') over cell as support,
                     sum(coalesce(c.copies, 0)) over cell as copies
              from positions o join paragraphs p on p.id = o.paragraph_id
              left join (select duplicate_of, count(*) as copies from positions where duplicate_of is not null
                         group by duplicate_of) c on c.duplicate_of = o.id
              where o.duplicate_of is null
              window cell as (partition by o.org, o.topic))
        where n = 1
        order by organisation, topic""",
    # what a letter or report says the rule does against the rule's text: each of its country lists (three
    # countries or more) against the rule's list (a supplement of a rule document) it overlaps most, at
    # least 0.3 Jaccard, first the counts then country by country, differences first; then each figure it
    # states where it takes a position or lists countries, against the rule's figures of the same unit on
    # the same subject (figure_subjects): the equal one, else the nearest
    "claims_vs_rule": """
        with members as (select distinct list_id, iso2 from country_list_members where iso2 is not null),
        sizes as (select list_id, count(*) as n from members group by list_id),
        rule_lists as (
            select l.id, l.label, p.id as paragraph_id, p.section_path, p.pin_cite, d.page_count, p.ordinal,
                   l.rowid as r
            from country_lists l join paragraphs p on p.id = l.paragraph_id join documents d on d.id = l.doc_id
            where d.doc_type = 'rule' and p.section_path like 'Supplement%'),
        claimed as (
            select l.id, l.doc_id, l.label, p.id as paragraph_id, p.pin_cite, p.ordinal, l.rowid as r, s.n
            from country_lists l join paragraphs p on p.id = l.paragraph_id join documents d on d.id = l.doc_id
            join sizes s on s.list_id = l.id
            where d.doc_type != 'rule' and s.n >= 3),
        common as (
            select a.list_id as claim_id, b.list_id as rule_id, count(*) as n
            from members a join members b on b.iso2 = a.iso2
            where a.list_id in (select id from claimed) and b.list_id in (select id from rule_lists)
            group by a.list_id, b.list_id),
        overlaps as (
            select c.id as claim_id, r.id as rule_id, o.n * 1.0 / (c.n + coalesce(s.n, 0) - o.n) as jaccard,
                   row_number() over (partition by c.id order by o.n * 1.0 / (c.n + coalesce(s.n, 0) - o.n) desc,
                                      r.page_count desc, r.ordinal, r.r) as rank
            from common o join claimed c on c.id = o.claim_id join rule_lists r on r.id = o.rule_id
            left join sizes s on s.list_id = r.id),
        best as (select claim_id, rule_id from overlaps where rank = 1 and jaccard >= 0.3),
        countries as (
            select b.claim_id, b.rule_id, m.iso2, max(m.list_id = b.claim_id) as in_document,
                   max(m.list_id = b.rule_id) as in_rule
            from best b join members m on m.list_id in (b.claim_id, b.rule_id)
            group by b.claim_id, b.rule_id, m.iso2),
        verdicts as (
            select claim_id, rule_id, 1 as detail, iso2,
                   'country ' || iso2 || ' (' || country_name(iso2) || ')' as kind,
                   case when in_document then 'listed' else 'not listed' end as document_says,
                   case when in_rule then 'listed' else 'not listed' end as rule_says,
                   case when in_document and in_rule then 'agrees'
                        when in_document then 'only in the document' else 'only in the rule' end as verdict
            from countries
            union all
            select claim_id, rule_id, 0, '', 'country list (count)', sum(in_document) || ' countries',
                   sum(in_rule) || ' destinations',
                   case when sum(in_document) = sum(in_rule) then 'same count' else 'counts differ' end
            from countries group by claim_id, rule_id),
        figures as (
            select t.id, t.doc_id, t.value, t.unit, t.comparator, t.matched_text, t.char_start, p.section_path,
                   p.pin_cite, p.id as paragraph_id, p.ordinal, d.page_count, d.doc_type, t.rowid as r
            from thresholds t join paragraphs p on p.id = t.paragraph_id join documents d on d.id = t.doc_id),
        stated as (
            select * from figures
            where doc_type != 'rule' and (paragraph_id in (select paragraph_id from positions)
                                          or paragraph_id in (select paragraph_id from country_lists))),
        comparable as (
            select s.id as claim_id, f.*, abs(f.value - s.value) <= 1e-9 * max(abs(f.value), 1) as exact,
                   abs(f.value - s.value) as distance
            from stated s join figures f on f.unit = s.unit and f.doc_type = 'rule'
            where exists (select 1 from figure_subjects a join figure_subjects b on b.subject = a.subject
                          where a.threshold_id = s.id and b.threshold_id = f.id)),
        nearest as (
            select *, row_number() over (partition by claim_id order by exact desc,
                                         case when exact then 0 else distance end, page_count desc, ordinal, r) as rank
            from comparable),
        rows as (
            select 0 as part, c.doc_id as k1, c.ordinal as k2, c.r as k3, v.detail as k4, v.verdict = 'agrees' as k5,
                   v.verdict as k6, v.iso2 as k7,
                   c.doc_id as document, clip(c.label, 60) as claim, c.pin_cite as "claim pin cite", v.kind as kind,
                   v.document_says as "the document says",
                   v.rule_says || case when v.detail then ' in ' || r.section_path || ': ' || clip(r.label, 60)
                                       else '' end as "the rule says",
                   r.pin_cite as "rule pin cite", v.verdict as verdict,
                   c.paragraph_id as claim_paragraph_id, r.paragraph_id as rule_paragraph_id
            from verdicts v join claimed c on c.id = v.claim_id join rule_lists r on r.id = v.rule_id
            union all
            select 1, s.doc_id, s.ordinal, s.char_start, s.r, 0, '', '',
                   s.doc_id, s.matched_text, s.pin_cite,
                   'figure (' || s.unit || '; ' || coalesce(
                       (select group_concat(subject, ', ') from (select subject from figure_subjects
                                                                 where threshold_id = s.id order by subject)),
                       'no subject the rule''s figures have') || ')',
                   s.comparator || ' ' || number_text(s.value) || ' ' || s.unit,
                   case when n.claim_id is null then '—'
                        else number_text(n.value) || ' ' || n.unit || ' (“' || clip(n.matched_text, 60) || '”, '
                             || coalesce(nullif(n.section_path, ''), '—') || ')' end,
                   coalesce(n.pin_cite, ''),
                   case when n.claim_id is null then 'no provision states this' when n.exact then 'matches'
                        else 'differs (rule: ' || number_text(n.value) || ' ' || n.unit || ' at '
                             || coalesce(nullif(n.pin_cite, ''), n.section_path) || ')' end,
                   s.paragraph_id, n.paragraph_id
            from stated s left join nearest n on n.claim_id = s.id and n.rank = 1)
        select document, claim, "claim pin cite", kind, "the document says", "the rule says", "rule pin cite",
               verdict, claim_paragraph_id, rule_paragraph_id
        from rows order by part, k1, k2, k3, k4, k5, k6, k7""",
}


def _m009_views(db: sqlite_utils.Database) -> None:
    """The comparison tables as views (VIEWS_009), one source for `regkb table`, the report and datasette;
    and the one part of them SQL cannot compute, the subjects of each figure (readmodel.figure_subjects),
    as a table the build writes. Term usages indexed by term: the definitions view counts them."""
    db["figure_subjects"].create(
        {"threshold_id": str, "doc_id": str, "paragraph_id": str, "subject": str},
        foreign_keys=[
            ("threshold_id", "thresholds", "id"),
            ("doc_id", "documents", "id"),
            ("paragraph_id", "paragraphs", "id"),
        ],
    )
    db["figure_subjects"].create_index(["threshold_id"])
    db["term_usages"].create_index(["term_id"])
    for name, sql in VIEWS_009.items():
        db.execute(f"create view {name} as {sql}")


def _m010_vector_index(db: sqlite_utils.Database) -> None:
    """The approximate-nearest-neighbour index over the embeddings (pipeline.vectorindex), one row
    per model: its bytes and the paragraph ids its keys stand for. Empty for a small knowledge base."""
    db["vector_index"].create(
        {"model": str, "library": str, "vectors": int, "paragraph_ids": str, "data": bytes}, pk="model"
    )


MIGRATIONS = [
    ("001_core", _m001_core),
    ("002_extraction", _m002_extraction),
    ("003_positions", _m003_positions),
    ("004_published", _m004_published),
    ("005_pin_cites", _m005_pin_cites),
    ("008_digests", _m008_digests),
    ("009_views", _m009_views),
    ("010_vector_index", _m010_vector_index),
]
# every row of these tables quotes its paragraph: text[char_start:char_end] == the named column. The
# extractors' tables come from their declarations (extract.contract); term usages are the link stage's.
PROVENANCE_TABLES = {**provenance_tables(), "term_usages": "matched_text"}
# rows computed across documents (links, usages, clusters): rebuilt every time, never carried over
CORPUS_TABLES = ("term_usages", "position_links", "document_clusters", "vector_index")


def migrate(db: sqlite_utils.Database) -> None:
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    done = {row["name"] for row in db["_migrations"].rows}
    for name, step in MIGRATIONS:
        if name not in done:
            step(db)
            db["_migrations"].insert({"name": name, "applied_at": now()})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def fts_text(text: str) -> str:
    """Text as the FTS index sees it: CJK characters spaced apart, so each is a token and a
    Chinese word can be found as a phrase of characters."""
    if not CJK.search(text):
        return text
    return re.sub(r" {2,}", " ", CJK.sub(lambda m: f" {m.group(0)} ", text)).strip()
