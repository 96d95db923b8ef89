"""The shape of the code (issue 15): the read side loads neither spaCy nor torch, and the pipeline's
modules import one another one way (no cycle, counting the imports inside functions too)."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT_ROOT / "pipeline"
PLUGIN = PROJECT_ROOT / "datasette" / "plugins" / "regkb_ui.py"
PLUGINS = [PLUGIN, PROJECT_ROOT / "datasette" / "plugins" / "regkb_views.py"]

READ_SIDE = ["pipeline.query", "pipeline.tables", "pipeline.report", "pipeline.cite", "pipeline.diff", "pipeline.dates",
             "pipeline.story", "pipeline.contradictions", "pipeline.xlsx"]
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
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [], \
        "importing the read side (query, tables, report, cite, the datasette plugin) loaded these"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The pipeline modules a source file imports, wherever the import statement stands (module
    level, inside a function, in a try), except under `if TYPE_CHECKING:`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = {id(node) for branch in ast.walk(tree) if isinstance(branch, ast.If)
               and "TYPE_CHECKING" in ast.unparse(branch.test) for node in ast.walk(branch)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from . import store` imports the module pipeline.store; `from .build import build` the module
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                       for alias in node.names]
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
                return stack[stack.index(successor):] + [successor]
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


def test_no_import_cycle_among_pipeline_modules():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " → ".join(cycle)
