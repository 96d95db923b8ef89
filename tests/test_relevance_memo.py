"""The relevance model (the words that name the rules and their subject matter) is memoised by what
it reads (issue 13: a build that adds one letter to the docket computed it again, 3-5 s). Real
documents: the rule's published regulatory text and responses from the real docket."""

from __future__ import annotations

import pytest

from pipeline.document import parse_document
from pipeline.link import corpus as link_corpus
from pipeline.link import relevance
from pipeline.manifest import DEFAULT_MANIFEST, load_manifest
from pipeline.models import ManifestEntry
from tests.conftest import REAL_CORPUS

DOCKET = REAL_CORPUS.parent / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
LETTERS = ["Intel-AI-RFI-2025.txt", "CNAS-AI-RFI-2025.txt", "1Day-Sooner-RFI-2025.txt", "IFP-AI-RFI-2025.txt"]


@pytest.fixture(scope="module")
def parsed():
    rule = next(e for e in load_manifest(DEFAULT_MANIFEST) if e.id == "bis-2025-00636-regtext")
    entries = [(REAL_CORPUS / rule.file, rule)] + [
        (DOCKET / name, ManifestEntry(name.split("-")[0].lower(), name, "comment", "o", "2025-03-15", "en", name))
        for name in LETTERS
    ]
    documents, paragraphs, definitions = [], [], []
    for path, entry in entries:
        document, doc_paragraphs, extracted = parse_document(path, entry)
        documents.append(document)
        paragraphs.extend(doc_paragraphs)
        definitions.extend(extracted.get("definitions", []))
    return documents, paragraphs, definitions


def as_json(model) -> dict:
    return relevance.model_to_json(model)


def test_the_memoised_model_is_the_model_and_is_read_back(parsed, tmp_path, monkeypatch):
    documents, paragraphs, definitions = parsed
    fresh = relevance.relevance_model(documents, definitions, paragraphs)
    assert fresh[0] is not None and fresh[1].on  # the rule's names and subject words are found
    first = link_corpus.relevance_model_memoised(documents, definitions, paragraphs, tmp_path)
    assert as_json(first) == as_json(fresh)
    assert first[0].search("comments on the AI Diffusion rule") and not first[0].search("a note on lunch")

    def computed_again(*args):
        raise AssertionError("computed again although nothing it reads changed")

    monkeypatch.setattr(relevance, "relevance_model", computed_again)
    assert as_json(link_corpus.relevance_model_memoised(documents, definitions, paragraphs, tmp_path)) == as_json(fresh)


def test_what_the_model_reads_changes_its_key_and_nothing_else_does(parsed, monkeypatch):
    documents, paragraphs, definitions = parsed
    key = relevance.model_inputs(documents, definitions, paragraphs)
    rule_paragraph = next(i for i, p in enumerate(paragraphs) if p.doc_id == "bis-2025-00636-regtext")
    edited = list(paragraphs)
    edited[rule_paragraph] = type(paragraphs[0])(**{**vars(paragraphs[rule_paragraph]), "text": "Changed."})
    assert relevance.model_inputs(documents, definitions, edited) != key
    assert relevance.model_inputs(documents, definitions[1:], paragraphs) != key or not definitions
    # with a sample of three letters, a letter outside it does not change the key
    monkeypatch.setattr(relevance, "LETTER_SAMPLE", 3)
    sample = relevance.letter_sample(documents)
    outside = next(d["id"] for d in documents if d["doc_type"] != "rule" and d["id"] not in sample)
    inside = next(iter(sample))
    key = relevance.model_inputs(documents, definitions, paragraphs)
    for doc_id, same in ((outside, True), (inside, False)):
        changed = [type(p)(**{**vars(p), "text": p.text + " More."}) if p.doc_id == doc_id else p for p in paragraphs]
        assert (relevance.model_inputs(documents, definitions, changed) == key) is same, doc_id
