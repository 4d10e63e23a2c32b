"""GET /load_runs: the loader runs, newest first, with their counts; filters and paging."""
from datetime import UTC, datetime

import pytest

from tests.support.factories import make_load_run

STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FINISHED = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
REPORT = {"dry_run": False,
          "tables": {"subject": {"inserted": 2, "updated": 1, "unchanged": 0}},
          "ignored": {"not an image": 3, "no subject": 1}, "notes": {}, "examples": {}}


@pytest.fixture
def runs(world, session) -> dict[str, int]:
    """Three runs: ALPHA succeeded, BETA failed, then a seed run tied to no dataset."""
    alpha, beta = world.datasets["ALPHA"], world.datasets["BETA"]
    made = {
        "alpha": make_load_run(session, dataset_id=alpha.id, loader="flask load ALPHA",
                               started_at=STARTED, finished_at=FINISHED, report=REPORT),
        "beta": make_load_run(session, dataset_id=beta.id, loader="flask load BETA",
                              started_at=STARTED, finished_at=FINISHED, status="failed",
                              error="participants.tsv, row 3, column age: not a number"),
        "seed": make_load_run(session, loader="flask seed", started_at=STARTED, status="running"),
    }
    session.commit()
    return {name: run.id for name, run in made.items()}


def test_runs_come_newest_first_with_their_report_counts(runs, get):
    body = get("/load_runs").get_json()
    assert [item["id"] for item in body["items"]] == [runs["seed"], runs["beta"], runs["alpha"]]
    assert body["total"] == 3
    assert body["items"][2] == {
        "id": runs["alpha"], "dataset": "ALPHA", "loader": "flask load ALPHA",
        "started_at": "2026-03-01T09:00:00+00:00", "finished_at": "2026-03-01T09:05:00+00:00",
        "status": "succeeded", "dry_run": False, "error": None,
        "tables": {"subject": {"inserted": 2, "updated": 1, "unchanged": 0}}, "ignored": 4,
    }
    failed = body["items"][1]
    assert (failed["status"], failed["error"], failed["tables"], failed["ignored"]) == (
        "failed", "participants.tsv, row 3, column age: not a number", {}, 0)
    running = body["items"][0]
    assert (running["dataset"], running["finished_at"], running["status"]) == (
        None, None, "running")


@pytest.mark.parametrize(("params", "expected"), [
    ({"dataset": "ALPHA"}, ["alpha"]),
    ({"dataset": "beta"}, ["beta"]),
    ({"status": "failed"}, ["beta"]),
    ({"status": ["FAILED", "running"]}, ["seed", "beta"]),
    ({"dataset": ["ALPHA", "BETA"], "status": "succeeded"}, ["alpha"]),
    ({"sort": "id"}, ["alpha", "beta", "seed"]),
])
def test_filters_and_sort(runs, get, params, expected):
    body = get("/load_runs", **params).get_json()
    assert [item["id"] for item in body["items"]] == [runs[name] for name in expected]


def test_pages_by_cursor_newest_first(runs, get):
    first = get("/load_runs", per_page=2).get_json()
    assert [item["id"] for item in first["items"]] == [runs["seed"], runs["beta"]]
    rest = get("/load_runs", per_page=2, cursor=first["next_cursor"]).get_json()
    assert [item["id"] for item in rest["items"]] == [runs["alpha"]]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(("params", "parameter"), [
    ({"status": "crashed"}, "status"), ({"dataset": "NOPE"}, "dataset"),
    ({"sort": "loader"}, "sort"), ({"format": "csv"}, "format"),
])
def test_bad_parameters_are_400s_naming_them(runs, get, params, parameter):
    response = get("/load_runs", **params)
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == [parameter]


def test_needs_a_token(client):
    assert client.get("/api/v1/load_runs").status_code == 401
