"""Embedding that starts while the documents are still being parsed.

A cold build used to parse everything and then embed everything, so a core sat idle while this
process segmented and extracted the rule's long PDF alone, and the embedding began only after it.
EarlyVectors takes each document's paragraphs as soon as they exist (engine.run's `ready`) and
embeds them in a background thread of this process, one core wide and at the lowest scheduling
priority, so it uses only what the parsing leaves idle. The link stage then stops it (at a batch
boundary), and vectors_for embeds what is left on every core, finding the early vectors in the
cache. The vectors are the same as the link stage's (same model, same texts; a text's vector
does not depend on its batch beyond float rounding, see tests/test_embed.py).

Only texts the link stage will embed are taken: every paragraph of a rule; the letters' paragraphs
when every letter paragraph will be embedded (embed_letters "all", or "auto" while the letter
paragraphs seen so far stay within EMBED_ALL_UP_TO); position quotes when a document is done. Rules
go first. Texts already in the cache are skipped."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
from pathlib import Path

from .. import embed, store
from ..models import ManifestEntry, Paragraph
from .corpus import EMBED_ALL_UP_TO, every_letter_embedded

BATCH = 64  # texts per model call: the thread checks whether to stop between calls
CHUNK = 512  # texts taken from the queue at once, sorted by length so that a call pads little


class EarlyVectors:
    def __init__(self, cache_dir: Path, embed_letters: str, up_to: int = EMBED_ALL_UP_TO, letter_paragraphs: int = 0):
        self.cache_dir = cache_dir
        self.embed_letters = embed_letters
        self.up_to = up_to
        self.letter_paragraphs = letter_paragraphs  # of the letters read from the cache, counted too
        self._documents: set[str] = set()
        self._seen: set[str] = set()  # text keys queued or cached
        self._queue: list[tuple[int, int, str, str]] = []  # (priority, order, key, text)
        self._order = itertools.count()
        self._done: dict[str, bytes] = {}
        self._stop = False
        self._drain = False
        self._wake = threading.Condition()  # guards everything here: ready() is called from the engine's threads
        self._thread = threading.Thread(target=self._work, name="regkb-early-embedding", daemon=True)
        self._thread.start()

    def ready(self, entry: ManifestEntry, paragraphs: list[Paragraph], extracted: dict | None) -> None:
        """engine.run's `ready`: queue what of this document the link stage will embed."""
        rule = entry.doc_type == "rule"
        with self._wake:
            texts: list[str] = []
            if entry.id not in self._documents:
                self._documents.add(entry.id)
                if not rule:
                    self.letter_paragraphs += len(paragraphs)
                if rule or every_letter_embedded(self.embed_letters, self.letter_paragraphs, self.up_to):
                    texts.extend(p.text for p in paragraphs)
            if extracted is not None:
                texts.extend(row["quote"] for row in extracted.get("positions", []))
            fresh = {embed.text_key(text): text for text in texts}
            fresh = {key: text for key, text in fresh.items() if key not in self._seen}
            self._seen.update(fresh)
            cached = store.load_vectors(self.cache_dir, sorted(fresh))
            for key, text in fresh.items():
                if key not in cached:
                    heapq.heappush(self._queue, (0 if rule else 1, next(self._order), key, text))
            self._wake.notify()

    def finish(self, drain: bool = False) -> int:
        """Stop after the batch in hand (drain: once everything queued is embedded), keep what was
        embedded in the cache; the number of texts."""
        with self._wake:
            self._drain = drain
            self._stop = True
            self._wake.notify()
        self._thread.join()
        if self._done:
            store.save_vectors(self.cache_dir, self._done)
        return len(self._done)

    def _work(self) -> None:
        embed.model()  # loads the model at normal priority: the first query of a build may need it soon
        with contextlib.suppress(AttributeError, OSError):  # Linux: a thread's own nice value
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while True:
            with self._wake:
                while not self._queue and not self._stop:
                    self._wake.wait()
                if self._stop and not (self._drain and self._queue):
                    return
                chunk = [heapq.heappop(self._queue) for _ in range(min(CHUNK, len(self._queue)))]
            chunk.sort(key=lambda item: len(item[3]))
            for start in range(0, len(chunk), BATCH):
                if self._stop and not self._drain:
                    return  # the rest is the link stage's, on every core
                batch = chunk[start : start + BATCH]
                vectors = embed.encode([text for *_, text in batch], threads=1)
                with self._wake:
                    self._done.update((key, embed.to_blob(v)) for (_, _, key, _), v in zip(batch, vectors))
