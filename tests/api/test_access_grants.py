"""Per-dataset grants: a key sees only the datasets it was granted, in every route, count,
export and download; a hidden dataset behaves as if it did not exist."""
from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import Scope
from tests.support.factories import bearer, make_api_key
from tests.support.world import World

API = "/api/v1"
VISIBLE_DATASETS = ("ALPHA", "BETA")
COLLECTIONS = ("/images", "/subjects", "/visits", "/scanners")
CSV_COLLECTIONS = ("/images", "/subjects", "/visits")
# Filters each collection takes, among those the property test draws.
FILTERS_OF = {"/images": {"dataset", "sex", "condition", "type"},
              "/subjects": {"dataset", "sex", "condition"},
              "/visits": {"dataset", "sex", "condition"},
              "/scanners": {"dataset"},
              "/stats": {"dataset", "sex", "condition", "type"}}
SINGLE_ROWS = {"datasets": ("ALPHA", "BETA"), "subjects": ("ann", "bob", "cat", "dan", "eve"),
               "visits": ("a0", "a1", "b0", "c0", "c1", "d0", "e0"),
               "images": ("i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8")}
DATASET_OF_SUBJECT = {"ann": "ALPHA", "bob": "ALPHA", "cat": "BETA", "dan": "BETA", "eve": "BETA"}


pytestmark = [pytest.mark.storage("local"), pytest.mark.usefixtures("image_files")]


@pytest.fixture
def full_token(session, world) -> str:
    """A key that reads and downloads every dataset: the oracle of the restricted answers."""
    _, token = make_api_key(session, name="everything")
    session.commit()
    return token


def restricted_key(session, world: World, granted: list[str]) -> str:
    _, token = make_api_key(session, scopes=[Scope.READ, Scope.DOWNLOAD],
                            datasets=[world.datasets[name] for name in granted])
    session.commit()
    return token


def get(client, token: str, path: str, **params: Any):
    return client.get(f"{API}{path}", query_string=params, headers=bearer(token))


def csv_dicts(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def dataset_of_row(world: World, kind: str, name: str) -> str:
    if kind == "datasets":
        return name
    if kind == "subjects":
        return DATASET_OF_SUBJECT[name]
    row = getattr(world, kind)[name]
    subject = row.subject
    return DATASET_OF_SUBJECT[subject.external_id]


def test_a_key_granted_one_dataset_sees_only_it(client, session, world):
    token = restricted_key(session, world, ["BETA"])
    datasets = get(client, token, "/datasets").get_json()
    assert [row["designation"] for row in datasets["items"]] == ["BETA"]
    assert datasets["total"] == 1
    assert datasets["items"][0]["image_count"] == 4
    subjects = get(client, token, "/subjects").get_json()
    assert [row["external_id"] for row in subjects["items"]] == ["cat", "dan", "eve"]
    images = get(client, token, "/images").get_json()
    assert world.names("images", [row["id"] for row in images["items"]]) == ["i5", "i6", "i7",
                                                                             "i8"]
    assert images["total"] == 4
    scanners = get(client, token, "/scanners").get_json()
    assert [row["manufacturer"] for row in scanners["items"]] == ["Philips"]
    stats = get(client, token, "/stats").get_json()
    assert (stats["subjects"], stats["images"]) == (3, 4)
    assert {group["dataset"] for group in stats["groups"]} == {"BETA"}
    rows = csv_dicts(get(client, token, "/visits", format="csv"))
    assert [row["external_id"] for row in rows] == ["c0", "c1", "d0", "e0"]


def test_rows_of_a_hidden_dataset_are_404(client, session, world):
    token = restricted_key(session, world, ["BETA"])
    for path in (f"/datasets/{world.id('datasets', 'ALPHA')}",
                 f"/subjects/{world.id('subjects', 'ann')}",
                 f"/visits/{world.id('visits', 'a0')}",
                 f"/images/{world.id('images', 'i1')}"):
        assert get(client, token, path).status_code == 404, path
    i1 = world.id("images", "i1")
    response = get(client, token, f"/images/{i1}/download")
    assert response.status_code == 404
    assert response.get_json()["message"] == f"image {i1} not found"
    assert get(client, token, f"/images/{world.id('images', 'i5')}/download").status_code == 200


def test_filtering_on_a_hidden_dataset_is_the_400_of_an_unknown_one(client, session, world):
    token = restricted_key(session, world, ["BETA"])
    hidden = get(client, token, "/images", dataset="ALPHA")
    unknown = get(client, token, "/images", dataset="NOPE")
    assert hidden.status_code == unknown.status_code == 400
    # The known designations listed are the visible ones only.
    assert hidden.get_json() == {"status": 400, "error": "Bad Request",
                                 "message": "unknown dataset: ALPHA (known: BETA)",
                                 "errors": {"dataset": ["unknown dataset: ALPHA (known: BETA)"]}}
    assert unknown.get_json()["message"] == "unknown dataset: NOPE (known: BETA)"


def test_a_key_without_grants_sees_nothing(client, session, world):
    token = restricted_key(session, world, [])
    for path in COLLECTIONS + ("/datasets",):
        body = get(client, token, path).get_json()
        assert (body["items"], body["total"]) == ([], 0), path
    stats = get(client, token, "/stats").get_json()
    assert (stats["subjects"], stats["images"], stats["groups"]) == (0, 0, [])
    assert csv_dicts(get(client, token, "/images", format="csv")) == []


def test_a_grant_counts_from_the_next_request(app, client, session, world):
    runner = app.test_cli_runner()
    token = runner.invoke(args=["apikey", "create", "carol", "--datasets", "ALPHA"]
                          ).output.strip().splitlines()[-1]
    assert get(client, token, "/datasets").get_json()["total"] == 1
    assert runner.invoke(args=["apikey", "grant", "carol", "BETA"]).exit_code == 0
    assert get(client, token, "/datasets").get_json()["total"] == 2
    assert runner.invoke(args=["apikey", "revoke-grant", "carol", "ALPHA"]).exit_code == 0
    items = get(client, token, "/datasets").get_json()["items"]
    assert [row["designation"] for row in items] == ["BETA"]


filters = st.fixed_dictionaries({}, optional={
    "dataset": st.lists(st.sampled_from(VISIBLE_DATASETS), min_size=1, max_size=2, unique=True),
    "sex": st.sampled_from(["female", "male", "unknown"]),
    "condition": st.lists(st.sampled_from(["AD", "HC"]), min_size=1, max_size=2, unique=True),
    "type": st.lists(st.sampled_from(["T1", "DWI", "rsfMRI", "FieldMap"]), min_size=1,
                     max_size=2, unique=True),
})


def _for(path: str, params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if name in FILTERS_OF[path]}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(granted=st.lists(st.sampled_from(VISIBLE_DATASETS), unique=True), params=filters)
def test_no_answer_shows_or_counts_a_row_of_a_dataset_not_granted(
        client, session, world, full_token, granted, params):
    token = restricted_key(session, world, granted)
    hidden_filter = sorted(set(params.get("dataset", [])) - set(granted))
    for path in (*COLLECTIONS, "/stats"):
        query = _for(path, params)
        answer = get(client, token, path, per_page=1000, **query) if path != "/stats" else get(
            client, token, path, **query)
        if "dataset" in query and hidden_filter:
            assert answer.status_code == 400
            known = ", ".join(sorted(granted))
            assert answer.get_json()["message"] == (
                f"unknown dataset: {', '.join(hidden_filter)}"
                + (f" (known: {known})" if known else ""))  # the visible ones only
            continue
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        if path == "/stats":
            check_stats(client, token, full_token, query, granted, body)
            continue
        full = get(client, full_token, path, per_page=1000, **query).get_json()
        expected = [row for row in full["items"] if row["dataset"] in granted]
        assert body["items"] == expected
        assert body["total"] == len(expected)
        if path in CSV_COLLECTIONS:
            exported = csv_dicts(get(client, token, path, format="csv", **query))
            full_export = csv_dicts(get(client, full_token, path, format="csv", **query))
            assert exported == [row for row in full_export if row["dataset"] in granted]

    datasets = get(client, token, "/datasets").get_json()
    full_datasets = get(client, full_token, "/datasets").get_json()["items"]
    assert datasets["items"] == [row for row in full_datasets if row["designation"] in granted]
    assert datasets["total"] == len(granted)
    for kind, names in SINGLE_ROWS.items():
        for name in names:
            status = get(client, token, f"/{kind}/{world.id(kind, name)}").status_code
            assert status == (200 if dataset_of_row(world, kind, name) in granted else 404)
    for name in SINGLE_ROWS["images"]:
        response = get(client, token, f"/images/{world.id('images', name)}/download")
        if dataset_of_row(world, "images", name) in granted:
            assert response.get_data() == f"bytes of {name}".encode()
        else:
            assert response.status_code == 404


def check_stats(client, token, full_token, query, granted, stats) -> None:
    """The restricted /stats equals the full one over the granted datasets alone."""
    datasets = [name for name in query.get("dataset", VISIBLE_DATASETS) if name in granted]
    images = get(client, token, "/images", per_page=1000, **_for("/images", query)).get_json()
    assert stats["images"] == images["total"]
    assert stats["subjects"] == len({row["subject_id"] for row in images["items"]})
    assert {group["dataset"] for group in stats["groups"]} <= set(granted)
    if datasets:
        full = get(client, full_token, "/stats", **{**query, "dataset": datasets}).get_json()
        assert stats == full
