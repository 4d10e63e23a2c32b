"""Fixtures of the API tests: the known world of tests/api/world.py and an authorised GET."""
from __future__ import annotations

from collections.abc import Callable

import pytest

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
