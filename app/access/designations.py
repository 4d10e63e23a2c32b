"""Designation look-ups (dataset and condition names to ids) of an API request, fetched with its
key.

The `dataset` and `condition` filters name rows by designation and need their ids. Rather than
one query per filter, the key check of a request with such a parameter fetches, in its own
statement, every (lower-cased designation, id) pair of the table the parameter names (a few
dozen rows), and the filters read them from the request. Nothing is kept past the request, so
a load, a `flask seed`, a dataset deleted, purged, renamed or registered (`--register`) is seen
by the next request: there is no cache to go stale, in this process or any other.
"""
from __future__ import annotations

from collections.abc import Container, Sequence
from typing import Any

from flask import has_request_context, request
from sqlalchemy import ScalarSelect, func, select

from app.models import Condition, Dataset
from app.models.json_arrays import json_tuples

# The query parameters that name rows by designation, and the table whose rows each names.
DESIGNATED_BY_PARAMETER: dict[str, Any] = {"dataset": Dataset, "condition": Condition}
# Kept in the request's environ, not in `g`: an app context (and its g) may outlive a request.
_ENVIRON_KEY = "mbid.designation_ids"


def prefetch(parameters: Container[str]) -> tuple[list[Any], list[ScalarSelect[Any]]]:
    """Return the tables named by designation in `parameters` (a request's query parameters),
    and for each the scalar subquery of its (lower-cased designation, id) pairs, to be
    selected with the request's first statement and handed to `remember`."""
    models = [model for parameter, model in DESIGNATED_BY_PARAMETER.items()
              if parameter in parameters]
    # lower() in SQL, as the look-up without a prefetch compares: SQLite folds ASCII only.
    return models, [select(json_tuples(func.lower(model.designation), model.id)).scalar_subquery()
                    for model in models]


def remember(models: Sequence[Any], pairs: Sequence[list[Any]]) -> None:
    """Keep, for the rest of the request, the pairs `prefetch`'s subqueries returned."""
    ids: dict[Any, dict[str, list[int]]] = {}
    for model, model_pairs in zip(models, pairs, strict=True):
        by_designation: dict[str, list[int]] = ids.setdefault(model, {})
        for designation, row_id in model_pairs:
            by_designation.setdefault(designation, []).append(row_id)
    request.environ[_ENVIRON_KEY] = ids


def prefetched_ids(model: Any) -> dict[str, list[int]] | None:
    """Return {lower-cased designation: ids} of every `model` row as fetched with the request's
    key, or None when they were not (outside an API request, or no parameter named them)."""
    if not has_request_context():
        return None
    return request.environ.get(_ENVIRON_KEY, {}).get(model)
