"""GET /load_runs: the loader runs, newest first, with their counts; filters and paging."""
from datetime import UTC, datetime

import pytest

from tests.support.factories import make_load_run

STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FINISHED = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EARLIER = datetime(2026, 2, 27, 8, 0, tzinfo=UTC)
REPORT = {"dry_run": False,
          "tables": {"subject": {"inserted": 2, "updated": 1, "unchanged": 0}},
          "ignored": {"not an image": 3, "no subject": 1}, "notes": {}, "examples": {}}


@pytest.fixture
def runs(world, session) -> dict[str, int]:
    """Three runs: ALPHA succeeded, BETA failed (started later, recorded first), and a seed
    run tied to no dataset, started last and still running."""
    alpha, beta = world.datasets["ALPHA"], world.datasets["BETA"]
    made = {
        "beta": make_load_run(session, dataset_id=beta.id, loader="flask load BETA",
                              started_at=LATER, finished_at=LATER, status="failed",
                              error="participants.tsv, row 3, column age: not a number"),
        "alpha": make_load_run(session, dataset_id=alpha.id, loader="flask load ALPHA",
                               started_at=STARTED, finished_at=FINISHED, report=REPORT),
        "seed": make_load_run(session, loader="flask seed", started_at=LATER + (LATER - STARTED),
                              status="running"),
        "old": make_load_run(session, dataset_id=alpha.id, loader="flask load ALPHA",
                             started_at=EARLIER, finished_at=EARLIER, dry_run=True,
                             status="dry_run"),
    }
    session.commit()
    return {name: run.id for name, run in made.items()}


def test_runs_come_newest_first_with_their_report_counts(runs, get):
    body = get("/load_runs").get_json()
    assert [item["id"] for item in body["items"]] == [
        runs["seed"], runs["beta"], runs["alpha"], runs["old"]]
    assert body["total"] == 4
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
    ({"dataset": "ALPHA"}, ["alpha", "old"]),
    ({"dataset": "beta"}, ["beta"]),
    ({"status": "failed"}, ["beta"]),
    ({"status": ["FAILED", "running"]}, ["seed", "beta"]),
    ({"dataset": ["ALPHA", "BETA"], "status": "succeeded"}, ["alpha"]),
    ({"status": "dry_run"}, ["old"]),
    ({"sort": "id"}, ["beta", "alpha", "seed", "old"]),
    ({"sort": "-id"}, ["old", "seed", "alpha", "beta"]),
    ({"sort": "finished_at"}, ["old", "alpha", "beta", "seed"]),  # unfinished last
])
def test_filters_and_sort(runs, get, params, expected):
    body = get("/load_runs", **params).get_json()
    assert [item["id"] for item in body["items"]] == [runs[name] for name in expected]


@pytest.mark.parametrize("sort", ["-started_at", "started_at", "finished_at", "-id"])
def test_pages_by_cursor_on_every_sort(runs, get, sort):
    everything = [item["id"] for item in get("/load_runs", sort=sort).get_json()["items"]]
    walked, cursor = [], None
    while True:
        params = {"sort": sort, "per_page": 1, **({"cursor": cursor} if cursor else {})}
        body = get("/load_runs", **params).get_json()
        walked += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert walked == everything and len(walked) == 4


def test_a_cursor_with_a_bad_time_is_a_400(runs, get):
    import base64
    import json

    document = {"r": "load_runs", "s": "-started_at", "k": ["yesterday", 1]}
    cursor = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    body = get("/load_runs", cursor=cursor).get_json()
    assert body["errors"] == {"cursor": ["invalid cursor: wrong sort value"]}


@pytest.mark.parametrize(("params", "parameter"), [
    ({"status": "crashed"}, "status"), ({"dataset": "NOPE"}, "dataset"),
    ({"sort": "loader"}, "sort"), ({"format": "csv"}, "format"), ({"status": ""}, "status"),
])
def test_bad_parameters_are_400s_naming_them(runs, get, params, parameter):
    response = get("/load_runs", **params)
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == [parameter]


def test_needs_a_token(client):
    assert client.get("/api/v1/load_runs").status_code == 401


def test_a_real_failed_load_is_served_with_its_error(app, session, get, tmp_path):
    from tests.support.examples import copy_example, flask_load, replace_in

    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    assert flask_load(app, "OASIS").exit_code == 0
    broken = copy_example(tmp_path, "OASIS")
    replace_in(broken / "OASIS3_clinical_data.csv", "OAS30002,71.4", "OAS30002,sixty")
    assert flask_load(app, "OASIS", broken).exit_code == 2

    runs = get("/load_runs", dataset="oasis").get_json()["items"]
    assert [(run["loader"], run["status"]) for run in runs] == [
        ("load OASIS", "failed"), ("load OASIS", "succeeded")]
    failed, succeeded = runs
    assert failed["error"] == (f"{broken / 'OASIS3_clinical_data.csv'}, row 5, column "
                               "'ageAtEntry': not a number: 'sixty'")
    assert (failed["tables"], failed["ignored"]) == ({}, 0)
    assert succeeded["tables"]["image"] == {"inserted": 23, "updated": 0, "unchanged": 0}
    assert succeeded["ignored"] == 2  # a FLAIR and a T2w
    assert get("/load_runs", status="failed").get_json()["total"] == 1
