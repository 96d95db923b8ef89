"""Relevance at docket size (issue 13): the letters' word statistics come from a fixed sample of at
most LETTER_SAMPLE letters, so that their cost stops growing with the docket and adding a letter
changes the sample by at most that letter. The real docket's file names are the ids."""

from __future__ import annotations

from pathlib import Path

from pipeline.link import relevance

DOCKET = Path(__file__).resolve().parents[1].parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"


def docket_documents() -> list[dict]:
    ids = [path.stem.lower() for path in sorted(DOCKET.glob("*.txt"))]
    assert len(ids) > 10_000, "the real docket is expected beside the project"
    return [{"id": "rule", "doc_type": "rule"}] + [{"id": i, "doc_type": "comment"} for i in ids]


def test_up_to_the_cap_every_letter_counts_and_never_a_rule():
    documents = docket_documents()[: relevance.LETTER_SAMPLE + 1]
    assert relevance.letter_sample(documents) == {d["id"] for d in documents[1:]}


def test_beyond_the_cap_a_fixed_sample_that_one_more_letter_moves_by_at_most_one():
    documents = docket_documents()
    sample = relevance.letter_sample(documents[:-1])
    assert len(sample) == relevance.LETTER_SAMPLE and "rule" not in sample
    assert relevance.letter_sample(list(reversed(documents[:-1]))) == sample  # order of the build does not matter
    after = relevance.letter_sample(documents)
    assert len(after - sample) <= 1 and len(sample - after) <= 1
    assert after - sample <= {documents[-1]["id"]}
