"""Positions → the rule provisions they are about: the provisions a passage names (citations, the
glossary's names, its topic's provisions) and, of those, the paragraph that states the rule; then the
nearest rule paragraphs by embedding."""

from __future__ import annotations

import re

from ..models import Paragraph
from ..paths import CJK
from ..patterns import load_patterns

# "§ 742.6(b)(10)", "§§ 740.27", "Supplement No. 5 to part 740", "ECCN 4E091" / "4E091"
CITATION = re.compile(
    r"§§?\s*(?P<section>7\d\d\.\d+[a-z]?)(?P<paragraphs>(?:\((?:[a-z]{1,2}|\d{1,3}|[ivxl]{1,6}|[A-Z])\))*)"
    r"|Supplement No\.\s*(?P<supplement>\d+) to [Pp]art (?:7\d\d; )?(?P<part>7\d\d)"
    r"|(?:ECCN\s*)?(?<![\w.])(?P<eccn>\d[A-E]\d{3})(?![\w])"
)
LINKS_PER_POSITION = 3
METHOD_ORDER = ("reference", "glossary", "topic", "embedding", "context")


def cited_provisions(text: str, topic: str = "") -> list[tuple[str, str, str]]:
    """(section-path prefix, matched text, method) for each provision a passage names: explicit
    citations first, then the glossary's names for provisions, in order of appearance, then where
    its topic points (patterns/topics.jsonl)."""
    found: list[tuple[int, str, str, str]] = []
    for match in CITATION.finditer(text):
        if match.group("section"):
            prefix = f"§ {match.group('section')}{match.group('paragraphs')}"
        elif match.group("supplement"):
            prefix = f"Supplement No. {match.group('supplement')} to Part {match.group('part')}"
        else:
            prefix = f"ECCN {match.group('eccn')}"
        found.append((0, match.start(), prefix, match.group(0)))
    for row in load_patterns("glossary"):
        hits = [m for cue in row["cues"] for m in re.finditer(cue, text, re.I)]
        if hits:
            first = min(hits, key=lambda m: m.start())
            found.extend((1, first.start(), prefix, first.group(0)) for prefix in row["links"])
    for row in load_patterns("topics"):
        if row.get("topic") == topic:
            found.extend((2, index, prefix, "") for index, prefix in enumerate(row["provisions"]))
    out, seen = [], set()
    for rank, _, prefix, matched in sorted(found):
        if prefix not in seen:
            seen.add(prefix)
            out.append((prefix, matched, METHOD_ORDER[rank]))
    return out


def within(section_path: str, prefix: str) -> bool:
    """ "§ 740.29(b)(1)" is within "§ 740.29"; "§ 740.2" is not a prefix of "§ 740.29"."""
    if not section_path.startswith(prefix):
        return False
    rest = section_path[len(prefix) :]
    return not rest or rest[0] in "( >." and not (rest[0] == "." and rest[1:2].isdigit())


FIGURE = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\s*(?:%|percent|TPP|days)\b", re.I)
STATES_SUBJECT, STATES_FIGURE = 0.08, 0.05


def topic_words(topic: str) -> tuple[re.Pattern, ...]:
    """The cues of a topic (patterns/topics.jsonl): the words a provision on it uses."""
    for row in load_patterns("topics"):
        if row.get("topic") == topic:
            return tuple(re.compile(cue, re.I) for cue in row["cues"] if not CJK.search(cue))
    return ()


def states(text: str, words: tuple[re.Pattern, ...]) -> float:
    """How plainly a rule paragraph states a provision on the topic: its words, and a figure."""
    named = any(p.search(text) for p in words)
    return (STATES_SUBJECT if named else 0.0) + (STATES_FIGURE if named and FIGURE.search(text) else 0.0)


def root_section(section_path: str) -> str:
    """ "§ 180.90(a)" → "§ 180.90"; "Supplement No. 5 to Part 740 > …" → "Supplement No. 5 to Part 740"."""
    head = section_path.split(" > ")[0]
    return re.sub(r"^(§\s*[\d.]+[a-z]?)\(.*$", r"\1", head)


def position_links(
    positions: list[dict], targets: list[Paragraph], target_vectors, quote_vectors, context_topics=None
) -> list[dict]:
    """Each position's top rule paragraphs: those it names (by citation or glossary term) or its
    topic points to, the best paragraph of that provision by embedding similarity; then the nearest
    by embedding alone, except for Chinese quotes (the model reads English only: their similarities
    are noise). target_vectors: matrix aligned with targets; quote_vectors: aligned with positions;
    context_topics (aligned with positions, or None): the topic of a position's paragraph, which points
    to provisions for a position whose own sentence names no topic ("other")."""
    import numpy as np

    rows: list[dict] = []
    if not targets:
        return rows
    members_of: dict[str, list[int]] = {}  # provision → its paragraphs; a docket names the same few thousands of times
    provisions = [prefix for row in load_patterns("topics") for prefix in row.get("provisions", [])]
    taxonomy_fits = any(within(t.section_path, prefix) for prefix in provisions for t in targets)
    argued: dict[tuple[str, str], list[int]] = {}  # (document, speaker) → first links of its positions
    unlinked: list[dict] = []
    for index, (position, vector) in enumerate(zip(positions, quote_vectors)):
        similarity = target_vectors @ vector
        chosen: list[tuple[int, float, str, str]] = []
        topic = position.get("topic", "")
        if topic in ("other", "", None) and context_topics is not None and context_topics[index]:
            topic = context_topics[index]
        words = topic_words(topic)
        for prefix, matched, method in cited_provisions(position["quote"], topic):
            if prefix not in members_of:
                members_of[prefix] = [i for i, p in enumerate(targets) if within(p.section_path, prefix)]
            members = members_of[prefix]
            if members and len(chosen) < LINKS_PER_POSITION:
                # the paragraph that states the rule the position is about (names its subject and
                # gives its figure) before one that only mentions it
                best = max(members, key=lambda i: similarity[i] + states(targets[i].text, words))
                if best not in {c[0] for c in chosen}:
                    chosen.append((best, float(similarity[best]), method, matched))
        for nearest in [] if CJK.search(position["quote"]) else np.argsort(-similarity):
            if len(chosen) >= LINKS_PER_POSITION:
                break
            if int(nearest) not in {c[0] for c in chosen}:
                chosen.append((int(nearest), float(similarity[nearest]), "embedding", ""))
        if chosen and position.get("topic") in ("other", "", None) and not taxonomy_fits:
            # the documented topics are this corpus's rule's; on another rule, the section it is most about
            position["topic"] = root_section(targets[chosen[0][0]].section_path)
        if chosen:
            argued.setdefault((position["doc_id"], position.get("org", "")), []).extend(c[0] for c in chosen[:1])
        else:
            unlinked.append(position)
        rows.extend(
            {
                "position_id": position["id"],
                "paragraph_id": targets[i].id,
                "rank": rank,
                "score": round(score, 4),
                "method": method,
                "matched_text": matched,
            }
            for rank, (i, score, method, matched) in enumerate(chosen, start=1)
        )
    # a Chinese quote that names no provision (the embedding model reads English only) is about what
    # its speaker argues about elsewhere in the document: the provisions its other positions link to first
    for position in unlinked:
        firsts = argued.get((position["doc_id"], position.get("org", "")), [])
        ranked = sorted(set(firsts), key=lambda i: (-firsts.count(i), firsts.index(i)))[:LINKS_PER_POSITION]
        rows.extend(
            {
                "position_id": position["id"],
                "paragraph_id": targets[i].id,
                "rank": rank,
                "score": 0.0,
                "method": "context",
                "matched_text": "",
            }
            for rank, i in enumerate(ranked, start=1)
        )
    return rows
