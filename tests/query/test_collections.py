"""The subject, visit and scanner statements read without a request: parsed filters in, rows
out, each row's fields named as the API renders them."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.query.filters import apply_filters
from app.query.scanners import SCANNER_FILTERS, SCANNER_ROW, select_scanners
from app.query.sorting import sorted_by
from app.query.subjects import SUBJECT_FILTERS, SUBJECT_ROW, select_subjects
from app.query.visits import VISIT_FILTERS, VISIT_ROW, select_visits
from tests.support.world import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def rows(statement, sort: str = "id") -> list[dict]:
    return [dict(row) for row in db.session.execute(sorted_by(statement, sort)).mappings()]


def test_subjects_match_their_own_conditions_and_their_visits(world):
    found = rows(apply_filters(select_subjects(), {"condition": ["AD"]}, SUBJECT_FILTERS))
    assert [row["external_id"] for row in found] == ["ann", "eve"]
    assert list(found[0]) == list(SUBJECT_ROW)
    assert (found[0]["condition"], found[0]["conditions"]) == (None, ["AD", "HC"])


def test_visits_are_filtered_by_age_at_the_visit(world):
    statement = apply_filters(select_visits(), {"age_min": 70, "dataset": ["ALPHA"]},
                              VISIT_FILTERS)
    found = rows(statement, "days_since_baseline")
    assert [row["external_id"] for row in found] == ["a0", "a1"]
    assert list(found[0]) == list(VISIT_ROW)
    assert [row["condition"] for row in found] == ["HC", "AD"]


def test_scanners_of_live_datasets_by_manufacturer_ignoring_case(world):
    found = rows(apply_filters(select_scanners(), {"manufacturer": "philips"},
                               SCANNER_FILTERS))
    assert [(row["dataset"], row["model"]) for row in found] == [("BETA", "Achieva")]
    assert list(found[0]) == list(SCANNER_ROW)
