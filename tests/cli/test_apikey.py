"""`flask apikey`: scopes, dataset grants, expiry, listing; bad input is exit code 2."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.access.auth import as_utc
from app.cli.apikey import parse_expiry
from app.cli.errors import BadInput
from app.models import ApiKey, AuditEvent
from app.models.base import utcnow
from tests.support.apps import table_counts
from tests.support.factories import make_dataset

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def datasets(session):
    """Datasets ALPHA and BETA."""
    found = {name: make_dataset(session, designation=name) for name in ("ALPHA", "BETA")}
    session.commit()
    return found


@pytest.fixture
def invoke(app):
    runner = app.test_cli_runner()
    return lambda *arguments: runner.invoke(args=["apikey", *arguments])


def key_named(session, name: str) -> ApiKey:
    session.expire_all()
    return session.scalar(select(ApiKey).where(ApiKey.name == name))


def granted(key: ApiKey) -> list[str]:
    return sorted(grant.dataset.designation for grant in key.grants)


def test_create_without_options_reads_and_downloads_everything_and_says_so(invoke, session):
    result = invoke("create", "alice")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == ("API key 'alice' created: read, download on all datasets, expires "
                        "never (the default: no --scope or dataset option).")
    key = key_named(session, "alice")
    assert (key.scopes, key.all_datasets, key.expires_at, granted(key)) == (
        ["read", "download"], True, None, [])


def test_create_with_scopes_datasets_and_expiry(invoke, session, datasets):
    before = utcnow()
    result = invoke("create", "bob", "--scope", "read", "--scope", "admin",
                    "--datasets", "BETA,ALPHA", "--expires", "90d")
    assert result.exit_code == 0, result.output
    key = key_named(session, "bob")
    assert (key.scopes, key.all_datasets, granted(key)) == (["read", "admin"], False,
                                                            ["ALPHA", "BETA"])
    assert before + timedelta(days=90) <= as_utc(key.expires_at) <= utcnow() + timedelta(days=90)
    assert "read, admin on datasets ALPHA, BETA, expires " in result.output


def test_create_a_counts_only_key(invoke, session, datasets):
    result = invoke("create", "census", "--scope", "aggregate", "--datasets", "ALPHA")
    assert result.exit_code == 0, result.output
    assert "API key 'census' created: aggregate on datasets ALPHA, expires never." in \
        result.output
    key = key_named(session, "census")
    assert (key.scopes, granted(key)) == (["aggregate"], ["ALPHA"])


@pytest.mark.parametrize(("arguments", "message"), [
    (["--datasets", "ALPHA,NOPE"], "--datasets: unknown dataset NOPE"),
    (["--datasets", " , "], "--datasets: give at least one dataset designation"),
    (["--datasets", "ALPHA", "--all-datasets"], "--datasets and --all-datasets exclude each"),
    (["--expires", "soon"], "--expires 'soon': give a duration such as 90d"),
    (["--expires", "2020-01-01"], "--expires '2020-01-01': 2020-01-01 00:00 UTC is not in the "
                                  "future"),
    (["--expires", "0h"], "is not in the future"),
    (["--scope", "superuser"], "'superuser' is not one of"),
])
def test_bad_create_options_are_exit_2_and_write_nothing(invoke, session, datasets, arguments,
                                                         message):
    before = table_counts()
    result = invoke("create", "carol", *arguments)
    assert result.exit_code == 2
    assert message in result.output
    assert table_counts() == before


def test_an_existing_name_needs_replace(invoke, session, datasets):
    assert invoke("create", "dave", "--datasets", "ALPHA").exit_code == 0
    again = invoke("create", "dave")
    assert again.exit_code == 2 and "exists (use --replace)" in again.output
    assert invoke("create", "dave", "--replace", "--scope", "read").exit_code == 0
    key = key_named(session, "dave")
    assert (key.scopes, key.all_datasets, granted(key)) == (["read"], True, [])
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_replace_does_not_hand_the_old_keys_cohorts_to_the_new_key(invoke, session, datasets,
                                                                   app):
    old_token = invoke("create", "hana", "--scope", "read", "--scope", "write").output.strip(
        ).splitlines()[-1]
    client = app.test_client()
    made = client.post("/api/v1/cohorts", json={"name": "mine", "query": {}},
                       headers={"Authorization": f"Bearer {old_token}"})
    assert made.status_code == 201, made.get_json()
    cohort_id = made.get_json()["id"]

    result = invoke("create", "hana", "--replace", "--scope", "read", "--scope", "write")
    assert result.exit_code == 0, result.output
    assert ("The replaced key's 1 cohort(s) are kept but not handed over: the new key does not "
            "see them.") in result.output
    new = {"Authorization": f"Bearer {result.output.strip().splitlines()[-1]}"}
    assert client.get("/api/v1/cohorts", headers=new).get_json()["items"] == []
    for method, path in (("get", ""), ("get", "/manifest"), ("get", "/diff"), ("delete", "")):
        answer = getattr(client, method)(f"/api/v1/cohorts/{cohort_id}{path}", headers=new)
        assert answer.status_code == 404, (method, path)
    # The new key's own cohorts are its own.
    second = client.post("/api/v1/cohorts", json={"name": "new", "query": {}}, headers=new)
    assert [item["id"] for item in client.get("/api/v1/cohorts", headers=new)
            .get_json()["items"]] == [second.get_json()["id"]]


def test_list_shows_scopes_grants_expiry_last_use_and_state(invoke, session, datasets, app):
    invoke("create", "erin", "--scope", "read", "--datasets", "ALPHA", "--expires", "2099-01-02")
    token = invoke("create", "fred").output.strip().splitlines()[-1]
    invoke("create", "gina", "--expires", "1h")
    key_named(session, "gina").expires_at = datetime(2020, 1, 1, tzinfo=UTC)  # time passed
    session.commit()
    app.test_client().get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})
    lines = {line.split("\t")[0]: line.split("\t") for line in
             invoke("list").output.strip().splitlines()}
    assert lines["erin"][2] == "read on datasets ALPHA, expires 2099-01-02 00:00 UTC"
    assert (lines["erin"][4], lines["erin"][5]) == ("never used", "active")
    assert lines["fred"][2] == "read, download on all datasets, expires never"
    assert lines["fred"][4].startswith(f"last used {utcnow():%Y-%m-%d}")
    assert lines["gina"][5] == "expired"
    assert invoke("revoke", "fred").exit_code == 0
    assert invoke("list").output.count("revoked ") == 1


def test_grant_and_revoke_grant(invoke, session, datasets):
    invoke("create", "hana", "--datasets", "ALPHA")
    result = invoke("grant", "hana", "BETA")
    assert result.exit_code == 0
    assert result.output == ("API key 'hana' now sees BETA: read, download on datasets ALPHA, "
                             "BETA, expires never\n")
    assert invoke("grant", "hana", "BETA").output == (
        "API key 'hana' already sees BETA: nothing changed\n")
    assert invoke("revoke-grant", "hana", "ALPHA").exit_code == 0
    assert granted(key_named(session, "hana")) == ["BETA"]
    missing = invoke("revoke-grant", "hana", "ALPHA")
    assert missing.exit_code == 2 and "has no grant of ALPHA" in missing.output


@pytest.mark.parametrize(("arguments", "message"), [
    (["grant", "nobody", "ALPHA"], "no API key named 'nobody'"),
    (["grant", "ivan", "NOPE"], "'DATASET': no dataset 'NOPE' (known: "),
    (["revoke-grant", "ivan", "ALPHA"], "sees every dataset, not grants"),
    (["revoke", "nobody"], "no API key named 'nobody'"),
])
def test_bad_grant_input_is_exit_2_and_changes_nothing(invoke, session, datasets, arguments,
                                                       message):
    invoke("create", "ivan")
    before = table_counts()
    result = invoke(*arguments)
    assert result.exit_code == 2 and message in result.output
    assert table_counts() == before


def test_granting_a_key_that_sees_everything_changes_nothing(invoke, session, datasets):
    invoke("create", "judy")
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    assert invoke("grant", "judy", "ALPHA").output == (
        "API key 'judy' already sees every dataset: nothing changed\n")
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.parametrize(("text", "expected"), [
    ("90d", NOW + timedelta(days=90)),
    ("12h", NOW + timedelta(hours=12)),
    ("2w", NOW + timedelta(weeks=2)),
    ("2027-06-30", datetime(2027, 6, 30, tzinfo=UTC)),
    ("2027-06-30T08:00:00+02:00", datetime(2027, 6, 30, 6, tzinfo=UTC)),
])
def test_parse_expiry(text, expected):
    assert parse_expiry(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "90", "d90", "90 days", "-3d", "2027-13-01"])
def test_parse_expiry_refuses_anything_else(text):
    with pytest.raises(BadInput, match="give a duration such as 90d"):
        parse_expiry(text, NOW)
