"""Progress bars of the long commands: on a terminal (stdout and stderr each a pseudo-terminal) `build`
and `report` draw a rich bar on stderr with counts and ETA; piped, or with --json, they print only
their result, so it can be parsed. `fetch` is checked for quietness only (it needs the network to
take long)."""

from __future__ import annotations

import json
import os
import pty
import selectors
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipeline.report import STEPS as REPORT_STEPS
from tests.conftest import PROJECT_ROOT, write_manifest

REGKB = [sys.executable, "-m", "pipeline.cli"]
LETTER = (
    "SYNTHETIC TEST LETTER (not a real document)\n\n"
    "We object to the country caps in the interim final rule. A cap on total processing performance "
    "per country punishes allies that have signed every assurance asked of them.\n"
)


def on_terminal(args: list[str], timeout: float = 300) -> tuple[int, str, str]:
    """Run regkb with stdout and stderr on two pseudo-terminals; return (status, stdout, stderr)."""
    masters, slaves = zip(*(pty.openpty() for _ in range(2)))
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=slaves[0],
        stderr=slaves[1],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"},
    )
    for fd in slaves:
        os.close(fd)
    received = {fd: b"" for fd in masters}
    with selectors.DefaultSelector() as selector:
        for fd in masters:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select(timeout):
                try:
                    chunk = os.read(key.fd, 65536)
                except OSError:  # EIO: the program closed its end
                    chunk = b""
                if chunk:
                    received[key.fd] += chunk
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    status = process.wait(timeout)
    return status, *(received[fd].decode("utf-8", "replace").replace("\r\n", "\n") for fd in masters)


def piped(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)


def build_of_a_new_letter(root: Path) -> list[str]:
    """`regkb build` arguments for a one-letter corpus never seen before: its paragraphs and their
    vectors are in no cache, so the build parses and embeds (the work the bar is for)."""
    root.mkdir()
    (root / "letter.txt").write_text(f"{LETTER}\nReference {uuid.uuid4()}.\n", encoding="utf-8")
    manifest = write_manifest(root / "manifest.toml", [{"id": "test-letter", "file": "letter.txt"}])
    return [*REGKB, "build", "--manifest", str(manifest), "--corpus", str(root), "--db", str(root / "kb.db")]


@pytest.mark.slow  # a regkb build in a fresh process: spaCy, torch and the model load each time
def test_build_shows_a_bar_on_a_terminal(tmp_path):
    status, out, err = on_terminal(build_of_a_new_letter(tmp_path / "letter"))
    assert status == 0, err
    assert "parsing documents" in err and "1/1" in err and "ETA" in err and "test-letter" in err
    assert "linking and writing the knowledge base" in err
    assert out.startswith("built ") and "parsing documents" not in out


@pytest.mark.slow  # a regkb build in a fresh process: spaCy, torch and the model load each time
def test_build_is_quiet_when_piped_or_with_json(tmp_path):
    result = piped(build_of_a_new_letter(tmp_path / "piped"))
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("built ") and len(result.stdout.splitlines()) == 1
    status, out, err = on_terminal([*build_of_a_new_letter(tmp_path / "json"), "--json"])
    assert status == 0 and err == ""
    assert json.loads(out)["built"] == ["test-letter"]


@pytest.mark.slow
def test_report_shows_a_bar_on_a_terminal_and_is_quiet_otherwise(real_kb, tmp_path):
    args = [*REGKB, "report", "--db", str(real_kb.db_path), "--out", str(tmp_path)]
    status, out, err = on_terminal(args)
    assert status == 0, err
    steps = len(REPORT_STEPS)  # a step for each table and each figure
    assert "making the report" in err and f"{steps}/{steps}" in err and "ETA" in err
    assert out.splitlines() == [
        f"wrote {tmp_path / name}"
        for name in (
            "report.html",
            "figures/positions-heatmap.svg",
            "figures/country-lists.svg",
            "figures/dates-timeline.svg",
            "report.md",
        )
    ]

    result = piped(args)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == out
    status, out, err = on_terminal([*args, "--format", "md", "--json"])
    assert status == 0 and err == ""
    assert json.loads(out)[-1] == str(tmp_path / "report.md")


def test_fetch_is_quiet_when_piped_or_with_json(tmp_path):
    """Every document present: nothing to download, so no network is needed."""
    (tmp_path / "letter.txt").write_text(LETTER, encoding="utf-8")
    manifest = write_manifest(tmp_path / "manifest.toml", [{"id": "test-letter", "file": "letter.txt"}])
    args = [*REGKB, "fetch", "--manifest", str(manifest), "--corpus", str(tmp_path)]
    result = piped(args)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.split() == ["present", "test-letter", str(tmp_path / "letter.txt")]
    status, out, err = on_terminal([*args, "--json"])
    assert status == 0 and err == ""
    assert [row["status"] for row in json.loads(out)] == ["present"]
