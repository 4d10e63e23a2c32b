"""visit_has_type: rows with one visit holding an image of each given type (e.g. a T1 and an
rsfMRI acquired at the same visit), on /visits (the visit itself) and /subjects (any visit)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists
from sqlalchemy.orm import aliased

from app.models import Image, Subject, Visit


def visit_holds_types(visit_id: ColumnElement[int], types: list[Any]) -> ColumnElement[bool]:
    """Match when the visit `visit_id` holds a (not deleted) image of every one of `types`."""
    return and_(*(exists().where(Image.visit_id == visit_id, Image.deleted_at.is_(None),
                                 Image.type == image_type)
                  for image_type in dict.fromkeys(types)))


def visit_has_type_of_visit(_name: str, types: list[Any]) -> ColumnElement[bool]:
    """The /visits filter: the visit itself holds an image of each type."""
    return visit_holds_types(Visit.id, types)


def visit_has_type_of_subject(_name: str, types: list[Any]) -> ColumnElement[bool]:
    """The /subjects filter: one of the subject's visits holds an image of each type."""
    any_visit = aliased(Visit, name="typed_visit")
    return exists().where(any_visit.subject_id == Subject.id, any_visit.deleted_at.is_(None),
                          visit_holds_types(any_visit.id, types))
