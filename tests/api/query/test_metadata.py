"""meta.<Field> filters on /images: equality, numeric bounds, documented, bad ones named."""
from __future__ import annotations

import pytest


@pytest.fixture
def metadata(session, world):
    """Give the world's images varied acquisition metadata (i1 already has TR 2.3)."""
    values = {"i2": {"RepetitionTime": 0.8, "Manufacturer": "Siemens", "MultibandAccel": 4},
              "i3": {"RepetitionTime": 3, "Manufacturer": "GE", "Moco": True},
              "i4": {"RepetitionTime": "long", "Manufacturer": "siemens"},
              "i5": {"RepetitionTime": None, "EchoTime": 0.03}}
    for name, value in values.items():
        world.images[name].metadata_json = value
    session.commit()
    return world


def names(world, response) -> list[str]:
    body = response.get_json()
    assert response.status_code == 200, body
    return world.names("images", [item["id"] for item in body["items"]])


@pytest.mark.parametrize(("query", "expected"), [
    ({"meta.RepetitionTime_max": 2.5}, ["i1", "i2"]),
    ({"meta.RepetitionTime_min": 2.3}, ["i1", "i3"]),
    ({"meta.RepetitionTime_min": 1, "meta.RepetitionTime_max": 2.5}, ["i1"]),
    ({"meta.RepetitionTime": "3"}, ["i3"]),  # a number equals 3.0 and 3
    ({"meta.RepetitionTime": "3.0"}, ["i3"]),
    ({"meta.RepetitionTime": "long"}, ["i4"]),  # text never breaks the numeric comparisons
    ({"meta.Manufacturer": "Siemens"}, ["i2"]),  # text equality is exact
    ({"meta.Moco": "true"}, ["i3"]),
    ({"meta.EchoTime_max": 1, "type": "rsfMRI"}, ["i5"]),
    ({"meta.Missing": "x"}, []),
])
def test_meta_filters_match_on_both_databases(get, metadata, query, expected):
    assert names(metadata, get("/images", **query)) == expected


def test_stats_take_the_meta_filters_too(get, metadata):
    assert get("/stats", **{"meta.RepetitionTime_max": 2.5}).get_json()["images"] == 2


@pytest.mark.parametrize(("query", "parameter", "message"), [
    ("meta.RepetitionTime_max=fast", "meta.RepetitionTime_max", "must be a number"),
    ("meta.Repetition-Time=1", "meta.Repetition-Time", "letters, digits and underscores"),
    ("meta.=1", "meta.", "letters, digits and underscores"),
    ("meta.TR=1&meta.TR=2", "meta.TR", "must not be repeated"),
    ("meta.TR_min=nan", "meta.TR_min", "must be a number"),
])
def test_a_bad_meta_filter_is_a_400_naming_it(client, auth_headers, world, query, parameter,
                                              message):
    response = client.get(f"/api/v1/images?{query}", headers=auth_headers)
    body = response.get_json()
    assert response.status_code == 400, body
    assert parameter in body["errors"] and message in body["message"]


def test_meta_filters_are_refused_where_not_offered(get, world):
    response = get("/visits", **{"meta.RepetitionTime": "2"})
    assert response.status_code == 400 and "meta.RepetitionTime" in response.get_json()["errors"]


def test_the_pattern_is_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {parameter["name"]: parameter
                  for parameter in spec["paths"]["/api/v1/images"]["get"]["parameters"]}
    assert "meta.<Field>_min" in parameters["meta.{Field}"]["description"]
    assert parameters["meta.{Field}"]["in"] == "query"
