"""The dashboard's pages: sign in and out, overview, the explore page (filters and a paged,
sortable table of the images they match), exports, cohorts. The actions on an image or a
cohort (previews, downloads, QC reviews, deletion) are in actions.py.

A key with the counts-only `aggregate` scope (and not `read`) opens the overview and the filter
form only, with its small counts suppressed as /stats does ("<5"), and no export or cohort.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from app.access.auth import access_of, as_utc, hash_token
from app.access.current import current_access, current_key_name
from app.api.cohorts import cohort_diff, parse_cohort_query
from app.api.images import IMAGE_SORTS, ImageSchema
from app.api.query import collection_args
from app.api.query.measures import page_or_export
from app.dashboard.plots import bar_chart, heat_table
from app.extensions import db
from app.http.errors import named_problems
from app.models import ApiKey, Cohort, Condition, ImageType, Measure, QcState, Scope, Sex
from app.models.base import utcnow
from app.qc.hidden import INCLUDE_ALL
from app.qc.reviews import REVIEW_ACTIONS
from app.query.cohorts import frozen_manifest, owned_cohort, save_cohort
from app.query.datasets import select_datasets, with_counts
from app.query.images import filtered_images, image_filters, matching_images, select_images
from app.query.measures import (
    COLUMNS_PARAMETER,
    IMAGE_VALUES,
    OPERATORS,
    parse_measure_list,
    returned_measures,
)
from app.query.sorting import sorted_by
from app.query.stats import AGE_BIN_YEARS, min_count, stats_of, suppressed, suppressed_count

blueprint = Blueprint("dashboard", __name__, url_prefix="/dashboard",
                      template_folder="templates", static_folder="static")

# The pages run only the dashboard's own script and style, and post only to themselves.
# Its script fetches the explore page's results from the page's own URL (connect-src).
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# The /images parameters the form offers, in its order: filters, then the measures shown as
# columns of the rows listed (and exported).
FORM_FILTERS = ("dataset", "condition", "type", "sex", "age_min", "age_max", "field_strength",
                "manufacturer", "qc", "measure", "measure_window", "measures")
# How the table is paged and sorted: the API's parameters (a sort field, a page number and
# its rows).
PAGING_PARAMETERS = ("sort", "page", "per_page")
PagingArgs = collection_args("DashboardPagingArgs", sorts=IMAGE_SORTS)
# The form's row that adds a measure filter: a measure of the master list, an operator and a
# value, folded into one `measure` parameter ("MMSE<24") as the API takes it.
NEW_MEASURE_FIELDS = ("measure_name", "measure_op", "measure_value")
# How many of the matching images a page of the table lists.
ROWS_PER_PAGE = 25
MANIFEST_ROWS_SHOWN = 200
PUBLIC_ENDPOINTS = ("dashboard.login", "dashboard.static")
# The pages a counts-only (aggregate) key may open: counts, never rows.
COUNTS_ENDPOINTS = ("dashboard.overview", "dashboard.explore", "dashboard.logout")


def _signed_in_key() -> ApiKey | None:
    token_hash = session.get("token_hash")
    key = db.session.scalar(select(ApiKey).where(
        ApiKey.token_hash == token_hash, ApiKey.revoked_at.is_(None))) if isinstance(
        token_hash, str) and token_hash else None
    if key is None or (key.expires_at is not None and as_utc(key.expires_at) <= utcnow()):
        return None
    return key


@blueprint.before_request
def require_sign_in() -> Response | None:
    """Send visitors without a valid key to the sign-in page; run pages with the key's access
    (the query layer then shows only the datasets it may see)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    key = _signed_in_key()
    if key is None:
        session.pop("token_hash", None)
        return redirect(url_for("dashboard.login"))
    if Scope.READ.value not in key.scopes and Scope.AGGREGATE.value not in key.scopes:
        return page("message.html", 403, message="This API key lacks the 'read' scope.")
    g.access = access_of(key)
    if g.access.counts_only and request.endpoint not in COUNTS_ENDPOINTS:
        return page("message.html", 403, message=(
            "This API key has the counts-only 'aggregate' scope: it opens the overview and "
            "the filter counts, not rows, exports or cohorts (they need the 'read' scope)."))
    return None


@blueprint.after_request
def page_headers(response: Response) -> Response:
    """A strict CSP for the pages, and no caching of what a key may see."""
    response.headers["Content-Security-Policy"] = PAGE_CSP
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token() -> str:
    """Return the session's token that every form of the dashboard posts back."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    """Whether the form posted carries the session's form token."""
    sent = request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent, session.get("csrf", ""))


@blueprint.context_processor
def _template_values() -> dict[str, Any]:
    access = current_access()
    return {"csrf_token": csrf_token, "key_name": access.key_name if access else None,
            "counts_only": bool(access and access.counts_only), "min_count": min_count()}


def page(template: str, status: int = 200, **values: Any) -> Response:
    """Render the dashboard's template `template` with `values`, answered with `status`."""
    return Response(render_template(f"dashboard/{template}", **values), status=status)


# Sign in and out -------------------------------------------------------------------------------

@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with an API token (kept in the signed session cookie)."""
    if request.method == "GET":
        return page("login.html")
    if not csrf_ok():
        return page("login.html", 400, error="The form expired: please sign in again.")
    session["token_hash"] = hash_token(request.form.get("token", "").strip())
    if _signed_in_key() is None:
        session.pop("token_hash", None)
        return page("login.html", 401, error="Unknown, revoked or expired API token.")
    session["csrf"] = secrets.token_urlsafe(32)  # a new session gets a new form token
    return redirect(url_for("dashboard.overview"))


@blueprint.route("/logout", methods=["POST"])
def logout():
    """Sign out (forget the token)."""
    if csrf_ok():
        session.clear()
    return redirect(url_for("dashboard.login"))


# Overview --------------------------------------------------------------------------------------

@blueprint.route("/")
def overview():
    """Datasets with their counts, counts by dataset x type x condition, ages and sexes. The
    charts show the datasets with images; the others are listed apart, folded."""
    datasets = with_counts(db.session.execute(
        sorted_by(select_datasets(), "id")).mappings().all())
    stats = _shown_stats({})
    if current_access().counts_only:
        datasets = [_suppressed_dataset_counts(row, min_count()) for row in datasets]
    with_images = [row for row in datasets if row["image_count"] != 0]
    without_images = [row for row in datasets if row["image_count"] == 0]
    designations = [row["designation"] for row in with_images]
    types = [image_type.value for image_type in ImageType]
    images_plot = bar_chart("Images per dataset and type", designations, {
        image_type: [row["image_counts_by_type"].get(image_type, 0) for row in with_images]
        for image_type in types})
    per_dataset = {designation: _shown_stats({"dataset": [designation]})
                   for designation in designations}
    sexes = [sex.value for sex in Sex]
    sex_plot = bar_chart("Subjects per dataset and sex", designations, {
        sex: [next((row["subjects"] for row in counts["sex"] if str(row["sex"]) == sex), 0)
              for counts in per_dataset.values()] for sex in sexes})
    age_labels, age_rows = age_table([counts["age"] for counts in per_dataset.values()])
    ages = heat_table("ages", designations, age_labels, age_rows)
    return page("overview.html", datasets=with_images, empty_datasets=without_images,
                types=types, stats=stats, images_plot=images_plot, sex_plot=sex_plot,
                ages=ages)


def _shown_stats(args: dict[str, Any]) -> dict[str, Any]:
    """stats_of(args), its small counts suppressed for a counts-only key (as /stats does)."""
    stats = stats_of(args)
    return suppressed(stats, min_count()) if current_access().counts_only else stats


def _suppressed_dataset_counts(row: dict[str, Any], threshold: int) -> dict[str, Any]:
    """A dataset row of with_counts with each small count suppressed (suppressed_count)."""
    counts = {name: suppressed_count(row[name], threshold)
              for name in ("subject_count", "visit_count", "image_count")}
    by_type = {name: suppressed_count(count, threshold)
               for name, count in row["image_counts_by_type"].items()}
    return {**row, **counts, "image_counts_by_type": by_type}


def age_table(bins_per_row: list[list[dict[str, Any]]]
              ) -> tuple[list[str], list[list[int | str]]]:
    """The columns and cells of an age table: one row per list of /stats age bins, one column
    per bin from the youngest to the oldest shown in any row (empty ones too, as a histogram
    needs); unknown ages are left out."""
    lows = {row["age_min"] for bins in bins_per_row for row in bins if row["age_min"] is not None}
    if not lows:
        return [], [[] for _ in bins_per_row]
    oldest = max(lows)
    open_ended = any(row["age_min"] == oldest and row["age_max"] is None
                     for bins in bins_per_row for row in bins)
    columns = list(range(min(lows), oldest + 1, AGE_BIN_YEARS))
    labels = [f"{low}+" if open_ended and low == oldest else f"{low}-{low + AGE_BIN_YEARS - 1}"
              for low in columns]
    cells = []
    for bins in bins_per_row:
        known = {row["age_min"]: row["images"] for row in bins if row["age_min"] is not None}
        cells.append([known.get(low, 0) for low in columns])
    return labels, cells


# Filter form, exports, cohorts -----------------------------------------------------------------

def _form_query(values: MultiDict) -> dict[str, list[str]]:
    """The filled filters of the form, as a query string holds them."""
    query = {name: [value for value in values.getlist(name) if value.strip()]
             for name in FORM_FILTERS}
    return {name: given for name, given in query.items() if given}


def new_measure_filter(values: MultiDict) -> str | None:
    """Return the `measure` filter the form's new-measure row spells ("MMSE<24"), or None
    while one of its measure, operator and value is still empty."""
    name, operator, value = (values.get(field, "").strip() for field in NEW_MEASURE_FIELDS)
    return f"{name}{operator}{value}" if name and operator and value else None


def _url_of(query: dict[str, list[str]]) -> str:
    """The query string of `query`."""
    return urlencode([(name, value) for name, values in query.items() for value in values])


def _parsed(query: dict[str, list[str]]) -> tuple[dict[str, Any] | None, str | None]:
    """Parse the form's query as a saved cohort's, its measure columns (`measures`, not a
    filter) apart; every measure it names is checked against the master list here, so that a
    bad one is shown on the form as any bad filter is."""
    filters = {name: values for name, values in query.items() if name != COLUMNS_PARAMETER}
    try:
        args = parse_cohort_query(filters)
        args[COLUMNS_PARAMETER] = [designation for text in query.get(COLUMNS_PARAMETER, [])
                                   for designation in parse_measure_list(text)]
        returned_measures(args)
    except HTTPException as error:
        return None, error_message(error)
    return args, None


def error_message(error: HTTPException) -> str:
    """The message of an error the API's code raised (its JSON `message`), for a page."""
    return str((getattr(error, "data", None) or {}).get("message") or error.description)


def parse_paging(values: MultiDict) -> tuple[dict[str, Any] | None, str | None]:
    """Parse the table's `sort`, `page` and `per_page` as /images parses them; return them (or
    None) and the error naming a bad one (or None)."""
    given = {name: values.get(name, "") for name in PAGING_PARAMETERS
             if values.get(name, "").strip()}
    try:
        loaded = PagingArgs().load(given)
    except ValidationError as error:
        return None, validation_message(error)
    # The table's own page size unless one is asked for (the API's default is larger).
    return {**loaded, "per_page": loaded["per_page"] if "per_page" in given
            else ROWS_PER_PAGE}, None


def validation_message(error: ValidationError) -> str:
    """A marshmallow error as one line naming each field as the API does (`name: problem`)."""
    problems = {path: messages for name, value in error.normalized_messages().items()
                for path, messages in named_problems(name, value).items()}
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in sorted(problems.items()))


def images_page(args: dict[str, Any], paging: dict[str, Any]) -> dict[str, Any]:
    """Return one page of the images the parsed filters match, in the sort and at the page
    number of `paging`, as /images answers it (the collection envelope, its rows with the
    `measures` they return); the measures' designations are its `measure_columns`: the ones
    asked for as columns, then the ones filtered on."""
    clauses = image_filters(args)
    answer = page_or_export(
        select_images().where(*clauses),
        {**args, **paging, "format": "json"},
        IMAGE_VALUES, resource="images", item_schema=ImageSchema,
        counted=matching_images(clauses, func.count()))
    answer["items"] = [{"measures": {}, **row} for row in answer["items"]]
    answer["measure_columns"] = [measure.designation for measure in returned_measures(args)]
    return answer


def _choices() -> dict[str, list[str]]:
    datasets = [row["designation"] for row in db.session.execute(
        sorted_by(select_datasets(), "id")).mappings()]
    conditions = sorted(db.session.scalars(
        select(Condition.designation)).all())
    measures = db.session.execute(
        select(Measure.designation, Measure.unit).order_by(Measure.designation)).mappings().all()
    return {"dataset": datasets, "condition": conditions,
            "type": [t.value for t in ImageType], "sex": [s.value for s in Sex],
            "qc": [*(state.value for state in QcState), INCLUDE_ALL],
            # The one-character operators first: "<" is the operator offered first.
            "measure": measures, "operator": sorted(OPERATORS, key=len)}


@blueprint.route("/explore")
def explore():
    """The filter form with the counts of what it matches, a page of the images it matches
    (sorted and paged as /images does, the chosen measures as columns, with their previews,
    QC state, download links and QC reviews as the key's scopes allow), exports and saving.
    The results are one section (results.html) that the page's script swaps in place.

    A filled new-measure row is folded into the `measure` filters and the page redirected to
    the URL that holds them, so every filter lives in the URL (shareable, and the back button
    returns to the filters before).
    """
    query = _form_query(request.args)
    added = new_measure_filter(request.args)
    if added is not None:
        query["measure"] = [*query.get("measure", []), added]
        return redirect(url_for("dashboard.explore") + "?" + _url_of(query))
    args, error = _parsed(query)
    paging, paging_error = parse_paging(request.args)
    error = error or paging_error
    stats = _shown_stats(args) if args is not None else None
    access = current_access()
    table = (images_page(args, paging) if args is not None and paging is not None
             and not access.counts_only else None)
    return page("explore.html", 400 if error else 200, query=query, error=error, stats=stats,
                choices=_choices(), query_string=_url_of(query), table=table,
                paging=paging or {"sort": "id", "per_page": ROWS_PER_PAGE},
                new_measure=request.args,
                chosen_columns=args[COLUMNS_PARAMETER] if args else query.get(
                     COLUMNS_PARAMETER, []),
                can_save=Scope.WRITE.value in access.scopes,
                can_review=Scope.WRITE.value in access.scopes,
                can_download=Scope.DOWNLOAD.value in access.scopes,
                review_actions=REVIEW_ACTIONS, page_url=page_url, rows_per_page=ROWS_PER_PAGE)


def page_url(query: dict[str, list[str]], paging: dict[str, Any], **changed: Any) -> str:
    """The explore page's URL for the filters `query` and the table's `paging` (its sort,
    page and rows per page) with the `changed` ones; defaults are left out of the URL."""
    defaults = {"sort": "id", "per_page": ROWS_PER_PAGE, "page": 1}
    wanted = {**paging, **changed}
    given = {name: [str(wanted[name])] for name, default in defaults.items()
             if wanted.get(name) is not None and wanted[name] != default}
    return url_for("dashboard.explore") + "?" + _url_of({**query, **given})


@blueprint.route("/export.<any(csv, parquet):fmt>")
def export(fmt: str):
    """Every image the form's filters match, as CSV or Parquet (logged as an export)."""
    args, error = _parsed(_form_query(request.args))
    if args is None:
        return page("message.html", 400, message=error)
    return page_or_export(filtered_images(args), {**args, "format": fmt, "sort": "id"},
                          IMAGE_VALUES, resource="images", item_schema=ImageSchema)


@blueprint.route("/cohorts", methods=["GET", "POST"])
def cohorts():
    """The key's cohorts; POST saves the form's query as a new one."""
    if request.method == "POST":
        if not csrf_ok():
            return page("message.html", 400, message="The form expired: reload the page.")
        if Scope.WRITE.value not in current_access().scopes:
            return page("message.html", 403,
                        message="Saving a cohort needs an API key with the 'write' scope.")
        name = request.form.get("name", "").strip()[:128] or "unnamed cohort"
        query = _form_query(request.form)
        args, error = _parsed(query)
        if args is None:
            return page("message.html", 400, message=error)
        # The measure columns are how the form shows rows, not a filter of the cohort's.
        cohort = save_cohort(name, {parameter: values for parameter, values in query.items()
                                    if parameter != COLUMNS_PARAMETER}, args)
        return redirect(url_for("dashboard.cohort", cohort_id=cohort.id))
    owned = db.session.scalars(
        select(Cohort)
        .where(Cohort.key_name == current_key_name()).order_by(Cohort.id)).all()
    return page("cohorts.html", cohorts=owned)


@blueprint.route("/cohorts/<int(max=2147483647):cohort_id>")
def cohort(cohort_id: int):
    """One cohort: its query, SHA-256, manifest, what changed since it was frozen (the API's
    diff), its downloads and its deletion."""
    found = owned_cohort(cohort_id)
    if found is None:
        return page("message.html", 404, message=f"No cohort with id {cohort_id}.")
    rows = frozen_manifest(found.id)
    scopes = current_access().scopes
    return page("cohort.html", cohort=found, rows=rows[:MANIFEST_ROWS_SHOWN],
                row_count=len(rows), diff=cohort_diff(found),
                diff_rows_shown=MANIFEST_ROWS_SHOWN,
                can_download=Scope.DOWNLOAD.value in scopes,
                can_delete=Scope.WRITE.value in scopes)
