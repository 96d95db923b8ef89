"""Hostile input through every CLI option (issue 6): SQL injection, FTS5 syntax, format strings,
shell metacharacters, path climbs, control and bidi characters, huge and out-of-range numbers, in
every argument and option of every `regkb` command, read off the click command itself so that an
option added later is covered the day it is added. (No NUL: a process's arguments cannot hold one; a
manifest can, see test_bad_input, and the query parser's property test feeds it arbitrary text.)
Whatever the value: a clear message or a result, never a traceback; exit 0, 1
(`regkb: error: …`) or 2 (click's usage error); the knowledge base byte-identical; no command run.

The datasette side (every URL parameter of the served knowledge base) is in test_serve.py."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import pipeline.build as build_mod
import pipeline.manifest as manifest_mod
from pipeline.build import build
from pipeline.cli import main

from .conftest import write_manifest

HOSTILE = [
    "'; DROP TABLE paragraphs; --",
    '" OR "1"="1',
    "x%' OR '1'='1' --",
    "1; DELETE FROM documents",
    "*",
    '"unbalanced',
    "NEAR(caps rule)",
    "caps) OR (1",
    "text:caps",
    "^caps",
    "-caps",
    "../../escape",
    "$(touch PWNED)",
    "`touch PWNED`",
    "; touch PWNED",
    "%s%n%x{0}",
    "-1",
    "0",
    "nan",
    "inf",
    "1e309",
    "99999999999999999999",
    "出口管制",
    "§ 740.29(a)",
    "\u202eevil",
    "tab\there\r\n",
    "a" * 5000,
    "",
    " ",
]
LETTER = (
    "SYNTHETIC TEST LETTER, not a real ITI document.\n\nExport controls\n\n"
    "We object to the country caps on advanced computing integrated circuits in the interim final rule.\n\n"
    "License Exception LPP is too narrow for low processing performance shipments.\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A small knowledge base, its corpus, manifest and warm cache (so a hostile `build` is quick)."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "iti.txt").write_text(LETTER, encoding="utf-8")
    manifest = write_manifest(root / "manifest.toml", [{"id": "iti-synthetic", "file": "iti.txt", "author_org": "ITI"}])
    report = build(manifest, corpus, root / "kb.db", cache_dir=root / "cache")
    assert report.ok, report.problems
    return root


# benign values for what a command needs, so that only the hostile one can fail it
def base_arguments(command: str, site: Path, work: Path) -> dict[str, str]:
    values = {
        "db_path": str(site / "kb.db"),
        "query": "country caps",
        "paragraph_id": "iti-synthetic:x",
        "item_id": "iti-synthetic:x",
        "name": "positions",
        "file": str(site / "corpus" / "iti.txt"),
        "org": "ITI",
        "date": "2025-01-07",
        "manifest_path": str(site / "manifest.toml"),
        "corpus": str(site / "corpus"),
        "cache_dir": str(site / "cache"),
        "out_dir": str(work / "out"),
    }
    if command in ("build", "add"):
        # these write: the build to a scratch knowledge base, add to a copy of the manifest
        values["db_path"] = str(work / "scratch.db")
        values["manifest_path"] = str(work / "manifest.toml")
    return values


def invocation(command: click.Command, name: str, hostile: str, base: dict[str, str]) -> list[str]:
    arguments, options = [], []
    for param in command.params:
        value = hostile if param.name == name else base.get(param.name)
        if isinstance(param, click.Argument):
            arguments.append(value if value is not None else "x")
        elif value is not None and not param.is_flag:
            options += [param.opts[0], value]
    return [command.name, *options, "--", *arguments]


CASES = [
    (command.name, param.name)
    for command in main.commands.values()
    for param in command.params
    if not getattr(param, "is_flag", False)
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command_name, param_name", CASES, ids=[f"{c}-{p}" for c, p in CASES])
def test_hostile_values_in_every_option_are_refused_or_answered_never_executed(
    site, tmp_path, monkeypatch, command_name, param_name
):
    work = tmp_path / "a" / "b"  # relative climbs in the hostile values stay inside tmp_path
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(manifest_mod, "USER_FILES", tmp_path / "user-files")
    monkeypatch.setattr(build_mod, "DEFAULT_CACHE", tmp_path / "default-cache")
    for variable in ("REGKB_CORPUS", "REGKB_MANIFEST", "REGKB_CACHE"):
        monkeypatch.delenv(variable, raising=False)
    served = []
    # `regkb serve` with a value that passes its checks would serve for ever: record what datasette is given
    monkeypatch.setattr("datasette.cli.cli.main", lambda args, **kwargs: served.append(args))
    (work / "manifest.toml").write_bytes((site / "manifest.toml").read_bytes())
    command = main.commands[command_name]
    kb_before = sha256(site / "kb.db")
    runner = CliRunner()
    for hostile in HOSTILE:
        argv = invocation(command, param_name, hostile, base_arguments(command_name, site, work))
        result = runner.invoke(main, argv)
        said = result.output
        assert result.exit_code in (0, 1, 2), (argv, said, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), (argv, repr(result.exception))
        assert "Traceback" not in said, (argv, said)
        if result.exit_code == 1:
            assert "regkb: error:" in said or "unreachable" in said or "could not" in said, (argv, said)
        if result.exit_code == 2:
            assert "Error:" in said, (argv, said)
        assert not list(tmp_path.rglob("PWNED")), f"a shell ran {hostile!r}"
        assert sha256(site / "kb.db") == kb_before, argv
    with sqlite3.connect(f"file:{site / 'kb.db'}?mode=ro", uri=True) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        assert conn.execute("select count(*) from paragraphs where doc_id = 'iti-synthetic'").fetchone()[0] >= 3
    for args in served:  # the host goes to datasette as one argument, as typed
        assert args[args.index("--host") + 1] in HOSTILE + ["127.0.0.1"]


def test_every_command_and_option_is_covered():
    """The cases come from the click commands: a new command or option is in them without an edit."""
    assert {command for command, _ in CASES} == set(main.commands)
    assert ("search", "section") in CASES and ("add", "url") in CASES and ("serve", "host") in CASES
