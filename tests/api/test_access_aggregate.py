"""The counts-only `aggregate` scope: /stats with small counts shown as "<5", nothing else."""
from __future__ import annotations

import pytest

from app.models import Scope
from tests.support.factories import bearer, make_api_key

API_PREFIX = "/api/v1"
# GET routes of rows, ids, paths, files and exports that a counts-only key must not open.
REFUSED_PATHS = ["/images", "/images?format=csv", "/images?format=urls", "/datasets",
                 "/subjects", "/visits", "/scanners", "/conditions", "/measures", "/file_types",
                 "/load_runs", "/cohorts"]


@pytest.fixture
def counts_key(session, world) -> str:
    """The token of a key whose only scope is aggregate."""
    _, token = make_api_key(session, name="counter", scopes=[Scope.AGGREGATE])
    session.commit()
    return token


def get_stats(client, token: str, **params):
    return client.get(f"{API_PREFIX}/stats", query_string=params, headers=bearer(token))


def test_stats_shows_each_count_under_five_as_a_string(client, counts_key):
    answer = get_stats(client, counts_key)
    assert answer.status_code == 200
    small = "<5"
    assert answer.get_json() == {
        "subjects": 5,
        "images": 8,
        "groups": [
            {"dataset": "ALPHA", "type": "DWI", "condition": "HC", "subjects": small,
             "images": small},
            {"dataset": "ALPHA", "type": "T1", "condition": "AD", "subjects": small,
             "images": small},
            {"dataset": "ALPHA", "type": "T1", "condition": "HC", "subjects": small,
             "images": small},
            {"dataset": "ALPHA", "type": "T1", "condition": None, "subjects": small,
             "images": small},
            {"dataset": "BETA", "type": "FieldMap", "condition": None, "subjects": small,
             "images": small},
            {"dataset": "BETA", "type": "T1", "condition": "AD", "subjects": small,
             "images": small},
            {"dataset": "BETA", "type": "T1", "condition": "HC", "subjects": small,
             "images": small},
            {"dataset": "BETA", "type": "rsfMRI", "condition": "HC", "subjects": small,
             "images": small},
        ],
        "sex": [
            {"sex": "female", "subjects": small, "images": 6},
            {"sex": "male", "subjects": small, "images": small},
            {"sex": "unknown", "subjects": small, "images": small},
        ],
        "age": [
            {"age_min": 50, "age_max": 60, "subjects": small, "images": small},
            {"age_min": 60, "age_max": 70, "subjects": small, "images": small},
            {"age_min": 70, "age_max": 80, "subjects": small, "images": small},
            {"age_min": 80, "age_max": 90, "subjects": small, "images": small},
            {"age_min": None, "age_max": None, "subjects": small, "images": small},
        ],
    }


def test_totals_under_the_threshold_are_suppressed_and_zero_is_zero(client, counts_key):
    assert get_stats(client, counts_key, dataset="ALPHA").get_json()["images"] == "<5"
    assert get_stats(client, counts_key, sex="other").get_json() == {
        "subjects": 0, "images": 0, "groups": [], "sex": [], "age": []}


def test_the_threshold_is_a_setting(app, client, counts_key, monkeypatch):
    monkeypatch.setitem(app.config, "AGGREGATE_MIN_COUNT", 2)
    body = get_stats(client, counts_key).get_json()
    assert [(row["sex"], row["subjects"], row["images"]) for row in body["sex"]] == [
        ("female", 3, 6), ("male", "<2", "<2"), ("unknown", "<2", "<2")]


def test_a_key_with_read_as_well_sees_every_count(client, session, world):
    _, token = make_api_key(session, scopes=[Scope.READ, Scope.AGGREGATE])
    session.commit()
    assert get_stats(client, token).get_json()["sex"][1] == {
        "sex": "male", "subjects": 1, "images": 1}


@pytest.mark.parametrize("path", REFUSED_PATHS)
def test_rows_ids_and_exports_are_403_naming_the_scope(client, counts_key, path):
    answer = client.get(f"{API_PREFIX}{path}", headers=bearer(counts_key))
    assert answer.status_code == 403
    body = answer.get_json()
    assert (body["status"], body["error"]) == (403, "Forbidden")
    assert body["message"].startswith("this API key lacks the 'read' scope (its 'aggregate' "
                                      "scope opens only /api/v1/stats")


def test_single_rows_files_and_previews_are_403(client, counts_key, world):
    image = world.id("images", "i1")
    for path in (f"/images/{image}", f"/images/{image}/download",
                 f"/images/{image}/preview.png", f"/subjects/{world.id('subjects', 'ann')}"):
        answer = client.get(f"{API_PREFIX}{path}", headers=bearer(counts_key))
        assert (path, answer.status_code) == (path, 403)


def test_a_restricted_counts_key_counts_only_its_datasets(client, session, world):
    alpha = world.datasets["ALPHA"]
    _, token = make_api_key(session, scopes=[Scope.AGGREGATE], datasets=[alpha])
    session.commit()
    body = get_stats(client, token).get_json()
    assert {group["dataset"] for group in body["groups"]} == {"ALPHA"}
    assert get_stats(client, token, dataset="BETA").status_code in (400, 404)


def test_the_document_says_a_count_may_be_a_string(client):
    spec = client.get(f"{API_PREFIX}/openapi.json").get_json()
    operation = spec["paths"][f"{API_PREFIX}/stats"]["get"]
    assert (operation["x-required-scope"], operation["x-counts-scope"]) == ("read", "aggregate")
    images = spec["components"]["schemas"]["Stats"]["properties"]["images"]
    assert images["oneOf"] == [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": "^<[0-9]+$", "example": "<5"}]
