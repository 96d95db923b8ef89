"""The build's one process pool (the engine's): documents and the page ranges of long PDFs, scheduled together."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

# Children come from a forkserver, not a plain fork: the build loads the embedding model in a thread
# while documents parse, and a child forked while that thread holds a lock waits on it forever
# (observed: the cold build hung with both workers asleep on a futex). The server is one clean,
# single-threaded process that has imported the parsing code and built the spaCy pipelines
# (2 s), so every child forked from it starts ready.
PRELOAD = ["pipeline.forkserver_warmup"]
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies: the forkserver when the build dies,
    a worker when the forkserver does. A build killed alone (kill -9, the out-of-memory killer) left
    them running for ever, each waiting on a pipe nobody would write to again."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the request: init adopted this process
            os._exit(1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent)
