"""Link: connect extracted facts to the paragraphs they concern. terms: where each defined term is
used; provisions: which rule paragraphs a position is about; relevance: which candidate positions
are about a rule of the knowledge base at all; corpus: the stage over the whole corpus (embeddings,
campaigns, relevance, links), as the build runs it."""

from .corpus import EMBED_ALL_UP_TO, EMBED_LETTERS, embedded_paragraphs, link_corpus, usages_by_document, vectors_for
from .provisions import (
    CITATION,
    LINKS_PER_POSITION,
    METHOD_ORDER,
    cited_provisions,
    position_links,
    root_section,
    within,
)
from .relevance import SubjectMatter, names_a_rule, relevant_positions, rule_lexicon, subject_matter
from .terms import term_usages, usage_pattern

__all__ = [
    "CITATION",
    "EMBED_ALL_UP_TO",
    "EMBED_LETTERS",
    "LINKS_PER_POSITION",
    "METHOD_ORDER",
    "SubjectMatter",
    "cited_provisions",
    "embedded_paragraphs",
    "link_corpus",
    "usages_by_document",
    "names_a_rule",
    "position_links",
    "relevant_positions",
    "root_section",
    "rule_lexicon",
    "subject_matter",
    "term_usages",
    "usage_pattern",
    "vectors_for",
    "within",
]
