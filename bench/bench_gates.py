"""Where each gold position the knowledge base misses falls in the positions extractor, so that work
goes to the gate that loses most: no stance cue; the paragraph is not on the rule for the extractor
(no rule context, no anchor); a heading; the topic gate; the relevance stage (a candidate existed);
or found by the extractor but in another span.

    .venv/bin/python bench/bench_gates.py KB.db GOLD.jsonl [...] [--list]

Run it on the workspace bench_gold_sets.py built (--work DIR: DIR/ws/regkb.db). Items of a held-out
set (annotations/heldout/) are only counted, never listed."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.evaluate import Locator, _overlap, _quote_span, _split_gold  # noqa: E402
from pipeline.extract import positions as P  # noqa: E402
from pipeline.extract.run import contexts, extract  # noqa: E402
from pipeline.models import ManifestEntry, Paragraph  # noqa: E402


def document(conn, doc_id: str) -> tuple[list[Paragraph], ManifestEntry]:
    fields = set(Paragraph.__dataclass_fields__)
    rows = conn.execute("select * from paragraphs where doc_id = ? order by ordinal", (doc_id,))
    paragraphs = [Paragraph(**{k: row[k] for k in row.keys() if k in fields}) for row in rows]
    d = conn.execute("select * from documents where id = ?", (doc_id,)).fetchone()
    entry = ManifestEntry(
        id=d["id"],
        title=d["title"] or "",
        doc_type=d["doc_type"],
        author_org=d["author_org"] or "",
        date=d["date"] or "",
        language=d["language"] or "en",
        file=d["file_name"] or "",
    )
    return paragraphs, entry


def gate(paragraph: Paragraph, info: dict, span: tuple[int, int]) -> str:
    """The first gate of PositionFinder each sentence of the gold span falls at (the furthest one)."""
    order = [
        "no stance cue",
        "not on the rule (extractor)",
        "lead-in/third party/citation",
        "heading",
        "narration",
        "topic gate",
        "passes",
    ]
    furthest = 0
    text = paragraph.text
    for start, end in P.sentence_spans(text):
        if end <= span[0] or start >= span[1]:
            continue
        sentence = text[start:end]
        lang = "zh" if P.CJK.search(sentence) else "en"
        found = P.stance_of(sentence, lang, imperatives=not info.get("heading_like"))
        if not found:
            continue
        level = 1
        if info.get("rule_context") or P.about_the_rule(sentence):
            level = 2
            if not (
                sentence.rstrip().endswith((":", "："))
                and len(sentence) < P.LEAD_IN
                or P.THIRD_PARTY.search(sentence)
                or P.CITATION_NOTE.search(sentence)
            ):
                level = 3
                opens = found[0] == "request_change" and 0 <= P.squash(sentence).find(found[1]) <= 4
                if not (info.get("heading_like") and not opens):
                    level = 5
                    evidence = not info.get("document_relevant")
                    if (
                        P.topic_of(sentence, evidence=evidence, gate=True)
                        or P.about_the_rule(sentence)
                        or (
                            info.get("doc_type") == "comment" and info.get("section_relevant") and found[0] != "support"
                        )
                    ):
                        level = 6
        furthest = max(furthest, level)
    return order[furthest]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("gold", nargs="+", type=Path)
    parser.add_argument("--list", action="store_true", help="print each miss of a non-held-out set with its gate")
    args = parser.parse_args()
    conn = sqlite3.connect(args.db)
    conn.row_factory = sqlite3.Row
    locator = Locator(conn)
    cache: dict[str, tuple] = {}
    total = Counter()
    for gold_path in args.gold:
        held_out = gold_path.parent.name == "heldout"
        rows = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
        _, items = _split_gold(rows)
        counts = Counter()
        for item in items:
            paragraph = locator.locate(item)
            if paragraph is None:
                counts["not located"] += 1
                continue
            span = _quote_span(paragraph["text"], item["quote"])
            found = conn.execute(
                "select char_start, char_end from positions where paragraph_id = ?", (paragraph["id"],)
            ).fetchall()
            if any(_overlap(span, (a, b)) >= 0.5 for a, b in found):
                continue
            if item["doc"] not in cache:
                paragraphs, entry = document(conn, item["doc"])
                candidates = extract(paragraphs, entry.language, entry)["positions"]
                cache[item["doc"]] = (paragraphs, contexts(paragraphs, entry), candidates)
            paragraphs, infos, candidates = cache[item["doc"]]
            index = next(i for i, p in enumerate(paragraphs) if p.id == paragraph["id"])
            proposed = [c for c in candidates if c["paragraph_id"] == paragraph["id"]]
            if any(_overlap(span, (c["char_start"], c["char_end"])) >= 0.5 for c in proposed):
                where = "relevance stage"
            elif any(_overlap(span, (c["char_start"], c["char_end"])) > 0 for c in proposed):
                where = "other span"
            else:
                where = gate(paragraphs[index], infos[index], span)
            counts[where] += 1
            if args.list and not held_out:
                print(f"  {where:<30} {item['doc'][:28]:<28} {item['stance']:<14} {item['quote'][:110]}")
        print(f"{gold_path.stem}: {len(items)} items; misses by gate: {dict(counts.most_common())}", flush=True)
        total.update(counts)
    print(f"all: {dict(total.most_common())}")


if __name__ == "__main__":
    main()
