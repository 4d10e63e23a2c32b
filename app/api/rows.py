"""The schema fields of the row fields the resources share: a row's dataset and the fields of a
dated row (age, sex, condition). Their SQL expressions are app/query/rows.py's (DATASET,
dated_row); app/api/query/columns.py's columns_of pairs them."""
from __future__ import annotations

from marshmallow import fields

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
