"""GET the harmonised participant table of a dataset or of a saved cohort as BIDS files:
participants.tsv and its participants.json data dictionary (app/query/participants.py).

A dataset is named by its designation and must be visible to the key (else 404); a cohort must
be the key's own (else 404), and its table holds only the subjects of the datasets the key sees.
Each participants.tsv download is logged in the audit log as an export.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from app.access.audit import export_recorder
from app.api.cohorts import owned_cohort_or_404
from app.api.query import Blueprint, NoArgs
from app.extensions import db
from app.models import Dataset
from app.query.participants import (
    ParticipantTable,
    cohort_subjects,
    dataset_subjects,
    participant_table,
)

blp = Blueprint("participants", __name__, url_prefix="/api/v1",
                description="Harmonised participant tables as BIDS participants.tsv/.json")

TSV_TYPE = "text/tab-separated-values"
TSV_DOC = {200: {"description": "participants.tsv (BIDS): one row per participant, n/a for "
                                "missing values.",
                 "content": {TSV_TYPE: {"schema": {"type": "string"}}}}}
JSON_DOC = {200: {"description": "participants.json (BIDS data dictionary with NeuroBagel "
                                 "annotations): {column: {Description, Units, Levels, "
                                 "TermURL, Annotations}}.",
                  "content": {"application/json": {"schema": {"type": "object"}}}}}


def dataset_or_404(designation: str) -> Dataset:
    """Return the dataset of that designation if the key sees it (not withdrawn), else 404."""
    dataset = db.session.scalar(select(Dataset).where(Dataset.designation == designation,
                                                      Dataset.deleted_at.is_(None)))
    if dataset is None:
        abort(404, message=f"no dataset {designation!r}")
    return dataset


def tsv_response(table: ParticipantTable, filename: str) -> Response:
    """participants.tsv as a download, logged as an export of its rows."""
    export_recorder()(len(table.rows), table.datasets)
    return Response(table.tsv(), mimetype=TSV_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def json_response(table: ParticipantTable) -> Response:
    """participants.json, its columns in the table's order."""
    return Response(table.json(), mimetype="application/json")


def dataset_table(designation: str) -> ParticipantTable:
    """The participant table of a visible dataset (404 otherwise)."""
    return participant_table(dataset_subjects(dataset_or_404(designation).id),
                             with_dataset=False)


def cohort_table(cohort_id: int) -> ParticipantTable:
    """The participant table of a cohort of the key (404 otherwise), with a dataset column."""
    return participant_table(cohort_subjects(owned_cohort_or_404(cohort_id).id),
                             with_dataset=True)


def exported(responses: dict[int, Any], missing: str) -> Callable[[Callable], Callable]:
    """The decorators of every route here: no query parameter, the file's documented
    response, and a 404 when the dataset or cohort is not there for the key."""
    def decorate(view: Callable) -> Callable:
        view = blp.alt_response(404, description=missing)(view)
        view = blp.doc(responses=responses)(view)
        return blp.arguments(NoArgs, location="query", as_kwargs=False)(view)

    return decorate


NO_DATASET = "No such dataset visible to this key."
NO_COHORT = "No such cohort of this key."


@blp.route("/datasets/<designation>/participants.tsv")
class DatasetParticipantsTsv(MethodView):
    @exported(TSV_DOC, NO_DATASET)
    def get(self, _args: dict[str, Any], designation: str):
        """A dataset's harmonised participants.tsv (sex, age, condition, every measure)."""
        return tsv_response(dataset_table(designation), "participants.tsv")


@blp.route("/datasets/<designation>/participants.json")
class DatasetParticipantsJson(MethodView):
    @exported(JSON_DOC, NO_DATASET)
    def get(self, _args: dict[str, Any], designation: str):
        """The participants.json data dictionary of a dataset's participants.tsv."""
        return json_response(dataset_table(designation))


@blp.route("/cohorts/<int(max=2147483647):cohort_id>/participants.tsv")
class CohortParticipantsTsv(MethodView):
    @exported(TSV_DOC, NO_COHORT)
    def get(self, _args: dict[str, Any], cohort_id: int):
        """A cohort's harmonised participants.tsv: its images' subjects, with their dataset."""
        return tsv_response(cohort_table(cohort_id), f"cohort-{cohort_id}-participants.tsv")


@blp.route("/cohorts/<int(max=2147483647):cohort_id>/participants.json")
class CohortParticipantsJson(MethodView):
    @exported(JSON_DOC, NO_COHORT)
    def get(self, _args: dict[str, Any], cohort_id: int):
        """The participants.json data dictionary of a cohort's participants.tsv."""
        return json_response(cohort_table(cohort_id))
