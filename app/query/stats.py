"""Counts of the images matching the /images filters, by group, sex and age (what /stats and
the dashboard show), and the small-cell suppression a counts-only key sees.

A key with the counts-only `aggregate` scope (and not `read`) gets the same counts with every
one from 1 to AGGREGATE_MIN_COUNT - 1 replaced by the string "<AGGREGATE_MIN_COUNT" (0 stays 0:
it names no one). Each cell is suppressed on its own: no complementary suppression.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Subquery, case, func, select

from app.extensions import db
from app.models import Condition, Dataset, Image
from app.query.images import image_filters, matching_images
from app.query.rows import AGE_AT_SCAN, IMAGE_CONDITION_ID, IMAGE_SEX

AGE_BIN_YEARS = 10
# Ages from this one on share the last, open-ended bin.
OLDEST_BIN = 100
# Where the smallest count shown to a counts-only key is set, and its default.
MIN_COUNT_SETTING = "AGGREGATE_MIN_COUNT"
DEFAULT_MIN_COUNT = 5
# The count fields of /stats: at the top and in each row of these lists.
COUNT_FIELDS = ("subjects", "images")
COUNTED_LISTS = ("groups", "sex", "age")


def _age_bin(age: ColumnElement[float]) -> ColumnElement[int | None]:
    # A CASE rather than floor(): SQLite has no floor() unless built with math functions.
    steps = [(age < upper, upper - AGE_BIN_YEARS)
             for upper in range(AGE_BIN_YEARS, OLDEST_BIN + 1, AGE_BIN_YEARS)]
    return case((age.is_(None), None), *steps, else_=OLDEST_BIN)


def _counts(images: Subquery, *groups: ColumnElement[Any]) -> list[Any]:
    statement = select(
        *groups,
        func.count(func.distinct(images.c.subject_id)).label("subjects"),
        func.count().label("images"),
    )
    if groups:
        statement = statement.group_by(*groups).order_by(
            *(group.asc().nulls_last() for group in groups))
    return db.session.execute(statement.select_from(images)).mappings().all()


def min_count() -> int:
    """Return the smallest count a counts-only key is shown as a number (AGGREGATE_MIN_COUNT)."""
    return int(current_app.config.get(MIN_COUNT_SETTING, DEFAULT_MIN_COUNT))


def suppressed_count(count: int, threshold: int) -> int | str:
    """Return `count`, or "<threshold" when it is from 1 to threshold - 1. Pure."""
    return f"<{threshold}" if 0 < count < threshold else count


def suppressed(stats: dict[str, Any], threshold: int) -> dict[str, Any]:
    """Return the counts of stats_of with each small one replaced (suppressed_count). Pure."""

    def row(values: Any) -> dict[str, Any]:
        return {**values, **{name: suppressed_count(values[name], threshold)
                             for name in COUNT_FIELDS}}

    return {**row(stats), **{name: [row(values) for values in stats[name]]
                             for name in COUNTED_LISTS}}


def stats_of(args: dict[str, Any]) -> dict[str, Any]:
    """Return the counts of /stats over the images matching the parsed filters `args`.

    The counts group the image table's own columns (the search read model), so one index
    serves them; dataset and condition ids are named after the grouping.
    """
    images = matching_images(
        image_filters(args), Image.subject_id, Image.dataset_id, Image.type,
        IMAGE_CONDITION_ID.label("condition_id"), IMAGE_SEX.label("sex"),
        AGE_AT_SCAN.label("age_at_scan")).subquery()
    totals = _counts(images)[0]
    age_bin = _age_bin(images.c.age_at_scan).label("age_min")
    ages = [
        {"age_min": row["age_min"],
         "age_max": (row["age_min"] + AGE_BIN_YEARS
                     if row["age_min"] is not None and row["age_min"] < OLDEST_BIN
                     else None),
         "subjects": row["subjects"], "images": row["images"]}
        for row in _counts(images, age_bin)
    ]
    groups = _named_groups(images)
    return {
        "subjects": totals["subjects"],
        "images": totals["images"],
        # Sorted here, not in SQL: string order depends on the database's collation.
        "groups": sorted(groups, key=lambda group: (
            group["dataset"], str(group["type"]), group["condition"] is None,
            group["condition"] or "")),
        "sex": _counts(images, images.c.sex),
        "age": ages,
    }


def _named_groups(images: Subquery) -> list[Any]:
    """Counts by dataset x type x condition: grouped by the image's ids, then named from the
    dataset and condition tables (a handful of rows each) in the same statement."""
    by_id = select(
        images.c.dataset_id, images.c.type, images.c.condition_id,
        func.count(func.distinct(images.c.subject_id)).label("subjects"),
        func.count().label("images"),
    ).group_by(images.c.dataset_id, images.c.type, images.c.condition_id).subquery()
    return db.session.execute(
        select(Dataset.designation.label("dataset"), by_id.c.type,
               Condition.designation.label("condition"), by_id.c.subjects, by_id.c.images)
        .select_from(by_id)
        .join(Dataset, Dataset.id == by_id.c.dataset_id)
        .outerjoin(Condition, Condition.id == by_id.c.condition_id)).mappings().all()
