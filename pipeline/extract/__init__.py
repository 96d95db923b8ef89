"""Extract: paragraphs → defined terms, country lists, thresholds and positions, each row carrying the
paragraph id and the exact matched text (with its offsets) it came from.

- contract: what each component declares (span groups, tables, row columns, id prefixes, provenance
  column, gold scorer); spaCy-free, so the store and the read side can use the declarations
- run: the blank spaCy pipeline of the components, the paragraph contexts, rows through the contract
- definitions, countries, thresholds, positions: the components (spaCy factories, patterns as data)

`extract`, `pipeline` and `contexts` load spaCy on first use only (importing this package does not)."""

from __future__ import annotations

from .contract import COMPONENTS, CONTRACTS  # noqa: F401

_LAZY = {"extract", "pipeline", "contexts", "section_titles"}


def __getattr__(name: str):
    if name in _LAZY:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
