"""Counts of the images matching the /images filters, by group, sex and age (what /stats and
the dashboard show), a measure's distribution over their subjects, and the small-cell
suppression a counts-only key sees.

A key with the counts-only `aggregate` scope (and not `read`) gets the same counts with every
one from 1 to AGGREGATE_MIN_COUNT - 1 replaced by the string "<AGGREGATE_MIN_COUNT" (0 stays 0:
it names no one). Each cell is suppressed on its own: no complementary suppression. A
distribution's row of fewer values shows no value either (its minimum would be someone's).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Label, Subquery, case, func, select, tuple_

from app.extensions import db
from app.models import Assessment, Condition, Dataset, Image, MeasureKind, Subject
from app.query.errors import InvalidParameter
from app.query.images import image_filters, matching_images
from app.query.measures import known_measures
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
# The parameter naming the measure whose distribution /stats adds, and what it gives per dataset.
DISTRIBUTION_PARAMETER = "distribution"
DISTRIBUTION_VALUES = ("min", "q1", "median", "q3", "max")


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

    shown = {**row(stats), **{name: [row(values) for values in stats[name]]
                              for name in COUNTED_LISTS}}
    if DISTRIBUTION_PARAMETER in stats:
        distribution = stats[DISTRIBUTION_PARAMETER]
        shown[DISTRIBUTION_PARAMETER] = {**distribution, "datasets": [
            {**values, "count": suppressed_count(values["count"], threshold),
             **({name: None for name in DISTRIBUTION_VALUES}
                if 0 < values["count"] < threshold else {})}
            for values in distribution["datasets"]]}
    return shown


def quantile(ordered: Sequence[float], fraction: float) -> float:
    """Return the `fraction` quantile of the sorted, non-empty `ordered`, by linear
    interpolation between the closest ranks (pandas' default `quantile`). Pure."""
    position = (len(ordered) - 1) * fraction
    below = int(position)
    if below + 1 >= len(ordered):
        return float(ordered[-1])
    return float(ordered[below] + (ordered[below + 1] - ordered[below]) * (position - below))


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Return count, min, q1, median, q3 and max of non-empty `values`. Pure."""
    ordered = sorted(values)
    return {"count": len(ordered), "min": float(ordered[0]), "q1": quantile(ordered, 0.25),
            "median": quantile(ordered, 0.5), "q3": quantile(ordered, 0.75),
            "max": float(ordered[-1])}


def distribution_of(clauses: list[ColumnElement[bool]], designation: str) -> dict[str, Any]:
    """The distribution of a number or ordinal measure per dataset: every value of the measure
    held by the subjects of the images matching the filter `clauses` (image_filters), whatever
    its day, summarised by `summary`.

    The values are read in one query and summarised here: SQLite has no percentile function,
    and the same code gives the same quartiles on both databases.
    """
    measure = known_measures(DISTRIBUTION_PARAMETER, [designation])[designation]
    if measure.kind is MeasureKind.CATEGORY:
        problem = (f"{measure.designation} is a category: a distribution takes a number or "
                   "ordinal measure")
        raise InvalidParameter(DISTRIBUTION_PARAMETER, problem)
    rows = db.session.execute(
        select(Dataset.designation, Assessment.value_number)
        .select_from(Assessment)
        .join(Subject, Subject.id == Assessment.subject_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .where(Assessment.measure_id == measure.id, Assessment.value_number.is_not(None),
               Assessment.subject_id.in_(matching_images(clauses, Image.subject_id)))).all()
    by_dataset: dict[str, list[float]] = {}
    for dataset, value in rows:
        by_dataset.setdefault(dataset, []).append(value)
    # Sorted here, not in SQL: string order depends on the database's collation.
    return {"measure": measure.designation,
            "datasets": [{"dataset": dataset, **summary(values)}
                         for dataset, values in sorted(by_dataset.items())]}


def stats_of(args: dict[str, Any]) -> dict[str, Any]:
    """Return the counts of /stats over the images matching the parsed filters `args`, and
    with `distribution` in them that measure's distribution (distribution_of).

    The counts group the image table's own columns (the search read model), so one index
    serves them; dataset and condition ids are named after the grouping.
    """
    clauses = image_filters(args)
    images = matching_images(
        clauses, Image.subject_id, Image.dataset_id, Image.type,
        IMAGE_CONDITION_ID.label("condition_id"), IMAGE_SEX.label("sex"),
        AGE_AT_SCAN.label("age_at_scan")).subquery()
    age_bin = _age_bin(images.c.age_at_scan).label("age_min")
    if db.session.get_bind().dialect.name == "postgresql":
        totals, by_age, groups, by_sex = _counts_in_one_pass(images, age_bin)
    else:
        totals, by_age = _counts(images)[0], _counts(images, age_bin)
        groups, by_sex = _named_groups(images), _counts(images, images.c.sex)
    ages = [
        {"age_min": row["age_min"],
         "age_max": (row["age_min"] + AGE_BIN_YEARS
                     if row["age_min"] is not None and row["age_min"] < OLDEST_BIN
                     else None),
         "subjects": row["subjects"], "images": row["images"]}
        for row in by_age
    ]
    distribution = ({DISTRIBUTION_PARAMETER: distribution_of(
        clauses, args[DISTRIBUTION_PARAMETER])} if args.get(DISTRIBUTION_PARAMETER) else {})
    return {
        "subjects": totals["subjects"],
        "images": totals["images"],
        # Sorted here, not in SQL: string order depends on the database's collation.
        "groups": sorted(groups, key=lambda group: (
            group["dataset"], str(group["type"]), group["condition"] is None,
            group["condition"] or "")),
        "sex": by_sex,
        "age": ages,
        **distribution,
    }


def _counts_in_one_pass(images: Subquery, age_bin: Label[Any]) -> tuple[Any, list[Any], list[Any],
                                                                        list[Any]]:
    """The totals, and the counts by age bin, by dataset x type x condition and by sex, in one
    statement (PostgreSQL's GROUPING SETS): the matching images are read once, not four times
    (at 10,000,000 images each read is an index range of hundreds of thousands of entries).
    The same rows as _counts and _named_groups give, in their order."""
    keys = {"dataset_id": images.c.dataset_id, "type": images.c.type,
            "condition_id": images.c.condition_id, "sex": images.c.sex, "age_min": age_bin}
    sets = {"groups": ("dataset_id", "type", "condition_id"), "sex": ("sex",),
            "age": ("age_min",), "totals": ()}
    counted = select(
        # One bit a key, the first key's the highest, set where the row is not grouped by it.
        func.grouping(*keys.values()).label("grouping"), *keys.values(),
        func.count(func.distinct(images.c.subject_id)).label("subjects"),
        func.count().label("images"),
    ).group_by(func.grouping_sets(*(tuple_(*(keys[name] for name in names))
                                    for names in sets.values()))).subquery()
    rows = db.session.execute(
        select(counted, Dataset.designation.label("dataset"),
               Condition.designation.label("condition"))
        .outerjoin(Dataset, Dataset.id == counted.c.dataset_id)
        .outerjoin(Condition, Condition.id == counted.c.condition_id)).mappings().all()
    found: dict[str, list[Any]] = {name: [] for name in sets}
    for row in rows:
        name = next(name for name, names in sets.items()
                    if row["grouping"] == sum(1 << (len(keys) - 1 - index)
                                              for index, key in enumerate(keys)
                                              if key not in names))
        found[name].append(row)
    fields = {"groups": ("dataset", "type", "condition"), "sex": ("sex",), "age": ("age_min",),
              "totals": ()}
    shown = {name: [{**{field: row[field] for field in fields[name]},
                     "subjects": row["subjects"], "images": row["images"]}
                    for row in found[name]] for name in sets}
    # As _counts orders them: by the key, nulls last (the sexes are lower-case ASCII words,
    # ordered alike by every collation).
    shown["sex"].sort(key=lambda row: (row["sex"] is None, row["sex"] or ""))
    shown["age"].sort(key=lambda row: (row["age_min"] is None, row["age_min"] or 0))
    return shown["totals"][0], shown["age"], shown["groups"], shown["sex"]


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
