"""Property-based tests (hypothesis): the segmenter, every extractor family, sentence splitting and
provision references, and the search query parser, on text assembled from the pieces real rules
and letters are made of (section signs, paragraph markers, defined-term quotes, country names,
numbers with units, stance cues, FTS5 syntax) mixed with arbitrary unicode.

The properties: no exception escapes; every extracted row quotes its paragraph exactly
(text[char_start:char_end] == matched_text, or quote for positions), as the build's provenance check
demands; segment keeps the invariants store.verify_paragraphs enforces and invents no text; search
hits respect their filters and user text never fails as FTS5 syntax.

Examples are derandomized, so CI runs the same ones every time."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.build import document_row
from pipeline.extract import extract
from pipeline.extract.positions import sentence_spans
from pipeline.ingest import _text_pages
from pipeline.link import METHOD_ORDER, cited_provisions, term_usages
from pipeline.models import Line, ManifestEntry, Page, Paragraph, RawDocument
from pipeline.query import QueryError, _terms, search
from pipeline.segment import segment
from pipeline.store import PROVENANCE_TABLES, verify_paragraphs, write_knowledge_base

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ----------------------------------------------------------------------------- text strategies

SEPARATORS = [" ", " ", " ", "\n", "\n\n", ""]
ANY_TEXT = st.text(max_size=12)  # arbitrary unicode between the pieces


def assembled(pieces: list[str], max_size: int = 40) -> st.SearchStrategy[str]:
    """Text made of domain pieces, separators and arbitrary unicode, in any order."""
    part = st.one_of(st.sampled_from(pieces), st.sampled_from(pieces), st.sampled_from(SEPARATORS), ANY_TEXT)
    return st.lists(part, max_size=max_size).map("".join)


RULE_PIECES = [
    "§ 740.29",
    "§ 740.29 License Exception Low Processing Performance (LPP).",
    "§§ 740.27",
    "(a)",
    "(b)",
    "(1)",
    "(2)",
    "(i)",
    "(ii)",
    "(v)",
    "(x)",
    "(A)",
    "(B)",
    "(aa)",
    "(h) Definitions—(1) Ultimate consignee.",
    "PART 740—LICENSE EXCEPTIONS",
    "Supplement No. 5 to Part 740—",
    "4E091 ",
    "ECCN 3A090",
    "Technical Notes:",
    "Note 1:",
    "N.B.:",
    "* * *",
    "* * * * * 18. Amend",
    "AGENCY:",
    "SUMMARY:",
    "SUPPLEMENTARY INFORMATION:",
    "I. Background",
    "A. ",
    "1. ",
    "a. ",
    "a.1. ",
    "3. Section 740.29 is added to read as follows:",
    "b. Revising paragraph (a)",
    "Authority: 50 U.S.C. 4801",
    "List of Subjects",
    "License Requirements",
    "Reason for Control:",
    "Dear Secretary Raimondo:",
    "Sincerely,",
    "By Jane Doe",
    "January 13, 2025",
    "1401 Constitution Avenue NW",
    "●",
    "•",
    "- ",
    "The rule",
    "caps exports of",
    "advanced computing items.",
    "We oppose the rule.",
    "10^26",
    "Page 2 of 3",
    "2",
    "12",
    "\f",
    "中文",
    "出口管制。",
    "comput-",
    "ing",
    "non-",
    "“",
    "”",
    "(",
    ")",
    ":",
    ";",
    ".",
    "^1",
    "¹",
    "1 See 90 FR 4544.",
    "# ",
    "## ",
    "**",
    "![](x.png)",
]
DEFINITION_PIECES = [
    "“Advanced AI model” means",
    "‘cumulative TPP’ is",
    "'Parameters' refers to",
    "For purposes of this section,",
    "For the purposes of 5A004.b.1,",
    "For purposes of paragraph (h)(2) of this section,",
    "for purposes of this part,",
    "is defined as",
    "Model Weights. See ECCN 4E091",
    "(TPP)",
    "('TPP')",
    "or 'Air Mass Zero',",
    "(1) Ultimate consignee.",
    "the term",
    "any value learned during training",
    "a model",
    "Total processing performance",
    "Cumulative TPP.",
    "means",
    "‘",
    "’",
    "'",
    "“",
    "”",
    '"',
    ".",
    ",",
    "See",
    "ECCN 3A090",
    "1.",
    "(2)",
    "Definitions",
    "the EAR",
]
DEFINITION_SECTIONS = [
    "§ 772.1",
    "§ 740.29(h)(2)",
    "§ 740.29(h)",
    "ECCN 4E091 > Technical Notes > 1",
    "ECCN 3A090 > Technical Note",
    "Supplement No. 5 to Part 740(a)",
    "Preamble > Definitions",
    "",
    "§ 734.9(l)(1)",
]
COUNTRY_PIECES = [
    "China",
    "Israel",
    "Singapore",
    "Brazil",
    "India",
    "United States",
    "the United Kingdom",
    "Taiwan",
    "Korea",
    "Republic of Korea",
    "Macau",
    "Australia",
    "Belgium",
    "Canada",
    "Japan",
    "the Netherlands",
    "New Zealand",
    "Atlantis",
    "Country Group D:5",
    "Country Groups D:1, D:4, or D:5",
    "A:5",
    "A:6",
    "arms-embargoed",
    "中国",
    "以色列",
    "新加坡",
    "澳大利亚",
    "台湾",
    "、",
    "和",
    "以及",
    "例如",
    ", ",
    " and ",
    " or ",
    "; ",
    " such as ",
    " including ",
    "\n",
    ":",
    "(a) Destinations eligible:",
    "No. 5",
    "U.S.",
    "e.g.",
    ".",
    "—",
]
THRESHOLD_PIECES = [
    "more than",
    "at least",
    "less than",
    "up to",
    "not more than",
    "exceeding",
    "10^26",
    "10^25",
    "2.5x10^25",
    "2.5 × 10^25",
    "4,800",
    "1,600",
    "26,900,000",
    "633,000,000",
    "ten percent",
    "twenty-five",
    "50%",
    "25 percent",
    "TPP",
    "total processing performance",
    "performance density",
    "operations",
    "GPUs",
    "个 GPU",
    "万",
    "亿",
    "到",
    "至",
    " and ",
    " to ",
    "–",
    "-",
    "or more",
    "or less",
    "days",
    "months",
    "$",
    "USD",
    "million",
    "cannot exceed",
    "may not",
    "Part 744",
    "§ 740.29",
    "NIST 800-53",
    "2 × 'MacTOPS'",
    " | ",
    "Quarter",
    "2025 Q1",
    "Cumulative Per-Company Per-Country Allocation in TPP",
    "\n",
    "0",
    "1",
    "99.5",
    ".",
    ",",
]
POSITION_PIECES = [
    "We oppose",
    "we urge BIS to",
    "should",
    "rescind",
    "withdraw",
    "the rule",
    "the interim final rule",
    "the AI diffusion rule",
    "country caps",
    "tiers",
    "Tier 2",
    "model weights",
    "license exception",
    "compliance burden",
    "comment period",
    "allies",
    "We support",
    "welcome",
    "ITI said",
    "according to ITIF",
    "SIA stated",
    "NVIDIA",
    "Oracle",
    "OpenAI",
    "信息技术产业委员会表示",
    "规则",
    "反对",
    "呼吁",
    "。",
    ".",
    "!",
    "?",
    "●",
    "• ",
    "U.S.",
    "e.g.",
    "However,",
    "but",
    "not",
    '"',
    "“",
    "”",
    "(",
    ")",
    "Dr.",
    "No. 5",
    "§ 740.29(b)(1)",
    "ECCN 4E091",
    "Supplement No. 5 to part 740",
    "4E091",
    "§§ 740.27",
    "validated end user",
    "Data Center VEU",
]
SECTION_PATHS = [
    "",
    "§ 740.29(h)(2)",
    "Preamble > SUPPLEMENTARY INFORMATION",
    "Country caps",
    "ECCN 4E091",
    "Supplement No. 5 to Part 740(a)",
    "§ 772.1",
]


def paragraphs_of(texts: list[str], section_paths: list[str], kinds: list[str], doc_id: str = "doc") -> list[Paragraph]:
    return [
        Paragraph(
            id=f"{doc_id}:{index}",
            doc_id=doc_id,
            ordinal=index,
            section_path=path,
            page=1,
            page_label=None,
            pin_cite=doc_id,
            text=text,
            kind=kind,
        )
        for index, (text, path, kind) in enumerate(zip(texts, section_paths, kinds), start=1)
    ]


def paragraph_lists(
    pieces: list[str],
    sections: list[str] = SECTION_PATHS,
    kinds: tuple[str, ...] = ("body", "body", "list", "table", "heading"),
):
    return (
        st.integers(min_value=1, max_value=4)
        .flatmap(
            lambda n: st.tuples(
                st.lists(assembled(pieces).filter(str.strip), min_size=n, max_size=n),
                st.lists(st.sampled_from(sections), min_size=n, max_size=n),
                st.lists(st.sampled_from(kinds), min_size=n, max_size=n),
            )
        )
        .map(lambda parts: paragraphs_of(*parts))
    )


ENTRIES = st.builds(
    ManifestEntry,
    id=st.just("doc"),
    title=st.sampled_from(["Letter on the AI diffusion rule", "Blog post", "规则"]),
    doc_type=st.sampled_from(["rule", "comment", "statement", "news"]),
    author_org=st.sampled_from(["Information Technology Industry Council (ITI)", "OpenAI", "软荐 (news site)", ""]),
    date=st.just("2025-01-07"),
    language=st.sampled_from(["en", "zh"]),
    file=st.just("doc.txt"),
)


# ----------------------------------------------------------------------------- extractors


def assert_rows_quote_their_paragraphs(rows: dict[str, list[dict]], paragraphs: list[Paragraph]) -> None:
    texts = {p.id: p.text for p in paragraphs}
    for table, column in PROVENANCE_TABLES.items():
        for row in rows.get(table, []):
            text = texts[row["paragraph_id"]]
            assert 0 <= row["char_start"] <= row["char_end"] <= len(text), (table, row)
            assert text[row["char_start"] : row["char_end"]] == row[column], (table, row)


FAMILIES = {
    "definitions": (DEFINITION_PIECES, DEFINITION_SECTIONS, ("definitions",)),
    "country_lists": (
        COUNTRY_PIECES,
        SECTION_PATHS,
        ("country_lists", "country_list_members", "country_mentions", "country_group_refs"),
    ),
    "thresholds": (THRESHOLD_PIECES, SECTION_PATHS, ("thresholds",)),
    "positions": (POSITION_PIECES, SECTION_PATHS, ("positions",)),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_extracted_row_quotes_its_paragraph(family):
    pieces, sections, tables = FAMILIES[family]
    found: Counter = Counter()

    @SETTINGS
    @given(paragraphs=paragraph_lists(pieces, sections), entry=ENTRIES)
    def check(paragraphs, entry):
        rows = extract(paragraphs, entry.language, entry)
        assert_rows_quote_their_paragraphs(rows, paragraphs)
        usages = term_usages(rows["definitions"], paragraphs)
        assert_rows_quote_their_paragraphs({"term_usages": usages}, paragraphs)
        found.update(table for table in tables if rows[table])

    check()
    # the pieces do reach the extractor under test: a property over no rows would prove nothing
    assert set(found) == set(tables), found


# ----------------------------------------------------------------------------- sentences and provision references


@SETTINGS
@given(text=assembled(POSITION_PIECES + RULE_PIECES, max_size=60))
def test_sentence_spans_are_stripped_ordered_sentences_of_the_text(text):
    spans = sentence_spans(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        sentence = text[start:end]
        assert sentence == sentence.strip() and sentence
        previous_end = end


@SETTINGS
@given(
    text=assembled(POSITION_PIECES + RULE_PIECES, max_size=60),
    topic=st.sampled_from(["", "country_caps", "model_weights", "veu_security", "other", "no-such-topic"]),
)
def test_cited_provisions_name_what_the_text_says(text, topic):
    provisions = cited_provisions(text, topic)
    prefixes = [prefix for prefix, _, _ in provisions]
    assert len(prefixes) == len(set(prefixes))
    for prefix, matched, method in provisions:
        assert method in METHOD_ORDER
        assert prefix.startswith(("§ 7", "Supplement No.", "ECCN ")) or method in ("glossary", "topic"), prefix
        # references and glossary terms are quoted from the text; topics quote nothing
        assert (matched in text and matched) if method in ("reference", "glossary") else matched == ""


# ----------------------------------------------------------------------------- segmenter


def raw_from_text(text: str, markdown: bool, flags: dict) -> RawDocument:
    return RawDocument(
        path="doc.txt",
        sha256="0" * 64,
        media="markdown" if markdown else "text",
        pages=_text_pages(text, markdown),
        **flags,
    )


LAYOUT_LINES = st.lists(
    st.builds(
        Line,
        text=assembled(RULE_PIECES, max_size=8).map(str.strip).filter(bool),
        page=st.integers(1, 3),
        x0=st.floats(0, 600),
        x1=st.floats(0, 600),
        top=st.floats(0, 800),
        size=st.sampled_from([0.0, 8.0, 10.0, 12.0]),
        bold=st.booleans(),
        kind=st.sampled_from(["body", "body", "table", "footnote", "list"]),
        starts_block=st.booleans(),
        after_short=st.booleans(),
    ),
    max_size=30,
)


def raw_from_lines(lines: list[Line], flags: dict) -> RawDocument:
    """Lines as a PDF's layout gives them: in page order, any flags."""
    pages = [Page(number=n, label=str(4543 + n)) for n in (1, 2, 3)]
    for line in sorted(lines, key=lambda line: line.page):
        pages[line.page - 1].lines.append(line)
    return RawDocument(path="doc.pdf", sha256="0" * 64, media="pdf", pages=pages, **flags)


CITATION_FLAGS = st.fixed_dictionaries(
    {"fr_citation": st.sampled_from([None, "90 FR"]), "public_inspection": st.sampled_from([None, "2025-00636"])}
)


def visible(text: str) -> Counter:
    return Counter(char for char in text if not char.isspace() and char != "-")


@SETTINGS
@given(
    source=st.one_of(
        st.tuples(assembled(RULE_PIECES, max_size=80), st.booleans(), CITATION_FLAGS).map(lambda t: raw_from_text(*t)),
        st.tuples(LAYOUT_LINES, CITATION_FLAGS).map(lambda t: raw_from_lines(*t)),
    ),
    entry=ENTRIES,
)
def test_segment_keeps_the_build_invariants_and_invents_no_text(source, entry):
    given_text = "".join(line.text for page in source.pages for line in page.lines)
    paragraphs = segment(source, entry)
    verify_paragraphs(paragraphs)  # unique ids, a page, no empty text: what the build refuses to store
    assert [p.ordinal for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    assert all(
        p.id.startswith(f"{entry.id}:") and p.doc_id == entry.id and p.text == p.text.strip() for p in paragraphs
    )
    assert all(1 <= p.page <= max(len(source.pages), 1) and p.pin_cite for p in paragraphs)
    assert not visible("".join(p.text for p in paragraphs)) - visible(given_text)
    assert segment(source, entry) == paragraphs  # content-addressed: the same input, the same ids


# ----------------------------------------------------------------------------- search query parser

# the query language of FTS5, and what people paste into a search box
QUERY_PIECES = [
    '"',
    '""',
    "'",
    "*",
    "^",
    ":",
    "(",
    ")",
    "{",
    "}",
    "+",
    "-",
    "NEAR",
    "NEAR(",
    "AND",
    "OR",
    "NOT",
    "text:",
    "section_path:",
    "{text section_path}:",
    "caps",
    "rule",
    "comput*",
    "low processing",
    "出口管制",
    "模型",
    "§ 740.29",
    "(a)(1)",
    "'; DROP TABLE paragraphs; --",
    "1=1",
    "\x00",
    "\\",
    "%",
    "_",
    "\u200b",
    "é",
    "ﬁ",
    "🙂",
    "\udc80",
    "caps*)",
    "*caps",
    "c*a*p*s",
]
QUERIES = assembled(QUERY_PIECES, max_size=30)
FTS5_STRING = re.compile(r'"(?:[^"]|"")*"\*?')


@pytest.fixture(scope="module")
def query_kb(tmp_path_factory):
    """A small knowledge base written by the store itself (no parsing): section paths with LIKE's
    wildcards, a Chinese paragraph and a paragraph for each word the properties look for."""
    db = tmp_path_factory.mktemp("query-kb") / "kb.db"
    entry = ManifestEntry(
        id="letter",
        title="Letter",
        doc_type="comment",
        author_org="Test Org",
        date="2025-01-07",
        language="en",
        file="letter.txt",
    )
    texts = [
        "We object to the country caps in the interim final rule.",
        "License Exception LPP is too narrow for low processing performance.",
        "模型权重的出口管制将损害美国的领导地位。",
        "The allocation table lists 100% of the TPP for Tier 2 destinations.",
        "Computing power and computation limits; § 740.29(a)(1) applies.",
    ]
    paths = ["Country caps", "§ 740.29(a)(1)", "出口管制", "Allocation_table > 100% of TPP", "Allocation table > 100"]
    paragraphs = paragraphs_of(texts, paths, ["body"] * len(texts), doc_id="letter")
    write_knowledge_base(
        db, [document_row(entry, "0" * 64, 1, "text", "letter.txt")], paragraphs, [], {"fingerprint": ""}
    )
    return db


@SETTINGS
@given(query=QUERIES)
def test_query_terms_are_always_valid_fts5_strings(query):
    terms = _terms(query)
    assert all(FTS5_STRING.fullmatch(term) for term in terms), terms
    with sqlite3.connect(":memory:") as conn:
        conn.execute(
            "create virtual table t using fts5(text, section_path, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        conn.execute("insert into t values ('we object to the country caps', '§ 740.29')")
        for expression in (" AND ".join(terms), " OR ".join(terms)):
            if expression:
                conn.execute("select count(*) from t where t match ?", (expression,)).fetchone()


@SETTINGS
@given(
    query=QUERIES,
    doc=st.sampled_from([None, "letter", "other", "'; drop table documents; --", "%"]),
    section=st.one_of(
        st.none(),
        st.sampled_from(["Allocation_table", "Allocation table", "100%", "%", "_", "\\", "出口", "§ 740.29("]),
        st.text(max_size=6),
    ),
)
def test_search_hits_respect_their_filters_and_only_empty_queries_fail(query_kb, query, doc, section):
    try:
        hits = search(query_kb, query, doc=doc, section=section, limit=50)
    except QueryError as error:
        assert not _terms(query), (query, error)  # the only refusal: nothing left to search for
        assert "nothing to search for" in str(error)
        return
    assert all(hit.doc_id == doc for hit in hits if doc)
    # LIKE's % and _ in a section filter are literal characters, not wildcards
    assert all(hit.section_path.startswith(section) for hit in hits if section)


@SETTINGS
@given(before=QUERIES.map(lambda q: q.replace('"', "")), after=QUERIES.map(lambda q: q.replace('"', "")))
def test_a_word_in_a_hostile_query_still_finds_its_paragraph(query_kb, before, after):
    """Syntax around a word is taken as words too: the paragraph with "caps" is among the hits
    (all terms first, then any; the knowledge base is smaller than the limit)."""
    hits = search(query_kb, f"{before} caps {after}", limit=50)
    assert "Country caps" in {hit.section_path for hit in hits}
