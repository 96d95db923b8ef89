"""The segmenter on small hand-made inputs, one structure family at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ingest import read_document
from pipeline.manifest import DEFAULT_MANIFEST, load_manifest
from pipeline.models import Line, ManifestEntry, Page, RawDocument
from pipeline.segment import MarkerStack, Pin, make_blocks, pin_of, segment

REAL_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

RULE = ManifestEntry(
    id="rule",
    title="Rule",
    doc_type="rule",
    author_org="BIS",
    date="2025-01-15",
    language="en",
    url="",
    file="rule.txt",
    cite_as="90 FR 4544",
)
LETTER = ManifestEntry(
    id="letter",
    title="Letter",
    doc_type="comment",
    author_org="ITI",
    date="2025-01-07",
    language="en",
    url="",
    file="letter.txt",
)


def doc(*texts: str, page_label: str | None = None) -> RawDocument:
    lines = [Line(text=t, page=1, starts_block=True) for t in texts]
    return RawDocument(path="x", sha256="0" * 64, media="text", pages=[Page(1, page_label, lines)])


def paths(stack_markers, lookahead=None):
    stack = MarkerStack()
    out = []
    for i, marker in enumerate(stack_markers):
        nxt = stack_markers[i + 1] if i + 1 < len(stack_markers) else lookahead
        stack.push(marker, nxt)
        out.append("".join(f"({m})" for m in stack.labels()))
    return out


def test_markers_nest_in_cfr_order():
    assert paths(["a", "1", "i", "A", "B", "ii", "2", "b"]) == [
        "(a)",
        "(a)(1)",
        "(a)(1)(i)",
        "(a)(1)(i)(A)",
        "(a)(1)(i)(B)",
        "(a)(1)(ii)",
        "(a)(2)",
        "(b)",
    ]


@pytest.mark.parametrize(
    "markers, lookahead, expected_last",
    [
        (["h", "1", "i"], None, "(h)(1)(i)"),  # numeral under a digit level
        (["h", "1", "i"], "ii", "(h)(1)(i)"),
        (["h", "1", "2", "i"], "j", "(i)"),  # lookahead: the letter after (h)
        (["h", "i"], None, "(i)"),  # straight after (h): a letter
        (["a", "1", "i", "ii", "iii", "iv", "v"], None, "(a)(1)(v)"),
        (["a", "b", "c", "d", "e", "f", "g", "h", "i"], "j", "(i)"),
    ],
)
def test_ambiguous_roman_or_letter(markers, lookahead, expected_last):
    assert paths(markers, lookahead)[-1] == expected_last


def test_rule_sections_supplements_and_lists():
    raw = doc(
        "PART 740—LICENSE EXCEPTIONS",
        "8. Add § 740.29 to read as follows:",
        "§ 740.29 License Exception Low Processing Performance (LPP).",
        "(a) Scope. License Exception LPP authorizes exports.",
        "(h) Definitions—(1) Ultimate consignee. For purposes of this license exception, the ultimate consignee is X.",
        "(2) Cumulative TPP. The ‘cumulative TPP’ is the total.",
        "9. Part 740 is amended by adding Supplement No. 5 to read as follows:",
        "Supplement No. 5 to Part 740—Artificial Intelligence Authorization Countries",
        "(a) Destinations eligible:",
        "Australia",
        "Republic of Korea",
        "United States",
        "(b) Destinations that have provided government assurances.",
    )
    got = [(p.section_path, p.kind, p.text.split("\n")[0][:30]) for p in segment(raw, RULE)]
    assert ("Part 740 > amendatory instruction 8", "amendment", "8. Add § 740.29 to read as fol") in got
    assert ("§ 740.29(h)", "body", "(h) Definitions—") in got
    assert ("§ 740.29(h)(1)", "body", "(1) Ultimate consignee. For pu") in got
    assert ("§ 740.29(h)(2)", "body", "(2) Cumulative TPP. The ‘cumul") in got
    lists = [p for p in segment(raw, RULE) if p.kind == "list"]
    assert len(lists) == 1 and lists[0].section_path == "Supplement No. 5 to Part 740(a)"
    assert lists[0].text.split("\n") == [
        "(a) Destinations eligible:",
        "Australia",
        "Republic of Korea",
        "United States",
    ]
    assert got[-1][0] == "Supplement No. 5 to Part 740(b)"


def test_ccl_entries_and_their_notes():
    raw = doc(
        "PART 774—THE COMMERCE CONTROL LIST",
        "26. Supplement no. 1 to part 774 is amended by adding ECCN 4E091:",
        "SUPPLEMENT NO. 1 TO PART 774—THE COMMERCE CONTROL LIST",
        "4E091 ‘Parameters’ for an artificial intelligence model trained utilizing 10^26 or more ‘operations.’",
        "License Requirements",
        "Technical Notes:",
        "1. ‘Parameters’ refers to any value learned during training.",
        "Notes:",
        "2. 4E091 does not control the ‘parameters’ of any model trained utilizing fewer ‘operations’.",
        "2.a. An exporter may determine whether an AI model falls within this exclusion.",
    )
    got = [p.section_path for p in segment(raw, RULE)]
    assert got[3:] == [
        "ECCN 4E091",
        "ECCN 4E091 > License Requirements",
        "ECCN 4E091 > Technical Notes",
        "ECCN 4E091 > Technical Notes > 1",
        "ECCN 4E091 > Notes",
        "ECCN 4E091 > Notes > 2",
        "ECCN 4E091 > Notes > 2 > a",
    ]


def test_amended_text_starting_deep_inside_a_section_gets_its_ancestors():
    raw = doc(
        "PART 740—LICENSE EXCEPTIONS",
        "6. Section 740.2 is amended by revising paragraph (a)(9)(ii) introductory text:",
        "§ 740.2 Restrictions on all License Exceptions.",
        "* * * * *",
        "(ii) The item is identified in paragraph (a)(9)(ii)(A) or (B) of this section.",
        "(A) Controlled under ECCNs 3A090.",
    )
    got = [p.section_path for p in segment(raw, RULE)]
    assert got[-2:] == ["§ 740.2(a)(9)(ii)", "§ 740.2(a)(9)(ii)(A)"]
    assert all("* * *" not in p.text for p in segment(raw, RULE))


def test_preamble_captions_and_outline():
    raw = doc(
        "SUMMARY: BIS revises the EAR.",
        "SUPPLEMENTARY INFORMATION:",
        "I. Background",
        "BIS is amending the EAR.",
        "A. New Worldwide License Requirements",
        "Text under A.",
        "II. Expanded Controls",
        "Text under II.",
    )
    got = [p.section_path for p in segment(raw, RULE)]
    assert got[0] == "Preamble > SUMMARY"
    assert got[3] == "Preamble > SUPPLEMENTARY INFORMATION > I. Background"
    assert got[5] == "Preamble > SUPPLEMENTARY INFORMATION > I. Background > A. New Worldwide License Requirements"
    assert got[7] == "Preamble > SUPPLEMENTARY INFORMATION > II. Expanded Controls"


def test_letter_headings_pin_cites_and_stable_ids():
    raw = doc("Export Controls", "We oppose the country caps in the rule.", page_label="3")
    first = segment(raw, LETTER)
    assert [p.section_path for p in first] == ["Export Controls", "Export Controls"]
    assert first[1].pin_cite == "ITI, Letter (2025-01-07) at 3"
    assert [p.id for p in first] == [
        p.id for p in segment(doc("Export Controls", "We oppose the country caps in the rule.", page_label="3"), LETTER)
    ]
    assert len({p.id for p in first}) == 2


def test_wrapped_lines_join_and_hyphens_mend():
    lines = [
        Line("The export of advanced comput-", 1, starts_block=True),
        Line("ing items is controlled.", 1),
        Line("A non-", 1, starts_block=True),
        Line("governmental entity.", 1),
    ]
    assert [b.text for b in make_blocks(lines)] == [
        "The export of advanced computing items is controlled.",
        "A non-governmental entity.",
    ]


def lines_of(*specs) -> list[Line]:
    """(text, starts_block) pairs, or plain texts that start a block; after_short where a short
    line went before, as ingest marks it."""
    out = []
    for spec in specs:
        text, starts = spec if isinstance(spec, tuple) else (spec, True)
        out.append(Line(text=text, page=1, starts_block=starts, after_short=bool(out) and len(out[-1].text) < 60))
    return out


def letter_doc(*specs, media: str = "text") -> RawDocument:
    return RawDocument(path="x", sha256="0" * 64, media=media, pages=[Page(1, None, lines_of(*specs))])


def test_a_caption_after_a_lead_in_colon_is_no_list_item():
    specs = [
        "The following statement is attributed to Riley Placeholder, who directs policy work (ITIF):",
        "Model weights",
        "The rule adds ECCN 4E091, which requires a license to export the weights of closed",
        ("AI models trained with more than 10^26 operations.", False),
    ]
    assert [(b.kind, b.text) for b in make_blocks(lines_of(*specs))] == [
        ("body", specs[0]),
        ("body", "Model weights"),
        (
            "body",
            "The rule adds ECCN 4E091, which requires a license to export the weights of closed AI models "
            "trained with more than 10^26 operations.",
        ),
    ]
    assert [(p.kind, p.section_path) for p in segment(letter_doc(*specs), LETTER)][1:] == [
        ("heading", "Model weights"),
        ("body", "Model weights"),
    ]
    # short lines after the lead-in, one after another, are still a list
    assert [
        b.kind
        for b in make_blocks(
            lines_of(
                "(a) Destinations eligible:",
                "Australia",
                ("Belgium", False),
                "(b) Destinations that have provided assurances.",
            )
        )
    ] == ["list", "body"]


def test_a_footnote_sits_in_the_section_of_its_marker():
    raw = letter_doc(
        "An Interim Final Rule Is the Wrong Vehicle",
        "The rule was published as an interim final rule.^1 It should not be rushed.",
        "Country Caps Would Cap American Growth",
        "The caps limit exports of 10^26 operations to a fixed allocation.^2 They ration computing.",
        "1 Framework for Artificial Intelligence Diffusion, 90 FR 4544.",
        "2 By our arithmetic, a single large training cluster.",
        "3 A note whose marker is nowhere on the page.",
    )
    for line in raw.pages[0].lines[4:]:
        line.kind = "footnote"
    notes = [p.section_path for p in segment(raw, LETTER) if p.kind == "footnote"]
    assert notes == [
        "An Interim Final Rule Is the Wrong Vehicle > footnote 1",
        "Country Caps Would Cap American Growth > footnote 2",
        "Country Caps Would Cap American Growth > footnote 3",
    ]  # the fallback: the last section


def test_address_salutation_and_signature_lines_are_no_headings():
    got = [
        (p.kind, p.section_path, p.text)
        for p in segment(
            letter_doc(
                "Information Technology Industry Council",
                "January 16, 2025",
                "The Honorable Gina M. Raimondo",
                ("Secretary of Commerce", False),
                ("1401 Constitution Avenue NW", False),
                ("Washington, DC 20230", False),
                "Re: Framework for Artificial Intelligence Diffusion",
                "Dear Secretary Raimondo:",
                "On behalf of ITI, I write about the export control framework for artificial intelligence.",
                "Country Caps Would Cap American Growth",
                "The caps treat computing power as a scarce commodity to be rationed.",
                "Sincerely,",
                "Jordan Sample",
                ("President and CEO", False),
            ),
            LETTER,
        )
    ]
    headings = [text for kind, _, text in got if kind == "heading"]
    assert headings == ["Country Caps Would Cap American Growth"]
    assert {path for _, path, text in got if text.startswith(("On behalf", "Dear"))} == {""}
    assert [path for _, path, _ in got[-3:]] == ["Country Caps Would Cap American Growth"] * 3


def test_a_memo_header_without_salutation_keeps_the_real_headings():
    # the first page of a memo (OpenAI's response): To/From lines and two addresses, then the text
    got = [
        (p.kind, p.section_path, p.text)
        for p in segment(
            letter_doc(
                "March 13, 2025",
                "To: Faisal D'Souza, NCO",
                ("From: Christopher Lehane", False),
                ("Office of Science and Technology Policy", False),
                ("OpenAI", False),
                ("1455 3rd Street", False),
                "San Francisco, CA 94158",
                "OpenAI respectfully submits the enclosed proposals to the Office of Science and Technology Policy.",
                "Scaling human ingenuity",
                "Innovation creates and scales our ability to push beyond our current limits, as it always has.",
                "Chris Lehane",
                ("Vice President, Global Affairs", False),
            ),
            LETTER,
        )
    ]
    assert [text for kind, _, text in got if kind == "heading"] == ["Scaling human ingenuity"]
    assert got[6][1] == "" and got[-1][1] == "Scaling human ingenuity"


@pytest.mark.parametrize(
    "doc_id, name",
    [
        ("iti-2025-03-15-ai-action-plan-rfi", "iti-2025-03-15-ai-action-plan-rfi-response.txt"),  # printed page numbers
        ("bis-2025-00636-regtext", "2025-00636-published-regtext.txt"),  # one page, cited by its FR stem and section
    ],
)
def test_pin_cites_are_data_and_their_text_is_rendered_from_it(doc_id, name):
    """Real documents: each paragraph's pin cite is what its source, locator and end page render to, and
    pin_of gives those again from the document; a paragraph that runs over a page break cites the printed
    labels of both pages, one on a single page cites one page or, without pages, its section."""
    entry = next(e for e in load_manifest(DEFAULT_MANIFEST) if e.id == doc_id)
    raw = read_document(REAL_CORPUS / name)
    labels = {page.number: page.label for page in raw.pages}
    paragraphs = segment(raw, entry)
    assert len(paragraphs) > 100
    for p in paragraphs:
        pin = Pin(p.pin_source, p.pin_locator, p.page_end)
        assert p.pin_cite == pin.render(), p
        assert pin_of(raw, entry, p.page, p.page_label, p.section_path, p.page_end or p.page, p.page_end_label) == pin
    running = [p for p in paragraphs if p.page_end]
    if len(raw.pages) > 1:
        assert len(running) >= 10 and all(p.page_end > p.page for p in running)
        # (the last page of the file prints no number: a paragraph running onto it cites the page it starts on)
        assert all(
            p.pin_locator
            == (f"at {labels[p.page]}–{labels[p.page_end]}" if labels[p.page_end] else f"at {labels[p.page]}")
            for p in running
        )
        assert all(p.pin_locator == f"at {labels[p.page]}" for p in paragraphs if not p.page_end and labels[p.page])
    else:
        assert not running
        sections = [p for p in paragraphs if p.section_path.startswith("§")]
        assert len(sections) > 50
        assert all(p.pin_cite == f"90 FR 4544 (page not in this source), {p.section_path}" for p in sections)


def test_a_marker_printed_with_a_space_inside_its_parentheses_opens_its_level():
    """govinfo's text of the rule prints the italic digit markers as "( 1)", "( 2)": each opens its
    level like "(1)" does (they were read as plain text, so "( 2) Exceeding the country allocation"
    was filed under § 742.6(b)(10)(iii)(B) itself)."""
    entry = next(e for e in load_manifest(DEFAULT_MANIFEST) if e.id == "bis-2025-00636-regtext")
    paragraphs = segment(read_document(REAL_CORPUS / "2025-00636-published-regtext.txt"), entry)
    by_opening = {p.text[:60]: p.section_path for p in paragraphs}
    exceeding = next(path for text, path in by_opening.items() if "Exceeding the country allocation" in text)
    not_exceeding = next(path for text, path in by_opening.items() if "Not exceeding the country allocation" in text)
    assert exceeding.endswith("(iii)(B)(2)") and not_exceeding.endswith("(iii)(B)(1)"), (exceeding, not_exceeding)
    spaced = [p for p in paragraphs if p.text.startswith("( ") and p.text[2:3].isdigit()]
    assert len(spaced) >= 6
    assert all(p.section_path.endswith(f"({p.text[2]})") for p in spaced), [
        (p.text[:20], p.section_path) for p in spaced
    ]


@pytest.mark.parametrize(
    "file, headings, under",
    [
        # DIGITALEUROPE (development gold, docket-c): hard-wrapped text, no blank line before a heading
        (
            "AI-RFI-2025-1349.txt",
            {"EU-US collaboration", "G7 for global AI alignment", "Export controls on AI advanced chips"},
            ("The export control measures on advanced AI chips", "Export controls on AI advanced chips"),
        ),
        ("CSET-AI-RFI-2025.txt", {"Competing with China"}, None),
    ],
)
def test_a_letters_table_of_contents_names_its_headings(file, headings, under):
    """Real responses list their sections with dot leaders ("•EU-US collaboration ..... 2"): where the
    text comes to an entry's title alone on its line, a section starts, though no blank line or font
    sets it apart."""
    docket = REAL_CORPUS.parent / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
    entry = ManifestEntry(
        id=file.lower()[:-4], title=file, doc_type="comment", author_org="X", date="2025-03-15", language="en",
        file=file,
    )  # fmt: skip
    paragraphs = segment(read_document(docket / file), entry)
    found = {" ".join(p.text.split()) for p in paragraphs if p.kind == "heading"}
    assert headings <= found, headings - found
    if under:
        opening, section = under
        held = [p for p in paragraphs if " ".join(p.text.split()).startswith(opening)]
        assert held and all(" ".join(p.section_path.split()).endswith(section) for p in held)


DOCKET = REAL_CORPUS.parent / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"


def _letter_paragraphs(name: str):
    from pipeline.document import parse_document

    entry = ManifestEntry(
        id=name.lower().removesuffix(".txt"), title=name, doc_type="comment", author_org="", date="2025-03-15",
        language="en", file=name,
    )  # fmt: skip
    return parse_document(DOCKET / name, entry)[1]


def test_a_line_that_goes_on_with_the_sentence_before_is_the_same_paragraph():
    """The docket's PDF-extracted letters put each paragraph on a line, but a page or column break cuts
    a sentence onto two lines: 2,522 lines of 188 such files open in lower case after a line that ends
    no sentence. CNAS's response (real, docket-a) broke "… remain vigilant that vast" / "exports of
    advanced AI chips do not undermine …" and its summary's "… to unleash America's computing" /
    "power advantage." A lower-case list letter ("b. Balanced …") still starts an item of its own."""
    texts = [p.text for p in _letter_paragraphs("CNAS-AI-RFI-2025.txt")]
    assert any("remain vigilant that vast exports of advanced AI chips do not undermine" in t for t in texts)
    assert any(t.startswith("1.Fast-track") and t.endswith("computing power advantage.") for t in texts)
    assert not any(t.startswith(("exports of advanced AI chips", "power advantage")) for t in texts)
    from pipeline.ingest.text import continues

    assert continues("the administration should adopt", "balanced export controls")
    assert not continues("Our recommendations:", "balanced export controls")
    assert not continues("promote the following", "b. Balanced export controls that protect national security")


def test_a_letters_labelled_headings_nest_by_their_numbers():
    """ "Recommendation 6.2: Restrict China's access to leading inference chips." is a heading (a full
    stop and all) under "Recommendation 6: Improve export controls …" (CNAS's real response), so the
    paragraphs under it are in a section that names export controls."""
    by_text = {p.text[:40]: p for p in _letter_paragraphs("CNAS-AI-RFI-2025.txt")}
    heading = next(p for t, p in by_text.items() if t.startswith("Recommen dation 6.2"))
    assert heading.kind == "heading"
    body = next(p for t, p in by_text.items() if t.startswith("Existing controls focus primarily"))
    assert body.section_path.split(" > ")[0].startswith("Recommen dation 6: Improve export controls")
    assert body.section_path.split(" > ")[-1].startswith("Recommen dation 6.2: Restrict China")
    sibling = next(p for t, p in by_text.items() if t.startswith("Illegal transfer of controlled chips"))
    assert sibling.section_path.split(" > ")[-1].startswith("Recom mendation 6.3")
    assert " > Recommen dation 6.2" not in sibling.section_path
