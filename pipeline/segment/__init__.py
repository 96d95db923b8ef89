"""Segment: pages of lines → paragraphs with a stable id, a section path and a pin cite.

Pure functions, no I/O. The structure of a Federal Register rule is recognised the way eRegs'
regulations-parser does it: a state machine walks the paragraphs in order and keeps the stack of
open levels (preamble captions and outline headings; PART, §, paragraph markers (a)(1)(i)(A);
supplements; Commerce Control List entries and their Notes). Letters get their headings.

One module per job:
  paragraphs  segment(), the entry point: blocks → paragraphs, footnotes under their markers
  blocks      lines → blocks (paragraphs, list items, table rows, footnotes) and block predicates
  patterns    the text patterns of a rule's structure
  markers     CFR paragraph markers and the stack of open outline levels
  structure   the walk that keeps a document's structure: section paths
  letters     a letter's furniture (letterhead, salutation, signature, addresses), never a heading
  pins        paragraph ids and pin cites (as data, rendered from it)

This module only re-exports what the rest of regkb (and its tests) import from pipeline.segment."""

from __future__ import annotations

from .blocks import (
    STRONG_START,
    Block,
    _heads_prose,
    _is_caption_line,
    _is_heading_line,
    _is_list_item,
    _split_headed_children,
    _split_leading_ellipsis,
    join_lines,
    looks_like_heading,
    make_blocks,
)
from .letters import letter_furniture
from .markers import MarkerStack, marker_types
from .paragraphs import is_rule_document, segment
from .patterns import BULLET_ONLY, ELLIPSIS
from .pins import Pin, paragraph_id, pin_cite, pin_of, render_pin
from .structure import Structure, classify

__all__ = [
    "BULLET_ONLY",
    "ELLIPSIS",
    "STRONG_START",
    "Block",
    "MarkerStack",
    "Pin",
    "Structure",
    "classify",
    "is_rule_document",
    "join_lines",
    "letter_furniture",
    "looks_like_heading",
    "make_blocks",
    "marker_types",
    "paragraph_id",
    "pin_cite",
    "pin_of",
    "render_pin",
    "segment",
    # private to blocks; tests/test_scaling.py rebuilds make_blocks' old code from them
    "_heads_prose",
    "_is_caption_line",
    "_is_heading_line",
    "_is_list_item",
    "_split_headed_children",
    "_split_leading_ellipsis",
]
