"""Link across the corpus: embed the paragraphs and the position quotes (vectors cached by text),
find form-letter campaigns among the letters, keep the positions on a rule of the knowledge base and
link each to the rule's regulatory text; and where each defined term is used, memoised per document."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from .. import dedupe, embed, store, triage, vectorindex
from ..models import Paragraph, RegkbError
from . import relevance
from .provisions import position_links
from .relevance import relevant_positions
from .terms import term_usages


def vectors_for(texts: list[str], cache_dir: Path, counts: dict[str, float] | None = None):
    """Unit embedding vectors of texts (a matrix in the same order), computed once per text and
    cached by text hash across builds. counts, when given, gets how long the cache read took and how
    many texts were encoded."""
    import numpy as np

    mark = time.perf_counter()
    keys = [embed.text_key(text) for text in texts]
    known = store.load_vectors(cache_dir, sorted(set(keys)))
    missing = sorted({key: text for key, text in zip(keys, texts) if key not in known}.items())
    if counts is not None:
        counts["embed_cache_read"] = time.perf_counter() - mark
        counts["embed_encoded_texts"] = float(len(missing))
    if missing:
        fresh = embed.encode([text for _, text in missing])
        new = {key: embed.to_blob(vector) for (key, _), vector in zip(missing, fresh)}
        store.save_vectors(cache_dir, new)
        known.update(new)
    if not texts:
        return np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    return np.vstack([embed.from_blob(known[key]) for key in keys])


def minhash_signatures(texts: dict[str, str], cache_dir: Path) -> dict:
    """Each letter's MinHash signature (dedupe.signature), memoised by its text: a build that adds one
    letter to a docket hashes the shingles of that letter only."""
    import numpy as np

    salt = f"{dedupe.SCHEME}\x1f{dedupe.PERMUTATIONS}\x1f{dedupe.SHINGLE_WORDS}\x1f"
    keys = {doc: hashlib.blake2b((salt + text).encode(), digest_size=16).hexdigest() for doc, text in texts.items()}

    def compute(docs: list[str]) -> dict[str, str]:
        out = {}
        for doc in docs:
            values = dedupe.signature(texts[doc])
            out[doc] = f"{values.dtype.str}:{values.tobytes().hex()}"
        return out

    out = {}
    for doc, stored in store.memoised(cache_dir, "minhash", keys, compute).items():
        dtype, _, data = stored.partition(":")
        out[doc] = np.frombuffer(bytes.fromhex(data), dtype=np.dtype(dtype))
    return out


def copies_found(texts: dict[str, str], means: dict, signatures: dict, cache_dir: Path) -> list:
    """dedupe.find_copies, taken up from the previous build's progress (kept in the cache with the
    code version it was found by): a build that appends letters compares only those."""
    version = store.code_version()
    previous = store.load_memo(cache_dir, "dedupe_progress", ["latest"]).get("latest")
    resume = previous.get("progress") if isinstance(previous, dict) and previous.get("code") == version else None
    pairs, progress = dedupe.find_copies(texts, means, signatures, resume=resume)
    if resume is None or resume.get("steps") != progress["steps"]:
        store.save_memo(cache_dir, "dedupe_progress", {"latest": {"code": version, "progress": progress}})
    return pairs


def relevance_model_memoised(
    documents: list[dict], definitions: list[dict], paragraphs: list[Paragraph], cache_dir: Path
):
    """relevance.relevance_model, memoised (store.memoised) by its inputs and the code version: a build
    that adds a letter outside the letters it samples computed it again for nothing (3-5 s at docket size)."""

    def compute(_) -> dict:
        return {"model": relevance.model_to_json(relevance.relevance_model(documents, definitions, paragraphs))}

    key = f"{store.code_version()}:{relevance.model_inputs(documents, definitions, paragraphs)}"
    stored = store.memoised(cache_dir, "relevance_model", {"model": key}, compute)["model"]
    try:
        return relevance.model_from_json(stored)
    except (KeyError, TypeError, IndexError, ValueError, re.error):
        return relevance.relevance_model(documents, definitions, paragraphs)  # a damaged memo


def link_corpus(
    documents: list[dict],
    paragraphs: list[Paragraph],
    extracted: dict[str, list[dict]],
    cache_dir: Path,
    stages: dict[str, float],
    embed_letters: str = "auto",
) -> None:
    """Embed the paragraphs (for hybrid search; which ones: embedded_paragraphs) and every position
    quote; find copies among the letters (form-letter campaigns); link each position to the
    regulatory text of the rule (the rule document with the most pages is the one cited)."""
    import numpy as np

    mark = time.perf_counter()
    chosen = embedded_paragraphs(documents, paragraphs, extracted, cache_dir, embed_letters)
    stages["embed_choose"] = time.perf_counter() - mark
    row_of = {index: row for row, index in enumerate(chosen)}  # paragraph index → row of matrix
    matrix = vectors_for([paragraphs[i].text for i in chosen], cache_dir, stages)
    stages["embed"] = time.perf_counter() - mark
    mark = time.perf_counter()
    extracted["embeddings"] = [
        {"paragraph_id": paragraphs[i].id, "model": embed.MODEL_NAME, "vector": embed.to_blob(v)}
        for i, v in zip(chosen, matrix)
    ]
    mark = time.perf_counter()
    previous = store.load_index_row(cache_dir) if len(chosen) >= vectorindex.ANN_FROM else None
    ann_row = vectorindex.build_row([paragraphs[i].id for i in chosen], matrix, embed.MODEL_NAME, previous=previous)
    if ann_row and ann_row is not previous:
        store.save_index_row(cache_dir, ann_row)  # for the next build to take up
    extracted["vector_index"] = [ann_row] if ann_row else []  # for search at docket size; none when small
    stages["vector_index"] = time.perf_counter() - mark
    mark = time.perf_counter()
    letters = [d for d in documents if d["doc_type"] != "rule"]
    rows_of: dict[str, list[int]] = {}
    texts_of: dict[str, list[str]] = {}
    for index, paragraph in enumerate(paragraphs):
        texts_of.setdefault(paragraph.doc_id, []).append(paragraph.text)
        if index in row_of:
            rows_of.setdefault(paragraph.doc_id, []).append(row_of[index])
    texts = {d["id"]: "\n".join(texts_of.get(d["id"], [])) for d in letters}
    means = {doc_id: matrix[rows].mean(axis=0) for doc_id, rows in rows_of.items() if doc_id in texts}
    means = {doc_id: vector / (np.linalg.norm(vector) or 1.0) for doc_id, vector in means.items()}
    signatures = minhash_signatures(texts, cache_dir)
    extracted["document_clusters"] = dedupe.clusters(letters, copies_found(texts, means, signatures, cache_dir))
    positions = extracted.get("positions", [])
    dedupe.mark_duplicate_positions(positions, extracted["document_clusters"])
    stages["dedupe"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rules = sorted((d for d in documents if d["doc_type"] == "rule"), key=lambda d: -(d["page_count"] or 0))
    if not rules or not positions:
        extracted["position_links"] = []
        return
    regulatory = [
        i
        for i, p in enumerate(paragraphs)
        if p.doc_id == rules[0]["id"] and p.section_path.startswith(("§", "Supplement", "ECCN"))
    ]
    quotes = vectors_for([row["quote"] for row in positions], cache_dir)
    definitions = extracted.get("definitions", [])
    model = relevance_model_memoised(documents, definitions, paragraphs, cache_dir)
    keep = relevant_positions(positions, paragraphs, None, documents, definitions, quotes, model=model)
    positions[:] = [row for row, kept in zip(positions, keep) if kept]  # only positions on a rule of the KB
    quotes = quotes[np.asarray(keep, dtype=bool)]
    from ..extract.positions import topic_of

    # a position whose sentence names no topic is linked by its paragraph's ("The problems are many.")
    text_of = {p.id: p.text for p in paragraphs}
    context_topics = [
        topic_of(text_of.get(row["paragraph_id"], "")) if row.get("topic") in ("other", "", None) else None
        for row in positions
    ]
    extracted["position_links"] = position_links(
        positions, [paragraphs[i] for i in regulatory], matrix[[row_of[i] for i in regulatory]], quotes, context_topics
    )
    stages["link"] = time.perf_counter() - mark


# Up to this many paragraphs of letters, every paragraph is embedded (about a minute of the build on two
# cores); beyond it ("auto"), only the letters that engage with a rule (triage.engaging: they name it,
# its provisions or export controls, or hold a position) are: in 1,000 real responses of the OSTP docket
# that was 48 letters, a quarter of the letters' paragraphs. The others are still found by BM25 (and by
# the hybrid search's BM25 half), and their campaigns by their shingles.
EMBED_ALL_UP_TO = 20_000
EMBED_LETTERS = ("auto", "all", "engaging")


def every_letter_embedded(embed_letters: str, letter_paragraphs: int, up_to: int = EMBED_ALL_UP_TO) -> bool:
    """Whether every paragraph of the letters is embedded, given how many there are (else only the
    engaging letters' are)."""
    return embed_letters == "all" or (embed_letters == "auto" and letter_paragraphs <= up_to)


def embedded_paragraphs(
    documents: list[dict],
    paragraphs: list[Paragraph],
    extracted: dict[str, list[dict]],
    cache_dir: Path | None,
    embed_letters: str = "auto",
) -> list[int]:
    """The indices of the paragraphs to embed: every paragraph of the rules, and the letters'
    paragraphs as embed_letters says ("all"; "engaging": only the letters that engage with a rule;
    "auto": all up to EMBED_ALL_UP_TO letter paragraphs, else engaging)."""
    if embed_letters not in EMBED_LETTERS:
        raise RegkbError(f"embed_letters must be one of {', '.join(EMBED_LETTERS)}, not {embed_letters!r}")
    rules = {d["id"] for d in documents if d["doc_type"] == "rule"}
    letter_paragraphs = sum(1 for p in paragraphs if p.doc_id not in rules)
    if every_letter_embedded(embed_letters, letter_paragraphs):
        return list(range(len(paragraphs)))
    wanted = rules | triage.engaging(documents, paragraphs, extracted, cache_dir)
    return [i for i, p in enumerate(paragraphs) if p.doc_id in wanted]


def usages_by_document(definitions: list[dict], paragraphs: list[Paragraph], cache_dir: Path) -> list[dict]:
    """Where each defined term is used (link.term_usages), document by document: a document's usages
    depend only on the definitions and its own paragraphs, so they are memoised by both and a build
    that adds one letter searches only that letter."""
    terms = hashlib.blake2b(
        repr([(d["id"], d["term"], d["paragraph_id"]) for d in definitions]).encode(), digest_size=16
    ).hexdigest()
    by_doc: dict[str, list[Paragraph]] = {}
    for paragraph in paragraphs:
        by_doc.setdefault(paragraph.doc_id, []).append(paragraph)
    keys = {
        doc: hashlib.blake2b(
            (terms + repr([(p.id, p.text) for p in doc_paragraphs])).encode(), digest_size=16
        ).hexdigest()
        for doc, doc_paragraphs in by_doc.items()
    }

    def compute(docs: list[str]) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {doc: [] for doc in docs}
        for row in term_usages(definitions, [p for doc in docs for p in by_doc[doc]]):
            found[row["doc_id"]].append(row)
        return found

    usages = store.memoised(cache_dir, "term_usages", keys, compute)
    return [row for doc in by_doc for row in usages[doc]]
