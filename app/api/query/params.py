"""Query-string parameters shared by every collection: their names, types, limits and checks."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

import flask_smorest
import marshmallow as ma
from flask import current_app, request
from marshmallow import fields, pre_load, validate, validates_schema
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict

from app.api.json import JSONLimitError, load_bounded_json
from app.api.query import metadata
from app.models import ImageType, LoadStatus, QcState, Sex
from app.query import measures
from app.query.errors import InvalidParameter

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
# Bounds that keep every number a valid 64-bit SQL value (SQLite overflows past 2**63), so a
# huge number is a 400 and never a database error.
MAX_PAGE = 1_000_000_000
MAX_DAYS = 100_000
MAX_AGE = 200.0
MAX_FIELD_STRENGTH = 100.0
MAX_TEXT_LENGTH = 256
FORMATS = ("json", "csv", "parquet")
LATERALITIES = ("L", "R", "B")


class QueryParser(FlaskParser):
    """webargs parser: a bad or unknown query parameter is a 400 that names it."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        """Return the schema of a route's parameters: one instance per schema class, made
        once, where webargs would make one (deep-copying every field) per request."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: Any) -> Any:
        """Parse a JSON body within the API's limits (depth, number size, valid Unicode): a
        body past them is a 400 naming the field at fault (else `json`), where the plain
        parser would crash or hand the database what it cannot store."""
        if not is_json_request(req):
            return core.missing
        try:
            return load_bounded_json(req.get_data(cache=True))
        except JSONLimitError as exc:
            name = exc.field or "json"
            message = f"invalid JSON body: {name}: {exc}"
            flask_smorest.abort(400, message=message, errors={name: [str(exc)]})


@functools.cache
def _schema_instance(schema_class: type[ma.Schema]) -> ma.Schema:
    # Safe to share between requests and threads: loading keeps no state in the instance
    # (marshmallow 4 has no schema context).
    return schema_class()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest blueprint whose arguments are parsed by QueryParser."""

    ARGUMENTS_PARSER = QueryParser()


def text_problem(value: str) -> str | None:
    """Say why `value` cannot be sent to the database as text, or return None if it can.

    PostgreSQL refuses NUL characters, and no database driver encodes a lone surrogate (such
    as '\\ud800', which a JSON escape can produce) as UTF-8.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _reject_bad_text(value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise ma.ValidationError(problem)


def Text(max_length: int = MAX_TEXT_LENGTH,  # noqa: N802  (a field factory reads like a class)
         **kwargs: Any) -> fields.String:
    """Return a string field of 1 to `max_length` characters that the database can store."""
    return fields.String(
        validate=[validate.Length(min=1, max=max_length), _reject_bad_text], **kwargs
    )


class Choice(fields.String):
    """One of a fixed list of values, given in any case; it loads as the listed spelling."""

    def __init__(self, choices: Iterable[str], **kwargs: Any) -> None:
        self.choices = list(choices)
        self._by_folded = {choice.casefold(): choice for choice in self.choices}
        # OneOf documents the values as an enum in the OpenAPI document.
        super().__init__(validate=validate.OneOf(self.choices), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return self._by_folded.get(text.casefold(), text)


def _described(description: str) -> dict[str, Any]:
    return {"metadata": {"description": description}}


def _valid_measure_filters(texts: list[str]) -> None:
    """Check the syntax of `measure` filters (their designations and values are checked against
    the master list where the query is built)."""
    for text in texts:
        try:
            measures.parse_measure_filter(text)
        except InvalidParameter as exc:
            raise ma.ValidationError(exc.data["errors"][exc.parameter]) from exc


class DesignationList(fields.List):
    """Measure designations, comma-separated (`MMSE,CDR_GLOBAL`), the parameter given once or
    repeated: loads as one list, each designation once, in order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text(), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        designations: list[str] = []
        for text in super()._deserialize(value, attr, data, **kwargs):
            try:
                designations.extend(measures.parse_measure_list(text))
            except InvalidParameter as exc:
                raise ma.ValidationError(exc.data["errors"][exc.parameter]) from exc
        return list(dict.fromkeys(designations))


# The parameters of measures (app/query/measures.py): filters over every row collection and
# /stats, their window, and the extra columns of a row collection.
MEASURE_FILTERS = (measures.FILTER_PARAMETER, measures.WINDOW_PARAMETER)
MEASURE_PARAMETERS = (*MEASURE_FILTERS, measures.COLUMNS_PARAMETER)


# Every filter a collection may offer, by its one public name. A resource picks the names it
# supports (app/query/filters.py says what each one does to its rows).
FILTER_FIELDS: dict[str, Callable[[], fields.Field]] = {
    "dataset": lambda: fields.List(Text(), **_described(
        "Dataset designation, in any case; repeat the parameter to accept any of several. "
        "Only existing designations are valid: an unknown one is a 400 that lists the known "
        "ones (GET /datasets).")),
    "condition": lambda: fields.List(Text(), **_described(
        "Condition designation, in any case (an image's or visit's condition is the visit's "
        "diagnosis if known, else the subject's; a subject matches any condition it has); "
        "repeat to accept any of several. Only existing designations are valid: an unknown "
        "one is a 400 that lists the known ones (GET /conditions).")),
    "type": lambda: fields.List(
        Choice([t.value for t in ImageType]),
        **_described("Image type; repeat to accept any of several.")),
    "sex": lambda: Choice([s.value for s in Sex], **_described("Subject sex.")),
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
    "has_marks": lambda: fields.Boolean(**_described(
        "true: only images with lesion marks (mammograms marked by a reader); false: only "
        "images without.")),
    "view": lambda: fields.List(Text(), **_described(
        "Mammographic view (DICOM ViewPosition: CC, MLO, ML, ...), ignoring case; repeat to "
        "accept any of several.")),
    "laterality": lambda: Choice(LATERALITIES, **_described(
        "Side of the body imaged (DICOM ImageLaterality): L, R or B (both), in any case.")),
    "qc": lambda: fields.List(
        Choice([*(s.value for s in QcState), "all"]),
        **_described("QC state (new, signed_off, flagged, blacklisted), repeatable; 'all' for "
                     "every state. Blacklisted images are left out unless qc=all or "
                     "qc=blacklisted is asked for.")),
    "drift": lambda: fields.Boolean(**_described(
        "true: only images whose header differs from their tag's gold standard beyond its "
        "tolerances; false: only images compared and found within them.")),
    "name": lambda: Text(**_described(
        "RADIFOX-style name filter: key=VALUE conditions joined by ';', all required, values "
        "exact and upper case; keys bodypart, modality, technique, acqdim, orientation, "
        "excontrast (e.g. modality=T1;acqdim=3D). Matches the manual name when one is given, "
        "else the predicted one.")),
    "has_type": lambda: fields.List(
        Choice([t.value for t in ImageType]),
        **_described("Only subjects with at least one image of this type; repeat to require "
                     "every one of several types.")),
    "status": lambda: fields.List(
        Choice([s.value for s in LoadStatus]),
        **_described("How the load ended (running while it runs); repeat to accept any of "
                     "several.")),
    "visit_has_type": lambda: fields.List(
        Choice([t.value for t in ImageType]),
        **_described("Only rows with a visit holding an image of this type; repeat to require "
                     "one visit holding an image of each of several types (e.g. T1 and "
                     "rsfMRI).")),
    "meta": lambda: fields.Raw(data_key=metadata.PARAMETER,
                               **_described(metadata.DESCRIPTION)),
    measures.FILTER_PARAMETER: lambda: fields.List(
        Text(), validate=_valid_measure_filters, **_described(
            "A clinical measure's value, as DESIGNATION OP VALUE with OP one of <, <=, >, >=, "
            "= (= takes a comma-separated set): MMSE<24, CDR_GLOBAL=0.5,1, HANDEDNESS=left. "
            "Repeat to require several (all must hold). For an image the value that counts is "
            "the one at its visit, else the latest on or before the scan's day within "
            "measure_window days; for a visit the same with its day; a per-subject measure "
            "(education, handedness, APOE e4) counts whatever the day; a subject matches when "
            "any of its values does. Designations from GET /measures, in any case; an unknown "
            "one, a value that is not a number for a number or ordinal measure, or an order "
            "comparison on a category is a 400. The measures filtered on are returned as "
            "columns too (see measures).")),
    measures.WINDOW_PARAMETER: lambda: fields.Integer(
        validate=validate.Range(0, MAX_DAYS), **_described(
            "How many days before a scan or visit a measure's value may lie and still count "
            f"(default {measures.DEFAULT_WINDOW_DAYS}); a value at the row's visit always "
            "counts.")),
    measures.COLUMNS_PARAMETER: lambda: DesignationList(**_described(
        "Measures returned with each row, comma-separated designations (MMSE,CDR_GLOBAL): in "
        "JSON as measures: {DESIGNATION: {value, day}}; in CSV and Parquet as columns "
        "DESIGNATION (the value: a float, or a string for a category) and DESIGNATION_day "
        "(an integer: the assessment's days since baseline). The value is the one that "
        "counts for the row as for the measure filter (for a subject, its latest); null "
        "when none does.")),
}

# Pairs whose lower bound must not exceed the upper one.
RANGES = (("age_min", "age_max"), ("days_min", "days_max"))


class QueryArgs(ma.Schema):
    """Base of every query-string schema: unknown and repeated single-valued parameters are
    refused."""

    class Meta:
        unknown = ma.RAISE

    @pre_load
    def _check_and_gather(self, data: Any, **_: Any) -> Any:
        """Refuse repeated single values, then gather the meta.<Field> parameters into one."""
        # webargs hands over a proxy of the query's MultiDict; it would silently keep the first
        # of sex=female&sex=male.
        query = getattr(data, "data", None)
        if isinstance(query, MultiDict):
            repeated = {
                name: ["must be given once (it takes a single value)"]
                for name, field in self.fields.items()
                if not isinstance(field, fields.List) and len(query.getlist(name)) > 1
            }
            if repeated:
                raise ma.ValidationError(repeated)
        # The meta.<Field> parameters become one value, where the schema offers them.
        return metadata.collect_meta(data) if "meta" in self.fields else data

    @validates_schema
    def _check_ranges(self, data: dict[str, Any], **_: Any) -> None:
        for low, high in RANGES:
            if low in data and high in data and data[low] > data[high]:
                raise ma.ValidationError(f"must not exceed {high}", field_name=low)
        if "cursor" in data and "page" in data:
            raise ma.ValidationError("cannot be combined with page", field_name="cursor")


class NoArgs(QueryArgs):
    """A route that takes no query parameter (any parameter is refused)."""


def _declares_query_parameters(endpoint: str | None, method: str) -> bool:
    view = current_app.view_functions.get(endpoint) if endpoint else None
    view_class = getattr(view, "view_class", None)
    handler = view
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
    arguments = getattr(handler, "_apidoc", {}).get("arguments", {})
    return any(parameter["in"] in ("query", "querystring")
               for parameter in arguments.get("parameters", []))


def refuse_undeclared_parameters() -> None:
    """Refuse with a 400 naming them any query parameters sent to an API route that declares
    none (routes with a query schema refuse unknown ones themselves)."""
    if not request.args or not request.path.startswith("/api/"):
        return
    if request.url_rule is None or _declares_query_parameters(request.endpoint, request.method):
        return
    names = sorted(set(request.args))
    flask_smorest.abort(
        400, message="invalid parameter " + ", ".join(f"{name}: Unknown field." for name in names),
        errors={name: ["Unknown field."] for name in names})


def _undecodable(raw: bytes, *, plus: bool = True) -> bool:
    """Whether percent-encoded `raw` (a query part; `plus`: where + stands for a space) is not
    UTF-8 text once decoded."""
    try:
        unquote_to_bytes(raw.replace(b"+", b" ") if plus else raw).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def refuse_undecodable_request() -> None:
    """Refuse with a 400 a path or query parameter that is not UTF-8 text once percent-decoded.

    Werkzeug would replace such bytes (an encoded lone surrogate like %ED%A0%80, a stray %FF)
    with U+FFFD, so that a request would run with a value the client never sent.
    """
    # WSGI hands the decoded path over as latin-1 text (encoding it gives the bytes back); but
    # Werkzeug's own servers have already replaced bad bytes there, so the raw URI they keep
    # (REQUEST_URI, or gunicorn's RAW_URI) is checked too.
    environ = request.environ
    paths = [environ.get("PATH_INFO", "")]
    paths += [environ[name].partition("?")[0] for name in ("REQUEST_URI", "RAW_URI")
              if name in environ]
    if any(_undecodable(path.encode("latin-1", "replace"), plus=False) for path in paths):
        message = "invalid path: not UTF-8 text (a lone surrogate or a stray byte)"
        flask_smorest.abort(400, message=message, errors={"path": [message]})
    bad = []
    for part in request.query_string.split(b"&"):
        name, _, value = part.partition(b"=")
        if _undecodable(name) or _undecodable(value):
            bad.append(unquote_to_bytes(name).decode("utf-8", "replace"))
    if bad:
        problem = "not UTF-8 text (a lone surrogate or a stray byte)"
        flask_smorest.abort(
            400, message="invalid parameter " + ", ".join(f"{name}: {problem}" for name in bad),
            errors={name: [problem] for name in bad})


def collection_args(
    name: str, *, sorts: Iterable[str], filters: Iterable[str] = (), csv: bool = False,
    default_sort: str = "id",
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
    default_sort
        The sort when none is given (e.g. '-id': newest first).
    """
    sorts = tuple(sorts)
    attributes: dict[str, Any] = {
        "page": fields.Integer(validate=validate.Range(1, MAX_PAGE), **_described(
            "Page number, from 1 (default 1). Cannot be combined with cursor.")),
        "per_page": fields.Integer(
            load_default=DEFAULT_PER_PAGE, validate=validate.Range(1, MAX_PER_PAGE),
            **_described(f"Rows per page, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE}).")),
        "sort": fields.String(
            load_default=default_sort,
            validate=validate.OneOf([*sorts, *(f"-{field}" for field in sorts)]),
            **_described("Sort field, '-field' for descending; ties are broken by id, and rows "
                         "without a value come last. One of: " + ", ".join(sorts) + " "
                         f"(default {default_sort}).")),
        "cursor": fields.String(
            validate=[validate.Length(min=1, max=4 * MAX_TEXT_LENGTH), _reject_bad_text],
            **_described("Opaque position from a previous response's next_cursor: pages by key, "
                         "so rows inserted meanwhile are neither skipped nor repeated. Only a "
                         "cursor this collection issued is valid, with the same sort as the "
                         "request that produced it; anything else is a 400. Cannot be "
                         "combined with page.")),
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
                "json (a page), csv or parquet (the whole filtered result, streamed; page, "
                "per_page and cursor are ignored; the columns are the JSON field names, typed "
                "in Parquet)."))
    for filter_name in filters:
        attributes[filter_name] = FILTER_FIELDS[filter_name]()
    return type(name, (QueryArgs,), attributes)


def filter_args(name: str, filters: Iterable[str]) -> type[QueryArgs]:
    """Build a query-string schema of filters only (for summaries such as /stats)."""
    attributes = {filter_name: FILTER_FIELDS[filter_name]() for filter_name in filters}
    return type(name, (QueryArgs,), attributes)
