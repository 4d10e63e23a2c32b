"""meta.<Field> filters: acquisition parameters kept in an image's metadata (BIDS sidecar,
DICOM header), e.g. meta.RepetitionTime_max=2.5 or meta.Manufacturer=Siemens.

`meta.<Field>=v` matches a text or boolean value equal to v, or, when v is a number, a numeric
value equal to it; `meta.<Field>_min=x` / `_max=x` match numeric values at least / at most x.
A value of another JSON type, or a missing field, never matches. This module parses and
documents the parameters; the SQL they become is app/query/metadata.py's.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma

from app.query.metadata import MetaFilter, finite_number

PREFIX = "meta."
PARAMETER = "meta.{Field}"
# A metadata field name: letters, digits and underscores (BIDS and DICOM keywords are).
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
BOUNDS = {"_min": ">=", "_max": "<="}
MAX_FILTERS = 20
DESCRIPTION = (
    "Filter on an acquisition parameter of the image's metadata (e.g. the BIDS sidecar): "
    "`meta.<Field>=value` (a text or boolean value equal to it, or a number equal to it), "
    "`meta.<Field>_min=x` and `meta.<Field>_max=x` (numbers, inclusive). <Field> is a metadata "
    "key of letters, digits and underscores, e.g. meta.RepetitionTime_max=2.5 or "
    "meta.Manufacturer=Siemens. Images without the field never match. Not repeatable."
)

def parse_meta_parameters(values: Mapping[str, list[str]]) -> list[MetaFilter]:
    """Turn {"meta.<Field>[_min|_max]": [values]} into filters, or raise a ValidationError
    naming the bad parameter (a bad field name, a repeated parameter, a bound not a number)."""
    if len(values) > MAX_FILTERS:
        raise ma.ValidationError(f"at most {MAX_FILTERS} meta.<Field> filters",
                                 field_name=PARAMETER)
    filters: list[MetaFilter] = []
    for parameter, given in sorted(values.items()):
        name = parameter.removeprefix(PREFIX)
        if len(given) != 1:
            raise ma.ValidationError("must not be repeated", field_name=parameter)
        (value,) = given
        if not value or "\x00" in value or len(value) > 256:
            raise ma.ValidationError("must be 1 to 256 characters", field_name=parameter)
        operator = "="
        for suffix, bound in BOUNDS.items():
            if name.endswith(suffix) and len(name) > len(suffix):
                name, operator = name.removesuffix(suffix), bound
                number = finite_number(value)
                if number is None:
                    raise ma.ValidationError("must be a number", field_name=parameter)
                value = number
        if not FIELD_NAME.fullmatch(name):
            raise ma.ValidationError(
                "the field name must be letters, digits and underscores, starting with a "
                "letter (at most 64)", field_name=parameter)
        filters.append((name, operator, value))
    return filters


def collect_meta(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return query parameters `data` with the meta.<Field> ones parsed into one entry (under
    the documented name meta.{Field}, which loads as `meta`)."""
    plain: dict[str, Any] = {}
    meta: dict[str, list[str]] = {}
    for key in data:
        if key.startswith(PREFIX):
            getlist = getattr(data, "getlist", None)
            raw = getlist(key) if getlist else data[key]
            meta[key] = [str(item) for item in raw] if isinstance(raw, list) else [str(raw)]
        else:
            plain[key] = data[key]
    if meta:
        plain[PARAMETER] = parse_meta_parameters(meta)
    return plain
