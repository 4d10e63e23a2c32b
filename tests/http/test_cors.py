"""CORS: only the origins in CORS_ORIGINS may call the API from a browser; none by default."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.apps import app_with_tables

ALLOWED = "https://lab.example.org"


@pytest.fixture
def cors_app(database_url) -> Iterator[Flask]:
    """An app that allows one origin."""
    yield from app_with_tables(database_url, CORS_ORIGINS=[ALLOWED])


def preflight(client, origin: str):
    return client.options("/api/v1/images", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization"})


def test_no_origin_is_allowed_by_default(client):
    answer = preflight(client, ALLOWED)
    assert "Access-Control-Allow-Origin" not in answer.headers
    health = client.get("/api/v1/health", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in health.headers


def test_a_configured_origin_may_call_the_api(cors_app):
    client = cors_app.test_client()
    answer = preflight(client, ALLOWED)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in answer.headers
    # The real request still needs its token: CORS opens the door, not the data.
    denied = client.get("/api/v1/images", headers={"Origin": ALLOWED})
    assert denied.status_code == 401
    assert denied.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_another_origin_gets_no_cors_headers(cors_app):
    answer = preflight(cors_app.test_client(), "https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in answer.headers
