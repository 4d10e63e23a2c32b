"""JSON arrays that the database builds (json_agg, json_group_array): their result type, and
an aggregate of tuples."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class JsonTextList(TypeDecorator[list[Any]]):
    """A JSON array computed by the database: PostgreSQL hands it over parsed, SQLite as text,
    and an aggregate over no row gives NULL on PostgreSQL; the result is always a list."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> list[Any]:
        if value is None:
            return []
        return json.loads(value) if isinstance(value, str) else list(value)


class json_tuples(FunctionElement):  # noqa: N801  (an SQL function reads like one)
    """json_tuples(a, b, ...): the JSON array of [a, b, ...] over the grouped rows, in no
    particular order."""

    type = JsonTextList()
    inherit_cache = True


@compiles(json_tuples)
def _json_tuples_sqlite(element: json_tuples, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_tuples, "postgresql")
def _json_tuples_postgresql(element: json_tuples, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"
