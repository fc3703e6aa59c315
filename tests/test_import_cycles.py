"""No import cycles inside otel_audit: the import graph read from the source is acyclic.

Every ``import`` counts, at module level or inside a function (a lazy import that breaks a cycle
at run time still couples the two modules both ways). Only ``if TYPE_CHECKING:`` blocks are left
out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import otel_audit

_ROOT = Path(otel_audit.__file__).resolve().parent
_PACKAGE = "otel_audit"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (path, is a package's ``__init__``)."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(_ROOT.rglob("*.py")):
        parts = list(path.relative_to(_ROOT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, is_package: bool, tree: ast.AST, modules: set[str]) -> set[str]:
    """The otel_audit modules *module* imports (outside ``if TYPE_CHECKING:`` blocks)."""

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: set[str | None] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                pending.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                edges.update(owner(alias.name) for alias in child.names if alias.name.split(".")[0] == _PACKAGE)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    package = package[: len(package) - (child.level - 1)]
                    base = ".".join([*package, base] if base else package)
                if base.split(".")[0] == _PACKAGE:
                    for alias in child.names:
                        full = f"{base}.{alias.name}"
                        edges.add(full if full in modules else owner(base))
            pending.append(child)
    edges.discard(None)
    edges.discard(module)
    return {edge for edge in edges if edge is not None}


def import_graph() -> dict[str, set[str]]:
    """Module -> the otel_audit modules it imports."""
    modules = _modules()
    names = set(modules)
    return {
        name: _imported(name, is_package, ast.parse(path.read_text(), str(path)), names)
        for name, (path, is_package) in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(start: str) -> None:  # Tarjan, iterative: the graph may be deep
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for name in sorted(graph):
        if name not in index:
            visit(name)
    found = []
    for group in groups:
        start = min(group)
        path, seen, node = [start], {start}, start
        while True:  # walk inside the group until a module repeats
            node = min(child for child in graph[node] if child in group)
            path.append(node)
            if node in seen:
                break
            seen.add(node)
        found.append(path[path.index(node) :])
    return found


class TestImportGraph:
    def test_no_import_cycles(self) -> None:
        """No otel_audit module imports, directly or through others, a module that imports it."""
        found = cycles(import_graph())
        assert not found, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in found)

    def test_the_reader_sees_function_level_imports_and_skips_type_checking(self, tmp_path: Path) -> None:
        """A lazy import inside a function is an edge; one under ``if TYPE_CHECKING:`` is not."""
        source = (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from otel_audit.emit import runtime\n"
            "def f():\n    from otel_audit import envvars\n    import otel_audit.deadline\n"
        )
        modules = {"otel_audit", "otel_audit.envvars", "otel_audit.deadline", "otel_audit.emit.runtime"}
        edges = _imported("otel_audit.x", False, ast.parse(source), modules)
        assert edges == {"otel_audit.envvars", "otel_audit.deadline"}

    def test_a_cycle_is_reported_as_a_path(self) -> None:
        """Two modules importing each other are reported as a -> b -> a."""
        assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"]]
