"""Fixtures: every database test runs once on SQLite and once on a real PostgreSQL server."""
from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.extensions import db
from app.storage import Storage, storage_from_config
from tests.support.apps import SHARED_DATA, app_with_tables, delete_all_rows, new_bucket
from tests.support.servers import MotoServer, PostgresServer

BACKENDS = ("sqlite", "postgresql")


@event.listens_for(Engine, "connect")
def _sqlite_without_disk_syncs(dbapi_connection, _record) -> None:
    """Test databases are thrown away: a SQLite commit need not wait for the disk (a sync per
    commit made most of the SQLite tests' time). Locking and transactions are unchanged, and
    the PostgreSQL server runs without syncs too (bench/devservers.py)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def _running(server):
    """Start `server`, hand it out, and stop it whatever happens."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, stopped at the end even on failure."""
    yield from _running(PostgresServer())


def _new_database(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'mbid.db'}"
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh empty database per test module, on each backend."""
    return _new_database(request.param, request, tmp_path_factory.mktemp("db"))


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database for one test, on each backend (for migration tests)."""
    return _new_database(request.param, request, tmp_path)


@pytest.fixture(scope="module")
def app(database_url: str, storage_backend: str | None, request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A testing app whose database has every table (created from the models).

    A module marked `pytestmark = pytest.mark.storage("each")` gets a fresh storage per
    module on each backend (local folder, S3 bucket); `storage("local")` a local folder only.
    """
    settings = {} if storage_backend is None else storage_settings(
        storage_backend, request, tmp_path_factory.mktemp("storage"))
    yield from _app_with_tables(database_url, **settings)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's session; every row a test wrote is deleted afterwards."""
    yield db.session
    delete_all_rows(db.session)


@pytest.fixture
def seeded(app: Flask, session: Session) -> Session:
    """The session of a database holding the seed lists (`flask seed`: datasets, conditions,
    file types, measures)."""
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return session


@pytest.fixture
def client(app: Flask, session: Session):
    """A test client (requests without a token)."""
    return app.test_client()


@pytest.fixture
def api_token(session: Session) -> str:
    """A valid API token."""
    from app.access.auth import create_api_key

    _, token = create_api_key("tests")
    session.commit()
    return token


@pytest.fixture
def auth_headers(api_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, the real public test data (read in place, never copied)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (CI always has it)")
    return SHARED_DATA


@pytest.fixture
def copy_dicom(shared_data: Path, tmp_path: Path) -> Callable[[str, str], Path]:
    """copy_dicom("dcm_qa_xa30/8_gre_field_mapping", "src/fmap"): copy one series of the DICOM
    corpus to a folder under tmp_path and return the copy, for tests that change or upload
    files (the corpus itself is read in place, never changed)."""

    def copy(series: str, destination: str) -> Path:
        return Path(shutil.copytree(shared_data / "dicom" / series, tmp_path / destination))

    return copy


def _backend_of_test(nodeid: str) -> str | None:
    """The backend a test ran on, read from its parameter id (e.g. `test_x[postgresql-T1]`)."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    parameters = nodeid[nodeid.index("[") + 1:-1].split("-")
    return next((backend for backend in BACKENDS if backend in parameters), None)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many database tests ran on each backend, so the run shows both were used."""
    outcomes = ("passed", "failed", "error", "skipped")
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            backend = _backend_of_test(getattr(report, "nodeid", ""))
            if backend and getattr(report, "when", "call") in ("call", "setup"):
                counts[(backend, outcome)] += 1
    if counts:
        terminalreporter.section("database backends")
        for backend in BACKENDS:
            parts = [f"{counts[(backend, o)]} {o}" for o in outcomes if counts[(backend, o)]]
            terminalreporter.write_line(f"{backend}: {', '.join(parts) or 'no tests'}")


# Object storage: moto's S3 server over HTTP is the peer of the `cos` backend.

STORAGE_BACKENDS = ("local", "cos")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    """One S3 server (moto) for the whole run, stopped at the end even on failure."""
    yield from _running(MotoServer())


def storage_settings(backend: str, request: pytest.FixtureRequest | None,
                     directory: Path) -> dict:
    """Settings selecting a fresh, empty storage of `backend` (a folder or a new bucket)."""
    if backend == "local":
        return {"STORAGE_BACKEND": "local", "LOCAL_STORAGE_ROOT": str(directory)}
    server = request.getfixturevalue("s3_server")
    return server.settings(new_bucket(server))


@pytest.fixture(params=STORAGE_BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """A fresh, empty storage for one test, on each backend (local folder, S3 bucket)."""
    return storage_from_config(storage_settings(request.param, request, tmp_path / "storage"))


@pytest.fixture
def cos_storage(s3_server: MotoServer) -> Storage:
    """A fresh, empty bucket on the S3 server, through the `cos` backend."""
    return storage_from_config(s3_server.settings(new_bucket(s3_server)))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "storage(kind): the module's app has its own storage: "
                            "'each' (every test on local and S3 storage) or 'local'")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test of a module marked storage("each") once per storage backend."""
    marker = metafunc.definition.get_closest_marker("storage")
    if (marker is not None and marker.args == ("each",)
            and "storage_backend" in metafunc.fixturenames):
        metafunc.parametrize("storage_backend", STORAGE_BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def storage_backend(request: pytest.FixtureRequest) -> str | None:
    """The storage backend of the module's `app`: None (no storage of its own) unless the module
    is marked storage("local") or storage("each") (then each backend in turn)."""
    marker = request.node.get_closest_marker("storage")
    if marker is None:
        return None
    if marker.args not in (("each",), ("local",)):
        raise ValueError(f"{request.node.nodeid}: storage() takes 'each' or 'local', "
                         f"not {marker.args}")
    return getattr(request, "param", "local")


def _app_with_tables(database_url: str, **settings) -> Iterator[Flask]:
    """A testing app with `settings` whose database has every table, dropped afterwards."""
    yield from app_with_tables(database_url, **settings)
