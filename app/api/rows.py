"""The schema fields of the row fields the resources share: a row's dataset and the fields of a
dated row (age, sex, condition). Their SQL expressions are app/query/rows.py's (DATASET,
dated_row); app/api/query/columns.py's columns_of pairs them. Also the rows a detail route
answers: its own (row_or_404) and those it nests (sorted_rows)."""
from __future__ import annotations

from collections.abc import Sequence

from flask_smorest import abort
from marshmallow import fields
from sqlalchemy import RowMapping, Select

from app.extensions import db
from app.query.sorting import sorted_by

# The dataset a row belongs to, by designation (the value the dataset filter takes).
DATASET_FIELD = fields.String(required=True, metadata={"description": "Dataset designation."})


def dated_fields(age_name: str) -> dict[str, fields.Field]:
    """The schema fields of dated_row: the age named `age_name`, sex and condition."""
    return {
        age_name: fields.Float(allow_none=True, metadata={
            "description": "age_at_baseline + days_since_baseline / 365.25; null if unknown."}),
        "sex": fields.String(required=True),
        "condition": fields.String(allow_none=True, metadata={
            "description": "The visit's condition if known, else the subject's."}),
    }


def row_or_404(statement: Select, not_found: str) -> RowMapping:
    """Return the first row of `statement` (a detail route's one row), or abort with a 404
    whose message is `not_found` (e.g. "no subject with id 7")."""
    row = db.session.execute(statement).mappings().first()
    if row is None:
        abort(404, message=not_found)
    return row


def sorted_rows(statement: Select, sort: str) -> Sequence[RowMapping]:
    """Return every row of `statement` (e.g. a subject's visits) as mappings, ordered by the
    row field `sort` as a collection would be."""
    return db.session.execute(sorted_by(statement, sort)).mappings().all()
