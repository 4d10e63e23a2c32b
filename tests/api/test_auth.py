"""Token authentication and the `flask apikey` commands."""
from sqlalchemy import select

from app.access.auth import hash_token
from app.models import ApiKey


def test_health_needs_no_token(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up", "storage": "up"}


def test_protected_route_without_token_is_401_json(client):
    response = client.get("/api/v1/datasets")
    assert response.status_code == 401
    body = response.get_json()
    assert body["status"] == 401
    assert body["error"] == "Unauthorized"
    assert "bearer token" in body["message"]


def test_wrong_scheme_or_unknown_token_is_401(client, api_token):
    assert client.get("/api/v1/datasets", headers={"Authorization": api_token}).status_code == 401
    response = client.get("/api/v1/datasets", headers={"Authorization": "Bearer mbid_nope"})
    assert response.status_code == 401
    assert response.get_json()["message"] == "invalid or revoked API key"


def test_valid_token_passes_the_check(client, auth_headers):
    response = client.get("/api/v1/no-such-route", headers=auth_headers)
    assert response.status_code == 404  # past authentication; the route does not exist
    assert response.get_json()["error"] == "Not Found"


def test_openapi_document_is_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["info"]["title"] == "MBID-db"


def test_apikey_create_prints_token_once_and_stores_only_its_hash(app, session):
    result = app.test_cli_runner().invoke(args=["apikey", "create", "alice"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("mbid_") and len(token) > 40
    key = session.scalar(select(ApiKey).where(ApiKey.name == "alice"))
    assert key.token_hash == hash_token(token) != token
    assert token not in repr(vars(key))

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/no-such-route", headers=headers).status_code == 404

    duplicate = app.test_cli_runner().invoke(args=["apikey", "create", "alice"])
    assert duplicate.exit_code != 0 and "exists" in duplicate.output


def test_revoked_key_is_refused_and_listed_as_revoked(app, session):
    runner = app.test_cli_runner()
    token = runner.invoke(args=["apikey", "create", "bob"]).output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/x", headers=headers).status_code == 404

    assert runner.invoke(args=["apikey", "revoke", "bob"]).exit_code == 0
    response = app.test_client().get("/api/v1/x", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["message"] == "invalid or revoked API key"
    listing = runner.invoke(args=["apikey", "list"]).output
    assert "bob" in listing and "revoked" in listing
    assert runner.invoke(args=["apikey", "revoke", "nobody"]).exit_code != 0


def test_replace_rotates_the_token(app, session):
    runner = app.test_cli_runner()
    def token_of(*arguments: str) -> str:
        return runner.invoke(args=["apikey", "create", *arguments]).output.strip().splitlines()[-1]

    old, new = token_of("demo"), token_of("demo", "--replace")
    assert old != new
    client = app.test_client()
    assert client.get("/api/v1/x", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/v1/x", headers={"Authorization": f"Bearer {new}"}).status_code == 404
