"""Triage (issue 13): which documents of a docket engage with the rule(s) of the knowledge base, and how.

Every document gets a relevance score and its evidence:
- **names the rule**: its title ("Framework for Artificial Intelligence Diffusion"), the short names made
  from the title's distinctive word ("AI Diffusion rule", "Diffusion Framework", "IFR on AI Diffusion",
  "Framework for AI Diffusion", "responsible diffusion of …"), its citation ("90 FR 4544", "90 Fed. Reg.
  4544") or FR document number ("2025-00636"). Matched on the text squashed to letters and digits, so
  PDF extraction's split words ("Arti ficial", "Diffusion  Framework") and ligatures still match;
- **its provisions**: the section numbers of the rule's own provisions ("§ 740.29", "748.15");
- **its vocabulary**: tiers of countries ("Tier 2 countries", "three-tier system"), country and compute
  caps, the validated end-user programmes (UVEU, NVEU, "Data Center VEU"), "Low Processing Performance",
  model-weight controls, counted only in a document that speaks of exports;
- **export controls** in general (chips, semiconductors, BIS), a weak signal;
- **positions** on the rule the build found in it (the positions table), and
- **similarity**: the mean cosine of its paragraphs to the centroid of the rule's regulatory text
  (stored embeddings; documents not in the knowledge base have none).

The rule vocabulary is read from the knowledge base's rule documents (titles, cite_as, section paths), so
another rule gets its own names. Documents not built into the knowledge base (a whole docket listed by
`regkb import`) are read from their files: the text signals need no build.

Read side: no spaCy, no torch (numpy for the similarity)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

GENERIC_TITLE_WORDS = set(
    """framework for of the and on in to a an artificial intelligence ai rule rules interim final
regulatory text as published version public inspection export exports control controls administration regulation
regulations amendments amendment revisions revision advanced computing items integrated circuits
certain new with taking steps address respect significant additional activities securing information communications
services supply chain national technology technologies security emergency standards requirements""".split()
)
LABELS = ("names the rule", "discusses its provisions", "export controls", "other")

# the rule's vocabulary: (label, pattern on normalised text); counted only where the document speaks of exports
VOCABULARY = [
    (
        "tiers of countries",
        re.compile(
            r"\btier[- ]?(?:1|2|3|one|two|three|i{1,3})\b(?:\s*(?:/|and|or|,)\s*"
            r"(?:tier[- ]?)?(?:1|2|3|one|two|three|i{1,3})\b)*\s+(?:countr|nation|"
            r"destination|group|jurisdiction|allies|partner)",
            re.I,
        ),
    ),
    (
        "three-tier framework",
        re.compile(
            r"\bthree[- ]tier(?:ed)?\s+(?:framework|system|structure|approach|model|"
            r"classification|regime)",
            re.I,
        ),
    ),
    (
        "country caps",
        re.compile(
            r"\b(?:country|per[- ]country|national)[- ]?(?:caps?|allocations?|quotas?)\b|"
            r"\bcaps?\s+on\s+(?:compute|computing|chips|gpus)\b|\bcompute\s+caps?\b",
            re.I,
        ),
    ),
    ("validated end users", re.compile(r"\b(?:UVEU|NVEU)\b|data\s*center\s+(?:validated\s+end[- ]users?|VEU)", re.I)),
    ("license exception LPP", re.compile(r"low\s+processing\s+performance|\bLPP\b")),
    (
        "model-weight controls",
        re.compile(
            r"(?:export|control)\w*\s+(?:\w+\s+){0,4}model\s+weights|model\s+weights\s+"
            r"(?:\w+\s+){0,3}(?:export|control)|\b4E091\b",
            re.I,
        ),
    ),
    ("total processing performance", re.compile(r"total\s+processing\s+performance|\bTPP\b")),
]
# words any export-control letter may use: alone they do not make a document discuss the rule's provisions
WEAK_VOCABULARY = {"model-weight controls", "total processing performance"}
EXPORT_CONTROLS = re.compile(r"export[- ]controls?|export\s+restrictions?|export\s+licen[cs]", re.I)
CHIP_WORDS = re.compile(r"\b(?:chips?|semiconductors?|GPUs?|BIS|Bureau of Industry and Security|compute)\b", re.I)
PREFILTER = re.compile(r"diffus|tier|export|\d{3}\.\d|\d{4}-\d{5}|fed\.?\s*reg|\bfr\b", re.I)


@dataclass
class RuleVocabulary:
    names: list[tuple[str, re.Pattern]] = field(default_factory=list)  # on squashed text
    provisions: list[tuple[str, re.Pattern]] = field(default_factory=list)
    rule_ids: list[str] = field(default_factory=list)


@dataclass
class Triaged:
    doc_id: str
    org: str
    file: str
    in_kb: bool
    score: float = 0.0
    relevance: str = "other"
    names: dict[str, int] = field(default_factory=dict)
    provisions: dict[str, int] = field(default_factory=dict)
    vocabulary: dict[str, int] = field(default_factory=dict)
    export_controls: int = 0
    positions: int = 0
    similarity: float | None = None
    quote: str = ""

    def evidence(self) -> str:
        parts = [f"names the rule: {_counts(self.names)}"] if self.names else []
        if self.provisions:
            parts.append(f"provisions: {_counts(self.provisions)}")
        if self.vocabulary:
            parts.append(f"vocabulary: {_counts(self.vocabulary)}")
        if self.export_controls:
            parts.append(f"export controls ×{self.export_controls}")
        if self.positions:
            parts.append(f"{self.positions} position(s) on the rule")
        if self.similarity is not None:
            parts.append(f"similarity {self.similarity:.2f}")
        return "; ".join(parts)

    def to_row(self, rank: int) -> dict:
        return {
            "rank": rank,
            "doc_id": self.doc_id,
            "author_org": self.org,
            "relevance": self.relevance,
            "relevance_score": round(self.score, 2),
            "relevance_evidence": self.evidence(),
            "quote": self.quote,
            "file": self.file,
            "in_kb": int(self.in_kb),
            "positions": self.positions,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
        }


def _counts(found: dict[str, int]) -> str:
    return ", ".join(f"“{name}” ×{n}" if n > 1 else f"“{name}”" for name, n in found.items())


def normalise(text: str) -> str:
    """NFKC (the ﬁ ligature is fi), one space for any run of white space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def squash(text: str) -> tuple[str, list[int]]:
    """Lower-case letters and digits only, with each kept character's offset in `text`."""
    kept, offsets = [], []
    for match in re.finditer(r"[a-z0-9]+", text.lower()):
        kept.append(match.group(0))
        offsets.extend(range(match.start(), match.end()))
    return "".join(kept), offsets


def _squashed_words(words: str) -> str:
    return re.sub(r"[^a-z0-9]", "", words.lower())


def vocabulary_of(conn: sqlite3.Connection, texts: Iterable[str] = ()) -> RuleVocabulary:
    """The names, citations and provisions of the knowledge base's rules."""
    rules = (
        conn.execute(
            "select id, title, coalesce(cite_as, '') as cite_as from documents where doc_type = 'rule'"
        ).fetchall()
        if _has_column(conn, "documents", "cite_as")
        else conn.execute("select id, title, '' as cite_as from documents where doc_type = 'rule'").fetchall()
    )
    ids = [doc_id for doc_id, _, _ in rules]
    marks = ",".join("?" * len(ids))
    paths = (
        [
            path
            for (path,) in conn.execute(
                f"select distinct section_path from paragraphs where doc_id in ({marks}) and section_path like '§%'",
                ids,
            )
        ]
        if ids
        else []
    )
    return vocabulary_from(rules, paths, texts)


def vocabulary_from(
    rules: list[tuple[str, str, str]], section_paths: Iterable[str], texts: Iterable[str] = ()
) -> RuleVocabulary:
    """The names, citations and provisions of the rules ((id, title, cite_as) and their section paths). The
    one word that carries a title ("Diffusion") makes its short names ("<word> rule", "<word> framework" …);
    common title words ("National", "Technology") never do (GENERIC_TITLE_WORDS), nor does any word of a
    title with several ("Malicious Cyber-Enabled Activities": "Cyber framework" is any cyber letter). How
    often the word occurs in the documents being triaged says nothing: in a slice chosen for the rule
    "diffusion" is in a fifth of them, in the whole docket in under 1 %. (`texts` is kept for callers.)"""
    vocab = RuleVocabulary()
    seen: set[str] = set()

    def add(label: str, squashed_pattern: str) -> None:
        if squashed_pattern not in seen:
            seen.add(squashed_pattern)
            vocab.names.append((label, re.compile(squashed_pattern)))

    for doc_id, title, cite_as in rules:
        vocab.rule_ids.append(doc_id)
        name = re.split(r"\s*[:(]", title or "")[0].strip()
        if len(name.split()) >= 2:
            add(name, _squashed_words(name))
        distinctive = [w for w in re.findall(r"[a-z]+", name.lower()) if w not in GENERIC_TITLE_WORDS and len(w) > 3]
        # a short name needs one word that carries the title ("Diffusion"); with several ("Malicious Cyber-Enabled
        # Activities") "Cyber framework" would be any cyber-security letter: only the title and citations then
        for word in distinctive if len(distinctive) == 1 else []:
            w = word
            label = word.capitalize()
            add(f"{label} rule", rf"{w}(?:rule|ifr|interimfinalrule|regulation)")
            add(f"{label} framework", rf"{w}framework")
            add(f"Framework for AI {label}", rf"framework(?:for|of|on)(?:the)?(?:ai|artificialintelligence){w}")
            add(f"AI {label} export controls / policy", rf"ai{w}(?:exportcontrol|polic|regime|restriction|controls)")
            add(
                f"IFR on AI {label}",
                rf"(?:ifr|interimfinalrule)(?:on|for)(?:the|a)?(?:framework(?:for|of))?"
                rf"(?:ai|artificialintelligence)?{w}",
            )
            add(f"responsible {label} of advanced AI", rf"responsible{w}of(?:advanced|frontier)")
        # in a fixed order: the memo of assess_all is keyed by these patterns, and a set's order changes
        # from process to process with the hash seed (a build that added one letter then assessed all
        # 10,000 again about one time in two: 21 s instead of 0.7)
        for cite in sorted({cite_as, *re.findall(r"\b\d{4}-\d{5}\b", f"{doc_id} {title}")}):
            if not cite:
                continue
            volume_page = re.fullmatch(r"(\d+)\s*FR\s*(\d+)", cite)
            if volume_page:
                volume, page = volume_page.groups()
                add(cite, rf"(?<![0-9]){volume}(?:fr|fedreg|federalregister)(?:no\d+)?{page}(?![0-9])")
            else:
                add(cite, rf"(?<![0-9]){_squashed_words(cite)}(?![0-9])")
    roots = {m.group(1) for path in section_paths for m in [re.match(r"§\s*(\d{3}\.\d+[a-z]?)", path)] if m}
    # a provision the rule adds or revises: its number in a letter means the rule (not "part 744" at large)
    for number in sorted(roots):
        vocab.provisions.append((f"§ {number}", re.compile(rf"(?<![\d.]){re.escape(number)}(?![\d])")))
    return vocab


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"pragma table_info({table})"))


def assess(doc: Triaged, text: str, vocab: RuleVocabulary) -> Triaged:
    """The text signals of one document."""
    if not PREFILTER.search(text):
        return doc
    text = normalise(text)
    squashed, offsets = squash(text)
    first: int | None = None
    for label, pattern in vocab.names:
        hits = list(pattern.finditer(squashed))
        if hits:
            doc.names[label] = len(hits)
            at = offsets[hits[0].start()]
            first = at if first is None else min(first, at)
    exports = len(EXPORT_CONTROLS.findall(text))
    for label, pattern in vocab.provisions:
        hits = pattern.findall(text)
        if hits and (exports or doc.names):
            doc.provisions[label] = len(hits)
    if exports or doc.names:
        for label, pattern in VOCABULARY:
            hits = list(pattern.finditer(text))
            if hits:
                doc.vocabulary[label] = len(hits)
                if first is None and not doc.provisions:
                    first = hits[0].start()
    doc.export_controls = exports
    if first is None and exports:
        first = EXPORT_CONTROLS.search(text).start()
    if first is not None:
        doc.quote = text[max(0, first - 120) : first + 200].strip()
    return doc


SIGNALS = ("names", "provisions", "vocabulary", "export_controls", "quote")


def assess_all(work: list[tuple[Triaged, str]], vocab: RuleVocabulary, cache_dir: Path | None = None) -> list[Triaged]:
    """assess() for every (document, text); the signals depend only on the text and the rules'
    vocabulary, so with a cache folder they are memoised by both and a build that adds one letter
    reads only that letter."""
    if cache_dir is None:
        return [assess(doc, text, vocab) for doc, text in work]
    from . import store

    signature = repr([(label, pattern.pattern) for label, pattern in [*vocab.names, *vocab.provisions]])
    keys = [hashlib.blake2b((signature + text).encode(), digest_size=16).hexdigest() for _, text in work]
    known = store.load_memo(cache_dir, "triage", sorted(set(keys)))
    fresh = {}
    out = []
    for (doc, text), key in zip(work, keys):
        if key in known:
            for name in SIGNALS:
                setattr(doc, name, known[key][name])
        else:
            assess(doc, text, vocab)
            fresh[key] = {name: getattr(doc, name) for name in SIGNALS}
        out.append(doc)
    store.save_memo(cache_dir, "triage", fresh)
    return out


def score(doc: Triaged) -> Triaged:
    names = sum(doc.names.values())
    doc.score = (
        (4.0 + min(names - 1, 4) + len(doc.names) if names else 0.0)
        + min(len(doc.provisions), 3) * 1.5
        + min(sum(n for k, n in doc.vocabulary.items() if k not in WEAK_VOCABULARY), 6) * 0.75
        + len(set(doc.vocabulary) & WEAK_VOCABULARY) * 0.25
        + (0.5 + min(doc.export_controls, 6) * 0.25 if doc.export_controls else 0.0)
        + min(doc.positions, 5) * 1.0
        + (max(doc.similarity, 0.0) * 4 if doc.similarity is not None else 0.0)
    )
    if doc.names:
        doc.relevance = LABELS[0]
    elif doc.provisions or doc.export_controls and (set(doc.vocabulary) - WEAK_VOCABULARY or len(doc.vocabulary) >= 2):
        doc.relevance = LABELS[1]
    elif doc.export_controls:
        doc.relevance = LABELS[2]
    else:
        doc.relevance = LABELS[3]
    return doc


def _similarities(conn: sqlite3.Connection, rule_ids: list[str]) -> dict[str, float]:
    """Each letter's mean cosine to the centroid of the rules' regulatory paragraphs (stored unit vectors)."""
    import numpy as np

    if not rule_ids or not _has_table(conn, "embeddings"):
        return {}
    marks = ",".join("?" * len(rule_ids))
    rows = conn.execute(
        f"select e.vector from embeddings e join paragraphs p on p.id = e.paragraph_id "
        f"where p.doc_id in ({marks}) and (p.section_path like '§%' or p.section_path like "
        f"'Supplement%' or p.section_path like 'ECCN%')",
        rule_ids,
    ).fetchall()
    if not rows:
        return {}
    centroid = np.mean([np.frombuffer(blob, dtype=np.float32) for (blob,) in rows], axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    sums: dict[str, list[float]] = {}
    for doc_id, blob in conn.execute(
        f"select p.doc_id, e.vector from embeddings e join paragraphs p on "
        f"p.id = e.paragraph_id where p.doc_id not in ({marks})",
        rule_ids,
    ):
        total = sums.setdefault(doc_id, [0.0, 0])
        total[0] += float(np.frombuffer(blob, dtype=np.float32) @ centroid)
        total[1] += 1
    return {doc_id: s / n for doc_id, (s, n) in sums.items() if n}


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("select 1 from sqlite_master where name = ?", (name,)).fetchone() is not None


def triage(
    conn: sqlite3.Connection,
    files: Iterable[tuple[str, str, Path, str]] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Triaged]:
    """Every non-rule document of the knowledge base, and every (doc_id, organisation, file, sha256) given
    that the knowledge base does not hold (by id or by file hash), ranked by relevance score (highest
    first)."""
    positions: dict[str, int] = {}
    if _has_table(conn, "positions"):
        positions = dict(conn.execute("select doc_id, count(*) from positions group by doc_id"))
    rule_ids = [row[0] for row in conn.execute("select id from documents where doc_type = 'rule'")]
    similarity = _similarities(conn, rule_ids)
    docs = (
        conn.execute(
            "select id, author_org, coalesce(file_name, '') from documents where doc_type != 'rule'"
        ).fetchall()
        if _has_column(conn, "documents", "file_name")
        else conn.execute("select id, author_org, '' from documents where doc_type != 'rule'").fetchall()
    )
    in_kb = {doc_id for doc_id, _, _ in docs} | {
        row[0] for row in conn.execute("select id from documents where doc_type = 'rule'")
    }
    hashes = (
        {sha for (sha,) in conn.execute("select file_sha256 from documents")}
        if _has_column(conn, "documents", "file_sha256")
        else set()
    )
    extra = [(doc_id, org, path) for doc_id, org, path, sha in files if doc_id not in in_kb and sha not in hashes]
    total = len(docs) + len(extra)
    work: list[tuple[Triaged, str]] = []
    for done, (doc_id, org, file) in enumerate(docs, start=1):
        text = "\n".join(
            t for (t,) in conn.execute("select text from paragraphs where doc_id = ? order by ordinal", (doc_id,))
        )
        work.append(
            (
                Triaged(doc_id, org, file, True, positions=positions.get(doc_id, 0), similarity=similarity.get(doc_id)),
                text,
            )
        )
        if progress:
            progress(doc_id, done, total)
    for done, (doc_id, org, path) in enumerate(extra, start=len(docs) + 1):
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        work.append((Triaged(doc_id, org, str(path), False), text))
        if progress:
            progress(doc_id, done, total)
    vocab = vocabulary_of(conn, (text.lower() for _, text in work))
    found = [score(assess(doc, text, vocab)) for doc, text in work]
    found.sort(key=lambda d: (-d.score, d.doc_id))
    return found


def to_csv(found: list[Triaged]) -> str:
    out = io.StringIO()
    rows = [d.to_row(rank) for rank, d in enumerate(found, start=1)]
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["rank"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class _Corpus:
    """What triage needs from the build's documents and paragraphs."""

    rules: list[tuple[str, str, str]]
    texts: dict[str, list[str]]
    paths: set[str]
    regulatory: set[str]
    doc_of: dict[str, str]

    @property
    def rule_ids(self) -> set[str]:
        return {doc_id for doc_id, _, _ in self.rules}


def _corpus(documents: list[dict], paragraphs: list) -> _Corpus:
    rules = [(d["id"], d.get("title") or "", d.get("cite_as") or "") for d in documents if d["doc_type"] == "rule"]
    corpus = _Corpus(rules, {}, set(), set(), {})
    rule_ids = corpus.rule_ids
    for p in paragraphs:
        corpus.texts.setdefault(p.doc_id, []).append(p.text)
        corpus.doc_of[p.id] = p.doc_id
        if p.doc_id in rule_ids and p.section_path.startswith("§"):
            corpus.paths.add(p.section_path)
        if p.doc_id in rule_ids and p.section_path.startswith(("§", "Supplement", "ECCN")):
            corpus.regulatory.add(p.id)
    return corpus


def _assessed(
    documents: list[dict],
    corpus: _Corpus,
    positions: dict[str, int],
    similarity: dict[str, float],
    cache_dir: Path | None,
) -> list[Triaged]:
    rule_ids = corpus.rule_ids
    work = [
        (
            Triaged(
                d["id"],
                d.get("author_org") or "",
                d.get("file_name") or "",
                True,
                positions=positions.get(d["id"], 0),
                similarity=similarity.get(d["id"]),
            ),
            "\n".join(corpus.texts.get(d["id"], [])),
        )
        for d in documents
        if d["id"] not in rule_ids
    ]
    vocab = vocabulary_from(corpus.rules, corpus.paths, (text.lower() for _, text in work))
    return assess_all(work, vocab, cache_dir)


def _position_counts(extracted: dict[str, list[dict]]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for row in extracted.get("positions", []):
        positions[row["doc_id"]] = positions.get(row["doc_id"], 0) + 1
    return positions


def engaging(
    documents: list[dict], paragraphs: list, extracted: dict[str, list[dict]], cache_dir: Path | None = None
) -> set[str]:
    """The letters that engage with a rule of the knowledge base by their text alone: they name it or
    its provisions, speak of export controls, or hold a position on it (known before any embedding)."""
    positions = _position_counts(extracted)
    return {
        doc.doc_id
        for doc in _assessed(documents, _corpus(documents, paragraphs), positions, {}, cache_dir)
        if doc.names or doc.provisions or doc.export_controls or doc.positions
    }


def kb_rows(
    documents: list[dict], paragraphs: list, extracted: dict[str, list[dict]], cache_dir: Path | None = None
) -> list[dict]:
    """The triage table the build stores in the knowledge base (the UI's facet: relevance), from what the
    build holds in memory: documents, paragraphs, positions and embeddings. With a cache folder, each
    document's text signals are memoised by the rules' vocabulary and its text (see assess_all)."""
    import numpy as np

    corpus = _corpus(documents, paragraphs)
    rule_ids = corpus.rule_ids
    similarity: dict[str, float] = {}
    vectors = {row["paragraph_id"]: row["vector"] for row in extracted.get("embeddings", [])}
    rule_vectors = [np.frombuffer(vectors[pid], dtype=np.float32) for pid in corpus.regulatory if pid in vectors]
    if rule_vectors:
        centroid = np.mean(rule_vectors, axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sums: dict[str, list[float]] = {}
        for pid, blob in vectors.items():
            doc_id = corpus.doc_of.get(pid)
            if doc_id and doc_id not in rule_ids:
                total = sums.setdefault(doc_id, [0.0, 0])
                total[0] += float(np.frombuffer(blob, dtype=np.float32) @ centroid)
                total[1] += 1
        similarity = {doc_id: s / n for doc_id, (s, n) in sums.items() if n}
    assessed = _assessed(documents, corpus, _position_counts(extracted), similarity, cache_dir)
    found = sorted((score(doc) for doc in assessed), key=lambda d: (-d.score, d.doc_id))
    return [
        {k: v for k, v in d.to_row(rank).items() if k not in ("in_kb", "file")} | {"doc_id": d.doc_id}
        for rank, d in enumerate(found, start=1)
    ]


def triage_manifests(
    db_path: Path, manifests=None, corpus: Path | None = None, progress: Callable[[str, int, int], None] | None = None
) -> list[Triaged]:
    """Triage the knowledge base's documents and the manifests' documents it does not hold (read from
    their files; default the workspace's manifests)."""
    from . import manifest as manifest_mod
    from .query import connect_readonly

    files = []
    own_folders: dict[str, list[Path]] = {}
    entries = manifest_mod.load_manifest(manifests, own_folders)
    locator = manifest_mod.Locator(manifest_mod.corpus_dirs(corpus, manifests), own_folders=own_folders)
    for entry in entries:
        if entry.doc_type == "rule":
            continue
        path = locator.locate(entry)
        if path is not None:
            files.append((entry.id, entry.author_org, path, entry.sha256))
    with connect_readonly(db_path) as conn:
        return triage(conn, files, progress)
