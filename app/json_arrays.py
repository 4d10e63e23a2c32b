"""The result type of a JSON array that the database builds (json_agg, json_group_array)."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String
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
