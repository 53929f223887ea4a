"""The import graph of ``mfenvs``, ``render`` and ``mfagents``, read from the source: no circles, and the floors hold.

Every ``import`` counts, also those inside functions (a lazy import is still a dependency); only imports
under ``if TYPE_CHECKING:`` are left out. The floors, from the ground up:

* ``mfenvs`` imports neither ``render`` at module level nor ``mfagents``; ``render`` never imports ``mfagents``;
* inside ``mfagents`` each room imports only the rooms below it (``ROOMS``); nothing imports ``commands``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mfenvs", "render", "mfagents")
ROOMS = ("common", "algos", "policies", "training", "evaluation", "api", "benchmarl_task", "experiments", "commands")
"""``mfagents``'s rooms from the ground floor up; a room may import its own modules and the rooms before it."""
PACKAGE_FACES = ("mfagents", "mfagents.moved", "mfagents.__main__")
"""The package's front: lazy re-exports of the API and the old-path aliases, above every room."""


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((REPO_ROOT / package).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> dict[str, bool]:
    """Modules of ``modules`` that ``name`` imports -> whether the import runs when ``name`` is imported."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, bool] = {}

    def resolve(target: str, at_load: bool) -> None:
        while target and target not in modules:  # ``import a.b.c`` of a name inside a module: its module
            target = target.rpartition(".")[0]
        if target and target != name:
            found[target] = found.get(target, False) or at_load

    def visit(node: ast.AST, at_load: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    resolve(alias.name, at_load)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    resolve(full if full in modules else base, at_load)
            nested = at_load and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, nested)

    visit(ast.parse(path.read_text(), filename=str(path)), True)
    return found


def import_graph() -> dict[str, dict[str, bool]]:
    modules = source_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, dict[str, bool]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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
    return found


def room_of(name: str) -> str | None:
    """The room of an ``mfagents`` module (None for the package's front)."""
    if name in PACKAGE_FACES:
        return None
    return name.split(".")[1]


GRAPH = import_graph()


def test_the_graph_reads_every_room():
    rooms = {room_of(name) for name in GRAPH if name.startswith("mfagents.")} - {None}
    assert rooms == set(ROOMS)


def test_no_import_circles():
    assert circles(GRAPH) == []


def test_circles_are_found():
    """The checker itself: a hand-made circle is reported, a chain is not."""
    assert circles({"a": {"b": True}, "b": {"c": False}, "c": {"a": True}, "d": {"a": True}}) == [["a", "b", "c"]]
    assert circles({"a": {"b": True}, "b": {}}) == []


@pytest.mark.parametrize("name", sorted(name for name in GRAPH if name.startswith("mfenvs")))
def test_environments_never_import_agents_and_render_only_lazily(name):
    for target, at_load in GRAPH[name].items():
        assert not target.startswith("mfagents"), f"{name} imports {target}"
        assert not (target.startswith("render") and at_load), f"{name} imports {target} at load time"


@pytest.mark.parametrize("name", sorted(name for name in GRAPH if name.startswith("render")))
def test_render_never_imports_agents(name):
    assert not any(target.startswith("mfagents") for target in GRAPH[name]), GRAPH[name]


@pytest.mark.parametrize("name", sorted(name for name in GRAPH if name.startswith("mfagents.")))
def test_each_room_imports_only_the_rooms_below(name):
    room = room_of(name)
    if room is None:
        return
    for target in GRAPH[name]:
        if not target.startswith("mfagents"):
            continue
        assert target not in PACKAGE_FACES or target == "mfagents" and room == "commands", f"{name} imports {target}"
        target_room = room_of(target)
        if target_room is None:
            continue
        assert ROOMS.index(target_room) <= ROOMS.index(room), f"{name} ({room}) imports {target} ({target_room}), a room above"


def test_no_module_imports_a_moved_path():
    from mfagents.moved import MOVED

    for name, targets in GRAPH.items():
        for target in targets:
            assert target not in MOVED, f"{name} imports the old path {target}"
