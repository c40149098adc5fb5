"""The shape of the code, kept: imports point one way, no package imports itself in a circle,
every module of evolve/ imports alone, and no module outgrows its concern.

Imports are read from the source (``ast``), lazy ones inside functions included, those under
``if TYPE_CHECKING:`` left out (they never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graphs", "genesis", "evolve", "visualize")

#: What each package may import of the others (graphs <- genesis <- evolve; visualize reads
#: graphs and run folders). The CLI (genesis.cli) is the one place that wires everything.
ALLOWED = {
    "graphs": set(),
    "genesis": {"graphs"},
    "evolve": {"graphs", "genesis"},
    "visualize": {"graphs", "genesis"},
}

#: Most lines of a module (tests, benchmarks and generated data aside).
MAX_LINES = 450

#: Modules still over MAX_LINES, each to be split along its concerns (issue 27); the list only
#: shrinks: a module that comes under the cap must leave it, and no other may join it.
OVER: set[str] = set()


def modules(package: str) -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports at run time (top level or inside functions)."""
    found: set[str] = set()

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.add(child.module)
                found.update(f"{child.module}.{a.name}" for a in child.names)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            walk(child)

    walk(ast.parse(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package):
    for name, path in modules(package).items():
        if name.startswith("genesis.cli"):
            continue
        others = {m.split(".")[0] for m in imports(path)} & set(PACKAGES)
        assert others - {package} <= ALLOWED[package], f"{name} imports {others}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    mods = modules(package)
    graph = nx.DiGraph()
    for name, path in mods.items():
        graph.add_node(name)
        for target in imports(path):
            if target in mods and target != name and not name.startswith(target + "."):
                graph.add_edge(name, target)
    assert list(nx.simple_cycles(graph)) == []


def test_every_evolve_module_imports_alone():
    """In a fresh interpreter each, so that no module works only once another was imported."""

    def alone(name: str) -> tuple[str, int, str]:
        proc = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=ROOT
        )
        return name, proc.returncode, proc.stderr[-500:]

    with ThreadPoolExecutor(4) as pool:
        failed = [r for r in pool.map(alone, modules("evolve")) if r[1] != 0]
    assert failed == []


def test_no_module_outgrows_its_concern():
    sizes = {
        str(path.relative_to(ROOT)): sum(1 for _ in path.open(encoding="utf-8"))
        for package in PACKAGES
        for path in modules(package).values()
    }
    over = {name for name, n in sizes.items() if n > MAX_LINES}
    assert over <= OVER, f"over {MAX_LINES} lines: {sorted(over - OVER)}"
    assert over >= OVER, f"now under the cap, take off OVER: {sorted(OVER - over)}"
    assert sizes["evolve/search.py"] <= MAX_LINES
