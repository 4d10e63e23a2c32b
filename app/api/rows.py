"""The schema fields of the row fields the resources share: a row's dataset and the fields of a
dated row (age, sex, condition). Their SQL expressions are app/query/rows.py's."""
from __future__ import annotations

from typing import Any

from marshmallow import fields
from sqlalchemy import ColumnElement

from app.api.query.columns import Column, columns_of
from app.models import Subject
from app.query.rows import DATASET, dated_row

# The dataset a row belongs to, by designation (the value the dataset filter takes).
DATASET_COLUMN = Column(DATASET, fields.String(required=True, metadata={
    "description": "Dataset designation."}))


def dated_fields(age_name: str) -> dict[str, fields.Field]:
    """The schema fields of dated_row: the age named `age_name`, sex and condition."""
    return {
        age_name: fields.Float(allow_none=True, metadata={
            "description": "age_at_baseline + days_since_baseline / 365.25; null if unknown."}),
        "sex": fields.String(required=True),
        "condition": fields.String(allow_none=True, metadata={
            "description": "The visit's condition if known, else the subject's."}),
    }


def dated_columns(age_name: str, age: ColumnElement[float], condition: Any,
                  sex: ColumnElement[Any] = Subject.sex) -> dict[str, Column]:
    """The columns a dated row (an image, a visit) shares (see app/query/rows.py dated_row)."""
    return columns_of(dated_row(age_name, age, condition, sex), dated_fields(age_name))
