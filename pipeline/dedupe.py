"""Near-duplicate and form-letter detection across letters: a campaign that files one text many
times counts once, with a tally. Word shingles first (MinHash LSH finds candidate pairs, exact
Jaccard decides); pairs in the grey zone are settled by document embeddings. Pure: no I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from .paths import CJK_CLASS

SHINGLE_WORDS = 5
# Calibrated on the synthetic campaign (tests/fixtures/synthetic): copies that differ in signer,
# salutation and a sentence or two score 0.55-0.73 Jaccard and 0.90-0.95 cosine; a different
# letter on the same topic scores 0.02 Jaccard and 0.81 cosine.
SAME_TEXT = 0.50  # Jaccard of 5-word shingles at or above which two letters are copies
GREY_ZONE = 0.25  # from here up to SAME_TEXT, the embeddings decide
SAME_MEANING = 0.90  # cosine of mean paragraph embeddings that makes a grey-zone pair a copy
PERMUTATIONS = 128
SCHEME = "affine32"  # datasketch's hashing of shingles into the signature (named, so kept values stay valid)


@dataclass
class Pair:
    a: str
    b: str
    jaccard: float
    cosine: float | None
    method: str


def shingles(text: str) -> set[str]:
    words = re.findall(rf"[\w{CJK_CLASS}]+", text.lower())
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 0.0
    shared = len(a & b) if len(a) <= len(b) else len(b & a)
    return shared / (len(a) + len(b) - shared)  # the union's size without building it


# Each letter is compared with at most this many letters of each group of copies its MinHash
# neighbours belong to, earliest first. Comparing it with every neighbour made a campaign of k
# copies cost k²/2 exact Jaccards: 10,000 letters (a campaign of 3,000) spent 156 s here; on 4,000
# generated letters two thirds of the time was jaccard(). Copies of one text score alike against any
# other copy, so the first comparison nearly always decides; the other two catch a copy that drifted
# from the earliest one.
TRIES_PER_GROUP = 3
# A candidate whose signature agrees with the letter's in fewer than this share of its permutations is
# no copy: with 128 permutations the estimate's standard error at the grey zone's Jaccard of 0.25 is
# 0.038, so 0.15 lies 2.6 errors below it.
ESTIMATE_FLOOR = 0.15
SAME_TEXT_FLOOR = 0.35  # the same for SAME_TEXT (0.5; standard error 0.044): 3.4 errors below it


def signature(text: str) -> np.ndarray:
    """A letter's MinHash signature over its shingles (what LSH indexes): a function of its text
    alone, so a build can keep it from one run to the next."""
    from datasketch import MinHash

    items = shingles(text)
    minhash = MinHash(num_perm=PERMUTATIONS, scheme=SCHEME)
    minhash.update_batch([item.encode() for item in items])
    return minhash.hashvalues if items else np.zeros(0, dtype=np.uint64)


def near_duplicates(
    texts: dict[str, str], vectors: dict[str, np.ndarray], signatures: dict[str, np.ndarray] | None = None
) -> list[Pair]:
    """Pairs of copies, each letter paired with the letters it joins (see find_copies)."""
    return find_copies(texts, vectors, signatures)[0]


class BandIndex:
    """MinHash LSH: a letter's signature cut into bands of rows (datasketch's choice of bands and rows
    for the threshold), each band a bucket key; the candidates of a letter are the letters that share
    a bucket with it in any band, as datasketch's MinHashLSH finds them. Kept here as plain
    dictionaries: MinHashLSH took 5.5 s to take in 10,000 signatures, and neither it nor its pickle
    (3.7 s to read back) let a build that adds one letter to the docket skip the letters before."""

    def __init__(self, threshold: float, permutations: int):
        from datasketch import MinHashLSH

        shape = MinHashLSH(threshold=threshold, num_perm=permutations)
        self.ranges = [(band * shape.r, (band + 1) * shape.r) for band in range(shape.b)]
        self.buckets: list[dict[bytes, list[str]]] = [{} for _ in self.ranges]

    def insert(self, key: str, values: np.ndarray) -> None:
        for buckets, (start, end) in zip(self.buckets, self.ranges):
            buckets.setdefault(values[start:end].tobytes(), []).append(key)

    def query(self, values: np.ndarray) -> set[str]:
        found: set[str] = set()
        for buckets, (start, end) in zip(self.buckets, self.ranges):
            found.update(buckets.get(values[start:end].tobytes(), ()))
        return found


def step_digest(doc_id: str, values: np.ndarray, vector: np.ndarray | None) -> str:
    """What find_copies' work on one letter depends on besides the letters before it: its id, its
    signature and its embedding (or that it has none)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=16)
    digest.update(np.ascontiguousarray(values).tobytes())
    digest.update(b"-" if vector is None else np.ascontiguousarray(vector, dtype=np.float32).tobytes())
    return digest.hexdigest()


def find_copies(
    texts: dict[str, str],
    vectors: dict[str, np.ndarray],
    signatures: dict[str, np.ndarray] | None = None,
    resume: dict | None = None,
) -> tuple[list[Pair], dict]:
    """Pairs of copies, each letter paired with the letters it joins, and the progress made (JSON
    values). texts: document id → full text, in the order the letters are taken; vectors: document id
    → unit mean embedding; signatures: document id → signature(text), where known (computed here
    otherwise). LSH (tuned for GREY_ZONE similarity) finds the candidates, exact Jaccard and then the
    embeddings decide.

    Each letter is compared only with the letters before it, so the pairs and groups of the first k
    letters depend on those k alone: `resume`, the progress of an earlier run, is taken up after the
    longest run of letters at the start that are the same as then (same id, signature and embedding),
    and only the letters after it are compared (a build that adds one letter to the docket compares
    one letter, not 10,000)."""
    signatures = signatures or {}
    order = {doc_id: index for index, doc_id in enumerate(texts)}
    sets = _Shingles(texts)  # a letter's shingles only when it is compared with another
    index = BandIndex(GREY_ZONE, PERMUTATIONS)
    group: dict[str, str] = {}  # letter → the earliest letter of the group of copies it joined
    # the signatures of the letters in the index, one row per letter in order: a candidate's row is
    # taken by its position (stacking thousands of candidates' arrays per letter took 17 s of a docket)
    kept = np.zeros((len(texts), PERMUTATIONS), dtype=np.uint64)
    found: list[Pair] = []
    values_of = {}
    steps = []
    for doc_id, text in texts.items():
        values = signatures.get(doc_id)
        values_of[doc_id] = signature(text) if values is None else values
        steps.append(step_digest(doc_id, values_of[doc_id], vectors.get(doc_id)))
    same = 0
    try:
        if isinstance(resume, dict) and resume.get("version") == PROGRESS_VERSION:
            before = resume.get("steps", [])
            while same < min(len(before), len(steps)) and before[same] == steps[same]:
                same += 1
            done = set(list(texts)[:same])
            group = {doc_id: head for doc_id, head in resume.get("group", {}).items() if doc_id in done}
            found = [Pair(*pair) for pair in resume.get("found", []) if pair[1] in done]
            if any(head not in group for head in group.values()):
                raise ValueError("a group without its head")
    except (TypeError, ValueError, AttributeError, IndexError, KeyError):
        same, group, found = 0, {}, []  # damaged progress: a fresh run
    for position, doc_id in enumerate(texts):
        values = values_of[doc_id]
        if not len(values):
            continue
        if len(values) != PERMUTATIONS:
            raise ValueError(f"internal error: a signature of {len(values)} values, not {PERMUTATIONS}")
        if position < same:  # taken up from the earlier run
            kept[position] = values
            index.insert(doc_id, values)
            continue
        candidates = sorted(index.query(values), key=order.__getitem__)
        kept[position] = values
        if candidates:
            # LSH at so low a threshold returns false positives by the thousand at docket size (short
            # notes sharing a sentence of boilerplate): the signatures' estimate of Jaccard drops those
            # far below the grey zone before any exact comparison (17 million of them on the whole docket);
            # a letter or candidate without an embedding (at docket size only the letters that engage with
            # the rule have one) can only be a copy by its words, so there the floor is SAME_TEXT's
            rows = np.fromiter((order[other] for other in candidates), dtype=np.intp, count=len(candidates))
            estimate = (kept[rows] == values).mean(axis=1)
            embedded = doc_id in vectors
            candidates = [
                other
                for other, e in zip(candidates, estimate)
                if e >= (ESTIMATE_FLOOR if embedded and other in vectors else SAME_TEXT_FLOOR)
            ]
        by_group: dict[str, list[str]] = {}
        for other in candidates:
            by_group.setdefault(group[other], []).append(other)
        group[doc_id] = doc_id
        for head, members in sorted(by_group.items(), key=lambda item: order[item[0]]):
            for other in members[:TRIES_PER_GROUP]:
                pair = _copy(other, doc_id, sets, vectors)
                if pair:
                    found.append(pair)
                    if group[doc_id] == doc_id:
                        group[doc_id] = head  # a letter joining two groups links them (clusters() unites)
                    break
        index.insert(doc_id, values)
    progress = {
        "version": PROGRESS_VERSION,
        "steps": steps,
        "group": group,
        "found": [[pair.a, pair.b, pair.jaccard, pair.cosine, pair.method] for pair in found],
        "resumed_after": same,
    }
    return found, progress


# what the progress of find_copies means: changed with anything that changes which pairs it finds
PROGRESS_VERSION = ":".join(
    str(value)
    for value in (1, SHINGLE_WORDS, SAME_TEXT, GREY_ZONE, SAME_MEANING, PERMUTATIONS, SCHEME)
    + (TRIES_PER_GROUP, ESTIMATE_FLOOR, SAME_TEXT_FLOOR)
)


class _Shingles(dict):
    def __init__(self, texts: dict[str, str]):
        super().__init__()
        self.texts = texts

    def __missing__(self, doc_id: str) -> set[str]:
        self[doc_id] = shingles(self.texts[doc_id])
        return self[doc_id]


def _copy(a: str, b: str, sets: dict[str, set[str]], vectors: dict[str, np.ndarray]) -> Pair | None:
    similarity = jaccard(sets[a], sets[b])
    if similarity >= SAME_TEXT:
        return Pair(a, b, similarity, None, "shingles")
    if similarity >= GREY_ZONE and a in vectors and b in vectors:
        cosine = float(vectors[a] @ vectors[b])
        if cosine >= SAME_MEANING:
            return Pair(a, b, similarity, cosine, "embedding")
    return None


def clusters(documents: list[dict], pairs: list[Pair]) -> list[dict]:
    """document_clusters rows: each document with its cluster, the cluster's representative (the
    earliest letter), the number of copies and how it joined."""
    parent = {d["id"]: d["id"] for d in documents}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    joined: dict[str, Pair] = {}
    for pair in pairs:
        parent[root(pair.a)] = root(pair.b)
        joined.setdefault(pair.a, pair)
        joined.setdefault(pair.b, pair)
    members: dict[str, list[dict]] = {}
    for document in documents:
        members.setdefault(root(document["id"]), []).append(document)
    rows = []
    for group in members.values():
        group.sort(key=lambda d: (d.get("date") or "", d["id"]))
        representative = group[0]["id"]
        for document in group:
            pair = joined.get(document["id"])
            rows.append(
                {
                    "doc_id": document["id"],
                    "cluster_id": f"cluster:{representative}",
                    "representative": representative,
                    "copies": len(group),
                    "similarity": round(pair.cosine if pair and pair.cosine else pair.jaccard, 4) if pair else 1.0,
                    "method": pair.method if pair else "unique",
                }
            )
    return rows


def mark_duplicate_positions(positions: list[dict], cluster_rows: list[dict]) -> None:
    """A copy's position that repeats its representative's (same topic and stance, quote of the same
    words) points to it through duplicate_of, so tallies count the campaign once; a sentence only
    the copy has stays a position of its own."""
    representative = {row["doc_id"]: row["representative"] for row in cluster_rows}
    by_doc: dict[str, list[dict]] = {}
    for position in positions:
        by_doc.setdefault(position["doc_id"], []).append(position)
    for position in positions:
        position["duplicate_of"] = None
        original = representative.get(position["doc_id"], position["doc_id"])
        if original == position["doc_id"]:
            continue
        words = shingles(position["quote"])
        best = max(by_doc.get(original, []), default=None, key=lambda p: jaccard(words, shingles(p["quote"])))
        if best and best["topic"] == position["topic"] and jaccard(words, shingles(best["quote"])) >= 0.5:
            position["duplicate_of"] = best["id"]
