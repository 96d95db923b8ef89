"""Fetch documents listed in the manifest that are not on this machine, from their public URLs."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import manifest as manifest_mod
from . import workspace
from .models import ManifestEntry

USER_AGENT = "regkb/0.1 (regulatory research tool; +https://github.com/)"


@dataclass
class FetchResult:
    id: str
    status: str  # present | fetched | failed | no-url
    detail: str = ""


def fetch_missing(
    manifest_path: str | Path | None = None,
    corpus: str | Path | None = None,
    timeout: float = 15.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[FetchResult]:
    entries = manifest_mod.load_manifest(manifest_path)
    dirs = manifest_mod.corpus_dirs(corpus, manifest_path)
    results: list[FetchResult] = []
    for entry in entries:
        found = manifest_mod.locate(entry, dirs)  # one at a time: a fetch adds files to these folders
        if found:
            results.append(FetchResult(entry.id, "present", str(found)))
        elif not entry.url:
            results.append(FetchResult(entry.id, "no-url", "no public URL in the manifest"))
        else:
            results.append(
                _download(
                    entry,
                    manifest_mod.USER_FILES if workspace.current().checkout else workspace.current().files,
                    timeout,
                )
            )
        if progress:
            progress(entry.id, len(results), len(entries))
    return results


def _download(entry: ManifestEntry, target_dir: Path, timeout: float) -> FetchResult:
    target = target_dir / Path(entry.file).name
    request = urllib.request.Request(entry.url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return FetchResult(entry.id, "failed", f"cannot download {entry.url}: {reason} (offline?)")
    if not data:
        return FetchResult(entry.id, "failed", f"{entry.url} returned an empty response")
    from .store.files import replace_file

    try:
        replace_file(target, data, "fetching")
    except OSError as exc:
        return FetchResult(entry.id, "failed", f"{target}: cannot write the download ({exc.strerror or exc})")
    return FetchResult(entry.id, "fetched", str(target))
