"""GET /stats: counts of the images matching the /images filters, by group, sex and age (the
counts and their suppression are app/query/stats.py's).

A key with the counts-only `aggregate` scope (and not `read`) gets the same counts with every
one from 1 to AGGREGATE_MIN_COUNT - 1 replaced by the string "<AGGREGATE_MIN_COUNT" (small-cell
suppression; 0 stays 0: it names no one). Each cell is suppressed on its own: no complementary
suppression, so a total minus the other cells may bound a suppressed one.
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from app.access.auth import requires
from app.access.current import counts_only
from app.api.query import Blueprint, filter_args
from app.api.query.params import MEASURE_FILTERS, Text
from app.models import Scope
from app.query.images import IMAGE_FILTERS
from app.query.stats import (
    AGE_BIN_YEARS,
    DISTRIBUTION_PARAMETER,
    min_count,
    stats_of,
    suppressed,
)

blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats",
                description="Counts of subjects and images")


class StatsArgs(filter_args("StatsFilterArgs", [*IMAGE_FILTERS, *MEASURE_FILTERS])):
    """The /images filters, and the measure whose distribution to add."""

    distribution = Text(data_key=DISTRIBUTION_PARAMETER, metadata={"description": (
        "A number or ordinal measure's designation (GET /measures), e.g. MMSE: adds its "
        "distribution per dataset over every value held by the subjects of the matching "
        "images, whatever its day (count, min, quartiles by linear interpolation as pandas' "
        "quantile, max).")})


class Count(fields.Field):
    """A count: an integer, or for a counts-only key a string such as "<5" when it is small."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=True, metadata={
            "oneOf": [{"type": "integer", "minimum": 0},
                      {"type": "string", "pattern": "^<[0-9]+$", "example": "<5"}],
            **kwargs.pop("metadata", {})}, **kwargs)


class GroupCountSchema(Schema):
    """Subjects and images of one dataset, image type and condition."""

    dataset = fields.String(required=True)
    type = fields.String(required=True)
    condition = fields.String(allow_none=True)
    subjects = Count()
    images = Count()


class SexCountSchema(Schema):
    """Subjects and images of one sex."""

    sex = fields.String(required=True)
    subjects = Count()
    images = Count()


class AgeCountSchema(Schema):
    """Subjects and images in one bin of age at scan."""

    age_min = fields.Integer(allow_none=True, metadata={
        "description": "Inclusive lower bound of the age at scan; null for unknown ages."})
    age_max = fields.Integer(allow_none=True, metadata={
        "description": "Exclusive upper bound; null for the open last bin and unknown ages."})
    subjects = Count(metadata={
        "description": "Subjects with an image in the bin (one may count in several bins)."})
    images = Count()


class DatasetDistributionSchema(Schema):
    """A measure's values in one dataset: how many, and their quartiles."""

    dataset = fields.String(required=True)
    count = Count(metadata={"description": "Values (assessments) of the measure."})
    min = fields.Float(allow_none=True, metadata={
        "description": "Null for a counts-only key when the count is suppressed (as all four "
                       "below)."})
    q1 = fields.Float(allow_none=True)
    median = fields.Float(allow_none=True)
    q3 = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)


class DistributionSchema(Schema):
    """The distribution of a measure per dataset (with distribution=DESIGNATION)."""

    measure = fields.String(required=True, metadata={"example": "MMSE"})
    datasets = fields.List(fields.Nested(DatasetDistributionSchema), required=True, metadata={
        "description": "One row per dataset with values, by designation."})


class StatsSchema(Schema):
    """Counts over the images matching the filters.

    Every count is an integer, except for a key with the counts-only 'aggregate' scope (and
    not 'read'): there a count from 1 to AGGREGATE_MIN_COUNT - 1 (default 5) is the string
    "<5"; 0 stays 0.
    """

    subjects = Count()
    images = Count()
    groups = fields.List(fields.Nested(GroupCountSchema), required=True, metadata={
        "description": "By dataset x image type x condition (visit's, else subject's)."})
    sex = fields.List(fields.Nested(SexCountSchema), required=True)
    age = fields.List(fields.Nested(AgeCountSchema), required=True, metadata={
        "description": f"By {AGE_BIN_YEARS}-year bin of age at scan."})
    distribution = fields.Nested(DistributionSchema, metadata={
        "description": "With distribution=DESIGNATION only."})


@blp.route("")
class Stats(MethodView):
    @requires(Scope.READ, counts=True)
    @blp.arguments(StatsArgs, location="query", as_kwargs=False)
    @blp.response(200, StatsSchema)
    def get(self, args: dict[str, Any]):
        """Count subjects and images by dataset x type x condition, sex, and age at scan.

        Takes the same filters as /images and counts only the images they match; with
        distribution=MMSE adds that measure's quartiles per dataset. Open to the
        counts-only 'aggregate' scope too: such a key sees each count from 1 to 4 as "<5"
        (the threshold is the AGGREGATE_MIN_COUNT setting).
        """
        stats = stats_of(args)
        return suppressed(stats, min_count()) if counts_only() else stats
