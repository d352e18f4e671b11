"""The one statement of the layer rule: imports run one way, spec <- schemas <- registry <- {batch, api}
<- cli. ``batch`` (file scoring) and ``api`` (HTTP) sit side by side and never import each other;
``cli`` (the command line) is the only one that may import both. Also: no cycle of modules, no module
over 300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAYERS = {"spec": 0, "schemas": 1, "registry": 2, "batch": 3, "api": 3, "cli": 4}
MAX_LINES = 300
MODULES = sorted(p for package in LAYERS for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every product module ``path`` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    known = {module_name(p) for p in MODULES}
    return {name for name in names if name in known and name.split(".")[0] in LAYERS}


GRAPH = {module_name(p): imported(p) - {module_name(p)} for p in MODULES}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_runs_up_a_layer(module: str) -> None:
    rank = LAYERS[module.split(".")[0]]
    package = module.split(".")[0]
    upward = sorted(name for name in GRAPH[module] if LAYERS[name.split(".")[0]] > rank)
    assert not upward, f"{module} imports {upward} from a layer above it"
    sideways = sorted(
        name for name in GRAPH[module] if LAYERS[name.split(".")[0]] == rank and name.split(".")[0] != package
    )
    assert not sideways, f"{module} imports {sideways} from a layer beside it"


def test_no_cycle_of_modules() -> None:
    # package __init__ files re-export their package; an edge into one is not a cycle through it
    graph = {m: {n for n in targets if "." in n} for m, targets in GRAPH.items()}
    visiting, done, path = set(), set(), []

    def visit(node: str) -> None:
        visiting.add(node)
        path.append(node)
        for target in graph.get(node, ()):
            assert target not in visiting, (
                f"import cycle: {' -> '.join(path[path.index(target) :] + [target])}"
            )
            if target not in done:
                visit(target)
        visiting.discard(node)
        done.add(node)
        path.pop()

    for module in graph:
        if module not in done:
            visit(module)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LINES
