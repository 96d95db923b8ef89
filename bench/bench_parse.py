"""The PDF's parse stage against bare text extraction, in one run (issue 15): on the rule's public-
inspection PDF (corpus/manifest.toml), CPU seconds of

  pdfplumber   page.extract_text() over every page (pdfminer's layout analysis, what pdfplumber gives bare)
  pypdfium2    every page's text layer (PDFium, C++)
  read         regkb's read_document (pdfplumber characters → lines, superscripts, columns, furniture)
  segment      segment() over what read gave
  extract      extract() over the paragraphs (spaCy pipelines built beforehand)

each on one core (read_document reads page by page: no process pool), best of --runs, the sides
interleaved so that a busy machine slows all of them alike; then the ratios to bare pdfplumber.
Issue 15's acceptance: the parse stage (read + segment; extraction is spaCy's, not the PDF's) at
most 1.3 × pdfplumber.

    .venv/bin/python bench/bench_parse.py [--runs 3] [--profile N] [--json outputs/bench_parse.json]

--profile N prints the N functions of read_document with the most cumulative time (cProfile).
PYTHONPATH=OTHER_CHECKOUT measures another version of regkb over the same file."""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = "bis-2025-00636-pi"


def rule_pdf():
    from pipeline.manifest import DEFAULT_MANIFEST, corpus_dirs, load_manifest, locate

    entry = next(e for e in load_manifest(DEFAULT_MANIFEST) if e.id == RULE_ID)
    # this checkout's ../shared/corpus, also when PYTHONPATH points at another checkout
    path = locate(entry, corpus_dirs(os.environ.get("REGKB_CORPUS") or ROOT.parent / "shared" / "corpus"))
    if path is None:
        sys.exit(f"{entry.file} not found (the real corpus is expected at ../shared/corpus)")
    return entry, path


def cpu(work) -> tuple[float, object]:
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def pdfplumber_text(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return sum(len(page.extract_text() or "") for page in pdf.pages)


def pdfium_text(path: Path) -> int:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    try:
        total = 0
        for index in range(len(pdf)):
            page = pdf[index]
            text = page.get_textpage()
            total += len(text.get_text_range())
            text.close()
            page.close()
        return total
    finally:
        pdf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import pipeline
    from pipeline.extract import extract
    from pipeline.ingest import read_document
    from pipeline.segment import segment

    entry, path = rule_pdf()
    print(f"{path.name} ({path.stat().st_size:,} bytes), regkb from {Path(pipeline.__file__).parent}")
    # first uses out of the measurement: imports, pdfminer's font tables, spaCy's pipelines
    raw = read_document(path)
    paragraphs = segment(raw, entry)
    extract(paragraphs[:20], entry.language, entry)

    sides = {
        "pdfplumber": lambda: pdfplumber_text(path),
        "pypdfium2": lambda: pdfium_text(path),
        "read": lambda: read_document(path),
        "segment": lambda: segment(raw, entry),
        "extract": lambda: extract(paragraphs, entry.language, entry),
    }
    best = dict.fromkeys(sides, float("inf"))
    for run in range(args.runs):
        for name, work in sides.items():
            seconds, _ = cpu(work)
            best[name] = min(best[name], seconds)
        print(f"run {run + 1}: " + ", ".join(f"{name} {best[name]:.2f} s" for name in sides), flush=True)

    base = best["pdfplumber"]
    parse = best["read"] + best["segment"]
    print(f"\n{len(raw.pages)} pages, {len(paragraphs)} paragraphs; CPU seconds, best of {args.runs}, one core")
    for name in sides:
        print(f"  {name:<11} {best[name]:7.2f} s   {best[name] / base:5.2f} × pdfplumber")
    print(f"  {'parse':<11} {parse:7.2f} s   {parse / base:5.2f} × pdfplumber (read + segment; target ≤ 1.30)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "file": str(path),
                    "pages": len(raw.pages),
                    "runs": args.runs,
                    "seconds": best,
                    "parse_seconds": parse,
                    "parse_vs_pdfplumber": parse / base,
                },
                indent=2,
            )
        )

    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(read_document, path)
        print()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
