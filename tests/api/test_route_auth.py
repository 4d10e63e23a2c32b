"""Every data route needs a valid, unrevoked bearer token; only health and the docs are public."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import ApiKey

DATA_ROUTES = ["/datasets", "/datasets/1", "/conditions", "/measures", "/file_types", "/scanners",
               "/subjects", "/subjects/1", "/visits", "/visits/1", "/images", "/images/1",
               "/images?format=csv", "/images/1/download", "/stats", "/load_runs"]


@pytest.mark.parametrize("path", DATA_ROUTES)
def test_data_route_without_token_is_401(client, path):
    response = client.get(f"/api/v1{path}")
    assert response.status_code == 401
    assert response.get_json() == {
        "status": 401, "error": "Unauthorized",
        "message": "missing bearer token: send 'Authorization: Bearer <token>'"}


@pytest.mark.parametrize("path", DATA_ROUTES)
def test_data_route_with_revoked_token_is_401(client, session, api_token, auth_headers, path):
    assert client.get(f"/api/v1{path}", headers=auth_headers).status_code in (200, 404)
    key = session.scalar(select(ApiKey).where(ApiKey.name == "tests"))
    key.revoked_at = datetime.now(UTC)
    session.commit()
    response = client.get(f"/api/v1{path}", headers=auth_headers)
    assert response.status_code == 401
    assert response.get_json()["message"] == "invalid or revoked API key"


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs"])
def test_public_routes_need_no_token(client, path):
    assert client.get(f"/api/v1{path}").status_code == 200
