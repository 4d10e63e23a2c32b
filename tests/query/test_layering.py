"""The query layer reads and builds statements; argument parsing and schemas stay in app/api."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

QUERY_PACKAGE = Path(__file__).resolve().parents[2] / "app" / "query"
# What only the HTTP layer may use: the API's argument parsing, schemas and its own modules.
HTTP_ONLY = ("flask_smorest", "marshmallow", "webargs", "app.api")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(QUERY_PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_the_query_layer_imports_nothing_of_the_http_layer(path):
    offending = sorted(name for name in imported_modules(path)
                       if any(name == banned or name.startswith(banned + ".")
                              for banned in HTTP_ONLY))
    assert offending == []


def test_the_dashboard_reads_through_the_query_layer():
    views = QUERY_PACKAGE.parent / "dashboard" / "views.py"
    api_modules = sorted(name for name in imported_modules(views) if name.startswith("app.api"))
    # Only argument parsing and HTTP rendering: the image schema and sorts, the paging
    # arguments, the export responses and the cohort diff's answer.
    assert api_modules == ["app.api.cohorts", "app.api.images", "app.api.query",
                           "app.api.query.measures"]
