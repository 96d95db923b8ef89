"""The shape of the code (issue 15): the read side loads neither spaCy nor torch, the pipeline's modules
import one another one way (no cycle, counting the imports inside functions too), the rooms of ingest and
segment keep to their jobs, their packages still offer every name the rest of regkb imports from them, and
a CJK character is defined once."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT_ROOT / "pipeline"
PLUGIN = PROJECT_ROOT / "datasette" / "plugins" / "regkb_ui.py"
PLUGINS = [PLUGIN, PROJECT_ROOT / "datasette" / "plugins" / "regkb_views.py"]

READ_SIDE = [
    "pipeline.query",
    "pipeline.tables",
    "pipeline.report",
    "pipeline.cite",
    "pipeline.diff",
    "pipeline.dates",
    "pipeline.story",
    "pipeline.contradictions",
    "pipeline.xlsx",
]
HEAVY = ["spacy", "torch", "sentence_transformers"]


def test_the_read_side_imports_neither_spacy_nor_torch():
    # a fresh interpreter: this one has long since imported everything
    probe = f"""
import importlib, importlib.util, json, sys
for name in {READ_SIDE!r}:
    importlib.import_module(name)
for path in {[str(p) for p in PLUGINS]!r}:
    spec = importlib.util.spec_from_file_location(path.rsplit("/", 1)[-1][:-3], path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [], (
        "importing the read side (query, tables, report, cite, the datasette plugin) loaded these"
    )


def test_parsing_does_not_import_torch_and_torch_still_imports_after():
    """The parse side builds blank spaCy pipelines; thinc would import torch for them (2-5 s and some
    300 MB in every worker). A real letter parsed in a fresh interpreter leaves torch unloaded, and
    torch imports normally afterwards (the reference embedder needs it)."""
    docket = PROJECT_ROOT.parent / "shared" / "dockets" / "ostp-ai-action-plan-rfi-2025" / "text"
    letter = docket / "Intel-AI-RFI-2025.txt"
    probe = f"""
import json, sys
from pathlib import Path
from pipeline.document import parse_document
from pipeline.models import ManifestEntry
from pipeline.link.relevance import content_words
entry = ManifestEntry(id="intel", title="Intel", doc_type="comment", author_org="Intel", date="2025-03-15",
                      language="en", file="{letter.name}")
document, paragraphs, extracted = parse_document(Path({str(letter)!r}), entry)
content_words("export controls")  # spaCy's stop words, in the link stage
loaded = "torch" in sys.modules
import torch
print(json.dumps([len(paragraphs), len(extracted.get("positions", [])), loaded, torch.tensor([1]).item()]))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    paragraphs, positions, loaded, one = json.loads(result.stdout.splitlines()[-1])
    assert paragraphs > 20 and positions > 0 and one == 1
    assert not loaded, "parsing a letter imported torch"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The pipeline modules a source file imports, wherever the import statement stands (module
    level, inside a function, in a try), except under `if TYPE_CHECKING:`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from . import store` imports the module pipeline.store; `from .build import build` the module
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import pipeline.extract.common as c` → that module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in files}
    return {module_name(path): imports_of(path, modules) for path in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a list of modules (first = last), or [] when it has none."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = GREY
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if colour.get(successor) == GREY:
                return stack[stack.index(successor) :] + [successor]
            if colour.get(successor) == WHITE:
                cycle = visit(successor)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return []

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_the_import_graph_reads_what_it_should():
    graph = import_graph()
    # a module-level import, a function-level one and a `from . import module`
    assert "pipeline.engine" in graph["pipeline.build"]
    assert "pipeline.extract" in graph["pipeline.document"]  # inside parse_document
    assert "pipeline.store" in graph["pipeline.build"]  # from . import dedupe, embed, store
    assert "pipeline.paths" in graph["pipeline.extract.common"]  # from ..paths import root_of
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every set of modules that import one another in a circle (the strongly connected components of
    more than one module, Tarjan's algorithm), each sorted, so a failure names all the modules involved."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found)


def test_cycles_finds_every_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_pipeline_modules():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "modules importing one another in a circle: " + "; ".join(
        " ↔ ".join(component)
        + " (e.g. "
        + " → ".join(find_cycle({m: graph[m] & set(component) for m in component}))
        + ")"
        for component in found
    )


def test_the_packages_rooms_are_in_the_graph():
    graph = import_graph()
    assert {"pipeline.ingest.pdf", "pipeline.ingest.text", "pipeline.ingest.html"} <= graph["pipeline.ingest.reader"]
    assert "pipeline.ingest.limits" in graph["pipeline.ingest.text"]  # from . import limits
    assert "pipeline.ingest.layout" in graph["pipeline.ingest.pdf"]
    assert {"pipeline.segment.blocks", "pipeline.segment.markers"} <= graph["pipeline.segment.structure"]
    assert "pipeline.paths" in graph["pipeline.segment.blocks"]


# ----------------------------------------------------------------------------- rooms

PURE = {"__future__", "re", "math", "statistics", "bisect", "collections", "dataclasses", "hashlib", "typing"}


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it: stdlib and third-party names as written, pipeline
    modules resolved."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    outside = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    outside |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
    return {name for name in outside if not name.startswith("pipeline")} | imports_of(path, modules)


def test_layout_furniture_and_segment_are_pure():
    """The geometry of a page and its furniture are functions of characters and lines, and segmentation of
    lines: none of them opens a file, a PDF or a process (imports inside functions counted)."""
    rooms = [
        PACKAGE / "ingest" / "layout.py",
        PACKAGE / "ingest" / "furniture.py",
        PACKAGE / "ingest" / "markdown.py",
        *sorted((PACKAGE / "segment").glob("*.py")),
    ]
    for path in rooms:
        allowed = PURE | {"pipeline.models", "pipeline.paths"}
        impure = {
            name
            for name in imported_names(path)
            if name not in allowed and not name.startswith(module_name(path).rpartition(".")[0] + ".")
        }
        assert not impure, f"{path.relative_to(PROJECT_ROOT)} imports {sorted(impure)}"


def test_ingest_and_segment_load_no_model():
    """Reading and segmenting a document need neither spaCy nor torch (extraction loads spaCy itself)."""
    probe = f"""
import json, sys
import pipeline.ingest, pipeline.segment
print(json.dumps(sorted(m for m in {HEAVY!r} + ["pdfplumber", "bs4"] if m in sys.modules)))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


FACADES = ("pipeline.ingest", "pipeline.segment")


def facade_uses(path: Path) -> set[tuple[str, str]]:
    """(package, name) for each name a file takes from pipeline.ingest or pipeline.segment: `from
    pipeline.ingest import X` (or `from .ingest`, `from ..ingest`), and `ingest.X` where the package is
    bound to a name (`import pipeline.ingest as ingest`, `from pipeline import ingest`)."""
    name = module_name(path) if path.is_relative_to(PACKAGE) else ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    uses: set[tuple[str, str]] = set()
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                if origin in FACADES:
                    uses.add((origin, alias.name))
                elif f"{origin}.{alias.name}" in FACADES:
                    bound[alias.asname or alias.name] = f"{origin}.{alias.name}"
        elif isinstance(node, ast.Import):
            bound.update({alias.asname: alias.name for alias in node.names if alias.name in FACADES and alias.asname})
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            uses.add((bound[node.value.id], node.attr))
    return uses


def test_ingest_and_segment_offer_every_name_taken_from_them():
    """The packages re-export what pipeline/, tests/ and bench/ import from them (bench is not run by the
    tests, so only this notices a name it lost)."""
    import importlib

    files = [p for folder in ("pipeline", "tests", "bench") for p in sorted((PROJECT_ROOT / folder).rglob("*.py"))]
    uses = {
        use
        for path in files
        if not path.is_relative_to(PACKAGE / "ingest") and not path.is_relative_to(PACKAGE / "segment")
        for use in facade_uses(path)
    }
    assert ("pipeline.ingest", "read_document") in uses and ("pipeline.segment", "segment") in uses
    assert ("pipeline.ingest", "_chars_to_lines") in uses  # tests/test_scaling.py: ingest._chars_to_lines
    missing = sorted(
        f"{package}.{name}" for package, name in uses if not hasattr(importlib.import_module(package), name)
    )
    assert not missing, f"imported but no longer there: {missing}"


CJK_RANGE = re.compile(r"\\u3400|\\u4e00|\\u9fff|\\uf900", re.I)
# owned by another writer when paths.CJK became the one definition; to use paths.CJK_CLASS too
CJK_ELSEWHERE_KNOWN = {"pipeline/extract/positions.py"}


def test_a_cjk_character_is_defined_once():
    """paths.CJK and paths.CJK_CLASS say what a CJK character is; other modules use them instead of
    spelling a range of their own (which drifted: U+3400–U+9FFF here, with the compatibility ideographs there)."""
    spelled = {
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted(PACKAGE.rglob("*.py"))
        if CJK_RANGE.search(path.read_text(encoding="utf-8"))
    }
    assert "pipeline/paths.py" in spelled  # the pattern finds the one definition
    assert spelled - {"pipeline/paths.py"} <= CJK_ELSEWHERE_KNOWN, sorted(spelled - {"pipeline/paths.py"})
