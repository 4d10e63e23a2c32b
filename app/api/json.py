"""JSON responses that are always valid JSON: NaN and +/-Infinity are written as null.

Stored values can hold them (a sidecar's NaN kept in metadata on SQLite, a float column on
PostgreSQL), and Python's encoder would write them bare, which no JSON parser accepts.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider


def without_non_finite(value: Any) -> Any:
    """Return `value` with every NaN or infinite float inside it replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: without_non_finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_non_finite(item) for item in value]
    return value


class FiniteJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, keeping the fields in schema order and refusing bare NaN."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise `obj`; a non-finite number anywhere in it becomes null."""
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        try:
            # The common case costs one pass: only a document that holds NaN is copied.
            return json.dumps(obj, allow_nan=False, **kwargs)
        except ValueError:
            return json.dumps(without_non_finite(obj), allow_nan=False, **kwargs)
