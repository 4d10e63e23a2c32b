"""bench/ stands on its own: no benchmark module imports the test suite."""
from __future__ import annotations

import ast

from globals import ROOT


def imported_modules(path) -> set[str]:
    """Every module a Python file imports (absolute names; relative imports as written)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_bench_module_imports_tests():
    offenders = {str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path)
                                                     if name.split(".")[0] == "tests")
                 for path in sorted((ROOT / "bench").rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}
    assert "bench/devservers.py" in offenders  # the walk saw bench's files


def test_the_finder_sees_imports_of_tests_in_every_form(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import tests.support\nfrom tests.support.servers import free_port\n"
                      "def f():\n    import tests\n")
    assert imported_modules(source) == {"tests", "tests.support", "tests.support.servers"}
