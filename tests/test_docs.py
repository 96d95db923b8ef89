"""The README documents every CLI command, its two set-up commands are the Makefile's, and the pictures
and files it points to are in the repository."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented():
    undocumented = [name for name in main.commands if not re.search(rf"regkb {name}\b", README)]
    assert not undocumented, f"commands missing from README.md: {undocumented}"


def test_readme_has_the_two_setup_commands():
    assert "make run" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_every_picture_and_file_the_readme_points_to_is_in_the_repository():
    local = [target for target in re.findall(r"\]\(([^)\s]+)\)", README) if not re.match(r"[a-z]+:|#", target)]
    pictures = [target for target in local if target.endswith(".png")]
    assert {"docs/screenshots/search.png", "docs/screenshots/paragraph.png", "docs/screenshots/positions.png"} <= set(
        pictures
    )
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, f"README.md points to files that are not there: {missing}"
    # outputs/ is made by the commands and not committed
    assert not [target for target in local if target.startswith("outputs/")]
