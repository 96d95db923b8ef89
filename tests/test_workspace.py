"""The workspace (issue 13): what a user adds, imports and builds lives in one folder, never in the
package or the source checkout. The end-to-end test runs regkb from a read-only copy of the source
with the workspace elsewhere and checks that nothing outside the workspace changed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import workspace
from pipeline.cli import main

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCKET = PROJECT_ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
LETTERS = ["AI-RFI-2025-1477.txt", "SIA-AI-RFI-2025.txt", "Bacchus-AI-RFI-2025.txt", "AI-RFI-2025-2500.txt"]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_which_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv(workspace.ENV, raising=False)
    monkeypatch.chdir(PROJECT_ROOT)
    assert workspace.current().checkout and workspace.current().db == PROJECT_ROOT / "outputs" / "regkb.db"
    monkeypatch.chdir(tmp_path)
    assert workspace.current().root == tmp_path.resolve() / "regkb-workspace"
    assert not (tmp_path / "regkb-workspace").exists()  # created only by a command that writes
    monkeypatch.setenv(workspace.ENV, str(tmp_path / "home"))
    assert workspace.current().db == (tmp_path / "home" / "regkb.db").resolve()
    workspace.choose(tmp_path / "flag")
    try:
        assert workspace.current().manifest == (tmp_path / "flag" / "manifest.toml").resolve()
    finally:
        workspace.choose(None)


def test_add_with_a_manifest_elsewhere_copies_beside_it_not_into_the_checkout(tmp_path):
    letter = tmp_path / "downloads" / "letter.txt"
    letter.parent.mkdir()
    shutil.copyfile(DOCKET / "SIA-AI-RFI-2025.txt", letter)
    manifest = tmp_path / "mine" / "manifest.toml"
    manifest.parent.mkdir()
    before = snapshot(PROJECT_ROOT / "corpus")
    result = CliRunner().invoke(
        main, ["add", str(letter), "--org", "SIA", "--date", "2025-03-15", "--manifest", str(manifest)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "letter.txt").read_bytes() == letter.read_bytes()
    assert snapshot(PROJECT_ROOT / "corpus") == before


def test_add_into_a_workspace(tmp_path):
    letter = tmp_path / "letter.txt"
    shutil.copyfile(DOCKET / "SIA-AI-RFI-2025.txt", letter)
    result = CliRunner().invoke(
        main, ["--workspace", str(tmp_path / "ws"), "add", str(letter), "--org", "SIA", "--date", "2025-03-15"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "files" / "letter.txt").exists()
    assert 'author_org = "SIA"' in (tmp_path / "ws" / "manifest.toml").read_text()


@pytest.mark.slow
def test_a_read_only_checkout_builds_into_a_workspace_and_writes_nothing_else(tmp_path):
    source = tmp_path / "src"
    for part in ("pipeline", "datasette"):
        shutil.copytree(PROJECT_ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "corpus").mkdir()
    shutil.copyfile(PROJECT_ROOT / "corpus" / "manifest.toml", source / "corpus" / "manifest.toml")
    letters = tmp_path / "letters"
    letters.mkdir()
    for name in LETTERS:
        shutil.copyfile(DOCKET / name, letters / name)
    home = tmp_path / "home"
    home.mkdir()
    for folder in (source, letters):
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    ws = tmp_path / "ws"
    env = {**os.environ, "PYTHONPATH": str(source), "REGKB_HOME": str(ws), "HOME": str(home)}
    env.pop("REGKB_MANIFEST", None)
    env.pop("REGKB_CACHE", None)
    before = {name: snapshot(tmp_path / name) for name in ("src", "letters", "home")}
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    def regkb(*args):
        result = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    try:
        assert "listed 4 new documents" in regkb("import", str(letters))
        # the workspace manifest alone: the shipped corpus manifest's files are not beside this copy
        assert "paragraphs" in regkb("build", "--manifest", str(ws / "manifest.toml"))
        assert "ai-rfi-2025-1477" in regkb("search", "University of Wyoming", "--limit", "3")
        assert "Security Industry Association (SIA)" in regkb("docs")
        regkb("table", "positions", "--format", "csv")
    finally:
        for path in [source, *source.rglob("*"), letters, *letters.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    after = {name: snapshot(tmp_path / name) for name in ("src", "letters", "home")}
    # the one thing outside the workspace: the per-user model cache (pipeline/embed.py: the ONNX export of
    # the shipped MiniLM, shared by every workspace) and what onnxruntime keeps beside it, under ~/.cache
    after["home"] = {path: stamp for path, stamp in after["home"].items() if not path.startswith(".cache")}
    assert after == before
    assert sorted(p.name for p in cwd.iterdir()) == []  # nothing in the current directory either
    assert {"manifest.toml", "regkb.db", "cache", "outputs"} <= {p.name for p in ws.iterdir()}
    assert (ws / "outputs" / "tables" / "positions.csv").exists()
