"""A no-change rebuild does no work it has done before (issue 13: the whole docket's took 2.8-3.2 s,
the target is 2 s): the manifest's checked entries, each file's location and each file's SHA-256 are
remembered or found without a system call per file, and anything that changed is seen. Real
documents: responses from the real docket, imported with `regkb import`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline import build as build_mod
from pipeline import manifest as manifest_mod
from pipeline import workspace
from pipeline.importer import import_folder
from pipeline.models import ManifestEntry, RegkbError
from tests.conftest import REAL_CORPUS

DOCKET = REAL_CORPUS.parent / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
LETTERS = ["Intel-AI-RFI-2025.txt", "1Day-Sooner-RFI-2025.txt", "CNAS-AI-RFI-2025.txt"]


@pytest.fixture()
def ws(tmp_path, monkeypatch):
    """A workspace with three real responses imported into its manifest."""
    letters = tmp_path / "letters"
    letters.mkdir()
    for name in LETTERS:  # under names of their own: the docket's folder is among the corpus folders
        shutil.copy(DOCKET / name, letters / f"copy-{name}")
    root = tmp_path / "ws"
    monkeypatch.setattr(workspace, "_chosen", root)
    root.mkdir()
    import_folder(letters, root / "manifest.toml")
    return workspace.current()


def test_the_checked_manifest_is_remembered_and_a_change_is_seen(ws, monkeypatch):
    first = manifest_mod.load_manifest([ws.manifest])
    assert len(first) == len(LETTERS)
    assert list((ws.cache / "manifests").glob("*.json"))

    def parse_again(*args):
        raise AssertionError("the manifest was parsed although it had not changed")

    monkeypatch.setattr(manifest_mod, "entries_from_text", parse_again)
    assert manifest_mod.load_manifest([ws.manifest]) == first
    monkeypatch.undo()
    monkeypatch.setattr(workspace, "_chosen", ws.root)

    # an edit is seen, and so is a mistake in it: the memo never hides the manifest's own problems
    text = ws.manifest.read_text(encoding="utf-8")
    ws.manifest.write_text(text.replace('doc_type = "comment"', 'doc_type = "analysis"', 1), encoding="utf-8")
    assert sorted(entry.doc_type for entry in manifest_mod.load_manifest([ws.manifest])) == [
        "analysis",
        "comment",
        "comment",
    ]
    ws.manifest.write_text(text.replace('doc_type = "comment"', 'doc_type = "memo"', 1), encoding="utf-8")
    with pytest.raises(RegkbError, match="doc_type must be one of"):
        manifest_mod.load_manifest([ws.manifest])

    # a damaged memo costs a parse, not a build
    ws.manifest.write_text(text, encoding="utf-8")
    for memo in (ws.cache / "manifests").glob("*.json"):
        memo.write_bytes(b'{"digest": "x", "entries": [')
    assert manifest_mod.load_manifest([ws.manifest]) == first


def test_reading_a_manifest_never_creates_a_workspace(tmp_path, monkeypatch):
    manifest = tmp_path / "manifest.toml"
    shutil.copy(manifest_mod.DEFAULT_MANIFEST, manifest)
    monkeypatch.setattr(workspace, "_chosen", tmp_path / "nowhere")
    assert manifest_mod.load_manifest([manifest])
    assert not (tmp_path / "nowhere").exists()


def test_one_locator_finds_what_locate_finds_in_the_real_folders():
    """Over the real corpus folders, every entry of the shipped manifest and every response of the
    docket (as bare file names) is found where `locate` finds it, or missing where it is missing."""
    dirs = manifest_mod.corpus_dirs(None, [manifest_mod.DEFAULT_MANIFEST])
    entries = manifest_mod.load_manifest([manifest_mod.DEFAULT_MANIFEST])
    template = entries[0]
    names = sorted(path.name for path in DOCKET.glob("*.txt"))[::50] + ["no-such-response.txt"]
    entries += [ManifestEntry(**{**vars(template), "id": f"d{i}", "file": name}) for i, name in enumerate(names)]
    locator = manifest_mod.Locator(dirs)
    found = [locator.locate(entry) for entry in entries]
    assert found == [manifest_mod.locate(entry, dirs) for entry in entries]
    assert found[-1] is None and sum(path is not None for path in found) >= len(names) - 1


def test_a_link_out_of_the_folder_is_refused_and_one_inside_it_is_followed(tmp_path):
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(DOCKET / LETTERS[0], outside / "away.txt")
    shutil.copy(DOCKET / LETTERS[1], folder / "sub" / "inside.txt")
    (folder / "escape.txt").symlink_to(outside / "away.txt")
    (folder / "within.txt").symlink_to(folder / "sub" / "inside.txt")
    (folder / "broken.txt").symlink_to(tmp_path / "gone.txt")
    second = tmp_path / "second"
    second.mkdir()
    shutil.copy(DOCKET / LETTERS[2], second / "broken.txt")
    locator = manifest_mod.Locator([folder, second])

    def entry(name: str) -> ManifestEntry:
        return ManifestEntry("x", "t", "comment", "o", "2025-03-15", "en", name)

    with pytest.raises(RegkbError, match="link that points outside"):
        locator.locate(entry("escape.txt"))
    assert locator.locate(entry("within.txt")) == folder / "within.txt"
    assert locator.locate(entry("sub/inside.txt")) == folder / "sub" / "inside.txt"
    assert locator.locate(entry("broken.txt")) == second / "broken.txt"  # a dangling link is no file


def counted_hashing(monkeypatch) -> list[Path]:
    hashed: list[Path] = []
    real = build_mod.sha256_file

    def counting(path):
        hashed.append(Path(path))
        return real(path)

    monkeypatch.setattr(build_mod, "sha256_file", counting)
    return hashed


def test_a_file_is_hashed_again_only_when_it_changed(ws, monkeypatch):
    located = [
        (entry, manifest_mod.locate(entry, manifest_mod.corpus_dirs(None, [ws.manifest])))
        for entry in manifest_mod.load_manifest([ws.manifest])
    ]
    assert all(path is not None for _, path in located)
    monkeypatch.setattr(build_mod, "SETTLED_SECONDS", 0.0)
    hashed = counted_hashing(monkeypatch)
    report = build_mod.BuildReport(db_path=ws.db)
    first = build_mod.file_hashes(located, ws.cache, report)
    assert len(hashed) == len(LETTERS) and not report.problems
    hashed.clear()
    assert build_mod.file_hashes(located, ws.cache, report) == first
    assert hashed == []

    # the same size, other bytes: the file's change time moves, and its hash is read again
    _, changed = located[0]
    assert changed.is_relative_to(ws.root.parent)  # the test's copy, never the shared docket's file
    data = changed.read_bytes()
    changed.write_bytes(data[:-1] + (b"!" if data[-1:] != b"!" else b"?"))
    again = build_mod.file_hashes(located, ws.cache, report)
    assert hashed == [changed]
    assert again[located[0][0].id] != first[located[0][0].id]
    assert {k: v for k, v in again.items() if k != located[0][0].id} == {
        k: v for k, v in first.items() if k != located[0][0].id
    }


def test_a_file_written_just_now_is_not_remembered(ws, monkeypatch):
    """A file changed within the same clock tick as it was hashed could keep its size and times: its
    hash is remembered only once it is older than SETTLED_SECONDS."""
    located = [
        (entry, manifest_mod.locate(entry, manifest_mod.corpus_dirs(None, [ws.manifest])))
        for entry in manifest_mod.load_manifest([ws.manifest])
    ]
    _, fresh = located[0]
    assert fresh.is_relative_to(ws.root.parent)  # the test's copy, never the shared docket's file
    os.utime(fresh)  # touched now
    hashed = counted_hashing(monkeypatch)
    report = build_mod.BuildReport(db_path=ws.db)
    build_mod.file_hashes(located, ws.cache, report)
    hashed.clear()
    build_mod.file_hashes(located, ws.cache, report)
    assert fresh in hashed


def test_a_no_change_build_reads_no_file_and_a_changed_one_rebuilds(ws, monkeypatch):
    monkeypatch.setattr(build_mod, "SETTLED_SECONDS", 0.0)
    first = build_mod.build([ws.manifest], embed_letters="engaging")
    assert first.ok and sorted(first.built) == sorted(entry.id for entry in manifest_mod.load_manifest([ws.manifest]))
    hashed = counted_hashing(monkeypatch)
    again = build_mod.build([ws.manifest], embed_letters="engaging")
    assert again.up_to_date and hashed == []
    changed = ws.root.parent / "letters" / f"copy-{LETTERS[1]}"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nWe also ask BIS to drop the country caps.\n", encoding="utf-8"
    )
    third = build_mod.build([ws.manifest], embed_letters="engaging")
    # the manifest `regkb import` wrote holds each file's sha256: the changed file is read, and refused
    assert not third.up_to_date and hashed == [changed]
    assert [problem["file"] for problem in third.problems] == [str(changed)]
    assert "sha256" in third.problems[0]["problem"]


def test_documents_appended_to_the_manifest_are_parsed_alone(ws, tmp_path, monkeypatch):
    """`regkb import` and `regkb add` append to the manifest: the remembered entries are kept and only
    the new tail is parsed (the whole docket's 3.6 MB took 1.5 s to parse again for one letter more).
    Anything else than appended documents is parsed whole, its problems said as always."""
    first = manifest_mod.load_manifest([ws.manifest])
    letters = ws.root.parent / "letters"  # two more responses in the folder imported before
    for name in ("Google-RFI-2025.txt", "IFP-AI-RFI-2025.txt"):
        shutil.copy(DOCKET / name, letters / f"more-{name}")
    before = ws.manifest.read_text(encoding="utf-8")
    import_folder(letters, ws.manifest)
    after = ws.manifest.read_text(encoding="utf-8")
    assert after.startswith(before) and len(after) > len(before)
    parsed: list[int] = []
    real = manifest_mod.entries_from_text

    def spying(text, path):
        parsed.append(len(text))
        return real(text, path)

    monkeypatch.setattr(manifest_mod, "entries_from_text", spying)
    entries = manifest_mod.load_manifest([ws.manifest])
    assert parsed == [len(after) - len(before)]
    assert entries == real(after, ws.manifest) and entries[: len(first)] == first and len(entries) == len(first) + 2

    # a line that changes the last document instead of adding one: the whole text is parsed
    assert not entries[-1].cite_as
    ws.manifest.write_text(after + 'cite_as = "Edited"\n', encoding="utf-8")
    parsed.clear()
    edited = manifest_mod.load_manifest([ws.manifest])
    assert parsed[-1] == len(after) + len('cite_as = "Edited"\n') and edited[-1].cite_as == "Edited"
    # an appended document with an id already listed: refused as for any manifest
    duplicate = (
        "\n[[document]]\n" + "\n".join(f'{key} = "{value}"' for key, value in vars(entries[0]).items() if value) + "\n"
    )
    ws.manifest.write_text(after + 'cite_as = "Edited"\n' + duplicate, encoding="utf-8")
    with pytest.raises(RegkbError, match="duplicate document id"):
        manifest_mod.load_manifest([ws.manifest])


def test_a_workspace_file_named_like_a_docket_response_is_the_workspace_s(tmp_path, monkeypatch):
    """The docket's own folder is among the corpus folders, before the folders a workspace manifest
    declares: a user's imported file named like a docket response was read from the docket (and the
    build refused it, its sha256 not the one `regkb import` recorded). An entry's own manifest's
    folders are searched first."""
    letters = tmp_path / "letters"
    letters.mkdir()
    name = "1Day-Sooner-RFI-2025.txt"  # a response of the real docket, under its own name
    edited = (DOCKET / name).read_text(
        encoding="utf-8"
    ) + "\nWe also ask BIS to rescind the country caps of the AI diffusion rule.\n"
    (letters / name).write_text(edited, encoding="utf-8")
    root = tmp_path / "ws"
    root.mkdir()
    monkeypatch.setattr(workspace, "_chosen", root)
    import_folder(letters, root / "manifest.toml")
    report = build_mod.build([root / "manifest.toml"], embed_letters="engaging")
    assert report.ok, report.problems
    own: dict = {}
    (entry,) = manifest_mod.load_manifest([root / "manifest.toml"], own)
    assert own[entry.id] == [letters.resolve()]
    dirs = manifest_mod.corpus_dirs(None, [root / "manifest.toml"])
    assert manifest_mod.Locator(dirs, own_folders=own).locate(entry) == letters.resolve() / name
    assert manifest_mod.locate(entry, dirs) == DOCKET.resolve() / name  # without its own folders first
    import sqlite3

    with sqlite3.connect(report.db_path) as conn:
        texts = [row[0] for row in conn.execute("select text from paragraphs where doc_id = ?", (entry.id,))]
    assert any("rescind the country caps" in text for text in texts)
    assert (DOCKET / name).read_text(encoding="utf-8") != edited  # the shared file is untouched
