"""Fixtures of the client tests: the app served over HTTP, on both databases and storages."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from mbid_client import Client

from app.models import Scope
from tests.support.factories import make_api_key
from tests.support.servers import LiveServer
from tests.support.world import World, build_world, store_image_files


@pytest.fixture(scope="module", params=("local", "cos"))
def storage_backend(request: pytest.FixtureRequest) -> str:
    """Every client test runs against a server on each storage backend."""
    return request.param


@pytest.fixture(scope="module")
def live_server(app) -> Iterator[LiveServer]:
    """The module's app on http://127.0.0.1:<free port>, stopped after the module; its links
    point at it, as PUBLIC_BASE_URL does in a deployment."""
    previous = app.config["PUBLIC_BASE_URL"]
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server
    app.config["PUBLIC_BASE_URL"] = previous


@pytest.fixture
def world(session) -> World:
    return build_world(session)


@pytest.fixture
def stored_files(session, world) -> dict[str, bytes]:
    """Every world image's file in storage, its true size and SHA-256 recorded: {path: bytes}."""
    contents = store_image_files(world)
    for name, image in world.images.items():
        image.checksum = hashlib.sha256(contents[name]).hexdigest()
        image.file_size = len(contents[name])
    session.commit()
    return {world.images[name].path: data for name, data in contents.items()
            if world.images[name].deleted_at is None}


@pytest.fixture
def token(session, world) -> str:
    """A token with every scope a researcher needs."""
    _, token = make_api_key(session, name="researcher",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()
    return token


@pytest.fixture
def mbid(live_server, token) -> Client:
    """The client, signed in with the researcher's token, retrying little."""
    return Client(live_server.url, token, retries=1, backoff=0.01)
