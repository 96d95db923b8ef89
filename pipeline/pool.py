"""Process pools for the build: over documents (engine) and over the pages of a long PDF (ingest)."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

# Children come from a forkserver, not a plain fork: the build loads the embedding model in a thread
# while documents parse, and a child forked while that thread holds a lock waits on it forever
# (observed: the cold build hung with both workers asleep on a futex). The server is one clean,
# single-threaded process that has imported the parsing code and built the spaCy pipelines
# (2 s), so every child forked from it starts ready.
PRELOAD = ["pipeline.forkserver_warmup"]


def process_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
