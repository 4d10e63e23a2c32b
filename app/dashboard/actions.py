"""The dashboard's actions on an image or a cohort, each through the API's own code: an image's
preview and file, its QC review, a cohort's files, manifest and BIDS zip, and its deletion.

They are same-origin routes because a page cannot send the API's bearer token with a link or
an image: each runs with the signed-in key's access and scopes, as the API route would. Every
change is a POST carrying the session's form token; deleting a cohort asks for confirmation
first.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.access.current import current_access
from app.api.cohorts import (
    ManifestSchema,
    bids_zip_response,
    delete_cohort,
    files_download,
    manifest_export,
)
from app.api.derived import image_preview
from app.api.downloads import image_download
from app.api.qc import ReviewArgs, review
from app.dashboard.views import (
    blueprint,
    csrf_ok,
    error_message,
    page,
    validation_message,
)
from app.models import Cohort, Scope
from app.query.cohorts import owned_cohort

# Shown in place of a preview that cannot be made (not a NIfTI image, its file missing, the
# storage unreachable): an image either way, never a broken one.
PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
    '<rect width="96" height="96" fill="#eef2f7" stroke="#ccd"/>'
    '<text x="48" y="52" font-family="sans-serif" font-size="11" fill="#667" '
    'text-anchor="middle">no preview</text></svg>')
# Said by the placeholder's response, so that a script (or a test) can tell it from a preview.
PREVIEW_HEADER = "X-Preview"


def _refused_without(scope: Scope, what: str) -> Response | None:
    """A 403 page unless the signed-in key has `scope`."""
    if scope.value in current_access().scopes:
        return None
    return page("message.html", 403,
                message=f"{what} needs an API key with the '{scope.value}' scope.")


def _answer(action: Any, *args: Any) -> Response:
    """Run an API helper; an error it raises becomes a dashboard page with its status."""
    try:
        return action(*args)
    except HTTPException as error:
        return page("message.html", error.code or 500, message=error_message(error))


def _json_file(document: dict[str, Any], filename: str) -> Response:
    """A manifest document as a JSON file to save."""
    return Response(json.dumps(ManifestSchema().dump(document), indent=1),
                    mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# Images ----------------------------------------------------------------------------------------

@blueprint.route("/images/<int(max=2147483647):image_id>/preview.png")
def image_thumbnail(image_id: int):
    """An image's QA preview (GET /images/{id}/preview.png), or a placeholder image when it
    has none."""
    refused = _refused_without(Scope.DOWNLOAD, "A preview")
    if refused is not None:
        return refused
    try:
        return image_preview(image_id)
    except HTTPException as error:
        return Response(PLACEHOLDER_SVG, mimetype="image/svg+xml",
                        headers={PREVIEW_HEADER: f"none ({error.code})"})


@blueprint.route("/images/<int(max=2147483647):image_id>/download")
def image_file(image_id: int):
    """An image's file, as GET /images/{id}/download serves it (logged)."""
    refused = _refused_without(Scope.DOWNLOAD, "Downloading")
    return refused or _answer(image_download, image_id)


def explore_url(target: str | None) -> str:
    """`target` if it is the explore page of this dashboard (where a review returns), else
    the explore page without filters: never another site."""
    home = url_for("dashboard.explore")
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or parts.path != home:
        return home
    return f"{home}?{parts.query}" if parts.query else home


@blueprint.route("/images/<int(max=2147483647):image_id>/qc", methods=["POST"])
def image_review(image_id: int):
    """Sign off, flag, blacklist or reset an image (as PUT /images/{id}/qc), then return to
    the explore page it was done from."""
    if not csrf_ok():
        return page("message.html", 400, message="The form expired: reload the page.")
    refused = _refused_without(Scope.WRITE, "A QC review")
    if refused is not None:
        return refused
    try:
        body = ReviewArgs().load({"action": request.form.get("action", ""),
                                  "comment": request.form.get("comment") or None})
    except ValidationError as error:
        return page("message.html", 400, message=validation_message(error))
    answer = _answer(review, image_id, body["action"], body.get("comment"))
    if isinstance(answer, Response):
        return answer
    return redirect(explore_url(request.form.get("next")))


# Cohorts ---------------------------------------------------------------------------------------

def _cohort_or_page(cohort_id: int) -> Cohort | Response:
    cohort = owned_cohort(cohort_id)
    if cohort is None:
        return page("message.html", 404, message=f"No cohort with id {cohort_id}.")
    return cohort


@blueprint.route("/cohorts/<int(max=2147483647):cohort_id>/download")
def cohort_files(cohort_id: int):
    """Every file of the cohort: a zip (local storage), or its manifest with a presigned URL
    per file (S3/COS), as GET /cohorts/{id}/download answers."""
    refused = _refused_without(Scope.DOWNLOAD, "Downloading")
    cohort = refused or _cohort_or_page(cohort_id)
    if isinstance(cohort, Response):
        return cohort
    answer = _answer(files_download, cohort)
    if isinstance(answer, dict):
        return _json_file(answer, f"cohort-{cohort.id}-urls.json")
    return answer


@blueprint.route("/cohorts/<int(max=2147483647):cohort_id>/manifest.<any(csv, json):fmt>")
def cohort_manifest(cohort_id: int, fmt: str):
    """The cohort's frozen manifest as CSV or JSON (GET /cohorts/{id}/manifest)."""
    cohort = _cohort_or_page(cohort_id)
    if isinstance(cohort, Response):
        return cohort
    answer = _answer(manifest_export, cohort, fmt)
    if isinstance(answer, dict):
        return _json_file(answer, f"cohort-{cohort.id}-manifest.json")
    return answer


@blueprint.route("/cohorts/<int(max=2147483647):cohort_id>/bids.zip")
def cohort_bids(cohort_id: int):
    """The cohort as a BIDS dataset zip (GET /cohorts/{id}/bids.zip)."""
    refused = _refused_without(Scope.DOWNLOAD, "Downloading")
    cohort = refused or _cohort_or_page(cohort_id)
    if isinstance(cohort, Response):
        return cohort
    return _answer(bids_zip_response, cohort)


@blueprint.route("/cohorts/<int(max=2147483647):cohort_id>/delete", methods=["GET", "POST"])
def cohort_delete(cohort_id: int):
    """Ask to confirm deleting the cohort (GET); delete it (POST, as DELETE /cohorts/{id})."""
    refused = _refused_without(Scope.WRITE, "Deleting a cohort")
    cohort = refused or _cohort_or_page(cohort_id)
    if isinstance(cohort, Response):
        return cohort
    if request.method == "GET":
        return page("delete.html", cohort=cohort)
    if not csrf_ok():
        return page("message.html", 400, message="The form expired: reload the page.")
    delete_cohort(cohort)
    return redirect(url_for("dashboard.cohorts"))
