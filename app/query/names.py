"""Filters on type names (after RADIFOX): `key=value` conditions joined by `;`, all required,
values compared exactly in upper case, against the name an image answers to (app/names)."""
from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import ColumnElement

from app.names import COMPONENTS, EFFECTIVE_NAME, NameFilterError


def parse_name_filter(text: str) -> dict[str, str]:
    """Parse `modality=T1;acqdim=3D` into {component: VALUE}; raises NameFilterError."""
    conditions: dict[str, str] = {}
    for part in text.split(";"):
        key, equals, value = part.partition("=")
        key, value = key.strip().lower(), value.strip().upper()
        if not equals or key not in COMPONENTS:
            raise NameFilterError(f"{part!r} is not key=VALUE with key one of "
                                  f"{', '.join(COMPONENTS)}")
        if not re.fullmatch(r"[A-Z0-9]{1,32}", value):
            raise NameFilterError(f"{key}: the value must be letters and digits, got {value!r}")
        if key in conditions and conditions[key] != value:
            raise NameFilterError(f"{key} is given twice with different values")
        conditions[key] = value
    return conditions


def name_matches(conditions: Mapping[str, str]) -> ColumnElement[bool]:
    """The SQL condition: the image's name (manual, else predicted) meets every condition."""
    parts = [re.escape(conditions[key]) if key in conditions else "[^-]+"
             for key in COMPONENTS]
    return EFFECTIVE_NAME.regexp_match("^" + "-".join(parts) + "(-.*)?$")
