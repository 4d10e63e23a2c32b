"""The import graph of the project's packages has no cycle.

A package is a folder with __init__.py (app, app.api, load_db.dicom, ...); its modules may import
each other. A package and the packages inside it form one tree: `app/__init__.py` registers the
API's blueprints and app.api uses app.extensions, which is that tree's own business. Between
packages of different branches (load_db.dicom and load_db.qc, app.cli and load_db.engine)
imports must run one way. Every import counts, a deferred one inside a function too (it runs
sooner or later); only the imports under `if TYPE_CHECKING:` are left out, as they never run.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from globals import ROOT

# (import root, top-level package): the client is its own distribution, rooted in client/.
TOP_LEVEL = ((ROOT, "app"), (ROOT, "load_db"), (ROOT, "load_file"),
             (ROOT / "client", "mbid_client"))


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's top-level packages, by dotted name."""
    return {module_name(path, root): path for root, top in TOP_LEVEL
            for path in (root / top).rglob("*.py")}


def type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under `if TYPE_CHECKING:`."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for part in node.body for inner in ast.walk(part)}
    return skipped


def imported_names(module: str, path: Path, package: str) -> Iterator[str]:
    """The dotted names a module imports (relative imports resolved against `package`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # `from pkg import mod` imports the module pkg.mod, `from mod import name` mod.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def package_graph() -> dict[tuple[str, str], list[str]]:
    """{(package, imported package): ["module -> imported module", ...]} between packages of
    different branches."""
    modules = project_modules()
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}

    def package_of(name: str) -> str:
        return name if name in packages else name.rpartition(".")[0]

    def related(a: str, b: str) -> bool:
        return a == b or a.startswith(f"{b}.") or b.startswith(f"{a}.")

    edges: dict[tuple[str, str], list[str]] = {}
    for module, path in modules.items():
        for name in imported_names(module, path, package_of(module)):
            while name and name not in modules:  # `from mod import function` -> mod
                name = name.rpartition(".")[0]
            if name and not related(package_of(module), package_of(name)):
                edges.setdefault((package_of(module), package_of(name)), []).append(
                    f"{module} -> {name}")
    return edges


def cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan's algorithm)."""
    graph: dict[str, list[str]] = {}
    for source, target in sorted(edges):
        graph.setdefault(source, []).append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages():
    edges = package_graph()
    found = cycles(edges)
    detail = [f"{a} -> {b}: {', '.join(edges[a, b])}" for group in found for a in group
              for b in group if (a, b) in edges]
    assert found == [], "\n".join(detail)


def test_the_dicom_adapter_and_qc_share_only_the_study_model():
    edges = package_graph()
    assert ("load_db.dicom", "load_db.qc") not in edges
    assert ("load_db.qc", "load_db.dicom") not in edges
    assert {("load_db.dicom", "load_db.study"), ("load_db.qc", "load_db.study")} <= set(edges)


def test_the_cycle_finder_finds_a_loop_and_names_its_imports():
    edges = {("a", "b"): ["a.x -> b.y"], ("b", "c"): ["b.y -> c"], ("c", "a"): ["c -> a"],
             ("c", "d"): ["c -> d"]}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({("a", "b"): [], ("b", "c"): []}) == []
