"""Issue 11 on rules nobody here tuned for: the two real rules in ../shared/other-rules/ (15 CFR 7
subpart D, IaaS; 15 CFR 791, ICTS) built end to end and scored against gold written by reading them
before the extractors changed (annotations/other-rules/); and the mechanisms family by family on
their real sentences (segmenter, definition finders, country-list entries, threshold grammar)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.build import build
from pipeline.evaluate import SCORERS, parse_health
from pipeline.extract import extract
from pipeline.ingest import read_document
from pipeline.manifest import load_manifest
from pipeline.models import ManifestEntry, Paragraph
from pipeline.patterns import read_jsonl
from pipeline.segment import segment
from tests.conftest import PROJECT_ROOT, write_manifest

OTHER_RULES = PROJECT_ROOT.parent / "shared" / "other-rules"
IAAS = "agora-1018-15cfr7-iaas"
ICTS = "agora-1955-15cfr791-connected-vehicles"
GOLD = PROJECT_ROOT / "annotations" / "other-rules"


def _entries() -> dict[str, ManifestEntry]:
    return {entry.id: entry for entry in load_manifest() if entry.id in (IAAS, ICTS)}


@pytest.fixture(scope="module")
def other_rules_db(tmp_path_factory):
    assert OTHER_RULES.is_dir(), f"the other real rules are expected at {OTHER_RULES}"
    work = tmp_path_factory.mktemp("other-rules")
    documents = [{k: v for k, v in entry.__dict__.items() if v} for entry in _entries().values()]
    manifest = write_manifest(work / "manifest.toml", documents)
    report = build([manifest], corpus=OTHER_RULES, db_path=work / "kb.db", cache_dir=work / "cache")
    assert report.ok, report.problems
    conn = sqlite3.connect(report.db_path)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _score(conn, kind: str, name: str) -> dict:
    return SCORERS[kind](conn, read_jsonl(GOLD / f"{kind}.{name}.jsonl")).to_dict()


# ----------------------------------------------------------------------------- acceptance on the gold


@pytest.mark.parametrize("name", ["agora-1018", "agora-1955"])
def test_definitions_f1_with_scope_on_rules_nobody_tuned_for(other_rules_db, name):
    score = _score(other_rules_db, "definitions", name)
    assert score["f1"] >= 0.90, (score["misses"], score["spurious"])
    assert score["notes"]["scope_accuracy"] >= 0.75
    assert score["notes"]["whole_definition_accuracy"] >= 0.80, score["notes"].get("cut_definitions")


def test_thresholds_recall_with_the_right_comparator(other_rules_db):
    found = expected = 0
    for name in ("agora-1018", "agora-1955"):
        score = _score(other_rules_db, "thresholds", name)
        found += score["tp"]
        expected += score["tp"] + score["fn"]
    assert found / expected >= 0.90


def test_the_foreign_adversary_list_is_exact_with_its_parts(other_rules_db):
    score = _score(other_rules_db, "country_lists", "agora-1955")
    assert score["notes"]["lists_exact"] == 1 and score["fp"] == 0
    parts = {
        row["iso2"]: row["part_of"]
        for row in other_rules_db.execute(
            "select m.iso2, m.part_of from country_list_members m join country_lists l on l.id = m.list_id "
            "where l.doc_id = ?",
            (ICTS,),
        )
    }
    assert parts == {"CN": None, "HK": "CN", "MO": "CN"}


def test_every_section_has_its_own_path(other_rules_db):
    for doc_id, count in ((IAAS, 11), (ICTS, 15)):
        headings = other_rules_db.execute(
            "select section_path, text from paragraphs where doc_id = ? and kind = 'heading' and text like '§%'",
            (doc_id,),
        ).fetchall()
        assert len(headings) >= count
        for row in headings:
            number = row["text"].split()[1] if row["text"][1:2] == " " else row["text"][1:].split()[0]
            assert row["section_path"] == f"§ {number.strip()}", dict(row)
    # no paragraph of regulatory text falls back to the preamble or the bare part
    assert not other_rules_db.execute(
        "select 1 from paragraphs where doc_id = ? and section_path like 'Preamble%'", (IAAS,)
    ).fetchall()


def test_pin_cites_of_a_source_without_pages_say_so(other_rules_db):
    rows = other_rules_db.execute(
        "select pin_cite, pin_source, pin_locator, section_path from paragraphs "
        "where doc_id = ? and section_path like '§ 7.301%'",
        (IAAS,),
    ).fetchall()
    assert rows
    for row in rows:
        assert row["pin_source"] == "89 FR 5698" and row["pin_locator"] == row["section_path"]
        assert row["pin_cite"] == f"89 FR 5698 (page not in this source), {row['section_path']}"


def test_parse_health_reports_on_the_other_rules(other_rules_db):
    health = parse_health(other_rules_db)
    assert not [s for s in health["definition_sections_without_definitions"] if s["doc_id"] in (IAAS, ICTS)]
    assert health["paragraphs_without_page"] == 0


# ----------------------------------------------------------------------------- the segmenter


def _segment_text(tmp_path: Path, text: str, doc_id: str = "fixture-rule") -> list[Paragraph]:
    path = tmp_path / "rule.txt"
    path.write_text(text, encoding="utf-8")
    entry = ManifestEntry(
        id=doc_id, title="t", doc_type="rule", author_org="Agency", date="2024-01-01", language="en", file=path.name
    )
    return segment(read_document(path), entry)


@pytest.mark.parametrize("space", ["\u2009", "\u00a0", "\u202f", " ", ""])
def test_a_section_sign_takes_any_space(tmp_path, space):
    """The real § 791.2 (from the real rule) with the section sign followed by each space a
    typesetter uses: the sections are recognised whatever the space."""
    source = (OTHER_RULES / "agora-1955-15cfr791-connected-vehicles-rule.txt").read_text(encoding="utf-8")
    text = source.replace("§ ", "§" + space)
    paths = {p.section_path for p in _segment_text(tmp_path, text)}
    assert {"§ 791.1", "§ 791.2", "§ 791.4(a)(1)", "§ 791.200(b)(1)"} <= paths
    assert not any(path.startswith("Preamble") for path in paths)


def test_definition_entries_close_the_sub_paragraphs_of_the_one_before(tmp_path):
    paragraphs = _segment_text(
        tmp_path, (OTHER_RULES / "agora-1018-15cfr7-subpart-d-iaas-proposed-rule.txt").read_text(encoding="utf-8")
    )
    by_start = {p.text.split(" means")[0]: p.section_path for p in paragraphs if " means " in p.text[:120]}
    # "Beneficial owner means …: (1) … (2) …" then "Confidentiality means …" is back at the section
    assert by_start["Confidentiality"] == "§ 7.301"
    assert by_start["Foreign beneficial owner"] == "§ 7.301"


def test_amended_text_sits_under_the_section_it_revises(tmp_path):
    paragraphs = _segment_text(
        tmp_path, (OTHER_RULES / "agora-1955-15cfr791-connected-vehicles-rule.txt").read_text(encoding="utf-8")
    )
    instruction = next(p for p in paragraphs if p.text.startswith("4. Amend § 791.1"))
    assert instruction.kind == "amendment"
    revised = next(p for p in paragraphs if p.text.startswith("(1) Determine whether any acquisition"))
    assert revised.section_path == "§ 791.1(a)(1)"


def test_subparts_give_definitions_their_scope(other_rules_db):
    scopes = {
        row["term"]: row["scope"]
        for row in other_rules_db.execute("select term, scope from definitions where doc_id = ?", (IAAS,))
    }
    assert scopes["Beneficial owner"] == "Part 7, Subpart D"  # "For the purposes of this subpart:"
    icts = {
        row["term"]: row["scope"]
        for row in other_rules_db.execute("select term, scope from definitions where doc_id = ?", (ICTS,))
    }
    assert icts["Appropriate agency heads"] == "Part 791"  # a definitions section defines for its part


# ----------------------------------------------------------------------------- definition finders


def _para(text: str, path: str = "§ 7.301", kind: str = "body", index: int = 1, doc: str = "fixture") -> Paragraph:
    return Paragraph(
        id=f"{doc}:{index}",
        doc_id=doc,
        ordinal=index,
        section_path=path,
        page=1,
        page_label=None,
        pin_cite="",
        text=text,
        kind=kind,
    )


def _definitions(paragraphs: list[Paragraph]) -> dict[str, dict]:
    entry = ManifestEntry(
        id="fixture", title="t", doc_type="rule", author_org="A", date="2024-01-01", language="en", file="x.txt"
    )
    return {row["term"]: row for row in extract(paragraphs, entry=entry)["definitions"]}


def test_definition_forms_of_a_definitions_section():
    """Entries as the two real rules write them, under a real definitions-section heading."""
    found = _definitions(
        [
            _para("§ 791.2 Definitions.", "§ 791.2", "heading", 1),
            _para(
                "Appropriate agency heads means the Secretary of the Treasury, the Secretary of State, and the "
                "Attorney General.",
                "§ 791.2",
                index=2,
            ),
            _para("Artificial intelligence or AI has the meaning set forth in 15 U.S.C. 9401(3).", "§ 791.2", index=3),
            _para(
                "Party or parties to a Transaction means a person or persons engaged in an ICTS Transaction.",
                "§ 791.2",
                index=4,
            ),
            _para("Training or training run refers to any process by which an AI model learns.", "§ 791.2", index=5),
            _para(
                "The term controlled foreign entity means a corporation organized under foreign law.",
                "§ 791.2",
                index=6,
            ),
        ]
    )
    assert found["Appropriate agency heads"]["kind"] == "means"
    assert found["Appropriate agency heads"]["scope"] == "Part 791"
    assert found["Artificial intelligence"]["kind"] == "reference"
    assert found["Artificial intelligence"]["target"] == "15 U.S.C. 9401(3)"
    assert found["AI"]["kind"] == "abbreviation"
    assert "Party or parties to a Transaction" in found and "Party" not in found
    assert {"Training", "training run"} <= set(found)
    assert found["controlled foreign entity"]["kind"] == "means"


def test_a_definition_is_stored_whole_through_its_sub_paragraphs():
    found = _definitions(
        [
            _para("§ 7.301 Definitions and application.", "§ 7.301", "heading", 1),
            _para("For the purposes of this subpart:", "§ 7.301", index=2),
            _para("Beneficial owner means an individual who either:", "§ 7.301", index=3),
            _para("(1) Exercises substantial control over a customer; or", "§ 7.301(1)", index=4),
            _para(
                "(2) Owns or controls at least 25 percent of the ownership interests of a customer.", "§ 7.301(2)", 5
            ),
            _para(
                "Confidentiality means preserving authorized restrictions on information access.", "§ 7.301", index=6
            ),
        ]
    )
    owner = found["Beneficial owner"]
    assert owner["definition"].endswith("25 percent of the ownership interests of a customer.")
    assert owner["matched_text"] == "Beneficial owner means an individual who either:"
    assert not found["Confidentiality"]["definition"].count("\n")


def test_a_definition_in_running_text_is_its_sentence():
    """The rule's own § 748.15 sentence: the definition of "data center" is not "A data center is a facility"."""
    text = (
        "For purposes of this section, a data center is a facility or “facilities” that house a multi-racked, "
        "networked computer system that include servers, storage devices, and networking equipment. Data "
        "Center VEU Authorizations may be either universal or national."
    )
    found = _definitions([_para(text, "§ 748.15", index=1)])
    assert found["data center"]["matched_text"].endswith("storage devices, and networking equipment.")
    assert "Authorizations" not in found["data center"]["definition"]


def test_parenthetical_short_forms_the_rule_goes_on_to_use():
    found = _definitions(
        [
            _para("§ 7.300 Purpose and scope.", "§ 7.300", "heading", 1),
            _para(
                "Foreign actors may use United States Infrastructure as a Service (IaaS) products for malicious "
                "activities.",
                "§ 7.300",
                index=2,
            ),
            _para(
                "Each provider must verify the identity of foreign persons using IaaS products, and mail to Army "
                "Post Office (APO) addresses is refused.",
                "§ 7.300(a)",
                index=3,
            ),
            _para("The People's Republic of China (China) is listed.", "§ 7.300(b)", index=4),
        ]
    )
    assert found["IaaS"]["kind"] == "short_form" and found["IaaS"]["target"] == "Infrastructure as a Service"
    assert "APO" not in found  # never used again on its own
    assert "China" not in found  # a list entry's short form, not a defined term


# ----------------------------------------------------------------------------- thresholds


def _thresholds(text: str, path: str = "§ 7.309(c)(1)") -> list[tuple]:
    rows = extract([_para(text, path)])["thresholds"]
    return [(r["value"] if r["unit"] != "date" else r["value_text"], r["unit"], r["comparator"]) for r in rows]


@pytest.mark.parametrize(
    "text, expected",
    [
        # real sentences of the two other rules and of the AI Diffusion rule
        ("offer the appropriate agency heads twenty-one (21) days to comment in writing", [(21.0, "days", "=")]),
        (
            "must retain such records for no less than ten (10) years following a Final Determination",
            [(10.0, "years", ">=")],
        ),
        ("contains at least tens of billions of parameters", [(1e10, "parameters", ">=")]),
        (
            "a maximum civil penalty not to exceed the greater of $250,000 per violation, subject to inflationary "
            "adjustment, or an amount that is twice the amount of the transaction",
            [(250000.0, "USD", "<="), (2.0, "multiple", "<=")],
        ),
        (
            "on or after the date of the certification, but no earlier than 60 calendar days prior to that date",
            [(60.0, "days", "<=")],
        ),
        (
            "No U.S. IaaS providers shall be required to take any of the special measures earlier than 180 calendar "
            "days following the issuance of determinations",
            [(180.0, "days", ">=")],
        ),
        (
            "a model with weights that are not published —that has been trained on more than 10^26 computational "
            "operations",
            [(1e26, "operations", ">")],
        ),
        (
            "the exporter must notify BIS of all shipments under the exception with an aggregate TPP of more than "
            "3,200,000.",
            [(3.2e6, "TPP", ">")],
        ),
        ("Each IaaS provider that offers or maintains one or more Accounts may develop an ADP", [(1.0, "count", ">=")]),
        (
            "b. The 2 in the 'TPP' formula is based on industry convention of counting one multiply-accumulate "
            "computation, D = A × B + C, as 2 operations for purpose of datasheets.",
            [],
        ),
        ("This license exception may be used until January 15, 2026.", [("2026-01-15", "date", "<=")]),
        ("Filed 1/13/2025; FR Doc. 2025-00636 published January 15, 2025.", []),
    ],
)
def test_threshold_grammar(text, expected):
    assert _thresholds(text) == expected


@pytest.mark.slow
def test_one_row_per_number_and_a_subject_from_its_clause(real_db):
    """The rule's three UVEU geographic limits (Supplement No. 10 to Part 748, I.6) carried one
    subject, "Geographic allocations": each now says what it limits."""
    rows = real_db.execute(
        "select t.value, t.comparator, t.subject, t.char_start from thresholds t "
        "join paragraphs p on p.id = t.paragraph_id "
        "where p.doc_id = 'bis-2025-00636-pi' and p.section_path = 'Supplement No. 10 to Part 748 > I > 6' "
        "and t.unit = '%' order by t.char_start"
    ).fetchall()
    assert [(r["value"], r["comparator"]) for r in rows] == [(25.0, "<="), (7.0, "<="), (50.0, "<=")]
    subjects = [r["subject"] for r in rows]
    assert len(set(subjects)) == 3 and all(s.startswith("UVEU") for s in subjects), subjects
    assert "single" in subjects[1] and "United States" in subjects[2]
    starts = [r["char_start"] for r in rows]
    assert len(starts) == len(set(starts))


# ----------------------------------------------------------------------------- the AI Diffusion rule's defects

PI = "bis-2025-00636-pi"


def _headings(real_db, page_from: int, page_to: int) -> list[str]:
    return [
        row["section_path"]
        for row in real_db.execute(
            "select section_path from paragraphs where doc_id = ? and kind = 'heading' and page between ? and ? "
            "order by ordinal",
            (PI, page_from, page_to),
        )
    ]


@pytest.mark.slow
def test_preamble_headings_at_every_level_hang_under_their_parent(real_db):
    paths = _headings(real_db, 3, 44)
    ii = "Preamble > SUPPLEMENTARY INFORMATION > II. Expanded Advanced Computing Integrated Circuit Controls"
    b = f"{ii} > B. License Exceptions for 3A090, 4A090, corresponding .z items, and 4E091"
    c = f"{ii} > C. Data Center Validated End-Users (DC VEUs): Universal and National VEUs"
    assert b in paths and c in paths
    assert any(p.startswith(f"{b} > 4. Updates to License Exception") for p in paths)
    assert f"{c} > 1. Data Center VEU: Universal Validated End User" in paths  # not under B. > 3. (LPP)
    background = "Preamble > SUPPLEMENTARY INFORMATION > I. Background > b. AI Diffusion Policy Review"
    assert f"{background} > i. Impact of AI Diffusion on National Security and Foreign Policy" in paths
    assert f"{background} > iii. Framework for the Diffusion of Advanced AI Technologies" in paths
    rulemaking = real_db.execute(
        "select section_path from paragraphs where doc_id = ? and page = 43 and text like '1. Executive Orders 12866%'",
        (PI,),
    ).fetchone()
    assert rulemaking["section_path"] == "Preamble > SUPPLEMENTARY INFORMATION > Rulemaking Requirements"


@pytest.mark.slow
def test_parse_health_reports_the_preambles_numbering_slip(real_db):
    """The rule numbers its NVEU heading "A." right after "1. Data Center VEU: Universal …"."""
    breaks = [b for b in parse_health(real_db)["preamble_outline_breaks"] if b["doc_id"] == PI]
    assert [b["section_path"].rsplit(" > ", 1)[-1] for b in breaks] == [
        "A. Data Center VEU: National Validated End-User"
    ]


@pytest.mark.slow
def test_definitions_of_the_rule_are_whole(real_db):
    rows = {
        row["term"]: row
        for row in real_db.execute("select term, definition, kind from definitions where doc_id = ?", (PI,))
    }
    assert rows["data center"]["definition"].endswith("storage devices, and networking equipment.")
    assert rows["model weights"]["definition"].startswith("‘Parameters’ for an artificial intelligence model")


@pytest.mark.slow
def test_threshold_defects_of_the_rule(real_db):
    def rows(where: str, *args) -> list[sqlite3.Row]:
        return real_db.execute(
            "select t.value, t.unit, t.comparator, t.matched_text from thresholds t join paragraphs p "
            f"on p.id = t.paragraph_id where p.doc_id = '{PI}' and {where}",
            args,
        ).fetchall()

    trained = rows("t.unit = 'operations' and t.matched_text like 'more than 10^26%'")
    assert trained and all(r["comparator"] == ">" for r in trained)
    assert not rows("t.matched_text = '2 operations'")  # the TPP formula's convention, not a limit
    assert rows("t.value = 3200000 and t.comparator = '>' and p.section_path like 'Preamble%'")


@pytest.mark.slow
def test_pin_cites_that_are_true(real_db):
    spanning = real_db.execute(
        "select page, page_end, pin_cite from paragraphs where doc_id = ? and page_end is not null", (PI,)
    ).fetchall()
    assert len(spanning) >= 50
    for row in spanning:
        assert row["pin_cite"].endswith(f"at {row['page']}–{row['page_end']}")
    published = real_db.execute(
        "select pin_cite, section_path from paragraphs where doc_id = 'bis-2025-00636-regtext' "
        "and section_path like '§ 740.29%' limit 5"
    ).fetchall()
    assert published and all(
        r["pin_cite"] == f"90 FR 4544 (page not in this source), {r['section_path']}" for r in published
    )


def test_parse_health_checks_a_preambles_contents_against_its_headings(tmp_path):
    """A preamble that lists its outline (as FR preambles with a table of contents do): entries
    with no heading, and headings the contents do not list, are reported. (A small KB written
    here: neither real rule in ../shared has a table of contents.)"""
    from pipeline.evaluate import toc_disagreements

    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("create table paragraphs (doc_id, ordinal, kind, text, section_path, pin_cite)")
    rows = [
        ("heading", "Table of Contents", "Preamble > SUPPLEMENTARY INFORMATION"),
        ("body", "I. Background\nII. Discussion\nA. Comments Received", "Preamble > SUPPLEMENTARY INFORMATION"),
        ("heading", "I. Background", "Preamble > SUPPLEMENTARY INFORMATION > I. Background"),
        ("body", "The rule …", "Preamble > SUPPLEMENTARY INFORMATION > I. Background"),
        ("heading", "II. Discussion", "Preamble > SUPPLEMENTARY INFORMATION > II. Discussion"),
        ("heading", "B. Changes Made", "Preamble > SUPPLEMENTARY INFORMATION > II. Discussion > B. Changes Made"),
    ]
    conn.executemany(
        "insert into paragraphs values ('doc', ?, ?, ?, ?, '')",
        [(i, kind, text, path) for i, (kind, text, path) in enumerate(rows, 1)],
    )
    found = {(d["entry"], d["problem"]) for d in toc_disagreements(conn)}
    assert found == {
        ("A. Comments Received", "listed in the contents, no such heading found"),
        ("B. Changes Made", "heading not in the contents"),
    }


def test_parse_health_reads_a_letters_contents_in_any_case():
    """DIGITALEUROPE's real response (AI-RFI-2025-1349) heads its contents "Table of contents": SQL's
    like matched it and the Python that looked for its start did not, so `regkb evaluate` stopped with
    a StopIteration on any knowledge base holding that letter."""
    from pipeline.evaluate import toc_disagreements

    path = PROJECT_ROOT.parent / "shared/dockets/ostp-ai-action-plan-rfi-2025/text/AI-RFI-2025-1349.txt"
    entry = ManifestEntry(
        id="ai-rfi-2025-1349", title="DIGITALEUROPE", doc_type="comment", author_org="DIGITALEUROPE",
        date="2025-03-15", language="en", file=path.name,
    )  # fmt: skip
    paragraphs = segment(read_document(path), entry)
    assert any(p.kind == "heading" and p.text == "Table of contents" for p in paragraphs)
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("create table paragraphs (doc_id, ordinal, kind, text, section_path, pin_cite)")
    conn.executemany(
        "insert into paragraphs values (?, ?, ?, ?, ?, ?)",
        [(p.doc_id, p.ordinal, p.kind, p.text, p.section_path, p.pin_cite) for p in paragraphs],
    )
    assert all(d["doc_id"] == "ai-rfi-2025-1349" for d in toc_disagreements(conn))


def test_regulatory_text_after_a_preamble_without_a_part_heading(tmp_path):
    """SYNTHETIC FIXTURE (written here, in the shape of an FR rule): a preamble, its List of Subjects
    and the sentence that opens the regulatory text, then sections whose section sign is followed
    by a thin space and no "PART 7—" heading: the sections are sections, not preamble."""
    text = "\n".join(
        [
            "AGENCY: Department of Commerce.",
            "",
            "SUMMARY: This rule amends the definitions.",
            "",
            "I. Background",
            "",
            "The Department proposed the rule in 2021.",
            "",
            "List of Subjects in 15 CFR Part 7",
            "",
            "Administrative practice and procedure.",
            "",
            "For the reasons set out in the preamble, the Department amends 15 CFR part 7 as follows:",
            "",
            "§\u20097.2 Definitions.",
            "",
            "Appropriate agency heads means the Secretary of the Treasury and the Attorney General.",
            "",
            "§\u20097.3 Scope.",
            "",
            "(a) This part applies to any transaction.",
            "",
        ]
    )
    paths = {p.text[:24]: p.section_path for p in _segment_text(tmp_path, text)}
    assert paths["I. Background"].startswith("Preamble")
    assert paths["Appropriate agency heads"] == "§ 7.2"
    assert paths["(a) This part applies to"] == "§ 7.3(a)"


def test_the_verb_gives_the_kind():
    """The real § 791.101(b): "the term “document” includes …" is an inclusive definition."""
    found = _definitions(
        [
            _para(
                "(b) For purposes of paragraph (a) of this section, the term “document” includes any "
                "written, recorded, or graphic matter or other means of preserving thought.",
                "§ 791.101(b)",
            )
        ]
    )
    assert found["document"]["kind"] == "includes"
