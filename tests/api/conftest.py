"""Fixtures of the API tests: the known world of tests/api/world.py and an authorised GET."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app.extensions import db
from tests.support.examples import load_examples
from tests.support.live_api import LiveApi
from tests.support.world import World, build_world


@pytest.fixture
def world(session) -> World:
    """The world of tests/api/world.py, committed (deleted again after the test)."""
    return build_world(session)


@pytest.fixture
def get(client, auth_headers) -> Callable:
    """GET an API path with a valid token: get("/images", type=["T1", "DWI"])."""

    def request(path: str, **params):
        return client.get(f"/api/v1{path}", query_string=params, headers=auth_headers)

    return request


@pytest.fixture(scope="module")
def live_api(app) -> Iterator[LiveApi]:
    """The API over the bundled example data, served over HTTP on 127.0.0.1 for the module;
    `live_api.token` is a valid API key."""
    from app.auth import create_api_key

    load_examples(app)
    _, token = create_api_key("live")
    db.session.commit()
    db.session.remove()
    server = LiveApi(app).start()
    server.token = token
    yield server
    server.stop()
