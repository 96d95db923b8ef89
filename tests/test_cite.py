"""`regkb cite` reads the pin cite as data (paragraphs.pin_source and pin_locator, as segment stores
them) instead of parsing its rendering: on the knowledge base built from the real corpus (conftest's
real_kb), every public-inspection paragraph is cited at its locator, a paragraph over a page break
with both pages, and a cite does not change when the rendered pin cite is taken away."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.cite import Citable, lookup, render

pytestmark = pytest.mark.slow  # the real corpus's knowledge base is built once per session (conftest real_kb)

PI = "bis-2025-00636-pi"


def test_every_public_inspection_paragraph_is_cited_at_its_locator(real_kb, real_db):
    rows = real_db.execute("select id, section_path, pin_locator from paragraphs where doc_id = ?", (PI,)).fetchall()
    assert len(rows) > 1000 and any("–" in row["pin_locator"] for row in rows)
    for row in rows[::25]:
        text = render(lookup(real_kb.db_path, row["id"]), "text")
        where = f"public-inspection version, FR Doc. 2025-00636, {row['pin_locator']}"
        if row["section_path"].startswith(("§", "Supplement", "ECCN", "Part")):
            where = f"{row['section_path']}; {where}"
        assert f"(interim final rule), {where}, https://" in text, text[:300]


def test_a_paragraph_over_a_page_break_cites_both_pages(real_kb, real_db):
    row = real_db.execute(
        """select id from paragraphs where doc_id = ? and section_path = '§ 734.9(l)(1)'
                             and pin_locator = 'at 48–49'""",
        (PI,),
    ).fetchone()
    assert row is not None
    assert "§ 734.9(l)(1); public-inspection version, FR Doc. 2025-00636, at 48–49" in render(
        lookup(real_kb.db_path, row["id"]), "text"
    )


def test_the_cite_is_made_from_the_pin_cites_parts_not_from_its_text(real_kb, real_db):
    rows = real_db.execute(
        """
        select min(id) as id from paragraphs
        where doc_id in (?, 'bis-2025-00636-regtext', 'agora-1018-15cfr7-iaas') and section_path like '§%'
        group by doc_id""",
        (PI,),
    ).fetchall()
    assert len(rows) == 3
    for row in rows:
        item = lookup(real_kb.db_path, row["id"])
        assert item.pin_source and item.pin_cite.startswith(item.pin_source)
        # nothing of the rendering is read: the same cite without it
        assert render(dataclasses.replace(item, pin_cite=""), "text") == render(item, "text"), row["id"]
    # a letter cited by its own citation: the locator after it
    row = real_db.execute("""select id, pin_locator from paragraphs where doc_id = 'iti-2025-03-15-ai-action-plan-rfi'
                             and pin_locator = 'at 5' limit 1""").fetchone()
    assert render(lookup(real_kb.db_path, row["id"]), "text").startswith(
        "Information Technology Industry Council (ITI), ITI Comments to OSTP RFI on an AI Action Plan "
        "(Mar. 15, 2025), at 5, https://"
    )


def test_a_source_without_pages_is_cited_by_its_section(real_kb, real_db):
    row = real_db.execute("""select id from paragraphs where doc_id = 'agora-1018-15cfr7-iaas'
                             and section_path = 'Subpart D'""").fetchone()
    text = render(lookup(real_kb.db_path, row[0]), "text")
    assert ", (page not in this source), Subpart D, " in text


def test_a_federal_register_page_is_cited_by_its_number():
    """The published rule's pages (a source the machine has no PDF of: the paragraph is made by hand)."""
    item = Citable(
        id="bis-2025-00636:1",
        kind="paragraph",
        quote="(2) Cumulative TPP.",
        holder="",
        doc_id="bis-2025-00636",
        title="Framework for Artificial Intelligence Diffusion",
        author_org="Bureau of Industry and Security (BIS)",
        doc_type="rule",
        date="2025-01-15",
        url="https://www.federalregister.gov/d/2025-00636",
        cite_as="90 FR 4544",
        section_path="§ 740.29(h)(2)",
        page=16,
        page_label="4559",
        pin_cite="90 FR 4559",
        paragraph_id="bis-2025-00636:1",
        pin_source="90 FR",
        pin_locator="4559",
    )
    assert render(item, "text") == (
        "Bureau of Industry and Security (BIS), Framework for Artificial Intelligence "
        "Diffusion, 90 Fed. Reg. 4544 (Jan. 15, 2025) (interim final rule), 4559, "
        "§ 740.29(h)(2), https://www.federalregister.gov/d/2025-00636: "
        "“(2) Cumulative TPP.”"
    )
