"""Issue 12: positions found in comments nobody here wrote, on any rule in the knowledge base; names
kept as given; news attribution that leaves the reporter's framing and other subjects out; CSL-JSON
that the CSL-JSON schema accepts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from pipeline.cite import render
from pipeline.evaluate import _quote_span, _same_org
from pipeline.extract import extract
from pipeline.extract.positions import short_name, stance_of
from pipeline.models import ManifestEntry, Paragraph
from tests.conftest import write_manifest
from tests.test_positions import REPORTED_POSITION, RULE_PARAGRAPH

SCHEMA = Path(__file__).parent / "fixtures" / "csl-data.json"


def test_a_parenthesis_is_a_short_name_only_when_it_is_the_names_acronym():
    assert short_name("Acme Policy Institute (TEST)") == "Acme Policy Institute (TEST)"
    assert short_name("Center for a New American Security (CNAS)") == "CNAS"
    assert short_name("Institute for Progress (IFP)") == "IFP"
    assert short_name("Information Technology Industry Council (ITI)") == "ITI"


def test_the_evaluation_compares_one_organisations_names_as_one():
    assert _same_org("ARI", "Americans for Responsible Innovation")
    assert _same_org("SambaNova Systems, Inc.", "SambaNova Systems")
    assert _same_org("Intel Corporation", "Intel")
    assert not _same_org("ITI", "ITIF") and not _same_org("Acme Policy Institute (TEST)", "TEST Labs")
    # as the importer keeps them from real cover sheets and files (held-out set: 12 of 31 found positions
    # were scored wrongly attributed on these two names alone)
    assert _same_org("Aidan O’Gara", "Aidan O'Gara")
    assert _same_org("American Chamber of Commerce in Portugal - Am Cham Portugal", "AmCham Portugal")
    amcham = "American Chamber of Commerce in Portugal - Am Cham Portugal"
    assert _same_org(amcham, "American Chamber of Commerce in Portugal")
    assert not _same_org("Friends of Europe - Brussels", "Friends of the Earth")
    assert _same_org("AI Policy Network", "The AI Policy Network")


def test_a_gold_quote_is_found_in_its_paragraph_whatever_its_white_space():
    text = "For example,  law enforcement  must  stay ahead  of criminals."
    assert _quote_span(text, "For example, law enforcement must stay ahead of criminals.") == (0, len(text))


@pytest.mark.parametrize(
    "sentence, stance",
    [
        ("Recommendation 6.1: Adopt a nimbler approach to export control updates.", "request_change"),
        ("C. Avoid overreach on export controls", "request_change"),
        ("The government will need to craft the controls carefully to avoid undue disadvantages.", "request_change"),
        ("Such controls could look to restrict the volume of chips in a data center.", "request_change"),
        ("Export controls can play a role, but only if they are carefully crafted.", "request_change"),
        ("We recognize the need for these controls and fully support these measures.", "support"),
        ("The rule provided an exception, which we are grateful for.", "support"),
        ("The current approach will have done more harm than good.", "oppose"),
        ("There have been unreasonable delays in issuing licenses.", "oppose"),
        ("The Department published the rule on January 15.", None),
    ],
)
def test_stance_from_how_comment_letters_argue(sentence, stance):
    found = stance_of(sentence, "en")
    assert (found[0] if found else None) == stance


# real sentences of development-gold letters (docket-c, docket-d) that no cue took a side in: the writer
# as the subject of an advocacy verb, a prescription it offers, a proposal and its worth, a means to an
# end, a policy called wrong; and sentences of the same shapes that argue nothing
@pytest.mark.parametrize(
    "sentence, stance",
    [
        ("ACM encourages the Administration to review t hese national security issue s carefully.", "request_change"),
        ("Additionally, we suggest Congressional preemption of state laws and federal regulation.", "request_change"),
        ("We would also encourage BIS to publish guidance.", "request_change"),
        ("The final policy prescription we offer is an end to Biden’s export controls on frontier AI systems.",
         "request_change"),
        ("Relaxing country GPU caps on some Tier 2 countries may also be a potent diplomatic tool.", "request_change"),
        ("While the FAID succeeds at setting clear standards for acquiring licenses, a case -by-case approach "
         "towards middle -tier countries may prove to be beneficial.", "request_change"),
        ("To facilitate this integration, introducing gradations in the middle -tier of the FAID based on inter "
         "-governmental ties and agreements can be useful.", "request_change"),
        ("One promising implementation is to restrict the export of any AI chips designed for use in a data center.",
         "request_change"),
        ("By slightly adjusting the Framework, the U.S. can tie national-level chip export controls to basic KYC "
         "implementation.", "request_change"),
        ("Conditional export controls offer a more effective approach within the Bureau of Industry and Security’s "
         "existing authorities.", "request_change"),
        ("Through bilateral engagement, the administration has an opportunity to tailor partnerships.",
         "request_change"),
        ("Strengthening the Bureau of Industry and Security’s enforcement capacity has thus never been more urgent.",
         "request_change"),
        ("Restricting global access to our products is the wrong policy to continue at this time.", "oppose"),
        ("As the recent Deep Seek demonstration has shown, they did not work .", "oppose"),
        ("Moreover, these regulations are onerous, requiring data centers in other countries to meet FedRamp High.",
         "oppose"),
        # the same shapes, arguing nothing
        ("Research suggests that the controls slowed diversion.", None),
        ("Studies suggest that chips are diverted.", None),
        ("Training large models can be expensive.", None),
        ("In the short term, including chips in the list will be effective.", None),
        ("By 2027, the U.S. will have more data centers.", None),
        ("Operating a data center is the main cost.", None),
        ("A license is required for exports to Tier 2 countries.", None),
        ("Processing licence applications takes the agency 60 days.", None),
    ],
)  # fmt: skip
def test_proposals_prescriptions_and_verdicts_family_by_family(sentence, stance):
    found = stance_of(sentence, "en")
    assert (found[0] if found else None) == stance, found


def _paragraphs(doc_id: str, texts: list[str]) -> list[Paragraph]:
    return [
        Paragraph(
            id=f"{doc_id}:{i}",
            doc_id=doc_id,
            ordinal=i,
            section_path="",
            page=1,
            page_label=None,
            pin_cite=f"at {i}",
            text=t,
        )
        for i, t in enumerate(texts)
    ]


def test_news_leaves_out_the_reporters_framing_and_statements_on_another_subject():
    """Issue 12: "业界对预期规则的反对越来越公开" (the reporter's words) was ITI's; ITI's statement on the
    Section 301 investigation was ITI supporting the rule."""
    texts = [
        "信息技术产业委员会表示,这项规则将损害美国公司的出口。",
        "商务部未立即回应置评请求。",
        "业界对预期规则的反对越来越公开。",
        "ITI总裁杰森·奥克斯曼就拜登政府宣布对中国半导体政策启动301调查做出了如下回应。",
        "“ITI 赞赏美国政府对半导体行业竞争力的关注,我们将继续与政策制定者合作。”",
        "“启动这项调查的时机令人担忧,我们强烈敦促政府官员以客观的方式进行调查。”",
    ]
    entry = ManifestEntry(
        id="news-test",
        title="科技行业组织敦促拜登政府谨慎出台AI芯片出口限制",
        doc_type="news",
        author_org="软荐",
        date="2025-01-08",
        language="zh",
        url="",
        file="x.txt",
    )
    rows = extract(_paragraphs("news-test", texts), "zh", entry)["positions"]
    quotes = [row["quote"] for row in rows]
    assert quotes[0].startswith("信息技术产业委员会表示") and rows[0]["org"] == "ITI"
    assert not any("越来越公开" in q for q in quotes)
    assert not any("301" in q or "赞赏" in q or "调查" in q for q in quotes), quotes


def test_csl_json_of_a_position_validates_against_the_csl_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for item in (REPORTED_POSITION, RULE_PARAGRAPH):
        records = json.loads(render(item, "csl-json"))
        jsonschema.validate(records, schema)
        assert "regkb" not in records[0]
    position = json.loads(render(REPORTED_POSITION, "csl-json"))[0]
    assert position["custom"] == {"position_of": "ITI"} and position["note"].startswith("position of ITI")
    with pytest.raises(jsonschema.ValidationError):  # the schema is closed: the old top-level key fails
        jsonschema.validate([{**position, "regkb": {"position_of": "ITI"}}], schema)


# ------------------------------------------------------------------ a comment on another rule entirely

RULE = (
    "SYNTHETIC TEST RULE (not a real regulation).\n"
    "\n"
    "DEPARTMENT OF HEALTH AND HUMAN SERVICES\n"
    "\n"
    "45 CFR Part 180\n"
    "\n"
    "Hospital Price Transparency\n"
    "\n"
    "§ 180.50 Requirements for making public hospital standard charges.\n"
    "\n"
    "(a) General rule. A hospital must make public a machine-readable file containing a list of all "
    "standard charges for all items and services.\n"
    "\n"
    "(b) Shoppable services. A hospital must make public the payer-specific negotiated charges for 300 "
    "shoppable services in a consumer-friendly format.\n"
    "\n"
    "§ 180.90 Monitoring and penalties for noncompliance.\n"
    "\n"
    "(a) Civil monetary penalties. CMS may impose a civil monetary penalty of up to $300 per day on a "
    "hospital that fails to comply with the requirements of this part.\n"
)

COMMENT = (
    "SYNTHETIC TEST COMMENT (not a real letter).\n"
    "\n"
    "Comments of the Rural Hospital Test Association on the Hospital Price Transparency rule\n"
    "\n"
    "The Rural Hospital Test Association appreciates the opportunity to comment on the proposed rule.\n"
    "\n"
    "While we support the goal of price transparency, we urge CMS to delay the machine-readable file "
    "requirement for small rural hospitals by two years.\n"
    "\n"
    "The civil monetary penalties of $300 per day are excessive for hospitals with fewer than 50 beds and"
    " should be scaled to hospital size.\n"
    "\n"
    "Our members enjoyed the annual picnic last summer, which was held at the lake.\n"
)


@pytest.mark.slow
def test_a_comment_on_another_rule_gets_positions_with_stance_topic_and_links(tmp_path):
    from pipeline.build import build

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rule.txt").write_text(RULE, encoding="utf-8")
    (corpus / "comment.txt").write_text(COMMENT, encoding="utf-8")
    manifest = write_manifest(
        tmp_path / "manifest.toml",
        [
            {
                "id": "hhs-test-rule",
                "file": "rule.txt",
                "doc_type": "rule",
                "author_org": "HHS",
                "title": "Hospital Price Transparency (synthetic test rule)",
            },
            {"id": "rural-test-comment", "file": "comment.txt", "author_org": "Rural Hospital Test Association"},
        ],
    )
    assert build(manifest, corpus, tmp_path / "kb.db", cache_dir=tmp_path / "cache").ok
    db = sqlite3.connect(tmp_path / "kb.db")
    db.row_factory = sqlite3.Row
    rows = db.execute("select * from positions where doc_id = 'rural-test-comment'").fetchall()
    by_quote = {row["quote"]: row for row in rows}
    delay = next(row for q, row in by_quote.items() if q.startswith("While we support the goal"))
    penalty = next(row for q, row in by_quote.items() if q.startswith("The civil monetary penalties"))
    assert delay["stance"] == "request_change" and penalty["stance"] in ("request_change", "oppose")
    assert all(row["topic"] for row in (delay, penalty))
    assert all(row["org"] == "Rural Hospital Test Association" for row in rows)
    assert not any("picnic" in q for q in by_quote)
    linked = db.execute(
        """select p.section_path from position_links l join paragraphs p on p.id = l.paragraph_id
                           where l.position_id = ? order by l.rank""",
        (penalty["id"],),
    ).fetchall()
    assert linked and linked[0]["section_path"].startswith("§ 180.90"), list(map(tuple, linked))


def _figure(text: str, figure: str, unit: str) -> dict:
    start = text.index(figure)
    return {"text": text, "char_start": start, "char_end": start + len(figure), "unit": unit}


def test_a_figure_is_about_a_subject_and_meets_only_figures_on_the_same_one():
    from pipeline.tables import figure_subjects

    effect = figure_subjects(
        _figure("These rules take effect only 60 days after publication in the Federal Register.", "60 days", "days")
    )
    notice = figure_subjects(
        _figure(
            "The UVEU must notify the BIS 60 days in advance of its intention to transfer chips.", "60 days", "days"
        )
    )
    compliance = figure_subjects(
        _figure(
            "Transferors are not required to comply with the changes made in this rule until "
            "[INSERT DATE 120 DAYS FROM DATE OF PUBLICATION].",
            "120 DAYS",
            "days",
        )
    )
    assert effect & compliance and not effect & notice
    bandwidth = figure_subjects(
        _figure("with a “fractional bandwidth” greater than 15%, and having any of the following:", "15%", "%")
    )
    assert bandwidth == set()  # a technical parameter is no claim's subject
    chips_act = figure_subjects(_figure("美国《芯片法案》拨款 527 亿美元用于半导体制造。", "527 亿美元", "USD"))
    de_minimis = figure_subjects(
        _figure(
            "with the exception of investments under 1 percent or $1 million, whichever is lower", "$1 million", "USD"
        )
    )
    assert chips_act and de_minimis and not chips_act & de_minimis


def test_a_real_letters_imperative_recommendations_are_positions():
    """SEMI's real response to the OSTP RFI (SEMI-AI-RFI-2025: development gold, docket-c) recommends
    in bare imperatives whose verbs no cue table lists ("Refine export control rules …"): the verb
    lexicon finds them, and its section headings stay headings."""
    from pipeline.document import parse_document

    path = Path(__file__).resolve().parents[2] / "shared/dockets/ostp-ai-action-plan-rfi-2025/text/SEMI-AI-RFI-2025.txt"
    entry = ManifestEntry(
        id="semi-ai-rfi-2025", title="SEMI", doc_type="comment", author_org="SEMI", date="2025-03-15",
        language="en", file=path.name,
    )  # fmt: skip
    _, paragraphs, extracted = parse_document(path, entry)
    found = {" ".join(row["quote"].split()): row for row in extracted["positions"]}
    refine = [row for quote, row in found.items() if quote.startswith("Refine export control rules to focus only")]
    assert [(row["stance"], row["cue"]) for row in refine] == [("request_change", "Refine")]
    headings = {p.text for p in paragraphs if p.kind == "heading"}
    assert not any(quote in headings for quote in found if found[quote]["cue"] == quote.split()[0])


def test_a_sentence_on_another_regime_is_not_a_position_on_the_rule(real_corpus):
    """Meta's and Mistral AI's real responses (development gold, docket-c) criticise the EU's AI Act
    and GDPR and a patchwork of US state laws beside export controls: those sentences take a side, but
    on another regime (patterns/regimes.jsonl), so relevance leaves them out; their sentences on export
    controls stay."""
    from pipeline.document import parse_document
    from pipeline.link.relevance import relevant_positions
    from pipeline.manifest import load_manifest, locate

    rule = next(entry for entry in load_manifest() if entry.id == "bis-2025-00636-regtext")
    _, paragraphs, rule_rows = parse_document(locate(rule, [real_corpus]), rule)
    documents = [{"id": rule.id, "doc_type": "rule", "title": rule.title, "cite_as": rule.cite_as}]
    positions = []
    docket = Path(__file__).resolve().parents[2] / "shared/dockets/ostp-ai-action-plan-rfi-2025/text"
    for doc_id, org in (("meta-ai-rfi-2025", "Meta"), ("mistralai-ai-rfi-2025", "Mistral AI")):
        path = docket / {"meta-ai-rfi-2025": "Meta-AI-RFI-2025.txt"}.get(doc_id, "MistralAI-AI-RFI-2025.txt")
        entry = ManifestEntry(
            id=doc_id, title=org, doc_type="comment", author_org=org, date="2025-03-15", language="en",
            file=path.name,
        )  # fmt: skip
        _, letter_paragraphs, rows = parse_document(path, entry)
        paragraphs += letter_paragraphs
        positions += rows["positions"]
        documents.append({"id": doc_id, "doc_type": "comment", "title": org})
    kept = relevant_positions(positions, paragraphs, None, documents, rule_rows["definitions"], None)
    verdict = {" ".join(row["quote"].split())[:40]: keep for row, keep in zip(positions, kept)}
    # a candidate that relevance leaves out (the AI Act's fines, argued as China's gain, no longer
    # reach it: a topic wider than the rule needs a word of control, see evidence_needs)
    assert verdict.get("Specifically, a patchwork of state-level") is False
    assert verdict.get("Fines in the AI Act are even more arbitr") is not True
    assert verdict.get("Export controls on open source models wo") is True


@pytest.mark.parametrize(
    "sentence, regime",
    [
        ("Fines in the AI Act are even more arbitrary and punitive.", "EU law"),  # Meta
        ("This emulates the approach of its privacy regime, the General Data Protection Regulation.", "EU law"),
        ("A patchwork of state-level approaches can lead to high compliance costs.", "US states"),  # Mistral AI
        ("If China imposes retaliatory export controls on these essential parts, it could slow us down.",
         "other governments' measures"),  # Rias Reed
        ("BIS should raise the LPP threshold to 50,000 TPP.", ""),
        ("The export control measures treat EU Member States unequally.", ""),  # DIGITALEUROPE: on the rule
        ("Controls on China's access to chips should be strengthened.", ""),
    ],
)  # fmt: skip
def test_other_regimes_family_by_family(sentence, regime):
    from pipeline.link.relevance import other_regime

    assert other_regime(sentence) == regime


@pytest.mark.parametrize(
    "sentence, stance",
    [
        # real sentences of development-gold letters (docket-c) that no cue took a side in
        ("Export controls are an essential tool to protect sensitive U.S. semiconductor technologies.", "support"),
        ("The impacts of effective semiconductor export controls will compound over time.", "support"),
        ("Export controls can have unintended consequences.", "oppose"),
        ("Current U.S. export controls focus on cutting off China’s access to top-tier AI chips, but this strategy "
         "has shortcomings.", "oppose"),
        ("The export control measures on advanced AI chips introduced by the previous US administration treat EU "
         "Member States unequally, and have created tensions.", "oppose"),
        ("The rule is a welcome step.", "support"),
        # what stands in the adversary's way, after a phrase put before the main clause (IFP, docket-a)
        ("Despite its meager budget, BIS’s export controls are the main — and perhaps only — obstacle to China "
         "achieving parity with the United States on AI capabilities.", "support"),
        ("In practice, export controls remain a bulwark against adversaries.", "support"),
        ("Export controls are a barrier to trade with our allies.", None),
        ("Despite the budget, China has found ways around the controls.", None),
        # the rule is not the subject, or nothing is said of it
        ("AI chips are critical for the economy.", None),
        ("China has aggressively sought to evade export controls.", None),
        ("Export controls are a topic of this letter.", None),
        ("Our members have shortcomings in their own compliance programmes, which export controls expose.", None),
        # a recommendation stays one, whatever it says of the controls; one to keep them supports them
        ("Expand export controls, which are vital to national security.", "request_change"),
        ("Maintain export controls, which are vital to national security.", "support"),
    ],
)  # fmt: skip
def test_an_appraisal_of_the_rule_as_its_subject_takes_a_side(sentence, stance):
    found = stance_of(sentence, "en")
    assert (found[0] if found else None) == stance, found


def test_model_weights_or_china_argued_without_a_word_of_control_are_not_a_position_on_the_rule():
    """IAPS's and CNAS's real responses (development gold, docket-c and docket-a) ask for security
    standards for model weights, weigh open-weight models and warn of China as the world's AI provider:
    arguments about AI security and leadership, not about the rule's controls. A topic wider than the
    rule ("evidence_needs" in patterns/topics.jsonl) shows
    that a sentence is on the rule only with a word of control; their sentences on export controls stay."""
    from pipeline.document import parse_document
    from pipeline.extract.positions import topic_of

    docket = Path(__file__).resolve().parents[2] / "shared/dockets/ostp-ai-action-plan-rfi-2025/text"
    found = {}
    for doc_id, name, org in (
        ("iaps-ai-rfi-2025", "IAPS-AI-RFI-2025.txt", "Institute for AI Policy and Strategy (IAPS)"),
        ("cnas-ai-rfi-2025", "CNAS-AI-RFI-2025.txt", "Center for a New American Security (CNAS)"),
    ):
        entry = ManifestEntry(
            id=doc_id, title=org, doc_type="comment", author_org=org, date="2025-03-15", language="en",
            file=name,
        )  # fmt: skip
        _, _, rows = parse_document(docket / name, entry)
        found.update({" ".join(row["quote"].split())[:40]: row for row in rows["positions"]})
    for wider in (
        "Direct NIST to develop security standard",  # model weights
        "Making such model weights broadly availa",
        "The United States cannot afford to let o",  # competitiveness: China as the AI provider
    ):
        assert wider not in found, found.get(wider)
    assert sum("export contr" in quote.lower() for quote in found) >= 3  # their positions on export controls
    # the sentences' own topic is still model weights; with a word of control it is evidence of the rule
    assert topic_of("Making such model weights broadly available could heighten risks.") == "model_weights"
    assert topic_of("Making such model weights broadly available could heighten risks.", evidence=True) is None
    assert topic_of("Controls on model weights would push developers abroad.", evidence=True) == "model_weights"


def test_a_wider_topic_needs_a_word_of_control_only_outside_a_document_on_the_rule():
    """In a letter whose title names the rule, its argument about China is about the rule; in a
    response to a general request for information, the same sentence in a paragraph that once names
    export controls is about AI policy at large (synthetic sentences; the real cases are above and in
    test_real_positions: the Chinese article's ITIF objection keeps its figures in the claims table)."""
    from tests.test_positions import entry, para

    sentence = "Letting China become the dominant AI provider would harm American leadership."
    on_the_rule = extract([para(sentence)], "en", entry(title="Comments on the AI Diffusion rule"))
    assert [r["quote"] for r in on_the_rule["positions"]] == [sentence]
    section = [
        para("National security", kind="heading", section_path="National security"),
        para("We support export controls on chips. " + sentence, ordinal=2, section_path="National security"),
    ]
    general = extract(section, "en", entry(title="Response to the AI Action Plan RFI"))
    assert [r["quote"] for r in general["positions"]] == ["We support export controls on chips."]


@pytest.mark.parametrize(
    "sentence, topic, ground",
    [
        # China is the adversary of most arguments about the rule, whatever they are about: it puts a
        # sentence on competitiveness's ground (the gate) without making that its topic (gold: "other")
        ("BIS should fund enforcement against smuggling networks that supply Chinese firms.", None,
         "competitiveness"),
        ("The PRC has built large clusters with diverted hardware.", None, "competitiveness"),
        # competition, markets and leadership are the topic
        ("The caps cede the global market to Chinese vendors.", "competitiveness", "competitiveness"),
        ("American leadership in AI depends on selling abroad.", "competitiveness", "competitiveness"),
        ("中国企业将填补市场空白。", "competitiveness", "competitiveness"),
        ("Please remove the per-country limits on computing power for China's neighbours.", "country_caps",
         "country_caps"),
    ],
)  # fmt: skip
def test_china_is_ground_for_the_gate_not_the_topic(sentence, topic, ground):
    from pipeline.extract.positions import topic_of

    assert topic_of(sentence) == topic
    assert topic_of(sentence, gate=True) == ground


@pytest.mark.parametrize(
    "sentence, stance",
    [
        # real sentences of the development gold (docket-a, docket-c): a request to keep the rule as it is
        ("The U.S. government should maintain targeted export restrictions of advanced AI chips.", "support"),
        ("Accordingly, the United States must continue to implement and enforce robust export controls on chips.",
         "support"),
        # keeping it with a change is a change (docket-b, the corpus's OpenAI response)
        ("Recommendation 7: Maintain and Strengthen the Framework for Artificial Intelligence Diffusion.",
         "request_change"),
        ("In particular, we propose maintaining the AI diffusion rule’s three-tiered framework to differentiate "
         "among countries, but with some key modifications that expand the number of countries in Tier I:",
         "request_change"),
        # keeping something else is not keeping the rule
        ("BIS should maintain a list of approved vendors.", "request_change"),
        ("The U.S. government should continue to look for ways to implement controls that are flexible.",
         "request_change"),
    ],
)  # fmt: skip
def test_a_request_to_keep_the_rule_as_it_is_supports_it(sentence, stance):
    found = stance_of(sentence, "en")
    assert (found[0] if found else None) == stance, found


def test_a_request_to_recognise_a_verdict_is_that_verdict():
    """Digital Liberty's real response (development gold, docket-d): asking the Action Plan to
    recognise that export restrictions on open weights would cede American leadership objects to them."""
    sentence = (
        "Along similar lines, the Action Plan should recognize that at this time export restrictions on open "
        "model weights or other components would not further national security — rather, they would cede "
        "American leadership in a crucial component of the AI ecosystem."
    )
    assert stance_of(sentence, "en")[0] == "oppose"
    assert stance_of("BIS should recognize that industry needs clarity.", "en")[0] == "request_change"


def test_a_word_that_names_the_rule_in_passing_needs_a_core_word_of_its_subject(real_corpus):
    """Real OSTP responses outside every gold set (a docket-wide audit of 80 extracted positions found
    64 not about the rule, 2026-12-07): "this rule change" in a copyright comment, GPUs in a call for
    hardware research funding, "regulations" in a health-privacy sentence. A word that names the rule
    in passing ("the rule", "GPUs", "tiers", a glossary name) counts only with a core word of what the
    rules regulate ("export", "reexport", "destination": far commoner in the rules than in English) in
    the sentence or its paragraph; the letters' sentences on export controls stay."""
    verdict = _relevance_verdicts(
        real_corpus,
        ("AI-RFI-2025-9312.txt", "Ardent-AI-RFI-2025.txt", "HIA-AI-RFI-2025.txt", "CIRAT-AI-RFI-2025.txt",
         "CSET-AI-RFI-2025.txt", "AI-RFI-2025-1622.txt"),
    )  # fmt: skip
    for passing in (
        "I am deeply opposed to this rule change.",
        "Therefore, the government must put fort",
        "AI use of health information should be ",
    ):
        assert verdict.get(passing[:40]) is not True, (passing, verdict.get(passing[:40]))
    for on_the_rule in (
        "The U.S. needs to be dynamic in its defi",
        "Refine and enforce export control polici",
    ):
        assert verdict.get(on_the_rule) is True, (on_the_rule, verdict)


def test_a_lead_in_is_no_position_and_an_aside_deep_in_a_paragraph_says_not_what_a_letter_comments_on():
    """The Abundance Institute's real response: "The EO should:" introduces a list (its items argue),
    and "comments to state legislatures on proposed AI regulation" in its third paragraph is an aside,
    not the rule the letter comments on."""
    from pipeline.extract.positions import comments_on_a_rule
    from tests.test_positions import entry, para

    letter = entry(title="Comments on the AI Diffusion rule")
    assert extract([para("The executive order should:")], "en", letter)["positions"] == []
    long_lead_in = (
        "In particular, we propose replacing the rule's three-tiered framework with a simpler one that "
        "expands the number of countries in Tier I:"
    )
    assert [r["quote"] for r in extract([para(long_lead_in)], "en", letter)["positions"]] == [long_lead_in]
    aside = (
        "AI is set to improve productivity. " * 10
        + "We submitted comments to state legislatures on proposed AI regulation."
    )
    assert not comments_on_a_rule(aside)
    assert comments_on_a_rule("Comments of the Rural Hospital Test Association on the Hospital Price Transparency rule")


def _relevance_verdicts(real_corpus, names: tuple[str, ...], embedded: bool = False) -> dict[str, bool]:
    """Relevance's verdict on each candidate position of these real OSTP responses, with the real rule
    in the knowledge base (by the first 40 characters of its quote); embedded: with the candidates'
    sentence embeddings, as a build has them (the relevance classifier reads them)."""
    from pipeline.document import parse_document
    from pipeline.link.relevance import relevant_positions
    from pipeline.manifest import load_manifest, locate

    # the rules a build of the corpus holds (the public-inspection PDF aside: its text is the regtext's),
    # so that what the AI rule regulates is told from what the other rules regulate, as in a real build
    paragraphs, definitions, documents = [], [], []
    for rule in load_manifest():
        if rule.doc_type == "rule" and not rule.file.endswith(".pdf"):
            found = locate(rule, [real_corpus, real_corpus.parent / "other-rules"])
            _, rule_paragraphs, rule_rows = parse_document(found, rule)
            paragraphs += rule_paragraphs
            definitions += rule_rows["definitions"]
            documents.append({"id": rule.id, "doc_type": "rule", "title": rule.title, "cite_as": rule.cite_as})
    positions = []
    docket = Path(__file__).resolve().parents[2] / "shared/dockets/ostp-ai-action-plan-rfi-2025/text"
    for name in names:
        doc_id = name.removesuffix(".txt").lower()
        entry = ManifestEntry(
            id=doc_id, title=doc_id, doc_type="comment", author_org=doc_id, date="2025-03-15", language="en",
            file=name,
        )  # fmt: skip
        _, letter_paragraphs, rows = parse_document(docket / name, entry)
        paragraphs += letter_paragraphs
        positions += rows["positions"]
        documents.append({"id": doc_id, "doc_type": "comment", "title": doc_id})
    vectors = None
    if embedded:
        from pipeline import embed

        vectors = embed.encode([row["quote"] for row in positions])
    kept = relevant_positions(positions, paragraphs, None, documents, definitions, vectors)
    return {" ".join(row["quote"].split())[:40]: keep for row, keep in zip(positions, kept)}


def test_a_core_word_in_the_sentence_or_an_anaphor_of_the_sentence_before_puts_it_on_the_rule(real_corpus):
    """Development gold (docket-a, -b, -c, -d) marks these sentences of real responses as positions on
    export controls; relevance left them out (bench/bench_gates.py: the relevance stage). Two kinds:
    a sentence with a core word of the rules' subject ("export", "BIS") that argues in words the rule's
    text never uses ("smuggling", "loopholes", "interagency": counted as another policy area's); and a
    sentence whose subject is an anaphor ("Such controls could …", "But they come at a cost", "they did
    not work") of the sentence before, in its paragraph or the one before it. Sentences of the same
    letters on other subjects stay out."""
    verdict = _relevance_verdicts(
        real_corpus,
        ("IAPS-AI-RFI-2025.txt", "IFP-AI-RFI-2025.txt", "Ryan-Hagemann-IBM-AI-RFI-2025.txt", "AI-RFI-2025-6112.txt"),
    )
    for on_the_rule in (
        "Eﬀective implementation of export",  # IAPS: a core word, many words of its own
        "The Task Force should include ODNI, DOJ,",  # IAPS: "BIS"
        "But they come at a cost: in the short te",  # IFP: "they" = export controls, the sentence before
        "o Such controls could look to restrict t",  # IBM: the paragraph before names export controls
        "As the recent Deep Seek demonstration ha",  # AI-RFI-2025-6112: "they did not work"
    ):
        assert [keep for quote, keep in verdict.items() if quote.startswith(on_the_rule)] == [True], on_the_rule
    for elsewhere in (
        "DARPA and/or the Commons should run a ch",  # IFP: chip security research prizes
        "Formalize an “AI Diplomacy” Strategy",  # IBM: a heading on diplomacy
    ):
        assert [keep for quote, keep in verdict.items() if quote.startswith(elsewhere)] == [False], elsewhere


def test_an_anaphor_of_the_rule_in_a_paragraph_on_it_needs_no_topic_cue():
    """CNAS's real response (development gold, docket-a): "While these controls should continue, it is
    imperative that the United States also creates pathways …" names no topic, but "these controls"
    are the export controls its paragraph argues about, so it is a candidate position; an anaphor in a
    paragraph on another subject is not."""
    from pipeline.document import parse_document

    docket = Path(__file__).resolve().parents[2] / "shared/dockets/ostp-ai-action-plan-rfi-2025/text"
    entry = ManifestEntry(
        id="cnas-ai-rfi-2025", title="CNAS", doc_type="comment", author_org="Center for a New American Security",
        date="2025-03-15", language="en", file="CNAS-AI-RFI-2025.txt",
    )  # fmt: skip
    _, _, rows = parse_document(docket / entry.file, entry)
    quotes = {" ".join(row["quote"].split())[:40]: row for row in rows["positions"]}
    found = [row for quote, row in quotes.items() if quote.startswith("While these controls should continue")]
    assert [row["stance"] for row in found] == ["request_change"]
    from pipeline.extract.positions import ANAPHOR

    assert ANAPHOR.search("Such restrictions require close examination")
    assert not ANAPHOR.search("These mechanisms would enable BIS to reliably track")


def test_a_sentence_that_names_no_topic_is_on_other_but_is_linked_by_its_paragraphs_topic():
    """SEMI's real response (development gold, docket-c) says "Export controls are an essential tool to
    protect sensitive U.S. semiconductor technologies …": a support of export controls naming none of
    the taxonomy's topics, which the reader marked "other"; its paragraph goes on about markets and
    competitiveness, which had been given as its topic. The linker still has the paragraph's topic to
    point it to a provision (link.corpus: context_topics)."""
    from pipeline.document import parse_document
    from pipeline.extract.positions import topic_of

    docket = Path(__file__).resolve().parents[2] / "shared/dockets/ostp-ai-action-plan-rfi-2025/text"
    entry = ManifestEntry(
        id="semi-ai-rfi-2025", title="SEMI", doc_type="comment", author_org="SEMI", date="2025-03-15",
        language="en", file="SEMI-AI-RFI-2025.txt",
    )  # fmt: skip
    _, paragraphs, rows = parse_document(docket / entry.file, entry)
    row = next(
        r for r in rows["positions"] if " ".join(r["quote"].split()).startswith("Export controls are an essential")
    )
    assert (row["stance"], row["topic"]) == ("support", "other")
    paragraph = next(p for p in paragraphs if p.id == row["paragraph_id"])
    assert topic_of(paragraph.text) not in (None, "other")  # what the linker follows


@pytest.mark.parametrize(
    "sentence, stance",
    [
        # real sentences of the docket-wide audit 3 (annotations/dev/audit.docket-3.jsonl): a recommendation
        # stays one whatever words of harm it gives as its reasons
        ("Policy Action: Implement strict export controls on sensitive AI technologies to prevent adversarial "
         "access.", "request_change"),
        ("Policy Action: Streamline export control policies to focus on genuine national security risks while "
         "avoiding blanket rest rictions that inadvertently weaken U.S. firms’ global market position.",
         "request_change"),
        ("3.1 Continue and enhance existing export controls on advanced AI chips to countries of concern, "
         "particularly the CCP .", "request_change"),
        # … but a noun that heads the subject is no imperative
        ("Export controls harm innovation.", "oppose"),
        # a verdict of the controls, negated
        ("○DeepSeek's open-source leak proves export controls alone won’t work.", "oppose"),
        ("We don’t support the rule.", "oppose"),
    ],
)  # fmt: skip
def test_a_recommendation_is_one_whatever_its_reasons_and_a_negated_verdict_turns(sentence, stance):
    found = stance_of(sentence, "en")
    assert (found[0] if found else None) == stance, found


def test_a_sentence_only_its_surroundings_put_on_the_rule_must_read_like_a_position_on_it(real_corpus):
    """Claudia Cotca's and Garry Osborne's real responses (development audit 3, read by a helper): "To
    maintain global AI leadership while securing national interests, the U.S. must strategically engage
    with allies" and "Joint ventures, such as transatlantic AI research centers …" argue about alliances
    and research, and only their paragraphs' words put them on the rule; "Those controls – including entity list
    bans and foreign direct product rules – will continue to be enforced …" is a position on them, though
    its sentence too names no core word. The relevance classifier (patterns/relevance_classifier.json,
    bench/train_relevance.py) tells them apart from the sentence's embedding; without embeddings (None)
    relevance keeps both, as the word tests do."""
    names = ("ClaudiaCCotca-AI-RFI-2025.txt", "Garry-Osborne-AI-RFI-2025.txt")
    with_words = _relevance_verdicts(real_corpus, names)
    read = _relevance_verdicts(real_corpus, names, embedded=True)

    def verdicts(found: dict[str, bool], opening: str) -> list[bool]:
        return [keep for quote, keep in found.items() if quote.startswith(opening)]

    for elsewhere in ("To maintain global AI leadership while", "Joint ventures, such as transatlantic"):
        assert verdicts(with_words, elsewhere) == [True], elsewhere
        assert verdicts(read, elsewhere) == [False], elsewhere
    assert verdicts(with_words, "Those controls") == verdicts(read, "Those controls") == [True]


def test_the_shipped_relevance_classifier_is_what_its_training_script_makes_of_the_annotations():
    """patterns/relevance_classifier.json is data derived from annotations: retraining it
    (bench/train_relevance.py) on the files it names gives the same weights, so a changed gold or
    audit file cannot leave stale weights behind; it names the rule and embedding model it is for."""
    import importlib.util

    import numpy as np

    from pipeline import embed
    from pipeline.patterns import PATTERNS_DIR

    root = Path(__file__).resolve().parents[1]
    shipped = json.loads((PATTERNS_DIR / "relevance_classifier.json").read_text())
    spec = importlib.util.spec_from_file_location("train_relevance", root / "bench" / "train_relevance.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    assert shipped["trained_on"] == [str(p.relative_to(root)) for p in train.GOLD + train.AUDITS]
    assert (shipped["rule"], shipped["embedding_model"]) == (train.RULE, embed.MODEL_NAME)
    items = train.material()
    assert shipped["items"] == len(items)
    model = train.fit(embed.encode([q for _, q, _ in items]), np.array([y for _, _, y in items]))
    assert np.allclose(model.coef_[0], shipped["weights"], atol=1e-3)
    assert abs(model.intercept_[0] - shipped["bias"]) < 1e-3


@pytest.mark.parametrize(
    "sentence, stance",
    [
        ("There is a need for clearer export control rules.", "request_change"),
        ("There remains an urgent need to modernize BIS.", "request_change"),
        ("We need stronger export controls on chips.", "request_change"),
        ("Export control policy would benefit from closer coordination with allies.", "request_change"),
        ("It is time to revisit the diffusion rule.", "request_change"),
        ("The time has come to rethink export controls.", "request_change"),
        # a need that is no request
        ("The need for compute is growing.", None),
        ("Developers benefit from open models.", None),
    ],
)  # fmt: skip
def test_a_need_stated_as_such_is_a_request(sentence, stance):
    found = stance_of(sentence, "en")
    assert (found[0] if found else None) == stance, found
