"""The workspace: the one folder where regkb keeps what a user adds, fetches, imports and builds (the
workspace manifest, the documents `add` copies and `fetch` downloads, the parse cache, the knowledge
base and the tables and report written from it). Nothing is ever written into the package or the
source checkout, except in the checkout's own layout that `make run` uses (see `current`).

Which workspace, in order:
1. `regkb --workspace DIR …`, else `$REGKB_HOME`: that folder (created on first write);
2. `./regkb-workspace/` when it exists in the current directory;
3. the source checkout itself, when the current directory is the checkout (corpus/manifest.toml,
   corpus/files/, outputs/regkb.db, outputs/cache/: the layout `make run` and the README use);
4. otherwise `./regkb-workspace/` in the current directory (created on first write).

A workspace folder holds `manifest.toml` (what `add` and `import` write), `files/`, `cache/`,
`regkb.db` and `outputs/` (tables, report). Its build reads the package's own corpus manifest (the rule
and the reaction to it, files from ../shared/corpus) and the workspace manifest, unless `--manifest`
names others.

Plain paths only: no spaCy, no torch; the read side may import it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MANIFEST = PROJECT_ROOT / "corpus" / "manifest.toml"
ENV = "REGKB_HOME"
DEFAULT_NAME = "regkb-workspace"

_chosen: Path | None = None  # set by `regkb --workspace DIR`


@dataclass(frozen=True)
class Workspace:
    root: Path
    manifest: Path  # the manifest `add` and `import` write
    files: Path  # documents `add` copies in and `fetch` downloads
    cache: Path
    db: Path
    outputs: Path  # tables/ and report/
    checkout: bool = False  # the source checkout's own layout (`make run`)

    def manifests(self) -> list[Path]:
        """The manifests a build reads by default: the shipped corpus manifest, then the workspace's
        own when it exists (in the checkout they are the same file)."""
        listed = [SHIPPED_MANIFEST] if SHIPPED_MANIFEST.exists() else []
        if self.manifest not in listed and (self.manifest.exists() or not listed):
            listed.append(self.manifest)
        return listed

    def ensure(self) -> Workspace:
        """Create the folder (before a command writes into it)."""
        if not self.checkout:
            self.root.mkdir(parents=True, exist_ok=True)
        return self


def at(folder: str | Path) -> Workspace:
    root = Path(folder).expanduser().resolve()
    return Workspace(
        root=root,
        manifest=root / "manifest.toml",
        files=root / "files",
        cache=root / "cache",
        db=root / "regkb.db",
        outputs=root / "outputs",
    )


def checkout() -> Workspace:
    return Workspace(
        root=PROJECT_ROOT,
        manifest=SHIPPED_MANIFEST,
        files=PROJECT_ROOT / "corpus" / "files",
        cache=PROJECT_ROOT / "outputs" / "cache",
        db=PROJECT_ROOT / "outputs" / "regkb.db",
        outputs=PROJECT_ROOT / "outputs",
        checkout=True,
    )


def choose(folder: str | Path | None) -> None:
    """`regkb --workspace DIR`: the workspace for the rest of this process."""
    global _chosen
    _chosen = Path(folder) if folder else None


def current() -> Workspace:
    chosen = _chosen or os.environ.get(ENV)
    if chosen:
        return at(chosen)
    here = Path.cwd()
    if (here / DEFAULT_NAME).is_dir():
        return at(here / DEFAULT_NAME)
    if here.resolve() == PROJECT_ROOT and SHIPPED_MANIFEST.exists():
        return checkout()
    return at(here / DEFAULT_NAME)


def files_for(manifest: Path | None) -> Path:
    """Where `regkb add` copies a document: the workspace's files/ for the workspace manifest (or
    none given); beside the manifest for any other, where the build looks for that manifest's files."""
    ws = current()
    if manifest is None or Path(manifest).resolve() == ws.manifest.resolve():
        return ws.files
    return Path(manifest).resolve().parent


def declared_folders(manifest: Path) -> list[Path]:
    """The folders a manifest declares for its files, `folder = "DIR"` (or a list) before its first
    [[document]]; a relative folder is resolved from the manifest's own folder. `regkb import` writes
    it so that a folder of documents is listed where it lies, never copied. Files are still named
    relative to a folder (no absolute path, no `..`, no link out of it: manifest.locate)."""
    import tomllib

    from .models import RegkbError

    try:
        with open(manifest, "rb") as handle:
            head = []
            for raw in handle:
                if raw.lstrip().startswith(b"[["):
                    break
                head.append(raw)
    except OSError:
        return []  # said by load_manifest, in its words
    try:
        value = tomllib.loads(b"".join(head).decode("utf-8")).get("folder")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # said by load_manifest
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise RegkbError(f"{manifest}: folder must be a folder name in quotes, or a list of them")
    base = Path(manifest).resolve().parent
    return [(base / Path(v).expanduser()).resolve() for v in values]
