"""The extractor components family by family, on small hand-written paragraphs."""

from __future__ import annotations

import pytest
from spacy.training import Example

from pipeline.extract import extract, pipeline
from pipeline.extract.countries import resolve
from pipeline.models import Paragraph


def para(text, section_path="§ 740.29(h)(2)", kind="body", doc_id="rule", index=1):
    return Paragraph(
        id=f"{doc_id}:{index}",
        doc_id=doc_id,
        ordinal=index,
        section_path=section_path,
        page=1,
        page_label=None,
        pin_cite="x",
        text=text,
        kind=kind,
    )


def one(rows, table):
    assert len(rows[table]) == 1, rows[table]
    return rows[table][0]


# ----------------------------------------------------------------------------- definitions


@pytest.mark.parametrize(
    "text, section_path, term, scope, kind",
    [
        (
            "(2) Cumulative TPP. The ‘cumulative TPP’ is the total amount of TPP of all eligible commodities.",
            "§ 740.29(h)(2)",
            "cumulative TPP",
            "§ 740.29",
            "caption",
        ),
        (
            "(1) Ultimate consignee. For purposes of this license exception, the ultimate consignee is the "
            "ultimate parent.",
            "§ 740.29(h)(1)",
            "ultimate consignee",
            "§ 740.29",
            "caption",
        ),
        ("Model Weights. See ECCN 4E091 (Supplement No. 1 to part 774).", "§ 772.1", "Model Weights", "EAR", "pointer"),
        (
            "1. ‘Parameters’ refers to any value learned during training.",
            "ECCN 4E091 > Technical Notes > 1",
            "Parameters",
            "ECCN 4E091",
            "technical_note",
        ),
        (
            "For the purposes of 5A004.b.1, 'extract raw data' from a computing device means to retrieve binary data.",
            "ECCN 5A004 > Technical Note",
            "extract raw data",
            "ECCN 5A004",
            "technical_note",
        ),
        (
            "“Advanced AI model” means a model trained on more than 10^26 operations.",
            "§ 734.9(l)",
            "Advanced AI model",
            "§ 734.9",
            "means",
        ),
    ],
)
def test_definition_forms(text, section_path, term, scope, kind):
    found = one(extract([para(text, section_path)]), "definitions")
    assert (found["term"], found["scope"], found["kind"]) == (term, scope, kind)
    assert text[found["char_start"] : found["char_end"]] == found["matched_text"]


def test_abbreviation_and_alternative_name_are_definitions_too():
    rows = extract(
        [
            para(
                "1. 'Total processing performance' ('TPP') is 2 × 'MacTOPS' × 'bit length'.",
                "ECCN 3A090 > Technical Notes > 1",
            )
        ]
    )
    assert {r["term"] for r in rows["definitions"]} == {"Total processing performance", "TPP"}
    rows = extract(
        [
            para(
                "For the purposes of 3A001.e.4, 'AM0', or 'Air Mass Zero', refers to the spectral irradiance.",
                "ECCN 3A001 > Technical Note",
            )
        ]
    )
    assert {r["term"] for r in rows["definitions"]} == {"AM0", "Air Mass Zero"}


def test_mere_use_of_a_quoted_term_is_not_a_definition():
    rows = extract(
        [
            para("The rate of 'MacTOPS' is to be calculated at its maximum value.", "ECCN 3A090 > Technical Notes > 2"),
            para("Items in ‘major component’ of a plant that is located abroad.", "§ 734.9(l)(1)", index=2),
            para("The exporter must obtain the ‘cumulative TPP’ is not defined here.", "§ 740.29(a)", index=3),
        ]
    )
    assert rows["definitions"] == []


# ----------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    "name, iso2",
    [
        ("Republic of Korea", "KR"),
        ("South Korea", "KR"),
        ("Taiwan", "TW"),
        ("Macau", "MO"),
        ("Burma", "MM"),
        ("the PRC", "CN"),
        ("UK", "GB"),
        ("Netherlands", "NL"),
        ("韩国", "KR"),
        ("台湾", "TW"),
        ("新西兰", "NZ"),
        ("Atlantis", None),
    ],
)
def test_names_resolve_to_iso(name, iso2):
    assert resolve(name) == iso2


def test_one_per_line_list_under_a_heading():
    text = "(a) Destinations eligible:\nAustralia\nRepublic of Korea\nTaiwan\nUnited Kingdom"
    rows = extract([para(text, "Supplement No. 5 to Part 740(a)", kind="list")])
    listed = one(rows, "country_lists")
    assert listed["label"] == "(a) Destinations eligible:" and listed["style"] == "lines"
    assert [m["iso2"] for m in rows["country_list_members"]] == ["AU", "KR", "TW", "GB"]


def test_inline_enumerations_and_groups():
    text = (
        "Those destinations are Australia, Belgium, the Netherlands, and the United States. "
        "Exports to Macau or a destination specified in Country Group D:5 or Country Groups A:5 and A:6 need a license."
    )
    rows = extract([para(text, "Preamble")])
    listed = one(rows, "country_lists")
    assert listed["label"] == "Those destinations are"
    assert [m["iso2"] for m in rows["country_list_members"]] == ["AU", "BE", "NL", "US"]
    assert sorted(g["group_name"] for g in rows["country_group_refs"]) == [
        "Country Group A:5",
        "Country Group A:6",
        "Country Group D:5",
    ]
    assert len(rows["country_lists"]) == 1  # "Macau" alone is a mention, not a list


def test_chinese_enumeration_and_clauses():
    text = (
        "20个值得信赖的国家和地区包括 - 澳大利亚、比利时、韩国、台湾和英国 - 不受限制。"
        "名单中包括盟友,如以色列和新加坡;以及其他国家,例如沙特阿拉伯。"
    )
    rows = extract([para(text, "", doc_id="news")], language="zh")
    lists = rows["country_lists"]
    assert [item["member_count"] for item in lists] == [5, 3]
    assert [m["iso2"] for m in rows["country_list_members"][:5]] == ["AU", "BE", "KR", "TW", "GB"]


# ----------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "License Exception LPP authorizes up to 26,900,000 cumulative total processing performance per year.",
            [(26900000, "TPP", "<=")],
        ),
        (
            "a.2. A 'total processing performance' of 1600 or more and a 'performance density' of 5.92 or more.",
            [(1600, "TPP", ">="), (5.92, "TPP/mm2", ">=")],
        ),
        (
            "b.1. A 'total processing performance' of 2400 or more and less than 4800.",
            [(2400, "TPP", ">="), (4800, "TPP", "<")],
        ),
        (
            "4E091 ‘Parameters’ for an artificial intelligence model trained utilizing 10^26 or more ‘operations.’",
            [(1e26, "operations", ">=")],
        ),
        (
            "constitute more than 2.5x10^25 ‘operations’ or more than 25 percent of the training",
            [(2.5e25, "operations", ">"), (25, "%", ">")],
        ),
        ("If more than ten percent of the ‘operations’ involve training on data", [(10, "%", ">")]),
        ("must provide a copy to BIS within 30 days of the date of export", [(30, "days", "<=")]),
        ("The UVEU cannot transfer or install more than 7% of its total AI computing power", [(7, "%", "<=")]),
        # the cap governs both of its alternatives
        (
            "a cap of 50,000 advanced GPUs per country, or 100,000 H100 equivalents",
            [(50000, "GPUs", "<="), (100000, "H100-equivalents", "<=")],
        ),
        ("investments of $1 million", [(1e6, "USD", "=")]),
        ("需要 100,000 到 400,000 个 GPU", [(100000, "GPUs", ">="), (400000, "GPUs", "<=")]),
        ("设定了每年 25,000 个 GPU 的上限", [(25000, "GPUs", "<=")]),
        ("See part 744, paragraph 28 and NIST 800-53; ECCN 3A090 and § 740.29.", []),
        ("'Total processing performance' ('TPP') is 2 × 'MacTOPS' × 'bit length'", []),
    ],
)
def test_thresholds(text, expected):
    rows = extract([para(text, "§ 740.29(a)")], language="zh" if "GPU" in text and "个" in text else "en")
    got = [(r["value"], r["unit"], r["comparator"]) for r in rows["thresholds"]]
    assert got == [(float(v), u, c) for v, u, c in expected]
    for row in rows["thresholds"]:
        assert text[row["char_start"] : row["char_end"]] == row["matched_text"]


def test_table_rows_take_their_unit_from_the_header():
    header = para("Quarter | Cumulative Per-Company Per-Country Allocation in TPP", kind="table", index=1)
    row = para("2025 Q1 | 633,000,000", kind="table", index=2)
    found = one(extract([header, row]), "thresholds")
    assert (found["value"], found["unit"], found["comparator"]) == (633e6, "TPP", "<=")
    assert "2025 Q1" in found["subject"] and found["paragraph_id"] == row.id


def test_components_score_their_span_groups():
    nlp = pipeline("en")
    text = "1. ‘Parameters’ refers to any value learned during training."
    predicted = nlp.make_doc(text)
    predicted.user_data.update({"section_path": "ECCN 4E091 > Technical Notes > 1"})
    predicted = nlp.get_pipe("regkb_definitions")(predicted)
    reference = nlp.make_doc(text)
    # a definition's span is the whole definition (its sentence), not the term and verb alone
    reference.spans["definitions"] = [reference.char_span(text.index("‘"), len(text), label="DEFINITION")]
    scores = nlp.get_pipe("regkb_definitions").score([Example(predicted, reference)])
    assert scores["spans_definitions_f"] == 1.0
