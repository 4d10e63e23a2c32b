"""GET /health reports the database and storage as up or down; a database outage is a 503."""
import time
from pathlib import Path

import pytest

from app.access.auth import create_api_key
from app.api.health import STORAGE_PROBE_SECONDS
from app.extensions import db
from tests.support.apps import make_app
from tests.support.servers import PostgresServer, free_port

RETRY_AFTER = "30"
UNAVAILABLE = {"status": 503, "error": "Service Unavailable",
               "message": "the database is unavailable; try again later"}


def test_health_says_up_for_each_part(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up", "storage": "up"}


def test_health_says_storage_down_without_details(database_url, s3_server):
    # S3 answers, but the bucket is not there: storage cannot serve anything.
    app = make_app(database_url, **s3_server.settings("no-such-bucket"))
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert response.get_json() == {"status": "degraded", "database": "up", "storage": "down"}


def test_health_says_storage_down_when_nothing_listens(database_url, s3_server):
    settings = {**s3_server.settings("mbid"),
                "SERVICE_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    started = time.monotonic()
    response = make_app(database_url, **settings).test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "up", "storage": "down"}
    assert time.monotonic() - started < STORAGE_PROBE_SECONDS + 2  # not the client's retries


class Outage:
    """A database that answers, then stops answering (`cut`)."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend, self.folder = backend, folder
        if backend == "postgresql":
            self.server = PostgresServer().start()
            self.url = self.server.create_database()
        else:
            self.path = folder / "mbid.db"
            self.url = f"sqlite:///{self.path}"

    def cut(self) -> None:
        """Make the database unreachable: stop the server, or put a folder where the file was."""
        if self.backend == "postgresql":
            self.server.stop()
        else:
            self.path.unlink()
            self.path.mkdir()

    def close(self) -> None:
        if self.backend == "postgresql":
            self.server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request, tmp_path):
    made = Outage(request.param, tmp_path)
    yield made
    made.close()


def test_database_outage_is_a_503_with_retry_after_and_health_says_down(outage):
    app = make_app(outage.url)
    with app.app_context():
        db.create_all()
        _, token = create_api_key("outage")
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/images", headers=headers).status_code == 200

        db.session.remove()
        db.engine.dispose()
        outage.cut()
        for path in ("/images", "/subjects/1", "/stats", "/load_runs"):
            response = client.get(f"/api/v1{path}", headers=headers)
            assert response.status_code == 503, path
            assert response.headers["Retry-After"] == RETRY_AFTER
            assert response.get_json() == UNAVAILABLE
        health = client.get("/api/v1/health")
        assert health.status_code == 503
        assert health.headers["Retry-After"] == RETRY_AFTER
        assert health.get_json() == {"status": "degraded", "database": "down", "storage": "up"}
        db.session.remove()
        db.engine.dispose()
