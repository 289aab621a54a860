"""The package layout is the architecture: layers, no import cycles, a facade that only re-exports.

``make lint`` runs import-linter with the contracts in pyproject.toml; these tests run
the same contracts under pytest and add what import-linter does not check: that no two
modules import each other, directly or through others, type-only imports included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

import jupyter_constructs

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("core", "crds", "hub", "addons", "delivery")


def _graph() -> grimp.ImportGraph:
    # exclude_type_checking_imports=False: an import under TYPE_CHECKING is a dependency too.
    return grimp.build_graph("jupyter_constructs", exclude_type_checking_imports=False)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every import cycle between modules (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_takes_part_in_an_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_every_module_lives_in_a_layer() -> None:
    # __main__ is the command line (`python -m jupyter_constructs plan`), not a layer.
    modules = _graph().modules - {"jupyter_constructs", "jupyter_constructs.__main__"}
    outside = sorted(m for m in modules if m.split(".")[1] not in LAYERS)
    assert outside == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """Guards the check itself: a graph with a cycle must not pass."""
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    assert _cycles(graph) == [["a", "b", "c"]]


def test_import_linter_contracts_are_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


def test_the_hub_layer_knows_no_add_on() -> None:
    """JupyterHub(auth=...) takes the HubAuth base class; implementations are add-ons."""
    graph = _graph()
    for module in graph.find_children("jupyter_constructs.hub"):
        for imported in graph.find_modules_directly_imported_by(module):
            assert not imported.startswith("jupyter_constructs.addons"), (module, imported)


def test_importing_the_package_loads_no_layer() -> None:
    """The facade resolves names on first use, so pure-Python modules stay cheap.

    Only the pure-Python ``core.toolchain`` runs on import: jsii's package cache must be
    settled before anything starts cdk8s's Node.js process (issue 17).
    """
    code = (
        "import sys, jupyter_constructs;"
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_constructs.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert (
        result.stdout.strip() == "['jupyter_constructs.core', 'jupyter_constructs.core.toolchain']"
    )
    assert set(jupyter_constructs.__all__) <= set(dir(jupyter_constructs))
