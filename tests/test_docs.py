"""The README documents every CLI command, and its two set-up commands are the Makefile's."""
from __future__ import annotations

import re
from pathlib import Path

from pipeline.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented():
    undocumented = [name for name in main.commands if not re.search(rf"regkb {name}\b", README)]
    assert not undocumented, f"commands missing from README.md: {undocumented}"


def test_readme_has_the_two_setup_commands():
    assert "make run" in README and "make test" in README
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
