"""Measures in the query layer: the filter syntax (pure), the value that counts for an image, a
visit and a subject, the filters over each, the extra columns and the quartiles; on both
databases over the scene of tests/support/measure_world.py."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Image, Subject, Visit
from app.query.errors import InvalidParameter
from app.query.images import filtered_images, image_filters, matching_images
from app.query.measures import (
    IMAGE_VALUES,
    SUBJECT_VALUES,
    VISIT_VALUES,
    MeasureFilter,
    measure_clauses,
    nested_measures,
    parse_measure_filter,
    parse_measure_list,
    returned_measures,
    with_measure_columns,
)
from app.query.sorting import sorted_by
from app.query.stats import quantile, stats_of, summary
from tests.support.measure_world import add_measures
from tests.support.world import build_world


@pytest.fixture
def world(session):
    world = build_world(session)
    add_measures(session, world)
    return world


@pytest.mark.parametrize(("text", "parsed"), [
    ("MMSE<24", MeasureFilter("MMSE", "<", ("24",))),
    ("MMSE<=24", MeasureFilter("MMSE", "<=", ("24",))),
    ("MMSE>=10", MeasureFilter("MMSE", ">=", ("10",))),
    ("mmse > 10.5", MeasureFilter("mmse", ">", ("10.5",))),
    ("CDR_GLOBAL=0.5,1", MeasureFilter("CDR_GLOBAL", "=", ("0.5", "1"))),
    ("HANDEDNESS=left", MeasureFilter("HANDEDNESS", "=", ("left",))),
    ("HANDEDNESS = left , right", MeasureFilter("HANDEDNESS", "=", ("left", "right"))),
])
def test_a_filter_reads_as_designation_operator_values(text, parsed):
    assert parse_measure_filter(text) == parsed


@pytest.mark.parametrize(("text", "problem"), [
    ("MMSE", "expected DESIGNATION OP VALUE"),
    ("MMSE!=3", "expected DESIGNATION OP VALUE"),
    ("MMSE=<3", "one operator only"),
    ("MMSE<3<4", "one operator only"),
    ("<24", "expected DESIGNATION OP VALUE"),
    ("MMSE<", "a value is missing"),
    ("CDR_GLOBAL=0.5,", "a value is missing"),
    ("MMSE<1,2", "< takes one value"),
    ("1MMSE<3", "expected DESIGNATION OP VALUE"),
])
def test_a_bad_filter_is_an_invalid_measure(text, problem):
    with pytest.raises(InvalidParameter) as raised:
        parse_measure_filter(text)
    assert raised.value.parameter == "measure"
    assert problem in raised.value.data["errors"]["measure"][0]


def test_a_measures_list_keeps_each_designation_once_in_order():
    assert parse_measure_list("MMSE, CDR_GLOBAL,MMSE") == ["MMSE", "CDR_GLOBAL"]
    for bad in ("MMSE,,CDR_GLOBAL", "MMSE<3", ""):
        with pytest.raises(InvalidParameter) as raised:
            parse_measure_list(bad)
        assert raised.value.parameter == "measures"


def image_names(world, args) -> list[str]:
    rows = db.session.execute(sorted_by(filtered_images(args), "id")).mappings()
    names = world.names("images", [row["id"] for row in rows])
    counted = db.session.scalar(matching_images(image_filters(args), db.func.count()))
    assert counted == len(names)
    return names


@pytest.mark.parametrize(("args", "expected"), [
    # i3: 25 at its visit wins over 22, later but not at the visit.
    ({"measure": ["MMSE<24"]}, ["i5", "i6", "i8"]),
    ({"measure": ["MMSE>=25"]}, ["i1", "i2", "i3"]),
    ({"measure": ["MMSE=29,21"]}, ["i1", "i2", "i5", "i6"]),
    ({"measure": ["MMSE>=10", "MMSE<24"]}, ["i5", "i6", "i8"]),
    # i5's value lies exactly 365 days before its scan.
    ({"measure": ["MMSE<24"], "measure_window": 365}, ["i5", "i6", "i8"]),
    ({"measure": ["MMSE<24"], "measure_window": 364}, ["i6", "i8"]),
    ({"measure": ["MMSE<24"], "measure_window": 0}, ["i6"]),
    ({"measure": ["CDR_GLOBAL=0.5,1"]}, ["i3", "i4", "i8"]),
    ({"measure": ["MMSE<24", "CDR_GLOBAL=0.5,1"]}, ["i8"]),
    # A trait counts whatever the day: ann's 18 at day 900 for her scans at 0 and 730.
    ({"measure": ["EDUCATION_YEARS>=17"]}, ["i1", "i2", "i3"]),
    ({"measure": ["EDUCATION_YEARS<17"]}, ["i4"]),
    ({"measure": ["handedness=left"]}, ["i4", "i8"]),
    ({"measure": ["HANDEDNESS=left,right"], "dataset": ["ALPHA"], "type": ["T1"]},
     ["i1", "i3", "i4"]),
])
def test_images_match_the_value_that_counts(world, args, expected):
    assert image_names(world, args) == expected


def test_stats_count_the_images_a_measure_filter_matches(world):
    stats = stats_of({"measure": ["MMSE<24"]})
    assert (stats["subjects"], stats["images"]) == (2, 3)
    assert "distribution" not in stats


@pytest.mark.parametrize(("args", "expected"), [
    ({"measure": ["MMSE<24"]}, ["c0", "c1", "e0"]),
    ({"measure": ["MMSE<24"], "measure_window": 100}, ["c0", "e0"]),
    ({"measure": ["CDR_GLOBAL=0.5"]}, ["a1", "e0"]),
    ({"measure": ["HANDEDNESS=left"]}, ["b0", "e0"]),
])
def test_visits_match_the_value_that_counts_on_their_day(world, args, expected):
    statement = select(Visit.id).where(*measure_clauses(args, VISIT_VALUES)).order_by(Visit.id)
    assert world.names("visits", db.session.scalars(statement).all()) == expected


@pytest.mark.parametrize(("args", "expected"), [
    # ann's 22 at day 725 matches, whichever value counts for her scans.
    ({"measure": ["MMSE<24"]}, ["ann", "cat", "eve"]),
    ({"measure": ["CDR_GLOBAL=0.5"]}, ["ann", "eve"]),
    ({"measure": ["CDR_GLOBAL=0.5", "MMSE<20"]}, ["eve"]),
    ({"measure": ["HANDEDNESS=right"]}, ["ann"]),
])
def test_subjects_match_when_any_value_does(world, args, expected):
    statement = select(Subject.id).where(*measure_clauses(args, SUBJECT_VALUES)).order_by(
        Subject.id)
    assert world.names("subjects", db.session.scalars(statement).all()) == expected


@pytest.mark.parametrize(("filters", "problem"), [
    (["NOPE<3"], "unknown measure: NOPE (known: BMI, CDR_GLOBAL, EDUCATION_YEARS, HANDEDNESS, "
                 "MMSE)"),
    (["MMSE<high"], "MMSE takes numbers, not 'high'"),
    (["MMSE=1,nan"], "MMSE takes numbers, not 'nan'"),
    (["HANDEDNESS<left"], "HANDEDNESS is a category: it takes = and a set of levels"),
])
def test_a_filter_the_master_list_refuses_is_an_invalid_measure(world, filters, problem):
    with pytest.raises(InvalidParameter) as raised:
        image_filters({"measure": filters})
    assert raised.value.parameter == "measure"
    assert problem in raised.value.data["errors"]["measure"][0]


def test_an_unknown_column_measure_is_an_invalid_measures(world):
    with pytest.raises(InvalidParameter) as raised:
        returned_measures({"measures": ["MMSE", "NOPE"]})
    assert raised.value.data["errors"] == {"measures": [
        "unknown measure: NOPE (known: BMI, CDR_GLOBAL, EDUCATION_YEARS, HANDEDNESS, MMSE)"]}


def test_the_columns_are_those_listed_then_those_filtered_on(world):
    chosen = returned_measures({"measures": ["cdr_global", "MMSE"], "measure": ["MMSE<24",
                                                                                 "BMI>1"]})
    assert [measure.designation for measure in chosen] == ["CDR_GLOBAL", "MMSE", "BMI"]


def test_each_image_gets_the_value_that_counts_and_its_day(world):
    measures = returned_measures({"measures": ["MMSE", "CDR_GLOBAL", "EDUCATION_YEARS",
                                               "HANDEDNESS"]})
    statement = with_measure_columns(select(Image.id).order_by(Image.id).where(
        Image.deleted_at.is_(None)), measures, IMAGE_VALUES, 365)
    rows = db.session.execute(statement).mappings().all()
    got = {world.names("images", [row["id"]])[0]: {
        name: (value["value"], value["day"]) for name, value in
        nested_measures(row, measures).items() if value["value"] is not None} for row in rows}
    assert got == {
        "i1": {"MMSE": (29.0, 0), "CDR_GLOBAL": (0.0, 0), "EDUCATION_YEARS": (18.0, 900),
               "HANDEDNESS": ("right", 0)},
        "i2": {"MMSE": (29.0, 0), "CDR_GLOBAL": (0.0, 0), "EDUCATION_YEARS": (18.0, 900),
               "HANDEDNESS": ("right", 0)},
        "i3": {"MMSE": (25.0, 720), "CDR_GLOBAL": (0.5, 730), "EDUCATION_YEARS": (18.0, 900),
               "HANDEDNESS": ("right", 0)},
        "i4": {"CDR_GLOBAL": (1.0, 0), "EDUCATION_YEARS": (12.0, 0), "HANDEDNESS": ("left", 0)},
        "i5": {"MMSE": (21.0, 0)},
        "i6": {"MMSE": (21.0, 0)},
        "i7": {},
        "i8": {"MMSE": (23.0, 0), "CDR_GLOBAL": (0.5, 100), "HANDEDNESS": ("left", 50)},
    }


def test_a_subject_column_holds_its_latest_value(world):
    measures = returned_measures({"measures": ["MMSE"]})
    statement = with_measure_columns(select(Subject.id).order_by(Subject.id), measures,
                                     SUBJECT_VALUES, 365)
    rows = db.session.execute(statement).mappings().all()
    latest = {world.names("subjects", [row["id"]])[0]: (row["MMSE"], row["MMSE_day"])
              for row in rows}
    assert latest == {"ann": (22.0, 725), "bob": (None, None), "cat": (21.0, 0),
                      "dan": (None, None), "eve": (18.0, 500), "zed": (None, None)}


@pytest.mark.parametrize("values", [
    [3.0], [1.0, 2.0], [22.0, 25.0, 29.0], [18.0, 21.0, 23.0, 30.0, 0.5, 7.25, 7.25],
    [float(n % 17) for n in range(101)],
])
def test_the_quartiles_are_pandas_quantiles(values):
    series = pd.Series(values)
    expected = {"count": len(values), "min": series.min(), "q1": series.quantile(0.25),
                "median": series.quantile(0.5), "q3": series.quantile(0.75),
                "max": series.max()}
    assert summary(values) == pytest.approx(expected, abs=1e-9)
    assert quantile(sorted(values), 1.0) == max(values)


def test_the_distribution_covers_every_value_of_the_selected_subjects(world):
    stats = stats_of({"distribution": "MMSE"})
    assert stats["distribution"] == {"measure": "MMSE", "datasets": [
        {"dataset": "ALPHA", "count": 3, "min": 22.0, "q1": 23.5, "median": 25.0, "q3": 27.0,
         "max": 29.0},
        {"dataset": "BETA", "count": 3, "min": 18.0, "q1": 19.5, "median": 21.0, "q3": 22.0,
         "max": 23.0},
    ]}
    # In BETA only eve's image has a CDR of 0.5 that counts: her values alone.
    narrowed = stats_of({"distribution": "mmse", "measure": ["CDR_GLOBAL=0.5"],
                         "dataset": ["BETA"]})
    assert narrowed["distribution"] == {"measure": "MMSE", "datasets": [
        {"dataset": "BETA", "count": 2, "min": 18.0, "q1": 19.25, "median": 20.5,
         "q3": 21.75, "max": 23.0}]}


def test_a_category_has_no_distribution(world):
    with pytest.raises(InvalidParameter) as raised:
        stats_of({"distribution": "HANDEDNESS"})
    assert raised.value.data["errors"] == {"distribution": [
        "HANDEDNESS is a category: a distribution takes a number or ordinal measure"]}
