"""Measures through the API: GET /measures, the measure filters and measures columns of /images,
/subjects and /visits (JSON, CSV, Parquet), /stats' distribution, cohorts keeping measure
filters, the 400s naming each parameter, and a restricted key seeing only its datasets' values.
On both databases, over the scene of tests/support/measure_world.py."""
from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.models import Scope
from tests.support.factories import bearer, make_api_key, make_assessment
from tests.support.measure_world import add_measures

API = "/api/v1"


@pytest.fixture
def measures(session, world):
    return add_measures(session, world)


def names(world, kind, items) -> list[str]:
    return world.names(kind, [item["id"] for item in items])


def test_lists_the_measures_of_the_master_list(measures, get):
    body = get("/measures", sort="designation", per_page=2).get_json()
    assert body["total"] == 5
    assert body["items"] == [
        {"id": measures["BMI"].id, "designation": "BMI", "description": None,
         "unit": "kg/m2", "kind": "number", "minimum": None, "maximum": None, "levels": None,
         "per_subject": False, "vocabulary": None, "term_code": None, "term_url": None},
        {"id": measures["CDR_GLOBAL"].id, "designation": "CDR_GLOBAL", "description": None,
         "unit": None, "kind": "ordinal", "minimum": None, "maximum": None,
         "levels": {"steps": [0, 0.5, 1, 2, 3]}, "per_subject": False, "vocabulary": None,
         "term_code": None, "term_url": None},
    ]
    mmse = get("/measures", sort="-designation", per_page=1).get_json()["items"][0]
    assert mmse == {"id": measures["MMSE"].id, "designation": "MMSE",
                    "description": "Mini-Mental State Examination", "unit": "points",
                    "kind": "ordinal", "minimum": 0.0, "maximum": 30.0, "levels": None,
                    "per_subject": False, "vocabulary": None, "term_code": None,
                    "term_url": None}


def test_images_below_an_mmse_return_the_value_and_its_day(world, measures, get):
    body = get("/images", measure="MMSE<24").get_json()
    assert body["total"] == 3
    assert names(world, "images", body["items"]) == ["i5", "i6", "i8"]
    assert [item["measures"] for item in body["items"]] == [
        {"MMSE": {"value": 21.0, "day": 0}}, {"MMSE": {"value": 21.0, "day": 0}},
        {"MMSE": {"value": 23.0, "day": 0}}]


def test_several_filters_and_a_window_all_hold(world, measures, get):
    body = get("/images", measure=["MMSE>=10", "MMSE<24"], measure_window=364,
               measures="CDR_GLOBAL").get_json()
    assert names(world, "images", body["items"]) == ["i6", "i8"]
    assert [item["measures"] for item in body["items"]] == [
        {"CDR_GLOBAL": {"value": None, "day": None}, "MMSE": {"value": 21.0, "day": 0}},
        {"CDR_GLOBAL": {"value": 0.5, "day": 100}, "MMSE": {"value": 23.0, "day": 0}}]
    both = get("/images", measure=["MMSE<24", "CDR_GLOBAL=0.5,1"]).get_json()
    assert names(world, "images", both["items"]) == ["i8"]


def test_rows_carry_measures_only_when_asked_for(world, measures, get):
    plain = get("/images", type="T1", per_page=1).get_json()["items"][0]
    assert "measures" not in plain
    asked = get("/images", type="T1", per_page=1, measures="HANDEDNESS,EDUCATION_YEARS")
    assert asked.get_json()["items"][0]["measures"] == {
        "HANDEDNESS": {"value": "right", "day": 0},
        "EDUCATION_YEARS": {"value": 18.0, "day": 900}}


def test_pages_by_cursor_keep_the_measures(world, measures, get):
    first = get("/images", measure="MMSE<24", per_page=2, sort="-id").get_json()
    second = get("/images", measure="MMSE<24", per_page=2, sort="-id",
                 cursor=first["next_cursor"]).get_json()
    assert names(world, "images", first["items"] + second["items"]) == ["i8", "i6", "i5"]
    assert second["items"][0]["measures"] == {"MMSE": {"value": 21.0, "day": 0}}


def test_subjects_match_when_any_value_does(world, measures, get):
    body = get("/subjects", measure="CDR_GLOBAL=0.5", measures="MMSE").get_json()
    assert names(world, "subjects", body["items"]) == ["ann", "eve"]
    assert body["total"] == 2
    # A subject's columns hold its latest value.
    assert [item["measures"] for item in body["items"]] == [
        {"MMSE": {"value": 22.0, "day": 725}, "CDR_GLOBAL": {"value": 0.5, "day": 730}},
        {"MMSE": {"value": 18.0, "day": 500}, "CDR_GLOBAL": {"value": 0.5, "day": 100}}]


def test_visits_match_the_value_that_counts_on_their_day(world, measures, get):
    body = get("/visits", measure="MMSE<24", measure_window=100).get_json()
    assert names(world, "visits", body["items"]) == ["c0", "e0"]
    assert [item["measures"] for item in body["items"]] == [
        {"MMSE": {"value": 21.0, "day": 0}}, {"MMSE": {"value": 23.0, "day": 0}}]


def test_csv_has_a_value_and_a_day_column_per_measure(world, measures, get):
    response = get("/visits", measures="BMI,HANDEDNESS", dataset="ALPHA", format="csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # BMI (the measure) beside bmi (the visit's own field).
    assert list(rows[0])[-5:] == ["bmi", "BMI", "BMI_day", "HANDEDNESS", "HANDEDNESS_day"]
    assert [(row["external_id"], row["bmi"], row["BMI"], row["BMI_day"], row["HANDEDNESS"],
             row["HANDEDNESS_day"]) for row in rows] == [
        ("a0", "22.5", "24.5", "0", "right", "0"), ("a1", "", "", "", "right", "0"),
        ("b0", "", "", "", "left", "0")]


def test_parquet_columns_are_typed(world, measures, get):
    response = get("/images", measure="MMSE<29", measures="HANDEDNESS", format="parquet")
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.get_data()))
    schema = {field.name: field.type for field in table.schema}
    assert (schema["HANDEDNESS"], schema["HANDEDNESS_day"], schema["MMSE"],
            schema["MMSE_day"]) == (pa.string(), pa.int64(), pa.float64(), pa.int64())
    assert table.column_names[-4:] == ["HANDEDNESS", "HANDEDNESS_day", "MMSE", "MMSE_day"]
    rows = table.select(["id", "MMSE", "MMSE_day", "HANDEDNESS"]).to_pylist()
    assert [(world.names("images", [row["id"]])[0], row["MMSE"], row["MMSE_day"],
             row["HANDEDNESS"]) for row in rows] == [
        ("i3", 25.0, 720, "right"), ("i5", 21.0, 0, None), ("i6", 21.0, 0, None),
        ("i8", 23.0, 0, "left")]


def test_parquet_types_hold_when_every_value_is_null(world, measures, get):
    response = get("/subjects", dataset="ALPHA", measures="MMSE,HANDEDNESS", sex="male",
                   format="parquet")
    table = pq.read_table(io.BytesIO(response.get_data()))
    assert table.select(["MMSE", "MMSE_day", "HANDEDNESS"]).to_pylist() == [
        {"MMSE": None, "MMSE_day": None, "HANDEDNESS": "left"}]
    assert (table.schema.field("MMSE").type, table.schema.field("MMSE_day").type) == (
        pa.float64(), pa.int64())


@pytest.mark.parametrize(("path", "params", "parameter", "problem"), [
    ("/images", {"measure": "MMSE"}, "measure", "expected DESIGNATION OP VALUE"),
    ("/images", {"measure": "MMSE<1,2"}, "measure", "< takes one value"),
    ("/images", {"measure": "NOPE<3"}, "measure", "unknown measure: NOPE"),
    ("/images", {"measure": "MMSE<low"}, "measure", "MMSE takes numbers, not 'low'"),
    ("/subjects", {"measure": "HANDEDNESS>left"}, "measure", "HANDEDNESS is a category"),
    ("/visits", {"measure": "MMSE=inf"}, "measure", "MMSE takes numbers, not 'inf'"),
    ("/stats", {"measure": "MMSE<"}, "measure", "a value is missing"),
    ("/images", {"measure_window": "-1"}, "measure_window", "greater than or equal to 0"),
    ("/visits", {"measure_window": "a year"}, "measure_window", "Not a valid integer."),
    ("/images", {"measure_window": ["1", "2"]}, "measure_window", "must be given once"),
    ("/images", {"measures": "MMSE,,BMI"}, "measures", "an item is empty"),
    ("/subjects", {"measures": "MMSE<3"}, "measures", "not a measure designation"),
    ("/visits", {"measures": "MMSE,NOPE"}, "measures", "unknown measure: NOPE"),
    ("/stats", {"measures": "MMSE"}, "measures", "Unknown field."),
    ("/stats", {"distribution": "NOPE"}, "distribution", "unknown measure: NOPE"),
    ("/stats", {"distribution": "HANDEDNESS"}, "distribution", "HANDEDNESS is a category"),
])
def test_a_bad_parameter_is_a_400_naming_it(measures, get, path, params, parameter, problem):
    response = get(path, **params)
    assert response.status_code == 400, response.get_json()
    errors = response.get_json()["errors"]
    assert list(errors) == [parameter]
    assert problem in errors[parameter][0]


def test_stats_give_a_measure_distribution_per_dataset(world, measures, get):
    body = get("/stats", distribution="MMSE").get_json()
    assert body["distribution"] == {"measure": "MMSE", "datasets": [
        {"dataset": "ALPHA", "count": 3, "min": 22.0, "q1": 23.5, "median": 25.0, "q3": 27.0,
         "max": 29.0},
        {"dataset": "BETA", "count": 3, "min": 18.0, "q1": 19.5, "median": 21.0, "q3": 22.0,
         "max": 23.0}]}
    filtered = get("/stats", measure="MMSE<24", distribution="CDR_GLOBAL").get_json()
    assert (filtered["subjects"], filtered["images"]) == (2, 3)
    assert filtered["distribution"] == {"measure": "CDR_GLOBAL", "datasets": [
        {"dataset": "BETA", "count": 1, "min": 0.5, "q1": 0.5, "median": 0.5, "q3": 0.5,
         "max": 0.5}]}
    assert "distribution" not in get("/stats").get_json()


def test_a_counts_only_key_sees_no_value_of_a_small_group(client, session, world, measures):
    _, token = make_api_key(session, name="counter", scopes=[Scope.AGGREGATE])
    session.commit()
    body = client.get(f"{API}/stats", query_string={"distribution": "MMSE"},
                      headers=bearer(token)).get_json()
    assert body["distribution"]["datasets"] == [
        {"dataset": dataset, "count": "<5", "min": None, "q1": None, "median": None,
         "q3": None, "max": None} for dataset in ("ALPHA", "BETA")]


def test_a_cohort_keeps_its_measure_filters(client, session, world, measures):
    _, token = make_api_key(session, name="owner", scopes=[Scope.READ, Scope.WRITE])
    session.commit()
    query = {"measure": ["MMSE<24"], "measure_window": 364}
    response = client.post(f"{API}/cohorts", json={"name": "low mmse", "query": query},
                           headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    cohort = response.get_json()
    assert cohort["query"] == {"measure": ["MMSE<24"], "measure_window": ["364"]}
    assert cohort["image_count"] == 2
    # ann's scan at day 730 now has 20 at its visit: the re-run adds it.
    make_assessment(session, measure=measures["MMSE"], subject=world.subjects["ann"],
                    visit=world.visits["a1"], days_since_baseline=730, value=20.0)
    session.commit()
    diff = client.get(f"{API}/cohorts/{cohort['id']}/diff", headers=bearer(token)).get_json()
    assert [item["image_id"] for item in diff["added"]] == [world.id("images", "i3")]
    assert (diff["removed"], diff["unchanged"]) == ([], 2)


def test_a_cohort_with_a_bad_measure_filter_is_a_400(client, session, world, measures):
    _, token = make_api_key(session, name="owner", scopes=[Scope.READ, Scope.WRITE])
    session.commit()
    bad_syntax = client.post(f"{API}/cohorts", json={"name": "x", "query": {
        "measure": "MMSE<<3"}}, headers=bearer(token))
    assert bad_syntax.status_code == 400
    assert list(bad_syntax.get_json()["errors"]) == ["query.measure"]
    unknown = client.post(f"{API}/cohorts", json={"name": "x", "query": {
        "measure": "NOPE<3"}}, headers=bearer(token))
    assert unknown.status_code == 400
    assert list(unknown.get_json()["errors"]) == ["measure"]


def test_a_restricted_key_sees_only_its_datasets_values(client, session, world, measures):
    _, token = make_api_key(session, name="alpha-only", datasets=[world.datasets["ALPHA"]])
    session.commit()

    def get(path, **params):
        response = client.get(f"{API}{path}", query_string=params, headers=bearer(token))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert names(world, "subjects", get("/subjects", measure="MMSE<24")["items"]) == ["ann"]
    assert names(world, "images", get("/images", measure="MMSE<29")["items"]) == ["i3"]
    assert [row["dataset"] for row in get("/stats", distribution="MMSE")["distribution"][
        "datasets"]] == ["ALPHA"]
