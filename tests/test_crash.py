"""Crash safety (issue 6): `regkb build` killed with SIGKILL at random points, and readers at work
while a build replaces the knowledge base.

The kills are real: `regkb build` runs as a child in a session of its own and is SIGKILLed, with its
process pool and forkserver (the whole session, as a power cut or `kill -9` of a job would), or alone
(as the kernel's out-of-memory killer picks one process). Kill times are drawn by a seeded RNG over
the length of a measured build, and a few more are aimed at the store stage itself: the moment its
temporary database appears next to the knowledge base. After every kill the previous knowledge base
must be byte-identical (or, killed after the atomic swap, the complete new one), pass SQLite's
integrity check and answer `regkb search`; after all of them
the next build must succeed, clean up what the killed writes left, and give the same rows as a build
that was never interrupted."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from pipeline.manifest import DEFAULT_MANIFEST
from pipeline.query import search
from pipeline.serve import datasette_args, free_port

from .conftest import SYNTHETIC, write_manifest
from .test_engine import table_rows

# real builds killed and rebuilt a dozen times: minutes of CPU, so the full tier (make test) only
pytestmark = pytest.mark.slow

REGKB = Path(sys.executable).with_name("regkb")
KILLS_AT_RANDOM = 8
KILLS_IN_THE_STORE_STAGE = 3


def corpus_manifest(root: Path, real_corpus: Path) -> Path:
    """The synthetic letters (a PDF, HTML, Markdown and text) and the published regulatory text, so
    the build has every stage: parse, embed, dedupe, link to the rule, store."""
    documents = tomllib.loads(DEFAULT_MANIFEST.read_text(encoding="utf-8"))["document"]
    regtext = [d for d in documents if d["id"] == "bis-2025-00636-regtext"]
    assert regtext and (real_corpus / regtext[0]["file"]).exists(), "the published regulatory text"
    letters = tomllib.loads((SYNTHETIC / "manifest.toml").read_text(encoding="utf-8"))["document"]
    for letter in letters:
        (root / "corpus" / letter["file"]).write_bytes((SYNTHETIC / letter["file"]).read_bytes())
    (root / "corpus" / regtext[0]["file"]).write_bytes((real_corpus / regtext[0]["file"]).read_bytes())
    return write_manifest(root / "manifest.toml", regtext + letters)


def regkb(root: Path, *args: str) -> list[str]:
    return [str(REGKB), *args, "--db", str(root / "kb.db")]


def build_command(root: Path, *extra: str) -> list[str]:
    # the document cache is the test's own, so a killed build can damage it too
    return regkb(
        root,
        "build",
        "--manifest",
        str(root / "manifest.toml"),
        "--corpus",
        str(root / "corpus"),
        "--cache",
        str(root / "cache"),
        "--json",
        *extra,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_whole_and_searchable(root: Path, previous_sha256: str, complete_rows: dict) -> str:
    """The knowledge base is the previous file, byte for byte, or (when the kill came after the swap)
    a complete new one with every row of an uninterrupted build: never anything in between. Returns
    the sha256 of the file that is there now."""
    db = root / "kb.db"
    now = sha256(db)
    if now != previous_sha256:
        assert table_rows(db) == complete_rows, "a killed build left a knowledge base that is neither old nor whole"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    found = subprocess.run(regkb(root, "search", "country caps", "--json"), capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout), "search finds the letters' objections to country caps"
    return now


def session_processes(session: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getsid(process.pid) == session:
                found.append(process)
        except (ProcessLookupError, PermissionError):
            continue
    return found


def wait_until_gone(session: int, seconds: float = 30.0) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while (left := session_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def start_build(root: Path) -> subprocess.Popen:
    # --force: every document is parsed again, so every stage runs and writes (cache included)
    return subprocess.Popen(
        build_command(root, "--force"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def kill(process: subprocess.Popen, whole_session: bool) -> None:
    if whole_session:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def store_stage_started(root: Path) -> bool:
    return any(root.glob(".kb.db.*.building"))


@pytest.fixture(scope="module")
def crash_site(tmp_path_factory, real_corpus):
    root = tmp_path_factory.mktemp("crash")
    (root / "corpus").mkdir()
    corpus_manifest(root, real_corpus)
    cold = subprocess.run(build_command(root), capture_output=True, text=True, timeout=600)
    assert cold.returncode == 0, cold.stderr
    # the builds to be killed are --force builds with the embeddings cached: time one of those
    started = time.monotonic()
    timed = subprocess.run(build_command(root, "--force"), capture_output=True, text=True, timeout=600)
    assert timed.returncode == 0, timed.stderr
    return root, time.monotonic() - started


def test_sigkill_at_random_points_leaves_the_previous_knowledge_base_intact(crash_site):
    root, build_seconds = crash_site
    expected = sha256(root / "kb.db")
    never_interrupted = table_rows(root / "kb.db")  # --force on the same files: every build gives these rows
    plan = random.Random(6)
    outcomes = []
    for attempt in range(KILLS_AT_RANDOM + KILLS_IN_THE_STORE_STAGE):
        whole_session = attempt % 2 == 0
        process = start_build(root)
        if attempt < KILLS_AT_RANDOM:
            time.sleep(plan.uniform(0.05, build_seconds * 0.95))
            stage = "store" if store_stage_started(root) else "before store"
        else:
            while process.poll() is None and not store_stage_started(root):
                time.sleep(0.002)
            time.sleep(plan.uniform(0.0, 0.05))
            stage = "store"
        if process.poll() is not None:
            outcomes.append(("finished", stage))
            assert process.returncode == 0
            expected = sha256(root / "kb.db")  # a build that finished is the knowledge base now
            continue
        kill(process, whole_session)
        outcomes.append(("killed", stage))
        # the pool workers and the forkserver do not outlive the build, even when it dies alone
        assert wait_until_gone(process.pid) == [], f"processes of a killed build still run ({outcomes[-1]})"
        swapped = assert_whole_and_searchable(root, expected, never_interrupted) != expected
        outcomes[-1] += ("after the swap",) if swapped else ()
        expected = sha256(root / "kb.db")
    killed = [stage for outcome, stage, *_ in outcomes if outcome == "killed"]
    assert len(killed) >= KILLS_AT_RANDOM, outcomes
    assert killed.count("store") >= KILLS_IN_THE_STORE_STAGE, outcomes

    after = subprocess.run(build_command(root), capture_output=True, text=True, timeout=600)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["ok"]
    assert [p.name for p in root.iterdir() if p.name.startswith(".kb.db")] == [], "killed writes are cleaned up"
    assert table_rows(root / "kb.db") == never_interrupted
    assert_whole_and_searchable(root, sha256(root / "kb.db"), never_interrupted)


def test_readers_keep_working_while_a_build_replaces_the_knowledge_base(crash_site):
    """Search (the library, as `regkb search` calls it) and `regkb serve` answer throughout a build,
    from the old file until the new one is swapped in, and then from the new one."""
    root, _ = crash_site
    db = root / "kb.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        built_before = conn.execute("select value from build_info where key = 'built_at'").fetchone()[0]
    port = free_port("127.0.0.1")
    server = subprocess.Popen(
        [sys.executable, "-m", "datasette", *datasette_args(db, "127.0.0.1", port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    page = f"http://127.0.0.1:{port}/regkb/paragraphs.json?" + urllib.parse.urlencode(
        {"_search": "country caps", "_shape": "array"}
    )
    failures: list[str] = []
    answers = {"search": 0, "serve": 0}

    def served() -> list:
        with urllib.request.urlopen(page, timeout=30) as response:
            return json.loads(response.read())

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                served()
                break
            except OSError:
                assert time.monotonic() < deadline, "datasette did not start"
                time.sleep(0.3)
        builder = start_build(root)

        def read_until_built(name: str, read) -> None:
            while builder.poll() is None:
                try:
                    assert read(), f"{name} found nothing"
                    answers[name] += 1
                except Exception as exc:  # noqa: BLE001 - any failure of a reader is what this test looks for
                    failures.append(f"{name}: {exc!r}")
                time.sleep(0.05)

        readers = [
            threading.Thread(target=read_until_built, args=("search", lambda: search(db, "country caps"))),
            threading.Thread(target=read_until_built, args=("serve", served)),
        ]
        for reader in readers:
            reader.start()
        builder.wait(timeout=600)
        for reader in readers:
            reader.join(timeout=60)
        assert builder.returncode == 0
        assert failures == []
        assert min(answers.values()) >= 10, answers
        assert search(db, "country caps")
        assert served()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("select value from build_info where key = 'built_at'").fetchone()[0] != built_before
