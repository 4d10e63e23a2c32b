"""The image statements read without a request: parsed filters in, rows and counts out; a
designation that names nothing is an InvalidParameter naming its parameter."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Dataset
from app.query.cohorts import manifest_of
from app.query.datasets import select_datasets, with_counts
from app.query.errors import InvalidParameter
from app.query.filters import ids_of_designations
from app.query.images import filtered_images, image_filters, matching_images
from app.query.sorting import sorted_by
from app.query.stats import stats_of
from tests.support.world import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def image_names(world, args) -> list[str]:
    rows = db.session.execute(sorted_by(filtered_images(args), "id")).mappings()
    return world.names("images", [row["id"] for row in rows])


@pytest.mark.parametrize(("args", "expected"), [
    ({}, ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"]),
    ({"dataset": ["ALPHA"]}, ["i1", "i2", "i3", "i4"]),
    ({"condition": ["AD"]}, ["i3", "i8"]),
    ({"dataset": ["BETA"], "age_min": 80}, ["i8"]),
])
def test_filtered_images_and_their_count_agree(world, args, expected):
    assert image_names(world, args) == expected
    counted = matching_images(image_filters(args), db.func.count())
    assert db.session.scalar(counted) == len(expected)


def test_an_unknown_designation_is_an_invalid_parameter_naming_it(world):
    with pytest.raises(InvalidParameter) as raised:
        ids_of_designations(Dataset, "dataset", ["ALPHA", "nope"])
    message = "unknown dataset: nope (known: ALPHA, BETA)"
    assert raised.value.code == 400
    assert raised.value.data == {"message": message, "errors": {"dataset": [message]}}


def test_stats_and_dataset_counts_read_the_same_images(world):
    stats = stats_of({"dataset": ["ALPHA"]})
    assert (stats["subjects"], stats["images"]) == (2, 4)
    rows = db.session.execute(sorted_by(select_datasets(), "id")).mappings().all()
    counted = {row["designation"]: row["image_count"] for row in with_counts(rows)}
    assert counted == {"ALPHA": 4, "BETA": 4}


def test_a_manifest_lists_the_matching_images_in_canonical_order(world):
    rows = manifest_of({"dataset": ["ALPHA"], "condition": ["AD"]})
    assert [row["image_id"] for row in rows] == [world.id("images", "i3")]
    assert rows[0]["path"] == "ALPHA/ann/i3.nii.gz" and rows[0]["type"] == "T1"
