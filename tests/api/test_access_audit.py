"""The audit log: every download, issued download URL, export and key change appears once, with
the key, the action, the images or row count and the time; no route can change it."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.access.auth import as_utc
from app.models import Scope
from app.models.base import utcnow
from tests.support.factories import bearer, make_api_key

API = "/api/v1"
# What a key does with the data (the other actions change keys).
DATA_ACTIONS = ("download", "download_urls", "export")


pytestmark = [pytest.mark.storage("local"), pytest.mark.usefixtures("image_files")]


@pytest.fixture
def admin(session, world) -> dict[str, str]:
    _, token = make_api_key(session, name="auditor", scopes=[Scope.ADMIN])
    session.commit()
    return bearer(token)


@pytest.fixture
def researcher(session, world) -> dict[str, str]:
    _, token = make_api_key(session, name="researcher")
    session.commit()
    return bearer(token)


def audit(client, admin, **params) -> list[dict]:
    response = client.get(f"{API}/audit", query_string={"per_page": 1000, **params},
                          headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def when(entry: dict) -> datetime:
    return as_utc(datetime.fromisoformat(entry["occurred_at"]))


def test_downloads_urls_and_exports_each_appear_once(client, world, admin, researcher):
    before = utcnow()
    i1, i5, i6 = (world.id("images", name) for name in ("i1", "i5", "i6"))
    assert client.get(f"{API}/images/{i1}/download", headers=researcher).status_code == 200
    page = client.get(f"{API}/images", headers=researcher, query_string={
        "with_urls": "true", "dataset": "BETA", "per_page": 2})
    assert [item["id"] for item in page.get_json()["items"]] == [i5, i6]
    export = client.get(f"{API}/subjects", headers=researcher,
                        query_string={"format": "csv", "dataset": "ALPHA"})
    assert export.get_data(as_text=True).count("\n") == 3  # header, ann, bob
    after = utcnow()

    entries = audit(client, admin, key="researcher", action=list(DATA_ACTIONS))
    assert [(entry["key"], entry["action"], entry["datasets"], entry["image_ids"],
             entry["row_count"]) for entry in entries] == [
        ("researcher", "download", ["ALPHA"], [i1], None),
        ("researcher", "download_urls", ["BETA"], [i5, i6], None),
        ("researcher", "export", ["ALPHA"], None, 2),
    ]
    assert all(before <= when(entry) <= after for entry in entries)
    assert entries[2]["details"] == {"path": f"{API}/subjects",
                                     "query": {"format": ["csv"], "dataset": ["ALPHA"]}}


def test_the_log_filters_by_key_dataset_action_and_time(client, world, admin, researcher):
    i1, i5 = world.id("images", "i1"), world.id("images", "i5")
    client.get(f"{API}/images/{i1}/download", headers=researcher)
    client.get(f"{API}/images/{i5}/download", headers=researcher)
    client.get(f"{API}/visits?format=csv", headers=researcher).get_data()
    now = utcnow()

    assert [entry["image_ids"] for entry in audit(client, admin, dataset="BETA",
                                                  action="download")] == [[i5]]
    exports = audit(client, admin, action="export")
    assert [(entry["datasets"], entry["row_count"]) for entry in exports] == [
        (["ALPHA", "BETA"], 7)]
    assert len(audit(client, admin, key="researcher", action=["download", "export"])) == 3
    assert audit(client, admin, key="nobody") == []
    assert audit(client, admin, key="researcher",
                 since=(now + timedelta(seconds=1)).isoformat()) == []
    assert len(audit(client, admin, key="researcher", until=now.isoformat())) == 4  # + creation
    response = client.get(f"{API}/audit?action=steal", headers=admin)
    assert response.status_code == 400 and "action" in response.get_json()["errors"]


def test_key_changes_are_logged(app, client, world, admin):
    runner = app.test_cli_runner()
    for arguments in (["create", "dora", "--datasets", "ALPHA", "--expires", "30d"],
                      ["grant", "dora", "BETA"], ["revoke-grant", "dora", "ALPHA"],
                      ["revoke", "dora"]):
        result = runner.invoke(args=["apikey", *arguments])
        assert result.exit_code == 0, result.output
    entries = audit(client, admin, key="dora")
    assert [(entry["action"], entry["datasets"]) for entry in entries] == [
        ("key_create", ["ALPHA"]), ("key_grant", ["BETA"]), ("key_revoke_grant", ["ALPHA"]),
        ("key_revoke", [])]
    assert entries[0]["details"]["scopes"] == ["read", "download"]
    assert entries[0]["details"]["all_datasets"] is False


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_the_log_cannot_be_changed_through_the_api(client, world, admin, researcher, method):
    client.get(f"{API}/images/{world.id('images', 'i1')}/download", headers=researcher)
    entries = audit(client, admin)
    for path in (f"{API}/audit", f"{API}/audit/{entries[0]['id']}"):
        response = client.open(path, method=method, headers=admin, json={"key": "x"})
        assert response.status_code in (404, 405)
        assert response.get_json()["status"] == response.status_code
    assert client.open(f"{API}/audit", method=method, headers=admin).status_code == 405
    assert audit(client, admin) == entries


def test_flask_audit_prints_the_log(app, client, world, researcher):
    i1 = world.id("images", "i1")
    client.get(f"{API}/images/{i1}/download", headers=researcher)
    client.get(f"{API}/images?format=csv&type=DWI", headers=researcher).get_data()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "--key", "researcher", "--action", "download",
                                 "--action", "export"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [line[1:5] for line in lines] == [
        ["researcher", "download", "ALPHA", f"images {i1}"],
        ["researcher", "export", "ALPHA", "1 rows"]]
    only_exports = runner.invoke(args=["audit", "--action", "export", "--dataset", "ALPHA"])
    assert len(only_exports.output.strip().splitlines()) == 1
    assert runner.invoke(args=["audit", "--key", "nobody"]).output == "no audit entries\n"
    bad = runner.invoke(args=["audit", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since 'yesterday'" in bad.output


def test_the_log_pages_by_cursor_in_time_order(client, world, admin, researcher):
    for name in ("i1", "i2", "i3"):
        client.get(f"{API}/images/{world.id('images', name)}/download", headers=researcher)
    seen, cursor = [], None
    while True:
        params = {"key": "researcher", "action": "download", "per_page": 2, "total": "false",
                  **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/audit", query_string=params, headers=admin).get_json()
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert world.names("images", [entry["image_ids"][0] for entry in seen]) == ["i1", "i2", "i3"]
    assert [when(entry) for entry in seen] == sorted(when(entry) for entry in seen)
    newest_first = audit(client, admin, key="researcher", action="download", sort="-id")
    assert [entry["id"] for entry in newest_first] == [entry["id"] for entry in reversed(seen)]
