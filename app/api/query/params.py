"""Query-string parameters shared by every collection: their names, types, limits and checks."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import flask_smorest
import marshmallow as ma
from marshmallow import fields, validate, validates_schema
from webargs.flaskparser import FlaskParser

from app.models import ImageType, Sex

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
# Bounds that keep every number a valid 64-bit SQL value (SQLite overflows past 2**63), so a
# huge number is a 400 and never a database error.
MAX_PAGE = 1_000_000_000
MAX_DAYS = 100_000
MAX_AGE = 200.0
MAX_FIELD_STRENGTH = 100.0
MAX_TEXT_LENGTH = 256
FORMATS = ("json", "csv")


class QueryParser(FlaskParser):
    """webargs parser: a bad or unknown query parameter is a 400 that names it."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest blueprint whose arguments are parsed by QueryParser."""

    ARGUMENTS_PARSER = QueryParser()


def _reject_nul(value: str) -> None:
    # PostgreSQL refuses NUL characters in text parameters; catch them before the database does.
    if "\x00" in value:
        raise ma.ValidationError("must not contain NUL characters")


def Text(**kwargs: Any) -> fields.String:  # noqa: N802  (a field factory reads like a field class)
    """Return a string field that is short and free of NUL characters."""
    return fields.String(
        validate=[validate.Length(min=1, max=MAX_TEXT_LENGTH), _reject_nul], **kwargs
    )


def _described(description: str) -> dict[str, Any]:
    return {"metadata": {"description": description}}


# Every filter a collection may offer, by its one public name. A resource picks the names it
# supports (app/api/query/filters.py says what each one does to its rows).
FILTER_FIELDS: dict[str, Callable[[], fields.Field]] = {
    "dataset": lambda: fields.List(Text(), **_described(
        "Dataset designation; repeat the parameter to accept any of several.")),
    "condition": lambda: fields.List(Text(), **_described(
        "Condition designation (the visit's diagnosis if known, else the subject's); "
        "repeat to accept any of several.")),
    "type": lambda: fields.List(
        fields.String(validate=validate.OneOf([t.value for t in ImageType])),
        **_described("Image type; repeat to accept any of several.")),
    "sex": lambda: fields.String(
        validate=validate.OneOf([s.value for s in Sex]), **_described("Subject sex.")),
    "age_min": lambda: fields.Float(
        validate=validate.Range(0, MAX_AGE),
        **_described("Minimum age in years (inclusive); rows of unknown age never match.")),
    "age_max": lambda: fields.Float(
        validate=validate.Range(0, MAX_AGE),
        **_described("Maximum age in years (inclusive); rows of unknown age never match.")),
    "days_min": lambda: fields.Integer(
        validate=validate.Range(-MAX_DAYS, MAX_DAYS),
        **_described("Minimum days since the subject's baseline (inclusive).")),
    "days_max": lambda: fields.Integer(
        validate=validate.Range(-MAX_DAYS, MAX_DAYS),
        **_described("Maximum days since the subject's baseline (inclusive).")),
    "field_strength": lambda: fields.Float(
        validate=validate.Range(0, MAX_FIELD_STRENGTH),
        **_described("Scanner field strength in tesla, exactly (e.g. 3 or 1.5).")),
    "manufacturer": lambda: Text(**_described(
        "Scanner manufacturer, exactly but ignoring case (e.g. siemens).")),
    "name": lambda: Text(**_described(
        "RADIFOX-style name filter: key=VALUE conditions joined by ';', all required, values "
        "exact and upper case; keys bodypart, modality, technique, acqdim, orientation, "
        "excontrast (e.g. modality=T1;acqdim=3D). Matches the manual name when one is given, "
        "else the predicted one.")),
    "has_type": lambda: fields.List(
        fields.String(validate=validate.OneOf([t.value for t in ImageType])),
        **_described("Only subjects with at least one image of this type; repeat to require "
                     "every one of several types.")),
}

# Pairs whose lower bound must not exceed the upper one.
RANGES = (("age_min", "age_max"), ("days_min", "days_max"))


class QueryArgs(ma.Schema):
    """Base of every query-string schema: unknown parameters are refused."""

    class Meta:
        unknown = ma.RAISE

    @validates_schema
    def _check_ranges(self, data: dict[str, Any], **_: Any) -> None:
        for low, high in RANGES:
            if low in data and high in data and data[low] > data[high]:
                raise ma.ValidationError(f"must not exceed {high}", field_name=low)
        if "cursor" in data and "page" in data:
            raise ma.ValidationError("cannot be combined with page", field_name="cursor")


class NoArgs(QueryArgs):
    """A route that takes no query parameter (any parameter is refused)."""


def collection_args(
    name: str, *, sorts: Iterable[str], filters: Iterable[str] = (), csv: bool = False
) -> type[QueryArgs]:
    """Build the query-string schema of one collection.

    Parameters
    ----------
    name
        Schema class name (unique: it names the schema in the OpenAPI document).
    sorts
        Row fields the collection may be sorted by, ascending or (with a leading '-') descending.
    filters
        Names from FILTER_FIELDS that the collection supports.
    csv
        Whether `format=csv` is offered.
    """
    sorts = tuple(sorts)
    attributes: dict[str, Any] = {
        "page": fields.Integer(validate=validate.Range(1, MAX_PAGE), **_described(
            "Page number, from 1 (default 1). Cannot be combined with cursor.")),
        "per_page": fields.Integer(
            load_default=DEFAULT_PER_PAGE, validate=validate.Range(1, MAX_PER_PAGE),
            **_described(f"Rows per page, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE}).")),
        "sort": fields.String(
            load_default="id",
            validate=validate.OneOf([*sorts, *(f"-{field}" for field in sorts)]),
            **_described("Sort field, '-field' for descending; ties are broken by id, and rows "
                         "without a value come last. One of: " + ", ".join(sorts) + ".")),
        "cursor": fields.String(
            validate=[validate.Length(min=1, max=4 * MAX_TEXT_LENGTH), _reject_nul],
            **_described("Opaque position from a previous response's next_cursor: pages by key, "
                         "so rows inserted meanwhile are neither skipped nor repeated. Use the "
                         "same sort as the request that produced it.")),
        "total": fields.Boolean(
            load_default=True,
            **_described("Whether to count the rows matching the filters (default true). "
                         "total=false answers total: null and skips the count, which costs "
                         "more than the page itself on large results; page through with "
                         "next_cursor.")),
    }
    if csv:
        attributes["format"] = fields.String(
            load_default="json", validate=validate.OneOf(FORMATS), **_described(
                "json (a page) or csv (the whole filtered result, streamed; page, per_page and "
                "cursor are ignored; the header row holds the JSON field names)."))
    for filter_name in filters:
        attributes[filter_name] = FILTER_FIELDS[filter_name]()
    return type(name, (QueryArgs,), attributes)


def filter_args(name: str, filters: Iterable[str]) -> type[QueryArgs]:
    """Build a query-string schema of filters only (for summaries such as /stats)."""
    attributes = {filter_name: FILTER_FIELDS[filter_name]() for filter_name in filters}
    return type(name, (QueryArgs,), attributes)
