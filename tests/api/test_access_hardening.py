"""Hardening: security headers, CSV cells that cannot run as formulas, links that ignore the
Host header, key expiry and last use, and the optional per-key rate limit."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.access.auth import LAST_USED_RESOLUTION, as_utc
from app.models import ApiKey
from app.models.base import utcnow
from tests.support.apps import make_app
from tests.support.factories import bearer, make_api_key, make_dataset, make_subject
from tests.support.world import build_world

API = "/api/v1"


def test_data_responses_carry_the_security_headers(client, auth_headers):
    for path, status in ((f"{API}/datasets", 200), (f"{API}/subjects?format=csv", 200),
                         (f"{API}/images?per_page=0", 400), (f"{API}/nowhere", 404)):
        response = client.get(path, headers=auth_headers)
        assert response.status_code == status
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["Cache-Control"] == "no-store"


def test_public_routes_carry_nosniff_and_a_csp_but_may_be_cached(client):
    health = client.get(f"{API}/health")
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert health.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Cache-Control" not in health.headers
    docs = client.get(f"{API}/docs")
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "http" not in docs.headers["Content-Security-Policy"]  # nothing from elsewhere
    assert "frame-ancestors 'none'" in docs.headers["Content-Security-Policy"]


def test_401_answers_say_bearer(client):
    response = client.get(f"{API}/datasets")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="MBID-db"'
    assert response.headers["Cache-Control"] == "no-store"


def test_csv_text_cells_that_could_be_formulas_are_neutralised(client, session, auth_headers):
    dataset = make_dataset(session, designation="CSVTEST")
    for external_id in ('=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "plain",
                        "line\rbreak"):
        make_subject(session, dataset=dataset, external_id=external_id, age_at_baseline=-1.5)
    session.commit()
    response = client.get(f"{API}/subjects?format=csv&sort=id", headers=auth_headers)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [row["external_id"] for row in rows] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTAB", "'\rCR", "plain",
        "line\rbreak"]
    # Numbers are not text: a negative number stays a number.
    assert {row["age_at_baseline"] for row in rows} == {"-1.5"}
    # The JSON answer is the data as stored.
    items = client.get(f"{API}/subjects?sort=id", headers=auth_headers).get_json()["items"]
    assert items[0]["external_id"] == '=HYPERLINK("x")'


def test_links_are_built_from_the_public_base_url_never_from_the_host_header(
        client, session, auth_headers):
    world = build_world(session)
    response = client.get(f"{API}/images?with_urls=true&per_page=1",
                          headers={**auth_headers, "Host": "evil.example"})
    assert response.status_code == 200
    i1 = world.id("images", "i1")
    assert response.get_json()["items"][0]["url"] == (
        f"http://localhost{API}/images/{i1}/download")
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("settings", "base"), [
    ({"PUBLIC_BASE_URL": "https://mbid.example.org/"}, "https://mbid.example.org"),
    ({"PUBLIC_BASE_URL": "", "SERVER_NAME": "api.example.org",
      "PREFERRED_URL_SCHEME": "https"}, "https://api.example.org"),
    ({"PUBLIC_BASE_URL": ""}, ""),
])
def test_the_public_base_url_setting_decides_the_links(database_url, settings, base):
    from app.api.links import public_url_for

    application = make_app(database_url, **settings)
    with application.test_request_context("/", headers={"Host": "evil.example"}):
        assert public_url_for("downloads.ImageDownload", image_id=7) == (
            f"{base}{API}/images/7/download")


def test_an_expired_key_is_401_saying_so(client, session):
    expiry = utcnow() - timedelta(minutes=5)
    _, token = make_api_key(session, expires_at=expiry)
    session.commit()
    response = client.get(f"{API}/datasets", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json() == {
        "status": 401, "error": "Unauthorized",
        "message": f"API key expired on {expiry:%Y-%m-%d %H:%M} UTC"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_last_use_is_written_at_most_once_a_minute(client, session):
    key, token = make_api_key(session)
    session.commit()
    assert key.last_used_at is None
    start = utcnow()
    client.get(f"{API}/datasets", headers=bearer(token))

    def last_used():
        session.expire_all()
        return as_utc(session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key.id)))

    first = last_used()
    assert start <= first <= utcnow()
    for _ in range(3):
        client.get(f"{API}/datasets", headers=bearer(token))
    assert last_used() == first
    # A minute later the next request writes it again.
    key.last_used_at = first - LAST_USED_RESOLUTION
    session.commit()
    client.get(f"{API}/datasets", headers=bearer(token))
    assert last_used() > first


@pytest.fixture
def limited_client(database_url, session):
    """A client of an app allowing 3 requests per key and minute (same database)."""
    return make_app(database_url, RATE_LIMIT_PER_MINUTE=3).test_client()


def test_the_rate_limit_answers_429_json_per_key(limited_client, session):
    _, first = make_api_key(session)
    _, second = make_api_key(session)
    session.commit()
    answers = [limited_client.get(f"{API}/conditions", headers=bearer(first))
               for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    body = answers[-1].get_json()
    assert (body["status"], body["error"]) == (429, "Too Many Requests")
    assert body["message"].startswith("rate limit of 3 requests per minute exceeded")
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert limited_client.get(f"{API}/conditions", headers=bearer(second)).status_code == 200
    assert limited_client.get(f"{API}/health").status_code == 200


def test_no_rate_limit_by_default(client, auth_headers):
    assert {client.get(f"{API}/conditions", headers=auth_headers).status_code
            for _ in range(30)} == {200}
