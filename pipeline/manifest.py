"""The corpus manifest (corpus/manifest.toml): which documents make up the corpus, where they come
from, and where their files are found."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import fields
from pathlib import Path

from .models import ManifestEntry, RegkbError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = PROJECT_ROOT / "corpus" / "manifest.toml"
USER_FILES = PROJECT_ROOT / "corpus" / "files"
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
# the other real material beside the corpus: other rules and a whole docket, referenced where they lie
SHARED_EXTRA = (PROJECT_ROOT.parent / "shared" / "other-rules",
                PROJECT_ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text")
DOC_TYPES = ("rule", "comment", "statement", "news", "analysis")
REQUIRED = ("id", "title", "doc_type", "author_org", "date", "language", "file")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,80}$")


ManifestPaths = str | Path | list | tuple | None


def manifest_paths(paths: ManifestPaths = None) -> list[Path]:
    """One manifest or several (--manifest given more than once); default corpus/manifest.toml."""
    if isinstance(paths, (list, tuple)) and paths:
        return [Path(p) for p in paths]
    if paths and not isinstance(paths, (list, tuple)):
        return [Path(paths)]
    return [Path(os.environ.get("REGKB_MANIFEST") or DEFAULT_MANIFEST)]


def corpus_dirs(corpus: str | Path | None = None, manifests: ManifestPaths = None) -> list[Path]:
    """Where document files are looked for: --corpus, else $REGKB_CORPUS, else ../shared/corpus and
    the real material beside it (../shared/other-rules, the docket's text/); then corpus/files/
    (documents fetched or added by the user); then each manifest's own folder (a set of letters can
    travel with its manifest)."""
    chosen = corpus or os.environ.get("REGKB_CORPUS") or SHARED_CORPUS
    dirs = [Path(chosen).expanduser().resolve()]
    if not corpus and not os.environ.get("REGKB_CORPUS"):
        dirs += [folder.resolve() for folder in SHARED_EXTRA if folder.is_dir()]
    for folder in [USER_FILES] + ([p.parent for p in manifest_paths(manifests)] if manifests else []):
        if folder.resolve() not in dirs:
            dirs.append(folder.resolve())
    return dirs


def load_manifest(paths: ManifestPaths = None) -> list[ManifestEntry]:
    """The entries of one or more manifests; an id may appear only once across them."""
    entries: list[ManifestEntry] = []
    for path in manifest_paths(paths):
        for entry in _load_one(path):
            if any(e.id == entry.id for e in entries):
                raise RegkbError(f"{path}: duplicate document id {entry.id!r} (already listed in another manifest)")
            entries.append(entry)
    return entries


def _load_one(path: Path) -> list[ManifestEntry]:
    if not path.exists():
        raise RegkbError(f"{path}: manifest not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegkbError(f"{path}: manifest is not valid TOML ({exc})") from exc
    known = {f.name for f in fields(ManifestEntry)}
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("document", []), start=1):
        where = f"{path}: document #{index}"
        missing = [name for name in REQUIRED if not str(raw.get(name, "")).strip()]
        if missing:
            raise RegkbError(f"{where} lacks {', '.join(missing)}")
        unknown = sorted(set(raw) - known)
        if unknown:
            raise RegkbError(f"{where} ({raw['id']}) has unknown fields: {', '.join(unknown)}")
        if not ID_PATTERN.match(raw["id"]):
            raise RegkbError(f"{where}: id {raw['id']!r} must be lower-case letters, digits, '.', '_' or '-'")
        if "\x00" in str(raw.get("file", "")):  # no file system takes it; Path.exists() raised ValueError
            raise RegkbError(f"{where} ({raw['id']}): file name {raw['file']!r} holds a NUL character")
        if raw["doc_type"] not in DOC_TYPES:
            raise RegkbError(f"{where} ({raw['id']}): doc_type must be one of {', '.join(DOC_TYPES)}")
        if raw["id"] in seen:
            raise RegkbError(f"{path}: duplicate document id {raw['id']!r}")
        seen.add(raw["id"])
        entries.append(ManifestEntry(**{k: str(v) for k, v in raw.items()}))
    return entries


def locate(entry: ManifestEntry, dirs: list[Path]) -> Path | None:
    """The document's file, or None when no corpus folder has it. The file is named relative to the
    corpus folders (`regkb add` copies a document into corpus/files/ and records its bare name): an
    absolute path, a `..` or a symbolic link that leads out of the folder is refused, so a manifest
    can never make the build read (and publish) a file from elsewhere on the machine."""
    given = Path(entry.file).expanduser()
    if given.is_absolute() or ".." in given.parts:
        raise RegkbError(f"manifest entry {entry.id}: file {entry.file!r} points outside the corpus folders")
    for folder in dirs:
        candidate = folder / given
        if candidate.exists():
            if not candidate.resolve().is_relative_to(folder.resolve()):
                raise RegkbError(f"manifest entry {entry.id}: file {entry.file!r} is a link that points outside "
                                 f"the corpus folders (to {candidate.resolve()})")
            return candidate
    return None


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def append_entry(entry: ManifestEntry, path: str | Path | None = None) -> Path:
    """Add one document to the manifest (appending keeps the hand-written comments intact)."""
    path = Path(path or os.environ.get("REGKB_MANIFEST") or DEFAULT_MANIFEST)
    existing = load_manifest(path) if path.exists() else []
    if any(e.id == entry.id for e in existing):
        raise RegkbError(f"{path}: a document with id {entry.id!r} is already listed")
    lines = ["", "[[document]]"]
    for item in fields(ManifestEntry):
        value = getattr(entry, item.name)
        if value or item.name in REQUIRED:
            lines.append(f"{item.name} = {_toml_string(value)}")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
