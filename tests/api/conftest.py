"""Fixtures of the API tests: the known world of tests/api/world.py and an authorised GET."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app.extensions import db
from app.models import Scope
from tests.support.examples import load_examples
from tests.support.factories import make_api_key
from tests.support.live_api import LiveApi
from tests.support.world import World, build_world, store_image_files


@pytest.fixture
def world(session) -> World:
    """The world of tests/api/world.py, committed (deleted again after the test)."""
    return build_world(session)


@pytest.fixture
def download_token(session, world) -> str:
    """The token of a key that may read and download every dataset of the world."""
    _, token = make_api_key(session, scopes=[Scope.READ, Scope.DOWNLOAD])
    session.commit()
    return token


@pytest.fixture
def image_files(world) -> dict[str, bytes]:
    """A small file in the app's storage for each image of the world: {"i1": b"bytes of i1"}.

    For modules whose app has a storage of its own (marked `pytest.mark.storage(...)`).
    """
    return store_image_files(world)


@pytest.fixture
def get(client, auth_headers) -> Callable:
    """GET an API path with a valid token: get("/images", type=["T1", "DWI"])."""

    def request(path: str, **params):
        return client.get(f"/api/v1{path}", query_string=params, headers=auth_headers)

    return request


@pytest.fixture(scope="module")
def live_api(app) -> Iterator[LiveApi]:
    """The API over the bundled example data, served over HTTP on 127.0.0.1 for the module;
    `live_api.token` is a valid API key with every scope."""
    from app.access.auth import create_api_key
    from app.models import Scope

    load_examples(app)
    # Every scope, so that the probes reach every operation (the audit log needs admin).
    _, token = create_api_key("live", scopes=list(Scope))
    db.session.commit()
    db.session.remove()
    server = LiveApi(app).start()
    server.token = token
    yield server
    server.stop()
