"""How reading and segmenting scale with input size (issue 16): each hostile-but-ordinary input of
tests/hostile.py at doubling sizes, read (ingest.read_document) and segmented (segment.segment) in a
child process with a time limit, side by side, with the ratio to the size before (2.0 is linear).

    .venv/bin/python bench/bench_scaling.py [--timeout S] [--cases NAME ...] [--json FILE]

PYTHONPATH=OTHER_CHECKOUT runs the same inputs against another version of the pipeline (how the
"before" figures of the issue were measured). Writes outputs/bench_scaling.json unless --json says
otherwise."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile  # noqa: E402  (the generators live beside the tests that use them)

# name: (generator, sizes, what the size counts)
CASES = {
    "text-wrapped-block": (hostile.wrapped_block, [375, 750, 1500, 3000], "lines"),
    "text-paragraphs": (hostile.wrapped_paragraphs, [12_500, 25_000, 50_000, 100_000], "lines"),
    "markdown-table": (hostile.markdown_table, [500, 1000, 2000, 10_000], "rows"),
    # a line of "**a " is 4 characters per marker: 25,000 is the 100,000-character limit of one line, 50,000
    # (the case) is refused at once
    "markdown-emphasis": (hostile.markdown_emphasis, [6_250, 12_500, 25_000, 50_000], "markers"),
    "markdown-brackets": (hostile.markdown_brackets, [4_000, 8_000, 16_000], "brackets"),
    "html-nested-tables": (hostile.html_nested_tables, [200, 400, 800, 1600], "levels"),
    "html-nested-sections": (hostile.html_nested_sections, [500, 1000, 2000], "levels"),
    "pdf-long-line": (hostile.pdf_long_line, [5000, 10_000, 20_000, 40_000], "characters"),
}

CHILD = """
import json, sys, time
from pathlib import Path
from pipeline.ingest import read_document
from pipeline.models import DocumentError, ManifestEntry
from pipeline.segment import segment
path = Path(sys.argv[1])
entry = ManifestEntry(id="bench", title="bench", doc_type="comment", author_org="Bench", date="2025-01-07",
                      language="en", file=path.name)
started = time.process_time()
try:
    raw = read_document(path)
except DocumentError as exc:
    print(json.dumps({"read": time.process_time() - started, "error": exc.problem}))
    raise SystemExit
read = time.process_time() - started
paragraphs = segment(raw, entry)
print(json.dumps({"read": read, "segment": time.process_time() - started - read, "paragraphs": len(paragraphs),
                  "longest": max((len(p.text) for p in paragraphs), default=0)}))
"""


def measure(path: Path, timeout: float) -> dict:
    try:
        # run from the file's folder: the installed pipeline (or PYTHONPATH's), never a checkout in the cwd
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=timeout, cwd=path.parent
        )
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if done.returncode:
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds of each measurement before giving up")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--json", default=str(ROOT / "outputs" / "bench_scaling.json"))
    args = parser.parse_args()
    results = []
    print(
        f"{'case':<22} {'size':>9} {'unit':<10} {'bytes':>9} {'read s':>8} {'segment s':>9} {'total s':>8} "
        f"{'× prev':>6}  paragraphs / note"
    )
    with tempfile.TemporaryDirectory() as work:
        for name in args.cases:
            make, sizes, unit = CASES[name]
            previous = None
            for size in sizes:
                file_name, data = make(size)
                path = Path(work) / file_name
                path.write_bytes(data)
                result = measure(path, args.timeout)
                path.unlink()
                total = result.get("read", 0) + result.get("segment", 0)
                if "timeout" in result:
                    cells, note = ("", "", f"> {args.timeout:.0f}"), "did not finish"
                elif "failed" in result:
                    cells, note = ("", "", ""), result["failed"]
                else:
                    cells = (
                        f"{result['read']:.3f}",
                        f"{result['segment']:.3f}" if "segment" in result else "",
                        f"{total:.3f}",
                    )
                    note = result.get("error") or f"{result['paragraphs']} (longest {result['longest']:,} chars)"
                ratio = f"{total / previous:.2f}" if previous and total and "timeout" not in result else ""
                print(
                    f"{name:<22} {size:>9,} {unit:<10} {len(data):>9,} {cells[0]:>8} {cells[1]:>9} {cells[2]:>8} "
                    f"{ratio:>6}  {note}",
                    flush=True,
                )
                results.append({"case": name, "size": size, "unit": unit, "bytes": len(data), **result})
                previous = total if "timeout" not in result and "failed" not in result else None
                if "timeout" in result:
                    break  # the next size would only time out too
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
