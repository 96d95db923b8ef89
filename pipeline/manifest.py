"""The corpus manifest (corpus/manifest.toml): which documents make up the corpus, where they come
from, and where their files are found."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tomllib
import urllib.parse
from dataclasses import fields
from pathlib import Path

from . import workspace
from .models import ManifestEntry, RegkbError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = PROJECT_ROOT / "corpus" / "manifest.toml"
USER_FILES = PROJECT_ROOT / "corpus" / "files"
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
# the other real material beside the corpus: other rules and a whole docket, referenced where they lie
SHARED_EXTRA = (
    PROJECT_ROOT.parent / "shared" / "other-rules",
    PROJECT_ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text",
)
DOC_TYPES = ("rule", "comment", "statement", "news", "analysis")
REQUIRED = ("id", "title", "doc_type", "author_org", "date", "language", "file")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,80}")  # fullmatch: "$" let "id\n" through


ManifestPaths = str | Path | list | tuple | None


def manifest_paths(paths: ManifestPaths = None) -> list[Path]:
    """One manifest or several (--manifest given more than once); default corpus/manifest.toml."""
    if isinstance(paths, (list, tuple)) and paths:
        return [Path(p) for p in paths]
    if paths and not isinstance(paths, (list, tuple)):
        return [Path(paths)]
    if os.environ.get("REGKB_MANIFEST"):
        return [Path(os.environ["REGKB_MANIFEST"])]
    return workspace.current().manifests()  # the checkout: corpus/manifest.toml


def corpus_dirs(corpus: str | Path | None = None, manifests: ManifestPaths = None) -> list[Path]:
    """Where document files are looked for: --corpus, else $REGKB_CORPUS, else ../shared/corpus and
    the real material beside it (../shared/other-rules, the docket's text/); then corpus/files/
    (documents fetched or added by the user); then each manifest's own folder (a set of letters can
    travel with its manifest)."""
    chosen = corpus or os.environ.get("REGKB_CORPUS") or SHARED_CORPUS
    dirs = [Path(chosen).expanduser().resolve()]
    if not corpus and not os.environ.get("REGKB_CORPUS"):
        dirs += [folder.resolve() for folder in SHARED_EXTRA if folder.is_dir()]
    declared = [folder for path in manifest_paths(manifests) for folder in workspace.declared_folders(path)]
    ws = workspace.current()
    for folder in (
        [USER_FILES if ws.checkout else ws.files]
        + ([p.parent for p in manifest_paths(manifests)] if manifests else [])
        + declared
    ):
        if folder.resolve() not in dirs:
            dirs.append(folder.resolve())
    return dirs


def load_manifest(paths: ManifestPaths = None, own_folders: dict[str, list[Path]] | None = None) -> list[ManifestEntry]:
    """The entries of one or more manifests; an id may appear only once across them. own_folders, when
    given, is filled with each entry's id → the folders its own manifest declares (`folder = …`, what
    `regkb import` writes), which Locator searches first for it."""
    entries: list[ManifestEntry] = []
    seen: set[str] = set()  # a set: comparing each id with every one before took 7 s for the whole docket
    for path in manifest_paths(paths):
        declared = workspace.declared_folders(path) if own_folders is not None else []
        for entry in _load_one(path):
            if entry.id in seen:
                raise RegkbError(f"{path}: duplicate document id {entry.id!r} (already listed in another manifest)")
            seen.add(entry.id)
            entries.append(entry)
            if declared:
                own_folders[entry.id] = declared
    return entries


def _load_one(path: Path) -> list[ManifestEntry]:
    if not path.exists():
        raise RegkbError(f"{path}: manifest not found")
    text = _read_manifest(path)
    digest = _text_digest(text)
    memo = _memo_path(path)
    data = _memo_data(memo)
    if data.get("digest") == digest:
        remembered = _entries_of(data)
        if remembered is not None:
            return remembered
    entries = _appended(text, data, path)
    if entries is None:
        entries = entries_from_text(text, path)
    _remember(memo, digest, len(text), entries)
    return entries


def _text_digest(text: str) -> str:
    return hashlib.sha256(_checker_version().encode() + text.encode("utf-8", "surrogatepass")).hexdigest()


def _appended(text: str, data: dict, path: Path) -> list[ManifestEntry] | None:
    """The entries of a manifest that is the remembered one with documents appended (what `regkb
    import` and `regkb add` do): the remembered entries and those of the new tail, checked as a
    manifest of its own, their ids new. None when the text is not such a continuation, or the tail
    has any problem or holds anything but [[document]] tables (the whole text is then parsed, and
    its problems said as for any manifest)."""
    length = data.get("length")
    if not isinstance(length, int) or not 0 < length < len(text) or _text_digest(text[:length]) != data.get("digest"):
        return None
    before = _entries_of(data)
    if before is None:
        return None
    tail = text[length:]
    try:
        if set(tomllib.loads(tail)) - {"document"}:
            return None
        added = entries_from_text(tail, path)
    except (RegkbError, tomllib.TOMLDecodeError):
        return None
    ids = {entry.id for entry in before}
    if any(entry.id in ids for entry in added):
        return None
    return before + added


# Parsing and checking the whole docket's manifest (10,000 entries, 3.6 MB of TOML) took 1-2 s of a
# no-change rebuild; the checked entries are kept in the workspace cache under the digest of the
# manifest's text and of the code that checks it, and read back while both are the same.
_CHECKER_FILES = (Path(__file__), Path(__file__).with_name("models.py"))
_checker: list[str] = []


def _checker_version() -> str:
    if not _checker:
        digest = hashlib.sha256()
        for source in _CHECKER_FILES:
            digest.update(source.read_bytes())
        _checker.append(digest.hexdigest())
    return _checker[0]


def _memo_path(path: Path) -> Path | None:
    """Where a manifest's checked entries are kept: the current workspace's cache, when the workspace
    exists (reading a manifest never creates one)."""
    ws = workspace.current()
    if not ws.root.is_dir():
        return None
    name = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return ws.cache / "manifests" / f"{name}.json"


def _memo_data(memo: Path | None) -> dict:
    if memo is None:
        return {}
    try:
        data = json.loads(memo.read_bytes())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # no memo, or a damaged one: the manifest is parsed


def _entries_of(data: dict) -> list[ManifestEntry] | None:
    try:
        return [ManifestEntry(**fields_) for fields_ in data["entries"]]
    except (TypeError, KeyError, AttributeError):
        return None


def _remember(memo: Path | None, digest: str, length: int, entries: list[ManifestEntry]) -> None:
    if memo is None:
        return
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(
            json.dumps(
                {"digest": digest, "length": length, "entries": [vars(entry) for entry in entries]},
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        os.replace(partial, memo)
    except OSError:
        pass  # the memo is an optimisation


def _read_manifest(path: Path) -> str:
    """The manifest's text; a named pipe or a device given as a manifest is refused, never opened."""
    from .ingest import open_regular
    from .models import DocumentError

    try:
        with open_regular(path) as handle:
            data = handle.read()
    except DocumentError as exc:
        raise RegkbError(f"{path}: manifest {exc.problem}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegkbError(f"{path}: manifest is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def entries_from_text(text: str, path: Path) -> list[ManifestEntry]:
    """The entries of a manifest's text, every field checked (see validate_fields); any problem is a
    RegkbError naming the manifest, the document and the field, never a traceback."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegkbError(f"{path}: manifest is not valid TOML ({exc})") from exc
    documents = data.get("document", [])
    if not isinstance(documents, list):
        raise RegkbError(
            f"{path}: 'document' is {_kind(documents)}; each document is a [[document]] table (two brackets)"
        )
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(documents, start=1):
        where = f"{path}: document #{index}"
        entry = ManifestEntry(**validate_fields(raw, where))
        if entry.id in seen:
            raise RegkbError(f"{path}: duplicate document id {entry.id!r}")
        seen.add(entry.id)
        entries.append(entry)
    return entries


# C0 and C1 control characters and DEL: none belongs in a manifest field (a note may have line breaks and tabs)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NOTE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# what click makes of bytes that are not UTF-8 in an argument (surrogateescape)
UNDECODABLE = re.compile("[\udc80-\udcff]")
SURROGATES = re.compile("[\ud800-\udfff]")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
DATE_FIELDS = ("date", "published")
MAX_FIELD_CHARS = {"note": 20_000}
DEFAULT_MAX_FIELD_CHARS = 2_000


def _kind(value) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, datetime.time):
        return "a time"
    return type(value).__name__


def validate_fields(raw, where: str, labels: dict[str, str] | None = None) -> dict[str, str]:
    """One document's fields, checked and normalised, from a manifest or from `regkb add`: every field a
    string (a TOML date is taken for date and published), the required ones present, no unknown ones,
    no control characters or undecodable bytes, an id of lower-case letters, digits, '.', '_', '-', dates
    that exist as YYYY-MM-DD, an http(s) URL, a sha256 of 64 hex digits (stored lower-case). Raises
    RegkbError naming `where`, the field (as `labels` calls it: `regkb add` says --org for author_org)
    and the problem."""

    def label(name: str) -> str:
        return (labels or {}).get(name, name)

    if not isinstance(raw, dict):
        raise RegkbError(f"{where} is {_kind(raw)}, not a table of fields")
    known = {f.name for f in fields(ManifestEntry)}
    named = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else ""
    at = (
        f"{where} ({named})"
        if named and not CONTROL_CHARACTERS.search(named) and not SURROGATES.search(named)
        else where
    )
    unknown = sorted(str(name) for name in set(raw) - known)
    if unknown:
        raise RegkbError(f"{at} has unknown fields: {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name, value in raw.items():
        if name in DATE_FIELDS and isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            value = value.isoformat()
        if not isinstance(value, str):
            raise RegkbError(f"{at}: {label(name)} must be a string in quotes, not {_kind(value)}")
        if UNDECODABLE.search(value) or SURROGATES.search(value):
            raise RegkbError(f"{at}: {label(name)} holds bytes that are not valid UTF-8 text ({_shown(value)})")
        control = (NOTE_CONTROL_CHARACTERS if name == "note" else CONTROL_CHARACTERS).search(value)
        if control:
            what = "a NUL character" if control.group(0) == "\x00" else f"the control character {control.group(0)!r}"
            raise RegkbError(f"{at}: {label(name)} holds {what} ({_shown(value)})")
        limit = MAX_FIELD_CHARS.get(name, DEFAULT_MAX_FIELD_CHARS)
        if len(value) > limit:
            raise RegkbError(f"{at}: {label(name)} is {len(value):,} characters long; the limit is {limit:,}")
        values[name] = value
    missing = [name for name in REQUIRED if not values.get(name, "").strip()]
    if missing:
        raise RegkbError(f"{at} lacks {', '.join(label(name) for name in missing)}")
    if not ID_PATTERN.fullmatch(values["id"]):
        raise RegkbError(
            f"{at}: {label('id')} {values['id']!r} must be 2 to 81 lower-case letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (no spaces, no '/')"
        )
    if values["doc_type"] not in DOC_TYPES:
        raise RegkbError(f"{at}: {label('doc_type')} must be one of {', '.join(DOC_TYPES)}, not {values['doc_type']!r}")
    for name in DATE_FIELDS:
        if values.get(name):
            _check_date(values[name], f"{at}: {label(name)}")
    if not LANGUAGE_TAG.fullmatch(values["language"]):
        raise RegkbError(
            f"{at}: {label('language')} {values['language']!r} must be a language code such as 'en' or 'zh'"
        )
    if values.get("url"):
        parts = urllib.parse.urlsplit(values["url"])
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in values["url"]):
            raise RegkbError(f"{at}: {label('url')} {values['url']!r} must be an http:// or https:// address")
    if values.get("sha256"):
        if not SHA256_HEX.fullmatch(values["sha256"]):
            raise RegkbError(f"{at}: {label('sha256')} {values['sha256']!r} must be 64 hexadecimal digits")
        values["sha256"] = values["sha256"].lower()  # hashes are compared as regkb writes them
    return values


def _check_date(value: str, what: str) -> None:
    try:
        if not ISO_DATE.fullmatch(value):
            raise ValueError
        datetime.date.fromisoformat(value)
    except ValueError:
        raise RegkbError(f"{what} {value!r} is not a date that exists, as YYYY-MM-DD") from None


def _shown(value: str) -> str:
    return ascii(value if len(value) <= 60 else value[:60] + "…")


def locate(entry: ManifestEntry, dirs: list[Path]) -> Path | None:
    """The document's file, or None when no corpus folder has it. The file is named relative to the
    corpus folders (`regkb add` copies a document into corpus/files/ and records its bare name): an
    absolute path, a `..` or a symbolic link that leads out of the folder is refused, so a manifest
    can never make the build read (and publish) a file from elsewhere on the machine. To locate many
    entries, use one Locator."""
    return Locator(dirs, listed=False).locate(entry)


class Locator:
    """`locate` for many entries over the same corpus folders: each folder is resolved once and, with
    `listed`, read once, so that a plain file name that is no symbolic link is found without a system
    call of its own (the whole docket's 10,000 entries cost about 110,000 of them, 1-2 s, before)."""

    def __init__(self, dirs: list[Path], listed: bool = True, own_folders: dict[str, list[Path]] | None = None):
        self.dirs = [(folder, folder.resolve()) for folder in dirs]
        self.listed = listed
        self._names: dict[Path, dict[str, bool] | None] = {}
        # an entry's own manifest's folders come first: a folder a user imported may hold a file named
        # like one of the shared docket's, and the entry means the user's (its sha256 says so)
        self.own = own_folders or {}
        self._orders: dict[tuple[Path, ...], list[tuple[Path, Path]]] = {}

    def _order(self, entry: ManifestEntry) -> list[tuple[Path, Path]]:
        first = tuple(self.own.get(entry.id, ()))
        if not first:
            return self.dirs
        if first not in self._orders:
            resolved = {folder.resolve(): folder for folder in first}
            self._orders[first] = [(folder, target) for target, folder in resolved.items()] + [
                (folder, target) for folder, target in self.dirs if target not in resolved
            ]
        return self._orders[first]

    def _listing(self, folder: Path) -> dict[str, bool] | None:
        """name → whether it is a symbolic link, for what the folder holds; None when it cannot be read
        (each candidate is then looked at on its own)."""
        if folder not in self._names:
            try:
                with os.scandir(folder) as listing:
                    self._names[folder] = {item.name: item.is_symlink() for item in listing}
            except OSError:
                self._names[folder] = None
        return self._names[folder]

    def locate(self, entry: ManifestEntry) -> Path | None:
        given = Path(entry.file).expanduser()
        if given.is_absolute() or ".." in given.parts:
            raise RegkbError(f"manifest entry {entry.id}: file {entry.file!r} points outside the corpus folders")
        plain = self.listed and len(given.parts) == 1
        for folder, resolved in self._order(entry):
            candidate = folder / given
            names = self._listing(folder) if plain else None
            if names is not None:
                link = names.get(given.name)
                if link is None:
                    continue  # not in this folder
                if not link:
                    return candidate  # a name in the folder itself, not a link: it cannot lead out
            if candidate.exists():
                target = candidate.resolve()
                if not target.is_relative_to(resolved):
                    raise RegkbError(
                        f"manifest entry {entry.id}: file {entry.file!r} is a link that points outside "
                        f"the corpus folders (to {target})"
                    )
                return candidate
        return None


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def manifest_with(
    entry: ManifestEntry, path: str | Path | None = None, labels: dict[str, str] | None = None
) -> tuple[Path, str]:
    """The manifest and the text it will have with `entry` appended (the hand-written comments
    intact), checked: the entry's fields valid, its id new, the existing manifest readable, and the new
    text reading back with the entry in it. Nothing is written; RegkbError says what is wrong."""
    path = Path(path or os.environ.get("REGKB_MANIFEST") or workspace.current().manifest)
    values = {
        item.name: getattr(entry, item.name)
        for item in fields(ManifestEntry)
        if getattr(entry, item.name) or item.name in REQUIRED
    }
    values = validate_fields(values, "the new document", labels)
    text = _read_manifest(path) if path.exists() else ""
    existing = entries_from_text(text, path) if text.strip() else []
    if any(e.id == values["id"] for e in existing):
        raise RegkbError(f"{path}: a document with id {values['id']!r} is already listed")
    lines = ["", "[[document]]"] + [f"{name} = {_toml_string(value)}" for name, value in values.items()]
    new_text = text + ("" if not text or text.endswith("\n") else "\n") + "\n".join(lines) + "\n"
    if len(entries_from_text(new_text, path)) != len(existing) + 1:
        raise RegkbError(f"{path}: internal error: the new entry would not read back")
    return path, new_text


def append_entry(entry: ManifestEntry, path: str | Path | None = None, labels: dict[str, str] | None = None) -> Path:
    """Add one document to the manifest, all or nothing: the new manifest is written beside the old
    one and swapped in, so a failure (a full disk, an interruption) leaves the manifest as it was."""
    path, text = manifest_with(entry, path, labels)
    replace_manifest(path, text, "adding")
    return path


def replace_manifest(path: Path, text: str, doing: str) -> None:
    """Write a manifest whole (store.files.replace_file): a failure (a full disk, an interruption) leaves
    the manifest as it was; through a symbolic link, the file it leads to is replaced."""
    from .store.files import replace_file

    try:
        replace_file(path, text, doing)
    except OSError as exc:
        raise RegkbError(f"{path}: could not write the manifest ({exc.strerror or exc}); it is unchanged") from exc
